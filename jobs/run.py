"""Run a whole corpus job from a `RunConfig`: the stages in order, on the configured engine.

`run_corpus` is what `make corpus` and `music-corpus run` call. Each stage is skipped when its
manifest matches, resumes after a kill, and the run ends with a short summary table.
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from jobs.config import RunConfig
from jobs.engines import DatatroveEngine, LocalEngine, SparkEngine, spark_session
from jobs.stage import Engine, StageResult, run_stage
from jobs.stages.behavior import BehaviorStage
from jobs.stages.dedup import DedupStage
from jobs.stages.ingest import IngestStage
from jobs.stages.knowledge import KnowledgeStage
from jobs.stages.mix import MixStage
from jobs.stages.refine import RefineStage
from jobs.stages.relations import RelationsStage
from jobs.stages.sample import SampleStage
from jobs.stages.select import SelectStage
from jobs.stages.shards import ShardsStage

log = logging.getLogger("music_corpus")
STAGES = ("sample", "ingest", "refine", "dedup", "select", "behavior", "relations", "knowledge", "mix", "shards")
DOCUMENT_STAGES = STAGES[:5]  # raw input to selected documents; the rest builds the curriculum


@dataclass
class RunReport:
    results: list[StageResult]
    wall_time_s: float


@contextmanager
def make_engine(cfg: RunConfig, out: Path, progress: bool = True):
    """The engine named by the config; a Spark engine owns its session for the run's duration."""
    if cfg.engine == "spark":
        spark = spark_session(cfg.spark, cfg.workers)
        try:
            yield SparkEngine(spark)
        finally:
            spark.stop()
    elif cfg.engine == "inline":
        yield LocalEngine(progress)
    else:
        yield DatatroveEngine(cfg.workers, cfg.executor, logs_root=out / "_logs", progress=progress)


def run_corpus(
    cfg: RunConfig,
    stages: tuple[str, ...] = STAGES,
    force: bool = False,
    progress: bool = True,
    engine: Engine | None = None,
) -> RunReport:
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    results: list[StageResult] = []
    sample_dir = out / "sample"
    unknown = set(stages) - set(STAGES)
    if unknown:
        raise ValueError(f"unknown stage(s) {sorted(unknown)}; stages are {STAGES}")

    def _run(eng: Engine) -> None:
        if "sample" in stages and cfg.sample.enabled:
            # the generator is one task; running it in-process avoids a worker pool for nothing
            results.append(run_stage(SampleStage(cfg.sample), out, LocalEngine(), force, log.info))
        if "ingest" in stages:
            if not cfg.ingest.sources:
                raise ValueError("ingest: no sources configured (ingest.sources is empty)")
            stage = IngestStage(cfg.ingest, sample_dir, engine=eng)
            results.append(run_stage(stage, out, eng, force, log.info))
        if "refine" in stages:
            results.append(run_stage(RefineStage(cfg.refine, out / "ingest"), out, eng, force, log.info))
        if "dedup" in stages and cfg.dedup.enabled:
            stage = DedupStage(cfg.dedup, out / "refine", engine=eng, ingest_dir=out / "ingest")
            results.append(run_stage(stage, out, eng, force, log.info))
        if "select" in stages:
            dedup_dir = out / "dedup" if cfg.dedup.enabled else None
            results.append(run_stage(SelectStage(cfg.select, out / "refine", dedup_dir), out, eng, force, log.info))
        if "behavior" in stages and cfg.behavior.enabled:
            results.append(run_stage(BehaviorStage(cfg.behavior, out / "ingest", engine=eng), out, eng, force, log.info))
        behavior_dir = out / "behavior" if cfg.behavior.enabled else None
        if "relations" in stages and cfg.relations.enabled:
            stage = RelationsStage(cfg.relations, out / "ingest", behavior_dir, engine=eng, workers=cfg.workers)
            results.append(run_stage(stage, out, eng, force, log.info))
        if "knowledge" in stages and cfg.knowledge.enabled:
            stage = KnowledgeStage(cfg.knowledge, out / "ingest", out / "select",
                                   out / "relations" if cfg.relations.enabled else None)
            results.append(run_stage(stage, out, eng, force, log.info))
        if "mix" in stages and cfg.mix.enabled:
            knowledge_dir = out / "knowledge" if cfg.knowledge.enabled else None
            results.append(run_stage(MixStage(cfg.mix, knowledge_dir, behavior_dir), out, eng, force, log.info))
        if "shards" in stages and cfg.shards.enabled and cfg.mix.enabled:
            results.append(run_stage(ShardsStage(cfg.shards, out / "mix"), out, eng, force, log.info))

    if engine is not None:
        _run(engine)
    else:
        with make_engine(cfg, out, progress) as eng:
            _run(eng)
    return RunReport(results, time.perf_counter() - t0)


def format_summary(report: RunReport) -> str:
    """A plain-text table of per-stage rows, drops, quarantine and time."""
    header = f"{'stage':<10} {'status':<8} {'rows in':>12} {'rows out':>12} {'dropped':>9} {'quarant.':>9} {'time s':>8}"
    lines = [header, "-" * len(header)]
    for r in report.results:
        m = r.manifest
        dropped = sum((m.get("dropped") or {}).values())
        quarantined = sum((m.get("quarantined") or {}).values())
        t = m.get("wall_time_s", 0.0) if r.status == "ran" else 0.0
        lines.append(
            f"{r.stage:<10} {r.status:<8} {m['rows_in']:>12,} {m['rows_out']:>12,} {dropped:>9,} {quarantined:>9,} {t:>8.1f}"
        )
        reasons = {**{f"dropped:{k}": v for k, v in (m.get("dropped") or {}).items()},
                   **{f"quarantined:{k}": v for k, v in (m.get("quarantined") or {}).items()}}
        if reasons:
            lines.append("           " + ", ".join(f"{k}={v:,}" for k, v in sorted(reasons.items())))
        if m.get("datasets"):
            lines.append("           datasets: " + ", ".join(f"{k}={v:,}" for k, v in m["datasets"].items()))
    lines.append(f"total wall time {report.wall_time_s:.1f}s; outputs under {report.results[0].out_dir.parent if report.results else '-'}")
    return "\n".join(lines)
