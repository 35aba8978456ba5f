"""The shards stage on the tiny demo: every mix document decodes back from its (stage, source) prefix,
masks follow the no-loss spans, the blend files build megatron-core GPTDatasets, and engines agree."""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import pyarrow.dataset as pads
import pytest

from jobs.config import load_config
from jobs.engines import DatatroveEngine, LocalEngine
from jobs.run import run_corpus
from jobs.stage import run_stage
from jobs.stages.shards import SPLITS, ShardsConfig, ShardsStage, prefix_name, read_split_rules, split_hashes
from tokenizer.load import DOMAIN_SPECIAL_TOKENS, load_tokenizer
from tokenizer.shards import read_shard

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory, spark):
    out = tmp_path_factory.mktemp("shards") / "out"
    cfg = load_config(None, {"out": str(out), "sample.preset": "tiny", "shards.train_vocab_size": 2000})
    report = run_corpus(cfg, engine=LocalEngine(progress=False))
    return out, {r.stage: r for r in report.results}, cfg


def _mix_docs(out, shards_dir=None) -> dict[str, list[dict]]:
    """prefix -> its mix rows in the order the shards were written (part order, then row order), each row sent
    to train, valid or test by the split rule the shards folder recorded."""
    rows = pads.dataset(out / "mix" / "training_documents", format="parquet").to_table().to_pylist()
    rules = read_split_rules(shards_dir or out / "shards")
    codes = {}
    for key in {f"{r['stage']}\t{r['source']}" for r in rows}:
        mine = [r for r in rows if f"{r['stage']}\t{r['source']}" == key]
        codes.update(zip([r["doc_id"] for r in mine], rules[key].split_codes(split_hashes([r["doc_id"] for r in mine])).tolist(),
                         strict=True))  # fmt: skip
    by = defaultdict(list)
    for r in rows:
        by[prefix_name(r["stage"], r["source"], SPLITS[codes[r["doc_id"]]])].append(r)
    return by


def test_every_document_decodes_back_from_its_prefix(demo):
    out, results, _ = demo
    m = results["shards"].manifest
    assert m["rows_in"] == m["rows_out"] == results["mix"].manifest["datasets"]["training_documents"]
    tok = load_tokenizer(out / "shards" / "tokenizer", add_domain_tokens=False)
    assert all(t in tok.added_tokens or tok.tokenizer.convert_tokens_to_ids(t) is not None for t in DOMAIN_SPECIAL_TOKENS)
    total = 0
    by_prefix = _mix_docs(out)
    assert {p.split("/")[1] for p in by_prefix if p.count("/") == 2} == {"valid", "test"}  # the demo holds out both
    for prefix, docs in by_prefix.items():
        shard = read_shard(out / "shards" / prefix)
        assert len(shard) == len(docs)
        for doc, (ids, mask) in zip(docs, shard, strict=True):
            assert ids[-1] == tok.eod_id and len(mask) == len(ids) and mask[-1] == 1
            assert tok.tokenizer.decode(ids[:-1].tolist()) == doc["text"]
            # the no-loss spans become zeros: none without spans, some with them
            assert (mask == 0).any() == bool(doc["no_loss_spans"])
            total += len(ids)
    assert total == m["tokens"]
    # markers are single ids, and state/profile text takes no loss while items and feedback do
    stage3 = by_prefix["stage3/demo"][0]
    ids, mask = read_shard(out / "shards" / prefix_name(3, "demo"))[0]
    state_id = tok.tokenizer.convert_tokens_to_ids("<|state|>")
    item_id = tok.tokenizer.convert_tokens_to_ids("<|item|>")
    assert stage3["text"].count("<|state|>") == int((ids == state_id).sum())
    assert set(mask[ids == state_id].tolist()) == {0} and set(mask[ids == item_id].tolist()) == {1}


def test_blend_files_build_megatron_gpt_datasets(demo):
    from megatron.core.datasets.blended_megatron_dataset_builder import BlendedMegatronDatasetBuilder
    from megatron.core.datasets.gpt_dataset import GPTDataset, GPTDatasetConfig
    from megatron.core.datasets.utils import get_blend_from_list
    from megatron.core.tokenizers import MegatronTokenizer

    out, results, _ = demo
    blends = out / "shards" / "blends"
    manifest = json.loads((blends / "blend_manifest.json").read_text())
    assert set(manifest["stages"]) == {"1", "2", "3"}
    report = json.loads((out / "shards" / "_report.json").read_text())
    held_out = sum(e["tokens"] for s in manifest["stages"].values() for e in s["valid"] + s["test"])
    assert sum(s["tokens"] for s in manifest["stages"].values()) == report["splits"]["train"]["tokens"]
    assert report["splits"]["train"]["tokens"] + held_out == report["tokens"] == results["shards"].manifest["tokens"]
    assert manifest["mixed"]["tokens"] == report["splits"]["train"]["tokens"]
    # the saved tokenizer's eos_token is the shards' EOD: Megatron-LM needs no override
    tok = MegatronTokenizer.from_pretrained(str(out / "shards" / "tokenizer"), metadata_path={"library": "huggingface"})
    assert tok.eod == json.loads((out / "shards" / "tokenizer" / "tokenizer_meta.json").read_text())["eod_id"]
    for stage in ("1", "2", "3"):
        words = (blends / manifest["stages"][stage]["data_args_path"]).read_text().split()
        split = json.loads((blends / manifest["stages"][stage]["per_split_data_args_path"]).read_text())
        blend = get_blend_from_list(words)
        assert blend == get_blend_from_list(split["train"] if isinstance(split["train"], list) else split["train"].split())
        assert all("/valid/" in p for p in split["valid"][1::2]) and all("/test/" in p for p in split["test"][1::2])
        seq = 64
        cfg = GPTDatasetConfig(random_seed=7, sequence_length=seq, tokenizer=tok, reset_position_ids=False,
                               blend_per_split=[get_blend_from_list(split[k]) for k in ("train", "valid", "test")],
                               reset_attention_mask=False, eod_mask_loss=False)  # fmt: skip
        train, valid, test = BlendedMegatronDatasetBuilder(GPTDataset, [40, 4, 4], lambda: True, cfg).build()
        for ds, n in ((train, 40), (valid, 4), (test, 4)):
            for i in range(n):
                s = ds[i]
                assert s["tokens"].shape == (seq,) and int(s["tokens"].max()) < tok.vocab_size


def test_shards_are_identical_across_engines_and_reruns(demo, tmp_path):
    out, results, cfg = demo
    stage = ShardsStage(ShardsConfig(train_vocab_size=2000), out / "mix")
    other = run_stage(stage, tmp_path, DatatroveEngine(workers=2, logs_root=tmp_path / "_logs", progress=False))
    for f in sorted((out / "shards").rglob("*")):
        if f.suffix in (".bin", ".idx") or f.name == "tokenizer.json":
            assert f.read_bytes() == (other.out_dir / f.relative_to(out / "shards")).read_bytes(), f
    again = run_corpus(cfg, engine=LocalEngine(progress=False), stages=("shards",))
    assert again.results[-1].status == "skipped"


def test_projection_report_names_the_measured_throughput(demo):
    out, _, _ = demo
    text = (out / "shards" / "_projection.md").read_text()
    assert "core-hours" in text and "| 1,024 |" in text
    card = (out / "shards" / "_README.md").read_text()
    assert "`stage3/demo`" in card and "_lossmask" in card and "resize embeddings" in card
    report = json.loads((out / "shards" / "_report.json").read_text())
    assert report["projection"]["tokens_per_second_per_core"] > 0
    assert np.isclose(report["projection"]["core_hours"],
                      50e9 / report["projection"]["tokens_per_second_per_core"] / 3600, rtol=0.01)  # fmt: skip


def test_markers_match_the_behavior_renderer():
    from corpus.behavior.interleave import MARKERS

    assert tuple(DOMAIN_SPECIAL_TOKENS) == tuple(MARKERS)


def test_qwen3_shards_switch_to_int32_and_round_trip(demo, tmp_path, shared_data):
    from megatron.core.datasets.indexed_dataset import IndexedDataset

    out, _, _ = demo
    qwen3 = shared_data.parent / "tokenizers" / "qwen3"
    if not qwen3.exists():
        pytest.skip(f"{qwen3} not found")
    res = run_stage(ShardsStage(ShardsConfig(tokenizer=str(qwen3)), out / "mix"), tmp_path, LocalEngine())
    meta = json.loads((res.out_dir / "tokenizer" / "tokenizer_meta.json").read_text())
    assert meta["base_vocab_size"] == 151_669 and meta["vocab_size"] == 151_669 + len(DOMAIN_SPECIAL_TOKENS)
    tok = load_tokenizer(res.out_dir / "tokenizer", add_domain_tokens=False)
    assert meta["original_eos_token"] == "<|im_end|>" and tok.tokenizer.eos_token_id == tok.eod_id == meta["eod_id"]
    for rel, docs in _mix_docs(out, res.out_dir).items():
        prefix = res.out_dir / rel
        assert IndexedDataset(str(prefix)).index.dtype == np.int32  # 151,673 ids do not fit uint16
        shard = read_shard(prefix)
        for doc, (ids, _) in list(zip(docs, shard, strict=True))[:200]:
            assert ids[-1] == tok.eod_id == 151_643
            assert tok.tokenizer.decode(ids[:-1].tolist()) == doc["text"]
