"""Builder determinism and leak cleaning, training quality on the held-out split, save/load, robustness, demo.

Uses the real sources under shared/data (skipped when absent); the training set is built once per session.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from corpus.classify import (
    DomainClassifier,
    build_training_set,
    evaluate,
    evaluate_on_demo,
    roc_auc,
    split_of,
)
from corpus.classify.dataset import clean_label_noise, read_split
from corpus.classify.documents import DOC_READERS, lexicon_doc_label, read_wikitext_articles
from corpus.classify.metrics import best_f1_threshold, prf
from corpus.classify.sources import MUSIC, OTHER, Example
from corpus.classify.windows import split_windows
from tests.corpus.classify.conftest import SHARED_DATA, needs_data

pytestmark = pytest.mark.slow


def test_split_is_hash_based() -> None:
    assert split_of("some text") == split_of("some text")
    counts = {s: 0 for s in ("train", "valid", "test")}
    for i in range(5000):
        counts[split_of(f"doc {i}")] += 1
    assert 400 < counts["test"] < 600 and 400 < counts["valid"] < 600


def test_clean_label_noise_actions() -> None:
    movie = Example("trivia_other", OTHER, "en", "Who sang the soundtrack song of Titanic? Celine Dion")
    assert clean_label_noise(movie) == (None, "drop_leak")
    plain = Example("trivia_other", OTHER, "en", "Preheat the oven to 200 degrees.")
    assert clean_label_noise(plain) == (plain, "keep")
    song = Example("opentdb_music", MUSIC, "en", "Who sang Titanic's song? Celine Dion")
    assert clean_label_noise(song) == (song, "keep")


def test_lexicon_doc_label_rule() -> None:
    gig = ["The band played a gig at the jazz club; their new album and its lyrics came up on tour."] * 3
    assert lexicon_doc_label(gig) == MUSIC
    # one music paragraph in a long biography: neither learned as music nor as other
    bio = ["He played football for the county side and later coached juniors."] * 6 + gig[:1]
    assert lexicon_doc_label(bio) is None
    assert lexicon_doc_label(["A guide to bread: preheat the oven and bake it."]) == OTHER
    # music-adjacent categories: `other` only without any music term; a headline with one term is music
    assert lexicon_doc_label(["The film's cast gathered for the premiere; a singer attended it."] * 2,
                             adjacent=True) is None
    assert lexicon_doc_label(["周杰伦新专辑发布"], adjacent=True) == MUSIC
    assert lexicon_doc_label(["某明星出席电影首映"], adjacent=True) is None


@needs_data
def test_documents_are_labelled_once_and_never_from_eval_only_files() -> None:
    docs = [d for read in DOC_READERS.values() for d in read(SHARED_DATA)]
    keys = [(d.source, d.doc) for d in docs]
    assert len(keys) == len(set(keys))
    c4 = [d for d in docs if d.source.startswith("c4")]
    assert {d.source for d in c4} == {"c4_en_train_first1000"} and len(c4) == 1000
    bbc = {str(d.doc).split("/")[0]: d.prior for d in docs if d.source == "bbc_news_fulltext"}
    assert bbc == {"business": OTHER, "politics": OTHER, "sport": OTHER, "entertainment": "adjacent",
                   "tech": "adjacent"}
    assert {d.prior for d in docs if d.source in ("muchin_1k_zh", "netease_hot_comments_jaychou_zh")} == {MUSIC}
    digests = [d for d in docs if d.source == "thucnews_digest_zh"]
    assert len(digests) > 500 and all(d.prior == OTHER and "\n" in d.text for d in digests)


def test_builder_stats_and_leaks(training_set: tuple[Path, dict]) -> None:
    data, stats = training_set
    src = stats["sources"]
    assert src["trivia_other"]["drop_leak"] > 100  # movie/soundtrack trivia and the like
    # documents: hand labels, categories and the lexicon rule each label some; the rule abstains on some
    c4 = src["c4_en_train_first1000"]
    assert c4["labelled_by"] == {"hand": 992, "mixed": 8}  # every C4 page is hand-labelled
    assert src["bbc_news_fulltext"]["labelled_by"]["lexicon"] > 300
    assert src["thucnews_titles_zh"]["abstain"] > 0
    # every BBC article the rule abstained on is hand-labelled now (GUIDE.md: the 274 selected articles)
    assert src["bbc_news_fulltext"]["abstain"] == 0 and "abstain" not in src["bbc_news_fulltext"]["labelled_by"]
    assert src["bbc_news_fulltext"]["labelled_by"]["hand"] + src["bbc_news_fulltext"]["labelled_by"]["mixed"] == 469
    assert src["bbc_news_fulltext"]["labelled_by"]["category"] > 1000
    assert src["wikitext2_raw"]["labelled_by"] == {"hand": 115, "mixed": 5}
    assert src["thucnews_titles_zh"]["labelled_by"]["category"] > 15000
    for s in ("musiccaps", "ziqi_eval", "c4_en_train_first1000", "bbc_news_fulltext", "wikitext2_raw",
              "trivia_other", "thucnews_titles_zh", "thucnews_digest_zh", "muchin_1k_zh",
              "netease_hot_comments_jaychou_zh"):
        assert sum(src[s]["kept"].values()) > 0, s
    # web pages are no longer "other" by default: C4 pages labelled music train as music
    assert sum(v for k, v in c4["kept"].items() if k.startswith("music/")) > 50
    # optional Chinese "other" sources: used when present on this machine, otherwise recorded as skipped
    for name, info in stats["optional_sources"].items():
        assert info["status"] in ("used", "skipped"), (name, info)
        if info["status"] == "used":
            kept = sum(src[name]["kept"].values())
            assert 0 < kept <= 0.12 * sum(stats["splits"]["train"].values()), name  # present, not dominant
        else:
            assert name not in src and info["reason"]
    tr = stats["splits"]["train"]
    assert abs(tr["music"] - tr["other"]) / (tr["music"] + tr["other"]) < 0.02  # balanced
    # no text appears in two splits
    seen: dict[str, str] = {}
    for sp in ("train", "valid", "test"):
        for r in read_split(data / f"{sp}.jsonl"):
            assert seen.setdefault(r["text"], sp) == sp


def test_holdout_leaves_documents_out(tmp_path: Path) -> None:
    held = [("wikitext2_raw", "Hed PE"), ("c4_en_train_first1000", 1)]
    stats = build_training_set(SHARED_DATA, tmp_path, seed=0, holdout=held)
    assert stats["held_out_documents"] == 2
    assert stats["sources"]["wikitext2_raw"]["held_out"] > 0
    assert stats["sources"]["c4_en_train_first1000"]["held_out"] > 0
    texts = {r["text"] for sp in ("train", "valid", "test") for r in read_split(tmp_path / f"{sp}.jsonl")}
    hed = next(d for d in read_wikitext_articles(SHARED_DATA) if d.doc == "Hed PE")
    wins = split_windows(hed.text, 300, 100)
    assert len(wins) > 5 and not any(w in texts for w in wins)


def test_builder_is_deterministic(training_set: tuple[Path, dict], tmp_path: Path) -> None:
    data, stats = training_set
    again = build_training_set(SHARED_DATA, tmp_path, seed=0)
    assert again["sources"] == stats["sources"]
    for sp in ("train", "valid", "test"):
        assert (tmp_path / f"{sp}.jsonl").read_bytes() == (data / f"{sp}.jsonl").read_bytes()


def test_heldout_f1_and_report(trained_model: Path, training_set: tuple[Path, dict], tmp_path: Path) -> None:
    data, _ = training_set
    report = evaluate(trained_model, data, tmp_path)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["overall"]["f1"] >= 0.95
    assert metrics["overall"]["roc_auc"] >= 0.98
    assert len(metrics["per_source"]) >= 10
    text = report.read_text()
    assert "Per source" in text and "musiccaps" in text and "ziqi_eval" in text
    for png in ("roc.png", "pr.png", "reliability.png"):
        assert (tmp_path / png).stat().st_size > 1000


def test_training_is_deterministic(training_set: tuple[Path, dict], trained_model: Path) -> None:
    data, _ = training_set
    rows = read_split(data / "test.jsonl")[:300]
    texts = [r["text"] for r in rows]
    a = DomainClassifier.load(trained_model).score(texts)
    b = DomainClassifier().train(data / "train.jsonl").score(texts)
    np.testing.assert_array_equal(a, b)


def test_save_load_round_trip(trained_model: Path, tmp_path: Path) -> None:
    clf = DomainClassifier.load(trained_model)
    texts = ["a mellow piano ballad with soft female vocals", "the stock market fell 2% today", "我喜欢这首歌"]
    before = clf.score(texts)
    clf.save(tmp_path / "copy")
    after = DomainClassifier(tmp_path / "copy").setup().score(texts)
    np.testing.assert_array_equal(before, after)
    assert DomainClassifier.load(tmp_path / "copy").threshold == clf.threshold
    assert before[0] > 0.9 and before[1] < 0.1


def test_score_odd_inputs_do_not_crash(trained_model: Path) -> None:
    clf = DomainClassifier.load(trained_model)
    odd = ["", "   \n\t", b"\x00\xff\xfe\x80garbage", "\x00" * 50, "guitar " * 200_000, "🎸🎶", None, 12345]
    s = clf.score(odd)
    assert s.shape == (len(odd),) and np.all((s >= 0) & (s <= 1))
    assert s[0] == 0.0 and s[1] == 0.0
    assert clf.score([]).shape == (0,)


def test_throughput(trained_model: Path) -> None:
    clf = DomainClassifier.load(trained_model)
    doc = ("The band released a new album last week and will tour Europe in the autumn. " * 26)[:2000]
    texts = [doc] * 500
    t0 = time.perf_counter()
    clf.score(texts)
    assert 500 / (time.perf_counter() - t0) > 200  # docs/s, one core (measured ~2-3k)


def test_demo_sample_agreement(trained_model: Path, training_set: tuple[Path, dict], tmp_path: Path) -> None:
    from corpus.sample import SampleConfig, generate_sample

    generate_sample(SampleConfig.preset("tiny"), tmp_path)
    res = evaluate_on_demo(DomainClassifier.load(trained_model), tmp_path)
    # Ranking transfers to the synthetic long documents; the threshold transfers less well.
    assert res["lang=en"]["roc_auc"] >= 0.95
    assert res["overall"]["accuracy"] >= 0.65
    assert res["kind=lyric_explanation"]["recall"] >= 0.8
    assert res["kind=recipe"]["accuracy"] >= 0.8
    # shared/data has no Chinese non-music prose: only with the optional Chinese "other" sources (gettext
    # catalogs, jieba vocabulary) are Chinese "other" documents ranked below music ones. (This model is not
    # calibrated: its max-over-windows threshold transfers poorly; the shipped, calibrated one is checked below.)
    if all(v["status"] == "used" for v in training_set[1]["optional_sources"].values()):
        assert res["lang=zh"]["roc_auc"] >= 0.95 and res["lang=zh"]["recall"] >= 0.9


def test_shipped_model_separates_chinese(tmp_path: Path) -> None:
    from corpus.sample import SampleConfig, generate_sample
    from jobs.stages.refine import DEFAULT_MODEL

    generate_sample(SampleConfig.preset("tiny"), tmp_path)
    res = evaluate_on_demo(DomainClassifier.load(DEFAULT_MODEL), tmp_path)
    assert res["lang=zh"]["accuracy"] >= 0.95 and res["lang=en"]["accuracy"] >= 0.9


def test_metric_helpers() -> None:
    y = np.array([1, 1, 0, 0], bool)
    assert roc_auc(y, np.array([0.9, 0.8, 0.1, 0.2])) == 1.0
    assert roc_auc(y, np.array([0.5, 0.5, 0.5, 0.5])) == 0.5
    assert prf(y, np.array([1, 0, 1, 0], bool))["f1"] == pytest.approx(0.5)
    assert best_f1_threshold(y, np.array([0.9, 0.8, 0.1, 0.2])) <= 0.8
