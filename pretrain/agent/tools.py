"""The agent's tools over a corpus run's outputs, as plain functions (no engine imports), and the toolbox that
checks and runs a model's calls.

- `search_catalog(query, k)` (`CatalogSearch`): BM25 (`eval.recommend.baselines.BM25`, bm25s) over the catalog
  songs' "Title — Artists" text (`jobs.catalog.item_text`).
- `recommend(user_id, query, k)` (`Recommend`): the uq2i synthesis's path (`corpus/uq2i/synthesize.py`): the
  request's semantic cluster -> every song indexed under it that is in the catalog and new to the user (never
  positive in their history) -> the personalization model's scores -> the top k, at most `max_per_artist` per main
  artist, ties by song id. The pool's clusters are k-means labels of its texts (no centroids are kept), so a
  request is placed by its text: the pool query with the same text (case and spacing folded), else the pool
  query BM25 ranks first.

Both answer with numbered lines "n. Title — Artists [song id]" (`ToolResult.text`) and the ids. The model sees the
tools as JSON function schemas (`Toolbox.schemas`, what a chat template's `tools=` takes). `recommend`'s user is
the session's user: the toolbox binds it, so the schema the model sees has no `user_id` (a model cannot name
people by id, and a session only ever recommends for its own listener).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from corpus.uq2i.synthesize import SynthesisConfig


@dataclass(frozen=True)
class ToolResult:
    """What a tool call gives back: the songs (ids, best first) and the text the model reads."""

    ids: tuple[str, ...]
    text: str
    error: str | None = None
    """Why the call was refused (malformed, unknown tool, bad arguments); None when the tool ran."""


def song_lines(ids: Sequence[str], text_of: Mapping[str, str]) -> str:
    """"n. Title — Artists [song id]" lines, or a sentence saying nothing was found."""
    if not ids:
        return "No songs found."
    return "\n".join(f"{n}. {text_of[i]} [{i}]" for n, i in enumerate(ids, 1))


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", (text or "").casefold()).strip()


class CatalogSearch:
    """`search_catalog(query, k)`: BM25 over song texts; only songs sharing a query term (score > 0), best first,
    ties by song id."""

    def __init__(self, text_of: Mapping[str, str]):
        from eval.recommend.baselines import BM25

        self.text_of = text_of
        self.bm25 = BM25(text_of, history_items=0)

    def __call__(self, query: str, k: int = 10) -> ToolResult:
        from eval.recommend.baselines import RecRequest

        ids = tuple(self.bm25.recommend(RecRequest("search", query), k))
        return ToolResult(ids, song_lines(ids, self.text_of))


class Recommend:
    """`recommend(user_id, query, k)`: the synthesis's candidate path for a free-text request (module docstring).
    `scorer` has `score(context, items) -> np.ndarray` (NaN for unknown items): `corpus.personalize.Personalizer`."""

    def __init__(self, songs_in: Mapping[int, Sequence[str]], pool_texts: Mapping[str, int], scorer: Any,
                 text_of: Mapping[str, str], artist_of: Mapping[str, str], positives: Mapping[str, Sequence[str]],
                 max_per_artist: int = SynthesisConfig.max_per_artist, judge: Any = None):  # fmt: skip
        from eval.recommend.baselines import BM25

        if max_per_artist < 1:
            raise ValueError(f"Recommend: max_per_artist must be >= 1, got {max_per_artist}")
        self.songs_in, self.scorer = songs_in, scorer
        self.text_of, self.artist_of, self.positives = text_of, artist_of, positives
        self.max_per_artist, self.judge = max_per_artist, judge
        self.cluster_of_text: dict[str, int] = {}
        for text, cluster in pool_texts.items():
            self.cluster_of_text.setdefault(_fold(text), int(cluster))
        self._keys = {f"{n:09d}": t for n, t in enumerate(sorted(self.cluster_of_text))}
        self._texts = BM25(self._keys, history_items=0)

    def cluster_of(self, query: str) -> int | None:
        """The request's cluster: the pool text it equals, else the pool text BM25 ranks first; None if no pool
        text shares a term with it."""
        from eval.recommend.baselines import RecRequest

        q = _fold(query)
        if q in self.cluster_of_text:
            return self.cluster_of_text[q]
        best = self._texts.recommend(RecRequest("cluster", q), 1)
        return self.cluster_of_text[self._keys[best[0]]] if best else None

    def __call__(self, user_id: str, query: str, k: int = 10) -> ToolResult:
        from corpus.personalize.model import Context

        cluster = self.cluster_of(query)
        history = tuple(self.positives.get(user_id, ()))
        known = set(history)
        cands = [s for s in self.songs_in.get(cluster, ()) if s not in known and s in self.artist_of] if cluster is not None else []  # fmt: skip
        if cands and self.judge is not None:  # the synthesis's relevance filter (`SynthesisConfig.relevance_filter`)
            rel = self.judge.score(query, cands) >= self.judge.threshold
            cands = [c for c, r in zip(cands, rel, strict=True) if r]
        scores = self.scorer.score(Context(user_id, history), cands) if cands else np.array([])
        ranked = sorted((i for i in range(len(cands)) if not np.isnan(scores[i])), key=lambda i: (-scores[i], cands[i]))
        picked: list[str] = []
        per_artist: dict[str, int] = {}
        for i in ranked:
            if len(picked) == k:
                break
            a = self.artist_of[cands[i]]
            if per_artist.get(a, 0) < self.max_per_artist:
                per_artist[a] = per_artist.get(a, 0) + 1
                picked.append(cands[i])
        return ToolResult(tuple(picked), song_lines(picked, self.text_of))


def _schema(name: str, description: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "description": description,
                                             "parameters": {"type": "object", "properties": properties,
                                                            "required": required}}}  # fmt: skip


_QUERY = {"type": "string", "description": "The listener's request, in their words."}


class Toolbox:
    """The tools by name: their schemas for the chat template, and `execute(name, arguments, user_id)`, which
    refuses a malformed call (unknown tool, a missing or ill-typed argument, an argument the schema does not
    have, k outside 1..`max_k`) with an error result instead of raising."""

    def __init__(self, search: CatalogSearch, recommend: Recommend, max_k: int = 20):
        if max_k < 1:
            raise ValueError(f"Toolbox: max_k must be >= 1, got {max_k}")
        self.search, self.recommend, self.max_k = search, recommend, max_k
        self.default_k = min(10, max_k)
        k = {"type": "integer", "description": f"How many songs (1 to {max_k}; default {self.default_k})."}
        self.schemas = [
            _schema("recommend", "Personalised song recommendations for the current listener: songs that fit the "
                    "request, ranked by the listener's taste, none they already know.", {"query": _QUERY, "k": k},
                    ["query"]),
            _schema("search_catalog", "Search the music catalog by words of a song's title or artists.",
                    {"query": _QUERY, "k": k}, ["query"]),
        ]  # fmt: skip

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s["function"]["name"] for s in self.schemas)

    def execute(self, name: str | None, arguments: Mapping[str, Any], user_id: str) -> ToolResult:
        if name not in self.names:
            return _refuse(f"unknown tool {name!r}; tools: {', '.join(self.names)}")
        extra = sorted(set(arguments) - {"query", "k"})
        if extra:
            return _refuse(f"{name}: unexpected argument(s) {', '.join(extra)}")
        query, k = arguments.get("query"), arguments.get("k", self.default_k)
        if not isinstance(query, str) or not query.strip():
            return _refuse(f"{name}: `query` must be a non-empty string")
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= self.max_k:
            return _refuse(f"{name}: `k` must be an integer from 1 to {self.max_k}, got {k!r}")
        return self.recommend(user_id, query, k) if name == "recommend" else self.search(query, k)

    @classmethod
    def from_out(cls, out: str | Path, events: Sequence[Mapping[str, Any]], max_per_artist: int = 2) -> Toolbox:
        """The tools of a corpus run's outputs (`out`: ingest/ for the catalog, uq2i/query_pool and
        uq2i/_personalizer); `events` (behavior `_sessions` rows) give each user's positive history."""
        import pyarrow.dataset as pads

        from corpus.personalize.model import Personalizer
        from corpus.uq2i.synthesize import POSITIVE, ClusterIndex
        from jobs.catalog import item_text, read_catalog_items
        from jobs.outputs import part_files

        out = Path(out)
        songs = {k: v for k, v in read_catalog_items(out / "ingest").items() if v["item_type"] == "song"}
        text_of = {k: t for k, v in songs.items() if (t := item_text(v))}
        artist_of = {k: (songs[k]["artists"] or [k])[0] for k in text_of}  # as the uq2i stage keys artists
        pool = out / "uq2i" / "query_pool"
        rows = pads.dataset(part_files(pool), format="parquet").to_table(columns=["text", "cluster"]).to_pylist()
        positives: dict[str, list[str]] = {}
        for e in sorted(events, key=lambda e: (e["user_id"], e["ts"], e["event_id"])):
            if e["item_type"] == "song" and e["feedback"] in POSITIVE:
                positives.setdefault(e["user_id"], []).append(e["item_id"])
        positives = {u: list(dict.fromkeys(v)) for u, v in positives.items()}
        judge = None
        if SynthesisConfig.relevance_filter and (out / "uq2i" / "_judge" / "model.json").is_file():
            from corpus.uq2i.judge import RelevanceJudge

            judge = RelevanceJudge.load(out / "uq2i" / "_judge")
        rec = Recommend(ClusterIndex.read(pool).songs_in, {r["text"]: r["cluster"] for r in rows},
                        Personalizer.load(out / "uq2i" / "_personalizer"), text_of, artist_of, positives,
                        max_per_artist, judge)  # fmt: skip
        return cls(CatalogSearch(text_of), rec)


def _refuse(why: str) -> ToolResult:
    return ToolResult((), f"error: {why}", error=why)
