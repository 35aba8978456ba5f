"""Cross-fitted window scores of the hand-labelled development documents.

The hand labels serve twice: as training labels (FineWeb-Edu style) and as the development set that chooses the
document-level aggregation and its calibration. To keep the development figures honest, each document is scored
by a model that never saw it: the labelled documents are split into `folds` by a hash of their key, and for each
fold a model is trained on everything else (`build_training_set(holdout=fold)`) and scores that fold's
documents window by window. The document-embedding head (`embedding.py`) is cross-fitted the same way: for each
fold, a head fitted on the other folds' labelled documents (`mixed` left out) gives this fold's logits. The
shipped model is then trained with every label; its document-level figures are reported from these out-of-fold
scores, not from documents it trained on.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from corpus.classify.annotations import LabelledDocument, iter_labelled_documents
from corpus.classify.dataset import BuildConfig, build_training_set, read_pool
from corpus.classify.embedding import document_embeddings, fit_embedding_head
from corpus.classify.model import DomainClassifier, TrainConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScoredDocument:
    """A labelled document with the P(music) and length (characters) of each of its scoring windows."""

    doc: LabelledDocument
    fold: int
    probs: np.ndarray
    lengths: np.ndarray
    windows: tuple[str, ...]
    """The scored windows' texts (those with usable tokens), for the lexicon feature."""
    embedding: np.ndarray | None = None
    """The document's embedding (`embedding.document_embeddings` of its windows joined by newlines)."""
    embedding_logit: float | None = None
    """The out-of-fold embedding head's logit for this document."""


def fold_of(source: str, doc: str | int, folds: int) -> int:
    h = hashlib.blake2b(f"{source}\x00{doc}".encode(), digest_size=8).digest()
    return int.from_bytes(h, "big") % folds


def crossfit(shared: Path, folds: int = 5, build: BuildConfig | None = None,
             train: TrainConfig | None = None, quantize: int | None = None) -> list[ScoredDocument]:
    """Out-of-fold window scores and embedding-head logits for every hand-labelled document (label order).

    `quantize`: quantize each fold's model with this cutoff first, as the shipped model is.
    """
    build = build or BuildConfig()
    train = train or TrainConfig()
    docs = list(iter_labelled_documents(shared))
    fold = [fold_of(d.source, d.doc, folds) for d in docs]
    pool = read_pool(shared, build)
    scored: dict[int, ScoredDocument] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(folds):
            held = [(d.source, d.doc) for d, f in zip(docs, fold, strict=True) if f == k]
            out = Path(tmp) / f"fold{k}"
            build_training_set(shared, out, seed=build.seed, config=build, holdout=held, pool=pool)
            clf = DomainClassifier().train(out / "train.jsonl", **train.__dict__)
            if quantize:
                clf.quantize(quantize)
            for i, (d, f) in enumerate(zip(docs, fold, strict=True)):
                if f == k:
                    scored[i] = ScoredDocument(d, k, *clf.window_scores(d.text))
            log.info("crossfit: fold %d/%d scored %d documents", k + 1, folds, len(held))
    return cross_fit_head([scored[i] for i in range(len(docs))])


def cross_fit_head(docs: list[ScoredDocument]) -> list[ScoredDocument]:
    """`docs` with their embeddings and out-of-fold embedding-head logits (each fold's head fitted on the other
    folds' music and other documents)."""
    emb = document_embeddings(["\n".join(d.windows) for d in docs])
    lab = np.array([d.doc.label for d in docs])
    fold = np.array([d.fold for d in docs])
    logit = np.zeros(len(docs))
    for k in np.unique(fold):
        train = (fold != k) & (lab != "mixed")
        logit[fold == k] = fit_embedding_head(emb[train], lab[train] == "music").logits(emb[fold == k])
    return [replace(d, embedding=emb[i], embedding_logit=float(logit[i])) for i, d in enumerate(docs)]
