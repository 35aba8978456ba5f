"""Recommendation-list metrics (MuChator's factuality, diversity, relevance, personalization; WeMusic's success
rate at K), on answers already parsed into lists of catalog ids (None for a line that names no catalog song).

Definitions (each list is one answer to one request, at most `k` items considered, in answer order):
- **factuality**: matched items / named items over all answers (an answer naming nothing adds nothing).
- **coverage** (diversity across answers): distinct matched items over all answers / catalog size.
- **artist repetition** (diversity within a list): mean over answers with at least two matched items of
  1 - distinct artists / matched items (0: every item by another artist).
- **hit rate@k**: relevant items among the first k / min(k, number of relevant items), averaged over requests.
- **MRR@k**: 1 / rank of the first relevant item among the first k (0 if none), averaged.
- **NDCG@k**: binary-gain DCG of the first k over the ideal DCG of min(k, relevant) items, averaged.
- **success@k** (WeMusic): share of requests with at least one relevant item among the first k.
- **personalization**: mean score of the matched items under a scoring model `(user, items) -> scores`,
  e.g. the behavior-trained ranker; unmatched items count as the model's floor (`missing_score`).

Duplicated items in a list count once (their first position).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

Answer = Sequence[str | None]


def _dedup(items: Answer, k: int) -> list[str | None]:
    seen: set[str] = set()
    out: list[str | None] = []
    for it in items[:k]:
        if it is not None and it in seen:
            continue
        if it is not None:
            seen.add(it)
        out.append(it)
    return out


def factuality(answers: Sequence[Answer], k: int = 10) -> float:
    named = [it for a in answers for it in a[:k]]
    return sum(it is not None for it in named) / len(named) if named else 0.0


def coverage(answers: Sequence[Answer], catalog_size: int, k: int = 10) -> float:
    distinct = {it for a in answers for it in a[:k] if it is not None}
    return len(distinct) / catalog_size if catalog_size else 0.0


def artist_repetition(answers: Sequence[Answer], artist_of: Mapping[str, str], k: int = 10) -> float:
    vals = []
    for a in answers:
        items = [it for it in _dedup(a, k) if it is not None]
        if len(items) >= 2:
            vals.append(1.0 - len({artist_of[it] for it in items}) / len(items))
    return sum(vals) / len(vals) if vals else 0.0


def _ranked(a: Answer, relevant: set[str], k: int) -> list[bool]:
    return [it is not None and it in relevant for it in _dedup(a, k)]


def hit_rate(answers: Sequence[Answer], golds: Sequence[set[str]], k: int = 10) -> float:
    vals = [sum(_ranked(a, g, k)) / min(k, len(g)) for a, g in zip(answers, golds, strict=True) if g]
    return sum(vals) / len(vals) if vals else 0.0


def mrr(answers: Sequence[Answer], golds: Sequence[set[str]], k: int = 10) -> float:
    vals = []
    for a, g in zip(answers, golds, strict=True):
        if g:
            hits = _ranked(a, g, k)
            vals.append(1.0 / (hits.index(True) + 1) if True in hits else 0.0)
    return sum(vals) / len(vals) if vals else 0.0


def ndcg(answers: Sequence[Answer], golds: Sequence[set[str]], k: int = 10) -> float:
    vals = []
    for a, g in zip(answers, golds, strict=True):
        if g:
            dcg = sum(1.0 / math.log2(i + 2) for i, h in enumerate(_ranked(a, g, k)) if h)
            ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(g))))
            vals.append(dcg / ideal)
    return sum(vals) / len(vals) if vals else 0.0


def success_at(answers: Sequence[Answer], golds: Sequence[set[str]], k: int = 10) -> float:
    vals = [any(_ranked(a, g, k)) for a, g in zip(answers, golds, strict=True) if g]
    return sum(vals) / len(vals) if vals else 0.0


def personalization(answers: Sequence[Answer], users: Sequence[str],
                    score: Callable[[str, list[str]], Sequence[float]], missing_score: float = 0.0,
                    k: int = 10) -> float:
    vals: list[float] = []
    for a, u in zip(answers, users, strict=True):
        items = _dedup(a, k)
        known = [it for it in items if it is not None]
        scores = list(score(u, known)) if known else []
        vals.extend(scores)
        vals.extend([missing_score] * (len(items) - len(known)))
    return sum(vals) / len(vals) if vals else 0.0


def list_metrics(answers: Sequence[Answer], golds: Sequence[set[str]], catalog_size: int,
                 artist_of: Mapping[str, str], ks: Sequence[int] = (1, 5, 10)) -> dict[str, float]:
    """Every list metric above except personalization, for each k in `ks` where it depends on k."""
    out: dict[str, float] = {"factuality": factuality(answers, max(ks)),
                             "coverage": coverage(answers, catalog_size, max(ks)),
                             "artist_repetition": artist_repetition(answers, artist_of, max(ks))}
    for k in ks:
        out[f"hit_rate@{k}"] = hit_rate(answers, golds, k)
        out[f"mrr@{k}"] = mrr(answers, golds, k)
        out[f"ndcg@{k}"] = ndcg(answers, golds, k)
        out[f"success@{k}"] = success_at(answers, golds, k)
    return out
