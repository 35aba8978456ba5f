"""CPU workarounds for megatron-core 0.16.1's model code, kept in one small, tested module.

Megatron-Core's GPT forward assumes CUDA in two places we hit on a CPU-only torch:
- `DotProductAttention` (the local spec's core attention) takes its score buffer from
  `parallel_state.get_global_memory_buffer()` and forks the CUDA RNG tracker around dropout. We replace
  it with `SDPAttention` (torch `scaled_dot_product_attention`) through the layer spec, on every device:
  on GPU, SDPA dispatches to the flash / memory-efficient kernels, so no s x s score matrix is built.
- `RotaryEmbedding.get_emb` moves `inv_freq` to `torch.cuda.current_device()` on the first forward.
  `apply_cpu_workarounds()` wraps it so that, while it runs, "the current CUDA device" is the CPU; the
  RoPE arithmetic stays megatron's own. Patched only when CUDA is absent, once (idempotent).
Each workaround is pinned by a test in tests/pretrain/test_compat.py that fails loudly when a
megatron-core upgrade changes what it relies on. The training-loop parts that hard-code CUDA
(schedules, optimizer, checkpoint saving) live in pretrain/cpu_train.py.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from megatron.core.transformer.enums import AttnMaskType
from megatron.core.transformer.module import MegatronModule
from megatron.core.transformer.transformer_config import TransformerConfig

# marks a function this module installed, so `apply_cpu_workarounds` never wraps twice
_PATCHED = "_music_llm_cpu_patch"


class SDPAttention(MegatronModule):
    """Core attention (softmax(QK^T * scale) V) through `torch.nn.functional.scaled_dot_product_attention`.

    A drop-in for megatron's `DotProductAttention` in a layer spec: the same constructor keywords
    (`SelfAttention` builds it with config, layer_number, attn_mask_type, attention_type, cp_comm_type,
    softmax_scale, pg_collection) and the same forward: query [sq, b, np, hn], key/value [sk, b, ng, hn]
    (ng query groups; each group's key/value serves np/ng query heads), output [sq, b, np * hn].
    `attention_mask` follows megatron's convention (True = masked out); None with a causal mask type
    means causal attention.
    """

    def __init__(
        self,
        config: TransformerConfig,
        layer_number: int,
        attn_mask_type: AttnMaskType,
        attention_type: str = "self",
        attention_dropout: float | None = None,
        softmax_scale: float | None = None,
        cp_comm_type: str | None = None,
        pg_collection=None,
    ):
        super().__init__(config=config)
        if config.context_parallel_size != 1:
            raise ValueError("SDPAttention does not support context parallelism; use the `te` layer spec")
        if config.apply_query_key_layer_scaling:
            raise ValueError("SDPAttention does not support apply_query_key_layer_scaling (a fp16 trick)")
        if config.softmax_type != "vanilla" or config.window_size is not None:
            raise ValueError(f"SDPAttention supports plain causal softmax only, not softmax_type="
                             f"{config.softmax_type!r} / window_size={config.window_size!r}")  # fmt: skip
        self.layer_number = max(1, layer_number)
        self.attn_mask_type = attn_mask_type
        self.head_dim = config.kv_channels
        self.softmax_scale = 1.0 / math.sqrt(self.head_dim) if softmax_scale is None else softmax_scale
        self.dropout_p = config.attention_dropout if attention_dropout is None else attention_dropout

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        attention_mask: torch.Tensor | None,
        attn_mask_type: AttnMaskType | None = None,
        attention_bias: torch.Tensor | None = None,
        packed_seq_params=None,
    ) -> torch.Tensor:
        if packed_seq_params is not None or attention_bias is not None:
            raise ValueError("SDPAttention supports neither packed sequences nor an attention bias; use `te`")
        mask_type = self.attn_mask_type if attn_mask_type is None else attn_mask_type
        sq, b, heads, hn = query.shape
        groups = key.shape[2]
        # [s, b, n, hn] -> [b, n, s, hn]; GQA: repeat each key/value group for its query heads, the same
        # expansion as megatron's DotProductAttention (group g serves query heads g*r .. g*r + r-1)
        q, k, v = (t.permute(1, 2, 0, 3) for t in (query, key, value))
        if heads != groups:
            k = k.repeat_interleave(heads // groups, dim=1)
            v = v.repeat_interleave(heads // groups, dim=1)
        mask, causal = None, False
        if attention_mask is not None:
            mask = ~attention_mask  # megatron: True = masked out; SDPA: True = may attend
        elif mask_type == AttnMaskType.causal and sq > 1:
            causal = True
        dropout = self.dropout_p if self.training else 0.0
        with self._dropout_rng(dropout):
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout, is_causal=causal,
                                                 scale=self.softmax_scale)  # fmt: skip
        # [b, np, sq, hn] -> [sq, b, np * hn]
        return out.permute(2, 0, 1, 3).reshape(sq, b, heads * hn)

    def _dropout_rng(self, dropout: float):
        """Megatron's model-parallel RNG region for attention dropout (each TP rank drops its own heads).

        Only on CUDA, where the tracker exists; with sequence parallelism the whole block already runs
        inside the fork (TransformerBlock.forward), as in DotProductAttention."""
        if dropout > 0 and torch.cuda.is_available() and not self.config.sequence_parallel:
            from megatron.core import tensor_parallel

            return tensor_parallel.get_cuda_rng_tracker().fork()
        return contextlib.nullcontext()


@contextlib.contextmanager
def _cpu_as_current_device() -> Iterator[None]:
    """While inside, `torch.cuda.current_device()` answers "cpu" (for megatron code that moves tensors
    to "the current device"); only used when CUDA is absent."""
    saved = torch.cuda.current_device
    torch.cuda.current_device = lambda: "cpu"
    try:
        yield
    finally:
        torch.cuda.current_device = saved


def _rotary_get_emb_on_cpu(original):
    @functools.wraps(original)
    def get_emb(self, max_seq_len: int, offset: int = 0):
        if self.inv_freq.device.type != "cpu":
            return original(self, max_seq_len, offset)
        with _cpu_as_current_device():
            return original(self, max_seq_len, offset)

    setattr(get_emb, _PATCHED, True)
    return get_emb


def apply_cpu_workarounds() -> bool:
    """Patch megatron-core for a CPU-only run; a no-op when CUDA is available or already patched.

    Returns True when a patch was installed by this call. Safe to call from every entry point."""
    if torch.cuda.is_available():
        return False
    from megatron.core.models.common.embeddings.rotary_pos_embedding import RotaryEmbedding

    if getattr(RotaryEmbedding.get_emb, _PATCHED, False):
        return False
    RotaryEmbedding.get_emb = _rotary_get_emb_on_cpu(RotaryEmbedding.get_emb)
    return True
