"""Chinese tags as facts: spellings folded to one value, free phrases and non-answers left out, counts then a stable
hash decide, the generic style only alone, and scenes/emotions restated as activities/moods where plain."""

from __future__ import annotations

from corpus.queries.generate import ACTIVITIES, MOODS
from corpus.queries.zh_tags import EMOTION_MOOD, SCENE, SCENE_ACTIVITY, muchin_facts, normalize, tag_facts


def test_normalize_folds_spellings_and_refuses_free_phrases():
    assert normalize("伤感的") == ("emotion", "伤感")
    assert normalize(" 开车 ") == ("scene", "驾车") and normalize("ktv") == ("scene", "KTV")
    assert normalize("流行歌曲") == ("style", "流行") and normalize("Pop") == ("style", "流行")
    assert normalize("萧") == ("instrument", "箫") and normalize("钢琴") == ("instrument", "钢琴")
    assert normalize("华语") == ("language", "华语") and normalize("90后") == ("theme", "90后")
    for free in ("患得患失", "百年孤独", "无", "没有地域文化特点", ""):
        assert normalize(free) is None
    assert set(SCENE_ACTIVITY) <= set(SCENE) and set(SCENE_ACTIVITY.values()) <= set(ACTIVITIES)
    assert set(EMOTION_MOOD.values()) <= set(MOODS)


def test_tag_facts_by_hand():
    f = tag_facts(["华语", "流行", "伤感", "驾车", "患得患失"], "p1")
    assert f == {"language": "华语", "style": "流行", "emotion": "伤感", "scene": "驾车", "mood": "sad",
                 "activity": "road_trip"}  # fmt: skip
    # the generic style only when no other is named, even named more often
    assert tag_facts(["流行", "流行歌曲", "古风"], "s")["style"] == "古风"
    # the value named most often wins; a tie is broken by the key's hash, the same on every call
    assert tag_facts(["思念", "浪漫", "思念"], "s")["emotion"] == "思念"
    tied = {tag_facts(["思念", "浪漫"], f"s{i}")["emotion"] for i in range(40)}
    assert tied == {"思念", "浪漫"}
    assert all(tag_facts(["思念", "浪漫"], f"s{i}") == tag_facts(["浪漫", "思念"], f"s{i}") for i in range(40))
    # emotions and scenes without a plain quadrant or activity restate nothing
    assert tag_facts(["无奈", "表白"], "s") == {"emotion": "无奈", "scene": "表白"}
    assert tag_facts(["无", "患得患失"], "s") == {}
    # the scrape splits NetEase's two-word tags: they are joined back
    assert tag_facts(["爵士", "Bossa", "Nova", "小语种"], "p")["style"] in ("爵士", "Bossa Nova")
    assert tag_facts(["轻音乐", "New", "Age"], "p") == tag_facts(["New Age", "轻音乐"], "p")
    assert tag_facts(["New"], "p") == {}


def test_muchin_facts_count_both_groups_and_skip_language():
    amateur = {"情绪感受（歌词）": ["真挚", "悲伤"], "歌曲用途": ["开车"], "配器与音效": ["钢琴", "贝斯"], "文化与地域": ["中国"],
               "适用人群": ["年轻人"]}  # fmt: skip
    professional = {"情绪感受（歌词和旋律）": ["难过的", "温暖"], "风格或流派": ["流行", "中国风"], "歌曲用途": ["表白"],
                    "文化与地域": ["华语"], "歌唱和人声": ["女声"]}  # fmt: skip
    f = muchin_facts([amateur, professional], "song")
    # 悲伤 and 难过的 (-> 悲伤) are named twice: they beat 温暖; 驾车 and 表白 tie: the hash picks one
    assert f["emotion"] == "悲伤" and f["mood"] == "sad"
    assert f["style"] == "中国风" and f["instrument"] == "钢琴" and f["scene"] in ("驾车", "表白")
    assert ("activity" in f) == (f["scene"] == "驾车")
    assert "language" not in f and "theme" not in f
    assert muchin_facts([{"适用人群": ["年轻人"]}], "s") == {}
