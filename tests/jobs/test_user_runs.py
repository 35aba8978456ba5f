"""The corpus run as a new user meets it: their own CSV/JSONL folder with mistakes in it, a secret salt,
bad invocations, a moved output folder and a killed run (the hardening issue's defects, one test each)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

from tests.jobs.user_data import SONGS, write_user_data

ROOT = Path(__file__).resolve().parents[2]
SALT = "s3cr3t-pepper-7f1c2a9b-do-not-leak"
SALT_ENV = "MUSIC_TEST_PII_SALT"
STAGES = ("ingest", "refine", "dedup", "select", "behavior", "relations", "knowledge", "mix", "shards")


def cli(*args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "jobs", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout)  # fmt: skip


@pytest.fixture(scope="module")
def user_run(tmp_path_factory, shared_data):
    """The whole run on a user's folder: pseudonym PII masking with a salt from the environment, `-v` logs."""
    base = tmp_path_factory.mktemp("user")
    data = write_user_data(base / "my_data", shared_data)
    with (data / "comments.jsonl").open("a", encoding="utf-8") as f:  # PII for the pseudonyms
        f.write('{"id": "c6", "user_id": "u1", "item_type": "song", "item_id": "2", '
                '"text": "Lovely song, write to me at jane.doe@example.com about the tabs"}\n')
    config = base / "run.yaml"
    config.write_text(f"refine:\n  pii_mode: pseudonym\n  pii_salt_env: {SALT_ENV}\n")
    out = base / "out"
    p = cli("-v", "run", "--config", str(config), "--input", str(data), "--out", str(out), "--allow-unknown-inputs",
            env={SALT_ENV: SALT})  # fmt: skip
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-5000:]
    return data, config, out, p.stdout + p.stderr


def manifests(out: Path) -> dict[str, dict]:
    return {d.name: orjson.loads((d / "_manifest.json").read_bytes()) for d in sorted(out.iterdir())
            if (d / "_manifest.json").exists()}  # fmt: skip


def rows(path: Path, columns: list[str] | None = None) -> list[dict]:
    return pads.dataset(path, format="parquet").to_table(columns=columns).to_pylist()


# 1. the PII salt
def test_salt_never_reaches_outputs_manifests_or_logs(user_run):
    _, _, out, log = user_run
    assert "pii_salt_env" in log  # the -v log printed the config, without the secret
    assert SALT not in log
    leaks = [f for f in out.rglob("*") if f.is_file() and SALT.encode() in f.read_bytes()]
    assert leaks == []
    refined = " ".join(r["text"] for r in rows(out / "refine" / "comments", ["text"]))
    assert "<EMAIL_" in refined and "jane.doe@example.com" not in refined  # pseudonyms were made with it
    config = orjson.loads(manifests(out)["refine"]["config"])
    assert config["pii_salt_env"] == SALT_ENV and config["pii_salt_fingerprint"].startswith("scrypt:")


def test_salt_in_the_config_or_missing_is_a_clear_error(tmp_path, shared_data):
    data = write_user_data(tmp_path / "d", shared_data, unknown_file=False)
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"refine:\n  pii_mode: pseudonym\n  pii_salt: {SALT}\n")
    p = cli("run", "--config", str(bad), "--input", str(data), "--out", str(tmp_path / "o"))
    assert p.returncode == 2 and "pii_salt_env" in p.stderr and SALT not in p.stderr + p.stdout
    ok = tmp_path / "ok.yaml"
    ok.write_text(f"refine:\n  pii_mode: pseudonym\n  pii_salt_env: {SALT_ENV}\n")
    env = {k: v for k, v in os.environ.items() if k != SALT_ENV}
    p = subprocess.run([sys.executable, "-m", "jobs", "run", "--config", str(ok), "--input", str(data), "--out",
                        str(tmp_path / "o")], cwd=ROOT, capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert p.returncode == 2 and f"{SALT_ENV} is not set" in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "o").exists()


# 2. the mix keeps the user's text
def test_user_mix_keeps_every_selected_document(user_run):
    _, _, out, _ = user_run
    selected = {r["doc_id"] for r in rows(out / "select" / "training_documents", ["doc_id"])}
    knowledge = {r["doc_id"] for r in rows(out / "knowledge" / "training_documents", ["doc_id"])}
    sequences = {r["seq_id"] for r in rows(out / "behavior" / "training_sequences", ["seq_id"])}
    mixed = {r["doc_id"].split("~")[0] for r in rows(out / "mix" / "training_documents", ["doc_id"])}
    assert len(selected) >= 10 and len(knowledge) >= len(SONGS)
    assert selected <= mixed and knowledge <= mixed and sequences <= mixed  # no document cut
    report = orjson.loads((out / "mix" / "_report.json").read_bytes())
    assert report["rule"] == "keep_all" and report["totals"]["kept_documents"] == report["totals"]["documents"]
    assert "Rule `keep_all`" in (out / "mix" / "_report.md").read_text()
    assert not list(pq.ParquetFile(f).metadata.num_rows for f in (out / "mix" / "_exclusions").glob("*.parquet")
                    if pq.ParquetFile(f).metadata.num_rows)


# 3. files the run does not recognise
def test_unknown_input_files_stop_the_run_or_are_recorded(user_run, tmp_path, shared_data):
    data = write_user_data(tmp_path / "d", shared_data)
    (data / "songs_extra").mkdir()  # a folder that is no dataset either
    p = cli("run", "--input", str(data), "--out", str(tmp_path / "o"))
    assert p.returncode == 2 and "tracks.csv" in p.stderr and "songs_extra/" in p.stderr
    assert "behavior_events" in p.stderr and "--allow-unknown-inputs" in p.stderr  # the accepted names, the way on
    assert not (tmp_path / "o").exists()
    _, _, out, log = user_run  # with the flag: a warning and a record in the ingest manifest
    assert "not read (not a dataset): tracks.csv" in log
    ignored = orjson.loads(manifests(out)["ingest"]["config"])["ignored_inputs"]
    assert {"path": "tracks.csv", "reason": "unrecognised"} in ignored


# 4. early, clear errors
def test_bad_tokenizer_path_fails_before_any_stage(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("shards:\n  tokenizer: /no/such/tokenizer\n")
    t0 = time.perf_counter()
    p = cli("run", "--config", str(config), "--out", str(tmp_path / "o"), timeout=60)
    elapsed = time.perf_counter() - t0
    assert p.returncode == 2 and elapsed < 10, (elapsed, p.stderr)
    assert "shards.tokenizer: /no/such/tokenizer" in p.stderr and "Traceback" not in p.stderr + p.stdout
    assert not (tmp_path / "o").exists()


def test_unknown_stage_and_config_typo_are_named_with_a_suggestion(tmp_path):
    p = cli("run", "--stages", "ingest,refnie", "--out", str(tmp_path / "o"), timeout=60)
    assert p.returncode == 2 and "'refnie' (did you mean 'refine'?)" in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "o").exists()
    config = tmp_path / "c.yaml"
    config.write_text("mix:\n  max_repeat: 2\nrefine:\n  pii_mod: pseudonym\n")
    p = cli("run", "--config", str(config), "--out", str(tmp_path / "o"), timeout=60)
    assert p.returncode == 2 and "mix.max_repeat: unknown key; did you mean `max_repeats`?" in p.stderr
    assert "refine.pii_mod: unknown key; did you mean `pii_mode`?" in p.stderr and not (tmp_path / "o").exists()
    p = cli("-v", "run", "--stages", "ingest,refnie", "--out", str(tmp_path / "o"), timeout=60)
    assert p.returncode == 2 and "Traceback" in p.stderr  # -v keeps the traceback for a bug report


def test_an_unreadable_input_file_is_one_clear_message(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    (d / "songs.csv").write_text("")  # no header line
    (d / "documents.jsonl").write_text('{"text": "a review of Intro"}\n')
    p = cli("run", "--input", str(d), "--out", str(tmp_path / "o"), "--stages", "ingest", timeout=120)
    assert p.returncode == 2 and f"{d / 'songs.csv'}: file is empty; expected a header line" in p.stderr
    assert "on_bad_file: quarantine" in p.stderr and "Traceback" not in p.stderr


# 6. contract enforcement
def test_values_outside_the_contract_are_quarantined(user_run):
    _, _, out, _ = user_run
    q = rows(out / "ingest" / "_quarantine")
    by_reason = {(r["reason"], r["field"]) for r in q}
    assert ("bad_value", "feedback") in by_reason and ("bad_type", "text") in by_reason
    teleport = next(r for r in q if r["reason"] == "bad_value")
    assert "teleport" in teleport["message"] and teleport["file"].endswith("behavior_events.jsonl") and teleport["row"]
    sequences = " ".join(r["text"] for r in rows(out / "behavior" / "training_sequences", ["text"]))
    assert "teleport" not in sequences and "12345" not in " ".join(
        r["text"] for r in rows(out / "mix" / "training_documents", ["text"]))


# 7. relocatable outputs
def test_a_moved_output_folder_reruns_as_a_noop(user_run, tmp_path):
    data, config, out, _ = user_run
    moved = tmp_path / "moved"
    shutil.copytree(out, moved)
    p = cli("run", "--config", str(config), "--input", str(data), "--out", str(moved), "--allow-unknown-inputs",
            env={SALT_ENV: SALT})  # fmt: skip
    assert p.returncode == 0, p.stderr[-3000:]
    assert all(f"{s}: up to date" in p.stderr for s in STAGES), p.stderr
    assert "music-corpus blends" in p.stderr  # the blend files still point into the old folder
    p = cli("blends", str(moved))
    assert p.returncode == 0, p.stderr
    for f in (moved / "shards" / "blends").glob("*.data_args.txt"):
        prefixes = f.read_text().split()[1::2]
        assert prefixes and all(x.startswith(str(moved.resolve() / "shards")) for x in prefixes)
        assert all(Path(x + ".bin").exists() for x in prefixes)
    p = cli("run", "--config", str(config), "--input", str(data), "--out", str(moved), "--allow-unknown-inputs",
            env={SALT_ENV: SALT})  # fmt: skip
    assert p.returncode == 0 and "music-corpus blends" not in p.stderr and p.stderr.count("up to date") == len(STAGES)
    assert not any(str(out) in i["path"] for man in manifests(moved).values() for i in man["inputs"])  # portable


# 8. accounting per source
def test_every_manifest_counts_every_source(user_run):
    _, _, out, _ = user_run
    found = manifests(out)
    assert set(found) == set(STAGES)
    for stage, m in found.items():
        by_source = m["by_source"]
        assert by_source, stage
        for source, s in by_source.items():
            assert s["rows_in"] == s["rows_out"] + sum(s["dropped"].values()) + sum(s["quarantined"].values()), (stage, source)
        assert sum(s["rows_in"] for s in by_source.values()) == m["rows_in"], stage
        for key in ("dropped", "quarantined"):
            total: dict[str, int] = {}
            for s in by_source.values():
                for k, v in s[key].items():
                    total[k] = total.get(k, 0) + v
            assert total == m[key], (stage, key)


def test_duplicate_and_exclusion_messages_name_what_a_user_can_find(user_run):
    _, _, out, _ = user_run
    excl = rows(out / "behavior" / "_exclusions")
    assert excl and all(r["detail"] for r in excl)  # the unknown song and the teleport's user are explained
    assert any("is not in the catalog" in r["detail"] for r in excl)


# 9. clean-up after a kill, and the relations stage's JVM
def test_a_killed_run_leaves_no_temp_folders(tmp_path, shared_data):
    data = write_user_data(tmp_path / "d", shared_data, unknown_file=False)
    system_tmp = tmp_path / "system_tmp"
    system_tmp.mkdir()
    out = tmp_path / "o"
    args = [sys.executable, "-m", "jobs", "run", "--input", str(data), "--out", str(out), "--quiet",
            "--stages", "ingest,behavior,relations"]  # fmt: skip
    env = {**os.environ, "TMPDIR": str(system_tmp)}
    p = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 240
    while not list((out / "_tmp" / "spark").glob("blockmgr-*")):  # Spark is running the relations stage
        assert p.poll() is None and time.time() < deadline, p.stdout.read().decode()[-3000:]
        time.sleep(0.1)
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    time.sleep(0.5)
    assert sorted(x.name for x in system_tmp.iterdir()) == []
    assert list((out / "_tmp").iterdir())  # what the kill left is in the run's own folder ...
    p = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout[-3000:]
    assert not (out / "_tmp").exists() and sorted(x.name for x in system_tmp.iterdir()) == []  # ... until the next run
    assert not list(out.glob("*.work-*"))
    assert sorted(d.name for d in (out / "_logs").iterdir() if d.is_dir()) == sorted(
        f"{s}.work-{manifests(out)[s]['fingerprint'][:16]}" for s in ("ingest", "behavior"))  # no stale log folders


def test_the_relations_stage_stops_its_jvm(tmp_path, shared_data):
    """The stage's own Spark session ends with the stage, JVM included (a fresh process: no test session)."""
    data = write_user_data(tmp_path / "d", shared_data, unknown_file=False)
    code = f"""
import os, subprocess
from jobs.run import run_corpus
from jobs.config import load_config
from jobs.engines import LocalEngine
from jobs.cli import _input_sources
from pyspark import SparkContext
sources, _ = _input_sources(__import__("pathlib").Path({str(data)!r}))
cfg = load_config(None, {{"out": {str(tmp_path / "o")!r}, "sample.enabled": False, "ingest.sources": sources}})
run_corpus(cfg, stages=("ingest", "relations"), engine=LocalEngine())
children = subprocess.run(["pgrep", "-P", str(os.getpid())], capture_output=True, text=True).stdout.split()
print("GATEWAY", SparkContext._gateway is None, "CHILDREN", len(children))
"""
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert "GATEWAY True CHILDREN 0" in p.stdout, p.stdout[-2000:] + p.stderr[-3000:]
