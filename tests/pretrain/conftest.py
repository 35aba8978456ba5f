"""Megatron-Core needs a process group and `parallel_state` before a model can be built: helpers for tests.

`model_parallel(...)` initialises gloo + megatron's model-parallel groups (world size 1 in-process, or
one rank of a spawned multi-process test) and tears them down; `parallel_state_1` is the fixture form.
Multi-process tests spawn module-level workers of their test file; a worker loads this file by path
(`load_conftest()` in the test module), since `import conftest` may find another folder's conftest.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

import pytest
import torch


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def model_parallel(tp: int = 1, pp: int = 1, *, rank: int = 0, world_size: int = 1,
                   port: int | None = None) -> Iterator[None]:  # fmt: skip
    """gloo process group (unless one exists) + megatron model-parallel groups; both undone on exit."""
    from megatron.core import parallel_state

    owns_group = not torch.distributed.is_initialized()
    if owns_group:
        torch.distributed.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port or free_port()}",
                                             rank=rank, world_size=world_size)  # fmt: skip
    parallel_state.initialize_model_parallel(tensor_model_parallel_size=tp, pipeline_model_parallel_size=pp)
    torch.manual_seed(1234)  # CPU init draws from torch's RNG (megatron's CUDA RNG tracker is GPU-only)
    try:
        yield
    finally:
        parallel_state.destroy_model_parallel()
        if owns_group:
            torch.distributed.destroy_process_group()


@pytest.fixture
def parallel_state_1() -> Iterator[None]:
    """World size 1, tensor and pipeline size 1."""
    with model_parallel():
        yield


@pytest.fixture
def tiny_qwen3(tmp_path):
    """A 1-layer randomly initialised Qwen3 with the real Qwen3 tokenizer (chat template included), saved as a
    Hugging Face checkpoint: (its directory, the tokenizer)."""
    from transformers import AutoTokenizer, Qwen3Config, Qwen3ForCausalLM

    from pretrain.sft import QWEN3_TEMPLATE

    tok = AutoTokenizer.from_pretrained(QWEN3_TEMPLATE)
    torch.manual_seed(0)
    cfg = Qwen3Config(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=1, head_dim=16, tie_word_embeddings=True)  # fmt: skip
    Qwen3ForCausalLM(cfg).save_pretrained(tmp_path / "m")
    tok.save_pretrained(tmp_path / "m")
    return tmp_path / "m", tok
