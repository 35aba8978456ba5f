"""ModelConfig from Hugging Face configs, vocabulary padding and resizing, TransformerConfig, layer specs
and GPTModel construction on CPU."""

from __future__ import annotations

import importlib.util
import json

import pytest
import torch
import torch.nn.functional as F

from pretrain.model import (
    LAYER_SPECS,
    ModelConfig,
    build_model,
    default_spec,
    layer_spec,
    padded_vocab_size,
    resize_vocab,
    transformer_config,
)

# the fields of Qwen3-0.6B's config.json (transformers 4.x form: rope_theta at the top level)
QWEN3_06B = {
    "architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "hidden_size": 1024, "intermediate_size": 3072,
    "num_hidden_layers": 28, "num_attention_heads": 16, "num_key_value_heads": 8, "head_dim": 128,
    "vocab_size": 151936, "max_position_embeddings": 40960, "rope_theta": 1000000, "rope_scaling": None,
    "rms_norm_eps": 1e-06, "tie_word_embeddings": True, "initializer_range": 0.02, "attention_bias": False,
    "hidden_act": "silu", "use_sliding_window": False, "torch_dtype": "bfloat16",
}  # fmt: skip

SMALL = ModelConfig(num_layers=2, hidden_size=64, ffn_hidden_size=96, num_attention_heads=4, num_query_groups=2,
                    kv_channels=32, vocab_size=300, max_position_embeddings=128, rotary_base=10000.0)  # fmt: skip


# ------------------------------------------------------------------------------------------- config
def test_from_hf_reads_a_qwen3_config():
    cfg = ModelConfig.from_hf(QWEN3_06B)
    assert (cfg.num_layers, cfg.hidden_size, cfg.ffn_hidden_size) == (28, 1024, 3072)
    assert (cfg.num_attention_heads, cfg.num_query_groups, cfg.kv_channels) == (16, 8, 128)  # 128 != 1024/16
    assert cfg.rotary_base == 1e6 and cfg.tie_word_embeddings and cfg.vocab_size == 151936
    v5 = {k: v for k, v in QWEN3_06B.items() if k != "rope_theta"}
    v5["rope_parameters"] = {"rope_type": "default", "rope_theta": 5e5}  # transformers 5 form
    assert ModelConfig.from_hf(v5).rotary_base == 5e5


def test_from_hf_reads_a_directory_or_file(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(QWEN3_06B))
    assert ModelConfig.from_hf(tmp_path) == ModelConfig.from_hf(tmp_path / "config.json") == ModelConfig.from_hf(QWEN3_06B)
    with pytest.raises(FileNotFoundError, match="no Hugging Face config.json"):
        ModelConfig.from_hf(tmp_path / "missing")


@pytest.mark.parametrize(("change", "message"), [
    ({"rope_scaling": {"rope_type": "yarn", "factor": 4.0}}, "RoPE type 'yarn' is not supported"),
    ({"attention_bias": True}, "attention_bias=True is not supported"),
    ({"hidden_act": "gelu"}, "hidden_act='gelu'"),
    ({"num_key_value_heads": 5}, r"num_attention_heads \(16\) must be a multiple of num_query_groups \(5\)"),
    ({"model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"]}, "only dense Qwen3"),
])  # fmt: skip
def test_from_hf_refuses_what_it_cannot_build(change, message):
    with pytest.raises(ValueError, match=message):
        ModelConfig.from_hf({**QWEN3_06B, **change})


def test_dict_and_hf_config_round_trips():
    cfg = ModelConfig.from_hf(QWEN3_06B)
    assert ModelConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    assert ModelConfig.from_hf(cfg.to_hf_config().to_dict()) == cfg
    assert cfg.to_hf_config(vocab_size=151_680).vocab_size == 151_680
    with pytest.raises(ValueError, match=r"unknown keys \['hidden'\]"):
        ModelConfig.from_dict({**cfg.to_dict(), "hidden": 1})
    with pytest.raises(ValueError, match="num_layers must be a positive integer"):
        ModelConfig.from_dict({**cfg.to_dict(), "num_layers": 0})


# --------------------------------------------------------------------------------------- vocabulary
def test_padded_vocab_size():
    assert padded_vocab_size(300) == 384
    assert padded_vocab_size(384) == 384
    assert padded_vocab_size(300, 2) == 512
    assert padded_vocab_size(151_669 + 4, 4) == 151_552 + 512  # a multiple of 128 x 4 at or above
    with pytest.raises(ValueError):
        padded_vocab_size(0)


def test_resize_vocab_copies_old_rows_and_fills_new_rows_with_the_mean():
    w = torch.randn(10, 4)
    out = resize_vocab(w, 16)
    assert torch.equal(out[:10], w) and torch.equal(out[10:], w.double().mean(0).float().expand(6, 4))
    # new tokens inside the source's own rows (Qwen's padded checkpoints): mean of the rows before them
    out = resize_vocab(w, 12, new_token_ids=[8, 9])
    assert torch.equal(out[:8], w[:8]) and torch.equal(out[8:], w[:8].double().mean(0).float().expand(4, 4))
    assert torch.equal(resize_vocab(w, 8), w[:8])  # rows no token reaches are dropped
    assert resize_vocab(w.bfloat16(), 12).dtype == torch.bfloat16
    with pytest.raises(ValueError, match="new token ids must lie in"):
        resize_vocab(w, 12, new_token_ids=[12])


# ----------------------------------------------------------------------------------------- megatron
def test_transformer_config_is_qwen3_shaped():
    tc = transformer_config(SMALL)
    assert (tc.normalization, tc.gated_linear_unit, tc.activation_func) == ("RMSNorm", True, F.silu)
    assert (tc.kv_channels, tc.num_query_groups, tc.qk_layernorm, tc.add_bias_linear) == (32, 2, True, False)
    assert tc.hidden_dropout == tc.attention_dropout == 0.0 and tc.layernorm_epsilon == SMALL.norm_epsilon
    assert tc.use_cpu_initialization == (not torch.cuda.is_available())
    assert transformer_config(SMALL, bf16=True, params_dtype=torch.bfloat16, recompute_granularity="selective").bf16
    with pytest.raises(ValueError, match="must divide the 4 attention heads"):
        transformer_config(SMALL, tp=8)


def test_layer_spec_registry():
    assert set(LAYER_SPECS) == {"cpu", "local", "te"}
    assert default_spec() == ("local" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="unknown layer spec 'flash'.*'cpu', 'local', 'te'"):
        layer_spec("flash")


@pytest.mark.skipif(importlib.util.find_spec("transformer_engine") is not None, reason="Transformer Engine present")
def test_te_spec_without_transformer_engine_says_what_to_use():
    with pytest.raises(ImportError, match="use spec 'local'"):
        layer_spec("te")


@pytest.mark.parametrize("spec", ["cpu", "local"])
def test_build_model_trains_on_cpu(spec, parallel_state_1):
    model = build_model(SMALL, vocab_size=384, seq_length=16, spec=spec)
    names = {n for n, _ in model.named_parameters()}
    assert {"embedding.word_embeddings.weight", "decoder.layers.1.self_attention.linear_qkv.weight",
            "decoder.layers.0.input_layernorm.weight", "decoder.layers.0.pre_mlp_layernorm.weight",
            "decoder.layers.0.self_attention.q_layernorm.weight", "output_layer.weight"} <= names  # fmt: skip
    qkv = model.decoder.layers[0].self_attention.linear_qkv.weight
    assert qkv.shape == ((4 + 2 * 2) * 32, 64)  # q heads + k and v per group, head_dim 32
    ids = torch.randint(0, 300, (2, 16))
    loss = model(ids, torch.arange(16).expand_as(ids), None, labels=ids).mean()
    loss.backward()
    assert torch.isfinite(loss) and abs(loss.item() - torch.log(torch.tensor(384.0)).item()) < 0.5
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def test_build_model_tied_and_vocab_checks(parallel_state_1):
    tied = ModelConfig.from_dict({**SMALL.to_dict(), "tie_word_embeddings": True})
    model = build_model(tied, vocab_size=384, seq_length=16)
    assert "output_layer.weight" not in dict(model.named_parameters())
    with pytest.raises(ValueError, match="seq_length must be >= 1"):
        build_model(SMALL, vocab_size=384, seq_length=0)
