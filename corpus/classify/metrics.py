"""Metrics of a binary (music vs other) classifier as plain functions of labels `y` and scores `s`: P/R/F1,
ROC-AUC and curves, threshold choice, calibration. Used by `evaluate` and by `model.train_classifier`.
"""

from __future__ import annotations

import numpy as np


def prf(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    y, pred = np.asarray(y, bool), np.asarray(pred, bool)
    tp = int((y & pred).sum())
    fp = int((~y & pred).sum())
    fn = int((y & ~pred).sum())
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    acc = float((y == pred).mean()) if len(y) else 0.0
    return {"precision": p, "recall": r, "f1": f1, "accuracy": acc, "n": int(len(y)), "tp": tp, "fp": fp, "fn": fn}


def roc_auc(y: np.ndarray, s: np.ndarray) -> float:
    """Mann-Whitney AUC with average ranks for ties; NaN when only one class is present."""
    y, s = np.asarray(y, bool), np.asarray(s, np.float64)
    npos, nneg = int(y.sum()), int((~y).sum())
    if npos == 0 or nneg == 0:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), np.float64)
    sorted_s = s[order]
    _, first, counts = np.unique(sorted_s, return_index=True, return_counts=True)
    avg = first + (counts - 1) / 2.0 + 1.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[y].sum() - npos * (npos + 1) / 2.0) / (npos * nneg))


def roc_curve(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, bool)
    order = np.argsort(-np.asarray(s), kind="mergesort")
    tps, fps = np.cumsum(y[order]), np.cumsum(~y[order])
    return np.r_[0, fps / max(1, (~y).sum())], np.r_[0, tps / max(1, y.sum())]


def pr_curve(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, bool)
    order = np.argsort(-np.asarray(s), kind="mergesort")
    tps = np.cumsum(y[order])
    k = np.arange(1, len(y) + 1)
    return tps / max(1, y.sum()), tps / k


def best_f1_threshold(y: np.ndarray, s: np.ndarray) -> float:
    """Threshold maximising F1 of the music class (ties: the smallest such threshold)."""
    cands = np.unique(np.r_[np.round(np.asarray(s), 4), 0.5])
    best_t, best_f = 0.5, -1.0
    for t in cands:
        f = prf(y, s >= t)["f1"]
        if f > best_f + 1e-12:
            best_t, best_f = float(t), f
    return best_t


def threshold_for_precision(y: np.ndarray, s: np.ndarray, target: float = 0.98) -> float | None:
    """Smallest threshold whose music precision reaches `target` (None if never)."""
    for t in np.unique(np.asarray(s)):
        if prf(y, s >= t)["precision"] >= target:
            return float(t)
    return None


def reliability(y: np.ndarray, s: np.ndarray, bins: int = 10) -> tuple[list[dict[str, float]], float]:
    """Per-bin mean score vs fraction music, and expected calibration error."""
    y, s = np.asarray(y, float), np.asarray(s, float)
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(s, edges[1:-1]), 0, bins - 1)
    rows, ece = [], 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            conf, acc = float(s[m].mean()), float(y[m].mean())
            ece += m.mean() * abs(conf - acc)
            rows.append({"lo": edges[b], "hi": edges[b + 1], "n": int(m.sum()), "mean_score": conf, "frac_music": acc})
    return rows, float(ece)
