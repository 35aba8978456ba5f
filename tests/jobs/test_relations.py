"""Item relations from co-occurrence: counts, cosine and ranking against a plain-Python reference."""

from __future__ import annotations

import math
from collections import Counter
from itertools import permutations

import pytest

from jobs.spark.lib.relations import (
    RELATION_COLUMNS,
    RelationsConfig,
    basket_stats,
    compute_item_relations,
    playlist_baskets,
    session_baskets,
)

# basket -> items in position order; "dup" repeats an item, "long" is cut by max_basket_items=4,
# "solo" only holds items seen in no other basket
BASKETS: dict[str, list[str]] = {
    "p1": ["a", "b", "c", "d"],
    "p2": ["a", "b", "c"],
    "p3": ["a", "b", "e"],
    "p4": ["b", "c", "e", "b", "c"],
    "p5": ["c", "d", "e"],
    "p6": ["a", "d"],
    "long": ["e", "a", "f", "g", "b", "c", "d"],
    "f2": ["f", "g"],
    "solo": ["z", "y"],
}


def _rows(baskets: dict[str, list[str]]) -> list[tuple[str, str, int]]:
    return [(b, item, pos) for b, items in baskets.items() for pos, item in enumerate(items)]


def reference(baskets: dict[str, list[str]], cfg: RelationsConfig) -> list[tuple]:
    """The same relations by dict counting: first distinct items, basket counts, co counts, cosine, top-k."""
    sets = {b: list(dict.fromkeys(items))[: cfg.max_basket_items] for b, items in baskets.items()}
    n = Counter(i for items in sets.values() for i in items)
    keep = {i for i, c in n.items() if c >= cfg.min_item_baskets}
    co = Counter(p for items in sets.values() for p in permutations([i for i in items if i in keep], 2))
    by_src: dict[str, list[tuple]] = {}
    for (i, j), c in co.items():
        if c >= cfg.min_co_count:
            sim = c / math.sqrt(n[i] * n[j]) if cfg.similarity == "cosine" else c / (n[i] + n[j] - c)
            by_src.setdefault(i, []).append((j, c, sim))
    out = []
    for i, dsts in by_src.items():
        dsts.sort(key=lambda t: (-t[2], -t[1], t[0]))
        out += [(i, j, "co", c, n[i], n[j], sim, r) for r, (j, c, sim) in enumerate(dsts[: cfg.top_k], 1)]
    return sorted(out)


def _collect(df) -> list[tuple]:
    return sorted(tuple(r) for r in df.collect())


@pytest.fixture(scope="module")
def baskets(spark):
    return spark.createDataFrame(_rows(BASKETS), "basket_id string, item_id string, pos long")


@pytest.mark.slow
@pytest.mark.parametrize(
    "cfg",
    [
        RelationsConfig(max_basket_items=4, min_co_count=1, top_k=10),
        RelationsConfig(max_basket_items=4),
        RelationsConfig(max_basket_items=4, min_co_count=1, top_k=2),
        RelationsConfig(max_basket_items=100, min_co_count=1, top_k=3, min_item_baskets=1),
        RelationsConfig(max_basket_items=4, min_co_count=1, similarity="jaccard"),
    ],
    ids=["all-pairs", "defaults", "top2", "no-cut", "jaccard"],
)
def test_counts_similarity_and_ranking_match_plain_python(spark, baskets, cfg):
    df = compute_item_relations(baskets, cfg, "co")
    assert tuple(df.columns) == RELATION_COLUMNS
    assert [f.dataType.simpleString() for f in df.schema.fields] == [
        "string", "string", "string", "bigint", "bigint", "bigint", "double", "int"]  # fmt: skip
    got = _collect(df)
    assert got == reference(BASKETS, cfg)  # exact: same integer counts, same double operations
    assert got  # the hand-made set has relations under every config


@pytest.mark.slow
def test_hand_checked_edge_cases(spark, baskets):
    cfg = RelationsConfig(max_basket_items=4, min_co_count=1)
    got = {(r.src_id, r.dst_id): r for r in compute_item_relations(baskets, cfg, "co").collect()}
    assert all(s != d for s, d in got)  # no self-pairs
    # p4 holds b and c twice: each basket counts once, so b~c co-occur in p1, p2, p4 only
    # ("long" is cut to e, a, f, g before b and c)
    assert got["b", "c"].co_count == 3 and got["b", "c"].src_baskets == 4 and got["b", "c"].dst_baskets == 4
    assert got["b", "c"].similarity == 3 / math.sqrt(4 * 4)
    # truncation: f and g share "long" (first four) and f2, but b is past the cut in "long"
    assert got["f", "g"].co_count == 2 and ("f", "b") not in got
    # min_item_baskets: z and y only occur in "solo"
    assert not {"z", "y"} & {i for pair in got for i in pair}
    uncut = {(r.src_id, r.dst_id) for r in compute_item_relations(baskets, RelationsConfig(min_co_count=1), "co").collect()}
    assert ("f", "b") in uncut
    with_solo = compute_item_relations(baskets, RelationsConfig(min_co_count=1, min_item_baskets=1), "co")
    assert with_solo.where("src_id = 'z' and dst_id = 'y'").count() == 1


@pytest.mark.slow
def test_top_k_cut_and_ties_are_deterministic(spark):
    # x shares two baskets with each of d1..d4 (in two baskets each: equal cosine and co_count), and three
    # with d5, which is in five baskets and so scores lower (3/sqrt(20) < 2/sqrt(8))
    baskets = {"b1": ["x", "d3", "d1", "d5"], "b2": ["x", "d4", "d2", "d5"], "b3": ["x", "d1", "d2"],
               "b4": ["x", "d3", "d4", "d5"], "b5": ["d5", "q"], "b6": ["d5", "q"]}  # fmt: skip
    df = spark.createDataFrame(_rows(baskets), "basket_id string, item_id string, pos long")
    cfg = RelationsConfig(top_k=3)
    top = [(r.dst_id, r.rank) for r in compute_item_relations(df, cfg, "co").where("src_id = 'x'").orderBy("rank").collect()]
    assert top == [("d1", 1), ("d2", 2), ("d3", 3)]  # equal similarity and co_count: dst_id ascending
    assert _collect(compute_item_relations(df, cfg, "co")) == reference(baskets, cfg)


@pytest.mark.slow
def test_same_rows_on_rerun_and_repartitioned_input(spark, baskets):
    cfg = RelationsConfig(max_basket_items=4, min_co_count=1, top_k=2)
    first = _collect(compute_item_relations(baskets, cfg, "co"))
    assert _collect(compute_item_relations(baskets, cfg, "co")) == first
    shuffled = baskets.repartition(7).orderBy("item_id", "pos").repartition(3)
    assert _collect(compute_item_relations(shuffled, cfg, "co")) == first
    stats = basket_stats(baskets, cfg)
    assert stats["baskets_in"] == len(BASKETS) and stats["rows_in"] == sum(map(len, BASKETS.values()))
    assert stats["pairs"] == sum(c for c in Counter(
        p for items in BASKETS.values() for p in permutations(
            [i for i in list(dict.fromkeys(items))[:4] if i not in ("z", "y")], 2)).values())  # fmt: skip


@pytest.mark.slow
def test_playlist_and_session_baskets(spark):
    pl = spark.createDataFrame([("p1", ["s1", "s2", "s1"]), ("p2", [])], "playlist_id string, song_ids array<string>")
    assert _collect(playlist_baskets(pl)) == [("p1", "s1", 0), ("p1", "s1", 2), ("p1", "s2", 1)]
    ev = spark.createDataFrame(
        [("u1", 1, "s2", 20), ("u1", 1, "s1", 10), ("u1", 2, "s3", 5), ("u2", 1, "s1", 5), ("u2", 1, "s0", 5)],
        "user_id string, session int, item_id string, ts long",
    )
    got = _collect(session_baskets(ev))
    assert got == [('["u1","1"]', "s1", 0), ('["u1","1"]', "s2", 1), ('["u1","2"]', "s3", 0),
                   ('["u2","1"]', "s0", 0), ('["u2","1"]', "s1", 1)]  # fmt: skip
    with pytest.raises(ValueError, match="session"):
        session_baskets(ev.drop("session"))


@pytest.mark.slow
def test_demo_playlists_invariants(spark, demo_ingest):
    from pyspark.sql import functions as F

    DEMO_PLAYLISTS = demo_ingest / "playlists"
    cfg = RelationsConfig()
    rel = compute_item_relations(playlist_baskets(spark.read.parquet(str(DEMO_PLAYLISTS))), cfg, "playlist_co").persist()
    try:
        assert rel.count() > 0
        assert rel.where(f"rank < 1 or rank > {cfg.top_k} or similarity <= 0 or similarity > 1").count() == 0
        assert rel.where(f"co_count < {cfg.min_co_count} or co_count > least(src_baskets, dst_baskets)").count() == 0
        assert rel.groupBy("src_id").count().where(f"count > {cfg.top_k}").count() == 0
        # co_count is symmetric: wherever both directions survive the top-k cut they agree
        both = rel.alias("a").join(rel.alias("b"), F.expr("a.src_id = b.dst_id and a.dst_id = b.src_id"))
        assert both.count() > 0 and both.where("a.co_count != b.co_count").count() == 0
        # ranks are 1..n without gaps per source
        gaps = rel.groupBy("src_id").agg({"rank": "max", "*": "count"}).where("`max(rank)` != `count(1)`")
        assert gaps.count() == 0
    finally:
        rel.unpersist()
