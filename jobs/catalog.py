"""The catalog as one item lookup (songs, albums, artists, playlists), shared by the curriculum stages.

`catalog_items` builds `item id -> {item_type, title, artists}` from rows; `read_catalog_items`
reads only the columns it needs from an ingest folder; `item_text` renders an item as the behavior
sequences name it ("title — artists", or the name).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import pyarrow.dataset as pads

from jobs.outputs import part_files

# dataset -> (item type, id column, title column, artists column or None)
CATALOG_DATASETS = {
    "songs": ("song", "song_id", "title", "artists"),
    "albums": ("album", "album_id", "title", "artists"),
    "artists": ("artist", "artist_id", "name", None),
    "playlists": ("playlist", "playlist_id", "name", None),
}


def catalog_items(rows: Callable[[str, list[str]], Iterable[Mapping]]) -> dict[str, dict]:
    """item id -> {item_type, title, artists}; `rows(dataset, columns)` gives a dataset's rows. Ids are
    content hashes of source and source id, so the first row of an id is the only one."""
    out: dict[str, dict] = {}
    for ds, (kind, key, title, who) in CATALOG_DATASETS.items():
        for r in rows(ds, [key, title] + ([who] if who else [])):
            out.setdefault(r[key], {"item_type": kind, "title": r[title], "artists": r[who] if who else None})
    return out


def read_catalog_items(ingest_dir: Path) -> dict[str, dict]:
    def rows(ds: str, columns: list[str]) -> list[dict]:
        files = part_files(ingest_dir / ds)
        return pads.dataset(files, format="parquet").to_table(columns=columns).to_pylist() if files else []

    return catalog_items(rows)


def item_text(item: Mapping) -> str | None:
    """"title — artists" (songs, albums), or the name (artists, playlists); None without a usable name."""
    name = (item["title"] or "").strip()
    if not name:
        return None
    return f"{name} — {', '.join(item['artists'])}" if item["artists"] else name
