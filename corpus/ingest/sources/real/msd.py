"""Million Song Dataset 10k subset, CORGIS flattening: one primary song per row, artists derived.

CORGIS ASCII-folded some names ("SA(c)bastien", "JA$?rvi") and left control bytes in titles; they are
kept (controls are removed by normalisation). One row has an unescaped quote that shifts its fields;
rows whose `song.id` is not an MSD song id are quarantined as `malformed_row`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from corpus.ingest.readers import RawRow
from corpus.ingest.records import Record, Reject
from corpus.ingest.sources.base import IngestContext, SourceAdapter, SourceSpec, WorkUnit
from corpus.ingest.sources.real._common import (
    csv_rows,
    derived,
    file_units,
    passthrough,
    to_float,
)

_SONG_ID = re.compile(r"SO[A-Z0-9]{16}")
_ARTIST_ID = re.compile(r"AR[A-Z0-9]{16}")
# source columns mapped to song contract columns (the rest go to metadata under their own names)
_SONG_COLUMNS = {
    "song.id", "title", "artist.name", "release.name", "year", "duration", "tempo", "key", "mode",
    "loudness", "song.hotttnesss", "terms", "time_signature",
}  # fmt: skip
# per-artist fields, carried by the derived artist (from the artist's first row)
_ARTIST_FIELDS = ("artist.hotttnesss", "familiarity", "artist_mbtags", "artist_mbtags_count", "latitude",
                  "longitude", "similar")  # fmt: skip
_NO_LOCATION = "Not available"  # CORGIS placeholder (with placeholder lat/long 37.157, -63.934)


class MsdSubsetCorgisAdapter(SourceAdapter):
    name = "msd_subset_corgis"
    license = "research/educational use (MSD; CORGIS), no license file"
    description = "Million Song Dataset 10k subset (CORGIS): songs with tempo, key, year, terms; artists."
    datasets = ("songs", "artists")
    expected_files = ("music.csv",)

    def plan(self, spec: SourceSpec, split_bytes: int) -> list[WorkUnit]:
        root = self.check_root(spec)
        return file_units(spec, [("csv", root / "music.csv")])

    def read(self, unit: WorkUnit, ctx: IngestContext) -> Iterator[Record | Reject]:
        path = Path(unit.path)
        file = str(path)
        artists: dict[str, dict] = {}
        for raw in csv_rows(path):
            if raw.reject is not None:
                yield passthrough(raw, "songs")
                continue
            v = raw.values or {}
            bad = self._misaligned(v)
            if bad:
                yield Reject(file, raw.row, "malformed_row", bad, raw.payload or b"", "song.id", "songs")
                continue
            artist_id = v["artist.id"].strip()
            self._collect_artist(artists, v, raw)
            duration = to_float(v["duration"])
            year = v["year"].strip()
            values = {
                "source_id": v["song.id"].strip(),
                "title": v["title"],
                "artists": [v["artist.name"]] if v["artist.name"].strip() else None,
                "artist_ids": [ctx.link("artists", artist_id)],
                "album": v["release.name"],
                "year": None if year in ("0", "0.0") else year,  # 0 = unknown
                "duration_ms": None if duration is None else round(duration * 1000),
                "tempo_bpm": v["tempo"],
                "key": v["key"],
                "mode": v["mode"],
                "loudness_db": v["loudness"],
                "popularity": v["song.hotttnesss"],
                "genres": [v["terms"]] if v["terms"].strip() else None,
                "time_signature": v["time_signature"],
                **{k: x for k, x in v.items() if k not in _SONG_COLUMNS},
            }
            yield ctx.build("songs", values, file, raw.row, raw.payload)
        for artist_id, a in artists.items():
            genres = [g for g in (a["terms"], a["artist_mbtags"]) if g.strip()]
            values = {
                "source_id": artist_id,
                "name": a["name"],
                "country": None if a["location"].strip() == _NO_LOCATION else a["location"],
                "genres": list(dict.fromkeys(genres)) or None,
                **{k: a[k] for k in _ARTIST_FIELDS},
                "location": a["location"],
            }
            if len(a["names"]) > 1:
                # 440 artist ids carry several spellings or collaboration credits across their songs
                values["name_variants"] = a["names"]
            rec = derived(ctx, "artists", values, file, a["row"])
            if rec is not None:
                yield rec

    @staticmethod
    def _misaligned(v: dict) -> str | None:
        sid, aid = v["song.id"].strip(), v["artist.id"].strip()
        if _SONG_ID.fullmatch(sid) and _ARTIST_ID.fullmatch(aid):
            return None
        return (
            f"song.id {sid[:40]!r} / artist.id {aid[:40]!r} are not MSD ids: the row's fields are shifted "
            "(an unescaped quote in an earlier field); fix the quoting in the source row"
        )

    @staticmethod
    def _collect_artist(artists: dict[str, dict], v: dict, raw: RawRow) -> None:
        aid = v["artist.id"].strip()
        a = artists.get(aid)
        if a is None:
            artists[aid] = a = {k: v[k] for k in (*_ARTIST_FIELDS, "terms", "location")}
            a.update(name=v["artist.name"], row=raw.row, names=[])
        if v["artist.name"] not in a["names"]:
            a["names"].append(v["artist.name"])
