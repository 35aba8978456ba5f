"""Held-out documents in the shards stage: the split rule is a pure function of the base doc id and its prefix's
id set (not of partitioning or row order), mix repeats never straddle splits, and every row is counted."""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest

from jobs.engines import LocalEngine
from jobs.outputs import write_rows
from jobs.stage import run_stage
from jobs.stages.shards import (
    HASH_SPACE,
    ShardsConfig,
    ShardsStage,
    SplitRule,
    base_doc_id,
    prefix_name,
    split_hashes,
    split_rule,
)
from tokenizer.shards import read_shard

WORDS = "jazz blues tempo chord minor major vinyl encore riff solo verse chorus bridge drummer".split()


def _rows(n_base: dict[tuple[int, str], int], seed: int = 0) -> list[dict]:
    """Mix-like rows: base documents with unique texts, some repeated as `<id>~k`, some with no-loss spans."""
    rng = random.Random(seed)
    rows = []
    for (stage, source), n in n_base.items():
        for i in range(n):
            doc_id = f"{stage}{source}{i:05d}".encode().hex()
            text = f"doc {stage}-{source}-{i}: " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))
            spans = [{"start": 0, "end": 4}] if i % 3 == 0 else []
            for k in range(1 + (i % 4 == 0) + (i % 8 == 0)):  # a quarter repeated once or twice
                rows.append({"doc_id": doc_id if k == 0 else f"{doc_id}~{k}", "stage": stage, "source": source, "text": text,
                             "weight": 1.0, "no_loss_spans": spans, "metadata": None})  # fmt: skip
    return rows


def _write_mix(root: Path, rows: list[dict], n_parts: int, seed: int) -> Path:
    rows = rows[:]
    random.Random(seed).shuffle(rows)
    mix = root / "mix"
    for p in range(n_parts):
        write_rows(mix / "training_documents" / f"part-{p:05d}.parquet", rows[p::n_parts], "training_documents")
    return mix


SIZES = {(1, "wiki"): 400, (1, "tiny"): 8, (2, "comments"): 120, (3, "demo"): 60}


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """The same rows cut into 3 parts and into 5 parts, in different orders."""
    rows = _rows(SIZES)
    runs = []
    for n_parts, seed in ((3, 1), (5, 2)):
        root = tmp_path_factory.mktemp(f"parts{n_parts}")
        mix = _write_mix(root, rows, n_parts, seed)
        res = run_stage(ShardsStage(ShardsConfig(train_vocab_size=300), mix), root, LocalEngine())
        runs.append(res)
    return rows, runs


def _split_texts(res, tok) -> dict[str, set[str]]:
    """prefix -> set of decoded document texts."""
    report = json.loads((res.out_dir / "_report.json").read_text())
    out = {}
    for p in report["prefixes"]:
        out[p["prefix"]] = {tok.tokenizer.decode(ids[:-1].tolist()) for ids, _ in read_shard(res.out_dir / p["prefix"])}
    return out


def test_splits_do_not_depend_on_partitioning_and_repeats_stay_together(two_runs):
    from tokenizer.load import load_tokenizer

    rows, runs = two_runs
    texts = [_split_texts(r, load_tokenizer(r.out_dir / "tokenizer", add_domain_tokens=False)) for r in runs]
    assert texts[0] == texts[1]
    where: dict[str, set[str]] = defaultdict(set)
    for prefix, docs in texts[0].items():
        for t in docs:
            where[t].add(prefix)
    assert all(len(v) == 1 for v in where.values())  # a text (a base document and its repeats) has one prefix
    by_text = {r["text"]: r for r in rows}
    for prefix, docs in texts[0].items():
        split = "valid" if "/valid/" in prefix else "test" if "/test/" in prefix else "train"
        for t in docs:
            r = by_text[t]
            assert prefix == prefix_name(r["stage"], r["source"], split)
    # the held-out prefixes exist and the tiny prefix (8 documents) keeps all of its documents in train
    assert {"stage1/valid/wiki", "stage1/test/wiki", "stage2/valid/comments", "stage3/test/demo"} <= set(texts[0])
    assert not any(p.endswith("/tiny") and p != "stage1/tiny" for p in texts[0])


def test_counts_balance_and_report_per_split(two_runs):
    rows, runs = two_runs
    res = runs[0]
    m = res.manifest
    assert m["rows_in"] == m["rows_out"] == len(rows)
    report = json.loads((res.out_dir / "_report.json").read_text())
    assert sum(v["documents"] for v in report["splits"].values()) == len(rows)
    assert sum(v["tokens"] for v in report["splits"].values()) == report["tokens"] == m["tokens"]
    by_source = m["by_source"]
    for source in ("wiki", "tiny", "comments", "demo"):
        n = sum(1 for r in rows if r["source"] == source)
        assert sum(by_source[source]["split_documents"].values()) == by_source[source]["rows_out"] == n
    assert m["datasets"]["valid_documents"] == report["splits"]["valid"]["documents"] > 0
    for p in report["prefixes"]:
        assert len(read_shard(res.out_dir / p["prefix"])) == p["documents"]
    card = (res.out_dir / "_README.md").read_text()
    assert "| valid |" in card and "`stage1/valid/wiki`" in card and "~k" in card


def test_minimums_hold_per_prefix(two_runs):
    from tokenizer.load import load_tokenizer

    rows, runs = two_runs
    texts = _split_texts(runs[0], load_tokenizer(runs[0].out_dir / "tokenizer", add_domain_tokens=False))
    base = Counter({prefix: len(docs) for prefix, docs in texts.items()})  # one text per base document
    cfg = ShardsConfig()
    for (stage, source), n in SIZES.items():
        want = min(cfg.min_valid_documents, int(cfg.max_heldout_share * n / 2))
        assert base[prefix_name(stage, source, "valid")] >= want
        assert base[prefix_name(stage, source, "test")] >= min(cfg.min_test_documents, int(cfg.max_heldout_share * n / 2))
    # 120 comments: the minimum (12 = 0.2 * 120 / 2) binds exactly; 1% would give about 1
    assert base["stage2/valid/comments"] == 12 == base["stage2/test/comments"]


def test_blend_files_hold_train_valid_and_test(two_runs):
    _, runs = two_runs
    blends = runs[0].out_dir / "blends"
    split = json.loads((blends / "stage1.per_split.json").read_text())
    assert [Path(p).name for p in split["train"][1::2]] == ["tiny", "wiki"]
    assert split["valid"][1].endswith("stage1/valid/wiki") and split["test"][1].endswith("stage1/test/wiki")
    assert "valid" not in (blends / "stage1.data_args.txt").read_text()
    manifest = json.loads((blends / "blend_manifest.json").read_text())
    assert [e["prefix"] for e in manifest["stages"]["3"]["valid"]] == ["stage3/valid/demo"]
    mixed = json.loads((blends / "mixed.per_split.json").read_text())
    assert len(mixed["train"]) == 2 * 4 and len(mixed["valid"]) == 2 * 3


def test_split_rule_is_a_function_of_the_id_and_the_prefix():
    cfg = ShardsConfig()
    ids = [f"{i:032x}" for i in range(5000)]
    h = split_hashes(ids)
    assert np.array_equal(split_hashes([f"{d}~3" for d in ids]), h)  # repeats hash like their document
    assert base_doc_id("ab~12") == "ab" and base_doc_id("a~b") == "a~b"
    # large prefix: the fractions alone (the rule needs no count), ~1% each
    big = split_rule(cfg, 5000, np.sort(h)[:20], np.sort(h)[::-1][:20])
    assert big == SplitRule(int(0.01 * HASH_SPACE), HASH_SPACE - int(0.01 * HASH_SPACE), 5000)
    codes = big.split_codes(h)
    assert 30 < (codes == 1).sum() < 70 and 30 < (codes == 2).sum() < 70
    # the same ids in any order get the same codes
    perm = np.random.default_rng(0).permutation(len(h))
    assert np.array_equal(big.split_codes(h[perm]), codes[perm])
    # small prefixes: the minimum, capped at max_heldout_share / 2 each
    for n, want in ((60, 6), (300, 20), (9, 0)):
        hs = h[:n]
        rule = split_rule(cfg, n, np.sort(hs)[:20], np.sort(hs)[::-1][:20])
        c = rule.split_codes(hs)
        assert (c == 1).sum() >= want and (c == 2).sum() >= want
        if want:
            assert (c == 1).sum() == max(want, int((hs < np.uint64(int(0.01 * HASH_SPACE))).sum()))
    # no held-out documents at all
    none = ShardsConfig(valid_fraction=0, test_fraction=0, min_valid_documents=0, min_test_documents=0)
    assert not split_rule(none).split_codes(h).any()


def test_config_refuses_fractions_that_leave_no_training():
    with pytest.raises(ValueError, match="leaves no training documents"):
        ShardsConfig(valid_fraction=0.6, test_fraction=0.4)
