"""Ingestion throughput and memory on the demo sample at two sizes (issue: platform foundation).

For each size it generates the demo platform (cached under `bench_out/`), then runs the ingest stage
in a fresh child process on one core (inline engine) and with N datatrove workers, and reports
rows/s and MB/s per core, and the child's peak RSS. Peak memory at the larger size divided by the
smaller one shows whether memory grows with input (it should stay near 1.0).

    python -m benchmarks.ingest_bench --sizes 256MB,1GB --workers 2
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ("documents", "artists", "albums", "songs", "chart_entries", "comments", "playlists", "user_profiles",
            "behavior_events", "item_relations")


def parse_size(s: str) -> int:
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    s = s.strip().lower().removesuffix("b")
    return int(float(s[:-1]) * units[s[-1]]) if s[-1] in units else int(s)


def ensure_sample(target: int, out: Path, seed: int = 0) -> tuple[Path, float | None]:
    """Generate (or reuse) a sample of about `target` bytes; returns its dir and generation seconds."""
    from corpus.sample import SampleConfig, generate_sample

    cfg = SampleConfig.for_target_bytes(target, seed=seed)
    marker = out / "_sample.json"
    if marker.exists() and json.loads(marker.read_text()).get("config") == json.loads(json.dumps(cfg.__dict__)):
        return out, None
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    generate_sample(cfg, out)
    return out, time.perf_counter() - t0


def input_bytes(sample: Path) -> int:
    return sum(f.stat().st_size for d in DATASETS if (sample / d).exists() for f in (sample / d).iterdir() if f.is_file())


def run_child(sample: Path, out: Path, engine: str, workers: int) -> dict:
    """Ingest `sample` in a child process; returns its manifest figures plus peak RSS."""
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "benchmarks.ingest_bench", "--child", str(sample), str(out), engine, str(workers)]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    peak = json.loads((out / "peak_rss.json").read_text())
    manifest = json.loads((out / "ingest" / "_manifest.json").read_text())
    return {
        "engine": engine,
        "workers": workers,
        "rows_in": manifest["rows_in"],
        "bytes_in": manifest["bytes_in"],
        "stage_s": manifest["wall_time_s"],
        "process_s": wall,
        # the largest resident set of the ingest process or any of its workers
        "peak_rss_mb": max(peak["self_kb"], peak["workers_kb"]) / 1024,
    }


def child_main(sample: str, out: str, engine: str, workers: int) -> None:
    from jobs.config import RunConfig
    from jobs.engines import DatatroveEngine, LocalEngine
    from jobs.run import run_corpus

    sources = [{"name": "demo", "dataset": d, "path": f"{sample}/{d}", "generated": True}
               for d in DATASETS if Path(sample, d).exists()]
    cfg = RunConfig.model_validate({"out": out, "sample": {"enabled": False}, "ingest": {"sources": sources}})
    eng = LocalEngine() if engine == "inline" else DatatroveEngine(workers=workers, progress=False)
    run_corpus(cfg, stages=("ingest",), engine=eng)
    peak = {"self_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            "workers_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}
    Path(out, "peak_rss.json").write_text(json.dumps(peak))


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="256MB,1GB", help="comma-separated sample sizes")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", type=Path, default=ROOT / "bench_out" / "ingest")
    args = p.parse_args(argv)
    results = []
    for size in args.sizes.split(","):
        target = parse_size(size)
        sample, gen_s = ensure_sample(target, args.out / f"sample-{size}")
        nbytes = input_bytes(sample)
        print(f"[ingest] sample {size}: {nbytes / 1e6:,.0f} MB of raw input"
              + (f", generated in {gen_s:.0f}s ({nbytes / 1e6 / gen_s:.1f} MB/s)" if gen_s else " (cached)"), flush=True)
        for engine, workers in (("inline", 1), ("datatrove", args.workers)):
            r = run_child(sample, args.out / f"run-{size}-{engine}", engine, workers)
            r.update(size=size, input_mb=nbytes / 1e6)
            r["rows_per_s_per_core"] = r["rows_in"] / r["stage_s"] / workers
            r["mb_per_s_per_core"] = nbytes / 1e6 / r["stage_s"] / workers
            results.append(r)
            print(f"[ingest]   {engine:<9} x{workers}: {r['rows_in']:,} rows in {r['stage_s']:.1f}s -> "
                  f"{r['rows_per_s_per_core']:,.0f} rows/s/core, {r['mb_per_s_per_core']:.1f} MB/s/core, "
                  f"peak RSS {r['peak_rss_mb']:,.0f} MB", flush=True)
    inline = [r for r in results if r["engine"] == "inline"]
    if len(inline) >= 2:
        ratio_in = inline[-1]["input_mb"] / inline[0]["input_mb"]
        ratio_mem = inline[-1]["peak_rss_mb"] / inline[0]["peak_rss_mb"]
        print(f"[ingest] input grew x{ratio_in:.1f}, peak memory (one core) grew x{ratio_mem:.2f}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    return {"ingest": results}


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        main()
