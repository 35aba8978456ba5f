"""Unicode and whitespace normalisation applied to every ingested string.

Text fields keep their line structure: NFC, CRLF/CR to LF, control characters other than tab and
newline removed, trailing spaces on lines and blank lines at the ends stripped. Name-like fields
(titles, artist names, tags) are additionally collapsed to single spaces.
"""

from __future__ import annotations

import re
import unicodedata

# C0/C1 controls except \t and \n, plus BOM / zero-width no-break space and the Unicode
# "noncharacters" that some scrapers leave behind.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufeff\ufffe\uffff]")
_TRAILING_WS = re.compile(r"[ \t\u00a0\u3000]+(?=\n|$)")
_SPACES = re.compile(r"\s+")
_SURROGATE = re.compile("[\ud800-\udfff]")


def has_invalid_utf8(s: str) -> bool:
    """True if `s` holds lone surrogates, i.e. bytes that were not valid UTF-8 (surrogateescape)."""
    return _SURROGATE.search(s) is not None


def normalize_text(s: str, form: str = "NFC") -> str:
    """Normalise document text, keeping paragraphs and lines."""
    if "\r" in s:
        s = s.replace("\r\n", "\n").replace("\r", "\n")
    s = _CONTROL.sub("", s)
    if not s.isascii():
        s = unicodedata.normalize(form, s)
    s = _TRAILING_WS.sub("", s)
    return s.strip("\n ")


def normalize_name(s: str, form: str = "NFC") -> str:
    """Normalise a short field: like `normalize_text`, then all whitespace runs become one space."""
    s = _CONTROL.sub("", s)
    if not s.isascii():
        s = unicodedata.normalize(form, s)
    return _SPACES.sub(" ", s).strip()
