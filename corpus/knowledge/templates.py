"""Template engine, slot formatters and the English/Chinese template banks for knowledge rendering.

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

LANGS = ("en", "zh")


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


# spreadsheet and pandas artefacts that must never reach training text as if they were facts
_MISSING_WORDS = frozenset({"", "none", "nan", "null", "n/a", "<na>", "nat"})


def clean_value(text: Any) -> str:
    """The value as slot text: stripped, or "" when it is a missing-value marker (None, "nan", ...)."""
    if text is None:
        return ""
    if isinstance(text, float) and not math.isfinite(text):
        return ""
    s = str(text).strip()
    return "" if s.lower() in _MISSING_WORDS else s


def is_missing(value: Any) -> bool:
    """True for None, "", NaN, missing-value words, empty lists and fragments that state no fact."""
    if isinstance(value, bool):
        return False  # a flag is a value; slots take it through a formatter
    return to_fragment("_", value, "en") is None


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


# ----------------------------------------------------------------------------- formatters

_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December")  # fmt: skip
_ISO_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")


def format_number(x: float, digits: int = 2) -> str:
    """Integers without a decimal point ("40"), other numbers rounded to `digits` ("0.52")."""
    if abs(x - round(x)) < 1e-9:
        return str(int(round(x)))
    return f"{x:.{digits}f}".rstrip("0").rstrip(".")


def format_unit(x: float | None) -> str | None:
    """An audio feature in [0, 1] as two decimals ("0.55")."""
    if x is None or not math.isfinite(x):
        return None
    return f"{x:.2f}"


def format_duration(ms: float | None) -> str | None:
    """Milliseconds as m:ss (h:mm:ss past an hour); None for missing or non-positive durations."""
    if ms is None or not math.isfinite(ms) or ms <= 0:
        return None
    s = int(round(ms / 1000))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def parse_iso_date(value: Any) -> tuple[int, int | None, int | None] | None:
    """`YYYY`, `YYYY-MM` or `YYYY-MM-DD` (a time part is ignored) as (year, month, day); None if invalid."""
    if value is None:
        return None
    if isinstance(value, Integral) and not isinstance(value, bool):
        value = str(int(value))
    m = _ISO_DATE.fullmatch(str(value).strip()[:10])
    if not m:
        return None
    y = int(m.group(1))
    mo = int(m.group(2)) if m.group(2) else None
    d = int(m.group(3)) if m.group(3) else None
    if y < 1000 or (mo is not None and not 1 <= mo <= 12) or (d is not None and not 1 <= d <= 31):
        return None
    return y, mo, d


class DateText(NamedTuple):
    precision: str  # "day", "month" or "year"
    text: str


def format_date(value: Any, lang: str) -> DateText | None:
    """EN "May 2, 2025" / "May 2025" / "2025"; ZH "2025年5月2日" / "2025年5月" / "2025年"."""
    p = parse_iso_date(value)
    if p is None:
        return None
    y, mo, d = p
    if lang == "zh":
        if mo is None:
            return DateText("year", f"{y}年")
        return DateText("month", f"{y}年{mo}月") if d is None else DateText("day", f"{y}年{mo}月{d}日")
    if mo is None:
        return DateText("year", str(y))
    name = _MONTHS_EN[mo - 1]
    return DateText("month", f"{name} {y}") if d is None else DateText("day", f"{name} {d}, {y}")


_KEY_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def key_name(key: float | None) -> str | None:
    """Pitch class 0..11 as a note name (0 = C, 1 = C#, ... 11 = B); -1 and others are unknown."""
    if key is None or not math.isfinite(key) or key != int(key) or not 0 <= key <= 11:
        return None
    return _KEY_NAMES[int(key)]


def mode_name(mode: float | None, lang: str) -> str | None:
    """1 = major ("major" / "大调"), 0 = minor ("minor" / "小调")."""
    if mode not in (0, 1):
        return None
    return ("大调" if mode == 1 else "小调") if lang == "zh" else ("major" if mode == 1 else "minor")


def format_tempo(bpm: float | None) -> str | None:
    """Tempo rounded to whole beats per minute; a zero tempo means the estimate failed."""
    if bpm is None or not math.isfinite(bpm) or bpm < 1:
        return None
    return str(int(round(bpm)))


def format_meter(beats: float | None) -> str | None:
    """Beats per bar as a time signature ("4/4"); 0 and 1 are failed estimates."""
    if beats is None or not math.isfinite(beats) or beats != int(beats) or not 2 <= beats <= 12:
        return None
    return f"{int(beats)}/4"


def format_loudness(db: float | None) -> str | None:
    """Average loudness in dB to one decimal ("-9.5")."""
    if db is None or not math.isfinite(db):
        return None
    return f"{db:.1f}"


def ordinal_en(n: int) -> str:
    """1 -> "1st", 2 -> "2nd", 11 -> "11th", 23 -> "23rd"."""
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{({1: 'st', 2: 'nd', 3: 'rd'}).get(n % 10, 'th')}"


def format_rank(rank: float | None) -> str | None:
    """A chart position as digits; None unless a positive whole number."""
    if rank is None or not math.isfinite(rank) or rank != int(rank) or rank < 1:
        return None
    return str(int(rank))


def explicit_label(explicit: bool | None, lang: str) -> str | None:
    if explicit is None:
        return None
    if lang == "zh":
        return "含露骨内容" if explicit else "不含露骨内容"
    return "explicit" if explicit else "clean"


# feature -> (EN words, ZH words), one per band [0, .2), [.2, .4), [.4, .6), [.6, .8), [.8, 1]
FEATURE_BANDS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = MappingProxyType(
    {
        "danceability": (
            ("hardly danceable", "not very danceable", "moderately danceable", "danceable", "very danceable"),
            ("几乎不适合跳舞", "不太适合跳舞", "有一定律动感", "适合跳舞", "非常适合跳舞"),
        ),
        "energy": (
            ("very calm", "fairly mellow", "moderately energetic", "energetic", "very energetic"),
            ("非常安静", "比较舒缓", "能量适中", "充满活力", "能量十足"),
        ),
        "valence": (
            ("very somber", "somewhat melancholic", "emotionally balanced", "upbeat", "very cheerful"),
            ("非常忧伤", "略带忧郁", "情绪中性", "积极明快", "非常欢快"),
        ),
        "acousticness": (
            ("barely acoustic", "mostly non-acoustic", "partly acoustic", "largely acoustic", "almost entirely acoustic"),
            ("几乎没有原声成分", "原声成分较少", "部分采用原声乐器", "以原声为主", "几乎完全是原声"),
        ),
        "instrumentalness": (
            ("clearly vocal", "mostly vocal", "partly instrumental", "largely instrumental", "almost entirely instrumental"),
            ("以人声为主", "人声较多", "人声与器乐并重", "以器乐为主", "几乎是纯器乐"),
        ),
        "speechiness": (
            ("almost free of spoken words", "light on spoken words", "fairly speech-heavy", "speech-heavy", "almost entirely spoken"),
            ("几乎没有念白", "念白很少", "有一些说唱或念白", "念白较多", "几乎全是念白"),
        ),
        "liveness": (
            ("studio-sounding", "mostly studio-sounding", "somewhat live-sounding", "live-sounding", "very likely a live recording"),
            ("录音室质感", "基本是录音室录制", "带有一些现场感", "现场感较强", "很可能是现场录音"),
        ),
    }
)  # fmt: skip


def band_word(feature: str, x: float | None, lang: str) -> str | None:
    """An audio feature in [0, 1] described in words by fifths (danceability 0.8 -> "very danceable")."""
    if x is None or not math.isfinite(x) or not 0.0 <= x <= 1.0:
        return None
    words = FEATURE_BANDS[feature][1 if lang == "zh" else 0]
    return words[min(int(x * 5), 4)]


# machine chart ids of the ingested sources -> display names (EN, ZH)
_CHART_NAMES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "billboard_year_end_hot100": ("Billboard Year-End Hot 100", "公告牌年终百强单曲榜"),
        "billboard_hot100_number_one": ("Billboard Hot 100", "公告牌百强单曲榜"),
        "rolling_stone_500_albums_2012": (
            "Rolling Stone list of the 500 Greatest Albums of All Time (2012 edition)",
            "《滚石》杂志史上最伟大的500张专辑榜（2012年版）",
        ),
    }
)


def chart_display_name(chart: str | None, lang: str) -> str | None:
    """Known chart ids by name; other ids (`tunewave_weekly_top50`) title-cased ("Tunewave Weekly Top 50")."""
    chart = clean_value(chart)
    if not chart:
        return None
    if chart in _CHART_NAMES:
        return _CHART_NAMES[chart][1 if lang == "zh" else 0]
    if " " in chart or chart != chart.lower():
        return chart  # already a display name
    words = re.sub(r"([a-z])(\d)", r"\1 \2", chart.replace("_", " ").replace("-", " ")).split()
    return " ".join(w[:1].upper() + w[1:] for w in words)


_COUNTRIES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "AR": ("Argentina", "阿根廷"), "AT": ("Austria", "奥地利"), "AU": ("Australia", "澳大利亚"),
        "BE": ("Belgium", "比利时"), "BR": ("Brazil", "巴西"), "CA": ("Canada", "加拿大"),
        "CH": ("Switzerland", "瑞士"), "CL": ("Chile", "智利"), "CN": ("China", "中国"),
        "CO": ("Colombia", "哥伦比亚"), "CU": ("Cuba", "古巴"), "CZ": ("Czechia", "捷克"),
        "DE": ("Germany", "德国"), "DK": ("Denmark", "丹麦"), "EG": ("Egypt", "埃及"),
        "ES": ("Spain", "西班牙"), "FI": ("Finland", "芬兰"), "FR": ("France", "法国"),
        "GB": ("the United Kingdom", "英国"), "GH": ("Ghana", "加纳"), "GR": ("Greece", "希腊"),
        "HK": ("Hong Kong", "中国香港"), "HU": ("Hungary", "匈牙利"), "ID": ("Indonesia", "印度尼西亚"),
        "IE": ("Ireland", "爱尔兰"), "IL": ("Israel", "以色列"), "IN": ("India", "印度"),
        "IS": ("Iceland", "冰岛"), "IT": ("Italy", "意大利"), "JM": ("Jamaica", "牙买加"),
        "JP": ("Japan", "日本"), "KE": ("Kenya", "肯尼亚"), "KR": ("South Korea", "韩国"),
        "MO": ("Macau", "中国澳门"), "MX": ("Mexico", "墨西哥"), "MY": ("Malaysia", "马来西亚"),
        "NG": ("Nigeria", "尼日利亚"), "NL": ("the Netherlands", "荷兰"), "NO": ("Norway", "挪威"),
        "NZ": ("New Zealand", "新西兰"), "PE": ("Peru", "秘鲁"), "PH": ("the Philippines", "菲律宾"),
        "PL": ("Poland", "波兰"), "PT": ("Portugal", "葡萄牙"), "RU": ("Russia", "俄罗斯"),
        "SE": ("Sweden", "瑞典"), "SG": ("Singapore", "新加坡"), "TH": ("Thailand", "泰国"),
        "TR": ("Turkey", "土耳其"), "TW": ("Taiwan", "中国台湾"), "UA": ("Ukraine", "乌克兰"),
        "US": ("the United States", "美国"), "VN": ("Vietnam", "越南"), "ZA": ("South Africa", "南非"),
    }
)  # fmt: skip


def country_name(country: str | None, lang: str) -> str | None:
    """ISO 3166 alpha-2 codes by name; anything else (a city, a full name) as the source wrote it."""
    c = clean_value(country)
    if not c:
        return None
    names = _COUNTRIES.get(c.upper()) if len(c) == 2 else None
    return names[1 if lang == "zh" else 0] if names else c


_CONTEXTS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "commute": ("the commute", "通勤"), "home": ("time at home", "居家"), "gym": ("the gym", "健身"),
        "workout": ("workouts", "健身"), "work": ("work", "工作"), "study": ("studying", "学习"),
        "focus": ("focus", "专注"), "sleep": ("sleep", "睡眠"), "party": ("parties", "派对"),
        "relax": ("relaxing", "放松"), "travel": ("travel", "旅行"), "driving": ("driving", "驾车"),
    }
)  # fmt: skip


def context_label(context: str | None, lang: str) -> str | None:
    """A playlist listening context ("commute") as wording for "made for ..." ("the commute" / "通勤")."""
    c = clean_value(context)
    if not c:
        return None
    names = _CONTEXTS.get(c.lower())
    return names[1 if lang == "zh" else 0] if names else c


_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def has_han(text: str | None) -> bool:
    """True when the text contains Han characters (Chinese, or Japanese kanji)."""
    return bool(text) and _HAN.search(text) is not None  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- banks
# Kinds named `frag_*` are phrases inside a sentence (list items); the others are sentences.
# EN titles in “curly quotes”, ZH titles in 《book-title marks》. ZH wording uses no Latin letters.

_BANKS: dict[str, dict[str, tuple[str, ...]]] = {
    # ------------------------------------------------------------------ songs
    "song_identity": {
        "en": (
            "“{title}” is a song[ by {artists}][ from the album “{album}”][, released on {day}][, released in {when}].",
            "{artists} released “{title}”[ on {day}][ in {when}][ as part of the album “{album}”].",
            "“{title}” was recorded by {artists}[ and appears on the album “{album}”][; it came out on {day}][; it came out in {when}].",
            "The song “{title}” is performed by {artists}[ and was released on {day}][ and was released in {when}][, appearing on the album “{album}”].",
            "“{title}” is a track[ by {artists}][ on the album “{album}”][ that came out on {day}][ that came out in {when}].",
            "Among the songs by {artists} is “{title}”[, from the album “{album}”][, released on {day}][, released in {when}].",
            "[On {day}, ][In {when}, ]{artists} put out “{title}”[, a track from the album “{album}”].",
        ),
        "zh": (
            "《{title}》是[{artists}的]一首歌曲[，收录于专辑《{album}》][，发行于{day}][，发行于{when}]。",
            "《{title}》由{artists}演唱[，收录在专辑《{album}》中][，于{day}发行][，于{when}发行]。",
            "歌曲《{title}》的演唱者是{artists}[，出自专辑《{album}》][，发行日期为{day}][，发行时间为{when}]。",
            "[{day}，][{when}，]{artists}发行了歌曲《{title}》[，该曲收录于专辑《{album}》]。",
            "《{title}》是一首[由{artists}演唱的]作品[，来自专辑《{album}》][，于{day}问世][，于{when}问世]。",
            "《{title}》是{artists}的作品之一[，收录于专辑《{album}》][，{day}发行][，{when}发行]。",
        ),
    },
    "song_genres": {
        "en": (
            "It is classified as {genres}.",
            "Its genres are listed as {genres}.",
            "Genre tags for “{title}”: {genres}.",
            "Stylistically, the song falls under {genres}.",
        ),
        "zh": (
            "这首歌的曲风是{genres}。",
            "《{title}》被归入{genres}风格。",
            "曲风标签：{genres}。",
            "从风格上看，它属于{genres}。",
        ),
    },
    "song_details": {
        "en": (
            "[It runs {duration}.][ It is marked {explicit}.][ Its popularity score is {popularity}.]",
            "[The track lasts {duration}.][ The release is flagged as {explicit}.][ It has a popularity score of {popularity}.]",
            "[Length: {duration}.][ Content rating: {explicit}.][ Popularity: {popularity}.]",
            "[Its running time is {duration}.][ It is labelled {explicit}.][ Its popularity stands at {popularity}.]",
        ),
        "zh": (
            "[这首歌时长{duration}。][它{explicit}。][热度评分为{popularity}。]",
            "[歌曲长度为{duration}。][内容标记：{explicit}。][热度：{popularity}。]",
            "[全曲长{duration}。][该曲{explicit}。][人气指数为{popularity}。]",
            "[时长：{duration}。][标记：{explicit}。][热度值：{popularity}。]",
        ),
    },
    "song_character": {
        "en": (
            "Musically, “{title}” is {traits}.",
            "The track is {traits}[, with {measures}].",
            "Audio analysis describes “{title}” as {traits}.",
            "In terms of sound, it is {traits}[ ({measures})].",
            "Its audio profile shows {measures}, making it {traits}.",
            "Measured audio features of “{title}”: {measures}.",
            "Listeners would find “{title}” {traits}; the analysis gives {measures}.",
        ),
        "zh": (
            "从音乐上看，《{title}》{traits}。",
            "这首歌{traits}[（{measures}）]。",
            "音频分析显示，《{title}》{traits}。",
            "听感上，它{traits}。",
            "它的音频特征为：{measures}，整体{traits}。",
            "《{title}》的音频测量值：{measures}。",
        ),
    },
    "song_texture": {
        "en": (
            "It is {traits}.",
            "In its vocals and production, the track is {traits}[ ({measures})].",
            "Further analysis finds {measures}.",
        ),
        "zh": (
            "此外，这首歌{traits}。",
            "进一步分析显示：{measures}。",
            "它{traits}[（{measures}）]。",
        ),
    },
    "song_music": {
        "en": (
            "Musically, it has {music}.",
            "“{title}” has {music}.",
            "The recording has {music}.",
            "Its musical details: {music}.",
            "In musical terms, “{title}” has {music}.",
            "Analysis credits the track with {music}.",
        ),
        "zh": (
            "这首歌{music}。",
            "《{title}》{music}。",
            "从音乐参数看，它{music}。",
            "音乐上，这首作品{music}。",
            "《{title}》的音乐参数：{music}。",
            "据分析，《{title}》{music}。",
        ),
    },
    "frag_key": {
        "en": ("the key of {key}[ {mode}]", "a home key of {key}[ {mode}]"),
        "zh": ("调性为{key}[{mode}]", "采用{key}[{mode}]"),
    },
    "frag_tempo": {
        "en": ("a tempo of about {tempo} BPM", "roughly {tempo} beats per minute"),
        "zh": ("速度约为每分钟{tempo}拍", "每分钟约{tempo}拍"),
    },
    "frag_meter": {
        "en": ("{meter} time", "a {meter} time signature"),
        "zh": ("拍号为{meter}", "采用{meter}拍"),
    },
    "frag_loudness": {
        "en": ("an average loudness of {loudness} dB", "a loudness of about {loudness} dB"),
        "zh": ("平均响度为{loudness}分贝", "响度约{loudness}分贝"),
    },
    "frag_danceability": {"en": ("a danceability of {danceability}",), "zh": ("可舞性为{danceability}",)},
    "frag_energy": {"en": ("an energy of {energy}",), "zh": ("能量值为{energy}",)},
    "frag_valence": {"en": ("a valence of {valence}",), "zh": ("情绪正向度为{valence}",)},
    "frag_acousticness": {"en": ("an acousticness of {acousticness}",), "zh": ("原声度为{acousticness}",)},
    "frag_instrumentalness": {
        "en": ("an instrumentalness of {instrumentalness}",),
        "zh": ("器乐度为{instrumentalness}",),
    },
    "frag_speechiness": {"en": ("a speechiness of {speechiness}",), "zh": ("语音度为{speechiness}",)},
    "frag_liveness": {"en": ("a liveness of {liveness}",), "zh": ("现场感为{liveness}",)},
    "song_chart": {
        "en": (
            "“{title}” was ranked No. {rank} on the {chart}[ in {when}][ dated {day}].",
            "On the {chart}[ for {when}][ dated {day}], “{title}” placed at number {rank}.",
            "The song charted at No. {rank} on the {chart}[ in {when}][ in the edition of {day}].",
            "It came in {rank_ordinal} on the {chart}[ in {when}][ dated {day}].",
            "“{title}” appeared on the {chart}[ in {when}][ dated {day}].",
        ),
        "zh": (
            "《{title}》在[{when}的][{day}的]{chart}上排名第{rank}位。",
            "在[{when}的][{day}的]{chart}中，《{title}》位列第{rank}名。",
            "这首歌曾登上[{when}的][{day}的]{chart}，名列第{rank}。",
            "[{when}，][{day}，]《{title}》在{chart}上取得第{rank}名。",
            "《{title}》曾登上[{when}的][{day}的]{chart}。",
        ),
    },
    "song_award_won": {
        "en": (
            "“{title}” won {category}[ at the {ceremony}][ ({when})].",
            "At the {ceremony}[ in {when}], “{title}” took the award for {category}.",
            "The song received the {category} award[ at the {ceremony}][ in {when}].",
        ),
        "zh": (
            "《{title}》在{ceremony}上获得了{category}奖项[（{when}）]。",
            "[{when}，]《{title}》荣获[{ceremony}的]{category}奖。",
            "这首歌赢得了[{ceremony}的]{category}奖项[（{when}）]。",
        ),
    },
    "song_award_nominated": {
        "en": (
            "“{title}” was nominated for {category}[ at the {ceremony}][ ({when})].",
            "At the {ceremony}[ in {when}], “{title}” received a nomination for {category}.",
            "The song was up for {category}[ at the {ceremony}][ in {when}].",
        ),
        "zh": (
            "《{title}》入围了[{ceremony}的]{category}奖项[（{when}）]。",
            "[{when}，]《{title}》获得[{ceremony}的]{category}提名。",
            "这首歌曾获{category}提名[，颁奖典礼为{ceremony}][（{when}）]。",
        ),
    },
    # ------------------------------------------------------------------ artists and albums
    "artist_identity": {
        "en": (
            "{name} is an artist[ from {country}][ known for {genres}].",
            "[Based in {country}, ]{name} makes music[ spanning {genres}].",
            "{name} is a music act[ from {country}][ whose work is tagged {genres}].",
            "{name}[, an artist from {country},] is associated with {genres}.",
            "Hailing from {country}, {name} performs {genres}.",
            "{name}[ ({country})] is an artist[ working in {genres}].",
            "Artist profile: {name}[; origin: {country}][; genres: {genres}].",
        ),
        "zh": (
            "{name}是一位[来自{country}的]音乐人[，风格涵盖{genres}]。",
            "[来自{country}的]{name}主要创作{genres}风格的音乐。",
            "{name}[（{country}）]是一位音乐人[，作品以{genres}为主]。",
            "艺人资料：{name}[；地区：{country}][；风格：{genres}]。",
            "{name}是[一位来自{country}的]音乐艺人[，代表风格包括{genres}]。",
            "音乐人{name}[来自{country}][，擅长{genres}]。",
        ),
    },
    "artist_songs": {
        "en": (
            "Notable songs by {name} include {songs}.",
            "Songs by {name} include {songs}.",
            "Among the tracks by {name} are {songs}.",
        ),
        "zh": ("{name}的代表歌曲有{songs}。", "{name}的歌曲包括{songs}。", "{name}演唱过的作品有{songs}。"),
    },
    "artist_albums": {
        "en": (
            "Albums by {name} include {albums}.",
            "{name} has released albums such as {albums}.",
            "The discography of {name} includes {albums}.",
        ),
        "zh": (
            "{name}的专辑包括{albums}。",
            "{name}发行过的专辑有{albums}。",
            "{name}的专辑作品有{albums}。",
        ),
    },
    "frag_album": {"en": ("“{title}”[ ({when})]",), "zh": ("《{title}》[（{when}）]",)},
    "album_identity": {
        "en": (
            "“{title}” is an album[ by {artists}][, released in {when}][, spanning {genres}].",
            "{artists} released the album “{title}”[ in {when}][; its genres include {genres}].",
            "The album “{title}” is by {artists}[ and came out in {when}][; it is tagged {genres}].",
            "“{title}”[, by {artists},] is an album[ from {when}][ of {genres}].",
            "Album: “{title}”[; artists: {artists}][; year: {when}][; genres: {genres}].",
            "In {when}, {artists} put out the album “{title}”[, which draws on {genres}].",
        ),
        "zh": (
            "《{title}》是[{artists}的]一张专辑[，发行于{when}][，风格包括{genres}]。",
            "{artists}[于{when}]发行了专辑《{title}》[，风格涵盖{genres}]。",
            "专辑《{title}》由{artists}推出[，发行时间为{when}][，曲风为{genres}]。",
            "专辑：《{title}》[；艺人：{artists}][；年份：{when}][；风格：{genres}]。",
            "[{when}，]{artists}推出了专辑《{title}》[，这张专辑融合了{genres}]。",
            "《{title}》是一张[{genres}风格的]专辑[，由{artists}录制][，{when}发行]。",
        ),
    },
    # ------------------------------------------------------------------ charts and awards
    "chart_intro": {
        "en": (
            "Here is the {chart}[ for {when}][ dated {day}]:",
            "Top entries of the {chart}[ for {when}][ as of {day}]:",
            "The {chart}[ for {when}][ published on {day}] ranked the following:",
            "Rankings on the {chart}[ in {when}][ on {day}]:",
            "This is how the {chart} looked[ in {when}][ on {day}]:",
            "Positions on the {chart}[ for {when}][ dated {day}], from the top:",
        ),
        "zh": (
            "以下是[{when}的][{day}的]{chart}：",
            "[{when}][{day}]{chart}的排名如下：",
            "{chart}[（{when}）][（{day}）]榜单：",
            "[{when}，][{day}，]{chart}上榜作品依次为：",
            "这是[{when}的][{day}的]{chart}排名：",
            "{chart}[（{when}）][（{day}）]从第一名开始依次是：",
        ),
    },
    "chart_entry": {
        "en": (
            "[{rank}. ]“{title}”[ by {artists}]",
            "[No. {rank}: ]“{title}”[ by {artists}]",
            "[#{rank} ]“{title}”[ – {artists}]",
            "[Number {rank}: ]“{title}”[ by {artists}]",
        ),
        "zh": (
            "[第{rank}名：]《{title}》[——{artists}]",
            "[{rank}. ]《{title}》[（{artists}）]",
            "[第{rank}位：][{artists}的]《{title}》",
        ),
    },
    "award_nominees": {
        "en": (
            "The nominees for {category}[ at the {ceremony}][ in {when}] were {nominees}.",
            "[At the {ceremony}, ]{category}[ ({when})] had these nominees: {nominees}.",
            "{category}[ ({ceremony})][ ({when})] nominees: {nominees}.",
            "Nominated for {category}[ at the {ceremony}][ in {when}]: {nominees}.",
        ),
        "zh": (
            "[{ceremony}的]{category}奖项[（{when}）]提名者有{nominees}。",
            "[{when}，][{ceremony}]{category}的提名名单为：{nominees}。",
            "入围[{ceremony}][（{when}）]{category}的有{nominees}。",
            "{category}[（{ceremony}）][（{when}）]提名：{nominees}。",
        ),
    },
    "award_outcome": {
        "en": ("The award went to {winners}.", "Winner: {winners}.", "In the end, {winners} won."),
        "zh": ("最终{winners}获奖。", "该奖项由{winners}获得。", "获奖者：{winners}。"),
    },
    "award_winners": {
        "en": (
            "At the {ceremony}[ ({when})], {category} went to {winners}.",
            "The {category} award[ at the {ceremony}][ in {when}] went to {winners}.",
            "{winners} won {category}[ at the {ceremony}][ in {when}].",
            "Winner of {category}[ at the {ceremony}][ in {when}]: {winners}.",
        ),
        "zh": (
            "在{ceremony}上，{category}奖项[（{when}）]颁给了{winners}。",
            "[{when}，]{winners}赢得了[{ceremony}的]{category}奖项。",
            "[{ceremony}][（{when}）]{category}获奖者：{winners}。",
            "{category}奖项[（{ceremony}）][（{when}）]的得主是{winners}。",
        ),
    },
    "frag_nominee": {
        "en": ("“{nominee}”[ by {artists}]", "{artists}"),
        "zh": ("[{artists}的]《{nominee}》", "{artists}"),
    },
    # ------------------------------------------------------------------ stage 2: comments, playlists, relations
    "comment_song": {
        "en": (
            "A listener's comment on “{title}”[ by {artists}]: {comment}",
            "What a listener wrote about the song “{title}”[ by {artists}]: {comment}",
            "Listener review of “{title}”[ by {artists}]: {comment}",
            "On “{title}”[ by {artists}], a listener said: {comment}",
        ),
        "zh": (
            "一位听众对[{artists}的]《{title}》的评论：{comment}",
            "听众关于歌曲《{title}》[（{artists}）]的留言：{comment}",
            "有听众这样评价[{artists}的]《{title}》：{comment}",
            "《{title}》[（{artists}）]的乐评：{comment}",
        ),
    },
    "comment_album": {
        "en": (
            "A listener's comment on the album “{title}”[ by {artists}]: {comment}",
            "What a listener wrote about the album “{title}”[ by {artists}]: {comment}",
            "Album review of “{title}”[ by {artists}]: {comment}",
        ),
        "zh": (
            "一位听众对[{artists}的]专辑《{title}》的评论：{comment}",
            "听众关于专辑《{title}》[（{artists}）]的留言：{comment}",
            "有听众这样评价[{artists}的]专辑《{title}》：{comment}",
        ),
    },
    "comment_artist": {
        "en": (
            "A listener's comment about {title}: {comment}",
            "What a fan wrote about the artist {title}: {comment}",
            "On {title}, a listener said: {comment}",
        ),
        "zh": (
            "一位听众对{title}的评论：{comment}",
            "乐迷谈{title}：{comment}",
            "有听众这样评价艺人{title}：{comment}",
        ),
    },
    "comment_playlist": {
        "en": (
            "A listener's comment on the playlist “{title}”: {comment}",
            "What a listener wrote about the playlist “{title}”: {comment}",
            "Comment on the playlist “{title}”: {comment}",
        ),
        "zh": (
            "一位听众对歌单《{title}》的评论：{comment}",
            "听众关于歌单《{title}》的留言：{comment}",
            "歌单《{title}》下的评论：{comment}",
        ),
    },
    "comment_generic": {
        "en": (
            "A listener's comment: {comment}",
            "A listener wrote: {comment}",
            "Listener comment: {comment}",
        ),
        "zh": ("一位听众的评论：{comment}", "听众留言：{comment}", "有听众写道：{comment}"),
    },
    "playlist_intro": {
        "en": (
            "“{name}” is a playlist[ of {n_tracks} tracks][ for {context}][ centred on {genre}].",
            "The playlist “{name}” has {n_tracks} tracks[ for {context}][, mostly {genre}].",
            "A listener put together the playlist “{name}”[, {n_tracks} tracks long][, for {context}][, with a focus on {genre}].",
            "Playlist: “{name}”[; tracks: {n_tracks}][; made for: {context}][; genre: {genre}].",
        ),
        "zh": (
            "《{name}》是一个[包含{n_tracks}首歌的]歌单[，适合{context}场景][，以{genre}为主]。",
            "歌单《{name}》收录了{n_tracks}首歌[，适合{context}时收听][，风格主要是{genre}]。",
            "有听众创建了歌单《{name}》[，共{n_tracks}首][，用于{context}][，主打{genre}]。",
            "歌单：《{name}》[；曲目数：{n_tracks}][；场景：{context}][；风格：{genre}]。",
        ),
    },
    "playlist_description": {
        "en": (
            "Its description reads: {description}",
            "Description: {description}",
            "The curator describes it as: {description}",
        ),
        "zh": ("歌单简介：{description}", "创建者的描述是：{description}", "简介写道：{description}"),
    },
    "playlist_tracks": {
        "en": (
            "Its tracks include {tracks}.",
            "In order, it plays {tracks}.",
            "The track list runs: {tracks}.",
        ),
        "zh": ("歌单中的歌曲依次是{tracks}。", "收录的歌曲包括{tracks}。", "曲目列表：{tracks}。"),
    },
    "frag_track": {
        "en": ("“{title}”[ by {artists}]", "“{title}”[ ({artists})]"),
        "zh": ("[{artists}的]《{title}》", "《{title}》[（{artists}）]"),
    },
    "relation_session": {
        "en": (
            "Listeners who played “{title}”[ by {artists}] in the same session also played {neighbours}.",
            "In listening sessions with “{title}”[ by {artists}], people also played {neighbours}.",
            "Sessions that include “{title}”[ by {artists}] often also include {neighbours}.",
            "People who listen to “{title}”[ by {artists}] tend to play {neighbours} in the same sitting.",
        ),
        "zh": (
            "在同一次收听中播放过[{artists}的]《{title}》的听众，也播放了{neighbours}。",
            "与[{artists}的]《{title}》出现在同一收听时段的歌曲有{neighbours}。",
            "听[{artists}的]《{title}》的人，同一时段还常听{neighbours}。",
        ),
    },
    "relation_playlist": {
        "en": (
            "Playlists that include “{title}”[ by {artists}] often also include {neighbours}.",
            "“{title}”[ by {artists}] frequently shares playlists with {neighbours}.",
            "Curators who added “{title}”[ by {artists}] to a playlist also added {neighbours}.",
        ),
        "zh": (
            "收录了[{artists}的]《{title}》的歌单，往往也收录{neighbours}。",
            "[{artists}的]《{title}》常与{neighbours}出现在同一歌单中。",
            "把《{title}》[（{artists}）]加入歌单的用户，也加入了{neighbours}。",
        ),
    },
    "frag_neighbour_session": {
        "en": ("“{title}”[ by {artists}][ (co-occurrences: {co_count})]",),
        "zh": ("[{artists}的]《{title}》[（共同出现{co_count}次）]",),
    },
    "frag_neighbour_playlist": {
        "en": ("“{title}”[ by {artists}][ (shared playlists: {co_count})]",),
        "zh": ("[{artists}的]《{title}》[（同在{co_count}个歌单中）]",),
    },
}

BANKS: Mapping[str, Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {kind: MappingProxyType(by_lang) for kind, by_lang in _BANKS.items()}
)
del _BANKS


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
