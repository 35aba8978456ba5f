"""Training throughput on CPU: the demo model (configs/pretrain/models/qwen3-tiny) through pretrain.train.

    python -m benchmarks.train_bench [--steps 12] [--rounds 2]

Data: `make corpus`'s demo shards (out/shards) when present, else shards of real general text written here
(the C4 train sample and WikiText-2 validation articles from shared/data, with a BPE of 8,000 tokens trained on
them). Shape: the demo's (4 layers, hidden 256, GQA 4:2, 512-token samples, 2 micro-batches of 4 = 8 sequences
a step), FP32, one process, all of the machine's cores (torch threads).

Side by side in one run, taking turns round by round so slow spells of the shared machine fall on all alike:
  (a) ours: `pretrain.train.run` (megatron-core GPTModel, CPU engine, megatron's OptimizerParamScheduler,
      dist_checkpointing at the end), data loaded in the training process (`data.num_workers: 0`) and
      (a') by 2 DataLoader workers;
  (b) the anchor: Hugging Face `transformers` `Qwen3ForCausalLM` of the same config with `torch.optim.AdamW`
      and gradient clipping, the same batches already in memory: a plain PyTorch training step.
Figures: tokens/s (all positions of the packed samples) and per core, the share of step time spent
waiting for the next batch (ours; must stay under 5%), and ours / anchor. The first 2 steps are warm-up.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench_out" / "train"
MODEL = ROOT / "configs" / "pretrain" / "models" / "qwen3-tiny"
SEQ, MBS, GBS, WARMUP = 512, 4, 8, 2


def bench_shards() -> Path:
    demo = ROOT / "out" / "shards"
    if (demo / "blends" / "stage1.per_split.json").is_file():
        return demo
    from pretrain.demo import c4_train_documents, wikitext_articles, write_text_shards
    from tokenizer.load import train_bpe

    shards = OUT / "general_shards"
    if (shards / "blends" / "stage1.per_split.json").is_file():
        return shards
    docs = c4_train_documents() + wikitext_articles("valid")
    train_bpe([t for t, _ in docs], vocab_size=8000).save(OUT / "tokenizer")
    test = wikitext_articles("test")
    return write_text_shards(shards, OUT / "tokenizer", {1: {"train": docs, "valid": test[:30], "test": test[30:]}})


def config_tree(shards: Path, save: Path, steps: int, workers: int) -> dict:
    return {
        "model": {"hf_path": str(MODEL), "init": "random"},
        "data": {"shards_dir": str(shards), "seq_length": SEQ, "num_workers": workers},
        "stages": [{"name": "bench", "data": 1, "steps": steps, "optimizer": {"lr": 3e-4, "min_lr": 3e-5}}],
        "micro_batch_size": MBS,
        "global_batch_size": GBS,
        "checkpoint": {"save": str(save), "interval": 10**6, "export_hf": False},
        "logging": {"interval": 1, "eval_iters": 0, "tensorboard": False},
    }


def run_tree(tree: dict) -> dict:
    """`pretrain.train.run` on a config tree in this process (world size 1), process group set up and torn down."""
    from pretrain.config import config_from_dict
    from pretrain.train import init_distributed, run

    created = init_distributed()
    try:
        return run(config_from_dict(tree))
    finally:
        from megatron.core import parallel_state

        parallel_state.destroy_model_parallel()
        if created:
            torch.distributed.destroy_process_group()


def run_ours(shards: Path, steps: int, workers: int) -> dict:
    save = OUT / f"ours_w{workers}"
    shutil.rmtree(save, ignore_errors=True)
    run_tree(config_tree(shards, save, steps, workers))
    recs = [json.loads(x) for x in (save / "log.jsonl").read_text().splitlines()]
    recs = [r for r in recs if r["kind"] == "train"][WARMUP:]
    seconds = sum(GBS * SEQ / r["tokens_per_s"] for r in recs)
    return {"tokens_per_s": len(recs) * GBS * SEQ / seconds, "mfu": statistics.mean(r["mfu"] for r in recs),
            "data_wait_share": sum(r["data_wait_share"] * GBS * SEQ / r["tokens_per_s"] for r in recs) / seconds}  # fmt: skip


def anchor_batches(shards: Path, steps: int) -> list[list[dict]]:
    from pretrain.data import DataConfig, build_datasets, build_loader

    ds, _, _ = build_datasets(DataConfig(shards_dir=str(shards), seq_length=SEQ, num_workers=0),
                              train_samples=steps * GBS, valid_samples=0, test_samples=0)  # fmt: skip
    it = iter(build_loader(ds, MBS))
    return [[next(it) for _ in range(GBS // MBS)] for _ in range(steps)]


def run_anchor(batches: list[list[dict]], rows: int) -> dict:
    """A plain PyTorch step on the Hugging Face model: masked mean cross entropy, backward, clip, AdamW."""
    from transformers import Qwen3ForCausalLM

    from pretrain.model import ModelConfig

    torch.manual_seed(0)
    model = Qwen3ForCausalLM(ModelConfig.from_hf(MODEL).to_hf_config(vocab_size=rows)).train()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, betas=(0.9, 0.95), weight_decay=0.1)
    times = []
    for step in batches:
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        tokens = sum(float(b["loss_mask"].sum()) for b in step)
        for b in step:
            logits = model(input_ids=b["tokens"], position_ids=b["position_ids"]).logits
            loss = torch.nn.functional.cross_entropy(logits.transpose(1, 2), b["labels"], reduction="none")
            (torch.sum(loss * b["loss_mask"]) / tokens).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        times.append(time.perf_counter() - t0)
    times = times[WARMUP:]
    return {"tokens_per_s": len(times) * GBS * SEQ / sum(times)}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=12, help="optimizer steps per variant and round (2 are warm-up)")
    ap.add_argument("--rounds", type=int, default=2, help="turns each variant takes")
    args = ap.parse_args(argv)
    from pretrain.data import tokenizer_meta
    from pretrain.model import padded_vocab_size

    OUT.mkdir(parents=True, exist_ok=True)
    shards = bench_shards()
    rows = padded_vocab_size(max(int(tokenizer_meta(shards)["vocab_size"]), 8000))
    cores = torch.get_num_threads()
    print(f"[train] data {shards}; model {MODEL.name} ({rows} vocabulary rows), {GBS} x {SEQ} tokens a step, "
          f"FP32, {cores} torch threads; {args.rounds} rounds x {args.steps} steps", flush=True)  # fmt: skip
    batches = anchor_batches(shards, args.steps)
    runs: dict[str, list[dict]] = {"ours_workers0": [], "ours_workers2": [], "anchor_hf_torch": []}
    for _ in range(args.rounds):
        runs["ours_workers0"].append(run_ours(shards, args.steps, 0))
        runs["ours_workers2"].append(run_ours(shards, args.steps, 2))
        runs["anchor_hf_torch"].append(run_anchor(batches, rows))
    table = {}
    for name, rs in runs.items():
        tps = statistics.median(r["tokens_per_s"] for r in rs)
        row = {"tokens_per_s": round(tps, 1), "tokens_per_s_per_core": round(tps / cores, 1)}
        if "data_wait_share" in rs[0]:
            row["data_wait_share"] = round(max(r["data_wait_share"] for r in rs), 4)
            row["mfu_vs_measured_fp32_matmul"] = round(statistics.median(r["mfu"] for r in rs), 3)
        table[name] = row
    anchor = table["anchor_hf_torch"]["tokens_per_s"]
    for name, row in table.items():
        row["vs_anchor"] = round(row["tokens_per_s"] / anchor, 3)
        extra = f", data wait {100 * row['data_wait_share']:.2f}% of step time" if "data_wait_share" in row else ""
        print(f"[train] {name:16s} {row['tokens_per_s']:>9,.0f} tok/s  {row['tokens_per_s_per_core']:>8,.0f} tok/s/core  "
              f"x{row['vs_anchor']:.2f} vs anchor{extra}", flush=True)  # fmt: skip
    worst = max(table[k]["data_wait_share"] for k in ("ours_workers0", "ours_workers2"))
    print(f"[train] data wait {100 * worst:.2f}% of step time at most ({'under' if worst < 0.05 else 'OVER'} the 5% budget)")
    return {"train": {"shards": str(shards), "cores": cores, "seq_length": SEQ, "global_batch": GBS, **table}}


if __name__ == "__main__":
    main()
