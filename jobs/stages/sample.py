"""The sample stage: writes the seeded demo platform (`corpus/sample`) as raw input files.

It is `make corpus`'s default input: `out/sample/` holds raw JSONL/CSV/Parquet files, the ground
truth under `_truth/`, and a card saying the data is generated. Same seed and size, same bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

import orjson

from jobs.settings import StrictModel
from jobs.stage import Engine, Stage, StageCounts

if TYPE_CHECKING:
    from jobs.config import RunConfig


class SampleStageConfig(StrictModel):
    """The demo sample: generated first when `enabled`, and readable as `{sample}` in source paths."""

    enabled: bool = True
    preset: Literal["tiny", "small", "medium"] = "small"
    target_bytes: int | None = None
    seed: int = 0


class SampleStage(Stage):
    name = "sample"
    requires = ()

    @classmethod
    def from_run(cls, run: RunConfig, out: Path) -> SampleStage:
        return cls(run.sample)

    def __init__(self, cfg: SampleStageConfig):
        self.cfg = cfg

    def sample_config(self):
        from corpus.sample import SampleConfig

        if self.cfg.target_bytes:
            return SampleConfig.for_target_bytes(self.cfg.target_bytes, seed=self.cfg.seed)
        return SampleConfig.preset(self.cfg.preset, seed=self.cfg.seed)

    def config(self) -> dict:
        return {"preset": self.cfg.preset, "target_bytes": self.cfg.target_bytes, "seed": self.cfg.seed}

    def input_files(self) -> list[Path]:
        return []

    def plan(self) -> list[int]:
        return [0]

    def process(self, task_index: int, work_dir: Path) -> dict:
        from corpus.sample import generate_sample

        generate_sample(self.sample_config(), work_dir)
        return {}

    def finalize(self, work_dir: Path, engine: Engine) -> StageCounts:
        info = orjson.loads((work_dir / "_sample.json").read_bytes())
        counts = StageCounts()
        for ds, n in sorted(info["datasets"].items()):
            counts.datasets[ds] += int(n)
        total = sum(counts.datasets.values())
        counts.add_source("generated", {"rows_in": total, "rows_out": total})  # one source: the generator
        return counts
