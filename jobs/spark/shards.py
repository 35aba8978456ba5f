"""spark-submit entry point for the shards stage.

    spark-submit --master yarn --py-files dist/music_platform.zip jobs/spark/shards.py --config run.yaml

Megatron .bin/.idx shards per (curriculum stage, source), each Spark partition tokenizing one mix part into its
own partial shard, then a streamed merge; loss-mask sidecars, blend files and the tokenization projection.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script by spark-submit: the repo root, not this folder,
    sys.path[0] = str(Path(__file__).resolve().parents[2])  # goes first on the path

from jobs.spark._submit import submit_main


def main(argv: list[str] | None = None) -> int:
    return submit_main("shards", __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
