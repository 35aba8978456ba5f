"""The knowledge stage on a small hand-made catalog: records that state too little are dropped (or
given their works), comments on unknown items are counted and kept or dropped, and every source's
rows balance in the manifest."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
import pyarrow.dataset as pads
import pytest

from corpus.knowledge.linking import Link
from jobs.engines import InlineEngine
from jobs.outputs import write_rows
from jobs.stage import run_stage
from jobs.stages.knowledge import KnowledgeConfig, KnowledgeStage


def _rows(path: Path) -> list[dict]:
    return pads.dataset(path, format="parquet").to_table().to_pylist() if path.exists() else []


def _song(sid: str, source: str, title: str, artists: list[str], artist_ids: list[str] | None = None, **kv) -> dict:
    return {"song_id": sid, "source": source, "source_id": sid, "title": title, "artists": artists,
            "artist_ids": artist_ids, **kv}  # fmt: skip


def _artist(aid: str, source: str, name: str, **kv) -> dict:
    return {"artist_id": aid, "source": source, "source_id": aid, "name": name, **kv}


def _comment_doc(cid: str, text: str) -> dict:
    meta = orjson.dumps({"dataset": "comments", "lang": "en"}).decode()
    return {"doc_id": cid, "stage": 2, "source": "t_comments", "text": text, "weight": 1.0, "metadata": meta}


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    """ingest/ and select/ folders of a tiny catalog; returns the run's out folder."""
    ing = tmp_path / "out" / "ingest"
    songs = [
        _song("s1", "t_spotify", "Alpha", ["Known Band"], ["a_known"], year=2001, genres=["rock"]),
        _song("s2", "t_spotify", "Beta", ["Known Band"], ["a_known"], year=2003),
        # a song of an artist table without song ids (Last.fm style): joined by name
        _song("s3", "t_charts_songs", "Gamma", ["Lastfm Band"], None, year=1999),
        _song("s4", "t_charts_songs", "Delta", [], None),  # title only: one fact
    ]
    artists = [
        _artist("a_known", "t_spotify", "Known Band"),  # no facts of its own, but songs by id
        _artist("a_bare", "t_lastfm", "Nobody Anywhere"),  # nothing at all: "Nobody Anywhere is an artist."
        _artist("a_named", "t_lastfm", "Lastfm Band"),  # songs by name only
        _artist("a_country", "t_msd", "Faraway", country="SE", genres=["pop"]),  # facts of its own
    ]
    albums = [{"album_id": "al1", "source": "t_albums", "source_id": "al1", "title": "First", "artists": ["Known Band"],
               "year": 2002}]  # fmt: skip
    comments = [
        {"comment_id": "c1", "source": "t_comments", "source_id": "c1", "text": "Love this one.",
         "item_type": "song", "item_id": "s1"},
        {"comment_id": "c2", "source": "t_comments", "source_id": "c2", "text": "Never heard of it.",
         "item_type": "song", "item_id": "s_missing"},
    ]  # fmt: skip
    write_rows(ing / "songs" / "part-00000.parquet", songs, "songs")
    write_rows(ing / "artists" / "part-00000.parquet", artists, "artists")
    write_rows(ing / "albums" / "part-00000.parquet", albums, "albums")
    write_rows(ing / "comments" / "part-00000.parquet", comments, "comments")
    docs = [_comment_doc("c1", "Love this one."), _comment_doc("c2", "Never heard of it.")]
    write_rows(tmp_path / "out" / "select" / "training_documents" / "part-00000.parquet", docs, "training_documents")
    return tmp_path / "out"


def _stage(out: Path, **cfg) -> KnowledgeStage:
    return KnowledgeStage(KnowledgeConfig(link_entities=False, **cfg), out / "ingest", out / "select", None)


def _run(out: Path, **cfg):
    result = run_stage(_stage(out, **cfg), out, InlineEngine())
    docs = _rows(result.out_dir / "training_documents")
    return result.manifest, {orjson.loads(d["metadata"]).get("record_id") or d["doc_id"]: d for d in docs}


def test_records_with_too_few_facts_are_dropped_and_artists_get_their_songs(catalog: Path) -> None:
    m, docs = _run(catalog)
    assert "a_bare" not in docs and "s4" not in docs  # name only / title only
    assert m["dropped"]["too_few_facts"] == 2
    assert m["by_source"]["t_lastfm"]["dropped"] == {"too_few_facts": 1}
    assert m["by_source"]["t_charts_songs"]["dropped"] == {"too_few_facts": 1}
    known = docs["a_known"]["text"]
    assert "Alpha" in known and "Beta" in known and "First" in known  # its songs (by id) and albums (by name)
    assert "Gamma" in docs["a_named"]["text"]  # songs joined by the artist's name
    assert m["by_source"]["t_lastfm"]["flags"] == {"artist_songs_by_name": 1}
    assert "Faraway" in docs["a_country"]["text"]
    # with a minimum of one fact, the bare records come back as one-line documents
    m1, docs1 = _run(catalog, min_facts=1)
    assert "too_few_facts" not in m1["dropped"] and "a_bare" in docs1 and "s4" in docs1


def test_comments_on_unknown_items_are_counted_and_kept_or_dropped(catalog: Path) -> None:
    m, docs = _run(catalog)
    assert {"c1", "c2"} <= set(docs)
    assert m["by_source"]["t_comments"]["flags"] == {"comment_item_unknown": 1}
    assert m["by_source"]["t_comments"]["rows_out"] == 2 and "comment_item_unknown" not in m["dropped"]
    assert "Alpha" in docs["c1"]["text"] and docs["c2"]["text"].endswith("Never heard of it.")

    m, docs = _run(catalog, unknown_comment_items="drop")
    assert "c1" in docs and "c2" not in docs
    assert m["dropped"]["comment_item_unknown"] == 1
    assert m["by_source"]["t_comments"] == {"rows_in": 2, "rows_out": 1, "dropped": {"comment_item_unknown": 1},
                                            "quarantined": {}, "flags": {"comment_item_unknown": 1}}  # fmt: skip


def test_by_source_has_every_source_and_balances(catalog: Path) -> None:
    m, _ = _run(catalog)
    assert set(m["by_source"]) == {"t_spotify", "t_lastfm", "t_msd", "t_charts_songs", "t_albums", "t_comments"}
    for source, s in m["by_source"].items():
        assert s["rows_in"] == s["rows_out"] + sum(s["dropped"].values()) + sum(s["quarantined"].values()), source
    assert m["rows_in"] == sum(s["rows_in"] for s in m["by_source"].values()) == 4 + 4 + 1 + 2
    assert m["rows_out"] == sum(s["rows_out"] for s in m["by_source"].values())
    assert Counter(m["dropped"]) == sum((Counter(s["dropped"]) for s in m["by_source"].values()), Counter())


def test_linked_items_are_attached_only_with_enough_facts(catalog: Path) -> None:
    stage = _stage(catalog)  # `_attach` is given the links: no linker needed

    def link(item_id: str) -> Link:
        return Link(0, 1, "x", "artist", "x", (item_id,), "test")

    flags: Counter = Counter()
    text, spans = stage._attach("Some text.", [], [link("a_bare"), link("a_known")], "en", flags)
    assert "Nobody Anywhere" not in text and "Alpha" in text  # the linked artist's songs come with it
    assert flags == {"attached_too_few_facts": 1, "facts_attached": 1}
    assert spans[0]["start"] == len("Some text.") and spans[0]["end"] >= len("Some text.\n\n")  # separator: no loss


@pytest.mark.slow  # generates and ingests the small demo (shared session fixture)
def test_demo_catalog_balances_per_source(demo_ingest: Path, tmp_path: Path) -> None:
    stage = KnowledgeStage(KnowledgeConfig(link_entities=False), demo_ingest, None, None)
    m = run_stage(stage, tmp_path, InlineEngine()).manifest
    sources = {r["source"] for ds in ("songs", "artists", "albums", "chart_entries", "awards", "playlists")
               for r in _rows(demo_ingest / ds)}  # fmt: skip
    assert set(m["by_source"]) == sources
    for source, s in m["by_source"].items():
        assert s["rows_in"] == s["rows_out"] + sum(s["dropped"].values()), source
