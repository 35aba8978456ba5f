"""Paragraph-aligned scoring windows: how the classifier cuts a long document (training and scoring alike)."""

from __future__ import annotations

import re
from typing import Any

_PARA_SPLIT = re.compile(r"\n\s*\n|\n")
_SENT_END = re.compile(r"(?<=[.!?。！？;；])\s+|(?<=[。！？；])")


def _as_str(text: Any) -> str:
    if text is None:
        return ""
    if isinstance(text, (bytes, bytearray)):
        return bytes(text).decode("utf-8", errors="replace")
    return text if isinstance(text, str) else str(text)


def _cut(piece: str, size: int) -> list[str]:
    """Cut one over-long paragraph into chunks of <= `size` chars: at sentence ends, else whitespace, else hard."""
    out: list[str] = []
    cur = ""
    for sent in (x for x in _SENT_END.split(piece) if x and x.strip()):
        while len(sent) > size:  # a single over-long sentence: cut at the last space before `size`
            cut = sent.rfind(" ", 0, size)
            cut = cut if cut > size // 2 else size
            if cur:
                out.append(cur)
                cur = ""
            out.append(sent[:cut])
            sent = sent[cut:].lstrip()
        if cur and len(cur) + 1 + len(sent) > size:
            out.append(cur)
            cur = sent
        else:
            cur = f"{cur} {sent}" if cur else sent
    if cur:
        out.append(cur)
    return out


def split_windows(text: Any, window_chars: int, min_window_chars: int = 0, max_chars: int | None = None) -> list[str]:
    """Paragraph-aligned windows of about `window_chars` characters covering `text` (cut to `max_chars`).

    A text of at most `window_chars` characters (or `window_chars <= 0`) is one window, unchanged.
    Paragraphs (split at newlines) are packed greedily; a paragraph longer than the window is cut at
    sentence ends. Windows shorter than `min_window_chars` are merged into the previous (or next) one,
    so a trailing heading or sign-off is not scored on its own. Pure function of its arguments.
    """
    s = _as_str(text)
    if max_chars is not None:
        s = s[:max_chars]
    if window_chars <= 0 or len(s) <= window_chars:
        return [s]
    pieces: list[str] = []
    for para in _PARA_SPLIT.split(s):
        para = para.strip()
        if para:
            pieces.extend(_cut(para, window_chars) if len(para) > window_chars else [para])
    windows: list[str] = []
    cur = ""
    for p in pieces:
        if cur and len(cur) + 1 + len(p) > window_chars:
            windows.append(cur)
            cur = p
        else:
            cur = f"{cur}\n{p}" if cur else p
    if cur:
        windows.append(cur)
    if min_window_chars > 0 and len(windows) > 1:
        merged: list[str] = []
        for w in windows:
            if merged and (len(w) < min_window_chars or len(merged[-1]) < min_window_chars):
                merged[-1] = f"{merged[-1]}\n{w}"
            else:
                merged.append(w)
        windows = merged
    return windows or [s]
