"""Rolling Stone's 500 Greatest Albums (2012): primary `albums`, derived `chart_entries` (the list rank).

The origin file is Mac-Roman; the shared copy was transcoded to UTF-8. The encoding is sniffed (UTF-8
if valid, else Mac-Roman) unless the `encoding` option says otherwise. Genre cells are comma-separated
with non-breaking spaces, and the Discogs genre "Folk, World, & Country" itself contains commas.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from corpus.ingest.ids import content_key
from corpus.ingest.records import Record, Reject
from corpus.ingest.sources.base import IngestContext, SourceAdapter, WorkUnit
from corpus.ingest.sources.real._common import csv_rows, derived, option_encoding, passthrough

CHART = "rolling_stone_500_albums_2012"
LIST_YEAR = 2012
_COMMA_GENRES = ("Folk, World, & Country",)  # Discogs genre names that contain the separator
_SPLIT = re.compile(r",\s*")


def split_genres(cell: str) -> list[str]:
    """Genre names from a comma-separated cell, keeping comma-containing Discogs names whole."""
    s = re.sub(r"\s+", " ", cell)  # NBSP separators -> spaces
    protected = {}
    for i, g in enumerate(_COMMA_GENRES):
        token = f"\x00{i}\x00"
        if g in s:
            s = s.replace(g, token)
            protected[token] = g
    out = []
    for part in _SPLIT.split(s):
        part = part.strip()
        for token, g in protected.items():
            part = part.replace(token, g)
        if part and part != "None":  # "None" marks a missing subgenre
            out.append(part)
    return out


class RollingStone500AlbumsAdapter(SourceAdapter):
    name = "rolling_stone_500_albums_2012"
    license = "unknown (Kaggle; list is Rolling Stone editorial content)"
    description = "Rolling Stone's 500 Greatest Albums of All Time (2012) with Discogs genres/subgenres."
    datasets = ("albums", "chart_entries")
    expected_files = ("albumlist.csv",)
    unit_kind = "csv"

    def read(self, unit: WorkUnit, ctx: IngestContext) -> Iterator[Record | Reject]:
        path = Path(unit.path)
        file = str(path)
        for raw in csv_rows(path, option_encoding(unit.source, path, "mac_roman")):
            if raw.reject is not None:
                yield passthrough(raw, "albums")
                continue
            v = raw.values or {}
            genres, subgenres = split_genres(v["Genre"]), split_genres(v["Subgenre"])
            album_key = content_key(v["Artist"], v["Album"], v["Year"])
            values = {
                "source_id": album_key,
                "title": v["Album"],
                "artists": [v["Artist"]] if v["Artist"].strip() else None,
                "year": v["Year"],
                "genres": list(dict.fromkeys(genres + subgenres)) or None,
                "Number": v["Number"],
                "Genre": v["Genre"],
                "Subgenre": v["Subgenre"],
            }
            out = ctx.build("albums", values, file, raw.row, raw.payload)
            yield out
            if isinstance(out, Reject):
                continue
            entry = {
                "source_id": f"{LIST_YEAR}#{v['Number'].strip()}",
                "chart": CHART,
                "item_type": "album",
                "title": v["Album"],
                "artists": values["artists"],
                "year": LIST_YEAR,
                "date": str(LIST_YEAR),
                "rank": v["Number"],
                "album_id": ctx.link("albums", album_key),
                "release_year": v["Year"],
            }
            rec = derived(ctx, "chart_entries", entry, file, raw.row)
            if rec is not None:
                yield rec
