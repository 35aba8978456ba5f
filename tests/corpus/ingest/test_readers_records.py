"""Readers and the record builder: every row becomes a record or a reject with file, row, field and reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus.ingest.ids import make_id
from corpus.ingest.normalize import normalize_name, normalize_text
from corpus.ingest.readers import InputError, jsonl_splits, read_csv, read_jsonl, read_parquet
from corpus.ingest.records import IngestLimits, Record, RecordBuilder, Reject


def _write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_normalisation_of_text_and_names():
    assert normalize_text("Cafe\u0301  bar \r\nline two\t \n\n") == "Caf\u00e9  bar\nline two"
    assert normalize_text("a\x00b\x07c\ufeff") == "abc"
    assert normalize_name("  The\tBeatles \n") == "The Beatles"


def test_ids_are_content_derived_and_stable():
    a = make_id("songs", "demo", "s1")
    assert a == make_id("songs", "demo", "s1") and len(a) == 32
    assert a != make_id("songs", "demo", "s2") != make_id("artists", "demo", "s1")


@pytest.mark.parametrize("split_bytes", [7, 50, 1000, 1 << 20])
def test_jsonl_splits_read_every_line_exactly_once(tmp_path, split_bytes):
    rows = [{"i": i, "text": "x" * (i % 13)} for i in range(200)]
    path = _write_jsonl(tmp_path / "d.jsonl", rows)
    seen = []
    for start, end in jsonl_splits(path, split_bytes):
        seen += [(r.row, r.values["i"]) for r in read_jsonl(path, start, end)]
    assert seen == [(i + 1, i) for i in range(200)]  # row numbers are 1-based line numbers


def test_jsonl_giant_line_is_rejected_without_loading_it(tmp_path):
    path = tmp_path / "g.jsonl"
    with open(path, "w") as f:
        f.write('{"text": "ok"}\n')
        f.write('{"text": "' + "y" * 3_000_000 + '"}\n')
        f.write('{"text": "after"}\n')
    out = list(read_jsonl(path, max_line_bytes=1_000_000))
    assert [r.row for r in out] == [1, 2, 3]
    assert out[1].reject.reason == "record_too_large" and "3,000,013 bytes" in out[1].reject.message
    assert out[2].values == {"text": "after"}


def test_csv_rows_with_wrong_field_count_or_bad_bytes_are_rejected(tmp_path):
    path = tmp_path / "s.csv"
    path.write_bytes(b"a,b\n1,2\n3\n\"multi\nline\",4\n5,caf\xe9\n")
    out = list(read_csv(path))
    assert out[0].values == {"a": "1", "b": "2"}
    assert (out[1].row, out[1].reject.reason) == (3, "malformed_row")
    assert out[2].values == {"a": "multi\nline", "b": "4"} and out[2].row == 4
    assert (out[3].row, out[3].reject.reason, out[3].reject.field) == (6, "invalid_utf8", "b")
    assert out[3].reject.payload == b"5,caf\xe9\n"  # the original bytes are kept


def test_csv_without_header_line(tmp_path):
    path = tmp_path / "singers.csv"
    path.write_bytes(b'1,Aioz\r\n2,"OK,no problem"\r\n3,a,b\r\n')
    out = list(read_csv(path, columns=("id", "name")))
    assert [r.row for r in out] == [1, 2, 3]  # the first line is data, not a header
    assert out[0].values == {"id": "1", "name": "Aioz"} and out[1].values == {"id": "2", "name": "OK,no problem"}
    assert out[2].reject.reason == "malformed_row" and "expected 2 (id, name)" in out[2].reject.message


def test_csv_latin1_and_missing_header_column(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_bytes("id\ttag\n1\tn\xe9o-soul\n".encode("latin-1"))
    (row,) = list(read_csv(path, delimiter="\t", encoding="latin-1"))
    assert row.values["tag"] == "néo-soul"
    with pytest.raises(InputError, match=r"header lacks required column\(s\) \['name'\]"):
        list(read_csv(path, delimiter="\t", encoding="latin-1", required_columns=("name",)))


def test_missing_and_corrupt_files_raise_input_errors(tmp_path):
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not a parquet file at all")
    with pytest.raises(InputError, match="not a readable Parquet file"):
        list(read_parquet(bad))
    with pytest.raises(InputError, match="file is empty"):
        (tmp_path / "e.csv").write_text("")
        list(read_csv(tmp_path / "e.csv"))


def test_parquet_rows_numbered_across_row_groups(tmp_path):
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"x": list(range(10))}), path, row_group_size=3)
    out = list(read_parquet(path, 1, 3))
    assert [(r.row, r.values["x"]) for r in out] == [(4, 3), (5, 4), (6, 5), (7, 6), (8, 7), (9, 8)]


def test_builder_coerces_types_and_keeps_unknown_fields_in_metadata():
    b = RecordBuilder("songs", "demo")
    rec = b.build(
        {"source_id": "s1", "title": " Yesterday ", "artists": '["The Beatles"]', "year": "1965.0",
         "duration_ms": 125000.0, "explicit": "FALSE", "tempo_bpm": "97.5", "genres": "rock|pop",
         "label": "Parlophone"},
        "f.csv", 2,
    )
    assert isinstance(rec, Record)
    v = rec.values
    assert v["song_id"] == make_id("songs", "demo", "s1") and v["source"] == "demo"
    assert (v["title"], v["artists"], v["year"], v["duration_ms"], v["explicit"]) == (
        "Yesterday", ["The Beatles"], 1965, 125000, False)
    assert v["genres"] == ["rock", "pop"] and v["tempo_bpm"] == 97.5
    assert json.loads(v["metadata"]) == {"label": "Parlophone"}


@pytest.mark.parametrize(
    ("raw", "reason", "field"),
    [
        ({"source_id": "s", "artists": ["A"]}, "missing_field", "title"),
        ({"source_id": "s", "title": "T", "artists": ["A"], "year": "nineteen"}, "bad_type", "year"),
        ({"source_id": "s", "title": "T", "artists": ["A"], "key": 300}, "out_of_range", "key"),
        ({"source_id": "s", "title": "T", "artists": ["A"], "explicit": "maybe"}, "bad_type", "explicit"),
        ({"source_id": "s", "title": "T", "artists": "[broken"}, "bad_type", "artists"),
        ({"source_id": "s", "title": "caf\udce9", "artists": ["A"]}, "invalid_utf8", "title"),
    ],
)
def test_builder_rejects_name_field_and_reason(raw, reason, field):
    out = RecordBuilder("songs", "demo").build(raw, "f.csv", 7)
    assert isinstance(out, Reject)
    assert (out.reason, out.field, out.row, out.file, out.dataset) == (reason, field, 7, "f.csv", "songs")
    assert out.message.startswith(f"songs.{field}:")


def test_empty_whitespace_and_oversize_documents():
    b = RecordBuilder("documents", "web", IngestLimits(max_text_bytes=1000))
    assert b.build({"source_id": "1", "text": "  \n\t "}, "f", 1).reason == "empty_text"
    big = b.build({"source_id": "2", "text": "é" * 600}, "f", 2)
    assert big.reason == "text_too_large" and "1,200 bytes" in big.message
    assert isinstance(b.build({"source_id": "3", "text": "é" * 400}, "f", 3), Record)


def test_timestamps_maps_and_structs():
    ev = RecordBuilder("behavior_events", "demo").build(
        {"source_id": "e1", "user_id": "u", "ts": "2021-03-04T05:06:07+08:00", "item_type": "song", "item_id": "s",
         "feedback": "play", "state": '{"device": "phone", "context": "gym"}'},
        "f", 1,
    )
    assert ev.values["ts"] == datetime(2021, 3, 3, 21, 6, 7, tzinfo=UTC)
    assert ev.values["state"] == [("context", "gym"), ("device", "phone")]
    conv = RecordBuilder("conversations", "cpcd").build(
        {"source_id": "c", "turns": [{"speaker": "user", "text": "hi\r\nthere"}, {"speaker": "system"}]}, "f", 1
    )
    assert (conv.reason, conv.field) == ("missing_field", "turns.text")


def test_tiny_splits_over_a_giant_line_read_each_line_once(tmp_path):
    path = tmp_path / "g.jsonl"
    with open(path, "w") as f:
        f.write('{"i": 0}\n{"i": 1, "text": "' + "z" * 2_000_000 + '"}\n{"i": 2}\n')
    seen = []
    for start, end in jsonl_splits(path, 1000):  # 2,000 splits, most of them inside line 2
        seen += [(r.row, r.values["i"]) for r in read_jsonl(path, start, end)]
    assert seen == [(1, 0), (2, 1), (3, 2)]


def test_rejects_in_later_splits_carry_file_line_numbers(tmp_path):
    from corpus.ingest.op import ingest_unit
    from corpus.ingest.sources import SourceSpec, get_adapter

    path = tmp_path / "d.jsonl"
    lines = [json.dumps({"id": str(i), "text": f"doc {i}"}) for i in range(300)]
    lines[149] = "{not json"
    lines[250] = json.dumps({"id": "250", "text": "  "})
    path.write_text("\n".join(lines) + "\n")
    spec = SourceSpec(name="t", path=str(path), dataset="documents")
    units = get_adapter("generic").plan(spec, 500)
    assert len(units) > 10
    rejects = []
    for i, unit in enumerate(units):
        ingest_unit(unit, i, tmp_path / "out")
    q = pq.read_table(tmp_path / "out" / "_quarantine").to_pylist()
    rejects = sorted((r["row"], r["reason"]) for r in q)
    assert rejects == [(150, "malformed_json"), (251, "empty_text")]


# ----------------------------------------------------------------------------- Unicode repair at ingestion


def test_builder_repairs_mojibake_in_every_string_column_and_counts_it():
    b = RecordBuilder("awards", "grammy")
    rec = b.build(
        {"source_id": "BartÃ³k 1", "ceremony": "GRAMMYÂ\u00a0Awards", "year": 1990, "category": "Best Opera",
         "nominee": "BartÃ³k: Bluebeard's Castle", "artists": ["Mel TormÃ©", "Björk", "周杰伦"],
         "credits": "Rob McConnell, arranger (Mel TormÃ© with Rob McConnell &amp; The Boss Brass)",
         "label": "DuruflÃ©", "label_id": "Ã©1"},
        "f.csv", 2,
    )
    assert isinstance(rec, Record)
    v = rec.values
    assert v["nominee"] == "Bartók: Bluebeard's Castle" and v["ceremony"] == "GRAMMY Awards"
    assert v["artists"] == ["Mel Tormé", "Björk", "周杰伦"]  # correctly encoded names are left alone
    assert v["credits"] == "Rob McConnell, arranger (Mel Tormé with Rob McConnell & The Boss Brass)"
    # metadata strings are repaired too; ids (here `source_id`, `label_id`) never: foreign keys use the raw string
    assert json.loads(v["metadata"]) == {"label": "Duruflé", "label_id": "Ã©1"}
    assert v["source_id"] == "BartÃ³k 1" and v["award_id"] == make_id("awards", "grammy", "BartÃ³k 1")
    assert b.repaired == {"ceremony": 1, "nominee": 1, "artists": 1, "credits": 1, "metadata": 1}


def test_builder_repair_leaves_clean_text_alone_and_counts_only_kept_rows():
    b = RecordBuilder("documents", "web")
    clean = ["Björk's Homogenic, 1997.", "周杰伦的新专辑《最伟大的作品》", "R&B and AT&T, C:\\music", "Ünïcödé “quotes” — fine"]
    for i, text in enumerate(clean):
        rec = b.build({"source_id": str(i), "text": text, "title": text}, "f", i)
        assert (rec.values["text"], rec.values["title"]) == (text, text)
    assert b.repaired == {}
    # only NFC or whitespace differences are normalisation, not repair
    assert b.build({"source_id": "n", "text": "Cafe\u0301\r\nbar"}, "f", 9).values["text"] == "Caf\u00e9\nbar"
    assert b.repaired == {}
    # a row that is quarantined for another field does not count its repairs
    assert b.build({"source_id": "q", "text": "MotÃ¶rhead", "created_at": "soon"}, "f", 10).reason == "bad_type"
    assert b.repaired == {}
    assert b.build({"source_id": "k", "text": "MotÃ¶rhead"}, "f", 11).values["text"] == "Motörhead"
    assert b.repaired == {"text": 1}


def test_task_stats_count_repairs_per_dataset_column(tmp_path):
    from corpus.ingest.op import ingest_unit
    from corpus.ingest.sources import SourceSpec, get_adapter

    path = tmp_path / "songs.csv"
    path.write_text(
        'source_id,title,artists,album\n1,CafÃ© del Mar,"[""BeyoncÃ©"", ""ZoÃ©""]",Plain\n2,Plain,"[""A""]",NiÃ±o\n'
        '3,Plain,"[""Sigur Rós""]",Ágætis byrjun\n',
        encoding="utf-8",
    )
    spec = SourceSpec(name="t", path=str(path), dataset="songs")
    (unit,) = get_adapter("generic").plan(spec, 1 << 20)
    stats = ingest_unit(unit, 0, tmp_path / "out")
    assert stats.repaired == {"songs.album": 1, "songs.artists": 2, "songs.title": 1}
    rows = pq.read_table(tmp_path / "out" / "songs").to_pylist()
    assert [(r["title"], r["artists"], r["album"]) for r in rows] == [
        ("Café del Mar", ["Beyoncé", "Zoé"], "Plain"), ("Plain", ["A"], "Niño"),
        ("Plain", ["Sigur Rós"], "Ágætis byrjun"),
    ]


# ----------------------------------------------------------------------------- contract: enumerations and types


def _ingest_jsonl(tmp_path: Path, dataset: str, rows: list[dict]) -> tuple[list[dict], list[dict]]:
    from corpus.ingest.op import ingest_unit
    from corpus.ingest.sources import SourceSpec, get_adapter

    path = _write_jsonl(tmp_path / f"{dataset}.jsonl", rows)
    spec = SourceSpec(name="t", path=str(path), dataset=dataset)
    for i, unit in enumerate(get_adapter("generic").plan(spec, 1 << 20)):
        ingest_unit(unit, i, tmp_path / "out")
    out, q = tmp_path / "out" / dataset, tmp_path / "out" / "_quarantine"
    kept = pq.read_table(out).to_pylist() if out.exists() else []
    return kept, (pq.read_table(q).to_pylist() if q.exists() else [])


def test_enumerated_value_outside_the_contract_is_quarantined(tmp_path):
    event = {"user_id": "u1", "ts": "2024-01-02T03:04:05Z", "item_type": "song", "item_id": "s1"}
    kept, q = _ingest_jsonl(tmp_path, "behavior_events", [
        {"id": "e1", **event, "feedback": "play"},
        {"id": "e2", **event, "feedback": "teleport"},
        {"id": "e3", **event, "item_type": "podcast", "feedback": "like"},
    ])  # fmt: skip
    assert [r["source_id"] for r in kept] == ["e1"]
    by_row = {r["row"]: r for r in q}
    assert (by_row[2]["reason"], by_row[2]["field"]) == ("bad_value", "feedback")
    msg = by_row[2]["message"]
    assert msg.startswith("behavior_events.feedback: 'teleport' is not an allowed value")
    assert all(f"`{v}`" in msg for v in ("play", "skip", "add_to_playlist", "search"))
    assert (by_row[3]["reason"], by_row[3]["field"]) == ("bad_value", "item_type") and "'podcast'" in by_row[3]["message"]


def test_enumerated_nullable_column_accepts_null_and_allowed_values():
    b = RecordBuilder("comments", "demo")
    assert b.build({"source_id": "c1", "text": "nice", "item_type": None}, "f", 1).values["item_type"] is None
    assert b.build({"source_id": "c2", "text": "nice", "item_type": " album "}, "f", 2).values["item_type"] == "album"
    out = b.build({"source_id": "c3", "text": "nice", "item_type": "Album"}, "f", 3)
    assert (out.reason, out.field) == ("bad_value", "item_type")  # exact: an adapter maps case, not the builder


def test_number_for_running_text_is_bad_type_but_numeric_ids_and_names_are_fine(tmp_path):
    kept, q = _ingest_jsonl(tmp_path, "documents", [
        {"id": 1, "text": "one"},
        {"id": 2, "text": 12345},
        {"source_id": 3, "text": "three", "title": 1999},
        {"id": 4, "text": 3.5},
        {"id": 5, "text": True},
    ])  # fmt: skip
    assert sorted((r["source_id"], r["title"]) for r in kept) == [("1", None), ("3", "1999")]
    assert sorted((r["row"], r["reason"], r["field"]) for r in q) == [
        (2, "bad_type", "text"), (4, "bad_type", "text"), (5, "bad_type", "text")
    ]
    msg = next(r["message"] for r in q if r["row"] == 2)
    assert msg.startswith("documents.text: must be a string of running text, got the int 12345")
    qa = RecordBuilder("qa_items", "t")
    assert (qa.build({"source_id": "q", "question": "Year?", "answer": 1969}, "f", 1).field) == "answer"
    out = qa.build({"source_id": "q", "question": "Year?", "answer": "1969", "choices": ["1969", 1970]}, "f", 2)
    assert (out.reason, out.field) == ("bad_type", "choices")
    assert isinstance(qa.build({"source_id": "q", "question": "Year?", "answer": "1969"}, "f", 3), Record)


def test_ingest_manifest_reports_repairs_per_source(tmp_path):
    from jobs.config import RunConfig
    from jobs.engines import LocalEngine
    from jobs.run import run_corpus

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "songs.csv").write_text(
        'source_id,title,artists\n1,CafÃ© del Mar,"[""BeyoncÃ©""]"\n2,Plain,"[""A""]"\n', encoding="utf-8"
    )
    (tmp_path / "in" / "docs.jsonl").write_text('{"id": "d", "text": "MotÃ¶rhead live"}\n', encoding="utf-8")
    sources = [
        {"name": "a", "dataset": "songs", "path": str(tmp_path / "in" / "songs.csv")},
        {"name": "a", "dataset": "documents", "path": str(tmp_path / "in" / "docs.jsonl")},
        {"name": "b", "dataset": "documents", "path": str(tmp_path / "in" / "docs.jsonl")},
    ]
    cfg = RunConfig.model_validate(
        {"out": str(tmp_path / "out"), "engine": "inline", "sample": {"enabled": False}, "ingest": {"sources": sources}}
    )
    manifest = run_corpus(cfg, engine=LocalEngine(), stages=("ingest",)).results[-1].manifest
    by_source = manifest["by_source"]
    assert by_source["a"]["repaired"] == {"documents.text": 1, "songs.artists": 1, "songs.title": 1}
    assert list(by_source["a"]["repaired"]) == sorted(by_source["a"]["repaired"])
    assert by_source["b"]["repaired"] == {"documents.text": 1}
