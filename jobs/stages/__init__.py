"""The stages of a corpus run, in run order: `REGISTRY` is what `jobs.run` walks.

Each stage class says which stages' outputs it reads (`requires` / `required(run)`), whether a run config
enables it (`enabled(run)`) and how it is built from the run config (`from_run(run, out)`).
"""

from jobs.stage import Stage
from jobs.stages.behavior import BehaviorStage
from jobs.stages.dedup import DedupStage
from jobs.stages.ingest import IngestStage
from jobs.stages.knowledge import KnowledgeStage
from jobs.stages.mix import MixStage
from jobs.stages.refine import RefineStage
from jobs.stages.relations import RelationsStage
from jobs.stages.rm_score import RmScoreStage
from jobs.stages.sample import SampleStage
from jobs.stages.select import SelectStage
from jobs.stages.shards import ShardsStage
from jobs.stages.uq2i import Uq2iStage

REGISTRY: tuple[type[Stage], ...] = (SampleStage, IngestStage, RefineStage, DedupStage, RmScoreStage, SelectStage,
                                     BehaviorStage, RelationsStage, KnowledgeStage, MixStage, ShardsStage, Uq2iStage)  # fmt: skip
STAGES: tuple[str, ...] = tuple(s.name for s in REGISTRY)
BY_NAME: dict[str, type[Stage]] = {s.name: s for s in REGISTRY}

__all__ = ["BY_NAME", "REGISTRY", "STAGES"]
