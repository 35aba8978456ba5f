"""The pool's newer sources on a hand-built ingest folder: MuChin songs' Chinese queries from their annotators'
tags, NetEase playlist titles as real Chinese requests that list their tracks (indexed under the title's
cluster), MusicCaps aspects as capped English requests; then the same on the real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpus.queries.captions import request
from corpus.queries.cluster import ClusterConfig, song_clusters
from corpus.queries.generate import song_facts
from corpus.queries.pool import build_pool, caption_requests, muchin_song_facts, playlist_requests, write_pool
from corpus.queries.zh_tags import tag_facts
from jobs.outputs import write_rows
from tests.conftest import SHARED_DATA

MUCHIN_AMATEUR = {"情绪感受（歌词）": ["真挚", "温暖", "温馨"], "歌曲用途": ["开车"], "配器与音效": ["古筝", "贝斯"]}
MUCHIN_PRO = {"情绪感受（歌词和旋律）": ["悲伤", "难过的", "伤心"], "风格或流派": ["流行", "古风"], "文化与地域": ["华语"]}
CLIPS = {"c1:10": ["low quality", "sad", "mellow piano melody", "jazz"], "c2:0": ["energetic", "rock", "male vocal"],
         "c3:0": ["low quality", "noisy"]}  # fmt: skip


def _song(sid: str, source: str, **kv) -> dict:
    return {"song_id": sid, "source": source, "source_id": sid, "title": f"T{sid}", "artists": [f"A{sid}"], **kv}


def _doc(source: str, source_id: str, text: str, lang: str, meta: dict) -> dict:
    return {"doc_id": f"{source}/{source_id}", "source": source, "source_id": source_id, "text": text, "lang": lang,
            "metadata": json.dumps(meta, ensure_ascii=False)}  # fmt: skip


@pytest.fixture
def ingest(tmp_path: Path) -> Path:
    ing = tmp_path / "ingest"
    songs = [_song("m1", "muchin_1k_zh", genres=["pop"]), _song("n1", "netease_playlists_zh"),
             _song("n2", "netease_playlists_zh")]  # fmt: skip
    songs += [_song(f"s{i}", "spotify", genres=["rock", "pop", "jazz"][i % 3:][:1], year=1970 + i % 40,
                    valence=(i % 10) / 10, energy=(i % 7) / 7) for i in range(60)]  # fmt: skip
    docs = [_doc("muchin_1k_zh", f"s_01/amateur/{a}", "描述", "zh",
                 {"song_id": "m1", "annotator": "amateur", "tags": MUCHIN_AMATEUR}) for a in ("a1", "a2")]
    docs.append(_doc("muchin_1k_zh", "s_01/professional/p1", "描述", "zh",
                     {"song_id": "m1", "annotator": "professional", "tags": MUCHIN_PRO}))
    docs += [_doc("musiccaps", cid, "A caption.", "en", {"aspect_list": a}) for cid, a in CLIPS.items()]
    docs.append(_doc("music_reco_intent_deezer", "d1", "some 80s rock for the road", "en",
                     {"descriptors": {"Decade": {"80s": 1}}}))
    playlists = [
        {"playlist_id": "p1", "source": "netease_playlists_zh", "source_id": "101", "name": " 一个人的  夜晚\n伤感 ",
         "song_ids": ["n1", "n2", "n1"], "metadata": json.dumps({"tags": ["华语", "流行", "伤感"]}, ensure_ascii=False)},
        {"playlist_id": "p2", "source": "spotify", "source_id": "sp", "name": "Tropical Beats", "song_ids": ["s1"],
         "metadata": None},
    ]  # fmt: skip
    write_rows(ing / "songs" / "part-00000.parquet", songs, "songs")
    write_rows(ing / "documents" / "part-00000.parquet", docs, "documents")
    write_rows(ing / "playlists" / "part-00000.parquet", playlists, "playlists")
    return ing


def test_muchin_songs_get_chinese_queries_from_their_tags(ingest):
    # 悲伤 (with 难过的, 伤心) is named three times, 温暖 (with 温馨) twice: the amateur group's tags count once
    # though both its descriptions repeat them (twice, 温暖 would win 4 to 3); 古风 beats the generic 流行
    assert muchin_song_facts(ingest) == {"m1": {"style": "古风", "scene": "驾车", "emotion": "悲伤",
                                                "instrument": "古筝", "activity": "road_trip", "mood": "sad"}}
    queries, _, _ = build_pool(ingest, ClusterConfig(queries_per_cluster=5), per_song=12)
    mine = [q for q in queries if q.song_id == "m1"]
    facts = song_facts({**_song("m1", "muchin_1k_zh", genres=["pop"]), "_facts": muchin_song_facts(ingest)["m1"]})
    assert len(mine) == 12 and all(q.lang == "zh" and q.kind == "generated" for q in mine)
    assert all(q.facts and all(facts[k] == v for k, v in q.facts.items()) for q in mine)
    named = {k for q in mine for k in q.facts}
    assert {"style", "scene", "emotion", "instrument"} <= named
    for q in mine:  # the Chinese tag is in the text
        for k in {"style", "scene", "emotion", "instrument"} & set(q.facts):
            assert q.facts[k] in q.text


def test_chinese_only_facts_get_chinese_queries_whatever_the_song_languages():
    from corpus.queries.generate import generate_queries

    row = {"song_id": "x", "artists": [], "genres": [], "_facts": {"emotion": "思念", "scene": "表白"}}
    qs = generate_queries(row, per_song=5, langs=("en", "zh"))
    assert len(qs) == 3 and all(q.lang == "zh" for q in qs)  # emotion, scene, emotion + scene
    assert generate_queries(row, langs=("en",)) == []


def test_playlist_titles_are_real_chinese_requests_listing_their_tracks(ingest):
    (q,) = playlist_requests(ingest)  # the Spotify playlist's source is not a title source
    assert (q.text, q.lang, q.kind, q.source, q.song_id) == ("一个人的 夜晚 伤感", "zh", "real", "netease_playlists_zh", None)
    assert dict(q.facts) == tag_facts(["华语", "流行", "伤感"], "101") == {"language": "华语", "style": "流行",
                                                                           "emotion": "伤感", "mood": "sad"}
    assert q.song_ids == ("n1", "n2")


def test_caption_requests_name_aspects_and_respect_the_cap(ingest):
    every = list(caption_requests(ingest, None))
    assert [q.text for q in every] == [request(c, CLIPS[c])[0] for c in ("c1:10", "c2:0")]  # c3: nothing usable
    assert all(q.kind == "real" and q.source == "musiccaps" and q.lang == "en" and q.song_id is None and q.facts
               for q in every)  # fmt: skip
    one = list(caption_requests(ingest, 1))
    assert len(one) == 1 and one[0] in every and one == list(caption_requests(ingest, 1))
    assert list(caption_requests(ingest, 0)) == []


def test_pool_indexes_playlist_tracks_under_the_title_cluster_and_keeps_the_contract(ingest, tmp_path):
    from corpus.uq2i.synthesize import ClusterIndex
    from schemas import get_schema, validate_parquet

    queries, labels, rep = build_pool(ingest, ClusterConfig(queries_per_cluster=5), captions=1)
    assert rep["by_source"]["real:netease_playlists_zh"] == {"queries": 1, "with_facts": 1}
    assert rep["by_source"]["real:musiccaps"]["queries"] == 1
    assert rep["by_source"]["real:music_reco_intent_deezer"]["queries"] == 1
    assert rep["songs_listed_by_requests"] == 2
    title = next(i for i, q in enumerate(queries) if q.source == "netease_playlists_zh")
    index = song_clusters(queries, labels)
    assert int(labels[title]) in index["n1"] and int(labels[title]) in index["n2"]
    write_pool(queries, labels, rep, tmp_path / "queries")
    assert validate_parquet(tmp_path / "queries" / "query_pool", get_schema("query_pool")) == []
    assert "real:musiccaps 1" in (tmp_path / "queries" / "_report.md").read_text()
    idx = ClusterIndex.read(tmp_path / "queries" / "query_pool")
    assert {"n1", "n2"} <= set(idx.songs_in[int(labels[title])])
    # the title is a request, not one of the tracks' own queries
    assert all(r["query_id"] != queries[title].query_id for qs in idx.queries_of.values() for r in qs)


def test_cluster_index_reads_a_pool_written_before_song_ids(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from corpus.uq2i.synthesize import ClusterIndex

    (tmp_path / "query_pool").mkdir()
    pq.write_table(pa.table({"query_id": ["q1", "q2"], "text": ["a", "b"], "lang": ["en", "en"], "kind": ["generated", "real"],
                             "source": ["templates", "x"], "song_id": ["s1", None], "cluster": [3, 3]}),
                   tmp_path / "query_pool" / "part-00000.parquet")  # fmt: skip
    idx = ClusterIndex.read(tmp_path / "query_pool")
    assert idx.songs_in == {3: ["s1"]} and list(idx.queries_of) == ["s1"]
    with pytest.raises(FileNotFoundError, match="build the pool first"):
        ClusterIndex.read(tmp_path / "missing")


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED_DATA / "muchin_1k_zh").is_dir(), reason=f"shared data not at {SHARED_DATA}")
def test_real_muchin_netease_and_musiccaps_in_the_pool(tmp_path):
    import pyarrow.dataset as pads

    from jobs.config import load_config
    from jobs.engines import LocalEngine
    from jobs.run import run_corpus

    out = tmp_path / "out"
    src = [{"name": n, "adapter": n, "path": str(SHARED_DATA / n)}
           for n in ("muchin_1k_zh", "musiccaps", "netease_playlists_zh")]
    run_corpus(load_config(None, {"out": str(out), "sample.enabled": False, "ingest.sources": src}),
               stages=("ingest",), engine=LocalEngine(progress=False))
    ing = out / "ingest"
    described = muchin_song_facts(ing)
    assert len(described) >= 990  # of 1,000 songs: nearly every one has a tag in the vocabulary
    queries, labels, rep = build_pool(ing, ClusterConfig())
    muchin = [q for q in queries if q.song_id in described]
    assert muchin and all(q.lang == "zh" for q in muchin)
    tagged = sum(bool({"style", "scene", "emotion", "instrument"} & set(q.facts)) for q in muchin)
    assert tagged > len(muchin) / 3, (tagged, len(muchin))
    titles = [q for q in queries if q.source == "netease_playlists_zh" and q.kind == "real"]
    assert len(titles) == 634 and all(q.facts for q in titles)
    song_ids = set(pads.dataset(ing / "songs").to_table(columns=["song_id"]).column("song_id").to_pylist())
    assert all(q.song_ids and set(q.song_ids) <= song_ids for q in titles)
    caps = [q for q in queries if q.source == "musiccaps"]
    assert len(caps) == 2500 and all(q.facts and q.song_id is None for q in caps)
    # Chinese tags (MuChin songs' queries and the playlist titles): every kind above random, most of them well above
    # (measured: style 0.49, emotion 0.33, instrument 0.72 of the possible gain; scene 0.09, whose template words
    # outweigh its two-character value in the character n-grams)
    gains = {k: rep["coherence"][k]["gain"] for k in ("emotion", "scene", "style", "instrument")}
    assert all(g > 0.03 for g in gains.values()) and sum(gains.values()) / len(gains) > 0.3, gains
