"""Single-node duplicate clustering (numpy + scipy), following the rules in `corpus.dedup.lsh`.

Nodes are indexed in ascending node-id order, so "smallest node id" is "smallest index". Memory is
about (16 + 4 * num_perm + 8 * bands) bytes per document, so this path suits `make corpus` and
corpora up to a few million documents; larger ones go through the Spark job, which gives the same
clusters (tested).

Keeper policy (both engines): in a cluster, the kept document is the one with the highest domain
score, then the most characters, then the smallest id. A cluster that contains a document of a
previous corpus version (from a saved index) keeps none of its new members: the content is already
in the corpus.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from corpus.dedup.minhash import estimate_jaccard

# per-document statuses written by the dedup stage (select drops all but unique/kept)
UNIQUE, KEPT = "unique", "kept"
EXACT_DUP, NEAR_DUP, PREVIOUS, DUP_ID, NO_TOKENS = (
    "exact_duplicate", "near_duplicate", "previous_version", "duplicate_id", "no_tokens",
)  # fmt: skip
DROP_STATUSES = (EXACT_DUP, NEAR_DUP, PREVIOUS, DUP_ID)
_VERIFY_BLOCK = 65_536


def _star_edges(keys: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edges from the smallest index of each group of equal keys to the group's other members."""
    if len(keys) < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    order = np.lexsort((idx, keys))
    k, i = keys[order], idx[order]
    new_group = np.empty(len(k), dtype=bool)
    new_group[0] = True
    new_group[1:] = k[1:] != k[:-1]
    rep = i[np.flatnonzero(new_group)[np.cumsum(new_group) - 1]]
    member = ~new_group
    return rep[member].astype(np.int64), i[member].astype(np.int64)


def estimated_jaccard(signatures: np.ndarray, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    out = np.empty(len(src), dtype=np.float64)
    for s in range(0, len(src), _VERIFY_BLOCK):
        e = s + _VERIFY_BLOCK
        out[s:e] = estimate_jaccard(signatures[src[s:e]], signatures[dst[s:e]])
    return out


@dataclass(frozen=True)
class Edges:
    exact: int  # exact-key edges
    candidates: int  # distinct MinHash candidate edges (before verification)
    verified: int  # candidates kept by verification


def cluster(
    exact_keys: np.ndarray,
    has_tokens: np.ndarray,
    signatures: np.ndarray,
    has_signature: np.ndarray,
    bands: np.ndarray,
    threshold: float,
    verify: bool = True,
) -> tuple[np.ndarray, Edges]:
    """Component representative (smallest index) of every node, and edge counts.

    exact_keys: (n,) `S16`; has_tokens: (n,) bool (nodes without tokens get no exact edges);
    signatures: (n, num_perm) uint32; has_signature: (n,) bool (MinHash applies); bands: (n, b) int64.
    """
    n = len(exact_keys)
    idx = np.arange(n, dtype=np.int64)
    tok = np.flatnonzero(has_tokens)
    ex_src, ex_dst = _star_edges(exact_keys[tok], tok)
    srcs, dsts = [], []
    sig_nodes = np.flatnonzero(has_signature)
    for j in range(bands.shape[1] if n else 0):
        s, d = _star_edges(bands[sig_nodes, j], sig_nodes)
        srcs.append(s)
        dsts.append(d)
    cand = np.unique(np.stack((np.concatenate(srcs), np.concatenate(dsts)), axis=1), axis=0) if srcs and n else \
        np.empty((0, 2), np.int64)  # fmt: skip
    n_cand = len(cand)
    if verify and n_cand:
        cand = cand[estimated_jaccard(signatures, cand[:, 0], cand[:, 1]) >= threshold]
    src = np.concatenate((ex_src, cand[:, 0]))
    dst = np.concatenate((ex_dst, cand[:, 1]))
    graph = coo_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n)).tocsr()
    _, labels = connected_components(graph, directed=False)
    rep = np.full(labels.max() + 1 if n else 0, n, dtype=np.int64)
    np.minimum.at(rep, labels, idx)
    return rep[labels], Edges(len(ex_src), n_cand, len(cand))


def choose(
    rep: np.ndarray, score: np.ndarray, n_chars: np.ndarray, is_previous: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(keeper index per node or -1, cluster size in current nodes, cluster-has-previous flag)."""
    n = len(rep)
    idx = np.arange(n, dtype=np.int64)
    cur = ~is_previous
    size = np.bincount(rep[cur], minlength=n)
    has_prev = np.bincount(rep[is_previous], minlength=n) > 0
    # best first: highest score, most characters, smallest index (NaN scores rank last)
    s = np.where(np.isnan(score), -np.inf, score)
    order = np.lexsort((idx, -n_chars, -s, is_previous, rep))
    first = np.ones(n, dtype=bool)
    r = rep[order]
    first[1:] = r[1:] != r[:-1]
    keeper_of_rep = np.full(n, -1, dtype=np.int64)
    firsts = order[first]
    keeper_of_rep[rep[firsts]] = np.where(is_previous[firsts], -1, firsts)
    keeper = keeper_of_rep[rep]
    keeper[has_prev[rep]] = -1
    return keeper, size[rep], has_prev[rep]


def statuses(
    rep: np.ndarray, keeper: np.ndarray, size: np.ndarray, has_prev: np.ndarray, exact_keys: np.ndarray,
    has_tokens: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """Status of every node (see the constants above)."""
    n = len(rep)
    idx = np.arange(n)
    out = np.full(n, UNIQUE, dtype=object)
    in_cluster = size > 1
    out[in_cluster & (keeper == idx)] = KEPT
    dup = (keeper >= 0) & (keeper != idx)
    same = np.zeros(n, dtype=bool)
    same[dup] = exact_keys[dup] == exact_keys[keeper[dup]]
    out[dup & same] = EXACT_DUP
    out[dup & ~same] = NEAR_DUP
    out[has_prev] = PREVIOUS
    out[~has_tokens & ~has_prev] = NO_TOKENS
    return out
