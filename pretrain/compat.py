"""CPU workarounds for megatron-core 0.16.1's model code, kept in one small, tested module.

Megatron-Core's GPT forward assumes CUDA in two places we hit on a CPU-only torch:
- `DotProductAttention` (the local spec's core attention) takes its score buffer from
  `parallel_state.get_global_memory_buffer()` and forks the CUDA RNG tracker around dropout. We replace
  it with `SDPAttention` (torch `scaled_dot_product_attention`) through the layer spec, on every device:
  on GPU, SDPA dispatches to the flash / memory-efficient kernels, so no s x s score matrix is built.
- `RotaryEmbedding.get_emb` moves `inv_freq` to `torch.cuda.current_device()` on the first forward.
  `apply_cpu_workarounds()` wraps it so that, while it runs, "the current CUDA device" is the CPU; the
  RoPE arithmetic stays megatron's own. Patched only when CUDA is absent, once (idempotent).

The training-loop parts hard-code CUDA too; `CpuEngine` (pretrain/engines.py) uses these stand-ins:
- `run_microbatches`: `forward_backward_no_pipelining` allocates its token count with device="cuda".
  Same arithmetic here: forward, loss sum, backward per micro-batch, then the data-parallel gradient
  all-reduce and division by the global loss-token count (`finalize_model_grads` with
  `calculate_per_token_loss`).
- `CpuAdamW`: `FP32Optimizer` keeps its loss scale on "cuda" and `clip_grad_by_total_norm_fp32` asserts
  CUDA tensors. `torch.optim.AdamW` with megatron's grad-norm rule (tensor-parallel duplicates and shared
  embeddings counted once, summed over the model-parallel group) and its `sharded_state_dict`
  (optimizer state as ShardedTensors keyed by the model's, so a checkpoint loads at another layout).
- `cpu_checkpointing`: `dist_checkpointing.save` calls `torch.cuda.synchronize()` and puts a flag on
  `torch.cuda.current_device()`: both are pointed at the CPU while a save runs.
Each workaround is pinned by a test in tests/pretrain/test_compat.py that fails loudly when a
megatron-core upgrade changes what it relies on.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from megatron.core.transformer.enums import AttnMaskType
from megatron.core.transformer.module import MegatronModule
from megatron.core.transformer.transformer_config import TransformerConfig

if TYPE_CHECKING:
    from pretrain.config import OptimizerConfig

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


# ---- training-loop stand-ins (CpuEngine) ----


def _dp_group():
    from megatron.core import parallel_state

    return parallel_state.get_data_parallel_group()


def all_reduce_data_parallel(t: torch.Tensor) -> torch.Tensor:
    if torch.distributed.is_initialized() and torch.distributed.get_world_size(_dp_group()) > 1:
        torch.distributed.all_reduce(t, group=_dp_group())
    return t


def run_microbatches(model: torch.nn.Module, forward_step: Callable, batches: list[dict], *,
                     forward_only: bool = False) -> list[dict]:  # fmt: skip
    """Forward (and backward) over `batches`; gradients end up as d(sum of weighted losses)/d(theta)
    divided by the global loss-token count. Returns the loss reports, one per micro-batch."""
    store, tokens = [], torch.zeros((), dtype=torch.float64)
    context = torch.no_grad() if forward_only else contextlib.nullcontext()
    with context:
        for b in batches:
            output, loss_func = forward_step(iter([b]), model)
            loss, num_tokens, report = loss_func(output)
            if not forward_only:
                loss.backward()
            tokens += num_tokens.to(torch.float64)
            store.append(report)
    if not forward_only:
        all_reduce_data_parallel(tokens)
        params = [p for p in model.parameters() if p.grad is not None]
        if params:
            grads = [p.grad for p in params]
            if torch.distributed.is_initialized() and torch.distributed.get_world_size(_dp_group()) > 1:
                flat = torch._utils._flatten_dense_tensors(grads)
                torch.distributed.all_reduce(flat, group=_dp_group())
                for g, synced in zip(grads, torch._utils._unflatten_dense_tensors(flat, grads), strict=True):
                    g.copy_(synced)
            torch._foreach_div_(grads, max(float(tokens), 1.0))
    return store


def grad_norm(params: list[torch.nn.Parameter]) -> torch.Tensor:
    """Global L2 norm of the gradients, megatron's `get_grad_norm_fp32` rule on CPU."""
    from megatron.core import parallel_state
    from megatron.core.tensor_parallel import param_is_not_tensor_parallel_duplicate
    from megatron.core.transformer.module import param_is_not_shared

    sq = torch.zeros((), dtype=torch.float64)
    for p in params:
        if p.grad is not None and param_is_not_shared(p) and param_is_not_tensor_parallel_duplicate(p):
            sq += p.grad.detach().double().pow(2).sum()
    if torch.distributed.is_initialized() and parallel_state.get_model_parallel_group() is not None:
        if torch.distributed.get_world_size(parallel_state.get_model_parallel_group()) > 1:
            torch.distributed.all_reduce(sq, group=parallel_state.get_model_parallel_group())
    return sq.sqrt()


class CpuAdamW:
    """`torch.optim.AdamW` with megatron-style clipping and sharded state (see the module docstring).

    Exposes `param_groups` so megatron's `OptimizerParamScheduler` drives its learning rate."""

    def __init__(self, model: torch.nn.Module, groups: list[dict], ocfg: OptimizerConfig):
        self.model = model
        self.optimizer = torch.optim.AdamW(groups, lr=ocfg.lr, betas=(ocfg.adam_beta1, ocfg.adam_beta2),
                                           eps=ocfg.adam_eps, weight_decay=ocfg.weight_decay)  # fmt: skip

    @property
    def param_groups(self) -> list[dict]:
        return self.optimizer.param_groups

    def parameters(self) -> Iterator[torch.nn.Parameter]:
        for g in self.optimizer.param_groups:
            yield from g["params"]

    def zero_grad(self) -> None:
        self.optimizer.zero_grad(set_to_none=True)

    def step(self, clip_grad: float) -> float:
        params = list(self.parameters())
        norm = grad_norm(params)
        if clip_grad > 0:
            coef = clip_grad / (float(norm) + 1.0e-6)
            if coef < 1.0:
                grads = [p.grad for p in params if p.grad is not None]
                torch._foreach_mul_(grads, coef)
        self.optimizer.step()
        return float(norm)

    def _init_state(self) -> None:
        """Create zero Adam state for every parameter (needed before loading a sharded state into it)."""
        for p in self.parameters():
            st = self.optimizer.state[p]
            if not st:
                st["step"] = torch.zeros((), dtype=torch.float32)
                st["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                st["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)

    def sharded_state_dict(self, model_sharded_state_dict: dict, is_loading: bool = False) -> dict:
        """Adam moments as ShardedTensors named after the model's tensors (as megatron's FP32Optimizer does);
        the per-parameter step is one shared `common_step`."""
        from megatron.core.dist_checkpointing.optimizer import (
            get_param_id_to_sharded_param_map,
            optim_state_to_sharding_state,
        )

        if is_loading:
            self._init_state()
        state = self.optimizer.state_dict()
        id_map = get_param_id_to_sharded_param_map(model_sharded_state_dict, self.parameters())
        steps = {float(s["step"]) for s in state["state"].values() if "step" in s}
        optim_state_to_sharding_state(state, id_map, exclude_keys=("step",))
        state["common_step"] = steps.pop() if len(steps) == 1 else 0.0
        return state

    def load_state_dict(self, state: dict) -> None:
        step = float(state.pop("common_step", 0.0))
        groups = self.optimizer.param_groups
        state["param_groups"] = [{**saved, "params": g_now["params_ids"]} if "params_ids" in g_now else saved
                                 for saved, g_now in zip(state["param_groups"], groups, strict=True)]  # fmt: skip
        own = self.optimizer.state_dict()
        for saved, now in zip(state["param_groups"], own["param_groups"], strict=True):
            saved["params"] = now["params"]
        for st in state["state"].values():
            st["step"] = torch.tensor(step, dtype=torch.float32)
        self.optimizer.load_state_dict(state)


@contextlib.contextmanager
def cpu_checkpointing() -> Iterator[None]:
    """While a `dist_checkpointing.save` runs without CUDA: synchronize is a no-op and the failure flag
    tensor lives on the CPU (megatron-core 0.16.1 `preload_tensors` / `save_state_dict_async_finalize`)."""
    if torch.cuda.is_available():
        yield
        return
    saved = torch.cuda.synchronize, torch.cuda.current_device
    torch.cuda.synchronize = lambda *a, **k: None
    torch.cuda.current_device = lambda: "cpu"
    try:
        yield
    finally:
        torch.cuda.synchronize, torch.cuda.current_device = saved
