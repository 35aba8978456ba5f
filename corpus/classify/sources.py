"""Readers for the real labelled sources of the domain-classifier training set (read in place from shared/data).

Each reader yields `Example(source, label, lang, text)`; nothing is copied into the repository.
Music: MusicCaps captions, three music trivia sets, Reddit music requests (two Deezer sets),
music WikiText articles, ZIQI Chinese music questions. Other: non-music trivia, C4 and OpenWebText
(chunked into paragraph windows so lengths resemble the music side), non-music WikiText articles.
"""

from __future__ import annotations

import csv
import html
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

MUSIC = "music"
OTHER = "other"


@dataclass(frozen=True)
class Example:
    source: str
    label: str
    lang: str
    text: str


def _clean(s: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(s or "")).strip()


def _qa(question: str, answer: str) -> str:
    q, a = _clean(question), _clean(answer)
    return f"{q} {a}".strip() if a else q


def read_musiccaps(data: Path) -> Iterator[Example]:
    with open(data / "musiccaps/musiccaps-public.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            yield Example("musiccaps", MUSIC, "en", _clean(row["caption"]))


def read_opentdb_music(data: Path) -> Iterator[Example]:
    with open(data / "opentdb_music/opentdb_music.jsonl", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            yield Example("opentdb_music", MUSIC, "en", _qa(r["question"], r["correct_answer"]))


def _parse_open_trivia_qa(path: Path) -> Iterator[tuple[str, str]]:
    """OpenTriviaQA text format: '#Q question' (may wrap), '^ answer', 'A ..' choices, blank line."""
    q: list[str] | None = None
    answer = ""
    with open(path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if line.startswith("#Q"):
                if q is not None:
                    yield " ".join(q), answer
                q, answer = [line[2:].strip()], ""
            elif q is not None and line.startswith("^"):
                answer = line[1:].strip()
            elif q is not None and not answer and line.strip() and not re.match(r"^[A-D] ", line):
                q.append(line.strip())
    if q is not None:
        yield " ".join(q), answer


def read_open_trivia_qa_music(data: Path) -> Iterator[Example]:
    for q, a in _parse_open_trivia_qa(data / "open_trivia_qa_music/music.txt"):
        yield Example("open_trivia_qa_music", MUSIC, "en", _qa(q, a))


def read_open_trivia_database_music(data: Path) -> Iterator[Example]:
    rows = json.loads((data / "open_trivia_database_music/music.json").read_text(encoding="utf-8"))
    for r in rows:
        answers = r.get("answers") or []
        idx = r.get("answer", 0)
        ans = answers[idx] if isinstance(idx, int) and 0 <= idx < len(answers) else ""
        yield Example("open_trivia_database_music", MUSIC, r.get("lang") or "en", _qa(r["question"], str(ans)))


def read_reddit_ner(data: Path) -> Iterator[Example]:
    for path in sorted((data / "music_reco_ner_deezer").glob("dataset*/queries.csv")):
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                yield Example("music_reco_ner_deezer", MUSIC, "en", _clean(row["original"]))


def read_reddit_intent(data: Path) -> Iterator[Example]:
    with open(data / "music_reco_intent_deezer/MusicRecoIntent_dataset.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            yield Example("music_reco_intent_deezer", MUSIC, "en", _clean(row["query"]))


_ZIQI_COLS = ("A", "B", "C", "D")


def read_ziqi(data: Path) -> Iterator[Example]:
    for path in sorted((data / "ziqi_eval").glob("*/*.csv")):
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                opts = " ".join(_clean(row.get(c, "")) for c in _ZIQI_COLS if row.get(c))
                yield Example("ziqi_eval", MUSIC, "zh", f"{_clean(row['question'])} {opts}".strip())


# --- WikiText-2: split articles into music and non-music by the lead sentence -------------------------

# "X is a song / was an American rock band / is the second studio album ..." within the lead paragraph.
_WIKI_MUSIC_LEAD = re.compile(
    r"\b(?:is|was|are|were)\b[^.]{0,120}?\b(song|single|album|band|singer|rapper|musician|concert tour|"
    r"soprano|composer|EP|rock group)\b",
    re.IGNORECASE,
)
_WIKI_MUSIC_TITLE = re.compile(r"\(\s*[^)]*\b(song|album|band|single|EP|musician|singer)\s*\)", re.IGNORECASE)


@dataclass(frozen=True)
class WikiArticle:
    title: str
    paragraphs: list[str]
    is_music: bool


def wikitext_articles(data: Path) -> list[WikiArticle]:
    """The 120 WikiText-2 (valid+test) articles with a music flag from title or lead sentence."""
    root = data / "wikitext2_raw"
    lines = {s: (root / f"wiki.{s}.raw").read_text(encoding="utf-8").split("\n") for s in ("valid", "test")}
    out: list[WikiArticle] = []
    with open(root / "articles.tsv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            body = lines[r["split"]][int(r["first_line"]) - 1 : int(r["last_line"])]
            paras = [ln.strip() for ln in body if ln.strip() and not ln.strip().startswith("=")]
            lead = paras[0][:400] if paras else ""
            is_music = bool(_WIKI_MUSIC_TITLE.search(r["title"]) or _WIKI_MUSIC_LEAD.search(lead))
            out.append(WikiArticle(r["title"], paras, is_music))
    return out


def read_wikitext(data: Path) -> Iterator[Example]:
    for art in wikitext_articles(data):
        src, label = ("wikitext_music", MUSIC) if art.is_music else ("wikitext_other", OTHER)
        for p in art.paragraphs:
            for chunk in chunk_text(p):
                yield Example(src, label, "en", chunk)


# --- other ------------------------------------------------------------------------------------------


def read_trivia_other(data: Path) -> Iterator[Example]:
    with open(data / "trivia_other_categories/all_questions.jsonl", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            yield Example("trivia_other", OTHER, "en", _qa(r["question"], str(r.get("answer") or "")))


def chunk_text(text: str, min_chars: int = 200, max_chars: int = 1200) -> Iterator[str]:
    """Paragraph windows of roughly min..max chars: join short paragraphs, split long ones at sentences."""
    buf = ""
    for para in re.split(r"\n+", text):
        para = re.sub(r"\s+", " ", para).strip()
        if not para:
            continue
        pieces = [para]
        if len(para) > max_chars:
            pieces, cur = [], ""
            for sent in re.split(r"(?<=[.!?])\s+", para):
                if cur and len(cur) + len(sent) > max_chars:
                    pieces.append(cur)
                    cur = ""
                cur = f"{cur} {sent}".strip()
            if cur:
                pieces.append(cur)
        for piece in pieces:
            buf = f"{buf}\n{piece}".strip() if buf else piece
            if len(buf) >= min_chars:
                yield buf[: max_chars * 2]
                buf = ""
    if len(buf) >= 40:
        yield buf


def read_web(data: Path) -> Iterator[Example]:
    root = data / "web_crawl_samples"
    files = [("c4", p) for p in sorted(root.glob("c4_*.jsonl"))] + [("openwebtext", root / "openwebtext_1000.jsonl")]
    for src, path in files:
        with open(path, encoding="utf-8") as f:
            for line in f:
                for chunk in chunk_text(json.loads(line)["text"]):
                    yield Example(src, OTHER, "en", chunk)


READERS: dict[str, Callable[[Path], Iterator[Example]]] = {
    "musiccaps": read_musiccaps,
    "opentdb_music": read_opentdb_music,
    "open_trivia_qa_music": read_open_trivia_qa_music,
    "open_trivia_database_music": read_open_trivia_database_music,
    "music_reco_ner_deezer": read_reddit_ner,
    "music_reco_intent_deezer": read_reddit_intent,
    "ziqi_eval": read_ziqi,
    "wikitext": read_wikitext,
    "trivia_other": read_trivia_other,
    "web": read_web,
}
