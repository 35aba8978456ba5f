"""What a source adapter is: it plans work units over input files and turns their rows into records.

A `SourceSpec` says where a source lives and how to read it; an adapter turns one `WorkUnit`
(a file, or a split of one) into `Record`s and `Reject`s. Every input row yields exactly one
primary `Record` or one `Reject`; adapters may add derived records (`primary=False`), e.g.
playlists aggregated from track rows.
"""

from __future__ import annotations

import glob
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from corpus.ingest.ids import make_id
from corpus.ingest.readers import InputError
from corpus.ingest.records import IngestLimits, Record, RecordBuilder, Reject

# item_type -> dataset whose key it refers to
ITEM_DATASET = {
    "song": "songs",
    "artist": "artists",
    "album": "albums",
    "playlist": "playlists",
    "user": "user_profiles",
    "comment": "comments",
    "document": "documents",
}


@dataclass(frozen=True)
class SourceSpec:
    """One configured input: a source name (the `source` column and id namespace) and a path."""

    name: str
    path: str
    adapter: str = "generic"
    dataset: str | None = None  # generic adapter: which contract the rows follow
    format: str | None = None  # generic adapter: jsonl, csv, tsv, parquet (default: from extension)
    options: Mapping[str, Any] = field(default_factory=dict)
    license: str = "unknown"
    description: str = ""
    generated: bool = False
    on_bad_file: str = "fail"  # or "quarantine"


@dataclass(frozen=True)
class WorkUnit:
    """A slice of input one task reads: a file, optionally a byte or row-group range of it."""

    source: SourceSpec
    path: str
    kind: str = "file"  # adapter-defined; the generic adapter uses the format name
    split: tuple[int, int] | None = None

    @property
    def label(self) -> str:
        s = f"{self.source.name}:{self.source.dataset or self.source.adapter}:{Path(self.path).name}"
        return s + (f"[{self.split[0]}:{self.split[1]}]" if self.split else "")


class IngestContext:
    """Per-task helpers: limits and one `RecordBuilder` per dataset for the unit's source."""

    def __init__(self, source: str, limits: IngestLimits):
        self.source = source
        self.limits = limits
        self._builders: dict[str, RecordBuilder] = {}

    def builder(self, dataset: str) -> RecordBuilder:
        b = self._builders.get(dataset)
        if b is None:
            b = self._builders[dataset] = RecordBuilder(dataset, self.source, self.limits)
        return b

    def builders(self) -> dict[str, RecordBuilder]:
        """The record builders made so far, by dataset (their `repaired` counters, for the task's stats)."""
        return dict(self._builders)

    def build(self, dataset: str, raw: Mapping, file: str, row: int | None, payload: object = None, primary: bool = True):
        return self.builder(dataset).build(raw, file, row, payload, primary)

    def link(self, dataset: str, source_id: object) -> str | None:
        """The id a row of `dataset` with this `source_id` gets in the same source (a foreign key)."""
        if source_id is None or (isinstance(source_id, str) and not source_id.strip()):
            return None
        return make_id(dataset, self.source, str(source_id).strip())


class SourceAdapter:
    """Base class. Subclasses set the class attributes and implement `read`."""

    name: ClassVar[str]
    license: ClassVar[str] = "unknown"
    description: ClassVar[str] = ""
    datasets: ClassVar[tuple[str, ...]] = ()
    # files the adapter expects inside the source directory; missing ones raise InputError
    expected_files: ClassVar[tuple[str, ...]] = ()
    # when set, each expected file is its own work unit of this kind; else the folder is one unit
    unit_kind: ClassVar[str | None] = None

    def check_root(self, spec: SourceSpec) -> Path:
        """The dataset folder, after checking that every expected file is there."""
        root = resolve_dir(spec.path)
        for f in self.expected_files:
            if not (root / f).exists():
                raise InputError(f"{root / f}: missing input file for source {spec.name!r} (adapter {self.name}).")
        return root

    def plan(self, spec: SourceSpec, split_bytes: int) -> list[WorkUnit]:
        root = self.check_root(spec)
        if self.unit_kind:
            return [WorkUnit(spec, str(root / f), kind=self.unit_kind) for f in self.expected_files]
        return [WorkUnit(spec, str(root), kind="dir")]

    def read(self, unit: WorkUnit, ctx: IngestContext) -> Iterator[Record | Reject]:
        raise NotImplementedError


def resolve_dir(path: str) -> Path:
    p = Path(path).expanduser()
    if not p.is_dir():
        raise InputError(f"{p}: input directory does not exist. Check the source's `path:` (relative paths are "
                         "resolved from the directory you run in).")
    return p


def resolve_files(path: str, patterns: tuple[str, ...] = ("*.parquet", "*.jsonl", "*.json", "*.ndjson", "*.csv", "*.tsv")) -> list[Path]:
    """Files named by a file path, a directory (its data files, sorted) or a glob; never empty."""
    p = Path(path).expanduser()
    if any(ch in path for ch in "*?["):
        files = sorted(Path(f) for f in glob.glob(str(p), recursive=True) if Path(f).is_file())
    elif p.is_dir():
        files = sorted({f for pat in patterns for f in p.glob(pat) if f.is_file()})
    elif p.is_file():
        files = [p]
    else:
        raise InputError(f"{p}: input path does not exist. Check the source's `path:`.")
    files = [f for f in files if not f.name.startswith((".", "_"))]
    if not files:
        raise InputError(f"{path}: matched no input files.")
    return files
