"""GRPO on verl (the cluster engine, Megatron or FSDP backend; `pretrain/grpo.py` runs it on TRL on one machine):
the same RL prompts as verl's RLHF Parquet, and the same hybrid reward behind verl's custom reward-function
signature. Nothing here re-implements either: prompts come from `rl_prompts`, rewards from `build_reward`.

    python -m pretrain.verl_rl data --out out [--val-prompts 16]   # out/rl_verl/{train,val}.parquet
    bash configs/rl/verl_grpo_megatron.sh                           # python3 -m verl.trainer.main_ppo (Megatron)
    python -m pretrain.verl_rl data --agent --out out              # out/rl_verl_agent/: tool rollouts
    AGENT=1 bash configs/rl/verl_grpo_megatron.sh                   # verl's tool agent loop, our tools

Data: one row per RL record (`rl` users only, no query an SFT sample used), with verl's columns: `data_source`
("music_uq2i"), `prompt` (the sample's user turn as a chat, [{"role": "user", "content": ...}]: verl applies the
chat template itself), `ability`, `reward_model` ({"style": "rule", "ground_truth": JSON of user_id, cluster,
recent_positive}), `extra_info` (split, index, sample_id, user_id, query). The first `val_prompts` records (by
sample id) are the validation file: the same prompts `python -m pretrain.grpo` holds out.

Reward: `compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs)`, verl's custom
reward-function signature (`verl.utils.reward_score.default_compute_score`), called by verl's reward managers with
keyword arguments plus `custom_reward_function.reward_kwargs`: `out` (the corpus run's output folder) selects the
`HybridReward`, built once per process. It returns {"score": R, "relevance", "personalization", "r_format", ...}:
verl logs the extra keys (`val-aux/music_uq2i/<key>/mean@1`, rollout dumps). Rows written with `--agent` carry
the query's `memory_succeeds` label: their responses are tool rollouts, scored by `pretrain.agent.verl_tools.
tool_score` (the final answer's hybrid reward + the unnecessary-call penalty, `reward_kwargs.penalty_cost`).
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

AGENT_DATA_DIR = "rl_verl_agent"
AGENT_LOOP = "tool_agent"
_CREATE = pa.struct([("create_kwargs", pa.struct([("user_id", pa.string())]))])
VERL_AGENT_SCHEMA = pa.schema([
    *[f for f in VERL_RL_SCHEMA if f.name != "extra_info"],
    ("extra_info", pa.struct([*VERL_RL_SCHEMA.field("extra_info").type,
                              ("tools_kwargs", pa.struct([("recommend", _CREATE), ("search_catalog", _CREATE)])),
                              ("need_tools_kwargs", pa.bool_())])),
    ("agent_name", pa.string()),
])  # fmt: skip
"""The tool-rollout rows (`--agent`): verl's `agent_name` column picks its `tool_agent` loop per row, and
`extra_info.tools_kwargs[<tool>].create_kwargs` reaches each tool instance verl creates (`user_id`: the listener
`recommend` serves, `pretrain.agent.verl_tools`); the ground truth adds the query's `memory_succeeds` label."""

SAMPLE_COLUMNS = ["sample_id", "user_id", "split", "query", "cluster", "prompt"]


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
    agent: bool = False
    """Write the tool-rollout data instead (`rl_verl_agent/`: rows for verl's `tool_agent` loop, the labels'
    `memory_succeeds` in the ground truth, and `tool_config.yaml`, the tools for `multi_turn.tool_config_path`)."""
    labels: str | None = None
    """The boundary labels (`trajectories.jsonl` of `python -m pretrain.agent`; default
    `<out>/agent_demo/trajectories.jsonl`): `memory_succeeds` is true for queries labelled `no_tool`; a query
    without a label (or no file) gets false, so every call that runs counts as needed (the manifest counts them)."""

    @property
    def data_dir(self) -> Path:
        """Where the job writes: `<out>/rl_verl`, or `<out>/rl_verl_agent` with `agent`."""
        return Path(self.out) / (AGENT_DATA_DIR if self.agent else DATA_DIR)

    def __post_init__(self) -> None:
        if self.val_prompts < 1:
            raise ValueError(f"val_prompts={self.val_prompts}: verl needs a validation file; use at least 1")
        if self.recent < 0:
            raise ValueError(f"recent={self.recent}: the history length cannot be negative")


def ground_truth(record: Mapping[str, Any], memory_succeeds: bool | None = None) -> str:
    """What the reward needs besides the completion, as `reward_model.ground_truth`; tool-rollout rows add the
    query's `memory_succeeds` label."""
    gt = {"user_id": record["user_id"], "cluster": int(record["cluster"]), "query": record.get("query"),
          "recent_positive": list(record["recent_positive"])}
    if memory_succeeds is not None:
        gt["memory_succeeds"] = bool(memory_succeeds)
    return json.dumps(gt, ensure_ascii=False)


def verl_rows(records: Sequence[Mapping[str, Any]], raw_prompts: Mapping[str, str], split: str,
              memory_succeeds: Mapping[str, bool] | None = None) -> list[dict]:  # fmt: skip
    """verl RLHF rows for RL records (`rl_prompts` output); `raw_prompts` maps sample_id to the sample's user turn.
    With `memory_succeeds` (sample_id -> label), tool-rollout rows (`VERL_AGENT_SCHEMA`)."""
    rows = []
    for i, r in enumerate(records):
        label = None if memory_succeeds is None else memory_succeeds.get(r["sample_id"], False)
        extra = {"split": split, "index": i, "sample_id": r["sample_id"], "user_id": r["user_id"], "query": r["query"]}
        row = {"data_source": DATA_SOURCE, "prompt": [{"role": "user", "content": raw_prompts[r["sample_id"]]}],
               "ability": ABILITY, "reward_model": {"style": "rule", "ground_truth": ground_truth(r, label)},
               "extra_info": extra}  # fmt: skip
        if memory_succeeds is not None:
            bound = {"create_kwargs": {"user_id": r["user_id"]}}
            extra.update(tools_kwargs={"recommend": bound, "search_catalog": bound}, need_tools_kwargs=True)
            row["agent_name"] = AGENT_LOOP
        rows.append(row)
    return rows


def read_labels(path: Path) -> dict[str, bool]:
    """sample_id -> the query's memory answer succeeds (label `no_tool`), from `trajectories.jsonl`."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                row = json.loads(line)
                out[row["sample_id"]] = row["label"] == "no_tool"
            except (json.JSONDecodeError, KeyError, TypeError) as e:
                raise ValueError(f"{path} line {n}: needs sample_id and label ({e!r})") from e
    return out


def write_verl_data(cfg: VerlDataConfig) -> dict[str, Any]:
    """Write `<out>/rl_verl/{train,val}.parquet` and `_manifest.json` (config, inputs, rows, dropped by reason)."""
    import pyarrow.dataset as pads

    from jobs.outputs import part_files, write_table

    out = Path(cfg.out)
    sample_files, event_files = part_files(out / "uq2i" / "uq2i_samples"), part_files(out / "behavior" / "_sessions")
    for name, files in (("uq2i/uq2i_samples", sample_files), ("behavior/_sessions", event_files)):
        if not files:
            raise SystemExit(f"error: {out / name} has no part-*.parquet; run the corpus stages first (make corpus)")
    samples = pads.dataset(sample_files, format="parquet").to_table(columns=SAMPLE_COLUMNS).to_pylist()
    events = grpo.positive_song_events(out)
    template_dir = Path(cfg.template_dir) if cfg.template_dir else out / "shards" / "tokenizer"
    records = grpo.rl_prompts(samples, events, template_dir, recent=cfg.recent)
    if len(records) <= cfg.val_prompts:
        raise SystemExit(f"error: {len(records)} RL prompts in {out / 'uq2i'}; --val-prompts {cfg.val_prompts} "
                         "leaves none to train on (lower it)")  # fmt: skip
    raw = {s["sample_id"]: s["prompt"] for s in samples}
    held, train = records[: cfg.val_prompts], records[cfg.val_prompts :]
    dest = cfg.data_dir
    labels, extra = None, {}
    if cfg.agent:
        import yaml

        from pretrain.agent.verl_tools import tool_config

        path = Path(cfg.labels) if cfg.labels else out / "agent_demo" / "trajectories.jsonl"
        labels = read_labels(path) if path.is_file() else {}
        extra["labels"] = {"path": str(path), "no_tool": sum(labels.get(r["sample_id"], False) for r in records),
                           "unlabelled": sum(r["sample_id"] not in labels for r in records)}  # fmt: skip
        write_atomic(dest / "tool_config.yaml", yaml.safe_dump(tool_config(out), sort_keys=False, allow_unicode=True))
    for split, recs in (("train", train), ("val", held)):
        table = pa.Table.from_pylist(verl_rows(recs, raw, split, labels),
                                     schema=VERL_AGENT_SCHEMA if cfg.agent else VERL_RL_SCHEMA)  # fmt: skip
        write_table(dest / f"{split}.parquet", table)
    sft_queries = {s["query"] for s in samples if s["split"] == "sft"}
    dropped = {"not_rl_split": sum(s["split"] != "rl" for s in samples),
               "query_in_sft": sum(s["split"] == "rl" and s["query"] in sft_queries for s in samples)}  # fmt: skip
    manifest = {"config": asdict(cfg), "inputs": [str(p) for p in sample_files + event_files],
                "rows": {"train": len(train), "val": len(held)}, "dropped": dropped, **extra}  # fmt: skip
    write_atomic(dest / "_manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
    return manifest


def write_atomic(path: Path, text: str) -> None:
    """`text` to `path` through a temporary file and a rename (as `pretrain.checkpoint.write_atomic`, which this
    light module does not import: it pulls in torch and the model)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".inprogress")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


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
    if "memory_succeeds" in gt:  # a tool rollout (`--agent` data): final answer + the unnecessary-call penalty
        from pretrain.agent.run import AgentConfig
        from pretrain.agent.verl_tools import tool_score

        return tool_score(reward_for(out), solution_str, gt, query, float(kwargs.get("penalty_cost", AgentConfig.penalty_cost)))
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
    d.add_argument("--agent", action="store_true", help="write the tool-rollout data instead: OUT/rl_verl_agent/ "
                   "({train,val}.parquet for verl's tool_agent loop, tool_config.yaml); run with AGENT=1")
    d.add_argument("--labels", default=None, help="boundary labels for --agent (default "
                   "OUT/agent_demo/trajectories.jsonl, from `python -m pretrain.agent`)")
    args = p.parse_args(argv)
    cfg = VerlDataConfig(out=str(Path(args.out).resolve()), val_prompts=args.val_prompts, recent=args.recent,
                         template_dir=args.template_dir, agent=args.agent, labels=args.labels)  # fmt: skip
    print(f"[verl_rl] config: {json.dumps(asdict(cfg))}")
    m = write_verl_data(cfg)
    print(f"[verl_rl] {m['rows']['train']} train / {m['rows']['val']} val prompts -> {cfg.data_dir}; "
          f"dropped {json.dumps(m['dropped'])}" + (f"; labels {json.dumps(m['labels'])}" if cfg.agent else ""))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
