"""Hugging Face Qwen3 weights in and out of a Megatron-Core `GPTModel` (Megatron-Bridge does not install here).

Layouts (HF `model.layers.N.` -> megatron `decoder.layers.N.`):
- q/k/v_proj -> `self_attention.linear_qkv.weight`, interleaved per key/value group: for each group g,
  [its np/ng query heads, its key head, its value head] ([ng * (np/ng + 2) * hn, hidden]), the order
  `SelfAttention.get_query_key_value_tensors` splits. HF query head h uses key/value head h // (np/ng),
  so group g's query heads are the contiguous heads g*np/ng .. (g+1)*np/ng - 1.
- gate_proj, up_proj -> `mlp.linear_fc1.weight` = cat(gate, up) (megatron's SwiGLU chunks fc1's
  output in two on each rank), down_proj -> `mlp.linear_fc2.weight`, o_proj -> `linear_proj.weight`.
- input_layernorm / post_attention_layernorm -> `input_layernorm.weight` / `pre_mlp_layernorm.weight`
  (local spec); the Transformer Engine spec fuses them into `self_attention.linear_qkv.layer_norm_weight`
  / `mlp.linear_fc1.layer_norm_weight`. The "full state" here always uses the local names
  (`canonical_name` maps TE names to them), global layer numbers and tensor-parallel size 1.
- q_norm/k_norm -> `q_layernorm`/`k_layernorm`; embed_tokens -> `embedding.word_embeddings`;
  model.norm -> `decoder.final_layernorm`; lm_head -> `output_layer` (absent when tied).
Tensor parallelism slices each full tensor along the parameter's `partition_dim` (megatron marks
tensor-parallel parameters with `tensor_model_parallel` and `partition_dim`); fc1 is sliced per half,
since each rank holds [its gate rows; its up rows]. QKV needs no special case: the group interleave
makes a contiguous slice exactly one rank's groups. Pipeline stages map their local layer index to the
global one through each layer's `layer_number`.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import torch

from pretrain.model import ModelConfig, resize_vocab

log = logging.getLogger(__name__)

EMBEDDING = "embedding.word_embeddings.weight"
OUTPUT_LAYER = "output_layer.weight"
FINAL_NORM = "decoder.final_layernorm.weight"
# Transformer Engine's fused norm+linear names -> the local spec's separate norm modules
TE_NAMES = {
    "self_attention.linear_qkv.layer_norm_weight": "input_layernorm.weight",
    "mlp.linear_fc1.layer_norm_weight": "pre_mlp_layernorm.weight",
}
# files of a model directory that a tokenizer directory must not bring into an export
MODEL_FILES = re.compile(r"^(config\.json|generation_config\.json|.*\.safetensors|.*\.index\.json|.*\.bin|.*\.pt)$")


# ------------------------------------------------------------------------------------ reading HF files
class SafetensorsState(Mapping):
    """A Hugging Face checkpoint's tensors by name, read from its safetensors files on access.

    Lazy so that importing a large model holds one full tensor at a time, not the whole checkpoint."""

    def __init__(self, files: Mapping[str, Path]):
        self.files = dict(files)  # tensor name -> file
        self._handles: dict[Path, object] = {}

    def __getitem__(self, name: str) -> torch.Tensor:
        from safetensors import safe_open

        path = self.files[name]
        if path not in self._handles:
            self._handles[path] = safe_open(str(path), framework="pt", device="cpu")
        return self._handles[path].get_tensor(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self.files)

    def __len__(self) -> int:
        return len(self.files)


def load_hf_state(hf_dir: str | Path) -> SafetensorsState:
    """The tensors of a Hugging Face model directory: `model.safetensors.index.json` (sharded) or
    `model.safetensors`. Tensors load when accessed; `dict(...)` loads them all."""
    from safetensors import safe_open

    hf_dir = Path(hf_dir)
    index = hf_dir / "model.safetensors.index.json"
    if index.is_file():
        weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
        files = {name: hf_dir / f for name, f in weight_map.items()}
        missing = sorted({str(p) for p in files.values() if not p.is_file()})
        if missing:
            raise FileNotFoundError(f"{index}: lists shards that are missing: {missing}")
        return SafetensorsState(files)
    single = hf_dir / "model.safetensors"
    if single.is_file():
        with safe_open(str(single), framework="pt", device="cpu") as f:
            return SafetensorsState({name: single for name in f.keys()})
    raise FileNotFoundError(f"{hf_dir}: no model.safetensors or model.safetensors.index.json; convert "
                            "PyTorch .bin weights with save_pretrained(..., safe_serialization=True)")  # fmt: skip


# --------------------------------------------------------------------------------- layout conversion
def megatron_keys(cfg: ModelConfig) -> list[str]:
    """Names of the full (unsharded, local-spec) megatron state for `cfg`, in model order."""
    keys = [EMBEDDING]
    for i in range(cfg.num_layers):
        p = f"decoder.layers.{i}."
        keys += [p + "input_layernorm.weight", p + "self_attention.linear_qkv.weight",
                 p + "self_attention.q_layernorm.weight", p + "self_attention.k_layernorm.weight",
                 p + "self_attention.linear_proj.weight", p + "pre_mlp_layernorm.weight",
                 p + "mlp.linear_fc1.weight", p + "mlp.linear_fc2.weight"]  # fmt: skip
    keys.append(FINAL_NORM)
    if not cfg.tie_word_embeddings:
        keys.append(OUTPUT_LAYER)
    return keys


def hf_keys(cfg: ModelConfig) -> list[str]:
    """Names of the Hugging Face Qwen3 state for `cfg` (no lm_head when tied)."""
    keys = ["model.embed_tokens.weight"]
    for i in range(cfg.num_layers):
        p = f"model.layers.{i}."
        keys += [p + n for n in ("input_layernorm.weight", "self_attn.q_proj.weight", "self_attn.k_proj.weight",
                                 "self_attn.v_proj.weight", "self_attn.q_norm.weight", "self_attn.k_norm.weight",
                                 "self_attn.o_proj.weight", "post_attention_layernorm.weight",
                                 "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight")]  # fmt: skip
    keys.append("model.norm.weight")
    if not cfg.tie_word_embeddings:
        keys.append("lm_head.weight")
    return keys


def qkv_to_megatron(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, cfg: ModelConfig) -> torch.Tensor:
    """HF q/k/v projections -> megatron's per-group interleaved QKV weight."""
    groups, hn = cfg.num_query_groups, cfg.kv_channels
    per_group = cfg.num_attention_heads // groups
    hidden = q.shape[-1]
    return torch.cat([q.reshape(groups, per_group * hn, hidden), k.reshape(groups, hn, hidden),
                      v.reshape(groups, hn, hidden)], dim=1).reshape(-1, hidden)  # fmt: skip


def qkv_from_megatron(qkv: torch.Tensor, cfg: ModelConfig) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Megatron's interleaved QKV weight -> HF (q, k, v) projections."""
    groups, hn = cfg.num_query_groups, cfg.kv_channels
    per_group = cfg.num_attention_heads // groups
    hidden = qkv.shape[-1]
    q, k, v = qkv.reshape(groups, (per_group + 2) * hn, hidden).split([per_group * hn, hn, hn], dim=1)
    # clones: each output owns its storage (safetensors refuses tensors that share one)
    return q.reshape(-1, hidden).clone(), k.reshape(-1, hidden).clone(), v.reshape(-1, hidden).clone()


_LAYER = re.compile(r"^decoder\.layers\.(\d+)\.(.+)$")
_LAYER_FROM_HF = {  # megatron suffix -> HF suffix, for the one-to-one tensors
    "input_layernorm.weight": "input_layernorm.weight",
    "self_attention.q_layernorm.weight": "self_attn.q_norm.weight",
    "self_attention.k_layernorm.weight": "self_attn.k_norm.weight",
    "self_attention.linear_proj.weight": "self_attn.o_proj.weight",
    "pre_mlp_layernorm.weight": "post_attention_layernorm.weight",
    "mlp.linear_fc2.weight": "mlp.down_proj.weight",
}


def megatron_tensor(key: str, hf_state: Mapping[str, torch.Tensor], cfg: ModelConfig) -> torch.Tensor:
    """One tensor of the full megatron state (`key`, local-spec name), built from the HF state."""
    if key == EMBEDDING or (key == OUTPUT_LAYER and cfg.tie_word_embeddings):
        return hf_state["model.embed_tokens.weight"]
    if key == OUTPUT_LAYER:
        return hf_state["lm_head.weight"]
    if key == FINAL_NORM:
        return hf_state["model.norm.weight"]
    m = _LAYER.match(key)
    if m is None:
        raise KeyError(f"no Hugging Face source for megatron parameter {key!r}")
    p, suffix = f"model.layers.{m.group(1)}.", m.group(2)
    if suffix == "self_attention.linear_qkv.weight":
        return qkv_to_megatron(hf_state[p + "self_attn.q_proj.weight"], hf_state[p + "self_attn.k_proj.weight"],
                               hf_state[p + "self_attn.v_proj.weight"], cfg)  # fmt: skip
    if suffix == "mlp.linear_fc1.weight":
        return torch.cat([hf_state[p + "mlp.gate_proj.weight"], hf_state[p + "mlp.up_proj.weight"]], dim=0)
    if suffix in _LAYER_FROM_HF:
        return hf_state[p + _LAYER_FROM_HF[suffix]]
    raise KeyError(f"no Hugging Face source for megatron parameter {key!r}")


def hf_to_megatron(hf_state: Mapping[str, torch.Tensor], cfg: ModelConfig) -> dict[str, torch.Tensor]:
    """The full (tensor-parallel size 1, global layer numbers, local-spec names) megatron state."""
    check_hf_keys(hf_state, cfg)
    return {key: megatron_tensor(key, hf_state, cfg) for key in megatron_keys(cfg)}


def megatron_to_hf(full_state: Mapping[str, torch.Tensor], cfg: ModelConfig) -> dict[str, torch.Tensor]:
    """The HF Qwen3 state from a full megatron state (local or TE names); no lm_head when tied."""
    state = {canonical_name(k): v for k, v in full_state.items()}
    missing = [k for k in megatron_keys(cfg) if k not in state]
    if missing:
        raise KeyError(f"megatron state lacks {len(missing)} parameters of this config, e.g. {missing[:3]}")
    out = {"model.embed_tokens.weight": state[EMBEDDING], "model.norm.weight": state[FINAL_NORM]}
    if not cfg.tie_word_embeddings:
        out["lm_head.weight"] = state[OUTPUT_LAYER]
    for i in range(cfg.num_layers):
        mp, hp = f"decoder.layers.{i}.", f"model.layers.{i}."
        q, k, v = qkv_from_megatron(state[mp + "self_attention.linear_qkv.weight"], cfg)
        out[hp + "self_attn.q_proj.weight"], out[hp + "self_attn.k_proj.weight"], out[hp + "self_attn.v_proj.weight"] = q, k, v
        gate, up = state[mp + "mlp.linear_fc1.weight"].chunk(2, dim=0)
        out[hp + "mlp.gate_proj.weight"], out[hp + "mlp.up_proj.weight"] = gate.clone(), up.clone()
        for msuffix, hsuffix in _LAYER_FROM_HF.items():
            out[hp + hsuffix] = state[mp + msuffix]
    return out


def check_hf_keys(hf_state: Mapping[str, torch.Tensor], cfg: ModelConfig, where: str = "checkpoint") -> None:
    """Refuse a checkpoint whose tensor names are not exactly those of a Qwen3 model with `cfg`."""
    expected = set(hf_keys(cfg))
    # tied checkpoints may still carry lm_head (a copy of the embedding); rotary buffers carry nothing
    ignorable = {"lm_head.weight"} if cfg.tie_word_embeddings else set()
    present = {k for k in hf_state if not k.endswith("rotary_emb.inv_freq")}
    missing, extra = sorted(expected - present), sorted(present - expected - ignorable)
    if missing or extra:
        raise ValueError(f"{where}: tensors do not match a Qwen3 model of this config: missing {missing[:5]}"
                         f"{' ...' if len(missing) > 5 else ''}, unexpected {extra[:5]}"
                         f"{' ...' if len(extra) > 5 else ''}")  # fmt: skip


# ------------------------------------------------------------------------------ the model's parameters
def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The GPTModel inside DDP / Float16Module wrappers (each keeps it as `.module`)."""
    while hasattr(model, "module") and isinstance(model.module, torch.nn.Module):
        model = model.module
    return model


def canonical_name(name: str, layer_numbers: Mapping[int, int] | None = None) -> str:
    """A megatron parameter name in the full-state convention: local-spec norm names, and (given the
    model's local -> global layer map) global layer numbers."""
    m = _LAYER.match(name)
    if m is None:
        return name
    local, suffix = int(m.group(1)), m.group(2)
    suffix = TE_NAMES.get(suffix, suffix)
    layer = layer_numbers[local] if layer_numbers is not None else local
    return f"decoder.layers.{layer}.{suffix}"


def model_parameters(model: torch.nn.Module) -> dict[str, tuple[str, torch.nn.Parameter]]:
    """{full-state name: (the model's own parameter name, parameter)} for this rank's parameters."""
    inner = unwrap(model)
    decoder = getattr(inner, "decoder", None)
    # TransformerLayer.layer_number is global and 1-based (it includes the pipeline stage's offset)
    layer_numbers = {i: layer.layer_number - 1 for i, layer in enumerate(decoder.layers)} if decoder is not None else {}
    return {canonical_name(name, layer_numbers): (name, p) for name, p in inner.named_parameters()}


def _is_gated_fc1(key: str, model: torch.nn.Module) -> bool:
    return key.endswith("mlp.linear_fc1.weight") and unwrap(model).config.gated_linear_unit


def _tp() -> tuple[int, int, object]:
    from megatron.core import parallel_state

    return (parallel_state.get_tensor_model_parallel_rank(), parallel_state.get_tensor_model_parallel_world_size(),
            parallel_state.get_tensor_model_parallel_group())  # fmt: skip


def shard_tensor(full: torch.Tensor, param: torch.nn.Parameter, *, gated: bool, rank: int, size: int) -> torch.Tensor:
    """This tensor-parallel rank's slice of `full` for `param` (the whole tensor if it is replicated)."""
    if size == 1 or not getattr(param, "tensor_model_parallel", False):
        return full
    dim = param.partition_dim
    if gated:  # [gate; up] -> this rank's [gate slice; up slice]
        return torch.cat([h.chunk(size, dim=dim)[rank] for h in full.chunk(2, dim=0)], dim=0)
    if full.shape[dim] % size:
        raise ValueError(f"dimension {dim} of shape {tuple(full.shape)} does not split over {size} ranks")
    return full.chunk(size, dim=dim)[rank]


def shard_for_rank(full_state: Mapping[str, torch.Tensor], model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """This rank's parameter tensors, keyed by the model's own parameter names, from a full state
    (local or TE names, global layer numbers, vocabulary rows already at the model's size).

    With tied embeddings, a last pipeline stage's `output_layer.weight` (megatron's copy of the
    embedding) takes the embedding."""
    state = {canonical_name(k): v for k, v in full_state.items()}
    rank, size, _ = _tp()
    out = {}
    for key, (name, param) in model_parameters(model).items():
        source = EMBEDDING if key == OUTPUT_LAYER and key not in state else key
        if source not in state:
            raise KeyError(f"full state has no {source!r} for the model's parameter {name!r}")
        shard = shard_tensor(state[source], param, gated=_is_gated_fc1(key, model), rank=rank, size=size)
        if shard.shape != param.shape:
            raise ValueError(f"{name}: the full state's {source} {tuple(state[source].shape)} gives a shard of "
                             f"{tuple(shard.shape)} on tensor-parallel rank {rank}/{size}, but the parameter is "
                             f"{tuple(param.shape)}")  # fmt: skip
        out[name] = shard
    return out


def gather_full_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The full state (local names, global layers, TP size 1) on every rank, as CPU tensors.

    A collective: every rank of the model-parallel group must call it. Tensor-parallel slices are
    all-gathered over the TP group; with pipeline stages, each stage's part is exchanged over the
    pipeline group (as pickled CPU tensors: an export-time cost of one full model per rank)."""
    from megatron.core import parallel_state

    rank, size, group = _tp()
    inner = unwrap(model)
    tied = bool(getattr(inner, "share_embeddings_and_output_weights", False))
    state = {}
    for key, (_, param) in model_parameters(model).items():
        if tied and key == OUTPUT_LAYER:
            continue  # the last stage's copy of the shared embedding
        t = param.detach()
        if size > 1 and getattr(param, "tensor_model_parallel", False):
            pieces = [torch.empty_like(t) for _ in range(size)]
            torch.distributed.all_gather(pieces, t.contiguous(), group=group)
            dim = param.partition_dim
            if _is_gated_fc1(key, model):
                halves = [p.chunk(2, dim=0) for p in pieces]
                t = torch.cat([torch.cat([h[0] for h in halves], dim=dim), torch.cat([h[1] for h in halves], dim=dim)])
            else:
                t = torch.cat(pieces, dim=dim)
        state[key] = t.cpu().clone()
    if parallel_state.get_pipeline_model_parallel_world_size() > 1:
        parts: list[dict | None] = [None] * parallel_state.get_pipeline_model_parallel_world_size()
        torch.distributed.all_gather_object(parts, state, group=parallel_state.get_pipeline_model_parallel_group())
        state = {k: v for part in parts for k, v in part.items()}
    return state


# --------------------------------------------------------------------------------------- import/export
def import_hf(model: torch.nn.Module, hf_dir: str | Path, cfg: ModelConfig, *,
              new_token_ids: Iterable[int] = ()) -> None:  # fmt: skip
    """Load a Hugging Face Qwen3 checkpoint into a built GPTModel (this rank's slices, any TP/PP layout).

    The embedding and output layer are resized to the model's rows with `resize_vocab`: rows beyond the
    checkpoint's and `new_token_ids` (tokens added to the tokenizer that fall inside the checkpoint's
    own padding rows, e.g. `tokenizer_meta.json` "added_token_ids" when starting from a base Qwen3)
    start at the mean of the trained rows. Leave `new_token_ids` empty when resuming from one of our
    exports, whose added-token rows are trained."""
    hf_dir = Path(hf_dir)
    source_cfg = ModelConfig.from_hf(hf_dir)
    if {**source_cfg.to_dict(), "vocab_size": 0} != {**cfg.to_dict(), "vocab_size": 0}:
        diff = {k: (v, getattr(cfg, k)) for k, v in source_cfg.to_dict().items() if v != getattr(cfg, k)}
        raise ValueError(f"{hf_dir / 'config.json'}: architecture differs from the model config "
                         f"(field: (checkpoint, model)) {diff}")  # fmt: skip
    hf_state = load_hf_state(hf_dir)
    check_hf_keys(hf_state, source_cfg, where=str(hf_dir))
    rows = unwrap(model).vocab_size
    new_ids = list(new_token_ids)
    rank, size, _ = _tp()
    with torch.no_grad():
        for key, (name, param) in model_parameters(model).items():
            full = megatron_tensor(key, hf_state, source_cfg)
            if key in (EMBEDDING, OUTPUT_LAYER):
                full = resize_vocab(full, rows, new_token_ids=new_ids)
            shard = shard_tensor(full, param, gated=_is_gated_fc1(key, model), rank=rank, size=size)
            if shard.shape != param.shape:
                raise ValueError(f"{hf_dir}: {key} gives {tuple(shard.shape)} on tensor-parallel rank {rank}/{size}, "
                                 f"the model's {name} is {tuple(param.shape)}")  # fmt: skip
            param.copy_(shard)
    log.info("imported %s (%d checkpoint rows -> %d model rows)", hf_dir, source_cfg.vocab_size, rows)


def _eos_bos(tokenizer_dir: Path | None) -> dict[str, int]:
    """bos/eos ids for the exported config: our tokenizer_meta.json's EOD, else the tokenizer's own."""
    if tokenizer_dir is None:
        return {}
    meta = tokenizer_dir / "tokenizer_meta.json"
    if meta.is_file():
        eod = int(json.loads(meta.read_text(encoding="utf-8"))["eod_id"])
        return {"bos_token_id": eod, "eos_token_id": eod}
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    ids = {"bos_token_id": tok.bos_token_id, "eos_token_id": tok.eos_token_id}
    return {k: v for k, v in ids.items() if v is not None}


def _stop_ids(tokenizer_dir: Path | None, eos: int | None) -> list[int] | None:
    """generation_config's eos ids: the EOD and, when the tokenizer has Qwen's chat turn end `<|im_end|>` as one
    token, that too (as Qwen3's chat checkpoints list both), so a chat model's generation stops at the end of its
    turn instead of writing the next turn. None when there is no second id to add."""
    if tokenizer_dir is None or eos is None or not (tokenizer_dir / "tokenizer.json").is_file():
        return None
    from tokenizers import Tokenizer

    from tokenizer.load import CHAT_END

    end = Tokenizer.from_file(str(tokenizer_dir / "tokenizer.json")).token_to_id(CHAT_END)
    return [eos, end] if end is not None and end != eos else None


def export_hf(model: torch.nn.Module, cfg: ModelConfig, out_dir: str | Path, *, tokenizer_dir: str | Path | None = None,
              dtype: torch.dtype | None = None, max_shard_size: int | str = "2GB") -> Path:  # fmt: skip
    """Write the model as a Hugging Face Qwen3 directory loadable offline by `from_pretrained`.

    A collective (every model-parallel rank calls it; global rank 0 writes). config.json's vocab_size is
    the model's padded row count, so the weights load as they are (as Qwen's own checkpoints, whose
    vocab_size exceeds the tokenizer's) and export -> import is exact. Every tensor is written in `dtype`
    (default: the embedding's; megatron keeps norm weights in fp32 under `params_dtype=bf16`), in
    safetensors shards of at most `max_shard_size`. Tokenizer files are copied from `tokenizer_dir`, and its EOD (or
    eos/bos) ids go into config.json and generation_config.json (which also stops at the chat turn end `<|im_end|>`
    when the tokenizer has it as one token: `_stop_ids`). Written to a temporary folder beside
    `out_dir` and renamed into place."""
    from huggingface_hub import save_torch_state_dict
    from transformers import GenerationConfig

    state = gather_full_state(model)
    out_dir = Path(out_dir)
    tok_dir = Path(tokenizer_dir) if tokenizer_dir is not None else None
    distributed = torch.distributed.is_initialized()
    if not distributed or torch.distributed.get_rank() == 0:
        hf_state = megatron_to_hf(state, cfg)
        dtype = dtype or hf_state["model.embed_tokens.weight"].dtype
        hf_state = {k: v.to(dtype) for k, v in hf_state.items()}
        rows = hf_state["model.embed_tokens.weight"].shape[0]
        config = cfg.to_hf_config(vocab_size=rows, dtype=str(dtype).removeprefix("torch."), **_eos_bos(tok_dir))
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
        try:
            if tok_dir is not None:
                for f in sorted(tok_dir.iterdir()):
                    if f.is_file() and not MODEL_FILES.match(f.name):
                        shutil.copy2(f, tmp / f.name)
            save_torch_state_dict(hf_state, tmp, max_shard_size=max_shard_size)
            config.save_pretrained(tmp)
            gen = GenerationConfig.from_model_config(config)
            stop = _stop_ids(tok_dir, getattr(config, "eos_token_id", None))
            if stop:
                gen.eos_token_id = stop
            gen.save_pretrained(tmp)
            _replace_dir(tmp, out_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        log.info("exported %s (%d layers, %d vocabulary rows, %s)", out_dir, cfg.num_layers, rows, dtype)
    if distributed:
        torch.distributed.barrier()
    return out_dir


def _replace_dir(tmp: Path, out_dir: Path) -> None:
    """Move `tmp` to `out_dir`; an existing `out_dir` is set aside first and removed after the rename."""
    old = None
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
        os.replace(out_dir, old)
    os.replace(tmp, out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
