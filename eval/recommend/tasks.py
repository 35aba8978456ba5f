"""Recommendation-list evaluation sets and the one function that scores any `Recommender` on them.

- `cpcd_task`: CPCD development conversations (request text + tracks liked so far -> tracks liked later);
- `heldout_task`: the corpus's held-out users (the first 80% of their song events -> songs kept afterwards).

`evaluate` runs a recommender over a task and reports `eval.recommend.metrics`; `run_baselines` does it for
the four baselines. Sources, protocols and figures: `eval/recommend/CARD.md`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
from tqdm import tqdm

from eval import cpcd
from eval.recommend.baselines import (
    BM25,
    ItemKNN,
    Popularity,
    Random,
    Recommender,
    RecRequest,
    Relation,
    cooccurrence_relations,
)
from eval.recommend.metrics import list_metrics, personalization
from jobs.spark.lib.relations import RelationsConfig

log = logging.getLogger("eval")

POSITIVE_FEEDBACK = ("play", "like", "add_to_playlist", "share")
"""Held-out feedback that makes a song relevant (skips and dislikes say the opposite)."""
CPCD_RELATIONS = RelationsConfig(top_k=50, min_co_count=1, min_item_baskets=1)
"""Item-kNN relations on CPCD's 400 train playlists: 5,966 tracks, 937 of them in two playlists or more, so the
corpus's cuts (two shared baskets, two baskets per item) would leave most tracks without a neighbour."""


@dataclass(frozen=True)
class RecTask:
    name: str
    requests: tuple[RecRequest, ...]
    golds: tuple[frozenset[str], ...]
    """Per request, the relevant items (never in its history)."""
    texts: Mapping[str, str | None]
    """The catalog: item id -> "title — artists" (None without a usable name); its size is coverage's denominator."""
    artist_of: Mapping[str, str]
    """Item id -> first artist (artist repetition); an item missing here counts as its own artist."""
    item_counts: Mapping[str, int]
    """Training interactions per item: what `Popularity` ranks by."""
    relations: tuple[Relation, ...]
    """Item relations from training data: what `ItemKNN` and the personalization scorer use."""

    def __post_init__(self) -> None:
        if len(self.requests) != len(self.golds):
            raise ValueError(f"task {self.name}: {len(self.requests)} requests but {len(self.golds)} golds")
        for r, g in zip(self.requests, self.golds, strict=True):
            if not g or g & set(r.history):
                raise ValueError(f"task {self.name}, request {r.id}: gold must be non-empty and outside the history")


def cpcd_task(shared: Path, split: str = "val", train_splits: tuple[str, ...] = ("train",),
              relations_cfg: RelationsConfig = CPCD_RELATIONS) -> RecTask:  # fmt: skip
    """CPCD `split` as requests (history = the seed tracks liked in the context turns, gold = tracks liked
    later); catalog = every CPCD development track; popularity and item-kNN learn from the goal playlists of
    `train_splits`."""
    if split in train_splits:
        raise ValueError(f"cpcd_task: split {split!r} is also a training split {train_splits}; the figures would leak")
    reqs = cpcd.requests(shared, (split,))
    songs = cpcd.catalog(shared)
    playlists = cpcd.liked_playlists(shared, train_splits)
    return RecTask(
        name=f"cpcd-{split}",
        requests=tuple(RecRequest(r.id, r.request, r.seeds) for r in reqs),
        golds=tuple(frozenset(r.gold) for r in reqs),
        texts={s.song_id: f"{s.title} — {', '.join(s.artists)}" if s.artists else s.title for s in songs},
        artist_of={s.song_id: s.artists[0] for s in songs if s.artists},
        item_counts=Counter(it for p in playlists for it in p),
        relations=tuple(cooccurrence_relations(playlists, relations_cfg)),
    )


def _events(folder: Path, columns: Sequence[str]) -> pa.Table:
    """Sessionized events (`jobs.stages.behavior.SESSION_SCHEMA`) of a behavior output folder, song rows only."""
    from jobs.outputs import part_files
    from jobs.stages.behavior import SESSION_SCHEMA

    files = part_files(folder)
    if not files:
        raise FileNotFoundError(f"{folder}: no part-*.parquet files; run the corpus's behavior stage first")
    ds = pads.dataset(files, format="parquet")
    missing = [c for c in SESSION_SCHEMA.names if c not in ds.schema.names]
    if missing:
        raise ValueError(f"{folder}: events lack column(s) {missing}; expected the behavior stage's "
                         f"SESSION_SCHEMA {SESSION_SCHEMA.names}")  # fmt: skip
    return ds.to_table(columns=list(columns), filter=pc.field("item_type") == "song")


def _recent_last(items: Sequence[str]) -> tuple[str, ...]:
    """Distinct items in time order, a repeated item at its last occurrence (so the last items are the latest)."""
    return tuple(reversed(dict.fromkeys(reversed(items))))


def heldout_requests(events: pa.Table, history_share: float = 0.8,
                     positive: Sequence[str] = POSITIVE_FEEDBACK) -> list[tuple[RecRequest, frozenset[str]]]:  # fmt: skip
    """(request, gold) per held-out user: song events in (ts, session, event_id) order; history = the songs of
    the first `history_share` of them (whatever the feedback: the user knows those); gold = songs with
    `positive` feedback in the rest that are not in the history. Users with an empty gold are skipped."""
    if not 0.0 < history_share < 1.0:
        raise ValueError(f"heldout: history_share must be in (0, 1), got {history_share}")
    rows = sorted(events.select(["user_id", "session", "event_id", "ts", "item_id", "feedback"]).to_pylist(),
                  key=lambda r: (r["user_id"], r["ts"], r["session"], r["event_id"]))  # fmt: skip
    by_user: dict[str, list[dict]] = {}
    for r in rows:
        by_user.setdefault(r["user_id"], []).append(r)
    out = []
    for user, evs in by_user.items():
        cut = int(len(evs) * history_share)
        history = _recent_last([e["item_id"] for e in evs[:cut]])
        known = set(history)
        gold = frozenset(e["item_id"] for e in evs[cut:] if e["feedback"] in positive and e["item_id"] not in known)
        if gold:
            out.append((RecRequest(f"heldout-{user}", "", history, user), gold))
    return out


def heldout_task(behavior_dir: Path, ingest_dir: Path, relations_dir: Path | None = None,
                 history_share: float = 0.8, positive: Sequence[str] = POSITIVE_FEEDBACK,
                 relation_kinds: Sequence[str] | None = None) -> RecTask:  # fmt: skip
    """The corpus's held-out users (`<behavior_dir>/heldout_events`, see `heldout_requests`); popularity counts
    the training users' positive song events (`<behavior_dir>/_sessions`); item-kNN uses the song-to-song rows
    of `relations_dir` (default `<out>/relations/item_relations`; `relation_kinds` None: every kind); the
    catalog is the ingested songs, named as the behavior sequences name them ("title — artists")."""
    from jobs.catalog import item_text, read_catalog_items

    behavior_dir, ingest_dir = Path(behavior_dir), Path(ingest_dir)
    relations_dir = Path(relations_dir) if relations_dir else behavior_dir.parent / "relations" / "item_relations"
    heldout = _events(behavior_dir / "heldout_events", ["user_id", "session", "event_id", "ts", "item_id", "feedback"])
    pairs = heldout_requests(heldout, history_share, positive)
    train = _events(behavior_dir / "_sessions", ["item_id", "feedback"])
    train = train.filter(pc.is_in(train["feedback"], pa.array(list(positive))))
    counts = train.group_by("item_id").aggregate([("item_id", "count")])
    songs = {k: v for k, v in read_catalog_items(ingest_dir).items() if v["item_type"] == "song"}
    return RecTask(
        name="heldout",
        requests=tuple(r for r, _ in pairs),
        golds=tuple(g for _, g in pairs),
        texts={k: item_text(v) for k, v in songs.items()},
        artist_of={k: v["artists"][0] for k, v in songs.items() if v["artists"]},
        item_counts=dict(zip(counts["item_id"].to_pylist(), counts["item_id_count"].to_pylist(), strict=True)),
        relations=read_relations(relations_dir, relation_kinds),
    )


def read_relations(folder: Path, kinds: Sequence[str] | None = None) -> tuple[Relation, ...]:
    """Song-to-song rows of an `item_relations` dataset folder as (src, dst, weight); a null weight is 1.0."""
    from jobs.outputs import part_files

    files = part_files(Path(folder))
    if not files:
        raise FileNotFoundError(f"{folder}: no part-*.parquet files; run the corpus's relations stage first")
    expr = (pc.field("src_type") == "song") & (pc.field("dst_type") == "song")
    if kinds is not None:
        expr &= pc.field("relation").isin(list(kinds))
    t = pads.dataset(files, format="parquet").to_table(columns=["src_id", "dst_id", "weight"], filter=expr)
    src, dst, weight = (t[c].to_pylist() for c in ("src_id", "dst_id", "weight"))
    return tuple((s, d, 1.0 if w is None else w) for s, d, w in zip(src, dst, weight, strict=True))


def evaluate(recommender: Recommender, task: RecTask, k: int = 10, scorer: ItemKNN | None = None) -> dict[str, float]:
    """`metrics.list_metrics` at 1, 5 and k (hit rate, MRR, NDCG, success; factuality, coverage, artist
    repetition) plus personalization (`ItemKNN.affinity` over the task's relations, or `scorer`) and `n`."""
    answers = [list(recommender.recommend(r, k))[:k]
               for r in tqdm(task.requests, desc=task.name, disable=None, leave=False)]  # fmt: skip
    artist_of = {it: task.artist_of.get(it, it) for a in answers for it in a if it is not None}
    ks = tuple(sorted({x for x in (1, 5, 10) if x <= k} | {k}))
    out = list_metrics(answers, list(task.golds), len(task.texts), artist_of, ks)
    scorer = scorer or ItemKNN(task.relations)
    history = {r.id: r.history for r in task.requests}
    def score(rid: str, items: list[str]) -> list[float]:
        return scorer.affinity(history[rid], items)

    out["personalization"] = personalization(answers, [r.id for r in task.requests], score, k=k)
    out["n"] = len(task.requests)
    return out


def baselines(task: RecTask, seed: int = 0) -> dict[str, Recommender]:
    """The four baselines fit on a task's training data; item-kNN is filled up from popularity."""
    pop = Popularity(task.item_counts)
    return {"popularity": pop, "item_knn": ItemKNN(task.relations, fallback=pop), "bm25": BM25(task.texts),
            "random": Random(task.texts, seed)}  # fmt: skip


def run_baselines(task: RecTask, seed: int = 0, k: int = 10) -> dict[str, dict[str, float]]:
    """Every baseline's `evaluate` figures on one task, side by side."""
    scorer = ItemKNN(task.relations)
    out = {}
    for name, rec in baselines(task, seed).items():
        out[name] = evaluate(rec, task, k, scorer)
        log.info("%s %s: hit_rate@%d %.4f success@%d %.4f", task.name, name, k, out[name][f"hit_rate@{k}"], k,
                 out[name][f"success@{k}"])  # fmt: skip
    return out
