"""Engines that run a stage's tasks: datatrove executors (local processes, Slurm, Ray) and Spark.

Both are thin: a task is `stage.run_task(i, work_dir)`, the same function whatever runs it. The
datatrove adapter is a `PipelineStep` whose rank is the task index; the Spark adapter maps
partitions of task indices. Engines also offer the steps that differ by engine, which stages call
without asking which engine they have (`jobs.stage.Engine`): `find_duplicates` (DuckDB out of core
locally, a Spark aggregation on a cluster), `bucket_by_user` (the behavior shuffle), `cluster_duplicates`
(`corpus.dedup.driver.cluster_locally` or `jobs.spark.lib.dedup.cluster_in_spark`) and `stage_spark`
(the run's Spark session, or a local one for the stage).
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from corpus.dedup.driver import cluster_locally
from corpus.ingest.dedupe_ids import DupLocation, duckdb_find_duplicates
from jobs.settings import ExecutorConfig, SparkConfig
from jobs.stage import Engine, Stage

log = logging.getLogger("music_corpus")
SCRATCH = "_tmp"  # a run's temporary files, under its output folder


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
        from tqdm import tqdm

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


class InlineEngine(Engine):
    """Runs tasks one after another in this process (tests, debugging); its engine-specific steps run on
    this node: DuckDB for the duplicate-key check, a one-pass bucketing of events, single-node
    clustering, and a local Spark session of the stage's own for item relations."""

    name = "inline"

    def run_tasks(self, stage: Stage, n_tasks: int, work_dir: Path) -> None:
        for i in range(n_tasks):
            stage.run_task(i, work_dir)

    def find_duplicates(self, dataset_dir: Path, key: str) -> list[DupLocation]:
        return duckdb_find_duplicates(dataset_dir, key)

    def bucket_by_user(self, event_parts: list[Path], n_buckets: int, out: Path) -> None:
        from jobs.stages.behavior import bucket_events_locally

        bucket_events_locally(event_parts, n_buckets, out)

    def cluster_duplicates(self, stage: Any, work_dir: Path) -> dict:
        return cluster_locally(stage.cfg, stage.parts, work_dir)

    @contextlib.contextmanager
    def stage_spark(self, workers: int, out_root: Path | None = None) -> Iterator[Any]:
        """An active session if there is one (a notebook's, a test's), else a `local[workers]` session for this
        stage only, stopped (JVM included) when the stage ends; its local directories under `<out_root>/_tmp`."""
        from pyspark.sql import SparkSession

        if (active := SparkSession.getActiveSession()) is not None:
            yield active
            return
        scratch = out_root / SCRATCH if out_root is not None else None
        logs = out_root / "_logs" / "spark-relations.log" if out_root is not None else None
        spark = spark_session(SparkConfig(master="local[*]", app_name="music-corpus-relations"), workers,
                              scratch_dir=scratch, log_file=logs)  # fmt: skip
        try:
            yield spark
        finally:
            stop_spark(spark)


class LocalEngine(InlineEngine):
    """In-process engine (one core) with a progress line."""

    def __init__(self, progress: bool = False):
        self.progress = progress

    def run_tasks(self, stage: Stage, n_tasks: int, work_dir: Path) -> None:
        with TaskProgress(stage.name, work_dir, n_tasks, self.progress):
            super().run_tasks(stage, n_tasks, work_dir)


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
        from jobs.datatrove_steps import StageTaskStep

        logs = str((self.logs_root or work_dir.parent / "_logs") / work_dir.name)
        pipeline = [StageTaskStep(stage, str(work_dir))]
        kind = self.executor.kind
        if kind == "local":
            from datatrove.executor import LocalPipelineExecutor

            return LocalPipelineExecutor(
                pipeline=pipeline,
                tasks=n_tasks,
                workers=max(1, min(self.workers, n_tasks)),
                logging_dir=logs,
                skip_completed=True,
                start_method="fork",
            )
        if kind == "slurm":
            from datatrove.executor import SlurmPipelineExecutor

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
        from datatrove.executor import RayPipelineExecutor

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
            from loguru import logger

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

    def bucket_by_user(self, event_parts: list[Path], n_buckets: int, out: Path) -> None:
        from jobs.spark.lib.behavior import bucket_events

        bucket_events(self.spark, event_parts, n_buckets, out)

    def cluster_duplicates(self, stage: Any, work_dir: Path) -> dict:
        from jobs.spark.lib.dedup import cluster_in_spark

        return cluster_in_spark(self.spark, stage, work_dir)

    @contextlib.contextmanager
    def stage_spark(self, workers: int, out_root: Path | None = None) -> Iterator[Any]:
        yield self.spark

    def spark_description(self, workers: int) -> str:
        return "the run's Spark session"

    def find_duplicates(self, dataset_dir: Path, key: str) -> list[DupLocation]:
        from pyspark.sql import functions as F

        files = sorted(str(f) for f in dataset_dir.glob("part-*.parquet"))
        if not files:
            return []
        df = self.spark.read.parquet(*files).select(
            F.col(key).alias("k"), F.col("_metadata.file_name").alias("f"), F.col("_metadata.row_index").alias("r")
        )
        dups = df.groupBy("k").count().where("count > 1").select("k")
        rows = df.join(dups, "k").orderBy("k", "f", "r").collect()  # only duplicated keys reach the driver
        return [DupLocation(r["k"], r["f"], int(r["r"])) for r in rows]


LOG4J2_PROPERTIES = Path(__file__).resolve().parent / "spark_log4j2.properties"


def spark_session(cfg: SparkConfig, workers: int | None = None, scratch_dir: Path | None = None,
                  log_file: Path | None = None):
    """A SparkSession with settings that keep outputs deterministic and local runs quiet.

    For a local master, `scratch_dir` holds Spark's local directories (`blockmgr-*`, `spark-*`) and the JVM's
    temporary files, so a killed run leaves them in its own folder (cleaned by the next run), not in the
    system temp directory. When this process starts the JVM, its console output (start-up warnings, log4j
    lines) goes to `log_file` (default: discarded below ERROR by our log4j2 settings)."""
    import os

    from pyspark import SparkConf, SparkContext
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    master = cfg.master
    if master == "local[*]" and workers:
        master = f"local[{workers}]"
    java_opts = [f"-Dlog4j2.configurationFile={LOG4J2_PROPERTIES.as_uri()}", "-XX:-UsePerfData"]
    settings = {
        "spark.master": master,
        "spark.app.name": cfg.app_name,
        "spark.ui.enabled": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": str(max(2 * (workers or 2), 8)),
        "spark.python.worker.reuse": "true",
        "spark.ui.showConsoleProgress": "false",
        # ISO timestamps with a UTC instant in Parquet (the INT96 default is deprecated and zone-less)
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    }
    if master.startswith("local") and scratch_dir is not None:
        local = Path(scratch_dir).resolve() / "spark"
        local.mkdir(parents=True, exist_ok=True)
        settings["spark.local.dir"] = str(local)
        java_opts.append(f"-Djava.io.tmpdir={local}")
    settings["spark.driver.extraJavaOptions"] = " ".join(java_opts)
    settings.update(cfg.conf)
    conf = SparkConf(loadDefaults=False) if SparkContext._gateway is None else SparkConf()
    conf.setAll(sorted(settings.items()))
    logging.getLogger("py4j").setLevel(logging.WARNING)  # one INFO line per closed gateway connection otherwise
    if SparkContext._gateway is None:
        # start the JVM ourselves so its console (start-up warnings, "Using incubator modules", log4j) goes to a
        # file instead of the terminal; SparkContext then uses this gateway
        from pyspark.java_gateway import launch_gateway

        if log_file is not None:
            Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        sink = open(log_file, "ab") if log_file is not None else open(os.devnull, "wb")
        with sink:
            gateway = launch_gateway(conf, popen_kwargs={"stdout": sink, "stderr": sink})
        SparkContext._gateway = gateway
        SparkContext._jvm = gateway.jvm
    spark = SparkSession.builder.config(conf=conf).getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def stop_spark(spark) -> None:
    """Stop the session and its JVM: `SparkSession.stop` alone keeps the JVM (about 1 GB) alive until the
    Python process ends."""
    import gc
    import subprocess

    from pyspark import SparkContext

    # release the Python handles of Java objects while the gateway is up: collected later, in processes
    # forked from this one (datatrove workers), they would message a closed gateway
    gc.collect()
    spark.stop()
    gateway = SparkContext._gateway
    if gateway is None:
        return
    SparkContext._gateway = None
    SparkContext._jvm = None
    with contextlib.suppress(Exception):
        gateway.shutdown()
    proc = getattr(gateway, "proc", None)
    if proc is not None:
        with contextlib.suppress(Exception):
            proc.stdin.close()  # the JVM exits when its stdin closes
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


__all__ = ["DatatroveEngine", "LocalEngine", "SparkEngine", "TaskProgress", "spark_session", "stop_spark"]
