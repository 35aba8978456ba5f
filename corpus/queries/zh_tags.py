"""Chinese tags as query facts: NetEase's playlist tag categories and MuChin's annotation tags, in one vocabulary.

NetEase files every playlist tag under one of five categories (语种 language, 风格 style, 场景 scene, 情感 emotion,
主题 theme); MuChin's annotators write free tags by dimension (风格或流派, 情绪感受, 歌曲用途, 配器与音效, ...).
`normalize` maps both onto the same values (伤感的 -> 伤感, 开车 -> 驾车, 流行歌曲 -> 流行, 萧 -> 箫), so a MuChin
song and a NetEase playlist title that name the same thing carry the same fact. Tags outside the vocabulary
(free phrases such as 患得患失 or 百年孤独, and non-answers such as 无) are not facts.

Fact kinds: `language`, `style`, `scene`, `emotion`, `theme`, `instrument` (the tag as normalized), plus two
restatements in the kinds other sources share: `activity` when a scene is one of the generator's activities
(驾车 -> road_trip) and `mood` when an emotion sits plainly in one mood quadrant (伤感 -> sad, 放松 -> relaxed).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import cache

# value -> its other spellings; the value is how NetEase writes it where NetEase has it
STYLE: dict[str, tuple[str, ...]] = {
    "古风": (), "中国风": ("国风",), "民谣": ("流行民谣",), "摇滚": ("摇滚乐", "rock"), "说唱": ("rap", "嘻哈", "流行说唱"),
    "电子": ("电音", "电子音乐"), "舞曲": ("dj", "dj舞曲", "remix", "土嗨"), "R&B/Soul": ("r&b", "rnb"), "爵士": ("jazz",),
    "民族": ("民族音乐", "民乐"), "古典": ("古典音乐",), "轻音乐": (), "乡村": (), "金属": (), "朋克": (), "蓝调": (),
    "雷鬼": (), "拉丁": (), "英伦": (), "后摇": (), "世界音乐": (), "另类/独立": ("另类流行",), "New Age": (),
    "Bossa Nova": (),
    "流行": ("pop", "流行歌曲", "流行歌", "流行音乐", "现代流行", "中国流行", "中文流行", "华语流行", "网络流行", "大流行"),
}  # fmt: skip
GENERIC_STYLE = "流行"
"""Named by most annotators of most MuChin songs: a song's style fact only when it has no other."""
SCENE: dict[str, tuple[str, ...]] = {
    "驾车": ("开车", "自驾", "自驾游", "车载音乐", "坐车", "兜风"), "运动": ("跑步", "健身", "夜跑", "晨跑", "健身房锻炼"),
    "学习": ("写作业", "做作业", "图书馆", "阅读", "读书"), "工作": ("上班通勤",), "助眠": ("睡助眠", "助睡眠", "睡前", "睡觉前", "睡觉", "睡眠"),
    "派对": ("蹦迪", "聚会", "朋友聚会", "舞厅"), "清晨": (), "夜晚": ("深夜", "深夜emo"), "午休": (), "下午茶": ("咖啡厅", "咖啡店"),
    "地铁": (), "旅行": ("踏青",), "散步": (), "酒吧": ("清吧",), "表白": ("告白",), "失恋": ("分手", "分手后", "分手之后", "失恋歌单"),
    "KTV": ("唱k",), "婚礼": (), "发呆": (), "独处": ("独处时光", "一个人", "独自一人"), "骑车": ("骑行",), "广场舞": (),
    "校园": ("校园广播", "学校"), "跳舞": ("舞蹈",),
}  # fmt: skip
SCENE_ACTIVITY = {"驾车": "road_trip", "运动": "workout", "学习": "focus", "工作": "focus", "助眠": "sleep", "派对": "party"}
"""Scenes that are the generator's activities (`generate.ACTIVITIES`)."""
EMOTION: dict[str, tuple[str, ...]] = {
    "伤感": ("感伤",), "悲伤": ("哀伤", "难过", "伤心"), "忧伤": ("忧郁", "淡淡的忧伤"), "孤独": ("寂寞",), "思念": ("想念",),
    "怀念": ("追忆",), "怀旧": (), "遗憾": ("后悔",), "失落": (), "无奈": (), "心酸": (), "温暖": ("温情", "温馨"),
    "温柔": ("轻柔",), "浪漫": (), "深情": ("款款深情",), "甜蜜": (), "治愈": ("放松和安慰",), "放松": ("轻松", "舒缓"),
    "安静": ("静谧",), "清新": (), "快乐": ("开心", "欢快", "愉悦"), "兴奋": ("激动",), "热血": ("燃", "激昂"),
    "感动": ("感人", "泪目"), "励志": ("正能量",), "性感": (),
}  # fmt: skip
EMOTION_MOOD = {"伤感": "sad", "悲伤": "sad", "忧伤": "sad", "孤独": "sad", "失落": "sad", "心酸": "sad",
                "快乐": "happy", "兴奋": "happy", "甜蜜": "happy", "放松": "relaxed", "安静": "relaxed",
                "治愈": "relaxed", "热血": "angry"}  # fmt: skip
"""Emotions that sit plainly in one mood quadrant (`generate.MOODS`; angry is the high-energy, low-valence one)."""
INSTRUMENT: dict[str, tuple[str, ...]] = {
    "钢琴": ("钢琴伴奏", "柔和的钢琴", "安静的钢琴", "舒缓的钢琴", "钢琴独奏", "[钢琴]"), "吉他": ("木吉他", "吉他伴奏", "[吉他]", "安静的木吉他"),
    "电吉他": ("主导电吉他", "失真电吉他"), "古筝": (), "小提琴": ("小提琴伴奏",), "大提琴": ("大提琴和弦",), "二胡": (), "琵琶": (),
    "笛子": ("竹笛",), "箫": ("萧", "箫声"), "弦乐": ("弦乐旋律", "弦乐组", "柔和的弦乐旋律"), "萨克斯": ("萨克斯风",), "唢呐": (),
    "手风琴": (), "口琴": (), "古琴": (), "马头琴": (), "葫芦丝": (), "竖琴": (),
}  # fmt: skip
LANGUAGE = ("华语", "欧美", "日语", "韩语", "粤语", "小语种")
THEME = ("影视原声", "ACG", "游戏", "70后", "80后", "90后", "00后", "网络歌曲", "经典", "翻唱", "器乐", "儿童", "榜单", "综艺")
"""NetEase's 主题 tags, less 校园 and KTV (scenes here, as MuChin's annotators use them) and 钢琴 and
吉他 (`instrument` facts, as MuChin's are)."""

KINDS = ("language", "style", "scene", "emotion", "theme", "instrument")


@cache
def _lookup() -> dict[str, tuple[str, str]]:
    """Every spelling (lower case) -> (kind, value); a spelling in two vocabularies keeps the first."""
    out: dict[str, tuple[str, str]] = {}
    for kind, vocab in (("style", STYLE), ("scene", SCENE), ("emotion", EMOTION), ("instrument", INSTRUMENT)):
        for value, spellings in vocab.items():
            for s in (value, *spellings):
                out.setdefault(s.lower(), (kind, value))
    for kind, values in (("language", LANGUAGE), ("theme", THEME)):
        for v in values:
            out.setdefault(v.lower(), (kind, v))
    return out



def normalize(tag: str) -> tuple[str, str] | None:
    """(kind, value) of one tag, or None when it is outside the vocabulary. A trailing 的 is dropped (伤感的)."""
    t = " ".join(str(tag).split()).lower()
    table = _lookup()
    return table.get(t) or (table.get(t[:-1]) if t.endswith("的") else None)


def _pick(key: str, n: int) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big") % n


SPLIT_TAGS = {("bossa", "nova"): "Bossa Nova", ("new", "age"): "New Age"}
"""NetEase's two-word tags, which the scraped data (both of its files) splits on the space."""


def _rejoin(tags: list[str]) -> list[str]:
    out: list[str] = []
    for t in tags:
        pair = (out[-1].strip().lower(), t.strip().lower()) if out else None
        if pair in SPLIT_TAGS:
            out[-1] = SPLIT_TAGS[pair]
        else:
            out.append(t)
    return out


def tag_facts(tags: Iterable[str], key: str) -> dict[str, str]:
    """Facts of a bag of tags (repeats count): per kind, the value named most often, ties broken by a hash of
    `key` (a song or playlist id) so the choice is stable; the generic style 流行 only when no other style is named.
    `activity` and `mood` restate the chosen scene and emotion where `SCENE_ACTIVITY` / `EMOTION_MOOD` have them."""
    counts: dict[str, Counter] = {}
    for t in _rejoin(list(tags)):
        hit = normalize(t)
        if hit is not None:
            kind, value = hit
            counts.setdefault(kind, Counter())[value] += 1
    facts: dict[str, str] = {}
    for kind in KINDS:
        c = counts.get(kind)
        if not c:
            continue
        if kind == "style" and len(c) > 1:
            c.pop(GENERIC_STYLE, None)
        top = max(c.values())
        tied = sorted(v for v, n in c.items() if n == top)
        facts[kind] = tied[_pick(f"{key}\x00{kind}", len(tied))]
    if facts.get("scene") in SCENE_ACTIVITY:
        facts["activity"] = SCENE_ACTIVITY[facts["scene"]]
    if facts.get("emotion") in EMOTION_MOOD:
        facts["mood"] = EMOTION_MOOD[facts["emotion"]]
    return facts


MUCHIN_DIMENSIONS = ("风格或流派", "特色感受", "文化与地域", "歌曲用途", "情绪感受（歌词）", "情绪感受（歌词和旋律）", "配器与音效")
"""MuChin tag dimensions read for facts (style, scene, emotion, instrument); the others describe singing, tempo,
audience and expressiveness."""


def muchin_facts(groups: Iterable[Mapping[str, list]], song_id: str) -> dict[str, str]:
    """Facts of one MuChin song from its annotator groups' tags by dimension (a value both groups name counts
    twice). `language` and `theme` are left out: MuChin's 文化与地域 answers are mostly 华语/中国 for every song."""
    tags = [t for g in groups for dim in MUCHIN_DIMENSIONS for t in (g.get(dim) or []) if isinstance(t, str)]
    return {k: v for k, v in tag_facts(tags, song_id).items() if k not in ("language", "theme")}
