"""The query pool: facts by hand, templates that never name a missing fact, offline embeddings, clusters more
coherent than random on real songs, real requests from CPCD's train split only, and the contract."""

from __future__ import annotations

import json

import numpy as np
import pytest

from corpus.queries.cluster import ClusterConfig, cluster_queries, coherence, purity, song_clusters
from corpus.queries.embed import embed
from corpus.queries.generate import Query, generate_pool, generate_queries, song_facts
from tests.conftest import SHARED_DATA

ROW = {"song_id": "s1", "source": "x", "title": "T", "artists": ["Nina Simone"], "genres": ["Jazz", "Soul"],
       "year": 1965, "valence": 0.2, "energy": 0.3, "danceability": 0.4, "tempo_bpm": 90.0, "instrumentalness": 0.0,
       "speechiness": 0.05, "acousticness": 0.8}


def test_song_facts_by_hand():
    assert song_facts(ROW) == {"genre": "jazz", "decade": "1960s", "mood": "sad", "activity": "sleep",
                               "character": "acoustic", "artist": "Nina Simone"}
    party = {**ROW, "valence": 0.9, "energy": 0.8, "danceability": 0.8, "tempo_bpm": 128.0, "acousticness": 0.1}
    f = song_facts(party)
    assert f["mood"] == "happy" and f["activity"] == "party" and "character" not in f
    assert song_facts({"song_id": "s", "artists": [], "genres": [], "valence": float("nan"), "energy": 0.9}) == {}


def test_playlist_tags_and_source_moods_become_facts():
    row = {**ROW, "valence": None, "energy": None, "_tags": ["伤感", "华语"], "metadata": '{"mood": "Sad"}'}
    f = song_facts(row)
    assert f["tag"] == "伤感" and f["mood"] == "sad"
    assert song_facts({**ROW, "metadata": '{"mood": "happy"}'})["mood"] == "sad"  # audio features win
    zh = [q for q in generate_queries({**row, "source": "x"}, per_song=12) if "tag" in q.facts]
    assert zh and all(q.facts["tag"] == "伤感" for q in zh)


def test_generated_queries_name_only_facts_the_song_has():
    qs = generate_queries(ROW, per_song=3)
    assert len(qs) == 3 and len({q.query_id for q in qs}) == 3
    facts = song_facts(ROW)
    for q in qs:
        assert q.kind == "generated" and q.song_id == "s1" and q.lang in ("en", "zh")
        assert q.facts and all(facts[k] == v for k, v in q.facts.items())
        assert "{" not in q.text
    assert [q.text for q in generate_queries(ROW)] == [q.text for q in qs]  # deterministic
    assert generate_queries({"song_id": "s", "artists": [], "genres": []}) == []
    zh = list(generate_pool([{**ROW, "source": "netease_playlists_zh"}]))
    assert zh and all(q.lang == "zh" for q in zh)


def test_embeddings_load_offline_and_are_normalised(monkeypatch):
    import requests

    def no_network(*a, **k):
        raise AssertionError("embedding tried to download")

    monkeypatch.setattr(requests, "get", no_network)
    texts = ["sad piano songs for a rainy night", "melancholy piano ballads", "heavy metal for the gym", ""]
    for method in ("wordllama", "tfidf"):
        x = embed(texts, method)
        assert x.dtype == np.float32 and x.shape[0] == 4
        np.testing.assert_allclose(np.linalg.norm(x[:3], axis=1), 1.0, rtol=1e-5)
    x = embed(texts, "wordllama")
    assert x.shape[1] == 256 and x[0] @ x[1] > x[0] @ x[2]
    with pytest.raises(ValueError, match="wordllama or tfidf"):
        embed(texts, "bert")


def test_purity_and_song_index_by_hand():
    assert purity([0, 0, 1, 1], ["a", "a", "a", "b"]) == 0.75
    qs = [Query(str(i), t, "en", "generated", "t", s, f) for i, (t, s, f) in enumerate([
        ("happy songs", "s1", {"mood": "happy"}), ("music that feels happy", "s2", {"mood": "happy"}),
        ("sad songs", "s1", {"mood": "sad"}), ("real request", None, {})])]
    labels = np.array([0, 0, 1, 1])
    assert song_clusters(qs, labels) == {"s1": [0, 1], "s2": [0]}
    coh = coherence(qs, labels, kinds=("mood", "genre"))
    assert set(coh) == {"mood"} and coh["mood"]["purity"] == 1.0 and coh["mood"]["queries"] == 3
    assert coh["mood"]["gain"] == pytest.approx((1.0 - coh["mood"]["random_purity"]) / (1.0 - coh["mood"]["random_purity"]))


def test_random_baseline_of_a_rare_fact_is_its_values_shuffled_over_its_clusters():
    # two scene queries in one cluster among 100 queries in 50 clusters: mixed, and no better than random (a
    # shuffle of every query's cluster would put them apart and call random 1.0)
    qs = [Query(str(i), f"q{i}", "zh", "generated", "t", f"s{i}", {}) for i in range(100)]
    qs[0] = Query("0", "适合驾车听的歌", "zh", "generated", "t", "s0", {"scene": "驾车"})
    qs[1] = Query("1", "适合失恋听的歌", "zh", "generated", "t", "s1", {"scene": "失恋"})
    coh = coherence(qs, np.arange(100) // 2, kinds=("scene",))["scene"]
    assert coh["purity"] == 0.5 and coh["random_purity"] == 0.5 and coh["gain"] == 0.0


def test_clusters_per_language_identical_texts_together_deterministic():
    pool = list(generate_pool([{**ROW, "song_id": f"s{i}", "source": "x" if i % 3 else "netease_playlists_zh",
                                "valence": (i % 10) / 10, "energy": (i % 7) / 7, "year": 1960 + i % 50,
                                "artists": [f"A{i % 17}"]} for i in range(300)]))  # fmt: skip
    cfg = ClusterConfig(queries_per_cluster=10)
    labels, layout = cluster_queries(pool, cfg)
    assert set(layout) == {"en", "zh"} and layout["en"]["first"] == 0
    assert layout["zh"]["first"] == layout["en"]["clusters"] and layout["zh"]["embedder"] == "tfidf"
    for q, c in zip(pool, labels, strict=True):
        lo = layout[q.lang]["first"]
        assert lo <= c < lo + layout[q.lang]["clusters"]
    by_text: dict[tuple[str, str], set[int]] = {}
    for q, c in zip(pool, labels, strict=True):
        by_text.setdefault((q.lang, q.text), set()).add(int(c))
    assert all(len(v) == 1 for v in by_text.values())
    assert layout["en"]["clusters"] == -(-layout["en"]["distinct_texts"] // 10)
    np.testing.assert_array_equal(labels, cluster_queries(pool, cfg)[0])
    with pytest.raises(ValueError, match="wordllama or tfidf"):
        ClusterConfig(embedders={"en": "bert"})


@pytest.mark.slow
def test_real_pool_is_coherent_and_keeps_evaluation_requests_out(tmp_path):
    import pyarrow.dataset as pads

    from corpus.queries.pool import _qid, build_pool, write_pool
    from jobs.config import load_config
    from jobs.engines import LocalEngine
    from jobs.run import run_corpus
    from schemas import get_schema, validate_parquet

    out = tmp_path / "out"
    src = [{"name": n, "adapter": n, "path": str(SHARED_DATA / n)}
           for n in ("spotify_songs_tidytuesday_2020", "music_reco_intent_deezer", "cpcd")]
    run_corpus(load_config(None, {"out": str(out), "sample.enabled": False, "ingest.sources": src}),
               stages=("ingest",), engine=LocalEngine(progress=False))
    queries, labels, rep = build_pool(out / "ingest", ClusterConfig())
    for kind in ("mood", "activity", "decade"):  # facts of the Spotify songs' audio features and years
        c = rep["coherence"][kind]
        assert c["gain"] > 0.4 and c["purity"] > c["random_purity"] + 0.2, (kind, c)
    real = [q for q in queries if q.kind == "real"]
    assert {q.source for q in real} == {"music_reco_intent_deezer", "cpcd"}
    assert any(q.facts.get("decade") for q in real)  # Deezer descriptors become facts
    # CPCD requests: only the 400 train conversations, never the evaluation split (ids carry the source row)
    conv = pads.dataset(out / "ingest" / "conversations").to_table().to_pylist()

    def qid(c):
        text = " ".join(next(t["text"] for t in c["turns"] if t["speaker"] == "user").split())
        return _qid("cpcd", c["source_id"], text)

    split = {qid(c): json.loads(c["metadata"])["split"] for c in conv}
    cpcd = [q for q in real if q.source == "cpcd"]
    assert len(cpcd) == 400 and {split[q.query_id] for q in cpcd} == {"train"}
    assert sum(v != "train" for v in split.values()) == 50
    write_pool(queries, labels, rep, tmp_path / "queries")
    assert validate_parquet(tmp_path / "queries" / "query_pool", get_schema("query_pool")) == []
    assert (tmp_path / "queries" / "_report.md").read_text().startswith("# Query clusters")


def test_model_generator_hook_records_the_facts(tmp_path):
    from corpus.queries.generate import ModelGenerator
    from tests.evaluation.tiny import tiny_qwen3

    model = tiny_qwen3(tmp_path / "m", 32, 1)
    gen = ModelGenerator(str(model), max_new_tokens=6)
    rows = [ROW, {**ROW, "song_id": "s2", "genres": ["Rock"]}, {"song_id": "s3", "artists": ["X"], "genres": []}]
    qs = list(gen(rows))
    again = list(ModelGenerator(str(model), max_new_tokens=6)(rows))
    assert qs and [q.text for q in qs] == [q.text for q in again]  # greedy: deterministic
    assert {q.song_id for q in qs} <= {"s1", "s2"}  # s3 has no fact besides its artist: no prompt
    for q in qs:
        assert q.kind == "generated" and q.source == "model:m" and q.facts and "artist" not in q.facts
        assert q.facts == {k: v for k, v in song_facts(next(r for r in rows if r["song_id"] == q.song_id)).items()
                           if k != "artist"}
