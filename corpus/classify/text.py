"""Text preparation shared by training and scoring of the domain classifier.

`prepare_text` turns any string into one line of space-separated tokens that fastText can read:
Unicode NFKC, lowercase, control characters and newlines removed, punctuation split off words (and dropped
next to CJK text, see `TextPrepConfig.cjk_punct`), numbers folded to `0`, and CJK runs split into characters (or
jieba words when asked).
The same function (with the same `TextPrepConfig`, stored beside the model) is used on both sides.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import regex

# CJK Unified Ideographs (+ ext. A, compatibility), kana and hangul: scripts written without spaces.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
_CJK_RUN = re.compile(f"[{_CJK}]+")
_URL = re.compile(r"(?:https?://|www\.)\S+")
_EMAIL = re.compile(r"\S+@\S+\.\w+")
_DIGITS = re.compile(r"\d+")
# Anything that is not a word character, whitespace or CJK becomes its own token.
_PUNCT = re.compile(rf"([^\w\s{_CJK}])")
_WS = re.compile(r"\s+")
# Punctuation touching CJK text (after NFKC, which makes fullwidth "，" an ASCII ","), spaces between allowed.
_CJK_PUNCT = regex.compile(rf"(?<=[{_CJK}]\s*)\p{{P}}+|\p{{P}}+(?=\s*[{_CJK}])")
# WikiText tokenisation artefacts (" @-@ ", " @,@ ", " @.@ ") would otherwise mark one source.
_WIKITEXT_ART = re.compile(r" @([-,.])@ ")


@dataclass(frozen=True)
class TextPrepConfig:
    """How text becomes tokens. Stored in the model's metadata so scoring matches training."""

    cjk: str = "char"  # "char": one token per CJK character; "jieba": jieba words (needs jieba)
    max_chars: int = 20_000  # longer inputs are cut (the head carries the domain signal; bounds cost)
    fold_digits: bool = True
    cjk_punct: str = "drop"
    """`drop`: punctuation next to CJK text is removed. The real Chinese non-music text available for training is
    headlines, word lists and software messages, all without sentence punctuation, while the Chinese music side
    (descriptions, song comments) is prose, so a kept `，` or `。` was learned as music evidence (a Chinese recipe or
    health column scored as music). `keep`: the behaviour of models saved before this option (their meta.json has
    no `cjk_punct`)."""

    def __post_init__(self) -> None:
        if self.cjk_punct not in ("drop", "keep"):
            raise ValueError(f"TextPrepConfig.cjk_punct must be 'drop' or 'keep', got {self.cjk_punct!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TextPrepConfig:
        return cls(**{"cjk_punct": "keep", **{k: d[k] for k in ("cjk", "max_chars", "fold_digits", "cjk_punct") if k in d}})


def jieba_available() -> bool:
    try:
        import jieba  # noqa: F401
    except ImportError:
        return False
    return True


@lru_cache(maxsize=1)
def _jieba() -> Any:
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


def _split_cjk(run: str, mode: str) -> str:
    if mode == "jieba":
        return " ".join(w for w in _jieba().lcut(run, HMM=False) if w.strip())
    return " ".join(run)


def prepare_text(text: Any, config: TextPrepConfig = TextPrepConfig()) -> str:
    """One fastText-ready line for `text` ("" when nothing usable is left). Never raises on str/bytes."""
    if text is None:
        return ""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", errors="replace")
    elif not isinstance(text, str):
        text = str(text)
    if config.cjk not in ("char", "jieba"):
        raise ValueError(f"TextPrepConfig.cjk must be 'char' or 'jieba', got {config.cjk!r}")
    s = text[: config.max_chars]
    s = _WIKITEXT_ART.sub(r"\1", s)
    s = unicodedata.normalize("NFKC", s).lower()
    # Control/format/surrogate/unassigned characters (incl. NUL, U+FFFD from binary) become spaces.
    s = "".join(ch if unicodedata.category(ch)[0] != "C" and ch != "\ufffd" else " " for ch in s)
    s = _URL.sub(" urltoken ", s)
    s = _EMAIL.sub(" emailtoken ", s)
    if config.fold_digits:
        s = _DIGITS.sub("0", s)
    if config.cjk_punct == "drop":
        s = _CJK_PUNCT.sub(" ", s)
    s = _PUNCT.sub(r" \1 ", s)
    s = _CJK_RUN.sub(lambda m: f" {_split_cjk(m.group(0), config.cjk)} ", s)
    return _WS.sub(" ", s).strip()
