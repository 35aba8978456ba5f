"""`DomainClassifier`: a fastText model giving P(music) for any text, plus `train_classifier` for the CLI.

Scoring is separate from deciding (see `weighting.py`): `score(texts)` returns probabilities only.
A saved model is a folder: `model.bin` (fastText) and `meta.json` (text-prep config, scoring config,
hyperparameters, chosen threshold). Load once per worker with `setup()`; fastText predict is then
thread-safe and fast.

Long documents: `score` splits texts longer than `ScoringConfig.window_chars` into paragraph-aligned windows
(`windows.split_windows`), scores every window of the batch in one fastText predict call, and turns each
document's window scores into one score: with the shipped model, a `DocumentModel` (a small logistic model on
window-score statistics, the music-lexicon density and the logit of a document-embedding head (`embedding.py`),
fitted and chosen on the cross-fitted development set by `calibrate.py`) gives a calibrated P(music) that one
stray paragraph cannot carry; without one, an `aggregate` (`max`, `mean`, ...). Texts up to the window size are
one window.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from corpus.classify.dataset import read_split
from corpus.classify.embedding import EmbeddingHead, document_embeddings
from corpus.classify.lexicon import music_hits
from corpus.classify.metrics import best_f1_threshold
from corpus.classify.text import TextPrepConfig, jieba_available, prepare_text
from corpus.classify.windows import split_windows

log = logging.getLogger(__name__)

MUSIC_LABEL = "__label__music"
OTHER_LABEL = "__label__other"


@dataclass(frozen=True)
class TrainConfig:
    """fastText supervised hyperparameters. `thread=1` + `seed` make training bit-reproducible."""

    epoch: int = 10
    lr: float = 0.5
    dim: int = 32
    wordNgrams: int = 1  # words alone: word bigrams memorised sources' phrasing (cross-fitted, bigrams -> none: web
    # F1 0.810 -> 0.837, THUCNews false positives 6 -> 3, log loss 0.0462 -> 0.0459; README classifier section)
    minn: int = 3  # character 3-5-grams: names, inflections and compounds the words alone miss (cross-fitted web
    maxn: int = 5  # F1 0.651 -> 0.739 on the hand-labelled C4 pages when they came in; README classifier section)
    minCount: int = 1
    bucket: int = 500_000
    loss: str = "softmax"
    thread: int = 1
    seed: int = 0


AGGREGATES = ("max", "mean", "length_weighted_mean", "top_share_mean", "share_above")


# Document features a `DocumentModel` can combine: the logit of each window-score aggregate, the density of
# distinct music-lexicon terms (per 1,000 characters, summed over windows, log1p), the log window count and the
# logit of the document-embedding head (`embedding.py`; the model then carries the head).
EMBEDDING_FEATURE = "logit_embedding_head"
DOC_FEATURES = tuple(f"logit_{a}" for a in AGGREGATES) + ("music_terms_per_kchar", "log_windows", EMBEDDING_FEATURE)


@dataclass(frozen=True)
class DocumentModel:
    """The document-level decision: P(music) = sigmoid(bias + sum(weight_i * feature_i)).

    A small logistic model on statistics of the window scores (and the lexicon density), fitted on cross-fitted
    scores of the hand-labelled development documents (`corpus/classify/calibrate.py`), so its output reads as
    the probability that a document like this one is labelled music. With the single feature `logit_<agg>` it
    is Platt scaling of that aggregate. `eps` clips window aggregates to [eps, 1 - eps] before the logit.
    `embedding_head`: the head whose logit is the `logit_embedding_head` feature (needed to score with a model
    that uses it; the cross-validated fits in `calibrate.py` take out-of-fold logits instead).
    """

    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float
    eps: float = 1e-4
    embedding_head: EmbeddingHead | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "features", tuple(self.features))
        object.__setattr__(self, "weights", tuple(float(w) for w in self.weights))
        if isinstance(self.embedding_head, dict):
            object.__setattr__(self, "embedding_head", EmbeddingHead(**self.embedding_head))
        bad = [f for f in self.features if f not in DOC_FEATURES]
        if bad:
            raise ValueError(f"DocumentModel: unknown features {bad}; known: {DOC_FEATURES}")
        if len(self.features) != len(self.weights) or not self.features:
            raise ValueError("DocumentModel needs one weight per feature and at least one feature")

    @property
    def uses_embedding(self) -> bool:
        return EMBEDDING_FEATURE in self.features

    def feature_row(self, probs: np.ndarray, lengths: np.ndarray, windows: list[str], top_share: float,
                    embedding_logit: float | None = None) -> np.ndarray:  # fmt: skip
        return np.array([document_feature(f, probs, lengths, windows, top_share, self.eps, embedding_logit)
                         for f in self.features])  # fmt: skip

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        # element-wise, feature by feature: a BLAS matrix-vector product may sum in a different order for
        # another batch size, and a document's score must not depend on its batch (byte-identical outputs)
        x = np.asarray(rows, np.float64).reshape(-1, len(self.weights))
        z = np.full(len(x), self.bias)
        for j, w in enumerate(self.weights):
            z = z + w * x[:, j]
        return 1.0 / (1.0 + np.exp(-z))


def document_feature(name: str, probs: np.ndarray, lengths: np.ndarray, windows: list[str], top_share: float,
                     eps: float = 1e-4, embedding_logit: float | None = None) -> float:
    """One `DOC_FEATURES` value for a document given its window scores, lengths and texts (and, for
    `logit_embedding_head`, the head's logit on the document's embedding)."""
    if name == EMBEDDING_FEATURE:
        if embedding_logit is None:
            raise ValueError(f"document feature {name!r} needs the document's embedding-head logit")
        return float(embedding_logit)
    if name.startswith("logit_"):
        p = min(max(aggregate_scores(probs, lengths, name[6:], top_share), eps), 1.0 - eps)
        return float(np.log(p / (1.0 - p)))
    if name == "music_terms_per_kchar":
        chars = float(np.sum(lengths)) or 1.0
        return float(np.log1p(1000.0 * sum(len(music_hits(w)) for w in windows) / chars))
    if name == "log_windows":
        return float(np.log(max(len(probs), 1)))
    raise ValueError(f"unknown document feature {name!r}")


@dataclass(frozen=True)
class ScoringConfig:
    """How `DomainClassifier.score` turns a text into one document score. Stored in meta.json beside the model.

    Texts longer than `window_chars` characters are split into paragraph-aligned windows of about
    `window_chars` (a paragraph longer than that is cut at sentence ends, then whitespace); windows
    shorter than `min_window_chars` are merged into a neighbour. `window_chars=0` disables windowing.
    Window scores are combined with `aggregate`:
    - "max": the highest window (one music paragraph makes the whole document music);
    - "mean" / "length_weighted_mean" (weights = window length in characters);
    - "top_share_mean": the mean of the top `top_share` of windows (at least one): length-aware, so a stray
      paragraph counts for less the longer the document;
    - "share_above": the length share of windows with P >= 0.5.
    With a `document_model` (fitted on the development set), the document score is that model's calibrated
    probability over window-score statistics instead; `aggregate` then only serves `aggregate`-based callers.
    The shipped model's choice and the measurements behind it are in its `report.md`.
    """

    window_chars: int = 300
    aggregate: str = "max"
    min_window_chars: int = 100
    top_share: float = 0.25
    document_model: DocumentModel | None = None

    def __post_init__(self) -> None:
        if self.aggregate not in AGGREGATES:
            raise ValueError(f"ScoringConfig.aggregate must be one of {AGGREGATES}, got {self.aggregate!r}")
        if self.window_chars < 0 or self.min_window_chars < 0:
            raise ValueError("ScoringConfig.window_chars and min_window_chars must be >= 0")
        if not 0.0 < self.top_share <= 1.0:
            raise ValueError(f"ScoringConfig.top_share must be in (0, 1], got {self.top_share}")
        dm = self.document_model
        if dm is not None and dm.uses_embedding and dm.embedding_head is None:
            raise ValueError(f"ScoringConfig.document_model uses {EMBEDDING_FEATURE} but carries no embedding_head")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> ScoringConfig:
        d = d or {}
        kw = {k: d[k] for k in ("window_chars", "aggregate", "min_window_chars", "top_share") if k in d}
        dm = d.get("document_model")
        return cls(**kw, document_model=DocumentModel(**dm) if dm else None)


def aggregate_scores(scores: np.ndarray, weights: np.ndarray, how: str, top_share: float = 0.25) -> float:
    """Combine per-window scores of one document (`how` in AGGREGATES; `weights` are window lengths)."""
    if len(scores) == 0:
        return 0.0
    if how == "max":
        return float(np.max(scores))
    if how == "mean":
        return float(np.mean(scores))
    w = np.asarray(weights, np.float64)
    if how == "length_weighted_mean":
        return float(np.dot(scores, w) / w.sum()) if w.sum() > 0 else float(np.mean(scores))
    if how == "top_share_mean":
        k = max(1, int(np.ceil(top_share * len(scores))))
        return float(np.sort(np.asarray(scores, np.float64))[::-1][:k].mean())
    if how == "share_above":
        return float(np.dot(np.asarray(scores) >= 0.5, w) / w.sum()) if w.sum() > 0 else 0.0
    raise ValueError(f"unknown aggregate {how!r}; expected one of {AGGREGATES}")


class DomainClassifier:
    """P(music) scorer. `train` or `load`, then `score`. Construct cheaply; heavy work happens in setup."""

    def __init__(self, model_dir: str | Path | None = None, prep: TextPrepConfig | None = None,
                 scoring: ScoringConfig | None = None) -> None:
        self.model_dir = Path(model_dir) if model_dir else None
        self.prep = prep or TextPrepConfig()
        # an explicit `scoring` wins over the one stored in meta.json; older meta without one gets the default
        self._scoring_override = scoring
        self.scoring = scoring or ScoringConfig()
        self.meta: dict[str, Any] = {}
        self._ft: Any = None

    # --- lifecycle -----------------------------------------------------------------------------------
    def setup(self) -> DomainClassifier:
        """Load the model from `model_dir` once (per worker). No-op when already loaded."""
        if self._ft is None:
            if self.model_dir is None:
                raise RuntimeError("DomainClassifier has no model: call train() or pass model_dir and setup()")
            self._load(self.model_dir)
        return self

    @classmethod
    def load(cls, path: str | Path) -> DomainClassifier:
        return cls(path).setup()

    def _load(self, path: Path) -> None:
        import fasttext

        meta_path = path / "meta.json"
        if not meta_path.is_file():
            raise FileNotFoundError(f"{meta_path} missing: {path} is not a saved DomainClassifier folder")
        self.meta = json.loads(meta_path.read_text(encoding="utf-8"))
        self.prep = TextPrepConfig.from_dict(self.meta["prep"])
        self.scoring = self._scoring_override or ScoringConfig.from_dict(self.meta.get("scoring"))
        if self.prep.cjk == "jieba" and not jieba_available():
            raise ImportError(f"model {path} was trained with jieba tokens; install jieba==0.42.1 to score with it")
        # a quantized model (model.ftz, shipped with the package) is preferred over the full one
        model_file = path / "model.ftz" if (path / "model.ftz").is_file() else path / "model.bin"
        self._ft = fasttext.load_model(str(model_file))

    def quantize(self, cutoff: int = 100_000) -> DomainClassifier:
        """Product-quantize the model (72 MB -> about 3 MB), keeping the `cutoff` most important
        words and n-grams; small enough to ship inside the package."""
        if self._ft is None:
            raise RuntimeError("nothing to quantize: train() or setup() first")
        self._ft.quantize(cutoff=cutoff, qnorm=True, retrain=False, dsub=2)
        self.meta["quantized"] = {"cutoff": cutoff, "qnorm": True, "dsub": 2}
        return self

    def save(self, path: str | Path) -> Path:
        if self._ft is None:
            raise RuntimeError("nothing to save: train() or setup() first")
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        name = "model.ftz" if self.meta.get("quantized") else "model.bin"
        self._ft.save_model(str(out / name))
        meta = {**self.meta, "prep": self.prep.to_dict(), "scoring": self.scoring.to_dict()}
        (out / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        self.model_dir = out
        return out

    # --- training ------------------------------------------------------------------------------------
    def train(self, train_path: str | Path, **hyperparams: Any) -> DomainClassifier:
        """Train on a `train.jsonl` from `build_training_set` (text, label). Hyperparams override TrainConfig."""
        import fasttext

        cfg = TrainConfig(**hyperparams)
        rows = read_split(train_path)
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            ft_file = Path(tmp) / "train.ft"
            n = 0
            with open(ft_file, "w", encoding="utf-8") as f:
                for i, r in enumerate(rows):
                    if r.get("label") not in ("music", "other"):
                        raise ValueError(f"{train_path} row {i + 1}: field 'label' must be music/other, got {r.get('label')!r}")
                    toks = prepare_text(r["text"], self.prep)
                    if toks:
                        f.write(f"__label__{r['label']} {toks}\n")
                        n += 1
            self._ft = fasttext.train_supervised(input=str(ft_file), verbose=0, **asdict(cfg))
        self.meta = {
            "train": asdict(cfg),
            "train_path": str(train_path),
            "train_rows": n,
            "train_seconds": round(time.perf_counter() - t0, 3),
            "threshold": self.meta.get("threshold", 0.5),
        }
        log.info("trained DomainClassifier on %d rows in %.1fs", n, self.meta["train_seconds"])
        return self

    # --- scoring -------------------------------------------------------------------------------------
    @property
    def threshold(self) -> float:
        return float(self.meta.get("threshold", 0.5))

    @threshold.setter
    def threshold(self, value: float) -> None:
        self.meta["threshold"] = float(value)

    def _predict_music(self, prepared: list[str]) -> np.ndarray:
        """P(music) for already-prepared, non-empty lines, one fastText predict call."""
        if not prepared:
            return np.zeros(0, dtype=np.float64)
        labels, probs = self._ft.predict(prepared, k=2)
        out = np.empty(len(prepared), dtype=np.float64)
        for j in range(len(prepared)):
            p = dict(zip(labels[j], probs[j], strict=True))
            out[j] = float(p.get(MUSIC_LABEL, 1.0 - float(p.get(OTHER_LABEL, 1.0))))
        return np.clip(out, 0.0, 1.0)  # fastText's 1e-5 smoothing can push a probability past 1

    def windows(self, text: Any) -> list[str]:
        """The windows `score` uses for `text` under this model's `scoring` config."""
        cfg = self.scoring
        return split_windows(text, cfg.window_chars, cfg.min_window_chars, max_chars=self.prep.max_chars)

    def window_scores(self, text: Any) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
        """P(music) of each scoring window of one text, the windows' lengths and texts (windows without usable
        tokens left out), exactly as `score` sees them before combining."""
        self.setup()
        prepared, lengths, wins = [], [], []
        for w in self.windows(text):
            p = prepare_text(w, self.prep)
            if p:
                prepared.append(p)
                lengths.append(len(w))
                wins.append(w)
        return self._predict_music(prepared), np.asarray(lengths, np.float64), tuple(wins)

    def score(self, texts: list[Any] | tuple[Any, ...]) -> np.ndarray:
        """P(music) in [0, 1] for each text (float64 array). Empty or unusable text scores 0.0.

        Long texts are scored per paragraph window and aggregated (see `ScoringConfig`); all windows of
        the batch go through one predict call. Each text's score depends only on that text (deterministic,
        independent of batch order and size).
        """
        self.setup()
        cfg = self.scoring
        dm = cfg.document_model
        out = np.zeros(len(texts), dtype=np.float64)
        lines: list[str] = []
        raw: list[str] = []
        owner: list[int] = []
        weight: list[int] = []
        for i, t in enumerate(texts):
            for w in self.windows(t):
                p = prepare_text(w, self.prep)
                if p:
                    lines.append(p)
                    raw.append(w)
                    owner.append(i)
                    weight.append(len(w))
        if not lines:
            return out
        probs = self._predict_music(lines)
        own = np.asarray(owner)
        wts = np.asarray(weight, dtype=np.float64)
        # windows of one text are contiguous in `lines`; texts without a usable window keep 0.0
        bounds = np.flatnonzero(np.r_[True, own[1:] != own[:-1], True])
        spans = list(zip(bounds[:-1], bounds[1:], strict=True))
        if dm is None:
            for a, b in spans:
                out[own[a]] = aggregate_scores(probs[a:b], wts[a:b], cfg.aggregate, cfg.top_share)
        else:
            head: list[float | None] = [None] * len(spans)
            if dm.uses_embedding:
                assert dm.embedding_head is not None  # ScoringConfig checks it
                emb = document_embeddings(["\n".join(raw[a:b]) for a, b in spans])
                head = [float(x) for x in dm.embedding_head.logits(emb)]
            rows = np.array([dm.feature_row(probs[a:b], wts[a:b], raw[a:b], cfg.top_share, h)
                             for (a, b), h in zip(spans, head, strict=True)])  # fmt: skip
            out[[own[a] for a, _ in spans]] = dm(rows)
        return np.clip(out, 0.0, 1.0)


def train_classifier(train_path: str | Path, model_dir: str | Path, valid_path: str | Path | None = None,
                     prep: TextPrepConfig | None = None, **hyperparams: Any) -> DomainClassifier:
    """Train, pick the F1-maximising threshold on `valid_path` (if given), save to `model_dir`."""
    clf = DomainClassifier(prep=prep).train(train_path, **hyperparams)
    if valid_path is not None:
        rows = read_split(valid_path)
        y = np.array([r["label"] == "music" for r in rows])
        clf.threshold = best_f1_threshold(y, clf.score([r["text"] for r in rows]))
    clf.save(model_dir)
    return clf
