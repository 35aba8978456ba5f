"""Spotify-derived song tables: TidyTuesday 2020 playlists, "Top 2000s", and most-streamed 2023.

Each CSV row is one primary `songs` record. In TidyTuesday a row is a (track, playlist) membership, so a
track in several playlists repeats its song record with identical track-level fields (the later dedupe
pass collapses them); playlists and artists are derived from the rows and emitted once at the end.
0-100 percentage features of the Kaggle tables are scaled to the contract's [0, 1].
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from corpus.ingest.ids import content_key
from corpus.ingest.normalize import normalize_name
from corpus.ingest.records import Record, Reject
from corpus.ingest.sources.base import IngestContext, SourceAdapter, SourceSpec, WorkUnit
from corpus.ingest.sources.real._common import (
    csv_rows,
    derived,
    file_units,
    name_key,
    option_encoding,
    passthrough,
    pitch_class,
    scaled,
    to_int,
    year_of,
)

_FEATURES = (
    "danceability",
    "energy",
    "valence",
    "acousticness",
    "instrumentalness",
    "liveness",
    "speechiness",
)


class SpotifySongsTidyTuesdayAdapter(SourceAdapter):
    name = "spotify_songs_tidytuesday_2020"
    license = "research use (TidyTuesday repo MIT; data from the Spotify Web API)"
    description = "32,833 (track, playlist) rows: track metadata, popularity, audio features, playlist genre."
    datasets = ("songs", "playlists", "artists")
    expected_files = ("spotify_songs.csv",)

    def plan(self, spec: SourceSpec, split_bytes: int) -> list[WorkUnit]:
        # one unit: playlists and artists are aggregated over the whole file
        root = self.check_root(spec)
        return file_units(spec, [("csv", root / "spotify_songs.csv")])

    def read(self, unit: WorkUnit, ctx: IngestContext) -> Iterator[Record | Reject]:
        path = Path(unit.path)
        file = str(path)
        playlists: dict[str, dict] = {}
        artists: dict[str, tuple[str, int]] = {}  # name key -> (first spelling, first row)
        for raw in csv_rows(path):
            if raw.reject is not None:
                yield passthrough(raw, "songs")
                continue
            v = raw.values or {}
            artist = v["track_artist"]
            akey = name_key(artist) if artist.strip() else None
            if akey:
                artists.setdefault(akey, (artist, raw.row))
            release = v["track_album_release_date"]
            # track-level fields only: a track's repeats (one per playlist) must be identical rows
            values = {
                "source_id": v["track_id"],
                "title": v["track_name"],
                "artists": [artist] if artist.strip() else None,
                "artist_ids": [ctx.link("artists", akey)] if akey else None,
                "album": v["track_album_name"],
                "release_date": release,
                "year": year_of(release),
                "duration_ms": v["duration_ms"],
                "popularity": v["track_popularity"],
                **{f: v[f] for f in _FEATURES},
                "loudness_db": v["loudness"],
                "tempo_bpm": v["tempo"],
                "key": v["key"],
                "mode": v["mode"],
                "track_album_id": v["track_album_id"],
            }
            yield ctx.build("songs", values, file, raw.row, raw.payload)
            pid = v["playlist_id"].strip()
            if not pid:
                continue
            pl = playlists.setdefault(
                pid, {"name": v["playlist_name"], "row": raw.row, "songs": {}, "genres": []}
            )
            pl["songs"].setdefault(ctx.link("songs", v["track_id"]), None)  # ordered set: file order
            genre = {"genre": v["playlist_genre"], "subgenre": v["playlist_subgenre"]}
            if genre not in pl["genres"]:
                pl["genres"].append(genre)
            pl["membership_rows"] = pl.get("membership_rows", 0) + 1
        for pid, pl in playlists.items():
            values = {
                "source_id": pid,
                "name": pl["name"],
                "song_ids": list(pl["songs"]),
                # 8 playlists were sampled under two genre labels, so some memberships repeat in the file
                "playlist_genres": pl["genres"],
                "membership_rows": pl["membership_rows"],
            }
            rec = derived(ctx, "playlists", values, file, pl["row"])
            if rec is not None:
                yield rec
        for akey, (artist, row) in artists.items():
            rec = derived(ctx, "artists", {"source_id": akey, "name": artist}, file, row)
            if rec is not None:
                yield rec


class SpotifyTop2000Adapter(SourceAdapter):
    name = "spotify_top2000"
    license = "unknown (Kaggle 'Spotify - All Time Top 2000s')"
    description = "1,994 songs of the Spotify 'Top 2000s' playlist with genre and 0-100 audio attributes."
    datasets = ("songs",)
    expected_files = ("Spotify-2000.csv",)

    def plan(self, spec: SourceSpec, split_bytes: int) -> list[WorkUnit]:
        root = self.check_root(spec)
        return file_units(spec, [("csv", root / "Spotify-2000.csv")])

    def read(self, unit: WorkUnit, ctx: IngestContext) -> Iterator[Record | Reject]:
        path = Path(unit.path)
        file = str(path)
        for raw in csv_rows(path, option_encoding(unit.source, path, "cp1252")):
            if raw.reject is not None:
                yield passthrough(raw, "songs")
                continue
            v = raw.values or {}
            length_s = to_int(v["Length (Duration)"])  # seconds, with thousands separators ("1,121")
            values = {
                "source_id": v["Index"],
                "title": v["Title"],
                "artists": [v["Artist"]] if v["Artist"].strip() else None,
                "genres": [v["Top Genre"]] if v["Top Genre"].strip() else None,
                "year": v["Year"],
                "tempo_bpm": v["Beats Per Minute (BPM)"],
                "energy": scaled(v["Energy"], 100),
                "danceability": scaled(v["Danceability"], 100),
                "loudness_db": v["Loudness (dB)"],
                "liveness": scaled(v["Liveness"], 100),
                "valence": scaled(v["Valence"], 100),
                "duration_ms": None if length_s is None else length_s * 1000,
                "acousticness": scaled(v["Acousticness"], 100),
                "speechiness": scaled(v["Speechiness"], 100),
                "popularity": v["Popularity"],
            }
            yield ctx.build("songs", values, file, raw.row, raw.payload)


class SpotifyMostStreamed2023Adapter(SourceAdapter):
    name = "spotify_most_streamed_2023"
    license = "unknown (Kaggle 'Most Streamed Spotify Songs 2023')"
    description = "953 most-streamed Spotify songs of 2023 with cross-platform playlist/chart counts."
    datasets = ("songs",)
    expected_files = ("spotify_most_streamed_songs.csv",)

    def plan(self, spec: SourceSpec, split_bytes: int) -> list[WorkUnit]:
        root = self.check_root(spec)
        return file_units(spec, [("csv", root / "spotify_most_streamed_songs.csv")])

    def read(self, unit: WorkUnit, ctx: IngestContext) -> Iterator[Record | Reject]:
        path = Path(unit.path)
        file = str(path)
        # Some copies of this Kaggle file are Latin-1/cp1252; this one is UTF-8 but carries mojibake
        # ("ï¿½") from the original scrape, which is kept as is.
        for raw in csv_rows(path, option_encoding(unit.source, path, "latin-1")):
            if raw.reject is not None:
                yield passthrough(raw, "songs")
                continue
            v = dict(raw.values or {})
            y, m, d = (to_int(v[f"released_{p}"]) for p in ("year", "month", "day"))
            release = f"{y:04d}-{m:02d}-{d:02d}" if y and m and d else (f"{y:04d}" if y else None)
            key_name, mode_name = v.pop("key"), v.pop("mode")
            key, _ = pitch_class(key_name)
            mode = {"major": 1, "minor": 0}.get(mode_name.strip().lower())
            names = [normalize_name(a) for a in v["artist(s)_name"].split(",")]
            # no track id: the natural key is the whole row (4 title/artist pairs occur twice with
            # different release dates or stream counts, i.e. they are different Spotify entries)
            sid = content_key(*(raw.values or {}).values())
            values = {
                "source_id": sid,
                "title": v.pop("track_name"),
                "artists": [a for a in names if a] or None,
                "release_date": release,
                "year": y,
                "tempo_bpm": v.pop("bpm"),
                "key": key,
                "mode": mode,
                "danceability": scaled(v.pop("danceability_%"), 100),
                "valence": scaled(v.pop("valence_%"), 100),
                "energy": scaled(v.pop("energy_%"), 100),
                "acousticness": scaled(v.pop("acousticness_%"), 100),
                "instrumentalness": scaled(v.pop("instrumentalness_%"), 100),
                "liveness": scaled(v.pop("liveness_%"), 100),
                "speechiness": scaled(v.pop("speechiness_%"), 100),
                "key_name": key_name,
                # remaining fields (stream and playlist counts, cover_url, artist(s)_name, released_*)
                # keep their source names and raw strings: `streams` is dirty in one row
                **v,
            }
            yield ctx.build("songs", values, file, raw.row, raw.payload)
