"""The stage contract every job follows: plan tasks, run them on an engine, finalize, commit atomically.

A stage writes into `out/<stage>.work-<fingerprint>/` and, once its manifest is written there,
renames it to `out/<stage>/`. The fingerprint hashes the stage name, its config, the code version
and the input checksums, so a stage whose `_manifest.json` carries the same fingerprint is skipped;
a killed run resumes in the same work directory, where finished tasks have their `_tasks/*.json`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import orjson
import xxhash

from jobs.outputs import read_task_stats, save_task_stats
from jobs.settings import shared_data_dir
from schemas import get_schema, require_valid

MANIFEST = "_manifest.json"
PACKAGES = ("schemas", "corpus", "jobs", "tokenizer", "pretrain")


@cache
def code_version() -> str:
    """Package version plus a hash of the source tree, so a code change invalidates cached stages."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("music-llm-platform")
    except PackageNotFoundError:
        v = "0+unknown"
    root = Path(__file__).resolve().parent.parent
    h = xxhash.xxh3_64()
    for pkg in PACKAGES:
        for f in sorted((root / pkg).rglob("*.py")):
            h.update(str(f.relative_to(root)).encode())
            h.update(f.read_bytes())
    return f"{v}+src.{h.hexdigest()}"


def file_checksum(path: Path) -> str:
    """xxh3-128 of the file's bytes (fast enough to run on every input of every stage)."""
    h = xxhash.xxh3_128()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return "xxh3_128:" + h.hexdigest()


def canonical_json(obj: Any) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS, default=str)


class SourceTally:
    """Per-source row accounting inside a task: `add(source, ...)` as rows are decided, `as_dict()` into the
    task's stats (`by_source`), `StageCounts.add_task` to merge them in finalize."""

    def __init__(self) -> None:
        self.by_source: dict[str, dict] = {}

    def _src(self, source: str) -> dict:
        s = self.by_source.get(source)
        if s is None:
            s = self.by_source[source] = {"rows_in": 0, "rows_out": 0, "dropped": Counter(), "quarantined": Counter()}
        return s

    def add(self, source: str | None, *, rows_in: int = 0, rows_out: int = 0, dropped: str | None = None,
            quarantined: str | None = None, n: int = 1) -> None:
        """Count `rows_in` / `rows_out` rows of `source`, or `n` rows dropped or quarantined for a reason."""
        s = self._src(source or "unknown")
        s["rows_in"] += rows_in
        s["rows_out"] += rows_out
        if dropped is not None:
            s["dropped"][dropped] += n
        if quarantined is not None:
            s["quarantined"][quarantined] += n

    def kept(self, source: str | None, n: int = 1) -> None:
        """`n` rows of `source` in and out."""
        self.add(source, rows_in=n, rows_out=n)

    def drop(self, source: str | None, reason: str, n: int = 1) -> None:
        """`n` rows of `source` in and dropped for `reason`."""
        self.add(source, rows_in=n, dropped=reason, n=n)

    def as_dict(self) -> dict[str, dict]:
        return {k: {**v, "dropped": dict(sorted(v["dropped"].items())),  # extra counters (dicts) pass through
                    "quarantined": dict(sorted(v["quarantined"].items()))} for k, v in sorted(self.by_source.items())}


@dataclass
class StageCounts:
    """Row accounting of a stage: rows_in == rows_out + sum(dropped) + sum(quarantined), in total and per source."""

    rows_in: int = 0
    rows_out: int = 0
    dropped: Counter = field(default_factory=Counter)
    quarantined: Counter = field(default_factory=Counter)
    datasets: Counter = field(default_factory=Counter)
    bytes_in: int = 0
    tokens: int | None = None
    # per-source accounting: {source: {"rows_in":..,"rows_out":..,"dropped":{..},"quarantined":{..}, ...}}
    by_source: dict[str, dict] = field(default_factory=dict)

    def add_task(self, stats: dict) -> None:
        """Add a finished task's stats: `rows_in`, `rows_out`, `dropped`, `quarantined` and `by_source`
        (a `SourceTally.as_dict()`); the totals are the sums over sources."""
        for source, s in (stats.get("by_source") or {}).items():
            self.add_source(source, s)

    def add_source(self, source: str, s: dict) -> None:
        """Add one source's counts (and extra per-source counters, e.g. repairs) to the totals."""
        dst = self.by_source.setdefault(source, {"rows_in": 0, "rows_out": 0, "dropped": {}, "quarantined": {}})
        self.rows_in += s.get("rows_in", 0)
        self.rows_out += s.get("rows_out", 0)
        dst["rows_in"] += s.get("rows_in", 0)
        dst["rows_out"] += s.get("rows_out", 0)
        for key in ("dropped", "quarantined"):
            reasons = s.get(key) or {}
            getattr(self, key).update(reasons)
            merged = Counter(dst[key])
            merged.update(reasons)
            dst[key] = dict(sorted(merged.items()))
        for key, value in s.items():  # extra counters (dicts of counts) pass through, summed
            if key in ("rows_in", "rows_out", "dropped", "quarantined") or not isinstance(value, dict):
                continue
            merged = Counter(dst.get(key) or {})
            merged.update(value)
            dst[key] = dict(sorted(merged.items()))

    def check(self, stage: str) -> None:
        lost = self.rows_in - self.rows_out - sum(self.dropped.values()) - sum(self.quarantined.values())
        if lost:
            raise AssertionError(
                f"stage {stage}: row accounting does not balance: {self.rows_in} in, {self.rows_out} out, "
                f"{dict(self.dropped)} dropped, {dict(self.quarantined)} quarantined ({lost:+d} unaccounted)"
            )
        if not self.by_source and self.rows_in:
            raise AssertionError(f"stage {stage}: {self.rows_in} rows in but no per-source accounting")
        for source, s in self.by_source.items():
            lost = s["rows_in"] - s["rows_out"] - sum(s["dropped"].values()) - sum(s["quarantined"].values())
            if lost:
                raise AssertionError(f"stage {stage}, source {source}: row accounting does not balance ({lost:+d}): {s}")
        for key in ("rows_in", "rows_out"):
            total = sum(s[key] for s in self.by_source.values())
            if self.by_source and total != getattr(self, key):
                raise AssertionError(f"stage {stage}: {key} {getattr(self, key)} != {total} summed over sources")
        for key in ("dropped", "quarantined"):
            total: Counter = Counter()
            for s in self.by_source.values():
                total.update(s[key])
            if self.by_source and +total != +getattr(self, key):
                raise AssertionError(f"stage {stage}: {key} {dict(getattr(self, key))} != {dict(total)} summed over sources")


@dataclass
class StageResult:
    stage: str
    status: str  # "ran" | "skipped"
    manifest: dict
    out_dir: Path


class Stage(ABC):
    """A unit of a run. Subclasses say what they read (`requires`, `input_files`), how the work splits into
    tasks (`plan`) and what one task does (`process`); the base class does the bookkeeping:

    - `run_task` (what every engine calls) returns a finished task's saved stats without redoing it (a
      killed run resumes), calls `setup()` once per worker process before its first task, runs `process`
      and saves the stats it returns, atomically, as the task's `_tasks/NNNNN.json`;
    - `task_stats` / `sum_tasks` read them back and sum the row accounting in `finalize`;
    - attributes named in `transient` (models, lookups and caches built by `setup()` or cached properties)
      are dropped when the stage is pickled to a worker, which rebuilds them there.
    """

    name: str
    #: stages whose outputs this one reads (for the run's preflight check); see also `required`
    requires: tuple[str, ...] = ()
    #: per-process resources, never pickled to workers (rebuilt where the task runs)
    transient: tuple[str, ...] = ()

    # ------------------------------------------------------------------ building from a run config
    @classmethod
    def enabled(cls, run: Any) -> bool:
        """Whether `run` (a `RunConfig`) runs this stage (its `enabled` switch by default)."""
        return getattr(getattr(run, cls.name), "enabled", True)

    @classmethod
    def required(cls, run: Any) -> tuple[str, ...]:
        """The stages whose outputs this stage reads under `run` (default: `requires`)."""
        return cls.requires

    @classmethod
    @abstractmethod
    def from_run(cls, run: Any, out: Path) -> Stage:
        """The stage as `run` configures it, reading its inputs under the output folder `out`."""

    # ------------------------------------------------------------------ what a subclass implements
    @abstractmethod
    def config(self) -> dict:
        """The stage's data-relevant config (execution settings such as worker counts excluded)."""

    @abstractmethod
    def input_files(self) -> list[Path]:
        """Every file the stage reads; their checksums are part of the fingerprint."""

    @abstractmethod
    def plan(self) -> Sequence[Any]:
        """The stage's tasks, in a deterministic order; task i writes parts named by i."""

    def prepare(self, work_dir: Path, engine: Engine) -> None:  # noqa: B027  (optional hook, most stages need none)
        """One-time work before the tasks (e.g. a shuffle that groups rows by key); must be resumable."""

    def setup(self) -> None:  # noqa: B027  (optional hook)
        """Load what tasks share in one worker process (models, lookups) into `transient` attributes."""

    @abstractmethod
    def process(self, task_index: int, work_dir: Path) -> dict:
        """Do task `task_index`, writing its outputs under `work_dir`; return its stats (`rows_in`, `rows_out`,
        `dropped`, `quarantined`, `by_source` as `SourceTally.as_dict()`, and any stage-specific counters)."""

    @abstractmethod
    def finalize(self, work_dir: Path, engine: Engine) -> StageCounts:
        """Merge task results (and do any global pass), write dataset cards; return the accounting."""

    def describe(self) -> str:
        return self.name

    def describe_run(self, engine: Engine, n_tasks: int) -> str:
        """What runs where, for the log line at the stage's start."""
        return f"{n_tasks} task(s) on {engine.name}"

    def after_skip(self, final_dir: Path) -> None:  # noqa: B027  (optional hook)
        """Called when the committed output is up to date (e.g. to warn that it was moved)."""

    # ------------------------------------------------------------------ bookkeeping
    def run_task(self, task_index: int, work_dir: Path) -> dict:
        """Run task `task_index` once: a finished task's saved stats are returned as they are."""
        if (done := read_task_stats(work_dir, task_index)) is not None:
            return done
        if not self.__dict__.get("_set_up"):
            self.setup()
            self._set_up = True
        stats = self.process(task_index, work_dir)
        save_task_stats(work_dir, task_index, stats)
        return stats

    def task_stats(self, work_dir: Path) -> list[dict]:
        """Every task's saved stats, in task order."""
        return [read_task_stats(work_dir, i) for i in range(len(self.plan()))]

    def sum_tasks(self, work_dir: Path) -> StageCounts:
        """The row accounting summed over the tasks (in total and per source)."""
        counts = StageCounts()
        for st in self.task_stats(work_dir):
            counts.add_task(st)
        return counts

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_set_up", None)
        for name in self.transient:  # a cached property is computed again; a plain attribute starts as None
            if isinstance(getattr(type(self), name, None), cached_property):
                state.pop(name, None)
            elif name in state:
                state[name] = None
        return state


class Engine(ABC):
    """Runs a stage's tasks somewhere (in-process, datatrove executors, Spark) and offers the steps that
    differ by engine; a stage calls them without asking which engine it has."""

    name: str

    @abstractmethod
    def run_tasks(self, stage: Stage, n_tasks: int, work_dir: Path) -> None: ...

    def find_duplicates(self, dataset_dir: Path, key: str) -> list:
        """Rows whose `key` occurs more than once in a dataset's parts (the ingest id check)."""
        raise NotImplementedError(f"engine {self.name} cannot find duplicate keys")

    def bucket_by_user(self, event_parts: list[Path], n_buckets: int, out: Path) -> None:
        """Write the event rows into `out/bucket=<b>/` by a hash of their `user_id` (the behavior shuffle)."""
        raise NotImplementedError(f"engine {self.name} cannot bucket events")

    def cluster_duplicates(self, stage: Any, work_dir: Path) -> dict:
        """Cluster the dedup stage's candidate pairs into duplicate groups; returns the clustering summary."""
        raise NotImplementedError(f"engine {self.name} cannot cluster duplicates")

    def spark_description(self, workers: int) -> str:
        """Where `stage_spark` runs Spark jobs, for the stage's log line."""
        return f"a local[{workers}] session of its own (stopped when the stage ends)"

    @contextmanager
    def stage_spark(self, workers: int, out_root: Path | None = None) -> Iterator[Any]:
        """A Spark session for a stage that always runs in Spark (item relations)."""
        raise NotImplementedError(f"engine {self.name} has no Spark session")
        yield


PROJECT_ROOT = Path(__file__).resolve().parent.parent


def portable_path(path: str | Path, out_root: Path) -> str:
    """A path that survives moving the output folder, the project or the shared data: `{out}/...` under the
    run's output folder, `{shared}/...` under the shared data folder (`{shared}/../...` beside it),
    `{project}/...` in this project; any other path stays absolute."""
    p = Path(os.path.abspath(path))
    shared = shared_data_dir()
    for prefix, root in (("{out}", out_root), ("{shared}", shared), ("{shared}/..", shared.parent),
                         ("{project}", PROJECT_ROOT)):  # fmt: skip
        root = Path(os.path.abspath(root))
        if p == root or root in p.parents:
            return f"{prefix}/{p.relative_to(root).as_posix()}".rstrip("/")
    return str(p)


def portable_config(value: Any, out_root: Path) -> Any:
    """`value` with every absolute path string made portable (see `portable_path`)."""
    if isinstance(value, dict):
        return {k: portable_config(v, out_root) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [portable_config(v, out_root) for v in value]
    if isinstance(value, str) and value.startswith(os.sep) and "\n" not in value:
        return portable_path(value, out_root)
    return value


def _fingerprint(stage: Stage, config: dict, inputs: list[dict]) -> str:
    """Stage name, config, code version and the inputs' portable paths and content checksums: the same
    work in a moved or copied output folder has the same fingerprint."""
    payload = {"stage": stage.name, "config": config, "code": code_version(),
               "inputs": [{"path": i["path"], "checksum": i["checksum"]} for i in inputs]}  # fmt: skip
    return hashlib.sha256(canonical_json(payload)).hexdigest()


def _describe_inputs(files: list[Path], out_root: Path) -> list[dict]:
    return [{"path": portable_path(f, out_root), "bytes": f.stat().st_size, "checksum": file_checksum(f), "rows": None}
            for f in files]  # fmt: skip


def _describe_outputs(out_dir: Path) -> list[dict]:
    import pyarrow.parquet as pq

    outs = []
    for f in sorted(out_dir.rglob("*")):
        if not f.is_file() or f.name == MANIFEST or "_tasks" in f.parts or "_logs" in f.parts:
            continue
        rows = pq.ParquetFile(f).metadata.num_rows if f.suffix == ".parquet" else None
        outs.append(
            {"path": str(f.relative_to(out_dir)), "bytes": f.stat().st_size, "checksum": file_checksum(f), "rows": rows}
        )
    return outs


def _commit(work_dir: Path, final_dir: Path) -> None:
    """Replace `final_dir` with `work_dir` using renames only (never a half-written final dir)."""
    trash = final_dir.with_name(f"{final_dir.name}.old-{os.getpid()}-{time.monotonic_ns()}")
    if final_dir.exists():
        os.replace(final_dir, trash)
    os.replace(work_dir, final_dir)
    shutil.rmtree(trash, ignore_errors=True)


def read_manifest(out_dir: Path) -> dict | None:
    p = out_dir / MANIFEST
    if not p.exists():
        return None
    try:
        return orjson.loads(p.read_bytes())
    except orjson.JSONDecodeError:
        return None


def run_stage(
    stage: Stage,
    out_root: Path,
    engine: Engine,
    force: bool = False,
    log: Callable[[str], None] = lambda s: None,
) -> StageResult:
    """Run `stage` unless its committed manifest already matches; resume a killed run."""
    out_root.mkdir(parents=True, exist_ok=True)
    final_dir = out_root / stage.name
    inputs = _describe_inputs(stage.input_files(), out_root)
    config = portable_config(stage.config(), out_root)
    fp = _fingerprint(stage, config, inputs)
    current = read_manifest(final_dir)
    work_dir = out_root / f"{stage.name}.work-{fp[:16]}"
    # work and log folders of other fingerprints belong to superseded configs or inputs
    for stale in [*out_root.glob(f"{stage.name}.work-*"), *(out_root / "_logs").glob(f"{stage.name}.work-*")]:
        if stale.name != work_dir.name:
            shutil.rmtree(stale, ignore_errors=True)
    if not force and current and current.get("status") == "complete" and current.get("fingerprint") == fp:
        log(f"{stage.name}: up to date (fingerprint {fp[:12]}), skipped")
        stage.after_skip(final_dir)
        return StageResult(stage.name, "skipped", current, final_dir)
    if force and work_dir.exists():
        shutil.rmtree(work_dir)
    pending = read_manifest(work_dir)
    if pending and pending.get("status") == "complete" and pending.get("fingerprint") == fp:
        log(f"{stage.name}: finished before a kill; committing")
        _commit(work_dir, final_dir)
        return StageResult(stage.name, "ran", pending, final_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    tasks = stage.plan()
    done = len(list((work_dir / "_tasks").glob("*.json"))) if (work_dir / "_tasks").exists() else 0
    log(f"{stage.name}: {stage.describe_run(engine, len(tasks))}" + (f", {done} already done (resuming)" if done else ""))
    stage.prepare(work_dir, engine)
    engine.run_tasks(stage, len(tasks), work_dir)
    counts = stage.finalize(work_dir, engine)
    counts.check(stage.name)
    wall = time.perf_counter() - t0
    outputs = _describe_outputs(work_dir)
    manifest = {
        "stage": stage.name,
        "status": "complete",
        "config": canonical_json(config).decode(),
        "fingerprint": fp,
        "code_version": code_version(),
        "engine": engine.name,
        "inputs": inputs,
        "outputs": outputs,
        "rows_in": counts.rows_in,
        "rows_out": counts.rows_out,
        "dropped": dict(sorted(counts.dropped.items())),
        "quarantined": dict(sorted(counts.quarantined.items())),
        "datasets": dict(sorted(counts.datasets.items())),
        "bytes_in": counts.bytes_in,
        "bytes_out": sum(o["bytes"] for o in outputs),
        "tokens": counts.tokens,
        "wall_time_s": round(wall, 3),
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    validate_manifest(manifest)
    manifest["by_source"] = counts.by_source
    tmp = work_dir / (MANIFEST + ".inprogress")
    tmp.write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    os.replace(tmp, work_dir / MANIFEST)
    _commit(work_dir, final_dir)
    log(f"{stage.name}: done in {wall:.1f}s")
    return StageResult(stage.name, "ran", manifest, final_dir)


def validate_manifest(manifest: dict) -> None:
    """Check a manifest dict against the `run_manifests` contract."""
    import pyarrow as pa

    spec = get_schema("run_manifests")
    row = {k: manifest.get(k) for k in spec.column_names}
    for k in ("dropped", "quarantined", "datasets"):
        row[k] = list((row[k] or {}).items())
    table = pa.Table.from_pylist([row], schema=spec.arrow_schema())
    require_valid(table, spec, MANIFEST)
