"""The run config: one YAML file, validated with pydantic, describes a whole corpus run.

`load_config(path)` reads and validates it (errors name the bad key and say what is allowed);
`{sample}` and `{shared}` in source paths expand to the demo sample directory and to the
shared data directory (env `MUSIC_SHARED_DATA`, default `../shared/data`).
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from jobs.errors import UserError

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "configs" / "demo.yaml"


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


class SampleStageConfig(StrictModel):
    """The demo sample: generated first when `enabled`, and readable as `{sample}` in source paths."""

    enabled: bool = True
    preset: Literal["tiny", "small", "medium"] = "small"
    target_bytes: int | None = None
    seed: int = 0


class SourceConfig(StrictModel):
    """One input source. `name` is the `source` column and the id namespace of its rows."""

    name: str
    path: str
    adapter: str = "generic"
    dataset: str | None = None
    format: Literal["jsonl", "csv", "tsv", "parquet"] | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    license: str = "unknown"
    description: str = ""
    generated: bool = False
    on_bad_file: Literal["fail", "quarantine"] = "fail"


class IgnoredInput(StrictModel):
    """A file or folder under `--input` that the run does not read, and why (recorded in the manifest)."""

    path: str = Field(description="path relative to the input folder")
    reason: str = Field(description="`hidden` (a name starting with `.` or `_`) or `unrecognised`")


class IngestConfig(StrictModel):
    sources: list[SourceConfig] = Field(default_factory=list)
    ignored_inputs: tuple[IgnoredInput, ...] = Field(
        (), description="files under `--input` the run does not read (set by the command line, kept in the manifest)")
    # part of the data config (it decides part boundaries), so never derived from the worker count
    split_bytes: int = Field(32 * 1024 * 1024, gt=0, description="JSONL/Parquet files are split into tasks of this size")
    batch_rows: int = Field(20_000, gt=0, description="rows per Parquet row group and per write batch")
    max_text_bytes: int = Field(8 * 1024 * 1024, gt=0, description="text fields larger than this are quarantined")
    quarantine_payload_bytes: int = Field(1024 * 1024, gt=0)
    unicode_form: Literal["NFC", "NFKC"] = "NFC"

    @field_validator("sources")
    @classmethod
    def _unique(cls, v: list[SourceConfig]) -> list[SourceConfig]:
        seen = set()
        for s in v:
            key = (s.name, s.adapter, s.dataset, s.path)
            if key in seen:
                raise ValueError(f"source {s.name!r} ({s.adapter}, {s.dataset}) is listed twice")
            seen.add(key)
        return v


from jobs.stages.behavior import BehaviorStageConfig  # noqa: E402  (stage configs live with their stages)
from jobs.stages.dedup import DedupConfig  # noqa: E402
from jobs.stages.knowledge import KnowledgeConfig  # noqa: E402
from jobs.stages.mix import MixConfig  # noqa: E402
from jobs.stages.refine import RefineConfig  # noqa: E402
from jobs.stages.relations import RelationsStageConfig  # noqa: E402
from jobs.stages.select import SelectConfig  # noqa: E402
from jobs.stages.shards import ShardsConfig  # noqa: E402


class RunConfig(StrictModel):
    """A whole run: where outputs go, which engine runs the stages, and each stage's settings."""

    out: str = "out"
    engine: Literal["datatrove", "spark", "inline"] = "datatrove"
    workers: int = Field(2, ge=1, description="local worker processes (datatrove) or Spark local cores")
    executor: ExecutorConfig = ExecutorConfig()
    spark: SparkConfig = SparkConfig()
    sample: SampleStageConfig = SampleStageConfig()
    ingest: IngestConfig = IngestConfig()
    refine: RefineConfig = RefineConfig()
    dedup: DedupConfig = DedupConfig()
    select: SelectConfig = SelectConfig()
    behavior: BehaviorStageConfig = BehaviorStageConfig()
    relations: RelationsStageConfig = RelationsStageConfig()
    knowledge: KnowledgeConfig = KnowledgeConfig()
    mix: MixConfig = MixConfig()
    shards: ShardsConfig = ShardsConfig()


class ConfigError(UserError, ValueError):
    """The config file is missing or invalid; the message names the key."""


def shared_data_dir() -> Path:
    env = os.environ.get("MUSIC_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> RunConfig:
    """Read, merge `overrides` (dotted keys allowed) and validate a run config."""
    p = Path(path) if path else DEFAULT_CONFIG
    if not p.exists():
        raise ConfigError(f"{p}: config file not found.")
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{p}: not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: the top level must be a mapping of settings.")
    for key, value in (overrides or {}).items():
        node = data
        *parents, last = key.split(".")
        for k in parents:
            node = node.setdefault(k, {})
        node[last] = value
    try:
        return RunConfig.model_validate(data)
    except ValidationError as e:
        lines = []
        for err in e.errors():
            loc = ".".join(str(x) for x in err["loc"])
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown key" + _suggest(err["loc"])
            lines.append(f"  {loc}: {msg}")
        raise ConfigError(f"{p}: invalid config:\n" + "\n".join(lines)) from None


def _model_at(loc: tuple, model: type[BaseModel] = None) -> type[BaseModel] | None:  # type: ignore[assignment]
    """The config model that holds the key at `loc` (list indices skipped), or None."""
    model = model or RunConfig
    for key in loc:
        if isinstance(key, int):
            continue
        f = model.model_fields.get(key)
        if f is None:
            return None
        model = _nested_model(f.annotation)
        if model is None:
            return None
    return model


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        if (m := _nested_model(arg)) is not None:
            return m
    return None


def _suggest(loc: tuple) -> str:
    """"; did you mean `x`?" for a mistyped key, with the keys allowed at that place."""
    model = _model_at(tuple(loc[:-1]))
    if model is None:
        return ""
    valid = sorted(model.model_fields)
    close = difflib.get_close_matches(str(loc[-1]), valid, n=1, cutoff=0.6)
    hint = f"; did you mean `{close[0]}`?" if close else ""
    return f"{hint} (keys here: {', '.join(valid)})"


def expand_path(path: str, sample_dir: Path) -> str:
    return path.replace("{sample}", str(sample_dir)).replace("{shared}", str(shared_data_dir()))
