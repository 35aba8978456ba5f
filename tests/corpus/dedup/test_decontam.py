"""Eval-set decontamination on real data: real eval items planted in real C4 documents are found with the
right item id; clean C4, OpenWebText, MusicCaps and WikiText give no hits; the short-item floor, templates,
persistence, reports and bad input behave as documented in `corpus.dedup.decontam`."""

from __future__ import annotations

import csv
import json
import pickle
import unicodedata
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus.dedup.decontam import (
    DecontamConfig,
    DecontamIndex,
    DecontamReport,
    DocHits,
    EvalItem,
    eval_items_from_conversations,
    eval_items_from_file,
    eval_items_from_qa,
    window_values,
)
from corpus.dedup.text import batch_ngrams, mix64, reference_tokens  # mix64: the finaliser
from corpus.ingest.op import ingest_unit
from corpus.ingest.sources import SourceSpec, get_adapter

QA_SETS = (
    "opentdb_music",
    "open_trivia_qa_music",
    "open_trivia_database_music",
    "nq_open_music",
    "ziqi_eval",
)
CONVERSATION_SETS = ("cpcd",)


# ----------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def eval_tables(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, pa.Table]:
    """Each real eval set ingested by its own adapter into the `qa_items` / `conversations` contract."""
    tables = {}
    for name in (*QA_SETS, *CONVERSATION_SETS):
        root = shared_data / name
        if not root.is_dir():
            pytest.skip(f"shared dataset {name!r} not found under {shared_data}")
        out = tmp_path_factory.mktemp(name)
        spec = SourceSpec(name=name, path=str(root), adapter=name, options={})
        for i, unit in enumerate(get_adapter(name).plan(spec, 1 << 20)):
            ingest_unit(unit, i, out)
        tables[name] = pq.read_table(out / ("conversations" if name in CONVERSATION_SETS else "qa_items"))
    return tables


@pytest.fixture(scope="module")
def items(eval_tables: dict[str, pa.Table]) -> list[EvalItem]:
    out: list[EvalItem] = []
    for name, table in eval_tables.items():
        out += (
            eval_items_from_conversations(table) if name in CONVERSATION_SETS else eval_items_from_qa(table)
        )
    return out


@pytest.fixture(scope="module")
def index(items: list[EvalItem]) -> DecontamIndex:
    return DecontamIndex.build(items)


def _jsonl_texts(path: Path) -> list[str]:
    return [
        json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


@pytest.fixture(scope="module")
def c4(shared_data: Path) -> list[str]:
    crawl = shared_data / "web_crawl_samples"
    return _jsonl_texts(crawl / "c4_en_validation_2k.jsonl") + _jsonl_texts(
        crawl / "c4_en_train_first1000.jsonl"
    )


@pytest.fixture(scope="module")
def clean_docs(shared_data: Path, c4: list[str]) -> dict[str, list[str]]:
    with open(shared_data / "musiccaps" / "musiccaps-public.csv", encoding="utf-8", newline="") as f:
        captions = [r["caption"] for r in csv.DictReader(f)]
    wiki = "\n".join(
        (shared_data / "wikitext2_raw" / f).read_text(encoding="utf-8")
        for f in ("wiki.valid.raw", "wiki.test.raw")
    )
    return {
        "c4": c4,
        "openwebtext": _jsonl_texts(shared_data / "web_crawl_samples" / "openwebtext_1000.jsonl"),
        "musiccaps": captions,
        "wikitext": wiki.split("\n \n = "),  # sections
    }


def qa_row(table: pa.Table, **match: str) -> dict:
    rows = [r for r in table.to_pylist() if all(r[k] == v for k, v in match.items())]
    assert rows, match
    return rows[0]


# ----------------------------------------------------------------------------- planting


def vary(text: str) -> str:
    """The same tokens in another form: casing, punctuation, whitespace, full-width letters, CJK spaced out."""
    out = []
    for i, word in enumerate(text.split()):
        if i % 4 == 1:
            word = word.upper()
        elif i % 4 == 2:
            word = word.title()
        elif i % 4 == 3:  # full-width forms fold back under NFKC
            word = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" and c.isalnum() else c for c in word)
        out.append(word)
    seps = [" ", "  ", "\n", " , ", "\t", " -- ", " ... "]
    joined = "".join(w + seps[i % len(seps)] for i, w in enumerate(out)).strip()
    # CJK characters are tokens of their own: spaces after them change nothing
    return "".join(
        c + (" " if unicodedata.name(c, "").startswith("CJK") and i % 3 == 0 else "")
        for i, c in enumerate(joined)
    )


def plant(host: str, text: str) -> str:
    """`text` inserted at the sentence boundary nearest the middle of `host`."""
    mid = len(host) // 2
    cut = host.find(". ", mid)
    cut = mid if cut < 0 else cut + 2
    return f"{host[:cut]}{text} {host[cut:]}"


@pytest.fixture(scope="module")
def planted(eval_tables: dict[str, pa.Table], c4: list[str]) -> list[tuple[str, tuple[str, str], str]]:
    """(document, expected item key, what was planted): each a real item, varied, inside a real C4 document."""
    t = eval_tables
    cases = []
    otdb = qa_row(
        t["opentdb_music"],
        question='Which band released songs suchs as "Rio", "Girls on Film", and "The Reflex"?',
    )
    cases.append((otdb, "opentdb_music", f"{otdb['question']} {otdb['answer']}", "question+answer"))
    otqa = qa_row(t["open_trivia_qa_music"], answer="Under My Thumb")
    cases.append(
        (
            otqa,
            "open_trivia_qa_music",
            f"Quiz time! {otqa['question']}?? Answer: {otqa['answer']}",
            "labelled answer",
        )
    )
    elcms = qa_row(t["open_trivia_database_music"], answer="The Spencer Davis Group")
    cases.append(
        (elcms, "open_trivia_database_music", f"{elcms['question']} {elcms['answer']}", "question+answer")
    )
    nq = qa_row(t["nq_open_music"], question="who is the lead singer of depeche mode")
    cases.append((nq, "nq_open_music", nq["question"], "question only"))  # 8 tokens: the short rule
    ziqi = qa_row(t["ziqi_eval"], source_id="dev/chinese_music_history/0")
    cases.append(
        (
            ziqi,
            "ziqi_eval",
            ziqi["question"].replace("，", ",").replace("。", ". ") + ziqi["answer"],
            "question+answer",
        )
    )
    conv = qa_row(t["cpcd"], source_id="00079c9c8dd7b55a")
    turn = next(x["text"] for x in conv["turns"] if x["text"].startswith("Any genre works"))
    cases.append((conv, "cpcd", turn, "one turn"))
    hosts = [d for d in c4 if len(d) > 1500][: len(cases)]
    out = []
    for host, (row, eval_set, text, what) in zip(hosts, cases, strict=True):
        key = (eval_set, row.get("qa_id") or row.get("conversation_id"))
        out.append((plant(host, vary(text)), key, what))
    return out


# ----------------------------------------------------------------------------- tests


def test_items_follow_the_documented_rules(eval_tables: dict[str, pa.Table], items: list[EvalItem]) -> None:
    by_key = {it.key: it for it in items}
    row = qa_row(eval_tables["nq_open_music"], question="who is the lead singer of depeche mode")
    item = by_key[("nq_open_music", row["qa_id"])]
    assert item.text == "who is the lead singer of depeche mode\nDavid Gahan"
    assert item.parts == ("who is the lead singer of depeche mode",)  # choices (none here) never indexed
    conv = eval_tables["cpcd"].to_pylist()[0]
    citem = by_key[("cpcd", conv["conversation_id"])]
    assert citem.text == "\n".join(t["text"].strip() for t in conv["turns"]) and citem.parts == ()
    assert {it.eval_set for it in items} == {*QA_SETS, *CONVERSATION_SETS}


def test_planted_items_are_found_with_their_ids(
    index: DecontamIndex, items: list[EvalItem], planted: list, c4: list[str]
) -> None:
    docs = [doc for doc, _, _ in planted]
    hosts_clean = index.scan([d for d in c4 if len(d) > 1500][: len(planted)])
    assert all(not h.hits for h in hosts_clean)
    by_key = {it.key: it for it in items}
    for (_, key, what), hits in zip(planted, index.scan(docs), strict=True):
        assert hits.contaminated, (key, what)
        hit = next((h for h in hits.hits if h.key == key), None)
        assert hit is not None, (key, what, hits.keys)
        if what == "question+answer":  # the whole item is in the document: every n-gram matches
            assert hit.matches == hit.item_ngrams
        elif what == "labelled answer":  # "Answer:" breaks the windows that run from question into answer
            assert hit.matches == len(reference_tokens(by_key[key].parts[0])) - 12 < hit.item_ngrams
        elif what == "question only":  # 8 tokens: one whole-question n-gram of the item's two
            assert (hit.matches, hit.item_ngrams) == (1, 2)
            assert hits.contaminated_at(1) and not hits.contaminated_at(2)
        else:  # an 18-token turn: its 6 13-grams, of the conversation's many
            assert hit.matches == 6 and hit.item_ngrams > 6
        assert hit.item_text and hit.item_text in index.previews
    # a document's hits do not depend on the batch it is scanned in
    mixed = [c4[0], *docs, "", c4[1]]
    assert index.scan(mixed)[1:-2] == index.scan(docs) == [index.scan([d])[0] for d in docs]


def test_clean_real_text_has_no_hits(index: DecontamIndex, clean_docs: dict[str, list[str]]) -> None:
    for name, docs in clean_docs.items():
        found = [(i, h.keys) for i, h in enumerate(index.scan(docs)) if h.hits]
        assert found == [], name
    assert sum(len(d) for d in clean_docs.values()) > 9000


def test_every_indexed_item_finds_itself_and_short_ones_are_counted(
    index: DecontamIndex, items: list[EvalItem]
) -> None:
    hits = index.scan([it.text for it in items])
    missing = {it.key for it, h in zip(items, hits, strict=True) if it.key not in h.keys}
    too_short = {it.key for it in items if len(reference_tokens(it.text)) < index.config.min_tokens}
    assert missing == too_short and too_short
    for s, st in index.stats.items():
        assert st["items_indexed"] + st["items_too_short"] == st["items"]
        assert st["items_too_short"] == sum(1 for k in too_short if k[0] == s)
    assert sum(st["items"] + st["duplicate_items"] for st in index.stats.values()) == len(items)
    assert len(index) == len(items) - len(too_short) - sum(
        st["duplicate_items"] for st in index.stats.values()
    )


def test_templates_are_not_indexed_but_specific_short_questions_are(index: DecontamIndex) -> None:
    assert index.stats["ziqi_eval"]["template_parts"] > 0
    generic, specific = "下列说法中正确的是____。", "被称为布鲁斯皇后的是____。"
    h_generic, h_specific = index.scan([f"考试题：{generic}", f"考试题：{specific}"])
    assert not h_generic.hits
    assert h_specific.contaminated and {k[0] for k in h_specific.keys} == {"ziqi_eval"}


def test_short_documents_and_empty_text(index: DecontamIndex, eval_tables: dict[str, pa.Table]) -> None:
    question = "Who is the LEAD singer of Depeche-Mode?"  # 8 tokens: shorter than n, as long as an item part
    row = qa_row(eval_tables["nq_open_music"], question="who is the lead singer of depeche mode")
    empty, blank, short, tiny, none = index.scan(["", " \n\t  ", question, "Depeche Mode!", None])
    assert [h.keys for h in (empty, blank, tiny, none)] == [[], [], [], []]
    assert short.keys == [("nq_open_music", row["qa_id"])] and short.hits[0].matches == 1
    assert index.scan([]) == []
    with pytest.raises(TypeError, match="document 1"):
        index.scan(["ok", 42])  # type: ignore[list-item]


def test_ngrams_never_straddle_documents(index: DecontamIndex, eval_tables: dict[str, pa.Table]) -> None:
    row = qa_row(eval_tables["open_trivia_qa_music"], answer="Under My Thumb")
    tokens = reference_tokens(row["question"])  # 23 tokens: halves of 11 and 12 hold no 13-gram
    first, second = " ".join(tokens[: len(tokens) // 2]), " ".join(tokens[len(tokens) // 2 :])
    key = ("open_trivia_qa_music", row["qa_id"])
    assert len(tokens) == 23 and key in index.scan([f"{first} {second}"])[0].keys
    assert all(key not in h.keys for h in index.scan([first, second]))


def test_token_values_match_reference_tokens(c4: list[str], items: list[EvalItem]) -> None:
    texts = c4[:20] + [it.text for it in items if it.eval_set in ("ziqi_eval", "cpcd")][:40]
    value_of: dict[str, int] = {}
    for text in texts:
        tokens, values = reference_tokens(text), window_values(text, 1)
        assert len(tokens) == len(values)
        for tok, v in zip(tokens, values.tolist(), strict=True):
            assert value_of.setdefault(tok, v) == v  # a token has one value wherever it is
    assert len(set(value_of.values())) == len(value_of)  # and distinct tokens have distinct values
    assert len(window_values("a b c", 5)) == 0 and len(window_values("a b c d e f", 5)) == 2


def test_window_values_are_batch_ngrams_hashes(c4: list[str], items: list[EvalItem]) -> None:
    """The index compares `batch_ngrams` hashes (before the finaliser), so both see the same n-grams."""
    texts = c4[:30] + [it.text for it in items if it.eval_set == "ziqi_eval"][:30]
    for n in (8, 13):
        batch = batch_ngrams(texts, n)
        for i, text in enumerate(texts):
            if batch.n_tokens[i] >= n:  # shorter ones get one whole-text n-gram there, no window here
                assert np.array_equal(mix64(window_values(text, n)), batch.of(i))


def test_save_load_and_pickle_round_trip(
    index: DecontamIndex, planted: list, c4: list[str], tmp_path: Path
) -> None:
    docs = [d for d, _, _ in planted] + c4[:200]
    expected = index.scan(docs)
    loaded = DecontamIndex.load(index.save(tmp_path / "eval.npz"))
    assert loaded.digest == index.digest and loaded.stats == index.stats and loaded.config == index.config
    assert loaded.scan(docs) == expected
    shipped = pickle.loads(pickle.dumps(index))
    assert shipped.scan(docs) == expected
    assert len(pickle.dumps(index)) < 16 << 20


def test_load_refuses_missing_corrupt_and_foreign_files(index: DecontamIndex, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        DecontamIndex.load(tmp_path / "nope.npz")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not an index")
    with pytest.raises(ValueError, match="junk.npz.*not a decontamination index"):
        DecontamIndex.load(junk)
    old = tmp_path / "old.npz"
    np.savez(
        old, meta=np.frombuffer(json.dumps({"format": "music-corpus/decontam-index/0"}).encode(), np.uint8)
    )
    with pytest.raises(ValueError, match="old.npz.*format.*rebuild"):
        DecontamIndex.load(old)


def test_report_counts_merges_and_renders(index: DecontamIndex, planted: list, c4: list[str]) -> None:
    docs = [d for d, _, _ in planted] + c4[:300]
    ids = [f"planted-{i}" for i in range(len(planted))] + [f"c4-{i}" for i in range(300)]
    hits = index.scan(docs)
    whole = DecontamReport.for_index(index)
    whole.add(ids, hits)
    d = whole.to_dict()
    assert d["documents_scanned"] == len(docs) and d["documents_contaminated"] == len(planted)
    for _, (eval_set, item_id), _ in planted:
        st = d["sets"][eval_set]
        assert st["documents_hit"] >= 1 and item_id in st["items_hit_ids"]
        assert any(ex["item_id"] == item_id and ex["doc_id"].startswith("planted-") for ex in st["examples"])
    assert d["sets"]["ziqi_eval"]["items_too_short"] == index.stats["ziqi_eval"]["items_too_short"]
    # per-task parts, saved as JSON and merged, equal the whole
    a, b = DecontamReport.for_index(index), DecontamReport.for_index(index)
    a.add(ids[::2], hits[::2])
    b.add(ids[1::2], hits[1::2])
    parts = [DecontamReport.from_dict(json.loads(json.dumps(r.to_dict()))) for r in (b, a)]
    assert parts[0].merge(parts[1]).to_dict() == d
    md = whole.to_markdown()
    assert "| opentdb_music |" in md and "planted-0" in md and f"contaminated: {len(planted)}" in md
    other = DecontamReport.for_index(
        DecontamIndex.build([EvalItem("x", "1", "one two three four five six seven eight")])
    )
    with pytest.raises(ValueError, match="different indexes"):
        whole.merge(other)
    with pytest.raises(ValueError, match="not a decontamination report"):
        DecontamReport.from_dict({"format": "something else"})
    with pytest.raises(ValueError, match="3 document ids for 2"):
        whole.add(["a", "b", "c"], hits[:2])


def test_generic_file_reader_on_real_files(
    shared_data: Path, eval_tables: dict[str, pa.Table], tmp_path: Path
) -> None:
    nq_file = shared_data / "nq_open_music" / "NQ-open.dev.jsonl"
    nq = eval_items_from_file(nq_file, "nq_dev", ["question", "answer"], part_fields=["question"])
    assert len(nq) == sum(1 for line in nq_file.read_text().splitlines() if line.strip())
    idx = DecontamIndex.build(nq)
    row = next(i for i in nq if i.parts == ("who is the lead singer of depeche mode",))
    assert row.text.startswith("who is the lead singer of depeche mode\nDavid Gahan")  # list answers joined
    assert idx.scan(["so: WHO is the lead singer of Depeche Mode? read on"])[0].keys == [
        ("nq_dev", row.item_id)
    ]

    ziqi_file = shared_data / "ziqi_eval" / "test" / "popular_music.csv"
    ziqi = eval_items_from_file(ziqi_file, "ziqi_pop", "question", id_field="id")
    with open(ziqi_file, encoding="utf-8-sig", newline="") as f:
        assert [(i.item_id, i.text) for i in ziqi] == [
            (r["id"], r["question"].strip()) for r in csv.DictReader(f)
        ]

    pq_file = tmp_path / "opentdb.parquet"
    pq.write_table(eval_tables["opentdb_music"], pq_file)
    from_file = eval_items_from_file(
        pq_file, "opentdb_music", ["question", "answer"], id_field="qa_id", part_fields=["question"]
    )
    assert from_file == eval_items_from_qa(eval_tables["opentdb_music"])


def test_bad_input_errors(eval_tables: dict[str, pa.Table], tmp_path: Path) -> None:
    jl = tmp_path / "eval.jsonl"
    jl.write_text('{"q": "a question", "id": 1}\n{"q": "another", "id": 2}\n')
    with pytest.raises(ValueError, match=r"eval.jsonl.*missing column\(s\) \['question'\]"):
        eval_items_from_file(jl, "s", "question")
    with pytest.raises(ValueError, match=r"eval.jsonl: row 2: id '1' already used by row 1"):
        jl.write_text('{"q": "a", "id": 1}\n{"q": "b", "id": 1}\n')
        eval_items_from_file(jl, "s", "q", id_field="id")
    jl.write_text('{"q": "a"}\n{"q": broken\n')
    with pytest.raises(ValueError, match="eval.jsonl: row 2: not valid JSON"):
        eval_items_from_file(jl, "s", "q")
    jl.write_text('{"q": {"nested": 1}}\n')
    with pytest.raises(ValueError, match="eval.jsonl: row 1: field `q` is a dict"):
        eval_items_from_file(jl, "s", "q")
    cs = tmp_path / "eval.csv"
    cs.write_text("id,question\n1,hello there\n")
    with pytest.raises(ValueError, match=r"eval.csv.*\['answer'\]"):
        eval_items_from_file(cs, "s", ["question", "answer"])
    pf = tmp_path / "eval.parquet"
    pq.write_table(pa.table({"question": ["q"]}), pf)
    with pytest.raises(ValueError, match=r"eval.parquet: missing column\(s\) \['qa_id'\]"):
        eval_items_from_file(pf, "s", "question", id_field="qa_id")
    with pytest.raises(FileNotFoundError, match="absent.jsonl"):
        eval_items_from_file(tmp_path / "absent.jsonl", "s", "q")
    (tmp_path / "eval.txt").write_text("x")
    with pytest.raises(ValueError, match="eval.txt"):
        eval_items_from_file(tmp_path / "eval.txt", "s", "q")
    with pytest.raises(ValueError, match=r"my_qa.parquet: missing column\(s\) \['answer'\]"):
        eval_items_from_qa(eval_tables["opentdb_music"].drop_columns(["answer"]), origin="my_qa.parquet")
    with pytest.raises(ValueError, match=r"missing column\(s\) \['turns'\]"):
        eval_items_from_conversations(eval_tables["cpcd"].drop_columns(["turns"]))
    with pytest.raises(ValueError, match="appears twice with different text"):
        DecontamIndex.build([EvalItem("s", "1", "one two three"), EvalItem("s", "1", "four five six")])
    for bad in ({"ngram": 0}, {"min_matches": 0}, {"template_items": 1}):
        with pytest.raises(ValueError):
            DecontamConfig(**bad)


def test_small_index_rules() -> None:
    """The rules on a hand-made index: floor, duplicates, whole-text short items, min_matches."""
    long_text = "the quick brown fox jumps over the lazy dog while the band plays on and on into the night"
    items = [
        EvalItem("s", "long", long_text),
        EvalItem("s", "short", "name the composer of red red wine please"),  # 8 tokens: whole-text n-gram
        EvalItem("s", "tiny", "red red wine"),  # 3 tokens: skipped, counted
        EvalItem("s", "tiny", "red red wine"),  # same key, same text: a duplicate
    ]
    idx = DecontamIndex.build(items, DecontamConfig(min_matches=3))
    assert idx.stats["s"] == {
        "items": 3,
        "duplicate_items": 1,
        "items_indexed": 2,
        "items_too_short": 1,
        "template_parts": 0,
    }
    assert sorted(idx.groups) == [8, 13] and int(idx.item_ngrams[idx.item_ids.index("long")]) == 7
    words = long_text.split()
    one, three = " ".join(words[:13]), " ".join(words[:15])
    h_one, h_three, h_short, h_tiny = idx.scan(
        [one, three, "Name the composer of Red, Red Wine, please!", "red red wine"]
    )
    assert h_one.hits[0].matches == 1 and not h_one.contaminated  # 1 < min_matches
    assert h_three.hits[0].matches == 3 and h_three.contaminated
    assert h_short.contaminated and h_short.hits[0].item_ngrams == 1  # capped at the item's own count
    assert h_tiny == DocHits()
    empty = DecontamIndex.build([])
    assert empty.scan(["anything at all", ""]) == [DocHits(), DocHits()] and len(empty) == 0
    # the same 8-token window twice in a document is one distinct n-gram
    assert (
        idx.scan(["name the composer of red red wine please, name the composer of red red wine please"])[0]
        .hits[0]
        .matches
        == 1
    )
