"""Reference-model token weighting on CPU: step-time overhead of online and offline weighting against `none`,
and the scoring pass's throughput with a projection to the 50B-token corpus.

    python -m benchmarks.weighting_bench [--steps 8] [--rounds 2]

Data: shards of real general text written here (WikiText-2 validation articles, a BPE of 8,000 tokens), small
enough that the scoring pass covers them in a minute. Model and reference: the demo shape
(configs/pretrain/models/qwen3-tiny, 4 layers, hidden 256; 512-token samples, 8 sequences a step, FP32, one
process); the reference has the same shape with other random weights (its size sets the online cost).
Side by side, round by round: (a) `none`, (b) `loss_ratio` online (the frozen reference forward on every
micro-batch), (c) `loss_ratio` offline (the sidecars of `pretrain.score`). Targets: online <= 1.4x and offline
<= 1.05x the step time of `none`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
from pathlib import Path

import torch

from benchmarks.train_bench import GBS, MODEL, SEQ, WARMUP, config_tree, run_tree

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench_out" / "weighting"
CORPUS_TOKENS = 50e9


def bench_shards() -> Path:
    from pretrain.demo import wikitext_articles, write_text_shards
    from tokenizer.load import train_bpe

    shards = OUT / "shards"
    if (shards / "blends" / "stage1.per_split.json").is_file():
        return shards
    docs = wikitext_articles("valid")
    train_bpe([t for t, _ in docs], vocab_size=8000).save(OUT / "tokenizer")
    test = wikitext_articles("test")
    return write_text_shards(shards, OUT / "tokenizer", {1: {"train": docs, "valid": test[:20], "test": test[20:40]}})


def reference_dir() -> Path:
    from transformers import AutoConfig, AutoModelForCausalLM

    out = OUT / "reference"
    if not (out / "config.json").is_file():
        torch.manual_seed(7)
        AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(MODEL)).save_pretrained(out)
    return out


def run_variant(shards: Path, steps: int, weighting: dict) -> float:
    """Seconds per optimizer step (median after warm-up) of one training run."""
    name = weighting.get("criterion", "none") + "_" + weighting.get("mode", "")
    save = OUT / f"run_{name}"
    shutil.rmtree(save, ignore_errors=True)
    tree = config_tree(shards, save, steps, 0)
    tree["weighting"] = weighting
    run_tree(tree)
    recs = [json.loads(x) for x in (save / "log.jsonl").read_text().splitlines()]
    recs = [r for r in recs if r["kind"] == "train"][WARMUP:]
    return statistics.median(GBS * SEQ / r["tokens_per_s"] for r in recs)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=8, help="optimizer steps per variant and round (2 are warm-up)")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args(argv)
    from pretrain.score import ScoreConfig, score

    OUT.mkdir(parents=True, exist_ok=True)
    shards, ref = bench_shards(), reference_dir()
    cores = torch.get_num_threads()
    scored = score(ScoreConfig(str(ref), str(shards), stages=(1,), overwrite=True))
    tokens, seconds = sum(r["tokens"] for r in scored), sum(r["seconds"] for r in scored)
    tps = tokens / seconds
    variants = {"none": {}, "online": {"criterion": "loss_ratio", "reference": str(ref)},
                "offline": {"criterion": "loss_ratio", "mode": "offline"}}
    times: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(args.rounds):
        for name, w in variants.items():
            times[name].append(run_variant(shards, args.steps, w))
    step = {k: statistics.median(v) for k, v in times.items()}
    res = {"seconds_per_step": {k: round(v, 4) for k, v in step.items()},
           "online_vs_none": round(step["online"] / step["none"], 3),
           "offline_vs_none": round(step["offline"] / step["none"], 3),
           "scoring_tokens_per_s": round(tps, 1), "scoring_tokens_per_s_per_core": round(tps / cores, 1),
           "scoring_core_hours_for_50B_tokens_demo_model": round(CORPUS_TOKENS / (tps / cores) / 3600, 0),
           "cores": cores, "scored_tokens": tokens}  # fmt: skip
    print(f"[weighting] step time: none {step['none']:.3f}s, online {step['online']:.3f}s "
          f"(x{res['online_vs_none']:.2f}, target <= 1.4), offline {step['offline']:.3f}s "
          f"(x{res['offline_vs_none']:.2f}, target <= 1.05)")
    print(f"[weighting] scoring pass: {tps:,.0f} tokens/s on {cores} cores ({tps / cores:,.0f} per core); the 50B-token "
          f"corpus with a reference of the demo's size: {res['scoring_core_hours_for_50B_tokens_demo_model']:,.0f} "
          "core-hours (a Qwen3-scale reference runs on GPUs: torchrun -m pretrain.score)")
    return {"weighting": res}


if __name__ == "__main__":
    main()
