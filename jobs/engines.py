"""Engines that run a stage's tasks: datatrove executors (local processes, Slurm, Ray) and Spark.

Both are thin: a task is `stage.run_task(i, work_dir)`, the same function whatever runs it. The
datatrove adapter is a `PipelineStep` whose rank is the task index; the Spark adapter maps
partitions of task indices. Engines also answer the one shuffle ingestion needs (which keys
occur twice): DuckDB out of core locally, a Spark aggregation on a cluster.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from pathlib import Path

from corpus.ingest.dedupe_ids import DupLocation, duckdb_find_duplicates
from jobs.config import ExecutorConfig, SparkConfig
from jobs.stage import Engine, InlineEngine, Stage

log = logging.getLogger("music_corpus")


class TaskProgress:
    """A progress bar over finished tasks (counts `_tasks/*.json`), shown on a terminal only."""

    def __init__(self, stage: str, work_dir: Path, total: int, enabled: bool):
        self.work_dir, self.total = work_dir, total
        self.enabled = enabled and sys.stderr.isatty()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.stage = stage
        self._stream = sys.stderr  # captured now: stderr may be redirected while tasks run

    def _done(self) -> int:
        d = self.work_dir / "_tasks"
        return len(list(d.glob("*.json"))) if d.exists() else 0

    def _loop(self) -> None:
        from tqdm import tqdm  # noqa: PLC0415

        with tqdm(total=self.total, desc=f"{self.stage} tasks", unit="task", leave=False, file=self._stream) as bar:
            while not self._stop.wait(0.5):
                bar.n = self._done()
                bar.refresh()
            bar.n = self._done()
            bar.refresh()

    def __enter__(self) -> TaskProgress:
        if self.enabled:
            self._thread = threading.Thread(target=self._loop, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()


class LocalEngine(InlineEngine):
    """In-process engine (one core) with DuckDB for the duplicate-key shuffle."""

    name = "inline"

    def __init__(self, progress: bool = False):
        self.progress = progress

    def run_tasks(self, stage: Stage, n_tasks: int, work_dir: Path) -> None:
        with TaskProgress(stage.name, work_dir, n_tasks, self.progress):
            super().run_tasks(stage, n_tasks, work_dir)

    def find_duplicates(self, dataset_dir: Path, key: str) -> list[DupLocation]:
        return duckdb_find_duplicates(dataset_dir, key)


class DatatroveEngine(LocalEngine):
    """Runs tasks as datatrove ranks: `LocalPipelineExecutor` with N workers, or Slurm / Ray."""

    def __init__(self, workers: int = 2, executor: ExecutorConfig = ExecutorConfig(), logs_root: Path | None = None,
                 progress: bool = True):
        super().__init__(progress)
        self.workers = workers
        self.executor = executor
        self.logs_root = logs_root
        self.name = f"datatrove-{executor.kind}"

    def build_executor(self, stage: Stage, n_tasks: int, work_dir: Path):
        from jobs.datatrove_steps import StageTaskStep  # noqa: PLC0415

        logs = str((self.logs_root or work_dir.parent / "_logs") / work_dir.name)
        pipeline = [StageTaskStep(stage, str(work_dir))]
        kind = self.executor.kind
        if kind == "local":
            from datatrove.executor import LocalPipelineExecutor  # noqa: PLC0415

            return LocalPipelineExecutor(
                pipeline=pipeline,
                tasks=n_tasks,
                workers=max(1, min(self.workers, n_tasks)),
                logging_dir=logs,
                skip_completed=True,
                start_method="fork",
            )
        if kind == "slurm":
            from datatrove.executor import SlurmPipelineExecutor  # noqa: PLC0415

            s = self.executor.slurm
            if not s.partition:
                raise ValueError("executor.slurm.partition must be set to run on Slurm")
            return SlurmPipelineExecutor(
                pipeline=pipeline,
                tasks=n_tasks,
                time=s.time,
                partition=s.partition,
                cpus_per_task=s.cpus_per_task,
                mem_per_cpu_gb=s.mem_per_cpu_gb,
                job_name=f"{s.job_name}-{stage.name}",
                logging_dir=logs,
                sbatch_args=dict(s.sbatch_args),
                env_command=s.env_command or f"source {Path(sys.prefix) / 'bin' / 'activate'}",
                skip_completed=True,
            )
        from datatrove.executor import RayPipelineExecutor  # noqa: PLC0415

        return RayPipelineExecutor(
            pipeline=pipeline, tasks=n_tasks, workers=self.workers, logging_dir=logs,
            cpus_per_task=self.executor.ray.cpus_per_task, skip_completed=True,
        )

    def run_tasks(self, stage: Stage, n_tasks: int, work_dir: Path) -> None:
        if n_tasks == 0:
            return
        executor = self.build_executor(stage, n_tasks, work_dir)
        console_log = Path(executor.logging_dir.path) / "console.log"
        console_log.parent.mkdir(parents=True, exist_ok=True)
        with TaskProgress(stage.name, work_dir, n_tasks, self.progress):
            # datatrove's loguru sinks write every rank's INFO lines to stderr; keep them in a file
            # beside datatrove's own per-task logs so the console shows our progress and summary
            from loguru import logger  # noqa: PLC0415

            with open(console_log, "a") as sink, contextlib.redirect_stderr(sink):
                logger.remove()
                logger.add(sink, level="INFO", colorize=False)
                try:
                    executor.run()
                finally:
                    logger.remove()
            if self.executor.kind == "slurm":
                wait_for_tasks(work_dir, n_tasks)
        _require_all_done(stage, work_dir, n_tasks)


def wait_for_tasks(work_dir: Path, n_tasks: int, poll_s: float = 30.0) -> None:
    """Block until every task has written its stats file (cluster executors return at submission)."""
    d = work_dir / "_tasks"
    last = -1
    while (done := len(list(d.glob("*.json"))) if d.exists() else 0) < n_tasks:
        if done != last:
            log.info("%d/%d tasks finished", done, n_tasks)
            last = done
        time.sleep(poll_s)


def _require_all_done(stage: Stage, work_dir: Path, n_tasks: int) -> None:
    d = work_dir / "_tasks"
    missing = [i for i in range(n_tasks) if not (d / f"{i:05d}.json").exists()]
    if missing:
        raise RuntimeError(
            f"stage {stage.name}: {len(missing)} task(s) did not finish (first: {missing[:5]}); "
            f"see the logs under {work_dir.parent / '_logs'}. Re-run to resume."
        )


class SparkEngine(Engine):
    """Runs tasks as Spark partitions (`mapPartitions` over task indices) and dedupes keys in Spark."""

    name = "spark"

    def __init__(self, spark):
        self.spark = spark

    def run_tasks(self, stage: Stage, n_tasks: int, work_dir: Path) -> None:
        if n_tasks == 0:
            return
        wd = str(work_dir)

        def run_partition(indices):
            for i in indices:
                yield i, stage.run_task(i, Path(wd))

        sc = self.spark.sparkContext
        sc.setJobDescription(f"{stage.name}: {n_tasks} tasks")
        # only the small per-task stats come back to the driver
        sc.parallelize(range(n_tasks), n_tasks).mapPartitions(run_partition).collect()
        _require_all_done(stage, work_dir, n_tasks)

    def find_duplicates(self, dataset_dir: Path, key: str) -> list[DupLocation]:
        from pyspark.sql import functions as F  # noqa: PLC0415

        files = sorted(str(f) for f in dataset_dir.glob("part-*.parquet"))
        if not files:
            return []
        df = self.spark.read.parquet(*files).select(
            F.col(key).alias("k"), F.col("_metadata.file_name").alias("f"), F.col("_metadata.row_index").alias("r")
        )
        dups = df.groupBy("k").count().where("count > 1").select("k")
        rows = df.join(dups, "k").orderBy("k", "f", "r").collect()  # only duplicated keys reach the driver
        return [DupLocation(r["k"], r["f"], int(r["r"])) for r in rows]


def spark_session(cfg: SparkConfig, workers: int | None = None):
    """A SparkSession with settings that keep outputs deterministic and local runs quiet."""
    import os  # noqa: PLC0415

    from pyspark.sql import SparkSession  # noqa: PLC0415

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    master = cfg.master
    if master == "local[*]" and workers:
        master = f"local[{workers}]"
    b = (
        SparkSession.builder.master(master)
        .appName(cfg.app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(max(2 * (workers or 2), 8)))
        .config("spark.python.worker.reuse", "true")
        .config("spark.ui.showConsoleProgress", "false")
        # ISO timestamps with a UTC instant in Parquet (the INT96 default is deprecated and zone-less)
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .config("spark.driver.extraJavaOptions", "-Dlog4j.rootLogger=WARN")
    )
    for k, v in cfg.conf.items():
        b = b.config(k, v)
    logging.getLogger("py4j").setLevel(logging.WARNING)  # one INFO line per closed gateway connection otherwise
    spark = b.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


__all__ = ["DatatroveEngine", "LocalEngine", "SparkEngine", "TaskProgress", "spark_session"]
