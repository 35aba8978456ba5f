"""Determinism, layout, counts and byte targets of the generated sample."""

from __future__ import annotations

import csv
import time
from dataclasses import replace
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from corpus.sample import DATASET_PATHS, SampleConfig, SampleSummary, catalog, documents, generate_sample


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _rows(path: Path) -> int:
    if path.suffix == ".jsonl":
        return sum(1 for line in path.read_bytes().splitlines() if line.strip())
    if path.suffix == ".parquet":
        return pq.ParquetFile(path).metadata.num_rows
    with open(path, newline="", encoding="utf-8") as f:
        return sum(1 for _ in csv.reader(f)) - 1


def test_tiny_is_byte_identical_across_runs(tmp_path: Path) -> None:
    t0 = time.perf_counter()
    generate_sample(SampleConfig.preset("tiny"), tmp_path / "a")
    elapsed = time.perf_counter() - t0
    generate_sample(SampleConfig.preset("tiny"), tmp_path / "b")
    a, b = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == []
    assert elapsed < 4.0, f"tiny preset took {elapsed:.1f}s (budget ~2 s)"


def test_other_seed_gives_other_data(tmp_path: Path, tiny: SampleSummary) -> None:
    generate_sample(SampleConfig.preset("tiny", seed=1), tmp_path)
    a = (tiny.out_dir / "documents/part-00000.jsonl").read_bytes()
    b = (tmp_path / "documents/part-00000.jsonl").read_bytes()
    assert a != b


def test_layout_and_counts_match_sample_json(tiny: SampleSummary) -> None:
    out = tiny.out_dir
    meta = orjson.loads((out / "_sample.json").read_bytes())
    assert meta["generated"] is True
    assert meta["config"] == tiny.config.to_dict()
    for ds, (rel, _fmt) in DATASET_PATHS.items():
        assert (out / rel).exists(), f"{ds}: {rel} missing"
    listed = {f["path"]: f for f in meta["files"]}
    on_disk = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()} - {"README.md", "_sample.json"}
    assert set(listed) == on_disk
    per_ds: dict[str, int] = {}
    for rel, f in listed.items():
        assert _rows(out / rel) == f["rows"], rel
        assert (out / rel).stat().st_size == f["bytes"], rel
        if f["dataset"]:
            per_ds[f["dataset"]] = per_ds.get(f["dataset"], 0) + f["rows"]
    assert per_ds == meta["datasets"]
    cfg = tiny.config
    assert meta["datasets"]["documents"] == cfg.n_documents
    assert meta["datasets"]["comments"] == cfg.n_comments
    assert meta["datasets"]["artists"] == cfg.n_artists
    assert meta["datasets"]["songs"] == cfg.n_songs
    assert meta["datasets"]["user_profiles"] == cfg.n_users
    assert meta["datasets"]["playlists"] == cfg.n_playlists
    assert meta["truth"]["domain_labels"] == cfg.n_documents
    assert meta["total_bytes"] == tiny.total_bytes


def test_readme_says_generated_first(tiny: SampleSummary) -> None:
    head = (tiny.out_dir / "README.md").read_text(encoding="utf-8").splitlines()[:4]
    text = " ".join(head)
    assert "GENERATED" in text and "corpus/sample" in text
    assert f"seed **{tiny.config.seed}**" in text and "tiny" in text


def test_files_roll_over_at_max_file_bytes(tmp_path: Path, tiny: SampleSummary) -> None:
    cfg = replace(SampleConfig.preset("tiny"), max_file_bytes=256 << 10)
    s = generate_sample(cfg, tmp_path)
    parts = sorted((tmp_path / "documents").glob("part-*.jsonl"))
    assert len(parts) > 2
    assert all(p.stat().st_size <= 256 << 10 for p in parts)
    # same documents, only split differently
    joined = b"".join(p.read_bytes() for p in parts)
    assert joined == (tiny.out_dir / "documents/part-00000.jsonl").read_bytes()
    assert s.datasets == tiny.datasets


def test_document_chunks_do_not_depend_on_total_size() -> None:
    small = SampleConfig.preset("tiny")
    big = replace(small, n_documents=small.n_documents * 3)
    cat = catalog.build_catalog(small)
    assert documents.generate_chunk(small, cat, 0).docs == documents.generate_chunk(big, cat, 0).docs


def test_presets_and_validation() -> None:
    tiny, small, medium = (SampleConfig.preset(n) for n in ("tiny", "small", "medium"))
    assert 500 <= tiny.n_documents <= 700
    assert small.n_documents == 3_000 and medium.n_documents == 30_000
    assert SampleConfig.preset("small", seed=7).seed == 7
    with pytest.raises(ValueError):
        SampleConfig.preset("huge")
    with pytest.raises(ValueError):
        SampleConfig(music_fraction=1.5)
    with pytest.raises(ValueError):
        SampleConfig(n_documents=0)


def test_for_target_bytes_scales_counts() -> None:
    a = SampleConfig.for_target_bytes(20 << 20)
    b = SampleConfig.for_target_bytes(1 << 30)
    assert b.n_documents > 40 * a.n_documents
    assert b.n_comments > 40 * a.n_comments
    assert b.n_users * b.events_per_user > 40 * a.n_users * a.events_per_user
    assert a.n_songs < b.n_songs < 10 * a.n_songs  # the catalog grows sublinearly


@pytest.mark.parametrize("target", [4 << 20, pytest.param(20 << 20, marks=pytest.mark.slow)])
def test_for_target_bytes_lands_within_20_percent(tmp_path: Path, target: int) -> None:
    s = generate_sample(SampleConfig.for_target_bytes(target), tmp_path)
    total = sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file())
    assert abs(total - target) / target < 0.2, (total, target)
    assert abs(s.total_bytes - target) / target < 0.2


def test_workers_give_the_same_bytes(tmp_path: Path, tiny: SampleSummary) -> None:
    generate_sample(SampleConfig.preset("tiny"), tmp_path, workers=2)
    a, b = _tree(tiny.out_dir), _tree(tmp_path)
    assert a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == []
