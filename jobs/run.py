"""Run a whole corpus job from a `RunConfig`: the stages in order, on the configured engine.

`run_corpus` is what `make corpus` and `music-corpus run` call. Each stage is skipped when its
manifest matches, resumes after a kill, and the run ends with a short summary table.
"""

from __future__ import annotations

import difflib
import glob
import logging
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from jobs.config import RunConfig, expand_path
from jobs.engines import SCRATCH, DatatroveEngine, LocalEngine, SparkEngine, spark_session, stop_spark
from jobs.errors import UserError
from jobs.stage import Engine, StageResult, read_manifest, run_stage
from jobs.stages import BY_NAME, REGISTRY, STAGES
from jobs.stages.refine import read_salt

log = logging.getLogger("music_corpus")
DOCUMENT_STAGES = STAGES[: STAGES.index("select") + 1]  # raw input to selected documents; the rest builds the curriculum


@dataclass
class RunReport:
    results: list[StageResult]
    wall_time_s: float


@contextmanager
def make_engine(cfg: RunConfig, out: Path, progress: bool = True):
    """The engine named by the config; a Spark engine owns its session for the run's duration."""
    if cfg.engine == "spark":
        spark = spark_session(cfg.spark, cfg.workers, scratch_dir=out / SCRATCH, log_file=out / "_logs" / "spark.log")
        try:
            yield SparkEngine(spark)
        finally:
            stop_spark(spark)
    elif cfg.engine == "inline":
        yield LocalEngine(progress)
    else:
        yield DatatroveEngine(cfg.workers, cfg.executor, logs_root=out / "_logs", progress=progress)


@contextmanager
def scratch_space(cfg: RunConfig, out: Path):
    """`<out>/_tmp` as this process's temporary directory for a local run (worker pools' `pymp-*` folders, Spark's
    `blockmgr-*` and `spark-*`): a killed run leaves them there, not in the system temp directory, and the next
    run removes them. Cluster executors (Slurm, Ray) keep their nodes' own temp directories."""
    tmp = (out / SCRATCH).resolve()
    shutil.rmtree(tmp, ignore_errors=True)  # what a killed run left
    local = cfg.engine != "datatrove" or cfg.executor.kind == "local"
    if not local:
        yield tmp
        return
    tmp.mkdir(parents=True)
    saved_env, saved_dir = os.environ.get("TMPDIR"), tempfile.tempdir
    os.environ["TMPDIR"] = str(tmp)
    tempfile.tempdir = str(tmp)
    try:
        yield tmp
    finally:
        if saved_env is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved_env
        tempfile.tempdir = saved_dir
        shutil.rmtree(tmp, ignore_errors=True)


def parse_stages(text: str | None) -> tuple[str, ...]:
    """`--stages a,b,c` in run order; an unknown name is a user error that names the valid ones."""
    if not text:
        return STAGES
    names = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in names if s not in STAGES]
    if unknown:
        hints = [f"{u!r}" + (f" (did you mean {close[0]!r}?)" if (close := difflib.get_close_matches(u, STAGES, 1)) else "")
                 for u in unknown]
        raise UserError(f"--stages: unknown stage {', '.join(hints)}; stages are {', '.join(STAGES)}")
    if not names:
        raise UserError(f"--stages: no stage named; stages are {', '.join(STAGES)}")
    return tuple(s for s in STAGES if s in names)


def enabled_stages(cfg: RunConfig, stages: tuple[str, ...]) -> list[str]:
    """The stages of `stages` this config runs (a disabled stage, or shards without the mix, is left out)."""
    return [s for s in stages if BY_NAME[s].enabled(cfg)]


def preflight(cfg: RunConfig, stages: tuple[str, ...] = STAGES) -> None:
    """Check everything a run can check before its first stage: the stages' inputs, every path the config
    names, secrets, Java for Spark. Raises one `UserError` listing every problem (what, where, what to do)."""
    problems: list[str] = []
    out = Path(cfg.out)
    run = enabled_stages(cfg, stages)

    def produced(stage: str) -> bool:  # by this run, or by an earlier one in the same output folder
        m = read_manifest(out / stage)
        return stage in run or bool(m and m.get("status") == "complete")

    for stage in run:
        missing = [u for u in BY_NAME[stage].required(cfg) if not produced(u)]
        if missing:
            problems.append(f"stage {stage} reads the output of {', '.join(missing)}, which is not under {out}: "
                            f"add {', '.join(missing)} to --stages (or run all stages)")
    if "ingest" in run:
        problems += _source_problems(cfg, sample_ready="sample" in run)
    if "refine" in run:
        model = Path(cfg.refine.classifier_model)
        if not (model / "meta.json").is_file():
            problems.append(f"refine.classifier_model: {model} is not a classifier folder (no meta.json); point it "
                            "at a folder written by `music-corpus classifier train` or leave it unset")
        if cfg.refine.ner_model_path and not Path(cfg.refine.ner_model_path).exists():
            problems.append(f"refine.ner_model_path: {cfg.refine.ner_model_path} does not exist")
        try:
            read_salt(cfg.refine)
        except UserError as e:
            problems.append(str(e))
    if "dedup" in run:
        problems += _dedup_problems(cfg)
    if "shards" in run and cfg.shards.tokenizer is not None:
        tok = Path(expand_path(cfg.shards.tokenizer, out / "sample")).expanduser()
        if not tok.is_dir():
            problems.append(f"shards.tokenizer: {tok} is not a directory; point it at a Hugging Face tokenizer "
                            "directory (e.g. {shared}/../tokenizers/qwen3) or leave it unset to train a BPE")
        elif not any((tok / f).is_file() for f in ("tokenizer.json", "tokenizer_config.json", "vocab.json")):
            problems.append(f"shards.tokenizer: {tok} holds no tokenizer.json, tokenizer_config.json or vocab.json; "
                            "point it at a Hugging Face tokenizer directory")
    if (cfg.engine == "spark" or "relations" in run) and not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        problems.append("Spark needs Java 17 or newer (the relations stage always runs in Spark): install it "
                        "(e.g. apt-get install openjdk-17-jre-headless) and put `java` on PATH or set JAVA_HOME")
    if cfg.executor.kind == "slurm" and cfg.engine == "datatrove" and not cfg.executor.slurm.partition:
        problems.append("executor.slurm.partition: must be set to run on Slurm")
    if problems:
        raise UserError("the run cannot start:\n" + "\n".join(f"  - {p}" for p in problems))


def _source_problems(cfg: RunConfig, sample_ready: bool) -> list[str]:
    from corpus.ingest.sources import ADAPTERS
    from schemas import RAW_DATASETS

    problems = []
    if not cfg.ingest.sources:
        problems.append("ingest.sources is empty: list the sources to read, or run with --input DIR")
    for i, s in enumerate(cfg.ingest.sources):
        where = f"ingest.sources[{i}] ({s.name})"
        if s.adapter not in ADAPTERS:
            close = difflib.get_close_matches(s.adapter, list(ADAPTERS), 1)
            problems.append(f"{where}: unknown adapter {s.adapter!r}" + (f"; did you mean {close[0]!r}?" if close else "")
                            + " (`music-corpus sources` lists them)")
        elif s.adapter == "generic" and s.dataset not in RAW_DATASETS:
            problems.append(f"{where}: generic sources need `dataset:` set to one of {', '.join(sorted(RAW_DATASETS))}")
        if "{sample}" in s.path and sample_ready and cfg.sample.enabled:
            continue  # the sample stage writes it first
        path = expand_path(s.path, Path(cfg.out) / "sample")
        if any(ch in path for ch in "*?["):
            if not glob.glob(os.path.expanduser(path), recursive=True):
                problems.append(f"{where}: path {path} matches no file")
        elif not Path(path).expanduser().exists():
            hint = " (the demo sample: enable `sample` or run the sample stage)" if "{sample}" in s.path else ""
            problems.append(f"{where}: path {path} does not exist{hint}")
    return problems


def _dedup_problems(cfg: RunConfig) -> list[str]:
    from jobs.stages.dedup import INDEX_META

    def path(p: str) -> Path:
        return Path(expand_path(p, Path(cfg.out) / "sample"))

    problems = []
    if cfg.dedup.previous_index and not (path(cfg.dedup.previous_index) / INDEX_META).is_file():
        problems.append(f"dedup.previous_index: {path(cfg.dedup.previous_index)} is not a dedup index (no "
                        f"{INDEX_META}); point it at the `dedup/_index` folder of an earlier run")
    if cfg.dedup.decontam.enabled:
        for f in cfg.dedup.decontam.files:
            if not f.optional and not path(f.path).is_file():
                problems.append(f"dedup.decontam.files: {path(f.path)} not found (set optional: true to skip it)")
    return problems


def run_corpus(
    cfg: RunConfig,
    stages: tuple[str, ...] = STAGES,
    force: bool = False,
    progress: bool = True,
    engine: Engine | None = None,
) -> RunReport:
    stages = parse_stages(",".join(stages))
    preflight(cfg, stages)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    results: list[StageResult] = []

    def _run(eng: Engine) -> None:
        for cls in REGISTRY:
            if cls.name not in stages or not cls.enabled(cfg):
                continue
            # the sample generator is one task: in-process, it needs no worker pool
            stage_engine = LocalEngine() if cls.name == "sample" else eng
            results.append(run_stage(cls.from_run(cfg, out), out, stage_engine, force, log.info))

    with scratch_space(cfg, out):
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
