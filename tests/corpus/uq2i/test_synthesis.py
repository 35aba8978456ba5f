"""User-query-to-item synthesis: favorites and list choice by hand, every drop reason, and the uq2i stage on the
demo: users in = samples + drops by reason, items in the catalog without repeats, SFT/RL/evaluation users
disjoint, answers that parse back to the listed songs through the evaluation suite's matcher."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from corpus.uq2i.synthesize import (
    ClusterIndex,
    SynthesisConfig,
    choose_list,
    favorites,
    render_answer,
    user_split,
)

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def ev(item, feedback="play", t=0):
    return {"item_type": "song", "item_id": item, "feedback": feedback, "ts": T0 + timedelta(minutes=t)}


class Scorer:
    """Score = the number in the song id (higher first); unknown ('x...') songs are NaN."""

    def score(self, context, items):
        return np.array([np.nan if it.startswith("x") else float(it[1:]) for it in items])


def pool(cluster_songs: dict[int, list[str]], favs: dict[str, int]) -> ClusterIndex:
    rows = [{"query_id": f"q{s}", "text": f"query {c}", "lang": "en", "song_id": s, "cluster": c}
            for c, songs in cluster_songs.items() for s in songs]
    rows += [{"query_id": f"f{s}", "text": f"fav {c}", "lang": "en", "song_id": s, "cluster": c} for s, c in favs.items()]
    return ClusterIndex.from_rows(rows)


def test_favorites_by_hand():
    cfg = SynthesisConfig(min_plays=2)
    evs = [ev("a"), ev("b", "like"), ev("a", t=1), ev("c", "skip"), ev("c", "skip"), ev("d", "share"), ev("b", "like")]
    assert favorites(evs, cfg) == ["b", "a", "d"]  # in order of their first favourite signal; skips never count


def test_choose_list_by_hand():
    cfg = SynthesisConfig(list_size=3, min_favorites=2, max_per_artist=1)
    songs = ["s10", "s20", "s30", "s40", "s50", "x1"]
    artist_of = {"s10": "A", "s20": "B", "s30": "B", "s40": "C", "s50": "D", "x1": "E", "s1": "F", "s2": "F"}
    idx = pool({7: songs}, {"s1": 7, "s2": 7})
    evs = [ev("s1", "like"), ev("s2", "like"), ev("s50")]  # s50 already played: not recommended back
    sample, reason = choose_list("u1", evs, idx, Scorer(), artist_of, cfg)
    assert reason is None
    # by score: s50 (known), s40, s30, s20 (artist B again: skipped), s10; x1 unknown to the model
    assert sample.items == ("s40", "s30", "s10") and sample.scores == (40.0, 30.0, 10.0)
    assert sample.seed_song in ("s1", "s2") and sample.query["cluster"] == 7 and sample.candidates == 5
    assert sample.split == user_split("u1", cfg)
    assert render_answer(sample.items, {s: f"T{s} — {artist_of[s]}" for s in songs}).splitlines()[0] == "1. Ts40 — C"
    # drop reasons
    assert choose_list("u1", evs[:1], idx, Scorer(), artist_of, cfg) == (None, "too_few_favorites")
    assert choose_list("u1", evs, pool({7: songs}, {}), Scorer(), artist_of, cfg) == (None, "no_queries")
    small = SynthesisConfig(list_size=5, min_favorites=2, max_per_artist=1)
    assert choose_list("u1", evs, idx, Scorer(), artist_of, small) == (None, "too_few_candidates")


def test_songs_a_real_request_lists_are_candidates_of_its_cluster():
    rows = [{"query_id": "g", "text": "sad songs", "lang": "en", "song_id": "s1", "cluster": 4},
            {"query_id": "t", "text": "一个人的夜晚", "lang": "zh", "song_id": None, "song_ids": ["s2", "s1"], "cluster": 9}]
    idx = ClusterIndex.from_rows(rows)
    assert idx.songs_in == {4: ["s1"], 9: ["s1", "s2"]}
    assert list(idx.queries_of) == ["s1"] and [q["query_id"] for q in idx.queries_of["s1"]] == ["g"]


def test_split_is_a_stable_share():
    cfg = SynthesisConfig(rl_share=0.25)
    splits = [user_split(f"user{i}", cfg) for i in range(4000)]
    assert splits == [user_split(f"user{i}", cfg) for i in range(4000)]
    assert 0.22 < splits.count("rl") / len(splits) < 0.28
    with pytest.raises(ValueError, match="rl_share"):
        SynthesisConfig(rl_share=1.5)


def test_uq2i_stage_on_the_demo(tmp_path):
    import pyarrow.dataset as pads

    from eval.recommend.match import CatalogMatcher, CatalogSong
    from jobs.catalog import read_catalog_items
    from jobs.config import load_config
    from jobs.engines import LocalEngine
    from jobs.run import run_corpus
    from schemas import get_schema, validate_parquet

    out = tmp_path / "out"
    cfg = load_config(None, {"out": str(out), "sample.preset": "tiny", "uq2i.enabled": True,
                             "uq2i.synthesis": {"rl_share": 0.3}, "uq2i.buckets": 3})
    report = run_corpus(cfg, stages=("sample", "ingest", "behavior", "uq2i"), engine=LocalEngine(progress=False))
    m = {r.stage: r for r in report.results}["uq2i"].manifest
    samples = pads.dataset(out / "uq2i" / "uq2i_samples").to_table().to_pylist()
    excl = pads.dataset(out / "uq2i" / "_exclusions").to_table().to_pylist()
    sessions = pads.dataset(out / "behavior" / "_sessions").to_table(columns=["user_id"]).column("user_id").to_pylist()
    assert m["rows_in"] == len(set(sessions)) == len(samples) + len(excl) and m["rows_out"] == len(samples) > 20
    assert sum(m["dropped"].values()) == len(excl) and {e["reason"] for e in excl} <= {
        "evaluation_user", "too_few_favorites", "no_queries", "too_few_candidates"}
    assert validate_parquet(out / "uq2i" / "uq2i_samples", get_schema("uq2i_samples")) == []
    songs = {k: v for k, v in read_catalog_items(out / "ingest").items() if v["item_type"] == "song"}
    held = set(pads.dataset(out / "behavior" / "heldout_events").to_table(columns=["user_id"]).column("user_id").to_pylist())
    sft = {s["user_id"] for s in samples if s["split"] == "sft"}
    rl = {s["user_id"] for s in samples if s["split"] == "rl"}
    assert held and sft and rl and not sft & rl and not (sft | rl) & held
    matcher = CatalogMatcher(CatalogSong(k, v["title"], tuple(v["artists"])) for k, v in songs.items())
    for s in samples:
        assert len(s["items"]) == len(set(s["items"])) == 10 and set(s["items"]) <= set(songs)
        assert s["scores"] == sorted(s["scores"], reverse=True)
        assert f"Request: {s['query']}" in s["prompt"] and s["prompt"].startswith("<|profile|>")
        matched = [matcher.match(line) for line in s["answer"].splitlines()]
        assert sum(a == b for a, b in zip(matched, s["items"], strict=True)) >= 9  # the matcher reads our lists back
    assert (out / "uq2i" / "_queries_report.md").read_text().startswith("# Query clusters")
    # the relevance judge (the RL reward's gate) is trained beside the personalization model and loads back
    from corpus.uq2i.judge import RelevanceJudge

    judge = RelevanceJudge.load(out / "uq2i" / "_judge")
    assert set(s["items"][0] for s in samples) <= set(judge.descriptions)
    # candidates the judge rejects are filtered out, so every SFT/RL list passes the RL reward's relevance gate
    assert all(judge.gate(s["query"], s["items"]) == 1.0 for s in samples)
    assert "| logistic judge" in (out / "uq2i" / "_judge_report.md").read_text()
    rerun = run_corpus(cfg, stages=("uq2i",), engine=LocalEngine(progress=False))
    assert rerun.results[0].status == "skipped"


@pytest.mark.slow
def test_spark_and_datatrove_write_the_same_samples(tmp_path, spark):
    """The stage's tasks on Spark executors and on datatrove worker processes give byte-identical samples."""
    import shutil

    from jobs.config import load_config
    from jobs.engines import DatatroveEngine, LocalEngine, SparkEngine
    from jobs.run import run_corpus
    from jobs.stage import run_stage
    from jobs.stages.uq2i import Uq2iStage

    out = tmp_path / "out"
    cfg = load_config(None, {"out": str(out), "sample.preset": "tiny", "uq2i.enabled": True, "uq2i.buckets": 3})
    run_corpus(cfg, stages=("sample", "ingest", "behavior"), engine=LocalEngine(progress=False))
    parts = {}
    for name, engine in (("spark", SparkEngine(spark)), ("dt", DatatroveEngine(workers=2, progress=False))):
        dst = tmp_path / name
        res = run_stage(Uq2iStage.from_run(cfg, out), dst, engine)
        assert res.manifest["rows_in"] == res.manifest["rows_out"] + sum(res.manifest["dropped"].values())
        parts[name] = {p.name: p.read_bytes() for p in sorted((dst / "uq2i" / "uq2i_samples").glob("part-*.parquet"))}
        shutil.rmtree(dst / "uq2i" / "_tasks", ignore_errors=True)
    assert parts["spark"] == parts["dt"] and len(parts["dt"]) == 3


def test_stage_without_behavior_output_names_the_stage_to_run(tmp_path):
    from jobs.stages.uq2i import Uq2iConfig, Uq2iStage

    stage = Uq2iStage(Uq2iConfig(enabled=True), tmp_path / "ingest", tmp_path / "behavior")
    with pytest.raises(FileNotFoundError, match="run the behavior stage first"):
        stage.training_events()
    assert stage.evaluation_users == frozenset()
