"""The verl adapter: the RL prompts as verl's RLHF Parquet (same selection as TRL's, no SFT user or query), the
hybrid reward through verl's custom reward-function call (same numbers as TRL's), and the launch script's overrides
(GRPO as the seeds define it, mismatch logging, only keys verl's config has).

verl itself is not run: it does not install on this Python/transformers (verl needs transformers older than ours,
and CUDA). So the reward function is called the way verl's reward managers call it, per its source at the commit
the launch script cites (`verl/workers/reward_manager/naive.py`, `verl/experimental/reward_loop/reward_manager/
naive.py`: keyword arguments data_source, solution_str, ground_truth, extra_info, merged with
`custom_reward_function.reward_kwargs` as `verl/trainer/ppo/reward.py::get_custom_reward_fn` does; the file loaded by
path as `verl/utils/import_utils.py::load_module` loads it); the overrides' keys are checked against an installed
verl's generated config where verl is installed (not here: that test skips).
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from eval.recommend.match import CatalogMatcher, CatalogSong
from eval.rewards import RewardConfig
from jobs.outputs import write_rows
from pretrain import grpo, verl_rl
from pretrain.grpo import HybridReward, rl_prompts
from pretrain.sft import QWEN3_TEMPLATE

REPO = Path(__file__).resolve().parents[2]
LAUNCH = REPO / "configs" / "rl" / "verl_grpo_megatron.sh"
REWARD_FILE = REPO / "configs" / "rl" / "verl_reward.py"
T = datetime(2025, 1, 1, tzinfo=UTC)


def sample(i: int, user: str, split: str, query: str, cluster: int = 7) -> dict:
    return {"sample_id": f"x{i:02d}", "user_id": user, "source": "demo", "split": split, "query_id": f"q{i}",
            "query": query, "lang": "en", "cluster": cluster, "seed_song_id": "s1", "items": ["s1"], "scores": [0.5],
            "candidates": 3, "prompt": f"<|profile|> user {user}\n\nRequest: {query}", "answer": "1. Halo — Beyoncé"}


@pytest.fixture
def corpus_out(tmp_path: Path) -> Path:
    """A corpus run's outputs as far as the RL data reads them: uq2i samples and sessionized events."""
    samples = [sample(0, "a", "sft", "sad songs"), sample(1, "b", "rl", "sad songs"),  # b asked an SFT query
               sample(2, "c", "rl", "gym rock", 8), sample(3, "d", "rl", "jazz for studying"),
               sample(4, "e", "rl", "rainy day"), sample(5, "f", "sft", "road trip")]  # fmt: skip
    write_rows(tmp_path / "uq2i" / "uq2i_samples" / "part-00000.parquet", samples, "uq2i_samples")
    events = [{"user_id": "c", "ts": T + timedelta(minutes=k), "event_id": f"e{k}", "item_type": "song",
               "item_id": f"s{k}", "feedback": fb} for k, fb in enumerate(["play", "skip", "like"])]  # fmt: skip
    events.append({"user_id": "d", "ts": T, "event_id": "e9", "item_type": "artist", "item_id": "a1", "feedback": "like"})
    pq.write_table(pa.Table.from_pylist(events), _mkdir(tmp_path / "behavior" / "_sessions") / "part-00000.parquet")
    return tmp_path


def _mkdir(p: Path) -> Path:
    p.mkdir(parents=True)
    return p


def test_rl_data_is_verls_rlhf_parquet_with_trls_selection(corpus_out):
    assert verl_rl.main(["data", "--out", str(corpus_out), "--val-prompts", "1", "--template-dir",
                         str(QWEN3_TEMPLATE)]) == 0  # fmt: skip
    train, val = (pq.read_table(corpus_out / "rl_verl" / f"{s}.parquet") for s in ("train", "val"))
    # exactly verl's columns and types; prompt is a chat (list of role/content structs)
    for t in (train, val):
        assert t.schema.names == ["data_source", "prompt", "ability", "reward_model", "extra_info"]
        assert t.schema.field("prompt").type == pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
        assert t.schema.field("reward_model").type == pa.struct([("style", pa.string()), ("ground_truth", pa.string())])
        assert [f.name for f in t.schema.field("extra_info").type] == ["split", "index", "sample_id", "user_id", "query"]
        assert t.schema.equals(verl_rl.VERL_RL_SCHEMA)
    rows = val.to_pylist() + train.to_pylist()
    assert [r["extra_info"]["split"] for r in rows] == ["val", "train", "train"]
    assert {r["data_source"] for r in rows} == {"music_uq2i"} and {r["ability"] for r in rows} == {"recommendation"}
    # the same records, in the same order, as TRL's rl_prompts; the first held out as pretrain.grpo holds it out
    samples = pq.read_table(corpus_out / "uq2i" / "uq2i_samples").to_pylist()
    events = pq.read_table(corpus_out / "behavior" / "_sessions").to_pylist()
    records = rl_prompts(samples, events, QWEN3_TEMPLATE)
    assert [r["extra_info"]["sample_id"] for r in rows] == [r["sample_id"] for r in records] == ["x02", "x03", "x04"]
    # RL users and queries never in SFT data
    sft = [s for s in samples if s["split"] == "sft"]
    assert not {r["extra_info"]["user_id"] for r in rows} & {s["user_id"] for s in sft}
    assert not {r["extra_info"]["query"] for r in rows} & {s["query"] for s in sft}
    # the raw user turn (verl renders the template), and what the reward needs as ground truth
    by_id = {s["sample_id"]: s for s in samples}
    for r, rec in zip(rows, records, strict=True):
        assert r["prompt"] == [{"role": "user", "content": by_id[rec["sample_id"]]["prompt"]}]
        assert "<|im_start|>" not in r["prompt"][0]["content"]
        assert r["reward_model"]["style"] == "rule"
        assert json.loads(r["reward_model"]["ground_truth"]) == {
            "user_id": rec["user_id"], "cluster": rec["cluster"], "query": rec["query"],
            "recent_positive": rec["recent_positive"]}
    assert json.loads(rows[0]["reward_model"]["ground_truth"])["recent_positive"] == ["s2", "s0"]
    assert [r["extra_info"]["index"] for r in train.to_pylist()] == [0, 1]
    m = json.loads((corpus_out / "rl_verl" / "_manifest.json").read_text())
    assert m["rows"] == {"train": 2, "val": 1} and m["dropped"] == {"not_rl_split": 2, "query_in_sft": 1}


def test_rl_data_reads_back_as_verls_dataset_loader_reads_it(corpus_out):
    """verl's RLHFDataset loads the files with `datasets.load_dataset("parquet")` and reads rows as dicts."""
    from datasets import load_dataset

    verl_rl.main(["data", "--out", str(corpus_out), "--val-prompts", "1", "--template-dir", str(QWEN3_TEMPLATE)])
    row = load_dataset("parquet", data_files=str(corpus_out / "rl_verl" / "train.parquet"))["train"][0]
    assert row["prompt"][0]["role"] == "user" and row["prompt"][0]["content"].startswith("<|profile|> user d")
    assert isinstance(row["reward_model"]["ground_truth"], str) and row["extra_info"]["index"] == 0


def test_rl_data_refuses_too_few_prompts_and_missing_inputs(corpus_out, tmp_path_factory):
    with pytest.raises(SystemExit, match="lower it"):
        verl_rl.main(["data", "--out", str(corpus_out), "--val-prompts", "3", "--template-dir", str(QWEN3_TEMPLATE)])
    with pytest.raises(SystemExit, match="make corpus"):
        verl_rl.main(["data", "--out", str(tmp_path_factory.mktemp("empty"))])


class FakePersonalizer:
    def score(self, context, items):
        return np.array([{"s1": 0.9, "s2": 0.5, "s3": 1.7}.get(i, np.nan) for i in items])


def small_reward() -> HybridReward:
    matcher = CatalogMatcher([CatalogSong("s1", "Halo", ("Beyoncé",)), CatalogSong("s2", "Hurt", ("Johnny Cash",)),
                              CatalogSong("s3", "Creep", ("Radiohead",))])  # fmt: skip
    return HybridReward(matcher, FakePersonalizer(), {7: {"s1", "s2"}, 8: {"s3"}}, RewardConfig(list_size=3))


@pytest.fixture
def stub_build(monkeypatch):
    """`build_reward` replaced by a small real HybridReward (a corpus run's catalog and personalization model are
    too heavy here); counts how often it is built."""
    built: list[str] = []
    reward = small_reward()

    def build(out, cfg=None):
        built.append(str(out))
        time.sleep(0.05)  # long enough for concurrent first calls to overlap
        return reward

    monkeypatch.setattr(grpo, "build_reward", build)
    verl_rl._reward_of.cache_clear()
    yield reward, built
    verl_rl._reward_of.cache_clear()


def verl_loaded_compute_score(reward_kwargs: dict):
    """`custom_reward_function.path/name/reward_kwargs` as verl resolves them: the file executed by path under a
    throwaway module name (not in sys.modules), the function wrapped so reward_kwargs override call kwargs."""
    spec = importlib.util.spec_from_file_location(f"custom_module_{hash(str(REWARD_FILE))}", REWARD_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    raw_fn = module.compute_score
    return lambda *args, **kwargs: raw_fn(*args, **{**kwargs, **reward_kwargs})


def naive_manager_call(fn, solution_str: str, row: dict):
    """One item as verl's NaiveRewardManager scores it (extra_info gains num_turns and rollout_reward_scores)."""
    extra_info = dict(row["extra_info"])
    extra_info["num_turns"], extra_info["rollout_reward_scores"] = None, {}
    return fn(data_source=row["data_source"], solution_str=solution_str,
              ground_truth=row["reward_model"]["ground_truth"], extra_info=extra_info)  # fmt: skip


def test_one_reward_two_engines(stub_build, tmp_path):
    reward, built = stub_build
    fn = verl_loaded_compute_score({"out": str(tmp_path)})
    good = "1. Halo — Beyoncé\n2. Hurt — Johnny Cash\n3. Creep — Radiohead"
    records = [{"sample_id": "x1", "user_id": "u", "query": "q", "cluster": 7, "recent_positive": []},
               {"sample_id": "x2", "user_id": "u", "query": "q", "cluster": 8, "recent_positive": ["s2"]},
               {"sample_id": "x3", "user_id": "u", "query": "q", "cluster": 7, "recent_positive": []}]  # fmt: skip
    rows = verl_rl.verl_rows(records, {r["sample_id"]: "prompt" for r in records}, "train")
    texts = [good, good, ""]
    verl_scores = [naive_manager_call(fn, t, row) for t, row in zip(texts, rows, strict=True)]
    trl = reward(["p"] * 3, texts, user_id=["u"] * 3, cluster=[7, 8, 7], recent_positive=[[], ["s2"], []],
                 query=["q"] * 3)
    for got, comps, r in zip(verl_scores, reward.last, trl, strict=True):
        assert got["score"] == comps["reward"] == r
        assert "reward" not in got  # verl's validation adds its own "reward" list beside the extra keys
        assert got == {"score": comps["reward"], **{k: v for k, v in comps.items() if k != "reward"}}
        assert all(isinstance(v, float) for v in got.values())
    assert verl_scores[0]["score"] == pytest.approx(2.4 / 3 + 1.0) and verl_scores[2]["score"] == 0.0
    # every item returns the same keys: verl appends each key's values into aligned per-batch lists
    assert len({tuple(s) for s in verl_scores}) == 1
    assert built == [str(tmp_path.resolve())]  # built once per process, not per call or per loaded copy
    verl_loaded_compute_score({"out": str(tmp_path / ".." / tmp_path.name)})(
        data_source="music_uq2i", solution_str=good, ground_truth=rows[0]["reward_model"]["ground_truth"])
    assert len(built) == 1


def test_reward_is_built_once_under_the_reward_loops_threads(stub_build, tmp_path):
    """verl's reward loop runs a sync compute_score in an executor's threads."""
    _, built = stub_build
    gt = verl_rl.ground_truth({"user_id": "u", "cluster": 7, "recent_positive": []})
    with ThreadPoolExecutor(8) as ex:
        scores = list(ex.map(lambda _: verl_rl.compute_score("music_uq2i", "1. Halo — Beyoncé", gt, out=str(tmp_path)),
                             range(16)))  # fmt: skip
    assert len(built) == 1 and len({s["score"] for s in scores}) == 1


def test_compute_score_has_verls_signature_and_says_what_is_wrong(stub_build, tmp_path):
    # verl's call (plus the reward loop's router kwargs when a reward model serves) binds to our signature
    inspect.signature(verl_rl.compute_score).bind(data_source="music_uq2i", solution_str="", ground_truth="{}",
                                                  extra_info={}, reward_router_address=None,
                                                  reward_model_tokenizer=None, out="out")  # fmt: skip
    gt = verl_rl.ground_truth({"user_id": "u", "cluster": 7, "recent_positive": []})
    as_struct = {"user_id": "u", "cluster": np.int32(7), "recent_positive": np.array([], dtype=object)}
    assert verl_rl.compute_score("music_uq2i", "", as_struct, out=str(tmp_path)) == verl_rl.compute_score(
        "music_uq2i", "", gt, out=str(tmp_path))  # a struct ground truth (numpy values) scores the same
    with pytest.raises(ValueError, match="data_source='openai/gsm8k'"):
        verl_rl.compute_score("openai/gsm8k", "", gt, out=str(tmp_path))
    with pytest.raises(ValueError, match=r"reward_kwargs\.out"):
        verl_rl.compute_score("music_uq2i", "", gt)
    with pytest.raises(ValueError, match="row x9.*pretrain.verl_rl data"):
        verl_rl.compute_score("music_uq2i", "", '{"user_id": "u"}', {"sample_id": "x9"}, out=str(tmp_path))


def flat_keys(d: dict, prefix: str = "") -> set[str]:
    keys = set()
    for k, v in d.items():
        keys.add(f"{prefix}{k}")
        if isinstance(v, dict):
            keys |= flat_keys(v, f"{prefix}{k}.")
    return keys


@pytest.mark.skipif(shutil.which("bash") is None, reason="the launch script is a bash script")
def test_launch_script_runs_grpo_as_the_seeds_define_it_with_keys_verl_has(tmp_path):
    env = {**os.environ, "DRY_RUN": "1", "OUT": str(tmp_path), "TP": "4", "PP": "2", "NNODES": "2"}
    argv = subprocess.run(["bash", str(LAUNCH), "trainer.total_epochs=3"], env=env, check=True, capture_output=True,
                          text=True).stdout.splitlines()  # fmt: skip
    assert argv[:4] == ["python3", "-m", "verl.trainer.main_ppo", "--config-name=ppo_megatron_trainer"]
    overrides = argv[4:]
    assert all("=" in o for o in overrides)
    pairs = [o.split("=", 1) for o in overrides]
    kv = {k.lstrip("+"): v for k, v in pairs}  # the last override wins, as in Hydra
    assert "b178a3cd56f58b2d502255daba591e92833930a7" in LAUNCH.read_text()  # the commit the keys were checked at
    # GRPO as the seeds define it
    assert kv["algorithm.adv_estimator"] == "grpo" and kv["actor_rollout_ref.rollout.n"] == "8"
    assert kv["algorithm.norm_adv_by_std_in_grpo"] == "False"  # advantage = reward - group mean
    assert kv["actor_rollout_ref.actor.use_kl_loss"] == "True" and kv["actor_rollout_ref.actor.kl_loss_coef"] == "0.04"
    assert kv["actor_rollout_ref.actor.kl_loss_type"] == "low_var_kl"  # k3, TRL's estimator
    assert kv["algorithm.use_kl_in_reward"] == "False"
    assert {kv[f"actor_rollout_ref.actor.clip_ratio{s}"] for s in ("", "_low", "_high")} == {"0.2"}
    assert kv["actor_rollout_ref.actor.loss_agg_mode"] == "seq-mean-token-mean"  # TRL's loss_type="grpo"
    assert kv["actor_rollout_ref.actor.ppo_mini_batch_size"] == kv["data.train_batch_size"]  # one update per batch
    # train/rollout log-prob mismatch logged from the start, without changing the loss
    assert kv["actor_rollout_ref.rollout.calculate_log_probs"] == "True"
    assert kv["algorithm.rollout_correction.bypass_mode"] == "False"  # the actor recomputes: both sides logged
    assert kv["algorithm.rollout_correction.rollout_is"] == kv["algorithm.rollout_correction.rollout_rs"] == "null"
    # Megatron parallelism from the environment, reference model alike
    assert kv["actor_rollout_ref.actor.megatron.tensor_model_parallel_size"] == "4"
    assert kv["actor_rollout_ref.ref.megatron.pipeline_model_parallel_size"] == "2" and kv["trainer.nnodes"] == "2"
    # our data, our reward function with the corpus output, extra overrides passed through last
    assert kv["data.train_files"] == str(tmp_path / "rl_verl" / "train.parquet")
    assert kv["data.val_files"] == str(tmp_path / "rl_verl" / "val.parquet")
    assert Path(kv["custom_reward_function.path"]) == REWARD_FILE and REWARD_FILE.is_file()
    assert kv["custom_reward_function.name"] == "compute_score"
    assert kv["custom_reward_function.reward_kwargs.out"] == str(tmp_path)
    assert kv["data.apply_chat_template_kwargs.enable_thinking"] == "False"  # as pretrain.sft.generation_prompt
    assert str(REPO) in kv["ray_kwargs.ray_init.runtime_env.env_vars.PYTHONPATH"].split(":")
    assert overrides[-1] == "trainer.total_epochs=3"


def launch_overrides(tmp_path) -> list[list[str]]:
    env = {**os.environ, "DRY_RUN": "1", "OUT": str(tmp_path)}
    argv = subprocess.run(["bash", str(LAUNCH)], env=env, check=True, capture_output=True, text=True).stdout.splitlines()
    return [o.split("=", 1) for o in argv[4:]]


@pytest.mark.skipif(shutil.which("bash") is None, reason="the launch script is a bash script")
def test_launch_keys_exist_in_the_installed_verl(tmp_path):
    """Where verl is installed (a cluster image): every plain override is a key of its generated Megatron trainer
    config and every `+` key is one it lacks (Hydra refuses the other way round). verl does not install here
    (transformers pin, CUDA), so this skips in CI; the keys were checked by hand at the commit the script cites."""
    verl = pytest.importorskip("verl")
    cfg = Path(verl.__file__).parent / "trainer" / "config" / "_generated_ppo_megatron_trainer.yaml"
    known = flat_keys(yaml.safe_load(cfg.read_text()))
    pairs = launch_overrides(tmp_path)
    assert [k for k, _ in pairs if not k.startswith("+") and k not in known] == []
    assert [k for k, _ in pairs if k.startswith("+") and k[1:] in known] == []
