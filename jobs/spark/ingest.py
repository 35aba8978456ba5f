"""spark-submit entry point for the ingest stage.

    spark-submit --master yarn --py-files dist/music_platform.zip jobs/spark/ingest.py --config run.yaml

Tasks (input files and splits) run as Spark partitions; the duplicate-key check is a Spark
aggregation, so no corpus-sized object reaches the driver. Outputs, manifest and cards are the
same as the local datatrove run's (byte-identical data files).
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script by spark-submit: the repo root, not this folder,
    sys.path[0] = str(Path(__file__).resolve().parents[2])  # goes first on the path

from jobs.spark._submit import submit_main


def main(argv: list[str] | None = None) -> int:
    return submit_main("ingest", __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
