"""Shared fixtures: the real training set (built once per session) and a small trained model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(os.environ.get("MUSIC_SHARED_DATA") or Path(__file__).resolve().parents[3].parent / "shared" / "data")
needs_data = pytest.mark.skipif(not (SHARED_DATA / "musiccaps").is_dir(), reason=f"shared data not at {SHARED_DATA}")


@pytest.fixture(scope="session")
def training_set(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    if not (SHARED_DATA / "musiccaps").is_dir():
        pytest.skip(f"shared data not at {SHARED_DATA}")
    from corpus.classify import build_training_set

    out = tmp_path_factory.mktemp("classify_data")
    return out, build_training_set(SHARED_DATA, out, seed=0)


@pytest.fixture(scope="session")
def trained_model(training_set: tuple[Path, dict], tmp_path_factory: pytest.TempPathFactory) -> Path:
    from corpus.classify import train_classifier

    data, _ = training_set
    model_dir = tmp_path_factory.mktemp("classify_model")
    train_classifier(data / "train.jsonl", model_dir, valid_path=data / "valid.jsonl")
    return model_dir
