"""PII detection and masking for user-generated music text (issue 3).

`PiiMasker(PiiConfig(...)).setup()` then `mask(text) -> MaskResult(text, spans)`: typed placeholders
or salted pseudonyms, catalog names protected by an allow-list, spans kept for audit. Recognizers are
defined once in `recognizers` and shared with the Presidio reference path (`presidio_engine`).
"""

from corpus.pii.catalog import load_catalog_allow_list, merge_allow_lists
from corpus.pii.masker import AllowList, MaskResult, PiiConfig, PiiMasker, Span
from corpus.pii.recognizers import ENTITY_TYPES, RecognizerSpec, default_specs

__all__ = [
    "ENTITY_TYPES",
    "AllowList",
    "MaskResult",
    "PiiConfig",
    "PiiMasker",
    "RecognizerSpec",
    "Span",
    "default_specs",
    "load_catalog_allow_list",
    "merge_allow_lists",
]
