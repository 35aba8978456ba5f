"""Tokenizer loading (any Hugging Face tokenizer directory), demo BPE training and batch encoding.

A `LoadedTokenizer` is the Hugging Face fast tokenizer plus what shard writing and training need:
the end-of-document id, the vocabulary size before and after our added tokens (domain markers,
optional item-id tokens) and a fingerprint for manifests.
"""

from __future__ import annotations

import hashlib
import json
import logging
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

# Stage-3 markers; the same strings as corpus.behavior.interleave (tokenizer/ must not import corpus).
PROFILE = "<|profile|>"
STATE = "<|state|>"
ITEM = "<|item|>"
FEEDBACK = "<|feedback|>"
DOMAIN_SPECIAL_TOKENS: tuple[str, ...] = (PROFILE, STATE, ITEM, FEEDBACK)

EOD_TOKEN = "<|endoftext|>"
# Qwen's chat markers (ChatML). Real Qwen tokenizers have them as special tokens; the demo BPE gets them too, so a
# chat turn ends in one token and generation can stop on it (the exported generation config: `pretrain.hf._stop_ids`).
CHAT_START = "<|im_start|>"
CHAT_END = "<|im_end|>"
CHAT_TOKENS: tuple[str, ...] = (CHAT_START, CHAT_END)
# Qwen3's tool-call and thinking tags: added (not special) tokens in Qwen's tokenizers, so decoding keeps them; the
# demo BPE adds them the same way, so a tool call's tags are one token each, as for the real model.
TOOL_TOKENS: tuple[str, ...] = ("<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>", "<think>",
                                "</think>")  # fmt: skip
META_FILE = "tokenizer_meta.json"
# Word cache entries for BPE models. tokenizers' default (10,000) stops caching after the first 10k
# distinct words; a larger cache is exact (same ids) and ~10% faster on web text, at ~100 B/entry.
DEFAULT_BPE_CACHE = 1 << 20


def item_token(item_id: str) -> str:
    """Added-token text for one item id (same form as `corpus.behavior.interleave.item_token`)."""
    return f"<|item:{item_id}|>"


@dataclass
class LoadedTokenizer:
    """A Hugging Face fast tokenizer with the facts shard writing and training need.

    Treat it as immutable once loaded: derived facts (`spec`, `token_bytes`, ...) are computed once.
    """

    tokenizer: object  # transformers fast tokenizer (TokenizersBackend / PreTrainedTokenizerFast)
    name: str
    eod_id: int
    eod_token: str
    base_vocab_size: int  # len(tokenizer) before our additions
    vocab_size: int  # len(tokenizer) after them: the embedding size to resize to
    added_tokens: tuple[str, ...] = ()  # tokens this module added, in id order
    byte_level: bool = True  # every string maps to tokens (byte-level BPE or byte fallback)
    unk_id: int | None = None  # the model's unknown-token id, when it has one
    fingerprint: str = field(default="")
    # the eos_token of the tokenizer as it was given (Qwen3: <|im_end|>, the chat turn end); `save` writes
    # the EOD as eos_token, and this keeps the original for chat use (SFT, export)
    original_eos_token: str | None = None

    def __post_init__(self) -> None:
        if not self.fingerprint:
            self.fingerprint = tokenizer_fingerprint(self.tokenizer, self.eod_id)
        if self.original_eos_token is None:
            self.original_eos_token = getattr(self.tokenizer, "eos_token", None)

    @property
    def backend(self):
        """The `tokenizers.Tokenizer` (Rust) behind the fast tokenizer."""
        return self.tokenizer.backend_tokenizer

    @cached_property
    def spec(self) -> dict:
        """The backend's serialized form (model, normalizer, pre-tokenizer, decoder, added tokens)."""
        return json.loads(self.backend.to_str())

    @cached_property
    def normalizer_kind(self) -> str | None:
        """None (no normalizer), "NFC", or "other" (a normalizer that may change characters)."""
        return _normalizer_kind(self.spec.get("normalizer"))

    @cached_property
    def unnormalized_backend(self):
        """A copy of the backend without its NFC normalizer, or None when it has no NFC normalizer.

        For a text already in NFC (`unicodedata.is_normalized`) it gives the same ids, ~10% faster.
        Python's Unicode 14 data and tokenizers' NFC agree on every code point (tested for the pinned
        tokenizers, including code points Python does not know), so "already NFC" means the same to both.
        """
        if self.normalizer_kind != "NFC":
            return None
        from tokenizers import Tokenizer

        plain = Tokenizer.from_str(self.backend.to_str())
        plain.normalizer = None
        # share the loaded model object and its word cache (one copy of the vocabulary in memory; the
        # model transformers built also tokenized faster here than one deserialized from JSON)
        plain.model = self.backend.model
        return plain

    @cached_property
    def word_cache_encoder(self) -> WordCacheEncoder | None:
        """The Python word-cache encoder for this tokenizer (None: its pipeline needs the Rust path)."""
        return WordCacheEncoder.for_tokenizer(self)

    @cached_property
    def token_bytes(self) -> np.ndarray | None:
        """UTF-8 bytes each token id stands for, when that is fixed (byte-level BPE); else None.

        With it, the byte offsets of a document's tokens are a cumulative sum over its ids, so masks
        need no per-token offsets from the tokenizer. -1 marks an id of unknown length (a document that
        contains one is masked from the tokenizer's character offsets instead).
        """
        from tokenizers import pre_tokenizers

        model, dec = self.spec.get("model") or {}, self.spec.get("decoder") or {}
        if model.get("type") != "BPE" or model.get("byte_fallback") or dec.get("type") != "ByteLevel":
            return None
        if "ByteLevel" not in json.dumps(self.spec.get("pre_tokenizer")) or self.normalizer_kind == "other":
            return None  # e.g. lowercasing or accent stripping moves byte positions
        alphabet = set(pre_tokenizers.ByteLevel.alphabet())
        table = np.full(max(self.backend.get_vocab_size(with_added_tokens=True), self.vocab_size), -1, dtype=np.int64)
        for token, i in self.backend.get_vocab(with_added_tokens=False).items():
            if all(c in alphabet for c in token):
                table[i] = len(token)  # one byte per byte-level character
        for i, added in self.backend.get_added_tokens_decoder().items():
            table[i] = len(added.content.encode("utf-8"))
        return table

    def meta(self) -> dict:
        return {
            "name": self.name,
            "fingerprint": self.fingerprint,
            "eod_token": self.eod_token,
            "eod_id": self.eod_id,
            "base_vocab_size": self.base_vocab_size,
            "vocab_size": self.vocab_size,
            "added_tokens": list(self.added_tokens),
            "added_token_ids": [int(i) for i in self.tokenizer.convert_tokens_to_ids(list(self.added_tokens))],
            "byte_level": self.byte_level,
            "unk_id": self.unk_id,
            "original_eos_token": self.original_eos_token,
        }

    def save(self, out_dir: str | Path) -> Path:
        """Write the extended tokenizer (`save_pretrained`) and `tokenizer_meta.json` to `out_dir`.

        The saved copy's `eos_token` is the EOD (`<|endoftext|>` for Qwen3, not its chat `<|im_end|>`):
        Megatron-LM's `HuggingFaceTokenizer` takes its EOD (`preprocess_data.py --append-eod`, GPTDataset's
        `--eod-mask-loss` and resets) from `eos_token`, so a Megatron user of this folder gets the separator
        the shards hold. The original eos is in the meta file (`original_eos_token`); this object is unchanged.
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        eos = self.tokenizer.eos_token
        self.tokenizer.eos_token = self.eod_token
        try:
            self.tokenizer.save_pretrained(str(out))
        finally:
            self.tokenizer.eos_token = eos
        (out / META_FILE).write_text(json.dumps(self.meta(), indent=2) + "\n", encoding="utf-8")
        return out


def tokenizer_fingerprint(hf_tokenizer, eod_id: int) -> str:
    """sha256 over the serialized backend (vocab, merges, added tokens, normalizer, pre-tokenizer) and EOD."""
    h = hashlib.sha256(hf_tokenizer.backend_tokenizer.to_str().encode("utf-8"))
    h.update(f"eod={eod_id}".encode())
    return h.hexdigest()


def _normalizer_kind(norm: dict | None) -> str | None:
    if norm is None:
        return None
    if norm.get("type") == "Sequence":
        kinds = {_normalizer_kind(n) for n in norm.get("normalizers", [])}
        return "NFC" if kinds <= {"NFC", None} else "other"
    return "NFC" if norm.get("type") == "NFC" else "other"


def _model_facts(backend) -> tuple[bool, int | None]:
    """(byte_level, unk_id) of a `tokenizers.Tokenizer`."""
    spec = json.loads(backend.to_str())

    def has_byte_level(node) -> bool:
        if isinstance(node, dict):
            return node.get("type") == "ByteLevel" or any(has_byte_level(v) for v in node.values())
        if isinstance(node, list):
            return any(has_byte_level(v) for v in node)
        return False

    model = spec.get("model") or {}
    byte_level = has_byte_level(spec.get("pre_tokenizer")) or bool(model.get("byte_fallback"))
    unk = model.get("unk_token")
    unk_id = backend.token_to_id(unk) if isinstance(unk, str) else model.get("unk_id")
    return byte_level, unk_id


def _set_bpe_cache(hf_tokenizer, capacity: int | None) -> None:
    model = hf_tokenizer.backend_tokenizer.model
    if capacity and hasattr(model, "_resize_cache"):  # BPE models only
        model._resize_cache(int(capacity))


def _eod(hf_tokenizer, path: str) -> tuple[str, int]:
    """`<|endoftext|>` when the vocabulary has it (GPT-2, Qwen: the pretraining document separator), else eos."""
    vocab = hf_tokenizer.get_vocab()
    if EOD_TOKEN in vocab:
        return EOD_TOKEN, int(vocab[EOD_TOKEN])
    if hf_tokenizer.eos_token is not None:
        return hf_tokenizer.eos_token, int(hf_tokenizer.eos_token_id)
    raise ValueError(f"{path}: tokenizer has neither {EOD_TOKEN} nor an eos_token; set eos_token in its config")


def _add_tokens(hf_tokenizer, markers: Sequence[str], items: Sequence[str]) -> tuple[str, ...]:
    """Add markers as special tokens and item tokens as plain added tokens; return the ones that were new."""
    from tokenizers import AddedToken

    vocab = hf_tokenizer.get_vocab()
    new_markers = [t for t in dict.fromkeys(markers) if t not in vocab]
    new_items = [t for t in dict.fromkeys(items) if t not in vocab and t not in new_markers]
    # normalized=False: matched on the raw text, so a normalizer can never break a marker apart
    if new_markers:
        hf_tokenizer.add_tokens([AddedToken(t, special=True, normalized=False) for t in new_markers],
                                special_tokens=True)  # fmt: skip
    if new_items:
        hf_tokenizer.add_tokens([AddedToken(t, special=False, normalized=False) for t in new_items])
    return tuple(new_markers + new_items)


def load_tokenizer(
    path: str | Path,
    add_domain_tokens: bool = True,
    item_ids: Sequence[str] = (),
    bpe_cache_capacity: int | None = DEFAULT_BPE_CACHE,
) -> LoadedTokenizer:
    """Load any Hugging Face tokenizer directory as a fast tokenizer and add our tokens.

    `item_ids` are platform item ids; each becomes the added token `<|item:ID|>`. Adding tokens grows
    the vocabulary: resize the model's embeddings to `vocab_size`.
    """
    from transformers import AutoTokenizer

    path = str(path)
    tok = AutoTokenizer.from_pretrained(path)
    if not getattr(tok, "is_fast", False) or not hasattr(tok, "backend_tokenizer"):
        raise ValueError(f"{path}: no fast tokenizer could be built; add a tokenizer.json to the directory")
    # a directory written by `LoadedTokenizer.save` keeps its original name, base size and additions
    meta_file = Path(path) / META_FILE
    saved = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.exists() else {}
    base = int(saved.get("base_vocab_size", len(tok)))
    markers = DOMAIN_SPECIAL_TOKENS if add_domain_tokens else ()
    added = tuple(saved.get("added_tokens", ())) + _add_tokens(tok, markers, [item_token(i) for i in item_ids])
    eod_token, eod_id = _eod(tok, path)
    _set_bpe_cache(tok, bpe_cache_capacity)
    byte_level, unk_id = _model_facts(tok.backend_tokenizer)
    name = saved.get("name", Path(path).name)
    return LoadedTokenizer(tok, name, eod_id, eod_token, base, len(tok), added, byte_level, unk_id,
                           original_eos_token=saved.get("original_eos_token", tok.eos_token))  # fmt: skip


def wrap_backend(backend, name: str, eod_token: str = EOD_TOKEN, unk_token: str | None = None) -> LoadedTokenizer:
    """A `tokenizers.Tokenizer` (trained here or built in tests) as a `LoadedTokenizer`."""
    from transformers import PreTrainedTokenizerFast

    if backend.token_to_id(eod_token) is None:
        raise ValueError(f"tokenizer {name!r} has no {eod_token!r} token")
    tok = PreTrainedTokenizerFast(tokenizer_object=backend, eos_token=eod_token, unk_token=unk_token)
    byte_level, unk_id = _model_facts(tok.backend_tokenizer)
    return LoadedTokenizer(tok, name, int(tok.convert_tokens_to_ids(eod_token)), eod_token, len(tok), len(tok), (),
                           byte_level, unk_id)  # fmt: skip


def train_bpe(
    texts: Iterable[str],
    vocab_size: int = 8000,
    special_tokens: Sequence[str] = (EOD_TOKEN, *DOMAIN_SPECIAL_TOKENS, *CHAT_TOKENS),
    min_frequency: int = 2,
    name: str = "demo-bpe",
) -> LoadedTokenizer:
    """Train a small byte-level BPE (GPT-2 style) for the demo when no tokenizer is given.

    The special tokens get the first ids (`<|endoftext|>` = 0 is the EOD, then the stage-3 markers, then the chat
    markers `<|im_start|>` / `<|im_end|>`, which pretraining text never contains); Qwen3's tool-call and
    thinking tags (`TOOL_TOKENS`) follow the learned vocabulary as plain added tokens, as in Qwen's tokenizers.
    Training is deterministic: the same texts in the same order give the same vocabulary and merges.
    """
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers

    if EOD_TOKEN not in special_tokens:
        raise ValueError(f"special_tokens must include the EOD token {EOD_TOKEN!r}")
    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size - len(TOOL_TOKENS),  # `vocab_size` counts the added tool tags
        min_frequency=min_frequency,
        special_tokens=list(special_tokens),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(texts, trainer=trainer)
    backend.add_tokens([AddedToken(t, special=False, normalized=False) for t in TOOL_TOKENS])
    return wrap_backend(backend, name)


# ------------------------------------------------------------------------------------------ encoding
# GPT-2's pre-tokenizer pattern: what a `ByteLevel(use_regex=True)` pre-tokenizer splits on
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def _bytes_to_unicode() -> list[str]:
    """GPT-2's byte -> printable character table (the ByteLevel alphabet), indexed by byte."""
    bs = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    table = dict(zip(bs, cs, strict=True))
    return [chr(table[b]) for b in range(256)]


class WordCacheEncoder:
    r"""Byte-level BPE with the pre-tokenization in Python and one BPE call per distinct word.

    The tokenizer's own regex splits the text (the `regex` module reads the same `\p{..}` pattern),
    each piece is mapped to the byte-level alphabet and tokenized by the tokenizer's own BPE model
    (`model.tokenize`), and the ids are kept in a dict, so a word seen before costs one lookup. Music
    text repeats its words (and the mix repeats documents), so this measured about 3.6 times faster
    per core than the Rust pipeline's own batch encode on the demo mix with Qwen3, with identical ids
    (tests compare them on real and adversarial text for every supported tokenizer). Only for texts
    the normalizer leaves alone (none, or NFC on NFC text); `for_tokenizer` returns None for any other
    pipeline shape, and callers fall back to Rust.
    """

    def __init__(self, backend, pattern: str, added: dict[str, int], max_words: int = 1 << 20):
        import regex

        self.model = backend.model
        self.split = regex.compile(pattern)
        self.added = added
        self.added_split = (regex.compile("(" + "|".join(regex.escape(a) for a in sorted(added, key=len, reverse=True)) + ")")
                            if added else None)  # fmt: skip
        self.table = _bytes_to_unicode()
        self.cache: dict[str, list[int]] = {}
        self.max_words = max_words

    @classmethod
    def for_tokenizer(cls, tok: LoadedTokenizer) -> WordCacheEncoder | None:
        spec = tok.spec
        model = spec.get("model") or {}
        if model.get("type") != "BPE" or model.get("byte_fallback") or model.get("dropout") or tok.normalizer_kind == "other":
            return None
        if model.get("continuing_subword_prefix") or model.get("end_of_word_suffix"):
            return None
        pre = spec.get("pre_tokenizer") or {}
        steps = pre.get("pretokenizers", []) if pre.get("type") == "Sequence" else [pre]
        if [s.get("type") for s in steps] == ["ByteLevel"] and steps[0].get("use_regex", True):
            pattern = GPT2_PATTERN
        elif ([s.get("type") for s in steps] == ["Split", "ByteLevel"] and not steps[1].get("use_regex", True)
              and steps[0].get("behavior") == "Isolated" and not steps[0].get("invert")
              and "Regex" in (steps[0].get("pattern") or {})):  # fmt: skip
            pattern = steps[0]["pattern"]["Regex"]
        else:
            return None
        if steps[-1].get("add_prefix_space"):
            return None
        added = {}
        for i, a in tok.backend.get_added_tokens_decoder().items():
            if a.lstrip or a.rstrip or a.single_word:
                return None  # whitespace-absorbing added tokens: leave them to the Rust matcher
            added[a.content] = int(i)
        return cls(tok.backend, pattern, added)

    def encode(self, text: str) -> list[int]:
        out: list[int] = []
        cache, table, tokenize = self.cache, self.table, self.model.tokenize
        for seg in self.added_split.split(text) if self.added_split is not None else (text,):
            if not seg:
                continue
            if (a := self.added.get(seg)) is not None:
                out.append(a)
                continue
            for word in self.split.findall(seg):
                ids = cache.get(word)
                if ids is None:
                    ids = [t.id for t in tokenize("".join([table[b] for b in word.encode("utf-8")]))]
                    if len(cache) >= self.max_words:
                        cache.clear()  # bounded memory; the next words refill it
                    cache[word] = ids
                out.extend(ids)
        return out


def encode_batch(tok: LoadedTokenizer, texts: Sequence[str]) -> list[list[int]]:
    """Token ids per text, no special tokens added; the same ids as `tok(texts)`.

    Texts the normalizer leaves unchanged go through `WordCacheEncoder` when the tokenizer allows it,
    otherwise through the Rust batch path without offsets (`encode_batch_fast`), skipping an NFC
    normalizer for texts already in NFC; other texts go through the full Rust pipeline."""
    texts = texts if isinstance(texts, list) else list(texts)
    plain = tok.unnormalized_backend
    fast = tok.word_cache_encoder
    if plain is None and tok.normalizer_kind is not None:
        return [e.ids for e in tok.backend.encode_batch_fast(texts, add_special_tokens=False)]
    nfc = (list(range(len(texts))) if tok.normalizer_kind is None
           else [i for i, t in enumerate(texts) if unicodedata.is_normalized("NFC", t)])  # fmt: skip
    ids: list[list[int]] = [None] * len(texts)  # type: ignore[list-item]
    if fast is not None:
        for i in nfc:
            ids[i] = fast.encode(texts[i])
    else:
        backend = plain if plain is not None else tok.backend
        for i, e in zip(nfc, backend.encode_batch_fast([texts[i] for i in nfc], add_special_tokens=False), strict=True):
            ids[i] = e.ids
    if len(nfc) < len(texts):
        rest = [i for i in range(len(texts)) if ids[i] is None]
        for i, e in zip(rest, tok.backend.encode_batch_fast([texts[i] for i in rest], add_special_tokens=False),
                        strict=True):  # fmt: skip
            ids[i] = e.ids
    return ids


def encode_with_offsets(tok: LoadedTokenizer, texts: Sequence[str]) -> tuple[list[list[int]], list[np.ndarray]]:
    """Token ids and character offsets per text: offsets[i] is an (n_tokens, 2) int64 array of [start, end).

    Offsets are in Python string characters (code points), the unit of `no_loss_spans`; the ids are
    the same as `encode_batch`'s (the same as `tokenizer(texts, return_offsets_mapping=True)`).
    """
    encs = tok.backend.encode_batch(list(texts), add_special_tokens=False)
    ids = [e.ids for e in encs]
    offs = [np.array(e.offsets, dtype=np.int64).reshape(-1, 2) for e in encs]
    return ids, offs
