"""The dedup stage's Spark clustering pass (`SparkEngine.cluster_duplicates`).

Tasks (one per refine part) compute sketches as in every engine. The global pass then runs as Spark
DataFrame jobs over the sketch files, following the rules in `corpus.dedup.lsh` exactly as the
single-node path does (`corpus.dedup.driver.cluster_locally`), so both give the same clusters:

1. repeated ids: the first row of an id (part, row order) is its node, later rows are `duplicate_id`;
2. candidate edges: star edges from the smallest node id of every exact-key group and LSH bucket
   (window minimum, no grouping of members into lists), MinHash edges verified by estimated Jaccard in
   `mapInArrow` with the same numpy code;
3. connected components by alternating large-star / small-star rounds (Kiveris et al., 2014), each
   round's edges written to the work folder and read back (bounded lineage, nothing collected);
4. keeper per component by a window ordered as the keeper policy; statuses;
5. aligned attribute parts and the index files written by executors (`mapInArrow` per partition, the
   same per-part writer as the single-node path), so the driver only ever sees counts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

MAX_CC_ROUNDS = 64


def _verify_batches(threshold: float, num_perm: int):
    """mapInArrow function: keep the candidate pairs whose estimated Jaccard reaches the threshold."""
    import pyarrow as pa

    from corpus.dedup.minhash import estimate_jaccard, signatures_from_binary

    def run(batches):
        for b in batches:
            if b.num_rows == 0:
                continue
            sa = signatures_from_binary(b.column("sig_a").to_pylist(), num_perm)
            sb = signatures_from_binary(b.column("sig_b").to_pylist(), num_perm)
            keep = estimate_jaccard(sa, sb) >= threshold
            yield pa.RecordBatch.from_arrays(
                [b.column("a").filter(keep), b.column("b").filter(keep)], ["a", "b"]
            )

    return run


def _band_batches(num_perm: int, bands: int, rows: int):
    """mapInArrow function: LSH band keys of stored signatures (previous-index nodes carry none)."""
    import pyarrow as pa

    from corpus.dedup.lsh import band_keys
    from corpus.dedup.minhash import signatures_from_binary

    def run(batches):
        for b in batches:
            keys = band_keys(signatures_from_binary(b.column("signature").to_pylist(), num_perm), bands, rows)
            arr = pa.FixedSizeListArray.from_arrays(pa.array(keys.reshape(-1)), bands).cast(
                pa.list_(pa.int64())
            )
            yield pa.RecordBatch.from_arrays([b.column("node_id"), arr], ["node_id", "bands"])

    return run


def _star_edges(df, key_cols: list[str]):
    """(a, b) edges from the smallest node of each group of equal keys to its other members."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    w = Window.partitionBy(*key_cols)
    return (df.withColumn("a", F.min("node_id").over(w)).where(F.col("a") != F.col("node_id"))
            .select("a", F.col("node_id").alias("b")))  # fmt: skip


def connected_components(spark, edges, scratch: Path):
    """(node, rep) for every node on an edge, rep = smallest node id of its component.

    Alternating large-star and small-star until a round changes nothing; each round is materialised
    under `scratch` so the plan stays small however many rounds run."""
    from pyspark.sql import functions as F

    def materialise(df, name: str):
        path = str(scratch / name)
        df.write.mode("overwrite").parquet(path)
        return spark.read.parquet(path)

    e = materialise(edges.select(F.least("a", "b").alias("a"), F.greatest("a", "b").alias("b")).where("a != b")
                    .distinct(), "round-000")  # fmt: skip
    for r in range(1, MAX_CC_ROUNDS + 1):
        # large-star: each node links its larger neighbours to the smallest of its closed neighbourhood
        both = e.union(e.select(F.col("b").alias("a"), F.col("a").alias("b")))
        m = both.groupBy("a").agg(F.least(F.min("b"), F.col("a")).alias("m"))
        ls = (both.join(m, "a").where(F.col("b") > F.col("a"))
              .select(F.col("b").alias("a"), F.col("m").alias("b")).distinct())  # fmt: skip
        # small-star: each node links itself and its smaller neighbours to the smallest of them
        d = ls.select(F.greatest("a", "b").alias("a"), F.least("a", "b").alias("b")).distinct()
        m2 = d.groupBy("a").agg(F.min("b").alias("m"))
        ss = (d.join(m2, "a").select(F.col("b").alias("a"), F.col("m").alias("b")).where(F.col("a") != F.col("b"))
              .union(m2.select("a", F.col("m").alias("b"))).distinct())  # fmt: skip
        new = materialise(ss, f"round-{r:03d}")
        changed = new.exceptAll(e).limit(1).count() + e.exceptAll(new).limit(1).count()
        e = new
        if not changed:
            break
    else:
        raise RuntimeError(f"connected components did not converge in {MAX_CC_ROUNDS} rounds")
    # converged: every edge is (node, component minimum)
    return e.select(F.col("a").alias("node_id"), F.col("b").alias("rep")).union(
        e.select(F.col("b").alias("node_id"), F.col("b").alias("rep"))).distinct()  # fmt: skip


def _write_parts(stage_parts: list[tuple[str, str]], work_dir: str):
    """mapInArrow function: write the aligned attribute and index files of every refine part in the partition."""
    import numpy as np
    import pyarrow as pa

    from corpus.dedup.driver import write_part_outputs

    def run(batches):
        tables = [pa.Table.from_batches([b]) for b in batches if b.num_rows]
        if not tables:
            return
        t = pa.concat_tables(tables)
        t = t.sort_by([("part", "ascending"), ("row", "ascending")])
        parts = t.column("part").to_numpy()
        for p in np.unique(parts):
            lo, hi = np.searchsorted(parts, [p, p + 1])
            ds, name = stage_parts[int(p)]
            write_part_outputs(Path(work_dir), ds, name, t.slice(lo, hi - lo))
            yield pa.RecordBatch.from_arrays([pa.array([int(p)], pa.int32()), pa.array([int(hi - lo)], pa.int64())],
                                             ["part", "rows"])  # fmt: skip

    return run


def cluster_in_spark(spark, stage: Any, work_dir: Path) -> dict:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from corpus.dedup import cluster as C
    from corpus.dedup.driver import (
        INDEX_STATUSES,
        PREVIOUS_PREFIX,
        SKETCH_DIR,
        copy_previous_index,
        previous_index_files,
        write_part_outputs,
    )  # fmt: skip
    from schemas import get_schema

    cfg = stage.cfg
    bands, rows = cfg.lsh()
    sc = spark.sparkContext
    sc.setJobDescription("dedup: clustering")
    if cfg.spark_shuffle_partitions:
        spark.conf.set("spark.sql.shuffle.partitions", str(cfg.spark_shuffle_partitions))
    scratch = work_dir / "_spark"
    sk = spark.read.parquet(str(work_dir / SKETCH_DIR))
    first = Window.partitionBy("doc_id").orderBy("part", "row")
    sk = sk.withColumn("occurrence", F.row_number().over(first))
    cur = sk.where("occurrence = 1").select(
        F.col("doc_id").alias("node_id"), "exact_key", "n_tokens", "has_signature", "signature", "bands",
        F.when(F.isnan("score") | F.col("score").isNull(), F.lit(float("-inf"))).otherwise(F.col("score")).alias("score"),
        "n_chars", F.lit(False).alias("is_prev"),
    )  # fmt: skip
    prev_files = previous_index_files(Path(cfg.previous_index), cfg) if cfg.previous_index else []
    n_prev = sum(pq.ParquetFile(f).metadata.num_rows for f in prev_files)  # footers only
    if n_prev:
        prev = spark.read.parquet(*[str(p) for p in prev_files])
        prev = prev.select(F.concat(F.lit(PREVIOUS_PREFIX), "node_id").alias("node_id"), "exact_key", "n_tokens",
                           "has_signature", "signature")  # fmt: skip
        prev_bands = prev.select("node_id", "signature").mapInArrow(
            _band_batches(cfg.num_perm, bands, rows), "node_id string, bands array<bigint>"
        )
        prev = prev.join(prev_bands, "node_id").select(
            "node_id", "exact_key", "n_tokens", "has_signature", "signature", "bands",
            F.lit(float("-inf")).alias("score"), F.lit(0).cast("long").alias("n_chars"), F.lit(True).alias("is_prev"))  # fmt: skip
        nodes = cur.unionByName(prev)
    else:
        nodes = cur
    nodes = nodes.persist()
    exact_edges = _star_edges(nodes.where("n_tokens > 0").select("node_id", "exact_key"), ["exact_key"])
    banded = nodes.where("has_signature").select("node_id", F.posexplode("bands").alias("band", "key"))
    cand = _star_edges(banded, ["band", "key"]).distinct().persist()
    n_cand = cand.count()
    if cfg.verify:
        sigs = nodes.select("node_id", "signature")
        pairs = (cand.join(sigs.select(F.col("node_id").alias("a"), F.col("signature").alias("sig_a")), "a")
                 .join(sigs.select(F.col("node_id").alias("b"), F.col("signature").alias("sig_b")), "b"))  # fmt: skip
        verified = pairs.select("a", "b", "sig_a", "sig_b").mapInArrow(
            _verify_batches(cfg.threshold, cfg.num_perm), "a string, b string"
        )
    else:
        verified = cand
    verified = verified.persist()
    n_verified = verified.count()
    n_exact = exact_edges.count()
    comp = connected_components(spark, exact_edges.union(verified), scratch)
    assigned = nodes.join(comp, "node_id", "left").withColumn("rep", F.coalesce("rep", "node_id"))
    w_rep = Window.partitionBy("rep")
    best = Window.partitionBy("rep").orderBy(F.col("is_prev").asc(), F.col("score").desc(), F.col("n_chars").desc(),
                                             F.col("node_id").asc())  # fmt: skip
    assigned = (assigned
                .withColumn("size", F.sum(F.when(F.col("is_prev"), 0).otherwise(1)).over(w_rep))
                .withColumn("has_prev", F.max(F.col("is_prev").cast("int")).over(w_rep) > 0)
                .withColumn("keeper", F.first("node_id").over(best.rowsBetween(Window.unboundedPreceding, 0)))
                .withColumn("keeper_exact", F.first("exact_key").over(best.rowsBetween(Window.unboundedPreceding, 0))))  # fmt: skip
    status = (F.when((F.col("n_tokens") == 0) & ~F.col("has_prev"), C.NO_TOKENS)
              .when(F.col("has_prev"), C.PREVIOUS)
              .when((F.col("size") > 1) & (F.col("keeper") == F.col("node_id")), C.KEPT)
              .when(F.col("keeper") != F.col("node_id"),
                    F.when(F.col("exact_key") == F.col("keeper_exact"), C.EXACT_DUP).otherwise(C.NEAR_DUP))
              .otherwise(C.UNIQUE))  # fmt: skip
    assigned = assigned.withColumn("status", status).withColumn(
        "dup_of", F.when(F.col("status").isin(C.EXACT_DUP, C.NEAR_DUP), F.col("keeper"))
    )
    result = assigned.where(~F.col("is_prev")).select(
        F.col("node_id").alias("doc_id"), F.col("rep").alias("dup_cluster_id"), F.col("size").cast("int").alias("dup_cluster_size"),
        F.col("status").alias("node_status"), F.col("dup_of").alias("node_dup_of"))  # fmt: skip
    rows_df = sk.select("doc_id", "source", "dataset", "part", "row", "eval_hits", "occurrence", "exact_key",
                        "signature", "has_signature", "n_tokens").join(result, "doc_id")  # fmt: skip
    status_col = F.when(F.col("occurrence") > 1, C.DUP_ID).otherwise(F.col("node_status"))
    rows_df = rows_df.select(
        "doc_id", "source", "dataset", "dup_cluster_id", "dup_cluster_size", status_col.alias("dup_status"),
        F.when(F.col("occurrence") > 1, F.col("doc_id")).otherwise(F.col("node_dup_of")).alias("dup_of"),
        "eval_hits", "part", "row", status_col.isin(*INDEX_STATUSES).alias("in_index"), "exact_key", "signature",
        "has_signature", "n_tokens").persist()  # fmt: skip
    n_parts = len(stage.parts)
    stage_parts = [(ds, p.name) for ds, p in stage.parts]
    written = (rows_df.repartition(max(1, min(n_parts, int(spark.conf.get("spark.sql.shuffle.partitions")))), "part")
               .mapInArrow(_write_parts(stage_parts, str(work_dir)), "part int, rows bigint").collect())  # fmt: skip
    empty_rows = pa.Table.from_pylist([], schema=pa.schema(
        [(f.name, f.type) for f in get_schema("dedup_attributes").arrow_schema()]
        + [("part", pa.int32()), ("row", pa.int32()), ("in_index", pa.bool_()), ("exact_key", pa.binary(16)),
           ("signature", pa.binary()), ("has_signature", pa.bool_()), ("n_tokens", pa.int32())]))  # fmt: skip
    for p in sorted(set(range(n_parts)) - {r["part"] for r in written}):  # parts without rows: empty files
        ds, name = stage_parts[p]
        write_part_outputs(work_dir, ds, name, empty_rows)
    copy_previous_index(cfg, work_dir)
    # summary: small aggregates only
    stat_rows = rows_df.groupBy("dataset", "dup_status").count().collect()
    clusters = rows_df.where("dup_cluster_size > 1").select("dup_cluster_id").distinct().count()
    largest = rows_df.agg(F.max("dup_cluster_size")).collect()[0][0] or 0
    statuses: dict[str, int] = {}
    by_ds: dict[str, dict] = {}
    for r in stat_rows:
        statuses[r["dup_status"]] = statuses.get(r["dup_status"], 0) + r["count"]
        d = by_ds.setdefault(r["dataset"], {"rows": 0, "dropped": 0})
        d["rows"] += r["count"]
        if r["dup_status"] in C.DROP_STATUSES:
            d["dropped"] += r["count"]
    for df in (nodes, cand, verified, rows_df):
        df.unpersist()
    import shutil

    shutil.rmtree(scratch, ignore_errors=True)
    return {
        "statuses": dict(sorted(statuses.items())),
        "clusters": clusters,
        "largest_cluster": int(largest),
        "edges": {"exact": n_exact, "candidates": n_cand, "verified": n_verified},
        "by_dataset": dict(sorted(by_ds.items())),
        "previous_index_rows": n_prev or None,
    }
