"""Writing stage outputs the same way everywhere: atomic Parquet files, per-task stats, dataset cards.

Every stage writes through these helpers, so each output file appears only when complete (temporary
name, then rename), a finished task is recognised by its `_tasks/NNNNN.json`, and every dataset folder
gets its `_README.md` card (the `_` prefix keeps pyarrow, Spark and datatrove readers off it).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from corpus.ingest.op import PARQUET_WRITE_OPTIONS, task_stats_path
from schemas import SourceCredit, get_schema, render_card

CARD_NAME = "_README.md"


def write_rows(path: Path, rows: list[dict], dataset: str) -> None:
    """Write `rows` as a Parquet file of the `dataset` contract, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".inprogress")
    pq.write_table(pa.Table.from_pylist(rows, schema=get_schema(dataset).arrow_schema()), tmp, **PARQUET_WRITE_OPTIONS)
    os.replace(tmp, path)


def part_files(dataset_dir: Path) -> list[Path]:
    """The `part-*.parquet` files of a dataset folder in order (none when the folder does not exist)."""
    return sorted(dataset_dir.glob("part-*.parquet")) if dataset_dir.exists() else []


def write_table(path: Path, table: pa.Table, dataset: str | None = None) -> None:
    """Write an Arrow table atomically; with `dataset`, cast to (and so check against) its contract first."""
    if dataset is not None:
        schema = get_schema(dataset).arrow_schema()
        table = table.select(schema.names).cast(schema)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".inprogress")
    pq.write_table(table, tmp, **PARQUET_WRITE_OPTIONS)
    os.replace(tmp, path)


def read_task_stats(work_dir: Path, task: int) -> dict | None:
    """The stats a finished task saved, or None if it has not finished."""
    p = task_stats_path(work_dir, task)
    return orjson.loads(p.read_bytes()) if p.exists() else None


def save_task_stats(work_dir: Path, task: int, stats: dict) -> None:
    """Mark a task finished (written last, atomically: a killed task is simply redone)."""
    p = task_stats_path(work_dir, task)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".inprogress")
    tmp.write_bytes(orjson.dumps(stats, option=orjson.OPT_SORT_KEYS))
    os.replace(tmp, p)


def write_card(
    folder: Path,
    dataset: str,
    produced_by: str,
    sources: Sequence[SourceCredit] = (),
    notes: Sequence[str] = (),
) -> int:
    """Write the dataset card of the Parquet parts in `folder`; returns the row count."""
    rows = count_rows_by_source(folder)
    card = render_card(get_schema(dataset), rows=sum(rows.values()), rows_by_source=rows, sources=sources,
                       produced_by=produced_by, notes=notes)
    (folder / CARD_NAME).write_text(card)
    return sum(rows.values())


def count_rows_by_source(dataset_dir: Path) -> dict[str, int]:
    """Rows per `source` over a dataset folder's part files (reads only that column)."""
    counts: dict[str, int] = defaultdict(int)
    for f in sorted(dataset_dir.glob("part-*.parquet")):
        col = pq.read_table(f, columns=["source"]).column("source")
        vc = pc.value_counts(col)
        for name, n in zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True):
            counts[name] += n
    return dict(sorted(counts.items()))
