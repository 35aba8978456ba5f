"""A dense Qwen3 model as a Megatron-Core `GPTModel`: its config, layer specs and construction.

`ModelConfig` holds the architecture read from a Hugging Face `config.json` (and is stored with every
checkpoint); `transformer_config` turns it into megatron's `TransformerConfig`; `build_model` builds the
`GPTModel` with a layer spec picked by name from `LAYER_SPECS` ("cpu", "local", "te"), so CPU and GPU
runs differ by spec, not by branches in model code. Vocabulary rows are padded to a multiple of
128 x tensor-parallel size (`padded_vocab_size`); `resize_vocab` grows an embedding for added tokens.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

SUPPORTED_ARCHITECTURE = "Qwen3ForCausalLM"
SUPPORTED_MODEL_TYPE = "qwen3"
VOCAB_MULTIPLE = 128


@dataclass
class ModelConfig:
    """Architecture of a dense Qwen3 decoder (the fields of its Hugging Face `Qwen3Config` we use)."""

    num_layers: int
    """Transformer layers (HF `num_hidden_layers`)."""
    hidden_size: int
    """Model width (HF `hidden_size`)."""
    ffn_hidden_size: int
    """SwiGLU inner width (HF `intermediate_size`)."""
    num_attention_heads: int
    """Query heads (HF `num_attention_heads`)."""
    num_query_groups: int
    """Key/value heads for grouped-query attention (HF `num_key_value_heads`)."""
    kv_channels: int
    """Per-head dimension (HF `head_dim`); Qwen3 sets it independently of hidden_size / heads."""
    vocab_size: int
    """Embedding rows of the Hugging Face checkpoint (HF `vocab_size`; Qwen pads it beyond the tokenizer)."""
    max_position_embeddings: int = 32768
    """Longest sequence the RoPE was trained for (HF `max_position_embeddings`)."""
    rotary_base: float = 1_000_000.0
    """RoPE theta (HF `rope_parameters["rope_theta"]`, or top-level `rope_theta` in older configs)."""
    norm_epsilon: float = 1e-6
    """RMSNorm epsilon (HF `rms_norm_eps`), for the layer norms and the q/k norms."""
    tie_word_embeddings: bool = False
    """Output layer shares the input embedding (HF `tie_word_embeddings`; true for the small Qwen3s)."""
    init_method_std: float = 0.02
    """Std of the normal init for random initialisation (HF `initializer_range`)."""
    qk_layernorm: bool = True
    """RMSNorm over each query and key head before RoPE (always on in Qwen3)."""
    attention_bias: bool = False
    """Bias on the q/k/v/o projections (HF `attention_bias`); only False is supported."""

    def __post_init__(self) -> None:
        for name in ("num_layers", "hidden_size", "ffn_hidden_size", "num_attention_heads", "num_query_groups",
                     "kv_channels", "vocab_size", "max_position_embeddings"):  # fmt: skip
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"model config: {name} must be a positive integer, got {value!r}")
        if self.num_attention_heads % self.num_query_groups:
            raise ValueError(f"model config: num_attention_heads ({self.num_attention_heads}) must be a multiple "
                             f"of num_query_groups ({self.num_query_groups})")  # fmt: skip
        if not self.rotary_base > 0 or not self.norm_epsilon > 0 or not self.init_method_std > 0:
            raise ValueError("model config: rotary_base, norm_epsilon and init_method_std must be > 0")
        if self.attention_bias:
            raise ValueError("model config: attention_bias=True is not supported (Qwen3 has no attention bias)")

    # ------------------------------------------------------------------ Hugging Face and JSON forms
    @classmethod
    def from_hf(cls, source: str | Path | Mapping[str, Any]) -> ModelConfig:
        """Read a Hugging Face Qwen3 config: a model directory, its config.json, or the parsed dict."""
        if isinstance(source, Mapping):
            where, hf = "<config dict>", dict(source)
        else:
            path = Path(source)
            path = path / "config.json" if path.is_dir() else path
            if not path.is_file():
                raise FileNotFoundError(f"{path}: no Hugging Face config.json here; give a model directory or "
                                        "its config.json")  # fmt: skip
            where, hf = str(path), json.loads(path.read_text(encoding="utf-8"))
        model_type, archs = hf.get("model_type"), hf.get("architectures") or []
        if model_type != SUPPORTED_MODEL_TYPE or (archs and SUPPORTED_ARCHITECTURE not in archs):
            raise ValueError(f"{where}: model_type={model_type!r}, architectures={archs}; only dense Qwen3 "
                             f"(model_type {SUPPORTED_MODEL_TYPE!r}, {SUPPORTED_ARCHITECTURE}) is supported "
                             "(Qwen3 MoE `qwen3_moe`, Llama, Qwen2 etc. are not)")  # fmt: skip
        rope = hf.get("rope_parameters") or {}
        scaling = hf.get("rope_scaling")
        scaling = scaling or {}
        rope_type = (rope.get("rope_type") or rope.get("type") or scaling.get("rope_type") or scaling.get("type")
                     or "default")  # fmt: skip
        if rope_type != "default":
            raise ValueError(f"{where}: RoPE type {rope_type!r} is not supported (only plain RoPE, no YaRN or "
                             "other scaling); remove rope_scaling for continued pretraining")  # fmt: skip
        theta = rope.get("rope_theta", hf.get("rope_theta"))
        if theta is None:
            raise ValueError(f"{where}: no RoPE theta (rope_parameters.rope_theta or rope_theta)")
        if hf.get("hidden_act", "silu") != "silu":
            raise ValueError(f"{where}: hidden_act={hf['hidden_act']!r}; Qwen3 uses silu")
        if hf.get("use_sliding_window"):
            raise ValueError(f"{where}: use_sliding_window=true is not supported")
        heads = hf["num_attention_heads"]
        try:
            return cls(
                num_layers=hf["num_hidden_layers"],
                hidden_size=hf["hidden_size"],
                ffn_hidden_size=hf["intermediate_size"],
                num_attention_heads=heads,
                num_query_groups=hf.get("num_key_value_heads") or heads,
                kv_channels=hf.get("head_dim") or hf["hidden_size"] // heads,
                vocab_size=hf["vocab_size"],
                max_position_embeddings=hf.get("max_position_embeddings", 32768),
                rotary_base=float(theta),
                norm_epsilon=hf.get("rms_norm_eps", 1e-6),
                tie_word_embeddings=bool(hf.get("tie_word_embeddings", False)),
                init_method_std=hf.get("initializer_range", 0.02),
                attention_bias=bool(hf.get("attention_bias", False)),
            )
        except KeyError as e:
            raise ValueError(f"{where}: missing field {e.args[0]!r} of a Qwen3 config") from None
        except ValueError as e:
            raise ValueError(f"{where}: {e}") from None

    def to_hf_config(self, vocab_size: int | None = None, **extra):
        """A transformers `Qwen3Config` for this architecture with `vocab_size` embedding rows (default:
        the checkpoint's); `extra` sets further fields (bos_token_id, eos_token_id, dtype, ...)."""
        from transformers import Qwen3Config

        return Qwen3Config(
            vocab_size=vocab_size or self.vocab_size,
            hidden_size=self.hidden_size,
            intermediate_size=self.ffn_hidden_size,
            num_hidden_layers=self.num_layers,
            num_attention_heads=self.num_attention_heads,
            num_key_value_heads=self.num_query_groups,
            head_dim=self.kv_channels,
            hidden_act="silu",
            max_position_embeddings=self.max_position_embeddings,
            initializer_range=self.init_method_std,
            rms_norm_eps=self.norm_epsilon,
            tie_word_embeddings=self.tie_word_embeddings,
            rope_parameters={"rope_type": "default", "rope_theta": self.rotary_base},
            attention_bias=False,
            architectures=[SUPPORTED_ARCHITECTURE],
            **extra,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, stored with every checkpoint."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"model config: unknown keys {unknown}; allowed: {sorted(known)}")
        return cls(**data)


# ---------------------------------------------------------------------------------------- vocabulary
def padded_vocab_size(vocab_size: int, tp_size: int = 1, multiple: int = VOCAB_MULTIPLE) -> int:
    """`vocab_size` rounded up to a multiple of `multiple` x `tp_size` (Megatron-LM's rule): every tensor
    parallel rank holds an equal, GEMM-friendly slice of the embedding and output layer."""
    if vocab_size < 1 or tp_size < 1 or multiple < 1:
        raise ValueError(f"padded_vocab_size: need positive sizes, got {vocab_size}, {tp_size}, {multiple}")
    step = multiple * tp_size
    return math.ceil(vocab_size / step) * step


def resize_vocab(weight: torch.Tensor, num_rows: int, *, new_token_ids: Iterable[int] = ()) -> torch.Tensor:
    """An embedding or output-layer weight ([rows, hidden], HF layout) resized to `num_rows` rows.

    Rows the source has are copied, except `new_token_ids`; every other row (rows beyond the source,
    which covers tokens added to the tokenizer and the padding up to `num_rows`, plus `new_token_ids`)
    is the mean of the source's trained rows: those below the first new token id (all rows when there
    are none). Mean rows start new tokens at a typical embedding and give padding rows an ordinary
    logit that training then lowers. Pass `new_token_ids` when added tokens land inside the source's
    own padding rows (Qwen3's checkpoint has 151,936 rows for a 151,669-token tokenizer); rows beyond
    `num_rows` are dropped (no token id reaches them).
    """
    if weight.ndim != 2:
        raise ValueError(f"resize_vocab: expected a [rows, hidden] weight, got shape {tuple(weight.shape)}")
    old = weight.shape[0]
    new_ids = sorted({int(i) for i in new_token_ids})
    if new_ids and (new_ids[0] < 1 or new_ids[-1] >= num_rows):
        raise ValueError(f"resize_vocab: new token ids must lie in [1, {num_rows}), got {new_ids[0]}..{new_ids[-1]}")
    trained = min([old, *new_ids])
    mean = weight[:trained].to(torch.float64).mean(dim=0).to(weight.dtype)
    out = mean.expand(num_rows, -1).clone()
    keep = min(old, num_rows)
    out[:keep] = weight[:keep]
    if new_ids:
        out[new_ids] = mean
    return out


# ------------------------------------------------------------------------------------------- megatron
def transformer_config(
    cfg: ModelConfig,
    *,
    tp: int = 1,
    pp: int = 1,
    params_dtype: torch.dtype = torch.float32,
    bf16: bool = False,
    sequence_parallel: bool = False,
    use_cpu_initialization: bool | None = None,
    **overrides: Any,
):
    """Megatron's `TransformerConfig` for `cfg`: RMSNorm, SwiGLU, no linear biases, q/k norm, GQA, RoPE.

    Dropout is off (Qwen3 trains without it). The fusions that need CUDA kernels (bias-activation,
    bias-dropout, masked softmax, RoPE, gradient accumulation) are off; `overrides` may turn them on for
    GPU runs. `use_cpu_initialization` defaults to "no CUDA here".
    """
    from megatron.core.transformer.transformer_config import TransformerConfig

    if cfg.num_query_groups % tp and tp % cfg.num_query_groups:
        raise ValueError(f"tensor parallel size {tp} must divide, or be a multiple of, the "
                         f"{cfg.num_query_groups} key/value heads")  # fmt: skip
    if cfg.num_attention_heads % tp:
        raise ValueError(f"tensor parallel size {tp} must divide the {cfg.num_attention_heads} attention heads")
    settings: dict[str, Any] = dict(
        num_layers=cfg.num_layers,
        hidden_size=cfg.hidden_size,
        ffn_hidden_size=cfg.ffn_hidden_size,
        num_attention_heads=cfg.num_attention_heads,
        num_query_groups=cfg.num_query_groups,
        kv_channels=cfg.kv_channels,
        normalization="RMSNorm",
        layernorm_epsilon=cfg.norm_epsilon,
        qk_layernorm=cfg.qk_layernorm,
        gated_linear_unit=True,
        activation_func=F.silu,
        add_bias_linear=False,
        add_qkv_bias=False,
        hidden_dropout=0.0,
        attention_dropout=0.0,
        init_method_std=cfg.init_method_std,
        tensor_model_parallel_size=tp,
        pipeline_model_parallel_size=pp,
        sequence_parallel=sequence_parallel,
        params_dtype=params_dtype,
        pipeline_dtype=params_dtype,
        bf16=bf16,
        use_cpu_initialization=(not torch.cuda.is_available()) if use_cpu_initialization is None
        else use_cpu_initialization,
        bias_activation_fusion=False,
        bias_dropout_fusion=False,
        masked_softmax_fusion=False,
        apply_rope_fusion=False,
        gradient_accumulation_fusion=False,
        persist_layer_norm=False,
    )
    settings.update(overrides)
    return TransformerConfig(**settings)


def _local_spec_with_sdpa():
    """megatron-core's local (no Transformer Engine) layer spec, with `SDPAttention` as core attention."""
    from megatron.core.models.gpt.gpt_layer_specs import get_gpt_layer_local_spec

    from pretrain.compat import SDPAttention

    spec = get_gpt_layer_local_spec(qk_layernorm=True, normalization="RMSNorm")  # a fresh object per call
    spec.submodules.self_attention.submodules.core_attention = SDPAttention
    return spec


def cpu_layer_spec():
    """Local modules with SDPA attention, for CPU runs (megatron's DotProductAttention needs CUDA)."""
    return _local_spec_with_sdpa()


def local_layer_spec():
    """The same modules as `cpu`, named for GPU runs without Transformer Engine: SDPA dispatches to the
    flash / memory-efficient kernels there. A separate name so either can change without the other."""
    return _local_spec_with_sdpa()


def te_layer_spec():
    """Transformer Engine modules (fused norm+linear, TE attention); needs `transformer_engine`."""
    if importlib.util.find_spec("transformer_engine") is None:
        raise ImportError("layer spec 'te' needs Transformer Engine, which is not installed here; "
                          "use spec 'local' (SDPA attention) instead")  # fmt: skip
    from megatron.core.models.gpt.gpt_layer_specs import get_gpt_layer_with_transformer_engine_spec

    return get_gpt_layer_with_transformer_engine_spec(qk_layernorm=True)


LAYER_SPECS: dict[str, Callable[[], Any]] = {"cpu": cpu_layer_spec, "local": local_layer_spec, "te": te_layer_spec}


def default_spec() -> str:
    """"local" where CUDA is available, else "cpu"."""
    return "local" if torch.cuda.is_available() else "cpu"


def layer_spec(name: str):
    """The layer spec registered as `name` ("auto" = `default_spec()`)."""
    name = default_spec() if name == "auto" else name
    if name not in LAYER_SPECS:
        raise ValueError(f"unknown layer spec {name!r}; choose one of {sorted(LAYER_SPECS)} or 'auto'")
    return LAYER_SPECS[name]()


def build_model(
    cfg: ModelConfig,
    *,
    vocab_size: int,
    seq_length: int,
    spec: str = "auto",
    params_dtype: torch.dtype = torch.float32,
    bf16: bool = False,
    sequence_parallel: bool = False,
    pre_process: bool | None = None,
    post_process: bool | None = None,
    parallel_output: bool = True,
    **overrides: Any,
):
    """A megatron `GPTModel` for `cfg` on this rank, with `vocab_size` embedding rows.

    `vocab_size` is the padded size (`padded_vocab_size(tokenizer size, tp)`); it must divide by the
    tensor-parallel size. Tensor and pipeline sizes come from `megatron.core.parallel_state`, which the
    caller initialises; `pre_process` / `post_process` default to "first / last pipeline stage";
    `spec` names an entry of `LAYER_SPECS` ("auto": `default_spec()`).
    On CPU, call `pretrain.compat.apply_cpu_workarounds()` before the first forward (build_model does).
    `overrides` go to `transformer_config`.
    """
    from megatron.core import parallel_state
    from megatron.core.models.gpt import GPTModel

    from pretrain.compat import apply_cpu_workarounds

    tp = parallel_state.get_tensor_model_parallel_world_size()
    pp = parallel_state.get_pipeline_model_parallel_world_size()
    if vocab_size % tp:
        raise ValueError(f"build_model: vocab_size {vocab_size} is not a multiple of tensor parallel size {tp}; "
                         f"use padded_vocab_size(...) = {padded_vocab_size(vocab_size, tp)}")  # fmt: skip
    if seq_length < 1:
        raise ValueError(f"build_model: seq_length must be >= 1, got {seq_length}")
    if pp > 1 and cfg.tie_word_embeddings and not torch.cuda.is_available():
        # megatron copies the shared embedding to the last stage with `weight.data.cuda()` at construction
        raise ValueError("build_model: tied embeddings with pipeline parallelism need CUDA (megatron-core "
                         "syncs the shared weight on GPU); use pipeline size 1 on CPU")  # fmt: skip
    apply_cpu_workarounds()
    config = transformer_config(cfg, tp=tp, pp=pp, params_dtype=params_dtype, bf16=bf16,
                                sequence_parallel=sequence_parallel, **overrides)  # fmt: skip
    return GPTModel(
        config=config,
        transformer_layer_spec=layer_spec(spec),
        vocab_size=vocab_size,
        max_sequence_length=seq_length,
        pre_process=parallel_state.is_pipeline_first_stage() if pre_process is None else pre_process,
        post_process=parallel_state.is_pipeline_last_stage() if post_process is None else post_process,
        parallel_output=parallel_output,
        share_embeddings_and_output_weights=cfg.tie_word_embeddings,
        position_embedding_type="rope",
        rotary_percent=1.0,
        rotary_base=cfg.rotary_base,
    )
