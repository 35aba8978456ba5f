"""NetEase Cloud Music (网易云音乐) data: hot comments on Jay Chou songs, and public playlists with track lists.

Comments: each CSV row is one `comments` record (id: the upstream `row_id`). The source names no song
titles, so `item_id` stays null and the NetEase song id is kept in metadata (`netease_song_id`); authors
link to derived `user_profiles` (one per NetEase user id, no other fields). Playlists: each
`playlists.csv` row is the primary `playlists` record, its tracks joined from `playlist_tracks.jsonl` by
playlist id; tracks become derived `songs` (once per NetEase song id, first listing wins), owners derived
`user_profiles`. A playlist without a track list is quarantined (`missing_tracks`), a track list whose
playlist is not in the CSV is its own quarantined row (`orphan_track_list`). `singers.csv` (no header)
rows are primary `artists`. Counts the scrape left as text (`评论` for a comment count) stay verbatim.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson

from corpus.ingest.readers import read_jsonl
from corpus.ingest.records import Record, Reject
from corpus.ingest.sources.base import IngestContext, SourceAdapter, SourceSpec, WorkUnit
from corpus.ingest.sources.real._common import csv_rows, derived, file_units, passthrough, to_int

# NetEase singer id -> name, as SOURCE.md gives it (the comments table has ids only)
SINGERS = {"6452": "周杰伦"}


def count_or_raw(v: object) -> int | str | None:
    """An integer count, or the cell as written when it is not one (kept, not dropped)."""
    n = to_int(v)
    if n is not None:
        return n
    s = str(v).strip() if v is not None else ""
    return s or None


def _first_seen(
    ctx: IngestContext, dataset: str, ids: dict[str, tuple[dict, str, int]]
) -> Iterator[Record | Reject]:
    """One derived `dataset` record per id, placed at the row where the id was first seen."""
    for values, file, row in ids.values():
        yield derived(ctx, dataset, values, file, row)


class NeteaseHotCommentsAdapter(SourceAdapter):
    name = "netease_hot_comments_jaychou_zh"
    license = (
        "unknown (not stated); scraped public user comments, internal research use only, do not republish"
    )
    description = (
        "4,987 NetEase Cloud Music hot comments (Chinese) on 368 Jay Chou songs, 2013-2017, with likes."
    )
    datasets = ("comments", "user_profiles")
    expected_files = ("hot_comments.csv",)
    unit_kind = "csv"

    def read(self, unit: WorkUnit, ctx: IngestContext) -> Iterator[Record | Reject]:
        path = Path(unit.path)
        file = str(path)
        authors: dict[str, tuple[dict, str, int]] = {}
        for raw in csv_rows(path):
            if raw.reject is not None:
                yield passthrough(raw, "comments")
                continue
            v = raw.values or {}
            user = v["user_id"].strip()
            singer = v["singer_id"].strip()
            ms = to_int(v["time_ms"])
            values = {
                "source_id": v["row_id"],
                "text": v["content"],
                "item_type": "song",  # every row is a comment on a song page
                "item_id": None,  # no song titles in the source: nothing to link to
                "user_id": ctx.link("user_profiles", user),
                "created_at": ms if ms is not None else v["time_utc"],
                "lang": "zh",
                "netease_song_id": v["song_id"],
                "singer_id": singer,
                "artist": SINGERS.get(singer),
                "liked_count": count_or_raw(v["liked_count"]),
            }
            rec = ctx.build("comments", values, file, raw.row, raw.payload)
            if isinstance(rec, Record) and user:
                authors.setdefault(user, ({"source_id": user}, file, raw.row))
            yield rec
        yield from _first_seen(ctx, "user_profiles", authors)


class NeteasePlaylistsAdapter(SourceAdapter):
    name = "netease_playlists_zh"
    license = "unknown (not stated); scraped platform data, internal research/test use only"
    description = (
        "635 NetEase Cloud Music playlists (2024) with Chinese titles, genre/mood/scene tags, play counts and "
        "72,341 track entries; 7,783 Chinese-market singer names."
    )
    datasets = ("playlists", "songs", "user_profiles", "artists")
    expected_files = ("playlists.csv", "playlist_tracks.jsonl", "singers.csv")

    def plan(self, spec: SourceSpec, split_bytes: int) -> list[WorkUnit]:
        root = self.check_root(spec)
        # one unit for the playlists: their track lists are joined from the other file
        return file_units(spec, [("playlists", root), ("singers", root / "singers.csv")])

    def read(self, unit: WorkUnit, ctx: IngestContext) -> Iterator[Record | Reject]:
        if unit.kind == "singers":
            yield from self.read_singers(Path(unit.path), ctx)
        else:
            yield from self.read_playlists(Path(unit.path), ctx)

    def read_singers(self, path: Path, ctx: IngestContext) -> Iterator[Record | Reject]:
        file = str(path)
        for raw in csv_rows(path, columns=("netease_artist_id", "name")):
            if raw.reject is not None:
                yield passthrough(raw, "artists")
                continue
            v = raw.values or {}
            yield ctx.build(
                "artists",
                {"source_id": v["netease_artist_id"], "name": v["name"]},
                file,
                raw.row,
                raw.payload,
            )

    def read_playlists(self, root: Path, ctx: IngestContext) -> Iterator[Record | Reject]:
        lists_file = root / "playlist_tracks.jsonl"
        lf = str(lists_file)
        track_lists: dict[str, tuple[int, bytes, list]] = {}  # playlist id -> (line, payload, tracks)
        for raw in read_jsonl(lists_file):
            if raw.reject is not None:  # a track list we cannot parse is a row of its own
                yield passthrough(raw, "playlists")
                continue
            v = raw.values or {}
            pid = str(v.get("playlist_id") or "").strip()
            tracks = v.get("tracks")
            payload = raw.payload or b""
            if not pid or not isinstance(tracks, list):
                msg = "track list needs a `playlist_id` and a `tracks` list"
                yield Reject(lf, raw.row, "malformed_row", msg, payload, "tracks", "playlists")
            elif pid in track_lists:
                msg = f"second track list for playlist {pid} (first on line {track_lists[pid][0]})"
                yield Reject(lf, raw.row, "duplicate_track_list", msg, payload, "playlist_id", "playlists")
            else:
                track_lists[pid] = (raw.row, payload, tracks)

        csv_file = root / "playlists.csv"
        cf = str(csv_file)
        songs: dict[str, tuple[dict, str, int]] = {}
        owners: dict[str, tuple[dict, str, int]] = {}
        for raw in csv_rows(csv_file):
            if raw.reject is not None:
                yield passthrough(raw, "playlists")
                continue
            v = raw.values or {}
            pid = v["SongsListID"].strip()
            listed = track_lists.pop(pid, None)
            if listed is None:
                msg = f"playlist {pid!r} has no track list in {lists_file.name}"
                yield Reject(cf, raw.row, "missing_tracks", msg, raw.payload or b"", "song_ids", "playlists")
                continue
            line, _, tracks = listed
            song_ids = []
            for k, t in enumerate(tracks):
                sid = str(t.get("song_id") or "").strip() if isinstance(t, dict) else ""
                if not sid:
                    msg = f"playlist {pid}: track {k} has no `song_id`"
                    yield Reject(lf, line, "malformed_track", msg, orjson.dumps(t), "tracks", "songs", False)
                    continue
                song_ids.append(ctx.link("songs", sid))
                song = {"source_id": sid, "title": t.get("name"), "artists": t.get("artists"),
                        "popularity": t.get("popularity")}  # fmt: skip
                songs.setdefault(sid, (song, lf, line))
            owner = v["AuthorID"].strip()
            values = {
                "source_id": pid,
                "name": v["SongListName"],
                "user_id": ctx.link("user_profiles", owner),
                "song_ids": song_ids,
                "tags": v["Labels"].split(),  # NetEase's genre / language / mood / scene tags
                "play_count": count_or_raw(v["AmountOfPlay"]),
                "collection_count": count_or_raw(v["Collection"]),
                "comment_count": count_or_raw(v["Comment"]),
                "share_count": count_or_raw(v["Forwarding"]),
                "creation_date": v["CreationDate"],
                # as the page states it; the track list may differ by a few (611 of 634 agree)
                "n_songs": count_or_raw(v["NumberOfSongs"]),
                "url": v["Url"],
                "track_list_line": line,
            }
            rec = ctx.build("playlists", values, cf, raw.row, raw.payload)
            if isinstance(rec, Record) and owner:
                owners.setdefault(owner, ({"source_id": owner}, cf, raw.row))
            yield rec
        for pid, (line, payload, _) in track_lists.items():
            msg = f"track list for playlist {pid!r} matches no `SongsListID` in {csv_file.name}"
            yield Reject(lf, line, "orphan_track_list", msg, payload, "playlist_id", "playlists")
        yield from _first_seen(ctx, "songs", songs)
        yield from _first_seen(ctx, "user_profiles", owners)
