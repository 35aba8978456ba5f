"""The Presidio-compatible path: our recognizer specs as Presidio `PatternRecognizer`s.

`build_analyzer(specs)` returns a vanilla `AnalyzerEngine` over a blank spaCy pipeline (offline, no
model download) and a registry holding only our recognizers; it is the reference the fast path is
checked against and the baseline of the speed benchmark. `PresidioPiiMasker` feeds its results
through the same finalisation (context, allow-list, overlaps) as `PiiMasker`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from corpus.pii.masker import PiiMasker, _Candidate
from corpus.pii.recognizers import RecognizerSpec


def build_presidio_recognizers(specs: Sequence[RecognizerSpec]) -> list[Any]:
    """One `PatternRecognizer` per spec; the spec's validator becomes `validate_result`."""
    from presidio_analyzer import Pattern, PatternRecognizer

    class _SpecRecognizer(PatternRecognizer):
        def __init__(self, spec: RecognizerSpec) -> None:
            self.spec = spec
            super().__init__(
                supported_entity=spec.entity,
                name=spec.name,
                patterns=[Pattern(f"{spec.name}_{k}", p, spec.score) for k, p in enumerate(spec.patterns)],
                context=list(spec.context) or None,
                supported_language="en",
                global_regex_flags=0,  # flags live inline in each pattern, as in the fast path
            )

        def validate_result(self, pattern_text: str) -> bool | None:
            return self.spec.validator(pattern_text) if self.spec.validator else None

    return [_SpecRecognizer(s) for s in specs]


def build_analyzer(specs: Sequence[RecognizerSpec]) -> Any:
    """A vanilla Presidio `AnalyzerEngine` with a blank English spaCy pipeline and only our recognizers."""
    import spacy
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    class _BlankSpacyNlpEngine(SpacyNlpEngine):
        def load(self) -> None:
            self.nlp = {"en": spacy.blank("en")}

    engine = _BlankSpacyNlpEngine(models=[{"lang_code": "en", "model_name": "blank"}])
    engine.load()
    registry = RecognizerRegistry(supported_languages=["en"])
    for rec in build_presidio_recognizers(specs):
        registry.add_recognizer(rec)
    return AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["en"])


class PresidioPiiMasker(PiiMasker):
    """`PiiMasker` whose candidates come from Presidio's `AnalyzerEngine` (slow; reference only)."""

    def setup(self) -> PresidioPiiMasker:
        if not self._ready:
            super().setup()
            self.analyzer = build_analyzer(self.specs)
            self._index = {s.name: i for i, s in enumerate(self.specs)}
        return self

    def candidates(self, text: str) -> list[_Candidate]:
        self._require_setup()
        results = self.analyzer.analyze(text=text, language="en", entities=sorted({s.entity for s in self.specs}))
        out = []
        for r in results:
            i = self._index[r.recognition_metadata["recognizer_name"]]
            spec = self.specs[i]
            # Presidio's own context enhancement is not used: the score is rebuilt from the spec so
            # that both paths go through the same `finalize`.
            ok = spec.validator(text[r.start : r.end]) if spec.validator else None
            out.append(_Candidate(r.start, r.end, i, 1.0 if ok else spec.score))
        return out
