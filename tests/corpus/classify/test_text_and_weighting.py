"""prepare_text (English / Chinese / mixed / empty / garbage) and score_to_weight properties. Fast, no data."""

from __future__ import annotations

import numpy as np
import pytest

from corpus.classify import TextPrepConfig, WeightPolicy, prepare_text, score_to_weight
from corpus.classify.lexicon import MUSIC_TERMS_EN, music_hits
from corpus.classify.text import jieba_available


def test_prepare_english() -> None:
    assert prepare_text("Hello, World!  Visit https://x.com in 2024.\n") == "hello , world ! visit urltoken in 0 ."


def test_prepare_chinese_char_level() -> None:
    # punctuation next to CJK text is dropped (TextPrepConfig.cjk_punct: Chinese prose punctuation was learned as
    # music evidence); models saved before the option keep it
    assert prepare_text("我喜欢音乐。") == "我 喜 欢 音 乐"
    assert prepare_text("我喜欢音乐。", TextPrepConfig(cjk_punct="keep")) == "我 喜 欢 音 乐 。"
    assert prepare_text("建议睡眠充足，早餐加粗粮, 避免高糖") == "建 议 睡 眠 充 足 早 餐 加 粗 粮 避 免 高 糖"
    assert prepare_text("Hello, world.") == "hello , world ."  # punctuation between Latin words stays
    assert TextPrepConfig.from_dict({"cjk": "char"}).cjk_punct == "keep"
    with pytest.raises(ValueError, match="cjk_punct"):
        TextPrepConfig(cjk_punct="strip")


def test_prepare_mixed() -> None:
    out = prepare_text("Mina Jovanovic于周一登陆音乐厅《Wonder》")
    assert out == "mina jovanovic 于 周 一 登 陆 音 乐 厅 wonder 》"  # only the mark touching CJK text goes
    assert "\n" not in out


@pytest.mark.skipif(not jieba_available(), reason="jieba not installed")
def test_prepare_chinese_jieba() -> None:
    out = prepare_text("我喜欢音乐", TextPrepConfig(cjk="jieba"))
    assert out.split() == ["我", "喜欢", "音乐"]


@pytest.mark.parametrize("text", ["", "   \n\t ", None, b"\x00\xff\xfe\x01", "\x00\x00", "\ufffd\ufffd"])
def test_prepare_empty_and_garbage(text: object) -> None:
    assert prepare_text(text) == ""


def test_prepare_long_is_bounded() -> None:
    out = prepare_text("song " * 100_000, TextPrepConfig(max_chars=1000))
    assert len(out) <= 1000 and "\n" not in out


def test_prepare_rejects_unknown_cjk_mode() -> None:
    with pytest.raises(ValueError, match="cjk"):
        prepare_text("x", TextPrepConfig(cjk="words"))


def test_music_lexicon() -> None:
    assert music_hits("The band played their hit single at the concert") == {"the band", "hit single", "concert"}
    assert music_hits("a rubber band and a wedding band") == set()
    assert music_hits("这首歌曲很好听") == {"歌曲"}
    # matched on lower-cased text: every English term must be written in lower case
    assert all(t == t.lower() for t in MUSIC_TERMS_EN)
    assert music_hits("THE BAND's new ALBUM, Hip Hop and JAZZ") == {"the band", "album", "hip hop", "jazz"}


SCORES = np.linspace(0, 1, 101)
POLICIES = [
    WeightPolicy(kind="hard", threshold=0.6),
    WeightPolicy(kind="linear", t0=0.2, t1=0.8),
    WeightPolicy(kind="linear", t0=0.3, t1=0.7, floor=0.25),
    WeightPolicy(kind="logistic", threshold=0.5, t0=0.1, steepness=10.0, floor=0.05),
]


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.kind)
def test_weight_monotone_and_bounded(policy: WeightPolicy) -> None:
    w = score_to_weight(SCORES, policy)
    assert w.shape == SCORES.shape
    assert np.all((w >= 0) & (w <= 1))
    assert np.all(np.diff(w) >= -1e-12)


def test_weight_hard_is_binary() -> None:
    w = score_to_weight([0.1, 0.59, 0.6, 0.99], WeightPolicy(kind="hard", threshold=0.6))
    assert w.tolist() == [0.0, 0.0, 1.0, 1.0]


def test_weight_linear_ramp_and_floor() -> None:
    p = WeightPolicy(kind="linear", t0=0.2, t1=0.8, floor=0.1)
    w = score_to_weight([0.0, 0.2, 0.5, 0.8, 1.0, float("nan"), 7.0, -1.0], p)
    assert w.tolist() == pytest.approx([0.0, 0.1, 0.5, 1.0, 1.0, 0.0, 1.0, 0.0])


def test_weight_policy_validation() -> None:
    with pytest.raises(ValueError):
        WeightPolicy(kind="cubic")
    with pytest.raises(ValueError):
        WeightPolicy(t0=0.9, t1=0.1)
