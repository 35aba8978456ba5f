"""Seeded generator of a self-consistent, made-up music streaming platform, written as raw input files.

`generate_sample(SampleConfig.preset("small"), out_dir)` writes documents, catalog, comments,
playlists, users and behaviour events in the layout the generic ingest adapter reads, plus ground
truth (domain labels, duplicate clusters, PII spans) under `_truth/`. It is the default input of
`make corpus` and the benchmark input at any size (`SampleConfig.for_target_bytes`).
"""

from corpus.sample.config import SampleConfig, derive_seed
from corpus.sample.generate import DATASET_PATHS, SOURCE_NAME, SampleSummary, generate_sample, sample_sources

__all__ = [
    "DATASET_PATHS",
    "SOURCE_NAME",
    "SampleConfig",
    "SampleSummary",
    "derive_seed",
    "generate_sample",
    "sample_sources",
]
