"""Music-domain classifier: training-set builder, fastText `DomainClassifier`, evaluation, score-to-weight.

`build_training_set` (whole documents labelled once each, `documents.py`) -> `train_classifier` ->
`calibrate.calibrate_model` (cross-fitted on the hand-labelled documents, `crossfit.py`: chooses and stores the
document-level decision) are the CLI-ready entry points; documents are scored with `DomainClassifier.score`
(calibrated P(music)) and weighted later by `score_to_weight` (score, then decide).
"""

from corpus.classify.dataset import BuildConfig, build_training_set, default_shared_data, split_of
from corpus.classify.evaluate import evaluate, evaluate_on_demo
from corpus.classify.metrics import best_f1_threshold, roc_auc
from corpus.classify.model import (
    DocumentModel,
    DomainClassifier,
    ScoringConfig,
    TrainConfig,
    split_windows,
    train_classifier,
)
from corpus.classify.text import TextPrepConfig, prepare_text
from corpus.classify.weighting import WeightPolicy, score_to_weight

__all__ = [
    "BuildConfig",
    "DocumentModel",
    "DomainClassifier",
    "ScoringConfig",
    "TextPrepConfig",
    "TrainConfig",
    "WeightPolicy",
    "best_f1_threshold",
    "build_training_set",
    "default_shared_data",
    "evaluate",
    "evaluate_on_demo",
    "prepare_text",
    "roc_auc",
    "score_to_weight",
    "split_windows",
    "split_of",
    "train_classifier",
]
