"""The document-embedding head: WordLlama document embeddings, the weighted logistic fit and the head."""

from __future__ import annotations

import json

import numpy as np
import pytest

from corpus.classify import ScoringConfig
from corpus.classify.embedding import (
    EMBEDDER,
    EmbeddingHead,
    document_embeddings,
    fit_embedding_head,
    fit_logistic,
)
from corpus.classify.model import EMBEDDING_FEATURE, DocumentModel, document_feature

MUSIC = ["The band premiered its new single on the radio before the tour; the drummer and the bassist carry the groove.",
         "Her debut album mixes jazz piano with soul vocals, and the title track topped the charts for three weeks.",
         "Tickets for the festival line-up, with three DJs and a string quartet, go on sale on Friday."]
OTHER = ["The council approved the budget for road repairs after a long debate about property taxes.",
         "Preheat the oven, whisk the eggs with the flour and bake the batter for twenty minutes.",
         "The striker scored twice in the second half as the home side won the league match."]


def test_embeddings_are_normalised_per_text_and_independent_of_the_batch() -> None:
    long = " ".join(OTHER * 40)
    alone = document_embeddings([MUSIC[0]])
    batch = document_embeddings([long, MUSIC[0], "", "🎸"])
    assert batch.shape == (4, 256) and batch.dtype == np.float64
    np.testing.assert_array_equal(batch[1], alone[0])  # a longer text in the batch pads it; the row is the same
    assert np.linalg.norm(batch[0]) == pytest.approx(1.0) and not batch[2].any()
    # the mean over tokens: a text repeated has the same embedding
    np.testing.assert_allclose(document_embeddings([" ".join([MUSIC[1]] * 3)])[0],
                               document_embeddings([MUSIC[1]])[0], atol=0.05)  # fmt: skip


def test_weighted_fit_equals_repeating_rows() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 3))
    y = (x[:, 0] + rng.normal(size=300) > 0).astype(float)
    rep = rng.integers(1, 4, size=300)
    w1, b1 = fit_logistic(x, y, l2=1e-3, sample_weight=rep)
    w2, b2 = fit_logistic(np.repeat(x, rep, axis=0), np.repeat(y, rep), l2=1e-3)
    np.testing.assert_allclose(w1, w2, atol=1e-8)
    assert b1 == pytest.approx(b2, abs=1e-8)


def test_head_separates_music_from_other_documents_it_did_not_see() -> None:
    train_m = [m + " " + o.split(",")[0] for m in MUSIC for o in OTHER[:2]]
    train_o = [o + " " + o2 for o in OTHER for o2 in OTHER if o != o2]
    e = document_embeddings(train_m + train_o)
    head = fit_embedding_head(e, np.array([True] * len(train_m) + [False] * len(train_o)), l2=1e-3)
    test = document_embeddings(["A guitarist's solo album: twelve songs of blues and folk, recorded live.",
                                "The bank raised interest rates by a quarter point to slow inflation."])
    logit = head.logits(test)
    assert logit[0] > logit[1] + 1.0
    fitted = head.logits(e)
    assert fitted[: len(train_m)].min() > 0 > fitted[len(train_m):].max()
    batch = head.logits(np.vstack([test, e]))
    assert batch[0] == logit[0] and batch[1] == logit[1]  # no BLAS: a row's logit does not depend on the batch
    with pytest.raises(ValueError, match="both classes"):
        fit_embedding_head(e, np.ones(len(e), bool))


def test_head_validation_and_round_trip_through_the_scoring_config() -> None:
    with pytest.raises(ValueError, match="256 weights"):
        EmbeddingHead((1.0, 2.0), 0.0)
    with pytest.raises(ValueError, match="embedder"):
        EmbeddingHead(tuple([0.0] * 256), 0.0, embedder="minilm")
    feats = ("logit_top_share_mean", EMBEDDING_FEATURE)
    with pytest.raises(ValueError, match="no embedding_head"):
        ScoringConfig(document_model=DocumentModel(feats, (1.0, 1.0), 0.0))
    head = EmbeddingHead(tuple(np.linspace(-1, 1, 256)), -0.5)
    cfg = ScoringConfig(top_share=0.1, document_model=DocumentModel(feats, (1.0, 0.5), 0.0, embedding_head=head))
    back = ScoringConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert back == cfg and back.document_model.embedding_head.embedder == EMBEDDER
    probs, lengths = np.array([0.5]), np.array([100.0])
    assert document_feature(EMBEDDING_FEATURE, probs, lengths, ["x"], 0.1, embedding_logit=2.5) == 2.5
    with pytest.raises(ValueError, match="embedding-head logit"):
        document_feature(EMBEDDING_FEATURE, probs, lengths, ["x"], 0.1)
