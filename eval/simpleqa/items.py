"""MusicSimpleQA items: short single-answer questions generated deterministically from real facts in shared/data.

Each item has one gold answer, accepted aliases, an answer type (`person`, `work`, `year`, `number`, `place`),
and the source file and row it came from (`source`, `source_row`: the 1-based data row in a CSV, the 1-based
line in a JSONL file, the 0-based index in a JSON list), so every item traces back to a fact.

Exactly one right answer: a fact is skipped when the table makes it ambiguous: a song title held by two
different acts or charting in two runs, a Grammy category with two winners (ties), a multi-artist credit that
aliases cannot cover (lists of acts), an album title shared by two albums, a trivia or NQ answer with several
listed answers. Featured-artist credits keep the lead act as the gold (the grader strips "feat." credits).
Same files, same order: same items, same ids.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

ANSWER_TYPES = ("person", "work", "year", "number", "place")


@dataclass(frozen=True)
class QAItem:
    id: str
    lang: str
    question: str
    gold: str
    answer_type: str
    source: str
    """Path of the source file, relative to the shared data folder."""
    source_row: int
    aliases: tuple[str, ...] = field(default_factory=tuple)
    tolerance: int = 0
    """For `year` and `number` answers: how far a numeric answer may be off and still be correct."""

    def to_dict(self) -> dict:
        d = asdict(self)
        d["aliases"] = list(self.aliases)
        return d


def _item(lang: str, question: str, gold: str, answer_type: str, source: str, row: int,
          aliases: tuple[str, ...] = ()) -> QAItem:
    assert answer_type in ANSWER_TYPES, answer_type
    h = hashlib.blake2b(f"{source}\x00{row}\x00{lang}\x00{question}".encode(), digest_size=6).hexdigest()
    aliases = tuple(a for a in dict.fromkeys(aliases) if a and a != gold)
    return QAItem(f"msqa-{lang}-{h}", lang, question, gold, answer_type, source, row, aliases)


# Credits that name several separate acts: no single right answer to "who performed ..."
_LIST_CREDIT = re.compile(r",|\s/\s|\bx\b|\bvs\.?\b|\bwith\b", re.IGNORECASE)
_FEAT = re.compile(r"\s+(?:featuring|feat\.?|ft\.?)\s+", re.IGNORECASE)


def _lead_and_aliases(credit: str) -> tuple[str, tuple[str, ...]] | None:
    """(gold, aliases) for an artist credit; None for a list of acts. "A featuring B" -> gold A."""
    credit = credit.strip()
    parts = _FEAT.split(credit, maxsplit=1)
    lead = parts[0].strip()
    if not lead or _LIST_CREDIT.search(lead):
        return None
    return lead, ((credit,) if len(parts) > 1 else ())


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        yield from enumerate(csv.DictReader(f), 1)


def billboard_number_ones(shared: Path) -> Iterator[QAItem]:
    src = "billboard_number_ones/billboard_number_ones_cleaned.csv"
    rows = list(_csv_rows(shared / src))
    titles = Counter(r["song"].strip().lower() for _, r in rows)
    for i, r in rows:
        song, year = r["song"].strip(), r["year"].strip()
        if titles[song.lower()] != 1 or not year:
            continue
        credit = _lead_and_aliases(r["artist"])
        if credit is None:
            continue
        gold, aliases = credit
        yield _item("en", f'Who performed "{song}", a Billboard Hot 100 number-one single in {year}?', gold,
                    "person", src, i, aliases)
        yield _item("en", f'In what year did "{song}" by {r["artist"].strip()} reach number one on the Billboard '
                    "Hot 100?", year, "year", src, i)
        yield _item("zh", f"{year}年登上公告牌百强单曲榜（Billboard Hot 100）冠军的歌曲《{song}》是谁演唱的？", gold,
                    "person", src, i, aliases)


_GRAMMY_WORK = {"Record Of The Year": "record", "Album Of The Year": "album", "Song Of The Year": "song"}
_GRAMMY_ZH = {"Record Of The Year": "年度制作", "Album Of The Year": "年度专辑", "Song Of The Year": "年度歌曲",
              "Best New Artist": "最佳新人"}


def grammy_awards(shared: Path) -> Iterator[QAItem]:
    src = "grammy_awards/the_grammy_awards.csv"
    rows = list(_csv_rows(shared / src))
    winners: dict[tuple[str, str], list[tuple[int, dict[str, str]]]] = defaultdict(list)
    for i, r in rows:
        if r["winner"].strip().upper() == "TRUE" and r["category"] in _GRAMMY_ZH:
            winners[(r["title"], r["category"])].append((i, r))
    for (title, cat), ws in winners.items():
        if len(ws) != 1:  # a tie: two right answers
            continue
        i, r = ws[0]
        m = re.match(r"\s*(\d+)(?:st|nd|rd|th) Annual GRAMMY Awards", title)
        if not m:
            continue
        ordinal = re.sub(r"\s+", " ", title.split("(")[0]).strip().replace("GRAMMY", "Grammy")
        nominee, artist = r["nominee"].strip(), r["artist"].strip()
        if cat == "Best New Artist":
            credit = _lead_and_aliases(nominee)
            if credit:
                yield _item("en", f"Who won Best New Artist at the {ordinal}?", credit[0], "person", src, i, credit[1])
                yield _item("zh", f"第{m.group(1)}届格莱美奖的最佳新人奖得主是谁？", credit[0], "person", src, i, credit[1])
            continue
        kind = _GRAMMY_WORK[cat]
        if nominee:
            yield _item("en", f"Which {kind} won {cat.replace('Of The', 'of the')} at the {ordinal}?", nominee,
                        "work", src, i)
        credit = _lead_and_aliases(artist) if artist else None
        if credit and cat != "Song Of The Year":  # Song of the Year goes to the songwriters, not the artist
            yield _item("en", f'Which artist\'s {kind} "{nominee}" won {cat.replace("Of The", "of the")} at the '
                        f"{ordinal}?", credit[0], "person", src, i, credit[1])
            yield _item("zh", f"第{m.group(1)}届格莱美奖{_GRAMMY_ZH[cat]}《{nominee}》是哪位艺人的作品？", credit[0],
                        "person", src, i, credit[1])


def rolling_stone_500(shared: Path) -> Iterator[QAItem]:
    src = "rolling_stone_500_albums_2012/albumlist.csv"
    rows = list(_csv_rows(shared / src))
    titles = Counter(r["Album"].strip().lower() for _, r in rows)
    for i, r in rows:
        album, artist, year, rank = r["Album"].strip(), r["Artist"].strip(), r["Year"].strip(), r["Number"].strip()
        if titles[album.lower()] != 1:
            continue
        credit = _lead_and_aliases(artist)
        if credit:
            yield _item("en", f'Which artist released the album "{album}" ({year}), number {rank} on Rolling Stone\'s '
                        "2012 list of the 500 greatest albums?", credit[0], "person", src, i, credit[1])
            yield _item("zh", f"《滚石》杂志2012年“史上最伟大的500张专辑”第{rank}名《{album}》是谁的专辑？", credit[0],
                        "person", src, i, credit[1])
        yield _item("en", f'In what year was the album "{album}" by {artist} released?', year, "year", src, i)
        yield _item("en", f'At what number did Rolling Stone\'s 2012 list of the 500 greatest albums rank "{album}" by '
                    f"{artist}?", rank, "number", src, i)


# First match wins; people before places ("which country singer ...").
_TYPE_BY_QUESTION = (
    (re.compile(r"\b(what|which) year\b|\bin what year\b|\bwhen was\b|\bwhat year\b", re.I), "year"),
    (re.compile(r"\bhow many\b", re.I), "number"),
    (re.compile(r"\bwho\b|\b(which|what) (\w+ ){0,2}(group|band|singer|artist|duo|rapper|composer|musician|man|woman|"
                r"star|songwriter|lyricist|producer|guitarist|drummer|pianist|vocalist|act|trio|quartet|family|brothers|sisters)\b",
                re.I), "person"),
    (re.compile(r"\b(which|what) (city|country|town|state|island|nation)\b|^\s*where\b", re.I), "place"),
    (re.compile(r"\b(which|what) (song|album|single|hit|record|musical|opera|track|title|instrument|film)\b", re.I),
     "work"),
)


def _answer_type(question: str, answer: str) -> str | None:
    for pat, t in _TYPE_BY_QUESTION:
        if pat.search(question):
            if t == "year" and not re.fullmatch(r"\d{4}", answer):
                return None
            if t == "number" and not re.fullmatch(r"\d+", answer):
                return None
            return t
    return None


_PLACE_ALIASES = {
    "uk": ("United Kingdom", "Britain", "Great Britain"), "usa": ("United States", "US", "America"),
    "us": ("United States", "USA", "America"), "united states": ("USA", "US", "America"),
    "united kingdom": ("UK", "Britain", "Great Britain"), "holland": ("Netherlands",), "netherlands": ("Holland",),
}


def _gold_and_aliases(answer: str, answer_type: str) -> tuple[str, tuple[str, ...]]:
    """A trivia answer's gold and aliases: "Nicola Roberts (Girls Aloud)" -> "Nicola Roberts", alias the full
    form (the bracket is context, not an answer of its own); common alternative country names for places."""
    ans = answer.strip()
    aliases: list[str] = []
    m = re.fullmatch(r"(.+?)\s*\(([^)]+)\)", ans)
    if m:
        aliases.append(ans)
        ans = m.group(1).strip()
    if answer_type == "place":
        aliases += list(_PLACE_ALIASES.get(ans.lower(), ()))
    return ans, tuple(aliases)


def open_trivia_short_answers(shared: Path) -> Iterator[QAItem]:
    src = "open_trivia_database_music/music.json"
    rows = json.loads((shared / src).read_text(encoding="utf-8"))
    seen: Counter[str] = Counter(re.sub(r"\s+", " ", r["question"]).strip().lower() for r in rows)
    for i, r in enumerate(rows):
        q = re.sub(r"\s+", " ", r["question"]).strip().strip('"').strip()
        answers = r.get("answers") or []
        if len(answers) != 1 or seen[re.sub(r"\s+", " ", r["question"]).strip().lower()] != 1 or (r.get("lang") or "en") != "en":
            continue
        ans = str(answers[0]).strip()
        t = _answer_type(q, ans)
        if t is None or not ans or len(ans) > 60:
            continue
        gold, aliases = _gold_and_aliases(ans, t)
        yield _item("en", q if q.endswith("?") else f"{q}?", gold, t, src, i, aliases)


def nq_open_music(shared: Path) -> Iterator[QAItem]:
    src = "nq_open_music/nq_open_music_candidates.jsonl"
    with open(shared / src, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            r = json.loads(line)
            answers = r.get("answer") or []
            if len(answers) != 1:
                continue
            q = r["question"].strip()
            t = _answer_type(q, answers[0])
            if t is None:
                continue
            question = q[0].upper() + q[1:] + ("" if q.endswith("?") else "?")
            gold, aliases = _gold_and_aliases(answers[0], t)
            yield _item("en", question, gold, t, src, lineno, aliases)


def muchin_songs(shared: Path) -> Iterator[QAItem]:
    """Chinese: the singer of a song named with its album (one singer, a song name unique in the set)."""
    src = "muchin_1k_zh/muchin_descriptions.jsonl"
    rows = []
    with open(shared / src, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            rows.append((lineno, json.loads(line)))
    names = Counter(r["name"].strip() for _, r in rows)
    for lineno, r in rows:
        name, singer, album = r["name"].strip(), r["singer"].strip(), (r.get("album") or "").strip()
        if names[name] != 1 or not singer or re.search(r"[,，/、&]", singer) or len(name) < 2:
            continue
        where = f"（收录于专辑《{album}》）" if album and album != name else ""
        yield _item("zh", f"歌曲《{name}》{where}的演唱者是谁？", singer, "person", src, lineno)


def netease_tracks(shared: Path, min_title_chars: int = 4) -> Iterator[QAItem]:
    """Chinese: the singer of a Chinese-titled track, when the title is long enough to be specific and every
    occurrence in the playlists has the same single artist."""
    src = "netease_playlists_zh/playlist_tracks.jsonl"
    first: dict[str, tuple[int, str]] = {}
    artists: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    with open(shared / src, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            for t in json.loads(line)["tracks"]:
                name = t["name"].strip()
                artists[name].add(tuple(t["artists"]))
                first.setdefault(name, (lineno, t["artists"][0] if t["artists"] else ""))
    for name, (lineno, _) in first.items():
        arts = artists[name]
        if len(arts) != 1 or len(next(iter(arts))) != 1:
            continue
        if len(name) < min_title_chars or not re.fullmatch(r"[\u4e00-\u9fff·，！？ ]+", name):
            continue
        yield _item("zh", f"歌曲《{name}》的原唱歌手是谁？", next(iter(arts))[0], "person", src, lineno)


GENERATORS = (billboard_number_ones, grammy_awards, rolling_stone_500, open_trivia_short_answers, nq_open_music,
              muchin_songs, netease_tracks)


def build_items(shared: Path) -> list[QAItem]:
    """Every item, in generator and file order; a question asked twice (by two sources) is kept once."""
    out: list[QAItem] = []
    seen: set[str] = set()
    for gen in GENERATORS:
        for it in gen(Path(shared)):
            key = re.sub(r"\s+", " ", it.question).strip().lower()
            if key in seen:
                continue
            seen.add(key)
            out.append(it)
    return out


def write_items(items: list[QAItem], path: Path) -> Path:
    from eval.jsonl import write_rows

    return write_rows(path, (it.to_dict() for it in items))
