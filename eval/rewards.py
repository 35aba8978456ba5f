"""Rewards for recommendation-list answers (MuChator's hybrid reward), as plain functions: no RL engine imports,
so TRL's and verl's adapters, the evaluation suite and `music-eval rewards` all call the same code.

An answer is the model's full output text up to the end of its turn (`turn_text`: with a tokenizer that spells
`<|im_end|>` in several tokens, an engine that stops on an EOS id generates past it, and what follows is not part
of the answer). Its **items** are its numbered or bulleted lines (a `<think>` block
is dropped first); each is parsed into title and artist (`eval.recommend.match.parse_line`) and matched to the
catalog by the evaluation suite's fuzzy matcher. Facts about one answer (`AnswerFacts`):

- `format_ok`: exactly `list_size` items, numbered 1, 2, ... in order (or all bulleted), contiguous (no other
  text between them), each with a title and an artist. An empty answer or 11 items for a ten-song request fails.
- `n_items`; `n_in_catalog`: items that match a catalog song.
- `repeated_artist`: two items share their main artist: the catalog song's first artist when the item matched,
  else the artist the line names (its first credit), compared normalised (case, accents, "the", punctuation:
  "Beyoncé" and "beyonce", "The Beatles" and "Beatles" are one artist); two lines naming one artist differently
  are one artist when both match catalog songs of that artist.
- `duplicated_title_suffix`: two items are the same title once version suffixes are stripped ("Yesterday" and
  "Yesterday - Remastered 2009", "Song (Live)"), or the same catalog song.
- `n_in_recent_history`: matched items that are in the user's recent positive history.

Rule rewards, each in {0, 1} as the seeds define them: `r_format` (format_ok), `r_factuality` (at least one item
and every item in the catalog), `r_diversity` (at least one item, no repeated artist and no duplicated title),
`r_dedup` (at least one item, none from the recent history). `rule_reward` is their weighted sum
(`RewardConfig`). The hybrid reward adds the relevance-gated personalization term:
R = R_rel x lambda_pers x R_pers + sum of lambda_rule x R_rule (`hybrid_reward`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from eval.recommend.match import CatalogMatcher, normalize, parse_line

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL)
_NUMBERED = re.compile(r"^\s*(?:#\s*)?(\d{1,3})\s*[.)、:：]\s*(\S.*)$")
_BULLET = re.compile(r"^\s*[-*•·]\s+(\S.*)$")


@dataclass(frozen=True)
class RewardConfig:
    """Weights of the hybrid reward and what a well-formed answer is."""

    __pydantic_config__ = {"extra": "forbid"}

    list_size: int = 10
    """Items a well-formed answer has."""
    lambda_pers: float = 1.0
    """Weight of the relevance-gated personalization term."""
    lambda_format: float = 0.25
    lambda_factuality: float = 0.25
    lambda_diversity: float = 0.25
    lambda_dedup: float = 0.25
    relevance_gate: bool = True
    """False: R_rel = 1 for every answer (the ablation without the relevance judge)."""

    def __post_init__(self) -> None:
        if self.list_size < 1:
            raise ValueError(f"RewardConfig.list_size must be >= 1, got {self.list_size}")
        for k, v in asdict(self).items():
            if k.startswith("lambda_") and v < 0:
                raise ValueError(f"RewardConfig.{k} must be >= 0, got {v}")


@dataclass(frozen=True)
class Item:
    line: str
    title: str
    artist: str | None
    song_id: str | None


@dataclass(frozen=True)
class AnswerFacts:
    items: tuple[Item, ...]
    format_ok: bool
    n_items: int
    n_in_catalog: int
    repeated_artist: bool
    duplicated_title_suffix: bool
    n_in_recent_history: int
    rewards: Mapping[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"items": [asdict(i) for i in self.items], "format_ok": self.format_ok, "n_items": self.n_items,
                "n_in_catalog": self.n_in_catalog, "repeated_artist": self.repeated_artist,
                "duplicated_title_suffix": self.duplicated_title_suffix,
                "n_in_recent_history": self.n_in_recent_history, **self.rewards}  # fmt: skip


END_OF_TURN = ("<|im_end|>", "<|endoftext|>")
"""Markers that end an assistant turn (Qwen3's chat turn end, and the EOD)."""


def turn_text(completion: str) -> str:
    """The assistant turn of a generated completion: the text before its first end-of-turn marker, if any."""
    cut = min((i for i in (completion.find(m) for m in END_OF_TURN) if i >= 0), default=len(completion))
    return completion[:cut]


def _clean(text: str) -> str:
    return unicodedata.normalize("NFKC", _THINK.sub("", text or "")).replace("\r\n", "\n")


def list_lines(output: str) -> tuple[list[str], bool]:
    """(item lines, whether they are well numbered and contiguous): numbered lines if any, else bulleted ones."""
    lines = [ln for ln in _clean(output).split("\n") if ln.strip()]
    numbered = [(i, _NUMBERED.match(ln)) for i, ln in enumerate(lines)]
    numbered = [(i, m) for i, m in numbered if m]
    if numbered:
        idx = [i for i, _ in numbered]
        in_order = [int(m.group(1)) for _, m in numbered] == list(range(1, len(numbered) + 1))
        contiguous = idx == list(range(idx[0], idx[0] + len(idx)))
        return [m.group(2).strip() for _, m in numbered], in_order and contiguous
    bullets = [(i, _BULLET.match(ln)) for i, ln in enumerate(lines)]
    bullets = [(i, m) for i, m in bullets if m]
    if bullets:
        idx = [i for i, _ in bullets]
        return [m.group(1).strip() for _, m in bullets], idx == list(range(idx[0], idx[0] + len(idx)))
    return [], False


def answer_facts(output: str, matcher: CatalogMatcher | None, recent_positive: Iterable[str] = (),
                 cfg: RewardConfig | None = None) -> AnswerFacts:  # fmt: skip
    """Everything the rule rewards need about one answer, and the rule rewards (see the module docstring)."""
    cfg = cfg or RewardConfig()
    raw, well_numbered = list_lines(turn_text(output))
    by_id = {s.song_id: s for s in matcher.songs} if matcher is not None else {}
    items = []
    for line in raw:
        title, artist = parse_line(line)
        items.append(Item(line, title, artist, matcher.match(line) if matcher is not None else None))
    n = len(items)
    format_ok = well_numbered and n == cfg.list_size and all(it.title and it.artist for it in items)
    main_artists = []
    for it in items:
        song = by_id.get(it.song_id) if it.song_id else None
        name = song.artists[0] if song is not None and song.artists else (it.artist or "")
        name = re.split(r"\s*(?:,|;|&|、|/|\bfeat\.?|\bft\.?|\bfeaturing\b)\s*", name, maxsplit=1, flags=re.I)[0]
        main_artists.append(normalize(name))
    known = [a for a in main_artists if a]
    repeated_artist = len(known) != len(set(known))
    titles = [normalize(it.title) for it in items]
    ids = [it.song_id for it in items if it.song_id]
    duplicated = len([t for t in titles if t]) != len({t for t in titles if t}) or len(ids) != len(set(ids))
    recent = set(recent_positive)
    n_recent = sum(1 for it in items if it.song_id and it.song_id in recent)
    n_cat = len(ids)
    rewards = {
        "r_format": float(format_ok),
        "r_factuality": float(n > 0 and n_cat == n),
        "r_diversity": float(n > 0 and not repeated_artist and not duplicated),
        "r_dedup": float(n > 0 and n_recent == 0),
    }
    rewards["rule_reward"] = (cfg.lambda_format * rewards["r_format"] + cfg.lambda_factuality * rewards["r_factuality"]
                              + cfg.lambda_diversity * rewards["r_diversity"] + cfg.lambda_dedup * rewards["r_dedup"])
    return AnswerFacts(tuple(items), format_ok, n, n_cat, repeated_artist, duplicated, n_recent, rewards)


def hybrid_reward(facts: AnswerFacts, relevance: float, personalization: float, cfg: RewardConfig | None = None) -> float:
    """R = R_rel x lambda_pers x R_pers + rule_reward. `relevance` is the judge's gate in {0, 1}; `personalization`
    the personalization model's score of the answer's items for the user, mapped to [0, 1] by the caller."""
    cfg = cfg or RewardConfig()
    if relevance not in (0, 1, 0.0, 1.0):
        raise ValueError(f"hybrid_reward: relevance is a gate in {{0, 1}}, got {relevance}")
    if not cfg.relevance_gate:
        relevance = 1.0
    return float(relevance) * cfg.lambda_pers * float(personalization) + facts.rewards["rule_reward"]


def rewards_file(in_path: str, catalog: str, out_path: str, cfg: RewardConfig | None = None) -> dict[str, float]:
    """`music-eval rewards`: each line's `output` and `user_recent_positive` -> the facts and rule rewards, written
    back with the input fields; returns the means."""
    from eval.jsonl import read_rows, write_rows

    cfg = cfg or RewardConfig()
    matcher = CatalogMatcher.from_jsonl(catalog)
    rows = []
    for _, r in read_rows(in_path, ("output",), "each line holds `output` (the full answer text) and "
                                                "`user_recent_positive` (a list of song ids)"):  # fmt: skip
        recent = r.get("user_recent_positive") or []
        if not isinstance(recent, Sequence) or isinstance(recent, str):
            raise ValueError(f"{in_path}: `user_recent_positive` must be a list of song ids, got {recent!r}")
        rows.append({**r, **answer_facts(r["output"] or "", matcher, recent, cfg).to_dict()})
    write_rows(out_path, rows)
    keys = ("format_ok", "r_format", "r_factuality", "r_diversity", "r_dedup", "rule_reward")
    return {"n": len(rows), **{k: sum(float(r[k]) for r in rows) / max(len(rows), 1) for k in keys}}
