"""verl tool rollouts: the toolbox as verl tools (called the way verl's `tool_agent` loop calls them, per
`verl/experimental/agent_loop/tool_agent_loop.py::_call_tool` at the commit the launch script cites), the tool config,
the tool-rollout data, and the reward of a decoded tool trajectory (decoded as verl's reward managers decode it:
the real Qwen3 tokenizer, special tokens skipped). verl does not install here, so its base classes are stand-ins
with the documented interface (`pretrain/agent/verl_tools.py`)."""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import subprocess
from types import SimpleNamespace

import pyarrow.parquet as pq
import pytest
import yaml

from eval.recommend.match import CatalogMatcher, CatalogSong
from eval.rewards import RewardConfig
from pretrain import verl_rl
from pretrain.agent import verl_tools
from pretrain.agent.boundary import tool_penalty
from pretrain.agent.chat import _for_template, _template, call_message, turn_prompt
from pretrain.agent.tools import CatalogSearch, Recommend, Toolbox
from pretrain.grpo import HybridReward
from pretrain.sft import QWEN3_TEMPLATE
from tests.pretrain.test_agent import ARTIST, TEXT, FakePersonalizer
from tests.pretrain.test_verl_adapter import LAUNCH, corpus_out  # noqa: F401  (the fixture)


def box() -> Toolbox:
    rec = Recommend({1: ["s1", "s2", "s3", "s5", "s6"]}, {"sad songs": 1}, FakePersonalizer(), TEXT, ARTIST,
                    {"u": ["s2"], "v": ["s5"]}, 2)  # fmt: skip
    return Toolbox(CatalogSearch(TEXT), rec)


@pytest.fixture
def bound_box(tmp_path, monkeypatch):
    """The toolbox `toolbox_for(tmp_path)` returns (a corpus run's would be built from its outputs)."""
    b = box()
    monkeypatch.setitem(verl_tools._TOOLBOXES, str(tmp_path.resolve()), b)
    return b


def call_tool(tool, args: dict, user: str | None):
    """One call as verl's tool agent loop makes it: create with the row's create_kwargs, execute, release."""

    async def run():
        instance, _ = await tool.create(create_kwargs={"user_id": user} if user else {})
        try:
            return await tool.execute(instance, args, agent_data=None)
        finally:
            await tool.release(instance)

    return asyncio.run(run())


def test_verl_tools_run_the_toolbox_for_the_rows_listener(tmp_path, bound_box):
    rec_schema, search_schema = bound_box.schemas
    rec = verl_tools.ToolboxTool({"type": "native", "out": str(tmp_path)}, rec_schema)
    # verl hands a pydantic schema object; the name is its function's
    search = verl_tools.ToolboxTool({"type": "native", "out": str(tmp_path)},
                                    SimpleNamespace(function=SimpleNamespace(name="search_catalog")))  # fmt: skip
    assert (rec.name, search.name) == ("recommend", "search_catalog")
    got, step_reward, metrics = call_tool(rec, {"query": "sad songs", "k": 2}, "v")
    assert got.text == bound_box.execute("recommend", {"query": "sad songs", "k": 2}, "v").text
    assert (step_reward, metrics) == (0.0, {"refused": 0})
    assert "[s5]" not in call_tool(rec, {"query": "sad songs"}, "v")[0].text  # v's own song is not recommended
    assert "[s5]" in call_tool(rec, {"query": "sad songs"}, "u")[0].text
    bad, _, m = call_tool(rec, {"query": "sad songs", "k": 99}, "u")
    assert bad.text.startswith("error: recommend: `k`") and m == {"refused": 1}
    unbound, _, m = call_tool(rec, {"query": "sad songs"}, None)
    assert unbound.text.startswith("error:") and m == {"refused": 1}
    assert call_tool(search, {"query": "purple rain"}, None)[0].text.startswith("1. Purple Rain — Prince [s2]")
    assert rec._users == {}  # every instance released
    with pytest.raises(ValueError, match="config.out"):
        verl_tools.ToolboxTool({"type": "native"}, rec_schema)


def test_tool_config_names_our_tools_with_the_toolbox_schemas(tmp_path, bound_box):
    cfg = yaml.safe_load(yaml.safe_dump(verl_tools.tool_config(tmp_path)))
    assert [t["tool_schema"] for t in cfg["tools"]] == bound_box.schemas
    assert {t["config"]["type"] for t in cfg["tools"]} == {"native"}
    assert {t["config"]["out"] for t in cfg["tools"]} == {str(tmp_path.resolve())}
    module, cls = verl_tools.CLASS_NAME.rsplit(".", 1)  # what verl's get_tool_class imports
    assert getattr(importlib.import_module(module), cls) is verl_tools.ToolboxTool


def small_reward() -> HybridReward:
    songs = [CatalogSong(k, v.split(" — ")[0], (ARTIST[k],)) for k, v in TEXT.items()]
    return HybridReward(CatalogMatcher(songs), FakePersonalizer(), {1: set(TEXT)}, RewardConfig())


def decoded_rollout(turns: list[dict]) -> str:
    """A rollout's response as verl's reward manager decodes it: the chat after the prompt, through the Qwen3
    template (thinking off), tokenized and decoded with special tokens skipped."""
    from transformers import AutoTokenizer

    tools, user = box().schemas, {"role": "user", "content": "Request: sad songs"}
    prompt = turn_prompt([user], tools, QWEN3_TEMPLATE)
    full = _template(QWEN3_TEMPLATE).apply_chat_template(_for_template([user, *turns]), tools=tools, tokenize=False,
                                                         enable_thinking=False)  # fmt: skip
    assert full.startswith(prompt)
    tok = AutoTokenizer.from_pretrained(QWEN3_TEMPLATE)
    return tok.decode(tok.encode(full[len(prompt):], add_special_tokens=False), skip_special_tokens=True)


ANSWER = "1. Karma Police — Radiohead\n2. Halo — Beyoncé"
GT = {"user_id": "u", "cluster": 1, "recent_positive": ["s2"], "query": "sad songs"}


def test_a_tool_rollout_is_scored_on_its_final_answer_with_the_call_penalty():
    reward = small_reward()
    call = call_message([("recommend", {"query": "sad songs", "k": 2})])
    result = {"role": "tool", "content": "1. Karma Police — Radiohead [s6]\n2. Halo — Beyoncé [s3]"}
    response = decoded_rollout([call, result, {"role": "assistant", "content": ANSWER}])
    segments, tools = verl_tools.split_trajectory(response)
    assert segments[-1] == ANSWER and tools == [result["content"]]
    plain = reward.components(ANSWER, "u", 1, ["s2"], "sad songs")
    needed = verl_tools.tool_score(reward, response, {**GT, "memory_succeeds": False}, "sad songs", 0.1)
    needless = verl_tools.tool_score(reward, response, {**GT, "memory_succeeds": True}, "sad songs", 0.1)
    assert needed["score"] == pytest.approx(plain["reward"]) and needed["tool_calls"] == 1.0
    assert needless["score"] == pytest.approx(plain["reward"] - 0.1) and needless["tool_penalty"] == -0.1
    # an answer from memory: no call, no penalty, the whole response is the answer
    direct = verl_tools.tool_score(reward, decoded_rollout([{"role": "assistant", "content": ANSWER}]),
                                   {**GT, "memory_succeeds": True}, "sad songs", 0.1)  # fmt: skip
    assert direct["score"] == pytest.approx(plain["reward"]) and direct["tool_calls"] == 0.0
    # a call the tool refused counts as unnecessary even when a call was needed; a rollout cut off after the tool
    # result is scored on the model's own (empty) text, never on the tool's list
    refused = decoded_rollout([call, {"role": "tool", "content": "error: recommend: `k` must be an integer"},
                               {"role": "assistant", "content": ANSWER}])  # fmt: skip
    r = verl_tools.tool_score(reward, refused, {**GT, "memory_succeeds": False}, "sad songs", 0.1)
    assert r["refused_calls"] == 1.0 and r["tool_penalty"] == pytest.approx(tool_penalty(1, False, 0.1, 1))
    cut = verl_tools.tool_score(reward, decoded_rollout([call, result]), {**GT, "memory_succeeds": False},
                                "sad songs", 0.1)  # fmt: skip
    assert cut["r_format"] == 0.0 and cut["score"] < needed["score"]


def test_compute_score_scores_agent_rows_as_tool_rollouts(tmp_path, monkeypatch):
    monkeypatch.setattr(verl_rl, "reward_for", lambda out: small_reward())
    call = call_message([("recommend", {"query": "sad songs", "k": 2})])
    response = decoded_rollout([call, {"role": "tool", "content": "1. Halo — Beyoncé [s3]"},
                                {"role": "assistant", "content": ANSWER}])  # fmt: skip
    gt = json.dumps({**GT, "memory_succeeds": True})
    got = verl_rl.compute_score(verl_rl.DATA_SOURCE, response, gt, out=str(tmp_path), penalty_cost=0.25)
    assert got["tool_calls"] == 1.0 and got["tool_penalty"] == -0.25
    plain = verl_rl.compute_score(verl_rl.DATA_SOURCE, ANSWER, json.dumps(GT), out=str(tmp_path))
    assert got["score"] == pytest.approx(plain["score"] - 0.25) and "tool_calls" not in plain


def test_agent_data_rows_bind_each_listener_and_carry_the_label(corpus_out, monkeypatch):  # noqa: F811
    monkeypatch.setitem(verl_tools._TOOLBOXES, str(corpus_out.resolve()), box())
    labels = corpus_out / "agent_demo" / "trajectories.jsonl"
    labels.parent.mkdir()
    labels.write_text(json.dumps({"sample_id": "x03", "label": "no_tool"}) + "\n"
                      + json.dumps({"sample_id": "x02", "label": "tool_needed"}) + "\n")  # fmt: skip
    assert verl_rl.main(["data", "--out", str(corpus_out), "--val-prompts", "1", "--agent", "--template-dir",
                         str(QWEN3_TEMPLATE)]) == 0  # fmt: skip
    dest = corpus_out / verl_rl.AGENT_DATA_DIR
    rows = pq.read_table(dest / "train.parquet").to_pylist() + pq.read_table(dest / "val.parquet").to_pylist()
    assert pq.read_schema(dest / "train.parquet").equals(verl_rl.VERL_AGENT_SCHEMA)
    assert {r["extra_info"]["sample_id"] for r in rows} == {"x02", "x03", "x04"}
    for r in rows:
        uid = r["extra_info"]["user_id"]
        assert r["agent_name"] == "tool_agent" and r["extra_info"]["need_tools_kwargs"] is True
        assert r["extra_info"]["tools_kwargs"]["recommend"] == {"create_kwargs": {"user_id": uid}}
        gt = json.loads(r["reward_model"]["ground_truth"])
        assert gt["memory_succeeds"] is (r["extra_info"]["sample_id"] == "x03") and gt["user_id"] == uid
    manifest = json.loads((dest / "_manifest.json").read_text())
    assert manifest["labels"]["no_tool"] == 1 and manifest["labels"]["unlabelled"] == 1  # x04 has no label
    cfg = yaml.safe_load((dest / "tool_config.yaml").read_text())
    assert [t["tool_schema"]["function"]["name"] for t in cfg["tools"]] == ["recommend", "search_catalog"]
    assert not (corpus_out / verl_rl.DATA_DIR).exists()  # the plain data is a separate folder, untouched
    # the same prompts and ground truth as the plain GRPO data, plus the agent's columns
    verl_rl.main(["data", "--out", str(corpus_out), "--val-prompts", "1", "--template-dir", str(QWEN3_TEMPLATE)])
    base = {r["extra_info"]["sample_id"]: r for f in ("train", "val")
            for r in pq.read_table(corpus_out / verl_rl.DATA_DIR / f"{f}.parquet").to_pylist()}  # fmt: skip
    for r in rows:
        b = base[r["extra_info"]["sample_id"]]
        gt = json.loads(r["reward_model"]["ground_truth"])
        del gt["memory_succeeds"]
        assert r["prompt"] == b["prompt"] and gt == json.loads(b["reward_model"]["ground_truth"])


def test_launch_script_with_agent_runs_verls_tool_agent_loop(tmp_path):
    env = {**os.environ, "DRY_RUN": "1", "OUT": str(tmp_path), "AGENT": "1", "PENALTY_COST": "0.2"}
    argv = subprocess.run(["bash", str(LAUNCH)], env=env, check=True, capture_output=True, text=True).stdout.splitlines()
    kv = {k.lstrip("+"): v for k, v in (o.split("=", 1) for o in argv[4:])}
    data = tmp_path / verl_rl.AGENT_DATA_DIR
    assert kv["data.train_files"] == str(data / "train.parquet")
    assert kv["actor_rollout_ref.rollout.multi_turn.enable"] == "True"
    assert kv["actor_rollout_ref.rollout.multi_turn.tool_config_path"] == str(data / "tool_config.yaml")
    assert kv["actor_rollout_ref.rollout.multi_turn.format"] == "hermes"  # Qwen3's <tool_call> JSON
    assert kv["actor_rollout_ref.rollout.multi_turn.max_assistant_turns"] == "2"  # one round of calls, the answer
    assert kv["actor_rollout_ref.rollout.agent.default_agent_loop"] == "tool_agent"
    assert kv["custom_reward_function.reward_kwargs.penalty_cost"] == "0.2"
    assert kv["data.max_response_length"] == "800"  # the turns and the tool results
    off = subprocess.run(["bash", str(LAUNCH)], env={**env, "AGENT": ""}, check=True, capture_output=True,
                         text=True).stdout  # fmt: skip
    assert "multi_turn" not in off and str(tmp_path / verl_rl.DATA_DIR / "train.parquet") in off


def test_labels_file_errors_name_the_line(tmp_path):
    bad = tmp_path / "trajectories.jsonl"
    bad.write_text(json.dumps({"sample_id": "x01", "label": "no_tool"}) + "\n{\"sample_id\": \"x02\"}\n")
    with pytest.raises(ValueError, match=r"trajectories.jsonl line 2: needs sample_id and label"):
        verl_rl.read_labels(bad)
    bad.write_text(json.dumps({"sample_id": "x01", "label": "no_tool"}) + "\n" + json.dumps({"sample_id": "x02", "label": "both_fail"}) + "\n")
    assert verl_rl.read_labels(bad) == {"x01": True, "x02": False}
