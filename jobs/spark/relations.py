"""spark-submit entry point for the relations stage (its Spark library: `jobs.spark.lib.relations`).

    spark-submit --master yarn --py-files dist/music_platform.zip jobs/spark/relations.py --config run.yaml

Item-to-item relations from co-occurrence in playlists, listening sessions and play-count libraries (binary cosine, top k per item), written as item_relations.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script by spark-submit: the repo root, not this folder,
    sys.path[0] = str(Path(__file__).resolve().parents[2])  # goes first on the path

from jobs.spark._submit import submit_main


def main(argv: list[str] | None = None) -> int:
    return submit_main("relations", __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
