"""Token windows of decontamination: texts tokenized once into prefix sums of `corpus.dedup.text` token
hashes, from which the value of any n-token window costs one multiply, and the fingerprint of that hashing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from corpus.dedup.text import k_powers, token_stream

# fixed text whose n-gram values fingerprint the token hashing: an index built by other hashing is refused
_PROBE = "Who sang 'Bohemian Rhapsody' (1975)? QUEEN — Freddie Mercury; Ünïcödé ＦＵＬＬ. 《阳关三叠》唐诗与音乐的典范"


# ----------------------------------------------------------------------------- token windows


@dataclass(frozen=True)
class Tokens:
    """Token hashes h of some texts, concatenated, as prefix sums P[i] = sum_{j<i} h_j K^-j: the value of
    the window h_i..h_{i+n-1} is (P[i+n] - P[i]) K^(i+n-1) + n, which is `text._combine` before its finaliser."""

    doc: np.ndarray  # int64: text of each token
    offsets: np.ndarray  # int64 (texts + 1): text i has tokens [offsets[i], offsets[i+1])
    prefix: np.ndarray  # uint64 (tokens + 1)
    powers: np.ndarray  # uint64 (tokens): K^i

    @property
    def size(self) -> int:
        return len(self.doc)

    def windows(self, n: int) -> np.ndarray:
        """Values of all size - n + 1 windows of n tokens (windows that straddle two texts included)."""
        with np.errstate(over="ignore"):
            return (self.prefix[n:] - self.prefix[: self.size - n + 1]) * self.powers[n - 1 :] + np.uint64(n)

    def spans(self, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Value of each token span [start, start + length) (length >= 1)."""
        ends = starts + lengths
        with np.errstate(over="ignore"):
            return (self.prefix[ends] - self.prefix[starts]) * self.powers[ends - 1] + lengths.astype(
                np.uint64
            )


def tokenize(texts: Sequence[str]) -> Tokens:
    th, doc = token_stream(list(texts))
    offsets = np.zeros(len(texts) + 1, np.int64)
    np.cumsum(np.bincount(doc, minlength=len(texts)), out=offsets[1:])
    powers, inverse = k_powers(len(th))
    prefix = np.zeros(len(th) + 1, np.uint64)
    with np.errstate(over="ignore"):
        np.cumsum(th * inverse, out=prefix[1:])
    return Tokens(doc, offsets, prefix, powers)


def window_values(text: str, n: int) -> np.ndarray:
    """Values the index compares for every n-token window of `text` (none if it has fewer than n tokens):
    `batch_ngrams` hashes before their splitmix64 finaliser. For tests and debugging."""
    tok = tokenize([text])
    return tok.windows(n) if tok.size >= n else np.empty(0, np.uint64)


@cache
def token_fingerprint() -> str:
    """Digest of the n-gram values of a fixed probe text: changes whenever the token hashing does."""
    tok = tokenize([_PROBE])
    values = np.concatenate([tok.windows(n) for n in (1, 5, 13)])
    return hashlib.blake2b(values.tobytes(), digest_size=8).hexdigest()
