"""A tiny randomly initialised Qwen3 with our Qwen3 tokenizer, saved as a Hugging Face checkpoint directory: the
model every evaluation test runs on (no pretrained weights exist in any package)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import SHARED_DATA


def tiny_qwen3(out: Path, hidden: int, layers: int, seed: int = 0) -> Path:
    import torch
    from transformers import AutoTokenizer, Qwen3Config, Qwen3ForCausalLM

    tok = AutoTokenizer.from_pretrained(SHARED_DATA.parent / "tokenizers" / "qwen3")
    cfg = Qwen3Config(vocab_size=len(tok), hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=layers,
                      num_attention_heads=2, num_key_value_heads=1, head_dim=hidden // 2, max_position_embeddings=512,
                      tie_word_embeddings=True)
    torch.manual_seed(seed)
    Qwen3ForCausalLM(cfg).save_pretrained(out)
    tok.save_pretrained(out)
    return out
