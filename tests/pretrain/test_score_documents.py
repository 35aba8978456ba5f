"""Data selection by reference-model scores: `pretrain.score.score_documents` writes `rm_scores` aligned with the
refine parts (mean per-token losses equal a plain transformers computation), and `select` with
`rm_max_ratio` drops the documents above the ratio under their own reason, recorded in its exclusions."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest
import torch

from jobs.engines import InlineEngine
from jobs.outputs import write_rows
from jobs.stage import run_stage
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
    res = run_stage(SelectStage(SelectConfig(rm_scores=str(out), rm_max_ratio=cut, quality={}), refine),
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
    # without a ratio bound the scores are read but drop nothing; a missing scores folder names the command
    res2 = run_stage(SelectStage(SelectConfig(rm_scores=str(out), quality={}), refine), tmp_path / "sel2", InlineEngine())
    assert "rm_ratio_high" not in res2.manifest["dropped"]
    with pytest.raises(FileNotFoundError, match="pretrain.score --documents"):
        run_stage(SelectStage(SelectConfig(rm_scores=str(tmp_path / "none"), rm_max_ratio=1.0), refine),
                  tmp_path / "sel3", InlineEngine())  # fmt: skip
