"""Sentence embeddings for the query pool, from models that ship inside packages (no download at run time).

- `wordllama` (default): WordLlama's 256-dimension static token embeddings (`l2_supercat_256`, distilled from
  large LLMs' token embeddings; the weights and the tokenizer ship in the wheel), average-pooled and L2-normalised.
  `WordLlama.load()` looks for the tokenizer under `wordllama/tokenizer/` while the wheel ships it under
  `wordllama/tokenizers/` and then tries to download it; `load_wordllama` reads both files from the package
  directly, so it never touches the network.
- `tfidf`: the fallback with no model at all: word and character n-gram TF-IDF reduced by truncated SVD to `dim`
  dimensions (latent semantic analysis), L2-normalised; fitted on the texts it embeds, deterministic.

WordLlama's tokenizer is Llama 2's (English-centred); Chinese queries embed through byte-level pieces and are
better served by `tfidf` with character n-grams (both are offered; the cluster report compares them).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np

WORDLLAMA_CONFIG = "l2_supercat"
WORDLLAMA_DIM = 256


@cache
def load_wordllama(dim: int = WORDLLAMA_DIM):
    """WordLlama's shipped model, read from the installed package (see the module docstring)."""
    import wordllama
    from safetensors import safe_open
    from tokenizers import Tokenizer
    from wordllama.inference import WordLlamaInference

    root = Path(wordllama.__file__).parent
    weights = root / "weights" / f"{WORDLLAMA_CONFIG}_256.safetensors"
    tokenizer = root / "tokenizers" / f"{WORDLLAMA_CONFIG}_tokenizer_config.json"
    for f in (weights, tokenizer):
        if not f.is_file():
            raise FileNotFoundError(f"{f}: not in the installed wordllama package (expected 0.4.x); "
                                    "use embedder: tfidf")  # fmt: skip
    with safe_open(str(weights), framework="np", device="cpu") as f:
        emb = f.get_tensor("embedding.weight")[:, :dim]
    return WordLlamaInference(emb, Tokenizer.from_file(str(tokenizer)), binary=False)


def embed(texts: Sequence[str], method: str = "wordllama", dim: int = WORDLLAMA_DIM, seed: int = 0) -> np.ndarray:
    """(len(texts), dim) float32, rows L2-normalised (a text with nothing to embed is a zero row)."""
    if method == "wordllama":
        model = load_wordllama(dim)
        out = np.asarray(model.embed(list(texts), norm=False), dtype=np.float32)
    elif method == "tfidf":
        from scipy.sparse import hstack
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=1, sublinear_tf=True).fit_transform(texts)
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=2, sublinear_tf=True).fit_transform(texts)
        x = hstack([words, chars]).tocsr()
        k = max(1, min(dim, x.shape[1] - 1, x.shape[0] - 1))
        out = TruncatedSVD(n_components=k, algorithm="arpack", random_state=seed).fit_transform(x).astype(np.float32)
    else:
        raise ValueError(f"embed: method must be wordllama or tfidf, got {method!r}")
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)
