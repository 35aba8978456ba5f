"""spark-submit entry point for the knowledge stage.

    spark-submit --master yarn --py-files dist/music_platform.zip jobs/spark/knowledge.py --config run.yaml

Stage 1 and 2 training documents: catalog metadata rendered through EN/ZH templates, documents linked to the catalog, comments joined to their items, playlists and item relations as text.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script by spark-submit: the repo root, not this folder,
    sys.path[0] = str(Path(__file__).resolve().parents[2])  # goes first on the path

from jobs.spark._submit import submit_main


def main(argv: list[str] | None = None) -> int:
    return submit_main("knowledge", __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
