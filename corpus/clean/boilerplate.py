"""Line-level boilerplate removal (English and Chinese): a transform that returns the cleaned text and
how many lines each rule removed, so removals are counted and auditable.

Rules follow C4 (datatrove `C4QualityFilter`: javascript, lorem ipsum, curly brackets, policy/cookie
lines, over-long words, citation markers, short lines without terminal punctuation) plus page chrome
seen in web and repost text (share/follow prompts, copyright, repost attribution, navigation crumbs,
punctuation-only lines). Unlike C4 nothing drops a whole document: every rule removes lines only, and
pattern rules only look at short lines (a long paragraph that mentions "privacy policy" is content).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

# Each rule: (name, compiled pattern applied with `search` to the lower-cased, stripped line).
# Order matters: the first rule that matches names the removal.
_PATTERN_RULES: tuple[tuple[str, str], ...] = (
    (
        "share",
        r"^(?:share (?:this|on|via|to)\b|share:|sharing is caring|tweet this|pin it\b|email this\b)"
        r"|^(?:facebook|twitter|x|email|print|reddit|linkedin|pinterest|whatsapp|telegram|tumblr)"
        r"(?:\s*[·|/,•]\s*(?:facebook|twitter|x|email|print|reddit|linkedin|pinterest|whatsapp|telegram|tumblr))+$"
        r"|^分享(?:到|至|给|本文|：|:)|^(?:微信|微博|qq空间|朋友圈)(?:\s*[·|/、，]\s*(?:微信|微博|qq空间|朋友圈|qq))+$",
    ),
    (
        "subscribe_follow",
        r"click here to (?:subscribe|follow|sign up|download|read)|subscribe to (?:our|the|my) (?:newsletter|channel|blog|podcast|feed)"
        r"|^(?:subscribe|sign up)(?: now| today| for)?\b.{0,60}$|^follow (?:us|me)\b|^like this\? follow|^like (?:us|our page) on"
        r"|点击(?:上方|下方|蓝字)?关注|关注(?:我们|公众号|本号)|扫码关注|长按(?:识别)?二维码|欢迎关注|点个(?:赞|在看)|一键三连",
    ),
    (
        "cookie_policy",
        r"terms of (?:use|service)|privacy policy|cookie policy|uses cookies|use of cookies|use cookies|accept (?:all )?cookies"
        r"|隐私政策|使用条款|cookie",
    ),
    (
        "copyright",
        r"all rights reserved|^(?:copyright|©|\(c\))\s*(?:©\s*)?(?:\d{4}|by\b)|©\s*\d{4}"
        r"|版权所有|版权归.{0,20}所有|未经(?:许可|授权).{0,10}(?:转载|使用)|侵权(?:请)?(?:联系)?删除",
    ),
    (
        "repost_attribution",
        r"^(?:reposted|republished|cross-posted|crossposted|shared) (?:from|with permission)|^originally (?:published|posted|appeared)"
        r"|^this (?:article|post|story) (?:first |originally )?appeared (?:on|in)|^read (?:more|the full (?:story|article)) (?:at|on)\b"
        r"|^source: ?(?:https?://|www\.)"
        r"|转载请注明|^(?:转载|转自|来源|原文|本文|文章)(?:自|于)?(?:：|:)?\s*(?:https?://|www\.)|^(?:本文|文章|原文)(?:转自|首发于|来源于|来自)"
        r"|^(?:阅读原文|查看原文|原文链接)",
    ),
    (
        "navigation",
        r"^(?:home|首页|主页)\s*(?:>|»|›|/|→|＞)|^(?:skip to (?:main )?content|back to top|scroll to top|jump to navigation)\b"
        r"|^(?:previous|next) (?:post|article|page|story)\b|^(?:related (?:posts|articles|stories)|you (?:might|may) also like|read more|tags?):"
        r"|^(?:read more|load more|show more|see more)\W*$|^(?:上一篇|下一篇|返回顶部|返回首页|相关阅读|猜你喜欢|推荐阅读|热门文章|标签)(?:：|:|$)",
    ),
    ("lorem_ipsum", r"lorem ipsum"),
    ("javascript", r"javascript|enable js\b|启用javascript"),
)

CITATION = re.compile(r"\[\d*\]|\[edit\]|\[citation needed\]")  # same as datatrove's C4 CITATION_REGEX
# Terminal punctuation for the short-line rule: C4's set plus CJK sentence ends and closing quotes.
TERMINAL_PUNCT = (".", "?", "!", '"', "'", "。", "！", "？", "”", "」", "』", "）", ")", "~", "～", ";", "；", ":", "：")
ELLIPSES = ("...", "…")  # as in C4, a line trailing off is not a finished sentence
_HAS_ALNUM = re.compile(r"[^\W_]")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\U00020000-\U0003134f]")
_EXCESS_BLANK_LINES = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class BoilerplateConfig:
    """Which line rules run, and their limits."""

    pattern_rules: bool = True  # share/follow/cookie/copyright/repost/navigation/lorem ipsum/javascript
    max_pattern_line_chars: int = 200  # pattern rules only look at lines up to this length
    punctuation_only: bool = True  # lines with no letter or digit at all
    curly_bracket: bool = True  # C4: '{' or '}' signals code or templates
    max_word_chars: int = 1000  # C4: a line with a longer whitespace-separated token; -1 disables
    min_words_unpunctuated: int = 3  # C4: lines without terminal punctuation and fewer words; 0 disables
    remove_citations: bool = True  # C4: strip "[1]", "[edit]", "[citation needed]" spans inside lines


RULE_NAMES: tuple[str, ...] = (
    "too_long_word",
    "punctuation_only",
    *(name for name, _ in _PATTERN_RULES),
    "curly_bracket",
    "short_unpunctuated",
)


def _compiled_rules() -> re.Pattern[str]:
    return re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in _PATTERN_RULES))


_RULES_RE = _compiled_rules()  # compiling a regex is cheap and pure; this is not mutable state


def _count_words(line: str) -> int:
    """Whitespace tokens, with each CJK character counted as one word (no segmenter needed)."""
    n_cjk = len(_CJK.findall(line))
    if not n_cjk:
        return len(line.split())
    return n_cjk + len(_CJK.sub(" ", line).split())


def line_rule(line: str, config: BoilerplateConfig) -> str | None:
    """Name of the first rule that removes this (stripped) line, or None to keep it."""
    if config.max_word_chars >= 0 and len(line) > config.max_word_chars:
        if any(len(w) > config.max_word_chars for w in line.split()):
            return "too_long_word"
    if config.punctuation_only and not _HAS_ALNUM.search(line):
        return "punctuation_only"
    if config.pattern_rules and len(line) <= config.max_pattern_line_chars:
        m = _RULES_RE.search(line.lower())
        if m is not None:
            return m.lastgroup
    if config.curly_bracket and ("{" in line or "}" in line):
        return "curly_bracket"
    if config.min_words_unpunctuated > 0:
        unpunctuated = not line.endswith(TERMINAL_PUNCT) or line.endswith(ELLIPSES)
        if unpunctuated and _count_words(line) < config.min_words_unpunctuated:
            return "short_unpunctuated"
    return None


def remove_boilerplate(text: str, config: BoilerplateConfig | None = None) -> tuple[str, dict[str, int]]:
    """Drop boilerplate lines; return the cleaned text and {rule: lines removed} (only rules that fired).

    Blank lines are kept as paragraph breaks (runs of more than one blank line collapse to one) and
    the result is stripped. Inline citation markers removed are counted under `citation_spans`.
    """
    config = config or BoilerplateConfig()
    removed: Counter[str] = Counter()
    kept: list[str] = []
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            kept.append("")
            continue
        if config.remove_citations and "[" in line:
            raw, n = CITATION.subn("", raw)
            if n:
                removed["citation_spans"] += n
                line = raw.strip()
                if not line:
                    continue
        rule = line_rule(line, config)
        if rule is None:
            kept.append(raw.rstrip())  # keep indentation (code, verse); drop trailing spaces
        else:
            removed[rule] += 1
    cleaned = _EXCESS_BLANK_LINES.sub("\n\n", "\n".join(kept)).strip()
    return cleaned, dict(removed)
