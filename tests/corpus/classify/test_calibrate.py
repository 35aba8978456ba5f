"""Document-level decision: the logistic fit, the choice by cross-validated log loss, the report, cross-fitting."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from corpus.classify.annotations import LabelledDocument
from corpus.classify.calibrate import (
    document_report,
    fit_documents,
    fit_logistic,
    log_loss,
    reliability_bins,
    write_report,
)
from corpus.classify.crossfit import ScoredDocument, cross_fit_head, crossfit, fold_of
from corpus.classify.embedding import fit_embedding_head
from corpus.classify.model import EMBEDDING_FEATURE, TrainConfig
from corpus.classify.weighting import WeightPolicy
from tests.corpus.classify.conftest import SHARED_DATA, needs_data


def test_fit_logistic_recovers_known_parameters() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20_000, 2))
    z = 1.5 * x[:, 0] - 0.5 * x[:, 1] + 0.3
    y = (rng.random(len(z)) < 1 / (1 + np.exp(-z))).astype(float)
    w, b = fit_logistic(x, y, l2=0.0)
    assert w == pytest.approx([1.5, -0.5], abs=0.06) and b == pytest.approx(0.3, abs=0.05)


def _doc(i: int, label: str, probs: list[float], text: str = "plain words") -> ScoredDocument:
    d = LabelledDocument("c4_en_train_first1000", i, label, "", "en", text)
    wins = tuple([text] * len(probs))
    return ScoredDocument(d, i % 5, np.array(probs), np.full(len(probs), 300.0), wins)


def _synthetic() -> list[ScoredDocument]:
    """Music documents are music throughout; `other` ones have one music-looking window among many (the case
    max-over-windows gets wrong), and a few short ones are noisy."""
    rng = np.random.default_rng(1)
    docs = []
    for i in range(300):
        if i % 4 == 0:
            docs.append(_doc(i, "music", list(rng.uniform(0.6, 1.0, size=rng.integers(1, 12)))))
        else:
            n = int(rng.integers(1, 30))
            p = list(rng.uniform(0.0, 0.2, size=n))
            if n > 3:
                p[0] = 0.99
            docs.append(_doc(i, "other", p))
    docs.append(_doc(300, "mixed", [0.9, 0.1]))
    return docs


def test_fit_documents_prefers_a_rule_that_one_window_cannot_fool() -> None:
    docs = _synthetic()
    fitted = fit_documents(docs)
    feats = {tuple(c["features"]): c["cv_log_loss"] for c in fitted.candidates}
    assert fitted.model.features != ("logit_max",)
    assert feats[fitted.model.features] == min(feats.values())
    assert feats[("logit_max",)] > feats[fitted.model.features] + 0.05
    lab = np.array([d.doc.label for d in docs])
    # cross-validated probabilities separate the classes and are calibrated on average
    assert fitted.cv_probs[lab == "music"].min() > 0.5 > fitted.cv_probs[lab == "other"].max()
    y = (lab == "music")[lab != "mixed"]
    assert abs(fitted.cv_probs[lab != "mixed"].mean() - y.mean()) < 0.02
    assert log_loss(fitted.cv_probs[lab != "mixed"], y.astype(float)) < 0.05


def _with_topics(docs: list[ScoredDocument]) -> list[ScoredDocument]:
    """The synthetic documents with texts whose topic follows the label, window scores made uninformative for
    half the music documents (so only the page's embedding can find them)."""
    music = "The band's new album and tour: guitar, drums, a piano ballad and the singer's chorus. "
    other = "The council's budget, road repairs, property taxes and the bank's interest rates. "
    out = []
    for i, d in enumerate(docs):
        text = (music if d.doc.label == "music" else other) * 3 + f"item {i}"
        probs = d.probs if d.doc.label != "music" or i % 8 else np.full(len(d.probs), 0.05)
        out.append(ScoredDocument(LabelledDocument(d.doc.source, d.doc.doc, d.doc.label, "", "en", text), d.fold,
                                  probs, d.lengths, tuple([text] * len(probs))))  # fmt: skip
    return out


def test_the_embedding_head_is_cross_fitted_and_chosen_when_it_helps() -> None:
    docs = cross_fit_head(_with_topics(_synthetic()))
    lab = np.array([d.doc.label for d in docs])
    folds = np.array([d.fold for d in docs])
    emb = np.stack([d.embedding for d in docs])
    # fold 0's logits come from a head fitted on the other folds' music and other documents only
    train = (folds != 0) & (lab != "mixed")
    head = fit_embedding_head(emb[train], lab[train] == "music")
    np.testing.assert_allclose([d.embedding_logit for d in docs if d.fold == 0], head.logits(emb[folds == 0]))
    fitted = fit_documents(docs)
    assert EMBEDDING_FEATURE in fitted.model.features and fitted.model.embedding_head is not None
    cv = fitted.cv_probs
    assert cv[lab == "music"].min() > 0.5 > cv[lab == "other"].max()  # the music pages the windows miss too
    without = fit_documents([dataclasses.replace(d, embedding=None, embedding_logit=None) for d in docs])
    assert all(EMBEDDING_FEATURE not in c["features"] for c in without.candidates)
    assert without.model.embedding_head is None and min(c["cv_log_loss"] for c in fitted.candidates) < min(
        c["cv_log_loss"] for c in without.candidates)


def test_document_report_counts_and_weights(tmp_path: Path) -> None:
    docs = _synthetic()
    rep = document_report(docs, fit_documents(docs), WeightPolicy())
    m = rep["per_source"]["c4_en_train_first1000"]
    assert m["n"] == 301 and m["music"] == 75 and m["mixed"] == 1
    assert m["tp"] + m["fn"] == 75 and m["f1"] == 1.0
    assert rep["mean_weight"]["other"] < 0.05 and rep["mean_weight"]["music"] > 0.8
    assert sum(b["n"] for b in rep["reliability"]) == 300  # mixed left out
    report = write_report(rep, tmp_path, ["# test card"])
    text = report.read_text()
    assert "Reliability (documents" in text and "| `c4_en_train_first1000` | 301 | 75 | 1 |" in text
    assert (tmp_path / "reliability.png").stat().st_size > 1000
    assert json.loads((tmp_path / "document_metrics.json").read_text())["per_source"]["c4_en_train_first1000"]["tp"] == 75


def test_reliability_bins_cover_every_score() -> None:
    p = np.array([0.0, 0.05, 0.5, 0.95, 1.0])
    bins = reliability_bins(p, np.array([0, 0, 1, 1, 1.0]))
    assert sum(b["n"] for b in bins) == 5 and bins[-1]["frac_music"] == 1.0


def test_folds_are_stable_and_spread() -> None:
    folds = [fold_of("c4_en_train_first1000", i, 5) for i in range(1000)]
    assert folds == [fold_of("c4_en_train_first1000", i, 5) for i in range(1000)]
    assert min(np.bincount(folds)) > 150


@pytest.mark.slow
@needs_data
def test_crossfit_scores_each_document_with_a_model_that_did_not_see_it() -> None:
    docs = crossfit(SHARED_DATA, folds=2, train=TrainConfig(epoch=2, dim=8))
    from corpus.classify.annotations import load_labels

    labels = load_labels()
    assert [(d.doc.source, d.doc.doc) for d in docs] == [(lab.source, lab.doc) for lab in labels]
    assert {d.fold for d in docs} == {0, 1}
    assert all(len(d.probs) == len(d.lengths) == len(d.windows) >= 1 for d in docs)
    assert all(d.fold == fold_of(d.doc.source, d.doc.doc, 2) for d in docs)
    # even a small model ranks the held-out documents far better than chance
    from corpus.classify.metrics import roc_auc

    y = np.array([d.doc.label == "music" for d in docs if d.doc.label != "mixed"])
    s = np.array([d.probs.mean() for d in docs if d.doc.label != "mixed"])
    assert roc_auc(y, s) > 0.85
    # and so does the cross-fitted embedding head, on its own
    h = np.array([d.embedding_logit for d in docs if d.doc.label != "mixed"])
    assert roc_auc(y, h) > 0.85
