"""Offline language identification with py3langid (naive Bayes over byte n-grams; the model ships
inside the package, nothing is downloaded).

`LanguageIdentifier.setup()` loads the model once per worker; `identify(text)` returns
`(lang, probability)` where the probability comes from py3langid's normalized (softmax, length
calibrated) scores over its 140 labels. Text with no letters returns ("und", 0.0).

Member languages are folded into their ISO 639 macrolanguage by default (Wu `wuu` and Cantonese `yue`
into `zh`, `uzs` into `uz`, `nn` into `no`, ...), summing their probabilities: the model confuses
short Mandarin questions with Wu often (about 9 % of ZIQI questions) and downstream we want one `zh`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

UNDETERMINED = "und"
_HAS_LETTER = re.compile(r"[^\W\d_]")
_WHITESPACE_RUN = re.compile(r"\s+")
MACROLANGUAGE: dict[str, str] = {"wuu": "zh", "yue": "zh", "uzs": "uz", "nn": "no", "arz": "ar", "ary": "ar", "gug": "gn"}


@dataclass(frozen=True)
class LangIdConfig:
    """How much text the identifier reads and which languages it may answer."""

    max_chars: int = 1000  # read the head only: py3langid walks bytes in Python; 1000 chars is plenty
    languages: tuple[str, ...] | None = None  # restrict the label set (e.g. ("en", "zh")); None = all
    fold_macrolanguages: bool = True  # report wuu/yue as zh etc. (probabilities summed), see MACROLANGUAGE


class LanguageIdentifier:
    """py3langid with normalized probabilities, loaded once in `setup()`."""

    def __init__(self, config: LangIdConfig | None = None) -> None:
        self.config = config or LangIdConfig()
        self._model: Any = None

    def setup(self) -> None:
        """Load the packaged model (about 0.3 s); call once per worker before `identify`."""
        if self._model is not None:
            return
        from py3langid.langid import MODEL_FILE
        from py3langid.langid import LanguageIdentifier as _Py3LangId

        model = _Py3LangId.from_model_file(MODEL_FILE, norm_probs=True)
        if self.config.languages:
            model.set_languages(list(self.config.languages))
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
        if not self.config.fold_macrolanguages:
            lang, prob = self._model.classify(encoded)
            return str(lang), float(prob)
        return self._folded(self._model.rank(encoded))[0]

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
        ranked = [(str(lang), float(p)) for lang, p in self._model.rank(prepared.encode("utf-8", "replace"))]
        return (self._folded(ranked) if self.config.fold_macrolanguages else ranked)[:top]
