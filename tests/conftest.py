"""Shared fixtures: where the shared real data lives, and a small Spark session for Spark tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(os.environ.get("MUSIC_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip(f"shared data not found at {SHARED_DATA} (set MUSIC_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def spark():
    from jobs.config import SparkConfig
    from jobs.engines import spark_session, stop_spark

    s = spark_session(SparkConfig(master="local[2]", app_name="music-corpus-tests"), workers=2)
    yield s
    stop_spark(s)


@pytest.fixture(scope="session")
def demo_ingest(tmp_path_factory) -> Path:
    """The small demo sample, generated and ingested once per test session; returns its ingest folder."""
    from jobs.config import load_config
    from jobs.engines import LocalEngine
    from jobs.run import run_corpus

    out = tmp_path_factory.mktemp("demo_small") / "out"
    cfg = load_config(None, {"out": str(out), "sample.preset": "small"})
    run_corpus(cfg, stages=("sample", "ingest"), engine=LocalEngine(progress=False))
    return out / "ingest"
