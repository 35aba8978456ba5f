"""spark-submit entry point for the select stage.

    spark-submit --master yarn --py-files dist/music_platform.zip jobs/spark/select_documents.py --config run.yaml

Applies the select policy to the refine stage's scored documents, one Spark task per part file;
writes training_documents and the exclusions with reasons.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script by spark-submit: the repo root, not this folder,
    sys.path[0] = str(Path(__file__).resolve().parents[2])  # goes first on the path

from jobs.spark._submit import submit_main


def main(argv: list[str] | None = None) -> int:
    return submit_main("select", __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
