"""Document cleaning: Unicode repair, line-level boilerplate removal, language identification and
Gopher/C4/FineWeb-style quality signals. Transforms and scores only; `select` decides what to drop.

    cleaner = DocumentCleaner(CleanConfig()); cleaner.setup()
    result = cleaner.clean(text)  # CleanResult(text, removed_lines, lang, lang_score, quality)
"""

from corpus.clean.boilerplate import RULE_NAMES, BoilerplateConfig, remove_boilerplate
from corpus.clean.cleaner import CleanConfig, CleanResult, DocumentCleaner
from corpus.clean.language import LangIdConfig, LanguageIdentifier
from corpus.clean.quality import quality_signals, signal_names, split_words
from corpus.clean.unicode_repair import repair_unicode

__all__ = [
    "RULE_NAMES",
    "BoilerplateConfig",
    "CleanConfig",
    "CleanResult",
    "DocumentCleaner",
    "LangIdConfig",
    "LanguageIdentifier",
    "quality_signals",
    "remove_boilerplate",
    "repair_unicode",
    "signal_names",
    "split_words",
]
