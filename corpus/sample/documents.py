"""Document generation: music and out-of-domain articles in English and Chinese, plus reposts.

Documents are generated in chunks of `doc_chunk` with one seeded RNG per chunk; reposts (exact
copies and realistic near-duplicate edits) copy originals of the same chunk, so chunk k depends
only on the config and k. Every text is NFC, has no `\\r` or control characters and no trailing
spaces, so ingest normalisation leaves it (and the PII offsets into it) unchanged.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from corpus.sample import frames_en as FE
from corpus.sample import frames_zh as FZ
from corpus.sample import pii as P
from corpus.sample import vocab as V
from corpus.sample.catalog import GENRE_EN, GENRE_KEYS, GENRE_ZH, Catalog
from corpus.sample.config import END_DATE, START_DATE, SampleConfig, derive_seed
from corpus.sample.similarity import shingles
from corpus.sample.templates import Frame, compile_frames, render

MUSIC_KIND_WEIGHTS = {
    "artist_bio": 1.0,
    "album_review": 1.3,
    "concert_report": 0.9,
    "song_story": 0.8,
    "lyric_explanation": 0.6,
    "genre_guide": 0.6,
    "music_news": 1.2,
    "forum_post": 1.4,
}
OTHER_KIND_WEIGHTS = {
    "recipe": 1.0,
    "sports_report": 1.0,
    "tech_howto": 1.0,
    "travel_guide": 1.0,
    "finance_news": 1.0,
    "health_tips": 1.0,
    "product_review": 0.8,
}
EDIT_KINDS = ("exact", "header_footer", "whitespace_punct", "truncate", "reorder", "substitute")
_EDIT_WEIGHTS = (0.25, 0.2, 0.15, 0.15, 0.1, 0.15)
_CLUSTER_EXTRA = (1, 2, 3, 4)  # reposts per original: clusters of 2-5 documents
_CLUSTER_WEIGHTS = (0.62, 0.22, 0.1, 0.06)
MEDIAN_BYTES = 2_500
MIN_BYTES, MAX_BYTES = 200, 8_000

# headings by section name; `kind.section` keys override for kinds that reuse a section name
_HEADINGS_EN = {
    "concert_report.performance": ("On stage", "The performance"),
    "concert_report.crowd": ("The crowd", "In the room"),
    "song_story.writing": ("Writing it", "The first draft"),
    "song_story.recording": ("In the studio", "Recording"),
    "song_story.reception": ("Reception", "What happened next"),
    "album_review.tracks": ("The songs", "Track by track"),
    "album_review.production": ("Production", "The sound"),
    "lyric_explanation.themes": ("Themes", "What it is about"),
    "ingredients": ("Ingredients", "What you need", "You will need"),
    "method": ("Method", "Instructions", "How to make it"),
    "notes": ("Notes", "Tips and swaps"),
    "steps": ("Steps", "The fix", "How to do it"),
    "explain": ("Why this works", "Background", "What is going on"),
    "see": ("What to see", "Sights"),
    "eat": ("Where to eat", "Food and drink"),
    "practical": ("Practical tips", "Getting around"),
    "tips": ("Tips", "What to do"),
    "verdict": ("Verdict", "Pros and cons"),
    "design": ("Design", "Build and setup"),
    "performance": ("Performance", "In use"),
    "history": ("History", "Where it came from"),
    "sound": ("The sound", "What it sounds like"),
    "artists": ("Where to start", "Key artists"),
    "early": ("Early years", "Beginnings"),
    "career": ("Career", "Breakthrough"),
    "setlist": ("The setlist", "The songs"),
    "details": ("The details", "What we know"),
}
_HEADINGS_ZH = {
    "ingredients": ("食材", "准备材料"),
    "method": ("做法", "步骤"),
    "notes": ("小贴士",),
    "steps": ("操作步骤", "解决方法"),
    "explain": ("原理", "背景"),
    "see": ("景点",),
    "eat": ("美食",),
    "practical": ("实用信息", "交通住宿"),
    "tips": ("建议",),
    "design": ("外观与设计",),
    "performance": ("使用体验",),
    "history": ("历史",),
    "sound": ("声音特点",),
    "artists": ("入门推荐",),
    "early": ("早年经历",),
    "career": ("成名之路",),
}


@dataclass(frozen=True)
class KindSpec:
    kind: str
    lang: str
    music: bool
    length: float
    titles: tuple[Frame, ...]
    intro: tuple[Frame, ...]
    sections: tuple[tuple[str, str, tuple[Frame, ...]], ...]  # (name, style, frames)
    outro: tuple[Frame, ...]
    common: tuple[Frame, ...]


@cache
def kind_specs() -> dict[tuple[str, str], KindSpec]:
    out = {}
    for lang, mod in (("en", FE), ("zh", FZ)):
        for music, kinds in ((True, mod.KINDS), (False, mod.KINDS_OTHER)):
            for kind, d in kinds.items():
                sections = []
                for name, frames in d["body"].items():
                    base, _, style = name.partition(":")
                    sections.append((base, style or "prose", compile_frames(tuple(frames))))
                out[(kind, lang)] = KindSpec(
                    kind,
                    lang,
                    music,
                    d["len"],
                    compile_frames(d["title"]),
                    compile_frames(d["intro"]),
                    tuple(sections),
                    compile_frames(d["outro"]),
                    compile_frames(mod.MUSIC_COMMON) if music else (),
                )
    return out


# ------------------------------------------------------------------ slot values


def _dur(rng: random.Random) -> str:
    return f"{rng.randint(2, 6)}:{rng.randint(0, 59):02d}"


def _fmt_ms(ms: int) -> str:
    s = ms // 1000
    return f"{s // 60}:{s % 60:02d}"


def _streams(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.5:
        return f"{rng.randint(12, 990) * 1000:,}"
    return f"{rng.randint(11, 99) / 10:.1f} million"


def _streams_zh(rng: random.Random) -> str:
    return f"{rng.randint(12, 9900)}万"


def _crowd(rng: random.Random) -> str:
    return f"{rng.choice((rng.randint(150, 2000), rng.randint(2000, 60000))):,}"


def _price(rng: random.Random) -> str:
    return f"{rng.choice('$£€')}{rng.randint(8, 160)}"


def _rank(rng: random.Random) -> str:
    return f"#{rng.choice((rng.randint(1, 10), rng.randint(1, 50)))}"


def _person(rng: random.Random) -> str:
    return f"{rng.choice(V.FIRST_NAMES)} {rng.choice(V.LAST_NAMES)}"


def _person_zh(rng: random.Random) -> str:
    return rng.choice(V.ZH_SURNAMES) + rng.choice(V.ZH_GIVEN)


def _ri(lo: int, hi: int) -> Callable[[random.Random], str]:
    return lambda rng: str(rng.randint(lo, hi))


def _pct(rng: random.Random) -> str:
    return f"{rng.randint(1, 40)}.{rng.randint(0, 9)}%"


def _amount(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"{rng.choice('$€£')}{rng.randint(11, 99) / 10:.1f} billion"
    return f"{rng.choice('$€£')}{rng.randint(20, 990)} million"


def _company(rng: random.Random) -> str:
    return f"{rng.choice(V.COMPANY_STEMS)} {rng.choice(V.COMPANY_SUFFIXES)}"


@cache
def glob_slots(lang: str) -> dict[str, object]:
    """Slot values shared by all documents of a language (tuples are chosen from at each use)."""
    common: dict[str, object] = {
        "n": _ri(2, 20),
        "n2": _ri(5, 45),
        "copies": lambda r: str(r.randint(2, 20) * 50),
        "ncountries": _ri(3, 40),
        "nweeks": _ri(2, 30),
        "ntracks": _ri(8, 16),
        "minutes": _ri(25, 120),
        "crowd": _crowd,
        "dur": _dur,
        "dur2": _dur,
        "bpm": lambda r: f"{r.randint(60, 180)} BPM",
        "rank": _rank,
        "rank_n": lambda r: str(r.choice((r.randint(1, 10), r.randint(1, 50)))),
        "day": _ri(1, 28),
        "year": _ri(1968, END_DATE.year),
        "year2": _ri(2000, END_DATE.year),
        "next_year": str(END_DATE.year + 1),
        "score": lambda r: f"{r.randint(40, 95) / 10:.1f}",
        "pct": _pct,
        "pct2": _pct,
        "pct_small": lambda r: f"{r.randint(1, 39) / 10:.1f}%",
        "small": _ri(1, 4),
        "days": _ri(2, 5),
        "pm": ("7", "8", "9", "10"),
        "port": _ri(1025, 65000),
        "grams": lambda r: str(r.randint(2, 32) * 25),
        "ml": lambda r: str(r.randint(2, 20) * 50),
        "kcal": _ri(220, 880),
        "minute": _ri(2, 89),
        "place": _ri(2, 18),
        "score_a": _ri(1, 5),
        "score_b": "0",
        "kg": lambda r: f"{r.randint(5, 120) / 10:.1f}",
        "db": _ri(38, 78),
        "amount": _amount,
        "catno": lambda r: f"{r.choice(V.LABEL_CODES)}-{r.randint(1, 9999):04d}",
        "label": V.LABEL_NAMES,
        "company": _company,
        "company2": _company,
        "company3": _company,
        "version": lambda r: f"v{r.randint(1, 9)}.{r.randint(0, 20)}.{r.randint(0, 9)}",
        "version2": lambda r: f"v{r.randint(0, 3)}.{r.randint(0, 20)}",
        "isrc": lambda r: (
            f"US{r.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}{r.choice('ABCDEFGHJKLMNPQRSTUVWXYZ0123456789')}{r.randint(0, 9)}{r.randint(0, 24):02d}{r.randint(0, 99999):05d}"
        ),
        "brand": V.BRANDS,
        "brand2": V.BRANDS,
        "model2": lambda r: f"{r.choice('ACKMRSVX')}{r.randint(2, 99) * 10}",
    }
    if lang == "en":
        common.update(
            {
                "adj": V.ADJECTIVES,
                "noun": V.NOUNS,
                "abstract": V.ABSTRACT,
                "instrument": V.INSTRUMENTS,
                "instrument2": V.INSTRUMENTS,
                "mood": V.MOODS,
                "mood2": V.MOODS,
                "theme": V.THEMES,
                "theme2": V.THEMES,
                "production": V.PRODUCTION_TERMS,
                "production2": V.PRODUCTION_TERMS,
                "section": V.SECTIONS_OF_SONG,
                "chart": V.CHART_NAMES,
                "platform": V.PLATFORM,
                "streams": _streams,
                "month": V.MONTHS,
                "weekday": V.WEEKDAYS,
                "season": V.SEASONS,
                "decade": V.DECADES,
                "nth": V.ORDINALS,
                "person": _person,
                "producer": _person,
                "city": tuple(c[0] for c in V.CITIES),
                "city2": tuple(c[0] for c in V.CITIES),
                "price": _price,
                "ing": V.INGREDIENTS,
                "ing2": V.INGREDIENTS,
                "verb": V.COOKING_VERBS,
                "servings": ("2", "4", "4 to 6", "6", "two", "four"),
                "temp": ("180°C", "200°C", "220°C (425°F)", "190°C"),
                "coach": _person,
                "analyst": _person,
                "sector": V.SECTORS,
                "quarter": ("Q1", "Q2", "Q3", "Q4"),
                "tool": V.TECH_TOOLS,
                "os": V.OSES,
                "problem": V.TECH_PROBLEMS,
                "nutrient": V.NUTRIENTS,
                "body": V.BODY_PARTS,
                "doctor": lambda r: f"Dr. {r.choice(V.FIRST_NAMES)} {r.choice(V.LAST_NAMES)}",
                "landmark": V.LANDMARKS,
                "landmark2": V.LANDMARKS,
                "landmark3": V.LANDMARKS,
                "dish": V.DISHES,
            }
        )
    else:
        common.update(
            {
                "instrument": V.ZH_INSTRUMENTS,
                "instrument2": V.ZH_INSTRUMENTS,
                "mood": V.ZH_MOODS,
                "mood2": V.ZH_MOODS,
                "theme": V.ZH_THEMES,
                "theme2": V.ZH_THEMES,
                "production": V.ZH_PRODUCTION_TERMS,
                "production2": V.ZH_PRODUCTION_TERMS,
                "section": V.ZH_SECTIONS_OF_SONG,
                "chart": V.ZH_CHARTS,
                "platform": V.PLATFORM_ZH,
                "streams": _streams_zh,
                "month": tuple(f"{m}月" for m in range(1, 13)),
                "month_zh": tuple(f"{m}月" for m in range(1, 13)),
                "weekday_zh": V.ZH_WEEKDAYS,
                "season_zh": V.ZH_SEASONS,
                "decade": V.ZH_DECADES,
                "decade_zh": V.ZH_DECADES,
                "nth_zh": V.ZH_ORDINALS,
                "person": _person_zh,
                "producer": _person_zh,
                "city": tuple(c[1] for c in V.CITIES),
                "city2": tuple(c[1] for c in V.CITIES),
                "price_zh": lambda r: f"{r.randint(8, 160) * 10}元",
                "noun_zh": V.ZH_NOUNS,
                "abstract_zh": V.ZH_ABSTRACT,
                "ing_zh": V.ZH_INGREDIENTS,
                "ing_zh2": V.ZH_INGREDIENTS,
                "dish_zh": V.ZH_DISHES,
                "coach_zh": _person_zh,
                "player_zh": _person_zh,
                "player2_zh": _person_zh,
                "analyst_zh": _person_zh,
                "sector_zh": V.ZH_SECTORS,
                "quarter": ("第一季度", "第二季度", "第三季度", "第四季度"),
                "amount_zh": lambda r: f"{r.randint(12, 990) / 10:.1f}亿元",
                "problem_zh": V.ZH_TECH_PROBLEMS,
                "tech_zh": V.ZH_TECH,
                "landmark_zh": V.ZH_LANDMARKS,
                "doctor_zh": lambda r: r.choice(V.ZH_SURNAMES),
                "topic_zh": V.ZH_HEALTH,
                "product_zh": V.ZH_PRODUCTS,
                "sport_zh": V.ZH_SPORTS,
                "os": V.OSES,
            }
        )
    return common


class _SongCursor:
    """`{song}` picks a song of the subject artist; `{song_len}` etc. describe the last one picked, so
    "“X” (3:41)" is always the real duration of X."""

    __slots__ = ("cat", "songs", "cur", "zh")

    def __init__(self, cat: Catalog, songs: list[int], zh: bool):
        self.cat, self.songs, self.cur, self.zh = cat, songs, songs[0], zh

    def title(self, rng: random.Random) -> str:
        self.cur = self.songs[int(rng.random() * len(self.songs))]
        t = self.cat.songs[self.cur].title
        return t if self.zh else f"“{t}”"

    def length(self, rng: random.Random) -> str:
        return _fmt_ms(self.cat.songs[self.cur].duration_ms)

    def bpm(self, rng: random.Random) -> str:
        return f"{round(self.cat.songs[self.cur].tempo)} BPM"

    def isrc(self, rng: random.Random) -> str:
        s = self.cat.songs[self.cur]
        return s.isrc if self.zh else f"ISRC {s.isrc}"


def _quote(t: str, zh: bool) -> str:
    return t if zh else f"“{t}”"


def music_context(rng: random.Random, cat: Catalog, zh: bool, kind: str) -> dict[str, object]:
    a = cat.pick_artist(rng)
    if zh and not a.zh_name and rng.random() < 0.5:
        for _ in range(3):  # Chinese writing leans toward Chinese-language artists
            b = cat.pick_artist(rng)
            if b.zh_name:
                a = b
                break
    g = a.genres[0]
    g2 = a.genres[1] if len(a.genres) > 1 else GENRE_KEYS[int(rng.random() * len(GENRE_KEYS))]
    peers = [x for x in cat.genre_artists.get(g, ()) if x != a.idx]
    if len(peers) < 2:
        peers = [x for x in range(len(cat.artists)) if x != a.idx] or [a.idx]
    others = [cat.artists[x].name for x in rng.sample(peers, min(2, len(peers)))]
    al = cat.albums[a.albums[int(rng.random() * len(a.albums))]]
    prev = [x for x in a.albums if x != al.idx]
    songs = a.songs or al.songs
    cursor = _SongCursor(cat, songs, zh)
    pick = [cat.songs[songs[int(rng.random() * len(songs))]].title for _ in range(3)]
    city = V.CITIES[int(rng.random() * len(V.CITIES))]
    gname = GENRE_ZH if zh else GENRE_EN
    if zh:
        venue = city[1] + V.ZH_VENUE_SUFFIXES[int(rng.random() * len(V.ZH_VENUE_SUFFIXES))]
    else:
        r = rng.random()
        suffix = V.VENUE_SUFFIXES[int(rng.random() * len(V.VENUE_SUFFIXES))]
        if r < 0.4:
            venue = f"{city[0]} {suffix}"
        elif r < 0.7:
            venue = f"The {rng.choice(V.ADJECTIVES).capitalize()} {suffix}"
        else:
            venue = f"{rng.choice(V.LAST_NAMES)} {suffix}"
    ctx: dict[str, object] = {
        "artist": a.name,
        "artist2": others[0],
        "artist3": others[-1],
        "genre": gname[g],
        "genre2": gname[g2],
        "album": al.title,
        "album_prev": cat.albums[prev[0]].title if prev else al.title,
        "year": str(al.year),
        "year2": str(min(END_DATE.year, al.year + rng.randint(1, 6))),
        "debut_year": str(a.debut_year),
        "nalbums": str(len(a.albums)),
        "hometown": a.hometown_zh if zh else a.hometown,
        "label": al.label,
        "catno": al.catno,
        "venue": venue,
        "city": city[1] if zh else city[0],
        "song": cursor.title,
        "song_len": cursor.length,
        "song_bpm": cursor.bpm,
        "song_isrc": cursor.isrc,
        "song2": _quote(pick[1], zh),
        "song3": _quote(pick[2], zh),
        "isrc": cursor.isrc,
    }
    if kind in ("song_story", "lyric_explanation"):
        s = cat.songs[songs[int(rng.random() * len(songs))]]
        ctx.update(
            {
                "song": _quote(s.title, zh),
                "song_len": _fmt_ms(s.duration_ms),
                "song_isrc": s.isrc if zh else f"ISRC {s.isrc}",
                "isrc": s.isrc,
                "song_bpm": f"{round(s.tempo)} BPM",
                "year": str(s.year),
            }
        )
        if kind == "lyric_explanation":  # never quote lyrics: only paraphrase themes
            ctx["song2"] = _quote(pick[1], zh)
    if kind == "genre_guide":
        ctx["decade"] = rng.choice(V.ZH_DECADES if zh else V.DECADES)
    return ctx


def other_context(rng: random.Random, zh: bool, kind: str) -> dict[str, object]:
    city = V.CITIES[int(rng.random() * len(V.CITIES))]
    ctx: dict[str, object] = {"city": city[1] if zh else city[0]}
    if kind == "recipe":
        ctx["main"] = rng.choice(V.INGREDIENTS).capitalize() if not zh else rng.choice(V.ZH_INGREDIENTS)
        ctx["dish"] = rng.choice(V.DISHES)
        ctx["dish_zh"] = rng.choice(V.ZH_DISHES)
    elif kind == "sports_report":
        sport = V.SPORTS[int(rng.random() * len(V.SPORTS))]
        c2 = V.CITIES[int(rng.random() * len(V.CITIES))]
        c3 = V.CITIES[int(rng.random() * len(V.CITIES))]
        m = rng.sample(V.TEAM_MASCOTS, 3)
        zm = rng.sample(V.ZH_TEAMS, 2)
        a, b = rng.randint(1, 5), 0
        b = rng.randint(0, a - 1)
        ctx.update(
            {
                "team_a": f"{city[0]} {m[0]}",
                "team_b": f"{c2[0]} {m[1]}",
                "team_c": f"{c3[0]} {m[2]}",
                "team_a_zh": f"{city[1]}{zm[0]}",
                "team_b_zh": f"{c2[1]}{zm[1]}",
                "score_a": str(a),
                "score_b": str(b),
                "event": sport[1],
                "match": sport[2],
                "field": sport[3],
                "position": sport[4 + int(rng.random() * 3)],
                "player": _person(rng),
                "player2": _person(rng),
                "city2": c2[1] if zh else c2[0],
                "weekday": rng.choice(V.WEEKDAYS),
                "sport_zh": rng.choice(V.ZH_SPORTS),
            }
        )
    elif kind == "tech_howto":
        prod = rng.choice(V.TECH_PRODUCTS)
        cmd = prod.split()[0].lower()
        ctx.update(
            {
                "product": prod,
                "cmd": cmd,
                "subcmd": ("sync", "cache clear", "reindex", "doctor", "migrate", "gc"),
                "file": ("config.yaml", f"~/.config/{cmd}/settings.toml", f"/etc/{cmd}/{cmd}.conf", ".env"),
                "option": ("cache_dir", "max_workers", "log_level", "timeout", "listen_port", "tls_verify"),
                "value": ("false", "4", "debug", "30s", "/var/cache", "true"),
            }
        )
    elif kind == "travel_guide":
        lm = rng.sample(V.LANDMARKS, 3)
        ctx.update(
            {
                "landmark": lm[0],
                "landmark2": lm[1],
                "landmark3": lm[2],
                "n": str(rng.randint(2, 5)),
                "month": rng.choice(V.MONTHS),
            }
        )
    elif kind == "finance_news":
        ctx.update({"company": _company(rng), "sector": rng.choice(V.SECTORS)})
    elif kind == "health_tips":
        ctx.update({"topic": rng.choice(V.HEALTH_TOPICS), "topic_zh": rng.choice(V.ZH_HEALTH)})
    elif kind == "product_review":
        ctx.update(
            {
                "product": rng.choice(V.PRODUCT_CATEGORIES),
                "product_zh": rng.choice(V.ZH_PRODUCTS),
                "brand": rng.choice(V.BRANDS),
                "model": f"{rng.choice('ACKMRSVX')}{rng.randint(2, 99) * 10}",
                "price": _price(rng),
            }
        )
    return ctx


# ------------------------------------------------------------------ composing text


class _Deck:
    """Draws frames without repetition until all were used (then reshuffles), so a document does not
    repeat a sentence frame unless it is longer than its kind's frame pool."""

    __slots__ = ("frames", "order", "pos", "rng")

    def __init__(self, frames: tuple[Frame, ...], rng: random.Random):
        self.frames, self.rng, self.order, self.pos = frames, rng, list(range(len(frames))), len(frames)

    def draw(self, k: int) -> list[Frame]:
        out = []
        for _ in range(min(k, len(self.frames))):
            if self.pos >= len(self.order):
                self.rng.shuffle(self.order)
                self.pos = 0
            out.append(self.frames[self.order[self.pos]])
            self.pos += 1
        return out


def compose(spec: KindSpec, ctx: dict, rng: random.Random, target: int) -> tuple[str, str]:
    """(title, text) of about `target` UTF-8 bytes, paragraphs separated by a blank line."""
    glob = glob_slots(spec.lang)
    zh = spec.lang == "zh"
    sep = "" if zh else " "
    headings = _HEADINGS_ZH if zh else _HEADINGS_EN
    title = render(spec.titles[int(rng.random() * len(spec.titles))], ctx, glob, rng)
    common = _Deck(spec.common, rng) if spec.common else None

    def paragraph(deck: _Deck, k: int) -> str:
        picks = deck.draw(k)
        if common is not None and rng.random() < 0.6:
            picks.insert(int(rng.random() * (len(picks) + 1)), common.draw(1)[0])
        return sep.join(render(f, ctx, glob, rng) for f in picks)

    paras = [sep.join(render(f, ctx, glob, rng) for f in _Deck(spec.intro, rng).draw(rng.randint(1, 3)))]
    size = len(paras[0].encode())
    outro = sep.join(render(f, ctx, glob, rng) for f in _Deck(spec.outro, rng).draw(rng.randint(1, 2)))
    budget = target - len(outro.encode())
    sections = list(spec.sections)
    if all(style == "prose" for _, style, _ in sections):
        rng.shuffle(sections)  # lists (ingredients, steps) keep their declared order
    decks = [_Deck(fr, rng) for _, _, fr in sections]
    # stop once the pool is used ~1.5 times: longer documents would only repeat themselves
    limit = 1.5 * (sum(len(fr) for _, _, fr in sections) + len(spec.common))
    drawn = 0
    seen_heading: set[str] = set()
    done: set[int] = set()  # list sections appear once
    i = 0
    while size < budget and drawn < limit:
        j = i % len(sections)
        name, style, _frames = sections[j]
        i += 1
        if j in done:
            if len(done) == len(sections):  # only list sections, all used: nothing left to add
                break
            continue
        heads = headings.get(f"{spec.kind}.{name}") or headings.get(name)
        if heads and name not in seen_heading and rng.random() < (0.85 if style != "prose" else 0.3):
            h = heads[int(rng.random() * len(heads))]
            seen_heading.add(name)
            paras.append(h)
            size += len(h.encode()) + 2
        if style == "prose":
            k = rng.randint(2, 5)
            p = paragraph(decks[j], k)
        else:
            done.add(j)
            k = rng.randint(3, 7)
            picks = decks[j].draw(k)
            if style == "steps":  # steps keep their declared order (heat the pan before serving)
                order = {id(f): n for n, f in enumerate(_frames)}
                picks.sort(key=lambda f: order[id(f)])
            lines = [render(f, ctx, glob, rng) for f in picks]
            if style == "steps":
                p = "\n".join(f"{n}. {line}" for n, line in enumerate(lines, 1))
            else:
                p = "\n".join(f"- {line}" for line in lines)
        paras.append(p)
        drawn += k
        size += len(p.encode()) + 2
    paras.append(outro)
    text = "\n\n".join(paras)
    while len(text.encode()) > MAX_BYTES and len(paras) > 2:
        paras.pop(-2)
        text = "\n\n".join(paras)
    if len(text.encode()) > MAX_BYTES:
        text = text.encode()[:MAX_BYTES].decode("utf-8", "ignore").rstrip()
    return title, clean(text)


_TRAILING = re.compile(r"[ \t\u00a0\u3000]+(?=\n|$)")


def clean(text: str) -> str:
    """Make text a fixed point of ingest's `normalize_text` (no trailing spaces, no edge newlines)."""
    return _TRAILING.sub("", text).strip("\n ")


# ------------------------------------------------------------------ near-duplicate edits


def _swap_case_like(src: str, repl: str) -> str:
    return repl[:1].upper() + repl[1:] if src[:1].isupper() else repl


_WORD = re.compile(r"[A-Za-z]+")


def apply_edit(edit: str, text: str, zh: bool, rng: random.Random) -> str:
    paras = text.split("\n\n")
    if edit == "exact":
        return text
    if edit == "header_footer":
        mod = FZ if zh else FE
        glob = {
            "url": f"https://{rng.choice(V.OTHER_HOSTS)}/p/{rng.randrange(16**8):08x}",
            "host": V.OTHER_HOSTS,
            "year": str(rng.randint(2015, END_DATE.year)),
        }
        out = text
        r = rng.random()
        if r < 0.7:
            out = (
                render(
                    compile_frames(mod.REPOST_HEADERS)[int(rng.random() * len(mod.REPOST_HEADERS))],
                    {},
                    glob,
                    rng,
                )
                + "\n\n"
                + out
            )
        if r > 0.4:
            out = (
                out
                + "\n\n"
                + render(
                    compile_frames(mod.REPOST_FOOTERS)[int(rng.random() * len(mod.REPOST_FOOTERS))],
                    {},
                    glob,
                    rng,
                )
            )
        return clean(out)
    if edit == "whitespace_punct":
        out = text
        if zh:
            out = out.replace("，", ", " if rng.random() < 0.5 else ",").replace("：", ":")
            out = out.replace("。", "。 ", rng.randint(1, 6))
        else:
            out = (
                out.replace(". ", ".  ", rng.randint(2, 10))
                .replace(", and", " and")
                .replace("“", '"')
                .replace("”", '"')
            )
            out = out.replace(" — ", " - ").replace("; ", ", ")
        if rng.random() < 0.5:
            out = out.replace("\n\n", "\n\n\n", rng.randint(1, 3))
        return clean(out)
    if edit == "truncate":
        keep = max(1, int(len(paras) * rng.uniform(0.55, 0.9)))
        out = "\n\n".join(paras[:keep])
        if rng.random() < 0.5:
            out += "\n\n" + ("……（未完）" if zh else rng.choice(("… Read more", "(continued)", "[…]")))
        return clean(out)
    if edit == "reorder":
        if len(paras) >= 3:
            body = paras[1:]
            rng.shuffle(body)
            return clean("\n\n".join([paras[0], *body]))
        sents = re.split(r"(?<=[.!?。！？]) ?", text)
        sents = [s for s in sents if s]
        rng.shuffle(sents)
        return clean(("" if zh else " ").join(sents))
    if edit == "substitute":
        k = rng.randint(3, 8)
        if zh:
            out = text
            for src, dst in rng.sample(list(FZ.SUBSTITUTIONS.items()), len(FZ.SUBSTITUTIONS)):
                if k <= 0:
                    break
                if src in out:
                    out = out.replace(src, dst, 1)
                    k -= 1
            return clean(out)
        matches = [m for m in _WORD.finditer(text) if m.group().lower() in FE.SUBSTITUTIONS]
        chosen = sorted(rng.sample(matches, min(k, len(matches))), key=lambda m: m.start())
        out, last = [], 0
        for m in chosen:
            out.append(text[last : m.start()])
            out.append(_swap_case_like(m.group(), FE.SUBSTITUTIONS[m.group().lower()]))
            last = m.end()
        out.append(text[last:])
        res = "".join(out)
        if len(chosen) < 3:  # few synonyms available: add typos (swap two letters of a long word)
            words = [m for m in _WORD.finditer(res) if len(m.group()) > 5]
            for m in sorted(rng.sample(words, min(3, len(words))), key=lambda m: -m.start()):
                w = m.group()
                res = res[: m.start()] + w[0] + w[2] + w[1] + w[3:] + res[m.end() :]
        return clean(res)
    raise ValueError(f"unknown edit {edit!r}")


# ------------------------------------------------------------------ chunks


@dataclass
class DocChunk:
    docs: list[dict]
    labels: list[dict]
    duplicates: list[dict]
    pii: list[dict]


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


_START = datetime(START_DATE.year, START_DATE.month, START_DATE.day, tzinfo=UTC)
_SPAN_S = int((datetime(END_DATE.year, END_DATE.month, END_DATE.day, tzinfo=UTC) - _START).total_seconds())
_URL_HOSTS = {
    "artist_bio": ("tunewave.example/artists", "soundcheck-mag.example/profiles", "musicwiki.example/wiki"),
    "album_review": (
        "tunewave.example/reviews",
        "backbeat-journal.example/reviews",
        "needledrop.example/albums",
    ),
    "concert_report": ("tunewave.example/live", "soundcheck-mag.example/live", "gigjunkies.example/reports"),
    "song_story": ("tunewave.example/stories", "linernotes.example/songs"),
    "lyric_explanation": ("tunewave.example/meaning", "songmeanings.example/explained"),
    "genre_guide": ("tunewave.example/guides", "cratedigger.example/guides"),
    "music_news": ("tunewave.example/news", "musicwire.example/news", "loudwire-weekly.example/news"),
    "forum_post": ("forum.tunewave.example/t", "musicboard.example/thread"),
    "recipe": ("kitchen-notes.example/recipes", "dailyplate.example/recipe"),
    "sports_report": ("matchday.example/reports", "sportsdesk.example/match"),
    "tech_howto": ("devnotes.example/howto", "sysadmin-tips.example/guides"),
    "travel_guide": ("wanderlog.example/guides", "citybreaks.example/travel"),
    "finance_news": ("marketwire.example/news", "finance-daily.example/markets"),
    "health_tips": ("wellbeing.example/articles", "healthdesk.example/tips"),
    "product_review": ("gearcheck.example/reviews", "homeappliance-lab.example/tests"),
}
_SLUG = re.compile(r"[^a-z0-9]+")


def _url(kind: str, title: str, sid: str, rng: random.Random) -> str:
    hosts = _URL_HOSTS[kind]
    slug = _SLUG.sub("-", title.lower()).strip("-")[:60].strip("-")
    return f"https://{hosts[int(rng.random() * len(hosts))]}/{slug + '-' if slug else ''}{sid[1:]}"


def _target_bytes(spec: KindSpec, rng: random.Random) -> int:
    # Chinese takes 3 bytes a character and says as much in fewer characters
    t = int(MEDIAN_BYTES * spec.length * (0.7 if spec.lang == "zh" else 1.0) * rng.lognormvariate(0.0, 0.55))
    return max(MIN_BYTES, min(MAX_BYTES - 400, t))


def _plant_doc_pii(text: str, zh: bool, rng: random.Random, sid: str) -> tuple[str, list[dict]]:
    """Append a contact line with an email or phone number; returns the new text and truth rows."""
    first, last = rng.choice(V.FIRST_NAMES), rng.choice(V.LAST_NAMES)
    if rng.random() < 0.5:
        value, sub = P.email(rng, first, last)
        ptype = "email"
        pre = (
            rng.choice(("联系邮箱：", "投稿请发邮件至 "))
            if zh
            else rng.choice(("Contact: ", "Booking enquiries: ", "Email me at "))
        )
    else:
        value, sub = P.phone(rng)
        ptype = "phone"
        pre = (
            rng.choice(("联系电话：", "商务合作请致电 "))
            if zh
            else rng.choice(("Call ", "Tickets and info: ", "Text me on "))
        )
    start = len(text) + 2 + len(pre)
    text = f"{text}\n\n{pre}{value}"
    return text, [
        {
            "dataset": "documents",
            "source_id": sid,
            "field": "text",
            "start": start,
            "end": start + len(value),
            "pii_type": ptype,
            "subtype": sub,
            "value": value,
        }
    ]


def generate_chunk(cfg: SampleConfig, cat: Catalog, chunk: int) -> DocChunk:
    """Documents `chunk * doc_chunk` .. of the sample (the last chunk may be shorter)."""
    start = chunk * cfg.doc_chunk
    count = min(cfg.doc_chunk, cfg.n_documents - start)
    rng = random.Random(derive_seed(cfg.seed, "documents", chunk))
    specs = kind_specs()
    mk, mw = list(MUSIC_KIND_WEIGHTS), list(MUSIC_KIND_WEIGHTS.values())
    ok, ow = list(OTHER_KIND_WEIGHTS), list(OTHER_KIND_WEIGHTS.values())

    n_rep = round(count * cfg.duplicate_fraction)
    n_orig = count - n_rep
    if n_orig < 1:
        n_orig, n_rep = count, 0
    # which originals get reposted, and how often
    clusters: list[tuple[int, int]] = []  # (original index, number of reposts)
    pool = list(range(n_orig))
    rng.shuffle(pool)
    remaining = n_rep
    while remaining > 0:
        extra = min(remaining, rng.choices(_CLUSTER_EXTRA, _CLUSTER_WEIGHTS)[0])
        src = pool.pop() if pool else rng.randrange(n_orig)
        clusters.append((src, extra))
        remaining -= extra
    reposted = {src for src, _ in clusters}

    positions = list(range(count))
    rng.shuffle(positions)  # emission order: reposts are scattered among originals
    sids = [f"d{start + p:09d}" for p in positions]

    docs: list[dict] = []
    labels: list[dict] = []
    pii_rows: list[dict] = []
    originals: list[dict] = []
    for j in range(n_orig):
        music = rng.random() < cfg.music_fraction
        zh = rng.random() < cfg.zh_fraction
        kind = rng.choices(mk, mw)[0] if music else rng.choices(ok, ow)[0]
        spec = specs[(kind, "zh" if zh else "en")]
        ctx = music_context(rng, cat, zh, kind) if music else other_context(rng, zh, kind)
        title, text = compose(spec, ctx, rng, _target_bytes(spec, rng))
        sid = sids[j]
        if j not in reposted and rng.random() < cfg.doc_pii_fraction:
            text, rows = _plant_doc_pii(text, zh, rng, sid)
            pii_rows += rows
        created = _START + timedelta(seconds=rng.randrange(_SPAN_S))
        doc = {
            "source_id": sid,
            "title": title,
            "text": text,
            "url": _url(kind, title, sid, rng),
            "lang": "zh" if zh else "en",
            "created_at": _iso(created),
            "kind": kind,
        }
        originals.append(doc)
        docs.append(doc)
        labels.append(
            {"source_id": sid, "kind": kind, "label": "music" if music else "other", "lang": doc["lang"]}
        )

    dup_rows: list[dict] = []
    k = n_orig
    end = datetime(END_DATE.year, END_DATE.month, END_DATE.day, tzinfo=UTC)
    for src, extra in clusters:
        o = originals[src]
        cluster_id = f"dup-{o['source_id']}"
        o_sh = shingles(o["text"])
        dup_rows.append(
            {
                "dataset": "documents",
                "source_id": o["source_id"],
                "cluster_id": cluster_id,
                "original_source_id": o["source_id"],
                "edit": "original",
                "jaccard": 1.0,
            }
        )
        o_created = datetime.strptime(o["created_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        for _ in range(extra):
            edit = rng.choices(EDIT_KINDS, _EDIT_WEIGHTS)[0]
            zh = o["lang"] == "zh"
            text = apply_edit(edit, o["text"], zh, rng)
            sid = sids[k]
            k += 1
            created = min(end, o_created + timedelta(seconds=rng.randint(3600, 700 * 86400)))
            host = rng.choice(V.OTHER_HOSTS)
            title = o["title"] if rng.random() < 0.7 else (("转载｜" if zh else "Repost: ") + o["title"])
            doc = {
                "source_id": sid,
                "title": title,
                "text": text,
                "url": f"https://{host}/{rng.choice(('p', 'post', 'a', 'share'))}/{sid[1:]}",
                "lang": o["lang"],
                "created_at": _iso(created),
                "kind": o["kind"],
            }
            docs.append(doc)
            labels.append(
                {
                    "source_id": sid,
                    "kind": o["kind"],
                    "label": "music" if o["kind"] in MUSIC_KIND_WEIGHTS else "other",
                    "lang": o["lang"],
                }
            )
            dup_rows.append(
                {
                    "dataset": "documents",
                    "source_id": sid,
                    "cluster_id": cluster_id,
                    "original_source_id": o["source_id"],
                    "edit": edit,
                    "jaccard": round(len(o_sh & (s := shingles(text))) / max(1, len(o_sh | s)), 4),
                }
            )
    order = {sid: p for p, sid in zip(positions, sids, strict=True)}
    docs.sort(key=lambda d: order[d["source_id"]])
    labels.sort(key=lambda d: order[d["source_id"]])
    return DocChunk(docs, labels, dup_rows, pii_rows)


def n_chunks(cfg: SampleConfig) -> int:
    return -(-cfg.n_documents // cfg.doc_chunk)
