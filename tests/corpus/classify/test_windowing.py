"""Long-document scoring: paragraph windows + aggregation inside `DomainClassifier.score`.

Uses the shipped quantized model (no training needed) and, for the demo check, a generated demo sample.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from corpus.classify import DomainClassifier, ScoringConfig, evaluate_on_demo, split_windows
from corpus.classify.embedding import document_embeddings
from corpus.classify.model import DocumentModel, aggregate_scores, document_feature

SHIPPED = Path(__file__).resolve().parents[3] / "corpus" / "classify" / "models" / "music_domain"

MUSIC_PARA = ("The band's second album opens with a slow piano ballad before the guitars kick in; "
              "the drummer keeps a steady groove and the singer's falsetto carries the chorus.")
OTHER_PARA = ("Preheat the oven to 200 degrees, whisk the eggs with the flour and sugar, "
              "then bake the batter for twenty minutes until golden on top.")
LONG_MIXED = "\n\n".join([OTHER_PARA] * 6 + [MUSIC_PARA] + [OTHER_PARA] * 3)


@pytest.fixture(scope="module")
def shipped() -> DomainClassifier:
    return DomainClassifier(SHIPPED).setup()


# --- split_windows (pure) ------------------------------------------------------------------------------
def test_short_text_is_one_unchanged_window() -> None:
    assert split_windows("hello world", 300) == ["hello world"]
    assert split_windows("", 300) == [""]
    assert split_windows("x" * 5000, 0) == ["x" * 5000]


def test_windows_are_paragraph_aligned_and_bounded() -> None:
    wins = split_windows(LONG_MIXED, 300, 100)
    assert len(wins) > 3
    paras = [p for p in LONG_MIXED.split("\n\n")]
    for w in wins:
        assert len(w) <= 300 + 200  # only merging of a short remainder can exceed the window
        for part in w.split("\n"):
            assert part in paras  # no paragraph was cut (all are shorter than the window)
    assert sum(len(p) for w in wins for p in w.split("\n")) == sum(len(p) for p in paras)


def test_overlong_paragraph_is_cut_at_sentences() -> None:
    text = " ".join(f"Sentence number {i} is about nothing much at all." for i in range(60))
    wins = split_windows(text, 300, 0)
    assert len(wins) > 5 and all(len(w) <= 300 for w in wins)
    assert all(w.endswith(".") for w in wins)
    assert " ".join(wins) == text
    # a single huge token still gets cut (hard cut), never loops
    assert all(len(w) <= 300 for w in split_windows("a" * 2000, 300, 0))


def test_min_window_merges_short_tail() -> None:
    text = MUSIC_PARA + "\n\n" + OTHER_PARA + "\n\nThanks!"
    wins = split_windows(text, 200, 50)
    assert all(len(w) >= 50 for w in wins)
    assert wins[-1].endswith("Thanks!")


def test_split_windows_respects_max_chars() -> None:
    wins = split_windows("guitar solo. " * 100_000, 300, 100, max_chars=20_000)
    assert sum(len(w) for w in wins) <= 20_000 and len(wins) <= 80


def test_scoring_config_validation_and_round_trip() -> None:
    with pytest.raises(ValueError, match="aggregate"):
        ScoringConfig(aggregate="median")
    cfg = ScoringConfig(window_chars=500, aggregate="mean", min_window_chars=10)
    assert ScoringConfig.from_dict(cfg.to_dict()) == cfg
    assert ScoringConfig.from_dict(None) == ScoringConfig()
    assert aggregate_scores(np.array([0.2, 0.8]), np.array([300.0, 100.0]), "length_weighted_mean") == pytest.approx(0.35)


# --- scoring with the shipped model --------------------------------------------------------------------
def test_long_doc_equals_manual_aggregate_of_windows(shipped: DomainClassifier) -> None:
    whole = DomainClassifier(SHIPPED, scoring=ScoringConfig(window_chars=0)).setup()
    for agg in ("max", "mean", "length_weighted_mean"):
        clf = DomainClassifier(SHIPPED, scoring=ScoringConfig(window_chars=300, aggregate=agg, min_window_chars=100)).setup()
        wins = clf.windows(LONG_MIXED)
        assert len(wins) > 1
        per_window = whole.score(wins)  # each window scored as one text
        expected = aggregate_scores(per_window, np.array([len(w) for w in wins], float), agg)
        assert clf.score([LONG_MIXED])[0] == pytest.approx(expected, abs=1e-12)


def test_one_music_paragraph_does_not_make_a_long_document_music(shipped: DomainClassifier) -> None:
    """The shipped document model: one music paragraph counts for less the longer the document around it
    (max-over-windows keeps it at the top whatever the length); music throughout stays music."""
    assert shipped.scoring.document_model is not None and shipped.threshold == 0.5
    as_max = DomainClassifier(SHIPPED, scoring=ScoringConfig(aggregate="max")).setup()
    docs = ["\n\n".join([OTHER_PARA] * n + [MUSIC_PARA] + [OTHER_PARA] * n) for n in (10, 20, 40)]
    s, m = shipped.score(docs), as_max.score(docs)
    assert np.all(m > 0.9)  # the old rule: the music paragraph decides
    assert s[0] < shipped.threshold and s[1] < 0.1 and np.all(np.diff(s) < 0)
    s_music, s_other = shipped.score(["\n\n".join([MUSIC_PARA] * 8), "\n\n".join([OTHER_PARA] * 8)])
    assert s_music > 0.9 and s_other < 0.05


def test_score_equals_the_document_model_on_window_features(shipped: DomainClassifier) -> None:
    dm = shipped.scoring.document_model
    raw = DomainClassifier(SHIPPED, scoring=ScoringConfig(window_chars=0)).setup()
    for text in (LONG_MIXED, MUSIC_PARA, "\n\n".join([MUSIC_PARA, OTHER_PARA] * 5)):
        wins = shipped.windows(text)
        probs = raw.score(wins)  # each window scored as one text, no document model
        head = None
        if dm.uses_embedding:  # the head's logit on the document's embedding (its windows joined)
            head = float(dm.embedding_head.logits(document_embeddings(["\n".join(wins)]))[0])
        row = dm.feature_row(probs, np.array([len(w) for w in wins], float), wins, shipped.scoring.top_share, head)
        assert shipped.score([text])[0] == pytest.approx(float(dm(row[None, :])[0]), abs=1e-12)


def test_document_model_validation_and_round_trip() -> None:
    with pytest.raises(ValueError, match="unknown features"):
        DocumentModel(("logit_median",), (1.0,), 0.0)
    with pytest.raises(ValueError, match="one weight per feature"):
        DocumentModel(("logit_max", "log_windows"), (1.0,), 0.0)
    dm = DocumentModel(("logit_top_share_mean", "music_terms_per_kchar"), (0.5, 1.0), -1.0)
    cfg = ScoringConfig(top_share=0.1, document_model=dm)
    assert ScoringConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    # features by hand: two windows, one music term in the second
    probs, lengths, wins = np.array([0.2, 0.9]), np.array([100.0, 100.0]), ["bake bread", "a new album"]
    assert document_feature("logit_max", probs, lengths, wins, 0.1) == pytest.approx(np.log(0.9 / 0.1))
    assert document_feature("logit_top_share_mean", probs, lengths, wins, 0.5) == pytest.approx(np.log(9))
    assert document_feature("music_terms_per_kchar", probs, lengths, wins, 0.1) == pytest.approx(np.log1p(5.0))
    assert document_feature("log_windows", probs, lengths, wins, 0.1) == pytest.approx(np.log(2))
    assert aggregate_scores(probs, lengths, "share_above") == 0.5
    # a row's probability does not depend on the batch it comes in (a BLAS product may sum in another order)
    dm3 = DocumentModel(("logit_top_share_mean", "music_terms_per_kchar", "log_windows"),
                        (0.3366068152080906, 1.1806848884596661, -0.4091951758355651), -1.7)
    rows = np.random.default_rng(0).normal(size=(1000, 3))
    batch = dm3(rows)
    assert all(dm3(rows[i : i + 1])[0] == batch[i] for i in range(len(rows)))
    assert aggregate_scores(np.array([0.1, 0.2, 0.9, 0.8]), np.ones(4), "top_share_mean", 0.5) == pytest.approx(0.85)


def test_short_texts_score_as_one_window(shipped: DomainClassifier) -> None:
    whole = DomainClassifier(SHIPPED, scoring=dataclasses.replace(shipped.scoring, window_chars=0)).setup()
    short = ["a mellow piano ballad with soft female vocals", "the stock market fell 2% today", "我喜欢这首歌",
             "binary garbage", "word word word", "", b"\x00\xff\xfe\x80garbage", None, 12345, "🎸🎶"]
    a, b = shipped.score(short), whole.score(short)
    np.testing.assert_array_equal(a, b)
    assert a[5] == 0.0 and a[7] == 0.0 and np.all((a >= 0) & (a <= 1))
    assert a[3] > 0 and a[4] > 0  # short junk still gets a model score
    assert a[0] > 0.5 > a[1]


def test_score_deterministic_and_order_independent(shipped: DomainClassifier) -> None:
    texts = [LONG_MIXED, "", MUSIC_PARA, "word word word", OTHER_PARA * 12, "x" * 3000, b"\x00\xffgarbage",
             "\n\n".join([MUSIC_PARA] * 8), None, "binary garbage"]
    base = shipped.score(texts)
    np.testing.assert_array_equal(base, shipped.score(texts))
    rng = np.random.default_rng(0)
    for _ in range(3):
        perm = rng.permutation(len(texts))
        np.testing.assert_array_equal(shipped.score([texts[i] for i in perm]), base[perm])
    single = np.array([shipped.score([t])[0] for t in texts])
    np.testing.assert_array_equal(single, base)


def test_scoring_config_saved_and_defaulted(shipped: DomainClassifier, tmp_path: Path) -> None:
    cfg = ScoringConfig(window_chars=450, aggregate="mean", min_window_chars=50)
    DomainClassifier(SHIPPED, scoring=cfg).setup().save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "meta.json").read_text())
    assert meta["scoring"] == cfg.to_dict()
    assert DomainClassifier(tmp_path / "m").setup().scoring == cfg
    # older meta without "scoring" gets the default
    del meta["scoring"]
    (tmp_path / "m" / "meta.json").write_text(json.dumps(meta))
    assert DomainClassifier(tmp_path / "m").setup().scoring == ScoringConfig()


@pytest.mark.slow
def test_demo_agreement_english(shipped: DomainClassifier, tmp_path: Path) -> None:
    from corpus.sample import SampleConfig, generate_sample

    generate_sample(SampleConfig.preset("small"), tmp_path)
    res = evaluate_on_demo(shipped, tmp_path)
    en = res["lang=en"]
    # measured with the shipped model (windows + document model, threshold 0.5): acc 0.933 / F1 0.941 /
    # precision 1.0 / ROC-AUC 1.0; the same document model on the whole text as one window: acc 0.906 (0.868
    # before the document-embedding head, which sees the whole page either way)
    assert en["accuracy"] >= 0.90 and en["f1"] >= 0.90 and en["precision"] >= 0.97
    assert en["roc_auc"] >= 0.98
    whole_cfg = dataclasses.replace(shipped.scoring, window_chars=0)
    whole = evaluate_on_demo(DomainClassifier(SHIPPED, scoring=whole_cfg).setup(), tmp_path)
    assert en["accuracy"] >= whole["lang=en"]["accuracy"] + 0.02
