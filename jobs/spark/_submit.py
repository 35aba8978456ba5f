"""Shared body of the `spark-submit` entry points: run chosen stages of a run config on Spark.

Each job file (`ingest.py`, `refine.py`, `select_documents.py`) is a thin wrapper naming its stage, so a cluster
scheduler can run and retry them one by one; outputs are byte-identical to a local datatrove run's.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path


def submit_main(stage: str, doc: str, argv: list[str] | None = None) -> int:
    from jobs.config import load_config
    from jobs.run import format_summary, run_corpus

    p = argparse.ArgumentParser(prog=Path(sys.argv[0]).name if argv is None else stage, description=doc,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", type=Path, help="run config YAML (default: configs/demo.yaml)")
    p.add_argument("--out", help="output directory (a path every executor can write: local, NFS, Lustre)")
    p.add_argument("--master", help="override spark.master (spark-submit's --master wins when given there)")
    if stage == "ingest":
        p.add_argument("--with-sample", action="store_true", help="also (re)generate the demo sample first")
    p.add_argument("--force", action="store_true", help="re-run even when the stage's manifest matches")
    args = p.parse_args(argv)
    overrides: dict = {"engine": "spark"}
    if args.out:
        overrides["out"] = args.out
    if args.master:
        overrides["spark.master"] = args.master
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    cfg = load_config(args.config, overrides)
    stages = ("sample", "ingest") if getattr(args, "with_sample", False) else (stage,)
    report = run_corpus(cfg, stages=stages, force=args.force, progress=False)
    print(format_summary(report))
    return 0
