"""Item-relations benchmark: Spark co-occurrence relations (`jobs.spark.lib.relations`) at growing input sizes.

    python -m benchmarks.relations_bench [--sizes lastfm,spotify_x2,spotify_x8] [--repeats 1] [--top-k 10]

Inputs (real data from the shared data folder):
- `lastfm`: Last.fm HetRec 2011 user-artist play counts, one basket per user (their artists, most
  played first): 1,892 baskets, 92,834 rows.
- `spotify_xK`: the Spotify tidytuesday 2020 playlists (tracks grouped by playlist_id), replicated K
  times with item ids kept and basket ids suffixed `#copy`. Every co count and basket count scales by K
  and similarities do not change, so the pairs generated grow exactly K-fold while the output stays the
  same size: the growth between two K is the cost of the pair work alone. (From K = 2 on every item is
  in >= 2 baskets; at K = 1 the min_item_baskets filter drops 90% of the tracks, so x1 is not compared.)

For each size: baskets, basket-item rows, ordered pairs the self-join generates, relation rows written,
and wall time of the relation job on local[2]. The input baskets are written to Parquet first (not timed);
the timed part reads them, computes the relations and writes them to Parquet, and the row count is read
from the written files' footers. Each size runs `--repeats` times and the fastest run is reported (the
machine may be shared), all runs listed. Spark start-up and a warm-up job on a tiny input are reported apart.
Growth is reported between consecutive sizes of one family (time ratio against input and pair ratios).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench_out" / "relations"
DEFAULT_SIZES = "lastfm,spotify_x2,spotify_x8"


def lastfm_baskets(spark, shared: Path):
    """One basket per Last.fm user: artists by play count, most played first (ties by artist id)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    path = shared / "lastfm_hetrec2011_2k" / "user_artists.dat"
    df = spark.read.csv(str(path), sep="\t", header=True, schema="userID string, artistID string, weight long")
    w = Window.partitionBy("userID").orderBy(F.col("weight").desc(), F.col("artistID"))
    return df.select(F.concat(F.lit("lastfm-user-"), "userID").alias("basket_id"),
                     F.concat(F.lit("lastfm-artist-"), "artistID").alias("item_id"),
                     (F.row_number().over(w) - 1).cast("long").alias("pos"))  # fmt: skip


def spotify_baskets(spark, shared: Path, copies: int):
    """Spotify playlists as baskets (position = row order in the file), replicated `copies` times."""
    from pyspark.sql import functions as F

    path = shared / "spotify_songs_tidytuesday_2020" / "spotify_songs.parquet"
    # one small file, read as one partition: row order, hence `pos`, is the file's
    base = spark.read.parquet(str(path)).coalesce(1).select(
        "playlist_id", "track_id", F.monotonically_increasing_id().alias("pos")
    )
    rep = spark.range(copies).select(F.col("id").alias("copy"))
    return base.crossJoin(rep).select(F.concat_ws("#", "playlist_id", F.col("copy").cast("string")).alias("basket_id"),
                                      F.col("track_id").alias("item_id"), F.col("pos").cast("long"))  # fmt: skip


def build_baskets(spark, shared: Path, name: str):
    if name == "lastfm":
        return lastfm_baskets(spark, shared)
    if name.startswith("spotify_x") and name[len("spotify_x"):].isdigit():
        return spotify_baskets(spark, shared, int(name[len("spotify_x"):]))
    raise ValueError(f"unknown size {name!r}: use lastfm or spotify_xK (K copies of the Spotify playlists)")


def parquet_rows(folder: Path) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(f).metadata.num_rows for f in sorted(folder.glob("*.parquet")))


def time_relations(spark, baskets_dir: Path, out_dir: Path, cfg) -> tuple[float, int]:
    """Wall seconds to read the baskets, compute the relations and write them; rows from the written footers."""
    from jobs.spark.lib.relations import compute_item_relations

    shutil.rmtree(out_dir, ignore_errors=True)
    t0 = time.perf_counter()
    rel = compute_item_relations(spark.read.parquet(str(baskets_dir)), cfg, "co_occurrence")
    rel.write.parquet(str(out_dir))
    rows = parquet_rows(out_dir)
    return time.perf_counter() - t0, rows


def bench_size(spark, shared: Path, name: str, cfg, repeats: int) -> dict:
    from jobs.spark.lib.relations import basket_stats

    root = OUT / name
    baskets_dir = root / "baskets"
    shutil.rmtree(baskets_dir, ignore_errors=True)
    build_baskets(spark, shared, name).write.parquet(str(baskets_dir))
    stats = basket_stats(spark.read.parquet(str(baskets_dir)), cfg)
    runs = [time_relations(spark, baskets_dir, root / "relations", cfg) for _ in range(repeats)]
    wall, rows = min(runs)
    r = {"baskets": stats["baskets_in"], "basket_items": stats["rows_in"], "items_paired": stats["items"],
         "pairs": stats["pairs"], "relations": rows, "wall_s": round(wall, 2),
         "runs_s": [round(t, 2) for t, _ in runs], "pairs_per_s": round(stats["pairs"] / wall)}  # fmt: skip
    print(f"[relations] {name}: {r}", flush=True)
    return r


def growth(res: dict) -> dict:
    """Time ratio against input ratios between consecutive sizes of one family (`spotify_x2` -> `spotify_x8`)."""
    out = {}
    names = list(res)
    for a, b in zip(names, names[1:], strict=False):
        if a.split("_x")[0] != b.split("_x")[0]:
            continue
        ra, rb = res[a], res[b]
        g = {"basket_items": round(rb["basket_items"] / ra["basket_items"], 2),
             "pairs": round(rb["pairs"] / ra["pairs"], 2), "time": round(rb["wall_s"] / ra["wall_s"], 2)}  # fmt: skip
        g["time_per_pair"] = round(g["time"] / g["pairs"], 2)  # 1.0 = linear in pairs, < 1 = fixed costs amortised
        out[f"{a}->{b}"] = g
        print(f"[relations] growth {a} -> {b}: {g}", flush=True)
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default=os.environ.get("RELATIONS_BENCH_SIZES", DEFAULT_SIZES))
    ap.add_argument("--top-k", type=int, default=10)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=1, help="timed runs per size; the fastest is reported")
    args = ap.parse_args(argv)
    from jobs.config import SparkConfig, shared_data_dir
    from jobs.engines import spark_session, stop_spark
    from jobs.spark.lib.relations import RelationsConfig

    shared = shared_data_dir()
    if not shared.exists():
        print(f"[relations] shared data not found at {shared}: benchmark skipped", flush=True)
        return {"relations": {"skipped": "no shared data"}}
    cfg = RelationsConfig(top_k=args.top_k)
    print(f"[relations] config: {cfg}", flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    spark = spark_session(SparkConfig(master=f"local[{args.workers}]"), workers=args.workers)
    report: dict = {"config": vars(cfg), "master": f"local[{args.workers}]",
                    "session_start_s": round(time.perf_counter() - t0, 2)}  # fmt: skip
    try:
        # warm-up: JIT and Python workers on a tiny input, so the first size is not charged for them
        warm = OUT / "_warmup"
        shutil.rmtree(warm, ignore_errors=True)
        spark.createDataFrame([(f"b{i % 7}", f"i{i % 11}", i) for i in range(200)],
                              "basket_id string, item_id string, pos long").write.parquet(str(warm / "baskets"))  # fmt: skip
        report["warmup_s"] = round(time_relations(spark, warm / "baskets", warm / "relations", cfg)[0], 2)
        print(f"[relations] session start {report['session_start_s']} s, warm-up {report['warmup_s']} s", flush=True)
        sizes = {name: bench_size(spark, shared, name, cfg, args.repeats) for name in args.sizes.split(",") if name.strip()}
    finally:
        stop_spark(spark)
    report["sizes"] = sizes
    report["growth"] = growth(sizes)
    (OUT / "report.json").write_text(json.dumps(report, indent=2))
    return {"relations": report}


if __name__ == "__main__":
    main()
