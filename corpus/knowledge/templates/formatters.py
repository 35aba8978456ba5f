"""Slot formatters for knowledge rendering: missing-value cleaning, numbers, durations, dates, keys and
modes, tempo, meter, loudness, ranks, audio-feature bands, and display names of charts, countries and
listening contexts (EN and ZH). Plain functions of a value; they know nothing of templates.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from numbers import Integral
from types import MappingProxyType
from typing import Any, NamedTuple

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
