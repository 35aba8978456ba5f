"""Token budgets per (curriculum stage, mix group) and the per-document repeat counts that meet them.

The seeds (MuCPT) train on about 23B tokens in three curriculum stages: stage 1 objective knowledge
(metadata 1B, encyclopedia 1.2B, lyric descriptions 0.5B), stage 2 subjective knowledge (comments 2B,
playlists 0.8B, relations 1.8B) and stage 3 personalized preference (user context 16B). A run keeps
those proportions and scales them to its own size (`group_targets`), by one of two rules:

- `total_tokens` (a total is given): the groups share it in the budgets' proportions; a group with more
  data than its share is down-sampled.
- `keep_all` (no total): nothing selected is cut. The scale is the smallest that gives every group at
  least one epoch of its data; groups that are small for their share are repeated (up to `max_repeats`)
  toward the proportions, and what the cap leaves short is reported, never taken from the other groups.

Inside a group, documents are sampled in proportion to their select weight: document d with weight
w_d and n_d tokens gets c_d = clip(lambda * w_d, min_copies, max_repeats) expected copies, with lambda
chosen so that sum(c_d * n_d) equals the group's target (`expected_copies`: the heaviest documents hit
the cap first; under `keep_all` every document keeps at least one copy). Expected copies become whole copies by seeded systematic sampling
(`whole_copies`): floor(c_d) or ceil(c_d), unbiased, the group's total copies exact within one, and the
same input and seed give the same mix on any engine and any partitioning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import xxhash

Group = tuple[int, str]  # (curriculum stage, mix group)

# MuCPT's corpus composition in tokens (stage, group) -> tokens
SEED_BUDGETS: dict[Group, float] = {
    (1, "metadata"): 1.0e9,
    (1, "encyclopedia"): 1.2e9,
    (1, "lyric_descriptions"): 0.5e9,
    (2, "comments"): 2.0e9,
    (2, "playlists"): 0.8e9,
    (2, "relations"): 1.8e9,
    (3, "user_context"): 16.0e9,
}


TOTAL_TOKENS = "total_tokens"  # scaled to a given total: groups may be down-sampled
KEEP_ALL = "keep_all"  # no total given: every group keeps at least one epoch, every document one copy
RULES = {
    TOTAL_TOKENS: "budgets scaled to mix.total_tokens in their proportions; groups with more data than their "
                  "share are down-sampled",
    KEEP_ALL: "no mix.total_tokens: nothing selected is cut; the smallest scale that gives every group one epoch, "
              "small groups repeated (at most max_repeats) toward the budgets' proportions",
}


@dataclass(frozen=True)
class GroupTarget:
    stage: int
    group: str
    budget: float  # configured budget (seed scale)
    target_tokens: float  # scaled to this run
    available_tokens: int  # tokens of one copy of every document in the group


def group_targets(
    budgets: Mapping[Group, float],
    available: Mapping[Group, int],
    total_tokens: float | None = None,
) -> tuple[list[GroupTarget], float]:
    """Scale `budgets` to the run; returns the targets and the scale factor.

    With `total_tokens` (rule `total_tokens`), the run's groups share that total in the budgets'
    proportions. Without it (rule `keep_all`), the scale is the smallest at which every group's target
    covers one copy of its data: the fullest group (relative to its budget) gets exactly one epoch and
    the others more, so nothing is down-sampled. Groups with no documents get no target (the report
    lists them as missing). Groups present in the data but absent from `budgets` are an error: every
    document must belong to a budgeted group."""
    unbudgeted = sorted(g for g, n in available.items() if n > 0 and g not in budgets)
    if unbudgeted:
        raise ValueError(
            f"mix: documents of {unbudgeted} have no token budget; add them to mix.budgets "
            f"(budgeted groups: {sorted(budgets)})"
        )
    present = {g: b for g, b in budgets.items() if available.get(g, 0) > 0}
    total_budget = sum(present.values())
    if not present or total_budget <= 0:
        return [], 0.0
    if total_tokens is not None:
        scale = float(total_tokens) / total_budget
    else:
        zero = sorted(g for g, b in present.items() if b <= 0)
        if zero:
            raise ValueError(f"mix: groups {zero} have data but a zero budget; without mix.total_tokens nothing "
                             "is down-sampled, so give them a budget or set mix.total_tokens")
        scale = max(available[g] / b for g, b in present.items())
    targets = [
        GroupTarget(g[0], g[1], float(budgets[g]), budgets[g] * scale if g in present else 0.0, int(available.get(g, 0)))
        for g in sorted(budgets)
    ]
    return targets, scale


def expected_copies(
    weights: np.ndarray, n_tokens: np.ndarray, target: float, max_repeats: float, min_copies: float = 0.0
) -> np.ndarray:
    """c_d = clip(lambda * w_d, min_copies, max_repeats) with sum(c_d * n_d) == target (or every c_d at a bound
    when the target lies outside what the bounds allow).

    Documents with weight 0 or no tokens get 0 copies."""
    w = np.asarray(weights, dtype=np.float64)
    n = np.asarray(n_tokens, dtype=np.float64)
    c = np.zeros(len(w), dtype=np.float64)
    live = (w > 0) & (n > 0)
    if target <= 0 or not live.any():
        return c
    idx = np.flatnonzero(live)
    if max_repeats * n[idx].sum() <= target:
        c[idx] = max_repeats
        return c
    if min_copies > 0:
        return _clipped_copies(w, n, idx, target, min_copies, max_repeats, c)
    order = idx[np.argsort(-w[idx], kind="stable")]  # heaviest first: they reach the cap first
    wn = w[order] * n[order]
    # with the k heaviest capped: lambda_k = (target - cap * tokens(top k)) / weighted tokens(rest)
    capped_tokens = np.concatenate([[0.0], np.cumsum(n[order])])[:-1]
    rest_wn = wn[::-1].cumsum()[::-1]
    lam = (target - max_repeats * capped_tokens) / rest_wn
    # the first k where the (k+1)-th heaviest document is not pushed over the cap is the solution
    ok = lam * w[order] <= max_repeats
    k = int(np.argmax(ok))
    c[order[:k]] = max_repeats
    c[order[k:]] = lam[k] * w[order[k:]]
    return c


def _clipped_copies(w: np.ndarray, n: np.ndarray, idx: np.ndarray, target: float, lo: float, hi: float,
                    c: np.ndarray) -> np.ndarray:
    """`expected_copies` with a floor: sum(n_d * clip(lambda w_d, lo, hi)) is nondecreasing and piecewise linear
    in lambda, so lambda is found by bisection (100 halvings: float64 precision) and the copies between the
    bounds are rescaled so the total is exact."""
    wi, ni = w[idx], n[idx]
    if lo * ni.sum() >= target:
        c[idx] = lo
        return c

    def total(lam: float) -> float:
        return float((np.clip(lam * wi, lo, hi) * ni).sum())

    a, b = lo / wi.max(), hi / wi.min()  # total(a) = lo * tokens <= target <= hi * tokens = total(b)
    for _ in range(100):
        mid = 0.5 * (a + b)
        if total(mid) < target:
            a = mid
        else:
            b = mid
    ci = np.clip(b * wi, lo, hi)
    free = (ci > lo) & (ci < hi)
    if free.any():  # exact total: the free documents absorb the bisection's remainder
        bound_tokens = float((ci[~free] * ni[~free]).sum())
        ci[free] = np.clip(ci[free] * (target - bound_tokens) / float((ci[free] * ni[free]).sum()), lo, hi)
    c[idx] = ci
    return c


def uniform_draws(doc_ids: list[str], seed: int) -> np.ndarray:
    """One uniform [0, 1) number per document id, from the id and the seed only."""
    return np.fromiter(
        (xxhash.xxh64_intdigest(d, seed=seed) >> 11 for d in doc_ids), dtype=np.float64, count=len(doc_ids)
    ) / float(1 << 53)


def whole_copies(expected: np.ndarray, doc_ids: list[str], seed: int) -> np.ndarray:
    """Whole copies with floor(c) or ceil(c) each, expectation c, by systematic sampling.

    Documents are put in a seeded random order (a hash of id and seed), and one uniform offset u
    walks the cumulative expected copies: document k gets floor(C_k + u) - floor(C_(k-1) + u). Each
    document's copies are unbiased, the group's total is round(sum c) within one (independent draws
    would let a small group miss its budget by several percent), and the result depends only on the
    ids and the seed, never on input order or partitioning."""
    expected = np.asarray(expected, dtype=np.float64)
    out = np.zeros(len(expected), dtype=np.int64)
    if not len(expected):
        return out
    order = np.argsort(uniform_draws(doc_ids, seed), kind="stable")
    u = (xxhash.xxh64_intdigest(f"systematic\x00{seed}") >> 11) / float(1 << 53)
    hi = np.floor(np.cumsum(expected[order]) + u)
    lo = np.concatenate([[np.floor(u)], hi[:-1]])
    out[order] = (hi - lo).astype(np.int64)
    return out
