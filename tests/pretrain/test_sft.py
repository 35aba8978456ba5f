"""SFT data: chats rendered with Qwen3's template keep loss only on the answer (checked token by token on the real
Qwen3 tokenizer through the shards and their loss-mask sidecar, read back with megatron-core's IndexedDataset),
users never span two splits, and a few SFT steps lower the answer-only loss on held-out users."""

from __future__ import annotations

from pathlib import Path

import pytest

from pretrain.demo import write_text_shards
from pretrain.sft import QWEN3_TEMPLATE, render_chat, split_of
from tokenizer.shards import read_shard

PROMPT = "<|profile|> Listener: age 31.\n<|state|> Mon 2025-06-30 08:00 UTC (morning)\n\nRequest: 适合下雨天听的伤感歌曲"
ANSWER = "1. Yesterday — The Beatles\n2. 后来 — 刘若英\n3. Hurt — Johnny Cash"


def test_loss_only_on_the_answer_token_by_token(tmp_path):
    from transformers import AutoTokenizer

    text, spans = render_chat(PROMPT, ANSWER, QWEN3_TEMPLATE)
    assert text.startswith("<|im_start|>user\n" + PROMPT) and "<think>\n\n</think>\n\n" + ANSWER + "<|im_end|>" in text
    out = write_text_shards(tmp_path / "shards", QWEN3_TEMPLATE, {1: {s: [(text, spans)] for s in ("train", "valid", "test")}},
                            source="sft")  # fmt: skip
    tokens, mask = read_shard(out / "stage1" / "sft")[0]
    tok = AutoTokenizer.from_pretrained(QWEN3_TEMPLATE)
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert tokens.tolist()[: len(ids)] == ids  # the shard holds the chat's tokens (then the EOD)
    loss = [int(t) for t, m in zip(tokens.tolist(), mask.tolist(), strict=True) if m]
    # the answer, its end-of-turn marker, and the packed format's document separator (every shard's EOD takes loss)
    assert tok.decode(loss) == ANSWER + "<|im_end|>" + "<|endoftext|>" and len(tokens) == len(ids) + 1
    # every token: loss exactly when it lies inside the answer (or is its end-of-turn marker)
    start = text.index(ANSWER)
    end = start + len(ANSWER) + len("<|im_end|>")
    enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
    for i, (a, b) in enumerate(enc["offset_mapping"]):
        assert bool(mask[i]) == (a >= start and b <= end), (i, text[a:b])



def test_users_never_span_two_splits():
    splits = [split_of(f"u{i}") for i in range(5000)]
    assert splits == [split_of(f"u{i}") for i in range(5000)]
    assert 0.07 < sum(s != "train" for s in splits) / 5000 < 0.13 and {"train", "valid", "test"} == set(splits)


@pytest.mark.slow
def test_sft_steps_lower_the_answer_loss(tmp_path):
    """The tiny demo through uq2i, SFT shards (Qwen3's chat template, a small BPE trained on the samples), a small
    random model trained 12 steps: the answer-only loss of held-out users falls."""
    import importlib.util

    from jobs.config import load_config
    from jobs.engines import LocalEngine
    from jobs.run import run_corpus
    from pretrain.sft import build_shards

    spec = importlib.util.spec_from_file_location("t_train", Path(__file__).with_name("test_train.py"))
    tt = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tt)
    out = tmp_path / "out"
    cfg = load_config(None, {"out": str(out), "sample.preset": "tiny", "uq2i.enabled": True})
    run_corpus(cfg, stages=("sample", "ingest", "behavior", "uq2i"), engine=LocalEngine(progress=False))
    import pyarrow.dataset as pads

    texts = pads.dataset(out / "uq2i" / "uq2i_samples").to_table(columns=["prompt", "answer"]).to_pylist()
    tok = tt.make_tokenizer(tmp_path / "tok", [r["prompt"] + "\n" + r["answer"] for r in texts])
    counts = build_shards(out / "uq2i" / "uq2i_samples", tok, tmp_path / "shards")
    assert counts["train"] > 20 and counts["valid"] >= 1
    cpt = {"shards": tmp_path / "shards", "hf": tt.make_hf(tmp_path / "hf")}
    t = tt.tree(cpt, tmp_path / "run")
    t["stages"][0]["steps"] = 12
    results, _ = tt.train(t)
    s1 = results["s1"]
    assert s1["eval_after"]["valid"] < s1["eval_before"]["valid"] - 0.3
