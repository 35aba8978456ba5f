"""Entity linking of free text to the music catalog: mentions of catalog artists, songs and albums become
`Link`s carrying the catalog ids, so a document can carry what it talks about (`linked_metadata`).

Matching is exact on normalised token sequences, longest match first, left to right. Names alone are
ambiguous ("Hope", "London", "Closer"), so a match links only past the safeguards of `LinkerConfig`,
each measured on labelled queries by `benchmarks/linking_eval.py`: minimum length, a common-word filter
(stop list, catalog genre labels, and how general text uses the name), a case cue, a music-context cue,
and corroboration for titles (a credited artist nearby, quotes, "<title> by <artist>").
"""

from __future__ import annotations

import copy
import json
import logging
import os
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pyarrow as pa

from corpus.classify.lexicon import MUSIC_TERMS_EN, MUSIC_TERMS_ZH

log = logging.getLogger(__name__)

Kind = Literal["artist", "song", "album"]

# CJK ideographs and kana are matched one character at a time: those scripts have no word spaces.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
_APOS = "'\u2019\u2018\u02bc`\u00b4"
_TOKEN = re.compile(rf"[{_CJK}]|&|[^\W_{_CJK}]+(?:[{_APOS}][^\W_{_CJK}]+)*")
_APOS_TABLE = str.maketrans("", "", _APOS)
_CJK_CHAR = re.compile(rf"[{_CJK}]")
_OPEN_QUOTES = "\"'\u201c\u201d\u2018\u2019\u00ab\u300c\u300e\u300a\u3008\u201e"
_CLOSE_QUOTES = "\"'\u201c\u201d\u2018\u2019\u00bb\u300d\u300f\u300b\u3009"
_QUOTES = _OPEN_QUOTES + _CLOSE_QUOTES
_GLUE = "&+_@#"
_DASH_BETWEEN = re.compile(r"\s+[-\u2013\u2014]\s+")
# lowercase words that join the parts of a longer capitalised name ("Son of Sam", "Yuri on Ice")
_NAME_JOINERS = frozenset("of the on in de la le del des du von van".split())
_WIKI_TITLE = re.compile(r"^ = [^=].* = $")
# " - Remastered 2011", " (feat. X)", " [Live]": the part of a title people actually write
_TITLE_SUFFIX = re.compile(r"\s+[-\u2013\u2014]\s+.*$|\s*[(\[].*$")
_BY_AFTER = re.compile(rf"[{_QUOTES}]?\s*,?\s+by\s", re.IGNORECASE)
_BY_BEFORE = re.compile(rf"\bby\s+[{_QUOTES}]?$", re.IGNORECASE)
# words that may stay lowercase inside title-cased names ("Bring Me the Horizon", "Kid A")
_MINOR_WORDS = frozenset(
    "a an and as at by de del der des die du el en et for from in into la le les los of on or the to "
    "van von with y s".split()
)
# music talk near a one-word name or a lone title: the lexicon's unambiguous terms plus a few that are
# ambiguous alone ("band", "track") but fine as context for an already-matched catalog name
_CONTEXT_TERMS_EN = (*MUSIC_TERMS_EN, r"artists?", r"bands?", r"tracks?", r"remix(?:es)?", r"spotify", r"itunes",
                     r"soundcloud", r"feat", r"ft", r"featuring")  # fmt: skip
_CONTEXT = re.compile(
    r"\b(?:" + "|".join(_CONTEXT_TERMS_EN) + r")\b|" + "|".join(MUSIC_TERMS_ZH), re.IGNORECASE
)
# words for a work, wanted near a title that has no corroborating artist
_WORK_TERMS = (
    r"songs?",
    r"tracks?",
    r"singles?",
    r"albums?",
    r"hits?",
    r"tunes?",
    r"covers?",
    r"lyrics?",
    r"listen(?:s|ed|ing)?",
    r"remix(?:es)?",
    r"playlists?",
    r"ep",
    r"lp",
    r"mixtapes?",
    r"records?",
)
_WORK_CONTEXT = re.compile(r"\b(?:" + "|".join(_WORK_TERMS) + r")\b|歌|曲|专辑", re.IGNORECASE)
# lowercase words this frequent in general text (per million tokens) tell Title Case text from prose
FREQUENT_WORD_PPM = 50.0
# the pronoun "I" is capitalised in any English text, so it says nothing about names
_PRONOUN_I = frozenset({"i", "im", "ill", "id", "ive"})

# Words and phrases that name genres, moods, places or parts of music talk rather than an artist or work,
# whatever a reference corpus says; catalog genre labels are added to these when the tables have them.
DEFAULT_STOP_NAMES: tuple[str, ...] = (
    "hope", "home", "love", "yes", "no", "live", "music", "the band", "band", "songs", "song", "album", "albums",
    "artist", "artists", "track", "tracks", "playlist", "mixtape", "ep", "lp", "single", "lyrics", "genre",
    "cover", "remix", "intro", "outro", "interlude", "untitled", "instrumental", "acoustic", "live version",
    "rock", "pop", "jazz", "blues", "metal", "punk", "soul", "funk", "rap", "indie", "country", "folk", "disco",
    "house", "techno", "trance", "edm", "emo", "goth", "gothic", "grunge", "psy", "psych", "lofi", "lo fi",
    "dubstep", "trap", "drill", "boom bap", "bossa nova", "nova", "new age", "new wave", "synthwave",
    "vaporwave", "shoegaze", "ambient", "classical", "opera", "gospel", "reggae", "ska", "dub", "salsa",
    "latin", "latino", "chinese", "japanese", "korean", "french", "german", "spanish", "english", "african",
    "american", "america", "british", "europe", "disney", "christmas", "halloween", "summer", "winter",
    "chill", "vibes", "mood", "sad", "happy", "epic", "dark", "heavy", "soft", "slow", "fast", "fun",
    "something", "anything", "nothing", "everything", "similar", "like", "more", "best", "new", "old", "good",
    "bad", "help", "please", "thanks", "why", "what", "who", "when", "where", "how", "you", "me", "i", "we",
    "us", "it", "this", "that", "one", "two", "today", "tomorrow", "yesterday", "forever", "always", "never",
    "sometimes", "night", "tonight", "morning", "january", "february", "march", "april", "may", "june", "july",
    "august", "september", "october", "november", "december", "monday", "tuesday", "wednesday", "thursday",
    "friday", "saturday", "sunday", "mondays", "tuesdays", "wednesdays", "thursdays", "fridays", "saturdays",
    "sundays",
)  # fmt: skip


@dataclass(frozen=True)
class Link:
    """One linked mention: `text[start:end] == mention`; `ids` are the catalog ids of `kind`, sorted."""

    start: int
    end: int
    mention: str
    kind: Kind
    name: str
    ids: tuple[str, ...]
    evidence: str


@dataclass(frozen=True)
class LinkerConfig:
    """Knobs of `CatalogLinker`; each safeguard can be switched off to measure what it buys. The defaults
    are the setting measured on the MusicRecoNER gold and checked on C4 (`benchmarks/linking_eval.py`)."""

    # --- minimum length: characters of the normalised name without spaces or a leading "the"
    min_name_chars: int = 3
    min_cjk_chars: int = 2
    # --- common-word filter. A name is common when it is in `stop_names`, is a catalog genre label, has
    # no letters ("1997"), or general text (`reference_paths`; None = the web crawl samples and WikiText
    # of the shared data dir) uses it in lowercase `common_lower_ppm` times per million tokens, or
    # capitalised mid-sentence in `common_capitalised_docs` of its documents (places, months, first
    # names); CJK names: jieba's dictionary frequency >= `cjk_common_ppm`. Common names link only when
    # corroborated: a credited artist / one of the artist's works nearby, quotes, "by <artist>".
    common_filter: bool = True
    common_lower_ppm: float = 1.0
    common_capitalised_docs: float = 0.003
    cjk_common_ppm: float = 2.0
    stop_names: tuple[str, ...] = DEFAULT_STOP_NAMES
    genre_labels_common: bool = True
    reference_paths: tuple[str, ...] | None = None
    reference_max_chars: int = 40_000_000
    # --- case cue. In text whose case means something (not all lowercase, all caps or Title Case), every
    # significant word of a mention must be capitalised; mentions of `case_free_min_tokens`+ tokens are
    # exempt. `embedded_cue`: a capitalised mention inside a longer capitalised run ("the Lovely London
    # Sky") is part of another name. `lowercase_rare_artists`: a lowercase artist name still links when
    # general text never writes one of its words in lowercase ("joji", "sufjan stevens").
    case_cue: bool = True
    case_free_min_tokens: int = 6
    embedded_cue: bool = True
    lowercase_rare_artists: bool = True
    # --- music context. One-word artist names (names of fewer than `context_free_min_tokens` tokens),
    # artists no catalog song credits (`context_uncredited`) and titles without a corroborating artist need
    # music words within `context_window_chars` (song, album, band, singer...; for titles: song, track,
    # single, album...) or, for artists, a multi-word artist name nearby.
    context_cue: bool = True
    context_free_min_tokens: int = 2
    context_uncredited: bool = True
    context_window_chars: int = 150
    # --- titles (songs, albums). Linked when a credited artist is named within `cue_window_chars`, or
    # when quoted, or when distinctive alone: not common, written like a name and of at least
    # `title_min_tokens_alone` tokens (`title_min_tokens_caseless` where the case says nothing).
    # "<X> by <Y>" and "<artist> - <X>" make X a title and Y an artist; a title followed by an artist
    # the catalog does not credit is another work of the same name and is left unlinked.
    title_cue: bool = True
    title_min_tokens_alone: int = 2
    title_min_tokens_caseless: int = 3
    cue_window_chars: int = 200
    # --- matching: "the " is optional in artist names ("Beatles" links The Beatles)
    optional_the: bool = True
    # bound on the per-linker cache of non-ASCII token normalisations
    norm_cache_size: int = 200_000


# ------------------------------------------------------------------------------------------ normalisation
def _norm_token(tok: str) -> str:
    if tok.isascii():
        return tok.lower().translate(_APOS_TABLE) if "'" in tok or "`" in tok else tok.lower()
    t = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", tok).casefold())
    t = "".join(c for c in t if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", t).translate(_APOS_TABLE)


def tokenize(text: str, cache: dict[str, str] | None = None) -> list[tuple[str, int, int]]:
    """(normalised token, start, end) over `text`; offsets index the original string.

    Words are runs of letters and digits (NFKC, casefolded, accents dropped; inner apostrophes dropped:
    "Don't" -> "dont"; a possessive "'s" is split off: "Radiohead's" -> "radiohead", "s"); "&" reads as
    "and"; each CJK character is a token; everything else separates tokens.
    """
    out: list[tuple[str, int, int]] = []
    for m in _TOKEN.finditer(text):
        tok, s, e = m.group(), m.start(), m.end()
        if tok == "&":
            out.append(("and", s, e))
        elif len(tok) > 2 and tok[-1] in "sS" and tok[-2] in _APOS:
            out.append((_cached_norm(tok[:-2], cache), s, e - 2))
            out.append(("s", e - 1, e))
        else:
            out.append((_cached_norm(tok, cache), s, e))
    return out


def _cached_norm(tok: str, cache: dict[str, str] | None) -> str:
    if cache is None or tok.isascii():
        return _norm_token(tok)
    n = cache.get(tok)
    if n is None:
        n = cache[tok] = _norm_token(tok)
    return n


def name_key(name: str) -> tuple[str, ...]:
    """The normalised token sequence a catalog name is matched by."""
    return tuple(t for t, _, _ in tokenize(name))


def _name_keys(name: str) -> set[tuple[str, ...]]:
    """Keys of a catalog name and its spelling variants ("Florence + the Machine" is also "... and ...")."""
    keys = {name_key(name)}
    if "+" in name:
        keys.add(name_key(name.replace("+", " & ")))
    return {k for k in keys if k}


def _is_cjk_key(key: tuple[str, ...]) -> bool:
    return any(_CJK_CHAR.match(t) for t in key)


def _artist_canon(key: tuple[str, ...]) -> str:
    """One spelling per artist for co-mention checks: normalised, leading "the" dropped."""
    return " ".join(key[1:] if len(key) > 1 and key[0] == "the" else key)


# ------------------------------------------------------------------------------------------ catalog index
@dataclass
class _Work:
    kind: Kind
    id: str
    artists: frozenset[str]  # `_artist_canon` of the credited artists


@dataclass
class _Entry:
    """Everything one normalised name can refer to."""

    artist_ids: set[str] = field(default_factory=set)
    works: list[_Work] = field(default_factory=list)
    cue_artist: str | None = None  # the artist canon when this name names an artist (any table)
    credited: bool = False  # some catalog song or album credits an artist of this name
    work_artists: frozenset[str] = frozenset()  # credited artists of all `works`
    spellings: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))

    def name(self, kind: str) -> str:
        c = self.spellings[kind]
        return min(c, key=lambda s: (-c[s], s)) if c else ""


@dataclass
class _ReferenceStats:
    """How general text (`n_docs` documents, `n_tokens` tokens) uses the catalog names."""

    lower: Counter  # uses in lowercase, per name
    upper: Counter  # documents using the name capitalised, not at a sentence start
    n_tokens: int
    n_docs: int
    words: frozenset[str]  # frequent lowercase words (title-case detection)
    vocab: frozenset[str]  # every word seen in lowercase
    cjk_ppm: dict[tuple[str, ...], float]  # jieba dictionary frequency of CJK names, per million


@dataclass(slots=True)
class _Candidate:
    i: int  # first token
    n: int  # token count
    key: tuple[str, ...]
    entry: _Entry
    start: int
    end: int


@dataclass
class _Doc:
    """Per-call context: the text, whether its case says anything, where artists and works are named."""

    text: str
    toks: list[tuple[str, int, int]]
    cased: bool
    frequent: frozenset[str]  # ordinary words of general text
    named: set[tuple[int, int]] = field(default_factory=set)  # artist spans written like names
    music_at: list[int] | None = None  # where music words are (computed when first needed)
    work_at: list[int] | None = None  # where words for works (song, album, track...) are
    last_artist_end: int = -1  # end of the last artist linked so far ("<artist> - <title>")
    artists: dict[str, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))
    works_by: dict[str, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))


class CatalogLinker:
    """Links catalog artists, songs and albums mentioned in text. Build once per worker, then `link`."""

    def __init__(self, cfg: LinkerConfig = LinkerConfig()) -> None:
        self.cfg = cfg
        self._entries: dict[tuple[str, ...], _Entry] = {}
        self._starts: dict[tuple[str, str], tuple[int, ...]] = {}
        self._genres: set[tuple[str, ...]] = set()
        self._stats: _ReferenceStats | None = None
        self._common: set[tuple[str, ...]] | None = None
        self._norm_cache: dict[str, str] = {}
        self._length_ok: dict[tuple[str, ...], bool] = {}

    # ---------------------------------------------------------------- building
    @classmethod
    def from_tables(
        cls,
        artists: pa.Table | None,
        songs: pa.Table | None,
        albums: pa.Table | None,
        cfg: LinkerConfig = LinkerConfig(),
    ) -> CatalogLinker:
        """Index the `artists`, `songs` and `albums` catalog tables (columns of `schemas.datasets`)."""
        self = cls(cfg)
        if artists is not None:
            _require(artists, "artists", ("artist_id", "name"))
            for aid, name in zip(artists.column("artist_id").to_pylist(), artists.column("name").to_pylist(),
                                 strict=True):  # fmt: skip
                if aid and name:
                    self._add_artist(name, aid)
        for table, what, id_col in ((songs, "songs", "song_id"), (albums, "albums", "album_id")):
            if table is None:
                continue
            _require(table, what, (id_col, "title", "artists"))
            kind: Kind = "song" if what == "songs" else "album"
            for wid, title, credited in zip(table.column(id_col).to_pylist(), table.column("title").to_pylist(),
                                            table.column("artists").to_pylist(), strict=True):  # fmt: skip
                if wid and title:
                    self._add_work(kind, wid, title, credited or [])
        for table in (artists, songs, albums):
            if table is not None and "genres" in table.column_names:
                for labels in table.column("genres").to_pylist():
                    self._genres.update(name_key(g) for g in labels or () if g)
        for e in self._entries.values():
            e.work_artists = frozenset(a for w in e.works for a in w.artists)
        self._starts = _start_index(self._entries)
        log.info("catalog linker: %d names indexed", len(self._entries))
        return self

    def _entry(self, key: tuple[str, ...]) -> _Entry:
        e = self._entries.get(key)
        if e is None:
            e = self._entries[key] = _Entry()
        return e

    def _artist_keys(self, name: str) -> set[tuple[str, ...]]:
        keys = _name_keys(name)
        if self.cfg.optional_the:
            keys |= {k[1:] for k in keys if len(k) > 1 and k[0] == "the" and k[1:] not in (("the",), ("s",))}
        return keys

    def _add_artist(self, name: str, aid: str | None) -> None:
        for key in self._artist_keys(name):
            e = self._entry(key)
            e.cue_artist = e.cue_artist or _artist_canon(key)
            e.credited = e.credited or aid is None
            if aid is not None:
                e.artist_ids.add(aid)
                e.spellings["artist"][name] += 1

    def _add_work(self, kind: Kind, wid: str, title: str, credited: list[str]) -> None:
        canon = frozenset(_artist_canon(k) for a in credited if a for k in _name_keys(a))
        for a in credited:
            if a:
                self._add_artist(a, None)  # a cue name: credited artists need not have an artists row
        base = _TITLE_SUFFIX.sub("", title).strip() or title
        for key in _name_keys(title) | _name_keys(base):
            e = self._entry(key)
            e.works.append(_Work(kind, wid, canon))
            e.spellings[kind][base] += 1

    # ---------------------------------------------------------------- common names
    def setup(self, reference_texts: Iterable[str] | None = None) -> CatalogLinker:
        """Count how general text uses the catalog names (one-time, seconds), from `reference_texts` or the
        files of `cfg.reference_paths`, and decide which are common words. Called by the first `link`."""
        self._stats = self._reference_stats(reference_texts)
        self._common = self._common_names(self._stats)
        return self

    def with_config(self, cfg: LinkerConfig) -> CatalogLinker:
        """The same index under other decision knobs (`optional_the` is fixed when the index is built);
        reference counts are shared when the reference text is the same."""
        new = copy.copy(self)
        new.cfg = cfg
        new._norm_cache = {}
        new._length_ok = {}
        same_ref = (cfg.reference_paths, cfg.reference_max_chars) == (
            self.cfg.reference_paths, self.cfg.reference_max_chars)  # fmt: skip
        new._stats = self._stats if same_ref else None
        new._common = new._common_names(new._stats) if new._stats is not None else None
        return new

    def _reference_stats(self, texts: Iterable[str] | None) -> _ReferenceStats:
        if texts is None:
            texts = read_reference_texts(self.cfg.reference_paths, self.cfg.reference_max_chars)
        lower: Counter = Counter()
        upper: Counter = Counter()
        words: Counter = Counter()
        n_tokens = 0
        n_docs = 0
        for text in texts:
            toks = tokenize(text, self._norm_cache)
            n_tokens += len(toks)
            n_docs += 1
            words.update(n for n, s, _ in toks if text[s].islower())
            capitalised: set[tuple[str, ...]] = set()
            for c in self._candidates(toks):
                span = toks[c.i : c.i + c.n]
                if _written_lower(text, span):
                    lower[c.key] += 1
                elif _written_capitalised(text, span) and not _sentence_start(text, c.start):
                    capitalised.add(c.key)
            upper.update(capitalised)
        if not n_tokens:
            log.warning(
                "catalog linker: no reference text found; the common-word filter uses the stop list only"
            )
        cjk: dict[tuple[str, ...], float] = {}
        cjk_keys = [k for k in self._entries if _is_cjk_key(k)]
        if cjk_keys:
            freq, total = _jieba_frequencies()
            cjk = {k: freq.get("".join(k), 0) * 1e6 / total for k in cjk_keys}
        log.info("catalog linker: reference text of %d tokens counted", n_tokens)
        floor = FREQUENT_WORD_PPM * n_tokens / 1e6
        frequent = frozenset(w for w, v in words.items() if v >= floor and len(w) > 2) - _MINOR_WORDS
        return _ReferenceStats(lower, upper, n_tokens, n_docs, frequent, frozenset(words), cjk)

    def _common_names(self, stats: _ReferenceStats) -> set[tuple[str, ...]]:
        cfg = self.cfg
        common = {name_key(s) for s in cfg.stop_names}
        if cfg.genre_labels_common:
            common |= self._genres
        if stats.n_tokens:
            floor = max(2.0, cfg.common_lower_ppm * stats.n_tokens / 1e6)  # one use is no habit
            common.update(k for k, v in stats.lower.items() if v >= floor)
            floor = max(2.0, cfg.common_capitalised_docs * stats.n_docs)
            common.update(k for k, v in stats.upper.items() if v >= floor)
        common.update(k for k in self._entries if not any(ch.isalpha() for t in k for ch in t))
        common.update(k for k, ppm in stats.cjk_ppm.items() if ppm >= cfg.cjk_common_ppm)
        # "The Chinese" is as common as "Chinese"
        common.update(k for k in self._entries if len(k) > 1 and k[0] == "the" and k[1:] in common)
        return common

    def is_common(self, name: str) -> bool:
        """Whether `name` counts as a common word or phrase (linked only with corroboration)."""
        if self._common is None:
            self.setup()
        return name_key(name) in self._common  # type: ignore[operator]

    def kinds_of(self, name: str) -> frozenset[str]:
        """The kinds (`artist`, `song`, `album`) the catalog has under this exact normalised name."""
        e = self._entries.get(name_key(name))
        if e is None:
            return frozenset()
        return frozenset({"artist"} if e.artist_ids else set()) | {w.kind for w in e.works}

    # ---------------------------------------------------------------- linking
    def link(self, text: str) -> list[Link]:
        """Longest non-overlapping catalog mentions in `text`, left to right, that pass the safeguards."""
        if self._common is None:
            self.setup()
        if len(self._norm_cache) > self.cfg.norm_cache_size:
            self._norm_cache.clear()
        toks = tokenize(text, self._norm_cache)
        cands = list(self._candidates(toks))
        if not cands:
            return []
        doc = self._context(text, toks, cands)
        by_pos: dict[int, list[_Candidate]] = defaultdict(list)
        for c in cands:
            by_pos[c.i].append(c)  # longest first: `_candidates` yields lengths in descending order
        links: list[Link] = []
        i, n = 0, len(toks)
        while i < n:
            for c in by_pos.get(i, ()):
                link = self._decide(c, doc)
                if link is not None:
                    links.append(link)
                    if link.kind == "artist":
                        doc.last_artist_end = link.end
                    i += c.n
                    break
            else:
                i += 1
        return links

    def _candidates(self, toks: list[tuple[str, int, int]]) -> Iterator[_Candidate]:
        """Every catalog name at every position (all lengths, longest first)."""
        starts, entries = self._starts, self._entries
        norms = [t[0] for t in toks]
        n = len(norms)
        for i in range(n):
            # names of 2+ tokens are found through their first two tokens, which few share
            lens = starts.get((norms[i], norms[i + 1])) if i + 1 < n else None
            if lens is not None:
                for L in lens:
                    if i + L <= n:
                        key = tuple(norms[i : i + L])
                        e = entries.get(key)
                        if e is not None:
                            yield _Candidate(i, L, key, e, toks[i][1], toks[i + L - 1][2])
            e = entries.get((norms[i],))
            if e is not None:
                yield _Candidate(i, 1, (norms[i],), e, toks[i][1], toks[i][2])

    def _context(self, text: str, toks: list[tuple[str, int, int]], cands: list[_Candidate]) -> _Doc:
        frequent = self._stats.words if self._stats is not None else frozenset()
        doc = _Doc(text, toks, _uses_case(text, toks, frequent), frequent)
        for c in cands:
            # a cue must itself look like a name: long enough, and not common unless written as a name
            e = c.entry
            if not self._long_enough(c.key) or _glued(text, c.start, c.end):
                continue
            common = self._is_common(c.key)
            if e.cue_artist is not None and (e.credited or c.n > 1 or not common):
                named = self._case(c, doc) is True
                if named or not common:
                    doc.artists[e.cue_artist].append((c.start, c.end))
                    if named:
                        doc.named.add((c.start, c.end))
            if not common:
                for a in e.work_artists:
                    doc.works_by[a].append((c.start, c.end))
        return doc

    def _long_enough(self, key: tuple[str, ...]) -> bool:
        ok = self._length_ok.get(key)
        if ok is None:
            ok = self._length_ok[key] = self._compute_long_enough(key)
        return ok

    def _compute_long_enough(self, key: tuple[str, ...]) -> bool:
        if _is_cjk_key(key):
            return len(key) >= self.cfg.min_cjk_chars
        if len(key) > 1 and key[0] == "the":
            key = key[1:]  # "The K" is as short as "K"
        return sum(len(t) for t in key) >= self.cfg.min_name_chars

    def _is_common(self, key: tuple[str, ...]) -> bool:
        return self.cfg.common_filter and key in self._common  # type: ignore[operator]

    def _case(self, c: _Candidate, doc: _Doc) -> bool | None:
        """True: written like a name (significant words capitalised, or all caps); False: written like
        ordinary words; None: the text gives no cue (no case, Title Case, or only a sentence-initial capital)."""
        if not self.cfg.case_cue or c.n >= self.cfg.case_free_min_tokens:
            return True
        if not doc.cased:
            return None
        cues: list[bool] = []
        for k, (norm, s, e) in enumerate(doc.toks[c.i : c.i + c.n]):
            w = doc.text[s:e]
            first = next((ch for ch in w if ch.isalpha()), "")
            if not (first.isupper() or first.islower()) or norm in _PRONOUN_I:
                continue  # caseless (digits, CJK) or "I"
            if first.islower() and norm in _MINOR_WORDS and c.n > 1:
                if k == 0 and norm != "the":
                    return False  # "on Broadway", "in the Air": a name does not start with a lowercase "on"
                continue
            if (
                k == 0
                and first.isupper()
                and _sentence_start(doc.text, s)
                and not (len(w) > 1 and w.isupper())
            ):
                continue  # a sentence-initial capital proves nothing
            cues.append(first.isupper())
        if self.cfg.embedded_cue and all(cues) and _extends(doc, c):
            return False  # capitalised, but as part of a longer name that is not in the catalog
        return all(cues) if cues else None

    def _lowercase_ok(self, c: _Candidate, doc: _Doc) -> bool:
        """A lowercase artist name (not common) is still a name when general text never writes some word of it
        in lowercase ("joji", "sufjan stevens"); "car seat headrest" or "this day and age" are not."""
        if not self.cfg.lowercase_rare_artists or not doc.text[c.start : c.end].islower():
            return False  # capitalised yet case is False: embedded in a longer name
        vocab = self._stats.vocab if self._stats is not None else frozenset()
        return any(t not in vocab for t in c.key)

    def _context_free(self, c: _Candidate) -> bool:
        """Multi-word names of artists with catalog songs or albums need no music context."""
        return c.n >= self.cfg.context_free_min_tokens and (
            c.entry.credited or not self.cfg.context_uncredited
        )

    def _music_context(self, c: _Candidate, doc: _Doc) -> bool:
        if not self.cfg.context_cue:
            return True
        if doc.music_at is None:
            doc.music_at = [m.start() for m in _CONTEXT.finditer(doc.text)]
        w = self.cfg.context_window_chars
        if any(c.start - w <= p <= c.end + w for p in doc.music_at):
            return True
        return any(len(a.split()) > 1 and self._near(spans, c) for a, spans in doc.artists.items())

    def _work_context(self, c: _Candidate, doc: _Doc) -> bool:
        if not self.cfg.context_cue:
            return True
        if doc.work_at is None:
            doc.work_at = [m.start() for m in _WORK_CONTEXT.finditer(doc.text)]
        w = self.cfg.context_window_chars
        return any(c.start - w <= p <= c.end + w for p in doc.work_at)

    def _near(self, spans: list[tuple[int, int]] | None, c: _Candidate) -> tuple[int, int] | None:
        w = self.cfg.cue_window_chars
        for s, e in spans or ():
            if e <= c.start and c.start - e <= w or s >= c.end and s - c.end <= w:
                return (s, e)
        return None

    def _decide(self, c: _Candidate, doc: _Doc) -> Link | None:
        if not self._long_enough(c.key) or _glued(doc.text, c.start, c.end):
            return None
        e, cfg = c.entry, self.cfg
        common = self._is_common(c.key)
        if common and not (  # a common name links only with corroboration: skip the rest when none can come
            e.work_artists
            and not e.work_artists.isdisjoint(doc.artists)
            or e.artist_ids
            and (e.cue_artist in doc.works_by or _by_before(doc.text, c.start))
            or e.works
            and c.n > 1
            and _quoted(doc.text, c.start, c.end)
        ):
            return None
        case = self._case(c, doc)
        # "<X> by <Y>": X is a title, Y an artist
        title_slot = cfg.title_cue and (
            _BY_AFTER.match(doc.text, c.end) is not None
            or doc.last_artist_end >= 0
            and _DASH_BETWEEN.fullmatch(doc.text, doc.last_artist_end, c.start) is not None
        )
        artist_slot = cfg.title_cue and _by_before(doc.text, c.start)
        # 1. a title whose credited artist is named nearby: the high-precision path
        if e.works and not artist_slot:
            by_kind: dict[str, list[str]] = defaultdict(list)
            evidence = ""
            for w in e.works:
                span = next((s for a in w.artists if (s := self._near(doc.artists.get(a), c))), None)
                # both written in lowercase ("all four pillows ... the pillows") is no evidence
                if span is not None and (case is not False or span in doc.named and not common
                                         or _by_before(doc.text, span[0])):  # fmt: skip
                    by_kind[w.kind].append(w.id)
                    if not evidence:
                        by = span[0] > c.end and _by_before(doc.text, span[0])
                        evidence = ("by-artist:" if by else "artist-nearby:") + doc.text[span[0] : span[1]]
            for kind in ("song", "album"):
                if by_kind.get(kind):
                    return self._make(c, doc, kind, by_kind[kind], evidence)  # type: ignore[arg-type]
        # 2. an artist name
        if e.artist_ids and not title_slot:
            if (not common and (case is not False or self._lowercase_ok(c, doc))
                    and (self._context_free(c) or self._music_context(c, doc))):  # fmt: skip
                return self._make(c, doc, "artist", e.artist_ids, "name")
            if self._near(doc.works_by.get(e.cue_artist or ""), c) and (
                case is True or case is None and not common
            ):
                return self._make(c, doc, "artist", e.artist_ids, "work-nearby")
            if artist_slot and case is True and self._music_context(c, doc):
                return self._make(c, doc, "artist", e.artist_ids, "by-artist")
        # 3. a title on its own
        if e.works and not artist_slot:
            if not cfg.title_cue:
                ok, ev = not common and case is not False, "name"
            elif title_slot:
                ok, ev = False, ""  # "<title> by <someone not credited>": another work of the same name
            elif _quoted(doc.text, c.start, c.end):
                ok, ev = case is not False and (not common or c.n > 1), "quoted"
            else:
                need = cfg.title_min_tokens_alone if case is True else cfg.title_min_tokens_caseless
                ok, ev = not common and case is not False and c.n >= need, "distinctive-title"
            if ok and ev != "name" and not self._work_context(c, doc):
                ok = False
            if ok:
                kind: Kind = "song" if any(w.kind == "song" for w in e.works) else "album"
                return self._make(c, doc, kind, [w.id for w in e.works if w.kind == kind], ev)
        return None

    def _make(self, c: _Candidate, doc: _Doc, kind: Kind, ids: Iterable[str], evidence: str) -> Link:
        return Link(c.start, c.end, doc.text[c.start : c.end], kind, c.entry.name(kind),
                    tuple(sorted(set(ids))), evidence)  # fmt: skip


# ------------------------------------------------------------------------------------------ helpers
def linked_metadata(links: Iterable[Link]) -> list[dict]:
    """Compact JSON-able summaries of links for a document's metadata."""
    return [{"kind": x.kind, "name": x.name, "ids": list(x.ids), "span": [x.start, x.end]} for x in links]


def _require(table: pa.Table, what: str, cols: tuple[str, ...]) -> None:
    missing = [c for c in cols if c not in table.column_names]
    if missing:
        raise ValueError(
            f"{what} table lacks column(s) {missing} (has {table.column_names}); "
            f"pass the `{what}` dataset as ingested (see schemas/datasets.py)."
        )


def _start_index(entries: dict[tuple[str, ...], _Entry]) -> dict[tuple[str, str], tuple[int, ...]]:
    """Token counts of the 2+ token names, by their first two tokens, longest first."""
    lens: dict[tuple[str, str], set[int]] = defaultdict(set)
    for key in entries:
        if len(key) > 1:
            lens[key[0], key[1]].add(len(key))
    return {t: tuple(sorted(v, reverse=True)) for t, v in lens.items()}


def _first_alpha(w: str) -> str:
    return next((ch for ch in w if ch.isalpha()), "")


def _written_lower(text: str, toks: list[tuple[str, int, int]]) -> bool:
    """A use in ordinary lowercase: some cased word, none capitalised but the pronoun "I"."""
    seen = False
    for norm, s, e in toks:
        first = _first_alpha(text[s:e])
        if first.isupper() and norm not in _PRONOUN_I:
            return False
        seen = seen or first.islower()
    return seen


def _uses_case(text: str, toks: list[tuple[str, int, int]], frequent: frozenset[str]) -> bool:
    """Whether capitals in `text` can mark names: it has both cases, and its ordinary words (`frequent`
    in general text) are mostly lowercase, i.e. it is not written in Title Case or all caps."""
    upper = lower = 0
    for norm, s, _ in toks:
        if norm in frequent and not _sentence_start(text, s):
            if text[s].isupper():
                upper += 1
            elif text[s].islower():
                lower += 1
    if upper + lower == 0:
        return any(ch.isupper() for ch in text) and any(ch.islower() for ch in text)
    return lower > 0 and not (upper >= 2 and upper >= 0.5 * (upper + lower))


def _capitalised(text: str, tok: tuple[str, int, int]) -> bool:
    """A capitalised word that can continue a name: not "I", not a function word unless an initial ("A.")."""
    w = text[tok[1] : tok[2]]
    if (
        tok[0] in _PRONOUN_I
        or tok[0] in _MINOR_WORDS
        and not (len(w) == 1 and text[tok[2] : tok[2] + 1] == ".")
    ):
        return False
    return _first_alpha(w).isupper()


def _extends(doc: _Doc, c: _Candidate) -> bool:
    """Whether capitalised words continue the mention on either side (across single spaces, and across
    one joining word such as "of")."""
    text, toks = doc.text, doc.toks

    def joined(a: int, b: int) -> bool:  # tokens a < b separated by one space
        return 0 <= a and b < len(toks) and text[toks[a][2] : toks[b][1]] == " "

    j = c.i - 1
    # a sentence-initial word continues the name unless it is an ordinary word ("Love Radiohead")
    if joined(j, c.i) and _capitalised(text, toks[j]) and (
            not _sentence_start(text, toks[j][1]) or toks[j][0] not in doc.frequent):  # fmt: skip
        return True
    if (joined(j, c.i) and toks[j][0] in _NAME_JOINERS and text[toks[j][1]].islower() and joined(j - 1, j)
            and _capitalised(text, toks[j - 1]) and not _sentence_start(text, toks[j - 1][1])):  # fmt: skip
        return True
    k = c.i + c.n
    if joined(k - 1, k) and _capitalised(text, toks[k]):
        return True
    return (joined(k - 1, k) and toks[k][0] in _NAME_JOINERS and text[toks[k][1]].islower() and joined(k, k + 1)
            and _capitalised(text, toks[k + 1]))  # fmt: skip


def _written_capitalised(text: str, toks: list[tuple[str, int, int]]) -> bool:
    """Every significant word capitalised ("New York", "Bank of America")."""
    seen = False
    for norm, s, e in toks:
        first = _first_alpha(text[s:e])
        if first.islower() and norm not in _MINOR_WORDS:
            return False
        seen = seen or first.isupper()
    return seen


def _glued(text: str, start: int, end: int) -> bool:
    """The span is part of a longer token joined by "&", "+", "_", "@" or "#" ("R&B"). Hyphens do not glue:
    Reddit writes "Runaway-Jamiroquai" for "Runaway - Jamiroquai"."""
    if start > 1 and text[start - 1] in _GLUE and text[start - 2].isalnum():
        return True
    return end + 1 < len(text) and text[end] in _GLUE and text[end + 1].isalnum()


def _by_before(text: str, pos: int) -> bool:
    """The word "by" (and maybe an opening quote) right before `pos`."""
    return _BY_BEFORE.search(text[max(0, pos - 12) : pos]) is not None


def _quoted(text: str, start: int, end: int) -> bool:
    return start > 0 and end < len(text) and text[start - 1] in _OPEN_QUOTES and text[end] in _CLOSE_QUOTES


def _sentence_start(text: str, start: int) -> bool:
    j = start - 1
    while j >= 0 and text[j] in " \t\"'\u201c\u2018(":
        j -= 1
    return j < 0 or text[j] in ".!?\n:;|"


def _jieba_frequencies() -> tuple[dict[str, int], int]:
    """Word frequencies of jieba's dictionary (Chinese common words), or nothing if jieba is absent."""
    try:
        import jieba
    except ImportError:
        log.warning("catalog linker: jieba not installed; Chinese names are not checked for commonness")
        return {}, 1
    freq: dict[str, int] = {}
    total = 0
    with open(Path(jieba.__file__).parent / "dict.txt", encoding="utf-8") as fh:
        for line in fh:
            parts = line.split(" ")
            if len(parts) >= 2 and parts[1].isdigit():
                freq[parts[0]] = int(parts[1])
                total += int(parts[1])
    return freq, max(total, 1)


def default_reference_paths() -> tuple[Path, ...]:
    """General English text in the shared data dir (web crawl samples and WikiText), if present."""
    env = os.environ.get("MUSIC_SHARED_DATA")
    root = Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "data"
    web = sorted((root / "web_crawl_samples").glob("*.jsonl"))
    wiki = sorted((root / "wikitext2_raw").glob("wiki.*.raw"))
    return tuple(p for p in (*web, *wiki) if p.is_file())


def read_reference_texts(paths: Iterable[str | Path] | None, max_chars: int) -> Iterator[str]:
    """Documents of JSONL files (field `text`) and plain-text files (WikiText: one article per top-level
    " = Title = " heading; otherwise one per line), up to `max_chars` in all."""
    files = default_reference_paths() if paths is None else tuple(Path(p) for p in paths)
    left = max_chars
    for p in files:
        for text in _jsonl_texts(p) if p.suffix == ".jsonl" else _plain_texts(p):
            if left <= 0:
                return
            left -= len(text)
            yield text


def _jsonl_texts(p: Path) -> Iterator[str]:
    with open(p, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            try:
                yield json.loads(line).get("text") or ""
            except (json.JSONDecodeError, AttributeError):
                log.warning("%s line %d: not a JSON object; skipped", p, n)


def _plain_texts(p: Path) -> Iterator[str]:
    buf: list[str] = []
    with open(p, encoding="utf-8") as fh:
        for line in fh:
            if _WIKI_TITLE.match(line) and buf:
                yield "".join(buf)
                buf = []
            buf.append(line)
    if buf:
        yield "".join(buf)
