"""Validate Arrow tables and Parquet files against a dataset contract.

Errors name the file, the row and the field, and say what to do. `check_version` rejects
files written under another major version; `validate_table` checks columns, types,
nullability, key uniqueness and value rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from schemas.spec import DatasetSchema, schema_identity


class SchemaError(ValueError):
    """A file or table does not match its dataset contract."""


class SchemaVersionError(SchemaError):
    """A file declares a dataset schema version this code cannot read."""


@dataclass(frozen=True)
class Violation:
    file: str
    row: int | None  # 0-based row within the table/file, None for table-level problems
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.field is not None:
            where += f", field {self.field!r}"
        return f"{where}: {self.message}"


def check_version(schema: pa.Schema, spec: DatasetSchema, file: str) -> None:
    """Raise `SchemaVersionError` if the file declares another dataset or an incompatible major version."""
    name, version = schema_identity(schema)
    if name is None:
        return  # foreign file without our metadata: checked column by column instead
    if name != spec.name:
        raise SchemaVersionError(f"{file}: declares dataset {name!r}, expected {spec.name!r}.")
    if version is None or int(version.split(".")[0]) != spec.major:
        raise SchemaVersionError(
            f"{file}: written with {spec.name} schema version {version}, this code reads major version "
            f"{spec.major} ({spec.version}). Re-run the stage that produced it with this code version, "
            "or read it with the matching release."
        )


def _column_violations(table: pa.Table, spec: DatasetSchema, file: str) -> list[Violation]:
    out: list[Violation] = []
    for col in spec.columns:
        if col.name not in table.column_names:
            out.append(Violation(file, None, col.name, f"missing column (type {col.type})"))
            continue
        actual = table.schema.field(col.name).type
        if actual != col.type:
            out.append(Violation(file, None, col.name, f"has type {actual}, the contract says {col.type}"))
    extra = set(table.column_names) - set(spec.column_names)
    for name in sorted(extra):
        out.append(Violation(file, None, name, "column is not in the contract"))
    return out


def _first_rows(mask: pa.Array, limit: int) -> list[int]:
    idx = pc.indices_nonzero(pc.fill_null(mask, False))
    return idx.slice(0, limit).to_pylist()


def _value_violations(table: pa.Table, spec: DatasetSchema, file: str, limit: int) -> list[Violation]:
    out: list[Violation] = []
    for col in spec.columns:
        if col.name not in table.column_names:
            continue
        arr = table.column(col.name)
        if not col.nullable and arr.null_count:
            for r in _first_rows(pc.is_null(arr), limit):
                out.append(Violation(file, r, col.name, "is null but the contract requires a value"))
        if col.name == "stage" and pa.types.is_integer(arr.type):
            bad = pc.invert(pc.is_in(arr, pa.array([1, 2, 3], arr.type)))
            for r in _first_rows(bad, limit):
                out.append(Violation(file, r, col.name, "must be 1, 2 or 3"))
        if col.name == "weight" and pa.types.is_floating(arr.type):
            for r in _first_rows(pc.less_equal(arr, 0), limit):
                out.append(Violation(file, r, col.name, "sampling weight must be > 0"))
    if "text" in table.column_names and "no_loss_spans" in table.column_names:
        out.extend(_span_violations(table, file, limit))
    return out


def _key_violations(keys: pa.ChunkedArray | pa.Array, key: str, file: str, limit: int) -> list[Violation]:
    counts = pc.value_counts(keys)
    dup_values = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
    if not len(dup_values):
        return []
    return [Violation(file, r, key, f"duplicate key {keys[r].as_py()!r}") for r in _first_rows(pc.is_in(keys, dup_values), limit)]


def _span_violations(table: pa.Table, file: str, limit: int) -> list[Violation]:
    out: list[Violation] = []
    texts = table.column("text").to_pylist()
    spans = table.column("no_loss_spans").to_pylist()
    for r, (text, row_spans) in enumerate(zip(texts, spans, strict=True)):
        if not row_spans or text is None:
            continue
        prev_end = 0
        for s in row_spans:
            if not (prev_end <= s["start"] < s["end"] <= len(text)):
                out.append(
                    Violation(file, r, "no_loss_spans", f"span {s} is out of order or outside the text ({len(text)} chars)")
                )
                break
            prev_end = s["end"]
        if len(out) >= limit:
            break
    return out


def validate_table(table: pa.Table, spec: DatasetSchema, file: str = "<table>", limit: int = 20) -> list[Violation]:
    """All contract violations of `table` (at most `limit` per rule), empty if it conforms."""
    check_version(table.schema, spec, file)
    out = _column_violations(table, spec, file)
    out.extend(_value_violations(table, spec, file, limit))
    if spec.key and spec.key in table.column_names:
        out.extend(_key_violations(table.column(spec.key), spec.key, file, limit))
    return out


def require_valid(table: pa.Table, spec: DatasetSchema, file: str = "<table>") -> None:
    """Raise `SchemaError` listing the violations if `table` does not conform."""
    violations = validate_table(table, spec, file)
    if violations:
        shown = "\n  ".join(str(v) for v in violations[:20])
        raise SchemaError(f"{len(violations)} contract violation(s) for dataset {spec.name!r}:\n  {shown}")


def validate_parquet(path: str | Path, spec: DatasetSchema, limit: int = 20) -> list[Violation]:
    """Validate one Parquet file (or a dataset folder of `part-*.parquet`) against `spec`.

    Files are checked one at a time; key uniqueness across files reads only the key column, so
    memory follows the largest part file and the key column, not the dataset.
    """
    path = Path(path)
    files = sorted(path.glob("part-*.parquet")) if path.is_dir() else [path]
    out: list[Violation] = []
    keys = []
    for f in files:
        try:
            pf = pq.ParquetFile(f)
        except (pa.ArrowInvalid, OSError) as e:
            raise SchemaError(f"{f}: not a readable Parquet file ({e}). Re-run the stage that wrote it.") from e
        check_version(pf.schema_arrow, spec, str(f))
        t = pf.read()
        out.extend(_column_violations(t, spec, str(f)))
        out.extend(_value_violations(t, spec, str(f), limit))
        if spec.key and spec.key in t.column_names:
            keys.append(t.column(spec.key))
    if keys and spec.key:
        # rows are numbered across the dataset's part files in name order
        out.extend(_key_violations(pa.chunked_array([c for k in keys for c in k.chunks], pa.string()), spec.key, str(path), limit))
    return out
