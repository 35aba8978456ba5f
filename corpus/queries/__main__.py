"""python -m corpus.queries: build the query pool from a corpus run's ingest output and cluster it.

    python -m corpus.queries --ingest out/ingest --out out/queries [--embedder-en wordllama|tfidf] [--per-cluster 25]
        [--caption-requests 2500]

Writes `OUT/query_pool/part-00000.parquet` (the `query_pool` contract: text, language, kind, source, song, the facts
the text expresses, the songs a real request lists, cluster) and `OUT/_report.md` / `_report.json` (sizes per
source, coherence against random clusters, examples).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from corpus.queries.cluster import ClusterConfig
from corpus.queries.pool import CAPTION_REQUESTS, build_pool, write_pool


def main(argv: list[str] | None = None) -> int:
    d = ClusterConfig()
    ap = argparse.ArgumentParser(prog="python -m corpus.queries", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ingest", type=Path, default=Path("out/ingest"), help="an ingest output folder")
    ap.add_argument("--out", type=Path, default=Path("out/queries"))
    ap.add_argument("--embedder-en", choices=["wordllama", "tfidf"], default=d.embedders["en"])
    ap.add_argument("--embedder-zh", choices=["wordllama", "tfidf"], default=d.embedders["zh"])
    ap.add_argument("--clusters", type=int, help="cluster count (default: one per --per-cluster distinct queries)")
    ap.add_argument("--per-cluster", type=int, default=d.queries_per_cluster)
    ap.add_argument("--per-song", type=int, default=3, help="generated queries per song")
    ap.add_argument("--seed", type=int, default=d.seed)
    ap.add_argument("--generator", help="a local Hugging Face model directory that writes one more query per song")
    ap.add_argument("--caption-requests", type=int, default=CAPTION_REQUESTS,
                    help="cap on MusicCaps requests (-1: every clip)")
    args = ap.parse_args(argv)
    cfg = ClusterConfig(embedders={"en": args.embedder_en, "zh": args.embedder_zh}, n_clusters=args.clusters, queries_per_cluster=args.per_cluster,
                        seed=args.seed)  # fmt: skip
    print(f"[queries] config: {json.dumps(asdict(cfg), sort_keys=True)}", file=sys.stderr)
    captions = None if args.caption_requests < 0 else args.caption_requests
    queries, labels, rep = build_pool(args.ingest, cfg, args.per_song, args.generator, captions)
    write_pool(queries, labels, rep, args.out)
    coh = rep["coherence"]
    print(f"[queries] {len(queries):,} queries ({rep['real']:,} real) in {rep['clusters']:,} clusters -> {args.out}; "
          "purity vs random: " + ", ".join(f"{k} {v['purity']:.2f}/{v['random_purity']:.2f}" for k, v in coh.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
