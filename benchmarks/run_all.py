"""Run every benchmark in one process and write a combined report to `bench_out/report.json`.

Benchmarks print their own figures as they go; sizes can be reduced with BENCH_SIZES (ingest, e.g.
`256MB,1GB`) and DEDUP_BENCH_SIZES (Spark dedup, default `1GB,4GB`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from benchmarks import dedup_bench, ingest_bench, refine_bench

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    report = {}
    sizes = os.environ.get("BENCH_SIZES", "256MB,1GB")
    report.update(ingest_bench.main(["--sizes", sizes]))
    report.update(refine_bench.main([]))  # prints a message and skips when the shared data folder is missing
    report.update(dedup_bench.main(["--sizes", os.environ.get("DEDUP_BENCH_SIZES", "1GB,4GB")]))
    out = ROOT / "bench_out"
    out.mkdir(exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2))
    print(f"[bench] report written to {out / 'report.json'}")


if __name__ == "__main__":
    main()
