"""Last.fm HetRec 2011 (2K users): artists, tag assignments, play counts and friendships.

Accounting: the four data files are ingested, one work unit each; every line of them is one primary
record or one reject. `tags.dat` (11,946 rows, Latin-1) is a dictionary, not data: it is read as a
lookup by the tag-assignment unit to give each event its tag text, and yields no rows of its own.
`user_profiles` rows (one per user, no attributes beyond the id) are derived (`primary=False`) from
`user_artists.dat`, which lists every HetRec user (1,892, each with their top artists); friend and
tag files refer to the same users by foreign key.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from corpus.ingest.records import Record, Reject
from corpus.ingest.sources.base import IngestContext, SourceAdapter, SourceSpec, WorkUnit
from corpus.ingest.sources.real._common import csv_rows, derived, file_units, passthrough

# data file -> unit kind
DATA_FILES = {
    "artists.dat": "artists",
    "user_taggedartists.dat": "tag_events",
    "user_artists.dat": "plays",
    "user_friends.dat": "friends",
}
TAGS_FILE = "tags.dat"
TAGS_ENCODING = "latin-1"  # per SOURCE.md; the other files are UTF-8/ASCII


def _tsv(path: Path, encoding: str = "utf-8"):
    # HetRec files are plain TSV with no quoting: artist names contain bare double quotes
    return csv_rows(path, encoding=encoding, delimiter="\t", quoting=False)


def load_tags(path: Path) -> dict[str, str]:
    """tagID -> tag text from the Latin-1 lookup file."""
    tags: dict[str, str] = {}
    for raw in _tsv(path, TAGS_ENCODING):
        if raw.values is not None:
            tags[raw.values["tagID"].strip()] = raw.values["tagValue"]
    return tags


class LastfmHetrec2011Adapter(SourceAdapter):
    name = "lastfm_hetrec2011"
    license = "non-commercial (HetRec 2011 readme); cite Last.fm and HetRec'11"
    description = "Last.fm 2K users: artists, user-artist play counts, dated tag assignments, friendships."
    datasets = ("artists", "behavior_events", "item_relations", "user_profiles")
    expected_files = (
        "artists.dat",
        TAGS_FILE,
        "user_artists.dat",
        "user_taggedartists.dat",
        "user_friends.dat",
    )

    def plan(self, spec: SourceSpec, split_bytes: int) -> list[WorkUnit]:
        root = self.check_root(spec)
        return file_units(spec, [(kind, root / f) for f, kind in DATA_FILES.items()])

    def read(self, unit: WorkUnit, ctx: IngestContext) -> Iterator[Record | Reject]:
        path = Path(unit.path)
        reader = {
            "artists": self._artists,
            "tag_events": self._tag_events,
            "plays": self._plays,
            "friends": self._friends,
        }[unit.kind]
        yield from reader(path, ctx)

    def _artists(self, path: Path, ctx: IngestContext) -> Iterator[Record | Reject]:
        file = str(path)
        for raw in _tsv(path):
            if raw.reject is not None:
                yield passthrough(raw, "artists")
                continue
            v = raw.values or {}
            values = {"source_id": v["id"], "name": v["name"], "url": v["url"], "pictureURL": v["pictureURL"]}
            yield ctx.build("artists", values, file, raw.row, raw.payload)

    def _tag_events(self, path: Path, ctx: IngestContext) -> Iterator[Record | Reject]:
        file = str(path)
        tags = load_tags(path.parent / TAGS_FILE)
        # 1,538 assignments name artists missing from artists.dat: kept, and flagged so FK checks can tell
        known = {raw.values["id"].strip() for raw in _tsv(path.parent / "artists.dat") if raw.values}
        for raw in _tsv(path):
            if raw.reject is not None:
                yield passthrough(raw, "behavior_events")
                continue
            v = raw.values or {}
            user, artist, tag_id = v["userID"].strip(), v["artistID"].strip(), v["tagID"].strip()
            try:
                ts = datetime(int(v["year"]), int(v["month"]), int(v["day"]), tzinfo=UTC)
            except ValueError as e:  # bad or impossible day/month/year: quarantine, never crash
                ts = f"{v['year']}-{v['month']}-{v['day']} ({e})"
            values = {
                "source_id": f"{user}:{artist}:{tag_id}",
                "user_id": ctx.link("user_profiles", user),
                "ts": ts,
                "item_type": "artist",
                "item_id": ctx.link("artists", artist),
                "feedback": "tag",
                "tag": tags.get(tag_id),
                "tagID": tag_id,
            }
            if artist not in known:
                values["artist_in_catalog"] = False
            yield ctx.build("behavior_events", values, file, raw.row, raw.payload)

    def _plays(self, path: Path, ctx: IngestContext) -> Iterator[Record | Reject]:
        file = str(path)
        users: dict[str, int] = {}  # user id -> first row, in file order
        for raw in _tsv(path):
            if raw.reject is not None:
                yield passthrough(raw, "item_relations")
                continue
            v = raw.values or {}
            user, artist = v["userID"].strip(), v["artistID"].strip()
            users.setdefault(user, raw.row)
            values = {
                "source_id": f"play_count:{user}:{artist}",  # prefixed: friend pairs share the id space
                "src_type": "user",
                "src_id": ctx.link("user_profiles", user),
                "dst_type": "artist",
                "dst_id": ctx.link("artists", artist),
                "relation": "play_count",
                "weight": v["weight"],
            }
            yield ctx.build("item_relations", values, file, raw.row, raw.payload)
        for user, row in users.items():
            rec = derived(ctx, "user_profiles", {"source_id": user}, file, row)
            if rec is not None:
                yield rec

    def _friends(self, path: Path, ctx: IngestContext) -> Iterator[Record | Reject]:
        file = str(path)
        for raw in _tsv(path):
            if raw.reject is not None:
                yield passthrough(raw, "item_relations")
                continue
            v = raw.values or {}
            user, friend = v["userID"].strip(), v["friendID"].strip()
            values = {
                "source_id": f"friend:{user}:{friend}",
                "src_type": "user",
                "src_id": ctx.link("user_profiles", user),
                "dst_type": "user",
                "dst_id": ctx.link("user_profiles", friend),
                "relation": "friend",
                "weight": 1.0,
            }
            yield ctx.build("item_relations", values, file, raw.row, raw.payload)
