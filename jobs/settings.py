"""What every part of a run's config builds on: strict pydantic models, the engine and executor settings,
and where the shared data lives.

Imports nothing from the stages, so a stage's config module can use it and `jobs.config` (which composes
the stages' configs into the `RunConfig`) can import those modules at the top: no import circle.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

STRICT = ConfigDict(extra="forbid")
"""pydantic settings of a stage config that extends an op's dataclass (`@pydantic_dataclass(config=STRICT)`)."""


def config_dict(cfg: Any) -> dict:
    """A config (pydantic model or dataclass) as JSON-able data, for fingerprints and cards."""
    return TypeAdapter(type(cfg)).dump_python(cfg, mode="json")


def op_config(cfg: Any, op_class: type) -> Any:
    """The op's own config (a plain `op_class` dataclass) out of a stage config that extends it."""
    return op_class(**{f.name: getattr(cfg, f.name) for f in dataclasses.fields(op_class)})


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SlurmConfig(StrictModel):
    partition: str | None = None
    time: str = "24:00:00"
    cpus_per_task: int = 1
    mem_per_cpu_gb: float = 2
    job_name: str = "music-corpus"
    sbatch_args: dict[str, Any] = Field(default_factory=dict)
    # how a node gets this environment: a shell line (e.g. `module load ...; source env/bin/activate`);
    # default: activate the virtualenv of the Python that submits
    env_command: str | None = None


class RayConfig(StrictModel):
    address: str | None = None
    cpus_per_task: int = 1


class ExecutorConfig(StrictModel):
    """Where datatrove runs tasks: local processes (default), a Slurm cluster or a Ray cluster."""

    kind: Literal["local", "slurm", "ray"] = "local"
    slurm: SlurmConfig = SlurmConfig()
    ray: RayConfig = RayConfig()


class SparkConfig(StrictModel):
    master: str = "local[*]"
    app_name: str = "music-corpus"
    conf: dict[str, str] = Field(default_factory=dict)


def shared_data_dir() -> Path:
    """The shared public datasets: env `MUSIC_SHARED_DATA`, default `../shared/data` beside the project."""
    env = os.environ.get("MUSIC_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def expand_path(path: str, sample_dir: Path) -> str:
    """`{sample}` -> the demo sample folder, `{shared}` -> the shared data folder."""
    return path.replace("{sample}", str(sample_dir)).replace("{shared}", str(shared_data_dir()))
