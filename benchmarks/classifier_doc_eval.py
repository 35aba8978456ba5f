"""Document-level evaluation of the music-domain classifier on the hand-labelled development set, and its speed.

    python -m benchmarks.classifier_doc_eval [--model DIR] [--folds 5]

The set is `corpus/classify/annotations/labels.jsonl` (real documents labelled music / mixed / other by reading
them; GUIDE.md there). The shipped model trained on those labels, so scoring them with it would be in-sample:
this benchmark cross-fits instead (`corpus/classify/crossfit.py`: each fold scored by a model trained without
it, with the shipped model's fastText settings, unquantized for speed) and compares, on the same out-of-fold
window scores and per source:

- `max@0.5`: the old document rule, the highest window score (threshold 0.5 on it);
- `document model`: the shipped decision (`meta.json` `scoring.document_model`: features, chosen again here by
  cross-validated log loss), cross-validated calibrated P(music) at 0.5;

and the mean soft weight (`select.domain` default) of music, mixed and other documents under each. Speed: the
shipped model scoring C4 pages (documents/s, one core) with its document model, with `max` aggregation, and with
the document model's window features only (the embedding head's cost).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "corpus" / "classify" / "models" / "music_domain"


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(MODEL))
    ap.add_argument("--folds", type=int, default=5)
    args = ap.parse_args(argv)
    from corpus.classify import DomainClassifier, ScoringConfig, WeightPolicy, score_to_weight
    from corpus.classify.annotations import report_group
    from corpus.classify.calibrate import document_report, fit_documents, prf
    from corpus.classify.crossfit import crossfit
    from corpus.classify.model import EMBEDDING_FEATURE, DocumentModel, TrainConfig, aggregate_scores
    from jobs.settings import shared_data_dir

    shared = shared_data_dir()
    if not shared.exists():
        print(f"[classifier-doc] skipped: {shared} not found")
        return {"classifier_doc": {"skipped": True}}
    meta = json.loads((Path(args.model) / "meta.json").read_text(encoding="utf-8"))
    t0 = time.perf_counter()
    docs = crossfit(shared, folds=args.folds, train=TrainConfig(**meta["train"]))
    secs = time.perf_counter() - t0
    fitted = fit_documents(docs)
    rep = document_report(docs, fitted, WeightPolicy())
    lab = np.array([d.doc.label for d in docs])
    grp = np.array([report_group(d.doc.source, d.doc.doc) for d in docs])
    keep, y = lab != "mixed", lab == "music"
    s_max = np.array([aggregate_scores(d.probs, d.lengths, "max") for d in docs])
    w_max = score_to_weight(s_max, WeightPolicy())
    counts = ", ".join(f"{c} {int((lab == c).sum())}" for c in ("music", "mixed", "other"))
    print(f"[classifier-doc] {len(docs)} labelled documents ({counts}); {args.folds}-fold cross-fitting in "
          f"{secs:.0f}s; document model {list(fitted.model.features)}")
    out: dict = {"documents": len(docs), "crossfit_seconds": round(secs, 1), "per_source": {},
                 "document_model": rep["document_model"], "log_loss": rep["log_loss"]}
    print(f"[classifier-doc] {'source':34s} {'max@0.5 P / R / F1':>22s}   {'document model P / R / F1':>26s}")
    for g in sorted(set(grp.tolist())):
        m = keep & (grp == g)
        old, new = prf(y[m], s_max[m] >= 0.5), rep["per_source"][g]
        out["per_source"][g] = {"max": old, "document_model": new}
        print(f"[classifier-doc] {g:34s} {old['precision']:6.3f} {old['recall']:6.3f} {old['f1']:6.3f}   "
              f"{new['precision']:8.3f} {new['recall']:6.3f} {new['f1']:6.3f}")
    mw = {c: float(w_max[lab == c].mean()) for c in ("music", "mixed", "other")}
    out["mean_weight"] = {"max": mw, "document_model": rep["mean_weight"]}
    print("[classifier-doc] mean soft weight music / mixed / other: max "
          f"{mw['music']:.3f} / {mw['mixed']:.3f} / {mw['other']:.3f}; document model "
          f"{rep['mean_weight']['music']:.3f} / {rep['mean_weight']['mixed']:.3f} / {rep['mean_weight']['other']:.3f}")

    # speed: the shipped model on real web pages, document model vs max aggregation
    pages = [json.loads(line)["text"] for line in open(shared / "web_crawl_samples" / "c4_en_train_first1000.jsonl",
                                                       encoding="utf-8")]
    shipped = DomainClassifier(args.model).setup()
    as_max = DomainClassifier(args.model, scoring=ScoringConfig(aggregate="max")).setup()
    variants = [("document_model", shipped), ("max", as_max)]
    dm = shipped.scoring.document_model
    if dm is not None and dm.uses_embedding:  # the cost of the embedding head: the same model without it
        keep = [i for i, f in enumerate(dm.features) if f != EMBEDDING_FEATURE]
        bare = DocumentModel(tuple(dm.features[i] for i in keep), tuple(dm.weights[i] for i in keep), dm.bias)
        variants.append(("without_embedding_head", DomainClassifier(
            args.model, scoring=dataclasses.replace(shipped.scoring, document_model=bare)).setup()))
    speed = {}
    for name, clf in variants:
        clf.score(pages[:50])
        t0 = time.perf_counter()
        clf.score(pages)
        speed[name] = len(pages) / (time.perf_counter() - t0)
    out["docs_per_second"] = {k: round(v) for k, v in speed.items()}
    print(f"[classifier-doc] speed on {len(pages)} C4 pages (one core): document model {speed['document_model']:.0f} "
          f"docs/s, max {speed['max']:.0f} docs/s (x{speed['document_model'] / speed['max']:.2f})"
          + (f", document model without the embedding head {speed['without_embedding_head']:.0f} docs/s"
             if "without_embedding_head" in speed else ""))
    return {"classifier_doc": out}


if __name__ == "__main__":
    main()
