"""Allow-list of catalog names (artists, songs, albums) that PII masking must never touch.

Band names like Blink-182, Maroon 5 or UB40 and titles like "Route 72" look like numbers or
addresses; reading them from the catalog files of a source keeps them out of the masks.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path


def _names_from_list_field(value: str) -> list[str]:
    try:
        parsed = json.loads(value)
    except (json.JSONDecodeError, TypeError):
        return [value] if value else []
    return [str(v) for v in parsed] if isinstance(parsed, list) else [str(parsed)]


def load_catalog_allow_list(root: str | Path) -> list[str]:
    """Artist, song and album names from a sample-layout source dir (songs/, artists/, albums/).

    Missing files are skipped, so a source without albums still yields its songs and artists.
    """
    root = Path(root)
    names: set[str] = set()
    songs = root / "songs" / "songs.csv"
    if songs.exists():
        with songs.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                names.update(x for x in (row.get("title"), row.get("album")) if x)
                names.update(_names_from_list_field(row.get("artists") or ""))
    artists = root / "artists" / "artists.parquet"
    if artists.exists():
        import pyarrow.parquet as pq

        names.update(n for n in pq.read_table(artists, columns=["name"]).column("name").to_pylist() if n)
    albums = root / "albums" / "albums.jsonl"
    if albums.exists():
        with albums.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    rec = json.loads(line)
                    names.update(x for x in [rec.get("title"), *(rec.get("artists") or [])] if x)
    return sorted(names)


def merge_allow_lists(*lists: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({n for lst in lists for n in lst if n}))
