"""Megatron shards: round trip, equality with preprocess_data.py, megatron-core GPTDataset as the consumer,
dtype switch, bad input, loss masks, merge, determinism, blend files."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from unicodedata import normalize

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tokenizer.blend import (
    data_path_args,
    per_split_data_args,
    projection,
    projection_markdown,
    rewrite_blend_files,
    write_blend_files,
)
from tokenizer.load import (
    DOMAIN_SPECIAL_TOKENS,
    encode_batch,
    encode_with_offsets,
    load_tokenizer,
    train_bpe,
    wrap_backend,
)
from tokenizer.shards import (
    ShardWriter,
    dtype_for_vocab,
    loss_mask_for,
    mask_prefix,
    merge_shards,
    read_shard,
    tokenize_arrow_to_shard,
    tokenize_to_shard,
)

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("MUSIC_SHARED_DATA", ROOT.parent / "shared" / "data")).parent
TOKENIZERS = Path(os.environ.get("MUSIC_SHARED_TOKENIZERS", SHARED / "tokenizers"))

ODD = [
    "emoji 😀🎸🥁 and flags 🇬🇧, zero-width\u200bjoiner",
    "rare CJK 𠀀𪚥 龘 and kana ヴ, hangul 힣",
    "control \x00\x07\x1b[0m chars\ttab\r\nend",
    "  leading and trailing spaces  ",
    "a literal <|endoftext|> inside a web page",
]


def stage3_doc(rng: random.Random, events: int) -> tuple[str, list[dict]]:
    """A stage-3 text rendered like corpus.behavior.interleave: profile and state lines take no loss."""
    profile, state, item, feedback = DOMAIN_SPECIAL_TOKENS
    parts, spans, pos = [], [], 0

    def add(s: str, no_loss: bool) -> None:
        nonlocal pos
        if no_loss:
            if spans and spans[-1]["end"] == pos:
                spans[-1]["end"] = pos + len(s)
            else:
                spans.append({"start": pos, "end": pos + len(s)})
        parts.append(s)
        pos += len(s)

    add(f"{profile} Listener: age {rng.randint(16, 70)}, country GB, likes Björk 🎧 and 東京事変.\n", True)
    for k in range(events):
        add(f"{state} Sat 2024-08-10 16:{k:02d} UTC (afternoon); café wifi\n", True)
        add(f"{item} Song {rng.randint(1, 999)} — Artist {rng.choice('ABCDEFG')} ({rng.choice(['lo-fi', 'K-pop 🎤', 'bossa'])})\n", False)
        add(f"{feedback} {rng.choice(['played 3:43', 'skipped', 'liked'])}\n", False)
    return "".join(parts), spans


def real_texts(n: int = 40) -> list[str]:
    """Small real text: WikiText paragraphs and MusicCaps captions from shared/data, if present."""
    out: list[str] = []
    wiki = SHARED / "data" / "wikitext2_raw" / "wiki.valid.raw"
    if wiki.exists():
        paras = [p.strip() for p in wiki.read_text(encoding="utf-8").split("\n \n") if len(p.split()) > 30]
        out += paras[: n // 2]
    caps = SHARED / "data" / "musiccaps" / "musiccaps-public.csv"
    if caps.exists():
        import csv

        with open(caps, newline="", encoding="utf-8") as f:
            out += [r["caption"] for _, r in zip(range(n // 2), csv.DictReader(f), strict=False)]
    if not out:
        out = ["Kind of Blue is a 1959 studio album by Miles Davis, recorded at Columbia's 30th Street Studio."] * 4
    return out


@pytest.fixture(scope="module")
def corpus() -> tuple[list[str], list[list[dict] | None]]:
    rng = random.Random(7)
    texts: list[str] = []
    spans: list[list[dict] | None] = []
    for t in real_texts():
        texts.append(t)
        spans.append(None)
    for k in range(12):
        t, s = stage3_doc(rng, events=1 + k % 4)
        texts.append(t)
        spans.append(s)
    texts += ["", *ODD, ""]
    spans += [None] * (len(ODD) + 2)
    # spans that cut words and emoji pairs (straddling tokens), and a text not in NFC (Qwen3 normalizes it)
    texts += ["Ünïcode 😀😀 straddle-wordsplit test", "Cafe\u0301 del Mar — <|state|> x\u0301y"]
    spans += [[{"start": a, "end": b} for a, b in pairs] for pairs in ([(0, 3), (9, 19)], [(0, 6), (14, 25)])]
    long_doc = " ".join(real_texts()) * 2  # far longer than any sequence length used below
    texts.insert(5, long_doc)
    spans.insert(5, [{"start": 0, "end": 40}])
    return texts, spans


def _load(name: str):
    if not (TOKENIZERS / name).exists():
        pytest.skip(f"{TOKENIZERS / name} not found (set MUSIC_SHARED_TOKENIZERS)")
    return load_tokenizer(TOKENIZERS / name)


@pytest.fixture(scope="module")
def trained(corpus):
    return train_bpe(corpus[0] + real_texts(), vocab_size=600)


@pytest.fixture(scope="module")
def gpt2():
    return _load("gpt2")


@pytest.fixture(scope="module")
def qwen3():
    return _load("qwen3")


@pytest.fixture(params=["trained", "gpt2", "qwen3"])
def tok(request):
    return request.getfixturevalue(request.param)


# ------------------------------------------------------------------------------------------ round trip
def test_round_trip_eod_and_lengths(tok, corpus, tmp_path):
    texts, spans = corpus
    stats = tokenize_to_shard(tok, texts, spans, tmp_path / "s", batch_size=7)
    shard = read_shard(tmp_path / "s")
    assert len(shard) == len(texts) == stats.documents
    ids = encode_batch(tok, texts)
    for text, want, (got, mask) in zip(texts, ids, shard, strict=True):
        if not text:
            assert len(got) == 0 and len(mask) == 0  # empty document: no sequence, no EOD
            continue
        assert got[-1] == tok.eod_id and len(got) == len(want) + 1 and len(mask) == len(got)
        assert got[:-1].tolist() == want
        # byte-level BPE maps every character; Qwen3 normalizes to NFC first (the schema's text is NFC)
        assert tok.tokenizer.decode(got[:-1].tolist()) == (normalize("NFC", text) if tok.normalizer_kind else text)
    assert stats.empty_documents == 2
    assert stats.tokens == sum(len(i) + 1 for i in ids if i) == int(shard.tokens.sequence_lengths.sum())
    assert stats.eod_tokens == len(texts) - 2
    assert stats.eod_in_text == 1  # the page that contains a literal <|endoftext|>


def test_domain_markers_are_single_ids_in_shards(tok, corpus, tmp_path):
    texts, spans = corpus
    tokenize_to_shard(tok, texts, spans, tmp_path / "s")
    marker_ids = set(tok.tokenizer.convert_tokens_to_ids(list(DOMAIN_SPECIAL_TOKENS)))
    for text, (ids, _) in zip(texts, read_shard(tmp_path / "s"), strict=True):
        n = sum(text.count(m) for m in DOMAIN_SPECIAL_TOKENS)
        assert int(np.isin(ids, list(marker_ids)).sum()) == n


# ------------------------------------------------------------------------------------------ preprocess_data.py
def preprocess_data_like(tok_dir: Path, jsonl: Path, out_prefix: str, eos_token: str | None = None) -> None:
    """What Megatron-LM `tools/preprocess_data.py --append-eod --tokenizer-type HuggingFaceTokenizer` writes.

    Reproduced from NVIDIA/Megatron-LM tools/preprocess_data.py at commit 00736f4c796c3b9b4bc0609320064a0afdcd8edc
    (looked up, not copied): the tokenizer is megatron-core's HuggingFaceTokenizer (what `build_tokenizer`
    returns for that type); the builder dtype is `DType.optimal_dtype(tokenizer.vocab_size)`; per JSON line,
    without --split-sentences the text is one sentence, its ids are `tokenizer.tokenize(text)`, a sentence
    with no ids is left out, EOD is appended to the last sentence only when the document has ids, and
    `builder.add_document(ids, sentence_lengths)` is called for every line (empty ones included).
    """
    from megatron.core.datasets.indexed_dataset import DType, IndexedDatasetBuilder
    from megatron.core.tokenizers import MegatronTokenizer

    kwargs = {"eos_token": eos_token} if eos_token else {}
    mtok = MegatronTokenizer.from_pretrained(str(tok_dir), metadata_path={"library": "huggingface"}, **kwargs)
    builder = IndexedDatasetBuilder(out_prefix + ".bin", dtype=DType.optimal_dtype(mtok.vocab_size))
    with open(jsonl, encoding="utf-8") as f:
        for line in f:
            doc_ids: list[int] = []
            lengths: list[int] = []
            for sentence in [json.loads(line)["text"]]:
                ids = mtok.tokenize(sentence)
                if len(ids) > 0:
                    doc_ids += ids
                    lengths.append(len(ids))
            if doc_ids:
                doc_ids.append(mtok.eod)
                lengths[-1] += 1
            builder.add_document(doc_ids, lengths)
    builder.finalize(out_prefix + ".idx")


@pytest.mark.parametrize("name", ["trained", "gpt2", "qwen3"])
def test_bytes_equal_preprocess_data(name, corpus, tmp_path, request):
    tok = request.getfixturevalue(name)
    texts, spans = corpus
    tok_dir = tok.save(tmp_path / "tok")
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    # Qwen3's config sets eos = <|im_end|> (chat); Megatron's EOD is eos, ours <|endoftext|>: pass it explicitly
    eos = tok.eod_token if tok.tokenizer.eos_token != tok.eod_token else None
    preprocess_data_like(tok_dir, jsonl, str(tmp_path / "ref"), eos_token=eos)
    tokenize_to_shard(tok, texts, spans, tmp_path / "ours", batch_size=5)
    for ext in (".bin", ".idx"):
        assert (tmp_path / f"ours{ext}").read_bytes() == (tmp_path / f"ref{ext}").read_bytes(), ext
    assert read_shard(tmp_path / "ref").mask is None


# ------------------------------------------------------------------------------------------ megatron-core consumer
def _megatron_tokenizer(tok, tmp_path):
    from megatron.core.tokenizers import MegatronTokenizer

    # the saved folder's eos_token is the EOD (LoadedTokenizer.save), so no eos override is needed
    mt = MegatronTokenizer.from_pretrained(str(tok.save(tmp_path / "tok")), metadata_path={"library": "huggingface"})
    assert mt.eod == tok.eod_id
    return mt


def _check_samples(blended, n: int, seq: int, shards: dict) -> int:
    """Every sample: `seq` tokens, equal to the window of its documents read back through our reader,
    and the loss-mask sidecar window built from the same indices; returns samples inside one document."""
    from megatron.core.datasets.gpt_dataset import GPTDataset
    from megatron.core.datasets.indexed_dataset import IndexedDataset

    mask_sets = {}
    within_one = 0
    for i in range(n):
        sample = blended[i]
        assert sample["tokens"].shape == (seq,) and sample["labels"].shape == (seq,)
        if isinstance(blended, GPTDataset):  # a split with one prefix is not wrapped in a BlendedDataset
            gpt, s = blended, i
        else:
            gpt, s = blended.datasets[int(blended.dataset_index[i])], int(blended.dataset_sample_index[i])
        k = int(gpt.shuffle_index[s])
        (d0, o0), (d1, o1) = gpt.sample_index[k], gpt.sample_index[k + 1]
        shard = shards[gpt.dataset.path_prefix]
        parts, masks = [], []
        for d in range(int(d0), int(d1) + 1):
            seq_id = int(gpt.document_index[d])
            toks, mask = shard.tokens[seq_id], shard.mask[seq_id]
            a = int(o0) if d == d0 else 0
            b = int(o1) + 1 if d == d1 else len(toks)
            parts.append(toks[a:b])
            masks.append(mask[a:b])
        window = np.concatenate(parts)
        assert len(window) == seq + 1
        assert window[:-1].tolist() == sample["tokens"].tolist()
        assert window[1:].tolist() == sample["labels"].tolist()
        within_one += d0 == d1
        # the sidecar as its own GPTDataset: same sizes, seed and split give the same indices
        key = id(gpt)
        if key not in mask_sets:
            mp = mask_prefix(gpt.dataset.path_prefix)
            mask_sets[key] = GPTDataset(IndexedDataset(mp), mp, gpt.indices, gpt.num_samples,
                                        gpt.index_split, gpt.config)  # fmt: skip
            assert np.array_equal(mask_sets[key].sample_index, gpt.sample_index)
            assert np.array_equal(mask_sets[key].shuffle_index, gpt.shuffle_index)
        mwin, _ = mask_sets[key]._query_document_sample_shuffle_indices(s)
        assert mwin.tolist() == np.concatenate(masks).tolist()
    return within_one


@pytest.mark.parametrize("name", ["trained", "gpt2"])
def test_megatron_core_gpt_dataset_reads_blend(name, corpus, tmp_path, request):
    from megatron.core.datasets.blended_megatron_dataset_builder import BlendedMegatronDatasetBuilder
    from megatron.core.datasets.gpt_dataset import GPTDataset, GPTDatasetConfig
    from megatron.core.datasets.utils import get_blend_from_list

    tok = request.getfixturevalue(name)
    texts, spans = corpus
    half = len(texts) // 2
    a, b = str(tmp_path / "stage1_wiki"), str(tmp_path / "stage3_demo")
    tokenize_to_shard(tok, texts[:half], spans[:half], a)
    tokenize_to_shard(tok, texts[half:], spans[half:], b)
    shards = {a: read_shard(a), b: read_shard(b)}
    seq = 32
    cfg = GPTDatasetConfig(
        random_seed=1234, sequence_length=seq, blend=get_blend_from_list(data_path_args([(a, 0.3), (b, 0.7)])),
        split="90,10,0", tokenizer=_megatron_tokenizer(tok, tmp_path), reset_position_ids=False,
        reset_attention_mask=False, eod_mask_loss=False,
    )  # fmt: skip
    assert cfg.blend == ([a, b], [0.3, 0.7])
    train, valid, test = BlendedMegatronDatasetBuilder(GPTDataset, [64, 8, 0], lambda: True, cfg).build()
    assert test is None and len(train) >= 64 and len(valid) >= 8
    assert {int(x) for x in train.dataset_index} == {0, 1}
    within = _check_samples(train, 64, seq, shards)
    assert within > 0  # the long document alone fills whole samples: GPTDataset samples across it


def test_per_split_blend_file_is_what_megatron_lm_loads(trained, corpus, tmp_path):
    from megatron.core.datasets.blended_megatron_dataset_builder import BlendedMegatronDatasetBuilder
    from megatron.core.datasets.gpt_dataset import GPTDataset, GPTDatasetConfig
    from megatron.core.datasets.utils import get_blend_from_list

    texts, spans = corpus
    prefixes = []
    for k, part in enumerate((slice(0, 20), slice(20, 40), slice(40, None))):
        p = str(tmp_path / f"p{k}")
        st = tokenize_to_shard(trained, texts[part], spans[part], p)
        prefixes.append((p, 1.0 + k, st.tokens))
    empty = str(tmp_path / "empty")
    tokenize_to_shard(trained, ["", ""], None, empty)
    manifest = write_blend_files(tmp_path / "blend", {3: prefixes[:2] + [(empty, 5.0, 0)]},
                                 valid_blends={3: prefixes[2:]})  # fmt: skip
    st3 = manifest["stages"]["3"]
    assert [d["prefix"] for d in st3["dropped"]] == [empty]
    assert sum(p["weight"] for p in st3["prefixes"]) == pytest.approx(1.0)
    assert st3["tokens"] == prefixes[0][2] + prefixes[1][2]
    # Megatron-LM megatron/training/utils.py get_blend_and_blend_per_split, for --per-split-data-args-path
    args = json.loads((tmp_path / "blend" / st3["per_split_data_args_path"]).read_text())
    assert set(args) == {"train", "valid", "test"} and args["test"] is None
    for split in ("train", "valid", "test"):
        if isinstance(args[split], str):
            args[split] = args[split].split()
    blend_per_split = [get_blend_from_list(args[s]) for s in ("train", "valid", "test")]
    assert blend_per_split[0][1] == pytest.approx([1 / 3, 2 / 3])
    # --data-args-path: the file's whitespace-split words
    words = (tmp_path / "blend" / st3["data_args_path"]).read_text().split()
    assert get_blend_from_list(words) == blend_per_split[0]
    cfg = GPTDatasetConfig(
        random_seed=1, sequence_length=16, blend_per_split=blend_per_split, tokenizer=_megatron_tokenizer(trained, tmp_path),
        reset_position_ids=False, reset_attention_mask=False, eod_mask_loss=False,
    )  # fmt: skip
    train, valid, test = BlendedMegatronDatasetBuilder(GPTDataset, [32, 8, None], lambda: True, cfg).build()
    assert test is None
    shards = {p: read_shard(p) for p, _, _ in prefixes}
    _check_samples(train, 32, 16, shards)
    _check_samples(valid, 8, 16, shards)


def test_mixed_blend_weights_each_stage_by_its_tokens(tmp_path):
    manifest = write_blend_files(tmp_path / "blend", {1: [("s1/a", 1.0, 300), ("s1/b", 3.0, 100)], 2: [("s2/a", 1.0, 600)]},
                                 valid_blends={1: [("s1/va", 1.0, 10)], 2: [("s2/va", 1.0, 30)]}, root=tmp_path)  # fmt: skip
    mixed = manifest["mixed"]
    assert mixed["tokens"] == 1000 and mixed["per_split_data_args_path"] == "mixed.per_split.json"
    # stage 1 holds 400 of the 1,000 train tokens: its prefixes keep their in-stage weights (1/4, 3/4) x 0.4
    assert [(e["prefix"], e["weight"]) for e in mixed["prefixes"]] == [("s1/a", pytest.approx(0.1)),
                                                                        ("s1/b", pytest.approx(0.3)),
                                                                        ("s2/a", pytest.approx(0.6))]  # fmt: skip
    assert [e["weight"] for e in mixed["valid"]] == [pytest.approx(0.25), pytest.approx(0.75)] and mixed["test"] == []
    split = json.loads((tmp_path / "blend" / "mixed.per_split.json").read_text())
    assert split["train"][1] == str(tmp_path / "s1/a") and split["valid"][3] == str(tmp_path / "s2/va")
    assert split["test"] is None
    assert (tmp_path / "blend" / "mixed.data_args.txt").read_text().splitlines()[2] == f"0.6 {tmp_path / 's2/a'}"
    assert rewrite_blend_files(tmp_path / "blend", tmp_path / "moved")["mixed"]["prefixes"][2]["prefix"] == "s2/a"
    moved = json.loads((tmp_path / "blend" / "mixed.per_split.json").read_text())
    assert moved["train"][5] == str((tmp_path / "moved" / "s2/a").resolve())


# ------------------------------------------------------------------------------------------ dtype
def test_dtype_rule_is_megatron_optimal_dtype():
    from megatron.core.datasets.indexed_dataset import DType

    for v in (600, 50_257, 50_261, 65_499, 65_500, 65_536, 65_537, 151_669, 151_673):
        assert dtype_for_vocab(v) is DType.optimal_dtype(v)
    assert dtype_for_vocab(50_261) is np.uint16 and dtype_for_vocab(65_499) is np.uint16
    assert dtype_for_vocab(65_500) is np.int32 and dtype_for_vocab(151_673) is np.int32


@pytest.mark.parametrize("name,dtype,eod", [("gpt2", np.uint16, 50_256), ("qwen3", np.int32, 151_643)])
def test_dtype_in_idx_follows_vocabulary(name, dtype, eod, tmp_path, request):
    tok = request.getfixturevalue(name)
    tokenize_to_shard(tok, ["Giant Steps by John Coltrane 🎷"], None, tmp_path / "s")
    shard = read_shard(tmp_path / "s")
    assert shard.tokens.index.dtype is dtype and shard.mask.index.dtype is np.uint8
    assert tok.eod_id == eod and shard[0][0][-1] == eod
    assert (tmp_path / "s.bin").stat().st_size == np.dtype(dtype).itemsize * len(shard[0][0])


# ------------------------------------------------------------------------------------------ bad input
def test_odd_characters_round_trip_byte_level(tok, tmp_path):
    tokenize_to_shard(tok, ODD, None, tmp_path / "s")
    for text, (ids, _) in zip(ODD, read_shard(tmp_path / "s"), strict=True):
        assert tok.tokenizer.decode(ids[:-1].tolist()) == text


def test_unknown_characters_are_counted_for_a_non_byte_level_tokenizer(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    backend = Tokenizer(models.BPE(unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.train_from_iterator(real_texts()[:10] + ["plain ascii words only"],
                                trainers.BpeTrainer(vocab_size=300, special_tokens=["<|endoftext|>", "[UNK]"],
                                                    show_progress=False))  # fmt: skip
    tok = wrap_backend(backend, "wordish", unk_token="[UNK]")
    assert not tok.byte_level and tok.unk_id == backend.token_to_id("[UNK]")
    texts = ["plain words", "emoji 😀 and 龘", ""]
    stats = tokenize_to_shard(tok, texts, None, tmp_path / "s")
    ids = np.concatenate([d for d, _ in read_shard(tmp_path / "s")])
    assert stats.unk_tokens == int(np.count_nonzero(ids == tok.unk_id)) >= 2
    assert stats.empty_documents == 1


def test_spans_outside_the_text_are_refused(trained, tmp_path):
    with pytest.raises(ValueError, match=r"document 1 of this shard: no_loss_spans \[0, 99\)"):
        tokenize_to_shard(trained, ["ok", "short"], [None, [(0, 99)]], tmp_path / "s")
    assert not list(tmp_path.glob("s*"))  # temporaries removed, nothing half-written


# ------------------------------------------------------------------------------------------ masks
def test_loss_mask_rule_on_straddling_tokens():
    offsets = np.array([[0, 3], [3, 6], [6, 9], [9, 12], [12, 12], [13, 15]])
    # span [0, 7): token [6, 9) straddles its end -> takes loss; [12, 12) zero-width inside [10, 14)
    assert loss_mask_for(offsets, [{"start": 0, "end": 7}, {"start": 10, "end": 14}]).tolist() == [0, 0, 1, 1, 0, 1, 1]
    # touching spans form one union: [3, 6) + [6, 9) cover token [3, 9) of a coarser tokenization
    assert loss_mask_for(np.array([[0, 3], [3, 9]]), [(3, 6), (6, 9)], append_eod=False).tolist() == [1, 0]
    assert loss_mask_for(offsets, None).tolist() == [1] * 7
    assert loss_mask_for(np.empty((0, 2)), [(0, 1)]).tolist() == []


def test_masks_follow_no_loss_spans(tok, corpus, tmp_path):
    texts, spans = corpus
    stats = tokenize_to_shard(tok, texts, spans, tmp_path / "s", batch_size=4)
    _, offsets = encode_with_offsets(tok, texts)
    zeros = 0
    for text, sp, off, (ids, mask) in zip(texts, spans, offsets, read_shard(tmp_path / "s"), strict=True):
        if not text:
            continue
        assert mask[-1] == 1  # EOD takes loss
        assert mask.tolist() == loss_mask_for(off, sp).tolist()
        covered = np.zeros(len(text) + 1, dtype=bool)
        for s in sp or ():
            covered[s["start"] : s["end"]] = True
        for (a, b), m in zip(off.tolist(), mask[:-1].tolist(), strict=True):
            assert m == (0 if b > a and covered[a:b].all() else 1) or b == a
        if sp:  # stage-3: markers of profile/state lines are no-loss, item/feedback markers take loss
            for marker, want in zip(DOMAIN_SPECIAL_TOKENS, (0, 0, 1, 1), strict=True):
                mid = tok.tokenizer.convert_tokens_to_ids(marker)
                if mid in ids:
                    assert set(mask[ids == mid].tolist()) == {want}
        zeros += int((mask == 0).sum())
    assert zeros == stats.no_loss_tokens > 0


def test_masks_from_byte_positions_equal_masks_from_tokenizer_offsets(tok, corpus, tmp_path, monkeypatch):
    texts, spans = corpus
    assert tok.token_bytes is not None  # all three are byte-level BPE: the fast path is taken
    tokenize_to_shard(tok, texts, spans, tmp_path / "bytes")
    monkeypatch.setattr(tok, "token_bytes", None)  # force the character-offset path
    tokenize_to_shard(tok, texts, spans, tmp_path / "chars")
    for p in ("", "_lossmask"):
        for ext in (".bin", ".idx"):
            assert (tmp_path / f"bytes{p}{ext}").read_bytes() == (tmp_path / f"chars{p}{ext}").read_bytes()


def test_merge_preserves_tokens_and_masks_in_order(trained, corpus, tmp_path):
    texts, spans = corpus
    parts = [(0, 9), (9, 30), (30, len(texts))]
    for k, (a, b) in enumerate(parts):
        tokenize_to_shard(trained, texts[a:b], spans[a:b], tmp_path / f"p{k}")
    whole = tokenize_to_shard(trained, texts, spans, tmp_path / "whole")
    counts = merge_shards([tmp_path / f"p{k}" for k in range(3)], tmp_path / "merged")
    assert (counts.documents, counts.tokens, counts.no_loss_tokens, counts.empty_documents) == (
        whole.documents, whole.tokens, whole.no_loss_tokens, whole.empty_documents)  # fmt: skip
    for p in ("", "_lossmask"):
        for ext in (".bin", ".idx"):
            assert (tmp_path / f"merged{p}{ext}").read_bytes() == (tmp_path / f"whole{p}{ext}").read_bytes()
    assert not list(tmp_path.glob("*.tmp*"))


def test_merge_refuses_mixed_dtypes(trained, gpt2, qwen3, tmp_path):
    tokenize_to_shard(gpt2, ["a"], None, tmp_path / "u16")
    tokenize_to_shard(qwen3, ["a"], None, tmp_path / "i32")
    with pytest.raises(ValueError, match="dtype"):
        merge_shards([tmp_path / "u16", tmp_path / "i32"], tmp_path / "m")


def test_shards_are_byte_identical_for_any_batch_size(tok, corpus, tmp_path):
    texts, spans = corpus
    for bs in (1, 3, 1024):
        tokenize_to_shard(tok, iter(texts), iter(spans), tmp_path / f"b{bs}", batch_size=bs)
    for p in ("", "_lossmask"):
        for ext in (".bin", ".idx"):
            ref = (tmp_path / f"b1{p}{ext}").read_bytes()
            assert all((tmp_path / f"b{bs}{p}{ext}").read_bytes() == ref for bs in (3, 1024))


def test_parquet_training_documents_give_the_same_shard(trained, corpus, tmp_path):
    from schemas.datasets import TRAINING_DOCUMENTS

    texts, spans = corpus
    table = pa.table({"doc_id": [f"{i:032x}" for i in range(len(texts))], "stage": pa.array([3] * len(texts), pa.int8()),
                      "source": ["demo"] * len(texts), "text": texts, "weight": [1.0] * len(texts),
                      "no_loss_spans": pa.array(spans, type=pa.list_(pa.struct([pa.field("start", pa.int32(), False),
                                                                                 pa.field("end", pa.int32(), False)]))),
                      "metadata": [None] * len(texts)})  # fmt: skip
    table = table.cast(TRAINING_DOCUMENTS.arrow_schema())
    pq.write_table(table, tmp_path / "part-00000.parquet")
    batches = pq.ParquetFile(tmp_path / "part-00000.parquet").iter_batches(batch_size=6)  # sliced list columns
    a = tokenize_arrow_to_shard(trained, batches, tmp_path / "arrow")
    b = tokenize_to_shard(trained, texts, spans, tmp_path / "lists")
    assert a.no_loss_tokens == b.no_loss_tokens and a.tokens == b.tokens
    for p in ("", "_lossmask"):
        for ext in (".bin", ".idx"):
            assert (tmp_path / f"arrow{p}{ext}").read_bytes() == (tmp_path / f"lists{p}{ext}").read_bytes()


def test_writer_add_document_and_atomic_finalize(tmp_path):
    w = ShardWriter(tmp_path / "w", np.uint16, eod_id=0)
    w.add_document([5, 6, 7], loss_mask=[0, 1, 1])
    w.add_document([])
    assert not (tmp_path / "w.idx").exists()  # nothing visible before finalize
    counts = w.finalize()
    assert (counts.documents, counts.tokens, counts.empty_documents, counts.no_loss_tokens) == (2, 4, 1, 1)
    shard = read_shard(tmp_path / "w")
    assert shard[0][0].tolist() == [5, 6, 7, 0] and shard[0][1].tolist() == [0, 1, 1, 1]
    assert len(shard[1][0]) == 0
    with pytest.raises(ValueError, match="mask values"):
        ShardWriter(tmp_path / "x", np.uint16, eod_id=0).add_document([1, 2], loss_mask=[1])


# ------------------------------------------------------------------------------------------ blend helpers
def test_blend_argument_shapes():
    assert data_path_args([("/d/a", 0.25), ("/d/b", 3)]) == ["0.25", "/d/a", "3", "/d/b"]
    assert per_split_data_args([("/d/a", 1.0)], [], None) == {"train": ["1", "/d/a"], "valid": None, "test": None}
    with pytest.raises(ValueError, match="whitespace"):
        data_path_args([("/d/a b", 1.0)])


def test_projection_from_throughput():
    p = projection(1e6, total_tokens=50e9, cores=(16, 1024))
    assert p["core_hours"] == pytest.approx(50e9 / 1e6 / 3600, rel=1e-3)
    assert p["by_cores"][16]["wall_hours"] == pytest.approx(50e9 / 1e6 / 3600 / 16, abs=0.01)
    assert "| 1,024 |" in projection_markdown(p)
