"""Whole real documents for the classifier's training set, each labelled once, at the document level.

The earlier builder cut web pages into chunks and called every chunk "other" unless the music lexicon
relabelled it, so music pages without lexicon words were learned as "other" and off-topic pages with one music
paragraph as "music". Here a document gets one label and all its scoring windows carry it:

1. a hand label from `annotations/labels.jsonl` when the document has one and is not held out (`mixed`
   documents are left out: neither class);
2. else the source's own category where it settles the question (BBC business / politics / sport, THUCNews
   classes other than entertainment: `other`; MuChin descriptions and NetEase song comments: `music`);
3. else the document-level lexicon rule `lexicon_doc_label`: `music` when most of the text is dense with
   distinct music terms, `other` when no window has more than one, and no label (left out, counted as
   `abstain`) in between: a page with one music paragraph is neither learned as music nor as other.

Pages of the evaluation-only files (`annotations.EVAL_ONLY_FILES`) are never read.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from corpus.classify.annotations import EVAL_ONLY_FILES, SOURCES
from corpus.classify.lexicon import music_hits
from corpus.classify.sources import MUSIC, OTHER

ADJACENT = "adjacent"
# BBC categories and THUCNews classes whose documents are never about music (checked: 0 music among the
# 90 BBC business / politics / sport and 90 THUCNews non-entertainment documents of the development set).
BBC_OTHER = ("business", "politics", "sport")
THUCNEWS_MUSIC_CLASS = "entertainment"


@dataclass(frozen=True)
class Document:
    source: str
    """An `annotations.SOURCES` name, or `netease_hot_comments_jaychou_zh`."""
    doc: str | int
    """Key in that source, as in labels.jsonl."""
    lang: str
    text: str
    prior: str | None
    """`music` / `other` when the source's category settles it; `adjacent` for a category next to music
    (BBC entertainment and tech, THUCNews entertainment: film, TV, gadgets), where the lexicon rule calls a
    document `other` only when it names no music term at all; None: hand label or the plain lexicon rule."""


@dataclass(frozen=True)
class LexiconRule:
    """Thresholds of the document-level lexicon rule (`lexicon_doc_label`)."""

    music_window_hits: int = 2
    """A window is music-dense when it names at least this many distinct music terms."""
    music_share: float = 0.5
    """`music` when music-dense windows hold at least this share of the document's characters ..."""
    music_min_terms: int = 4
    """... and the whole document names at least this many distinct terms."""
    other_max_window_hits: int = 1
    """`other` when no window names more than this many distinct terms."""


def lexicon_doc_label(windows: list[str], rule: LexiconRule = LexiconRule(), adjacent: bool = False) -> str | None:
    """`music`, `other`, or None (abstain) for a document given its scoring windows.

    `adjacent`: the document's category borders on music, so `other` needs no music term at all, and a text of
    under 100 characters (a headline) with one music term is already `music`, and without one is left out (an entertainment
    headline naming a singer is music news without a music word).
    """
    hits = [music_hits(w) for w in windows]
    most = max((len(h) for h in hits), default=0)
    total = sum(len(w) for w in windows) or 1
    if adjacent and total < 100:
        return MUSIC if most else None
    if most <= (0 if adjacent else rule.other_max_window_hits):
        return OTHER
    dense = sum(len(w) for w, h in zip(windows, hits, strict=True) if len(h) >= rule.music_window_hits)
    terms = set().union(*hits)
    if dense / total >= rule.music_share and len(terms) >= rule.music_min_terms:
        return MUSIC
    return None


def _read(shared: Path, name: str) -> Iterator[tuple[str | int, str]]:
    src = SOURCES[name]
    if src.path in EVAL_ONLY_FILES:  # pragma: no cover - AnnotatedSource refuses these already
        raise ValueError(f"{src.path} is evaluation-only text")
    return src.documents(shared)


def read_c4_train(shared: Path) -> Iterator[Document]:
    """C4 `en` train pages (the first 1,000); the validation file and OpenWebText are evaluation-only."""
    for key, text in _read(shared, "c4_en_train_first1000"):
        yield Document("c4_en_train_first1000", key, "en", text, None)


def read_bbc(shared: Path) -> Iterator[Document]:
    for key, text in _read(shared, "bbc_news_fulltext"):
        prior = OTHER if str(key).split("/")[0] in BBC_OTHER else ADJACENT
        yield Document("bbc_news_fulltext", key, "en", text, prior)


def read_wikitext_articles(shared: Path) -> Iterator[Document]:
    for key, text in _read(shared, "wikitext2_raw"):
        yield Document("wikitext2_raw", key, "en", text, None)


def read_thucnews(shared: Path) -> Iterator[Document]:
    """Headlines; classes other than entertainment are real Chinese `other` text (finance, sports, games ...)."""
    path = shared / SOURCES["thucnews_titles_zh"].path
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                prior = ADJACENT if r["label"] == THUCNEWS_MUSIC_CLASS else OTHER
                yield Document("thucnews_titles_zh", f"{r['split']}/{r['idx']}", "zh", r["text"], prior)


# Digest lengths cycle through these targets (characters): Chinese "other" text as long as the scoring windows.
DIGEST_TARGETS = (80, 150, 250, 300)


def read_thucnews_digests(shared: Path) -> Iterator[Document]:
    """Chinese `other` text of window length: consecutive `test`-split headlines of one non-entertainment class
    joined one per line, as a portal's news list reads. Headlines alone are 20-30 characters, while the Chinese
    music side (MuChin descriptions, song comments) is prose of 50-300, so without these a long Chinese text of
    any topic looked like music. The `test` split only: the hand-labelled headlines are all in `dev`."""
    path = shared / SOURCES["thucnews_titles_zh"].path
    buf: dict[str, list[str]] = {}
    count: dict[str, int] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)
            if r["split"] != "test" or r["label"] == THUCNEWS_MUSIC_CLASS:
                continue
            cls = r["label"]
            lines = buf.setdefault(cls, [])
            lines.append(r["text"])
            n = count.get(cls, 0)
            if sum(len(x) + 1 for x in lines) >= DIGEST_TARGETS[n % len(DIGEST_TARGETS)]:
                yield Document("thucnews_digest_zh", f"{cls}/{n}", "zh", "\n".join(lines), OTHER)
                count[cls] = n + 1
                buf[cls] = []


def read_muchin(shared: Path) -> Iterator[Document]:
    """Listener and critic descriptions of songs: music (rule 9 of the labelling guide)."""
    for key, text in _read(shared, "muchin_1k_zh"):
        yield Document("muchin_1k_zh", key, "zh", text, MUSIC)


def read_netease_comments(shared: Path) -> Iterator[Document]:
    """NetEase hot comments on Jay Chou songs: comment threads about songs are music (guide rule 9)."""
    path = shared / "netease_hot_comments_jaychou_zh" / "hot_comments.csv"
    with open(path, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            text = (r.get("content") or "").strip()
            if text:
                yield Document("netease_hot_comments_jaychou_zh", r["row_id"], "zh", text, MUSIC)


DOC_READERS = {
    "c4_en_train_first1000": read_c4_train,
    "bbc_news_fulltext": read_bbc,
    "wikitext2_raw": read_wikitext_articles,
    "thucnews_titles_zh": read_thucnews,
    "thucnews_digest_zh": read_thucnews_digests,
    "muchin_1k_zh": read_muchin,
    "netease_hot_comments_jaychou_zh": read_netease_comments,
}
