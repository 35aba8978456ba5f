"""Streaming readers for Parquet, JSONL and CSV/TSV that never lose a row silently.

Each reader yields `RawRow`s: the 1-based row number, the original bytes (for quarantine) and
either the parsed values or a `Reject` saying why the row could not be parsed (invalid UTF-8,
malformed JSON, wrong field count). File-level problems (missing file, corrupt Parquet, missing
header) raise `InputError` naming the file and what to do. JSONL and Parquet can be read in
splits (byte ranges / row-group ranges) so one large file becomes several parallel tasks.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from corpus.ingest.normalize import has_invalid_utf8
from corpus.ingest.records import Reject

FORMATS = ("jsonl", "csv", "tsv", "parquet")
_EXT = {".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv", ".parquet": "parquet"}


class InputError(ValueError):
    """An input file or path cannot be read at all; the message names it and says what to do."""


@dataclass
class RawRow:
    row: int
    payload: bytes | None
    values: dict | None = None
    reject: Reject | None = None


def detect_format(path: Path) -> str:
    fmt = _EXT.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"{path}: cannot tell the format from the extension; set `format:` to one of {FORMATS}.")
    return fmt


# ---------------------------------------------------------------------------- JSONL


def jsonl_splits(path: Path, split_bytes: int) -> list[tuple[int, int]]:
    """Byte ranges of about `split_bytes`; a line belongs to the range its first byte falls in."""
    size = path.stat().st_size
    if size == 0:
        return [(0, 0)]
    return [(s, min(s + split_bytes, size)) for s in range(0, size, split_bytes)]


def _line_number_at(path: Path, offset: int) -> int:
    """Number of complete lines before byte `offset`. O(offset): only called for a split that has a
    rejected row, so the common case never pays for it."""
    n = 0
    with open(path, "rb") as f:
        remaining = offset
        while remaining:
            chunk = f.read(min(remaining, 1 << 24))
            if not chunk:
                break
            n += chunk.count(b"\n")
            remaining -= len(chunk)
    return n


class LineBase:
    """Lines before the first line of the split starting at byte `offset`, counted on first use."""

    def __init__(self, path: Path, offset: int):
        self.path, self.offset, self._n = path, offset, None if offset else 0

    def __call__(self) -> int:
        if self._n is None:
            n = _line_number_at(self.path, self.offset)
            with open(self.path, "rb") as f:
                f.seek(self.offset - 1)
                if f.read(1) != b"\n":
                    n += 1  # the line straddling `offset` belongs to the previous split
            self._n = n
        return self._n


def _skip_to_line_start(f, start: int, end: int | None) -> bool:
    """Position `f` at the first line starting at or after `start`; False if none starts before `end`.
    Reads in bounded chunks, so a split inside one giant line costs O(split), not O(line)."""
    f.seek(start - 1)
    if f.read(1) == b"\n":
        return True
    while True:
        chunk = f.readline(1 << 20)
        if not chunk:
            return False
        if chunk.endswith(b"\n"):
            return end is None or f.tell() < end
        if end is not None and f.tell() >= end:
            return False


def read_jsonl(
    path: Path, start: int = 0, end: int | None = None, max_line_bytes: int = 64 << 20, relative_rows: bool = False
) -> Iterator[RawRow]:
    """Rows of a JSON Lines file whose first byte lies in [start, end). Blank lines are skipped
    but still counted in row numbers, so numbers match `sed -n Np`. With `relative_rows`, row numbers
    count from the split's first line (add `LineBase(path, start)()` for the line number in the file);
    otherwise splits after the first pay one pass over the bytes before them."""
    file = str(path)
    with open(path, "rb", buffering=1 << 20) as f:
        if start > 0 and not _skip_to_line_start(f, start, end):
            return
        pos = f.tell()
        line_no = 0 if relative_rows or not pos else _line_number_at(path, pos)
        while end is None or pos < end:
            line = f.readline(max_line_bytes + 1)
            if not line:
                break
            line_no += 1
            if len(line) > max_line_bytes and not line.endswith(b"\n"):
                # consume the rest of the giant line without holding it in memory
                total = len(line)
                while True:
                    more = f.readline(1 << 24)
                    total += len(more)
                    if not more or more.endswith(b"\n"):
                        break
                pos = f.tell()
                yield RawRow(
                    line_no,
                    line,
                    reject=Reject(
                        file, line_no, "record_too_large",
                        f"line is {total:,} bytes, over the {max_line_bytes:,}-byte reader limit",
                        line,
                    ),
                )
                continue
            pos = f.tell()
            stripped = line.strip()
            if not stripped:
                continue
            yield _parse_json_line(file, line_no, stripped)


def _parse_json_line(file: str, line_no: int, line: bytes) -> RawRow:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as e:
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as ue:
            return RawRow(line_no, line, reject=_utf8_reject(file, line_no, line, ue))
        return RawRow(line_no, line, reject=Reject(file, line_no, "malformed_json", f"not valid JSON: {e}", line))
    if not isinstance(value, dict):
        return RawRow(
            line_no,
            line,
            reject=Reject(file, line_no, "malformed_row", f"JSON line is a {type(value).__name__}, expected an object", line),
        )
    return RawRow(line_no, line, values=value)


def _utf8_reject(file: str, row: int, payload: bytes, err: UnicodeDecodeError) -> Reject:
    field = None
    try:  # name the field that holds the bad bytes, if the row parses once they are escaped
        value = orjson.loads(payload.decode("utf-8", "replace"))
        if isinstance(value, dict):
            bad = payload.decode("utf-8", "surrogateescape")
            for k, v in value.items():
                if isinstance(v, str) and "\ufffd" in v and has_invalid_utf8(bad):
                    field = k
                    break
    except orjson.JSONDecodeError:
        pass
    return Reject(
        file, row, "invalid_utf8",
        f"bytes at offset {err.start} of the row are not valid UTF-8 ({err.reason}); "
        "re-encode the file as UTF-8 or set the source's `encoding`",
        payload, field,
    )


# ---------------------------------------------------------------------------- CSV / TSV


def read_csv(
    path: Path,
    delimiter: str = ",",
    encoding: str = "utf-8",
    quoting: bool = True,
    required_columns: tuple[str, ...] = (),
    columns: tuple[str, ...] | None = None,
) -> Iterator[RawRow]:
    """Rows of a delimited file with a header line, or without one when `columns` names the fields.
    Rows with the wrong number of fields or undecodable bytes are rejected with their line number; a
    missing header raises."""
    file = str(path)
    enc = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    with open(path, encoding=enc, errors="surrogateescape", newline="") as f:
        reader = csv.reader(f, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL if quoting else csv.QUOTE_NONE, strict=False)
        if columns is not None:
            header = list(columns)
        else:
            try:
                header = next(reader)
            except StopIteration:
                raise InputError(f"{file}: file is empty; expected a header line.") from None
            header = [h.strip() for h in header]
        missing = [c for c in required_columns if c not in header]
        if missing:
            raise InputError(
                f"{file}: header lacks required column(s) {missing}; found {header}. "
                "Rename the columns or map them in the source's `columns:` option."
            )
        n = len(header)
        prev_line = reader.line_num
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as e:
                row_no = reader.line_num
                yield RawRow(row_no, None, reject=Reject(file, row_no, "malformed_row", f"CSV parse error: {e}"))
                prev_line = reader.line_num
                continue
            row_no = prev_line + 1  # line on which this record starts
            prev_line = reader.line_num
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue
            payload = _csv_payload(fields, delimiter, encoding)
            if len(fields) != n:
                want = f"the header has {n}" if columns is None else f"expected {n} ({', '.join(header)})"
                yield RawRow(
                    row_no,
                    payload,
                    reject=Reject(file, row_no, "malformed_row", f"has {len(fields)} fields, {want}", payload),
                )
                continue
            values = dict(zip(header, fields, strict=True))
            bad = next((k for k, v in values.items() if has_invalid_utf8(v)), None)
            if bad is not None:
                yield RawRow(
                    row_no,
                    payload,
                    reject=Reject(
                        file, row_no, "invalid_utf8",
                        f"field {bad!r} holds bytes that are not valid {encoding}; re-encode the file or set `encoding`",
                        payload, bad,
                    ),
                )
                continue
            yield RawRow(row_no, payload, values=values)


def _csv_payload(fields: list[str], delimiter: str, encoding: str) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\n").writerow(fields)
    try:
        return buf.getvalue().encode(encoding, "surrogateescape")
    except (UnicodeEncodeError, LookupError):
        return buf.getvalue().encode("utf-8", "surrogateescape")


# ---------------------------------------------------------------------------- Parquet


def open_parquet(path: Path) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as e:
        raise InputError(
            f"{path}: not a readable Parquet file ({e}). Replace the file, or set `on_bad_file: quarantine` "
            "on the source to record it and go on."
        ) from e


def parquet_splits(path: Path, split_bytes: int) -> list[tuple[int, int]]:
    """Row-group ranges [first, last) of about `split_bytes` compressed bytes each."""
    md = open_parquet(path).metadata
    splits, start, acc = [], 0, 0
    for i in range(md.num_row_groups):
        acc += md.row_group(i).total_byte_size
        if acc >= split_bytes:
            splits.append((start, i + 1))
            start, acc = i + 1, 0
    if start < md.num_row_groups or not splits:
        splits.append((start, md.num_row_groups))
    return splits


def read_parquet(path: Path, first_group: int = 0, last_group: int | None = None, batch_rows: int = 8192) -> Iterator[RawRow]:
    """Rows of the given row groups. Row numbers are 1-based across the whole file."""
    pf = open_parquet(path)
    md = pf.metadata
    last = md.num_row_groups if last_group is None else last_group
    row_no = sum(md.row_group(i).num_rows for i in range(first_group))
    groups = list(range(first_group, last))
    if not groups:
        return
    try:
        for batch in pf.iter_batches(batch_size=batch_rows, row_groups=groups):
            for values in batch.to_pylist():
                row_no += 1
                yield RawRow(row_no, None, values=values)
    except (pa.ArrowInvalid, OSError) as e:
        raise InputError(f"{path}: corrupt Parquet data after row {row_no} ({e}). Replace the file.") from e
