"""The Python word-cache encoder gives exactly the Rust pipeline's ids, on real and adversarial text."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from tokenizer.load import WordCacheEncoder, encode_batch, load_tokenizer, train_bpe

ADVERSARIAL = [
    "", " ", "   x", "x   ", "a  \n\n  b", "\r\n\r\n", "\t\tindent", "trailing spaces   \n",
    "I'm, you're, HE'S, they'LL, we'D", "Don’t — “quoted” ‘single’", "x'sy 's 'S",
    "👩‍👩‍👧 family 🇨🇳 flags 🎸🎶", "emoji🎵glued", "١٢٣ Arabic-Indic digits ٤٥", "数字１２３ fullwidth",
    "周杰伦的《七里香》是2004年发行的专辑。", "ｈｅｌｌｏ　ｗｏｒｌｄ", "Ελληνικά και русский текст",
    "مرحبا بالعالم", "control\x01\x02chars\x7f", "zero\u200bwidth\u200djoiner", "tab\tsep\tvalues",
    "<|state|> Sat 2024-08-10 16:41 UTC<|item|>x<|feedback|> played 3:13\n", "<|endoftext|>in text",
    "<|profile|><|profile|>", "https://example.com/path?q=1&x=%20y", "C++ / C# / F#: 3.14159e-10",
    "...!!!???", "a" * 300, "ab " * 200, "ﬁ ligature ᾧ precomposed", "\u00a0nbsp\u2003em space",
]  # fmt: skip


def _real_texts(shared: Path, per_source_bytes: int = 400_000) -> list[str]:
    """English web text, Chinese exam questions and music captions, about `per_source_bytes` of each."""
    def take(texts) -> list[str]:
        out, total = [], 0
        for t in texts:
            if total > per_source_bytes:
                break
            out.append(t)
            total += len(t.encode())
        return out

    web = [json.loads(line)["text"] for f in sorted((shared / "web_crawl_samples").glob("*.jsonl"))[:2]
           for line in f.read_text(encoding="utf-8").splitlines()]  # fmt: skip
    zh = [raw[i : i + 2000] for f in sorted((shared / "ziqi_eval" / "test").glob("*.csv"))
          for raw in [f.read_text(encoding="utf-8")] for i in range(0, len(raw), 2000)]  # fmt: skip
    caps = [line for f in sorted((shared / "musiccaps").rglob("*.csv"))[:1] for line in f.read_text(encoding="utf-8").splitlines()]
    return take(web) + take(zh) + take(caps)


def _rust_ids(tok, texts: list[str]) -> list[list[int]]:
    return [e.ids for e in tok.backend.encode_batch(texts, add_special_tokens=False)]


@pytest.mark.parametrize("name", ["gpt2", "qwen2", "qwen2.5", "qwen3"])
def test_same_ids_as_rust_on_real_and_adversarial_text(name, shared_data):
    path = shared_data.parent / "tokenizers" / name
    if not path.exists():
        pytest.skip(f"{path} not found")
    tok = load_tokenizer(path)
    assert tok.word_cache_encoder is not None, f"{name}: the fast path should apply"
    texts = ADVERSARIAL + _real_texts(shared_data)
    assert encode_batch(tok, texts) == _rust_ids(tok, texts)
    # a second pass hits the cache: still the same ids
    assert encode_batch(tok, texts[::-1]) == _rust_ids(tok, texts[::-1])


def test_same_ids_for_a_trained_bpe_and_non_nfc_text_falls_back():
    corpus = ["the band played live in Berlin", "周杰伦 演唱会", "<|item|> Song — Artist"] * 50
    tok = train_bpe(corpus, vocab_size=400)
    assert tok.word_cache_encoder is not None
    texts = ADVERSARIAL + corpus
    assert encode_batch(tok, texts) == _rust_ids(tok, texts)


def test_nfc_tokenizers_send_non_nfc_text_to_rust(shared_data):
    path = shared_data.parent / "tokenizers" / "qwen3"
    if not path.exists():
        pytest.skip(f"{path} not found")
    tok = load_tokenizer(path)
    decomposed = unicodedata.normalize("NFD", "Beyoncé — Café Tacvba, Sigur Rós")
    assert not unicodedata.is_normalized("NFC", decomposed)
    assert encode_batch(tok, [decomposed]) == _rust_ids(tok, [decomposed])


def test_the_cache_is_bounded():
    tok = train_bpe(["alpha beta gamma delta"] * 20, vocab_size=300)
    enc = WordCacheEncoder.for_tokenizer(tok)
    enc.max_words = 3
    ids = enc.encode("one two three four five six seven")
    assert len(enc.cache) <= 3
    assert ids == _rust_ids(tok, ["one two three four five six seven"])[0]
