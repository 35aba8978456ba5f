"""Spotify streaming histories published by their owners: per-play `behavior_events` with real feedback.

Extended history (1 user, `spotify_extended_history`): every `plays.csv` row is one primary event; the
feedback comes from Spotify's own signals (`play_feedback`): a skip when `skipped` is true, or when the
play ended on the forward/back button before `SKIP_MS`; otherwise a play, `complete` when it ended with
`trackdone` and `partial` otherwise (the outcome and every raw signal stay in metadata). Basic history
(6 users, `spotify_basic_history_6users`) has no skip flag: a play shorter than `SKIP_MS` is a skip.

Event time: the sources give the time a play *stopped*; `ts` is when it started (stop - `ms_played`),
as in the demo logs and as the sources' own session ids were derived, so events sort by when the user
chose them; the stop time is kept in metadata. `value` is the seconds played. Songs (once per Spotify
track URI, or per case-folded artist + title in the basic export; the first listing's names win),
their artists (once per case-folded name) and users are derived records (`primary=False`), emitted
only for accepted events, so every event's `item_id` and `user_id` is a row of this source. A play without a track or
artist name cannot become a catalog song and is quarantined (`missing_field`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from corpus.ingest.ids import content_key
from corpus.ingest.records import Record, Reject
from corpus.ingest.sources.base import IngestContext, SourceAdapter, WorkUnit
from corpus.ingest.sources.real._common import csv_rows, derived, name_key, passthrough, to_int

# Spotify counts a play as a stream from 30 s on; shorter plays are the usual implicit skip signal
SKIP_MS = 30_000
TRACK_URI_PREFIX = "spotify:track:"
# how a play ended, in the extended export: a button press (a skip when early) or the track running out
SKIP_BUTTONS = frozenset({"fwdbtn", "backbtn"})
COMPLETE = "trackdone"
_BOOLS = {"true": True, "false": False}


def play_feedback(skipped: bool | None, reason_end: str, ms_played: int) -> tuple[str, str]:
    """(`feedback`, outcome) of one extended-history play: (`skip`, `skip`), (`play`, `complete`) or
    (`play`, `partial`). `skipped` is Spotify's flag (None where an export leaves it empty)."""
    if skipped or (reason_end in SKIP_BUTTONS and ms_played < SKIP_MS):
        return "skip", "skip"
    return "play", "complete" if reason_end == COMPLETE else "partial"


def _bad(file: str, row: int, reason: str, field: str, msg: str, payload: bytes | None) -> Reject:
    return Reject(
        file, row, reason, f"behavior_events.{field}: {msg}", payload or b"", field, "behavior_events"
    )


def _ms_played(v: dict, file: str, row: int, payload: bytes | None) -> int | Reject:
    ms = to_int(v["ms_played"])
    if ms is None:
        return _bad(
            file, row, "bad_type", "ms_played", f"must be an integer, got {v['ms_played']!r:.60}", payload
        )
    if ms < 0:
        return _bad(file, row, "out_of_range", "ms_played", f"{ms} is negative", payload)
    return ms


def _flags(v: dict, file: str, row: int, payload: bytes | None) -> dict[str, bool | None] | Reject:
    """The extended export's true/false columns as booleans (None where empty)."""
    flags: dict[str, bool | None] = {}
    for f in ("skipped", "shuffle", "offline", "incognito_mode"):
        s = v[f].strip().lower()
        if s and s not in _BOOLS:
            return _bad(file, row, "bad_type", f, f"must be true/false, got {v[f]!r:.60}", payload)
        flags[f] = _BOOLS.get(s)
    return flags


def _missing_names(
    v: dict, fields: tuple[str, ...], file: str, row: int, payload: bytes | None
) -> Reject | None:
    for f in fields:
        if not v[f].strip():
            msg = "is empty: the play cannot be linked to a catalog song (a song needs a title and an artist)"
            return _bad(file, row, "missing_field", f, msg, payload)
    return None


class _Catalog:
    """Derived songs, artists and users of one history file, first occurrence wins, in file order."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.songs: dict[str, tuple[dict, int]] = {}
        self.artists: dict[str, tuple[dict, int]] = {}
        self.users: dict[str, int] = {}

    def add(self, ctx: IngestContext, song_key: str, song: dict, artist: str, user: str, row: int) -> None:
        self.users.setdefault(user, row)
        if song_key in self.songs:
            return  # a later listing of a known song: its names may differ (53 URIs), the first one stands
        akey = name_key(artist)
        self.artists.setdefault(akey, ({"source_id": akey, "name": artist}, row))
        self.songs[song_key] = ({"source_id": song_key, "artists": [artist],
                                 "artist_ids": [ctx.link("artists", akey)], **song}, row)  # fmt: skip

    def records(self, ctx: IngestContext) -> Iterator[Record | Reject]:
        for dataset, rows in (("songs", self.songs), ("artists", self.artists)):
            for values, row in rows.values():
                yield derived(ctx, dataset, values, self.file, row)
        for user, row in self.users.items():
            yield derived(ctx, "user_profiles", {"source_id": user}, self.file, row)


class SpotifyExtendedHistoryAdapter(SourceAdapter):
    name = "spotify_extended_history"
    license = (
        "not stated (personal data its owner published on GitHub, Khushi-203006/Spotify_Data_Analysis_Project; "
        "Spotify extended streaming history export); research/test use only, do not republish"
    )
    description = (
        "31,756 plays of one Spotify user (2023-2026, extended export): ms played, skip flag, shuffle, "
        "start/end reasons, platform; derived 30-minute sessions."
    )
    datasets = ("behavior_events", "songs", "artists", "user_profiles")
    expected_files = ("plays.csv",)
    unit_kind = "csv"  # one unit: songs and artists are collected over the whole file

    def read(self, unit: WorkUnit, ctx: IngestContext) -> Iterator[Record | Reject]:
        path = Path(unit.path)
        file = str(path)
        catalog = _Catalog(file)
        for raw in csv_rows(path):
            if raw.reject is not None:
                yield passthrough(raw, "behavior_events")
                continue
            v = raw.values or {}
            uri = v["spotify_track_uri"].strip()
            bad = _missing_names(v, ("track_name", "artist_name"), file, raw.row, raw.payload)
            if bad is None and (not uri.startswith(TRACK_URI_PREFIX) or uri == TRACK_URI_PREFIX):
                msg = f"{uri!r:.60} is not a track URI (`{TRACK_URI_PREFIX}<id>`): not a song play"
                bad = _bad(file, raw.row, "bad_value", "spotify_track_uri", msg, raw.payload)
            ms = bad or _ms_played(v, file, raw.row, raw.payload)
            if isinstance(ms, Reject):
                yield ms
                continue
            flags = _flags(v, file, raw.row, raw.payload)
            if isinstance(flags, Reject):
                yield flags
                continue
            track_id = uri[len(TRACK_URI_PREFIX) :]
            user, reason_end = v["user_id"].strip(), v["reason_end"].strip()
            feedback, outcome = play_feedback(flags["skipped"], reason_end, ms)
            stop = v["ts"].strip()
            try:
                ts: datetime | str = datetime.fromisoformat(stop.replace("Z", "+00:00")) - timedelta(
                    milliseconds=ms
                )
            except ValueError:
                ts = stop  # the record builder quarantines it as `bad_type`, naming `ts`
            shuffle, offline = flags["shuffle"], flags["offline"]
            values = {
                "source_id": f"{user}:{stop}:{track_id}:{ms}",  # unique in the file (no two plays agree on all four)
                "user_id": ctx.link("user_profiles", user),
                "ts": ts,
                "item_type": "song",
                "item_id": ctx.link("songs", track_id),
                "feedback": feedback,
                "value": ms / 1000,
                # what was known when the play started; how it ended is the feedback, so it stays out of state
                "state": {
                    "device": v["platform"],
                    "shuffle": None if shuffle is None else ("on" if shuffle else "off"),
                    "start_reason": v["reason_start"],
                    "offline": "yes" if offline else None,
                },
                "session_id": v["session_id"],
                "outcome": outcome,
                "ts_end": stop,
                "ms_played": ms,
                "reason_start": v["reason_start"],
                "reason_end": reason_end,
                **flags,
                "platform": v["platform"],
                "conn_country": v["conn_country"],
                "session_position": to_int(v["session_position"]),
                "spotify_track_uri": uri,
            }
            rec = ctx.build("behavior_events", values, file, raw.row, raw.payload)
            if isinstance(rec, Record):
                song = {"title": v["track_name"], "album": v["album_name"], "spotify_track_uri": uri}
                catalog.add(ctx, track_id, song, v["artist_name"], user, raw.row)
            yield rec
        yield from catalog.records(ctx)


class SpotifyBasicHistory6UsersAdapter(SourceAdapter):
    name = "spotify_basic_history_6users"
    license = (
        "not stated (personal data published by its 6 owners on GitHub, repositories listed in SOURCE.md; "
        "Spotify account-data export); research/test use only, do not republish"
    )
    description = (
        "110,767 plays of 6 Spotify users (2019-2022, basic export): end minute, artist, track, ms played; "
        "derived 30-minute sessions; skips inferred from plays under 30 s."
    )
    datasets = ("behavior_events", "songs", "artists", "user_profiles")
    expected_files = ("plays.csv",)
    unit_kind = "csv"

    def read(self, unit: WorkUnit, ctx: IngestContext) -> Iterator[Record | Reject]:
        path = Path(unit.path)
        file = str(path)
        catalog = _Catalog(file)
        for raw in csv_rows(path):
            if raw.reject is not None:
                yield passthrough(raw, "behavior_events")
                continue
            v = raw.values or {}
            bad = _missing_names(v, ("track_name", "artist_name"), file, raw.row, raw.payload)
            ms = bad or _ms_played(v, file, raw.row, raw.payload)
            if isinstance(ms, Reject):
                yield ms
                continue
            stop = v["end_time"].strip()
            try:
                # Spotify's Read_Me_First gives the basic export's `endTime` in UTC; nothing in the file can
                # confirm it (no zone, minute resolution), so starts are UTC and accurate to about a minute
                end = datetime.strptime(stop, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
            except ValueError:
                msg = f"is not `YYYY-MM-DD HH:MM`: {stop!r:.60}"
                yield _bad(file, raw.row, "bad_type", "end_time", msg, raw.payload)
                continue
            user, artist, title = v["user_id"].strip(), v["artist_name"], v["track_name"]
            song_key = content_key(name_key(artist), name_key(title))  # no track ids in this export
            values = {
                "source_id": content_key(user, stop, artist, title, ms),  # unique in the file
                "user_id": ctx.link("user_profiles", user),
                "ts": end - timedelta(milliseconds=ms),
                "item_type": "song",
                "item_id": ctx.link("songs", song_key),
                # no skip flag in this export: under 30 s (Spotify's stream threshold) counts as a skip
                "feedback": "skip" if ms < SKIP_MS else "play",
                "value": ms / 1000,
                "session_id": v["session_id"],
                "ts_end": stop,
                "ms_played": ms,
                "session_position": to_int(v["session_position"]),
            }
            rec = ctx.build("behavior_events", values, file, raw.row, raw.payload)
            if isinstance(rec, Record):
                catalog.add(ctx, song_key, {"title": title}, artist, user, raw.row)
            yield rec
        yield from catalog.records(ctx)
