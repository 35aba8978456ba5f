"""The dedup stage: demo reposts clustered, select keeps one per cluster, engines agree, indexes, bad input."""

from __future__ import annotations

import json
import shutil

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus.dedup import cluster as C
from jobs.config import load_config
from jobs.engines import DatatroveEngine, LocalEngine
from jobs.run import DOCUMENT_STAGES, run_corpus
from jobs.stage import run_stage
from jobs.stages.dedup import INDEX_DIR, DedupConfig, DedupStage
from schemas import get_schema, validate_parquet


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("dedup") / "out"
    cfg = load_config(None, {"out": str(out), "sample.preset": "tiny"})
    report = run_corpus(cfg, stages=DOCUMENT_STAGES, engine=LocalEngine(progress=False))
    return out, {r.stage: r for r in report.results}, cfg


def _outputs(root, stage="dedup"):
    return {
        str(f.relative_to(root / stage)): f.read_bytes() for f in sorted((root / stage).rglob("*.parquet"))
    }


def test_attributes_align_with_refine_and_follow_the_contract(demo):
    out, results, _ = demo
    m = results["dedup"].manifest
    assert m["rows_in"] == m["rows_out"] == results["refine"].manifest["rows_out"]
    for ds in ("documents", "comments"):
        assert validate_parquet(out / "dedup" / ds, get_schema("dedup_attributes")) == []
        for part in sorted((out / "refine" / ds).glob("part-*.parquet")):
            a = pq.read_table(out / "dedup" / ds / part.name, columns=["doc_id"]).column("doc_id").to_pylist()
            assert a == pq.read_table(part, columns=["doc_id"]).column("doc_id").to_pylist()
    assert validate_parquet(out / "dedup" / INDEX_DIR, get_schema("dedup_index")) == []
    assert (out / "dedup" / "_report.md").read_text().startswith("# Dedup report")


def test_planted_reposts_cluster_with_their_original(demo):
    out, _, _ = demo
    q = f"""select t.cluster_id, t.edit, t.jaccard, a.dup_cluster_id, a.dup_status
            from '{out}/sample/_truth/duplicates.parquet' t
            join '{out}/ingest/documents/*.parquet' d on d.source_id = t.source_id
            join '{out}/dedup/documents/*.parquet' a on a.doc_id = d.doc_id"""
    rows = duckdb.sql(q).fetchall()
    assert rows
    by_truth: dict[str, set[str]] = {}
    for truth_cluster, edit, jac, cluster, _ in rows:
        if edit == "original" or jac >= 0.9:  # clear duplicates must all land in their original's cluster
            by_truth.setdefault(truth_cluster, set()).add(cluster)
    split = {k: v for k, v in by_truth.items() if len(v) > 1}
    assert not split, list(split.items())[:3]
    exact = [r for r in rows if r[1] == "exact"]
    assert exact and all(r[4] in (C.EXACT_DUP, C.NEAR_DUP, C.KEPT) for r in exact)  # relative to the keeper


def test_select_keeps_exactly_one_document_per_cluster(demo):
    out, results, _ = demo
    sel = results["select"].manifest
    dedup = json.loads((out / "dedup" / "_report.json").read_text())
    dropped_dups = sum(v for k, v in dedup["statuses"].items() if k in C.DROP_STATUSES)
    assert sum(sel["dropped"].get(k, 0) for k in C.DROP_STATUSES) == dropped_dups > 0
    kept = duckdb.sql(f"""select a.dup_cluster_id, count(*) from '{out}/select/training_documents/*.parquet' t
                          join read_parquet(['{out}/dedup/documents/*.parquet', '{out}/dedup/comments/*.parquet']) a
                          on a.doc_id = t.doc_id
                          group by 1 having count(*) > 1""").fetchall()
    assert kept == []
    excl = pq.read_table(out / "select" / "_exclusions").to_pylist()
    dup_excl = [e for e in excl if e["reason"] in C.DROP_STATUSES]
    assert len(dup_excl) == dropped_dups and all(
        "cluster=" in e["detail"] and "kept=" in e["detail"] for e in dup_excl
    )


def test_workers_and_spark_give_identical_outputs(demo, tmp_path, spark):
    from jobs.engines import SparkEngine

    out, _, cfg = demo
    for name, engine in (("dt", DatatroveEngine(workers=2, progress=False)), ("spark", SparkEngine(spark))):
        other = tmp_path / name
        shutil.copytree(out / "refine", other / "refine")
        stage = DedupStage(cfg.dedup, other / "refine")
        run_stage(stage, other, engine)
        assert _outputs(other) == _outputs(out), name
        assert (other / "dedup" / "_report.json").read_bytes() == (
            out / "dedup" / "_report.json"
        ).read_bytes()


def _scored(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    t = pa.Table.from_pylist(
        [{"doc_id": i, "source": "t", "dataset": "documents", "text": x, "domain_score": s} for i, x, s in rows],
        schema=pa.schema([("doc_id", pa.string()), ("source", pa.string()), ("dataset", pa.string()),
                          ("text", pa.string()), ("domain_score", pa.float64())]),
    )  # fmt: skip
    pq.write_table(t, path)


def _attrs(root):
    return {
        r["doc_id"] + f"#{i}": r
        for i, r in enumerate(pq.read_table(root / "dedup" / "documents").to_pylist())
    }


def test_previous_index_drops_content_already_in_the_corpus(shared_data, tmp_path, spark):
    from jobs.engines import SparkEngine

    texts = [
        json.loads(line)["text"]
        for line in (shared_data / "web_crawl_samples" / "c4_en_validation_2k.jsonl").open()
    ]
    texts = [t for t in texts if len(t.split()) > 60][:40]
    v1 = tmp_path / "v1"
    _scored(
        v1 / "refine" / "documents" / "part-00000.parquet",
        [(f"a{i:03d}", t, 0.9) for i, t in enumerate(texts[:30])],
    )
    run_stage(DedupStage(DedupConfig(datasets=("documents",)), v1 / "refine"), v1, LocalEngine())
    # v2: ten old documents reposted with a footer, ten new ones
    rows = [(f"b{i:03d}", t + "\nShared from my feed.", 0.9) for i, t in enumerate(texts[:10])]
    rows += [(f"c{i:03d}", t, 0.9) for i, t in enumerate(texts[30:])]
    cfg = DedupConfig(datasets=("documents",), previous_index=str(v1 / "dedup" / INDEX_DIR))
    results = {}
    for name, engine in (("local", LocalEngine()), ("spark", SparkEngine(spark))):
        v2 = tmp_path / f"v2-{name}"
        _scored(v2 / "refine" / "documents" / "part-00000.parquet", rows)
        run_stage(DedupStage(cfg, v2 / "refine"), v2, engine)
        results[name] = v2
    a = pq.read_table(results["local"] / "dedup" / "documents").to_pylist()
    status = {r["doc_id"]: r["dup_status"] for r in a}
    assert all(status[f"b{i:03d}"] == C.PREVIOUS for i in range(10))
    assert all(status[f"c{i:03d}"] == C.UNIQUE for i in range(10))
    assert _outputs(results["local"]) == _outputs(results["spark"])
    # the v2 index holds v1's 30 documents and the 10 new ones
    idx = pq.read_table(results["local"] / "dedup" / INDEX_DIR)
    assert idx.num_rows == 40 and len(set(idx.column("node_id").to_pylist())) == 40
    bad = DedupConfig(datasets=("documents",), previous_index=str(v1 / "dedup" / INDEX_DIR), num_perm=64)
    with pytest.raises(ValueError, match="other MinHash settings"):
        run_stage(DedupStage(bad, results["local"] / "refine"), tmp_path / "v3", LocalEngine())
    with pytest.raises(FileNotFoundError, match="not a dedup index"):
        missing = DedupConfig(datasets=("documents",), previous_index=str(tmp_path / "nowhere"))
        run_stage(DedupStage(missing, results["local"] / "refine"), tmp_path / "v4", LocalEngine())


def test_bad_input_is_accounted_for(tmp_path, spark):
    from jobs.engines import SparkEngine

    words = " ".join(f"w{i % 7000} x{i % 13}" for i in range(300_000))  # one giant document (~3.4 MB)
    rows = [
        ("e1", "", 0.5),
        ("e2", "   \n ", 0.5),  # empty and whitespace-only
        ("s1", "too short", 0.5),
        ("s2", "Too short!", 0.4),  # shorter than the n-gram size: exact copies
        ("d1", "the same id with one text " * 5, 0.5),
        ("d1", "the same id with another text " * 5, 0.5),
        ("g1", words, 0.5),
        ("g2", words + " end", 0.6),
        ("n1", float("nan"), 0.5),
    ]
    rows[-1] = ("n1", "score is missing here but the text is fine and long enough to shingle", float("nan"))
    for name, engine in (("local", LocalEngine()), ("spark", SparkEngine(spark))):
        root = tmp_path / name
        _scored(root / "refine" / "documents" / "part-00000.parquet", rows[:5])
        _scored(root / "refine" / "documents" / "part-00001.parquet", rows[5:])
        res = run_stage(
            DedupStage(DedupConfig(datasets=("documents",)), root / "refine"), root, engine
        )
        assert res.manifest["rows_in"] == res.manifest["rows_out"] == len(rows)
    a = list(_attrs(tmp_path / "local").values())
    st = [(r["doc_id"], r["dup_status"]) for r in a]
    assert st[0] == ("e1", C.NO_TOKENS) and st[1] == ("e2", C.NO_TOKENS)
    assert {st[2][1], st[3][1]} == {C.KEPT, C.EXACT_DUP}  # "s1" scores higher, so it is kept
    assert st[2][1] == C.KEPT
    assert st[4] == ("d1", C.UNIQUE) and st[5] == ("d1", C.DUP_ID) and a[5]["dup_of"] == "d1"
    assert {st[6][1], st[7][1]} == {C.KEPT, C.NEAR_DUP} and a[6]["dup_of"] == "g2"  # higher score wins
    assert st[8] == ("n1", C.UNIQUE)
    assert _outputs(tmp_path / "local") == _outputs(tmp_path / "spark")
    report = json.loads((tmp_path / "local" / "dedup" / "_report.json").read_text())
    assert report["tasks"]["no_tokens"] == 2 and report["tasks"]["shorter_than_ngram"] == 2
    assert np.isfinite(report["largest_cluster"])


def test_documents_with_evaluation_items_are_flagged_and_dropped(shared_data, tmp_path):
    from jobs.stages.dedup import DecontamSettings, EvalFile
    from jobs.stages.select import SelectConfig, decide

    item = json.loads((shared_data / "opentdb_music" / "opentdb_music.jsonl").open().readline())
    c4 = [
        json.loads(line)["text"]
        for line in (shared_data / "web_crawl_samples" / "c4_en_validation_2k.jsonl").open()
    ]
    leaked = (
        c4[0] + "\n\nQUIZ TIME: " + item["question"].upper() + " -- " + item["correct_answer"] + "!\n" + c4[1]
    )
    _scored(tmp_path / "refine" / "documents" / "part-00000.parquet",
            [("x1", leaked, 0.9), ("x2", c4[2], 0.9), ("x3", c4[3], 0.9)])  # fmt: skip
    files = (EvalFile(path="{shared}/opentdb_music/opentdb_music.jsonl", eval_set="opentdb_music",
                      text_field=("question", "correct_answer"), part_fields=("question",)),
             EvalFile(path=str(tmp_path / "missing.jsonl"), eval_set="gone", optional=True))  # fmt: skip
    cfg = DedupConfig(datasets=("documents",), decontam=DecontamSettings(files=files, providers=()))
    run_stage(DedupStage(cfg, tmp_path / "refine"), tmp_path, LocalEngine())
    a = {r["doc_id"]: r for r in pq.read_table(tmp_path / "dedup" / "documents").to_pylist()}
    assert a["x1"]["eval_hits"] == ["opentdb_music/1"] and a["x2"]["eval_hits"] == a["x3"]["eval_hits"] == []
    report = json.loads((tmp_path / "dedup" / "_report.json").read_text())["decontamination"]
    assert report["report"]["documents_contaminated"] == 1 and report["missing_files"] == [
        str(tmp_path / "missing.jsonl")
    ]
    row = {
        "text": leaked,
        "lang": "en",
        "lang_score": 1.0,
        "dataset": "documents",
        "quality": [],
        "domain_score": 0.9,
    }
    assert decide(row, 1.0, SelectConfig(), a["x1"])[0] == "eval_contamination"
    assert decide(row, 1.0, SelectConfig(drop_contaminated=False), a["x1"])[0] is None
    with pytest.raises(ValueError, match="no provider 'nope' installed.*music_benchmarks"):
        unknown = DedupConfig(decontam=DecontamSettings(providers=("nope",)))
        run_stage(DedupStage(unknown, tmp_path / "refine"), tmp_path / "o3", LocalEngine())
    with pytest.raises(ValueError, match="cannot load 'eval.benchmarks:nope'"):
        unknown = DedupConfig(decontam=DecontamSettings(providers=("eval.benchmarks:nope",)))
        run_stage(DedupStage(unknown, tmp_path / "refine"), tmp_path / "o4", LocalEngine())
    from jobs.stages.dedup import decontam_provider

    assert decontam_provider("eval.benchmarks:decontam_items") is decontam_provider("music_benchmarks")
    with pytest.raises(FileNotFoundError, match="optional: true"):
        bad = DedupConfig(
            decontam=DecontamSettings(files=(EvalFile(path=str(tmp_path / "no.jsonl"), eval_set="x"),))
        )
        run_stage(DedupStage(bad, tmp_path / "refine"), tmp_path / "o2", LocalEngine())
