"""Tokens, n-gram hashes and exact keys shared by exact dedup, MinHash and decontamination.

A token is a run of word characters (letters, digits and combining marks), after NFKC folding and
lowercasing, except that every CJK character (Han, kana) is a token of its own, because Chinese and
Japanese have no spaces. Word n-grams over these tokens are therefore word n-grams in English and
character n-grams in Chinese, and mixed text needs no language switch. Punctuation, symbols, emoji and
whitespace are not tokens, so reposting edits that only touch them change nothing.

`batch_ngrams` is the fast path (all numpy, one call per batch of documents): texts are joined, mapped
to code points, folded and classified through a 64K-entry table, and each token is hashed as a
polynomial over its code points (prefix sums, wrap-around uint64 arithmetic, then a splitmix64
finaliser). Hand-written rather than a tokenizer library: it is what makes MinHash many times faster
than datasketch (`benchmarks/dedup_bench.py`), and `reference_tokens` (a regular expression) defines
the same tokens for tests.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import numpy as np
import xxhash

_CJK_RANGES = ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))
_CJK_ASTRAL = (0x20000, 0x2FA1F)  # CJK extension B onwards (astral code points outside it are not tokens)

SEP, WORD, CJK = 0, 1, 2
_K = np.uint64(0x9E3779B97F4A7C15)  # odd multiplier of the polynomial hashes
_K_INV = np.uint64(pow(0x9E3779B97F4A7C15, -1, 1 << 64))
_M1 = np.uint64(0xBF58476D1CE4E5B9)  # splitmix64 finaliser
_M2 = np.uint64(0x94D049BB133111EB)
# characters per numpy pass: temporaries (about 60 bytes per character) stay in cache; 128K measured
# fastest (32 us per 2 KB document, against 60 us at 4M)
MAX_BATCH_CHARS = 1 << 17


def _is_cjk(cp: int) -> bool:
    return any(a <= cp <= b for a, b in _CJK_RANGES) or _CJK_ASTRAL[0] <= cp <= _CJK_ASTRAL[1]


@cache
def _tables() -> tuple[np.ndarray, np.ndarray]:
    """(fold, cls) for the Basic Multilingual Plane: folded code point and token class of each."""
    fold = np.arange(0x10000, dtype=np.uint32)
    cls = np.zeros(0x10000, dtype=np.int8)
    for cp in range(0x10000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        f = unicodedata.normalize("NFKC", c).lower()
        if len(f) != 1:
            f = c.lower() if len(c.lower()) == 1 else c
        fold[cp] = ord(f)
        if _is_cjk(ord(f)):
            cls[cp] = CJK
        elif f.isalnum() or unicodedata.category(f) in ("Mn", "Mc"):
            cls[cp] = WORD
    return fold, cls


def reference_tokens(text: str) -> list[str]:
    """The tokens `batch_ngrams` hashes, by a slow and obvious route (tests, debugging)."""
    fold, cls = _tables()
    chars = []
    for ch in text:
        cp = ord(ch)
        if cp < 0x10000:
            chars.append((chr(fold[cp]), int(cls[cp])))
        else:
            chars.append((ch, CJK if _CJK_ASTRAL[0] <= cp <= _CJK_ASTRAL[1] else SEP))
    out: list[str] = []
    cur: list[str] = []
    for ch, k in chars:
        if k == WORD:
            cur.append(ch)
            continue
        if cur:
            out.append("".join(cur))
            cur = []
        if k == CJK:
            out.append(ch)
    if cur:
        out.append("".join(cur))
    return out


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser (element-wise, uint64): spreads polynomial hashes over all 64 bits."""
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


@dataclass(frozen=True)
class BatchNgrams:
    """N-gram hashes of a batch of documents, concatenated in document order.

    `hashes[offsets[i]:offsets[i+1]]` are document i's n-gram hashes (uint64, may repeat); a document
    with fewer than n tokens has one n-gram (all its tokens), an empty one none. `exact_keys[i]` is a
    16-byte xxh3-128 of document i's token sequence: equal keys mean equal normalised text.
    """

    hashes: np.ndarray
    offsets: np.ndarray
    n_tokens: np.ndarray
    exact_keys: list[bytes]

    def of(self, i: int) -> np.ndarray:
        return self.hashes[self.offsets[i] : self.offsets[i + 1]]


def k_powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(K^i, K^-i) modulo 2^64 for i < n (K is odd, so invertible): the polynomial hashes' weights."""
    powers = np.empty(n, dtype=np.uint64)
    inverse = np.empty(n, dtype=np.uint64)
    if n:
        with np.errstate(over="ignore"):
            powers[0], powers[1:] = 1, _K
            np.cumprod(powers, out=powers)
            inverse[0], inverse[1:] = 1, _K_INV
            np.cumprod(inverse, out=inverse)
    return powers, inverse


def batch_slices(texts: list[str] | tuple[str, ...]) -> Iterator[tuple[int, int]]:
    """[start, stop) ranges of about MAX_BATCH_CHARS characters (at least one text each)."""
    start = 0
    while start < len(texts):
        stop, chars = start, 0
        while stop < len(texts) and (stop == start or chars + len(texts[stop]) < MAX_BATCH_CHARS):
            chars += len(texts[stop]) + 1
            stop += 1
        yield start, stop
        start = stop


def token_stream(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(token hashes, index of the text each token belongs to) of `texts`, tokens in order."""
    th, starts = _token_hashes("\x00".join(texts))
    bounds = np.cumsum([len(t) + 1 for t in texts], dtype=np.int64)  # character ends in the joined string
    return th, np.searchsorted(bounds, starts, side="right").astype(np.int64)


def _token_hashes(text: str) -> tuple[np.ndarray, np.ndarray]:
    """(token hashes uint64, token start char positions) of one string (may hold \\x00 separators)."""
    fold, cls_t = _tables()
    cps = np.frombuffer(text.encode("utf-32-le", errors="surrogatepass"), dtype=np.uint32)
    if len(cps) == 0:
        return np.empty(0, np.uint64), np.empty(0, np.int64)
    bmp = cps < 0x10000
    if bmp.all():
        cls = cls_t[cps]
        f = fold[cps]
    else:
        idx = np.where(bmp, cps, 0)
        cls = np.where(bmp, cls_t[idx], np.where((cps >= _CJK_ASTRAL[0]) & (cps <= _CJK_ASTRAL[1]), CJK, SEP))
        f = np.where(bmp, fold[idx], cps)
    is_w = cls == WORD
    is_c = cls == CJK
    prev_w = np.empty_like(is_w)
    prev_w[0] = False
    prev_w[1:] = is_w[:-1]
    next_w = np.empty_like(is_w)
    next_w[-1:] = False
    next_w[:-1] = is_w[1:]
    starts = np.flatnonzero((is_w & ~prev_w) | is_c)
    ends = np.flatnonzero((is_w & ~next_w) | is_c) + 1
    if len(starts) == 0:
        return np.empty(0, np.uint64), starts
    L = len(cps)
    powers, inverse = k_powers(L)
    with np.errstate(over="ignore"):
        prefix = np.zeros(L + 1, dtype=np.uint64)
        np.cumsum((f.astype(np.uint64) + np.uint64(1)) * powers, out=prefix[1:])
        # sum_j v_j K^j over the token, times K^-start: the same token hashes the same at any position
        tok = (prefix[ends] - prefix[starts]) * inverse[starts]
        tok += (ends - starts).astype(np.uint64)
        return mix64(tok), starts


def _combine(th: np.ndarray, n: int, k: int) -> np.ndarray:
    """Order-sensitive hashes of the k windows th[i:i+n] (n-gram of token hashes)."""
    with np.errstate(over="ignore"):
        acc = th[0:k].copy()
        for j in range(1, n):
            acc *= _K
            acc += th[j : j + k]
        acc += np.uint64(n)
        return mix64(acc)


def batch_ngrams(texts: list[str], n: int) -> BatchNgrams:
    """Token n-gram hashes and exact keys of `texts` (any size: processed in bounded slices)."""
    parts = [_batch_ngrams(texts[a:b], n) for a, b in batch_slices(texts)] or [_batch_ngrams([], n)]
    if len(parts) == 1:
        return parts[0]
    sizes = np.concatenate([np.diff(p.offsets) for p in parts])
    return BatchNgrams(
        np.concatenate([p.hashes for p in parts]),
        np.concatenate(([0], np.cumsum(sizes))).astype(np.int64),
        np.concatenate([p.n_tokens for p in parts]),
        [k for p in parts for k in p.exact_keys],
    )


def _batch_ngrams(texts: list[str], n: int) -> BatchNgrams:
    m = len(texts)
    texts = [t or "" for t in texts]
    th, tdoc = token_stream(texts)
    n_tokens = np.bincount(tdoc, minlength=m).astype(np.int64)
    tok_off = np.concatenate(([0], np.cumsum(n_tokens)))
    keys = [xxhash.xxh3_128_digest(th[tok_off[i] : tok_off[i + 1]].tobytes()) for i in range(m)]
    T = len(th)
    if T >= n:
        k = T - n + 1
        grams = _combine(th, n, k)
        valid = tdoc[:k] == tdoc[n - 1 :]  # windows inside one document
        gdoc = tdoc[:k][valid]
        grams = grams[valid]
    else:
        grams = np.empty(0, np.uint64)
        gdoc = np.empty(0, np.int64)
    short = np.flatnonzero((n_tokens > 0) & (n_tokens < n))
    if len(short):  # documents with fewer than n tokens: one n-gram of all their tokens
        extra = np.array([_combine(th[tok_off[i] : tok_off[i + 1]], int(n_tokens[i]), 1)[0] for i in short],
                         dtype=np.uint64)  # fmt: skip
        order = np.argsort(np.concatenate((gdoc, short)), kind="stable")
        grams = np.concatenate((grams, extra))[order]
        gdoc = np.concatenate((gdoc, short))[order]
    counts = np.bincount(gdoc, minlength=m) if len(gdoc) else np.zeros(m, np.int64)
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    return BatchNgrams(grams, offsets, n_tokens.astype(np.int32), keys)


def exact_key(text: str) -> bytes:
    return batch_ngrams([text], 1).exact_keys[0]
