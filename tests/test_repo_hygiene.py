"""The repository holds code, configs and docs, not run outputs: nothing tracked lies under an output folder
(`out/`, `out_*/`, `bench_out/`), and no data file (Parquet, Megatron shards, JSONL/CSV tables, tensors) is
tracked outside test fixtures and `annotations/` folders (our own hand labels: keys into the shared data,
never its text). Data derived from the shared datasets stays under their licenses, outside git."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OUTPUT_DIR = re.compile(r"^(out|out_[^/]*|bench_out|dist|build)/")
DATA_FILE = re.compile(r"\.(parquet|arrow|feather|bin|idx|npy|npz|pt|pth|safetensors|jsonl|csv|tsv|tfrecord)(\.gz|\.zst)?$")
DATA_ALLOWED_DIR = re.compile(r"(^|/)(fixtures|annotations)/")


def tracked_files() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [p for p in out.decode().split("\0") if p]


def run_outputs(paths: list[str]) -> list[str]:
    """Tracked run outputs and data files (data in a `fixtures/` or `annotations/` folder is allowed)."""
    allowed = DATA_ALLOWED_DIR.search
    return [p for p in paths if OUTPUT_DIR.match(p) or (DATA_FILE.search(p) and not allowed(p))]


def test_no_run_outputs_or_data_files_are_tracked():
    bad = run_outputs(tracked_files())
    assert not bad, f"run outputs / data files tracked in git (git rm --cached them): {bad[:20]}"


def test_the_rule_catches_what_it_should():
    caught = ["out_shared/ingest/songs/part-00000.parquet", "out/shards/stage1/demo.bin", "bench_out/report.json",
              "corpus/x.jsonl", "out/annotations/labels.jsonl", "corpus/annotations.jsonl",
              "corpus/my_annotations/labels.csv"]  # fmt: skip
    allowed = ["tests/corpus/fixtures/tiny.jsonl", "corpus/classify/annotations/labels.jsonl",
               "corpus/classify/model/music.ftz", "jobs/run.py"]  # fmt: skip
    assert run_outputs(caught + allowed) == caught


def test_output_folders_are_ignored():
    rules = (ROOT / ".gitignore").read_text().split()
    for rule in ("out/", "out_*/", "bench_out/"):
        assert rule in rules
