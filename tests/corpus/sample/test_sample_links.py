"""Foreign keys resolve, and the generic ingest adapter reads every file without a reject."""

from __future__ import annotations

import collections

import orjson
import pytest

from corpus.ingest.normalize import normalize_text
from corpus.ingest.records import IngestLimits, Reject
from corpus.ingest.sources import IngestContext, SourceSpec, get_adapter
from corpus.ingest.sources.base import ITEM_DATASET
from corpus.sample import SampleSummary, sample_sources
from schemas import get_schema


def test_catalog_foreign_keys(tables: dict[str, list[dict]]) -> None:
    artists = {a["source_id"] for a in tables["artists"]}
    songs = {s["source_id"] for s in tables["songs"]}
    albums = {a["source_id"] for a in tables["albums"]}
    for s in tables["songs"]:
        assert s["artist_ids"] and set(s["artist_ids"]) <= artists
        assert len(s["artists"]) == len(s["artist_ids"])
        assert s["album_id"] in albums
    for a in tables["albums"]:
        assert set(a["artist_ids"]) <= artists
    for r in tables["relations"]:
        assert r["src_type"] == r["dst_type"] == "artist" and r["relation"] == "similar"
        assert r["src_id"] in artists and r["dst_id"] in artists and r["src_id"] != r["dst_id"]
        assert 0 < r["weight"] <= 1
    for c in tables["charts"]:
        assert c["song_id"] in songs and c["item_type"] == "song" and c["rank"] >= 1


def test_user_data_foreign_keys(tables: dict[str, list[dict]]) -> None:
    users = {u["source_id"] for u in tables["users"]}
    ids = {
        "song": {s["source_id"] for s in tables["songs"]},
        "artist": {a["source_id"] for a in tables["artists"]},
        "album": {a["source_id"] for a in tables["albums"]},
        "playlist": {p["source_id"] for p in tables["playlists"]},
    }
    for p in tables["playlists"]:
        assert p["user_id"] in users
        assert p["song_ids"] and set(p["song_ids"]) <= ids["song"]
        assert len(set(p["song_ids"])) == len(p["song_ids"])
    comment_ids = {c["source_id"]: c for c in tables["comments"]}
    n_replies = 0
    for c in tables["comments"]:
        assert c["user_id"] in users
        assert c["item_id"] in ids[c["item_type"]]
        if c["parent_id"] is not None:
            n_replies += 1
            parent = comment_ids[c["parent_id"]]
            assert (parent["item_type"], parent["item_id"]) == (c["item_type"], c["item_id"])
            assert parent["created_at"] <= c["created_at"]
        assert c["rating"] is None or 1 <= c["rating"] <= 5
    assert n_replies > 0
    for e in tables["events"]:
        assert e["user_id"] in users and e["item_type"] == "song" and e["item_id"] in ids["song"]


def test_playlists_are_genre_coherent(tables: dict[str, list[dict]]) -> None:
    genre_of = {s["source_id"]: s["genres"][0] for s in tables["songs"]}
    shares = []
    for p in tables["playlists"]:
        counts = collections.Counter(genre_of[s] for s in p["song_ids"])
        shares.append(counts.most_common(1)[0][1] / len(p["song_ids"]))
    assert sum(shares) / len(shares) > 0.6


def _ingest(summary: SampleSummary):
    """Every dataset through the generic adapter: {dataset: [values]}, and the rejects."""
    rows: dict[str, list[dict]] = collections.defaultdict(list)
    rejects: list[Reject] = []
    for s in sample_sources(summary.out_dir):
        spec = SourceSpec(
            name=s["name"], path=s["path"], dataset=s["dataset"], format=s["format"], generated=True
        )
        adapter = get_adapter("generic")
        ctx = IngestContext(spec.name, IngestLimits())
        for unit in adapter.plan(spec, 1 << 30):
            for r in adapter.read(unit, ctx):
                if isinstance(r, Reject):
                    rejects.append(r)
                else:
                    rows[s["dataset"]].append(r.values)
    return rows, rejects


@pytest.fixture(scope="module")
def ingested(tiny: SampleSummary):
    return _ingest(tiny)


def test_generic_adapter_accepts_every_row(ingested, tiny: SampleSummary) -> None:
    rows, rejects = ingested
    assert [(r.dataset, r.reason, r.message) for r in rejects[:5]] == []
    assert {ds: len(v) for ds, v in rows.items()} == tiny.datasets


def test_ingested_links_resolve(ingested) -> None:
    rows, _ = ingested
    ids = {ds: {v[get_schema(ds).key] for v in vs} for ds, vs in rows.items()}

    def ok(ds: str, x: str | None) -> bool:
        return x is None or x in ids[ds]

    assert all(ok("artists", a) for s in rows["songs"] for a in s["artist_ids"])
    assert all(ok("songs", x) for p in rows["playlists"] for x in p["song_ids"])
    assert all(ok("user_profiles", p["user_id"]) for p in rows["playlists"])
    for c in rows["comments"]:
        assert ok("user_profiles", c["user_id"]) and ok("comments", c["parent_id"])
        assert ok(ITEM_DATASET[c["item_type"]], c["item_id"])
    assert all(
        ok("user_profiles", e["user_id"]) and ok("songs", e["item_id"]) for e in rows["behavior_events"]
    )
    assert all(ok("artists", r["src_id"]) and ok("artists", r["dst_id"]) for r in rows["item_relations"])


def test_ingest_does_not_change_text(ingested, tables: dict[str, list[dict]]) -> None:
    """Texts are written already normalised, so PII offsets stay valid after ingest."""
    rows, _ = ingested
    for ds in ("documents", "comments"):
        raw = {r["source_id"]: r["text"] for r in tables[ds]}
        for v in rows[ds]:
            assert v["text"] == raw[v["source_id"]]
            assert normalize_text(v["text"]) == v["text"]
    meta = orjson.loads(rows["documents"][0]["metadata"])
    assert "kind" in meta
