"""Offline language identification with py3langid (naive Bayes over byte n-grams; the model ships
inside the package, nothing is downloaded).

`LanguageIdentifier.setup()` loads the model once per worker; `identify(text)` returns
`(lang, probability)` where the probability comes from py3langid's normalized (softmax, length
calibrated) scores over its 140 labels. Text with no letters returns ("und", 0.0).

Member languages are folded into their ISO 639 macrolanguage by default (Wu `wuu` and Cantonese `yue`
into `zh`, `uzs` into `uz`, `nn` into `no`, ...), summing their probabilities: the model confuses
short Mandarin questions with Wu often (about 9 % of ZIQI questions) and downstream we want one `zh`.

Short texts (fewer than `short_text_letters` letters: a request, a title, a one-line comment) carry too
few n-grams for a flat prior over 140 labels: "Songs like Bohemian Rhapsody?" comes out `pcm`, `no` or
`la`. For them the model's probabilities are reweighted by a prior over languages (the corpus's
languages, then common ones, then the rest, see `LangIdConfig`) and renormalised. The rest keep a small
weight rather than none, so short text the model is sure of (Arabic, Thai, Polish) keeps its language.
Longer text is identified exactly as before. `benchmarks/langid_short_text.py` measures the effect.
A language the source declares wins over detection: `declared_language` reads it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

UNDETERMINED = "und"
_HAS_LETTER = re.compile(r"[^\W\d_]")
_WHITESPACE_RUN = re.compile(r"\s+")
MACROLANGUAGE: dict[str, str] = {"wuu": "zh", "yue": "zh", "uzs": "uz", "nn": "no", "arz": "ar", "ary": "ar", "gug": "gn"}
# ISO 639-2/3 spellings a source may declare for the labels we report
_DECLARED_ALIASES = {"eng": "en", "zho": "zh", "chi": "zh", "cmn": "zh"}
_NOT_A_LANGUAGE = frozenset({"und", "mul", "zxx", "mis"})
_PRIMARY_SUBTAG = re.compile(r"[a-z]{2,3}")


@dataclass(frozen=True)
class LangIdConfig:
    """How much text the identifier reads, which languages it may answer, and how short text is decided."""

    max_chars: int = 1000  # read the head only: py3langid walks bytes in Python; 1000 chars is plenty
    languages: tuple[str, ...] | None = None  # restrict the label set (e.g. ("en", "zh")); None = all
    fold_macrolanguages: bool = True  # report wuu/yue as zh etc. (probabilities summed), see MACROLANGUAGE
    # Text with fewer letters than this gets the short-text prior below; 0 turns it off. Measured on the
    # 4,842 MusicRecoNER/MusicRecoIntent Reddit requests: without the prior, requests of 100+ letters are
    # all identified as `en`, shorter ones down to 23 % (under 20 letters); see the benchmark.
    short_text_letters: int = 100
    # Prior weight 1: the languages the corpus keeps.
    short_text_preferred: tuple[str, ...] = ("en", "zh")
    # Prior weight `short_text_common_prior`: other languages short texts in our sources are likely in.
    short_text_common: tuple[str, ...] = ("es", "fr", "de", "pt", "it", "ja", "ko", "ru")
    short_text_common_prior: float = 0.3
    # Prior weight of every other language: small, not zero, so confident foreign text is not forced.
    short_text_other_prior: float = 0.01

    def __post_init__(self) -> None:
        if self.short_text_letters < 0:
            raise ValueError(f"short_text_letters must be >= 0, got {self.short_text_letters}")
        for name in ("short_text_common_prior", "short_text_other_prior"):
            v = getattr(self, name)
            if not 0.0 < v <= 1.0:
                raise ValueError(f"{name} must be in (0, 1], got {v}")
        both = set(self.short_text_preferred) & set(self.short_text_common)
        if both:
            raise ValueError(f"short_text_preferred and short_text_common overlap: {sorted(both)}")

    def short_text_priors(self) -> dict[str, float]:
        """Prior weight of the preferred and common languages for short text (any other language:
        `short_text_other_prior`)."""
        return {
            **{lang: self.short_text_common_prior for lang in self.short_text_common},
            **{lang: 1.0 for lang in self.short_text_preferred},
        }


def declared_language(lang: str | None, fold_macrolanguages: bool = True) -> str | None:
    """The language a source declares (BCP 47 such as `en`, `en-US`, `zh-Hans`, `ZH`; or ISO 639-2/3 such as
    `eng`, `cmn`) as the label `identify` would report, or None when there is none to use (missing, blank,
    `und`, `mul`, `zxx`, or not a language tag): then the text is identified instead."""
    if not lang:
        return None
    primary = re.split(r"[-_]", lang.strip().lower(), maxsplit=1)[0]
    if not _PRIMARY_SUBTAG.fullmatch(primary) or primary in _NOT_A_LANGUAGE:
        return None
    primary = _DECLARED_ALIASES.get(primary, primary)
    return MACROLANGUAGE.get(primary, primary) if fold_macrolanguages else primary


class LanguageIdentifier:
    """py3langid with normalized probabilities, loaded once in `setup()`."""

    def __init__(self, config: LangIdConfig | None = None) -> None:
        self.config = config or LangIdConfig()
        self._model: Any = None
        self._priors = self.config.short_text_priors()

    def setup(self) -> None:
        """Load the packaged model (about 0.3 s); call once per worker before `identify`."""
        if self._model is not None:
            return
        from py3langid.langid import MODEL_FILE
        from py3langid.langid import LanguageIdentifier as _Py3LangId

        model = _Py3LangId.from_model_file(MODEL_FILE, norm_probs=True)
        cfg = self.config
        labels = set(model.nb_classes) | (set(MACROLANGUAGE.values()) if cfg.fold_macrolanguages else set())
        unknown = sorted((set(cfg.short_text_preferred) | set(cfg.short_text_common)) - labels)
        if unknown:
            raise ValueError(f"LangIdConfig: short-text languages {unknown} are not py3langid labels")
        if cfg.languages:
            model.set_languages(list(cfg.languages))
        self._model = model

    def _prepare(self, text: str) -> str | None:
        head = text[: self.config.max_chars]
        if not _HAS_LETTER.search(head):
            return None
        # Collapse whitespace so layout (indentation, blank lines) does not dilute the byte features.
        return _WHITESPACE_RUN.sub(" ", head).strip()

    def identify(self, text: str) -> tuple[str, float]:
        """Most likely language and its probability in [0, 1]; ("und", 0.0) for text without letters."""
        if self._model is None:
            raise RuntimeError("LanguageIdentifier.identify called before setup(); call setup() once per worker")
        prepared = self._prepare(text)
        if prepared is None:
            return UNDETERMINED, 0.0
        encoded = prepared.encode("utf-8", "replace")
        if self._is_short(prepared):
            lang, prob = max(self._short_text_distribution(encoded).items(), key=itemgetter(1))
            return lang, prob
        if not self.config.fold_macrolanguages:
            lang, prob = self._model.classify(encoded)
            return str(lang), float(prob)
        return self._folded(self._model.rank(encoded))[0]

    def _is_short(self, prepared: str) -> bool:
        limit = self.config.short_text_letters
        if not limit:
            return False
        return len(prepared) < limit or len(_HAS_LETTER.findall(prepared)) < limit

    def _short_text_distribution(self, encoded: bytes) -> dict[str, float]:
        """Probability per language (folded if configured) times its short-text prior, renormalised."""
        fold = MACROLANGUAGE if self.config.fold_macrolanguages else {}
        priors, other = self._priors, self.config.short_text_other_prior
        weighted: dict[str, float] = {}
        for lang, p in self._model.rank(encoded):
            lang = fold.get(lang, lang)
            weighted[lang] = weighted.get(lang, 0.0) + p * priors.get(lang, other)
        total = sum(weighted.values())
        return {lang: p / total for lang, p in weighted.items()} if total > 0.0 else weighted

    def _folded(self, ranked: list[tuple[str, float]]) -> list[tuple[str, float]]:
        totals: dict[str, float] = {}
        for lang, prob in ranked:
            key = MACROLANGUAGE.get(lang, lang)
            totals[key] = totals.get(key, 0.0) + float(prob)
        return sorted(totals.items(), key=lambda kv: kv[1], reverse=True)

    def rank(self, text: str, top: int = 3) -> list[tuple[str, float]]:
        """The `top` most likely languages with probabilities (for mixed-script or ambiguous text)."""
        if self._model is None:
            raise RuntimeError("LanguageIdentifier.rank called before setup(); call setup() once per worker")
        prepared = self._prepare(text)
        if prepared is None:
            return [(UNDETERMINED, 0.0)]
        encoded = prepared.encode("utf-8", "replace")
        if self._is_short(prepared):
            return sorted(self._short_text_distribution(encoded).items(), key=itemgetter(1), reverse=True)[:top]
        ranked = [(str(lang), float(p)) for lang, p in self._model.rank(encoded)]
        return (self._folded(ranked) if self.config.fold_macrolanguages else ranked)[:top]
