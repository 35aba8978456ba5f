"""Stable, content-derived ids and row fingerprints.

`make_id(dataset, source, source_id)` is the primary key of every raw dataset: the same source row
always gets the same id, whatever the engine, worker count or run. Foreign keys are built with the
same function (e.g. a Last.fm tag event's `item_id` is `make_id("artists", "lastfm_hetrec2011", "51")`).
"""

from __future__ import annotations

import orjson
import xxhash

_SEP = "\x1f"  # unit separator: cannot appear in normalised ids


def make_id(dataset: str, source: str, source_id: str) -> str:
    """128-bit xxh3 of `dataset, source, source_id` as 32 lowercase hex characters."""
    return xxhash.xxh3_128_hexdigest(f"{dataset}{_SEP}{source}{_SEP}{source_id}".encode())


def content_key(*parts: object) -> str:
    """A natural key for sources without ids: 128-bit xxh3 over the identifying content."""
    return xxhash.xxh3_128_hexdigest(_SEP.join("" if p is None else str(p) for p in parts).encode())


def row_fingerprint(row: dict) -> str:
    """Hash of a whole row's content (keys sorted), used to tell repeated rows from conflicting ones."""
    return xxhash.xxh3_128_hexdigest(orjson.dumps(row, option=orjson.OPT_SORT_KEYS, default=str))
