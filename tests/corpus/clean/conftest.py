"""Fixtures for the cleaning tests: one cleaner per session and the shared real-data folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from corpus.clean import CleanConfig, DocumentCleaner


def shared_data_dir() -> Path:
    env = os.environ.get("MUSIC_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[3].parent / "shared" / "data"


@pytest.fixture(scope="session")
def cleaner() -> DocumentCleaner:
    c = DocumentCleaner(CleanConfig())
    c.setup()
    return c


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return shared_data_dir()
