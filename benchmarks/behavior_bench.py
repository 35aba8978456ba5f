"""Sessionization and interleaving throughput (events/s on one core), at growing sizes.

    python -m benchmarks.behavior_bench [--sizes demo,demo_x4,lastfm]

- `demo`: the demo sample's behavior log (small preset: 59,903 play/skip/like/... events, 400 users).
- `demo_xK`: the same log K times over, each copy under new user and event ids (K times the users).
- `lastfm`: Last.fm HetRec 2011 dated tag assignments (186,479 events, 1,892 users; tags as feedback,
  dates as state; play counts become the profile's top artists), ingested with our adapter.

Two figures per size: the plain ops (`prepare_user_events` + `interleave_user` per user, in memory)
and the whole behavior stage on the inline engine (one core: the user-bucket shuffle, Parquet reads
and writes, catalog and profile lookups), both in events per second.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads

from corpus.behavior.events import BehaviorConfig, prepare_user_events
from corpus.behavior.interleave import interleave_user, render_profile
from jobs.config import load_config, shared_data_dir
from jobs.engines import InlineEngine, LocalEngine
from jobs.outputs import write_table
from jobs.run import run_corpus
from jobs.stage import run_stage
from jobs.stages.behavior import BehaviorStage, BehaviorStageConfig, catalog_item_texts

DEFAULT_SIZES = "demo,demo_x4,lastfm"


def _ingest(work: Path, name: str) -> Path | None:
    """An ingest folder holding the size's behavior log and catalog."""
    out = work / name
    if name == "lastfm":
        path = shared_data_dir() / "lastfm_hetrec2011_2k"
        if not path.exists():
            return None
        src = [{"name": "lastfm_hetrec2011", "adapter": "lastfm_hetrec2011", "path": str(path)}]
        cfg = load_config(None, {"out": str(out), "sample.enabled": False, "ingest.sources": src})
        run_corpus(cfg, stages=("ingest",), engine=LocalEngine(progress=False))
        return out / "ingest"
    k = int(name.split("_x")[1]) if "_x" in name else 1
    base = work / "demo"
    if not (base / "ingest").exists():
        cfg = load_config(None, {"out": str(base), "sample.preset": "small"})
        run_corpus(cfg, stages=("sample", "ingest"), engine=LocalEngine(progress=False))
    if k == 1:
        return base / "ingest"
    ing = out / "ingest"
    shutil.copytree(base / "ingest", ing, ignore=shutil.ignore_patterns("behavior_events", "_*"))
    events = pads.dataset(base / "ingest" / "behavior_events", format="parquet").to_table()
    for j in range(k):
        t = events
        for col in ("user_id", "event_id"):
            t = t.set_column(t.schema.get_field_index(col), col, pc.binary_join_element_wise(t.column(col), pa.scalar(f"x{j}"), ""))
        write_table(ing / "behavior_events" / f"part-{j:05d}.parquet", t, "behavior_events")
    return ing


def _ops_rate(ingest: Path) -> tuple[int, float]:
    events = pads.dataset(ingest / "behavior_events", format="parquet").to_table()
    items = catalog_item_texts(ingest)
    cfg = BehaviorConfig()
    t0 = time.perf_counter()
    prepared = prepare_user_events(events, set(items), cfg)
    kept = prepared.events.append_column(
        "item_text", pa.array([items.get(i) for i in prepared.events.column("item_id").to_pylist()], pa.string()))
    kept = kept.append_column("session_index", pa.array(prepared.session_index, pa.int32()))
    for user, lo, hi in prepared.user_slices():
        interleave_user(user, render_profile(None, None), kept.slice(lo, hi - lo), cfg)
    return events.num_rows, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default=os.environ.get("BEHAVIOR_BENCH_SIZES", DEFAULT_SIZES))
    args = ap.parse_args(argv)
    report: dict = {}
    print("\n[behavior] sessionization + interleaving, one core")
    print(f"{'size':<10} {'events':>10} {'users':>7} {'ops s':>7} {'ops ev/s':>10} {'stage s':>8} {'stage ev/s':>11} {'sequences':>10}")
    with tempfile.TemporaryDirectory(prefix="behavior_bench_") as tmp:
        work = Path(tmp)
        for name in args.sizes.split(","):
            ingest = _ingest(work, name.strip())
            if ingest is None:
                print(f"{name:<10} skipped: shared data not found")
                continue
            n, ops_s = _ops_rate(ingest)
            t0 = time.perf_counter()
            res = run_stage(BehaviorStage(BehaviorStageConfig(buckets=4), ingest), work / f"{name}_stage", InlineEngine())
            stage_s = time.perf_counter() - t0
            users = pc.count_distinct(pads.dataset(ingest / "behavior_events", format="parquet").to_table(columns=["user_id"]).column("user_id")).as_py()
            seqs = res.manifest["datasets"].get("training_sequences", 0)
            print(f"{name:<10} {n:>10,} {users:>7,} {ops_s:>7.2f} {n / ops_s:>10,.0f} {stage_s:>8.2f} {n / stage_s:>11,.0f} {seqs:>10,}")
            report[name] = {"events": n, "users": users, "ops_s": round(ops_s, 3), "ops_events_per_s": round(n / ops_s),
                            "stage_s": round(stage_s, 3), "stage_events_per_s": round(n / stage_s), "sequences": seqs,
                            "dropped": res.manifest["dropped"]}  # fmt: skip
    return {"behavior": report}


if __name__ == "__main__":
    main()
