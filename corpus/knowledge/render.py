"""Render catalog records as English or Chinese training text whose template wording takes no loss.

Stage 1 (objective knowledge): songs (with their chart entries and awards), artists, albums, chart
editions, award categories. Stage 2 (subjective knowledge): comments joined to their item, playlists,
co-occurrence relations. Every stated value is a `Fact` whose `field` traces it to its source column
(`title`, or a path such as `charts[2].rank` / `entries[5].artists` for related rows); a function returns
None when a record has nothing to state, which callers count as the drop reason `no_renderable_facts`;
`RenderedDoc.n_facts` counts the distinct facts a document states, so callers can also skip records that
state too little (drop reason `too_few_facts`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any

import xxhash

from corpus.knowledge.templates import (
    BANKS,
    LANGS,
    Fact,
    Fragment,
    Seq,
    Val,
    band_word,
    chart_display_name,
    choose,
    clean_value,
    concat,
    context_label,
    country_name,
    explicit_label,
    format_date,
    format_duration,
    format_loudness,
    format_meter,
    format_number,
    format_rank,
    format_tempo,
    format_unit,
    has_han,
    key_name,
    mode_name,
    ordinal_en,
    to_fragment,
)

__all__ = [
    "Fact",
    "RenderedDoc",
    "pick_lang",
    "render_album",
    "render_artist",
    "render_award",
    "render_chart",
    "render_comment",
    "render_playlist",
    "render_relations",
    "render_song",
]

CHARACTER_FEATURES = ("danceability", "energy", "valence", "acousticness")
TEXTURE_FEATURES = ("instrumentalness", "speechiness", "liveness")
MAX_LIST_ITEMS = 8  # artists / genres named in one sentence
MAX_NOTABLE = 10  # notable songs / albums of an artist
MAX_CHART_ENTRIES = 50
MAX_PLAYLIST_TRACKS = 50
MAX_NEIGHBOURS = 20
MAX_RELATED = 5  # chart and award sentences in a song document
MAX_NOMINEES = 20

_SENTENCE_SEP = {"en": " ", "zh": ""}
_TERMINAL = {"en": ".", "zh": "。"}
_ENDS_SENTENCE = tuple(".!?…。！？\"'”’)）」』")
_QUOTES = {"en": ("“", "”"), "zh": ("《", "》")}


@dataclass(frozen=True)
class RenderedDoc:
    """Training text, its no-loss spans (template wording) and the facts it states.

    `no_loss_spans` is the exact complement of the fact spans. `kind`, `lang`, `key` (record or group key)
    and `templates` (`kind/lang/index` of every sentence) are for audit.
    """

    text: str
    no_loss_spans: list[tuple[int, int]]
    facts: list[Fact]
    kind: str = ""
    lang: str = ""
    key: str = ""
    templates: tuple[str, ...] = ()

    @property
    def n_facts(self) -> int:
        """Distinct facts stated: (field, value) pairs, so a title repeated in several sentences counts once.
        Callers compare it with a minimum (the knowledge stage's `min_facts`) to skip near-empty records."""
        return len({(f.field, f.value) for f in self.facts})


def pick_lang(
    key: str, seed: int, zh_share: float, title: str | None = None, han_zh_share: float = 0.9
) -> str:
    """Deterministic language of a record: "zh" for a hashed share `zh_share` of keys, else "en".

    Rule for Chinese-script records: a title containing Han characters raises the share to
    `max(zh_share, han_zh_share)` (default 0.9), so Chinese titles mostly get Chinese text but English
    renderings of them still occur. The same key and seed always get the same language.
    """
    if not 0.0 <= zh_share <= 1.0 or not 0.0 <= han_zh_share <= 1.0:
        raise ValueError(f"zh_share and han_zh_share must be in [0, 1], got {zh_share} and {han_zh_share}")
    share = max(zh_share, han_zh_share) if has_han(title) else zh_share
    u = xxhash.xxh64_intdigest(f"{seed}:{key}:lang") / 2**64
    return "zh" if u < share else "en"


# ----------------------------------------------------------------------------- helpers


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")


class _Row:
    """A source row plus the path prefix its facts are traced to ("" for the main row, "charts[2].")."""

    def __init__(self, row: Mapping[str, Any] | None, prefix: str, what: str) -> None:
        self.row = row or {}
        self.prefix = prefix
        self.what = what

    def field(self, col: str) -> str:
        return f"{self.prefix}{col}"

    def val(self, col: str) -> Val | None:
        v = self.row.get(col)
        if v is not None and not isinstance(v, str | Real):
            raise TypeError(f"{self.what}: field {col!r} should be text, got {type(v).__name__} ({v!r:.80})")
        text = clean_value(v)
        return Val(text, self.field(col)) if text else None

    def fmt(self, text: str | None, col: str) -> Val | None:
        return Val(text, self.field(col)) if text else None

    def names(self, col: str, cap: int = MAX_LIST_ITEMS) -> list[Val]:
        v = self.row.get(col)
        if v is None:
            return []
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, Sequence) and not hasattr(v, "tolist"):
            raise TypeError(f"{self.what}: field {col!r} should be a list of strings, got {type(v).__name__}")
        out: list[Val] = []
        seen: set[str] = set()
        for item in list(v):
            text = clean_value(item)
            if text and text not in seen:
                seen.add(text)
                out.append(Val(text, self.field(col)))
            if len(out) == cap:
                break
        return out

    def num(self, col: str) -> float | None:
        v = self.row.get(col)
        if v is None:
            return None
        if isinstance(v, bool):
            raise TypeError(f"{self.what}: field {col!r} should be a number, got a boolean")
        if isinstance(v, str):
            if not clean_value(v):
                return None
            try:
                v = float(v)
            except ValueError:
                raise ValueError(
                    f"{self.what}: field {col!r} should be a number, got {v!r}; fix the adapter"
                ) from None
        if not isinstance(v, Real):
            raise TypeError(f"{self.what}: field {col!r} should be a number, got {type(v).__name__}")
        x = float(v)
        return x if x == x and abs(x) != float("inf") else None

    def flag(self, col: str) -> bool | None:
        v = self.row.get(col)
        if v is None or isinstance(v, bool):
            return v
        if isinstance(v, Real) and v in (0, 1):
            return bool(v)
        raise TypeError(f"{self.what}: field {col!r} should be a boolean, got {v!r}")


def _record_key(row: Mapping[str, Any] | None, id_col: str) -> str:
    row = row or {}
    for col in (id_col, "source_id", "title", "name"):
        k = clean_value(row.get(col))
        if k:
            return k
    return ""


def _when_day(r: _Row, date_col: str | None, year_col: str | None, lang: str) -> dict[str, Val]:
    """A date as `day` (full date: "on ...") or `when` (month or year: "in ..."), from the most precise column."""
    if date_col:
        dt = format_date(clean_value(r.row.get(date_col)) or None, lang)
        if dt is not None:
            return {"day" if dt.precision == "day" else "when": Val(dt.text, r.field(date_col))}
    if year_col:
        y = r.num(year_col)
        if y is not None and y == int(y):
            dt = format_date(int(y), lang)
            if dt is not None:
                return {"when": Val(dt.text, r.field(year_col))}
    return {}


def _award_when(r: _Row, lang: str) -> dict[str, Val]:
    """The award year, unless the ceremony name already says it ("62nd Annual GRAMMY Awards (2019)")."""
    y = r.num("year")
    ceremony = clean_value(r.row.get("ceremony"))
    if y is not None and y == int(y) and str(int(y)) in ceremony:
        return {}
    return _when_day(r, None, "year", lang)


def _quoted(value: Val, lang: str) -> Fragment:
    """A title inside quotation marks (“…” / 《…》); the marks are wording."""
    left, right = _QUOTES[lang]
    return concat([left, to_fragment("title", value, lang), right])  # type: ignore[list-item]


def _clause_conj(lang: str) -> str:
    # Chinese predicates are chained with "，", not "和"
    return "comma" if lang == "zh" else "and"


def _metadata(row: Mapping[str, Any]) -> dict[str, Any]:
    raw = row.get("metadata")
    if isinstance(raw, Mapping):
        return dict(raw)
    if not isinstance(raw, str) or not raw.strip():
        return {}
    try:
        meta = json.loads(raw)
    except ValueError:
        return {}  # free-form source extras: a bad blob only loses optional context
    return meta if isinstance(meta, dict) else {}


class _Doc:
    """Sentences of one document; each sentence's number feeds the phrasing hash."""

    def __init__(self, kind: str, lang: str, seed: int, key: str) -> None:
        self.kind, self.lang, self.seed, self.key = kind, lang, seed, key
        self.parts: list[str | Fragment] = []
        self.templates: list[str] = []
        self.n = 0

    def _append(self, frag: Fragment, sep: str | None) -> None:
        if self.parts:
            self.parts.append(_SENTENCE_SEP[self.lang] if sep is None else sep)
        self.parts.append(frag)

    def add(
        self, bank_kind: str, values: Mapping[str, Any], sep: str | None = None, terminate: bool = False
    ) -> bool:
        """Render one sentence; False (nothing added) when its facts are missing."""
        choice = choose(bank_kind, self.lang, values, seed=self.seed, key=self.key, sentence_no=self.n)
        self.n += 1
        if choice is None:
            return False
        frag = choice.fragment
        if terminate and not frag.text.endswith(_ENDS_SENTENCE):
            # free text (a description) ends a sentence without punctuation: close it as wording
            frag = concat([frag, _TERMINAL[self.lang]])
        self._append(frag, sep)
        self.templates.append(choice.template)
        return True

    def add_fragment(self, frag: Fragment | None, sep: str | None = None) -> None:
        if frag is not None:
            self._append(frag, sep)

    def phrase(self, bank_kind: str, values: Mapping[str, Any], item: str | None = None) -> Fragment | None:
        """A phrase inside a sentence; items of one list share an `item` label so they share a style."""
        choice = choose(
            bank_kind, self.lang, values, seed=self.seed, key=self.key, sentence_no=item or bank_kind
        )
        return choice.fragment if choice is not None else None

    def build(self) -> RenderedDoc | None:
        if not self.parts:
            return None
        frag = concat(self.parts)
        return RenderedDoc(
            text=frag.text,
            no_loss_spans=frag.no_loss_spans(),
            facts=list(frag.facts),
            kind=self.kind,
            lang=self.lang,
            key=self.key,
            templates=tuple(self.templates),
        )


def _feature_sentence(doc: _Doc, r: _Row, title: Val, bank_kind: str, features: Sequence[str]) -> None:
    traits: list[Val] = []
    measures: list[Fragment] = []
    for f in features:
        x = r.num(f)
        word = band_word(f, x, doc.lang)
        if word is None:
            continue
        traits.append(Val(word, r.field(f)))
        m = doc.phrase(f"frag_{f}", {f: r.fmt(format_unit(x), f)})
        if m is not None:
            measures.append(m)
    conj = _clause_conj(doc.lang)
    doc.add(
        bank_kind,
        {"title": title, "traits": Seq(tuple(traits), conj), "measures": Seq(tuple(measures), conj)},
    )


def _best_chart_rows(charts: Sequence[Mapping[str, Any]]) -> list[int]:
    """Per chart (first-seen order) the index of its best entry: top rank, then earliest date."""
    best: dict[str, tuple[tuple[bool, float, str], int]] = {}
    for i, c in enumerate(charts):
        chart = clean_value(c.get("chart"))
        if not chart:
            continue
        r = _Row(c, f"charts[{i}].", f"chart_entries row {i}")
        rank = r.num("rank")
        order = (rank is None, rank or 0.0, clean_value(c.get("date")) or clean_value(c.get("year")))
        if chart not in best or order < best[chart][0]:
            best[chart] = (order, i)
    return [i for _, i in best.values()]


# ----------------------------------------------------------------------------- stage 1


def render_song(
    row: Mapping[str, Any],
    lang: str,
    seed: int,
    charts: Sequence[Mapping[str, Any]] = (),
    awards: Sequence[Mapping[str, Any]] = (),
) -> RenderedDoc | None:
    """A song: identity, genres, details, audio features, musical parameters, then its best entry per
    related chart and its related award rows (at most `MAX_RELATED` each). None without a title."""
    _check_lang(lang)
    key = _record_key(row, "song_id")
    r = _Row(row, "", f"songs row {key!r}")
    title = r.val("title")
    if title is None:
        return None
    doc = _Doc("song", lang, seed, key)
    doc.add(
        "song_identity",
        {"title": title, "artists": r.names("artists"), "album": r.val("album"),
         **_when_day(r, "release_date", "year", lang)},
    )  # fmt: skip
    doc.add("song_genres", {"title": title, "genres": r.names("genres")})
    pop = r.num("popularity")
    doc.add(
        "song_details",
        {
            "duration": r.fmt(format_duration(r.num("duration_ms")), "duration_ms"),
            "explicit": r.fmt(explicit_label(r.flag("explicit"), lang), "explicit"),
            "popularity": r.fmt(format_number(pop) if pop is not None and pop >= 0 else None, "popularity"),
        },
    )
    _feature_sentence(doc, r, title, "song_character", CHARACTER_FEATURES)
    _feature_sentence(doc, r, title, "song_texture", TEXTURE_FEATURES)
    key_text = key_name(r.num("key"))
    music = [
        doc.phrase("frag_key", {"key": r.fmt(key_text, "key"),
                                "mode": r.fmt(mode_name(r.num("mode"), lang) if key_text else None, "mode")}),
        doc.phrase("frag_tempo", {"tempo": r.fmt(format_tempo(r.num("tempo_bpm")), "tempo_bpm")}),
        doc.phrase("frag_meter", {"meter": r.fmt(format_meter(r.num("time_signature")), "time_signature")}),
        doc.phrase("frag_loudness", {"loudness": r.fmt(format_loudness(r.num("loudness_db")), "loudness_db")}),
    ]  # fmt: skip
    doc.add("song_music", {"title": title, "music": Seq(tuple(m for m in music if m), _clause_conj(lang))})
    for i in _best_chart_rows(charts)[:MAX_RELATED]:
        c = _Row(charts[i], f"charts[{i}].", f"chart_entries row {i} of song {key!r}")
        rank = format_rank(c.num("rank"))
        doc.add(
            "song_chart",
            {
                "title": title,
                "chart": c.fmt(chart_display_name(c.row.get("chart"), lang), "chart"),
                "rank": c.fmt(rank, "rank"),
                "rank_ordinal": c.fmt(ordinal_en(int(rank)) if rank and lang == "en" else None, "rank"),
                **_when_day(c, "date", "year", lang),
            },
        )
    for i, award in enumerate(list(awards)[:MAX_RELATED]):
        a = _Row(award, f"awards[{i}].", f"awards row {i} of song {key!r}")
        doc.add(
            "song_award_won" if a.flag("winner") else "song_award_nominated",
            {
                "title": title,
                "category": a.val("category"),
                "ceremony": a.val("ceremony"),
                **_award_when(a, lang),
            },
        )
    return doc.build()


def render_artist(
    row: Mapping[str, Any],
    lang: str,
    seed: int,
    songs: Sequence[Mapping[str, Any] | str] = (),
    albums: Sequence[Mapping[str, Any] | str] = (),
) -> RenderedDoc | None:
    """An artist: name, country, genres, then notable songs and albums (rows or titles, in the order
    given, at most `MAX_NOTABLE` distinct titles each). None without a name."""
    _check_lang(lang)
    key = _record_key(row, "artist_id")
    r = _Row(row, "", f"artists row {key!r}")
    name = r.val("name")
    if name is None:
        return None
    doc = _Doc("artist", lang, seed, key)
    doc.add(
        "artist_identity",
        {"name": name, "country": r.fmt(country_name(r.row.get("country"), lang), "country"),
         "genres": r.names("genres")},
    )  # fmt: skip
    for col, bank_kind, items in (("songs", "artist_songs", songs), ("albums", "artist_albums", albums)):
        frags: list[Fragment] = []
        seen: set[str] = set()
        for i, item in enumerate(items):
            if isinstance(item, Mapping):
                it = _Row(item, f"{col}[{i}].", f"{col} item {i} of artist {key!r}")
                t = it.val("title")
                when = _when_day(it, None, "year", lang) if col == "albums" else {}
            else:
                text = clean_value(item)
                t, when = (Val(text, f"{col}[{i}]") if text else None), {}
            if t is None or t.text in seen:
                continue
            seen.add(t.text)
            frag = doc.phrase("frag_album", {"title": t, **when}) if col == "albums" else _quoted(t, lang)
            if frag is not None:
                frags.append(frag)
            if len(frags) == MAX_NOTABLE:
                break
        doc.add(bank_kind, {"name": name, col: Seq(tuple(frags))})
    return doc.build()


def render_album(row: Mapping[str, Any], lang: str, seed: int) -> RenderedDoc | None:
    """An album: title, artists, year, genres. None without a title."""
    _check_lang(lang)
    key = _record_key(row, "album_id")
    r = _Row(row, "", f"albums row {key!r}")
    title = r.val("title")
    if title is None:
        return None
    doc = _Doc("album", lang, seed, key)
    doc.add(
        "album_identity",
        {"title": title, "artists": r.names("artists"), "genres": r.names("genres"),
         **_when_day(r, None, "year", lang)},
    )  # fmt: skip
    return doc.build()


def render_chart(entries: Sequence[Mapping[str, Any]], lang: str, seed: int) -> list[RenderedDoc]:
    """One document per chart edition, (chart, date or else year): an intro, then one line per entry
    sorted by rank (unranked last, input order breaks ties), at most `MAX_CHART_ENTRIES` lines.
    Facts trace to `entries[i].<column>` with i the index in `entries`. Editions without a titled
    entry are left out."""
    _check_lang(lang)
    groups: dict[tuple[str, str], list[int]] = {}
    ranks: dict[int, float | None] = {}
    for i, e in enumerate(entries):
        r = _Row(e, f"entries[{i}].", f"chart_entries row {i}")
        chart = clean_value(e.get("chart"))
        if not chart:
            continue
        y = r.num("year")
        edition = clean_value(e.get("date")) or (str(int(y)) if y is not None else "")
        groups.setdefault((chart, edition), []).append(i)
        ranks[i] = r.num("rank")
    docs: list[RenderedDoc] = []
    for (chart, edition), idx in sorted(groups.items()):
        order = sorted(idx, key=lambda i: (ranks[i] is None, ranks[i] or 0.0, i))[:MAX_CHART_ENTRIES]
        first = _Row(entries[order[0]], f"entries[{order[0]}].", f"chart_entries row {order[0]}")
        doc = _Doc("chart", lang, seed, f"{chart}:{edition}")
        lines: list[Fragment] = []
        for i in order:
            e = _Row(entries[i], f"entries[{i}].", f"chart_entries row {i}")
            line = doc.phrase(
                "chart_entry",
                {
                    "rank": e.fmt(format_rank(ranks[i]), "rank"),
                    "title": e.val("title"),
                    "artists": e.names("artists"),
                },
                item="entry",
            )
            if line is not None:
                lines.append(line)
        if not lines:
            continue
        intro = {
            "chart": first.fmt(chart_display_name(chart, lang), "chart"),
            **_when_day(first, "date", "year", lang),
        }
        if not doc.add("chart_intro", intro):
            continue
        doc.add_fragment(to_fragment("entries", Seq(tuple(lines), "lines"), lang), sep="\n")
        built = doc.build()
        if built is not None:
            docs.append(built)
    return docs


def render_award(rows: Sequence[Mapping[str, Any]], lang: str, seed: int) -> list[RenderedDoc]:
    """One document per (ceremony or year, category): the nominees, then the winner(s). When every
    known nominee won (e.g. a winners-only source) a single winners sentence is written. Facts trace
    to `rows[i].<column>`."""
    _check_lang(lang)
    groups: dict[tuple[str, str], list[int]] = {}
    for i, row in enumerate(rows):
        r = _Row(row, f"rows[{i}].", f"awards row {i}")
        category = clean_value(row.get("category"))
        y = r.num("year")
        edition = clean_value(row.get("ceremony")) or (str(int(y)) if y is not None else "")
        if category and edition:
            groups.setdefault((edition, category), []).append(i)
    docs: list[RenderedDoc] = []
    for (edition, category), idx in sorted(groups.items()):
        first = _Row(rows[idx[0]], f"rows[{idx[0]}].", f"awards row {idx[0]}")
        doc = _Doc("award", lang, seed, f"{edition}:{category}")
        nominees: list[Fragment] = []
        winners: list[Fragment] = []
        for i in idx[:MAX_NOMINEES]:
            a = _Row(rows[i], f"rows[{i}].", f"awards row {i}")
            nominee = a.val("nominee")
            artists = a.names("artists")
            if nominee is not None and [v.text for v in artists] == [nominee.text]:
                nominee = None  # the nominee is the artist (e.g. Best New Artist): a name, not a title
            frag = doc.phrase("frag_nominee", {"nominee": nominee, "artists": artists}, item="nominee")
            if frag is None:
                continue
            nominees.append(frag)
            if a.flag("winner"):
                winners.append(frag)
        if not nominees:
            continue
        head = {
            "category": first.val("category"),
            "ceremony": first.val("ceremony"),
            **_award_when(first, lang),
        }
        if winners and len(winners) == len(nominees):
            doc.add("award_winners", {**head, "winners": Seq(tuple(winners))})
        else:
            doc.add("award_nominees", {**head, "nominees": Seq(tuple(nominees))})
            if winners:
                doc.add("award_outcome", {"winners": Seq(tuple(winners))})
        built = doc.build()
        if built is not None:
            docs.append(built)
    return docs


# ----------------------------------------------------------------------------- stage 2


def render_comment(
    comment_text: str | None, item: Mapping[str, Any] | None, lang: str, seed: int
) -> RenderedDoc | None:
    """A comment after a no-loss prefix naming its item (`item_type`, `title`, `artists`; a generic prefix
    when the item is unknown). The comment (field `text`) and item names take loss. None without text."""
    _check_lang(lang)
    text = clean_value(comment_text)
    if not text:
        return None
    it = _Row(item, "item.", "comment item")
    title = it.val("title")
    item_type = clean_value(it.row.get("item_type")).lower()
    bank_kind = (
        f"comment_{item_type}" if title is not None and f"comment_{item_type}" in BANKS else "comment_generic"
    )
    key = xxhash.xxh64_hexdigest(f"{title.text if title else ''}\x00{text}")
    doc = _Doc("comment", lang, seed, key)
    doc.add(bank_kind, {"title": title, "artists": it.names("artists"), "comment": Val(text, "text")})
    return doc.build()


def render_playlist(
    playlist_row: Mapping[str, Any],
    tracks: Sequence[Mapping[str, Any]],
    lang: str,
    seed: int,
) -> RenderedDoc | None:
    """A playlist: name, track count, listening context and genre (from `metadata`), description, then
    its tracks in order (`tracks[i].title` / `.artists`, at most `MAX_PLAYLIST_TRACKS`). None without a name."""
    _check_lang(lang)
    key = _record_key(playlist_row, "playlist_id")
    r = _Row(playlist_row, "", f"playlists row {key!r}")
    name = r.val("name")
    if name is None:
        return None
    meta = _metadata(r.row)
    song_ids = r.row.get("song_ids")
    n_ids = len(song_ids) if song_ids is not None and hasattr(song_ids, "__len__") else 0
    n_tracks = Val(str(n_ids), "song_ids") if n_ids else (Val(str(len(tracks)), "tracks") if tracks else None)
    doc = _Doc("playlist", lang, seed, key)
    doc.add(
        "playlist_intro",
        {
            "name": name,
            "n_tracks": n_tracks,
            "context": r.fmt(context_label(meta.get("context"), lang), "metadata.context"),
            "genre": r.fmt(clean_value(meta.get("genre")) or None, "metadata.genre"),
        },
    )
    doc.add("playlist_description", {"description": r.val("description")}, terminate=True)
    items: list[Fragment] = []
    for i, track in enumerate(list(tracks)[:MAX_PLAYLIST_TRACKS]):
        t = _Row(track, f"tracks[{i}].", f"track {i} of playlist {key!r}")
        frag = doc.phrase(
            "frag_track", {"title": t.val("title"), "artists": t.names("artists")}, item="track"
        )
        if frag is not None:
            items.append(frag)
    doc.add("playlist_tracks", {"tracks": Seq(tuple(items))})
    return doc.build()


def render_relations(
    item: Mapping[str, Any],
    neighbours: Sequence[Mapping[str, Any]],
    lang: str,
    seed: int,
    relation_kind: str,
) -> RenderedDoc | None:
    """Items listened to alongside `item` ("session") or placed in the same playlists ("playlist"), in the
    order given (at most `MAX_NEIGHBOURS`), with co-occurrence counts where known. None without the
    item's title or any titled neighbour."""
    _check_lang(lang)
    if relation_kind not in ("playlist", "session"):
        raise ValueError(f"relation_kind must be 'playlist' or 'session', got {relation_kind!r}")
    it = _Row(item, "item.", "relation item")
    title = it.val("title")
    if title is None:
        return None
    artists = it.names("artists")
    key = f"{title.text}\x00{'|'.join(a.text for a in artists)}\x00{relation_kind}"
    doc = _Doc(f"relations_{relation_kind}", lang, seed, key)
    frags: list[Fragment] = []
    for i, nb in enumerate(list(neighbours)[:MAX_NEIGHBOURS]):
        n = _Row(nb, f"neighbours[{i}].", f"neighbour {i} of {title.text!r}")
        co = n.num("co_count")
        frag = doc.phrase(
            f"frag_neighbour_{relation_kind}",
            {"title": n.val("title"), "artists": n.names("artists"),
             "co_count": n.fmt(format_number(co) if co is not None and co > 0 else None, "co_count")},
            item="neighbour",
        )  # fmt: skip
        if frag is not None:
            frags.append(frag)
    if not frags:
        return None
    doc.add(
        f"relation_{relation_kind}", {"title": title, "artists": artists, "neighbours": Seq(tuple(frags))}
    )
    return doc.build()
