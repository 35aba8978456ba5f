"""The ingest stage end to end on bad input: every row accounted, clear errors, atomic and resumable."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import corpus.ingest.op as op_module
from corpus.ingest.readers import InputError
from jobs.config import RunConfig
from jobs.engines import DatatroveEngine, LocalEngine
from jobs.errors import UserError
from jobs.run import run_corpus
from schemas import SchemaVersionError, get_schema, validate_parquet
from schemas.spec import META_NAME, META_VERSION


def _config(out: Path, sources: list[dict], **ingest) -> RunConfig:
    return RunConfig.model_validate(
        {"out": str(out), "engine": "inline", "sample": {"enabled": False}, "ingest": {"sources": sources, **ingest}}
    )


def _bad_inputs(d: Path, giant: bool = True) -> list[dict]:
    d.mkdir(parents=True, exist_ok=True)
    with open(d / "docs.jsonl", "wb") as f:
        f.write(b'{"id": "1", "text": "Blink-182 played a 3:45 encore in 1999.", "lang": "en"}\n')
        f.write(b'{"id": "2", "text": ""}\n')  # empty
        f.write(b'{"id": "3", "text": "   \\n\\t  "}\n')  # whitespace only
        f.write(b'{"id": "4", "text": "caf\xe9 au lait"}\n')  # invalid UTF-8
        if giant:
            f.write(b'{"id": "5", "text": "' + b"x" * (50 * 1024 * 1024) + b'"}\n')  # 50 MB document
        f.write(b"{broken json\n")
        f.write('{"id": "6", "text": "混合 scripts: 周杰伦 and Jay Chou, Ελληνικά, العربية"}\n'.encode())
        f.write(b'{"id": "1", "text": "Blink-182 played a 3:45 encore in 1999.", "lang": "en"}\n')  # repeated row
        f.write(b'{"id": "6", "text": "a different text under an existing id"}\n')  # conflicting id
    (d / "songs.csv").write_text(
        "source_id,title,artists,year,tempo_bpm\n"
        's1,Song One,"[""A""]",1999,120\n'
        "s2,Song Two,B,nineteen-ninety,100\n"  # wrong type
        "s3,Song Three,C,2001,fast\n"  # wrong type
        "s4,Song Four\n"  # wrong field count
    )
    return [
        {"name": "bad", "dataset": "documents", "path": str(d / "docs.jsonl")},
        {"name": "bad", "dataset": "songs", "path": str(d / "songs.csv")},
    ]


def test_bad_input_is_accounted_row_by_row(tmp_path):
    sources = _bad_inputs(tmp_path / "in")
    report = run_corpus(_config(tmp_path / "out", sources), engine=LocalEngine(), stages=("ingest",))
    m = report.results[-1].manifest
    assert m["rows_in"] == 9 + 4
    assert m["rows_in"] == m["rows_out"] + sum(m["dropped"].values()) + sum(m["quarantined"].values())
    assert m["dropped"] == {"duplicate_row": 1}
    assert m["quarantined"] == {
        "bad_type": 2, "duplicate_id_conflict": 1, "empty_text": 2, "invalid_utf8": 1, "malformed_json": 1,
        "malformed_row": 1, "text_too_large": 1,
    }
    out = tmp_path / "out" / "ingest"
    docs = pq.read_table(out / "documents").to_pylist()
    assert sorted(d["source_id"] for d in docs) == ["1", "6"]
    assert any("周杰伦" in d["text"] for d in docs)  # mixed script kept intact
    q = pq.read_table(out / "_quarantine").to_pylist()
    assert len(q) == sum(m["quarantined"].values())
    by_reason = {r["reason"]: r for r in q}
    big = by_reason["text_too_large"]
    assert (big["row"], big["field"], big["payload_truncated"]) == (5, "text", True)
    assert big["payload_bytes"] > 50 * 1024 * 1024 and len(big["payload"]) == 1024 * 1024
    assert by_reason["invalid_utf8"]["payload"] == b'{"id": "4", "text": "caf\xe9 au lait"}'
    assert {(r["row"], r["field"]) for r in q if r["reason"] == "bad_type"} == {(3, "year"), (4, "tempo_bpm")}
    conflict = by_reason["duplicate_id_conflict"]
    assert "differing fields: text" in conflict["message"] and b"a different text" in conflict["payload"]
    # duplicate messages name the user's file and line, of the losing row and of the kept one
    docs_file = str(tmp_path / "in" / "docs.jsonl")
    assert (conflict["file"], conflict["row"]) == (docs_file, 9) and f"kept the row at {docs_file} line 7" in conflict["message"]
    excl = pq.read_table(out / "_exclusions").to_pylist()
    assert [(e["reason"], e["dataset"]) for e in excl] == [("duplicate_row", "documents")]
    assert excl[0]["detail"] == f"{docs_file} line 8 repeats it; kept the row at {docs_file} line 1"
    assert validate_parquet(out / "documents", get_schema("documents")) == []
    assert validate_parquet(out / "_quarantine", get_schema("quarantine")) == []
    card = (out / "documents" / "_README.md").read_text()
    assert "- Rows: 2" in card and "| `bad` | 2 |" in card
    qcard = (out / "_quarantine" / "_README.md").read_text()
    assert qcard.startswith("# Dataset `quarantine`") and f"- Rows: {len(q)}" in qcard


def test_missing_input_path_is_a_clear_error(tmp_path):
    cfg = _config(tmp_path / "out", [{"name": "x", "dataset": "documents", "path": str(tmp_path / "nope.jsonl")}])
    # found before any stage runs (nothing is written), naming the source and the path
    with pytest.raises(UserError, match=r"ingest\.sources\[0\] \(x\): path .*nope\.jsonl does not exist"):
        run_corpus(cfg, engine=LocalEngine(), stages=("ingest",))
    assert not (tmp_path / "out").exists()


def test_corrupt_parquet_fails_or_is_quarantined_by_policy(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    (d / "a.parquet").write_bytes(b"PAR1garbagegarbage")
    pq.write_table(pa.table({"source_id": ["u1"], "age": [31]}), d / "b.parquet")
    src = {"name": "x", "dataset": "user_profiles", "path": str(d)}
    with pytest.raises(InputError, match=r"a\.parquet: not a readable Parquet file"):
        run_corpus(_config(tmp_path / "out", [src]), engine=LocalEngine(), stages=("ingest",))
    report = run_corpus(_config(tmp_path / "out2", [{**src, "on_bad_file": "quarantine"}]), engine=LocalEngine(), stages=("ingest",))
    m = report.results[-1].manifest
    assert (m["rows_in"], m["rows_out"], m["quarantined"]) == (2, 1, {"unreadable_file": 1})
    (q,) = pq.read_table(tmp_path / "out2" / "ingest" / "_quarantine").to_pylist()
    assert q["file"].endswith("a.parquet") and q["row"] is None


def test_schema_version_mismatch_in_input_is_refused(tmp_path):
    spec = get_schema("artists")
    table = pa.Table.from_pylist(
        [{"artist_id": "x", "source": "old", "source_id": "1", "name": "Queen"}], schema=spec.arrow_schema()
    )
    path = tmp_path / "artists.parquet"
    pq.write_table(table.replace_schema_metadata({META_NAME: b"artists", META_VERSION: b"2.1.0"}), path)
    cfg = _config(tmp_path / "out", [{"name": "old", "dataset": "artists", "path": str(path)}])
    with pytest.raises(SchemaVersionError, match="schema version 2.1.0"):
        run_corpus(cfg, engine=LocalEngine(), stages=("ingest",))
    # the same file at a compatible version re-ingests to the same ids
    pq.write_table(table, path)
    run_corpus(cfg, engine=LocalEngine(), stages=("ingest",))
    (row,) = pq.read_table(tmp_path / "out" / "ingest" / "artists").to_pylist()
    from corpus.ingest.ids import make_id

    assert row["artist_id"] == make_id("artists", "old", "1")


def _jsonl_sources(d: Path, n_files: int = 4, rows: int = 300) -> list[dict]:
    d.mkdir(parents=True, exist_ok=True)
    for k in range(n_files):
        with open(d / f"part-{k}.jsonl", "w") as f:
            for i in range(rows):
                f.write(json.dumps({"id": f"{k}-{i}", "text": f"document {k}/{i} " + "la " * (i % 50)}) + "\n")
    return [{"name": "web", "dataset": "documents", "path": str(d)}]


def test_rerun_is_a_noop_and_a_killed_run_resumes(tmp_path, monkeypatch):
    sources = _jsonl_sources(tmp_path / "in")
    cfg = _config(tmp_path / "out", sources, split_bytes=8000)
    real = op_module.ingest_unit
    calls: list[int] = []

    def flaky(unit, task, *a, **k):
        calls.append(task)
        if task == 5 and calls.count(5) == 1:
            raise KeyboardInterrupt("simulated kill")  # tasks run in order: 0-4 are finished
        return real(unit, task, *a, **k)

    monkeypatch.setattr("jobs.stages.ingest.ingest_unit", flaky)
    with pytest.raises(KeyboardInterrupt):
        run_corpus(cfg, engine=LocalEngine(), stages=("ingest",))
    assert not (tmp_path / "out" / "ingest").exists()  # nothing half-committed
    (work,) = (tmp_path / "out").glob("ingest.work-*")
    done_before = {p.name: p.stat().st_mtime_ns for p in (work / "documents").glob("part-*.parquet")}
    assert sorted(done_before) == [f"part-{i:05d}.parquet" for i in range(5)]
    report = run_corpus(cfg, engine=LocalEngine(), stages=("ingest",))
    assert report.results[-1].status == "ran"
    final = tmp_path / "out" / "ingest" / "documents"
    # finished tasks were not redone: their parts are the very files written before the kill
    assert {n: (final / n).stat().st_mtime_ns for n in done_before} == done_before
    clean = run_corpus(_config(tmp_path / "clean", sources, split_bytes=8000), engine=LocalEngine(), stages=("ingest",))
    assert report.results[-1].manifest["outputs"] == clean.results[-1].manifest["outputs"]
    again = run_corpus(cfg, engine=LocalEngine(), stages=("ingest",))
    assert again.results[-1].status == "skipped"


def test_outputs_identical_across_engines_and_worker_counts(tmp_path):
    sources = _jsonl_sources(tmp_path / "in") + _bad_inputs(tmp_path / "bad")[1:]
    inline = run_corpus(_config(tmp_path / "a", sources, split_bytes=8000), engine=LocalEngine(), stages=("ingest",))
    dt = run_corpus(
        _config(tmp_path / "b", sources, split_bytes=8000),
        engine=DatatroveEngine(workers=2, progress=False),
        stages=("ingest",),
    )
    assert inline.results[-1].manifest["outputs"] == dt.results[-1].manifest["outputs"]
    assert dt.results[-1].manifest["engine"] == "datatrove-local"


@pytest.mark.slow
def test_spark_engine_gives_the_same_outputs(tmp_path, spark):
    from jobs.engines import SparkEngine

    # tiny splits make many tasks; the 50 MB document would make thousands (Spark task overhead)
    sources = _jsonl_sources(tmp_path / "in") + _bad_inputs(tmp_path / "bad", giant=False)
    local = run_corpus(_config(tmp_path / "a", sources, split_bytes=8000), engine=LocalEngine(), stages=("ingest",))
    sp = run_corpus(_config(tmp_path / "b", sources, split_bytes=8000), engine=SparkEngine(spark), stages=("ingest",))
    assert local.results[-1].manifest["outputs"] == sp.results[-1].manifest["outputs"]
    # and the outputs read back through DuckDB and Spark with the declared types
    docs = tmp_path / "b" / "ingest" / "documents"
    n = duckdb.sql(f"select count(*) from read_parquet('{docs}/part-*.parquet')").fetchall()[0][0]
    sdf = spark.read.parquet(str(docs))
    assert sdf.count() == n == local.results[-1].manifest["datasets"]["documents"]
    assert dict(sdf.dtypes)["created_at"] == "timestamp"


def test_duplicates_in_later_splits_name_the_files_lines(tmp_path):
    """A JSONL file cut into byte splits numbers its rows per split; messages still give file lines."""
    d = tmp_path / "in"
    d.mkdir()
    lines = [f'{{"id": "{i}", "text": "document number {i} about a song"}}' for i in range(1, 31)]
    lines[24] = lines[2]  # line 25 repeats line 3, several splits later
    (d / "docs.jsonl").write_text("\n".join(lines) + "\n")
    cfg = _config(tmp_path / "out", [{"name": "x", "dataset": "documents", "path": str(d / "docs.jsonl")}],
                  split_bytes=256)  # fmt: skip
    report = run_corpus(cfg, engine=LocalEngine(), stages=("ingest",))
    assert len(report.results[-1].manifest["inputs"]) == 1 and report.results[-1].manifest["dropped"] == {"duplicate_row": 1}
    excl = pq.read_table(tmp_path / "out" / "ingest" / "_exclusions").to_pylist()
    f = str(d / "docs.jsonl")
    assert excl[0]["detail"] == f"{f} line 25 repeats it; kept the row at {f} line 3"
    # the provenance parts stay aligned with the data parts after the duplicate is removed
    for part in sorted((tmp_path / "out" / "ingest" / "documents").glob("part-*.parquet")):
        prov = tmp_path / "out" / "ingest" / "_provenance" / "documents" / part.name
        assert pq.read_metadata(prov).num_rows == pq.read_metadata(part).num_rows
