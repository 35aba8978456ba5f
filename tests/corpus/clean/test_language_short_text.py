"""Language of short texts: the short-text prior on real Reddit requests and Chinese comments and titles,
other languages not forced into English, long text unchanged, and the source's declared language."""

from __future__ import annotations

import pytest

from benchmarks.langid_short_text import (
    OTHER_LANGUAGES,
    netease_comments,
    reddit_requests,
    share,
    thucnews_titles,
)
from corpus.clean import DocumentCleaner
from corpus.clean.language import LangIdConfig, LanguageIdentifier, declared_language


@pytest.fixture(scope="module")
def plain() -> LanguageIdentifier:
    """py3langid without the short-text prior: the decision before it existed."""
    ident = LanguageIdentifier(LangIdConfig(short_text_letters=0))
    ident.setup()
    return ident


@pytest.fixture(scope="module")
def reddit(data_dir) -> list[tuple[str, str | None]]:
    if not (data_dir / "music_reco_ner_deezer").is_dir():
        pytest.skip(f"MusicRecoNER not found under {data_dir}")
    return reddit_requests(data_dir)


def test_short_english_requests_come_out_english(cleaner: DocumentCleaner, plain, reddit) -> None:
    texts = [t for t, _ in reddit]
    assert len(texts) == 4842
    after = [cleaner._langid.identify(t) for t in texts]
    before = [plain.identify(t) for t in texts]
    assert share(after, "en", 0.5) >= 0.97 and share(after, "en") >= 0.99
    assert share(before, "en", 0.5) < 0.8  # what refine dropped as lang_not_allowed / lang_score_low
    assert cleaner._langid.identify("Songs like Bohemian Rhapsody?")[0] == "en"


def test_chinese_comments_and_titles_stay_chinese(cleaner: DocumentCleaner, data_dir) -> None:
    if not (data_dir / "netease_hot_comments_jaychou_zh").is_dir():
        pytest.skip(f"NetEase comments not found under {data_dir}")
    comments = [cleaner._langid.identify(t) for t in netease_comments(data_dir)]
    titles = [cleaner._langid.identify(t) for t in thucnews_titles(data_dir)[:5000]]
    assert share(comments, "zh") >= 0.998
    assert share(titles, "zh") == 1.0


@pytest.mark.parametrize(("lang", "text"), [(lang, t) for lang, ts in OTHER_LANGUAGES.items() for t in ts])
def test_short_text_in_other_languages_keeps_its_language(cleaner: DocumentCleaner, lang: str, text: str) -> None:
    assert cleaner._langid.identify(text)[0] == lang


def test_long_text_is_identified_as_before(cleaner: DocumentCleaner, plain, reddit, data_dir) -> None:
    def letters(t: str) -> int:
        return sum(ch.isalpha() for ch in t)

    long_texts = [t for t, _ in reddit if letters(t) >= 110] + [
        t for t in netease_comments(data_dir) if letters(t) >= 110
    ][:100]
    assert len(long_texts) > 150
    for t in long_texts:
        assert cleaner._langid.identify(t) == plain.identify(t)
        assert cleaner._langid.rank(t) == plain.rank(t)


def test_short_text_rank_is_a_distribution_led_by_identify(cleaner: DocumentCleaner) -> None:
    ranked = cleaner._langid.rank("Chill/ambient jazzy music", top=200)
    assert ranked[0] == cleaner._langid.identify("Chill/ambient jazzy music")
    assert sum(p for _, p in ranked) == pytest.approx(1.0)
    assert [p for _, p in ranked] == sorted((p for _, p in ranked), reverse=True)


@pytest.mark.parametrize(
    ("declared", "want"),
    [
        ("en", "en"), ("EN-us", "en"), (" zh-Hans ", "zh"), ("zh_CN", "zh"), ("cmn", "zh"), ("yue", "zh"),
        ("eng", "en"), ("de", "de"), ("und", None), ("", None), ("  ", None), (None, None), ("_", None),
        ("12", None), ("mul", None),
    ],
)  # fmt: skip
def test_declared_language(declared: str | None, want: str | None) -> None:
    assert declared_language(declared) == want


def test_declared_language_wins_over_detection(cleaner: DocumentCleaner) -> None:
    r = cleaner.clean("Sad music? Lol", declared_lang="en")
    assert (r.lang, r.lang_score) == ("en", 1.0)
    assert cleaner.clean("这首歌真好听", declared_lang="zh-Hans").lang == "zh"
    detected = cleaner.clean("这首歌真好听", declared_lang="und")
    assert detected.lang == "zh" and detected.lang_score < 1.0
    assert cleaner.clean("这首歌真好听") == detected  # the old signature still works
    batch = cleaner.clean_batch(["Sad music? Lol", "这首歌真好听", None], ["en", None, "fr"])
    assert [(r.lang, r.lang_score) for r in batch][::2] == [("en", 1.0), ("fr", 1.0)]
    assert batch[1] == detected
    assert cleaner.clean_batch(["这首歌真好听"]) == [detected]
    with pytest.raises(ValueError):
        cleaner.clean_batch(["a", "b"], ["en"])


def test_config_is_checked() -> None:
    with pytest.raises(ValueError, match="short_text_common_prior"):
        LangIdConfig(short_text_common_prior=0.0)
    with pytest.raises(ValueError, match="overlap"):
        LangIdConfig(short_text_preferred=("en", "zh"), short_text_common=("zh",))
    with pytest.raises(ValueError, match=r"\['xx'\] are not py3langid labels"):
        LanguageIdentifier(LangIdConfig(short_text_common=("fr", "xx"))).setup()
