"""Fixtures for the sample generator tests: one tiny sample per session, and readers for its files."""

from __future__ import annotations

import csv
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from corpus.sample import SampleConfig, SampleSummary, generate_sample


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> SampleSummary:
    return generate_sample(SampleConfig.preset("tiny"), tmp_path_factory.mktemp("tiny"))


def read_jsonl(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def read_dir_jsonl(path: Path) -> list[dict]:
    rows: list[dict] = []
    for f in sorted(path.glob("*.jsonl")):
        rows += read_jsonl(f)
    return rows


def read_parquet(path: Path) -> list[dict]:
    if path.is_dir():
        out: list[dict] = []
        for f in sorted(path.glob("*.parquet")):
            out += pq.read_table(f).to_pylist()
        return out
    return pq.read_table(path).to_pylist()


def read_songs(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        for c in ("artists", "artist_ids", "genres"):
            r[c] = orjson.loads(r[c])
    return rows


@pytest.fixture(scope="session")
def tables(tiny: SampleSummary) -> dict[str, list[dict]]:
    out = tiny.out_dir
    return {
        "documents": read_dir_jsonl(out / "documents"),
        "comments": read_dir_jsonl(out / "comments"),
        "artists": read_parquet(out / "artists/artists.parquet"),
        "albums": read_jsonl(out / "albums/albums.jsonl"),
        "songs": read_songs(out / "songs/songs.csv"),
        "charts": read_jsonl(out / "chart_entries/charts.jsonl"),
        "playlists": read_jsonl(out / "playlists/playlists.jsonl"),
        "users": read_parquet(out / "user_profiles/users.parquet"),
        "events": read_parquet(out / "behavior_events"),
        "relations": read_jsonl(out / "item_relations/relations.jsonl"),
        "labels": read_parquet(out / "_truth/domain_labels.parquet"),
        "duplicates": read_parquet(out / "_truth/duplicates.parquet"),
        "pii": read_parquet(out / "_truth/pii.parquet"),
        "decoys": read_parquet(out / "_truth/pii_decoys.parquet"),
        "taste": read_parquet(out / "_truth/user_taste.parquet"),
    }
