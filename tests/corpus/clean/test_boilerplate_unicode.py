"""Boilerplate line removal (English and Chinese, with counts by rule) and Unicode repair."""

from __future__ import annotations

import json

import pytest

from corpus.clean import BoilerplateConfig, remove_boilerplate, repair_unicode

EN_CONTENT = [
    "The album opens with a slow piano figure that returns at the end of the record.",
    "It is the band's best work in years, and the production is warm and clear.",
    "What is going on here",
]
ZH_CONTENT = ["这张专辑的编曲非常细腻，值得反复聆听。", "周杰伦在2022年发行了新专辑《最伟大的作品》。"]
EN_BOILER = {
    "Home > Music > Reviews": "navigation",
    "Reposted from https://example.com/a": "repost_attribution",
    "Originally published at https://blog.example.org/post": "repost_attribution",
    "Share this: Facebook · X · Email · Print": "share",
    "Click here to subscribe to our newsletter": "subscribe_follow",
    "This site uses cookies. By continuing you accept our cookie policy.": "cookie_policy",
    "© 2023 example.com. All rights reserved.": "copyright",
    "***": "punctuation_only",
    "Lorem ipsum dolor sit amet, consectetur.": "lorem_ipsum",
    "Please enable JavaScript to view the comments.": "javascript",
    "var x = {a: 1};": "curly_bracket",
    "Facebook": "short_unpunctuated",
}
ZH_BOILER = {
    "转载请注明出处": "repost_attribution",
    "本文转自music.cn，如有侵权请联系删除": "repost_attribution",
    "点击上方蓝字关注我们": "subscribe_follow",
    "分享到：微信 · 微博 · QQ空间": "share",
    "© 2021 music.cn 版权所有": "copyright",
    "上一篇：周杰伦新歌": "navigation",
    "首页 > 音乐 > 乐评": "navigation",
}


@pytest.mark.parametrize("line,rule", list(EN_BOILER.items()) + list(ZH_BOILER.items()))
def test_each_boilerplate_line_is_removed_by_its_rule(line: str, rule: str) -> None:
    text = f"{EN_CONTENT[0]}\n{line}\n{ZH_CONTENT[0]}"
    cleaned, removed = remove_boilerplate(text)
    assert cleaned == f"{EN_CONTENT[0]}\n{ZH_CONTENT[0]}"
    assert removed == {rule: 1}


def test_mixed_page_counts_and_keeps_content() -> None:
    lines = [*EN_BOILER, EN_CONTENT[0], "", EN_CONTENT[1], EN_CONTENT[2], *ZH_BOILER, *ZH_CONTENT]
    cleaned, removed = remove_boilerplate("\n".join(lines))
    assert cleaned.split("\n") == [EN_CONTENT[0], "", EN_CONTENT[1], EN_CONTENT[2], *ZH_CONTENT]
    expected: dict[str, int] = {}
    for rule in [*EN_BOILER.values(), *ZH_BOILER.values()]:
        expected[rule] = expected.get(rule, 0) + 1
    assert removed == expected


def test_citations_short_lines_and_config_switches() -> None:
    cleaned, removed = remove_boilerplate("Bach wrote it in 1723.[1][citation needed]\nThe fix\n")
    assert cleaned == "Bach wrote it in 1723."
    assert removed == {"citation_spans": 2, "short_unpunctuated": 1}
    off = BoilerplateConfig(pattern_rules=False, min_words_unpunctuated=0, curly_bracket=False, punctuation_only=False)
    text = "Share this:\nThe fix\n{x}\n***"
    assert remove_boilerplate(text, off) == (text, {})


def test_long_paragraph_mentioning_policy_is_content() -> None:
    para = "The label changed its privacy policy in 2019, " + "and fans argued about it for weeks. " * 8
    assert remove_boilerplate(para.strip())[0] == para.strip()


def test_demo_reposts_lose_headers_and_footers(tmp_path) -> None:
    from corpus.sample import SampleConfig, generate_sample

    generate_sample(SampleConfig.preset("tiny"), tmp_path)
    docs = [json.loads(line) for f in sorted((tmp_path / "documents").glob("*.jsonl")) for line in f.open()]
    markers = ("Reposted from", "Share this:", "All rights reserved", "转载自", "分享到：", "版权所有")
    reposts = [d["text"] for d in docs if any(m in d["text"] for m in markers)]
    for text in reposts:
        cleaned, removed = remove_boilerplate(text)
        assert removed, text[:200]
        assert not any(m in line for line in cleaned.split("\n") if len(line) < 200 for m in markers)
    # Ordinary content survives almost entirely.
    kept = [len(remove_boilerplate(d["text"])[0]) / max(1, len(d["text"].strip())) for d in docs[:100]]
    assert sum(kept) / len(kept) > 0.9


def test_web_crawl_fixture_boilerplate(data_dir) -> None:
    path = data_dir / "web_crawl_samples" / "c4_en_train_first1000.jsonl"
    if not path.exists():
        pytest.skip(f"{path} missing")
    docs = [json.loads(line)["text"] for line in path.open()][:300]
    total: dict[str, int] = {}
    for text in docs:
        for rule, n in remove_boilerplate(text)[1].items():
            total[rule] = total.get(rule, 0) + n
    assert total.get("copyright", 0) + total.get("cookie_policy", 0) > 0


@pytest.mark.parametrize(
    "raw,fixed",
    [
        ("cafÃ©", "café"),
        ("a\ud800b", "a\ufffdb"),  # lone surrogate -> replacement char (encodable)
        ("\ud83d\ude00", "😀"),  # surrogate pair -> one code point
        ("Tom &amp; Jerry", "Tom & Jerry"),
        ("中文，测试！", "中文，测试！"),  # full-width punctuation kept
        ("“quoted”", "“quoted”"),  # quotes stay curly
        ("e\u0301", "\u00e9"),  # NFC
        ("x\x00y", "xy"),
        ("", ""),
        ("plain ascii.", "plain ascii."),
    ],
)
def test_repair_unicode(raw: str, fixed: str) -> None:
    out = repair_unicode(raw)
    assert out == fixed
    out.encode("utf-8")
