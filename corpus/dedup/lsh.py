"""LSH banding for MinHash signatures, and the clustering rules both engines follow.

Bands and rows come from the target Jaccard threshold through datasketch's `_optimal_param`, which
minimises the weighted integrated false-positive and false-negative probability of the S-curve
`1 - (1 - s^r)^b` (a well-kept implementation, so we call it rather than copy it). Each band of `r`
signature values is hashed to one int64 bucket key (band index mixed in, so buckets of different
bands never meet).

Rules shared by the single-node path (`corpus.dedup.cluster`) and the Spark job
(`jobs/spark/lib/dedup.py`), so both give identical clusters:
1. candidate edges: in every bucket with two or more documents, the member with the smallest node id
   is linked to each other member (a star, not all pairs: linear in bucket size);
   documents with equal exact keys are linked the same way;
2. verification: a MinHash candidate edge is kept when the signatures' estimated Jaccard (share of
   equal values) is at least the threshold; exact edges need no check;
3. clusters are the connected components of the kept edges; a cluster's id is its smallest node id.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from corpus.dedup.text import _K, mix64


@cache
def lsh_params(
    threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5
) -> tuple[int, int]:
    """(bands, rows) minimising fp_weight * P(false positive) + fn_weight * P(false negative)."""
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    from datasketch.lsh import _optimal_param

    b, r = _optimal_param(threshold, num_perm, fp_weight, fn_weight)
    return int(b), int(r)


def collision_probability(s: float, bands: int, rows: int) -> float:
    """Probability that two documents of Jaccard `s` share at least one bucket."""
    return 1.0 - (1.0 - s**rows) ** bands


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(n, bands) int64 bucket keys of (n, num_perm) uint32 signatures."""
    n, p = signatures.shape
    if bands * rows > p:
        raise ValueError(f"{bands} bands x {rows} rows need {bands * rows} permutations, signatures have {p}")
    out = np.empty((n, bands), dtype=np.uint64)
    sig = signatures.astype(np.uint64)
    with np.errstate(over="ignore"):
        for j in range(bands):
            acc = np.full(n, np.uint64(j + 1), dtype=np.uint64)
            for c in range(j * rows, (j + 1) * rows):
                acc *= _K
                acc += sig[:, c]
            out[:, j] = mix64(acc)
    return out.view(np.int64)
