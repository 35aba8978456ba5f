"""The query-item relevance judge: content units and descriptions by hand, labels that follow the facts, a fit that
separates relevant from contradicting songs on held-out queries better than the cluster rule, the list gate, and
a save/load round trip that scores identically."""

from __future__ import annotations

import numpy as np
import pytest

from corpus.queries.cluster import ClusterConfig, cluster_queries
from corpus.queries.generate import generate_pool, song_facts
from corpus.uq2i.judge import JudgeConfig, RelevanceJudge, conflicts, describe, matches, training_pairs, units

GENRES = ("rock", "jazz", "hip hop", "country", "classical", "reggae")
ARTISTS = ("Nina Simone", "Radiohead", "Kendrick Lamar", "Dolly Parton", "Glenn Gould", "Bob Marley", "Adele",
           "Miles Davis", "Johnny Cash", "Björk")  # fmt: skip


def song(i: int) -> dict:
    v, e = ((0.9, 0.8), (0.2, 0.8), (0.2, 0.2), (0.8, 0.2))[i % 4]  # happy, angry, sad, relaxed
    return {"song_id": f"s{i:03d}", "source": "x", "title": f"Song {i}", "artists": [ARTISTS[i % len(ARTISTS)]],
            "genres": [GENRES[(i // 4) % len(GENRES)].title()], "year": 1960 + 10 * ((i // 24) % 6), "valence": v,
            "energy": e, "danceability": 0.5, "tempo_bpm": 100.0, "instrumentalness": 0.0, "speechiness": 0.05,
            "acousticness": 0.3}  # fmt: skip


@pytest.fixture(scope="module")
def data():
    songs = [song(i) for i in range(240)]
    queries = list(generate_pool(songs, 3))
    labels, _ = cluster_queries(queries, ClusterConfig(queries_per_cluster=10))
    pool = [{"query_id": q.query_id, "text": q.text, "song_id": q.song_id, "song_ids": list(q.song_ids) or None,
             "facts": sorted(q.facts.items()), "cluster": int(c)} for q, c in zip(queries, labels, strict=True)]
    # a playlist title that lists four songs (a real request)
    pool.append({"query_id": "pl1", "text": "雨天一个人听的歌", "song_id": None, "song_ids": ["s002", "s006", "s010", "s014"],
                 "facts": [], "cluster": int(labels[0])})
    return songs, pool


def test_units_and_descriptions_by_hand():
    assert units("Play me some sad Jazz songs from the 1960s") == {"sad", "jazz", "1960"}
    assert units("来点伤感的歌") == {"来点", "点伤", "伤感", "感的", "的歌"}
    d = describe({**song(2), "_tags": ["伤感", "华语"]})
    for w in ("Song 2", "Johnny Cash" if ARTISTS[2] == "Johnny Cash" else ARTISTS[2], "Rock", "伤感", "sad", "a rainy night", "1960s"):
        assert w in d, (w, d)


def test_labels_follow_the_facts():
    a, b = song(2), song(26)  # both sad rock, 1960s and 1970s
    fa, fb = song_facts(a), song_facts(b)
    assert matches({"mood": "sad", "genre": "rock"}, fb) and not matches({"mood": "happy"}, fb)
    assert conflicts({"mood": "happy"}, b, fb) and conflicts({"genre": "jazz"}, b, fb)
    assert not conflicts({"mood": "sad", "activity": "party"}, b, fb)  # activity never contradicts: a song fits several
    assert not conflicts({"genre": "rock"}, {**b, "genres": []}, {k: v for k, v in fb.items() if k != "genre"})
    assert fa["mood"] == fb["mood"] == "sad" and conflicts({"decade": fa["decade"]}, b, fb)


def test_training_pairs_are_labelled_by_construction_and_deterministic(data):
    songs, pool = data
    cfg = JudgeConfig()
    pairs = training_pairs(pool, songs, cfg)
    assert pairs == training_pairs(pool, songs, cfg)
    by_id = {s["song_id"]: s for s in songs}
    facts = {r["query_id"]: dict(r["facts"]) for r in pool}
    own = {r["query_id"]: r["song_id"] for r in pool}
    n_pos = n_neg = 0
    for _text, sid, label, qid in pairs:
        qf = facts[qid]
        if qid == "pl1":
            assert (sid in {"s002", "s006", "s010", "s014"}) == bool(label)
            continue
        if label:
            n_pos += 1
            assert sid == own[qid] or matches(qf, song_facts(by_id[sid]))
        else:
            n_neg += 1
            assert conflicts(qf, by_id[sid], song_facts(by_id[sid]))
    assert n_pos > 300 and n_neg >= n_pos
    assert sum(1 for p in pairs if p[3] == "pl1" and p[2] == 1) == 4


def test_fit_beats_the_cluster_rule_gates_lists_and_round_trips(data, tmp_path):
    songs, pool = data
    judge, rep = RelevanceJudge.fit(pool, songs, JudgeConfig(max_queries=600, valid_share=0.25))
    v = rep["valid_at_threshold"]
    assert rep["valid_auc"] > 0.9 and v["f1"] > 0.8, rep
    assert v["f1"] > rep["cluster_rule_valid"]["f1"]
    assert 0.0 <= rep["reliability"]["ece"] < 0.1
    sad_rock = [s["song_id"] for s in songs if song_facts(s).get("mood") == "sad" and s["genres"] == ["Rock"]][:5]
    happy_jazz = [s["song_id"] for s in songs if song_facts(s).get("mood") == "happy" and s["genres"] == ["Jazz"]][:5]
    q = "sad rock songs"
    assert judge.score(q, sad_rock).mean() > judge.score(q, happy_jazz).mean() + 0.3
    assert judge.gate(q, sad_rock) == 1.0 and judge.gate(q, happy_jazz) == 0.0
    assert judge.gate(q, []) == 0.0 and judge.score(q, ["not-in-catalog"]).tolist() == [0.0]
    # the cached per-song path scores as the batch featurizer the fit used
    ids = sad_rock + happy_jazz
    np.testing.assert_allclose(judge.score(q, ids), judge.probabilities([q] * len(ids), [judge.descriptions[i] for i in ids]),
                               rtol=1e-9, atol=1e-12)  # fmt: skip
    judge.save(tmp_path / "j", rep)
    again = RelevanceJudge.load(tmp_path / "j")
    np.testing.assert_allclose(again.score(q, sad_rock + happy_jazz), judge.score(q, sad_rock + happy_jazz), rtol=1e-12)
    assert again.threshold == judge.threshold
    with pytest.raises(FileNotFoundError, match="run the uq2i stage"):
        RelevanceJudge.load(tmp_path / "missing")


def test_config_is_validated():
    with pytest.raises(ValueError):
        JudgeConfig(valid_share=0.7)
    with pytest.raises(ValueError):
        JudgeConfig(negatives_per_positive=0)
