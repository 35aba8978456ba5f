"""Training configs: every shipped YAML validates, overrides apply, unknown keys and bad values are refused with
the key and what is allowed, and the curriculum plans its steps from the token budgets."""

from __future__ import annotations

from pathlib import Path

import pytest

from pretrain.config import PROJECT, ConfigError, StageConfig, apply_overrides, load_config, resolve_path
from pretrain.model import ModelConfig
from pretrain.train import flops_per_token

CONFIGS = sorted((PROJECT / "configs" / "pretrain").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_shipped_configs_validate(path: Path):
    cfg = load_config(path)
    assert cfg.stages and cfg.global_batch_size % cfg.micro_batch_size == 0
    if path.name.startswith("qwen3_"):  # the GPU configs: their architecture is the shipped config.json's
        size = path.stem.removeprefix("qwen3_")
        model = ModelConfig.from_hf(PROJECT / "configs" / "pretrain" / "models" / f"qwen3-{size}")
        assert cfg.data.seq_length == 7168 and cfg.precision == "bf16"
        assert [s.optimizer.lr for s in cfg.stages] == [2e-5] * 3 and [s.epochs for s in cfg.stages] == [1.0] * 3
        assert model.num_attention_heads % cfg.parallel.tensor_model_parallel_size == 0


def test_qwen3_shapes_give_their_published_parameter_counts():
    """6N from the shipped configs: Qwen3-1.7B has 1.7B parameters with embeddings (1.4B without), 8B 8.2B."""
    for size, billions in (("0.6b", 0.6), ("1.7b", 1.7), ("8b", 8.2)):
        m = ModelConfig.from_hf(PROJECT / "configs" / "pretrain" / "models" / f"qwen3-{size}")
        matmul = (flops_per_token(m, m.vocab_size, 0)) / 6  # matmul parameters incl. the output layer
        total = matmul + (0 if m.tie_word_embeddings else m.vocab_size * m.hidden_size)
        assert total / 1e9 == pytest.approx(billions, rel=0.08), size


def test_overrides_and_errors(tmp_path):
    demo = PROJECT / "configs" / "pretrain" / "demo.yaml"
    cfg = load_config(demo, ["stages.1.tokens=1234", "global_batch_size=16", "logging.tensorboard=false",
                             "eval_sets.domain.stage=2"])  # fmt: skip
    assert cfg.stages[1].tokens == 1234 and cfg.global_batch_size == 16 and not cfg.logging.tensorboard
    assert cfg.eval_sets["domain"].stage == 2
    with pytest.raises(ConfigError, match=r"checkpoint\.intreval: unknown key; did you mean `interval`"):
        load_config(demo, ["checkpoint.intreval=5"])
    with pytest.raises(ConfigError, match=r"lr > 0"):
        load_config(demo, ["stages.0.optimizer.lr=0"])
    with pytest.raises(ConfigError, match=r"expected key=value"):
        apply_overrides({}, ["global_batch_size"])
    with pytest.raises(ConfigError, match=r"no such config"):
        load_config(tmp_path / "missing.yaml")
    ref = load_config(PROJECT / "configs" / "pretrain" / "reference.yaml")  # `make reference`
    assert [(s.name, s.data) for s in ref.plan()] == [("ref", 1)] and ref.weighting.criterion == "none"
    w = load_config(demo, ["weighting.criterion=rho1", "weighting.keep=0.7", "weighting.mode=offline"]).weighting
    assert (w.criterion, w.keep, w.mode) == ("rho1", 0.7, "offline")
    with pytest.raises(ConfigError, match=r"needs weighting.reference"):
        load_config(demo, ["weighting.criterion=loss_ratio"])
    with pytest.raises(ConfigError, match=r"weighting.keep must be in"):
        load_config(demo, ["weighting.criterion=rho1", "weighting.mode=offline", "weighting.keep=1.5"])
    assert resolve_path("{out}/hf", out="/runs/a") == Path("/runs/a/hf")
    assert resolve_path("configs/x") == PROJECT / "configs" / "x"


def test_plan_and_budgets():
    cfg = load_config(PROJECT / "configs" / "pretrain" / "demo.yaml")
    assert [s.name for s in cfg.plan()] == ["stage1", "stage2", "stage3"]
    mixed = load_config(PROJECT / "configs" / "pretrain" / "demo.yaml", ["mode=mixed"]).plan()
    assert [(s.name, s.data, s.tokens) for s in mixed] == [("mixed", "mixed", 160000)]
    assert StageConfig(name="a", data=1, epochs=1.0).num_steps(1000, 10_500) == 11  # one epoch, rounded up
    assert StageConfig(name="a", data=1, tokens=4096).num_steps(1000, 10**9) == 5
    assert StageConfig(name="a", data=1, steps=3, tokens=10**9).num_steps(1000, 1) == 3
    with pytest.raises(ValueError, match="data must be 1, 2, 3 or 'mixed'"):
        StageConfig(name="a", data=4)
