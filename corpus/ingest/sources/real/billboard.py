"""Billboard charts: Year-End Hot 100 1959-2019 (+ Spotify audio features) and Hot 100 number ones 1958-2024.

Year-End: chart rows are primary `chart_entries`; the Spotify table's rows are primary `songs`. Its
`billboard_df_index` is the 0-based *position* of the chart row in the chart file (the chart's own
`index` column restarts every year, despite SOURCE.md calling it the join key). The match is a fact
about the chart row, so the link lives there: each chart entry carries the `song_id` of its Spotify
match (and the names Spotify matched) in metadata, and song rows hold only track facts. A Spotify
track matched to several chart rows (re-entries, re-releases) is then the same song row repeated,
which ingestion drops as `duplicate_row`.
Number ones: each row is a primary chart entry; songs are derived, one per (song, artist).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from corpus.ingest.ids import content_key
from corpus.ingest.records import Record, Reject
from corpus.ingest.sources.base import IngestContext, SourceAdapter, WorkUnit
from corpus.ingest.sources.real._common import (
    csv_rows,
    derived,
    passthrough,
    pitch_class,
    to_float,
    to_int,
    year_of,
)

YEAR_END_CHART = "billboard_year_end_hot100"
NUMBER_ONE_CHART = "billboard_hot100_number_one"
_SPOTIFY_FEATURES = ("danceability", "energy", "valence", "acousticness", "instrumentalness", "liveness",
                     "speechiness")  # fmt: skip
_SPOTIFY_MAPPED = {"id", "spotify_song", "spotify_artist", "spotify_album", "release_date", "duration_ms",
                   "popularity", "explicit", "loudness", "tempo", "key", "mode", "time_signature",
                   *_SPOTIFY_FEATURES}  # fmt: skip
# per-match columns of the Spotify table: they describe the chart row, so they go to chart_entries
_CHART_LINK = {"billboard_df_index", "billboard_name", "billboard_artist"}


class BillboardYearEndHot100Adapter(SourceAdapter):
    name = "billboard_year_end_hot100"
    license = "unknown (chart facts from Wikipedia, CC BY-SA; Spotify fields under Spotify terms)"
    description = "Billboard Year-End Hot 100 singles 1959-2019 and Spotify audio features of 5,813 of them."
    datasets = ("chart_entries", "songs")
    expected_files = ("billboard_year_end_1959_2019.csv", "spotify_audio_features.csv")


    def read(self, unit: WorkUnit, ctx: IngestContext) -> Iterator[Record | Reject]:
        root = Path(unit.path)
        chart_file = root / "billboard_year_end_1959_2019.csv"
        songs_file = root / "spotify_audio_features.csv"
        # chart row position -> its Spotify match (the songs file is small: 5,813 rows)
        matches: dict[int, dict] = {}
        for raw in csv_rows(songs_file):
            v = raw.values or {}
            pos = to_int(v.get("billboard_df_index"))
            if raw.reject is None and pos is not None and v.get("id", "").strip():
                matches.setdefault(pos, {
                    "song_id": ctx.link("songs", v["id"].strip()),
                    "spotify_id": v["id"].strip(),
                    "billboard_name": v.get("billboard_name"),
                    "billboard_artist": v.get("billboard_artist"),
                })  # fmt: skip
        for position, raw in enumerate(csv_rows(chart_file)):
            if raw.reject is not None:
                yield passthrough(raw, "chart_entries")
                continue
            v = raw.values or {}
            sid = f"{v['year'].strip()}#{v['index'].strip()}"  # `index` = per-year row id; rank ties exist
            featured = v["artist_featured"].strip()
            values = {
                "source_id": sid,
                "chart": YEAR_END_CHART,
                "item_type": "song",
                "title": v["song"],
                "artists": [v["artist_base"]] + ([featured] if featured else []),
                "date": v["year"],
                "year": v["year"],
                "rank": v["rank"],
                "index": v["index"],
                "artist_all": v["artist_all"],
                "df_index": position,
                "spotify_match": matches.get(position),
            }
            yield ctx.build("chart_entries", values, str(chart_file), raw.row, raw.payload)

        for raw in csv_rows(songs_file):
            if raw.reject is not None:
                yield passthrough(raw, "songs")
                continue
            v = raw.values or {}
            explicit = to_float(v["explicit"])
            values = {
                "source_id": v["id"],
                "title": v["spotify_song"],
                "artists": [v["spotify_artist"]] if v["spotify_artist"].strip() else None,
                "album": v["spotify_album"],
                "release_date": v["release_date"],
                "year": year_of(v["release_date"]),
                "duration_ms": v["duration_ms"],
                "popularity": v["popularity"],
                "explicit": None if explicit is None else explicit != 0.0,  # "0.0"/"1.0"
                **{f: v[f] for f in _SPOTIFY_FEATURES},
                "loudness_db": v["loudness"],
                "tempo_bpm": v["tempo"],
                "key": v["key"],
                "mode": v["mode"],
                "time_signature": v["time_signature"],
                **{k: x for k, x in v.items() if k not in _SPOTIFY_MAPPED and k not in _CHART_LINK},
            }
            yield ctx.build("songs", values, str(songs_file), raw.row, raw.payload)


class BillboardNumberOnesAdapter(SourceAdapter):
    name = "billboard_number_ones"
    license = "unknown (TidyTuesday 2025-08-26 / Chris Dalla Riva's Number Ones database, cleaned subset)"
    description = "1,131 Billboard Hot 100 number ones 1958-2024 with genre, key, length and lyrical topics."
    datasets = ("chart_entries", "songs")
    expected_files = ("billboard_number_ones_cleaned.csv",)
    unit_kind = "csv"

    def read(self, unit: WorkUnit, ctx: IngestContext) -> Iterator[Record | Reject]:
        path = Path(unit.path)
        file = str(path)
        seen: set[str] = set()
        for raw in csv_rows(path):
            if raw.reject is not None:
                yield passthrough(raw, "chart_entries")
                continue
            v = raw.values or {}
            date = v["date"].strip()[:10]  # "1958-08-04 00:00:00+00:00": the first week at #1
            song_key = content_key(v["song"], v["artist"])
            try:
                topics = (
                    ast.literal_eval(v["lyrical_topic_split"]) if v["lyrical_topic_split"].strip() else None
                )
            except (ValueError, SyntaxError):
                topics = v["lyrical_topic_split"]  # keep the raw string rather than lose it
            values = {
                # two songs share 1975-03-29, so the date alone is not a key
                "source_id": content_key(date, v["song"], v["artist"]),
                "chart": NUMBER_ONE_CHART,
                "item_type": "song",
                "title": v["song"],
                "artists": [v["artist"]] if v["artist"].strip() else None,
                "date": date,
                "year": v["year"],
                "rank": 1,
                "song_id": ctx.link("songs", song_key),
                **{k: x for k, x in v.items() if k not in ("date", "song", "artist", "year")},
                "date_raw": v["date"],
                "lyrical_topic_split": topics,
            }
            yield ctx.build("chart_entries", values, file, raw.row, raw.payload)
            if song_key in seen:
                continue
            seen.add(song_key)
            key, mode = pitch_class(v["simplified_key"], plain_mode=1)
            length = to_int(v["length_sec"])
            song = {
                "source_id": song_key,
                "title": v["song"],
                "artists": [v["artist"]] if v["artist"].strip() else None,
                "year": v["year"],
                "duration_ms": None if length is None else length * 1000,
                "explicit": v["explicit"],
                "genres": [g for g in v["discogs_genre"].split(";") if g.strip()] or None,
                "key": key,
                "mode": mode,
                "simplified_key": v["simplified_key"],
                "discogs_genre_cleaned": v["discogs_genre_cleaned"],
            }
            rec = derived(ctx, "songs", song, file, raw.row)
            if rec is not None:
                yield rec
