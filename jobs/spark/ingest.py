"""spark-submit entry point for the ingest stage.

    spark-submit --master yarn --py-files dist/music_platform.zip jobs/spark/ingest.py --config run.yaml

Tasks (input files and splits) run as Spark partitions; the duplicate-key check is a Spark
aggregation, so no corpus-sized object reaches the driver. Outputs, manifest and cards are the
same as the local datatrove run's (byte-identical data files).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    # importable both as `jobs.spark.ingest` and as a script given to spark-submit
    root = Path(__file__).resolve().parents[2]
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from jobs.config import load_config  # noqa: PLC0415
    from jobs.run import format_summary, run_corpus  # noqa: PLC0415

    p = argparse.ArgumentParser(prog="jobs/spark/ingest.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", type=Path, help="run config YAML (default: configs/demo.yaml)")
    p.add_argument("--out", help="output directory (a path every executor can write: local, NFS, Lustre)")
    p.add_argument("--master", help="override spark.master (spark-submit's --master wins when given there)")
    p.add_argument("--with-sample", action="store_true", help="also (re)generate the demo sample first")
    p.add_argument("--force", action="store_true")
    args = p.parse_args(argv)
    overrides: dict = {"engine": "spark"}
    if args.out:
        overrides["out"] = args.out
    if args.master:
        overrides["spark.master"] = args.master
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    cfg = load_config(args.config, overrides)
    stages = ("sample", "ingest") if args.with_sample else ("ingest",)
    report = run_corpus(cfg, stages=stages, force=args.force, progress=False)
    print(format_summary(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
