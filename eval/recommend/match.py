"""Match one line of a model's recommendation answer to a catalog song (or to nothing).

A line such as `3. "Hey Jude" by The Beatles (Remastered 2009)`, `Bohemian Rhapsody - Queen`,
`《七里香》- 周杰伦` or `Dilemma (feat. Kelly Rowland) – Nelly` is parsed into a title and, when present, an
artist; both are normalised (case, diacritics, punctuation, "&"/"and", featured-artist credits, remaster /
live / edit / version suffixes, full-width forms) and matched against the catalog:

1. titles equal after normalisation (the song's aliases count as titles, so Chinese and English forms match
   through them), else the closest title by rapidfuzz's `ratio` at or above `title_threshold`;
2. with an artist in the line: the candidate whose artists (and artist aliases) are closest by rapidfuzz's
   `token_set_ratio`, at or above `artist_threshold`; without one: only a title that names one song.

rapidfuzz (C++; a kept library) does the fuzzy scoring; the parsing and normalisation are ours.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz, process


@dataclass(frozen=True)
class CatalogSong:
    song_id: str
    title: str
    artists: tuple[str, ...]
    aliases: tuple[str, ...] = field(default_factory=tuple)
    """Other titles of the song (another language, a common short form) and other names of its artists."""


_FEAT = re.compile(r"[\(\[（【]?\s*\b(?:feat\.?|featuring|ft\.?|with)\s+[^\)\]）】]*[\)\]）】]?", re.IGNORECASE)
_SUFFIX = re.compile(
    r"\s*(?:[-–—:]\s*|[\(\[（【]\s*)(?:\d{4}\s+)?(?:live at [^\)\]）】]*|re-?master(?:ed)?|live|radio edit|single version|album version|"
    r"mono|stereo|edit|version|remix|acoustic|demo|deluxe|bonus track|explicit|clean|instrumental|"
    r"\d{4}\s+re-?master(?:ed)?|re-?recorded|伴奏|现场版|现场|live版)(?:\s+\d{4})?\s*[\)\]）】]?",
    re.IGNORECASE,
)
_NUMBERING = re.compile(r"^\s*(?:\d{1,2}\s*[.)、:：]|[-*•·]|#\d+)\s*")
_SEP = re.compile(r"\s+(?:-|–|—|by|/)\s+|\s*[-–—]\s*(?=[^\s])(?<=\S[-–—])|(?<=[》」』])\s*[-–—/:：]?\s*", re.IGNORECASE)


def normalize(text: str) -> str:
    """Comparison form of a title or an artist name."""
    s = unicodedata.normalize("NFKC", str(text or ""))
    s = "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c)).casefold()
    s = _FEAT.sub(" ", s)
    s = _SUFFIX.sub(" ", s)
    s = s.replace("&", " and ")
    s = re.sub(r"[’'`´]", "", s)
    s = re.sub(r"[^\w\s]", " ", s)
    s = re.sub(r"\b(?:the|a|an)\b", " ", s)
    s = re.sub(r"\s+", " ", s).strip()
    return re.sub(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])", "", s)


def parse_line(line: str) -> tuple[str, str | None]:
    """(title, artist or None) from one answer line: numbering and quotes removed; `"T" by A`, `T - A`,
    `《T》 A`, `T（A）`. When a dash separates two parts and only the second is quoted, the quoted part is
    the title (`A - "T"`)."""
    s = _NUMBERING.sub("", unicodedata.normalize("NFKC", line)).strip().rstrip(".;,，。")
    m = re.match(r"^[《「『](.+?)[》」』]\s*(?:[-–—/:：by]*\s*)?(.*)$", s)
    if m:
        return m.group(1).strip(), (m.group(2).strip(" -–—()（）") or None)
    m = re.match(r'^["“”](.+?)["“”]\s*(?:(?:by|-|–|—|/)\s*)?(.*)$', s, re.IGNORECASE)
    if m:
        return m.group(1).strip(), (m.group(2).strip(" -–—") or None)
    m = re.match(r'^(.+?)\s*(?:-|–|—)\s*["“](.+?)["”]\s*$', s)
    if m:  # Artist - "Title"
        return m.group(2).strip(), m.group(1).strip()
    m = re.match(r"^(.+?)\s+by\s+(.+)$", s, re.IGNORECASE)
    if m:
        return m.group(1).strip(' "“”'), m.group(2).strip()
    m = re.match(r"^(.+?)\s+[-–—]\s+(.+)$", s)
    if m:
        return m.group(1).strip(' "“”'), m.group(2).strip()
    m = re.match(r"^(.+?)\s*[（(]([^)）]+)[)）]\s*$", s)
    if m and not _SUFFIX.fullmatch(f" ({m.group(2)})"):
        return m.group(1).strip(), m.group(2).strip()
    return s.strip(' "“”'), None


class CatalogMatcher:
    """Matches answer lines to catalog songs (see the module docstring). Build once, call `match` per line."""

    def __init__(self, songs: Iterable[CatalogSong], title_threshold: float = 90.0, artist_threshold: float = 80.0):
        self.songs = list(songs)
        self.title_threshold = title_threshold
        self.artist_threshold = artist_threshold
        self._by_title: dict[str, list[int]] = defaultdict(list)
        self._artists: list[list[str]] = []
        for i, s in enumerate(self.songs):
            titles = {normalize(s.title), *(normalize(a) for a in s.aliases)}
            for t in titles:
                if t:
                    self._by_title[t].append(i)
            self._artists.append([normalize(a) for a in (*s.artists, *s.aliases) if normalize(a)])
        self._titles = list(self._by_title)

    @classmethod
    def from_jsonl(cls, path: str | Path, **kw: float) -> CatalogMatcher:
        """A catalog file: one JSON object per line with `song_id`, `title`, `artists` and optional `aliases`."""
        from eval.jsonl import read_rows

        songs = []
        for _, r in read_rows(path, ("song_id", "title", "artists"), "a catalog line holds song_id, title, artists"):
            arts = r["artists"] if isinstance(r["artists"], list) else [r["artists"]]
            songs.append(CatalogSong(str(r["song_id"]), r["title"], tuple(arts), tuple(r.get("aliases") or ())))
        return cls(songs, **kw)

    def _candidates(self, title: str) -> list[int]:
        t = normalize(title)
        if not t:
            return []
        if t in self._by_title:
            return self._by_title[t]
        best = process.extractOne(t, self._titles, scorer=fuzz.ratio, score_cutoff=self.title_threshold)
        return self._by_title[best[0]] if best else []

    def match(self, line: str) -> str | None:
        """The catalog `song_id` the line names, or None."""
        title, artist = parse_line(line)
        cands = self._candidates(title)
        if not cands and artist:  # "Artist - Title" written the other way round
            title, artist = artist, title
            cands = self._candidates(title)
        if not cands:
            return None
        if artist is None:
            return self.songs[cands[0]].song_id if len(cands) == 1 else None
        a = normalize(artist)
        scored = [(max((fuzz.token_set_ratio(a, x) for x in self._artists[i]), default=0.0), i) for i in cands]
        score, i = max(scored, key=lambda si: (si[0], -si[1]))
        return self.songs[i].song_id if score >= self.artist_threshold else None


def match_file(in_path: str | Path, catalog: str | Path, out_path: str | Path) -> dict[str, int]:
    """`music-eval match`: each input line's `line` matched; writes the lines back with `song_id` (or null)."""
    from eval.jsonl import read_rows, write_rows

    matcher = CatalogMatcher.from_jsonl(catalog)
    rows = [{**r, "song_id": matcher.match(r["line"])}
            for _, r in read_rows(in_path, ("line",), "each line holds `line`, one line of a model's answer")]
    write_rows(out_path, rows)
    return {"lines": len(rows), "matched": sum(r["song_id"] is not None for r in rows)}
