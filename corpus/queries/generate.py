"""Situational queries generated per song from its metadata, every query keeping the facts it came from.

A song's facts come from its `songs` row: first genre, decade, a mood quadrant from valence and energy (Russell's
circumplex, the four quadrants MoodyLyrics labels: happy = high valence and energy, angry = low valence and high
energy, sad = low valence and energy, relaxed = high valence and low energy), activities its audio features fit
(party, workout, focus, sleep, road trip: thresholds below, on Spotify's [0, 1] features and tempo), acoustic or
instrumental character, and its main artist; then facts other datasets give the song (`_tags`: its playlists'
most common tag; `_facts`: MuChin's annotation tags through `zh_tags`: style, scene, emotion, instrument, and the
mood or activity they restate), each only where the row itself has no such fact. Each query names one to three
of those facts through an English or a Chinese template (the style, scene, emotion and instrument tags are
Chinese words: their templates are Chinese only); which facts and which phrasing are picked by a hash of the song
id, so the pool is the same on every run and spread over phrasings. A template never names a fact the song lacks.

`Query.facts` holds exactly the facts the text expresses ({"mood": "sad", "genre": "rock"}); the clustering's
coherence measure and the synthesis's provenance read them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

MOODS = ("happy", "angry", "sad", "relaxed")
ACTIVITIES = ("party", "workout", "focus", "sleep", "road_trip")

# (facts the template needs, English templates, Chinese templates); a fact's value fills {its kind}, and the
# words `_words` derives from it ({mood_adj}, {activity_zh}, ...). The Chinese tag kinds (emotion, scene, style,
# instrument) have no English forms: their values are Chinese words.
TEMPLATES: tuple[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    (("mood",), ("{mood_adj} songs for {mood_moment}", "music that feels {mood_adj}", "play me something {mood_adj}"),
     ("来点{mood_zh}的歌", "适合{mood_moment_zh}听的{mood_zh}歌曲")),
    (("activity",), ("songs for {activity_en}", "a playlist for {activity_en}", "what should I listen to {activity_when}"),
     ("适合{activity_zh}听的歌", "{activity_zh}的时候听什么歌")),
    (("genre",), ("some good {genre} songs", "recommend {genre} tracks", "I'm in the mood for {genre}"),
     ("推荐一些{genre}歌曲", "想听{genre}")),
    (("genre", "mood"), ("{mood_adj} {genre} songs", "{genre} music for {mood_moment}"),
     ("{mood_zh}的{genre}歌曲",)),
    (("genre", "activity"), ("{genre} songs for {activity_en}", "{genre} to listen to {activity_when}"),
     ("适合{activity_zh}的{genre}",)),
    (("decade", "genre"), ("{genre} hits from the {decade}", "{decade} {genre} songs"),
     ("{decade_zh}的{genre}老歌",)),
    (("decade", "mood"), ("{mood_adj} songs from the {decade}",), ("{decade_zh}{mood_zh}的歌",)),
    (("artist",), ("songs like {artist}", "more music in the style of {artist}", "artists similar to {artist}"),
     ("和{artist}风格相似的歌", "类似{artist}的音乐")),
    (("character", "mood"), ("{character_en} {mood_adj} music",), ("{mood_zh}的{character_zh}音乐",)),
    (("character", "activity"), ("{character_en} songs for {activity_en}",), ("适合{activity_zh}的{character_zh}歌曲",)),
    (("tag",), ("some {tag} songs", "music tagged {tag}"), ("来点{tag}的歌", "推荐一些{tag}歌曲", "{tag}歌单推荐")),
    (("tag", "artist"), ("{tag} songs like {artist}",), ("类似{artist}的{tag}歌曲",)),
    (("emotion",), (), ("来点{emotion}的歌", "推荐几首{emotion}的歌", "{emotion}的歌单")),
    (("scene",), (), ("适合{scene}听的歌", "{scene}的时候听什么歌", "{scene}时的背景音乐")),
    (("style",), (), ("推荐一些{style}歌曲", "想听{style}", "好听的{style}有哪些")),
    (("instrument",), (), ("有{instrument}的歌", "{instrument}伴奏的歌曲", "想听{instrument}为主的歌")),
    (("emotion", "style"), (), ("{emotion}的{style}歌曲", "有没有{emotion}的{style}")),
    (("emotion", "scene"), (), ("适合{scene}听的{emotion}歌曲",)),
    (("emotion", "instrument"), (), ("{instrument}伴奏的{emotion}歌曲",)),
)

MOOD_WORDS = {
    "happy": ("happy", "a sunny morning", "开心", "心情好的时候"),
    "angry": ("intense", "letting off steam", "燃", "想发泄的时候"),  # the quadrant's name, not a word users say
    "sad": ("sad", "a rainy night", "伤感", "下雨天"),
    "relaxed": ("chill", "a slow Sunday", "放松", "周末午后"),
}
ACTIVITY_WORDS = {
    "party": ("a party", "at a party", "派对"),
    "workout": ("the gym", "while working out", "健身"),
    "focus": ("studying", "while I study", "学习"),
    "sleep": ("falling asleep", "before bed", "睡前"),
    "road_trip": ("a road trip", "on a long drive", "自驾"),
}
CHARACTER_WORDS = {"acoustic": ("acoustic", "原声"), "instrumental": ("instrumental", "纯音乐")}


@dataclass(frozen=True)
class Query:
    query_id: str
    text: str
    lang: str
    kind: str
    """`generated` (from a song's facts) or `real` (a user's request from a dataset)."""
    source: str
    song_id: str | None = None
    """The song the query was generated from (None for real requests)."""
    facts: Mapping[str, str] = field(default_factory=dict)
    """The facts the text expresses (`genre`, `decade`, `mood`, `activity`, `character`, `artist`, `tag`, and the
    Chinese tags' `style`, `scene`, `emotion`, `instrument`, `language`, `theme`; real requests' annotations)."""
    song_ids: tuple[str, ...] = ()
    """Songs a real request is answered by in its dataset (a playlist title's tracks); candidate retrieval indexes
    them under the request's cluster."""


def _num(row: Mapping[str, Any], key: str) -> float | None:
    v = row.get(key)
    return None if v is None or v != v else float(v)  # NaN is missing


def song_facts(row: Mapping[str, Any]) -> dict[str, str]:
    """The facts of one `songs` row that queries may name (see the module docstring for the rules)."""
    facts: dict[str, str] = {}
    genres = row.get("genres") or []
    if genres and genres[0] and genres[0].strip():
        facts["genre"] = genres[0].strip().lower()
    year = row.get("year")
    if year and 1900 <= int(year) <= 2100:
        facts["decade"] = f"{int(year) // 10 * 10}s"
    v, e = _num(row, "valence"), _num(row, "energy")
    if v is not None and e is not None:
        facts["mood"] = ("happy" if v >= 0.5 else "angry") if e >= 0.5 else ("relaxed" if v >= 0.5 else "sad")
    d, t, i, s, a = (_num(row, k) for k in ("danceability", "tempo_bpm", "instrumentalness", "speechiness",
                                             "acousticness"))  # fmt: skip
    acts = []
    if d is not None and e is not None and d >= 0.7 and e >= 0.6:
        acts.append("party")
    if e is not None and t is not None and e >= 0.75 and t >= 120:
        acts.append("workout")
    if i is not None and s is not None and i >= 0.5 and s < 0.1:
        acts.append("focus")
    if e is not None and a is not None and e <= 0.35 and a >= 0.5:
        acts.append("sleep")
    if v is not None and e is not None and v >= 0.6 and 0.5 <= e <= 0.85:
        acts.append("road_trip")
    if acts:
        facts["activity"] = acts[0]
    if a is not None and a >= 0.7:
        facts["character"] = "acoustic"
    elif i is not None and i >= 0.5:
        facts["character"] = "instrumental"
    artists = row.get("artists") or []
    if artists and artists[0] and artists[0].strip():
        facts["artist"] = artists[0].strip()
    tags = row.get("_tags") or []
    if tags and tags[0].strip():
        facts["tag"] = tags[0].strip()
    for k, v in (row.get("_facts") or {}).items():
        facts.setdefault(k, v)
    if "mood" not in facts and row.get("metadata"):
        import json

        mood = (json.loads(row["metadata"]) or {}).get("mood")
        if isinstance(mood, str) and mood.lower() in MOODS:
            facts["mood"] = mood.lower()
    return facts


def _pick(key: str, n: int) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big") % n


def _words(facts: Mapping[str, str]) -> dict[str, str]:
    w: dict[str, str] = dict(facts)
    if "mood" in facts:
        w["mood_adj"], w["mood_moment"], w["mood_zh"], w["mood_moment_zh"] = MOOD_WORDS[facts["mood"]]
    if "activity" in facts:
        w["activity_en"], w["activity_when"], w["activity_zh"] = ACTIVITY_WORDS[facts["activity"]]
    if "character" in facts:
        w["character_en"], w["character_zh"] = CHARACTER_WORDS[facts["character"]]
    if "decade" in facts:
        w["decade_zh"] = f"{facts['decade'][:-1]}年代"
    return w


def generate_queries(row: Mapping[str, Any], per_song: int = 3, langs: tuple[str, ...] = ("en", "zh"),
                     source: str = "templates") -> list[Query]:  # fmt: skip
    """Up to `per_song` queries for one `songs` row (fewer when it has few facts), each from a different template,
    languages alternating in `langs` order from a hashed start (a template with no form in that language uses
    the next language in `langs` that has one)."""
    facts = song_facts(row)
    usable = [t for t in TEMPLATES
              if all(k in facts for k in t[0]) and any(t[1] if g == "en" else t[2] for g in langs)]
    if not usable:
        return []
    sid = row["song_id"]
    start = _pick(sid, len(usable))
    out = []
    for j in range(min(per_song, len(usable))):
        needs, en, zh = usable[(start + j) % len(usable)]
        first = _pick(sid + "lang", len(langs)) + j
        rotation = [langs[(first + i) % len(langs)] for i in range(len(langs))]
        lang = next(g for g in rotation if (en if g == "en" else zh))
        forms = en if lang == "en" else zh
        text = forms[_pick(f"{sid}:{j}", len(forms))].format(**_words(facts))
        qid = hashlib.blake2b(f"{sid}\x00{lang}\x00{text}".encode(), digest_size=8).hexdigest()
        out.append(Query(qid, text, lang, "generated", source, sid, {k: facts[k] for k in needs}))
    return out


ZH_SOURCES = ("netease_playlists_zh", "muchin_1k_zh", "netease_hot_comments_jaychou_zh")
"""Sources of Chinese-platform songs: their queries are Chinese only (the others get English and Chinese ones)."""


def generate_pool(songs: Iterable[Mapping[str, Any]], per_song: int = 3, zh_sources: tuple[str, ...] = ZH_SOURCES
                  ) -> Iterator[Query]:  # fmt: skip
    """`generate_queries` over every song, in input order."""
    for row in songs:
        yield from generate_queries(row, per_song, ("zh",) if row.get("source") in zh_sources else ("en", "zh"))


class ModelGenerator:
    """The optional generator hook: a local Hugging Face causal LM directory (a model our runs trained, or an
    imported one; nothing is downloaded) writes one query per song from the song's facts, greedily. Each query
    records the facts the prompt gave it (kind `generated`, source `model:<directory name>`)."""

    PROMPT = ("Write one short request a listener could type to a music assistant to find songs like this one.\n"
              "Song facts: {facts}\nRequest:")

    def __init__(self, model_dir: str, max_new_tokens: int = 24, batch_size: int = 16):
        from eval.generation import load_for_generation

        self.model, self.tok = load_for_generation(model_dir)
        self.source = f"model:{str(model_dir).rstrip('/').split('/')[-1]}"
        self.max_new_tokens, self.batch_size = max_new_tokens, batch_size

    def __call__(self, songs: Iterable[Mapping[str, Any]]) -> Iterator[Query]:
        from eval.generation import greedy

        rows = [(r["song_id"], f) for r in songs if (f := {k: v for k, v in song_facts(r).items() if k != "artist"})]
        prompts = [self.PROMPT.format(facts="; ".join(f"{k}: {v}" for k, v in sorted(f.items()))) for _, f in rows]
        for (sid, facts), out in zip(rows, greedy(self.model, self.tok, prompts, self.max_new_tokens, self.batch_size),
                                     strict=True):  # fmt: skip
            text = " ".join(out.split("\n")[0].split())[:200]
            if text:
                lang = "zh" if any("\u4e00" <= c <= "\u9fff" for c in text) else "en"
                qid = hashlib.blake2b(f"{sid}\x00{self.source}\x00{text}".encode(), digest_size=8).hexdigest()
                yield Query(qid, text, lang, "generated", self.source, sid, facts)
