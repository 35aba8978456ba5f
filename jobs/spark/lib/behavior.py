"""Spark side of the behavior stage: the shuffle that puts all of a user's events in one bucket.

`bucket_events` writes `<out>/bucket=<b>/*.parquet` with `b = pmod(xxhash64(user_id), n)`, the same
bucket `jobs.stages.behavior.user_buckets` computes in numpy, so a Spark run and a local run give the
same buckets and byte-identical sequences. The per-bucket work (validation, sessions, interleaving)
then runs as the stage's tasks on the executors, with the same plain functions as everywhere else.
"""

from __future__ import annotations

from pathlib import Path


def bucket_events(spark, parts: list[Path], n: int, out: Path) -> None:
    from pyspark.sql import functions as F

    df = spark.read.parquet(*[str(p) for p in parts])
    df = df.withColumn("bucket", F.pmod(F.xxhash64("user_id"), F.lit(n)).cast("int"))
    df.repartition(n, "bucket").write.mode("overwrite").partitionBy("bucket").parquet(str(out))
