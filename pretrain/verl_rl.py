"""GRPO on verl (the cluster engine, Megatron or FSDP backend; `pretrain/grpo.py` runs it on TRL on one machine):
the same RL prompts as verl's RLHF Parquet, and the same hybrid reward behind verl's custom reward-function
signature. Nothing here re-implements either: prompts come from `rl_prompts`, rewards from `build_reward`.

    python -m pretrain.verl_rl data --out out [--val-prompts 16]   # out/rl_verl/{train,val}.parquet
    bash configs/rl/verl_grpo_megatron.sh                           # python3 -m verl.trainer.main_ppo (Megatron)

Data: one row per RL record (`rl` users only, no query an SFT sample used), with verl's columns: `data_source`
("music_uq2i"), `prompt` (the sample's user turn as a chat, [{"role": "user", "content": ...}]: verl applies the
chat template itself), `ability`, `reward_model` ({"style": "rule", "ground_truth": JSON of user_id, cluster,
recent_positive}), `extra_info` (split, index, sample_id, user_id, query). The first `val_prompts` records (by
sample id) are the validation file: the same prompts `python -m pretrain.grpo` holds out.

Reward: `compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs)`, verl's custom
reward-function signature (`verl.utils.reward_score.default_compute_score`), called by verl's reward managers with
keyword arguments plus `custom_reward_function.reward_kwargs`: `out` (the corpus run's output folder) selects the
`HybridReward`, built once per process. It returns {"score": R, "relevance", "personalization", "r_format", ...}:
verl logs the extra keys (`val-aux/music_uq2i/<key>/mean@1`, rollout dumps).
"""

from __future__ import annotations

import argparse
import json
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa

from pretrain import grpo

DATA_SOURCE = "music_uq2i"
ABILITY = "recommendation"
DATA_DIR = "rl_verl"

VERL_RL_SCHEMA = pa.schema([
    ("data_source", pa.string()),
    ("prompt", pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))),
    ("ability", pa.string()),
    ("reward_model", pa.struct([("style", pa.string()), ("ground_truth", pa.string())])),
    ("extra_info", pa.struct([("split", pa.string()), ("index", pa.int64()), ("sample_id", pa.string()),
                              ("user_id", pa.string()), ("query", pa.string())])),
])  # fmt: skip
"""verl's RLHF dataset columns (`verl/utils/dataset/rl_dataset.py` reads `prompt`, `extra_info.index`; the reward
managers read `data_source`, `reward_model.ground_truth`, `extra_info`). The ground truth is a JSON string so that
an empty history or a struct-to-numpy conversion in verl's batch never changes what the reward sees."""

SAMPLE_COLUMNS = ["sample_id", "user_id", "split", "query", "cluster", "prompt"]
EVENT_COLUMNS = ["user_id", "ts", "event_id", "item_type", "item_id", "feedback"]


@dataclass(frozen=True)
class VerlDataConfig:
    """The verl data job: which corpus run, how many held-out prompts, how much history per user."""

    out: str = "out"
    """The corpus run's output folder (reads uq2i/uq2i_samples, behavior/_sessions; writes rl_verl/)."""
    val_prompts: int = 16
    """Records held out as verl's validation file: the first ones by sample id, as `pretrain.grpo` holds out."""
    recent: int = 50
    """Most recent positive songs per user kept for the de-duplication reward (`rl_prompts`' `recent`)."""
    template_dir: str | None = None
    """Tokenizer folder `rl_prompts` renders prompts with (default `<out>/shards/tokenizer`); verl gets the raw
    user turn and renders it itself with the model's template."""

    def __post_init__(self) -> None:
        if self.val_prompts < 1:
            raise ValueError(f"val_prompts={self.val_prompts}: verl needs a validation file; use at least 1")
        if self.recent < 0:
            raise ValueError(f"recent={self.recent}: the history length cannot be negative")


def ground_truth(record: Mapping[str, Any]) -> str:
    """What the reward needs besides the completion, as `reward_model.ground_truth`."""
    return json.dumps({"user_id": record["user_id"], "cluster": int(record["cluster"]), "query": record.get("query"),
                       "recent_positive": list(record["recent_positive"])}, ensure_ascii=False)  # fmt: skip


def verl_rows(records: Sequence[Mapping[str, Any]], raw_prompts: Mapping[str, str], split: str) -> list[dict]:
    """verl RLHF rows for RL records (`rl_prompts` output); `raw_prompts` maps sample_id to the sample's user turn."""
    rows = []
    for i, r in enumerate(records):
        rows.append({"data_source": DATA_SOURCE, "prompt": [{"role": "user", "content": raw_prompts[r["sample_id"]]}],
                     "ability": ABILITY, "reward_model": {"style": "rule", "ground_truth": ground_truth(r)},
                     "extra_info": {"split": split, "index": i, "sample_id": r["sample_id"], "user_id": r["user_id"],
                                    "query": r["query"]}})  # fmt: skip
    return rows


def write_verl_data(cfg: VerlDataConfig) -> dict[str, Any]:
    """Write `<out>/rl_verl/{train,val}.parquet` and `_manifest.json` (config, inputs, rows, dropped by reason)."""
    import pyarrow.compute as pc
    import pyarrow.dataset as pads

    from corpus.uq2i.synthesize import POSITIVE
    from jobs.outputs import part_files, write_table

    out = Path(cfg.out)
    sample_files, event_files = part_files(out / "uq2i" / "uq2i_samples"), part_files(out / "behavior" / "_sessions")
    for name, files in (("uq2i/uq2i_samples", sample_files), ("behavior/_sessions", event_files)):
        if not files:
            raise SystemExit(f"error: {out / name} has no part-*.parquet; run the corpus stages first (make corpus)")
    samples = pads.dataset(sample_files, format="parquet").to_table(columns=SAMPLE_COLUMNS).to_pylist()
    # only the events rl_prompts keeps (positive song feedback): the session log stays on disk
    events = pads.dataset(event_files, format="parquet").to_table(
        columns=EVENT_COLUMNS, filter=(pc.field("item_type") == "song") & pc.field("feedback").isin(list(POSITIVE))
    ).to_pylist()
    template_dir = Path(cfg.template_dir) if cfg.template_dir else out / "shards" / "tokenizer"
    records = grpo.rl_prompts(samples, events, template_dir, recent=cfg.recent)
    if len(records) <= cfg.val_prompts:
        raise SystemExit(f"error: {len(records)} RL prompts in {out / 'uq2i'}; --val-prompts {cfg.val_prompts} "
                         "leaves none to train on (lower it)")  # fmt: skip
    raw = {s["sample_id"]: s["prompt"] for s in samples}
    held, train = records[: cfg.val_prompts], records[cfg.val_prompts :]
    dest = out / DATA_DIR
    for split, recs in (("train", train), ("val", held)):
        table = pa.Table.from_pylist(verl_rows(recs, raw, split), schema=VERL_RL_SCHEMA)
        write_table(dest / f"{split}.parquet", table)
    sft_queries = {s["query"] for s in samples if s["split"] == "sft"}
    dropped = {"not_rl_split": sum(s["split"] != "rl" for s in samples),
               "query_in_sft": sum(s["split"] == "rl" and s["query"] in sft_queries for s in samples)}  # fmt: skip
    manifest = {"config": asdict(cfg), "inputs": [str(p) for p in sample_files + event_files],
                "rows": {"train": len(train), "val": len(held)}, "dropped": dropped}  # fmt: skip
    tmp = dest / "_manifest.json.inprogress"
    tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, dest / "_manifest.json")
    return manifest


# verl calls a plain function, so the per-process reward lives at module level (one entry per corpus output)
_BUILD = threading.Lock()


@cache
def _reward_of(out: str) -> grpo.HybridReward:
    return grpo.build_reward(out)


def reward_for(out: str | Path) -> grpo.HybridReward:
    """The hybrid reward of a corpus run, built once per process: verl's reward loop calls `compute_score` from an
    executor's threads, and the catalog matcher and personalization model are too large to build per call."""
    with _BUILD:
        return _reward_of(str(Path(out).resolve()))


def compute_score(data_source: str, solution_str: str, ground_truth: str | Mapping[str, Any],
                  extra_info: Mapping[str, Any] | None = None, *, out: str | None = None,
                  **kwargs: Any) -> dict[str, float]:  # fmt: skip
    """verl's custom reward function: the hybrid reward of one decoded response as {"score": R, components...}.

    `out` comes from `custom_reward_function.reward_kwargs.out`; other keyword arguments verl may pass (the reward
    loop's `reward_router_address`, `reward_model_tokenizer`) are ignored. No "reward" key: verl's validation adds
    its own "reward" list beside the extra keys and would count ours twice."""
    if data_source != DATA_SOURCE:
        raise ValueError(f"compute_score scores {DATA_SOURCE!r} rows, got data_source={data_source!r}; give other "
                         "data sets their own reward function (or verl's default_compute_score)")  # fmt: skip
    if out is None:
        raise ValueError("compute_score needs the corpus output folder: add "
                         "`+custom_reward_function.reward_kwargs.out=/path/to/out` to the verl command")  # fmt: skip
    gt = json.loads(ground_truth) if isinstance(ground_truth, str) else ground_truth
    try:
        user_id, cluster, recent = gt["user_id"], int(gt["cluster"]), list(gt["recent_positive"])
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"reward_model.ground_truth of row {dict(extra_info or {}).get('sample_id')}: needs "
                         f"user_id, cluster, recent_positive ({e!r}); rewrite the data with "
                         "`python -m pretrain.verl_rl data`") from e  # fmt: skip
    # the request text for the relevance judge (data written before it carried one: the cluster rule decides)
    query = gt.get("query") or dict(extra_info or {}).get("query")
    parts = reward_for(out).components(solution_str, user_id, cluster, recent, query)
    return {"score": parts.pop("reward"), **parts}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m pretrain.verl_rl", description="\n\n".join(__doc__.split("\n\n")[:2]),
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="verl's reward function: custom_reward_function.path=configs/rl/verl_reward.py, "
                                       "name=compute_score, reward_kwargs.out=OUT.")  # fmt: skip
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("data", help="write OUT/rl_verl/{train,val}.parquet, verl's RLHF Parquet of the RL prompts",
                       description="Write OUT/rl_verl/{train,val}.parquet (verl's RLHF Parquet: data_source, prompt, "
                                   "ability, reward_model, extra_info) from the RL records `pretrain.grpo.rl_prompts` "
                                   "selects (rl users, no SFT query), and _manifest.json (config, inputs, rows, "
                                   "dropped by reason).")  # fmt: skip
    d.add_argument("--out", default="out", help="the corpus run's output folder (uq2i/, behavior/, shards/)")
    d.add_argument("--val-prompts", type=int, default=16, help="held-out prompts in val.parquet (as pretrain.grpo)")
    d.add_argument("--recent", type=int, default=50, help="recent positive songs per user for the dedup reward")
    d.add_argument("--template-dir", default=None, help="tokenizer folder (default OUT/shards/tokenizer)")
    args = p.parse_args(argv)
    cfg = VerlDataConfig(out=str(Path(args.out).resolve()), val_prompts=args.val_prompts, recent=args.recent,
                         template_dir=args.template_dir)  # fmt: skip
    print(f"[verl_rl] config: {json.dumps(asdict(cfg))}")
    m = write_verl_data(cfg)
    print(f"[verl_rl] {m['rows']['train']} train / {m['rows']['val']} val prompts -> {Path(cfg.out) / DATA_DIR}; "
          f"dropped {json.dumps(m['dropped'])}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
