"""Choose the document-level decision and calibrate it on the hand-labelled development set.

Input: cross-fitted window scores (`crossfit.py`; each document scored by a model that never saw it).
Each candidate is a `DocumentModel` feature set: one aggregate alone (`logit_max` etc.: Platt scaling of that
aggregate) or a few window-score statistics together (a small second-stage logistic model), with or without the
document-embedding head's logit (`embedding.py`; out-of-fold, from `crossfit.py`). Every candidate is
fitted fold by fold (on the other folds' documents, applied to this fold's), and the one with the lowest
cross-validated log loss wins: a proper scoring rule, so it rewards ranking and calibration together, not one
threshold's luck. The winner is then refitted on every document (its embedding head too, on every music and
other document) and stored in the model's `meta.json`.

`mixed` documents take no part in fitting (neither class); the report gives their mean score and weight.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from corpus.classify.annotations import report_group
from corpus.classify.crossfit import ScoredDocument
from corpus.classify.embedding import fit_embedding_head, fit_logistic
from corpus.classify.model import EMBEDDING_FEATURE, DocumentModel, document_feature
from corpus.classify.weighting import WeightPolicy, score_to_weight

TOP_SHARE = 0.1
"""`top_share` of the `top_share_mean` aggregate in every candidate (the mean of the top 10% of windows, at
least one); 0.1 had the lowest log loss of 0.1 / 0.25 / 0.5 as a single feature on the development set."""

# Candidate feature sets, single aggregates (Platt scaling) first.
CANDIDATES: tuple[tuple[str, ...], ...] = (
    ("logit_max",),
    ("logit_mean",),
    ("logit_length_weighted_mean",),
    ("logit_share_above",),
    ("logit_top_share_mean",),
    ("logit_top_share_mean", "logit_length_weighted_mean"),
    ("logit_top_share_mean", "music_terms_per_kchar"),
    ("logit_top_share_mean", "music_terms_per_kchar", "log_windows"),
    ("logit_top_share_mean", "logit_length_weighted_mean", "music_terms_per_kchar", "log_windows"),
    ("logit_max", "logit_top_share_mean", "logit_length_weighted_mean", "music_terms_per_kchar", "log_windows"),
    (EMBEDDING_FEATURE,),
    ("logit_top_share_mean", EMBEDDING_FEATURE),
    ("logit_top_share_mean", "log_windows", EMBEDDING_FEATURE),
    ("logit_top_share_mean", "music_terms_per_kchar", EMBEDDING_FEATURE),
    ("logit_top_share_mean", "music_terms_per_kchar", "log_windows", EMBEDDING_FEATURE),
)


def log_loss(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def prf(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    tp, fp, fn = int((pred & y).sum()), int((pred & ~y).sum()), int((~pred & y).sum())
    p = tp / (tp + fp) if tp + fp else float("nan")
    r = tp / (tp + fn) if tp + fn else float("nan")
    f = 2 * p * r / (p + r) if tp else 0.0
    return {"precision": p, "recall": r, "f1": f, "tp": tp, "fp": fp, "fn": fn}


def reliability_bins(p: np.ndarray, y: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    edges = np.linspace(0, 1, bins + 1)
    out = []
    for i in range(bins):
        m = (p >= edges[i]) & ((p < edges[i + 1]) if i < bins - 1 else (p <= 1.0))
        if m.any():
            out.append({"lo": float(edges[i]), "hi": float(edges[i + 1]), "n": int(m.sum()),
                        "mean_p": float(p[m].mean()), "frac_music": float(y[m].mean())})
    return out


@dataclass
class DocumentFit:
    """The chosen document model and its cross-validated document-level figures."""

    model: DocumentModel
    top_share: float
    threshold: float
    cv_probs: np.ndarray  # cross-validated P(music) per document (label order)
    candidates: list[dict[str, Any]] = field(default_factory=list)


def feature_matrix(docs: list[ScoredDocument], features: tuple[str, ...], top_share: float = TOP_SHARE) -> np.ndarray:
    rows = [[document_feature(f, d.probs, d.lengths, list(d.windows), top_share, embedding_logit=d.embedding_logit)
             for f in features] for d in docs]  # fmt: skip
    return np.array(rows, np.float64)


def fit_documents(docs: list[ScoredDocument], candidates: tuple[tuple[str, ...], ...] = CANDIDATES,
                  threshold: float = 0.5, top_share: float = TOP_SHARE) -> DocumentFit:
    """Pick the feature set by cross-validated log loss; refit it on all non-mixed documents. Candidates with the
    embedding head's logit take part only when every document has one (`crossfit` gives them)."""
    lab = np.array([d.doc.label for d in docs])
    y = (lab == "music").astype(np.float64)
    fit = lab != "mixed"
    folds = np.array([d.fold for d in docs])
    rows = []
    best: tuple[float, tuple[str, ...], np.ndarray, np.ndarray] | None = None
    if any(d.embedding_logit is None for d in docs):
        candidates = tuple(c for c in candidates if EMBEDDING_FEATURE not in c)
    # every feature once per document (the lexicon feature scans each window), then columns per candidate
    names = list(dict.fromkeys(f for feats in candidates for f in feats))
    table = feature_matrix(docs, tuple(names), top_share)
    for feats in candidates:
        X = table[:, [names.index(f) for f in feats]]
        cv = np.zeros(len(docs))
        for k in np.unique(folds):
            train = fit & (folds != k)
            w, b = fit_logistic(X[train], y[train])
            cv[folds == k] = DocumentModel(feats, tuple(w), b)(X[folds == k])
        ll = log_loss(cv[fit], y[fit])
        rows.append({"features": list(feats), "cv_log_loss": ll,
                     "cv_f1": prf(y[fit] > 0, cv[fit] >= threshold)["f1"]})
        if best is None or ll < best[0] - 1e-12:
            best = (ll, feats, X, cv)
    assert best is not None
    _, feats, X, cv = best
    w, b = fit_logistic(X[fit], y[fit])
    head = None
    if EMBEDDING_FEATURE in feats:  # the shipped head: fitted on every music and other document
        head = fit_embedding_head(np.stack([d.embedding for d in docs])[fit], y[fit] > 0)
    return DocumentFit(DocumentModel(feats, tuple(w), b, embedding_head=head), top_share, threshold, cv, rows)


def document_report(docs: list[ScoredDocument], fitted: DocumentFit, policy: WeightPolicy) -> dict[str, Any]:
    """Per-source P/R/F1 at the threshold, reliability bins, and mean score and weight per label (cross-validated)."""
    lab = np.array([d.doc.label for d in docs])
    src = np.array([report_group(d.doc.source, d.doc.doc) for d in docs])
    p = fitted.cv_probs
    y = lab == "music"
    fit = lab != "mixed"
    w = score_to_weight(p, policy)
    per_source = {}
    for s in sorted(set(src.tolist())):
        m = fit & (src == s)
        per_source[s] = {**prf(y[m], p[m] >= fitted.threshold), "n": int((src == s).sum()),
                         "music": int((y & (src == s)).sum()), "mixed": int(((lab == "mixed") & (src == s)).sum())}
    return {
        "document_model": {"features": list(fitted.model.features), "weights": list(fitted.model.weights),
                           "bias": fitted.model.bias},
        "top_share": fitted.top_share,
        "threshold": fitted.threshold,
        "pooled": prf(y[fit], p[fit] >= fitted.threshold),
        "log_loss": log_loss(p[fit], y[fit].astype(float)),
        "per_source": per_source,
        "reliability": reliability_bins(p[fit], y[fit].astype(float)),
        "mean_score": {c: float(p[lab == c].mean()) for c in ("music", "mixed", "other")},
        "mean_weight": {c: float(w[lab == c].mean()) for c in ("music", "mixed", "other")},
        "candidates": fitted.candidates,
    }


def _fmt(x: float) -> str:
    return "n/a" if x != x else f"{x:.3f}"


def _reliability_png(rel: list[dict[str, float]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 4))
    ax.plot([0, 1], [0, 1], ls="--", c="grey")
    ax.plot([r["mean_p"] for r in rel], [r["frac_music"] for r in rel], marker="o")
    for r in rel:
        ax.annotate(str(r["n"]), (r["mean_p"], r["frac_music"]), fontsize=7, xytext=(3, -9), textcoords="offset points")
    ax.set(xlabel="mean P(music), cross-validated", ylabel="fraction labelled music",
           title="Document-level reliability", xlim=(0, 1), ylim=(0, 1.02))
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def write_report(rep: dict[str, Any], out_dir: Path, header: list[str]) -> Path:
    """`report.md`, `reliability.png` and `document_metrics.json` in `out_dir` from a `document_report`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    _reliability_png(rep["reliability"], out_dir / "reliability.png")
    (out_dir / "document_metrics.json").write_text(json.dumps(rep, indent=2, default=float), encoding="utf-8")
    dm = rep["document_model"]
    terms = " ".join(f"{w:+.3f}·{f}" for f, w in zip(dm["features"], dm["weights"], strict=True))
    lines = [*header, "",
             "## Document-level figures (cross-validated on the hand-labelled development set)", "",
             f"Decision: P(music) = sigmoid({dm['bias']:+.3f} {terms}), threshold {rep['threshold']} for a hard "
             f"label; `top_share_mean` = mean of the top {rep['top_share']:.0%} of windows. Pooled: precision "
             f"{_fmt(rep['pooled']['precision'])}, recall {_fmt(rep['pooled']['recall'])}, F1 "
             f"{_fmt(rep['pooled']['f1'])}; log loss {rep['log_loss']:.4f}.", "",
             "| source | documents | music | mixed | precision | recall | F1 | TP | FP | FN |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s, m in rep["per_source"].items():
        lines.append(f"| `{s}` | {m['n']} | {m['music']} | {m['mixed']} | {_fmt(m['precision'])} | "
                     f"{_fmt(m['recall'])} | {_fmt(m['f1'])} | {m['tp']} | {m['fp']} | {m['fn']} |")
    ms, mw = rep["mean_score"], rep["mean_weight"]
    lines += ["", "`mixed` documents are left out of precision, recall and F1 (neither class).", "",
              "| label | mean P(music) | mean soft weight (`select.domain` default) |", "|---|---:|---:|"]
    lines += [f"| {c} | {ms[c]:.3f} | {mw[c]:.3f} |" for c in ("music", "mixed", "other")]
    lines += ["", "### Reliability (documents, cross-validated)", "",
              "| P(music) bin | documents | mean P(music) | fraction labelled music |", "|---|---:|---:|---:|"]
    lines += [f"| {r['lo']:.1f}-{r['hi']:.1f} | {r['n']} | {r['mean_p']:.3f} | {r['frac_music']:.3f} |"
              for r in rep["reliability"]]
    lines += ["", "![reliability](reliability.png)", "", "### Candidates (chosen by cross-validated log loss)", "",
              "| features | log loss | F1 at 0.5 |", "|---|---:|---:|"]
    lines += [f"| {' + '.join(c['features'])} | {c['cv_log_loss']:.4f} | {c['cv_f1']:.3f} |" for c in rep["candidates"]]
    report = out_dir / "report.md"
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return report


def calibrate_model(model_dir: str | Path, shared: str | Path, data_dir: str | Path | None = None,
                    folds: int = 5, policy: WeightPolicy | None = None,
                    report_dir: str | Path | None = None) -> dict[str, Any]:
    """Cross-fit, choose and fit the document model, store it in `model_dir/meta.json`, write the report there.

    The training-set configuration is read from `data_dir/stats.json` when given (the one the model was
    trained on), the fastText hyperparameters and quantization from the model's own `meta.json`, so each fold's
    model is built exactly like the shipped one minus that fold's documents.
    """
    from corpus.classify.crossfit import crossfit
    from corpus.classify.dataset import BuildConfig
    from corpus.classify.model import TrainConfig

    model_dir = Path(model_dir)
    meta_path = model_dir / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    stats_path = Path(data_dir) / "stats.json" if data_dir else None
    build = (BuildConfig.from_dict(json.loads(stats_path.read_text(encoding="utf-8"))["config"])
             if stats_path and stats_path.is_file() else BuildConfig())
    train = TrainConfig(**meta["train"])
    cutoff = (meta.get("quantized") or {}).get("cutoff")
    docs = crossfit(Path(shared), folds=folds, build=build, train=train, quantize=cutoff)
    fitted = fit_documents(docs)
    rep = document_report(docs, fitted, policy or WeightPolicy())
    scoring = dict(meta.get("scoring") or {})
    head = fitted.model.embedding_head
    scoring.update(top_share=fitted.top_share, document_model={
        "features": list(fitted.model.features), "weights": list(fitted.model.weights),
        "bias": fitted.model.bias, "eps": fitted.model.eps,
        "embedding_head": {**asdict(head), "weights": list(head.weights)} if head else None})
    meta.update(scoring=scoring, threshold=fitted.threshold,
                document_calibration={"folds": folds, "documents": len(docs), "build": asdict(build),
                                      "cv_log_loss": rep["log_loss"]})
    tmp = meta_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(meta, indent=2), encoding="utf-8")
    tmp.replace(meta_path)
    rep["folds"] = folds
    stats = json.loads(stats_path.read_text(encoding="utf-8")) if stats_path and stats_path.is_file() else None
    write_report(rep, Path(report_dir) if report_dir else model_dir, _header(meta, stats, len(docs), folds))
    return rep


def _header(meta: dict[str, Any], stats: dict[str, Any] | None, n_docs: int, folds: int) -> list[str]:
    lines = [
        "# Music-domain classifier: model card",
        "",
        "A fastText model scores ~300-character paragraph windows of a document; a small logistic document model",
        "turns statistics of those window scores, the density of music-lexicon terms and (when chosen) the logit of",
        "a document-embedding head (a linear model on the page's WordLlama embedding, trained on the hand labels,",
        "FineWeb-Edu style) into P(music) for the whole document. `DomainClassifier.score` returns that",
        "probability; `select.domain` maps it to a weight.",
        "",
        "## How the labels were made",
        "",
        "- **Window model training set** (`music-corpus classifier build-data`): short real items (MusicCaps",
        "  captions, music trivia, Reddit music requests, ZIQI-Eval questions; non-music trivia, an item naming a",
        "  music term dropped) and whole real documents labelled once each and cut into scoring windows: by hand",
        "  label where one exists (`corpus/classify/annotations/labels.jsonl`, GUIDE.md there; `mixed` left out),",
        "  else by source category (BBC business/politics/sport and THUCNews non-entertainment headlines: other;",
        "  MuChin descriptions and NetEase song comments: music), else by a document-level lexicon rule that",
        "  abstains on pages with a music paragraph but no music majority. C4 validation and OpenWebText are never",
        "  read (evaluation-only). Classes are balanced per language.",
        f"- **Document figures below** are cross-fitted: the {n_docs} hand-labelled documents are split into {folds}",
        "  folds; each fold is scored by a model trained (and quantized) exactly like this one without that fold's",
        "  documents, and the document model is fitted and chosen on the other folds' scores; the embedding head",
        "  likewise (each fold's logits from a head fitted on the other folds' music and other documents). The",
        "  shipped models trained on every label, so scoring these documents with them would be in-sample; these",
        "  figures are not.",
        f"- fastText: {json.dumps(meta.get('train', {}))}; quantized: {json.dumps(meta.get('quantized'))}; text "
        f"preparation: {json.dumps(meta.get('prep', {}))} (`cjk_punct: drop`: punctuation next to Chinese text is "
        "removed; the Chinese non-music training text has none, so it had become music evidence).",
    ]
    if stats:
        sp = stats.get("splits", {})
        lines.append(f"- training windows and items per split: {json.dumps(sp)}; label-noise handling: "
                     f"{json.dumps(stats.get('leaks', {}))}.")
    return lines
