"""Streaming, deterministic file writers: rolling JSONL and Parquet parts, buffered Parquet tables.

All writers keep at most one batch in memory and record what they wrote (path, rows, bytes) so
`_sample.json` can list every file. Parquet settings are fixed, so the same rows give the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

PARQUET_OPTIONS = dict(compression="zstd", compression_level=3, use_dictionary=True, write_statistics=True)
_JSON_OPTS = orjson.OPT_SORT_KEYS


@dataclass
class WrittenFile:
    path: Path
    rows: int = 0
    bytes: int = 0


def dumps(obj: dict) -> bytes:
    return orjson.dumps(obj, option=_JSON_OPTS) + b"\n"


class RollingJsonl:
    """`dir/part-NNNNN.jsonl` files of at most `max_bytes` each (a single larger line gets its own file)."""

    def __init__(self, directory: Path, max_bytes: int):
        self.dir = directory
        self.max_bytes = max_bytes
        self.files: list[WrittenFile] = []
        self._fh = None
        self.dir.mkdir(parents=True, exist_ok=True)

    def _roll(self) -> None:
        if self._fh is not None:
            self._fh.close()
        path = self.dir / f"part-{len(self.files):05d}.jsonl"
        self._fh = open(path, "wb", buffering=1 << 20)  # closed in _roll / close
        self.files.append(WrittenFile(path))

    def write(self, obj: dict) -> None:
        line = dumps(obj)
        cur = self.files[-1] if self.files else None
        if cur is None or (cur.bytes + len(line) > self.max_bytes and cur.rows > 0):
            self._roll()
            cur = self.files[-1]
        self._fh.write(line)  # type: ignore[union-attr]
        cur.rows += 1
        cur.bytes += len(line)

    def close(self) -> list[WrittenFile]:
        if self._fh is None:
            self._roll()  # an empty dataset still gets one (empty) part so readers find the folder
        self._fh.close()  # type: ignore[union-attr]
        self._fh = None
        return self.files


class ParquetStream:
    """One Parquet file written in row groups of `batch_rows` from dict rows."""

    def __init__(self, path: Path, schema: pa.Schema, batch_rows: int = 65_536):
        self.path = path
        self.schema = schema
        self.batch_rows = batch_rows
        self.rows: list[dict] = []
        self.file = WrittenFile(path)
        self._writer: pq.ParquetWriter | None = None
        path.parent.mkdir(parents=True, exist_ok=True)

    def add(self, row: dict) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.batch_rows:
            self.flush()

    def extend(self, rows: list[dict]) -> None:
        for r in rows:
            self.add(r)

    def flush(self) -> None:
        if not self.rows and self._writer is not None:
            return
        table = pa.Table.from_pylist(self.rows, schema=self.schema)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, self.schema, **PARQUET_OPTIONS)
        self._writer.write_table(table, row_group_size=self.batch_rows)
        self.file.rows += len(self.rows)
        self.rows = []

    def close(self) -> WrittenFile:
        self.flush()
        assert self._writer is not None
        self._writer.close()
        self.file.bytes = self.path.stat().st_size
        return self.file


class RollingParquet:
    """`dir/part-NNNNN.parquet` files rolled over at about `max_bytes` (estimated from the compression seen so far)."""

    def __init__(self, directory: Path, schema: pa.Schema, max_bytes: int):
        self.dir = directory
        self.schema = schema
        self.max_bytes = max_bytes
        self.files: list[WrittenFile] = []
        self._writer: pq.ParquetWriter | None = None
        self._sink: pa.NativeFile | None = None
        self._ratio = 0.25  # compressed / in-memory bytes, refined as we go
        self.dir.mkdir(parents=True, exist_ok=True)

    def _close_current(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._sink.close()  # type: ignore[union-attr]
            f = self.files[-1]
            f.bytes = f.path.stat().st_size
            self._writer = None

    def _roll(self) -> None:
        self._close_current()
        path = self.dir / f"part-{len(self.files):05d}.parquet"
        self._sink = pa.OSFile(str(path), "wb")
        self._writer = pq.ParquetWriter(self._sink, self.schema, **PARQUET_OPTIONS)
        self.files.append(WrittenFile(path))

    def write(self, table: pa.Table) -> None:
        est = int(table.nbytes * self._ratio)
        if self._writer is None or (self._sink.tell() + est > self.max_bytes and self.files[-1].rows > 0):  # type: ignore[union-attr]
            self._roll()
        before = self._sink.tell()  # type: ignore[union-attr]
        self._writer.write_table(table)  # type: ignore[union-attr]
        written = self._sink.tell() - before  # type: ignore[union-attr]
        if table.nbytes and written:
            self._ratio = max(0.01, written / table.nbytes)
        self.files[-1].rows += table.num_rows

    def close(self) -> list[WrittenFile]:
        if self._writer is None and not self.files:
            self._roll()
            self._writer.write_table(self.schema.empty_table())  # type: ignore[union-attr]
        self._close_current()
        return self.files


def write_table(path: Path, table: pa.Table) -> WrittenFile:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, **PARQUET_OPTIONS)
    return WrittenFile(path, table.num_rows, path.stat().st_size)


def write_jsonl(path: Path, rows: list[dict]) -> WrittenFile:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = b"".join(dumps(r) for r in rows)
    path.write_bytes(data)
    return WrittenFile(path, len(rows), len(data))
