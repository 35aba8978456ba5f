"""The rm_score stage inside a corpus run: preflight requires it before select, it runs between dedup and select
over the refined documents, and select drops what the ratio policy says, with every row accounted for."""

from __future__ import annotations

import pyarrow.dataset as pads
import pytest

from jobs.config import load_config
from jobs.engines import LocalEngine
from jobs.errors import UserError
from jobs.run import DOCUMENT_STAGES, run_corpus
from tests.evaluation.tiny import tiny_qwen3


def test_rm_score_in_a_corpus_run(tmp_path):
    ref, base = tiny_qwen3(tmp_path / "ref", 32, 1, seed=1), tiny_qwen3(tmp_path / "base", 32, 1, seed=2)
    out = tmp_path / "out"
    rm = {"enabled": True, "reference": str(ref), "base": str(base), "max_tokens": 16}
    cfg = load_config(None, {"out": str(out), "sample.preset": "tiny", "rm_score": rm,
                             "select.rm": {"max_ratio": 1.0}})
    with pytest.raises(UserError, match="stage select reads the output of refine, dedup, rm_score,"):
        run_corpus(cfg, stages=("select",))
    report = run_corpus(cfg, stages=DOCUMENT_STAGES, engine=LocalEngine(progress=False))
    res = {r.stage: r for r in report.results}
    assert list(res) == ["sample", "ingest", "refine", "dedup", "rm_score", "select"]
    m = res["rm_score"].manifest
    refined = pads.dataset(out / "refine" / "documents").to_table(columns=["doc_id"]).column("doc_id").to_pylist()
    scores = pads.dataset(out / "rm_score" / "rm_scores" / "documents").to_table().to_pylist()
    assert m["rows_in"] == m["rows_out"] == len(scores) > 0 and [r["doc_id"] for r in scores] == refined
    ratio = {r["doc_id"]: r["loss_ratio"] for r in scores}
    sel = res["select"].manifest
    assert sel["rows_in"] == sel["rows_out"] + sum(sel["dropped"].values()) + sum(sel["quarantined"].values())
    excl = pads.dataset(out / "select" / "_exclusions").to_table().to_pylist()
    high = [e for e in excl if e["reason"] == "rm_ratio_high"]
    assert high and sel["dropped"]["rm_ratio_high"] == len(high)
    assert all(ratio[e["id"]] > 1.0 for e in high)
    kept = pads.dataset(out / "select" / "training_documents").to_table().to_pylist()
    assert all(ratio[d["doc_id"]] is None or ratio[d["doc_id"]] <= 1.0 for d in kept if d["doc_id"] in ratio)
