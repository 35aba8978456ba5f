"""Recommender baselines and the recommendation-list tasks: each baseline's ranking on hand-checkable fixtures
(popularity order, item-kNN cosine weights, BM25's best text match, seeded random), `evaluate` on a perfect
recommender, the held-out-user protocol on a small synthetic behavior output, and the four baselines on real
CPCD dev-val."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from eval.recommend.baselines import (
    BM25,
    ItemKNN,
    ModelLists,
    Popularity,
    Random,
    RecRequest,
    cooccurrence_relations,
    tokenize,
)
from eval.recommend.tasks import RecTask, cpcd_task, evaluate, heldout_task, run_baselines
from jobs.settings import shared_data_dir
from jobs.spark.lib.relations import RelationsConfig

BASKETS = [["a", "b", "c"], ["a", "b"], ["b", "c"], ["a", "d"], ["b", "b"]]  # n: a 3, b 4, c 2, d 1
ALL_PAIRS = RelationsConfig(min_co_count=1, min_item_baskets=1)


def test_popularity_order_ties_by_id_and_history_excluded() -> None:
    pop = Popularity.from_interactions(["c", "a", "b", "b", "a", "d", "c", "a"])  # a 3, b 2, c 2, d 1
    assert pop.recommend(RecRequest("r"), 10) == ["a", "b", "c", "d"]
    assert pop.recommend(RecRequest("r", history=("a", "c")), 2) == ["b", "d"]


def test_cooccurrence_cosine_by_hand() -> None:
    rel = {(s, d): w for s, d, w in cooccurrence_relations(BASKETS, ALL_PAIRS)}
    # a and b share 2 baskets, a in 3, b in 4 ("b, b" counts once); the corpus's formula, bit for bit
    assert rel["a", "b"] == 2 / math.sqrt(3 * 4) and rel["b", "a"] == rel["a", "b"]
    assert rel["b", "c"] == 2 / math.sqrt(4 * 2)
    assert rel["a", "c"] == 1 / math.sqrt(3 * 2)
    assert rel["a", "d"] == 1 / math.sqrt(3 * 1)
    assert ("c", "d") not in rel and all(s != d for s, d in rel)
    # the corpus defaults: two shared baskets, items in two baskets or more (d is in one)
    assert {(s, d) for s, d, _ in cooccurrence_relations(BASKETS)} == {("a", "b"), ("b", "a"), ("b", "c"), ("c", "b")}
    # top 1 per item: for a, b (2/sqrt(12)) and d (1/sqrt(3)) tie exactly; b wins on co count (2 vs 1)
    top1 = cooccurrence_relations(BASKETS, RelationsConfig(top_k=1, min_co_count=1, min_item_baskets=1))
    assert [(s, d) for s, d, _ in top1] == [("a", "b"), ("b", "c"), ("c", "b"), ("d", "a")]


def test_item_knn_sums_weights_and_fills_from_popularity() -> None:
    pop = Popularity.from_interactions(it for b in BASKETS for it in dict.fromkeys(b))  # b 4, a 3, c 2, d 1
    knn = ItemKNN.from_baskets(BASKETS, ALL_PAIRS, fallback=pop)
    # history a, c: b gets w(a,b) + w(c,b) = 2/sqrt(12) + 2/sqrt(8); d gets w(a,d) = 1/sqrt(3) only
    assert knn.scores(("a", "c"))["b"] == 2 / math.sqrt(12) + 2 / math.sqrt(8)
    assert knn.recommend(RecRequest("r", history=("a", "c")), 5) == ["b", "d"]  # everything else is history
    # d's only neighbour is a; popularity fills the rest, skipping a (already in) and d (history)
    assert knn.recommend(RecRequest("r", history=("d",)), 3) == ["a", "b", "c"]
    assert ItemKNN.from_baskets(BASKETS, ALL_PAIRS).recommend(RecRequest("r", history=("d",)), 3) == ["a"]
    assert knn.recommend(RecRequest("r"), 2) == ["b", "a"]  # no history: popularity
    assert knn.affinity(("a", "c"), ["b", "zz"]) == [(2 / math.sqrt(12) + 2 / math.sqrt(8)) / 2, 0.0]
    assert knn.affinity((), ["b"]) == [0.0]


TEXTS = {"s1": "Hey Jude — The Beatles", "s2": "Bohemian Rhapsody — Queen", "s3": "Yesterday — The Beatles",
         "s4": "七里香 — 周杰伦", "s5": "Smooth — Santana, Rob Thomas", "s6": None}  # fmt: skip


def test_bm25_ranks_the_matching_text_first() -> None:
    bm = BM25(TEXTS)
    assert bm.recommend(RecRequest("r", "some songs by Queen please"), 5) == ["s2"]  # only items sharing a term
    assert bm.recommend(RecRequest("r", "我想听周杰伦的歌"), 5)[0] == "s4"
    # no request text: the history's texts are the query; the history item itself is left out
    assert bm.recommend(RecRequest("r", "", ("s1",)), 5) == ["s3"]
    assert bm.recommend(RecRequest("r", "nothing matches"), 5) == []
    filled = BM25(TEXTS, fallback=Random(["s1", "s2", "s3"]))
    assert set(filled.recommend(RecRequest("r", "queen"), 3)) == {"s1", "s2", "s3"}
    assert tokenize("Beyoncé & JAY-Z: 七里香", frozenset({"and"})) == ["beyonce", "jay", "z", "七", "里", "香"]


def test_random_is_seeded_by_request_and_skips_history() -> None:
    rnd = Random([f"i{n}" for n in range(100)], seed=0)
    req = RecRequest("q1", history=("i1", "i2", "i3"))
    first = rnd.recommend(req, 10)
    assert first == Random(reversed([f"i{n}" for n in range(100)]), seed=0).recommend(req, 10)  # order-free
    assert len(first) == len(set(first)) == 10 and not set(first) & set(req.history)
    assert rnd.recommend(RecRequest("q2", history=req.history), 10) != first
    assert Random(["a", "b", "c"]).recommend(RecRequest("q", history=("b",)), 10) in (["a", "c"], ["c", "a"])


def _toy_task() -> RecTask:
    reqs = (RecRequest("r1", "queen", ("s1",)), RecRequest("r2", "", ("s4",)))
    return RecTask("toy", reqs, (frozenset({"s2", "s3"}), frozenset({"s5"})), TEXTS,
                   {"s1": "The Beatles", "s2": "Queen", "s3": "The Beatles", "s4": "周杰伦", "s5": "Santana"},
                   {"s1": 3, "s2": 2, "s3": 1}, (("s1", "s3", 0.5), ("s4", "s5", 0.25)))  # fmt: skip


def test_evaluate_a_perfect_recommender_and_model_lists() -> None:
    task = _toy_task()
    perfect = evaluate(ModelLists({"r1": ["s3", "s2"], "r2": ["s5"]}), task)
    assert perfect["hit_rate@10"] == perfect["success@10"] == perfect["ndcg@10"] == perfect["mrr@1"] == 1.0
    assert perfect["hit_rate@1"] == 1.0 and perfect["factuality"] == 1.0 and perfect["n"] == 2
    assert perfect["coverage"] == 3 / 6 and perfect["artist_repetition"] == 0.0
    assert perfect["personalization"] == pytest.approx((0.5 + 0.0 + 0.25) / 3)
    # a model line that named no catalog song, and a request the model never answered
    partial = evaluate(ModelLists({"r1": [None, "s2", "zz"]}), task)
    assert partial["factuality"] == 2 / 3 and partial["success@10"] == 0.5 and partial["mrr@10"] == 0.25
    assert set(evaluate(Popularity(task.item_counts), task, k=3)) >= {"hit_rate@1", "hit_rate@3", "ndcg@3"}


def test_task_refuses_gold_in_history() -> None:
    with pytest.raises(ValueError, match="outside the history"):
        RecTask("bad", (RecRequest("r1", "", ("s1",)),), (frozenset({"s1"}),), TEXTS, {}, {}, ())


# --- held-out users on a synthetic behavior output -------------------------------------------------------
T0 = datetime(2024, 5, 1, tzinfo=UTC)
SESSION_SCHEMA = pa.schema([("user_id", pa.string()), ("session", pa.int32()), ("event_id", pa.string()),
                            ("ts", pa.timestamp("ms", tz="UTC")), ("item_type", pa.string()),
                            ("item_id", pa.string()), ("feedback", pa.string()), ("source", pa.string())])  # fmt: skip


def _events(user: str, items: list[tuple[str, str]]) -> list[dict]:
    return [{"user_id": user, "session": 0, "event_id": f"{user}-{i:02d}", "ts": T0 + timedelta(minutes=i),
             "item_type": "song", "item_id": it, "feedback": fb, "source": "test"}
            for i, (it, fb) in enumerate(items)]  # fmt: skip


def _write(path: Path, rows: list[dict], schema: pa.Schema | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)


@pytest.fixture
def corpus_out(tmp_path: Path) -> Path:
    """u1: 15 song events, history = the first 12 (s3 skipped, s6 disliked, s1 and s2 twice); the last 3: s3 again
    (known), s8 added to a playlist (gold), s9 skipped. u2's last event is a dislike and u3's a skip: no gold."""
    head = [("s1", "play"), ("s2", "play"), ("s3", "skip"), ("s1", "play"), ("s4", "like"), ("s5", "play"),
            ("s2", "share"), ("s6", "dislike"), ("s5", "play"), ("s4", "play"), ("s5", "play"), ("s4", "play")]
    u1 = _events("u1", [*head, ("s3", "play"), ("s8", "add_to_playlist"), ("s9", "skip")])
    u1.append({**u1[0], "event_id": "u1-artist", "item_type": "artist", "item_id": "a1"})  # not a song: ignored
    rows = [*reversed(u1), *_events("u2", [("s1", "play")] * 4 + [("s9", "dislike")]),
            *_events("u3", [("s2", "play")] * 4 + [("s7", "skip")])]  # fmt: skip
    _write(tmp_path / "behavior/heldout_events/part-00000.parquet", rows, SESSION_SCHEMA)
    train = _events("t1", [("s5", "play")] * 3 + [("s6", "skip")] * 5 + [("s7", "like")] * 2)
    _write(tmp_path / "behavior/_sessions/part-00000.parquet", train, SESSION_SCHEMA)
    _write(tmp_path / "ingest/songs/part-00000.parquet",
           [{"song_id": f"s{n}", "title": f"Song {n}", "artists": [f"Artist {n % 3}"]} for n in range(1, 10)])
    rel = [("song", "s2", "song", "s8", "co_session", 0.9), ("song", "s4", "song", "s7", "co_playlist", None),
           ("artist", "a1", "artist", "a2", "similar", 1.0)]  # fmt: skip
    cols = ("src_type", "src_id", "dst_type", "dst_id", "relation", "weight")
    _write(tmp_path / "relations/item_relations/part-00000.parquet", [dict(zip(cols, r, strict=True)) for r in rel])
    return tmp_path


def test_heldout_protocol(corpus_out: Path) -> None:
    task = heldout_task(corpus_out / "behavior", corpus_out / "ingest")
    assert [r.id for r in task.requests] == ["heldout-u1"]  # u2, u3: nothing positive and new after the cut
    req = task.requests[0]
    assert req.text == "" and req.user == "u1"
    assert req.history == ("s3", "s1", "s2", "s6", "s5", "s4")  # time order, a repeat at its last occurrence
    assert task.golds == (frozenset({"s8"}),)  # not s3 (known), not s9 (skipped)
    assert task.item_counts == {"s5": 3, "s7": 2}  # training users' positive events only
    assert sorted(task.relations) == [("s2", "s8", 0.9), ("s4", "s7", 1.0)]  # songs only, null weight 1.0
    assert len(task.texts) == 9 and task.texts["s8"] == "Song 8 — Artist 2"
    assert ItemKNN(task.relations).recommend(req, 10) == ["s7", "s8"]  # s4 -> s7 (1.0) before s2 -> s8 (0.9)
    figures = run_baselines(task)
    assert figures["item_knn"]["hit_rate@1"] == 0.0 and figures["item_knn"]["mrr@10"] == 0.5
    assert figures["popularity"]["success@10"] == 0.0  # s7 is all it knows besides history
    assert all(m["n"] == 1 for m in figures.values())
    with pytest.raises(FileNotFoundError, match="behavior stage"):
        heldout_task(corpus_out / "nowhere", corpus_out / "ingest")


# --- real CPCD dev-val --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cpcd() -> RecTask:
    shared = shared_data_dir()
    if not (shared / "cpcd").exists():
        pytest.skip(f"CPCD not under {shared}")
    return cpcd_task(shared)


def test_cpcd_val_baselines(cpcd: RecTask) -> None:
    assert len(cpcd.requests) == 50 and len(cpcd.texts) == 8371
    figures = run_baselines(cpcd)
    assert sorted(figures) == ["bm25", "item_knn", "popularity", "random"]
    for name, m in figures.items():
        assert m["n"] == 50 and m["factuality"] == 1.0, name
        assert all(0.0 <= v <= 1.0 for key, v in m.items() if key != "n"), name
    rnd = figures["random"]
    assert figures["popularity"]["hit_rate@10"] > rnd["hit_rate@10"]
    assert figures["item_knn"]["hit_rate@10"] > rnd["hit_rate@10"]
    assert figures["bm25"]["success@10"] > rnd["success@10"]  # requests name artists
    assert figures["popularity"]["coverage"] < rnd["coverage"]


def test_no_baseline_returns_history_or_duplicates(cpcd: RecTask) -> None:
    from eval.recommend.tasks import baselines

    for name, rec in baselines(cpcd, seed=3).items():
        for r in cpcd.requests:
            got = rec.recommend(r, 10)
            assert len(got) == len(set(got)) <= 10 and not set(got) & set(r.history), (name, r.id)
            assert name == "bm25" or len(got) == 10, (name, r.id)


def test_cli_scores_a_models_lists_beside_the_baselines(cpcd: RecTask, corpus_out: Path, tmp_path: Path) -> None:
    import json

    from eval.cli import main

    lists = tmp_path / "lists.jsonl"  # a model that names the gold for every request, then one unknown song
    lists.write_text("".join(json.dumps({"id": r.id, "items": [*sorted(g)[:9], None]}) + "\n"
                             for r, g in zip(cpcd.requests, cpcd.golds, strict=True)), encoding="utf-8")
    out = tmp_path / "figures.json"
    assert main(["baselines", "--lists", str(lists), "--corpus", str(corpus_out), "--out", str(out)]) == 0
    res = json.loads(out.read_text(encoding="utf-8"))
    assert set(res["cpcd-val"]) == {"popularity", "item_knn", "bm25", "random", "model"}
    model = res["cpcd-val"]["model"]
    named = [min(9, len(g)) for g in cpcd.golds]
    assert model["success@10"] == 1.0 and model["factuality"] == pytest.approx(sum(named) / sum(n + 1 for n in named))
    assert all(model["hit_rate@10"] > m["hit_rate@10"] for k, m in res["cpcd-val"].items() if k != "model")
    assert set(res["heldout"]) == {"popularity", "item_knn", "bm25", "random"}
    assert main(["baselines", "--corpus", str(tmp_path / "nowhere")]) == 2
