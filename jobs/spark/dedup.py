"""spark-submit entry point for the dedup stage (its Spark clustering pass: `jobs.spark.lib.dedup`).

    spark-submit --master yarn --py-files dist/music_platform.zip jobs/spark/dedup.py --config run.yaml
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script by spark-submit: the repo root goes first on the path
    sys.path[0] = str(Path(__file__).resolve().parents[2])

from jobs.spark._submit import submit_main


def main(argv: list[str] | None = None) -> int:
    return submit_main("dedup", __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
