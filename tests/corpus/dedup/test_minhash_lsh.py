"""Tokens, MinHash signatures, LSH banding and single-node clustering, on real text."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from datasketch import MinHash

from corpus.dedup import cluster as C
from corpus.dedup.lsh import band_keys, collision_probability, lsh_params
from corpus.dedup.minhash import EMPTY, MinHasher, estimate_jaccard
from corpus.dedup.text import _token_hashes, batch_ngrams, exact_key, reference_tokens


@pytest.fixture(scope="module")
def c4(shared_data):
    path = shared_data / "web_crawl_samples" / "c4_en_validation_2k.jsonl"
    return [json.loads(line)["text"] for line in path.open()][:400]


def _shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    t = reference_tokens(text)
    return {tuple(t)} if 0 < len(t) < n else {tuple(t[i : i + n]) for i in range(len(t) - n + 1)}


def test_tokens_match_the_reference_on_english_and_chinese(c4, shared_data):
    zh = (
        (shared_data / "ziqi_eval" / "test" / "popular_music.csv")
        .read_text(encoding="utf-8")
        .splitlines()[:80]
    )
    texts = c4[:100] + zh + ["周杰伦 Jay Chou的《七里香》2004", "ＡＢＣ abc Ａbc"]
    for t in texts:
        th, _ = _token_hashes(t)
        ref = reference_tokens(t)
        assert len(th) == len(ref), t[:80]
        # equal tokens hash equally, different tokens differently
        by_tok: dict[str, int] = {}
        for tok, h in zip(ref, th.tolist(), strict=True):
            assert by_tok.setdefault(tok, h) == h
        assert len(set(by_tok.values())) == len(by_tok)
    assert reference_tokens("周杰伦 Jay Chou的《七里香》2004") == [
        "周",
        "杰",
        "伦",
        "jay",
        "chou",
        "的",
        "七",
        "里",
        "香",
        "2004",
    ]
    assert reference_tokens("ＡＢＣ abc Ａbc") == ["abc", "abc", "abc"]  # NFKC width and case folding


def test_exact_key_ignores_case_punctuation_and_spacing_only():
    a = "Hello, World!  This is   a test."
    assert (
        exact_key(a) == exact_key("hello world this is a test") == exact_key("HELLO\nWORLD -- this is a test")
    )
    assert exact_key(a) != exact_key("Hello World this is the test")
    assert exact_key("") == exact_key("   ...  ")


def test_signatures_equal_datasketch_affine32_with_the_same_shingles(c4):
    mh = MinHasher(num_perm=128, ngram=5, seed=7)
    sk = mh.sketch(c4[:50])
    ng = batch_ngrams(c4[:50], 5)
    for i in range(50):
        h32 = (ng.of(i) >> np.uint64(32)).astype(np.uint32)
        ref = MinHash(num_perm=128, seed=7, hashfunc=lambda x: x, scheme="affine32")
        ref.update_batch([int(v) for v in h32])
        assert np.array_equal(ref.hashvalues, sk.signatures[i]), i


def test_estimated_jaccard_tracks_true_jaccard(c4):
    rng = random.Random(0)
    pairs = []
    for t in c4[:200]:
        words = t.split()
        if len(words) < 60:
            continue
        cut = rng.randint(len(words) // 10, len(words) // 2)
        pairs.append((t, " ".join(words[cut:])))  # truncation: Jaccard well below 1
    mh = MinHasher(num_perm=256)
    a = mh.sketch([p[0] for p in pairs]).signatures
    b = mh.sketch([p[1] for p in pairs]).signatures
    est = estimate_jaccard(a, b)
    true = np.array([len(_shingles(x) & _shingles(y)) / len(_shingles(x) | _shingles(y)) for x, y in pairs])
    assert len(pairs) > 50
    assert np.abs(est - true).mean() < 0.03  # standard error at 256 permutations is about 0.03 at J = 0.5


def test_empty_and_short_documents():
    mh = MinHasher(num_perm=64, ngram=5)
    sk = mh.sketch(["", "   ", "one two", "one two", "one two three four five six", "!!!"])
    assert sk.n_tokens.tolist() == [0, 0, 2, 2, 6, 0]
    assert sk.n_shingles.tolist() == [0, 0, 1, 1, 2, 0]
    assert (sk.signatures[0] == EMPTY).all() and (sk.signatures[5] == EMPTY).all()
    assert np.array_equal(sk.signatures[2], sk.signatures[3])  # a short text still matches its copy
    assert not np.array_equal(sk.signatures[2], sk.signatures[4])


def test_a_giant_document_is_sketched_in_bounded_slices():
    words = [f"w{i % 5000}" for i in range(400_000)]  # about 2.6 MB of text
    giant = " ".join(words)
    mh = MinHasher(num_perm=32)
    sk = mh.sketch(["small one", giant, "small one"])
    assert sk.n_tokens.tolist() == [2, 400_000, 2]
    assert np.array_equal(sk.signatures[0], sk.signatures[2])
    assert sk.n_shingles[1] == 400_000 - 4


def test_lsh_params_follow_datasketch_and_the_s_curve():
    b, r = lsh_params(0.8, 128)
    assert (b, r) == (9, 13)
    assert collision_probability(0.95, b, r) > 0.99 > 0.5 > collision_probability(0.5, b, r)
    with pytest.raises(ValueError):
        lsh_params(1.2, 128)


def test_clustering_finds_reposts_and_keeps_the_best(c4):
    rng = random.Random(1)
    base = [t for t in c4 if len(t.split()) > 80][:60]
    docs, truth = [], {}
    for i, t in enumerate(base):
        docs.append(t)
        truth[len(docs) - 1] = i
        if i % 3 == 0:  # header/footer repost and a whitespace/punctuation repost
            docs.append("Reposted from elsewhere.\n" + t + "\nShare this post!")
            truth[len(docs) - 1] = i
            docs.append(t.replace(". ", ".  ").replace(",", " ,"))
            truth[len(docs) - 1] = i
    order = list(range(len(docs)))
    rng.shuffle(order)
    docs = [docs[k] for k in order]
    origin = [truth[k] for k in order]
    mh = MinHasher(128)
    sk = mh.sketch(docs)
    keys = band_keys(sk.signatures, *lsh_params(0.8, 128))
    exact = np.array(sk.exact_keys, dtype="S16")
    rep, edges = C.cluster(exact, sk.n_tokens > 0, sk.signatures, sk.n_shingles > 0, keys, 0.8)
    for i in range(len(docs)):
        for j in range(len(docs)):
            assert (rep[i] == rep[j]) == (origin[i] == origin[j])
    assert edges.exact == 20  # the whitespace/punctuation reposts are exact duplicates after normalisation
    score = np.zeros(len(docs))
    n_chars = np.array([len(d) for d in docs])
    keeper, size, has_prev = C.choose(rep, score, n_chars, np.zeros(len(docs), bool))
    status = C.statuses(rep, keeper, size, has_prev, exact, sk.n_tokens > 0)
    assert (status == C.KEPT).sum() == 20 and (status == C.UNIQUE).sum() == 40
    assert (status == C.EXACT_DUP).sum() + (status == C.NEAR_DUP).sum() == 40
    for k in np.flatnonzero(status == C.KEPT):  # the longest member (the header/footer repost) is kept
        members = np.flatnonzero(rep == rep[k])
        assert n_chars[k] == n_chars[members].max()
