"""The ingest op: read one work unit, write its rows as Parquet parts and its rejects to quarantine.

`ingest_unit` is what every engine runs per task (datatrove rank, Spark partition, or a plain
loop). It streams: rows are buffered per dataset up to `batch_rows` and written as row groups,
so memory is bounded by the batch size whatever the input size. Each output file is written to a
temporary name and renamed when complete; the task's stats file is written last and marks the
task done, so a killed run resumes at the first unfinished task.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from corpus.ingest.readers import InputError, open_parquet
from corpus.ingest.records import IngestLimits, Record, Reject
from corpus.ingest.sources import IngestContext, WorkUnit, get_adapter
from schemas import get_schema

QUARANTINE_DIR = "_quarantine"
PROVENANCE_DIR = "_provenance"  # per output part: the input file and row of each row, in order
PROVENANCE_SCHEMA = pa.schema([("file", pa.string()), ("row_base", pa.int64()), ("row", pa.int64())])
PARQUET_WRITE_OPTIONS = dict(compression="zstd", compression_level=3, write_statistics=True, use_dictionary=True)


@dataclass
class TaskStats:
    """What one task did; `rows_in == rows_out + sum(quarantined.values())` always holds."""

    task: int
    unit: str
    source: str
    rows_in: int = 0
    rows_out: int = 0
    bytes_in: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)
    datasets: dict[str, int] = field(default_factory=dict)  # records written per dataset (incl. derived)
    derived: dict[str, int] = field(default_factory=dict)
    # derived records that failed coercion: in `_quarantine`, outside the rows-in accounting
    derived_quarantined: dict[str, int] = field(default_factory=dict)
    # string values whose mojibake the builders repaired, per `dataset.column` (e.g. `awards.credits`)
    repaired: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> bytes:
        return orjson.dumps(self.__dict__, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2)

    @classmethod
    def from_json(cls, data: bytes) -> TaskStats:
        return cls(**orjson.loads(data))


class PartWriter:
    """Writes one dataset's rows of one task to `part-NNNNN.parquet` in row groups, atomically."""

    def __init__(self, path: Path, schema: pa.Schema, batch_rows: int, batch_text_bytes: int = 32 << 20):
        self.path = path
        self.tmp = path.with_name(path.name + ".inprogress")
        self.schema = schema
        self.batch_rows = batch_rows
        # long documents fill memory long before `batch_rows` rows: also flush on buffered text size
        self.batch_text_bytes = batch_text_bytes
        self.rows: list[dict] = []
        self._text_chars = 0
        self.written = 0
        self._writer: pq.ParquetWriter | None = None

    def add(self, row: dict) -> None:
        self.rows.append(row)
        text = row.get("text")
        if text:
            self._text_chars += len(text)
        if len(self.rows) >= self.batch_rows or self._text_chars >= self.batch_text_bytes:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        table = pa.Table.from_pylist(self.rows, schema=self.schema)
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self.tmp, self.schema, **PARQUET_WRITE_OPTIONS)
        self._writer.write_table(table, row_group_size=self.batch_rows)
        self.written += len(self.rows)
        self.rows = []
        self._text_chars = 0

    def close(self) -> None:
        self.flush()
        if self._writer is not None:
            self._writer.close()
            os.replace(self.tmp, self.path)

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self.tmp.unlink(missing_ok=True)


def unit_bytes(unit: WorkUnit) -> int:
    p = Path(unit.path)
    if unit.kind == "jsonl" and unit.split:
        return unit.split[1] - unit.split[0]
    if unit.kind == "parquet" and unit.split:
        try:
            md = open_parquet(p).metadata
        except InputError:
            return p.stat().st_size
        return sum(
            md.row_group(i).column(c).total_compressed_size
            for i in range(*unit.split)
            for c in range(md.num_columns)
        )
    if p.is_dir():
        return sum(f.stat().st_size for f in p.iterdir() if f.is_file())
    return p.stat().st_size


def repaired_counts(ctx: IngestContext) -> dict[str, int]:
    """Repaired string values per `dataset.column`, summed over the task's record builders."""
    counts = {
        f"{dataset}.{column}": n
        for dataset, builder in ctx.builders().items()
        for column, n in builder.repaired.items()
        if n
    }
    return dict(sorted(counts.items()))


def origin_name(file: str | None, out_root: Path) -> str | None:
    """An input file as provenance names it: `{out}/...` inside the run's output folder (the demo sample), so
    the same run in another folder writes the same bytes; any other path as the config gave it."""
    if file is None:
        return None
    p, root = os.path.abspath(file), os.path.abspath(out_root)
    return "{out}/" + Path(os.path.relpath(p, root)).as_posix() if p.startswith(root + os.sep) else file


def task_stats_path(work_dir: Path, task: int) -> Path:
    return work_dir / "_tasks" / f"{task:05d}.json"


def ingest_unit(
    unit: WorkUnit,
    task: int,
    work_dir: Path,
    limits: IngestLimits = IngestLimits(),
    batch_rows: int = 20_000,
    stage: str = "ingest",
) -> TaskStats:
    """Run one task; returns its stats (also saved under `_tasks/`). Skips a task already done."""
    stats_path = task_stats_path(work_dir, task)
    if stats_path.exists():
        return TaskStats.from_json(stats_path.read_bytes())
    spec = unit.source
    adapter = get_adapter(spec.adapter)
    ctx = IngestContext(spec.name, limits)
    stats = TaskStats(task=task, unit=unit.label, source=spec.name, bytes_in=unit_bytes(unit))
    writers: dict[tuple[str, bool], PartWriter] = {}
    origins: dict[tuple[str, bool], PartWriter] = {}  # aligned with `writers`: where each row came from
    rejects = PartWriter(work_dir / QUARANTINE_DIR / f"part-{task:05d}.parquet", get_schema("quarantine").arrow_schema(), batch_rows)
    quarantined: Counter[str] = Counter()
    derived: Counter[str] = Counter()
    derived_quarantined: Counter[str] = Counter()
    part = f"part-{task:05d}.parquet"
    unit_kept = True
    try:
        for out in adapter.read(unit, ctx):
            if isinstance(out, Record):
                wkey = (out.dataset, out.primary)
                w = writers.get(wkey)
                if w is None:
                    # derived rows get their own part so later passes can tell them from primary rows
                    name = part if out.primary else part.replace(".parquet", "-derived.parquet")
                    w = writers[wkey] = PartWriter(
                        work_dir / out.dataset / name, get_schema(out.dataset).arrow_schema(), batch_rows
                    )
                    origins[wkey] = PartWriter(work_dir / PROVENANCE_DIR / out.dataset / name, PROVENANCE_SCHEMA,
                                               batch_rows)  # fmt: skip
                w.add(out.values)
                origins[wkey].add({"file": origin_name(out.file, work_dir.parent), "row_base": out.row_base, "row": out.row})
                if out.primary:
                    stats.rows_in += 1
                    stats.rows_out += 1
                else:
                    derived[out.dataset] += 1
            else:
                if out.primary:
                    stats.rows_in += 1
                    quarantined[out.reason] += 1
                else:
                    derived_quarantined[out.reason] += 1
                rejects.add(out.to_row(stage, spec.name, limits.quarantine_payload_bytes))
    except InputError as e:
        for w in (*writers.values(), *origins.values()):
            w.abort()
        rejects.abort()
        if spec.on_bad_file != "quarantine":
            raise
        # the whole unit is quarantined as one row: nothing from a file we could not fully read is kept
        unit_kept = False
        writers, origins, derived, quarantined = {}, {}, Counter(), Counter({"unreadable_file": 1})
        derived_quarantined = Counter()
        stats.rows_in, stats.rows_out = 1, 0
        rejects = PartWriter(rejects.path, rejects.schema, batch_rows)
        rejects.add(
            Reject(unit.path, None, "unreadable_file", str(e), b"", None, spec.dataset).to_row(
                stage, spec.name, limits.quarantine_payload_bytes
            )
        )
    except BaseException:
        for w in (*writers.values(), *origins.values()):
            w.abort()
        rejects.abort()
        raise
    for w in (*writers.values(), *origins.values()):
        w.close()
    rejects.close()
    stats.quarantined = dict(sorted(quarantined.items()))
    stats.derived = dict(sorted(derived.items()))
    stats.derived_quarantined = dict(sorted(derived_quarantined.items()))
    if unit_kept:
        stats.repaired = repaired_counts(ctx)
    written: Counter[str] = Counter()
    for (name, _), w in writers.items():
        written[name] += w.written
    stats.datasets = {name: n for name, n in sorted(written.items()) if n}
    stats_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = stats_path.with_suffix(".json.inprogress")
    tmp.write_bytes(stats.to_json())
    os.replace(tmp, stats_path)
    return stats
