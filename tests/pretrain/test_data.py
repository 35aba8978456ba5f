"""pretrain/data.py over small shards written by tokenizer.shards: samples reproduce the shards' token streams,
the loss mask follows the sidecar of the labels, splits come from their prefixes, the sampler resumes, mixed draws
from every stage, and bad inputs fail with a message that names the file and what to do."""

from __future__ import annotations

import json
import pickle
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from pretrain.data import (
    DataConfig,
    ResumableBatchSampler,
    blend_tokens,
    build_datasets,
    build_loader,
    check_vocab,
    read_blend,
    tokenizer_meta,
)
from tokenizer.blend import write_blend_files
from tokenizer.load import train_bpe
from tokenizer.shards import mask_prefix, read_shard, tokenize_to_shard

SEQ = 32
WORDS = "jazz blues tempo chord minor major vinyl encore riff solo verse chorus bridge drummer Coltrane Davis".split()
LAYOUT = {1: ("wiki", "catalog"), 2: ("comments",), 3: ("demo",)}  # stage -> sources


def _documents(rng: random.Random, n: int) -> tuple[list[str], list[list[tuple[int, int]]]]:
    """Texts like the templates: a label with no loss ("Artist: ") and free text that takes loss."""
    texts, spans = [], []
    for _ in range(n):
        label = rng.choice(["Artist: ", "Album: ", "Genre: "])
        body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 40)))
        texts.append(label + body)
        spans.append([(0, len(label))] if rng.random() < 0.7 else [])
    return texts, spans


def make_shards(root: Path) -> Path:
    """A shards folder as the shards stage writes it: prefixes per (stage, source, split), blends, tokenizer."""
    rng = random.Random(7)
    shards = root / "shards"
    docs = {}
    for stage, sources in LAYOUT.items():
        for source in sources:
            for split, n in (("train", 40), ("valid", 8), ("test", 6)):
                rel = f"stage{stage}/{source}" if split == "train" else f"stage{stage}/{split}/{source}"
                docs[(stage, source, split, rel)] = _documents(rng, n)
    tok = train_bpe([t for texts, _ in docs.values() for t in texts], vocab_size=400)
    tok.save(shards / "tokenizer")
    blends: dict[str, dict[int, list]] = {s: {} for s in ("train", "valid", "test")}
    for (stage, _source, split, rel), (texts, spans) in docs.items():
        st = tokenize_to_shard(tok, texts, spans, shards / rel)
        blends[split].setdefault(stage, []).append((rel, float(st.tokens), st.tokens))
    write_blend_files(shards / "blends", blends["train"], blends["valid"], blends["test"], root=shards)
    return shards


@pytest.fixture(scope="module")
def shards(tmp_path_factory) -> Path:
    return make_shards(tmp_path_factory.mktemp("data"))


def _cfg(shards: Path, **kw) -> DataConfig:
    return DataConfig(shards_dir=str(shards), seq_length=SEQ, num_workers=0, **kw)


def _parts(ds, i: int):
    """(GPTDataset, its sample index) of sample i of a split (blended or a single prefix)."""
    if hasattr(ds, "dataset_index"):
        return ds.datasets[int(ds.dataset_index[i])], int(ds.dataset_sample_index[i])
    return ds, i


def _window(gpt, s: int) -> tuple[np.ndarray, np.ndarray]:
    """Sample s's token window (seq + 1) and its sidecar values, read straight from the shard with read_shard."""
    shard = read_shard(gpt.dataset_path)
    k = int(gpt.shuffle_index[s])
    (d0, o0), (d1, o1) = gpt.sample_index[k], gpt.sample_index[k + 1]
    toks, masks = [], []
    for d in range(int(d0), int(d1) + 1):
        seq_id = int(gpt.document_index[d])
        t, m = shard.tokens[seq_id], shard.mask[seq_id]
        a = int(o0) if d == d0 else 0
        b = int(o1) + 1 if d == d1 else len(t)
        toks.append(t[a:b])
        masks.append(m[a:b])
    return np.concatenate(toks).astype(np.int64), np.concatenate(masks)


def test_samples_reproduce_the_token_stream_and_the_sidecar_of_the_labels(shards):
    train, valid, test = build_datasets(_cfg(shards), train_samples=60, valid_samples=6, test_samples=4)
    eod = tokenizer_meta(shards)["eod_id"]
    zeros = ones = 0
    for ds, n in ((train, 60), (valid, 6), (test, 4)):
        for i in range(n):
            sample = ds[i]
            assert set(sample) >= {"tokens", "labels", "loss_mask", "position_ids"} and "attention_mask" not in sample
            assert sample["tokens"].dtype == torch.int64 and sample["loss_mask"].dtype == torch.float32
            window, mask = _window(*_parts(ds, i))
            assert len(window) == SEQ + 1
            assert sample["tokens"].tolist() == window[:-1].tolist()
            assert sample["labels"].tolist() == window[1:].tolist()
            # loss is 0 exactly where the sidecar gives the label (token i + 1) no loss
            assert sample["loss_mask"].tolist() == mask[1:].astype(np.float32).tolist()
            assert sample["position_ids"].tolist() == list(range(SEQ))
            zeros += int((sample["loss_mask"] == 0).sum())
            ones += int((sample["loss_mask"] == 1).sum())
            assert (sample["labels"][sample["loss_mask"] == 0] != eod).all()  # an EOD label always takes loss
    assert zeros > 50 and ones > 500
    assert {int(x) for x in train.dataset_index} == {0, 1}  # stage 1 blends its two sources
    assert int(train[0]["dataset_id"]) == int(train.dataset_index[0])  # which prefix of the blend
    single, _, _ = build_datasets(_cfg(shards, stage=2), train_samples=4, valid_samples=0, test_samples=0)
    assert "dataset_id" not in single[0]  # one prefix: megatron's GPTDataset itself, no blend around it


def test_valid_and_test_come_from_their_prefixes(shards):
    blends = read_blend(_cfg(shards))
    assert [Path(p).relative_to(shards).as_posix() for p in blends[1][0]] == ["stage1/valid/wiki", "stage1/valid/catalog"]
    _, valid, test = build_datasets(_cfg(shards), train_samples=8, valid_samples=None, test_samples=3)
    assert {Path(d.dataset_path).relative_to(shards).as_posix() for d in valid.datasets} == {"stage1/valid/wiki",
                                                                                             "stage1/valid/catalog"}
    assert {Path(d.dataset_path).relative_to(shards).as_posix() for d in test.datasets} == {"stage1/test/wiki",
                                                                                            "stage1/test/catalog"}
    # valid_samples=None: one unweighted epoch of each valid prefix (a full validation pass)
    assert len(valid) == sum(len(d) for d in valid.datasets)
    _, none, _ = build_datasets(_cfg(shards, stage=3), train_samples=8, valid_samples=0, test_samples=0)
    assert none is None


def test_eod_mask_loss_resets_and_attention_mask_follow_megatron(shards):
    from megatron.core.datasets.gpt_dataset import _get_ltor_masks_and_position_ids

    eod = tokenizer_meta(shards)["eod_id"]
    cfg = _cfg(shards, stage=2, eod_mask_loss=True, reset_position_ids=True, reset_attention_mask=True,
               create_attention_mask=True)  # fmt: skip
    train, _, _ = build_datasets(cfg, train_samples=20, valid_samples=0, test_samples=0)
    seen_eod = 0
    for i in range(20):
        sample = train[i]
        window, mask = _window(*_parts(train, i))
        want_attn, want_loss, want_pos = _get_ltor_masks_and_position_ids(torch.from_numpy(window[:-1]), eod, True, True,
                                                                          True, True)  # fmt: skip
        assert torch.equal(sample["attention_mask"], want_attn) and sample["attention_mask"].shape == (1, SEQ, SEQ)
        assert torch.equal(sample["position_ids"], want_pos)
        assert sample["loss_mask"].tolist() == (want_loss * torch.from_numpy(mask[1:].astype(np.float32))).tolist()
        seen_eod += int((sample["tokens"] == eod).sum())
        assert (sample["loss_mask"][sample["tokens"] == eod] == 0).all()
    assert seen_eod > 5


def test_mixed_draws_from_every_stage_by_tokens(shards):
    cfg = _cfg(shards, stage="mixed")
    train, valid, _ = build_datasets(cfg, train_samples=200, valid_samples=10, test_samples=0)
    stages = [Path(d.dataset_path).relative_to(shards).parts[0] for d in train.datasets]
    assert stages == ["stage1", "stage1", "stage2", "stage3"]
    counts = np.bincount(np.asarray(train.dataset_index), minlength=4)
    manifest = json.loads((shards / "blends" / "blend_manifest.json").read_text())["mixed"]
    tokens = np.array([e["tokens"] for e in manifest["prefixes"]], dtype=float)
    assert np.allclose(counts / counts.sum(), tokens / tokens.sum(), atol=0.02)  # each stage by its tokens
    assert blend_tokens(cfg) == int(tokens.sum()) and blend_tokens(cfg, "valid") == sum(e["tokens"] for e in manifest["valid"])
    assert len({Path(d.dataset_path).parts[-3] for d in valid.datasets}) == 3


def test_sampler_resumes_and_data_parallel_ranks_are_disjoint():
    fresh = [b for b in ResumableBatchSampler(50, 2, dp_size=3, dp_rank=1)]
    assert fresh[0] == [2, 3] and fresh[1] == [8, 9] and len(fresh) == len(ResumableBatchSampler(50, 2, dp_size=3, dp_rank=1))
    for k in (6, 12, 42):  # resuming after k samples (whole global batches) = skipping them
        resumed = list(ResumableBatchSampler(50, 2, consumed_samples=k, dp_size=3, dp_rank=1))
        assert resumed == fresh[k // 6 :]
    for drop_last in (True, False):
        ranks = [list(ResumableBatchSampler(50, 2, consumed_samples=6, dp_size=3, dp_rank=r, drop_last=drop_last))
                 for r in range(3)]  # fmt: skip
        for step in range(len(ranks[0])):  # each global batch: the ranks' micro-batches, disjoint, in order
            got = [i for r in range(3) if step < len(ranks[r]) for i in ranks[r][step]]
            assert got == list(range(6 + 6 * step, min(6 + 6 * (step + 1), 50)))
        flat = sorted(i for r in ranks for b in r for i in b)
        assert flat == list(range(6, 48 if drop_last else 50))
        assert [len(list(s)) == len(s) for s in (ResumableBatchSampler(50, 2, dp_size=3, dp_rank=r, drop_last=drop_last)
                                                  for r in range(3))] == [True] * 3  # fmt: skip
    with pytest.raises(ValueError, match="consumed_samples=50"):
        ResumableBatchSampler(50, 2, consumed_samples=50)


def test_loader_resumes_where_it_stopped(shards):
    train, _, _ = build_datasets(_cfg(shards, stage=3), train_samples=24, valid_samples=0, test_samples=0)
    full = [b["tokens"] for b in build_loader(train, 2, dp_rank=0, dp_size=2)]
    resumed = [b["tokens"] for b in build_loader(train, 2, consumed_samples=8, dp_rank=0, dp_size=2)]
    assert len(train) >= 24 and len(full) == len(train) // 4 and len(resumed) == len(full) - 2
    assert all(torch.equal(a, b) for a, b in zip(full[2:], resumed, strict=True))
    other = [b["tokens"] for b in build_loader(train, 2, dp_rank=1, dp_size=2)]
    assert torch.equal(other[0], torch.stack([train[2]["tokens"], train[3]["tokens"]]))
    batch = next(iter(build_loader(train, 2, num_workers=1, seed=3)))  # a worker process gets the dataset too
    assert batch["tokens"].shape == (2, SEQ) and torch.equal(batch["loss_mask"][1], train[1]["loss_mask"])
    again = pickle.loads(pickle.dumps(train))
    assert torch.equal(again[5]["loss_mask"], train[5]["loss_mask"])


def test_index_cache_is_reused_and_keyed_by_the_shards(shards, tmp_path):
    cfg = _cfg(shards, stage=1, cache_dir=str(tmp_path / "cache"))
    a, _, _ = build_datasets(cfg, train_samples=30, valid_samples=0, test_samples=0)
    files = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert any("LocalBlendedDataset" in f for f in files) and any("MaskedGPTDataset" in f for f in files)
    b, _, _ = build_datasets(cfg, train_samples=30, valid_samples=0, test_samples=0)
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == files
    assert all(torch.equal(a[i]["tokens"], b[i]["tokens"]) for i in range(30))
    assert _cfg(shards).cache_path == shards.parent / "_cache" / "datasets"


def test_building_under_torch_distributed(shards, tmp_path):
    """With a process group, megatron's own rank-0-builds-then-barrier path runs (world size 1 here)."""
    store = torch.distributed.HashStore()
    torch.distributed.init_process_group("gloo", store=store, rank=0, world_size=1)
    try:
        train, _, _ = build_datasets(_cfg(shards, cache_dir=str(tmp_path)), train_samples=16, valid_samples=0,
                                     test_samples=0)  # fmt: skip
        window, _ = _window(*_parts(train, 3))
        assert train[3]["tokens"].tolist() == window[:-1].tolist()
    finally:
        torch.distributed.destroy_process_group()


# ------------------------------------------------------------------------------------------ bad input
def _copy(shards: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "shards"
    shutil.copytree(shards, dst)
    from tokenizer.blend import rewrite_blend_files

    rewrite_blend_files(dst / "blends", dst)
    return dst


def test_missing_blend_file_or_prefix_says_what_to_run(shards, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"stage1.per_split.json not found: run `make corpus`"):
        build_datasets(_cfg(tmp_path / "nothing"), train_samples=4, valid_samples=0, test_samples=0)
    gone = _copy(shards, tmp_path)
    (gone / "stage2" / "comments.bin").unlink()
    with pytest.raises(FileNotFoundError, match=r"train prefix .*stage2/comments has no \.bin; .*music-corpus blends"):
        build_datasets(_cfg(gone, stage=2), train_samples=4, valid_samples=0, test_samples=0)
    (gone / "blends" / "mixed.per_split.json").unlink()
    with pytest.raises(FileNotFoundError, match="music-corpus blends"):
        build_datasets(_cfg(gone, stage="mixed"), train_samples=4, valid_samples=0, test_samples=0)
    with pytest.raises(FileNotFoundError, match="tokenizer_meta.json not found"):
        tokenizer_meta(tmp_path / "nothing")


def test_split_without_prefixes_is_refused_when_asked_for(shards, tmp_path):
    dst = _copy(shards, tmp_path)
    split = json.loads((dst / "blends" / "stage3.per_split.json").read_text())
    split["valid"] = None
    (dst / "blends" / "stage3.per_split.json").write_text(json.dumps(split))
    with pytest.raises(ValueError, match="the valid split has no prefixes, but valid_samples=4"):
        build_datasets(_cfg(dst, stage=3), train_samples=4, valid_samples=4, test_samples=0)
    _, valid, _ = build_datasets(_cfg(dst, stage=3), train_samples=4, valid_samples=0, test_samples=2)
    assert valid is None


def test_vocabulary_checks(shards, tmp_path):
    meta = tokenizer_meta(shards)
    cfg = _cfg(shards, stage="mixed")
    largest = check_vocab(cfg, meta["vocab_size"])
    assert largest < meta["vocab_size"] and largest > 100
    n = meta["vocab_size"]
    with pytest.raises(ValueError, match=rf"tokenizer_meta.json: the shards' tokenizer has {n} ids but the model's embedding has {n - 1}"):
        check_vocab(cfg, n - 1)
    # the meta agrees with the model, but a shard holds larger ids (written with another tokenizer)
    dst = _copy(shards, tmp_path)
    (dst / "tokenizer" / "tokenizer_meta.json").write_text(json.dumps({**meta, "vocab_size": 50}))
    with pytest.raises(ValueError, match=r"stage1/wiki\.bin: token id \d+ at position [\d,]+ is outside the model's vocabulary of 60"):
        check_vocab(_cfg(dst, stage=1), 60)
    assert check_vocab(_cfg(dst, stage=1), 60, scan=False) == 49


def test_sidecar_that_does_not_match_its_shard_is_refused(shards, tmp_path):
    dst = _copy(shards, tmp_path)
    tok_dir = dst / "tokenizer"
    from tokenizer.load import load_tokenizer

    tok = load_tokenizer(tok_dir, add_domain_tokens=False)
    tokenize_to_shard(tok, ["Artist: short", "two words"], [[(0, 8)], []], tmp_path / "other")
    for ext in (".bin", ".idx"):
        shutil.copy(mask_prefix(tmp_path / "other") + ext, mask_prefix(dst / "stage3" / "demo") + ext)
    with pytest.raises(ValueError, match=r"stage3/demo: tokens and _lossmask differ in length"):
        build_datasets(_cfg(dst, stage=3), train_samples=4, valid_samples=0, test_samples=0)
    for ext in (".bin", ".idx"):
        Path(mask_prefix(dst / "stage3" / "demo") + ext).unlink()
    with pytest.raises(FileNotFoundError, match=r"stage3/demo_lossmask.bin/.idx not found: .*use_loss_mask: false"):
        build_datasets(_cfg(dst, stage=3), train_samples=4, valid_samples=0, test_samples=0)
    train, _, _ = build_datasets(_cfg(dst, stage=3, use_loss_mask=False), train_samples=4, valid_samples=0, test_samples=0)
    assert train[0]["loss_mask"].tolist() == [1.0] * SEQ  # every token trains (no padding in a full sample)


def test_config_is_checked():
    with pytest.raises(ValueError, match="stage must be 1, 2, 3 or 'mixed'"):
        DataConfig(shards_dir="out/shards", stage=4)
    with pytest.raises(ValueError, match="reset_attention_mask needs data.create_attention_mask"):
        DataConfig(shards_dir="out/shards", reset_attention_mask=True)
    with pytest.raises(ValueError, match="seq_length"):
        DataConfig(shards_dir="out/shards", seq_length=0)
    assert DataConfig(shards_dir="out/shards", stage="2").stage == 2
    assert DataConfig(shards_dir="out/shards").seq_length == 7168
    from pydantic import TypeAdapter, ValidationError

    with pytest.raises(ValidationError, match="seq_len"):
        TypeAdapter(DataConfig).validate_python({"shards_dir": "x", "seq_len": 5})
