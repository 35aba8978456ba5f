"""Dataset specification: one versioned Arrow schema per dataset, with column meanings.

A `DatasetSchema` is the contract other teams read: column names, Arrow types, nullability,
what each column means, which column is the primary key and which fields the content-derived
id is computed from. It only depends on pyarrow so any consumer can import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

# Keys stored in the Parquet/Arrow schema metadata of every dataset we write.
META_NAME = b"musicplatform.schema"
META_VERSION = b"musicplatform.schema_version"
META_DESCRIPTION = b"description"


@dataclass(frozen=True)
class Column:
    """One column: name, Arrow type, whether nulls are allowed, and what it means."""

    name: str
    type: pa.DataType
    description: str
    nullable: bool = True
    # The only values an enumerated string column may hold (exact, after normalisation); None = free.
    # Ingestion quarantines any other value as `bad_value`; the dataset card lists them.
    allowed: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.allowed is not None:
            if not pa.types.is_string(self.type):
                raise ValueError(f"column {self.name}: `allowed` needs a string column, not {self.type}")
            if not self.allowed or len(set(self.allowed)) != len(self.allowed):
                raise ValueError(f"column {self.name}: `allowed` must be non-empty and without repeats")

    def arrow_field(self) -> pa.Field:
        return pa.field(
            self.name, self.type, nullable=self.nullable, metadata={META_DESCRIPTION: self.description.encode()}
        )


@dataclass(frozen=True)
class DatasetSchema:
    """A versioned dataset contract.

    `version` is semantic: a reader accepts files whose major version equals its own (minor
    versions only add nullable columns). `id_fields` are the columns hashed, in order, into
    the content-derived primary key `key`.
    """

    name: str
    version: str
    purpose: str
    columns: tuple[Column, ...]
    key: str | None = None
    id_fields: tuple[str, ...] = ()
    # Free-text notes rendered into the dataset card (e.g. how ids are built).
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"schema {self.name}: duplicate column names")
        for f in (self.key, *self.id_fields):
            if f is not None and f not in names:
                raise ValueError(f"schema {self.name}: key/id field {f!r} is not a column")

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"schema {self.name} has no column {name!r}")

    def arrow_schema(self) -> pa.Schema:
        return pa.schema(
            [c.arrow_field() for c in self.columns],
            metadata={
                META_NAME: self.name.encode(),
                META_VERSION: self.version.encode(),
                META_DESCRIPTION: self.purpose.encode(),
            },
        )

    def empty_table(self) -> pa.Table:
        return self.arrow_schema().empty_table()


def schema_identity(schema: pa.Schema) -> tuple[str | None, str | None]:
    """The (name, version) a file declares in its schema metadata, or (None, None)."""
    meta = schema.metadata or {}
    name = meta.get(META_NAME)
    version = meta.get(META_VERSION)
    return (name.decode() if name else None, version.decode() if version else None)
