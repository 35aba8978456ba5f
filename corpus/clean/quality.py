"""Per-document quality signals in the style of Gopher, C4 and FineWeb, as a `dict[str, float]`.

These are scores, not decisions: `select` applies thresholds later. Names are stable (they become keys
of the `quality` map column of `scored_documents`). Conventions:

- Words are CJK-aware without a segmenter: every CJK character (Han, kana, hangul) is one word, other
  text is split into word tokens (`\\w+` with inner `.'’`) and punctuation runs (a punctuation run is a
  "symbol word", as NLTK would emit it in Gopher). So a Chinese sentence of 20 characters has 20 words.
- A ratio whose denominator is zero is 0.0 (an empty document scores 0 everywhere, `n_chars` = 0).
- Line/paragraph repetition and FineWeb signals follow datatrove's filters exactly (same splits, same
  `find_duplicates`); n-gram signals follow datatrove's definitions on our word split.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from functools import cache

TOP_NGRAM_SIZES: tuple[int, ...] = (2, 3, 4)
DUP_NGRAM_SIZES: tuple[int, ...] = (5, 6, 7, 8, 9, 10)

# Gopher's stop words, plus very frequent single-character Chinese function words (a CJK word is one
# character here, so multi-character stop words could never match).
STOP_WORDS_EN: frozenset[str] = frozenset(("the", "be", "to", "of", "and", "that", "have", "with"))
STOP_WORDS_ZH: frozenset[str] = frozenset("的了是在和有也不就都这我你他她们与及而被把对从")
STOP_WORDS: frozenset[str] = STOP_WORDS_EN | STOP_WORDS_ZH

BULLETS: tuple[str, ...] = ("•", "-", "*", "·", "●", "▪", "◦", "‣", "–")
ELLIPSES: tuple[str, ...] = ("...", "…")
SHORT_LINE_CHARS = 30  # FineWeb's short_line_length

_CJK_RANGES = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\U00020000-\U0003134f"
_CJK = re.compile(f"[{_CJK_RANGES}]")
_WORD = re.compile(rf"[{_CJK_RANGES}]|\w+(?:[.'’]\w+)*|[^\w\s]+")
_HAS_ALPHA = re.compile(r"[^\W\d_]")
_PARAGRAPH_SPLIT = re.compile(r"\n{2,}")  # datatrove GopherRepetitionFilter.paragraph_exp
_LINE_SPLIT = re.compile(r"\n+")  # datatrove GopherRepetitionFilter._line_splitter
_SENTENCE_END = re.compile(r"[.!?。！？]+(?=\s|$|[\"'”」』)）])|[。！？]+")


def signal_names() -> tuple[str, ...]:
    """Every key `quality_signals` returns, in sorted order (the contract's map keys are sorted)."""
    return tuple(sorted(quality_signals("a b").keys()))


@cache
def _terminal_punctuation() -> frozenset[str]:
    from datatrove.utils.text import TERMINAL_PUNCTUATION  # lazy: no datatrove at import time

    # All single code points, so `line[-1] in set` equals FineWeb's `line.endswith(tuple)`, much faster.
    assert all(len(c) == 1 for c in TERMINAL_PUNCTUATION)
    return frozenset(TERMINAL_PUNCTUATION)


def _find_duplicates(items: list[str]) -> tuple[int, int]:
    from datatrove.pipeline.filters.gopher_repetition_filter import find_duplicates

    return find_duplicates(items)


def split_words(text: str) -> list[str]:
    """CJK-aware word split: each CJK character, each `\\w+` word, each punctuation run is one word."""
    return _WORD.findall(text)


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


def word_signals(text: str, words: Sequence[str]) -> dict[str, float]:
    """Gopher quality signals: counts, mean word length, symbol ratios, alphabetic words, stop words."""
    n_words = len(words)
    # A non-symbol word starts with a word character (tokens are either \w-runs or punctuation runs).
    non_symbol = [w for w in words if w[0].isalnum() or w[0] == "_"]
    n_alpha = sum(1 for w in non_symbol if w.isalpha() or _HAS_ALPHA.search(w))
    lowered = {w.lower() for w in non_symbol if len(w) <= 4} if non_symbol else set()
    return {
        "n_chars": float(len(text)),
        "n_words": float(n_words),
        "n_non_symbol_words": float(len(non_symbol)),
        "mean_word_length": _ratio(sum(map(len, non_symbol)), len(non_symbol)),
        "hash_to_word_ratio": _ratio(text.count("#"), n_words),
        "ellipsis_to_word_ratio": _ratio(text.count("...") + text.count("…"), n_words),
        "alpha_word_ratio": _ratio(n_alpha, n_words),
        "stop_word_count": float(len(lowered & STOP_WORDS)),
        "stop_word_count_en": float(len(lowered & STOP_WORDS_EN)),
        "stop_word_count_zh": float(len(lowered & STOP_WORDS_ZH)),
        "cjk_char_ratio": _ratio(len(_CJK.findall(text)), len(text) - text.count(" ") - text.count("\n")),
        "replacement_char_ratio": _ratio(text.count("\ufffd"), len(text)),
    }


def line_signals(text: str) -> dict[str, float]:
    """Gopher line shape (bullets, ellipses), FineWeb line signals, and a C4-style sentence count."""
    lines = text.splitlines()
    n_lines = len(lines)
    bullet = sum(1 for s in lines if s.lstrip().startswith(BULLETS))
    ellipsis = sum(1 for s in lines if s.rstrip().endswith(ELLIPSES))
    # FineWeb: non-blank lines of text.split("\n"), tested unstripped.
    nonblank = [s for s in text.split("\n") if s.strip()]
    stops = _terminal_punctuation()
    punct_end = sum(1 for s in nonblank if s[-1] in stops)
    short = sum(1 for s in nonblank if len(s) <= SHORT_LINE_CHARS)
    dup_chars_nonblank = _find_duplicates(nonblank)[1] if nonblank else 0
    return {
        "n_lines": float(len(nonblank)),
        "bullet_line_ratio": _ratio(bullet, n_lines),
        "ellipsis_line_ratio": _ratio(ellipsis, n_lines),
        "line_punct_ratio": _ratio(punct_end, len(nonblank)),
        "short_line_ratio": _ratio(short, len(nonblank)),
        "char_dup_ratio": _ratio(dup_chars_nonblank, len(text) - text.count("\n")),
        "n_sentences": float(len(_SENTENCE_END.findall(text))),
    }


def repetition_signals(text: str) -> dict[str, float]:
    """Gopher line/paragraph repetition, split exactly as datatrove's `GopherRepetitionFilter` does."""
    if not text:
        return {k: 0.0 for k in ("dup_para_frac", "dup_para_char_frac", "dup_line_frac", "dup_line_char_frac")}
    paragraphs = _PARAGRAPH_SPLIT.split(text.strip())
    para_dups, para_dup_chars = _find_duplicates(paragraphs)
    lines = _LINE_SPLIT.split(text)
    line_dups, line_dup_chars = _find_duplicates(lines)
    return {
        "dup_para_frac": _ratio(para_dups, len(paragraphs)),
        "dup_para_char_frac": _ratio(para_dup_chars, len(text)),
        "dup_line_frac": _ratio(line_dups, len(lines)),
        "dup_line_char_frac": _ratio(line_dup_chars, len(text)),
    }


def top_ngram_char_fraction(words: Sequence[str], n: int, n_chars: int) -> float:
    """Characters covered by the most frequent word n-gram (joined with spaces) over `n_chars`.

    Same value as datatrove's `find_top_duplicate(get_n_grams(words, n)) / len(text)` (ties broken by
    first occurrence in both), but counts tuples instead of building joined strings.
    """
    if len(words) < n or not n_chars:
        return 0.0
    counts = Counter(zip(*(words[i:] for i in range(n)), strict=False))
    gram, count = counts.most_common(1)[0]
    return (sum(map(len, gram)) + n - 1) * count / n_chars


def duplicate_ngram_char_fractions(words: Sequence[str], sizes: Sequence[int], n_chars: int) -> dict[int, float]:
    """Gopher's duplicated n-gram character fraction for each n in `sizes` (datatrove `find_all_duplicate`).

    Scans left to right; a repeated n-gram counts its characters (words joined without separator) and
    the scan skips past it. Fast path: if no n-gram of the smallest size repeats, no longer one can,
    so typical documents cost one set construction.
    """
    out = {n: 0.0 for n in sizes}
    if not n_chars or not sizes:
        return out
    smallest = min(sizes)
    if len(words) < smallest:
        return out
    grams = list(zip(*(words[i:] for i in range(smallest)), strict=False))
    if len(set(grams)) == len(grams):
        return out
    cum = [0]
    for w in words:
        cum.append(cum[-1] + len(w))
    n_words = len(words)
    for n in sizes:
        seen: set[tuple[str, ...]] = set()
        repeated, idx = 0, 0
        ngrams = grams if n == smallest else list(zip(*(words[i:] for i in range(n)), strict=False))
        last = n_words - n + 1
        while idx < last:
            gram = ngrams[idx]
            if gram in seen:
                repeated += cum[idx + n] - cum[idx]
                idx += n
            else:
                seen.add(gram)
                idx += 1
        out[n] = repeated / n_chars
    return out


def ngram_signals(text: str, words: Sequence[str]) -> dict[str, float]:
    """Gopher n-gram repetition: top 2/3/4-gram and duplicated 5..10-gram character fractions."""
    n_chars = len(text)
    out = {f"top_{n}_gram_char_frac": top_ngram_char_fraction(words, n, n_chars) for n in TOP_NGRAM_SIZES}
    for n, frac in duplicate_ngram_char_fractions(words, DUP_NGRAM_SIZES, n_chars).items():
        out[f"dup_{n}_gram_char_frac"] = frac
    return out


def quality_signals(text: str, words: Sequence[str] | None = None) -> dict[str, float]:
    """All quality signals of `text` (pass `words` if already split with `split_words`)."""
    if words is None:
        words = split_words(text)
    signals = word_signals(text, words)
    signals.update(line_signals(text))
    signals.update(repetition_signals(text))
    signals.update(ngram_signals(text, words))
    signals["newline_to_word_ratio"] = _ratio(text.count("\n"), len(words))
    return signals
