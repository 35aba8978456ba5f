"""Template engine for knowledge rendering: facts and fragments, template parsing and rendering, and
`choose`, which picks the phrasing of a bank that states the most facts.

A template is fixed wording with `{slot}` placeholders and `[...]` optional clauses (rendered only when
every slot directly inside has a value; clauses nest). Rendering records exactly where each slot value
lands (`Fact`), so the fixed wording can be kept out of the loss while the facts are learned.

    choice = choose("song_identity", "en", {"title": Val("Hope", "title"), ...}, seed=0, key=song_id)
    choice.fragment.text, choice.fragment.facts, choice.fragment.no_loss_spans()
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from numbers import Integral, Real
from types import MappingProxyType
from typing import Any, NamedTuple

import xxhash

from corpus.knowledge.templates.banks import BANKS, LANGS
from corpus.knowledge.templates.formatters import clean_value, format_number

# ----------------------------------------------------------------------------- values and fragments


class Fact(NamedTuple):
    """One slot value in rendered text: `text[start:end] == value`; `field` names the source column."""

    slot: str
    value: str
    start: int
    end: int
    field: str


class Val(NamedTuple):
    """A formatted slot value and the source field it came from (a column, or a path like `charts[2].rank`)."""

    text: str
    field: str


@dataclass(frozen=True, slots=True)
class Seq:
    """A list slot value: items (strings, `Val`s or `Fragment`s) joined naturally for the language.

    `conj`: `and` ("A, B and C" / "A、B和C"), `or`, `comma` (clauses: "A, B and C" / "A，B，C"),
    `semicolon`, or `lines` (one item per line). Separators are template wording (no loss).
    """

    items: tuple[Any, ...]
    conj: str = "and"


@dataclass(frozen=True, slots=True)
class Fragment:
    """Rendered text plus the facts inside it; everything that is not a fact is template wording."""

    text: str
    facts: tuple[Fact, ...] = ()

    def no_loss_spans(self) -> list[tuple[int, int]]:
        """Character spans [start, end) of the wording: the complement of the fact spans, sorted."""
        return complement_spans(self.facts, len(self.text))


def complement_spans(facts: Iterable[Fact], length: int) -> list[tuple[int, int]]:
    """Spans of [0, length) not covered by any fact (sorted, non-overlapping, adjacent ones merged)."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for f in sorted(facts, key=lambda f: (f.start, f.end)):
        if f.start > pos:
            spans.append((pos, f.start))
        pos = max(pos, f.end)
    if pos < length:
        spans.append((pos, length))
    return spans


def concat(parts: Iterable[str | Fragment], sep: str = "") -> Fragment:
    """Join fragments and literal strings (literals are wording) into one fragment, shifting fact offsets."""
    text: list[str] = []
    facts: list[Fact] = []
    pos = 0
    first = True
    for part in parts:
        if not first and sep:
            text.append(sep)
            pos += len(sep)
        first = False
        if isinstance(part, Fragment):
            facts.extend(f._replace(start=f.start + pos, end=f.end + pos) for f in part.facts)
            text.append(part.text)
            pos += len(part.text)
        else:
            text.append(part)
            pos += len(part)
    return Fragment("".join(text), tuple(facts))


def _strip(frag: Fragment) -> Fragment:
    """Trim outer whitespace (left by optional clauses that did not render); facts never start with it."""
    left = len(frag.text) - len(frag.text.lstrip())
    text = frag.text.strip()
    if left == 0 and len(text) == len(frag.text):
        return frag
    return Fragment(text, tuple(f._replace(start=f.start - left, end=f.end - left) for f in frag.facts))


_JOINERS: Mapping[tuple[str, str], tuple[str, str]] = MappingProxyType(
    {
        ("en", "and"): (", ", " and "),
        ("zh", "and"): ("、", "和"),
        ("en", "or"): (", ", " or "),
        ("zh", "or"): ("、", "或"),
        ("en", "comma"): (", ", " and "),
        ("zh", "comma"): ("，", "，"),
        ("en", "semicolon"): ("; ", "; "),
        ("zh", "semicolon"): ("；", "；"),
        ("en", "lines"): ("\n", "\n"),
        ("zh", "lines"): ("\n", "\n"),
    }
)


def join_fragments(frags: Sequence[Fragment], lang: str, conj: str = "and") -> Fragment:
    """Join items naturally ("A, B and C" / "A、B和C"); the separators are wording."""
    try:
        sep, last = _JOINERS[(lang, conj)]
    except KeyError:
        raise ValueError(
            f"unknown list style {conj!r} for lang {lang!r}; use one of and, or, comma, semicolon, lines"
        ) from None
    parts: list[str | Fragment] = []
    for i, f in enumerate(frags):
        if i:
            parts.append(last if i == len(frags) - 1 else sep)
        parts.append(f)
    return concat(parts)


def to_fragment(slot: str, value: Any, lang: str) -> Fragment | None:
    """A slot value as a fragment of facts, or None when it is missing.

    Accepts `str` / numbers (field = slot name), `Val`, `Fragment` (kept as rendered), and `Seq` or
    list/tuple of those (missing items dropped, repeated items kept once, joined for `lang`).
    """
    if value is None:
        return None
    if isinstance(value, Fragment):
        return value if value.facts else None
    if isinstance(value, Val):
        text = clean_value(value.text)
        return Fragment(text, (Fact(slot, text, 0, len(text), value.field),)) if text else None
    if isinstance(value, bool):
        raise TypeError(f"slot {slot!r}: booleans need a formatter (e.g. explicit_label), got {value!r}")
    if isinstance(value, Integral):
        return to_fragment(slot, Val(str(int(value)), slot), lang)
    if isinstance(value, Real):
        x = float(value)
        return to_fragment(slot, Val(format_number(x), slot), lang) if math.isfinite(x) else None
    if isinstance(value, str):
        return to_fragment(slot, Val(value, slot), lang)
    if isinstance(value, Seq | list | tuple):
        items, conj = (value.items, value.conj) if isinstance(value, Seq) else (value, "and")
        frags: list[Fragment] = []
        seen: set[str] = set()
        for item in items:
            f = to_fragment(slot, item, lang)
            if f is not None and f.text not in seen:
                seen.add(f.text)
                frags.append(f)
        return join_fragments(frags, lang, conj) if frags else None
    raise TypeError(f"slot {slot!r}: unsupported value type {type(value).__name__} ({value!r:.80})")


def _fields(slot: str, frag: Fragment) -> set[str]:
    return {f.field for f in frag.facts} or {slot}


# ----------------------------------------------------------------------------- templates


@dataclass(frozen=True, slots=True)
class _Slot:
    name: str


@dataclass(frozen=True, slots=True)
class _Opt:
    nodes: tuple[str | _Slot | _Opt, ...]
    slots: frozenset[str]  # slots directly inside (nested clauses decide for themselves)


_Node = str | _Slot | _Opt
_SLOT_NAME = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed template: `required` slots sit outside every optional clause."""

    name: str
    source: str
    nodes: tuple[_Node, ...]
    required: frozenset[str]
    slots: frozenset[str]


@lru_cache(maxsize=4096)
def parse_template(source: str, name: str = "") -> Template:
    """Parse `{slot}` / `[optional {slot}]` syntax once; raises ValueError naming the template and position."""
    where = f"template {name or source!r}"
    stack: list[list[_Node]] = [[]]
    lit: list[str] = []
    all_slots: set[str] = set()
    i = 0

    def flush() -> None:
        if lit:
            stack[-1].append("".join(lit))
            lit.clear()

    while i < len(source):
        c = source[i]
        if c == "{":
            end = source.find("}", i)
            slot = source[i + 1 : end] if end > 0 else ""
            if end < 0 or not _SLOT_NAME.fullmatch(slot):
                raise ValueError(f"{where}: bad slot at position {i}; write {{name}} with a lowercase name")
            flush()
            stack[-1].append(_Slot(slot))
            all_slots.add(slot)
            i = end + 1
            continue
        if c == "[":
            flush()
            stack.append([])
        elif c == "]":
            if len(stack) == 1:
                raise ValueError(f"{where}: ']' at position {i} closes no '['")
            flush()
            nodes = tuple(stack.pop())
            direct = frozenset(n.name for n in nodes if isinstance(n, _Slot))
            if not direct:
                raise ValueError(f"{where}: optional clause ending at {i} has no slot of its own")
            stack[-1].append(_Opt(nodes, direct))
        elif c == "}":
            raise ValueError(f"{where}: '}}' at position {i} closes no '{{'")
        else:
            lit.append(c)
        i += 1
    if len(stack) != 1:
        raise ValueError(f"{where}: {len(stack) - 1} unclosed '['")
    flush()
    nodes = tuple(stack[0])
    required = frozenset(n.name for n in nodes if isinstance(n, _Slot))
    return Template(name, source, nodes, required, frozenset(all_slots))


def _rendered_slots(nodes: Sequence[_Node], present: set[str]) -> set[str]:
    out: set[str] = set()
    for n in nodes:
        if isinstance(n, _Slot):
            out.add(n.name)
        elif isinstance(n, _Opt) and n.slots <= present:
            out |= _rendered_slots(n.nodes, present)
    return out


def _emit(nodes: Sequence[_Node], frags: Mapping[str, Fragment | None], out: list[str | Fragment]) -> None:
    for n in nodes:
        if isinstance(n, str):
            out.append(n)
        elif isinstance(n, _Slot):
            out.append(frags[n.name])  # type: ignore[arg-type]  # required slots are checked present
        elif all(frags.get(s) is not None for s in n.slots):
            _emit(n.nodes, frags, out)


def _render_fragments(template: Template, frags: Mapping[str, Fragment | None]) -> Fragment | None:
    if any(frags.get(s) is None for s in template.required):
        return None
    out: list[str | Fragment] = []
    _emit(template.nodes, frags, out)
    frag = _strip(concat(out))
    # a sentence of wording alone states nothing: never emit it
    return frag if frag.facts else None


def render_template(template: Template | str, values: Mapping[str, Any], lang: str) -> Fragment | None:
    """Render one template; None when a required slot is missing (the template is not eligible)."""
    t = parse_template(template) if isinstance(template, str) else template
    frags = {s: to_fragment(s, values.get(s), lang) for s in t.slots}
    return _render_fragments(t, frags)


# ----------------------------------------------------------------------------- banks and choosing


def kinds() -> list[str]:
    """Every template kind in the banks."""
    return sorted(BANKS)


@cache
def bank(kind: str, lang: str) -> tuple[Template, ...]:
    """The parsed templates of one kind and language (parsed once per process)."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    try:
        sources = BANKS[kind][lang]
    except KeyError:
        raise KeyError(f"no template bank {kind!r} for lang {lang!r}; known kinds: {kinds()}") from None
    return tuple(parse_template(src, f"{kind}/{lang}/{i}") for i, src in enumerate(sources))


class Choice(NamedTuple):
    template: str  # `kind/lang/index`, for audit and variety checks
    fragment: Fragment


def choose(
    kind: str,
    lang: str,
    values: Mapping[str, Any],
    *,
    seed: int,
    key: str,
    sentence_no: int | str = 0,
) -> Choice | None:
    """Render the phrasing of `kind` that states the most facts; ties go to a seeded hash of the record.

    Preferring coverage means a phrasing never drops a fact another phrasing could state; among equals
    `xxh64(f"{seed}:{key}:{kind}:{lang}:{sentence_no}")` picks, so wording varies across records but the
    same record and seed always read the same. None when no template of the bank is eligible.
    """
    templates = bank(kind, lang)
    needed = set().union(*(t.slots for t in templates))
    frags = {s: to_fragment(s, values.get(s), lang) for s in needed}
    present = {s for s, f in frags.items() if f is not None}
    scored: list[tuple[int, Template]] = []
    for t in templates:
        if not t.required <= present:
            continue
        fields: set[str] = set()
        for s in _rendered_slots(t.nodes, present):
            fields |= _fields(s, frags[s])  # type: ignore[arg-type]
        scored.append((len(fields), t))
    if not scored:
        return None
    best = max(n for n, _ in scored)
    tied = [t for n, t in scored if n == best]
    t = tied[xxhash.xxh64_intdigest(f"{seed}:{key}:{kind}:{lang}:{sentence_no}") % len(tied)]
    frag = _render_fragments(t, frags)
    return Choice(t.name, frag) if frag is not None else None
