"""Turn raw source rows into contract rows, or into quarantine records that say what is wrong.

Adapters hand `RecordBuilder.build` a plain dict keyed by contract column names; the builder
repairs mojibake in every string (the same conservative ftfy repair refine uses; ids excepted),
normalises strings, coerces types, checks required fields, sizes and enumerated values, and computes
the id. Every input row ends as exactly one `Record` (accepted) or one `Reject` (quarantined), so
rows in = rows out + rows quarantined holds by construction.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

import orjson
import pyarrow as pa

from corpus.clean.unicode_repair import repair_unicode
from corpus.ingest.ids import make_id
from corpus.ingest.normalize import has_invalid_utf8, normalize_name, normalize_text
from schemas import DatasetSchema, get_schema

# Columns holding running text (keep lines); every other string is name-like. A JSON number given for
# one of them is a type error, not text: ids and names may be numeric, running text is not.
TEXT_COLUMNS = frozenset({"text", "profile_text", "description", "question", "answer", "choices", "credits"})
# Required text columns whose emptiness means "nothing to train on", reported as `empty_text`.
EMPTY_TEXT_COLUMNS = frozenset({"text", "question"})
_INT_RANGES = {pa.int8(): (-(2**7), 2**7 - 1), pa.int32(): (-(2**31), 2**31 - 1), pa.int64(): (-(2**63), 2**63 - 1)}
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}
_NULL_STRINGS = {"", "nan", "NaN", "null", "NULL", "None", "NA", "N/A"}


@dataclass(frozen=True)
class IngestLimits:
    """Size limits; rows over them are quarantined rather than loaded."""

    max_text_bytes: int = 8 * 1024 * 1024
    quarantine_payload_bytes: int = 1024 * 1024
    unicode_form: str = "NFC"


@dataclass
class Record:
    """An accepted row for `dataset`. `primary` is False for rows derived from other rows.

    `file` and `row` say where it came from (the row number as the reader counts it: a line of a text
    file, a 1-based Parquet row); rows of a JSONL split are numbered from the split's first line, which
    starts at byte `row_base` (0: numbered from the file's start)."""

    dataset: str
    values: dict
    primary: bool = True
    file: str | None = None
    row: int | None = None
    row_base: int = 0


@dataclass
class Reject:
    """A quarantined input row (or whole file, when `row` is None)."""

    file: str
    row: int | None
    reason: str
    message: str
    payload: bytes = b""
    field: str | None = None
    dataset: str | None = None
    # False for a record derived from other rows: quarantined, but not an input row of its own
    primary: bool = True

    def to_row(self, stage: str, source: str, limit: int) -> dict:
        return {
            "stage": stage,
            "dataset": self.dataset,
            "source": source,
            "file": self.file,
            "row": self.row,
            "field": self.field,
            "reason": self.reason,
            "message": self.message,
            "payload": self.payload[:limit],
            "payload_bytes": len(self.payload),
            "payload_truncated": len(self.payload) > limit,
        }


class FieldError(ValueError):
    def __init__(self, field: str, reason: str, message: str):
        super().__init__(message)
        self.field = field
        self.reason = reason


def payload_of(raw: object) -> bytes:
    """Bytes to keep in quarantine for a raw row: its original bytes, or canonical JSON of its values."""
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    try:
        return orjson.dumps(raw, option=orjson.OPT_SORT_KEYS, default=str)
    except TypeError:  # strings holding undecodable bytes (surrogate escapes): keep the bytes as they were
        return json.dumps(raw, sort_keys=True, default=str, ensure_ascii=False).encode("utf-8", "surrogateescape")


def _plain(s: str) -> bool:
    """Printable ASCII without surrounding or doubled spaces: unchanged by `normalize_name`."""
    return bool(s) and s.isascii() and s.isprintable() and "  " not in s and s[0] != " " and s[-1] != " "


def _is_id(name: str) -> bool:
    """Identifier columns (`source_id`, `item_id`, `artist_ids`, ...) are never repaired: adapters link rows
    by ids computed from the same raw strings (`IngestContext.link`), and a repaired id would break them."""
    return name == "source_id" or name.endswith(("_id", "_ids"))


_WS_OR_NULL_START = frozenset(" \t\n\r\x0b\x0cnNN/")  # first chars of blanks and null spellings


def _null_spellings(typ: pa.DataType) -> frozenset[str]:
    if pa.types.is_string(typ) or pa.types.is_list(typ):
        return frozenset()
    return frozenset(_NULL_STRINGS)


def _is_blank_or_null(v: str, null_spellings: frozenset[str]) -> bool:
    s = v.strip()
    return not s or s in null_spellings


def _is_null(v: object, typ: pa.DataType | None = None) -> bool:
    """Missing values. Spellings like "NA" or "null" only mean missing where a string cannot be the
    value (numbers, booleans, dates): in a string column "None" may be a real answer."""
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    if not isinstance(v, str):
        return False
    if typ is None or pa.types.is_string(typ) or pa.types.is_list(typ):
        return not v.strip()
    return v.strip() in _NULL_STRINGS


class RecordBuilder:
    """Coerces raw dicts into rows of one dataset contract for one source."""

    def __init__(self, dataset: str, source: str, limits: IngestLimits = IngestLimits()):
        self.spec: DatasetSchema = get_schema(dataset)
        self.dataset = dataset
        self.source = source
        self.limits = limits
        self._columns = [c for c in self.spec.columns if c.name not in (self.spec.key, "source")]
        self._known = {c.name for c in self.spec.columns}
        # one converter per column, chosen once: the per-row loop does no type dispatch
        self._plan = [
            (c.name, self._converter(c.name, c.type, c.allowed), c.nullable, _null_spellings(c.type))
            for c in self._columns
            if c.name != "metadata"
        ]
        self._id_prefix = f"{dataset}\x1f{source}\x1f"
        # string values the Unicode repair changed (beyond what normalisation alone does), per column, in
        # the records built; `_row_repairs` holds the current row's until it is accepted
        self.repaired: Counter[str] = Counter()
        self._row_repairs: list[str] = []
        # repaired forms of non-ASCII names: catalog names repeat across rows (artists, albums, genres)
        self._name_repairs: dict[str, str] = {}

    def build(self, raw: Mapping, file: str, row: int | None, payload: object = None, primary: bool = True):
        """A `Record`, or a `Reject` naming the field and reason. Unknown keys go to `metadata`."""
        try:
            values = self._coerce(raw)
        except FieldError as e:
            self._row_repairs.clear()
            return Reject(
                file,
                row,
                e.reason,
                f"{self.dataset}.{e.field}: {e}",
                payload_of(raw if payload is None else payload),
                e.field,
                self.dataset,
                primary,
            )
        if self._row_repairs:
            self.repaired.update(self._row_repairs)
            self._row_repairs.clear()
        return Record(self.dataset, values, primary, file, row)

    def _coerce(self, raw: Mapping) -> dict:
        key = self.spec.key
        out: dict = {key: None} if key is not None else {}
        out["source"] = self.source
        for name, convert, nullable, null_spellings in self._plan:
            v = raw.get(name)
            if v is not None:
                if type(v) is str:
                    if not v or (v[0] in _WS_OR_NULL_START and _is_blank_or_null(v, null_spellings)):
                        v = None
                    else:
                        v = convert(v)
                elif type(v) is float and v != v:  # NaN
                    v = None
                else:
                    v = convert(v)
            if v is None and not nullable:
                if name in EMPTY_TEXT_COLUMNS and raw.get(name) is not None:
                    raise FieldError(name, "empty_text", "is empty after normalisation; nothing to keep")
                raise FieldError(name, "missing_field", "is required but missing or empty")
            out[name] = v
        out["metadata"] = self._metadata(raw)
        if key is not None:
            out[key] = make_id(self.dataset, self.source, out["source_id"])
        return out

    def _converter(self, name: str, typ: pa.DataType, allowed: tuple[str, ...] | None = None):
        if pa.types.is_string(typ) and allowed:
            allowed_set = frozenset(allowed)
            listed = ", ".join(f"`{a}`" for a in allowed)

            def enumerated(v: object) -> str | None:
                s = self._string(name, v)
                if s is not None and s not in allowed_set:
                    raise FieldError(
                        name,
                        "bad_value",
                        f"{s!r:.60} is not an allowed value; allowed: {listed} "
                        "(map the source's value to one of them in the adapter)",
                    )
                return s

            return enumerated
        if pa.types.is_string(typ):
            return lambda v: self._string(name, v)
        if pa.types.is_integer(typ):
            return lambda v: self._int(name, typ, v)
        if pa.types.is_floating(typ):
            return lambda v: self._float(name, v)
        if pa.types.is_boolean(typ):
            return lambda v: self._bool(name, v)
        if pa.types.is_timestamp(typ):
            return lambda v: _timestamp(name, v)
        if pa.types.is_list(typ):
            return lambda v: self._list(name, typ, v)
        if pa.types.is_map(typ):
            return lambda v: self._map(name, v)
        raise ValueError(f"unsupported contract type {typ}")  # pragma: no cover

    def _metadata(self, raw: Mapping) -> str | None:
        known = self._known
        extra = {k: v for k, v in raw.items() if k not in known and not _is_null(v)}
        meta = raw.get("metadata")
        if isinstance(meta, str) and meta.strip():
            try:
                meta = orjson.loads(meta)
            except orjson.JSONDecodeError as e:
                raise FieldError("metadata", "bad_type", f"is not valid JSON ({e})") from None
        if isinstance(meta, Mapping):
            extra = {**meta, **extra}
        elif meta is not None and not _is_null(meta):
            raise FieldError("metadata", "bad_type", f"must be a JSON object, got {type(meta).__name__}")
        if not extra:
            return None
        to_repair = []
        for k, v in extra.items():
            if type(v) is str:
                if v.isascii():
                    if "&" in v or "\\" in v:
                        to_repair.append(k)
                    continue
                if has_invalid_utf8(v):
                    raise FieldError(k, "invalid_utf8", "contains bytes that are not valid UTF-8")
                to_repair.append(k)
            elif isinstance(v, Mapping | list | tuple):
                to_repair.append(k)
        for k in to_repair:
            if not _is_id(k):
                extra[k] = self._repair_json(extra[k])
        return orjson.dumps(extra, option=orjson.OPT_SORT_KEYS, default=str).decode()

    def _repair_json(self, v: object) -> object:
        """`v` (a metadata value) with mojibake repaired in its strings, nested ones included; counted under
        `metadata`. Keys stay as they are (they name source fields)."""
        if type(v) is str:
            if v.isascii() and "&" not in v and "\\" not in v:
                return v
            r = self._repair_name(v)
            if r != v and normalize_text(r) != normalize_text(v):
                self._row_repairs.append("metadata")
                return r
            return v
        if isinstance(v, Mapping):
            return {k: x if isinstance(k, str) and _is_id(k) else self._repair_json(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [self._repair_json(x) for x in v]
        return v

    def _repair_name(self, v: str) -> str:
        """`repair_unicode(v)`, memoised for short values (names repeat; running text does not)."""
        if len(v) > 200:
            return repair_unicode(v)
        r = self._name_repairs.get(v)
        if r is None:
            if len(self._name_repairs) >= 100_000:
                self._name_repairs.clear()  # bounded memory; the next values refill it
            r = self._name_repairs[v] = repair_unicode(v)
        return r

    # ------------------------------------------------------------------ conversion
    def _convert(self, name: str, typ: pa.DataType, v: object):
        if pa.types.is_string(typ):
            return self._string(name, v)
        if pa.types.is_integer(typ):
            return self._int(name, typ, v)
        if pa.types.is_floating(typ):
            return self._float(name, v)
        if pa.types.is_boolean(typ):
            return self._bool(name, v)
        if pa.types.is_timestamp(typ):
            return _timestamp(name, v)
        if pa.types.is_list(typ):
            return self._list(name, typ, v)
        if pa.types.is_map(typ):
            return self._map(name, v)
        raise FieldError(name, "bad_type", f"unsupported contract type {typ}")  # pragma: no cover

    def _string(self, name: str, v: object) -> str | None:
        if type(v) is str:
            pass
        elif isinstance(v, bytes):
            try:
                v = v.decode("utf-8")
            except UnicodeDecodeError:
                raise FieldError(name, "invalid_utf8", "contains bytes that are not valid UTF-8") from None
        elif isinstance(v, bool | int | float):
            if name in TEXT_COLUMNS:
                raise FieldError(
                    name,
                    "bad_type",
                    f"must be a string of running text, got the {type(v).__name__} {v!r:.60} "
                    "(quote it in the source, or have the adapter pass it as a string)",
                )
            v = repr(v) if isinstance(v, float) else str(v)
        elif not isinstance(v, str):
            raise FieldError(name, "bad_type", f"must be a string, got {type(v).__name__}")
        text = name in TEXT_COLUMNS
        if v.isascii():
            # the common case: printable ASCII without surrounding or repeated spaces, `&` (HTML entities)
            # or `\\` needs no repair and no normalisation
            if (
                not text
                and v
                and v.isprintable()
                and "  " not in v
                and v[0] != " "
                and v[-1] != " "
                and "&" not in v
                and "\\" not in v
            ):
                return v
        elif has_invalid_utf8(v):
            raise FieldError(name, "invalid_utf8", "contains bytes that are not valid UTF-8")
        form = self.limits.unicode_form
        if text:
            if len(v) > self.limits.max_text_bytes // 4 and len(v.encode()) > self.limits.max_text_bytes:
                raise FieldError(
                    name,
                    "text_too_large",
                    f"is {len(v.encode()):,} bytes, over the {self.limits.max_text_bytes:,}-byte limit "
                    "(raise ingest.max_text_bytes to accept it)",
                )
            s = normalize_text(v, form)
            r = repair_unicode(v)  # returns plain ASCII without `&`, `\\` or controls as is, at once
            if r is not v and r != v:
                r = normalize_text(r, form)
                if r != s:
                    self._row_repairs.append(name)
                    s = r
        else:
            s = normalize_name(v, form)
            if not _is_id(name):
                r = self._repair_name(v)
                if r != v:
                    r = normalize_name(r, form)
                    if r != s:
                        self._row_repairs.append(name)
                        s = r
        return s or None

    def _int(self, name: str, typ: pa.DataType, v: object) -> int:
        try:
            if isinstance(v, bool):
                raise ValueError
            if isinstance(v, float):
                if not v.is_integer():
                    raise ValueError
                n = int(v)
            elif isinstance(v, int):
                n = v
            else:
                s = str(v).strip()
                try:
                    n = int(s)
                except ValueError:
                    f = float(s)
                    if not f.is_integer():
                        raise
                    n = int(f)
        except (ValueError, OverflowError):
            raise FieldError(name, "bad_type", f"must be an integer, got {v!r:.60}") from None
        lo, hi = _INT_RANGES[typ]
        if not lo <= n <= hi:
            raise FieldError(name, "out_of_range", f"{n} does not fit in {typ}")
        return n

    def _float(self, name: str, v: object) -> float | None:
        try:
            if isinstance(v, bool):
                raise ValueError
            f = float(v)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise FieldError(name, "bad_type", f"must be a number, got {v!r:.60}") from None
        if math.isinf(f):
            raise FieldError(name, "out_of_range", "is infinite")
        return None if math.isnan(f) else f

    def _bool(self, name: str, v: object) -> bool:
        if isinstance(v, bool):
            return v
        if isinstance(v, int | float) and v in (0, 1):
            return bool(v)
        s = str(v).strip().lower()
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
        raise FieldError(name, "bad_type", f"must be true/false, got {v!r:.60}")

    def _list(self, name: str, typ: pa.DataType, v: object) -> list | None:
        if isinstance(v, str):
            s = v.strip()
            if s.startswith("["):
                try:
                    v = orjson.loads(s)
                except orjson.JSONDecodeError:
                    raise FieldError(name, "bad_type", "looks like a JSON list but does not parse") from None
            else:
                v = [p for p in s.split("|")]
        if not isinstance(v, list | tuple):
            raise FieldError(name, "bad_type", f"must be a list, got {type(v).__name__}")
        item = typ.value_type
        if pa.types.is_string(item):
            out = [self._string(name, x) for x in v if not _is_null(x)]
            return [x for x in out if x]
        if pa.types.is_struct(item):
            return [self._struct(name, item, x) for x in v]
        raise FieldError(name, "bad_type", f"unsupported list item type {item}")  # pragma: no cover

    def _struct(self, name: str, typ: pa.StructType, v: object) -> dict:
        if not isinstance(v, Mapping):
            raise FieldError(name, "bad_type", f"items must be objects, got {type(v).__name__}")
        out = {}
        for f in typ:
            x = v.get(f.name)
            if _is_null(x):
                if not f.nullable:
                    raise FieldError(f"{name}.{f.name}", "missing_field", "is required but missing")
                out[f.name] = None
            elif pa.types.is_string(f.type):
                s = self._string(name if name in TEXT_COLUMNS else f"{name}.{f.name}", x)
                if s is None and not f.nullable:
                    raise FieldError(f"{name}.{f.name}", "missing_field", "is required but empty")
                out[f.name] = s
            else:
                out[f.name] = self._convert(f"{name}.{f.name}", f.type, x)
        return out

    def _map(self, name: str, v: object) -> list[tuple[str, str]] | None:
        if isinstance(v, str):
            try:
                v = orjson.loads(v)
            except orjson.JSONDecodeError:
                raise FieldError(name, "bad_type", "must be a JSON object") from None
        if type(v) is list and all(type(p) is tuple and len(p) == 2 for p in v):
            # Arrow map columns arrive as (key, value) pairs; printable ASCII needs no normalisation
            if all(type(k) is str and type(x) is str and _plain(k) and _plain(x) for k, x in v):
                return sorted(v) or None
            v = dict(v)
        elif isinstance(v, list | tuple) and all(isinstance(p, list | tuple) and len(p) == 2 for p in v):
            v = dict(v)
        if not isinstance(v, Mapping):
            raise FieldError(name, "bad_type", f"must be an object, got {type(v).__name__}")
        items = []
        for k in sorted(v):
            x = v[k]
            if _is_null(x):
                continue
            items.append((self._string(name, str(k)) or "", self._string(name, x) or ""))
        return items or None


_TS_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d", "%d/%m/%Y")


def _timestamp(name: str, v: object) -> datetime:
    if isinstance(v, datetime):
        dt = v
    elif isinstance(v, date):
        dt = datetime(v.year, v.month, v.day)
    elif isinstance(v, int | float) and not isinstance(v, bool):
        # numbers are epoch seconds, or milliseconds when too large to be seconds
        secs = v / 1000 if abs(v) > 1e11 else v
        try:
            dt = datetime.fromtimestamp(secs, UTC)
        except (OverflowError, OSError, ValueError):
            raise FieldError(name, "out_of_range", f"epoch value {v} is out of range") from None
    elif isinstance(v, str):
        s = v.strip()
        try:
            dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
        except ValueError:
            for fmt in _TS_FORMATS:
                try:
                    dt = datetime.strptime(s, fmt)
                    break
                except ValueError:
                    continue
            else:
                raise FieldError(name, "bad_type", f"is not a date/time: {v!r:.60}") from None
    else:
        raise FieldError(name, "bad_type", f"must be a date/time, got {type(v).__name__}")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)
