"""Tokenizer loading, domain tokens, EOD ids, save/reload, fingerprints, demo BPE training and encoding."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tokenizer.load import (
    DOMAIN_SPECIAL_TOKENS,
    META_FILE,
    encode_batch,
    encode_with_offsets,
    item_token,
    load_tokenizer,
    train_bpe,
)

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("MUSIC_SHARED_DATA", ROOT.parent / "shared" / "data")).parent
TOKENIZERS = Path(os.environ.get("MUSIC_SHARED_TOKENIZERS", SHARED / "tokenizers"))

TEXTS = [
    "<|profile|> Listener: age 23, country GB.\n<|state|> Sat 16:32 UTC; device: phone\n<|item|> Fearless Owls — Sofia Valley\n<|feedback|> played 3:43\n",
    "Kind of Blue by Miles Davis",
    "Björk — Homogenic (1997) 🎻 交响乐 <|item:6543ccf9|> and a stray < |state| >",
    "",
    "Cafe\u0301 del Mar, nai\u0308ve — not in NFC",  # Qwen3 normalizes it; the ids must still match
]
# (folder, base len(tokenizer), EOD token, EOD id): GPT-2 eos is <|endoftext|>; Qwen3's config sets eos
# to <|im_end|> (151645, the chat turn end) but its pretraining document separator is <|endoftext|>
KNOWN = [("gpt2", 50_257, "<|endoftext|>", 50_256), ("qwen3", 151_669, "<|endoftext|>", 151_643)]


def _path(name: str) -> Path:
    p = TOKENIZERS / name
    if not p.exists():
        pytest.skip(f"{p} not found (set MUSIC_SHARED_TOKENIZERS)")
    return p


def test_markers_are_the_interleave_markers():
    from corpus.behavior import interleave

    assert DOMAIN_SPECIAL_TOKENS == interleave.MARKERS
    assert item_token("ab12") == interleave.item_token("ab12")


@pytest.mark.parametrize("name,base,eod_token,eod_id", KNOWN)
def test_load_adds_markers_as_single_special_ids(name, base, eod_token, eod_id):
    tok = load_tokenizer(_path(name), item_ids=["6543ccf9"])
    assert (tok.eod_token, tok.eod_id, tok.base_vocab_size) == (eod_token, eod_id, base)
    assert tok.added_tokens == (*DOMAIN_SPECIAL_TOKENS, "<|item:6543ccf9|>")
    assert tok.vocab_size == base + 5 == len(tok.tokenizer)
    assert tok.byte_level and tok.unk_id is None
    ids = tok.tokenizer.convert_tokens_to_ids(list(tok.added_tokens))
    assert ids == list(range(base, base + 5))
    enc = encode_batch(tok, TEXTS)
    assert [enc[0].count(mid) for mid in ids[:4]] == [1, 1, 1, 1]
    assert ids[4] in enc[2] and ids[1] not in enc[2]  # the escaped "< |state| >" stays text
    assert tok.tokenizer.decode(enc[0], skip_special_tokens=True).startswith(" Listener")  # markers are special
    assert enc[3] == []
    if name == "qwen3":
        assert tok.tokenizer.eos_token == "<|im_end|>" and tok.tokenizer.eos_token_id == 151_645


@pytest.mark.parametrize("name", ["gpt2", "qwen3"])
def test_save_reload_keeps_ids_sizes_and_fingerprint(name, tmp_path):
    tok = load_tokenizer(_path(name))
    again = load_tokenizer(_path(name))
    assert tok.fingerprint == again.fingerprint
    assert load_tokenizer(_path(name), add_domain_tokens=False).fingerprint != tok.fingerprint
    tok.save(tmp_path / "t")
    meta = json.loads((tmp_path / "t" / META_FILE).read_text())
    assert meta["base_vocab_size"] == tok.base_vocab_size and meta["vocab_size"] == tok.vocab_size
    assert meta["added_tokens"] == list(DOMAIN_SPECIAL_TOKENS) and meta["eod_id"] == tok.eod_id
    back = load_tokenizer(tmp_path / "t")
    assert (back.name, back.base_vocab_size, back.vocab_size, back.added_tokens, back.eod_id) == (
        name, tok.base_vocab_size, tok.vocab_size, tok.added_tokens, tok.eod_id)  # fmt: skip
    assert back.fingerprint == tok.fingerprint
    assert encode_batch(back, TEXTS) == encode_batch(tok, TEXTS)


@pytest.mark.parametrize("name", ["gpt2", "qwen3"])
def test_encoding_matches_the_hugging_face_call_with_or_without_the_bpe_cache(name):
    tok = load_tokenizer(_path(name))
    plain = load_tokenizer(_path(name), bpe_cache_capacity=None)
    want = tok.tokenizer(TEXTS, add_special_tokens=False)["input_ids"]
    assert encode_batch(tok, TEXTS) == want == encode_batch(plain, TEXTS)
    ids, offsets = encode_with_offsets(tok, TEXTS)
    assert ids == want
    hf = tok.tokenizer(TEXTS, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    assert [o.tolist() for o in offsets] == [[list(x) for x in d] for d in hf]


def test_python_and_tokenizers_agree_on_what_is_already_nfc():
    """`encode_batch` skips Qwen3's NFC normalizer for texts Python (Unicode 14 data) calls NFC. That is
    exact only if the tokenizers library knows no decomposition or combining class Python does not:
    check every code point Python leaves unassigned (re-run when tokenizers is upgraded)."""
    import unicodedata

    from tokenizers import normalizers

    nfd, nfc = normalizers.NFD(), normalizers.NFC()
    for c in range(0x110000):
        ch = chr(c)
        if 0xD800 <= c <= 0xDFFF or c >= 0xF0000 or unicodedata.category(ch) != "Cn":
            continue
        assert nfd.normalize_str(ch) == ch, hex(c)  # no decomposition unknown to Python
        for s in ("a" + ch + "\u0334", "a\u0345" + ch):  # a nonzero combining class would reorder these
            assert nfc.normalize_str(s) == s, hex(c)


def test_offsets_are_characters_not_bytes():
    tok = train_bpe(TEXTS * 3, vocab_size=400)
    text = "é😀<|item|> x"
    ids, offsets = encode_with_offsets(tok, [text])
    assert offsets[0][:, 1].max() == len(text)  # 12 characters, 16 UTF-8 bytes
    item = tok.tokenizer.convert_tokens_to_ids("<|item|>")
    assert offsets[0][ids[0].index(item)].tolist() == [2, 10]


def test_train_bpe_is_deterministic_and_has_domain_tokens(shared_data):
    texts = [json.loads(line)["text"] for line in (shared_data / "web_crawl_samples" / "c4_en_train_first1000.jsonl").open()][:150]
    a = train_bpe(texts + TEXTS, vocab_size=1500)
    b = train_bpe(texts + TEXTS, vocab_size=1500)
    assert a.fingerprint == b.fingerprint and a.backend.to_str() == b.backend.to_str()
    assert a.vocab_size == 1500 and a.eod_id == 0 and a.eod_token == "<|endoftext|>"
    assert a.tokenizer.convert_tokens_to_ids(list(DOMAIN_SPECIAL_TOKENS)) == [1, 2, 3, 4]
    # Qwen's chat markers are single special tokens too, so a chat turn ends in one token
    assert a.tokenizer.convert_tokens_to_ids(["<|im_start|>", "<|im_end|>"]) == [5, 6]
    assert a.tokenizer("x<|im_end|>\n")["input_ids"][-2] == 6
    # Qwen3's tool-call tags are one (plain added) token each, kept by decoding as in Qwen's tokenizers
    ids = a.tokenizer("<tool_call>\n{}\n</tool_call>")["input_ids"]
    assert ids[0] == a.tokenizer.convert_tokens_to_ids("<tool_call>") == 1494 and ids[-1] == 1495  # the last six ids
    assert a.tokenizer.decode(ids, skip_special_tokens=True) == "<tool_call>\n{}\n</tool_call>"
    ids = encode_batch(a, TEXTS)
    assert a.tokenizer.decode(ids[2]) == TEXTS[2]
    assert train_bpe(texts[:100] + TEXTS, vocab_size=1500).fingerprint != a.fingerprint


def test_load_refuses_a_directory_without_a_tokenizer(tmp_path):
    with pytest.raises((OSError, ValueError)):
        load_tokenizer(tmp_path)


@pytest.mark.parametrize("name", ["demo-bpe", "qwen3"])
def test_saved_tokenizer_eos_is_the_shards_eod(name, tmp_path):
    """Megatron-LM's HuggingFaceTokenizer takes the EOD from eos_token: the saved folder must name the separator the
    shards hold (Qwen3's own eos is the chat turn end <|im_end|>, kept in the meta as original_eos_token)."""
    from transformers import AutoTokenizer

    tok = train_bpe(TEXTS * 3, vocab_size=400) if name == "demo-bpe" else load_tokenizer(_path(name))
    original = tok.tokenizer.eos_token
    tok.save(tmp_path / "t")
    meta = json.loads((tmp_path / "t" / META_FILE).read_text())
    hf = AutoTokenizer.from_pretrained(str(tmp_path / "t"))
    assert hf.eos_token_id == meta["eod_id"] == tok.eod_id and hf.eos_token == meta["eod_token"] == "<|endoftext|>"
    assert meta["original_eos_token"] == original == ("<|im_end|>" if name == "qwen3" else "<|endoftext|>")
    assert tok.tokenizer.eos_token == original  # saving leaves the loaded tokenizer as it was
    back = load_tokenizer(tmp_path / "t")
    assert back.original_eos_token == original and back.eod_id == tok.eod_id
    back.save(tmp_path / "again")  # a second save keeps the original, not the EOD
    assert json.loads((tmp_path / "again" / META_FILE).read_text())["original_eos_token"] == original
