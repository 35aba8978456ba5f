"""Semantic clusters of the query pool (MuChator's intent clusters) and how coherent they are.

Queries are clustered per language (the embedders are not cross-lingual, so an English and a Chinese query would
never share an intent cluster anyway): each language's distinct texts are embedded (`corpus.queries.embed`:
WordLlama for English, TF-IDF/SVD with character n-grams for Chinese by default, where WordLlama's Llama 2
tokenizer sees only byte pieces) and grouped by k-means (scikit-learn's mini-batch k-means: fixed seed,
deterministic, and it scales to the seeds' 40K clusters over millions of queries). The cluster count is
`n_clusters` when set (shared among languages in proportion to their distinct texts), else one cluster per
`queries_per_cluster` distinct texts; cluster ids are numbered across languages (English first, then by
name). Each song is then indexed under the clusters of its queries and of the real requests that list it (a
playlist title's tracks: `song_clusters`), which candidate retrieval reads.

Coherence: for each fact kind (`COHERENCE_KINDS`: mood, activity, genre, decade, artist and the tag kinds), the
purity of clusters over the queries that express that fact (the share of them whose cluster's most common value
is theirs), against the same measure with those queries' values shuffled over the same clusters (mean of
`random_trials` shuffles: random clusters of the sizes the fact's queries fill; shuffling every query's cluster
instead left a rare fact's queries alone in their clusters, pure by chance, so a fact held by 700 of 300,000
queries scored a random purity of 0.69), and the gain (purity - random) / (1 - random): the share of the possible
improvement over random that the clustering achieves (0 = random, 1 = pure), which stays comparable when one
value dominates a fact and random purity is already high.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from corpus.queries.embed import embed
from corpus.queries.generate import Query


@dataclass(frozen=True)
class ClusterConfig:
    """How the query pool is clustered."""

    __pydantic_config__ = {"extra": "forbid"}  # unknown YAML keys are refused (read by pydantic only)

    embedders: dict[str, str] = field(default_factory=lambda: {"en": "wordllama", "zh": "tfidf"})
    """Embedder per language: `wordllama` (static sentence embeddings shipped in the package) or `tfidf` (TF-IDF +
    SVD, no model); a language not listed uses `tfidf`."""
    n_clusters: int | None = None
    """Cluster count; None: ceil(queries / queries_per_cluster)."""
    queries_per_cluster: int = 25
    """Queries per cluster when `n_clusters` is None."""
    batch_size: int = 4096
    """Mini-batch size of k-means."""
    seed: int = 0
    random_trials: int = 5
    """Shuffles averaged for the random-cluster coherence baseline."""

    def __post_init__(self) -> None:
        bad = {k: v for k, v in self.embedders.items() if v not in ("wordllama", "tfidf")}
        if bad:
            raise ValueError(f"ClusterConfig.embedders: each must be wordllama or tfidf, got {bad}")
        if self.n_clusters is not None and self.n_clusters < 2:
            raise ValueError(f"ClusterConfig.n_clusters must be >= 2, got {self.n_clusters}")
        if self.queries_per_cluster < 1 or self.batch_size < 1 or self.random_trials < 1:
            raise ValueError("ClusterConfig.queries_per_cluster, batch_size and random_trials must be >= 1")


def cluster_queries(queries: Sequence[Query], cfg: ClusterConfig | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """(cluster label per query, {language: (first cluster id, clusters, embedder)}): k-means per language over
    the embeddings of the distinct query texts, each weighted by how many queries share it (identical texts,
    common among generated queries, are embedded once and share a cluster; a frequent intent still pulls its own
    centroid, as it would with every copy in the data)."""
    from sklearn.cluster import MiniBatchKMeans

    cfg = cfg or ClusterConfig()
    by_lang: dict[str, Counter] = {}
    for q in queries:
        by_lang.setdefault(q.lang, Counter())[q.text] += 1
    langs = sorted(by_lang, key=lambda lang: (lang != "en", lang))
    distinct = {lang: sorted(by_lang[lang]) for lang in langs}
    total = sum(len(t) for t in distinct.values())
    if total < 2:
        raise ValueError(f"cluster_queries: need at least 2 distinct queries, got {total}")
    label_of: dict[tuple[str, str], int] = {}
    layout: dict[str, Any] = {}
    base = 0
    for lang in langs:
        texts = distinct[lang]
        want = (max(1, round(cfg.n_clusters * len(texts) / total)) if cfg.n_clusters is not None
                else math.ceil(len(texts) / cfg.queries_per_cluster))
        k = max(1, min(want, len(texts)))
        method = cfg.embedders.get(lang, "tfidf")
        if k == 1:
            labels = np.zeros(len(texts), dtype=np.int32)
        else:
            x = embed(texts, method, seed=cfg.seed)
            km = MiniBatchKMeans(n_clusters=k, batch_size=cfg.batch_size, random_state=cfg.seed, n_init=3,
                                 max_no_improvement=20)  # fmt: skip
            weight = np.array([by_lang[lang][t] for t in texts], dtype=np.float64)
            labels = km.fit_predict(x, sample_weight=weight).astype(np.int32)
        label_of.update(((lang, t), base + int(c)) for t, c in zip(texts, labels, strict=True))
        layout[lang] = {"first": base, "clusters": k, "embedder": method, "distinct_texts": len(texts)}
        base += k
    return np.array([label_of[(q.lang, q.text)] for q in queries], dtype=np.int32), layout


def purity(labels: Sequence[int], values: Sequence[str]) -> float:
    """Share of items whose cluster's most common value is theirs."""
    by: dict[int, Counter] = {}
    for lab, v in zip(labels, values, strict=True):
        by.setdefault(int(lab), Counter())[v] += 1
    return sum(c.most_common(1)[0][1] for c in by.values()) / max(len(values), 1)


COHERENCE_KINDS = ("mood", "activity", "genre", "decade", "artist", "tag", "style", "scene", "emotion", "instrument")


def coherence(queries: Sequence[Query], labels: np.ndarray, kinds: Sequence[str] = COHERENCE_KINDS, trials: int = 5,
              seed: int = 0) -> dict[str, dict[str, float]]:  # fmt: skip
    """Per fact kind: purity of the clusters over the queries that express that fact, and the mean purity with
    their values shuffled over the same clusters (kinds fewer than two queries express are left out)."""
    rng = np.random.default_rng(seed)
    out = {}
    for kind in kinds:
        idx = [i for i, q in enumerate(queries) if kind in q.facts]
        if len(idx) < 2:
            continue
        vals = [queries[i].facts[kind] for i in idx]
        labs = labels[idx]
        rand = [purity(labs, list(rng.permutation(vals))) for _ in range(trials)]
        p, r = purity(labs, vals), float(np.mean(rand))
        out[kind] = {"queries": len(idx), "values": len(set(vals)), "purity": p, "random_purity": r,
                     "gain": (p - r) / (1.0 - r) if r < 1.0 else 0.0}  # fmt: skip
    return out


def song_clusters(queries: Sequence[Query], labels: np.ndarray) -> dict[str, list[int]]:
    """Song id -> the sorted clusters of its generated queries and of the real requests that list it."""
    out: dict[str, set[int]] = {}
    for q, lab in zip(queries, labels, strict=True):
        for sid in ((q.song_id,) if q.song_id is not None else ()) + tuple(q.song_ids):
            out.setdefault(sid, set()).add(int(lab))
    return {s: sorted(c) for s, c in sorted(out.items())}


def cluster_report(queries: Sequence[Query], labels: np.ndarray, cfg: ClusterConfig, layout: Mapping[str, Any],
                   examples: int = 5, shown: int = 12) -> dict[str, Any]:  # fmt: skip
    """Sizes, coherence against random, and example queries of the largest clusters."""
    sizes = Counter(int(x) for x in labels)
    coh = coherence(queries, labels, trials=cfg.random_trials, seed=cfg.seed)
    members: dict[int, list[str]] = {}
    for q, lab in zip(queries, labels, strict=True):
        if len(members.setdefault(int(lab), [])) < examples:
            members[int(lab)].append(q.text)
    top = [c for c, _ in sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0]))[:shown]]
    return {"config": asdict(cfg), "languages": dict(layout), "queries": len(queries), "clusters": len(sizes),
            "size": {"min": min(sizes.values()), "median": float(np.median(list(sizes.values()))),
                     "max": max(sizes.values())},
            "coherence": coh, "examples": {str(c): {"size": sizes[c], "queries": members[c]} for c in top}}  # fmt: skip


def report_markdown(rep: Mapping[str, Any]) -> str:
    lines = ["# Query clusters", "",
             f"{rep['queries']:,} queries in {rep['clusters']:,} clusters (sizes min {rep['size']['min']}, median "
             f"{rep['size']['median']:.0f}, max {rep['size']['max']}); per language: "
             + "; ".join(f"{k} {v['distinct_texts']:,} distinct texts, {v['clusters']:,} clusters, `{v['embedder']}`"
                         for k, v in rep["languages"].items()) + ".", "",
             "## Coherence (purity of each fact within clusters, against its values shuffled over the same clusters)", "",
             "| fact | queries | values | purity | random | gain |", "|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for kind, c in rep["coherence"].items():
        lines.append(f"| {kind} | {c['queries']:,} | {c['values']:,} | {c['purity']:.3f} | {c['random_purity']:.3f} "
                     f"| {c['gain']:.2f} |")
    lines += ["", "## Largest clusters", ""]
    for c, ex in rep["examples"].items():
        lines.append(f"- cluster {c} ({ex['size']} queries): " + " · ".join(ex["queries"]))
    return "\n".join(lines) + "\n"
