"""Readers for the real labelled sources of the domain-classifier training set (read in place from shared/data).

These are the *short-text* sources: each reader yields `Example(source, label, lang, text)`, one per item;
nothing is copied into the repository. Music: MusicCaps captions, three music trivia sets, Reddit music
requests (two Deezer sets), ZIQI Chinese music questions. Other: non-music trivia. Whole documents (web pages,
news, Wikipedia articles, Chinese headlines, descriptions and comments) are read by `documents.py` and labelled
once per document.

Optional, outside shared/data (shared/data holds no Chinese non-music prose):
`read_zh_locale_messages`, Chinese "other" text from the system's gettext translation catalogs
(`/usr/share/locale/zh_CN/LC_MESSAGES/*.mo`, human translations of software messages), and
`read_zh_vocab_bags`, "other" pseudo-texts of general Chinese words drawn by corpus frequency from jieba's
dictionary (real words and frequencies, but not written prose). Both raise `SourceUnavailable` when their
files are missing; the builder records that and goes on without them.
"""

from __future__ import annotations

import csv
import gettext
import html
import json
import logging
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

MUSIC = "music"
OTHER = "other"


def default_shared_data() -> Path:
    """`$MUSIC_SHARED_DATA`, else `<repo>/../shared/data`."""
    env = os.environ.get("MUSIC_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


class SourceUnavailable(Exception):
    """An optional source's files are not on this machine (the builder skips it and records why)."""


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


# --- other ------------------------------------------------------------------------------------------


def read_trivia_other(data: Path) -> Iterator[Example]:
    with open(data / "trivia_other_categories/all_questions.jsonl", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            yield Example("trivia_other", OTHER, "en", _qa(r["question"], str(r.get("answer") or "")))


# --- optional: Chinese gettext catalogs (real human translations of software messages) ---------------------

ZH_LOCALE_DIR = "/usr/share/locale/zh_CN/LC_MESSAGES"
# Catalogs that are lists of names (regions, languages, currencies, scripts, keyboard layouts), not sentences.
_ZH_LOCALE_SKIP = re.compile(r"^(iso_|xkeyboard-config)")
_CJK_CHAR = re.compile(r"[\u4e00-\u9fff]")
# printf/format placeholders, command-line option columns, <placeholders>, ${vars}, {0}
_FMT = re.compile(r"%(?:\d+\$)?[-+ #0']*(?:\d+|\*)?(?:\.(?:\d+|\*))?(?:hh|h|ll|l|L|q|j|z|t)?[a-zA-Z%]"
                  r"|%<[A-Za-z0-9_]+>|\$\{?\w+\}?|\{\d*\}")
_OPTION = re.compile(r"(?m)^\s*(?:-\w(?:,\s*)?)?(?:--[\w-]+(?:[=\[][^\s]*)?)?\s{2,}")
_SEP = re.compile(r"[ \t]+")


def _locale_message(msg: str, min_cjk: int = 6, min_cjk_share: float = 0.4) -> str | None:
    """A catalog message cleaned for training: placeholders and option columns removed; None if too little Chinese."""
    s = _OPTION.sub(" ", _FMT.sub(" ", msg))
    lines = [_SEP.sub(" ", ln).strip() for ln in s.split("\n")]
    s = "\n".join(ln for ln in lines if ln)
    n_cjk = len(_CJK_CHAR.findall(s))
    visible = len(re.sub(r"\s", "", s))
    if n_cjk < min_cjk or not visible or n_cjk / visible < min_cjk_share:
        return None
    return s


def zh_locale_messages(locale_dir: str | Path) -> dict[str, list[str]]:
    """Cleaned Chinese messages per catalog (file stem), each message once across catalogs, in catalog order.

    Raises `SourceUnavailable` when the folder is absent or holds no readable catalog.
    """
    root = Path(locale_dir)
    if not root.is_dir():
        raise SourceUnavailable(f"{root} not found")
    seen: set[str] = set()
    out: dict[str, list[str]] = {}
    for path in sorted(root.glob("*.mo")):
        if _ZH_LOCALE_SKIP.match(path.stem):
            continue
        try:
            with open(path, "rb") as f:
                catalog = gettext.GNUTranslations(f)._catalog  # msgid -> msgstr (plural forms keyed by tuple)
        except (OSError, ValueError, UnicodeDecodeError) as e:  # a broken or non-UTF-8 catalog: skip that file
            log.warning("zh_locale_messages: cannot read %s: %s", path, e)
            continue
        msgs: list[str] = []
        for key, value in catalog.items():
            if key in ("", ("", 0)) or not isinstance(value, str):  # header entry
                continue
            m = _locale_message(value)
            if m is not None and m not in seen:
                seen.add(m)
                msgs.append(m)
        if msgs:
            out[path.stem] = msgs
    if not out:
        raise SourceUnavailable(f"no readable Chinese catalog in {root}")
    return out


# Window sizes cycle through these targets (characters), so lengths range from one-line questions to the
# ~300-character windows `DomainClassifier.score` cuts long documents into.
_ZH_WINDOW_TARGETS = (40, 80, 150, 250)
_ZH_WINDOW_MAX = 320


def read_zh_locale_messages(locale_dir: str | Path = ZH_LOCALE_DIR) -> Iterator[Example]:
    """Chinese "other" examples: consecutive messages of one catalog joined into windows of 40-320 characters."""
    i = 0
    for _, msgs in zh_locale_messages(locale_dir).items():
        buf: list[str] = []
        size = 0
        for m in msgs:
            if size + len(m) > _ZH_WINDOW_MAX and buf:
                yield Example("zh_locale_messages", OTHER, "zh", "\n".join(buf))
                buf, size = [], 0
            buf.append(m[:_ZH_WINDOW_MAX])
            size += len(buf[-1]) + 1
            if size >= _ZH_WINDOW_TARGETS[i % len(_ZH_WINDOW_TARGETS)]:
                yield Example("zh_locale_messages", OTHER, "zh", "\n".join(buf))
                buf, size = [], 0
                i += 1
        if buf and size >= _ZH_WINDOW_TARGETS[0]:
            yield Example("zh_locale_messages", OTHER, "zh", "\n".join(buf))


# --- optional: general Chinese vocabulary from jieba's word-frequency dictionary ----------------------------

# Characters that make a word music-related (music, song, tune, sing, instruments, dance, opera, rhyme):
# such words are left out of the vocabulary bags as well as the lexicon's terms.
_ZH_MUSIC_CHARS = re.compile("[音乐樂歌曲唱琴奏谱譜弦鼓笛箫簫舞韵韻腔戏戲剧劇]")
_CJK_WORD = re.compile(r"[\u4e00-\u9fff]+")


def jieba_dict_path() -> Path:
    """jieba's bundled `dict.txt` (word, corpus frequency, POS per line); `SourceUnavailable` without jieba."""
    import importlib.util

    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.origin:
        raise SourceUnavailable("jieba is not installed")
    return Path(spec.origin).parent / "dict.txt"


def read_zh_vocab_bags(dict_path: str | Path | None = None, n: int = 2500, seed: int = 0) -> Iterator[Example]:
    """`n` Chinese "other" pseudo-texts of 40-250 characters: words drawn by frequency from jieba's dictionary.

    They are not sentences; they give the classifier general Chinese vocabulary (food, sport, travel,
    business ...) on the non-music side, which the technical locale messages lack. Music words are excluded.
    Deterministic for a given dictionary, `n` and `seed`.
    """
    import itertools
    import random

    from corpus.classify.lexicon import music_hits

    path = Path(dict_path) if dict_path else jieba_dict_path()
    if not path.is_file():
        raise SourceUnavailable(f"{path} not found")
    words: list[str] = []
    freqs: list[int] = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.split()
            if len(parts) < 2 or not parts[1].isdigit():
                continue
            w = parts[0]
            if not _CJK_WORD.fullmatch(w) or _ZH_MUSIC_CHARS.search(w) or music_hits(w):
                continue
            words.append(w)
            freqs.append(int(parts[1]))
    if not words:
        raise SourceUnavailable(f"no usable words in {path}")
    cum = list(itertools.accumulate(freqs))
    rng = random.Random(seed)
    for i in range(n):
        target = _ZH_WINDOW_TARGETS[i % len(_ZH_WINDOW_TARGETS)]
        out: list[str] = []
        size = 0
        while size < target:
            w = rng.choices(words, cum_weights=cum, k=1)[0]
            out.append(w)
            size += len(w)
        yield Example("zh_vocab_bags", OTHER, "zh", "".join(out))


READERS: dict[str, Callable[[Path], Iterator[Example]]] = {
    "musiccaps": read_musiccaps,
    "opentdb_music": read_opentdb_music,
    "open_trivia_qa_music": read_open_trivia_qa_music,
    "open_trivia_database_music": read_open_trivia_database_music,
    "music_reco_ner_deezer": read_reddit_ner,
    "music_reco_intent_deezer": read_reddit_intent,
    "ziqi_eval": read_ziqi,
    "trivia_other": read_trivia_other,
}
