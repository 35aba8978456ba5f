"""Scores PII detection against labelled texts: span recall per type, look-alikes damaged, leaky docs.

A labelled text (one JSONL row, see `tests/corpus/pii/fixtures/`) carries the PII spans that must be
masked and the look-alike spans that must survive (catalog names, versions, prices ...). A PII span
counts as found only when detected spans cover every one of its non-space characters: masking half of
an address or the part of a handle before a hyphen still leaks. The label of the covering span is not
required to match (any mask hides the value); `typed_by_type` reports how often it does.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


class _SpanLike(Protocol):
    start: int
    end: int
    label: str


@dataclass(frozen=True)
class LabelledText:
    """One text with its PII spans (start, end, type) and look-alike spans (start, end, kind)."""

    id: str
    text: str
    pii: tuple[tuple[int, int, str], ...]
    keep: tuple[tuple[int, int, str], ...] = ()
    catalog: tuple[str, ...] = ()
    lang: str = ""
    genre: str = ""
    split: str = ""


def load_labelled(path: str | Path) -> list[LabelledText]:
    """Read a labelled JSONL file; checks that every span's offsets point at its recorded value."""
    out = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            r = json.loads(line)
            for group in ("pii", "keep"):
                for sp in r.get(group, []):
                    if r["text"][sp["start"] : sp["end"]] != sp["value"]:
                        raise ValueError(
                            f"{path}:{n} ({r['id']}): {group} span {sp['start']}:{sp['end']} is "
                            f"{r['text'][sp['start']:sp['end']]!r}, not {sp['value']!r}; rebuild the file from its marks"
                        )
            out.append(
                LabelledText(
                    id=r["id"],
                    text=r["text"],
                    pii=tuple((s["start"], s["end"], s["type"]) for s in r.get("pii", [])),
                    keep=tuple((s["start"], s["end"], s["kind"]) for s in r.get("keep", [])),
                    catalog=tuple(r.get("catalog", [])),
                    lang=r.get("lang", ""),
                    genre=r.get("genre", ""),
                    split=r.get("split", ""),
                )
            )
    return out


def covered(text: str, spans: Sequence[_SpanLike], start: int, end: int) -> bool:
    """True if every non-space character of text[start:end] lies inside one of `spans`."""
    return all(
        text[i].isspace() or any(s.start <= i < s.end for s in spans) for i in range(start, end)
    )


def covering_labels(spans: Sequence[_SpanLike], start: int, end: int) -> set[str]:
    return {s.label for s in spans if s.start < end and s.end > start}


@dataclass
class PiiEvalReport:
    """What a detector found on labelled texts (recall over PII spans, damage over look-alikes)."""

    n_texts: int = 0
    n_pii: int = 0
    found: int = 0
    by_type: dict[str, tuple[int, int]] = field(default_factory=dict)  # type -> (found, total)
    typed_by_type: dict[str, tuple[int, int]] = field(default_factory=dict)  # type -> (same label, found)
    n_keep: int = 0
    damaged: list[tuple[str, str, str]] = field(default_factory=list)  # (text id, kind, value)
    catalog_masked: list[tuple[str, str]] = field(default_factory=list)
    leaks: list[tuple[str, str, str]] = field(default_factory=list)  # (text id, type, value)
    docs_with_leak: int = 0

    @property
    def recall(self) -> float:
        return self.found / self.n_pii if self.n_pii else 1.0

    def recall_by_type(self) -> dict[str, float]:
        return {t: f / n for t, (f, n) in sorted(self.by_type.items())}

    @property
    def damaged_rate(self) -> float:
        return len(self.damaged) / self.n_keep if self.n_keep else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "texts": self.n_texts,
            "pii_spans": self.n_pii,
            "recall": round(self.recall, 4),
            "recall_by_type": {t: f"{f}/{n}" for t, (f, n) in sorted(self.by_type.items())},
            "label_agrees": {t: f"{a}/{f}" for t, (a, f) in sorted(self.typed_by_type.items())},
            "look_alikes": self.n_keep,
            "look_alikes_damaged": len(self.damaged),
            "damaged_rate": round(self.damaged_rate, 4),
            "catalog_names_masked": len(self.catalog_masked),
            "docs_with_leak": f"{self.docs_with_leak}/{self.n_texts}",
        }


def evaluate(analyze: Callable[[str], Sequence[_SpanLike]], texts: Iterable[LabelledText]) -> PiiEvalReport:
    """Run `analyze(text) -> spans` over labelled texts and score it."""
    rep = PiiEvalReport()
    found_t: Counter[str] = Counter()
    total_t: Counter[str] = Counter()
    agree_t: Counter[str] = Counter()
    for lt in texts:
        spans = list(analyze(lt.text))
        rep.n_texts += 1
        leaked = False
        for s, e, kind in lt.pii:
            total_t[kind] += 1
            if covered(lt.text, spans, s, e):
                found_t[kind] += 1
                agree_t[kind] += kind in covering_labels(spans, s, e)
            else:
                leaked = True
                rep.leaks.append((lt.id, kind, lt.text[s:e]))
        rep.docs_with_leak += leaked
        for s, e, kind in lt.keep:
            rep.n_keep += 1
            if any(sp.start < e and sp.end > s for sp in spans):
                rep.damaged.append((lt.id, kind, lt.text[s:e]))
                if kind == "CATALOG":
                    rep.catalog_masked.append((lt.id, lt.text[s:e]))
    rep.n_pii = sum(total_t.values())
    rep.found = sum(found_t.values())
    rep.by_type = {t: (found_t[t], total_t[t]) for t in total_t}
    rep.typed_by_type = {t: (agree_t[t], found_t[t]) for t in total_t}
    return rep
