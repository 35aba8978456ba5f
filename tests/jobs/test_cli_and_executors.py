"""Every command has --help; the datatrove Slurm path runs end to end against a stand-in `sbatch`."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from jobs.cli import build_parser, main
from jobs.config import ExecutorConfig, RunConfig, SlurmConfig
from jobs.engines import DatatroveEngine, LocalEngine
from jobs.run import run_corpus

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("argv", [[], ["run"], ["sample"], ["validate"], ["schemas"], ["sources"], ["classifier"]])
def test_every_command_has_help(argv, capsys):
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args([*argv, "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: music-corpus") and "--help" in out


@pytest.mark.parametrize("job", ["ingest", "refine", "select_documents"])
def test_spark_entry_points_have_help(job):
    out = subprocess.run([sys.executable, f"jobs/spark/{job}.py", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "spark-submit" in out.stdout and "--config" in out.stdout


def test_schemas_and_sources_listings(capsys):
    assert main(["schemas"]) == 0
    assert "behavior_events" in capsys.readouterr().out
    assert main(["sources"]) == 0
    listing = capsys.readouterr().out
    assert "lastfm_hetrec2011" in listing and "generic" in listing


def test_bad_config_names_the_key(tmp_path, capsys):
    cfg = tmp_path / "run.yaml"
    cfg.write_text("workers: 0\ningest:\n  batch_rowz: 3\n")
    assert main(["run", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "workers: Input should be greater than or equal to 1" in err and "ingest.batch_rowz" in err



def test_set_overrides_config_keys_and_stage_list_matches(tmp_path, capsys):
    from jobs.stages import STAGES

    help_text = build_parser()._subparsers._group_actions[0].choices["run"].format_help().replace("\n", " ")
    assert "".join(help_text.split()).count(",".join(STAGES)) == 1  # the --stages help names every stage, in order
    # a bad value is reported with its dotted key, through the same validation as the YAML file
    assert main(["run", "--out", str(tmp_path), "--set", "select.rm.max_ratio=-1", "--stages", "select"]) == 2
    assert "select.rm" in capsys.readouterr().err
    assert main(["run", "--set", "rm_score.enabled=true", "--stages", "select"]) == 2
    assert "rm_score.enabled needs rm_score.reference" in capsys.readouterr().err
    assert main(["run", "--set", "noequals"]) == 2
    assert "expected KEY=VALUE" in capsys.readouterr().err


FAKE_SBATCH = """#!/usr/bin/env bash
# stand-in for Slurm's sbatch: runs every array index of the script now, then prints a job id
script="${@: -1}"
range=$(sed -n 's/^#SBATCH --array=\\([0-9]*-[0-9]*\\).*/\\1/p' "$script")
for i in $(seq ${range%-*} ${range#*-}); do SLURM_NODELIST=localhost SLURM_ARRAY_TASK_ID=$i bash "$script" >/dev/null 2>&1 || exit 1; done
echo "Submitted batch job 4242"
"""
FAKE_SRUN = """#!/usr/bin/env bash
# stand-in for srun: drop its options, run the command
while [[ "$1" == -* ]]; do [[ "$1" == "-n" ]] && shift; shift; done
exec "$@"
"""


def test_slurm_executor_runs_the_same_tasks(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    scontrol = "#!/usr/bin/env bash\necho localhost\n"  # `scontrol show hostnames`: one node
    for name, body in (("sbatch", FAKE_SBATCH), ("srun", FAKE_SRUN), ("scontrol", scontrol)):
        tool = bin_dir / name
        tool.write_text(body)
        tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}:{Path(sys.executable).parent}:{os.environ['PATH']}")
    docs = tmp_path / "docs.jsonl"
    docs.write_text("".join(f'{{"id": "{i}", "text": "line {i}"}}\n' for i in range(500)))
    src = {"name": "web", "dataset": "documents", "path": str(docs)}

    def cfg(out: str) -> RunConfig:
        return RunConfig.model_validate(
            {"out": str(tmp_path / out), "sample": {"enabled": False}, "ingest": {"sources": [src], "split_bytes": 2000}}
        )

    env = f"export PYTHONPATH={ROOT}; export PATH={bin_dir}:{Path(sys.executable).parent}:$PATH"
    slurm = ExecutorConfig(kind="slurm", slurm=SlurmConfig(partition="cpu", env_command=env))
    report = run_corpus(cfg("slurm"), engine=DatatroveEngine(workers=2, executor=slurm, progress=False), stages=("ingest",))
    local = run_corpus(cfg("local"), engine=LocalEngine(), stages=("ingest",))
    m = report.results[-1].manifest
    assert m["engine"] == "datatrove-slurm" and m["rows_out"] == 500
    assert m["outputs"] == local.results[-1].manifest["outputs"]
    script = next((tmp_path / "slurm" / "_logs").rglob("launch_script.slurm")).read_text()
    assert "#SBATCH --partition=cpu" in script and "launch_pickled_pipeline" in script


def test_classifier_score_command_uses_the_shipped_model(capsys):
    assert main(["classifier", "score", "Metallica released a new album with a 9:12 title track",
                 "Preheat the oven to 200 degrees and knead the dough"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    music, other = (float(line.split("\t")[0]) for line in lines)
    assert music > 0.5 > other
