"""GRPO on TRL: RL prompts never reuse an SFT user or query, the hybrid reward through TRL's reward-function call
on hand-written answers, GRPO configured as the seeds define it, and a short GRPOTrainer run with it (slow)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from eval.recommend.match import CatalogMatcher, CatalogSong
from pretrain.grpo import HybridReward, grpo_args, rl_prompts
from pretrain.sft import QWEN3_TEMPLATE

T = datetime(2025, 1, 1, tzinfo=UTC)


def sample(i, user, split, query, cluster=1):
    return {"sample_id": f"x{i}", "user_id": user, "split": split, "query": query, "cluster": cluster,
            "prompt": f"<|profile|> user {user}\n\nRequest: {query}"}


def test_rl_prompts_keep_sft_users_and_queries_out():
    samples = [sample(0, "a", "sft", "sad songs"), sample(1, "b", "rl", "sad songs"), sample(2, "c", "rl", "gym rock"),
               sample(3, "d", "rl", "jazz for studying")]
    events = [{"user_id": "c", "ts": T, "event_id": f"e{k}", "item_type": "song", "item_id": f"s{k}",
               "feedback": fb} for k, fb in enumerate(["play", "skip", "like"])]
    recs = rl_prompts(samples, events, QWEN3_TEMPLATE)
    assert [r["user_id"] for r in recs] == ["c", "d"]  # b asked an SFT query
    assert recs[0]["recent_positive"] == ["s2", "s0"] and recs[1]["recent_positive"] == []
    assert recs[0]["prompt"].startswith("<|im_start|>user\n<|profile|> user c") and recs[0]["prompt"].endswith(
        "<|im_start|>assistant\n<think>\n\n</think>\n\n")


class FakePersonalizer:
    def score(self, context, items):
        return np.array([{"s1": 0.9, "s2": 0.5, "s3": 1.7}.get(i, np.nan) for i in items])


def test_hybrid_reward_through_the_trl_call():
    matcher = CatalogMatcher([CatalogSong("s1", "Halo", ("Beyoncé",)), CatalogSong("s2", "Hurt", ("Johnny Cash",)),
                              CatalogSong("s3", "Creep", ("Radiohead",))])
    reward = HybridReward(matcher, FakePersonalizer(), {7: {"s1", "s2"}, 8: {"s3"}})
    good = "1. Halo — Beyoncé\n2. Hurt — Johnny Cash\n3. Creep — Radiohead"
    from eval.rewards import RewardConfig

    reward.cfg = RewardConfig(list_size=3)
    got = reward(["p", "p", "p"], [good, good, [{"role": "assistant", "content": ""}]], user_id=["u", "u", "u"],
                 cluster=[7, 8, 7], recent_positive=[[], ["s2"], []])
    # cluster 7 holds 2 of 3 items: relevant; personalization (0.9 + 0.5 + 1.0 clipped) / 3; all four rules
    assert reward.last[0]["relevance"] == 1.0 and reward.last[0]["personalization"] == pytest.approx(2.4 / 3)
    assert got[0] == pytest.approx(2.4 / 3 + 1.0)
    # cluster 8 holds 1 of 3: the gate closes; s2 is in the recent history: no de-duplication reward
    assert reward.last[1]["relevance"] == 0.0 and got[1] == pytest.approx(0.75)
    assert got[2] == 0.0  # an empty answer (chat-format completion) earns nothing


def test_grpo_is_configured_as_the_seeds_define_it(tmp_path):
    a = grpo_args(tmp_path, 5, 0)
    assert (a.num_generations, a.beta, a.epsilon, a.loss_type, a.max_steps) == (8, 0.04, 0.2, "grpo", 5)
    assert a.scale_rewards in ("none", False)  # advantage = reward - group mean, no std scaling


@pytest.mark.slow
def test_a_short_trl_grpo_run_uses_the_hybrid_reward(tmp_path, tiny_qwen3):
    from datasets import Dataset
    from trl import GRPOTrainer

    _, tok = tiny_qwen3
    matcher = CatalogMatcher([CatalogSong("s1", "Halo", ("Beyoncé",))])
    reward = HybridReward(matcher, FakePersonalizer(), {1: {"s1"}})
    ds = Dataset.from_list([{"prompt": f"Request: songs {i}\n1.", "user_id": "u", "cluster": 1, "recent_positive": []}
                            for i in range(4)])
    args = grpo_args(tmp_path / "run", 2, 0, num_generations=4, per_device_train_batch_size=4, max_completion_length=8)
    trainer = GRPOTrainer(model=str(tmp_path / "m"), reward_funcs=[reward], args=args, train_dataset=ds,
                          processing_class=tok)
    trainer.train()
    logged = [h for h in trainer.state.log_history if "reward" in h]
    assert len(logged) == 2 and all("kl" in h for h in logged) and len(reward.last) == 4

    # the before/after evaluation: k sampled answers per prompt, reproducible, and the greedy ones
    from pretrain.grpo import mean_reward

    records = [{"prompt": f"Request: songs {i}\n1.", "user_id": "u", "cluster": 1, "recent_positive": [],
                "query": None} for i in range(2)]  # fmt: skip
    a = mean_reward(tmp_path / "m", records, reward, max_new_tokens=8, samples=3, temperature=0.7, seed=5)
    b = mean_reward(tmp_path / "m", records, reward, max_new_tokens=8, samples=3, temperature=0.7, seed=5)
    assert a == b and a["n"] == 6 and mean_reward(tmp_path / "m", records, reward, max_new_tokens=8)["n"] == 2


def test_the_judge_gates_relevance_when_the_record_has_a_query():
    class FakeJudge:
        def gate(self, query, ids):
            return 1.0 if query == "sad songs" and ids else 0.0

    matcher = CatalogMatcher([CatalogSong("s1", "Halo", ("Beyoncé",)), CatalogSong("s3", "Creep", ("Radiohead",))])
    reward = HybridReward(matcher, FakePersonalizer(), {8: {"s3"}}, judge=FakeJudge())
    answer = "1. Halo — Beyoncé\n2. Creep — Radiohead"
    reward(["p", "p", "p"], [answer] * 3, user_id=["u"] * 3, cluster=[8] * 3, recent_positive=[[]] * 3,
           query=["sad songs", "party songs", None])
    # the judge decides where there is a query (cluster 8 holds only half the items, which the rule would pass);
    # without one, the cluster rule
    assert [x["relevance"] for x in reward.last] == [1.0, 0.0, 1.0]


def test_ablations_remove_one_reward_each_and_the_report_has_both_tables():
    from pretrain.grpo import ABLATIONS, ablated, report_markdown

    matcher = CatalogMatcher([CatalogSong("s1", "Halo", ("Beyoncé",)), CatalogSong("s3", "Creep", ("Radiohead",))])
    full = HybridReward(matcher, FakePersonalizer(), {8: {"s1", "s3"}})
    answer = "1. Halo — Beyoncé\n2. Creep — Radiohead"
    base = full.components(answer, "u", 9, [])  # cluster 9 is empty: the gate closes
    assert base["relevance"] == 0.0 and base["reward"] == pytest.approx(0.75)  # every rule but format (two items)
    no_rel = ablated(full, **ABLATIONS["no_relevance"]).components(answer, "u", 9, [])
    assert no_rel["reward"] == pytest.approx(base["reward"] + (0.9 + 1.0) / 2)  # personalization now counts
    no_div = ablated(full, **ABLATIONS["no_diversity"]).components(answer, "u", 9, [])
    assert no_div["reward"] == pytest.approx(base["reward"] - 0.25) and no_div["r_diversity"] == 1.0
    assert full.cfg.lambda_diversity == 0.25  # the original is untouched
    m = {"reward": 0.5, "relevance": 0.0, "personalization": 0.0, "r_format": 0.0, "r_factuality": 1.0,
         "r_diversity": 1.0, "r_dedup": 1.0}
    rep = {"prompts": {"train": 11, "held_out": 16}, "before": m,
           "seeds": {0: {"after": {**m, "reward": 0.6}}, 1: {"after": {**m, "reward": 0.8}}},
           "ablation_seed": 0, "ablations": {"no_format": {"after": {**m, "reward": 0.4}}}}
    md = report_markdown(rep)
    assert "| SFT+GRPO | 0.700 ± 0.100 |" in md and "| SFT | 0.500 |" in md
    assert "| without format | 0.400 |" in md and "| SFT+GRPO, full reward | 0.600 |" in md
