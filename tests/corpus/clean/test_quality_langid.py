"""Quality signals (hand-computed values, agreement with datatrove), language identification accuracy
on real English and Chinese text, and robustness of the whole cleaner on odd input."""

from __future__ import annotations

import csv
import json
import re

import pytest

from corpus.clean import DocumentCleaner, quality_signals, signal_names, split_words


def test_hand_computed_signals() -> None:
    text = "The cat sat.\nThe cat sat.\n\n# tag ...\n- item one"
    q = quality_signals(text)
    words = split_words(text)
    assert words == ["The", "cat", "sat", ".", "The", "cat", "sat", ".", "#", "tag", "...", "-", "item", "one"]
    assert q["n_words"] == 14 and q["n_non_symbol_words"] == 9 and q["n_chars"] == len(text)
    assert q["mean_word_length"] == pytest.approx(sum(map(len, ["The", "cat", "sat"] * 2 + ["tag", "item", "one"])) / 9)
    assert q["hash_to_word_ratio"] == pytest.approx(1 / 14)
    assert q["ellipsis_to_word_ratio"] == pytest.approx(1 / 14)
    assert q["alpha_word_ratio"] == pytest.approx(9 / 14)
    assert q["stop_word_count"] == 1  # "the"
    assert q["bullet_line_ratio"] == pytest.approx(1 / 5)  # splitlines keeps the blank line
    assert q["ellipsis_line_ratio"] == pytest.approx(1 / 5)
    assert q["n_lines"] == 4 and q["line_punct_ratio"] == pytest.approx(3 / 4)  # "..." ends in "."
    assert q["dup_line_frac"] == pytest.approx(1 / 4)  # lines split on \n+: 4 lines, one repeat
    assert q["dup_line_char_frac"] == pytest.approx(len("The cat sat.") / len(text))


def test_cjk_words_are_characters() -> None:
    q = quality_signals("我喜欢这首歌的旋律。")
    assert q["n_words"] == 10 and q["n_non_symbol_words"] == 9
    assert q["mean_word_length"] == 1.0 and q["stop_word_count_zh"] == 3  # 我, 这, 的
    assert q["cjk_char_ratio"] == pytest.approx(9 / 10)


def test_signal_names_are_stable() -> None:
    names = signal_names()
    assert names == tuple(sorted(names)) and len(names) == 33
    for key in ("dup_line_frac", "top_2_gram_char_frac", "dup_10_gram_char_frac", "line_punct_ratio", "n_words"):
        assert key in names


def _agrees_with_datatrove(text: str) -> None:
    """Each of our repetition signals crosses a threshold exactly when datatrove's filter rejects on it."""
    from datatrove.data import Document
    from datatrove.pipeline.filters import GopherRepetitionFilter
    from datatrove.pipeline.filters.gopher_repetition_filter import (
        find_all_duplicate,
        find_top_duplicate,
        get_n_grams,
    )

    q = quality_signals(text)
    off = dict(dup_line_frac=None, dup_para_frac=None, dup_line_char_frac=None, dup_para_char_frac=None, top_n_grams=(), dup_n_grams=())
    for key in ("dup_line_frac", "dup_para_frac", "dup_line_char_frac", "dup_para_char_frac"):
        for thr in (q[key] - 1e-9, q[key] + 1e-9):
            if thr <= 0:
                continue
            f = GopherRepetitionFilter(**{**off, key: thr})
            assert (f.filter(Document(text=text, id="x")) is True) == (q[key] <= thr), key
    words = split_words(text)
    for n in (2, 3, 4):
        grams = get_n_grams(words, n)
        if grams:
            assert q[f"top_{n}_gram_char_frac"] == pytest.approx(find_top_duplicate(grams) / len(text))
    for n in range(5, 11):
        assert q[f"dup_{n}_gram_char_frac"] == pytest.approx(find_all_duplicate(words, n) / len(text))


def test_agreement_with_datatrove_on_spam_and_real_text(data_dir) -> None:
    spam = "Buy cheap tickets now\n" * 20 + "\n\nBuy cheap tickets now\n\nbest price best price best price best price"
    _agrees_with_datatrove(spam)
    _agrees_with_datatrove("a b c d e f a b c d e f g\n\nx y\n\nx y")
    path = data_dir / "web_crawl_samples" / "c4_en_validation_2k.jsonl"
    if path.exists():
        for line in list(path.open())[:40]:
            _agrees_with_datatrove(json.loads(line)["text"])


def test_spam_scores_high_repetition() -> None:
    spam = quality_signals("Click to win a free prize today!\n" * 50)
    prose = quality_signals(
        "The quartet recorded the album in a converted church outside Bergen. The room's long decay shaped "
        "the arrangements: the drummer played brushes, the bassist bowed, and the singer stood far from the mic."
    )
    # Gopher's thresholds (Rae et al. 2021, table A1): spam is over every one, prose under.
    gopher = {"dup_line_frac": 0.3, "dup_line_char_frac": 0.2, "top_2_gram_char_frac": 0.2, "top_4_gram_char_frac": 0.16,
              "dup_5_gram_char_frac": 0.15, "dup_10_gram_char_frac": 0.10}
    for key, thr in gopher.items():
        assert spam[key] > thr > prose[key], key
    assert prose["dup_5_gram_char_frac"] == 0.0


def _ziqi_questions(data_dir) -> list[str]:
    files = sorted((data_dir / "ziqi_eval").glob("*/*.csv"))
    if not files:
        pytest.skip("ziqi_eval missing")
    out: list[str] = []
    for f in files:
        with f.open(encoding="utf-8") as fh:
            out += [r["question"] for r in csv.DictReader(fh)]
    return out


def test_langid_accuracy_chinese_ziqi(cleaner: DocumentCleaner, data_dir) -> None:
    questions = _ziqi_questions(data_dir)[::3]  # every third question keeps the test fast
    langs = [cleaner._langid.identify(q)[0] for q in questions]
    assert sum(lang == "zh" for lang in langs) / len(langs) >= 0.98


def test_langid_accuracy_english_c4(cleaner: DocumentCleaner, data_dir) -> None:
    path = data_dir / "web_crawl_samples" / "c4_en_validation_2k.jsonl"
    if not path.exists():
        pytest.skip(f"{path} missing")
    docs = [json.loads(line)["text"] for line in path.open()][:1000]
    results = [cleaner._langid.identify(d) for d in docs]
    assert sum(lang == "en" for lang, _ in results) / len(results) >= 0.98
    assert all(0.0 <= p <= 1.0 for _, p in results)
    assert sorted(p for _, p in results)[len(results) // 2] > 0.9  # confident on typical English


def test_langid_mixed_script(cleaner: DocumentCleaner) -> None:
    assert cleaner._langid.identify("周杰伦的新专辑 Greatest Works of Art 在2022年发行，收录了12首歌曲。")[0] == "zh"
    en = "Jay Chou (周杰伦) released his album Greatest Works of Art in 2022; it has twelve songs and a long tour."
    assert cleaner._langid.identify(en)[0] == "en"
    ranked = cleaner._langid.rank("这是中文。 This is English.", top=2)
    assert {lang for lang, _ in ranked} <= {"zh", "en", "ja"} and sum(p for _, p in ranked) <= 1.0 + 1e-6


def test_clean_result_end_to_end(cleaner: DocumentCleaner) -> None:
    text = "Reposted from https://x.com/a\nThe record is a quiet, patient, beautiful piece of work.\nShare this:\nFacebook\n"
    r = cleaner.clean(text)
    assert r.text == "The record is a quiet, patient, beautiful piece of work."
    assert r.removed_lines == {"repost_attribution": 1, "share": 1, "short_unpunctuated": 1}
    assert r.lang == "en" and r.lang_score > 0.5
    assert list(r.quality) == sorted(r.quality) and set(signal_names()) <= set(r.quality)
    assert r.quality["removed_line_frac"] == pytest.approx(3 / 4)
    assert len(cleaner.clean_batch([text, "", None])) == 3


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t \n  ",
        None,
        bytes(range(256)).decode("latin-1"),
        "\x00\x01\x02\ufffd\ufffd",
        "a\ud800b\udfff 中文 mojibake cafÃ© â€œquoteâ€\x9d",
        "中文和English混合的text，还有日本語のテキスト and 한국어.",
        "🎵🎶🎸" * 100,
    ],
)
def test_odd_inputs_give_defined_outputs(cleaner: DocumentCleaner, text: str | None) -> None:
    r = cleaner.clean(text)
    r.text.encode("utf-8")  # always encodable
    assert isinstance(r.lang, str) and 0.0 <= r.lang_score <= 1.0
    assert all(isinstance(v, float) and v == v for v in r.quality.values())  # no NaN
    if not r.text.strip():
        assert r.lang == "und" and r.quality["n_words"] == 0.0


def test_one_megabyte_document(cleaner: DocumentCleaner) -> None:
    para = "The orchestra tuned for a long time before the concert began in the old hall.\n"
    words = re.findall(r"\w+", para)
    text = "".join(f"{para[:-2]} {words[i % len(words)]} {i}.\n" for i in range(13000))
    assert len(text) > 1_000_000
    r = cleaner.clean(text)
    assert r.lang == "en" and r.quality["n_chars"] > 900_000
    assert r.quality["dup_5_gram_char_frac"] > 0.5  # near-identical lines
