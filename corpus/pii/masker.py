"""Fast PII detection and masking for user-generated music text: `PiiMasker.mask(text) -> MaskResult`.

Runs the compiled patterns of `corpus.pii.recognizers` directly, skipping recognizers whose trigger
characters are absent. Each text is scanned once for digit clusters; gates of digit-bearing
recognizers (`RecognizerSpec.anchor`) run only around those, and the full patterns only in windows
around gate hits; scans that several recognizers share (a gate, anchor regions, the lower-cased
text) run once per text. It then validates candidates, protects catalog names (allow-list), resolves
overlaps and replaces spans with typed placeholders or salted pseudonyms. Spans are returned with
offsets into the original text so the masking is auditable (score, then decide).
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from corpus.pii.catalog import is_official_account, official_slugs
from corpus.pii.recognizers import ENTITY_TYPES, RecognizerSpec, default_specs, url_account

logger = logging.getLogger(__name__)

CONTEXT_WINDOW = 48  # characters before a match searched for context words
CONTEXT_BOOST = 0.35
SUPPRESS_WINDOW = 64  # characters before a match that a spec's `suppress` pattern sees
_WORD = re.compile(r"\w+")
_DIGIT = re.compile(r"[0-9]")
# One scan per text: digit clusters (digits joined by single " ", ".", "-"). Every digit-bearing gate
# hit lies next to or inside one, so anchored gates run only around these (see `RecognizerSpec.anchor`).
_CLUSTER = re.compile(r"[0-9](?:[ .\-]?[0-9])*")


@dataclass(frozen=True)
class PiiConfig:
    """What to detect and how to mask it.

    `mode="placeholder"` writes `<EMAIL>`; `mode="pseudonym"` writes `<EMAIL_3f2a9c>`, an HMAC of the
    value under `salt`, so one value maps to one pseudonym within a salt. `allow_list` holds names
    that are never masked (catalog artists, songs, albums). `official_names` (artists, labels) keep
    their own pages: a profile URL or site whose account is such a name, as a slug
    (instagram.com/arcticmonkeys for "Arctic Monkeys"), is not masked; allow-list names count too.
    Person names are detected only when `ner_model_path` points to a spaCy model and "PERSON" is in
    `entities`.
    """

    mode: Literal["placeholder", "pseudonym"] = "placeholder"
    salt: str = field(default="", repr=False)  # a secret: never in reprs or logs
    entities: tuple[str, ...] = tuple(e for e in ENTITY_TYPES if e != "PERSON")
    allow_list: tuple[str, ...] = ()
    official_names: tuple[str, ...] = field(default=(), repr=False)  # can be a whole catalog's artists
    ner_model_path: str | None = None
    min_score: float = 0.4
    pseudonym_chars: int = 6

    def __post_init__(self) -> None:
        if self.mode not in ("placeholder", "pseudonym"):
            raise ValueError(f"PiiConfig.mode must be 'placeholder' or 'pseudonym', got {self.mode!r}")
        unknown = set(self.entities) - set(ENTITY_TYPES)
        if unknown:
            raise ValueError(f"PiiConfig.entities has unknown types {sorted(unknown)}; known: {ENTITY_TYPES}")
        if self.mode == "pseudonym" and not self.salt:
            logger.warning("PiiConfig: pseudonym mode without a salt; pseudonyms are guessable")


@dataclass(frozen=True, order=True)
class Span:
    """A detected PII span: character offsets into the original text, label, score."""

    start: int
    end: int
    label: str
    score: float = 1.0
    recognizer: str = field(default="", compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "label": self.label, "score": self.score}


@dataclass(frozen=True)
class MaskResult:
    """The masked text and the spans (offsets into the original text) that were replaced."""

    text: str
    spans: list[Span]


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    spec_index: int
    score: float


class AllowList:
    """Catalog names that must never be masked, indexed by word so a span is checked in O(names/word)."""

    def __init__(self, names: Iterable[str], max_names_per_word: int = 500) -> None:
        self.names: set[str] = {n.strip().casefold() for n in names if n and n.strip()}
        self._by_word: dict[str, list[str]] = {}
        for n in self.names:
            for w in set(_WORD.findall(n)):
                self._by_word.setdefault(w, []).append(n)
        self._max = max_names_per_word

    def __len__(self) -> int:
        return len(self.names)

    def protects(self, text: str, start: int, end: int) -> bool:
        """True if text[start:end] is an allowed name or lies inside an occurrence of one."""
        value = text[start:end].strip().casefold()
        if value in self.names:
            return True
        words = _WORD.findall(value)
        if not words:
            return False
        cands = [self._by_word.get(w, []) for w in words]
        best = min(cands, key=len)
        if not best or len(best) > self._max:
            return False
        for name in best:
            lo = max(0, start - len(name))
            window = text[lo : end + len(name)]
            for m in re.finditer(re.escape(name), window, re.IGNORECASE):
                if m.start() + lo < end and m.end() + lo > start:
                    return True
        return False


def context_pattern(words: Sequence[str]) -> re.Pattern[str]:
    """Any of `words`, case-insensitive; ASCII words only as whole words ("ip" not in "ship")."""
    alts = []
    for w in words:
        left = r"(?<![A-Za-z])" if w[0].isascii() and w[0].isalpha() else ""
        right = r"(?![A-Za-z])" if w[-1].isascii() and w[-1].isalpha() else ""
        alts.append(left + re.escape(w) + right)
    return re.compile("|".join(alts), re.IGNORECASE)


def resolve_overlaps(cands: Sequence[_Candidate]) -> list[_Candidate]:
    """Keep non-overlapping candidates: higher score, then longer span, then earlier recognizer."""
    ordered = sorted(cands, key=lambda c: (-c.score, -(c.end - c.start), c.spec_index, c.start))
    starts: list[int] = []  # kept spans never overlap, so sorted starts imply sorted ends
    kept: list[_Candidate] = []
    for c in ordered:
        i = bisect.bisect_right(starts, c.start)
        if (i > 0 and kept[i - 1].end > c.start) or (i < len(kept) and kept[i].start < c.end):
            continue
        starts.insert(i, c.start)
        kept.insert(i, c)
    return kept


class PiiMasker:
    """Detects and masks PII; call `setup()` once per worker, then `mask` / `analyze` / `mask_batch`."""

    def __init__(self, config: PiiConfig | None = None, specs: Sequence[RecognizerSpec] | None = None) -> None:
        self.config = config or PiiConfig()
        all_specs = tuple(specs) if specs is not None else default_specs()
        self.specs: tuple[RecognizerSpec, ...] = tuple(s for s in all_specs if s.entity in self.config.entities)
        self._compiled: list[tuple[int, RecognizerSpec, list[re.Pattern[str]]]] = []
        self._gates: list[re.Pattern[str] | None] = []
        self._gates_ci: list[re.Pattern[str] | None] = []
        self._context: list[re.Pattern[str] | None] = []
        self._suppress: list[re.Pattern[str] | None] = []
        self._official: frozenset[str] = frozenset()
        self._allow: AllowList | None = None
        self._nlp: Any = None
        self._ready = False

    # -------------------------------------------------------------- setup

    def setup(self) -> PiiMasker:
        """Compile patterns, index the allow-list and load the NER model (if configured). Idempotent."""
        if self._ready:
            return self
        self._compiled = [(i, s, [re.compile(p) for p in s.patterns]) for i, s in enumerate(self.specs)]
        self._gates = [re.compile(s.gate) if s.gate else None for s in self.specs]
        # a lower-case gate also runs, case-insensitively, on texts whose lower-casing changes length
        self._gates_ci = [re.compile(s.gate, re.IGNORECASE) if s.gate and s.gate_lower else None for s in self.specs]
        self._context = [context_pattern(s.context) if s.context else None for s in self.specs]
        self._suppress = [re.compile(s.suppress) if s.suppress else None for s in self.specs]
        self._allow = AllowList(self.config.allow_list)
        if any(s.keep_official for s in self.specs):
            self._official = official_slugs((*self.config.official_names, *self.config.allow_list))
        if self.config.ner_model_path and "PERSON" in self.config.entities:
            import spacy  # heavy: only when person detection is asked for

            self._nlp = spacy.load(self.config.ner_model_path)
        self._ready = True
        return self

    def _require_setup(self) -> None:
        if not self._ready:
            self.setup()

    # -------------------------------------------------------------- detection

    def candidates(self, text: str) -> list[_Candidate]:
        """Raw validated matches of every enabled recognizer (before allow-list and overlaps)."""
        self._require_setup()
        out: list[_Candidate] = []
        clusters = [m.span() for m in _CLUSTER.finditer(text)]
        n = len(text)
        lower: str | None = None
        cache: dict[object, list[tuple[int, int]]] = {}  # per-text scans shared between specs
        for i, spec, pats in self._compiled:
            if spec.needs_digit and not clusters:
                continue
            if spec.trigger and not any(t in text for t in spec.trigger):
                continue
            if spec.trigger_lower:
                if lower is None:
                    lower = text.lower()
                if not any(t in lower for t in spec.trigger_lower):
                    continue
            if spec.gate_lower and lower is None:
                lower = text.lower()
            windows = self._windows(i, text, clusters, n, cache, lower)
            if not windows:
                continue
            seen: set[tuple[int, int]] = set()
            for pat in pats:
                for lo, hi in windows:
                    for m in pat.finditer(text, lo, hi):
                        s, e = m.span()
                        if s == e or (s, e) in seen:
                            continue
                        seen.add((s, e))
                        score = self._validated_score(spec, m.group())
                        if score is not None:
                            out.append(_Candidate(s, e, i, score))
        return out

    def _windows(
        self,
        spec_index: int,
        text: str,
        clusters: list[tuple[int, int]] | None = None,
        n: int | None = None,
        cache: dict[object, list[tuple[int, int]]] | None = None,
        lower: str | None = None,
    ) -> list[tuple[int, int]]:
        """Merged character ranges around the gate's hits (the whole text when there is no gate)."""
        gate = self._gates[spec_index]
        if n is None:
            n = len(text)
        if gate is None:
            return [(0, n)]
        spec = self.specs[spec_index]
        if spec.gate_lower:
            if lower is None:
                lower = text.lower()
            if len(lower) == n:  # same offsets: scan the lower-cased text
                text = lower
            else:
                gate = self._gates_ci[spec_index]
                assert gate is not None
        before, after = spec.window
        if cache is None:
            cache = {}
        hits: list[tuple[int, int]]
        if spec.anchor is None:
            key = ("gate", gate.pattern, gate.flags, text is lower)  # specs with the same gate share one scan
            found = cache.get(key)
            if found is None:
                found = cache[key] = [m.span() for m in gate.finditer(text)]
            hits = found
        else:
            key = ("anchor", spec.anchor)  # and specs with the same anchor, its regions
            regions = cache.get(key)
            if regions is None:
                regions = cache[key] = self._anchor_regions(spec.anchor, text, clusters)
            if sum(hi - lo for lo, hi in regions) * 2 > n:  # mostly covered: one scan is cheaper
                hits = [m.span() for m in gate.finditer(text)]
            else:
                hits = []
                for lo, hi in regions:
                    hits.extend(m.span() for m in gate.finditer(text, lo, hi))
        out: list[tuple[int, int]] = []
        for hs, he in hits:
            lo, hi = max(0, hs - before), min(n, he + after)
            if out and lo <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], hi))
            else:
                out.append((lo, hi))
        return out

    @staticmethod
    def _anchor_regions(
        anchor: tuple[int, int, int], text: str, clusters: list[tuple[int, int]] | None
    ) -> list[tuple[int, int]]:
        """Merged [start - before, end + after) ranges around the digit clusters of >= min_len chars."""
        a_before, a_after, min_len = anchor
        if clusters is None:
            clusters = [m.span() for m in _CLUSTER.finditer(text)]
        regions: list[tuple[int, int]] = []
        for cs, ce in clusters:
            if ce - cs < min_len:
                continue
            lo, hi = max(0, cs - a_before), ce + a_after
            if regions and lo <= regions[-1][1]:
                if hi > regions[-1][1]:
                    regions[-1] = (regions[-1][0], hi)
            else:
                regions.append((lo, hi))
        return regions

    @staticmethod
    def _validated_score(spec: RecognizerSpec, value: str) -> float | None:
        score = spec.score
        if spec.validator is not None:
            ok = spec.validator(value)
            if ok is False:
                return None
            if ok:
                score = 1.0
        return score

    def finalize(self, text: str, cands: Iterable[_Candidate]) -> list[Span]:
        """Shared by the fast and the Presidio path: context boost, threshold, suppression, official
        pages, allow-list, overlaps."""
        self._require_setup()
        assert self._allow is not None
        boosted: list[_Candidate] = []
        for c in cands:
            score = c.score
            ctx = self._context[c.spec_index]
            if score < 1.0 and ctx is not None and ctx.search(text, max(0, c.start - CONTEXT_WINDOW), c.start):
                score = min(1.0, score + CONTEXT_BOOST)
            if score < self.config.min_score:
                continue
            sup = self._suppress[c.spec_index]
            if sup is not None and sup.search(text, max(0, c.start - SUPPRESS_WINDOW), c.start):
                continue
            if (
                self.specs[c.spec_index].keep_official
                and self._official
                and is_official_account(url_account(text[c.start : c.end]), self._official)
            ):
                continue
            if len(self._allow) and self._allow.protects(text, c.start, c.end):
                continue
            boosted.append(_Candidate(c.start, c.end, c.spec_index, score))
        return [
            Span(c.start, c.end, self.specs[c.spec_index].entity, round(c.score, 3), self.specs[c.spec_index].name)
            for c in resolve_overlaps(boosted)
        ]

    def _person_spans(self, text: str) -> list[Span]:
        if self._nlp is None:
            return []
        assert self._allow is not None
        spans = []
        for ent in self._nlp(text).ents:
            if ent.label_ in ("PERSON", "PER") and not self._allow.protects(text, ent.start_char, ent.end_char):
                spans.append(Span(ent.start_char, ent.end_char, "PERSON", 0.85, "SpacyNer"))
        return spans

    def analyze(self, text: str) -> list[Span]:
        """All PII spans in `text`, sorted, non-overlapping, offsets into `text`."""
        if not text or text.isspace():
            return []
        spans = self.finalize(text, self.candidates(text))
        if self._nlp is not None:
            persons = [p for p in self._person_spans(text) if all(p.end <= s.start or p.start >= s.end for s in spans)]
            spans = sorted(spans + persons)
        return spans

    # -------------------------------------------------------------- masking

    def replacement(self, label: str, value: str) -> str:
        if self.config.mode == "placeholder":
            return f"<{label}>"
        digest = hmac.new(self.config.salt.encode(), f"{label}\x00{value}".encode(), hashlib.sha256).hexdigest()
        return f"<{label}_{digest[: self.config.pseudonym_chars]}>"

    def mask(self, text: str) -> MaskResult:
        spans = self.analyze(text)
        if not spans:
            return MaskResult(text, [])
        parts: list[str] = []
        pos = 0
        for sp in spans:
            parts.append(text[pos : sp.start])
            parts.append(self.replacement(sp.label, text[sp.start : sp.end]))
            pos = sp.end
        parts.append(text[pos:])
        return MaskResult("".join(parts), spans)

    def mask_batch(self, texts: Iterable[str]) -> list[MaskResult]:
        self._require_setup()
        return [self.mask(t) for t in texts]
