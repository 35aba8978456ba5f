"""The run config: one YAML file, validated with pydantic, describes a whole corpus run.

Each stage's settings live with the stage (`jobs/stages/<stage>.py`); this module composes them into the
`RunConfig` (the base models and engine settings are in `jobs/settings.py`).

`load_config(path)` reads and validates it (errors name the bad key and say what is allowed);
`{sample}` and `{shared}` in source paths expand to the demo sample directory and to the
shared data directory (env `MUSIC_SHARED_DATA`, default `../shared/data`).
"""

from __future__ import annotations

import dataclasses
import difflib
import typing
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, Field, ValidationError

from jobs.errors import UserError
from jobs.settings import (
    ExecutorConfig,
    RayConfig,
    SlurmConfig,
    SparkConfig,
    StrictModel,
    expand_path,
    shared_data_dir,
)
from jobs.stages.behavior import BehaviorStageConfig
from jobs.stages.dedup import DedupConfig
from jobs.stages.ingest import IgnoredInput, IngestConfig, SourceConfig
from jobs.stages.knowledge import KnowledgeConfig
from jobs.stages.mix import MixConfig
from jobs.stages.refine import RefineConfig
from jobs.stages.relations import RelationsStageConfig
from jobs.stages.rm_score import RmScoreConfig
from jobs.stages.sample import SampleStageConfig
from jobs.stages.select import SelectConfig
from jobs.stages.shards import ShardsConfig
from jobs.stages.uq2i import Uq2iConfig

__all__ = ["DEFAULT_CONFIG", "ConfigError", "ExecutorConfig", "IgnoredInput", "IngestConfig", "RayConfig", "RunConfig",
           "SampleStageConfig", "SlurmConfig", "SourceConfig", "SparkConfig", "StrictModel", "expand_path",
           "load_config", "shared_data_dir"]  # fmt: skip

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "configs" / "demo.yaml"


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
    rm_score: RmScoreConfig = RmScoreConfig()
    select: SelectConfig = SelectConfig()
    behavior: BehaviorStageConfig = BehaviorStageConfig()
    relations: RelationsStageConfig = RelationsStageConfig()
    knowledge: KnowledgeConfig = KnowledgeConfig()
    mix: MixConfig = MixConfig()
    shards: ShardsConfig = ShardsConfig()
    uq2i: Uq2iConfig = Uq2iConfig()


class ConfigError(UserError, ValueError):
    """The config file is missing or invalid; the message names the key."""


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
            if err["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
                msg = "unknown key" + _suggest(err["loc"])
            lines.append(f"  {loc}: {msg}")
        raise ConfigError(f"{p}: invalid config:\n" + "\n".join(lines)) from None


def _fields(model: Any) -> dict[str, Any]:
    """Field name -> annotation of a config class (a pydantic model or a dataclass, e.g. an op's own config)."""
    if isinstance(model, type) and issubclass(model, BaseModel):
        return {k: f.annotation for k, f in model.model_fields.items()}
    if dataclasses.is_dataclass(model):
        hints = typing.get_type_hints(model)
        return {f.name: hints.get(f.name) for f in dataclasses.fields(model)}
    return {}


def _model_at(loc: tuple, model: Any = None) -> Any:
    """The config class that holds the key at `loc` (list indices skipped), or None."""
    model = model or RunConfig
    for key in loc:
        if isinstance(key, int):
            continue
        fields = _fields(model)
        if key not in fields:
            return None
        model = _nested_model(fields[key])
        if model is None:
            return None
    return model


def _nested_model(annotation: Any) -> Any:
    if _fields(annotation):
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
    valid = sorted(_fields(model))
    close = difflib.get_close_matches(str(loc[-1]), valid, n=1, cutoff=0.6)
    hint = f"; did you mean `{close[0]}`?" if close else ""
    return f"{hint} (keys here: {', '.join(valid)})"

