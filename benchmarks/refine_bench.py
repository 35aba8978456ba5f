"""Refine-stage throughput on ~2 KB documents: PII masking, domain scoring, cleaning (one core).

All three ops run on the SAME documents, built once per run:

* real web text (C4 / OpenWebText from `web_crawl_samples` in the shared data), cut into ~2 KB windows
  at whitespace;
* the `tiny` demo sample (documents, and comments packed into ~2 KB threads), which carries planted
  PII whose offsets (`_truth/pii.parquet`) are remapped into the windows; demo documents longer than
  a window are windowed too, never cutting through a planted span.

The two kinds are interleaved. Figures:

1. PII: `PiiMasker.mask` vs vanilla Presidio `AnalyzerEngine.analyze` with the same recognizers
   (`build_analyzer`) vs datatrove's `PIIFormatter` run as a pipeline step over datatrove Documents.
   Speed (docs/s, ms/doc, ratios) and recall on the planted spans: a planted span counts as found
   when a detected span overlaps it. PIIFormatter only rewrites text, so its spans come from running
   its own two regexes + validator (`emails_replacer`, `ip_replacer`) with `finditer` over the
   original text, which is exactly what its `re.sub` replaces (IPs are looked up in the original text
   rather than the e-mail-replaced one; it only matters for an IP inside an e-mail address).
   Then quality on the hand-written community texts (`tests/corpus/pii/fixtures/community_texts.jsonl`):
   recall per type (a span counts only when fully covered), look-alikes damaged, texts with a leak,
   for ours (allow-list and official names from the fixture's catalog) and for PIIFormatter.
2. `DomainClassifier.score` in batches (model trained from the shared data, cached under bench_out).
3. `DocumentCleaner.clean` vs datatrove GopherQualityFilter + GopherRepetitionFilter + C4QualityFilter
   (`filter(doc)` on fresh datatrove Documents, since C4QualityFilter rewrites `doc.text`).

Each op is warmed up once on a few documents, then timed with `time.perf_counter` over all of them,
with the process pinned to one core.

    python -m benchmarks.refine_bench [--web-docs 900] [--shared /path/to/shared/data]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WINDOW = 2048  # target characters per document
WEB_FILES = ("c4_en_validation_2k.jsonl", "openwebtext_1000.jsonl", "c4_en_train_first1000.jsonl")
WARMUP_DOCS = 16
COMMUNITY_TEXTS = ROOT / "tests" / "corpus" / "pii" / "fixtures" / "community_texts.jsonl"


# ----------------------------------------------------------------------------------------- inputs

def pin_one_core() -> str:
    """Pin this process to one CPU (the first allowed one) and keep BLAS / OpenMP single-threaded."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    if hasattr(os, "sched_setaffinity"):
        try:
            cpu = min(os.sched_getaffinity(0))
            os.sched_setaffinity(0, {cpu})
            return f"pinned to cpu {cpu}"
        except OSError as e:  # pragma: no cover - containers without the permission
            return f"not pinned ({e})"
    return "not pinned (no sched_setaffinity)"


def window_cuts(text: str, size: int = WINDOW, protect: Sequence[tuple[int, int]] = ()) -> list[tuple[int, int]]:
    """Cut `text` into windows of about `size` chars at whitespace, never inside a `protect` span."""
    cuts = []
    pos, n = 0, len(text)
    while pos < n:
        if n - pos <= size * 1.25:  # a short tail joins the last window
            cuts.append((pos, n))
            break
        end = pos + size
        ws = max(text.rfind("\n", pos + size // 2, end), text.rfind(" ", pos + size // 2, end))
        end = ws + 1 if ws > pos else end
        for s, e in protect:
            if s < end < e:
                end = s
        if end <= pos:
            end = pos + size
        cuts.append((pos, end))
        pos = end
    return cuts


def ensure_demo(out: Path) -> Path:
    """The `tiny` demo sample (generated once, reused while its config is unchanged)."""
    from corpus.sample import SampleConfig, generate_sample

    cfg = SampleConfig.preset("tiny")
    marker = out / "_sample.json"
    want = json.loads(json.dumps(cfg.__dict__))
    if marker.exists() and json.loads(marker.read_text()).get("config") == want:
        return out
    shutil.rmtree(out, ignore_errors=True)
    generate_sample(cfg, out)
    return out


def _jsonl(folder: Path) -> list[dict[str, Any]]:
    rows = []
    for f in sorted(folder.glob("*.jsonl")):
        with open(f, encoding="utf-8") as fh:
            rows.extend(json.loads(line) for line in fh if line.strip())
    return rows


def demo_docs(sample: Path) -> tuple[list[str], list[list[tuple[int, int, str]]]]:
    """Demo documents (windowed) and comments (packed into threads) with their planted PII spans."""
    import pyarrow.parquet as pq

    truth: dict[tuple[str, str], list[tuple[int, int, str]]] = {}
    for r in pq.read_table(sample / "_truth" / "pii.parquet").to_pylist():
        if r["field"] == "text":
            truth.setdefault((r["dataset"], r["source_id"]), []).append((r["start"], r["end"], r["pii_type"]))
    texts: list[str] = []
    spans: list[list[tuple[int, int, str]]] = []
    for row in _jsonl(sample / "documents"):
        text, planted = row["text"] or "", sorted(truth.get(("documents", row["source_id"]), []))
        for a, b in window_cuts(text, protect=[(s, e) for s, e, _ in planted]):
            texts.append(text[a:b])
            spans.append([(s - a, e - a, t) for s, e, t in planted if a <= s and e <= b])
    buf: list[str] = []
    buf_spans: list[tuple[int, int, str]] = []
    size = 0
    for row in _jsonl(sample / "comments"):
        text = row["text"] or ""
        buf_spans.extend((s + size, e + size, t) for s, e, t in truth.get(("comments", row["source_id"]), []))
        buf.append(text)
        size += len(text) + 1
        if size >= WINDOW:
            texts.append("\n".join(buf))
            spans.append(buf_spans)
            buf, buf_spans, size = [], [], 0
    if buf:
        texts.append("\n".join(buf))
        spans.append(buf_spans)
    for t, sp in zip(texts, spans, strict=True):  # offsets must still point at the planted values
        assert all(0 <= s < e <= len(t) for s, e, _ in sp), "planted span out of its window"
    return texts, spans


def web_docs(shared: Path, n: int) -> list[str]:
    """`n` windows of about WINDOW chars of real web text (C4 / OpenWebText), round-robin over files."""
    per_file: list[list[str]] = []
    for name in WEB_FILES:
        f = shared / "web_crawl_samples" / name
        if not f.is_file():
            continue
        wins: list[str] = []
        with open(f, encoding="utf-8") as fh:
            for line in fh:
                text = json.loads(line).get("text") or ""
                for a, b in window_cuts(text)[:2]:  # at most two windows per page
                    if b - a >= WINDOW // 2:
                        wins.append(text[a:b])
                if len(wins) >= n:
                    break
        per_file.append(wins)
    out: list[str] = []
    i = 0
    while len(out) < n and any(i < len(w) for w in per_file):
        out.extend(w[i] for w in per_file if i < len(w))
        i += 1
    return out[:n]


def build_docs(shared: Path, sample: Path, n_web: int) -> tuple[list[str], list[list[tuple[int, int, str]]], list[str]]:
    """Interleave web windows and demo documents; returns texts, planted spans per doc and kind per doc."""
    d_texts, d_spans = demo_docs(sample)
    w_texts = web_docs(shared, n_web)
    texts, spans, kinds = [], [], []
    i = j = 0
    while i < len(d_texts) or j < len(w_texts):
        # keep the mix even along the list whatever the two sizes are
        if j >= len(w_texts) or (i < len(d_texts) and i * len(w_texts) <= j * len(d_texts)):
            texts.append(d_texts[i]); spans.append(d_spans[i]); kinds.append("demo"); i += 1  # noqa: E702
        else:
            texts.append(w_texts[j]); spans.append([]); kinds.append("web"); j += 1  # noqa: E702
    return texts, spans, kinds


# ----------------------------------------------------------------------------------------- timing

def timed(fn: Callable[[Sequence[Any]], Any], items: Sequence[Any], warm: Sequence[Any]) -> tuple[float, Any]:
    fn(warm)
    t0 = time.perf_counter()
    out = fn(items)
    return time.perf_counter() - t0, out


def speed(n: int, seconds: float, nbytes: int) -> dict[str, float]:
    return {"docs": n, "seconds": round(seconds, 4), "docs_per_s": n / seconds, "ms_per_doc": 1e3 * seconds / n,
            "mb_per_s": nbytes / 1e6 / seconds}


def recall(planted: list[list[tuple[int, int, str]]], found: list[list[tuple[int, int]]]) -> dict[str, Any]:
    hit: Counter[str] = Counter()
    tot: Counter[str] = Counter()
    for p, f in zip(planted, found, strict=True):
        for s, e, t in p:
            tot[t] += 1
            if any(fs < e and s < fe for fs, fe in f):
                hit[t] += 1
    n = sum(tot.values())
    return {"recall": sum(hit.values()) / n if n else None, "found": sum(hit.values()), "planted": n,
            "by_type": {t: round(hit[t] / tot[t], 3) for t in sorted(tot)}}


# ----------------------------------------------------------------------------------------- sections

def bench_pii(texts: list[str], planted: list[list[tuple[int, int, str]]], kinds: list[str], nbytes: int) -> dict:
    from datatrove.data import Document
    from datatrove.pipeline.formatters import PIIFormatter

    from corpus.pii import PiiConfig, PiiMasker
    from corpus.pii.presidio_engine import build_analyzer

    warm = texts[:WARMUP_DOCS]
    masker = PiiMasker(PiiConfig()).setup()
    analyzer = build_analyzer(masker.specs)
    entities = sorted({s.entity for s in masker.specs})
    fmt = PIIFormatter()

    t_ours, ours = timed(lambda ts: [masker.mask(t) for t in ts], texts, warm)
    t_pres, pres = timed(lambda ts: [analyzer.analyze(text=t, language="en", entities=entities) for t in ts],
                         texts, warm)
    # datatrove: fresh Documents each pass (the step rewrites doc.text), run as a pipeline step
    dt_docs = [Document(text=t, id=str(i)) for i, t in enumerate(texts)]
    dt_warm = [Document(text=t, id=f"w{i}") for i, t in enumerate(warm)]
    fmt_run = lambda ds: list(fmt.run(iter(ds)))  # noqa: E731
    fmt_run(dt_warm)
    t0 = time.perf_counter()
    fmt_run(dt_docs)
    t_fmt = time.perf_counter() - t0

    def fmt_spans(t: str) -> list[tuple[int, int]]:
        out = []
        for rep in (fmt.emails_replacer, fmt.ip_replacer):
            out.extend(m.span() for m in rep.regex.finditer(t) if not rep.validator or rep.validator(m.group(0)))
        return out

    found = {
        "ours": [[(s.start, s.end) for s in r.spans] for r in ours],
        "presidio": [[(r.start, r.end) for r in rs] for rs in pres],
        "datatrove_pii": [fmt_spans(t) for t in texts],
    }
    res: dict[str, Any] = {}
    for name, secs in (("ours", t_ours), ("presidio", t_pres), ("datatrove_pii", t_fmt)):
        res[name] = speed(len(texts), secs, nbytes)
        res[name].update(recall(planted, found[name]))
        res[name]["spans_on_web_windows"] = sum(len(f) for f, k in zip(found[name], kinds, strict=True) if k == "web")
    res["speedup_vs_presidio"] = t_pres / t_ours
    res["speedup_vs_datatrove_pii"] = t_fmt / t_ours
    res["recall_note"] = ("planted span found if any detected span overlaps it; datatrove PIIFormatter spans from "
                          "finditer of its own email/IP regexes + validator on the original text")
    res["community"] = community_quality(fmt_spans)
    return res


def community_quality(fmt_spans: Callable[[str], list[tuple[int, int]]]) -> dict[str, Any]:
    """Ours and PIIFormatter on the hand-written community texts (all, and the held-out split alone)."""
    from corpus.pii import PiiConfig, PiiMasker, Span
    from corpus.pii.evaluate import evaluate, load_labelled

    texts = load_labelled(COMMUNITY_TEXTS)
    catalog = tuple(sorted({n for t in texts for n in t.catalog}))
    masker = PiiMasker(PiiConfig(allow_list=catalog, official_names=catalog)).setup()
    formatter = lambda t: [Span(a, b, "PII") for a, b in fmt_spans(t)]  # noqa: E731
    holdout = [t for t in texts if t.split == "holdout"]
    return {"ours": evaluate(masker.analyze, texts).summary(), "ours_holdout": evaluate(masker.analyze, holdout).summary(),
            "datatrove_pii": evaluate(formatter, texts).summary()}


def ensure_classifier(shared: Path, out: Path) -> tuple[Any, float | None]:
    """The model `make corpus` uses: the quantized one shipped in the package (no training here)."""
    from corpus.classify.model import DomainClassifier
    from jobs.stages.refine import DEFAULT_MODEL

    return DomainClassifier(DEFAULT_MODEL).setup(), None


def bench_classify(texts: list[str], shared: Path, out: Path, nbytes: int, batch: int) -> dict:
    clf, build_s = ensure_classifier(shared, out)

    def run(ts: Sequence[str]) -> list[float]:
        scores: list[float] = []
        for k in range(0, len(ts), batch):
            scores.extend(clf.score(list(ts[k : k + batch])).tolist())
        return scores

    secs, scores = timed(run, texts, texts[:WARMUP_DOCS])
    res = speed(len(texts), secs, nbytes)
    res.update(batch=batch, model_build_s=None if build_s is None else round(build_s, 1),
               model_cached=build_s is None, mean_score=sum(scores) / len(scores),
               threshold=clf.threshold, above_threshold=sum(s >= clf.threshold for s in scores))
    return res


def bench_clean(texts: list[str], nbytes: int) -> dict:
    from datatrove.data import Document
    from datatrove.pipeline.filters import C4QualityFilter, GopherQualityFilter, GopherRepetitionFilter

    from corpus.clean import CleanConfig, DocumentCleaner

    cleaner = DocumentCleaner(CleanConfig())
    cleaner.setup()
    t_ours, _ = timed(lambda ts: [cleaner.clean(t) for t in ts], texts, texts[:WARMUP_DOCS])

    filters = [GopherQualityFilter(), GopherRepetitionFilter(), C4QualityFilter()]

    def dt(docs: Sequence[Any]) -> list[tuple[bool, ...]]:
        # every filter judges every document (no short-circuit), as the signals ours computes all at once
        return [tuple(bool(f.filter(d) is True) for f in filters) for d in docs]

    def fresh(ts: Sequence[str]) -> list[Any]:
        return [Document(text=t, id=str(i)) for i, t in enumerate(ts)]

    dt(fresh(texts[:WARMUP_DOCS]))
    docs = fresh(texts)
    t0 = time.perf_counter()
    verdicts = dt(docs)
    t_dt = time.perf_counter() - t0
    res = {"ours": speed(len(texts), t_ours, nbytes), "datatrove_filters": speed(len(texts), t_dt, nbytes)}
    res["datatrove_filters"]["kept_by_all"] = sum(all(v) for v in verdicts)
    res["datatrove_filters"]["filters"] = [type(f).__name__ for f in filters]
    res["speedup_vs_datatrove"] = t_dt / t_ours
    return res


# ----------------------------------------------------------------------------------------- main

def _row(label: str, r: dict, extra: str = "") -> str:
    return (f"[refine]   {label:<30} {r['docs_per_s']:>9,.0f} docs/s {r['ms_per_doc']:>8.3f} ms/doc "
            f"{r['mb_per_s']:>7.2f} MB/s{extra}")


def main(argv: list[str] | None = None) -> dict:
    from corpus.classify.dataset import default_shared_data

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shared", type=Path, default=None, help="shared data folder (default $MUSIC_SHARED_DATA)")
    p.add_argument("--web-docs", type=int, default=900, help="number of ~2 KB web windows")
    p.add_argument("--batch", type=int, default=512, help="classifier scoring batch size")
    p.add_argument("--out", type=Path, default=ROOT / "bench_out" / "refine")
    args = p.parse_args(argv)
    shared = args.shared or default_shared_data()
    if not (shared / "web_crawl_samples").is_dir():
        print(f"[refine] skipped: shared data folder {shared} (web_crawl_samples) not found; set MUSIC_SHARED_DATA")
        return {"refine": {"skipped": f"no shared data at {shared}"}}
    args.out.mkdir(parents=True, exist_ok=True)
    pinned = pin_one_core()
    t_start = time.perf_counter()

    sample = ensure_demo(args.out / "sample-tiny")
    texts, planted, kinds = build_docs(shared, sample, args.web_docs)
    nbytes = sum(len(t.encode("utf-8")) for t in texts)
    n_demo = kinds.count("demo")
    docs_info = {"docs": len(texts), "web": len(texts) - n_demo, "demo": n_demo,
                 "mean_chars": sum(map(len, texts)) / len(texts), "mb": nbytes / 1e6,
                 "planted_pii": sum(map(len, planted))}
    print(f"[refine] {docs_info['docs']:,} docs ({docs_info['web']} web windows + {n_demo} demo), "
          f"mean {docs_info['mean_chars']:,.0f} chars, {nbytes / 1e6:.2f} MB, {docs_info['planted_pii']} planted "
          f"PII spans; one core ({pinned}); warm-up {WARMUP_DOCS} docs, then one timed pass", flush=True)

    pii = bench_pii(texts, planted, kinds, nbytes)
    print("[refine] PII detection / masking                    speed                              recall   "
          "spans on web", flush=True)
    for key, label in (("ours", "PiiMasker.mask (ours)"), ("presidio", "Presidio AnalyzerEngine.analyze"),
                       ("datatrove_pii", "datatrove PIIFormatter (step)")):
        r = pii[key]
        print(_row(label, r, f"   {r['recall']:6.1%} ({r['found']}/{r['planted']})   {r['spans_on_web_windows']:>5}"))
    print(f"[refine]   ours / Presidio: x{pii['speedup_vs_presidio']:.1f} faster; ours / PIIFormatter: "
          f"x{pii['speedup_vs_datatrove_pii']:.2f} ({'faster' if pii['speedup_vs_datatrove_pii'] >= 1 else 'slower'})")
    for key in ("ours", "presidio", "datatrove_pii"):
        print(f"[refine]   recall by type, {key:<13}: "
              + ", ".join(f"{t} {v:.0%}" for t, v in pii[key]["by_type"].items()))
    com = pii["community"]
    for key, label in (("ours", "ours"), ("ours_holdout", "ours, holdout only"), ("datatrove_pii", "PIIFormatter")):
        c = com[key]
        print(f"[refine]   community texts, {label:<18}: recall {c['recall']:.1%} of {c['pii_spans']} spans, "
              f"{c['look_alikes_damaged']}/{c['look_alikes']} look-alikes damaged, {c['docs_with_leak']} texts leak")
    print("[refine]   community recall by type, ours: " + ", ".join(f"{t} {v}" for t, v in com["ours"]["recall_by_type"].items()))

    cls = bench_classify(texts, shared, args.out / "classifier", nbytes, args.batch)
    how = "cached" if cls["model_cached"] else f"trained in {cls['model_build_s']:.0f}s"
    print(f"[refine] domain classifier (fastText, model {how})")
    print(_row(f"DomainClassifier.score (b={args.batch})", cls,
               f"   {cls['above_threshold']} docs >= threshold {cls['threshold']:.2f}"))

    cln = bench_clean(texts, nbytes)
    print("[refine] cleaning / quality signals")
    print(_row("DocumentCleaner.clean (ours)", cln["ours"]))
    print(_row("datatrove Gopher Q+Rep + C4", cln["datatrove_filters"],
               f"   {cln['datatrove_filters']['kept_by_all']} docs kept by all three"))
    print(f"[refine]   ours / datatrove filters: x{cln['speedup_vs_datatrove']:.2f} "
          f"({'faster' if cln['speedup_vs_datatrove'] >= 1 else 'slower'})")

    total = time.perf_counter() - t_start
    results = {"docs": docs_info, "cpu": pinned, "python": platform.python_version(), "pii": pii,
               "classify": cls, "clean": cln, "wall_s": round(total, 1)}
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    print(f"[refine] done in {total:.0f}s; results in {args.out / 'results.json'}", flush=True)
    return {"refine": results}


if __name__ == "__main__":
    main(sys.argv[1:])
