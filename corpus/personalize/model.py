"""The personalization model: implicit-feedback matrix factorisation over behavior events, with one scoring
interface, `Personalizer.score(context, items)`, for the user-query-to-item synthesis (filtering candidates), the
RL personalization reward and the evaluation suite.

Training uses `implicit` (Ben Frederickson's library, kept and fast; its CPU ALS is Hu, Koren & Volinsky 2008 with
a conjugate-gradient solver, BPR is Rendle et al. 2009) rather than our own solver. A user-item cell's confidence
is `1 + alpha * w`, `w` the sum of that user's feedback weights on the item (`feedback_weights`: a like counts more
than a play, a skip or dislike nothing). One thread by default, so the same events and config give bit-identical
factors.

Scoring a context: a user the model trained on is scored with their factors; any other user with a history of
items is folded in (ALS: the exact least-squares user vector for that history, the same solve one ALS sweep does;
BPR: the mean of the history's item factors); a context with neither falls back to item popularity. Items the
model never saw score NaN (callers decide: the synthesis drops them, a reward counts them as 0).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

DEFAULT_FEEDBACK_WEIGHTS: dict[str, float] = {"play": 1.0, "like": 4.0, "add_to_playlist": 3.0, "share": 3.0,
                                              "tag": 2.0}  # fmt: skip


@dataclass(frozen=True)
class PersonalizerConfig:
    """How the personalization model is trained (`music-personalize train`, the uq2i stage)."""

    __pydantic_config__ = {"extra": "forbid"}  # unknown YAML keys are refused (read by pydantic only)

    algorithm: str = "als"
    """`als` (implicit ALS, confidence-weighted least squares) or `bpr` (Bayesian personalised ranking)."""
    factors: int = 64
    """Latent dimensions."""
    regularization: float = 0.05
    """L2 penalty on the factors."""
    iterations: int = 20
    """ALS sweeps or BPR epochs."""
    alpha: float = 10.0
    """ALS confidence scale: confidence = 1 + alpha * (summed feedback weight of the cell)."""
    learning_rate: float = 0.05
    """BPR step size (unused by ALS)."""
    feedback_weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_FEEDBACK_WEIGHTS))
    """Weight of each feedback kind; kinds not listed (skip, dislike, search) are not positive interactions."""
    item_types: tuple[str, ...] = ("song",)
    """Item types modelled (Last.fm's dated events are on artists: use ("artist",) there)."""
    seed: int = 0
    threads: int = 1
    """Training threads; 1 gives bit-identical factors on every run (more is faster, not reproducible)."""

    def __post_init__(self) -> None:
        if self.algorithm not in ("als", "bpr"):
            raise ValueError(f"PersonalizerConfig.algorithm must be als or bpr, got {self.algorithm!r}")
        for name in ("factors", "iterations", "threads"):
            if getattr(self, name) < 1:
                raise ValueError(f"PersonalizerConfig.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("regularization", "alpha", "learning_rate"):
            if getattr(self, name) <= 0:
                raise ValueError(f"PersonalizerConfig.{name} must be > 0, got {getattr(self, name)}")
        if not self.feedback_weights or any(w <= 0 for w in self.feedback_weights.values()):
            raise ValueError(f"PersonalizerConfig.feedback_weights must name positive weights, got {self.feedback_weights}")
        object.__setattr__(self, "item_types", tuple(self.item_types))


class UserContext(Protocol):
    """What a score is conditioned on: `eval.recommend.baselines.RecRequest` and `Context` both fit."""

    user: str | None
    history: tuple[str, ...]


@dataclass(frozen=True)
class Context:
    user: str | None = None
    """A user id the model may know."""
    history: tuple[str, ...] = ()
    """Item ids the user interacted with positively, oldest first (used when the user is unknown)."""


def interaction_matrix(events: Iterable[Mapping[str, Any]], cfg: PersonalizerConfig
                       ) -> tuple[list[str], list[str], Any, dict[str, int]]:  # fmt: skip
    """(users, items, users x items CSR of summed feedback weights, item -> positive interaction count) from event
    rows with `user_id`, `item_type`, `item_id`, `feedback`; ids sorted, so the matrix is the same for any row
    order."""
    from scipy.sparse import csr_matrix

    cells: dict[tuple[str, str], float] = {}
    counts: dict[str, int] = {}
    types = set(cfg.item_types)
    for e in events:
        w = cfg.feedback_weights.get(e["feedback"])
        if w is None or e["item_type"] not in types:
            continue
        key = (e["user_id"], e["item_id"])
        cells[key] = cells.get(key, 0.0) + w
        counts[e["item_id"]] = counts.get(e["item_id"], 0) + 1
    users = sorted({u for u, _ in cells})
    items = sorted({i for _, i in cells})
    uix, iix = {u: n for n, u in enumerate(users)}, {it: n for n, it in enumerate(items)}
    keys = sorted(cells)
    rows = np.fromiter((uix[u] for u, _ in keys), np.int32, len(keys))
    cols = np.fromiter((iix[i] for _, i in keys), np.int32, len(keys))
    vals = np.fromiter((cells[k] for k in keys), np.float32, len(keys))
    return users, items, csr_matrix((vals, (rows, cols)), shape=(len(users), len(items))), counts


class Personalizer:
    """A trained personalization model: user and item factors, their ids, item popularity, its config."""

    def __init__(self, cfg: PersonalizerConfig, users: Sequence[str], items: Sequence[str],
                 user_factors: np.ndarray, item_factors: np.ndarray, popularity: Mapping[str, int]):
        self.cfg = cfg
        self.users, self.items = list(users), list(items)
        self.user_factors = np.asarray(user_factors, np.float32)
        self.item_factors = np.asarray(item_factors, np.float32)
        self.popularity = dict(popularity)
        self.user_index = {u: n for n, u in enumerate(self.users)}
        self.item_index = {it: n for n, it in enumerate(self.items)}
        self._yty: np.ndarray | None = None
        self._order = np.argsort(np.asarray(self.items, dtype=object), kind="stable")  # ties by item id

    # ------------------------------------------------------------------ training
    @classmethod
    def fit(cls, events: Iterable[Mapping[str, Any]], cfg: PersonalizerConfig | None = None) -> Personalizer:
        cfg = cfg or PersonalizerConfig()
        users, items, ui, counts = interaction_matrix(events, cfg)
        if not users:
            raise ValueError(f"personalizer: no positive events on {cfg.item_types} "
                             f"(feedback {sorted(cfg.feedback_weights)}) to train on")  # fmt: skip
        import warnings

        from threadpoolctl import threadpool_limits

        # implicit's solvers run their own threads; a BLAS pool under them slows them down (implicit warns even
        # when some bundled BLAS, e.g. torch's, ignores the limit)
        with threadpool_limits(1, "blas"), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*configured to use", category=RuntimeWarning)
            model = cls._train(ui, cfg)
        return cls(cfg, users, items, model.user_factors, model.item_factors, counts)

    @staticmethod
    def _train(ui: Any, cfg: PersonalizerConfig) -> Any:
        if cfg.algorithm == "als":
            from implicit.cpu.als import AlternatingLeastSquares

            model = AlternatingLeastSquares(factors=cfg.factors, regularization=cfg.regularization,
                                            iterations=cfg.iterations, num_threads=cfg.threads,
                                            random_state=cfg.seed, calculate_training_loss=False)  # fmt: skip
            conf = ui.copy()
            conf.data = (1.0 + cfg.alpha * conf.data).astype(np.float32)
            model.fit(conf, show_progress=False)
        else:
            from implicit.cpu.bpr import BayesianPersonalizedRanking

            model = BayesianPersonalizedRanking(factors=cfg.factors, learning_rate=cfg.learning_rate,
                                                regularization=cfg.regularization, iterations=cfg.iterations,
                                                num_threads=cfg.threads, random_state=cfg.seed)  # fmt: skip
            model.fit(ui, show_progress=False)
        return model

    # ------------------------------------------------------------------ scoring
    def user_vector(self, context: UserContext) -> np.ndarray | None:
        """The context's user vector: the trained one, a fold-in of its history, or None (neither)."""
        if context.user is not None and context.user in self.user_index:
            return self.user_factors[self.user_index[context.user]]
        idx = sorted({self.item_index[it] for it in context.history if it in self.item_index})
        if not idx:
            return None
        y = self.item_factors[idx].astype(np.float64)
        if self.cfg.algorithm == "bpr":
            return y.mean(axis=0).astype(np.float32)
        # ALS fold-in: argmin_u sum_i c_i (1 - u.y_i)^2 + reg |u|^2 over all items (p = 0 off the history),
        # u = (Y'Y + Y_h'(C_h - I)Y_h + reg I)^-1 Y_h' c_h with c = 1 + alpha for a history item
        if self._yty is None:
            full = self.item_factors.astype(np.float64)
            self._yty = full.T @ full
        c = 1.0 + self.cfg.alpha
        a = self._yty + (c - 1.0) * (y.T @ y) + self.cfg.regularization * np.eye(y.shape[1])
        return np.linalg.solve(a, c * y.sum(axis=0)).astype(np.float32)

    def score(self, context: UserContext, items: Sequence[str]) -> np.ndarray:
        """Score of each item for the context (higher = more this user's taste; float64). Items the model never
        saw are NaN. Without a known user or history, log(1 + popularity)."""
        out = np.full(len(items), np.nan)
        known = [(n, self.item_index[it]) for n, it in enumerate(items) if it in self.item_index]
        if not known:
            return out
        pos, idx = (np.array(x) for x in zip(*known, strict=True))
        u = self.user_vector(context)
        if u is None:
            out[pos] = np.log1p([self.popularity.get(items[p], 0) for p in pos])
        else:
            out[pos] = self.item_factors[idx].astype(np.float64) @ u.astype(np.float64)
        return out

    def recommend(self, request: UserContext, k: int) -> list[str]:
        """The k best items not in the history, ties by item id: `eval.recommend`'s `Recommender` interface."""
        scores = self.score(request, self.items)
        seen = {self.item_index[it] for it in request.history if it in self.item_index}
        ranked = self._order[np.argsort(-scores[self._order], kind="stable")]
        out = []
        for i in ranked:
            if len(out) >= k:
                break
            if i not in seen:
                out.append(self.items[i])
        return out

    # ------------------------------------------------------------------ persistence
    def save(self, folder: str | Path) -> Path:
        """`factors.npz` + `model.json` (config, ids, popularity), written atomically."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / "factors.tmp.npz"
        np.savez(tmp, user_factors=self.user_factors, item_factors=self.item_factors)
        os.replace(tmp, folder / "factors.npz")
        meta = {"config": asdict(self.cfg), "users": self.users, "items": self.items,
                "popularity": [self.popularity.get(it, 0) for it in self.items]}  # fmt: skip
        tmpj = folder / "model.json.tmp"
        tmpj.write_text(json.dumps(meta, sort_keys=True), encoding="utf-8")
        os.replace(tmpj, folder / "model.json")
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> Personalizer:
        folder = Path(folder)
        if not (folder / "model.json").is_file():
            raise FileNotFoundError(f"{folder}: no model.json; train one with `python -m corpus.personalize train`")
        meta = json.loads((folder / "model.json").read_text(encoding="utf-8"))
        cfg = meta["config"]
        cfg = PersonalizerConfig(**{**cfg, "item_types": tuple(cfg["item_types"])})
        with np.load(folder / "factors.npz") as f:
            uf, itf = f["user_factors"], f["item_factors"]
        return cls(cfg, meta["users"], meta["items"], uf, itf, dict(zip(meta["items"], meta["popularity"], strict=True)))
