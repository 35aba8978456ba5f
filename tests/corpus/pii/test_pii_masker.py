"""PII masking: recall on planted PII (demo sample and hand-written texts), no catalog names or music
numbers masked, false positives on real music text, masking modes, robustness, Presidio equivalence."""

from __future__ import annotations

import csv
import json
import random
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from corpus.pii import PiiConfig, PiiMasker, load_catalog_allow_list
from corpus.pii.evaluate import load_labelled
from corpus.sample import SampleConfig, generate_sample
from corpus.sample.pii import cn_id_check_char

# ------------------------------------------------------------------ fixtures

COMMUNITY = Path(__file__).resolve().parent / "fixtures" / "community_texts.jsonl"


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pii_sample")
    generate_sample(SampleConfig.preset("tiny"), out)
    return out


@pytest.fixture(scope="module")
def allow_list(sample_dir: Path) -> tuple[str, ...]:
    return (*load_catalog_allow_list(sample_dir), "Blink-182", "Maroon 5", "Sum 41", "UB40", "Route 66", "1999")


@pytest.fixture(scope="module")
def masker(allow_list: tuple[str, ...]) -> PiiMasker:
    return PiiMasker(PiiConfig(allow_list=allow_list)).setup()


def _sample_texts(sample_dir: Path) -> dict[tuple[str, str], str]:
    texts = {}
    for ds in ("comments", "documents"):
        for f in sorted((sample_dir / ds).glob("*.jsonl")):
            for line in f.open(encoding="utf-8"):
                r = json.loads(line)
                texts[(ds, r["source_id"])] = r["text"]
    return texts


def _found(spans, start: int, end: int, label: str) -> bool:
    return any(s.label == label and s.start < end and s.end > start for s in spans)


# ------------------------------------------------------------------ demo sample


def test_recall_on_demo_sample(sample_dir: Path, masker: PiiMasker) -> None:
    texts = _sample_texts(sample_dir)
    truth = pq.read_table(sample_dir / "_truth" / "pii.parquet").to_pylist()
    assert len(truth) > 100
    spans = {k: masker.analyze(t) for k, t in texts.items()}
    missed = []
    for r in truth:
        key = (r["dataset"], r["source_id"])
        assert texts[key][r["start"] : r["end"]] == r["value"]
        if not _found(spans[key], r["start"], r["end"], r["pii_type"].upper()):
            missed.append((r["pii_type"], r["value"]))
    recall = 1 - len(missed) / len(truth)
    assert recall >= 0.99, missed


def test_decoys_and_catalog_names_not_masked(sample_dir: Path, masker: PiiMasker, allow_list) -> None:
    texts = _sample_texts(sample_dir)
    decoys = pq.read_table(sample_dir / "_truth" / "pii_decoys.parquet").to_pylist()
    assert decoys
    hit = [
        d["value"]
        for d in decoys
        if any(s.start < d["end"] and s.end > d["start"] for s in masker.analyze(texts[(d["dataset"], d["source_id"])]))
    ]
    assert hit == []
    # every catalog name, alone and inside a sentence, stays untouched
    for name in allow_list:
        for text in (name, f"just saw {name} live, {name} at 3:45 is everything"):
            res = masker.mask(text)
            assert name in res.text, (name, res)


def test_band_names_with_digits_survive_next_to_pii(masker: PiiMasker) -> None:
    text = "Blink-182 and Sum 41 tickets! UB40 fan club: call +44 7911 123456 or mail ub40fan@gmail.com"
    res = masker.mask(text)
    assert res.text.startswith("Blink-182 and Sum 41 tickets! UB40 fan club")
    assert [s.label for s in res.spans] == ["PHONE", "EMAIL"]


# ------------------------------------------------------------------ hand-written set

_CN_ID_1 = "11010519880605" + "123"
_CN_ID_1 += cn_id_check_char(_CN_ID_1)
_CN_ID_2 = "44030519950312" + "456"
_CN_ID_2 += cn_id_check_char(_CN_ID_2)

# [[LABEL|value]] marks planted PII; everything else (durations, years, BPM, ISRCs, band names) is not.
HAND_WRITTEN = (
    "Selling 2 GA tickets for Maroon 5 at Wembley, email me: [[EMAIL|jess.r@gmail.com]]",
    "anyone have the 1999 remaster on vinyl? dm [[SOCIAL_HANDLE|@vinyl_jess]] on ig",
    "the bridge at 3:45 kills me. text me [[PHONE|+1 (415) 555-2671]] if you want to jam",
    "Blink-182 reunion!!! my number is [[PHONE|(646) 555-0199]] for the carpool",
    "I paid with [[CREDIT_CARD|4111 1111 1111 1111]] and the presale page crashed at 10:00",
    "merch store charged [[CREDIT_CARD|5500-0000-0000-0004]] twice, track 7 of the album is 128 BPM btw",
    "amex [[CREDIT_CARD|378282246310005]] got declined for the Sum 41 farewell tour",
    "server at [[IPV4|203.0.113.42]] keeps dropping the stream during the 2nd set",
    "my IPv6 is [[IPV6|2001:db8:85a3::8a2e:370:7334]] and the player still buffers",
    "full address [[IPV6|2a02:8108:1c40:2a00:5d1e:9f3b:11c2:7e41]] banned from chat??",
    "refund to [[IBAN|DE89 3704 0044 0532 0130 00]] please, the show was cancelled",
    "UK buyers pay to [[IBAN|GB82WEST12345698765432]], shipping the LP (catalog no. SBL-3667)",
    "virement sur [[IBAN|FR14 2004 1010 0505 0001 3M02 606]] pour les billets",
    "Dutch fans: [[IBAN|NL91ABNA0417164300]] for the group order of 12 shirts",
    "the presale form wanted my SSN [[US_SSN|123-45-6789]], is that normal? ISRC USRC17607839",
    "抢票实名，身份证[[CN_RESIDENT_ID|" + _CN_ID_1 + "]]，帮我看下填对没",
    "身份证号[[CN_RESIDENT_ID|" + _CN_ID_2 + "]]，周杰伦演唱会抢到了！",
    "有票的联系我[[PHONE|13812345678]]，内场两张",
    "手机号[[PHONE|+86 138 1234 5678]]，转让五月天门票",
    "捡到我外套的请打[[PHONE|139-1234-5678]]，谢谢",
    "邮箱[[EMAIL|fan2019@qq.com]]，求发无损资源",
    "寄到[[STREET_ADDRESS|上海市徐汇区南京西路88号]]，签名专辑谢谢",
    "我的IP是[[IPV4|114.114.115.115]]，一直卡在3:20",
    "微博[[SOCIAL_HANDLE|@lofi_xiaoyu]]，互关，每天听周杰伦",
    "加我好友 [[PLATFORM_USER_ID|uid:10004217]]，歌单都在里面",
    "add me: [[PLATFORM_USER_ID|uid:10000042]] I post UB40 covers",
    "my profile is [[PLATFORM_USER_ID|UID:20231234]], follow for 90s playlists",
    "ship the signed copy to [[STREET_ADDRESS|221B Baker Street, London]] please",
    "the listening party is at [[STREET_ADDRESS|742 Evergreen Terrace]] this saturday, 8pm",
    "send it to [[STREET_ADDRESS|1600 Pennsylvania Ave NW]] lol",
    "Paket bitte an [[STREET_ADDRESS|Schillerstraße 12]] schicken, danke",
    "envoyez le vinyle au [[STREET_ADDRESS|15 rue de la Paix]] merci",
    "call [[PHONE|+44 7911 123456]] if you found my jacket at the Arctic Monkeys show",
    "ruf an: [[PHONE|0176 1234567]], habe 2 Karten für Rammstein",
    "appelle-moi au [[PHONE|06 12 34 56 78]] pour les places",
    "whatsapp [[PHONE|+49 30 23125678]] for the group chat, setlist had 24 songs",
    "UK landline [[PHONE|+44 20 7946 0958]], ask for the merch guy",
    "fan club sign-ups: [[EMAIL|sign.ups+tour2024@example.co.uk]] (limit 4 per person)",
    "DM me on twitter [[SOCIAL_HANDLE|@synth.mara]] — BPM is 174, key F# minor",
    "follow [[SOCIAL_HANDLE|@beats_4life]] and [[SOCIAL_HANDLE|@djmax]] for remixes of Track 5",
    "ranked: 1. Seven Nation Army 2. 505 3. Mr. Brightside — email [[EMAIL|ranker@outlook.com]]",
    "my card [[CREDIT_CARD|6011 1111 1111 1117]] failed, also IP [[IPV4|198.51.100.7]]",
    "contact: [[EMAIL|a.b@web.de]] / [[PHONE|+33 6 12 34 56 78]] / [[SOCIAL_HANDLE|@ab_music]]",
    "SSN [[US_SSN|219-09-9999]] and card [[CREDIT_CARD|4012888888881881]] leaked in the chat, mods pls delete",
    "新专辑寄[[STREET_ADDRESS|北京市朝阳区建国路100号]]，电话[[PHONE|186 1234 5678]]",
    "Top 40 in 1985: #12 for 8 weeks, catalog CPL-6731, 3:58 long, ISRC GBAYE0601498",
    "remixes of Track 5 (128 BPM) are on [[PROFILE_URL|soundcloud.com/beatsbyjo-92]], firmware 2.1.0.5 on the deck",
    "加我微信 [[WECHAT_ID|jo_beats_2024]]，周杰伦演唱会拼车，3:30出发",
    "QQ号：[[QQ_NUMBER|2718281828]]，收五月天门票，QQ音乐听了1999遍",
)


def _parse(marked: str) -> tuple[str, list[tuple[int, int, str, str]]]:
    out: list[str] = []
    truth: list[tuple[int, int, str, str]] = []
    for m in re.finditer(r"\[\[([A-Z_0-9]+)\|(.+?)\]\]|([^\[]+|\[)", marked):
        if m.group(1):
            start = sum(len(x) for x in out)
            out.append(m.group(2))
            truth.append((start, start + len(m.group(2)), m.group(1), m.group(2)))
        else:
            out.append(m.group(0))
    return "".join(out), truth


def test_hand_written_recall_and_precision(masker: PiiMasker) -> None:
    assert len(HAND_WRITTEN) >= 40
    labels_planted: set[str] = set()
    total, missed, false_pos = 0, [], []
    for marked in HAND_WRITTEN:
        text, truth = _parse(marked)
        spans = masker.analyze(text)
        for s, e, label, value in truth:
            assert text[s:e] == value
            total += 1
            labels_planted.add(label)
            if not _found(spans, s, e, label):
                missed.append((label, value, text))
        for sp in spans:
            if not any(sp.start < e and sp.end > s for s, e, _, _ in truth):
                false_pos.append((sp.label, text[sp.start : sp.end], text))
    assert labels_planted == {e for e in masker.config.entities}
    assert 1 - len(missed) / total >= 0.99, missed
    assert false_pos == []


# ------------------------------------------------------------------ real music text


def _real_music_texts(root: Path, n_per_source: int = 800, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    out: list[str] = []

    def take(rows: list[str]) -> None:
        out.extend(rng.sample(rows, min(n_per_source, len(rows))))

    with (root / "musiccaps" / "musiccaps-public.csv").open(newline="", encoding="utf-8") as fh:
        take([r["caption"] for r in csv.DictReader(fh)])
    with (root / "billboard_year_end_hot100" / "billboard_year_end_1959_2019.csv").open(newline="") as fh:
        take([f"#{r['rank']} on the {r['year']} year-end Hot 100: {r['song']} by {r['artist_all']}" for r in csv.DictReader(fh)])
    with (root / "grammy_awards" / "the_grammy_awards.csv").open(newline="", encoding="utf-8-sig") as fh:
        take(
            [
                f"{r['title']}, {r['category']}: {r['nominee']} by {r['artist']}. Credits: {r['workers']}. "
                f"Published {r['published_at']}. {r['img']}"
                for r in csv.DictReader(fh)
            ]
        )
    with (root / "open_trivia_qa_music" / "music.txt").open(encoding="utf-8", errors="replace") as fh:
        take([line.strip() for line in fh if line.startswith("#Q")])
    with (root / "opentdb_music" / "opentdb_music.jsonl").open(encoding="utf-8") as fh:
        recs = [json.loads(line) for line in fh if line.strip()]
    take([f"{r['question']} {r['correct_answer']} / {', '.join(r['incorrect_answers'])}" for r in recs])
    return out


def test_false_positive_rate_on_real_music_text(shared_data: Path, masker: PiiMasker) -> None:
    texts = _real_music_texts(shared_data)
    assert len(texts) >= 2000
    flagged = [(t[:120], masker.analyze(t)) for t in texts]
    flagged = [f for f in flagged if f[1]]
    assert len(flagged) / len(texts) < 0.01, flagged[:10]


# ------------------------------------------------------------------ masking modes and offsets


def test_placeholder_mode_and_offsets(masker: PiiMasker) -> None:
    text = "mail a@b.io or a@b.io, call +1 (212) 555-0142 — uid:12345678 — 3:45 at 120 BPM"
    res = masker.mask(text)
    assert res.text == "mail <EMAIL> or <EMAIL>, call <PHONE> — <PLATFORM_USER_ID> — 3:45 at 120 BPM"
    assert [text[s.start : s.end] for s in res.spans] == ["a@b.io", "a@b.io", "+1 (212) 555-0142", "uid:12345678"]
    assert [s.label for s in res.spans] == ["EMAIL", "EMAIL", "PHONE", "PLATFORM_USER_ID"]
    assert all(0 <= s.start < s.end <= len(text) for s in res.spans)


def test_pseudonym_mode_is_consistent_and_salted() -> None:
    text = "a@b.io wrote to c@d.io, then a@b.io again"
    m1 = PiiMasker(PiiConfig(mode="pseudonym", salt="s1")).setup()
    m2 = PiiMasker(PiiConfig(mode="pseudonym", salt="s2")).setup()
    r1, r1b, r2 = m1.mask(text), m1.mask("only a@b.io"), m2.mask(text)
    p = re.findall(r"<EMAIL_[0-9a-f]{6}>", r1.text)
    assert len(p) == 3 and p[0] == p[2] != p[1]
    assert p[0] in r1b.text
    assert re.findall(r"<EMAIL_[0-9a-f]{6}>", r2.text)[0] != p[0]
    assert [(s.start, s.end) for s in r1.spans] == [(s.start, s.end) for s in r2.spans]


def test_entity_selection_and_min_score() -> None:
    m = PiiMasker(PiiConfig(entities=("EMAIL",))).setup()
    assert [s.label for s in m.analyze("a@b.io +1 (212) 555-0142")] == ["EMAIL"]
    with pytest.raises(ValueError, match="unknown types"):
        PiiConfig(entities=("EMAILS",))


def test_mask_batch_matches_mask(masker: PiiMasker) -> None:
    texts = [_parse(t)[0] for t in HAND_WRITTEN[:10]]
    assert masker.mask_batch(texts) == [masker.mask(t) for t in texts]


# ------------------------------------------------------------------ robustness


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "\x00\x01\xff\ufffd" * 50,
        bytes(range(256)).decode("latin-1") * 20,
        "مرحبا 你好 こんにちは Привет 🎸🎶 a@b.io 12:34 ١٢٣٤٥٦٧٨٩٠١٢",
        "@" * 5000 + ":" * 5000 + "1" * 5000 + "+" * 1000,
    ],
)
def test_odd_inputs_do_not_crash(masker: PiiMasker, text: str) -> None:
    res = masker.mask(text)
    assert isinstance(res.text, str)
    for s in res.spans:
        assert 0 <= s.start < s.end <= len(text)


def test_one_megabyte_text(masker: PiiMasker) -> None:
    chunk = "the drop at 3:45 (128 BPM, 1999) is unreal, mail me x.y@gmail.com or uid:10000042. "
    text = chunk * (1_000_000 // len(chunk))
    res = masker.mask(text)
    assert len(res.spans) == 2 * (1_000_000 // len(chunk))


# ------------------------------------------------------------------ NER (opt-in) and Presidio path


def test_person_detection_is_opt_in(tmp_path: Path, allow_list) -> None:
    spacy = pytest.importorskip("spacy")
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "PERSON", "pattern": "Jane Doe"}, {"label": "PERSON", "pattern": "Sum 41"}])
    nlp.to_disk(tmp_path / "ner")
    text = "Jane Doe loves Sum 41"
    assert PiiMasker(PiiConfig(allow_list=allow_list)).setup().analyze(text) == []
    cfg = PiiConfig(allow_list=allow_list, ner_model_path=str(tmp_path / "ner"), entities=("PERSON", "EMAIL"))
    spans = PiiMasker(cfg).setup().analyze(text)
    assert [(text[s.start : s.end], s.label) for s in spans] == [("Jane Doe", "PERSON")]


def _community() -> tuple[list[str], tuple[str, ...]]:
    texts = load_labelled(COMMUNITY)
    return [t.text for t in texts], tuple(sorted({n for t in texts for n in t.catalog}))


def _web_windows(shared_data: Path, n: int) -> list[str]:
    c4 = shared_data / "web_crawl_samples" / "c4_en_validation_2k.jsonl"
    if not c4.exists():
        return []
    with c4.open(encoding="utf-8") as fh:
        return [json.loads(line)["text"][:2000] for line in fh if line.strip()][:n]


def test_presidio_path_finds_the_same_spans(masker: PiiMasker, allow_list, sample_dir: Path, shared_data: Path) -> None:
    pytest.importorskip("presidio_analyzer")
    from corpus.pii.presidio_engine import PresidioPiiMasker

    community, catalog = _community()
    cases = [
        (PiiConfig(allow_list=allow_list), [_parse(t)[0] for t in HAND_WRITTEN] + list(_sample_texts(sample_dir).values())[:150]
         + _web_windows(shared_data, 100)),
        # suppression, official pages and the allow-list go through the same finalisation
        (PiiConfig(allow_list=catalog, official_names=catalog), community),
    ]
    for cfg, texts in cases:
        fast, ref = PiiMasker(cfg).setup(), PresidioPiiMasker(cfg).setup()
        for t in texts:
            assert [(s.start, s.end, s.label) for s in fast.analyze(t)] == [
                (s.start, s.end, s.label) for s in ref.analyze(t)
            ], t[:200]


def test_speed_only_spec_fields_change_nothing(allow_list, sample_dir: Path, shared_data: Path) -> None:
    """Gates, digit-cluster anchors, triggers and lower-case gates only skip work: without any of them
    (every pattern over the whole text) the spans are the same."""
    import dataclasses

    from corpus.pii.recognizers import default_specs

    community, catalog = _community()
    cfg = PiiConfig(allow_list=(*allow_list, *catalog), official_names=catalog)
    plain = [
        dataclasses.replace(s, gate=None, anchor=None, trigger=(), trigger_lower=(), gate_lower=False, needs_digit=False)
        for s in default_specs()
    ]
    fast, slow = PiiMasker(cfg).setup(), PiiMasker(cfg, specs=plain).setup()
    texts = [_parse(t)[0] for t in HAND_WRITTEN] + community + list(_sample_texts(sample_dir).values())
    texts += _web_windows(shared_data, 1000)
    for t in texts:
        assert [(s.start, s.end, s.label) for s in fast.analyze(t)] == [
            (s.start, s.end, s.label) for s in slow.analyze(t)
        ], t[:200]
