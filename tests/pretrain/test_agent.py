"""Agentic boundary learning: the tools on a tiny catalog by hand, tool-call parsing (good, malformed, several),
labels from scored hand-built answers, tool chats with loss only on the assistant turns (token by token on the real
Qwen3 tokenizer, through the shards' loss-mask sidecar), the unnecessary-call penalty and the policy metrics by hand,
the agent loop on scripted turns, and greedy turns of a small random model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from corpus.uq2i.synthesize import SynthesisConfig
from eval.recommend.match import CatalogMatcher, CatalogSong
from eval.rewards import RewardConfig
from pretrain.agent.boundary import (
    Attempt,
    ToolPenaltyReward,
    boundary_chat,
    label_query,
    oracle_attempts,
    policy_metrics,
    pure_tool_chat,
    run_agent,
    scripted_tool_attempt,
    succeeded,
    tool_penalty,
)
from pretrain.agent.chat import Turn, call_message, parse_tool_calls, render_chat, turn_prompt
from pretrain.agent.run import AgentConfig
from pretrain.agent.tools import CatalogSearch, Recommend, Toolbox
from pretrain.grpo import HybridReward
from pretrain.sft import QWEN3_TEMPLATE

TEXT = {"s1": "Rain on Me — Lady Gaga", "s2": "Purple Rain — Prince", "s3": "Halo — Beyoncé", "s4": "Hurt — Johnny Cash",
        "s5": "Creep — Radiohead", "s6": "Karma Police — Radiohead", "s7": "No Surprises — Radiohead"}  # fmt: skip
ARTIST = {k: v.split(" — ")[1] for k, v in TEXT.items()}
SCORES = {"s1": 0.2, "s2": 0.9, "s3": 0.5, "s4": 0.5, "s5": 0.8, "s6": 0.7, "s7": 0.6}


class FakePersonalizer:
    """Fixed scores per song (NaN for unknown ones); records the contexts it was asked about."""

    def __init__(self):
        self.contexts = []

    def score(self, context, items):
        self.contexts.append(context)
        return np.array([SCORES.get(i, np.nan) for i in items])


def toolbox(positives=None, max_per_artist: int = 2) -> Toolbox:
    songs_in = {1: ["s1", "s2", "s3", "s4", "s5", "s6", "s7", "s9"], 2: ["s3"]}  # s9: not in the catalog
    rec = Recommend(songs_in, {"sad songs": 1, "Party Hits": 2}, FakePersonalizer(), TEXT, ARTIST,
                    positives or {"u": ["s2"]}, max_per_artist)  # fmt: skip
    return Toolbox(CatalogSearch(TEXT), rec, max_k=5)


# ---------------------------------------------------------------------------------------------------- tools
def test_search_catalog_is_bm25_over_song_text():
    search = CatalogSearch(TEXT)
    got = search("purple rain", 5)
    assert got.ids == ("s2", "s1")  # both terms beat one; "Rain on Me" shares "rain" only
    assert got.text == "1. Purple Rain — Prince [s2]\n2. Rain on Me — Lady Gaga [s1]" and got.error is None
    assert search("purple rain", 1).ids == ("s2",)
    # BM25 favours shorter texts: "Creep" and "No Surprises" ("no" is a stopword) tie, by song id, before
    # "Karma Police"
    assert search("radiohead", 5).ids == ("s5", "s7", "s6")
    nothing = search("zzz", 5)
    assert nothing.ids == () and nothing.text == "No songs found." and nothing.error is None


def test_recommend_follows_the_synthesis_path():
    rec = toolbox().recommend
    got = rec("u", "sad songs", 5)
    # cluster 1 minus the user's positive s2 and the uncatalogued s9, by score (0.5 ties by id), at most two per
    # artist: s7 (the third Radiohead song) is left out
    assert got.ids == ("s5", "s6", "s3", "s4", "s1")
    assert got.text.splitlines()[0] == "1. Creep — Radiohead [s5]"
    assert rec.scorer.contexts[-1].user == "u" and rec.scorer.contexts[-1].history == ("s2",)
    assert rec("u", "sad songs", 2).ids == ("s5", "s6")
    # the synthesis's default, one song per artist (the diversity reward's rule): no second Radiohead song
    assert toolbox(max_per_artist=SynthesisConfig.max_per_artist).recommend("u", "sad songs", 5).ids == (
        "s5", "s3", "s4", "s1")
    assert rec("v", "  SAD   Songs ", 1).ids == ("s2",)  # another user's history; the request folded to the pool's text
    assert rec.cluster_of("party hits") == 2 and rec.cluster_of("some sad music") == 1  # exact, else BM25's nearest
    assert rec.cluster_of("zzz") is None and rec("u", "zzz", 3).ids == ()


def test_the_toolbox_refuses_malformed_calls_and_binds_the_session_user():
    tb = toolbox({"u": ["s2"], "w": ["s5", "s6"]})
    assert [s["function"]["name"] for s in tb.schemas] == ["recommend", "search_catalog"]
    assert "user_id" not in tb.schemas[0]["function"]["parameters"]["properties"]
    assert tb.execute("recommend", {"query": "sad songs", "k": 2}, "w").ids == ("s2", "s7")  # w's s5, s6 left out
    assert tb.execute("search_catalog", {"query": "halo"}, "u").ids == ("s3",)  # k defaults to min(10, max_k)
    for name, args, why in [("play", {"query": "x"}, "unknown tool"), ("recommend", {"query": "x", "user_id": "w"}, "unexpected"),
                            ("recommend", {"k": 3}, "`query`"), ("recommend", {"query": " "}, "`query`"),
                            ("recommend", {"query": "x", "k": 6}, "`k`"), ("recommend", {"query": "x", "k": True}, "`k`"),
                            ("search_catalog", {"query": "x", "k": "3"}, "`k`")]:  # fmt: skip
        res = tb.execute(name, args, "u")
        assert res.ids == () and why in res.error and res.text.startswith("error: "), (name, args)


# ---------------------------------------------------------------------------------------------------- parsing
def test_parse_tool_calls_good_malformed_and_several():
    calls, rest = parse_tool_calls('<tool_call>\n{"name": "recommend", "arguments": {"query": "sad 歌", "k": 3}}\n</tool_call>')
    assert [(c.name, c.arguments, c.error) for c in calls] == [("recommend", {"query": "sad 歌", "k": 3}, None)] and rest == ""
    text = ('Let me look.\n<tool_call>\n{"name": "search_catalog", "arguments": {"query": "halo"}}\n</tool_call>\n'
            '<tool_call>\n{"name": "recommend", "arguments": "{\\"query\\": \\"jazz\\"}"}\n</tool_call>\n'
            '<tool_call>\n{"name": "recommend", "arguments": {"query": "x"}\n</tool_call>\n'  # a brace short
            '<tool_call>\n["recommend"]\n</tool_call><tool_call>{"arguments": {}}</tool_call>'
            '<tool_call>{"name": "recommend", "arguments": [1]}</tool_call>'
            '<tool_call>\n{"name": "recommend", "arguments": {"query": "y"}}\nDone.')  # fmt: skip
    calls, rest = parse_tool_calls(text)
    assert [c.name for c in calls[:2]] == ["search_catalog", "recommend"] and calls[1].arguments == {"query": "jazz"}
    assert [c.error is None for c in calls] == [True, True, False, False, False, False, False]
    assert calls[2].error.startswith("not JSON") and calls[3].error == "not a JSON object"
    assert calls[4].error == "no tool name" and calls[5].error == "arguments are not a JSON object"
    assert calls[6].error == "unclosed <tool_call>" and "Done." in calls[6].raw
    assert rest == "Let me look."
    assert parse_tool_calls("1. Halo — Beyoncé\n2. Hurt — Johnny Cash") == ([], "1. Halo — Beyoncé\n2. Hurt — Johnny Cash")


def test_the_templates_call_parses_back():
    (text, _), turns = render_chat([{"role": "user", "content": "sad songs please"},
                                    call_message([("recommend", {"query": "sad songs", "k": 10}), ("search_catalog", {"query": "rain"})]),
                                    {"role": "tool", "content": "1. Halo — Beyoncé [s3]"}, {"role": "tool", "content": "No songs found."},
                                    {"role": "assistant", "content": "1. Halo — Beyoncé"}], toolbox().schemas, QWEN3_TEMPLATE)  # fmt: skip
    calls, rest = parse_tool_calls(turns[0].removesuffix("<|im_end|>"))
    assert [(c.name, c.arguments) for c in calls] == [("recommend", {"query": "sad songs", "k": 10}),
                                                      ("search_catalog", {"query": "rain"})] and rest == ""  # fmt: skip
    assert text.count("<tool_response>") == 2 and text.count("<|im_start|>user") == 2  # both results in one user turn


# ---------------------------------------------------------------------------------------------------- chats
def test_tool_chat_takes_loss_only_on_assistant_turns_token_by_token(tmp_path):
    from transformers import AutoTokenizer

    from pretrain.demo import write_text_shards
    from tokenizer.shards import read_shard

    tb = toolbox()
    user = "<|profile|> Listener: age 31.\n\nRequest: sad songs\nRecommend 2 songs."
    call = call_message([("recommend", {"query": "sad songs", "k": 2})])
    result = tb.execute("recommend", {"query": "sad songs", "k": 2}, "u").text
    final = "1. Creep — Radiohead\n2. Karma Police — Radiohead"
    chat = [{"role": "user", "content": user}, call, {"role": "tool", "content": result}, {"role": "assistant", "content": final}]
    (text, spans), turns = render_chat(chat, tb.schemas, QWEN3_TEMPLATE)
    assert text.startswith("<|im_start|>system\n# Tools") and '"name": "recommend"' in text.split("<|im_end|>")[0]
    call_text = '<tool_call>\n{"name": "recommend", "arguments": {"query": "sad songs", "k": 2}}\n</tool_call><|im_end|>'
    assert turns == [call_text, final + "<|im_end|>"]
    # each assistant turn continues exactly the prompt the model gets at that turn (thinking off: an empty block)
    for i, t in zip((1, 3), turns, strict=True):
        head = turn_prompt(chat[:i], tb.schemas, QWEN3_TEMPLATE)
        assert head.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n") and text.startswith(head + t)
    assert "<tool_response>\n" + result + "\n</tool_response>" in text

    out = write_text_shards(tmp_path / "shards", QWEN3_TEMPLATE, {1: {s: [(text, spans)] for s in ("train", "valid", "test")}},
                            source="agent")  # fmt: skip
    tokens, mask = read_shard(out / "stage1" / "agent")[0]
    tok = AutoTokenizer.from_pretrained(QWEN3_TEMPLATE)
    enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
    assert tokens.tolist()[:-1] == enc["input_ids"] and tok.decode(tokens.tolist()[-1:]) == "<|endoftext|>"
    lossy = [(text.index(call_text), text.index(call_text) + len(call_text))]
    start = text.rindex(final)
    lossy.append((start, start + len(final) + len("<|im_end|>")))
    for i, (a, b) in enumerate(enc["offset_mapping"]):
        assert bool(mask[i]) == any(a >= s and b <= e for s, e in lossy), (i, text[a:b])
    assert bool(mask[-1])  # the packed format's EOD takes loss, as in every shard
    assert tok.decode([t for t, m in zip(tokens.tolist(), mask.tolist(), strict=True) if m]) == call_text + final + "<|im_end|><|endoftext|>"


def test_boundary_and_pure_tool_chats():
    rec = {"user_turn": "Request: x"}
    memory = Attempt("1. Halo — Beyoncé", turns=[{"role": "assistant", "content": "1. Halo — Beyoncé"}])
    tool = Attempt("1. Hurt — Johnny Cash", 1, turns=[call_message([("recommend", {"query": "x"})]), {"role": "tool", "content": "r"},
                                                      {"role": "assistant", "content": "1. Hurt — Johnny Cash"}])  # fmt: skip
    assert boundary_chat(rec, "no_tool", memory, tool) == [{"role": "user", "content": "Request: x"},
                                                           {"role": "assistant", "content": "1. Halo — Beyoncé"}]  # fmt: skip
    assert boundary_chat(rec, "tool_needed", memory, tool)[1:] == tool.turns == pure_tool_chat(rec, tool)[1:]
    with pytest.raises(ValueError, match="both_fail"):
        boundary_chat(rec, "both_fail", memory, tool)


# ---------------------------------------------------------------------------------------------------- labels
def scored(components):
    a = Attempt("x")
    a.components, a.success = components, succeeded(components)
    return a


OK = {"reward": 1.5, "relevance": 1.0, "r_factuality": 1.0, "r_format": 1.0}


def test_labels_on_hand_built_cases():
    bad_memory = scored({**OK, "relevance": 0.0, "r_format": 0.0})
    assert label_query(scored(OK), scored({**OK, "relevance": 0.0})) == ("no_tool", "")
    assert label_query(bad_memory, scored(OK)) == ("tool_needed", "memory fails relevance, r_format")
    assert label_query(bad_memory, scored({**OK, "r_factuality": 0.0})) == (
        "both_fail", "memory fails relevance, r_format; tool list fails r_factuality")
    refused = scored({**OK, "r_format": 0.0})
    refused.tool_error = "no songs"
    assert label_query(bad_memory, refused)[1].endswith("tool error: no songs")


def test_scored_trajectories_through_the_hybrid_reward():
    """The scripted tool trajectory and a memory answer, scored by the real hybrid reward on a tiny catalog."""
    from transformers import AutoTokenizer

    tb = toolbox()
    matcher = CatalogMatcher(CatalogSong(k, v.split(" — ")[0], (ARTIST[k],)) for k, v in TEXT.items())
    reward = HybridReward(matcher, FakePersonalizer(), {1: {"s1", "s3", "s4", "s5", "s6"}}, RewardConfig(list_size=3))
    record = {"user_id": "u", "user_turn": "Request: sad songs", "query": "sad songs", "cluster": 1, "recent_positive": ["s2"]}
    tok = AutoTokenizer.from_pretrained(QWEN3_TEMPLATE)
    tool = scripted_tool_attempt(record, tb, TEXT, "recommend", 3, tok, QWEN3_TEMPLATE).score(reward, record)
    assert tool.final == "1. Creep — Radiohead\n2. Karma Police — Radiohead\n3. Halo — Beyoncé"
    assert (tool.n_calls, tool.n_failed_calls, tool.tool_error) == (1, 0, None)
    assert [t["role"] for t in tool.turns] == ["assistant", "tool", "assistant"] and "[s5]" in tool.turns[1]["content"]
    call = '<tool_call>\n{"name": "recommend", "arguments": {"query": "sad songs", "k": 3}}\n</tool_call><|im_end|>'
    assert tool.generated_tokens == len(tok(call + tool.final + "<|im_end|>", add_special_tokens=False)["input_ids"])
    assert tool.success and tool.components["r_diversity"] == 0.0  # two Radiohead songs: not part of success
    memory = Attempt("1. Purple Rain — Prince\n2. Halo — Beyoncé\n3. Hurt — Johnny Cash").score(reward, record)
    assert memory.components["relevance"] == 1.0 and memory.components["r_format"] == 1.0  # 2 of 3 in the cluster
    assert memory.success and label_query(memory, tool) == ("no_tool", "")
    wrong = Attempt("1. Purple Rain — Prince\n2. Made Up — Nobody\n3. Hurt — Johnny Cash").score(reward, record)
    assert not wrong.success and label_query(wrong, tool) == ("tool_needed", "memory fails r_factuality")
    miss = scripted_tool_attempt({**record, "query": "zzz"}, tb, TEXT, "recommend", 3, tok, QWEN3_TEMPLATE).score(reward, record)
    assert miss.final == "" and miss.tool_error == "no songs" and label_query(wrong, miss)[0] == "both_fail"


# ---------------------------------------------------------------------------------------------------- penalty, metrics
def test_tool_penalty_by_hand():
    assert tool_penalty(0, True) == 0.0 and tool_penalty(0, False) == 0.0
    assert tool_penalty(1, True, cost=0.1) == pytest.approx(-0.1)  # memory would have done: the call was needless
    assert tool_penalty(1, False, cost=0.1) == 0.0  # the one needed call is free
    assert tool_penalty(3, False, cost=0.1) == pytest.approx(-0.2)  # two calls beyond the needed one
    assert tool_penalty(3, False, cost=0.1, failed_calls=2) == pytest.approx(-0.2)  # 2 refused, the 1 that ran was needed
    assert tool_penalty(2, True, cost=0.5, failed_calls=1) == pytest.approx(-1.0)
    assert tool_penalty(2, False, cost=0.1, needed_calls=2) == 0.0
    for bad in [(-1, True), (1, True, 0.1, 2), (1, True, -0.1)]:
        with pytest.raises(ValueError, match="tool_penalty"):
            tool_penalty(*bad)
    r = ToolPenaltyReward(cost=0.25)
    call = '<tool_call>\n{"name": "recommend", "arguments": {"query": "x"}}\n</tool_call>'
    structured = [call_message([("recommend", {"query": "x"})]), {"role": "tool", "content": "r"},
                  {"role": "assistant", "content": "1. Halo — Beyoncé"}]  # fmt: skip
    got = r(["p"] * 5, ["1. Halo — Beyoncé", call, call, [{"role": "assistant", "content": call + "<tool_call>{oops</tool_call>"}],
                        structured], memory_succeeds=[True, True, False, False, True])  # fmt: skip
    assert got == pytest.approx([0.0, -0.25, 0.0, -0.25, -0.25])


def test_policy_metrics_by_hand():
    mem = [scored({**OK, "reward": 1.0}), scored({**OK, "relevance": 0.0, "reward": 0.5}), scored({**OK, "r_format": 0.0, "reward": 0.2})]
    for a, n in zip(mem, (100, 150, 200), strict=True):
        a.generated_tokens = n
    tool = [scored({**OK, "reward": 1.2}), scored({**OK, "reward": 1.4}), scored({**OK, "relevance": 0.0, "reward": 0.7})]
    for a, n in zip(tool, (60, 70, 80), strict=True):
        a.generated_tokens, a.n_calls = n, 1
    tool[2].n_calls, tool[2].n_failed_calls = 2, 1
    labels = [label_query(m, t)[0] for m, t in zip(mem, tool, strict=True)]
    assert labels == ["no_tool", "tool_needed", "both_fail"]
    ok = [lab == "no_tool" for lab in labels]
    m = policy_metrics(tool, 100, ok, cost=0.1)
    assert m["n"] == 3 and m["success_rate"] == pytest.approx(2 / 3) and m["calls_per_query"] == pytest.approx(4 / 3)
    assert m["failed_calls_per_query"] == pytest.approx(1 / 3) and m["tokens_per_query"] == pytest.approx(70)
    assert m["latency_proxy"] == pytest.approx((160 + 170 + 280) / 3) and m["reward"] == pytest.approx(3.3 / 3)
    # needless: the no_tool query's call (0.1) and the refused call (0.1)
    assert m["reward_with_penalty"] == pytest.approx(3.3 / 3 - 0.2 / 3)
    oracle = oracle_attempts(mem, tool, labels)
    assert oracle == [mem[0], tool[1], mem[2]]
    o = policy_metrics(oracle, 100)
    assert o["success_rate"] == pytest.approx(2 / 3) and o["calls_per_query"] == pytest.approx(1 / 3)
    assert o["latency_proxy"] == pytest.approx((100 + 170 + 200) / 3) and "reward_with_penalty" not in o
    assert policy_metrics([], 100) == {"n": 0}


# ---------------------------------------------------------------------------------------------------- agent loop
def test_the_agent_loop_runs_calls_and_feeds_results_back(monkeypatch):
    import pretrain.agent.boundary as boundary

    scripts = {
        "a": ['<tool_call>\n{"name": "recommend", "arguments": {"query": "sad songs", "k": 2}}\n</tool_call>',
              "1. Creep — Radiohead\n2. Karma Police — Radiohead"],
        "b": ["1. Halo — Beyoncé"],
        "c": ['<tool_call>{"name": "recommend"</tool_call>', '<tool_call>\n{"name": "search_catalog", "arguments": {"query": "halo"}}\n</tool_call>'],
    }  # fmt: skip
    prompts_seen = []

    def fake_turns(model, tok, prompts, max_new_tokens, batch_size=8):
        prompts_seen.append(prompts)
        out = []
        for p in prompts:
            who = p.split("Request: ")[1][0]
            text = scripts[who][p.count("<|im_start|>assistant") - 1]
            out.append(Turn(text, len(text) // 4, True))
        return out

    monkeypatch.setattr(boundary, "generate_turns", fake_turns)
    records = [{"user_id": "u", "user_turn": f"Request: {x}"} for x in "abc"]
    got = run_agent(None, None, records, toolbox(), QWEN3_TEMPLATE, 50, max_tool_rounds=1)
    a, b, c = got
    assert (a.n_calls, a.n_failed_calls, a.final) == (1, 0, scripts["a"][1])
    assert [t["role"] for t in a.turns] == ["assistant", "tool", "assistant"]
    assert a.turns[1]["content"] == "1. Creep — Radiohead [s5]\n2. Karma Police — Radiohead [s6]"
    assert a.generated_tokens == sum(len(t) // 4 for t in scripts["a"])
    assert (b.n_calls, b.final, len(b.turns)) == (0, "1. Halo — Beyoncé", 1)
    # c: a malformed call (refused, its error fed back), then a call in the last round: counted, refused, no answer
    assert (c.n_calls, c.n_failed_calls, c.final) == (2, 2, "") and c.tool_error.startswith("not JSON")
    assert c.turns[1] == {"role": "tool", "content": "error: " + c.tool_error}
    # round 2 prompts: a's and c's only, each holding the model's own turn and the tool result, tools listed
    assert len(prompts_seen) == 2 and len(prompts_seen[1]) == 2
    assert scripts["a"][0] + "<|im_end|>\n<|im_start|>user\n<tool_response>\n1. Creep" in prompts_seen[1][0]
    assert prompts_seen[1][0].startswith("<|im_start|>system\n# Tools")


def test_greedy_turns_of_a_small_random_model(tmp_path, tiny_qwen3):
    from eval.generation import load_for_generation
    from pretrain.agent.chat import generate_turns

    _, tok = tiny_qwen3
    model, tok = load_for_generation(tmp_path / "m")
    prompts = [turn_prompt([{"role": "user", "content": f"Request: songs {i}"}], toolbox().schemas, QWEN3_TEMPLATE) for i in range(3)]
    turns = generate_turns(model, tok, prompts, 6, batch_size=2)
    assert len(turns) == 3 and all(1 <= t.n_tokens <= 6 for t in turns)
    for t in turns:
        assert t.ended or t.n_tokens == 6
    agent = run_agent(model, tok, [{"user_id": "u", "user_turn": "Request: songs"}], toolbox(), QWEN3_TEMPLATE, 6)
    assert agent[0].generated_tokens >= 1 and agent[0].n_calls == 0  # a random model makes no call


def test_agent_config_is_checked():
    cfg = AgentConfig(out="o")
    assert str(cfg.checkpoint_dir) == "o/sft_demo/sft/sft/hf" and str(cfg.run_path) == "o/agent_demo"
    json.dumps(cfg.__dict__)  # stored with the outputs
    for bad in [{"eval_share": 0.0}, {"trajectory_tool": "web"}, {"steps": -1}, {"max_new_tokens": 0},
                {"round_trip_tokens": -1}, {"rl_steps": -1}, {"rl_completion_tokens": 0}]:  # fmt: skip
        with pytest.raises(ValueError, match="AgentConfig"):
            AgentConfig(**bad)


def test_recommend_drops_the_candidates_the_judge_rejects():
    class Judge:
        threshold = 0.5

        def score(self, query, ids):
            return np.array([0.0 if i == "s5" else 0.9 for i in ids])

    songs_in = {1: ["s1", "s2", "s3", "s4", "s5", "s6", "s7", "s9"]}
    rec = Recommend(songs_in, {"sad songs": 1}, FakePersonalizer(), TEXT, ARTIST, {"u": ["s2"]}, 1, Judge())
    assert rec("u", "sad songs", 5).ids == ("s6", "s3", "s4", "s1")  # Creep (s5) rejected: Karma Police leads


# ---------------------------------------------------------------------------------------------------- RL with tools
def test_tool_env_shows_the_toolbox_schemas_and_runs_calls_for_its_listener():
    from pretrain.agent.rl import ToolEnv, env_schemas, rl_rows

    rec = Recommend({1: ["s1", "s2", "s3", "s5", "s6"]}, {"sad songs": 1}, FakePersonalizer(), TEXT, ARTIST,
                    {"u": ["s2"], "v": ["s5"]}, 2)  # fmt: skip
    box = Toolbox(CatalogSearch(TEXT), rec)  # the default max_k the methods' docstrings state
    env = ToolEnv(box)
    assert env_schemas(env) == box.schemas  # the rollouts see the tools boundary SFT trained on
    with pytest.raises(RuntimeError, match="reset"):
        env.recommend("sad songs")
    env.reset(user_id="v", query="ignored", cluster=1)
    assert env.recommend("sad songs", 2) == box.execute("recommend", {"query": "sad songs", "k": 2}, "v").text
    assert "[s5]" not in env.recommend("sad songs") and env.recommend("sad songs").count("\n") == 3  # v's own song out
    assert env.search_catalog("radiohead", 50).startswith("error: search_catalog: `k`")  # refused, as the loop does
    assert (env.calls, env.refused) == (4, 1)
    env.reset(user_id="u")
    assert (env.calls, env.user_id) == (0, "u") and "[s5]" in env.recommend("sad songs")
    with pytest.raises(ValueError, match="schemas"):
        ToolEnv(toolbox())  # max_k 5: the schema the model would see is not the one it was trained with
    rows = rl_rows([{"user_turn": "Request: x", "user_id": "u", "cluster": 1, "recent_positive": ("s2",), "query": "x"}],
                   [True])  # fmt: skip
    assert rows == [{"prompt": [{"role": "user", "content": "Request: x"}], "user_id": "u", "cluster": 1,
                     "recent_positive": ["s2"], "query": "x", "memory_succeeds": True}]  # fmt: skip


def test_the_hybrid_reward_scores_the_final_turn_of_a_tool_rollout():
    reward = HybridReward(CatalogMatcher([CatalogSong(k, *v.split(" — ")[:1], (ARTIST[k],)) for k, v in TEXT.items()]),
                          FakePersonalizer(), {1: set(TEXT)}, RewardConfig())  # fmt: skip
    call = {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "recommend",
            "arguments": {"query": "sad songs"}}}]}  # fmt: skip
    tool = {"role": "tool", "name": "recommend", "content": "1. Creep — Radiohead [s5]\n2. Halo — Beyoncé [s3]"}
    final = {"role": "assistant", "content": "1. Creep — Radiohead\n2. Halo — Beyoncé"}
    kw = {"user_id": ["u"] * 2, "cluster": [1] * 2, "recent_positive": [[]] * 2}
    with_answer, cut_short = reward([None] * 2, [[call, tool, final], [call, tool]], **kw)
    assert reward.last[0]["r_factuality"] == 1.0 and with_answer > 0
    # a rollout ending on the tool's result is scored on the model's own (empty) text, not on the tool's list
    assert reward.last[1]["r_format"] == 0.0 and cut_short < with_answer


@pytest.mark.slow
def test_a_short_grpo_run_with_tool_rollouts_runs_the_calls_and_adds_the_penalty(tmp_path, tiny_qwen3):
    """A tiny random policy made to call `recommend` (a sequence bias spells the call token by token): TRL parses
    the call with the Qwen3 template's parser, runs it in the rollout's `ToolEnv` for the row's listener, and both
    rewards are logged, the penalty -cost per call where the memory answer would have done."""
    from transformers import AutoTokenizer

    from pretrain.agent.rl import ToolEnv, train_grpo_with_tools

    _, tok = tiny_qwen3
    call = '<tool_call>\n{"name": "recommend", "arguments": {"query": "sad songs", "k": 2}}\n</tool_call><|im_end|>'
    ids = tok.encode(call, add_special_tokens=False)
    bias = [[ids[: i + 1], 100.0 * (i + 1)] for i in range(len(ids))]  # each next token of the call outbids the last
    rec = Recommend({1: ["s1", "s2", "s3", "s5", "s6"]}, {"sad songs": 1}, FakePersonalizer(), TEXT, ARTIST,
                    {"u": ["s2"], "v": ["s5"]}, 2)  # fmt: skip
    box = Toolbox(CatalogSearch(TEXT), rec)
    seen = []

    class Spy(ToolEnv):
        def _run(self, name, arguments):
            seen.append((self.user_id, name, dict(arguments)))
            return super()._run(name, arguments)

    import pretrain.agent.rl as rl

    class Recording(HybridReward):
        def __call__(self, prompts, completions, **kw):
            self.completions = completions
            return super().__call__(prompts, completions, **kw)

    reward = Recording(CatalogMatcher([CatalogSong(k, v.split(" — ")[0], (ARTIST[k],)) for k, v in TEXT.items()]),
                       FakePersonalizer(), {1: set(TEXT)}, RewardConfig())  # fmt: skip
    records = [{"user_turn": f"Request: sad songs {i}", "user_id": u, "cluster": 1, "recent_positive": [], "query": "sad songs"}
               for i, u in enumerate("uv")]  # fmt: skip
    orig = rl.ToolEnv
    rl.ToolEnv = Spy
    try:
        final, hist = train_grpo_with_tools(tmp_path / "m", records, [True, False], box, reward, tmp_path / "run", 1,
                                            QWEN3_TEMPLATE, num_generations=2, per_device_train_batch_size=4,
                                            max_completion_length=3 * len(ids) + 60, generation_kwargs={"sequence_bias": bias})  # fmt: skip
    finally:
        rl.ToolEnv = orig
    # one call run per rollout (the second round's call is past max_tool_rounds), for the row's own listener
    assert sorted(seen) == [(u, "recommend", {"query": "sad songs", "k": 2}) for u in "uuvv"]
    roles = [[m["role"] for m in c] for c in reward.completions]
    assert roles == [["assistant", "tool", "assistant"]] * 4
    tool_texts = [c[1]["content"] for c in reward.completions]
    assert tool_texts[:2] == [box.execute("recommend", {"query": "sad songs", "k": 2}, "u").text] * 2
    assert tool_texts[2:] == [box.execute("recommend", {"query": "sad songs", "k": 2}, "v").text] * 2
    assert "[s5]" in tool_texts[0] and "[s5]" not in tool_texts[2]  # v's own positive song is left out for v
    logged = next(h for h in hist if "rewards/tool_penalty/mean" in h)
    assert logged["tools/call_frequency"] == pytest.approx(1.0)
    # two calls written per rollout: both unnecessary for u (memory would have done: -0.2), the second for v (-0.1)
    assert logged["rewards/tool_penalty/mean"] == pytest.approx(-0.15)
    assert (final / "config.json").is_file() and AutoTokenizer.from_pretrained(final).chat_template


def test_the_rl_summary_keeps_the_first_and_last_step():
    from pretrain.agent.run import rl_summary

    hist = [{"loss": 0.1}, {"reward": 0.5, "rewards/hybrid/mean": 0.6, "rewards/tool_penalty/mean": -0.1,
                            "tools/call_frequency": 1.0, "tools/failure_frequency": 0.0},
            {"reward": 0.9, "rewards/hybrid/mean": 0.9, "rewards/tool_penalty/mean": 0.0, "tools/call_frequency": 0.5,
             "tools/failure_frequency": 0.0}, {"train_runtime": 3.0}]  # fmt: skip
    got = rl_summary(hist, 7)
    assert got["steps"] == 2 and got["queries"] == 7
    assert (got["reward_first"], got["reward_last"], got["calls_first"], got["calls_last"]) == (0.5, 0.9, 1.0, 0.5)
    assert got["tool_penalty_first"] == -0.1 and rl_summary([{"loss": 1}], 3) == {"queries": 3, "steps": 0}


def test_load_records_adds_sft_samples_for_training_only(tmp_path):
    from datetime import UTC, datetime

    import pyarrow as pa
    import pyarrow.parquet as pq

    from pretrain.agent.run import load_records

    def sample(i, user, split, query):
        return {"sample_id": f"x{i}", "user_id": user, "split": split, "query": query, "cluster": 1,
                "prompt": f"<|profile|> user {user}\n\nRequest: {query}"}  # fmt: skip

    rows = [sample(0, "a", "sft", "sad songs"), sample(1, "b", "rl", "sad songs"), sample(2, "c", "rl", "gym rock"),
            sample(3, "d", "rl", "jazz for studying")]  # fmt: skip
    t = datetime(2025, 1, 1, tzinfo=UTC)
    events = [{"user_id": u, "ts": t, "event_id": f"e{u}", "item_type": "song", "item_id": f"s{u}", "feedback": "like"}
              for u in "abcd"]  # fmt: skip
    for sub, data in (("uq2i/uq2i_samples", rows), ("behavior/_sessions", events)):
        (tmp_path / sub).mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist(data), tmp_path / sub / "part-00000.parquet")
    recs, evs, counts = load_records(AgentConfig(out=str(tmp_path)))
    assert [r["user_id"] for r in recs] == ["c", "d"] and {e["user_id"] for e in evs} == {"b", "c", "d"}
    assert counts == {"rl_samples": 3, "dropped_sft_query": 1, "past_max_queries": 0, "sft_samples": 0}
    recs, evs, counts = load_records(AgentConfig(out=str(tmp_path), eval_share=0.99, sft_samples=True))  # RL users held out
    assert [(r["user_id"], r["split"], r["held_out"]) for r in recs] == [("c", "rl", True), ("d", "rl", True),
                                                                        ("a", "sft", False)]  # fmt: skip
    assert counts["sft_samples"] == 1 and {e["user_id"] for e in evs} == {"a", "b", "c", "d"}
    assert recs[2]["user_turn"] == rows[0]["prompt"] and recs[2]["recent_positive"] == ["sa"]
