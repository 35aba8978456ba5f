"""Generation from a Hugging Face checkpoint, shared by the evaluation run, the SFT and GRPO reports and the query
generator hook: one loader (left padding, a pad token), one batched greedy loop and one seeded sampling loop."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


def load_for_generation(model_dir: str | Path, dtype: str = "float32", device: str = "cpu") -> tuple[Any, Any]:
    """(model in eval mode, tokenizer padding on the left with a pad token) from a checkpoint directory."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    tok.padding_side = "left"
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=getattr(torch, dtype)).to(device).eval()
    return model, tok


def greedy(model: Any, tok: Any, prompts: Sequence[str], max_new_tokens: int, batch_size: int = 8,
           device: str = "cpu") -> list[str]:  # fmt: skip
    """Greedy continuations of `prompts` (special tokens dropped), in batches of `batch_size`."""
    import torch

    out: list[str] = []
    for i in range(0, len(prompts), batch_size):
        enc = tok(list(prompts[i : i + batch_size]), return_tensors="pt", padding=True).to(device)
        with torch.no_grad():
            gen = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tok.pad_token_id)
        out += [tok.decode(row, skip_special_tokens=True) for row in gen[:, enc["input_ids"].shape[1]:]]
    return out


def sample(model: Any, tok: Any, prompts: Sequence[str], k: int, max_new_tokens: int, temperature: float = 1.0,
           seed: int = 0, device: str = "cpu") -> list[list[str]]:  # fmt: skip
    """`k` sampled continuations per prompt (special tokens dropped; no top-k or top-p cut, as TRL's rollouts),
    reproducible: torch's seed is set from `seed` and the prompt's index before each prompt's batch of `k`."""
    import torch

    out: list[list[str]] = []
    for i, prompt in enumerate(prompts):
        enc = tok([prompt] * k, return_tensors="pt", padding=True).to(device)
        torch.manual_seed(seed * 1_000_003 + i)
        with torch.no_grad():
            gen = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=True, temperature=temperature,
                                 top_k=0, top_p=1.0, pad_token_id=tok.pad_token_id)  # fmt: skip
        out.append([tok.decode(row, skip_special_tokens=True) for row in gen[:, enc["input_ids"].shape[1]:]])
    return out
