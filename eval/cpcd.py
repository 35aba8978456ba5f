"""CPCD (Conversational Playlist Curation Dataset, Google Research, CC BY 4.0) read as recommendation requests.

Each of the 450 development conversations (`dev.train` 400, `dev.val` 50) is a user asking a wizard for a
playlist over several turns; the wizard searches, the user likes or dislikes tracks, and the liked tracks form
the conversation's `goal_playlist`. We read one **request** per conversation:

- **context turns**: the turns up to and including the first turn with a liked track (the opening request and
  the user's first answer to the wizard, e.g. "a playlist for cleaning" + "Bruno Mars, Justin Timberlake");
- **request**: the user's queries of those turns, joined with a space;
- **seeds**: the tracks liked in the context turns (what the user has already accepted: the "user context" a
  recommender may use);
- **gold**: the rest of the goal playlist (tracks liked later in the conversation), in goal order.

A conversation whose gold is empty (nothing liked after the context turns, or nothing liked at all) gives no
request. Tracks are YouTube video ids with a title, artists and release; the union over the conversations read
is the **catalog** (`CatalogSong`, the same type `music-eval match` uses). Same files, same order: same requests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from eval.recommend.match import CatalogSong

FILES = {"train": "cpcd_v1.dialogs.dev.train.jsonl", "val": "cpcd_v1.dialogs.dev.val.jsonl"}


@dataclass(frozen=True)
class CpcdRequest:
    id: str
    """`cpcd-<conversation id>`."""
    split: str
    """`train` or `val` (CPCD's development split the conversation came from)."""
    request: str
    seeds: tuple[str, ...]
    gold: tuple[str, ...]
    source: str
    """File name and 0-based line of the conversation."""
    source_row: int


def _text(s: object) -> str:
    return " ".join(str(s or "").split())


def read_conversations(shared: Path, split: str) -> list[tuple[int, dict]]:
    """(0-based line, conversation) of one CPCD development split; a clear error names a bad line."""
    if split not in FILES:
        raise ValueError(f"CPCD split {split!r}: expected one of {sorted(FILES)}")
    path = Path(shared) / "cpcd" / FILES[split]
    out = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if not line.strip():
                continue
            try:
                out.append((i, json.loads(line)))
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{i + 1}: not JSON ({e})") from e
    return out


def requests(shared: Path, splits: tuple[str, ...] = ("train", "val")) -> list[CpcdRequest]:
    """One request per conversation with a non-empty gold, in file order (splits in the order given)."""
    out = []
    for split in splits:
        for row, conv in read_conversations(shared, split):
            turns = conv.get("turns") or []
            first = next((i for i, t in enumerate(turns) if t.get("liked_results")), None)
            if first is None:
                continue
            ctx = turns[: first + 1]
            request = " ".join(q for q in (_text(t.get("user_query")) for t in ctx) if q)
            seeds = tuple(dict.fromkeys(x for t in ctx for x in t.get("liked_results") or []))
            gold = tuple(x for x in dict.fromkeys(conv.get("goal_playlist") or []) if x not in set(seeds))
            if not request or not gold:
                continue
            out.append(CpcdRequest(f"cpcd-{conv['id']}", split, request, seeds, gold, FILES[split], row))
    return out


def catalog(shared: Path, splits: tuple[str, ...] = ("train", "val")) -> list[CatalogSong]:
    """Every track of the conversations read, once (the first description seen), sorted by track id."""
    songs: dict[str, CatalogSong] = {}
    for split in splits:
        for _, conv in read_conversations(shared, split):
            for tid, t in (conv.get("tracks") or {}).items():
                title = _text(t.get("track_titles"))
                artists = tuple(a for a in (_text(x) for x in t.get("track_artists") or []) if a)
                if tid not in songs and title:
                    songs[tid] = CatalogSong(tid, title, artists)
    return [songs[k] for k in sorted(songs)]


def liked_playlists(shared: Path, splits: tuple[str, ...] = ("train",)) -> list[tuple[str, ...]]:
    """The goal playlists of the conversations read: the co-occurrence data item-kNN and popularity learn from."""
    return [tuple(dict.fromkeys(conv.get("goal_playlist") or [])) for split in splits
            for _, conv in read_conversations(shared, split)]
