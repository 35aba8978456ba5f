"""Dedup benchmark: duplicate-pair quality, signature speed against datasketch and datatrove, Spark scaling.

    python -m benchmarks.dedup_bench [--sizes 1GB,4GB] [--skip-spark]

1. Quality at Jaccard 0.8 (word 5-grams, characters for CJK), as precision / recall / F1 of duplicate
   pairs. Truth is the exhaustive set of pairs whose true shingle Jaccard is >= 0.8 (all pairs scored
   by sparse matrix products, not only the planted ones); predicted pairs are pairs in one cluster.
   Inputs: the demo sample (planted reposts), and real text (WikiText articles, C4, MusicCaps) with
   reposts made by realistic edits (header/footer, whitespace and punctuation, truncation, paragraph
   reordering) among untouched real distractors. Also what it finds on real catalog data.
2. Signature speed on the same ~2 KB real documents, one core, 128 permutations, word 5-grams:
   ours (`MinHasher.sketch` + band keys) against datasketch's per-document `MinHash.update_batch`
   and datatrove's `MinhashDedupSignature` step (16 buckets x 8 hashes, writing its signature files).
3. End-to-end Spark dedup stage (sketch tasks + clustering) on demo documents at two sizes: wall time,
   time per GB and the driver's peak memory, to show cost grows about linearly and the driver stays flat.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench_out" / "dedup"
THRESHOLD = 0.8


# ------------------------------------------------------------------------------------------ truth
def true_pairs(texts: list[str], threshold: float = THRESHOLD, n: int = 5) -> set[tuple[int, int]]:
    """Every pair (i < j) whose shingle-set Jaccard is >= threshold (exhaustive, sparse products)."""
    from scipy.sparse import csr_matrix

    from corpus.dedup.text import batch_ngrams

    ng = batch_ngrams(texts, n)
    rows, cols = [], []
    vocab: dict[int, int] = {}
    for i in range(len(texts)):
        s = np.unique(ng.of(i))
        rows.append(np.full(len(s), i))
        cols.append(np.array([vocab.setdefault(int(h), len(vocab)) for h in s], dtype=np.int64))
    r, c = np.concatenate(rows), np.concatenate(cols)
    x = csr_matrix((np.ones(len(r), dtype=np.float32), (r, c)), shape=(len(texts), len(vocab)))
    sizes = np.asarray(x.sum(axis=1)).ravel()
    out: set[tuple[int, int]] = set()
    step = 2000
    for s in range(0, len(texts), step):
        inter = (x[s : s + step] @ x.T).tocoo()
        i, j, v = inter.row + s, inter.col, inter.data
        m = i < j
        i, j, v = i[m], j[m], v[m]
        jac = v / (sizes[i] + sizes[j] - v)
        keep = jac >= threshold
        out.update(zip(i[keep].tolist(), j[keep].tolist(), strict=True))
    return out


def predicted_pairs(texts: list[str], ids: list[str] | None = None, num_perm: int = 256, fp: float = 0.1,
                    fn: float = 0.9) -> tuple[set[tuple[int, int]], dict]:  # fmt: skip
    """Pairs in one cluster, by the same ops the dedup stage runs (exact + MinHash LSH + verification)."""
    from corpus.dedup import cluster as C
    from corpus.dedup.lsh import band_keys, lsh_params
    from corpus.dedup.minhash import MinHasher

    ids = ids or [f"{i:09d}" for i in range(len(texts))]
    order = np.argsort(np.array(ids))
    sk = MinHasher(num_perm).sketch([texts[k] for k in order])
    b, r = lsh_params(THRESHOLD, num_perm, fp, fn)
    exact = np.array(sk.exact_keys, dtype="S16")
    rep, edges = C.cluster(exact, sk.n_tokens > 0, sk.signatures, sk.n_shingles > 0,
                           band_keys(sk.signatures, b, r), THRESHOLD)  # fmt: skip
    groups: dict[int, list[int]] = {}
    for node, g in enumerate(rep.tolist()):
        groups.setdefault(g, []).append(int(order[node]))
    pairs = {
        (min(a, c), max(a, c))
        for m in groups.values()
        if len(m) > 1
        for x, a in enumerate(m)
        for c in m[x + 1 :]
    }
    return pairs, {"bands": b, "rows": r, "candidates": edges.candidates, "verified": edges.verified}


def prf(pred: set, true: set) -> dict:
    tp = len(pred & true)
    p = tp / len(pred) if pred else 1.0
    r = tp / len(true) if true else 1.0
    return {"pairs_true": len(true), "pairs_pred": len(pred), "precision": round(p, 4), "recall": round(r, 4),
            "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0}  # fmt: skip


# ------------------------------------------------------------------------------------------ inputs
def demo_documents(n_docs: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """Demo documents (documents only) generated in `bench_out/dedup/sample-<n>`."""
    from corpus.sample import SampleConfig, generate_sample

    out = OUT / f"sample-{n_docs}-{seed}"
    if not (out / "_sample.json").exists():
        shutil.rmtree(out, ignore_errors=True)
        cfg = SampleConfig(seed=seed, n_documents=n_docs, n_comments=10, n_users=20, n_playlists=10,
                           events_per_user=5, n_artists=300, n_albums=750, n_songs=3000)  # fmt: skip
        generate_sample(cfg, out)
    texts, ids = [], []
    for f in sorted((out / "documents").glob("*.jsonl")):
        for line in f.open(encoding="utf-8"):
            d = json.loads(line)
            texts.append(d["text"])
            ids.append(d["source_id"])
    return texts, ids


def _paragraphs(text: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n|\n", text) if p.strip()]


def repost(text: str, rng: random.Random) -> tuple[str, str]:
    """One realistic reposting edit of a real text."""
    kind = rng.choice(("header_footer", "whitespace_punct", "truncate", "reorder", "header_footer_truncate"))
    if kind == "header_footer":
        return kind, rng.choice(("Originally posted on my blog.\n", "Repost from a friend:\n", "")) + text + \
            rng.choice(("\n\nShare this: Facebook, Twitter", "\nRead more at the source.", "\n— via the forum"))  # fmt: skip
    if kind == "whitespace_punct":
        t = re.sub(r" ", lambda m: "  " if rng.random() < 0.1 else " ", text)
        return kind, t.replace(",", rng.choice((" ,", ",", ";"))).replace("'", "’")
    if kind == "truncate":
        words = text.split(" ")
        return kind, " ".join(words[: max(1, int(len(words) * rng.uniform(0.85, 0.97)))])
    if kind == "reorder":
        paras = _paragraphs(text)
        if len(paras) > 2:
            i = rng.randrange(len(paras) - 1)
            paras[i], paras[i + 1] = paras[i + 1], paras[i]
        return kind, "\n".join(paras)
    words = text.split(" ")
    return kind, "Repost:\n" + " ".join(words[: int(len(words) * 0.93)]) + "\n(source link)"


def real_texts(shared: Path) -> dict[str, list[str]]:
    import csv

    wiki = []
    for split in ("validation", "test"):
        p = shared / "wikitext2_raw" / f"wiki.{split}.raw"
        if p.exists():
            arts = re.split(r"\n = (?!=)[^\n]+ = \n", p.read_text(encoding="utf-8"))
            wiki += [a.strip() for a in arts if len(a.split()) > 100]
    c4 = [
        json.loads(line)["text"]
        for line in (shared / "web_crawl_samples" / "c4_en_validation_2k.jsonl").open()
    ]
    with open(shared / "musiccaps" / "musiccaps-public.csv", newline="", encoding="utf-8") as f:
        caps = [row["caption"] for row in csv.DictReader(f)]
    return {"wikitext": wiki, "c4": c4, "musiccaps": caps}


def with_reposts(base: list[str], rng: random.Random, share: float = 0.3) -> list[str]:
    out = list(base)
    for t in base:
        if rng.random() < share:
            for _ in range(rng.choice((1, 1, 2, 3))):
                out.append(repost(t, rng)[1])
    rng.shuffle(out)
    return out


# ------------------------------------------------------------------------------------------ parts
def bench_quality(shared: Path | None, n_demo: int) -> dict:
    res: dict = {}
    texts, ids = demo_documents(n_demo)
    t0 = time.perf_counter()
    truth = true_pairs(texts)
    pred, info = predicted_pairs(texts, ids)
    res["demo"] = {
        "docs": len(texts),
        **prf(pred, truth),
        **info,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    print(f"[dedup] demo sample {len(texts):,} docs: {res['demo']}", flush=True)
    if shared is None:
        return res
    rng = random.Random(0)
    for name, base in real_texts(shared).items():
        docs = with_reposts(base, rng)
        truth = true_pairs(docs)
        pred, info = predicted_pairs(docs)
        res[name] = {"docs": len(docs), **prf(pred, truth), **info}
        print(f"[dedup] {name} {len(docs):,} docs with reposts: {res[name]}", flush=True)
    return res


def bench_catalog(shared: Path) -> dict:
    """Real catalog duplicates: track rows repeated in the Spotify table, and one song across sources."""
    import csv

    def rows(path: Path) -> list[dict]:
        with open(path, newline="", encoding="utf-8", errors="replace") as f:
            return list(csv.DictReader(f))

    spotify = rows(shared / "spotify_songs_tidytuesday_2020" / "spotify_songs.csv")
    texts = [f"{r['track_name']} by {r['track_artist']}" for r in spotify]
    ids = [r["track_id"] for r in spotify]
    pred, _ = predicted_pairs(texts)
    same_id = {}
    for i, k in enumerate(ids):
        same_id.setdefault(k, []).append(i)
    repeated = sum(len(v) - 1 for v in same_id.values() if len(v) > 1)
    found = sum(
        1 for v in same_id.values() if len(v) > 1 for x in v[1:] if (min(v[0], x), max(v[0], x)) in pred
    )
    out = {"spotify_rows": len(spotify), "repeated_track_rows": repeated, "repeats_clustered": found,
           "pairs_in_clusters": len(pred)}  # fmt: skip
    # the same song across sources: "<title> by <artist>" from Spotify, Billboard year-end and MSD
    sources: list[tuple[str, str]] = [("spotify", t) for t in dict.fromkeys(texts)]
    sources += [
        ("billboard", f"{r['song']} by {r['artist_all']}")
        for r in rows(shared / "billboard_year_end_hot100" / "billboard_year_end_1959_2019.csv")
    ]
    sources += [
        ("msd", f"{r['title']} by {r['artist.name']}")
        for r in rows(shared / "msd_subset_corgis_music" / "music.csv")
        if r.get("title")
    ]
    pred, _ = predicted_pairs([t for _, t in sources])
    cross = {(sources[a][0], sources[b][0]) for a, b in pred if sources[a][0] != sources[b][0]}
    n_cross = sum(1 for a, b in pred if sources[a][0] != sources[b][0])
    out["cross_source"] = {"rows": len(sources), "cross_source_pairs": n_cross,
                           "source_pairs": sorted("+".join(sorted(c)) for c in cross)}  # fmt: skip
    print(f"[dedup] spotify catalog: {out}", flush=True)
    return out


def bench_signatures(shared: Path | None, n: int = 2000) -> dict:
    """Per-document signature cost at 128 and 256 permutations (same word 5-gram shingles everywhere)."""
    from datasketch import MinHash
    from datatrove.data import Document
    from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature

    from corpus.dedup.lsh import band_keys, lsh_params
    from corpus.dedup.minhash import MinHasher
    from corpus.dedup.text import reference_tokens

    if shared is not None:
        texts = [
            json.loads(line)["text"]
            for line in (shared / "web_crawl_samples" / "c4_en_validation_2k.jsonl").open()
        ]
    else:
        texts, _ = demo_documents(2000)
    texts = texts[:n]
    nbytes = sum(len(t.encode()) for t in texts)
    res: dict = {"docs": n, "mean_bytes": round(nbytes / n)}
    for perms in (128, 256):
        mh = MinHasher(perms, 5, 1)
        mh.sketch(texts[:20])
        t0 = time.perf_counter()
        sk = mh.sketch(texts)
        band_keys(sk.signatures, *lsh_params(THRESHOLD, perms, 0.1, 0.9))
        ours = time.perf_counter() - t0
        m = min(n, 500)
        t0 = time.perf_counter()
        for t in texts[:m]:
            toks = reference_tokens(t)
            sh = [" ".join(toks[i : i + 5]).encode() for i in range(max(1, len(toks) - 4))]
            MinHash(num_perm=perms, seed=1).update_batch(sh)
        ds = (time.perf_counter() - t0) / m * n
        folder = OUT / "datatrove_sigs"
        shutil.rmtree(folder, ignore_errors=True)
        cfg = MinhashConfig(n_grams=5, num_buckets=perms // 8, hashes_per_bucket=8)
        step = MinhashDedupSignature(output_folder=str(folder), config=cfg)
        docs = [Document(text=t, id=str(i)) for i, t in enumerate(texts)]
        t0 = time.perf_counter()
        step.run(iter(docs), rank=0, world_size=1)
        dt = time.perf_counter() - t0
        res[str(perms)] = {"ours_us_per_doc": round(ours / n * 1e6, 1), "datasketch_us_per_doc": round(ds / n * 1e6, 1),
                           "datatrove_us_per_doc": round(dt / n * 1e6, 1), "x_vs_datasketch": round(ds / ours, 1),
                           "x_vs_datatrove": round(dt / ours, 1)}  # fmt: skip
        print(f"[dedup] signatures ({perms} perms, word 5-grams, one process): {res[str(perms)]}", flush=True)
    return res


def _documents_input(target_bytes: int, root: Path) -> tuple[Path, int, int]:
    """`root/refine/documents/part-*.parquet` (scored-document layout) of about `target_bytes` of demo text."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from corpus.ingest.ids import make_id

    d = root / "refine" / "documents"
    marker = root / "_input.json"
    if marker.exists():
        info = json.loads(marker.read_text())
        return root / "refine", info["docs"], info["bytes"]
    shutil.rmtree(root, ignore_errors=True)
    d.mkdir(parents=True)
    base, base_ids = demo_documents(20_000, seed=1)
    per = sum(len(t.encode()) for t in base)
    copies = max(1, round(target_bytes / per))
    n_docs = total = 0
    for c in range(copies):
        # copy c is the base text through a per-copy cipher (letters permuted, Han characters rotated): the
        # same duplicate structure inside each copy, no similarity between copies, so the corpus is c times
        # larger with c times the clusters rather than c-fold clusters
        rng = random.Random(c)
        letters = list("abcdefghijklmnopqrstuvwxyz")
        perm = letters[:] if c == 0 else rng.sample(letters, 26)
        table = {ord(a): b for a, b in zip(letters, perm, strict=True)}
        table |= {ord(a.upper()): b.upper() for a, b in zip(letters, perm, strict=True)}
        if c:
            table |= {cp: 0x4E00 + (cp - 0x4E00 + 101 * c) % 20992 for cp in range(0x4E00, 0x9FFF + 1)}
        texts = [t.translate(table) for t in base]
        ids = [make_id("documents", "bench", f"{c}-{i}") for i in base_ids]
        tab = pa.table({"doc_id": ids, "source": ["bench"] * len(ids), "text": texts,
                        "domain_score": np.ones(len(ids))})  # fmt: skip
        pq.write_table(tab, d / f"part-{c:05d}.parquet")
        n_docs += len(ids)
        total += sum(len(t.encode()) for t in texts)
    marker.write_text(json.dumps({"docs": n_docs, "bytes": total}))
    return root / "refine", n_docs, total


def _run_spark_dedup(refine_dir: Path, out: Path, workers: int) -> dict:
    """Child process body: run the dedup stage on Spark; report wall time and driver peak RSS."""
    from jobs.config import SparkConfig
    from jobs.engines import SparkEngine, spark_session, stop_spark
    from jobs.stage import run_stage
    from jobs.stages.dedup import DedupConfig, DedupStage

    spark = spark_session(
        SparkConfig(master=f"local[{workers}]", conf={"spark.driver.memory": "2g"}), workers
    )
    t0 = time.perf_counter()
    stage = DedupStage(DedupConfig(datasets=("documents",)), refine_dir)
    res = run_stage(stage, out, SparkEngine(spark), force=True)
    wall = time.perf_counter() - t0
    stop_spark(spark)
    return {"wall_s": round(wall, 1), "rows": res.manifest["rows_in"],
            "driver_python_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}  # fmt: skip


def bench_spark(sizes: list[int]) -> dict:
    import subprocess

    res = {}
    for size in sizes:
        root = OUT / f"spark-{size >> 20}MB"
        refine_dir, n_docs, nbytes = _documents_input(size, root)
        cmd = [sys.executable, "-m", "benchmarks.dedup_bench", "--child", str(refine_dir), str(root / "out")]
        t0 = time.perf_counter()
        p = subprocess.run(
            cmd, capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}
        )
        if p.returncode:
            raise RuntimeError(p.stderr[-3000:])
        child = json.loads(p.stdout.strip().splitlines()[-1])
        r = {"docs": n_docs, "mb": round(nbytes / 1e6), **child, "s_per_gb": round(child["wall_s"] / (nbytes / 1e9), 1),
             "process_s": round(time.perf_counter() - t0, 1)}  # fmt: skip
        res[f"{size >> 20}MB"] = r
        print(f"[dedup] spark dedup {r['mb']:,} MB ({n_docs:,} docs): {r}", flush=True)
    keys = list(res)
    if len(keys) == 2:
        a, b = res[keys[0]], res[keys[1]]
        res["growth"] = {"input": round(b["mb"] / a["mb"], 2), "time": round(b["wall_s"] / a["wall_s"], 2),
                         "driver_memory": round(b["driver_python_peak_mb"] / a["driver_python_peak_mb"], 2)}  # fmt: skip
        print(f"[dedup] growth {keys[0]} -> {keys[1]}: {res['growth']}", flush=True)
    return res


def parse_size(s: str) -> int:
    s = s.strip().upper()
    for unit, mult in (("GB", 1 << 30), ("MB", 1 << 20)):
        if s.endswith(unit):
            return int(float(s[: -len(unit)]) * mult)
    return int(s)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default=os.environ.get("DEDUP_BENCH_SIZES", "1GB,4GB"))
    ap.add_argument("--demo-docs", type=int, default=10_000)
    ap.add_argument("--skip-spark", action="store_true")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(_run_spark_dedup(Path(args.child[0]), Path(args.child[1]), workers=2)))
        return {}
    from jobs.config import shared_data_dir

    shared = shared_data_dir() if shared_data_dir().exists() else None
    if shared is None:
        print("[dedup] shared data not found: real-text parts skipped", flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    report = {"quality": bench_quality(shared, args.demo_docs)}
    if shared is not None:
        report["catalog"] = bench_catalog(shared)
    report["signatures"] = bench_signatures(shared)
    if not args.skip_spark:
        report["spark"] = bench_spark([parse_size(s) for s in args.sizes.split(",")])
    (OUT / "report.json").write_text(json.dumps(report, indent=2))
    return {"dedup": report}


if __name__ == "__main__":
    main()
