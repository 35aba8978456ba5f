"""The generic adapter: files whose columns already follow a dataset contract (after optional renaming).

This is how users bring their own data and how the demo sample is read. Rules:
- columns are renamed by `options.columns` ({contract column: input column}); unknown columns go to `metadata`;
- `source_id` comes from the `source_id` column, else `id`, else `options.id_column`, else a natural key
  (for text datasets the text itself, otherwise the whole row);
- foreign keys (`user_id`, `item_id`, `song_ids`, `artist_ids`, ...) hold the source's own ids and are
  turned into our ids in the same source namespace, unless `options.link_ids` is false or the file is
  already one of our datasets (its Parquet schema metadata names it).
- in CSV, list columns are JSON arrays (or `|`-separated), map columns JSON objects.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson

from corpus.ingest.ids import content_key
from corpus.ingest.readers import (
    InputError,
    LineBase,
    RawRow,
    detect_format,
    jsonl_splits,
    open_parquet,
    parquet_splits,
    read_csv,
    read_jsonl,
    read_parquet,
)
from corpus.ingest.records import Record, Reject
from corpus.ingest.sources.base import (
    ITEM_DATASET,
    IngestContext,
    SourceAdapter,
    SourceSpec,
    WorkUnit,
    resolve_files,
)
from schemas import RAW_DATASETS, check_version, get_schema, schema_identity

# natural key columns when a row has no id of its own
_NATURAL_KEY = {
    "documents": ("text",),
    "comments": ("user_id", "item_id", "text", "created_at"),
    "qa_items": ("question", "answer"),
    "behavior_events": ("user_id", "ts", "item_type", "item_id", "feedback", "tag"),
    "item_relations": ("src_type", "src_id", "dst_type", "dst_id", "relation"),
    "chart_entries": ("chart", "date", "year", "rank", "title"),
}
# (column, fixed target dataset or None when given by a type column, type column)
_FOREIGN_KEYS = {
    "songs": [("artist_ids", "artists", None)],
    "comments": [("user_id", "user_profiles", None), ("item_id", None, "item_type"), ("parent_id", "comments", None)],
    "playlists": [("user_id", "user_profiles", None), ("song_ids", "songs", None)],
    "item_relations": [("src_id", None, "src_type"), ("dst_id", None, "dst_type")],
    "behavior_events": [("user_id", "user_profiles", None), ("item_id", None, "item_type")],
}


_LIST_COLUMNS = frozenset({"artist_ids", "song_ids"})


class GenericAdapter(SourceAdapter):
    name = "generic"
    description = "Files whose columns follow a dataset contract (Parquet, JSONL, CSV or TSV)."
    datasets = tuple(RAW_DATASETS)

    def plan(self, spec: SourceSpec, split_bytes: int) -> list[WorkUnit]:
        if spec.dataset not in RAW_DATASETS:
            raise InputError(
                f"source {spec.name!r}: generic sources need `dataset:` set to one of {sorted(RAW_DATASETS)}, "
                f"got {spec.dataset!r}."
            )
        units = []
        for f in resolve_files(spec.path):
            fmt = spec.format or detect_format(f)
            if fmt == "jsonl":
                units += [WorkUnit(spec, str(f), "jsonl", s) for s in jsonl_splits(f, split_bytes)]
            elif fmt == "parquet":
                if spec.on_bad_file == "quarantine":
                    try:
                        splits = parquet_splits(f, split_bytes)
                    except InputError:
                        splits = [(0, 0)]
                else:
                    splits = parquet_splits(f, split_bytes)
                units += [WorkUnit(spec, str(f), "parquet", s) for s in splits]
            else:
                units.append(WorkUnit(spec, str(f), fmt))
        return units

    def read(self, unit: WorkUnit, ctx: IngestContext) -> Iterator[Record | Reject]:
        spec = unit.source
        dataset = spec.dataset
        assert dataset is not None
        opts = dict(spec.options)
        rename = {v: k for k, v in (opts.get("columns") or {}).items()}
        link = bool(opts.get("link_ids", True))
        path = Path(unit.path)
        rows: Iterator[RawRow]
        base = None  # JSONL splits number rows from their first line; resolved only for rejects
        if unit.kind == "jsonl":
            start, end = unit.split or (0, None)
            rows = read_jsonl(path, start, end, relative_rows=True)
            base = LineBase(path, start)
        elif unit.kind == "parquet":
            pf = open_parquet(path)
            name, _ = schema_identity(pf.schema_arrow)
            if name is not None:
                check_version(pf.schema_arrow, get_schema(dataset), str(path))
                link = False  # already our ids
            first, last = unit.split or (0, None)
            rows = read_parquet(path, first, last)
        elif unit.kind in ("csv", "tsv"):
            delim = opts.get("delimiter", "\t" if unit.kind == "tsv" else ",")
            rows = read_csv(path, delim, opts.get("encoding", "utf-8"), quoting=opts.get("quoting", True))
        else:
            raise InputError(f"{path}: unsupported format {unit.kind!r}")
        builder = ctx.builder(dataset)
        key = get_schema(dataset).key
        id_column = opts.get("id_column")
        for raw in rows:
            if raw.reject is not None:
                raw.reject.dataset = dataset
                if base is not None:
                    raw.reject.row = base() + raw.row
                yield raw.reject
                continue
            values = raw.values or {}
            if rename:
                values = {rename.get(k, k): v for k, v in values.items()}
            if key and key in values:
                values.pop(key)  # ids are always recomputed from source_id
            values.pop("source", None)
            sid = values.get("source_id")
            if sid is None or sid == "":
                sid = values.pop(id_column, None) if id_column else None
                if sid is None or sid == "":
                    sid = values.pop("id", None)
                if sid is None or sid == "":
                    sid = _natural_key(dataset, values)
                values["source_id"] = sid
            if link:
                values = _link_foreign_keys(dataset, values, ctx)
            out = builder.build(values, unit.path, raw.row, raw.payload if raw.payload is not None else values)
            if base is not None:
                if isinstance(out, Reject):
                    out.row = base() + raw.row
                else:  # accepted rows keep the split-relative number; resolved only when a message needs it
                    out.row_base = base.offset
            yield out


def _natural_key(dataset: str, values: dict) -> str:
    cols = _NATURAL_KEY.get(dataset)
    if cols:
        return content_key(*(values.get(c) for c in cols))
    return content_key(orjson.dumps(values, option=orjson.OPT_SORT_KEYS, default=str).decode())


def _link_foreign_keys(dataset: str, values: dict, ctx: IngestContext) -> dict:
    for col, target, type_col in _FOREIGN_KEYS.get(dataset, ()):
        v = values.get(col)
        if v is None or v == "":
            continue
        if target is None:
            target = ITEM_DATASET.get(str(values.get(type_col) or "").strip())
            if target is None:
                continue  # unknown type: the builder keeps the raw value, the type column tells readers
        if col in _LIST_COLUMNS and isinstance(v, str):
            if v.strip().startswith("["):
                try:
                    v = orjson.loads(v)
                except orjson.JSONDecodeError:
                    continue  # let the builder report the bad list
            else:
                v = v.split("|")
        if isinstance(v, list):
            values[col] = [ctx.link(target, x) for x in v if x is not None and x != ""]
        else:
            values[col] = ctx.link(target, v)
    return values
