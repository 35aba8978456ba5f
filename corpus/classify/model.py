"""`DomainClassifier`: a fastText model giving P(music) for any text, plus `train_classifier` for the CLI.

Scoring is separate from deciding (see `weighting.py`): `score(texts)` returns probabilities only.
A saved model is a folder: `model.bin` (fastText) and `meta.json` (text-prep config, hyperparameters,
chosen threshold). Load once per worker with `setup()`; fastText predict is then thread-safe and fast.
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
from corpus.classify.text import TextPrepConfig, jieba_available, prepare_text

log = logging.getLogger(__name__)

MUSIC_LABEL = "__label__music"
OTHER_LABEL = "__label__other"


@dataclass(frozen=True)
class TrainConfig:
    """fastText supervised hyperparameters. `thread=1` + `seed` make training bit-reproducible."""

    epoch: int = 10
    lr: float = 0.5
    dim: int = 32
    wordNgrams: int = 2
    minn: int = 0  # subwords off by default: faster, and word+bigram features already reach the target
    maxn: int = 0
    minCount: int = 1
    bucket: int = 500_000
    loss: str = "softmax"
    thread: int = 1
    seed: int = 0


class DomainClassifier:
    """P(music) scorer. `train` or `load`, then `score`. Construct cheaply; heavy work happens in setup."""

    def __init__(self, model_dir: str | Path | None = None, prep: TextPrepConfig | None = None) -> None:
        self.model_dir = Path(model_dir) if model_dir else None
        self.prep = prep or TextPrepConfig()
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
        meta = {**self.meta, "prep": self.prep.to_dict()}
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

    def score(self, texts: list[Any] | tuple[Any, ...]) -> np.ndarray:
        """P(music) in [0, 1] for each text (float64 array). Empty or unusable text scores 0.0."""
        self.setup()
        prepared = [prepare_text(t, self.prep) for t in texts]
        out = np.zeros(len(prepared), dtype=np.float64)
        idx = [i for i, p in enumerate(prepared) if p]
        if not idx:
            return out
        labels, probs = self._ft.predict([prepared[i] for i in idx], k=2)
        for j, i in enumerate(idx):
            p = dict(zip(labels[j], probs[j], strict=True))
            music = float(p.get(MUSIC_LABEL, 1.0 - float(p.get(OTHER_LABEL, 1.0))))
            out[i] = music
        return np.clip(out, 0.0, 1.0)


def train_classifier(train_path: str | Path, model_dir: str | Path, valid_path: str | Path | None = None,
                     prep: TextPrepConfig | None = None, **hyperparams: Any) -> DomainClassifier:
    """Train, pick the F1-maximising threshold on `valid_path` (if given), save to `model_dir`."""
    from corpus.classify.evaluate import best_f1_threshold

    clf = DomainClassifier(prep=prep).train(train_path, **hyperparams)
    if valid_path is not None:
        rows = read_split(valid_path)
        y = np.array([r["label"] == "music" for r in rows])
        clf.threshold = best_f1_threshold(y, clf.score([r["text"] for r in rows]))
    clf.save(model_dir)
    return clf
