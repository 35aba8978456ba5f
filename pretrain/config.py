"""The training run's config: one YAML file describes a continued-pretraining run from model to curriculum.

Each component keeps one dataclass (Megatron-Core style: field docstrings, checks in `__post_init__`):
`ModelSource` (which Hugging Face config/weights, which layer spec), `DataConfig` (pretrain/data.py),
`OptimizerConfig`, `ParallelConfig`, `CheckpointConfig`, `LoggingConfig`, `WeightingSettings` and the
curriculum's `StageConfig`s, composed by `TrainConfig`. `load_config(path, overrides)` validates the YAML directly
into these dataclasses with pydantic (unknown keys are refused with the keys allowed there), applies
`key.sub=value` overrides from the command line, and returns the one object the run prints and stores.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ConfigDict, TypeAdapter, ValidationError

from pretrain.data import DataConfig
from pretrain.weighting import WeightingConfig

PROJECT = Path(__file__).resolve().parent.parent
STRICT = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


class ConfigError(ValueError):
    """A config file or override that cannot be used; the message names the key and what is allowed."""


@dataclass
class ModelSource:
    """Where the model comes from: a Hugging Face Qwen3 directory (config.json, and weights for `init: hf`)."""

    __pydantic_config__ = STRICT

    hf_path: str
    """A Hugging Face model directory (or a config.json). Relative paths resolve against the project root;
    `{out}` expands to the run's `checkpoint.save` folder (the demo's own base model lives there)."""
    init: Literal["hf", "random"] = "hf"
    """`hf`: load the directory's weights (continued pretraining); `random`: initialise from the config alone."""
    spec: Literal["auto", "cpu", "local", "te"] = "auto"
    """Layer spec: `cpu` (SDPA core attention, no CUDA), `local` (megatron-core local modules with SDPA/flash
    attention), `te` (Transformer Engine); `auto` = `local` on GPU, `cpu` otherwise."""


@dataclass
class OptimizerConfig:
    """AdamW and the learning-rate schedule of one stage (Megatron-LM's `--lr`, `--min-lr`, `--lr-*`)."""

    __pydantic_config__ = STRICT

    lr: float = 2e-5
    """Peak learning rate (the seeds' CPT rate)."""
    min_lr: float = 2e-6
    """Floor of the decay."""
    warmup_fraction: float = 0.01
    """Share of the stage's steps spent warming up linearly from 0 to `lr`."""
    decay_style: Literal["cosine", "constant", "linear"] = "cosine"
    """Decay after warmup: cosine or linear down to `min_lr` at the stage's last step, or constant at `lr`."""
    weight_decay: float = 0.1
    adam_beta1: float = 0.9
    adam_beta2: float = 0.95
    adam_eps: float = 1e-8
    clip_grad: float = 1.0
    """Clip the global gradient norm to this (0 disables clipping)."""

    def __post_init__(self) -> None:
        if not self.lr > 0 or self.min_lr < 0 or self.min_lr > self.lr:
            raise ValueError(f"optimizer: need lr > 0 and 0 <= min_lr <= lr (lr={self.lr}, min_lr={self.min_lr})")
        if not 0 <= self.warmup_fraction < 1:
            raise ValueError(f"optimizer.warmup_fraction must be in [0, 1), got {self.warmup_fraction}")
        if self.clip_grad < 0 or self.weight_decay < 0:
            raise ValueError("optimizer: clip_grad and weight_decay must be >= 0")


@dataclass
class StageConfig:
    """One curriculum stage: which data, how many tokens, and its own schedule."""

    __pydantic_config__ = STRICT

    name: str
    """Folder name of the stage's checkpoints (`<save>/<name>/`)."""
    data: int | Literal["mixed"]
    """Curriculum stage of the shards (1, 2, 3) or `mixed` (one blend of all three, weighted by tokens)."""
    epochs: float | None = 1.0
    """Train tokens = epochs x the blend's train tokens (the seeds: one epoch). Ignored when `tokens` or
    `steps` is set."""
    tokens: int | None = None
    """Token budget of the stage (rounded up to whole steps)."""
    steps: int | None = None
    """Optimizer steps of the stage; overrides `tokens` and `epochs`."""
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name:
            raise ValueError(f"stage name {self.name!r} must be a plain folder name")
        if isinstance(self.data, int) and self.data not in (1, 2, 3):
            raise ValueError(f"stage {self.name}: data must be 1, 2, 3 or 'mixed', got {self.data}")
        if self.steps is None and self.tokens is None and not (self.epochs and self.epochs > 0):
            raise ValueError(f"stage {self.name}: set one of steps, tokens or epochs (> 0)")
        if (self.steps is not None and self.steps < 1) or (self.tokens is not None and self.tokens < 1):
            raise ValueError(f"stage {self.name}: steps and tokens must be >= 1")

    def num_steps(self, tokens_per_step: int, blend_tokens: int) -> int:
        """Optimizer steps this stage runs, given the global batch's tokens and the blend's train tokens."""
        if self.steps is not None:
            return self.steps
        budget = self.tokens if self.tokens is not None else self.epochs * blend_tokens
        return max(1, math.ceil(budget / tokens_per_step))


@dataclass
class ParallelConfig:
    """Model and data parallel layout; data parallel size = world size / (tensor x pipeline)."""

    __pydantic_config__ = STRICT

    tensor_model_parallel_size: int = 1
    pipeline_model_parallel_size: int = 1
    """Pipeline stages (GPU only: the CPU path runs one stage)."""
    sequence_parallel: bool = False
    """Megatron sequence parallelism (GPU, with tensor parallel > 1)."""

    def __post_init__(self) -> None:
        if self.tensor_model_parallel_size < 1 or self.pipeline_model_parallel_size < 1:
            raise ValueError("parallel: sizes must be >= 1")
        if self.sequence_parallel and self.tensor_model_parallel_size == 1:
            raise ValueError("parallel.sequence_parallel needs tensor_model_parallel_size > 1")

    def data_parallel_size(self, world_size: int) -> int:
        mp = self.tensor_model_parallel_size * self.pipeline_model_parallel_size
        if world_size % mp:
            raise ValueError(f"world size {world_size} is not a multiple of tensor x pipeline = {mp}; "
                             f"change --nproc-per-node or parallel.*")  # fmt: skip
        return world_size // mp


@dataclass
class CheckpointConfig:
    """Where and how often the run saves (megatron-core dist_checkpointing, loadable at another layout)."""

    __pydantic_config__ = STRICT

    save: str = "out/pretrain"
    """Run folder: `<save>/<stage>/iter_XXXXXXX/` checkpoints, `<save>/<stage>/hf/` exports, logs."""
    interval: int = 200
    """Save every N optimizer steps (and always at a stage's end)."""
    keep_last: int = 2
    """Intermediate checkpoints kept per stage (the stage's final one is always kept)."""
    export_hf: bool = True
    """Export each stage's final model as a Hugging Face directory (`<save>/<stage>/hf`)."""

    def __post_init__(self) -> None:
        if self.interval < 1 or self.keep_last < 1:
            raise ValueError("checkpoint.interval and checkpoint.keep_last must be >= 1")


@dataclass
class LoggingConfig:
    """Console, JSONL and TensorBoard logging and evaluation cadence."""

    __pydantic_config__ = STRICT

    interval: int = 10
    """Log train metrics every N steps."""
    eval_interval: int = 100
    """Evaluate on the validation split every N steps (and at each stage's end)."""
    eval_iters: int = 10
    """Global batches per evaluation."""
    eval_at_start: bool = True
    """Also evaluate before a stage's first step (the "before" of a before/after comparison)."""
    tensorboard: bool = True
    """Write TensorBoard event files to `<save>/tensorboard`."""
    peak_tflops: float | None = None
    """Peak dense TFLOP/s of one device for MFU. Unset: the GPU's datasheet BF16 figure when known; on CPU
    a measured FP32 matmul rate (so CPU MFU is against achievable, not theoretical, peak)."""

    def __post_init__(self) -> None:
        if min(self.interval, self.eval_interval) < 1 or self.eval_iters < 0:
            raise ValueError("logging: intervals must be >= 1 and eval_iters >= 0")


@dataclass
class EvalSetConfig:
    """An extra validation set evaluated beside the stage's own valid split (e.g. general text, to watch
    forgetting): the valid split of another shards folder, same tokenizer."""

    __pydantic_config__ = STRICT

    shards_dir: str
    """A shards folder (`blends/`, `tokenizer/`) written with the run's tokenizer; `{out}` / `{project}` expand."""
    stage: int | Literal["mixed"] = "mixed"
    """Which of its blends' valid split: 1, 2, 3 or `mixed`."""
    use_loss_mask: bool = True
    """Apply its loss-mask sidecars (False: every token counts)."""


@dataclass(frozen=True)
class WeightingSettings(WeightingConfig):
    """Reference-model token weighting of the training loss (`pretrain.weighting`: the criterion and its
    constants) and where the reference model comes from. Online mode: the reference model runs frozen in the
    same process, on the same micro-batch, with the same parallel layout (no gradient); its per-token loss
    gives the weights. Evaluation losses are never weighted."""

    __pydantic_config__ = STRICT

    mode: Literal["online", "offline"] = "online"
    """`online`: the reference model (`reference`) runs frozen in the same process, on the same micro-batch,
    with the same parallel layout, without gradient. `offline`: the reference losses come from the shards'
    `<prefix>_refloss` sidecars written by `python -m pretrain.score` (no reference forward pass in training)."""
    reference: str = ""
    """A Hugging Face directory of the reference model (same tokenizer as the run; `{out}` expands to
    `checkpoint.save`). Required in online mode by every criterion but `none`."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.needs_reference and self.mode == "online" and not self.reference:
            raise ValueError(f"weighting.criterion {self.criterion!r} needs weighting.reference (a Hugging Face "
                             "directory of the reference model) in online mode, or mode: offline with the "
                             "shards' reference-loss sidecars (python -m pretrain.score)")
        if self.mode == "offline" and self.criterion in ("loss_ratio", "rho1", "inverse_ref") and self.reference:
            raise ValueError("weighting: mode offline reads the sidecars; leave weighting.reference empty")


@dataclass
class TrainConfig:
    """A whole continued-pretraining run: model, data, batch, parallel layout and the curriculum."""

    __pydantic_config__ = STRICT

    model: ModelSource
    data: DataConfig
    stages: list[StageConfig]
    """Run in order; each starts from the previous stage's final checkpoint (the first from `model`)."""
    mode: Literal["curriculum", "mixed"] = "curriculum"
    """`mixed`: one stage over the blend of all three curriculum stages with the summed budget (the seeds'
    curriculum-vs-mixed ablation), named `mixed`, with the first stage's optimizer settings."""
    micro_batch_size: int = 1
    global_batch_size: int = 8
    """Sequences per optimizer step, across data-parallel ranks and micro-batches."""
    precision: Literal["auto", "bf16", "fp32"] = "auto"
    """`auto`: BF16 on GPU, FP32 on CPU."""
    seed: int = 1234
    parallel: ParallelConfig = field(default_factory=ParallelConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    eval_sets: dict[str, EvalSetConfig] = field(default_factory=dict)
    """Extra validation sets by name, evaluated with every evaluation (`valid` is the stage's own split)."""
    weighting: WeightingSettings = field(default_factory=WeightingSettings)
    """Token weighting of the training loss by a reference model (default `none`)."""

    def __post_init__(self) -> None:
        if not self.stages:
            raise ValueError("stages: give at least one stage")
        names = [s.name for s in self.stages]
        if len(set(names)) != len(names):
            raise ValueError(f"stages: names must be unique, got {names}")
        if self.micro_batch_size < 1 or self.global_batch_size < self.micro_batch_size:
            raise ValueError("need 1 <= micro_batch_size <= global_batch_size")
        if "valid" in self.eval_sets:
            raise ValueError("eval_sets: `valid` is the stage's own validation split; pick another name")

    def plan(self) -> list[StageConfig]:
        """The stages to run: the curriculum as given, or for `mixed` one stage over all the data."""
        if self.mode == "curriculum":
            return list(self.stages)
        first = self.stages[0]
        budget = {}
        if all(s.steps is not None for s in self.stages):
            budget["steps"] = sum(s.steps for s in self.stages)
        elif all(s.tokens is not None for s in self.stages):
            budget["tokens"] = sum(s.tokens for s in self.stages)
        else:  # one epoch of every stage's data is one epoch of the mixed blend
            budget["epochs"] = first.epochs
        return [StageConfig(name="mixed", data="mixed", optimizer=first.optimizer, **budget)]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, default=str)


_ADAPTER = TypeAdapter(TrainConfig)


def _set(tree: dict, dotted: str, value: Any) -> None:
    keys = dotted.split(".")
    node = tree
    for k in keys[:-1]:
        if k.isdigit() and isinstance(node, list):
            node = node[int(k)]
            continue
        node = node.setdefault(k, {})
        if not isinstance(node, dict | list):
            raise ConfigError(f"override {dotted}: {k} is not a section")
    last = keys[-1]
    if last.isdigit() and isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def apply_overrides(tree: dict, overrides: list[str]) -> dict:
    """`key.sub=value` strings (YAML values: `3`, `2e-5`, `true`, `[1, 2]`) applied to a config tree;
    list items by index (`stages.0.steps=10`)."""
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r}: expected key=value (e.g. checkpoint.interval=50)")
        key, raw = item.split("=", 1)
        _set(tree, key.strip(), yaml.safe_load(raw))
    return tree


def _explain(err: ValidationError, source: str) -> str:
    lines = [f"{source}: invalid training config"]
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"])
        msg = e["msg"]
        if e["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
            msg = "unknown key" + _suggest(e["loc"])
        lines.append(f"  {loc}: {msg}")
    return "\n".join(lines)


def _fields_at(loc: tuple) -> list[str]:
    cls: Any = TrainConfig
    for part in loc[:-1]:
        if isinstance(part, int) or not dataclasses.is_dataclass(cls):
            continue
        hints = {f.name: f.type for f in dataclasses.fields(cls)}
        t = str(hints.get(part, ""))
        cls = next((c for c in (ModelSource, DataConfig, StageConfig, OptimizerConfig, ParallelConfig,
                                CheckpointConfig, LoggingConfig, EvalSetConfig) if c.__name__ in t), None)  # fmt: skip
        if cls is None:
            return []
    return [f.name for f in dataclasses.fields(cls)] if dataclasses.is_dataclass(cls) else []


def _suggest(loc: tuple) -> str:
    valid = _fields_at(tuple(loc))
    if not valid:
        return ""
    close = difflib.get_close_matches(str(loc[-1]), valid, n=1, cutoff=0.6)
    return (f"; did you mean `{close[0]}`?" if close else "") + f" (keys here: {', '.join(sorted(valid))})"


def resolve_path(path: str, out: str | None = None) -> Path:
    """A config path: `{out}` = the run folder, `{project}` = this checkout; relative = against the project."""
    if out is not None:
        path = path.replace("{out}", str(out))
    p = Path(path.replace("{project}", str(PROJECT))).expanduser()
    return p if p.is_absolute() else PROJECT / p


def config_from_dict(tree: dict, source: str = "config") -> TrainConfig:
    try:
        return _ADAPTER.validate_python(tree)
    except ValidationError as e:
        raise ConfigError(_explain(e, source)) from None


def load_config(path: str | Path, overrides: list[str] | None = None) -> TrainConfig:
    """Read a YAML training config, apply overrides, validate into `TrainConfig`."""
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"{p}: no such config; see configs/pretrain/ for examples")
    tree = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    if not isinstance(tree, dict):
        raise ConfigError(f"{p}: expected a mapping at the top level")
    return config_from_dict(apply_overrides(tree, overrides or []), str(p))
