"""spark-submit entry point for the refine stage.

    spark-submit --master yarn --py-files dist/music_platform.zip jobs/spark/refine.py --config run.yaml

Each ingested part file of documents and comments is one Spark task: cleaned, scored by the
music-domain classifier and PII-masked (models load once per Python worker).
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script by spark-submit: the repo root, not this folder,
    sys.path[0] = str(Path(__file__).resolve().parents[2])  # goes first on the path

from jobs.spark._submit import submit_main


def main(argv: list[str] | None = None) -> int:
    return submit_main("refine", __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
