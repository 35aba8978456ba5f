"""datatrove adapters: pipeline steps that run our engine-agnostic ops as datatrove ranks.

`StageTaskStep` makes any stage task a datatrove step (rank = task index), so the same stage runs
under `LocalPipelineExecutor` (with workers and completion-based resume), Slurm or Ray. Counts the
task reports are forwarded to datatrove's stats (`stat_update`), as datatrove's own steps do.
"""

from __future__ import annotations

from pathlib import Path

from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from jobs.stage import Stage


class StageTaskStep(PipelineStep):
    """Runs task `rank` of a stage; produces no documents (outputs are the stage's part files)."""

    name = "music-corpus stage task"
    type = "🎵 - STAGE"

    def __init__(self, stage: Stage, work_dir: str):
        super().__init__()
        self.stage = stage
        self.work_dir = work_dir

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        with self.track_time():
            counts = self.stage.run_task(rank, Path(self.work_dir)) or {}
        for key, value in sorted(counts.items()):
            if isinstance(value, int):
                self.stat_update(key, value=value)
        yield from ()
