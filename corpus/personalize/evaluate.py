"""Time-split evaluation of the personalization model against popularity.

Each user's events are ordered by time (ties by event id); the first `1 - test_share` of them train, the rest
test. A user is evaluated when the test part holds positive items (feedback with a weight in the config) that
the user never interacted with positively in the training part: those are the gold, the training positives are
the history (never recommended back). Both recommenders return 10 items; hit rate, NDCG, MRR and success at 1, 5
and 10 come from `eval.recommend.metrics` (the same code as every other recommendation figure in the project).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from corpus.personalize.model import Context, Personalizer, PersonalizerConfig

EVENT_COLUMNS = ("event_id", "source", "user_id", "ts", "item_type", "item_id", "feedback")


def read_events(folder: str | Path, sources: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Rows of a `behavior_events` dataset folder (the ingest stage's), optionally only `sources`."""
    import pyarrow.dataset as pads

    from jobs.outputs import part_files

    files = part_files(Path(folder))
    if not files:
        raise FileNotFoundError(f"{folder}: no part-*.parquet files; point at an ingest output's behavior_events")
    ds = pads.dataset(files, format="parquet")
    expr = pads.field("source").isin(list(sources)) if sources else None
    return ds.to_table(columns=list(EVENT_COLUMNS), filter=expr).to_pylist()


def time_split(events: Iterable[Mapping[str, Any]], cfg: PersonalizerConfig, test_share: float = 0.2
               ) -> tuple[list[Mapping[str, Any]], list[tuple[Context, frozenset[str]]]]:  # fmt: skip
    """(training events, [(context with the training history, gold items)]) per the module docstring."""
    if not 0.0 < test_share < 1.0:
        raise ValueError(f"time_split: test_share must be in (0, 1), got {test_share}")
    types = set(cfg.item_types)
    by_user: dict[str, list[Mapping[str, Any]]] = {}
    for e in events:
        if e["item_type"] in types:
            by_user.setdefault(e["user_id"], []).append(e)
    train: list[Mapping[str, Any]] = []
    cases: list[tuple[Context, frozenset[str]]] = []
    for user in sorted(by_user):
        evs = sorted(by_user[user], key=lambda e: (e["ts"], e["event_id"]))
        cut = int(round(len(evs) * (1.0 - test_share)))
        head, tail = evs[:cut], evs[cut:]
        train += head
        history = tuple(dict.fromkeys(e["item_id"] for e in head if e["feedback"] in cfg.feedback_weights))
        gold = frozenset(e["item_id"] for e in tail if e["feedback"] in cfg.feedback_weights) - set(history)
        if history and gold:
            cases.append((Context(user, history), gold))
    return train, cases


def evaluate_split(events: Sequence[Mapping[str, Any]], cfg: PersonalizerConfig | None = None,
                   test_share: float = 0.2, k: int = 10) -> dict[str, Any]:  # fmt: skip
    """Train on each user's earlier events, rank for the later ones: metrics of the model and of popularity
    (counted on the same training events), the split's sizes and the config."""
    from dataclasses import asdict

    from eval.recommend.baselines import Popularity
    from eval.recommend.metrics import list_metrics

    cfg = cfg or PersonalizerConfig()
    train, cases = time_split(events, cfg, test_share)
    if not cases:
        raise ValueError("evaluate_split: no user has new positive items in the test part")
    model = Personalizer.fit(train, cfg)
    golds = [set(g) for _, g in cases]
    out: dict[str, Any] = {"config": asdict(cfg), "test_share": test_share, "users_evaluated": len(cases),
                           "users_trained": len(model.users), "items": len(model.items),
                           "train_events": len(train), "k": k}  # fmt: skip
    for name, rec in (("model", model), ("popularity", Popularity(model.popularity))):
        answers = [rec.recommend(c, k) for c, _ in cases]
        own = {it: it for a in answers for it in a}  # no artist information here: each item its own artist
        out[name] = list_metrics(answers, golds, len(model.items), own, (1, 5, k))
    return out
