"""Data selection by reference-model scores: `pretrain.score.score_documents` writes `rm_scores` aligned with the
refine parts (mean per-token losses equal a plain transformers computation), the `rm_score` corpus stage writes the
same rows with row accounting, and `select.rm` drops the documents above the ratio under their own reason (recorded
in its exclusions) and scales the others' weights by the policy's factor."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest
import torch

from corpus.classify.weighting import RatioPolicy, ratio_to_factor
from jobs.engines import InlineEngine
from jobs.outputs import write_rows
from jobs.stage import run_stage
from jobs.stages.rm_score import RmScoreConfig, RmScoreStage
from jobs.stages.select import SelectConfig, SelectStage
from pretrain.score import score_documents
from schemas import get_schema, validate_parquet
from tests.evaluation.tiny import tiny_qwen3

TEXTS = [
    "Blink-182 released Enema of the State in 1999; All the Small Things reached the top ten.",
    "The band toured Europe in the spring, playing twenty dates with two new songs in the set.",
    "asdf qwer zxcv uiop hjkl asdf qwer zxcv uiop hjkl asdf qwer zxcv uiop hjkl",
    "The orchestra opened its season with Mahler's fifth symphony under its new conductor.",
    "Click here click here click here to win a free phone now now now",
    "",
]


def refine_part(root: Path) -> Path:
    rows = [{"doc_id": f"d{i}", "source": "t", "dataset": "documents", "text": t, "lang": "en", "lang_score": 0.99,
             "quality": [], "domain_score": 0.95, "pii_spans": [], "dup_cluster_id": None} for i, t in enumerate(TEXTS)]
    write_rows(root / "documents" / "part-00000.parquet", rows, "scored_documents")
    return root


def test_rm_scores_and_select_by_ratio(tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    refine = refine_part(tmp_path / "refine")
    ref, base = tiny_qwen3(tmp_path / "ref", 32, 1, seed=1), tiny_qwen3(tmp_path / "base", 32, 1, seed=2)
    out = tmp_path / "rm_scores"
    stats = score_documents(str(ref), refine, out, base=str(base), max_tokens=16)
    assert stats["parts"] == 1 and stats["documents"] == len(TEXTS)
    assert validate_parquet(out / "documents", get_schema("rm_scores")) == []
    rows = pq.read_table(out / "documents" / "part-00000.parquet").to_pylist()
    assert [r["doc_id"] for r in rows] == [f"d{i}" for i in range(len(TEXTS))]
    assert rows[-1]["n_tokens"] == 0 and rows[-1]["ref_loss"] is None and rows[-1]["loss_ratio"] is None
    # the first document, by hand: an EOS in front, the first 15 tokens, mean cross entropy
    tok, model = AutoTokenizer.from_pretrained(ref), AutoModelForCausalLM.from_pretrained(ref).eval()
    ids = tok(TEXTS[0], add_special_tokens=False)["input_ids"][:15]
    x = torch.tensor([[tok.eos_token_id, *ids]])
    with torch.no_grad():
        want = torch.nn.functional.cross_entropy(model(input_ids=x).logits[0, :-1], x[0, 1:]).item()
    assert rows[0]["n_tokens"] == 15 and rows[0]["ref_loss"] == pytest.approx(want, rel=1e-5)
    assert rows[0]["loss_ratio"] == pytest.approx(rows[0]["ref_loss"] / rows[0]["base_loss"])
    assert score_documents(str(ref), refine, out, base=str(base), max_tokens=16)["skipped"] == 1  # rerun: no-op

    ratios = sorted(r["loss_ratio"] for r in rows if r["loss_ratio"] is not None)
    cut = ratios[len(ratios) // 2]
    res = run_stage(SelectStage(SelectConfig(rm_scores=str(out), rm=RatioPolicy(max_ratio=cut), quality={}), refine),
                    tmp_path / "sel", InlineEngine())  # fmt: skip
    m = res.manifest
    high = {r["doc_id"] for r in rows if r["loss_ratio"] is not None and r["loss_ratio"] > cut}
    assert high and m["dropped"].get("rm_ratio_high") == len(high)
    assert m["rows_in"] == m["rows_out"] + sum(m["dropped"].values())
    excl = pads.dataset(res.out_dir / "_exclusions").to_table().to_pylist()
    assert {e["id"] for e in excl if e["reason"] == "rm_ratio_high"} == high
    assert all("reference/base loss ratio" in e["detail"] for e in excl if e["reason"] == "rm_ratio_high")
    kept = pads.dataset(res.out_dir / "training_documents").to_table().to_pylist()
    assert kept and all("rm_loss_ratio" in json.loads(d["metadata"]) for d in kept if d["text"])
    assert not high & {d["doc_id"] for d in kept}
    assert all(d["weight"] == pytest.approx(1.0) for d in kept)  # hard policy: kept documents keep their weight
    # a linear policy above every ratio drops nothing and scales each weight by its factor
    lin = RatioPolicy(kind="linear", full_ratio=ratios[0], max_ratio=ratios[-1] + 1e-9, floor=0.2)
    res2 = run_stage(SelectStage(SelectConfig(rm_scores=str(out), rm=lin, quality={}), refine), tmp_path / "sel2",
                     InlineEngine())  # fmt: skip
    assert "rm_ratio_high" not in res2.manifest["dropped"]
    kept2 = {d["doc_id"]: d for d in pads.dataset(res2.out_dir / "training_documents").to_table().to_pylist()}
    for r in rows:
        if r["doc_id"] in kept2 and r["loss_ratio"] is not None:
            want = 0.2 + 0.8 * (lin.max_ratio - r["loss_ratio"]) / (lin.max_ratio - lin.full_ratio)
            assert kept2[r["doc_id"]]["weight"] == pytest.approx(min(1.0, want))
            assert json.loads(kept2[r["doc_id"]]["metadata"])["rm_factor"] == pytest.approx(min(1.0, want), abs=1e-6)
    assert min(d["weight"] for d in kept2.values()) == pytest.approx(0.2)
    with pytest.raises(FileNotFoundError, match="pretrain.score --documents"):
        run_stage(SelectStage(SelectConfig(rm_scores=str(tmp_path / "none")), refine),
                  tmp_path / "sel3", InlineEngine())  # fmt: skip


def test_ratio_policy_by_hand() -> None:
    r = [0.5, 0.8, 0.9, 1.0, 1.01, None, float("nan")]
    assert ratio_to_factor(r, RatioPolicy()).tolist() == [1, 1, 1, 1, 0, 1, 1]
    lin = RatioPolicy(kind="linear", full_ratio=0.8, max_ratio=1.0, floor=0.1, unscored=0.5)
    assert ratio_to_factor(r, lin).tolist() == pytest.approx([1, 1, 0.55, 0.1, 0, 0.5, 0.5])
    with pytest.raises(ValueError, match="full_ratio < max_ratio"):
        RatioPolicy(kind="linear", full_ratio=1.0, max_ratio=1.0)
    with pytest.raises(ValueError, match="hard or linear"):
        RatioPolicy(kind="soft")


def test_rm_score_stage(tmp_path: Path) -> None:
    """The corpus stage writes what the CLI writes, accounts for every row (unscored ones by reason), reruns as a
    no-op, reruns when the reference model changes, and feeds select through the run config."""
    from jobs.config import RunConfig
    from jobs.stages.select import SelectStage as Sel

    refine = refine_part(tmp_path / "refine")
    ref, base = tiny_qwen3(tmp_path / "ref", 32, 1, seed=1), tiny_qwen3(tmp_path / "base", 32, 1, seed=2)
    cli = tmp_path / "cli"
    score_documents(str(ref), refine, cli, base=str(base), max_tokens=16)
    cfg = RmScoreConfig(enabled=True, reference=str(ref), base=str(base), max_tokens=16)
    stage = RmScoreStage(cfg, refine)
    stage.setup()
    clone = pickle.loads(pickle.dumps(stage))  # to a worker process: the models stay behind and load there
    assert clone._scorer is None and clone.cfg == cfg
    res = run_stage(RmScoreStage(cfg, refine), tmp_path, InlineEngine())
    assert res.status == "ran"
    m = res.manifest
    assert m["rows_in"] == m["rows_out"] == len(TEXTS) and not m["dropped"] and not m["quarantined"]
    assert m["by_source"]["t"]["unscored"] == {"no_tokens": 1}
    got = pq.read_table(tmp_path / "rm_score" / "rm_scores" / "documents" / "part-00000.parquet").to_pylist()
    assert got == pq.read_table(cli / "documents" / "part-00000.parquet").to_pylist()
    assert run_stage(RmScoreStage(cfg, refine), tmp_path, InlineEngine()).status == "skipped"
    tiny_qwen3(tmp_path / "ref", 32, 1, seed=3)  # a retrained reference: the fingerprint changes
    assert run_stage(RmScoreStage(cfg, refine), tmp_path, InlineEngine()).status == "ran"

    run = RunConfig.model_validate({"out": str(tmp_path), "rm_score": cfg.model_dump(), "select": {"quality": {}}})
    assert "rm_score" in Sel.required(run)
    sel = Sel.from_run(run, tmp_path)
    assert sel.rm_part(sel.parts[0]) == tmp_path / "rm_score" / "rm_scores" / "documents" / "part-00000.parquet"
    with pytest.raises(ValueError, match="one source of scores"):
        Sel.from_run(RunConfig.model_validate({**run.model_dump(mode="json"), "select": {"rm_scores": str(cli)}}),
                     tmp_path)
    with pytest.raises(ValueError, match="needs rm_score.reference"):
        RmScoreConfig(enabled=True)
    with pytest.raises(ValueError, match="not a Hugging Face model directory"):
        RmScoreConfig(enabled=True, reference=str(tmp_path))
