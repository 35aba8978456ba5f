"""The CPU workarounds in pretrain/compat.py: each does what it claims, and each pins the megatron-core
behaviour it relies on, so an upgrade that changes it fails here first."""

from __future__ import annotations

import inspect
import math

import pytest
import torch
from megatron.core.models.common.embeddings.rotary_pos_embedding import RotaryEmbedding
from megatron.core.transformer.enums import AttnMaskType

from pretrain.compat import SDPAttention, apply_cpu_workarounds
from pretrain.model import ModelConfig, transformer_config

CFG = ModelConfig(num_layers=1, hidden_size=64, ffn_hidden_size=96, num_attention_heads=4, num_query_groups=2,
                  kv_channels=32, vocab_size=128)  # fmt: skip
cpu_only = pytest.mark.skipif(torch.cuda.is_available(), reason="the CPU workarounds apply without CUDA only")


def reference_attention(q, k, v, masked: torch.Tensor) -> torch.Tensor:
    """softmax(q k^T / sqrt(hn)) v per head, query head h on key/value group h // (np/ng); `masked`
    [b, sq, sk] is True where attention is not allowed. In [s, b, n, hn], out [s, b, np * hn]."""
    s, b, heads, hn = q.shape
    per_group = heads // k.shape[2]
    out = torch.empty(s, b, heads, hn, dtype=torch.float64)
    for bi in range(b):
        for h in range(heads):
            scores = q[:, bi, h].double() @ k[:, bi, h // per_group].double().T / math.sqrt(hn)
            scores = scores.masked_fill(masked[bi], float("-inf"))
            out[:, bi, h] = torch.softmax(scores, dim=-1) @ v[:, bi, h // per_group].double()
    return out.reshape(s, b, heads * hn)


def qkv(s: int = 8, b: int = 2, dtype=torch.float32, device="cpu"):
    g = torch.Generator().manual_seed(0)
    q = torch.randn(s, b, 4, 32, generator=g)
    k, v = torch.randn(s, b, 2, 32, generator=g), torch.randn(s, b, 2, 32, generator=g)
    return (t.to(device=device, dtype=dtype) for t in (q, k, v))


def sdpa(**kw) -> SDPAttention:
    return SDPAttention(config=transformer_config(CFG), layer_number=1, attn_mask_type=AttnMaskType.causal,
                        attention_type="self", **kw)  # fmt: skip


# ------------------------------------------------------------------------------- SDPA core attention
def test_sdpa_is_causal_grouped_query_attention():
    q, k, v = qkv()
    causal = torch.ones(8, 8, dtype=torch.bool).triu(1).expand(2, 8, 8)
    out = sdpa()(q, k, v, None)
    assert out.shape == (8, 2, 4 * 32)
    assert torch.allclose(out.double(), reference_attention(q, k, v, causal), atol=1e-5)


def test_sdpa_takes_megatron_masks():
    """An explicit mask in megatron's convention ([b, 1, sq, sk], True = masked out), e.g. documents
    reset inside a sequence: positions 4.. of the second sample do not see 0..3."""
    q, k, v = qkv()
    masked = torch.ones(8, 8, dtype=torch.bool).triu(1).repeat(2, 1, 1)
    masked[1, 4:, :4] = True
    out = sdpa()(q, k, v, masked[:, None])
    assert torch.allclose(out.double(), reference_attention(q, k, v, masked), atol=1e-5)


def test_sdpa_constructor_and_forward_fit_megatron_self_attention():
    """SelfAttention builds core attention with the CoreAttentionBuilder keywords and calls it as the
    CoreAttention protocol says (attention.py); SDPAttention must accept exactly that."""
    from megatron.core.transformer import attention

    built_with = set(inspect.signature(attention.CoreAttentionBuilder.__call__).parameters) - {"self"}
    assert built_with == {"config", "layer_number", "attn_mask_type", "attention_type", "cp_comm_type",
                          "softmax_scale", "pg_collection"}  # fmt: skip
    assert built_with <= set(inspect.signature(SDPAttention.__init__).parameters)
    called_with = list(inspect.signature(attention.CoreAttention.forward).parameters)
    assert called_with == list(inspect.signature(SDPAttention.forward).parameters)
    assert "self.core_attention = submodules.core_attention(" in inspect.getsource(attention.Attention.__init__)


def test_local_spec_core_attention_slot_is_what_the_cpu_spec_replaces():
    from megatron.core.models.gpt.gpt_layer_specs import get_gpt_layer_local_spec
    from megatron.core.transformer.dot_product_attention import DotProductAttention

    from pretrain.model import layer_spec

    stock = get_gpt_layer_local_spec(qk_layernorm=True, normalization="RMSNorm")
    assert stock.submodules.self_attention.submodules.core_attention is DotProductAttention
    assert layer_spec("cpu").submodules.self_attention.submodules.core_attention is SDPAttention
    # why the stock module cannot run on CPU: its buffer and dropout RNG are CUDA-only
    source = inspect.getsource(DotProductAttention.forward)
    assert "get_global_memory_buffer" in source and "get_cuda_rng_tracker" in source


def test_sdpa_refuses_what_it_does_not_implement():
    with pytest.raises(ValueError, match="packed sequences"):
        sdpa()(*qkv(), None, packed_seq_params=object())
    with pytest.raises(ValueError, match="softmax_type"):
        SDPAttention(config=transformer_config(CFG, softmax_type="off-by-one"), layer_number=1,
                     attn_mask_type=AttnMaskType.causal)  # fmt: skip


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_sdpa_on_gpu_in_bf16():
    q, k, v = qkv(s=64, dtype=torch.bfloat16, device="cuda")
    causal = torch.ones(64, 64, dtype=torch.bool).triu(1).expand(2, 64, 64)
    out = sdpa()(q, k, v, None)
    ref = reference_attention(q.cpu(), k.cpu(), v.cpu(), causal)
    assert out.device.type == "cuda" and (out.double().cpu() - ref).abs().max().item() < 2e-2


# -------------------------------------------------------------------------------- RoPE on the CPU
def test_rotary_get_emb_is_what_the_patch_wraps():
    """The patch wraps get_emb(self, max_seq_len, offset) and relies on its move of `inv_freq` to
    torch.cuda.current_device(); if megatron stops doing that, the patch can go."""
    original = inspect.unwrap(RotaryEmbedding.get_emb)
    assert list(inspect.signature(original).parameters) == ["self", "max_seq_len", "offset"]
    assert "torch.cuda.current_device()" in inspect.getsource(original)
    rope = RotaryEmbedding(kv_channels=32, rotary_percent=1.0, rotary_base=10000, use_cpu_initialization=True)
    assert rope.inv_freq.device.type == "cpu"


@cpu_only
def test_rotary_patch_keeps_inv_freq_on_cpu_and_is_idempotent():
    rope = RotaryEmbedding(kv_channels=32, rotary_percent=1.0, rotary_base=10000, use_cpu_initialization=True)
    with pytest.raises((AssertionError, RuntimeError)):  # unpatched: "Torch not compiled with CUDA enabled"
        inspect.unwrap(RotaryEmbedding.get_emb)(rope, 8)
    apply_cpu_workarounds()
    assert apply_cpu_workarounds() is False  # a second call changes nothing
    assert inspect.unwrap(RotaryEmbedding.get_emb) is RotaryEmbedding.get_emb.__wrapped__  # wrapped once
    current_device = torch.cuda.current_device
    emb = rope(8)
    assert torch.cuda.current_device is current_device  # restored after the call
    freqs = torch.outer(torch.arange(8.0), 1.0 / 10000 ** (torch.arange(0, 32, 2).float() / 32))
    assert emb.shape == (8, 1, 1, 32) and torch.allclose(emb[:, 0, 0], torch.cat([freqs, freqs], dim=-1))


# ------------------------------------------------------------------------------ training-loop stand-ins
def test_the_training_parts_the_cpu_engine_replaces_still_need_cuda():
    """What CpuEngine stands in for: megatron-core's schedules allocate the token count on "cuda", its grad-norm
    all-reduce and overflow buffer are CUDA tensors, and dist_checkpointing's save synchronizes CUDA and puts a
    flag on the current CUDA device. When an upgrade drops these, the stand-ins may go (see compat.py)."""
    from megatron.core.dist_checkpointing.strategies import async_utils, state_dict_saver
    from megatron.core.optimizer import clip_grads
    from megatron.core.pipeline_parallel import schedules

    assert 'device="cuda"' in inspect.getsource(schedules.forward_backward_no_pipelining)
    assert "device='cuda'" in inspect.getsource(clip_grads.get_grad_norm_fp32)
    assert "torch.cuda.current_device()" in inspect.getsource(state_dict_saver)
    assert "torch.cuda.synchronize()" in inspect.getsource(async_utils)


def test_cpu_checkpointing_points_cuda_calls_at_the_cpu_and_restores_them():
    from pretrain.compat import cpu_checkpointing

    if torch.cuda.is_available():
        pytest.skip("CPU-only behaviour")
    before = torch.cuda.synchronize, torch.cuda.current_device
    with cpu_checkpointing():
        torch.cuda.synchronize()  # no-op instead of "Torch not compiled with CUDA"
        assert torch.tensor([1], device=torch.cuda.current_device()).device.type == "cpu"
    assert (torch.cuda.synchronize, torch.cuda.current_device) == before


def test_grad_norm_and_clipping_follow_torch(parallel_state_1):
    from pretrain.compat import CpuAdamW, grad_norm
    from pretrain.config import OptimizerConfig
    from pretrain.engines import _param_groups
    from pretrain.model import build_model

    cfg = ModelConfig(num_layers=1, hidden_size=32, ffn_hidden_size=64, num_attention_heads=4, num_query_groups=2,
                      kv_channels=8, vocab_size=128)  # fmt: skip
    model = build_model(cfg, vocab_size=128, seq_length=8)
    ids = torch.randint(0, 128, (2, 8), generator=torch.Generator().manual_seed(0))
    model(ids, torch.arange(8).expand(2, 8), None, labels=ids).sum().backward()
    params = [p for p in model.parameters()]
    expected = torch.nn.utils.get_total_norm([p.grad for p in params]).item()
    assert grad_norm(params).item() == pytest.approx(expected, rel=1e-6)
    opt = CpuAdamW(model, _param_groups(model, 0.1), OptimizerConfig(clip_grad=0.5))
    grads_before = [p.grad.clone() for p in params]
    assert opt.step(clip_grad=0.5) == pytest.approx(expected, rel=1e-6)
    scale = 0.5 / (expected + 1e-6)  # gradients were scaled to norm 0.5 before the update
    assert all(torch.allclose(p.grad, g * scale) for p, g in zip(params, grads_before, strict=True))
    # no weight decay on the 1-D norm weights (megatron's rule), decay on matrices
    groups = {id(p): g["weight_decay"] for g in opt.param_groups for p in g["params"]}
    assert all(groups[id(p)] == (0.0 if p.ndim == 1 else 0.1) for p in params)
