"""Documents: labels, languages, lengths, variety, and duplicate clusters that really are near-duplicates."""

from __future__ import annotations

import random
import statistics
from collections import Counter, defaultdict

from corpus.sample import documents as D
from corpus.sample.catalog import build_catalog
from corpus.sample.config import SampleConfig
from corpus.sample.similarity import jaccard, shingles
from corpus.sample.templates import Slot


def test_labels_match_kinds_and_mix(tiny, tables: dict[str, list[dict]]) -> None:
    docs = {d["source_id"]: d for d in tables["documents"]}
    labels = tables["labels"]
    assert [r["source_id"] for r in labels] == [d["source_id"] for d in tables["documents"]]
    for r in labels:
        d = docs[r["source_id"]]
        assert r["kind"] == d["kind"] and r["lang"] == d["lang"]
        assert r["label"] == ("music" if r["kind"] in D.MUSIC_KIND_WEIGHTS else "other")
    n = len(labels)
    music = sum(r["label"] == "music" for r in labels) / n
    zh = sum(r["lang"] == "zh" for r in labels) / n
    assert abs(music - tiny.config.music_fraction) < 0.07
    assert abs(zh - tiny.config.zh_fraction) < 0.05
    kinds = Counter(r["kind"] for r in labels)
    assert set(kinds) == set(D.MUSIC_KIND_WEIGHTS) | set(D.OTHER_KIND_WEIGHTS)
    for lang in ("en", "zh"):  # Chinese appears in both classes
        assert {r["label"] for r in labels if r["lang"] == lang} == {"music", "other"}


def test_lengths_are_realistic(tables: dict[str, list[dict]]) -> None:
    sizes = [len(d["text"].encode()) for d in tables["documents"]]
    assert 1_500 <= statistics.mean(sizes) <= 2_600
    assert min(sizes) >= 150
    assert max(sizes) <= 8_800
    multi = sum(d["text"].count("\n\n") >= 2 for d in tables["documents"]) / len(sizes)
    assert multi > 0.8
    for d in tables["documents"]:
        assert d["title"] and d["url"].startswith("https://") and d["created_at"].endswith("Z")


def test_unrelated_documents_have_low_jaccard(tables: dict[str, list[dict]]) -> None:
    cluster = {r["source_id"]: r["cluster_id"] for r in tables["duplicates"]}
    docs = tables["documents"]
    sh = [shingles(d["text"]) for d in docs]
    rng = random.Random(0)
    values = []
    for _ in range(3000):
        i, j = rng.randrange(len(docs)), rng.randrange(len(docs))
        ci, cj = cluster.get(docs[i]["source_id"]), cluster.get(docs[j]["source_id"])
        if i == j or (ci is not None and ci == cj):
            continue
        values.append(jaccard(sh[i], sh[j]))
    values.sort()
    assert statistics.mean(values) < 0.02
    assert values[int(0.99 * len(values))] < 0.1
    assert values[-1] < 0.2
    # also within one kind, where frames are shared
    by_kind = defaultdict(list)
    for k, d in enumerate(docs):
        if d["source_id"] not in cluster:
            by_kind[(d["kind"], d["lang"])].append(k)
    same = [jaccard(sh[a], sh[b]) for ks in by_kind.values() for a, b in zip(ks, ks[1:], strict=False)]
    assert statistics.mean(same) < 0.05 and max(same) < 0.25


def test_duplicate_clusters(tiny, tables: dict[str, list[dict]]) -> None:
    docs = {d["source_id"]: d for d in tables["documents"]}
    dups = tables["duplicates"]
    clusters = defaultdict(list)
    for r in dups:
        clusters[r["cluster_id"]].append(r)
    for members in clusters.values():
        assert 2 <= len(members) <= 5
        originals = [m for m in members if m["edit"] == "original"]
        assert len(originals) == 1
        o = docs[originals[0]["source_id"]]
        for m in members:
            d = docs[m["source_id"]]
            assert m["original_source_id"] == o["source_id"]
            assert d["kind"] == o["kind"] and d["lang"] == o["lang"]
            assert abs(jaccard(o["text"], d["text"]) - m["jaccard"]) < 1e-3
            if m["edit"] != "original":
                assert d["created_at"] > o["created_at"] and d["url"] != o["url"]
            if m["edit"] == "exact":
                assert d["text"] == o["text"]
            elif m["edit"] != "original":
                assert d["text"] != o["text"] or m["edit"] == "reorder"
    reposts = [r for r in dups if r["edit"] != "original"]
    assert abs(len(reposts) / len(docs) - tiny.config.duplicate_fraction) < 0.02
    assert {r["edit"] for r in reposts} == set(D.EDIT_KINDS)


def test_near_duplicate_similarity_by_edit(tables: dict[str, list[dict]]) -> None:
    by_edit = defaultdict(list)
    for r in tables["duplicates"]:
        by_edit[r["edit"]].append(r["jaccard"])
    assert min(by_edit["exact"]) == 1.0
    assert min(by_edit["header_footer"]) >= 0.75
    assert min(by_edit["whitespace_punct"]) >= 0.95  # punctuation is not part of the tokens
    assert statistics.median(by_edit["substitute"]) >= 0.7
    assert statistics.median(by_edit["reorder"]) >= 0.8
    assert 0.2 <= statistics.median(by_edit["truncate"]) < 1.0
    near = [j for e, js in by_edit.items() if e not in ("original", "truncate") for j in js]
    assert sum(j >= 0.8 for j in near) / len(near) > 0.85


def test_every_frame_renders_with_its_context() -> None:
    """All slots used by every frame of every kind have a value (no KeyError, no stray braces)."""
    cfg = SampleConfig.preset("tiny")
    cat = build_catalog(cfg)
    rng = random.Random(0)
    for (kind, lang), spec in D.kind_specs().items():
        zh = lang == "zh"
        ctx = D.music_context(rng, cat, zh, kind) if spec.music else D.other_context(rng, zh, kind)
        frames = (
            spec.titles
            + spec.intro
            + spec.outro
            + spec.common
            + tuple(f for _, _, fr in spec.sections for f in fr)
        )
        for f in frames:
            for _ in range(3):
                s = D.render(f, ctx, D.glob_slots(lang), rng)
                assert "{" not in s and "}" not in s and "[" not in s, (kind, lang, s)
        assert all(isinstance(p, str | tuple | Slot) for f in frames for p in f)


def test_documents_mention_the_catalog(tables: dict[str, list[dict]]) -> None:
    names = {a["name"] for a in tables["artists"]}
    music = [d for d in tables["documents"] if d["kind"] in D.MUSIC_KIND_WEIGHTS]
    hits = sum(any(n in d["text"] for n in names) for d in music)
    assert hits / len(music) > 0.95
