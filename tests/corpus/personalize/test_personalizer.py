"""The personalization model: interaction weights by hand, the ALS fold-in against an independent least-squares
solve, bit-identical retraining, save/load round trip, the time split by hand, and that it beats popularity on
real dated Last.fm events (slow) and on the demo's logs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from corpus.personalize.evaluate import evaluate_split, time_split
from corpus.personalize.model import Context, Personalizer, PersonalizerConfig, interaction_matrix
from tests.conftest import SHARED_DATA

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def ev(user, item, feedback="play", t=0, eid=None):
    return {"event_id": eid or f"{user}-{item}-{t}-{feedback}", "user_id": user, "item_type": "song", "item_id": item,
            "feedback": feedback, "ts": T0 + timedelta(minutes=t)}


def synthetic(n_users=60, n_items=40, seed=0):
    """Two taste groups: users u0..u29 play items i00..i19, the rest i20..i39 (plus a little noise)."""
    rng = np.random.default_rng(seed)
    out = []
    for u in range(n_users):
        group = u % 2
        for t in range(25):
            lo = 0 if group == 0 else n_items // 2
            it = int(rng.integers(lo, lo + n_items // 2)) if rng.random() > 0.1 else int(rng.integers(0, n_items))
            out.append(ev(f"u{u}", f"i{it:02d}", t=t))
    return out


def test_interaction_weights_by_hand():
    cfg = PersonalizerConfig()
    rows = [ev("a", "x"), ev("a", "x", t=1), ev("a", "y", "like"), ev("a", "z", "skip"), ev("b", "y", "dislike"),
            {**ev("b", "w"), "item_type": "artist"}]
    users, items, m, counts = interaction_matrix(rows, cfg)
    assert users == ["a"] and items == ["x", "y"]  # skip, dislike and other item types are not interactions
    assert m.toarray().tolist() == [[2.0, 4.0]] and counts == {"x": 2, "y": 1}


def test_fold_in_solves_the_als_objective():
    model = Personalizer.fit(synthetic(), PersonalizerConfig(factors=8, iterations=10))
    history = ("i01", "i05", "i07")
    u = model.user_vector(Context(None, history)).astype(np.float64)
    # the same objective written out: sum_i c_i (p_i - u.y_i)^2 + reg |u|^2, solved as weighted least squares
    y = model.item_factors.astype(np.float64)
    p = np.array([1.0 if it in history else 0.0 for it in model.items])
    c = 1.0 + model.cfg.alpha * p
    a = np.vstack([np.sqrt(c)[:, None] * y, np.sqrt(model.cfg.regularization) * np.eye(y.shape[1])])
    b = np.concatenate([np.sqrt(c) * p, np.zeros(y.shape[1])])
    want = np.linalg.lstsq(a, b, rcond=None)[0]
    np.testing.assert_allclose(u, want, rtol=1e-4, atol=1e-5)
    # a folded-in group-0 history prefers group-0 items
    s = model.score(Context(None, history), ["i10", "i30", "nope"])
    assert s[0] > s[1] and np.isnan(s[2])


def test_deterministic_round_trip_and_recommend(tmp_path):
    rows = synthetic()
    a = Personalizer.fit(rows, PersonalizerConfig(factors=8, iterations=5))
    b = Personalizer.fit(list(reversed(rows)), PersonalizerConfig(factors=8, iterations=5))
    assert a.item_factors.tobytes() == b.item_factors.tobytes() and a.user_factors.tobytes() == b.user_factors.tobytes()
    c = Personalizer.load(a.save(tmp_path / "m"))
    items = [f"i{i:02d}" for i in range(40)]
    for ctx in (Context("u3"), Context(None, ("i25",)), Context()):
        np.testing.assert_array_equal(a.score(ctx, items), c.score(ctx, items))
    rec = a.recommend(Context("u0", ("i01", "i02")), 10)
    assert len(rec) == len(set(rec)) == 10 and not {"i01", "i02"} & set(rec)
    assert sum(int(r[1:]) < 20 for r in rec) >= 8  # u0's taste group
    # no user, no history: popularity order
    pop = a.recommend(Context(), 3)
    assert pop == sorted(a.popularity, key=lambda it: (-a.popularity[it], it))[:3]
    with pytest.raises(FileNotFoundError, match="corpus.personalize train"):
        Personalizer.load(tmp_path / "none")
    with pytest.raises(ValueError, match="algorithm"):
        PersonalizerConfig(algorithm="svd")


def test_time_split_by_hand():
    rows = [ev("a", f"s{t}", t=t) for t in range(10)] + [ev("a", "s0", t=10)] + [ev("b", "s1", t=0)]
    train, cases = time_split(rows, PersonalizerConfig(), test_share=0.2)
    # a: 11 events, the first 9 train (s0..s8), the last 2 test: s9 (new) and s0 (known, not gold); b: 1 event
    # rounds to 1 training event and no test part
    assert [c.user for c, _ in cases] == ["a"]
    ctx, gold = cases[0]
    assert ctx.history == tuple(f"s{t}" for t in range(9)) and gold == {"s9"}
    assert len(train) == 10


def test_beats_popularity_on_the_demo_logs(tmp_path):
    from corpus.personalize.evaluate import read_events
    from jobs.config import load_config
    from jobs.engines import LocalEngine
    from jobs.run import run_corpus

    out = tmp_path / "out"
    run_corpus(load_config(None, {"out": str(out), "sample.preset": "tiny"}), stages=("sample", "ingest"),
               engine=LocalEngine(progress=False))
    rep = evaluate_split(read_events(out / "ingest" / "behavior_events"), PersonalizerConfig(factors=32))
    assert rep["users_evaluated"] > 20
    assert rep["model"]["ndcg@10"] > 2 * rep["popularity"]["ndcg@10"]


@pytest.mark.slow
def test_beats_popularity_on_real_lastfm_tags(tmp_path):
    from corpus.personalize.evaluate import read_events
    from jobs.config import load_config
    from jobs.engines import LocalEngine
    from jobs.run import run_corpus

    out = tmp_path / "out"
    src = [{"name": "lastfm_hetrec2011", "adapter": "lastfm_hetrec2011", "path": str(SHARED_DATA / "lastfm_hetrec2011_2k")}]
    cfg = load_config(None, {"out": str(out), "sample.enabled": False, "ingest.sources": src})
    run_corpus(cfg, stages=("ingest",), engine=LocalEngine(progress=False))
    rep = evaluate_split(read_events(out / "ingest" / "behavior_events"),
                         PersonalizerConfig(item_types=("artist",), factors=32))  # fmt: skip
    assert rep["users_evaluated"] > 1000
    assert rep["model"]["hit_rate@10"] > 1.2 * rep["popularity"]["hit_rate@10"]
    assert rep["model"]["ndcg@10"] > 1.2 * rep["popularity"]["ndcg@10"]
