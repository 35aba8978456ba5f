"""Multiple-choice benchmarks: items trace to their source rows, gold positions are spread, and the
lm-evaluation-harness tasks (`eval/tasks`, `--include_path`) score a model that knows every answer at 1.0 and
run end to end on a tiny randomly initialised Qwen3 saved to a directory."""

from __future__ import annotations

import csv
import html
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from eval.mc.items import TASKS, build_task
from tests.conftest import SHARED_DATA
from tests.evaluation.tiny import tiny_qwen3

SHARED = SHARED_DATA
TASKS_DIR = Path(__file__).resolve().parents[2] / "eval" / "tasks"
pytestmark = pytest.mark.skipif(not (SHARED / "opentdb_music").is_dir(), reason=f"no shared data at {SHARED}")


@pytest.fixture(scope="module")
def tasks() -> dict:
    return {t: build_task(t, SHARED) for t in TASKS}


def test_sizes_gold_and_spread(tasks) -> None:
    sizes = {t: len(v) for t, v in tasks.items()}
    assert sizes["music_knowledge_opentdb"] == 527 and sizes["music_knowledge_otqa"] > 5000
    assert sizes["music_knowledge_ziqi"] > 13000 and sizes["general_knowledge"] > 13000
    for t, items in tasks.items():
        assert all(0 <= it.gold < len(it.choices) and len(set(it.choices)) == len(it.choices) >= 2 for it in items)
        four = Counter(it.gold for it in items if len(it.choices) == 4)
        assert max(four.values()) / sum(four.values()) < 0.32, (t, four)  # not "always A"
        assert len({it.id for it in items}) == len(items)
    assert {it.lang for it in tasks["music_knowledge_ziqi"]} == {"zh"}


def test_items_trace_to_source_rows(tasks) -> None:
    for items in tasks.values():
        for it in items[:: max(1, len(items) // 200)]:
            path = SHARED / it.source
            if path.suffix == ".csv":
                row = list(csv.DictReader(open(path, newline="", encoding="utf-8")))[it.source_row - 1]
                values = list(row.values())
            elif path.suffix == ".json":
                values = [str(v) for v in json.loads(path.read_text(encoding="utf-8"))[it.source_row].values()]
            else:
                values = [str(v) for v in json.loads(open(path, encoding="utf-8").readlines()[it.source_row - 1]).values()]
            blob = re.sub(r"\s+", " ", html.unescape(" ".join(values)))
            assert it.choices[it.gold] in blob and it.question[:30] in blob, (it.id, it.choices[it.gold])


def test_deterministic(tasks) -> None:
    again = build_task("music_knowledge_opentdb", SHARED)
    assert [i.to_dict() for i in again] == [i.to_dict() for i in tasks["music_knowledge_opentdb"]]


def _answer_key(tasks) -> dict[str, str]:
    """prompt context -> gold choice text, as our YAMLs render them."""
    key = {}
    for t, items in tasks.items():
        for it in items:
            ctx = f"问题：{it.question}\n答案：" if t == "music_knowledge_ziqi" else f"Question: {it.question}\nAnswer:"
            key[ctx] = it.choices[it.gold]
    return key


def test_harness_tasks_score_an_all_knowing_model_at_one(tasks) -> None:
    import lm_eval
    from lm_eval.api.model import LM
    from lm_eval.tasks import TaskManager

    key = _answer_key(tasks)

    class Oracle(LM):
        def loglikelihood(self, requests):
            out = []
            for req in requests:
                ctx, cont = req.args
                out.append((0.0 if cont.strip() == key[ctx].strip() else -10.0, False))
            return out

        def loglikelihood_rolling(self, requests):
            raise NotImplementedError

        def generate_until(self, requests):
            raise NotImplementedError

    res = lm_eval.simple_evaluate(model=Oracle(), tasks=list(TASKS), task_manager=TaskManager(include_path=str(TASKS_DIR)),
                                  limit=40)
    for t in TASKS:
        assert res["results"][t]["acc,none"] == 1.0, t


@pytest.mark.slow
def test_harness_runs_on_a_tiny_random_qwen3(tmp_path: Path) -> None:
    import lm_eval
    from lm_eval.tasks import TaskManager

    tiny_qwen3(tmp_path, hidden=64, layers=2)
    res = lm_eval.simple_evaluate(model="hf", model_args=f"pretrained={tmp_path},dtype=float32",
                                  tasks=["music_knowledge", "general_knowledge"], limit=24, device="cpu",
                                  batch_size=8, task_manager=TaskManager(include_path=str(TASKS_DIR)))
    r = res["results"]
    for t in TASKS:
        assert r[t]["sample_len"] == 24 and 0.0 <= r[t]["acc,none"] <= 1.0 and 0.0 <= r[t]["acc_norm,none"] <= 1.0
    assert r["music_knowledge"]["acc,none"] < 0.7  # a random model is near chance (0.25-0.5)


@pytest.mark.slow
def test_eval_run_writes_report_and_compares_with_a_baseline(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from eval.run import EvalConfig, main, run
    from tests.evaluation.test_u2i import sequences

    model = tiny_qwen3(tmp_path / "tiny", hidden=32, layers=1)
    heldout = tmp_path / "behavior" / "heldout_sequences"
    heldout.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(sequences(3, 4)), heldout / "part-00000.parquet")
    first = run(EvalConfig(model=str(model), out=str(tmp_path / "a"), mc_limit=4, simpleqa_per_lang=3,
                           max_new_tokens=4, heldout=str(heldout), rec_limit=3, rec_max_new_tokens=24))
    assert {"music_knowledge_opentdb", "music_knowledge_ziqi", "general_knowledge", "music_q2i"} <= set(first["mc"])
    assert first["simpleqa"]["all"]["n"] == 6
    assert first["u2i"]["users"] == 3 and first["u2i"]["perplexity"] > 1000  # random weights
    cpcd = first["rec"]["cpcd"]
    assert set(cpcd) == {"model", "popularity", "item_knn", "bm25", "random"} and cpcd["model"]["n"] == 3
    assert "heldout" not in first["rec"]  # no events, relations or ingest next to these sequences
    answers = [json.loads(a) for a in (tmp_path / "a" / "rec_answers.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(answers) == 3 and all(len(a["items"]) == len(a["lines"]) <= 10 for a in answers)
    answers = (tmp_path / "a" / "simpleqa_answers.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(answers) == 6 and all(json.loads(a)["grade"] in ("correct", "incorrect", "not_attempted") for a in answers)
    assert main(["--model", str(model), "--out", str(tmp_path / "b"), "--baseline", str(tmp_path / "a" / "results.json"),
                 "mc_tasks=music_knowledge_opentdb", "mc_limit=4", "simpleqa_per_lang=2", "max_new_tokens=4",
                 "heldout=", "rec_limit=2", "rec_max_new_tokens=8"]) == 0
    report = (tmp_path / "b" / "report.md").read_text(encoding="utf-8")
    assert "baseline acc" in report and (tmp_path / "b" / "scores.png").stat().st_size > 1000
    assert "U2I personalization" in report and "Skipped" in report and "baseline run's model" in report
    stored = json.loads((tmp_path / "b" / "results.json").read_text(encoding="utf-8"))["config"]
    assert stored["mc_tasks"] == ["music_knowledge_opentdb"] and stored["mc_limit"] == 4
    with pytest.raises(ValueError, match="no config.json"):
        EvalConfig(model=str(tmp_path))
    assert main(["--model", str(model), "mc_limit"]) == 2  # a bad override is refused with a message
