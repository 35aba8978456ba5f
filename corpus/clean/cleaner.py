"""The cleaning op: repair Unicode, remove boilerplate lines, identify the language, score quality.

`DocumentCleaner(CleanConfig()).setup()` once per worker, then `clean(text)` or `clean_batch(texts)`;
pass the language the source declares (the documents contract's `lang`) as `declared_lang` /
`declared_langs` and it is used instead of detection. Nothing is dropped here; `select` applies
thresholds to `CleanResult.quality` later.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from corpus.clean.boilerplate import BoilerplateConfig, remove_boilerplate
from corpus.clean.language import LangIdConfig, LanguageIdentifier, declared_language
from corpus.clean.quality import quality_signals, split_words
from corpus.clean.unicode_repair import repair_unicode


@dataclass(frozen=True)
class CleanConfig:
    """One config for the whole cleaning op (printed at job start, hashed into the manifest)."""

    repair_unicode: bool = True
    remove_boilerplate: bool = True
    boilerplate: BoilerplateConfig = field(default_factory=BoilerplateConfig)
    langid: LangIdConfig = field(default_factory=LangIdConfig)
    max_chars: int = 2_000_000  # longer input is cut here before anything else (bounded time per doc)


@dataclass(frozen=True)
class CleanResult:
    """Cleaned text plus attributes. `quality` keys are listed by `corpus.clean.quality.signal_names()`
    plus `removed_line_frac` and `removed_char_frac` (share of non-blank lines/characters removed)."""

    text: str
    removed_lines: dict[str, int]
    lang: str
    lang_score: float  # 1.0 when `lang` is the source's declared language
    quality: dict[str, float]


class DocumentCleaner:
    """Repairs, strips boilerplate, identifies language and scores one document at a time."""

    def __init__(self, config: CleanConfig | None = None) -> None:
        self.config = config or CleanConfig()
        self._langid = LanguageIdentifier(self.config.langid)
        self._ready = False

    def setup(self) -> None:
        """Load the language-identification model and lazy helpers (once per worker)."""
        self._langid.setup()
        quality_signals("warm up. warm up.")  # imports the datatrove helpers now, not on the first document
        self._ready = True

    def clean(self, text: str | None, declared_lang: str | None = None) -> CleanResult:
        """Clean and score one document; never raises on odd input (None counts as empty).

        `declared_lang`: the language the source declares for the text (BCP 47, e.g. `en`, `zh-Hans`). When
        it names a language (see `declared_language`), it is the result's `lang` with `lang_score` 1.0 and
        nothing is detected; None, blank or `und` means "identify it"."""
        if not self._ready:
            raise RuntimeError("DocumentCleaner.clean called before setup(); call setup() once per worker")
        text = (text or "")[: self.config.max_chars]
        if self.config.repair_unicode:
            text = repair_unicode(text)
        original_chars = len(text) - text.count("\n")
        removed: dict[str, int] = {}
        if self.config.remove_boilerplate:
            original_lines = sum(1 for line in text.split("\n") if line.strip())
            text, removed = remove_boilerplate(text, self.config.boilerplate)
        declared = declared_language(declared_lang, self.config.langid.fold_macrolanguages)
        lang, lang_score = (declared, 1.0) if declared else self._langid.identify(text)
        quality = quality_signals(text, split_words(text))
        if self.config.remove_boilerplate:
            removed_lines = sum(v for k, v in removed.items() if k != "citation_spans")
            quality["removed_line_frac"] = removed_lines / original_lines if original_lines else 0.0
            kept_chars = len(text) - text.count("\n")
            quality["removed_char_frac"] = 1.0 - kept_chars / original_chars if original_chars else 0.0
        return CleanResult(text, removed, lang, lang_score, dict(sorted(quality.items())))

    def clean_batch(
        self, texts: Iterable[str | None], declared_langs: Iterable[str | None] | None = None
    ) -> list[CleanResult]:
        """`clean` over a batch (e.g. one Arrow record batch's text column), with the batch's declared
        languages (e.g. its `lang` column, nulls allowed) aligned one to one when given."""
        if declared_langs is None:
            return [self.clean(t) for t in texts]
        return [self.clean(t, d) for t, d in zip(texts, declared_langs, strict=True)]
