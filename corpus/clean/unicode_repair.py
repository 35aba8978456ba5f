"""Unicode repair and normalization: undo mojibake and bad escapes with ftfy, then NFC.

Conservative by design: quotes stay curly, full-width CJK punctuation stays full-width, and lone
surrogates (which cannot be encoded as UTF-8 and would crash Arrow/Parquet writers) become U+FFFD.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Any

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# ftfy only ever rewrites text that contains one of these; pure ASCII without them is returned as is.
_ASCII_NEEDS_FTFY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f&\\]")


@cache
def _ftfy_config() -> Any:
    """The ftfy configuration, built once (ftfy is imported lazily: no work at import time)."""
    from ftfy import TextFixerConfig

    return TextFixerConfig(
        unescape_html="auto",  # only when the text has no '<' (i.e. is not HTML source)
        remove_terminal_escapes=True,
        fix_encoding=True,
        restore_byte_a0=True,
        replace_lossy_sequences=True,
        decode_inconsistent_utf8=True,
        fix_c1_controls=True,
        fix_latin_ligatures=False,  # keep ligatures: meaning-preserving and rare
        fix_character_width=False,  # would turn CJK full-width punctuation (，！：) into ASCII
        uncurl_quotes=False,  # curly quotes are legitimate text
        fix_line_breaks=True,
        fix_surrogates=True,
        remove_control_chars=True,
        normalization="NFC",
        explain=False,  # explanations cost time and we only want the text
    )


def repair_unicode(text: str) -> str:
    """Return `text` with mojibake, HTML entities, control characters and surrogates repaired, in NFC.

    Pure ASCII text that contains no control characters, '&' or backslash is returned unchanged
    (ftfy would not change it either), which keeps the common case fast.
    """
    if not text:
        return ""
    if text.isascii() and not _ASCII_NEEDS_FTFY.search(text):
        return text
    from ftfy import fix_text

    if _LONE_SURROGATE.search(text):
        # ftfy pairs valid surrogate pairs; anything left unpaired is unencodable garbage.
        text = fix_text(text, _ftfy_config())
        text = _LONE_SURROGATE.sub("\ufffd", text)
        return unicodedata.normalize("NFC", text)
    return fix_text(text, _ftfy_config())
