"""A document-embedding head: the document's static embedding and a linear model on it, trained on hand labels.

FineWeb-Edu's classifier is an embedding model with a linear head trained on annotations of real samples; this is
the same at our scale. The embedding is WordLlama's (`corpus.queries.embed.load_wordllama`: 256-dimension static
token embeddings that ship in the wheel, no download), average-pooled over every token of the document's scoring
windows and L2-normalised. The head is a balanced, L2-regularised logistic regression on the hand-labelled
development documents (`mixed` left out), fitted fold by fold for the development figures (`crossfit.py`) and on
every label for the shipped model (`calibrate.py`). Its logit is one feature of the `DocumentModel`
(`logit_embedding_head`): where the fastText windows see music words, the head sees what the whole page is about
(a talk-show appearance, a festival line-up, a tour date list).

The pooled mean is computed here, per document in float64, rather than with `WordLlamaInference.embed`, whose
batches pad to the longest text and sum in float32: a document's embedding, and so its score, must not depend on
the batch it came in (byte-identical outputs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

EMBEDDER = "wordllama-l2_supercat-256"
"""The only embedder a head is trained on; stored with the head and checked when it is loaded."""
HEAD_L2 = 2e-4
"""L2 strength of the head's logistic regression (on the mean weighted loss): about scikit-learn's C = 3 at
the development set's size; C 0.3 / 1 / 3 / 10 gave cross-validated document log loss 0.055 / 0.049 / 0.047 /
0.046, and 3 kept web precision highest."""


@cache
def _tokenizer() -> Any:
    """WordLlama's tokenizer without its batch padding (a copy: the query embedder keeps the padded one)."""
    from tokenizers import Tokenizer

    from corpus.queries.embed import load_wordllama

    tok = Tokenizer.from_str(load_wordllama().tokenizer.to_str())
    tok.no_padding()
    tok.no_truncation()
    return tok


def document_embeddings(texts: Sequence[str]) -> np.ndarray:
    """(len(texts), 256) float64: each text's mean token embedding, L2-normalised (a text without tokens: zeros).
    Each row depends on its own text only."""
    from corpus.queries.embed import load_wordllama

    table = load_wordllama().embedding
    out = np.zeros((len(texts), table.shape[1]), np.float64)
    for i, enc in enumerate(_tokenizer().encode_batch(list(texts), add_special_tokens=False)):
        ids = np.minimum(np.asarray(enc.ids, np.int64), table.shape[0] - 1)
        if len(ids):
            v = table[ids].mean(axis=0, dtype=np.float64)
            n = np.linalg.norm(v)
            out[i] = v / n if n > 0 else v
    return out


def fit_logistic(X: np.ndarray, y: np.ndarray, l2: float = 1e-2, sample_weight: np.ndarray | None = None,
                 ) -> tuple[np.ndarray, float]:  # fmt: skip
    """(weights, bias) of an L2-regularised logistic regression (bias unregularised) minimising the
    (sample-weighted) mean log loss + l2/2 |w|^2, by Newton's method.

    Hand-written (a few features or one embedding, a couple of thousand rows): deterministic, and the same solver
    for the document model and the embedding head.
    """
    Xb = np.c_[np.asarray(X, np.float64), np.ones(len(X))]
    t = np.asarray(y, np.float64)
    s = np.ones(len(t)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    s = s / s.mean()
    w = np.zeros(Xb.shape[1])
    reg = np.eye(len(w)) * l2
    reg[-1, -1] = 0.0
    for _ in range(100):
        q = 1.0 / (1.0 + np.exp(-(Xb @ w)))
        grad = Xb.T @ (s * (q - t)) / len(t) + reg @ w
        hess = (Xb.T * (s * q * (1.0 - q))) @ Xb / len(t) + reg + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    return w[:-1], float(w[-1])


@dataclass(frozen=True)
class EmbeddingHead:
    """logit = bias + weights . embedding (the `document_embeddings` row)."""

    weights: tuple[float, ...]
    bias: float
    embedder: str = EMBEDDER

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", tuple(float(w) for w in self.weights))
        if self.embedder != EMBEDDER:
            raise ValueError(f"EmbeddingHead: trained on embedder {self.embedder!r}; this version embeds with {EMBEDDER!r}")
        if len(self.weights) != 256:
            raise ValueError(f"EmbeddingHead: needs 256 weights (the embedding's size), got {len(self.weights)}")

    def logits(self, embeddings: np.ndarray) -> np.ndarray:
        # element-wise sum in a fixed order per row (no BLAS: the result must not depend on the batch)
        e = np.asarray(embeddings, np.float64).reshape(-1, len(self.weights))
        return self.bias + (e * np.asarray(self.weights)).sum(axis=1)


def fit_embedding_head(embeddings: np.ndarray, is_music: np.ndarray, l2: float = HEAD_L2) -> EmbeddingHead:
    """A head on labelled documents' embeddings, classes weighted to balance (music pages are a few per cent of
    the web documents)."""
    y = np.asarray(is_music, bool)
    if y.all() or not y.any():
        raise ValueError("fit_embedding_head: needs documents of both classes")
    weight = np.where(y, 0.5 / y.mean(), 0.5 / (1.0 - y.mean()))
    w, b = fit_logistic(embeddings, y.astype(np.float64), l2=l2, sample_weight=weight)
    return EmbeddingHead(tuple(w), b)
