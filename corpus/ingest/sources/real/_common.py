"""Helpers shared by the real-dataset adapters: planning, encodings, JSON-list rows, derived records.

The adapters read the public datasets in place (never copied). These helpers keep the accounting rule
in one place: every data row gives one primary `Record` or one `Reject`; derived records never
produce rejects, because the ingest op counts every `Reject` as an input row.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import orjson

from corpus.ingest.normalize import normalize_name
from corpus.ingest.readers import InputError, RawRow, read_csv
from corpus.ingest.records import Record, Reject
from corpus.ingest.sources.base import IngestContext, SourceSpec, WorkUnit

log = logging.getLogger(__name__)

# Strings the RecordBuilder reads as null. A real value spelled like this (a trivia answer "None",
# an NQ answer "N/A") would silently become null, so adapters check for them first.

# Pitch classes for key names as the sources spell them (C = 0 ... B = 11).
PITCH_CLASS = {
    "C": 0, "B#": 0, "C#": 1, "Db": 1, "D": 2, "D#": 3, "Eb": 3, "E": 4, "Fb": 4, "F": 5, "E#": 5,
    "F#": 6, "Gb": 6, "G": 7, "G#": 8, "Ab": 8, "A": 9, "A#": 10, "Bb": 10, "B": 11, "Cb": 11,
}  # fmt: skip


def file_units(spec: SourceSpec, files: Iterable[tuple[str, Path]]) -> list[WorkUnit]:
    """One work unit per (kind, file), so independent files become parallel tasks."""
    return [WorkUnit(spec, str(path), kind=kind) for kind, path in files]


def sniff_encoding(path: Path, fallback: str) -> str:
    """`utf-8` if the whole file decodes as UTF-8, else `fallback` (for copies saved in a legacy code page)."""
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        log.warning("%s is not valid UTF-8; reading it as %s", path, fallback)
        return fallback
    return "utf-8"


def option_encoding(spec: SourceSpec, path: Path, fallback: str) -> str:
    """The `encoding` option, or `auto` (default): UTF-8 when the file is valid UTF-8, else `fallback`."""
    enc = str(spec.options.get("encoding", "auto"))
    return sniff_encoding(path, fallback) if enc == "auto" else enc


def csv_rows(
    path: Path,
    encoding: str = "utf-8",
    delimiter: str = ",",
    quoting: bool = True,
    columns: tuple[str, ...] | None = None,
) -> Iterator[RawRow]:
    """Rows of a CSV file with a header line, or of a headerless one whose fields `columns` names."""
    return read_csv(path, delimiter=delimiter, encoding=encoding, quoting=quoting, columns=columns)


def passthrough(raw: RawRow, dataset: str) -> Reject:
    """A reader's reject, tagged with the dataset the row was meant for."""
    assert raw.reject is not None
    raw.reject.dataset = dataset
    return raw.reject


def read_json_list(path: Path) -> Iterator[RawRow]:
    """Elements of a file holding one JSON array. Row numbers are 1-based element indexes (these files
    put several elements on one line, so line numbers would not identify a row); the payload is the
    element re-serialised. Non-objects and empty objects `{}` are rejected."""
    file = str(path)
    try:
        items = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as e:
        raise InputError(f"{file}: not valid JSON ({e}); expected one JSON array of objects.") from None
    if not isinstance(items, list):
        raise InputError(
            f"{file}: top-level JSON value is a {type(items).__name__}, expected an array of objects."
        )
    for i, item in enumerate(items, 1):
        payload = orjson.dumps(item)
        if not isinstance(item, dict):
            msg = f"array element is a {type(item).__name__}, expected an object"
            yield RawRow(i, payload, reject=Reject(file, i, "malformed_row", msg, payload))
        elif not item:
            msg = "array element is an empty object {}: no question, answer or other field to ingest"
            yield RawRow(i, payload, reject=Reject(file, i, "empty_record", msg, payload))
        else:
            yield RawRow(i, payload, values=item)


def derived(
    ctx: IngestContext, dataset: str, values: Mapping, file: str, row: int | None = None
) -> Record | Reject:
    """A derived (non-primary) record. If it does not coerce, the `Reject` is non-primary too: the ingest
    op quarantines it without counting it as an input row."""
    return ctx.build(dataset, values, file, row, None, primary=False)


def name_key(name: str) -> str:
    """Natural key for an entity known only by name: normalised and case-folded."""
    return normalize_name(name).casefold()


def to_int(v: object) -> int | None:
    """Integer from strings like `154`, `151507.0` or `1,121`; None when empty or not integral."""
    if v is None:
        return None
    s = str(v).strip().replace(",", "")
    if not s:
        return None
    try:
        f = float(s)
    except ValueError:
        return None
    return int(f) if f.is_integer() else None


def to_float(v: object) -> float | None:
    if v is None:
        return None
    s = str(v).strip().replace(",", "")
    try:
        return float(s) if s else None
    except ValueError:
        return None


def scaled(v: object, divisor: float) -> float | None:
    """A 0-100 percentage as a [0, 1] feature."""
    f = to_float(v)
    return None if f is None else f / divisor


def year_of(date: str | None) -> int | None:
    """Year of an ISO-like date string (`1989-06-13`, `1959`)."""
    if date and re.match(r"\d{4}", date.strip()):
        return int(date.strip()[:4])
    return None


def pitch_class(key: str | None, plain_mode: int | None = None) -> tuple[int | None, int | None]:
    """(key, mode) from a key name such as `C#`, `Bb` or `Am`: a trailing `m` means minor (mode 0);
    a plain name gets `plain_mode` (1 where the source writes majors as bare names)."""
    if not key or not key.strip():
        return None, None
    k = key.strip()
    mode = plain_mode
    if len(k) > 1 and k.endswith("m"):
        k, mode = k[:-1], 0
    pc = PITCH_CLASS.get(k)
    return (None, None) if pc is None else (pc, mode)


def build_qa(
    ctx: IngestContext, values: dict, file: str, row: int | None, payload: object
) -> Record | Reject:
    """A `qa_items` record. Answer and choices are both normalised as text, so an answer equal to one of
    the choices in the source stays equal to it (ZIQI's multi-line notation choices keep their lines)."""
    return ctx.build("qa_items", values, file, row, payload)
