"""Training checkpoints with `megatron.core.dist_checkpointing`: sharded, atomic, loadable at another layout.

A stage folder `<save>/<stage>/` holds
- `iter_0000200/`: one checkpoint (dist_checkpointing's torch_dist format), written to a hidden temporary
  folder and renamed into place once every rank has written its shards; it holds
  `model` (the GPTModel's sharded state dict: tensors keyed by global shape and offset, so a checkpoint
  saved at tensor-parallel 2 loads at 1 and back), `optimizer` (Adam moments keyed by the model's
  tensors), `scheduler` (OptimizerParamScheduler), `rng` (one object per rank; restored only at the same
  world size) and the common `state`: step, consumed samples, model config, world layout;
- `latest`: the newest complete iteration (written atomically after the rename);
- `done.json`: written when the stage finished (final iteration, metrics); a rerun skips the stage;
- `model_config.json`, `train_config.json`: what the stage trained, for people and for `load`'s check.
Only the last `keep_last` intermediate checkpoints are kept; the stage's final one is never removed.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pretrain import compat
from pretrain.model import ModelConfig

log = logging.getLogger(__name__)

ITER_RE = re.compile(r"^iter_(\d{7})$")
LATEST = "latest"
DONE = "done.json"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used for this run; the message names the folder and what to do."""


def iter_dir(stage_dir: Path, step: int) -> Path:
    return Path(stage_dir) / f"iter_{step:07d}"


def _rank() -> int:
    return torch.distributed.get_rank() if torch.distributed.is_initialized() else 0


def _world() -> int:
    return torch.distributed.get_world_size() if torch.distributed.is_initialized() else 1


def _barrier() -> None:
    if torch.distributed.is_initialized():
        torch.distributed.barrier()


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file and a rename (readers never see half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def latest_step(stage_dir: Path) -> int | None:
    """The newest complete checkpoint's iteration in `stage_dir`, or None."""
    f = Path(stage_dir) / LATEST
    if not f.is_file():
        return None
    step = int(f.read_text(encoding="utf-8").strip())
    if not iter_dir(stage_dir, step).is_dir():
        raise CheckpointError(f"{f} names iteration {step}, but {iter_dir(stage_dir, step)} is missing; "
                              f"fix or delete {f} to restart the stage from its start")  # fmt: skip
    return step


def read_done(stage_dir: Path) -> dict | None:
    f = Path(stage_dir) / DONE
    return json.loads(f.read_text(encoding="utf-8")) if f.is_file() else None


def mark_done(stage_dir: Path, info: dict) -> None:
    if _rank() == 0:
        write_atomic(Path(stage_dir) / DONE, json.dumps(info, indent=2, sort_keys=True) + "\n")
    _barrier()


# ------------------------------------------------------------------------------------------ RNG
def rng_state() -> dict:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        from megatron.core import tensor_parallel

        state["cuda"] = torch.cuda.get_rng_state()
        state["rng_tracker"] = tensor_parallel.get_cuda_rng_tracker().get_states()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if torch.cuda.is_available() and "cuda" in state:
        from megatron.core import tensor_parallel

        torch.cuda.set_rng_state(state["cuda"])
        tensor_parallel.get_cuda_rng_tracker().set_states(state["rng_tracker"])


def _rng_sharded(state: dict | None = None):
    from megatron.core.dist_checkpointing.mapping import ShardedObject

    return ShardedObject("rng_state", state if state is not None else rng_state(), (_world(),), (_rank(),),
                         replica_id=0)  # fmt: skip


# ------------------------------------------------------------------------------------------ save / load
@dataclass
class TrainState:
    """Where a stage stands: optimizer steps done and global samples consumed."""

    step: int = 0
    consumed_samples: int = 0


def _layout() -> dict:
    from megatron.core import parallel_state

    return {"world_size": _world(), "tensor_model_parallel_size": parallel_state.get_tensor_model_parallel_world_size(),
            "pipeline_model_parallel_size": parallel_state.get_pipeline_model_parallel_world_size()}  # fmt: skip


def save(stage_dir: Path, *, model: torch.nn.Module, optimizer: Any, scheduler: Any, state: TrainState,
         model_cfg: ModelConfig, keep_last: int = 2) -> Path:  # fmt: skip
    """Save a checkpoint of the stage at `state.step` (a collective: every rank calls it)."""
    from megatron.core import dist_checkpointing

    stage_dir = Path(stage_dir)
    final = iter_dir(stage_dir, state.step)
    tmp = stage_dir / f".{final.name}.tmp"
    if _rank() == 0:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    _barrier()
    model_sd = model.sharded_state_dict()
    sharded = {
        "model": model_sd,
        "optimizer": optimizer.sharded_state_dict(model_sd, is_loading=False),
        "rng": _rng_sharded(),
        "scheduler": scheduler.state_dict(),
        "state": {"step": state.step, "consumed_samples": state.consumed_samples, "model_config": model_cfg.to_dict(),
                  "layout": _layout()},  # fmt: skip
    }
    with compat.cpu_checkpointing():
        dist_checkpointing.save(sharded, str(tmp))
    _barrier()
    if _rank() == 0:
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        write_atomic(stage_dir / LATEST, f"{state.step}\n")
        _prune(stage_dir, keep_last)
    _barrier()
    log.info("saved checkpoint %s", final)
    return final


def _prune(stage_dir: Path, keep_last: int) -> None:
    steps = sorted(int(m.group(1)) for p in stage_dir.iterdir() if (m := ITER_RE.match(p.name)))
    for step in steps[:-keep_last]:
        shutil.rmtree(iter_dir(stage_dir, step), ignore_errors=True)


def common_state(ckpt: Path) -> dict:
    """The checkpoint's common (unsharded) state: step, consumed samples, model config, layout."""
    from megatron.core import dist_checkpointing

    ckpt = Path(ckpt)
    if not (ckpt / "metadata.json").is_file():
        raise CheckpointError(f"{ckpt} is not a dist_checkpointing checkpoint (no metadata.json); point at an "
                              f"`iter_XXXXXXX` folder written by pretrain.train")  # fmt: skip
    return dist_checkpointing.load_common_state_dict(str(ckpt))


def check_model_config(ckpt: Path, model_cfg: ModelConfig, common: dict | None = None) -> None:
    """Raise if the checkpoint was written for another architecture (names the differing fields)."""
    saved = (common or common_state(ckpt))["state"]["model_config"]
    now = model_cfg.to_dict()
    diff = {k: (saved.get(k), v) for k, v in now.items() if saved.get(k) != v}
    if diff:
        raise CheckpointError(f"{ckpt}: saved for another model config (field: (checkpoint, this run)) {diff}; "
                              f"point model.hf_path at the config this checkpoint was trained with, or start "
                              f"the stage afresh by deleting {Path(ckpt).parent}")  # fmt: skip


def load(ckpt: Path, *, model: torch.nn.Module, model_cfg: ModelConfig, optimizer: Any = None,
         scheduler: Any = None) -> TrainState:  # fmt: skip
    """Load a checkpoint into the built model (and optimizer, scheduler and RNG when given: a resume).

    Model-only loads (a curriculum stage starting from the previous stage's final weights) read just the
    `model` tensors. The layout may differ from the saving run's (tensor / data parallel sizes); the RNG
    state is restored only at the same world size."""
    from megatron.core import dist_checkpointing

    ckpt = Path(ckpt)
    common = common_state(ckpt)
    check_model_config(ckpt, model_cfg, common)
    model_sd = model.sharded_state_dict()
    sharded: dict[str, Any] = {"model": model_sd}
    same_world = common["state"]["layout"]["world_size"] == _world()
    if optimizer is not None:
        sharded["optimizer"] = optimizer.sharded_state_dict(model_sd, is_loading=True)
        if same_world:
            sharded["rng"] = _rng_sharded()
    loaded = dist_checkpointing.load(sharded, str(ckpt))
    model.load_state_dict(loaded["model"], strict=True)
    if optimizer is not None:
        optimizer.load_state_dict(loaded["optimizer"])
        if same_world:
            set_rng_state(loaded["rng"])
    if scheduler is not None:
        scheduler.load_state_dict(common["scheduler"])
    st = common["state"]
    log.info("loaded %s (step %d, %s)", ckpt, st["step"], "weights only" if optimizer is None else "full state")
    return TrainState(step=int(st["step"]), consumed_samples=int(st["consumed_samples"]))
