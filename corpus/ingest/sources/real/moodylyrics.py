"""MoodyLyrics4Q: 2,000 songs (artist + title) labelled with a mood quadrant from Last.fm user tags.

Each CSV row is one primary `songs` record (id: the dataset's `index`, `ML1` ...). The songs contract has
no mood column and a mood is not a genre (knowledge templates render `genres` as the song's genres), so
the label stays in metadata: `mood` as the source spells it and `mood_quadrant`, its quadrant of Russell's
valence-arousal plane per the dataset paper. A mood outside the four is quarantined (`bad_value`).
Artists are derived once per case-folded name. No lyrics are included in the source.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from corpus.ingest.records import Record, Reject
from corpus.ingest.sources.base import IngestContext, SourceAdapter, WorkUnit
from corpus.ingest.sources.real._common import csv_rows, derived, name_key, passthrough

# Çano & Morisio 2017: Q1 high valence / high arousal ... Q4 high valence / low arousal
MOOD_QUADRANT = {"happy": "Q1", "angry": "Q2", "sad": "Q3", "relaxed": "Q4"}


class MoodyLyrics4QAdapter(SourceAdapter):
    name = "moodylyrics4q"
    license = (
        "not stated (origin repo Johny-Code/music-piece-emotion-classifier); cite Çano & Morisio, "
        "'Music Mood Dataset Creation Based on Last.fm Tags', AIAP 2017"
    )
    description = (
        "MoodyLyrics4Q: 2,000 songs (artist, title) with a mood quadrant: happy, angry, sad, relaxed."
    )
    datasets = ("songs", "artists")
    expected_files = ("MoodyLyrics4Q.csv",)
    unit_kind = "csv"

    def read(self, unit: WorkUnit, ctx: IngestContext) -> Iterator[Record | Reject]:
        path = Path(unit.path)
        file = str(path)
        artists: dict[str, tuple[str, int]] = {}  # name key -> (first spelling, first row)
        for raw in csv_rows(path):
            if raw.reject is not None:
                yield passthrough(raw, "songs")
                continue
            v = raw.values or {}
            mood = v["mood"].strip()
            if mood not in MOOD_QUADRANT:
                msg = f"songs.mood: {mood!r:.60} is not one of {', '.join(MOOD_QUADRANT)}"
                yield Reject(file, raw.row, "bad_value", msg, raw.payload or b"", "mood", "songs")
                continue
            artist = v["artist"]
            akey = name_key(artist) if artist.strip() else None
            values = {
                "source_id": v["index"],
                "title": v["title"],
                "artists": [artist] if akey else None,
                "artist_ids": [ctx.link("artists", akey)] if akey else None,
                "mood": mood,
                "mood_quadrant": MOOD_QUADRANT[mood],
            }
            rec = ctx.build("songs", values, file, raw.row, raw.payload)
            if isinstance(rec, Record) and akey:
                artists.setdefault(akey, (artist, raw.row))
            yield rec
        for akey, (artist, row) in artists.items():
            yield derived(ctx, "artists", {"source_id": akey, "name": artist}, file, row)
