"""Word 5-gram Jaccard similarity, the measure the duplicate ground truth is recorded with.

Tokens are lowercase letter/digit runs, and single characters for Chinese (which has no spaces),
so the same function works for both languages.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]|[0-9a-z\u00c0-\u024f]+")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    t = tokens(text)
    if len(t) < n:
        return {tuple(t)} if t else set()
    return {tuple(t[i : i + n]) for i in range(len(t) - n + 1)}


def jaccard(a: str | set, b: str | set, n: int = 5) -> float:
    sa = a if isinstance(a, set) else shingles(a, n)
    sb = b if isinstance(b, set) else shingles(b, n)
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb)
