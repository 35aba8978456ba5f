"""Run every benchmark in one process and write a combined report to `bench_out/report.json`.

Benchmarks print their own figures as they go; sizes can be reduced with BENCH_SIZES (ingest, e.g.
`256MB,1GB`), DEDUP_BENCH_SIZES (Spark dedup, default `1GB,4GB`), BEHAVIOR_BENCH_SIZES and
RELATIONS_BENCH_SIZES.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from benchmarks import (
    behavior_bench,
    classifier_doc_eval,
    dedup_bench,
    ingest_bench,
    langid_short_text,
    linking_eval,
    refine_bench,
    relations_bench,
    shard_bench,
    train_bench,
    uq2i_bench,
    weighting_bench,
)

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    report = {}
    sizes = os.environ.get("BENCH_SIZES", "256MB,1GB")
    report.update(ingest_bench.main(["--sizes", sizes]))
    report.update(refine_bench.main([]))  # prints a message and skips when the shared data folder is missing
    report.update(dedup_bench.main(["--sizes", os.environ.get("DEDUP_BENCH_SIZES", "1GB,4GB")]))
    report.update(behavior_bench.main([]))  # BEHAVIOR_BENCH_SIZES, default demo,demo_x4,lastfm
    report.update(relations_bench.main([]))  # RELATIONS_BENCH_SIZES, default lastfm,spotify_x2,spotify_x8
    report.update(classifier_doc_eval.main([]))  # document-level classifier figures on the labelled dev set
    report.update(langid_short_text.main([]))  # short-text language on the Reddit requests, before/after
    report.update(linking_eval.main([]))  # entity-link precision on the Deezer gold
    report.update(shard_bench.main([]))  # Qwen3 shards vs raw encode_batch and datatrove, >= 100 MB
    report.update(train_bench.main([]))  # CPU training tokens/s of the demo model vs a plain HF + PyTorch step
    report.update(weighting_bench.main([]))  # token weighting: online / offline step-time overhead, scoring pass
    report.update(uq2i_bench.main([]))  # query-to-item synthesis: users/s per core, projection to 10M users
    out = ROOT / "bench_out"
    out.mkdir(exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2))
    print(f"[bench] report written to {out / 'report.json'}")


if __name__ == "__main__":
    main()
