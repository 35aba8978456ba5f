"""User-query-to-item synthesis (MuChator's context-aware instruction data): per user, favorites -> a query of one
favorite -> its semantic cluster -> every song indexed under that cluster -> personalization scores -> the top-k
list, with the user's context (profile and recent behaviour, rendered as stage-3 sequences render them) in the
prompt. One plain op; the `uq2i` corpus stage (`jobs/stages/uq2i.py`) runs it over user buckets on any engine.

Rules, in order (a user failing one is dropped with that reason):
1. `evaluation_user`: the user has events in the U2I evaluation split: never in SFT or RL data.
2. `too_few_favorites`: favorites are songs with favourite feedback (like, playlist add, share) or played to the
   end at least `min_plays` times; fewer than `min_favorites` of them.
3. `no_queries`: none of the favorites has a query in the pool.
4. `too_few_candidates`: the chosen query's cluster holds fewer than `list_size` songs that are in the catalog,
   known to the personalization model and new to the user (never positive in the history), after at most
   `max_per_artist` songs per artist. A user tries favorites in a seeded order until one gives a full list.
The list is the top `list_size` candidates by personalization score (ties by song id): no repeats, all in the
catalog. Users are split into `sft` and `rl` by a hash of the user id (`rl_share`), disjoint by construction.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

POSITIVE = ("play", "like", "add_to_playlist", "share")


@dataclass(frozen=True)
class SynthesisConfig:
    """How (user, query, list) samples are synthesised."""

    __pydantic_config__ = {"extra": "forbid"}  # unknown YAML keys are refused (read by pydantic only)

    list_size: int = 10
    """Songs per answer."""
    min_favorites: int = 3
    """Users with fewer favorites are dropped (`too_few_favorites`)."""
    favorite_feedback: tuple[str, ...] = ("like", "add_to_playlist", "share")
    """Feedback that makes a song a favorite."""
    min_plays: int = 3
    """A song played (not skipped) at least this many times is a favorite too."""
    max_per_artist: int = 1
    """At most this many songs of one (main) artist in a list. 1: the RL diversity reward (`eval.rewards`) pays
    only lists without a repeated artist, so the SFT lists must not teach repeats."""
    recent_events: int = 20
    """Most recent events rendered in the user context."""
    relevance_filter: bool = True
    """Drop candidates the relevance judge (`corpus.uq2i.judge`, the RL reward's gate) finds irrelevant to the
    request before the personalization ranking: a cluster also holds songs its queries' phrasing brought in, and
    SFT lists the RL reward would reject teach the wrong thing."""
    rl_share: float = 0.2
    """Share of users (by hash) whose samples go to the RL split; the rest to SFT."""
    seed: int = 0
    """Seeds the split hash and each user's choice of favorite and query."""

    def __post_init__(self) -> None:
        if self.list_size < 1 or self.min_favorites < 1 or self.min_plays < 1 or self.max_per_artist < 1:
            raise ValueError("SynthesisConfig: list_size, min_favorites, min_plays and max_per_artist must be >= 1")
        if not 0.0 <= self.rl_share <= 1.0:
            raise ValueError(f"SynthesisConfig.rl_share must be in [0, 1], got {self.rl_share}")
        if self.recent_events < 0:
            raise ValueError(f"SynthesisConfig.recent_events must be >= 0, got {self.recent_events}")
        object.__setattr__(self, "favorite_feedback", tuple(self.favorite_feedback))


def _h(*parts: Any) -> int:
    return int.from_bytes(hashlib.blake2b("\x00".join(map(str, parts)).encode(), digest_size=8).digest(), "big")


def user_split(user_id: str, cfg: SynthesisConfig) -> str:
    """`rl` or `sft`, by a hash of the user id (stable across runs and engines)."""
    return "rl" if _h("uq2i-split", cfg.seed, user_id) / 2**64 < cfg.rl_share else "sft"


def favorites(events: Sequence[Mapping[str, Any]], cfg: SynthesisConfig) -> list[str]:
    """Favorite songs of one user's events (see the module docstring), in order of first favourite signal."""
    plays: dict[str, int] = {}
    out: dict[str, None] = {}
    for e in events:
        if e["item_type"] != "song":
            continue
        if e["feedback"] in cfg.favorite_feedback:
            out.setdefault(e["item_id"])
        elif e["feedback"] == "play":
            plays[e["item_id"]] = plays.get(e["item_id"], 0) + 1
            if plays[e["item_id"]] >= cfg.min_plays:
                out.setdefault(e["item_id"])
    return list(out)


@dataclass
class ClusterIndex:
    """The query pool as the synthesis reads it: each song's queries and each cluster's songs."""

    queries_of: dict[str, list[dict]] = field(default_factory=dict)
    """song id -> its queries (`query_pool` rows: query_id, text, lang, cluster), in pool order."""
    songs_in: dict[int, list[str]] = field(default_factory=dict)
    """cluster -> sorted song ids indexed under it: the songs of its generated queries and the songs its real
    requests list (`song_ids`, a playlist title's tracks)."""

    @classmethod
    def from_rows(cls, rows: Sequence[Mapping[str, Any]]) -> ClusterIndex:
        idx = cls()
        members: dict[int, set[str]] = {}
        for r in rows:
            if r.get("song_id"):
                idx.queries_of.setdefault(r["song_id"], []).append(
                    {k: r[k] for k in ("query_id", "text", "lang", "cluster")})
                members.setdefault(int(r["cluster"]), set()).add(r["song_id"])
            if r.get("song_ids"):
                members.setdefault(int(r["cluster"]), set()).update(r["song_ids"])
        idx.songs_in = {c: sorted(s) for c, s in sorted(members.items())}
        return idx

    @classmethod
    def read(cls, pool_dir: Path) -> ClusterIndex:
        """The index of a written `query_pool` folder (a 1.0.0 pool has no `song_ids`: it is read without)."""
        import pyarrow.dataset as pads

        from jobs.outputs import part_files

        files = part_files(pool_dir)
        if not files:
            raise FileNotFoundError(f"{pool_dir}: no query_pool part files; build the pool first (python -m corpus.queries)")
        ds = pads.dataset(files, format="parquet")
        cols = [c for c in ("query_id", "text", "lang", "song_id", "song_ids", "cluster") if c in ds.schema.names]
        return cls.from_rows(ds.to_table(columns=cols).to_pylist())


@dataclass(frozen=True)
class Sample:
    user_id: str
    split: str
    query: Mapping[str, Any]
    seed_song: str
    items: tuple[str, ...]
    scores: tuple[float, ...]
    candidates: int


def choose_list(user_id: str, events: Sequence[Mapping[str, Any]], index: ClusterIndex, scorer: Any,
                artist_of: Mapping[str, str], cfg: SynthesisConfig, judge: Any = None
                ) -> tuple[Sample | None, str | None]:  # fmt: skip
    """(sample, None) or (None, drop reason) for one user whose events (sorted by time) are given. `scorer` has
    `score(context, items) -> np.ndarray` (NaN for unknown items): `corpus.personalize.Personalizer`. `judge`
    (`corpus.uq2i.judge.RelevanceJudge`, used when `cfg.relevance_filter`): candidates it scores below its
    threshold for the request are dropped first."""
    from corpus.personalize.model import Context

    favs = favorites(events, cfg)
    if len(favs) < cfg.min_favorites:
        return None, "too_few_favorites"
    with_queries = [f for f in favs if index.queries_of.get(f)]
    if not with_queries:
        return None, "no_queries"
    rng = random.Random(_h("uq2i-user", cfg.seed, user_id))
    order = sorted(with_queries)
    rng.shuffle(order)
    known = {e["item_id"] for e in events if e["item_type"] == "song" and e["feedback"] in POSITIVE}
    history = tuple(dict.fromkeys(e["item_id"] for e in events if e["item_type"] == "song" and e["feedback"] in POSITIVE))
    ctx = Context(user_id, history)
    for fav in order:
        q = index.queries_of[fav][rng.randrange(len(index.queries_of[fav]))]
        cands = [s for s in index.songs_in.get(int(q["cluster"]), ()) if s not in known and s in artist_of]
        if len(cands) < cfg.list_size:
            continue
        if judge is not None and cfg.relevance_filter:
            rel = judge.score(q["text"], cands) >= judge.threshold
            cands = [s for s, r in zip(cands, rel, strict=True) if r]
            if len(cands) < cfg.list_size:
                continue
        scores = scorer.score(ctx, cands)
        ok = ~np.isnan(scores)
        ranked = sorted((i for i in range(len(cands)) if ok[i]), key=lambda i: (-scores[i], cands[i]))
        picked: list[int] = []
        per_artist: dict[str, int] = {}
        for i in ranked:
            a = artist_of[cands[i]]
            if per_artist.get(a, 0) < cfg.max_per_artist:
                per_artist[a] = per_artist.get(a, 0) + 1
                picked.append(i)
                if len(picked) == cfg.list_size:
                    break
        if len(picked) == cfg.list_size:
            return Sample(user_id, user_split(user_id, cfg), q, fav, tuple(cands[i] for i in picked),
                          tuple(float(scores[i]) for i in picked), len(cands)), None  # fmt: skip
    return None, "too_few_candidates"


def render_answer(items: Sequence[str], text_of: Mapping[str, str]) -> str:
    """The assistant's answer: a numbered list of "Title — Artists" lines (what `eval.recommend` parses back)."""
    return "\n".join(f"{n}. {text_of[it]}" for n, it in enumerate(items, 1))


def render_prompt(context: str, query: str, k: int, lang: str) -> str:
    """The user turn: their context, then the request."""
    ask = (f"Recommend {k} songs for this request, one per line as 'Title — Artist'." if lang != "zh"
           else f"请根据这个请求推荐{k}首歌，每行一首，格式为“歌名 — 歌手”。")
    return f"{context.rstrip()}\n\nRequest: {query}\n{ask}"
