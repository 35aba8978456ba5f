"""Token budgets and repeat counts: targets keep the seeds' proportions, copies meet them under the cap."""

from __future__ import annotations

import numpy as np
import pytest

from corpus.mix.budget import SEED_BUDGETS, expected_copies, group_targets, whole_copies


def test_seed_budgets_are_the_papers_composition():
    assert sum(SEED_BUDGETS.values()) == pytest.approx(23.3e9)
    assert SEED_BUDGETS[(3, "user_context")] == 16e9
    stage1 = sum(v for (s, _), v in SEED_BUDGETS.items() if s == 1)
    assert stage1 == pytest.approx(2.7e9)


def test_targets_keep_proportions_and_scale_to_total():
    available = {g: 1000 for g in SEED_BUDGETS}
    targets, scale = group_targets(SEED_BUDGETS, available, total_tokens=23_300)
    assert scale == pytest.approx(1e-6)
    by = {(t.stage, t.group): t.target_tokens for t in targets}
    assert by[(3, "user_context")] == pytest.approx(16_000)
    assert by[(1, "metadata")] == pytest.approx(1_000)
    # no total (rule keep_all): the smallest scale that gives every group one epoch; here the smallest budget
    # (lyric descriptions) sets it, and the proportions stay the budgets'
    targets, scale = group_targets(SEED_BUDGETS, available)
    by = {(t.stage, t.group): t.target_tokens for t in targets}
    assert all(v >= 1000 - 1e-9 for v in by.values())
    assert by[(1, "lyric_descriptions")] == pytest.approx(1000)
    assert by[(3, "user_context")] == pytest.approx(1000 * 16e9 / 0.5e9)
    assert scale == pytest.approx(1000 / 0.5e9)


def test_missing_groups_share_goes_to_present_groups_and_unbudgeted_groups_are_refused():
    available = {(1, "metadata"): 500, (3, "user_context"): 500}
    targets, _ = group_targets(SEED_BUDGETS, available, total_tokens=1000)
    by = {(t.stage, t.group): t.target_tokens for t in targets}
    assert by[(2, "comments")] == 0
    assert by[(1, "metadata")] + by[(3, "user_context")] == pytest.approx(1000)
    assert by[(3, "user_context")] / by[(1, "metadata")] == pytest.approx(16)
    # without a total, metadata (the fullest for its budget) keeps its one epoch and user context is asked
    # for 16 times as much (the mix repeats it up to max_repeats and reports the rest as capped)
    targets, _ = group_targets(SEED_BUDGETS, available)
    by = {(t.stage, t.group): t.target_tokens for t in targets}
    assert by[(1, "metadata")] == pytest.approx(500) and by[(3, "user_context")] == pytest.approx(8000)
    with pytest.raises(ValueError, match="no token budget"):
        group_targets(SEED_BUDGETS, {(1, "lyrics_typo"): 10})


def test_expected_copies_meet_the_target_and_respect_the_cap():
    rng = np.random.default_rng(0)
    w = rng.uniform(0.05, 1.0, 500)
    n = rng.integers(10, 1000, 500)
    for target in (0.3 * n.sum(), 1.0 * n.sum(), 2.5 * n.sum()):
        c = expected_copies(w, n, target, max_repeats=3.0)
        assert (c <= 3.0 + 1e-12).all() and (c >= 0).all()
        assert (c * n).sum() == pytest.approx(target, rel=1e-9)
        # proportional to weight below the cap
        free = c < 3.0 - 1e-9
        ratio = c[free] / w[free]
        assert ratio.max() == pytest.approx(ratio.min(), rel=1e-9)
    # a target beyond the cap: everything capped (a shortfall the report shows)
    c = expected_copies(w, n, 10 * n.sum(), max_repeats=3.0)
    assert (c == 3.0).all()
    # zero weights and empty documents get nothing
    c = expected_copies(np.array([0.0, 1.0, 1.0]), np.array([10, 0, 10]), 10, 4.0)
    assert c.tolist() == [0.0, 0.0, 1.0]


def test_expected_copies_with_a_floor_keep_every_document():
    rng = np.random.default_rng(1)
    w = rng.uniform(0.01, 1.0, 800)  # weights spanning two orders of magnitude
    n = rng.integers(5, 2000, 800)
    for factor in (1.0, 1.7, 3.2):
        c = expected_copies(w, n, factor * n.sum(), max_repeats=4.0, min_copies=1.0)
        assert (c >= 1.0 - 1e-12).all() and (c <= 4.0 + 1e-12).all()
        assert (c * n).sum() == pytest.approx(factor * n.sum(), rel=1e-9)
        free = (c > 1.0 + 1e-9) & (c < 4.0 - 1e-9)
        if free.sum() > 1:  # between the bounds copies follow the weights
            ratio = c[free] / w[free]
            assert ratio.max() == pytest.approx(ratio.min(), rel=1e-6)
        # heavier documents never get fewer copies
        order = np.argsort(w)
        assert (np.diff(c[order]) >= -1e-9).all()
    # one epoch exactly: every document once, whatever its weight
    assert expected_copies(w, n, float(n.sum()), 4.0, min_copies=1.0) == pytest.approx(np.ones(800))
    # whole copies keep the floor: no document is drawn 0 times
    ids = [f"d{i}" for i in range(800)]
    c = expected_copies(w, n, 1.5 * n.sum(), 4.0, min_copies=1.0)
    assert whole_copies(c, ids, seed=0).min() >= 1


def test_whole_copies_are_seeded_and_unbiased():
    ids = [f"d{i}" for i in range(20_000)]
    c = np.full(len(ids), 1.3)
    a = whole_copies(c, ids, seed=1)
    assert a.tolist() == whole_copies(c, ids, seed=1).tolist()
    assert a.tolist() != whole_copies(c, ids, seed=2).tolist()
    assert set(np.unique(a)) == {1, 2}
    assert a.mean() == pytest.approx(1.3, abs=0.01)
    assert abs(a.sum() - 1.3 * len(ids)) <= 1  # systematic: the total is exact within one copy
    # unbiased per document: over many seeds one document's copies average its expected copies
    c2 = np.random.default_rng(5).uniform(0, 3, 50)
    mean = np.mean([whole_copies(c2, ids[:50], seed=s) for s in range(4000)], axis=0)
    assert np.abs(mean - c2).max() < 0.06
    # the draw is per id: the order of the documents does not change anyone's copies
    perm = np.random.default_rng(3).permutation(len(ids))
    b = whole_copies(c[perm], [ids[i] for i in perm], seed=1)
    assert b.tolist() == a[perm].tolist()
