"""Q2I relevance (`music_q2i`): a real music request from CPCD and four candidate songs, one of them a track the
user liked for that request; scored by log-likelihood (acc, acc_norm) like the other multiple-choice tasks.

Method (same files: same items, same order):

- **Requests**: `eval.cpcd.requests` over both development splits (the opening turns up to the first like).
  Every candidate is rendered "Title — Artist1, Artist2" from `eval.cpcd.catalog`.
- **Golds**: a request's gold tracks (liked later in the conversation) in the order of a hash of request id and
  track id; a gold is skipped when its title or an artist is *named* in the request (the normalised name occurs
  as a phrase, or, squashed to letters and digits, equals one to three squashed request words, e.g. "JayZ" vs
  "JAY-Z", or, for names of six characters or more, rapidfuzz `partial_ratio` >= 90, for typos) or when it
  shares a *content word* with the request (lower-cased, accents folded, scikit-learn English stop words and
  one-letter tokens dropped, crude suffix stemming: "dancing" ~ "dance"): such an item would test string
  matching, not relevance. The first `golds_per_request` golds that pass and get enough distractors make items.
- **Distractors** are drawn from the songs liked in CPCD conversations, one entry per (conversation, liked song),
  so a song is drawn as often as users liked it, as golds are: "users like this song" does not separate gold
  from distractor. They are drawn within a length band around the gold (+-20% of its characters, at least +-3
  characters; lengths equal to the gold's are left out): a hash of the item picks how many distractors are
  shorter than the gold (0 to 3, the rest longer), so the gold's length rank among the four is uniform and
  neither raw nor length-normalised log-likelihood, nor "pick the longest", is favoured by construction. Each
  side is drawn without repeats in the order of hash(item key, draw number), and a song is rejected when it is
  1. liked in this conversation (seeds or golds), 2. shown in this conversation (the wizard's search results:
  retrieved for this request, so possibly fitting), 3. by an artist of a song liked in this conversation,
  4. liked in a conversation whose request is similar (TF-IDF cosine > 0.1 over the requests, without English
  stop words and playlist filler; pairs down to 0.1 still share an occasion or a genre, e.g. "rock music for
  working out at the gym" and "rocking out on the weekend ... pop rock" at 0.13, while the pool is large, so
  erring towards exclusion is cheap), 5. named in the request or 6. sharing a content word with it (the same
  tests as for golds: every choice has zero surface overlap with the request), or 7. the same song as, or by
  an artist of, a distractor already drawn. Rules compare rendered texts (lower-cased) and artist names, not
  YouTube ids, since one song can have several uploads.
- **Choices** are ordered by a hash of item key and text, as in `eval.mc.items`, so the gold position is spread.

`q2i_skips` counts what each rule removed; `eval/q2i/CARD.md` reports them.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from eval.cpcd import FILES, CpcdRequest, catalog, read_conversations, requests
from eval.mc.items import MCItem
from eval.recommend.match import CatalogSong

TASK = "music_q2i"

# Words of "please make me a playlist" that say nothing about the music; ignored when comparing requests.
REQUEST_FILLER = frozenset(
    "playlist playlists create creating make making song songs music track tracks like want need hi hello hey "
    "please ready thanks thank wizard yes ok okay good great day listen listening help id im today really love "
    "would could put start list play lets let wanna looking interested hope hoping nice morning afternoon "
    "evening".split())

SKIP_RULES = (
    "gold_not_in_catalog", "gold_named_in_request", "gold_word_overlap", "gold_too_few_distractors",
    "gold_beyond_per_request_cap",
    "draw_liked_here", "draw_shown_here", "draw_artist_liked_here", "draw_liked_in_similar_request",
    "draw_named_in_request", "draw_word_overlap", "draw_same_artist_as_other_distractor",
)


@dataclass(frozen=True)
class Q2IConfig:
    """How `music_q2i` items are drawn; the defaults build the benchmark described in CARD.md."""

    golds_per_request: int = 2
    """Items per request at most (one per gold)."""
    distractors: int = 3
    """Distractors per item (choices = distractors + 1)."""
    similar_request_cosine: float = 0.1
    """Requests with TF-IDF cosine above this count as similar: their liked tracks are not distractors."""
    length_band: float = 0.2
    """Distractor text length within +-this share of the gold's characters..."""
    min_length_band: int = 3
    """...or within +-this many characters, whichever is wider."""
    name_fuzz: int = 90
    """rapidfuzz partial_ratio from which a name of six characters or more counts as named in the request."""

    def __post_init__(self) -> None:
        if self.golds_per_request < 1 or self.distractors < 1:
            raise ValueError("Q2IConfig: golds_per_request and distractors must be >= 1")
        if not 0.0 <= self.similar_request_cosine <= 1.0 or not 0.0 <= self.length_band < 1.0:
            raise ValueError("Q2IConfig: similar_request_cosine in [0, 1], length_band in [0, 1)")


def render(song: CatalogSong) -> str:
    """A candidate as the model reads it: "Title — Artist1, Artist2"."""
    return f"{song.title} — {', '.join(song.artists)}" if song.artists else song.title


def _tokens(s: str) -> list[str]:
    s = unicodedata.normalize("NFKD", s)
    return re.findall(r"[a-z0-9]+", "".join(c for c in s if not unicodedata.combining(c)).lower())


def _stem(t: str) -> str:
    for suffix in ("ing", "es", "ed", "s", "e"):
        if t.endswith(suffix) and len(t) - len(suffix) >= 3:
            return t[: -len(suffix)]
    return t


def content_words(text: str) -> frozenset[str]:
    """Stemmed lower-cased tokens of two characters or more that are not English stop words."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(_stem(t) for t in _tokens(text) if len(t) > 1 and t not in ENGLISH_STOP_WORDS)


def word_overlap(candidate: str, request: str) -> float:
    """Share of the candidate's content words that occur in the request (0 when it has none)."""
    words = content_words(candidate)
    return len(words & content_words(request)) / len(words) if words else 0.0


class RequestText:
    """A request prepared for the surface tests: content words, normalised phrase, squashed word n-grams."""

    def __init__(self, request: str, name_fuzz: int = 90) -> None:
        toks = _tokens(request)
        self.words = content_words(request)
        self.phrase = f" {' '.join(toks)} "
        self.squashed = {"".join(toks[i: i + n]) for n in (1, 2, 3) for i in range(len(toks) - n + 1)}
        self.name_fuzz = name_fuzz

    def names(self, name: str) -> bool:
        """Whether a title or artist name is named in the request (phrase, squashed words, or fuzzy)."""
        from rapidfuzz import fuzz

        toks = _tokens(name)
        norm, squashed = " ".join(toks), "".join(toks)
        if len(squashed) < 3:
            return False  # "I", "X": too short to name anything; a two-character name is caught as a word
        if f" {norm} " in self.phrase or (len(squashed) >= 4 and squashed in self.squashed):
            return True
        return len(norm) >= 6 and fuzz.partial_ratio(norm, self.phrase.strip()) >= self.name_fuzz

    def overlaps(self, c: Candidate) -> tuple[bool, bool]:
        """(title or an artist named, shares a content word) for a candidate."""
        return any(self.names(n) for n in (c.song.title, *c.song.artists)), bool(c.words & self.words)


def _h(s: str, size: int = 8) -> bytes:
    return hashlib.blake2b(s.encode(), digest_size=size).digest()


def _draws(key: str, n: int) -> Iterator[int]:
    """0..n-1 without repeats in an order fixed by `key`: the i-th draw is hash(key, i) mod n (repeats skipped),
    and after 4n draws the indices not drawn yet follow in order, so every index comes once."""
    seen: set[int] = set()
    for i in range(4 * n):
        j = int.from_bytes(_h(f"{key}\x00{i}"), "big") % n
        if j not in seen:
            seen.add(j)
            yield j
    yield from (j for j in range(n) if j not in seen)


@dataclass(frozen=True)
class Candidate:
    """A catalog song as a choice: its text, a key comparing texts (uploads of one song share it), artists."""

    song: CatalogSong
    text: str
    key: str
    artists: frozenset[str]
    words: frozenset[str]

    @classmethod
    def of(cls, song: CatalogSong) -> Candidate:
        text = render(song)
        return cls(song, text, " ".join(text.casefold().split()),
                   frozenset(" ".join(_tokens(a)) for a in song.artists) - {""}, content_words(text))


def similar_requests(reqs: list[CpcdRequest], threshold: float) -> list[list[int]]:
    """For each request, the indices of the other requests with TF-IDF cosine above `threshold`."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    vec = TfidfVectorizer(stop_words=sorted(ENGLISH_STOP_WORDS | REQUEST_FILLER), sublinear_tf=True)
    sim = cosine_similarity(vec.fit_transform([r.request for r in reqs]))
    return [[int(j) for j in (sim[i] > threshold).nonzero()[0] if j != i] for i in range(len(reqs))]


def _build(shared: Path, cfg: Q2IConfig) -> tuple[list[MCItem], Counter]:
    shared = Path(shared)
    reqs = requests(shared)
    cands = {s.song_id: Candidate.of(s) for s in catalog(shared)}
    convs = {(FILES[split], row): conv for split in FILES for row, conv in read_conversations(shared, split)}
    # one entry per (conversation, liked song): a song is drawn as often as users liked it, like the golds
    pool: list[Candidate] = []
    for conv in convs.values():
        pool += {cands[t].key: cands[t] for t in conv.get("goal_playlist") or [] if t in cands}.values()
    pool.sort(key=lambda c: (len(c.text), c.key))
    lengths = [len(c.text) for c in pool]
    liked_keys = [{cands[t].key for t in (*r.seeds, *r.gold) if t in cands} for r in reqs]
    similar = similar_requests(reqs, cfg.similar_request_cosine)

    counts: Counter = Counter({k: 0 for k in SKIP_RULES})
    items: list[MCItem] = []
    for i, r in enumerate(reqs):
        text = RequestText(r.request, cfg.name_fuzz)
        liked_artists = frozenset().union(*(cands[t].artists for t in (*r.seeds, *r.gold) if t in cands))
        shown = {cands[t].key for t in convs[(r.source, r.source_row)].get("tracks") or {} if t in cands}
        similar_liked = set().union(*(liked_keys[j] for j in similar[i]))
        source = f"cpcd/{r.source}"
        made = 0
        for gid in sorted(r.gold, key=lambda t: _h(f"{r.id}\x00{t}")):
            gold = cands.get(gid)
            if gold is None:
                counts["gold_not_in_catalog"] += 1
                continue
            named, shares = text.overlaps(gold)
            if named or shares:
                counts["gold_named_in_request" if named else "gold_word_overlap"] += 1
                continue
            if made == cfg.golds_per_request:
                counts["gold_beyond_per_request_cap"] += 1
                continue
            key = f"{source}\x00{r.source_row}\x00{gid}"
            glen = len(gold.text)
            band = max(cfg.min_length_band, cfg.length_band * glen)
            # the gold's length rank among the choices is uniform: `shorter` distractors below it, the rest above
            shorter = _h(f"{key}\x00length")[0] % (cfg.distractors + 1)
            sides = [(pool[bisect_left(lengths, glen - band): bisect_left(lengths, glen)], shorter, "short"),
                     (pool[bisect_right(lengths, glen): bisect_right(lengths, glen + band)],
                      cfg.distractors - shorter, "long")]
            picked: list[Candidate] = []
            for side, quota, name in sides:
                got = 0
                for j in _draws(f"{key}\x00{name}", len(side)) if quota else ():
                    rule = _rejects(side[j], text, liked_keys[i], shown, liked_artists, similar_liked, picked)
                    if rule:
                        counts[rule] += 1
                        continue
                    picked.append(side[j])
                    got += 1
                    if got == quota:
                        break
            if len(picked) < cfg.distractors:
                counts["gold_too_few_distractors"] += 1
                continue
            choices = sorted([gold.text, *(c.text for c in picked)], key=lambda c: _h(f"{key}\x00{c}"))
            iid = f"{TASK}-{hashlib.blake2b(key.encode(), digest_size=6).hexdigest()}"
            items.append(MCItem(iid, TASK, "en", r.request, tuple(choices), choices.index(gold.text), source,
                                r.source_row))
            made += 1
    counts.update(requests=len(reqs), requests_with_items=len({(it.source, it.source_row) for it in items}),
                  golds=sum(len(r.gold) for r in reqs), items=len(items))
    return items, counts


def _rejects(c: Candidate, text: RequestText, liked: set[str], shown: set[str], liked_artists: frozenset[str],
             similar_liked: set[str], picked: list[Candidate]) -> str:
    """The first distractor rule `c` breaks ("" when it may be drawn)."""
    if c.key in liked:
        return "draw_liked_here"
    if c.key in shown:
        return "draw_shown_here"
    if c.artists & liked_artists:
        return "draw_artist_liked_here"
    if c.key in similar_liked:
        return "draw_liked_in_similar_request"
    named, shares = text.overlaps(c)
    if named or shares:
        return "draw_named_in_request" if named else "draw_word_overlap"
    if any(c.key == p.key or c.artists & p.artists for p in picked):
        return "draw_same_artist_as_other_distractor"
    return ""


def build_q2i(shared: Path, cfg: Q2IConfig | None = None) -> list[MCItem]:
    """The `music_q2i` items, in request order (CPCD train then val, file order), golds in hash order."""
    return _build(shared, cfg or Q2IConfig())[0]


def q2i_skips(shared: Path, cfg: Q2IConfig | None = None) -> dict[str, int]:
    """Sizes (`requests`, `requests_with_items`, `golds`, `items`) and how many golds and distractor draws
    each rule in `SKIP_RULES` removed (`draw_*`: candidates rejected while drawing, by the first rule broken)."""
    counts = _build(shared, cfg or Q2IConfig())[1]
    return {k: counts[k] for k in ("requests", "requests_with_items", "golds", "items", *SKIP_RULES)}
