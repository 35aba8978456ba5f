"""Measure the domain classifier: P/R/F1 of the music class, ROC-AUC, calibration, per-source breakdown.

`evaluate(model_dir, data_dir, out_dir)` scores the held-out test split (threshold chosen on valid),
writes `report.md` plus ROC / PR / reliability PNGs (matplotlib, Agg), and returns the report path.
`evaluate_on_demo` checks agreement with the demo generator's `_truth/domain_labels.parquet`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from corpus.classify.dataset import read_split
from corpus.classify.metrics import (
    best_f1_threshold,
    pr_curve,
    prf,
    reliability,
    roc_auc,
    roc_curve,
    threshold_for_precision,
)
from corpus.classify.model import DomainClassifier


def _plots(y: np.ndarray, s: np.ndarray, rel: list[dict[str, float]], out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = []
    fpr, tpr = roc_curve(y, s)
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.plot(fpr, tpr)
    ax.plot([0, 1], [0, 1], ls="--", c="grey")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title=f"ROC (AUC {roc_auc(y, s):.4f})")
    fig.tight_layout()
    fig.savefig(out / "roc.png", dpi=100)
    plt.close(fig)
    names.append("roc.png")
    rec, prec = pr_curve(y, s)
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.plot(rec, prec)
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall (music)", ylim=(0, 1.01))
    fig.tight_layout()
    fig.savefig(out / "pr.png", dpi=100)
    plt.close(fig)
    names.append("pr.png")
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.plot([0, 1], [0, 1], ls="--", c="grey")
    ax.plot([r["mean_score"] for r in rel], [r["frac_music"] for r in rel], marker="o")
    ax.set(xlabel="mean P(music)", ylabel="fraction music", title="Reliability")
    fig.tight_layout()
    fig.savefig(out / "reliability.png", dpi=100)
    plt.close(fig)
    names.append("reliability.png")
    return names


def _fmt(x: float) -> str:
    return "n/a" if x != x else f"{x:.4f}"


def evaluate(model_dir: str | Path, data_dir: str | Path, out_dir: str | Path, split: str = "test",
             threshold: float | None = None, plots: bool = True) -> Path:
    """Score `data_dir/<split>.jsonl`, write `out_dir/report.md` (+ metrics.json, PNGs); return report path."""
    clf = DomainClassifier.load(model_dir)
    data, out = Path(data_dir), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    valid = read_split(data / "valid.jsonl") if (data / "valid.jsonl").is_file() else []
    if threshold is None:
        if valid:
            yv = np.array([r["label"] == "music" for r in valid])
            threshold = best_f1_threshold(yv, clf.score([r["text"] for r in valid]))
        else:
            threshold = clf.threshold
    rows = read_split(data / f"{split}.jsonl")
    y = np.array([r["label"] == "music" for r in rows])
    t0 = time.perf_counter()
    s = clf.score([r["text"] for r in rows])
    secs = time.perf_counter() - t0
    overall = {**prf(y, s >= threshold), "roc_auc": roc_auc(y, s), "threshold": threshold}
    at_half = prf(y, s >= 0.5)
    rel, ece = reliability(y, s)
    overall["ece"] = ece
    p98 = threshold_for_precision(y, s, 0.98)
    per_source: dict[str, dict[str, Any]] = {}
    for src in sorted({r["source"] for r in rows}):
        m = np.array([r["source"] == src for r in rows])
        per_source[src] = {**prf(y[m], s[m] >= threshold), "roc_auc": roc_auc(y[m], s[m]),
                           "music_share": float(y[m].mean()), "mean_score": float(s[m].mean())}
    pngs = _plots(y, s, rel, out) if plots else []

    lines = [
        f"# Domain classifier evaluation ({split} split)",
        "",
        f"- model: `{model_dir}`; data: `{data_dir}`; rows: {len(rows)}; scored in {secs:.2f}s",
        f"- threshold {threshold:.4f} (max F1 on valid); precision >= 0.98 reached at threshold "
        f"{'n/a' if p98 is None else f'{p98:.4f}'}",
        "",
        "| metric | at chosen threshold | at 0.5 |",
        "|---|---|---|",
    ]
    for k in ("precision", "recall", "f1", "accuracy"):
        lines.append(f"| {k} (music) | {_fmt(overall[k])} | {_fmt(at_half[k])} |")
    lines += [f"| ROC-AUC | {_fmt(overall['roc_auc'])} | |", f"| ECE (10 bins) | {_fmt(ece)} | |", "",
              "## Per source", "", "| source | n | music share | precision | recall | F1 | accuracy | ROC-AUC | mean P |",
              "|---|---|---|---|---|---|---|---|---|"]
    for src, m in per_source.items():
        lines.append(f"| {src} | {m['n']} | {m['music_share']:.2f} | {_fmt(m['precision'])} | {_fmt(m['recall'])} | "
                     f"{_fmt(m['f1'])} | {_fmt(m['accuracy'])} | {_fmt(m['roc_auc'])} | {m['mean_score']:.3f} |")
    lines += ["", "Single-class sources: precision/recall/F1 are 0 or undefined there; read accuracy.", "",
              "## Calibration", "", "| bin | n | mean P(music) | fraction music |", "|---|---|---|---|"]
    for r in rel:
        lines.append(f"| {r['lo']:.1f}-{r['hi']:.1f} | {r['n']} | {r['mean_score']:.3f} | {r['frac_music']:.3f} |")
    lines += [""] + [f"![{p}]({p})" for p in pngs]
    report = out / "report.md"
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out / "metrics.json").write_text(json.dumps({"overall": overall, "at_0.5": at_half, "per_source": per_source,
                                                   "reliability": rel}, indent=2), encoding="utf-8")
    return report


def evaluate_on_demo(clf: DomainClassifier, sample_dir: str | Path, threshold: float | None = None) -> dict[str, Any]:
    """Agreement of scores with the demo generator's domain labels, overall and per language / kind."""
    import pyarrow.parquet as pq

    root = Path(sample_dir)
    labels = {r["source_id"]: r for r in pq.read_table(root / "_truth/domain_labels.parquet").to_pylist()}
    texts, truth = [], []
    for path in sorted((root / "documents").glob("*.jsonl")):
        with open(path, encoding="utf-8") as f:
            for line in f:
                d = json.loads(line)
                lab = labels.get(d.get("source_id"))
                if lab is not None:
                    texts.append(d.get("text", ""))
                    truth.append(lab)
    t = clf.threshold if threshold is None else threshold
    s = clf.score(texts)
    y = np.array([r["label"] == "music" for r in truth])
    res: dict[str, Any] = {"overall": {**prf(y, s >= t), "roc_auc": roc_auc(y, s), "threshold": t}}
    for key in ("lang", "kind"):
        for v in sorted({r[key] for r in truth}):
            m = np.array([r[key] == v for r in truth])
            res[f"{key}={v}"] = {**prf(y[m], s[m] >= t), "roc_auc": roc_auc(y[m], s[m])}
    return res
