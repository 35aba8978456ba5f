"""`make corpus` end to end: outputs readable by pyarrow, DuckDB and Spark with the declared schemas,
byte-identical across runs, and the same after a kill and a rerun."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pytest

from jobs.config import load_config
from jobs.engines import DatatroveEngine
from jobs.run import DOCUMENT_STAGES, STAGES, run_corpus
from schemas import RAW_DATASETS, get_schema, validate_parquet

ROOT = Path(__file__).resolve().parents[2]


def _outputs(out: Path) -> dict[str, str]:
    """Checksums of every data file and card (manifests hold timings and are compared separately)."""
    import xxhash

    files = {}
    for f in sorted(out.rglob("*")):
        rel = f.relative_to(out)
        if f.is_file() and rel.parts[0] in ("sample", "ingest", "refine", "dedup", "select") and f.name != "_manifest.json":
            files[str(rel)] = xxhash.xxh3_128_hexdigest(f.read_bytes())
    return files


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus") / "out"
    cfg = load_config(None, {"out": str(out), "sample.preset": "tiny"})
    report = run_corpus(cfg, engine=DatatroveEngine(workers=2, progress=False))
    return out, report


def test_demo_run_accounts_for_every_row(demo_run):
    out, report = demo_run
    assert [r.stage for r in report.results] == [s for s in STAGES if s not in ("rm_score", "uq2i")]  # off by default
    m = report.results[1].manifest
    assert m["rows_in"] == m["rows_out"] + sum(m["dropped"].values()) + sum(m["quarantined"].values())
    sample = report.results[0].manifest
    assert m["rows_in"] == sample["rows_out"]  # every generated row reached ingest
    assert m["quarantined"] == {} and m["dropped"] == {}  # the demo sample is clean
    assert set(m["datasets"]) == {
        "albums", "artists", "behavior_events", "chart_entries", "comments", "documents", "item_relations",
        "playlists", "songs", "user_profiles",
    }
    assert "Generated data" in (out / "ingest" / "documents" / "_README.md").read_text()
    assert "GENERATED" in (out / "sample" / "README.md").read_text().upper()


def test_outputs_match_contract_in_pyarrow_and_duckdb(demo_run):
    out, report = demo_run
    counts = report.results[1].manifest["datasets"]
    for name, n in counts.items():
        spec = get_schema(name)
        path = out / "ingest" / name
        assert validate_parquet(path, spec) == [], name
        table = ds.dataset(path).to_table()  # the folder reads as a dataset (cards are skipped)
        assert table.schema.remove_metadata() == spec.arrow_schema().remove_metadata()
        assert table.num_rows == n
        assert duckdb.sql(f"select count(*) from read_parquet('{path}/*.parquet')").fetchall()[0][0] == n


def test_foreign_keys_resolve_after_ingest(demo_run):
    out, _ = demo_run
    q = lambda sql: duckdb.sql(sql.replace("@", str(out / "ingest"))).fetchall()[0][0]  # noqa: E731
    assert q("select count(*) from '@/behavior_events/*.parquet' e anti join '@/user_profiles/*.parquet' u "
             "on e.user_id = u.user_id") == 0
    assert q("select count(*) from '@/behavior_events/*.parquet' e anti join '@/songs/*.parquet' s "
             "on e.item_id = s.song_id") == 0
    assert q("select count(*) from (select unnest(song_ids) as sid from '@/playlists/*.parquet') p "
             "anti join '@/songs/*.parquet' s on p.sid = s.song_id") == 0


@pytest.mark.slow
def test_outputs_read_in_spark_with_declared_types(demo_run, spark):
    out, report = demo_run
    expected = {"string": "string", "int32": "int", "int64": "bigint", "int8": "tinyint", "double": "double",
                "bool": "boolean", "timestamp[ms, tz=UTC]": "timestamp", "list<item: string>": "array<string>",
                "map<string, string>": "map<string,string>"}
    for name, n in report.results[1].manifest["datasets"].items():
        df = spark.read.parquet(str(out / "ingest" / name))
        assert df.count() == n
        types = dict(df.dtypes)
        for col in get_schema(name).columns:
            assert types[col.name] == expected[str(col.type)], (name, col.name)


def _run_cli(out: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "jobs", "run", "--out", str(out), "--quiet", *extra],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )


@pytest.mark.slow
def test_cli_run_is_deterministic_skips_when_done_and_resumes_after_kill(tmp_path):
    a, b, k = tmp_path / "a", tmp_path / "b", tmp_path / "k"
    DOC = ("--stages", ",".join(DOCUMENT_STAGES))  # the curriculum stages have their own determinism test
    for out in (a, b):
        p = _run_cli(out, "--engine", "inline", *DOC)
        assert p.wait(timeout=300) == 0, p.stdout.read().decode()
    assert _outputs(a) == _outputs(b) and len(_outputs(a)) > 20
    # rerun: every stage is skipped and nothing changes
    p = _run_cli(a, "--engine", "inline", *DOC)
    text = p.communicate(timeout=300)[0].decode()
    assert p.returncode == 0 and text.count("skipped") == 5, text
    # kill -9 in the middle of ingest, then rerun: same outputs as a clean run
    p = _run_cli(k, "--engine", "inline", *DOC)
    deadline = time.time() + 120
    while not list(k.glob("ingest.work-*/_tasks/00003.json")):
        assert p.poll() is None and time.time() < deadline, "run ended before it could be killed"
        time.sleep(0.05)
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    assert not (k / "ingest" / "_manifest.json").exists()
    p = _run_cli(k, "--engine", "inline", *DOC)
    text = p.communicate(timeout=300)[0].decode()
    assert p.returncode == 0, text
    assert _outputs(k) == _outputs(a)


def test_input_directory_of_user_data(tmp_path):
    """`make corpus INPUT=dir`: a user's own files laid out by dataset name."""
    d = tmp_path / "my_data"
    (d / "songs").mkdir(parents=True)
    (d / "songs" / "a.csv").write_text('id,title,artists\n1,Intro,"[""xx""]"\n2,Outro,yy\n')
    (d / "documents.jsonl").write_text('{"text": "a review of Intro"}\n')
    p = _run_cli(tmp_path / "out", "--input", str(d), "--engine", "inline")
    text = p.communicate(timeout=300)[0].decode()
    assert p.returncode == 0, text
    assert "datasets: documents=1, songs=2" in text
    assert set(RAW_DATASETS) >= {"songs", "documents"}
