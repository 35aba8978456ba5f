"""Spark side of the behavior stage: the shuffle that puts all of a user's events in one bucket.

`bucket_events` writes `<out>/bucket=<b>/*.parquet` with `b = pmod(xxhash64(user_id), n)`, the same
bucket `jobs.stages.behavior.user_buckets` computes in numpy, so a Spark run and a local run give the
same buckets and byte-identical sequences. The per-bucket work (validation, sessions, interleaving)
then runs as the stage's tasks on the executors, with the same plain functions as everywhere else.

As a job: `spark-submit jobs/spark/behavior.py --config configs/demo.yaml` runs the behavior stage.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file by spark-submit
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def bucket_events(spark, parts: list[Path], n: int, out: Path) -> None:
    from pyspark.sql import functions as F  # noqa: PLC0415

    df = spark.read.parquet(*[str(p) for p in parts])
    df = df.withColumn("bucket", F.pmod(F.xxhash64("user_id"), F.lit(n)).cast("int"))
    df.repartition(n, "bucket").write.mode("overwrite").partitionBy("bucket").parquet(str(out))


def main(argv: list[str] | None = None) -> int:
    from jobs.spark._submit import submit_main  # noqa: PLC0415

    return submit_main("behavior", __doc__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
