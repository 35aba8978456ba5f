"""Recommender baselines behind one interface, so a language model's lists and plain recommenders go through
the same metrics: `Popularity`, `ItemKNN` (item relations, the corpus's `item_relations` shape), `BM25` over
item text (bm25s), `Random`, and `ModelLists` (answers a model already gave, matched to catalog ids).

Every baseline is deterministic: ties break by item id, `Random` is seeded by the request id.
"""

from __future__ import annotations

import logging
import math
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import permutations
from pathlib import Path
from typing import Protocol

import numpy as np

from eval.recommend.match import CatalogMatcher
from jobs.spark.lib.relations import RelationsConfig

Relation = tuple[str, str, float]
"""(src item id, dst item id, weight): one row of an item-relations table."""


@dataclass(frozen=True)
class RecRequest:
    id: str
    text: str = ""
    """What the user asked for ("" when there is no request, only a history)."""
    history: tuple[str, ...] = ()
    """Item ids the user already has, in time order (oldest first); never recommended back."""
    user: str | None = None


class Recommender(Protocol):
    def recommend(self, request: RecRequest, k: int) -> Sequence[str | None]:
        """At most k item ids, best first, no duplicates and nothing in `request.history`. Only `ModelLists`
        gives None (an answer line that names no catalog song) and may repeat history items."""
        ...


def _first_k(ranked: Iterable[str], exclude: Iterable[str], k: int) -> list[str]:
    seen = set(exclude)
    out: list[str] = []
    for it in ranked:
        if len(out) >= k:
            break
        if it not in seen:
            seen.add(it)
            out.append(it)
    return out


def _fill(out: list[str], request: RecRequest, k: int, fallback: Recommender | None) -> list[str]:
    """`out` topped up to k items from `fallback` (skipping what `out` already holds)."""
    if fallback is None or len(out) >= k:
        return out
    more = [it for it in fallback.recommend(request, k) if it is not None]  # k covers any overlap with out
    return out + _first_k(more, [*request.history, *out], k - len(out))


class Popularity:
    """Items by their training interaction counts (most first, ties by item id)."""

    def __init__(self, counts: Mapping[str, int]):
        self.counts = dict(counts)
        self.ranking = sorted(self.counts, key=lambda it: (-self.counts[it], it))

    @classmethod
    def from_interactions(cls, interactions: Iterable[str]) -> Popularity:
        """One item id per interaction (a play, a playlist entry)."""
        return cls(Counter(interactions))

    def recommend(self, request: RecRequest, k: int) -> list[str]:
        return _first_k(self.ranking, request.history, k)


def cooccurrence_relations(baskets: Iterable[Sequence[str]], cfg: RelationsConfig | None = None) -> list[Relation]:
    """Item relations from co-occurrence in baskets, as the corpus relations stage computes them
    (`jobs.spark.lib.relations`): a basket is the set of its first `max_basket_items` distinct items; items in
    fewer than `min_item_baskets` baskets are dropped; pairs sharing fewer than `min_co_count` baskets are
    dropped; cosine co / sqrt(n_i * n_j) (or Jaccard); each item keeps its `top_k` neighbours by (similarity
    desc, co count desc, id asc). Rows come sorted by (src, rank)."""
    cfg = cfg or RelationsConfig()
    sets = [list(dict.fromkeys(b))[: cfg.max_basket_items] for b in baskets]
    n = Counter(it for s in sets for it in s)
    keep = {it for it, c in n.items() if c >= cfg.min_item_baskets}
    co = Counter(p for s in sets for p in permutations([it for it in s if it in keep], 2))
    by_src: dict[str, list[tuple[float, int, str]]] = {}
    for (i, j), c in co.items():
        if c >= cfg.min_co_count:
            sim = c / math.sqrt(n[i] * n[j]) if cfg.similarity == "cosine" else c / (n[i] + n[j] - c)
            by_src.setdefault(i, []).append((sim, c, j))
    return [(i, j, sim) for i in sorted(by_src)
            for sim, _, j in sorted(by_src[i], key=lambda t: (-t[0], -t[1], t[2]))[: cfg.top_k]]  # fmt: skip


class ItemKNN:
    """A candidate's score is the sum of the relation weights from the history items to it (several relation
    kinds between the same two items add up); highest first, ties by item id. When the history reaches
    fewer than k candidates (short or cold history), the list is filled from `fallback` (popularity in
    `tasks.run_baselines`); without one it stays short."""

    def __init__(self, relations: Iterable[Relation], fallback: Recommender | None = None):
        self.neighbours: dict[str, dict[str, float]] = {}
        for src, dst, w in relations:
            nb = self.neighbours.setdefault(src, {})
            nb[dst] = nb.get(dst, 0.0) + float(w)
        self.fallback = fallback

    @classmethod
    def from_baskets(cls, baskets: Iterable[Sequence[str]], cfg: RelationsConfig | None = None,
                     fallback: Recommender | None = None) -> ItemKNN:  # fmt: skip
        return cls(cooccurrence_relations(baskets, cfg), fallback)

    def scores(self, history: Sequence[str]) -> dict[str, float]:
        out: dict[str, float] = {}
        for h in dict.fromkeys(history):
            for dst, w in self.neighbours.get(h, {}).items():
                out[dst] = out.get(dst, 0.0) + w
        return out

    def recommend(self, request: RecRequest, k: int) -> list[str]:
        scores = self.scores(request.history)
        ranked = sorted(scores, key=lambda it: (-scores[it], it))
        return _fill(_first_k(ranked, request.history, k), request, k, self.fallback)

    def affinity(self, history: Sequence[str], items: Sequence[str]) -> list[float]:
        """The personalization score: per item, the mean relation weight from the distinct history items to it
        (0 for an empty history)."""
        hist = list(dict.fromkeys(history))
        return [sum(self.neighbours.get(h, {}).get(it, 0.0) for h in hist) / len(hist) if hist else 0.0
                for it in items]  # fmt: skip


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def tokenize(text: str, stopwords: frozenset[str] = frozenset()) -> list[str]:
    """Casefolded word tokens (NFKC, diacritics dropped), each CJK character a token of its own."""
    s = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text or "")).casefold()
    s = "".join(c for c in s if not unicodedata.combining(c))
    toks = []
    for w in re.findall(r"\w+", s):
        toks.extend(_CJK.sub(r" \g<0> ", w).split() if _CJK.search(w) else [w])
    return [t for t in toks if t not in stopwords and t != "_"]


class BM25:
    """BM25 (bm25s, Lucene variant) over item texts; the query is the request text plus the texts of the last
    `history_items` history items. Only items sharing a query term are returned (score > 0, ties by item id),
    then `fallback` fills up to k when given. Items without text are never retrieved. English stopwords come
    from bm25s's bundled list (nothing is downloaded)."""

    def __init__(self, texts: Mapping[str, str | None], history_items: int = 5, k1: float = 1.5, b: float = 0.75,
                 fallback: Recommender | None = None):  # fmt: skip
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets its logger to DEBUG on import
        self.texts = texts
        self.history_items = history_items
        self.fallback = fallback
        self.stopwords = frozenset(bm25s.stopwords.STOPWORDS_EN)
        self.ids = sorted(it for it, t in texts.items() if t)
        self.index = bm25s.BM25(k1=k1, b=b)
        if self.ids:
            self.index.index([tokenize(texts[it] or "", self.stopwords) for it in self.ids], show_progress=False)

    def query(self, request: RecRequest) -> list[str]:
        """The query's tokens that occur in some item text."""
        if not self.ids:
            return []
        recent = request.history[-self.history_items:] if self.history_items else ()
        text = " ".join([request.text, *(self.texts.get(it) or "" for it in recent)])
        return [t for t in tokenize(text, self.stopwords) if t in self.index.vocab_dict]

    def recommend(self, request: RecRequest, k: int) -> list[str]:
        tokens = self.query(request)
        ranked: list[str] = []
        if tokens:
            scores = self.index.get_scores(tokens)
            order = np.argsort(-scores, kind="stable")  # ids are sorted, so ties keep id order
            ranked = [self.ids[i] for i in order[scores[order] > 0]]
        return _fill(_first_k(ranked, request.history, k), request, k, self.fallback)


class Random:
    """k items drawn uniformly without replacement from `items`, outside the history; the draw is seeded by
    (seed, request id), so the same request always gets the same list."""

    def __init__(self, items: Iterable[str], seed: int = 0):
        self.items = sorted(set(items))
        self.seed = seed

    def recommend(self, request: RecRequest, k: int) -> list[str]:
        rng = random.Random(f"{self.seed}:{request.id}")  # str seeds hash with sha512: stable across processes
        hist = set(request.history)
        draw = rng.sample(self.items, min(len(self.items), k + len(hist)))
        return [it for it in draw if it not in hist][:k]


class ModelLists:
    """Lists a language model already gave: request id -> matched catalog ids, None for an unmatched line. Given
    back as they are (first k), history items and repeats included: the metrics judge the model, not a cleanup.
    A request with no answer gets an empty list."""

    def __init__(self, answers: Mapping[str, Sequence[str | None]]):
        self.answers = answers

    @classmethod
    def from_lines(cls, lines: Mapping[str, Sequence[str]], matcher: CatalogMatcher) -> ModelLists:
        """From the raw answer lines per request, each matched with `matcher`."""
        return cls({rid: [matcher.match(line) for line in ls] for rid, ls in lines.items()})

    @classmethod
    def from_jsonl(cls, path: str | Path) -> ModelLists:
        """A file of `{"id": ..., "items": [song_id or null, ...]}` lines."""
        from eval.jsonl import read_rows

        rows = read_rows(path, ("id", "items"), "each line holds a request `id` and its `items`")
        return cls({str(r["id"]): list(r["items"]) for _, r in rows})

    def recommend(self, request: RecRequest, k: int) -> list[str | None]:
        return list(self.answers.get(request.id, ()))[:k]
