"""Megatron `.bin/.idx` shards with an aligned loss-mask sidecar, written with megatron-core's builder.

One shard = `<prefix>.bin/.idx` (token ids, EOD appended per document, exactly what Megatron-LM's
`tools/preprocess_data.py --append-eod` writes) plus `<prefix>_lossmask.bin/.idx`: a uint8 indexed
dataset with the same sequence lengths and document boundaries, 1 where the token takes loss.
Megatron's format has no mask channel; the sidecar is read in step with the tokens (`read_shard`).

Decisions (tested in tests/tokenizer/test_shards.py):
- dtype: megatron-core `DType.optimal_dtype(vocab_size)`, the rule preprocess_data.py uses: uint16
  iff vocab_size < 65,500, else int32, with vocab_size = len(tokenizer) after added tokens. (GPTDatasetConfig
  guesses uint16 up to 65,536 for its fast-cache path; the .idx records the dtype, so readers agree.)
- Empty documents (zero tokens): as preprocess_data.py does, no EOD is appended and
  `add_document([], [])` records a document with no sequence, so document i of the shard stays row i
  of the input; GPTDataset (which samples over sequences) never sees it. Counted in `empty_documents`.
- Mask: a token takes no loss iff its character range lies wholly inside the union of the no-loss
  spans; a token that straddles a span edge keeps the loss (it carries trainable characters). A
  zero-width token is no-loss iff its position is strictly inside a span. The appended EOD takes loss.
  mask[t] is the mask of token t as a *target*: at training, loss_mask[i] of a sample (whose label i is
  token i + 1) is mask[i + 1].
- A literal `<|endoftext|>` (or any special token) in a text becomes that special id, as with
  preprocess_data.py; EOD ids produced by text are counted in `eod_in_text`.
"""

from __future__ import annotations

import gc
import os
import time
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

from tokenizer.load import LoadedTokenizer, encode_batch

MASK_SUFFIX = "_lossmask"
MASK_DTYPE = np.uint8
_TMP = ".tmp"


def dtype_for_vocab(vocab_size: int) -> type[np.number]:
    """Token dtype for a vocabulary: megatron-core's `DType.optimal_dtype` (uint16 iff < 65,500, else int32)."""
    from megatron.core.datasets.indexed_dataset import DType

    return DType.optimal_dtype(int(vocab_size))


def mask_prefix(prefix: str | Path) -> str:
    return f"{prefix}{MASK_SUFFIX}"


# Reference-model token losses (`pretrain.score`), aligned with the tokens like the loss mask: value t is the
# reference loss of token t as a target. megatron's indexed format has no float16, so losses are stored as
# fixed-point uint16 milli-nats (resolution 0.001 nat, up to 65.534 nats: cross entropies beyond that are
# clipped) -- half the bytes of float32, and a precision far finer than any weighting criterion needs.
REFLOSS_SUFFIX = "_refloss"
REFLOSS_DTYPE = np.uint16
REFLOSS_SCALE = 1000.0
REFLOSS_MAX = 65534


def refloss_prefix(prefix: str | Path) -> str:
    return f"{prefix}{REFLOSS_SUFFIX}"


def encode_refloss(loss: np.ndarray) -> np.ndarray:
    """Per-token losses in nats -> the sidecar's uint16 milli-nats (rounded, clipped to [0, 65.534])."""
    return np.clip(np.rint(np.asarray(loss, np.float64) * REFLOSS_SCALE), 0, REFLOSS_MAX).astype(REFLOSS_DTYPE)


def decode_refloss(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, np.float32) / np.float32(REFLOSS_SCALE)


# ------------------------------------------------------------------------------------------ masks
def _spans_array(spans: Any) -> np.ndarray:
    """(n, 2) int64 [start, end) from dicts {"start", "end"}, pairs, or an array; None -> empty."""
    if spans is None or len(spans) == 0:
        return np.empty((0, 2), dtype=np.int64)
    if isinstance(spans, np.ndarray):
        return spans.astype(np.int64).reshape(-1, 2)
    first = spans[0]
    if isinstance(first, dict):
        return np.array([(s["start"], s["end"]) for s in spans], dtype=np.int64)
    return np.array(spans, dtype=np.int64).reshape(-1, 2)


def _no_loss(tok_start: np.ndarray, tok_end: np.ndarray, sp_start: np.ndarray, sp_end: np.ndarray) -> np.ndarray:
    """True where [tok_start, tok_end) lies inside the union of the spans (see module docstring)."""
    keep = sp_end > sp_start
    s, e = sp_start[keep], sp_end[keep]
    if len(s) == 0:
        return np.zeros(len(tok_start), dtype=bool)
    order = np.argsort(s, kind="stable")
    s, e = s[order], e[order]
    reach = np.maximum.accumulate(e)
    # a new union piece starts where a span begins after everything before it ended (touching spans merge)
    new = np.ones(len(s), dtype=bool)
    new[1:] = s[1:] > reach[:-1]
    g_start = s[new]
    g_end = reach[np.r_[np.flatnonzero(new)[1:] - 1, len(s) - 1]]
    j = np.searchsorted(g_start, tok_start, side="right") - 1
    jj = np.maximum(j, 0)
    return (j >= 0) & (tok_start < g_end[jj]) & (tok_end <= g_end[jj])


def loss_mask_for(offsets: np.ndarray, no_loss_spans: Any, append_eod: bool = True) -> np.ndarray:
    """uint8 mask of one document's tokens (+ 1 for the appended EOD): 0 inside no-loss spans, else 1."""
    off = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)
    sp = _spans_array(no_loss_spans)
    mask = (~_no_loss(off[:, 0], off[:, 1], sp[:, 0], sp[:, 1])).astype(MASK_DTYPE)
    return np.append(mask, MASK_DTYPE(1)) if append_eod and len(off) else mask


# ------------------------------------------------------------------------------------------ writing
@dataclass
class ShardCounts:
    documents: int = 0  # input documents, empty ones included (= documents in the .idx)
    empty_documents: int = 0  # zero tokens: no sequence and no EOD written
    tokens: int = 0  # tokens written, EODs included
    no_loss_tokens: int = 0


def _rename(tmp: str, final: str) -> None:
    os.replace(f"{tmp}.bin", f"{final}.bin")
    os.replace(f"{tmp}.idx", f"{final}.idx")


class ShardWriter:
    """Writes one `<prefix>.bin/.idx` (+ `<prefix>_lossmask.bin/.idx`) through megatron-core's builder.

    Files are written under `<prefix>.tmp*` names and renamed by `finalize()` (the token `.idx` last),
    so a prefix that exists is complete. Use as a context manager to remove the temporaries on error.
    """

    def __init__(self, prefix: str | Path, dtype: type[np.number], eod_id: int, with_loss_mask: bool = True):
        from megatron.core.datasets.indexed_dataset import IndexedDatasetBuilder

        self.prefix = str(prefix)
        self.dtype = np.dtype(dtype).type
        self.eod_id = int(eod_id)
        self.with_loss_mask = with_loss_mask
        if self.eod_id > np.iinfo(dtype).max:
            raise ValueError(f"{self.prefix}: EOD id {self.eod_id} does not fit {np.dtype(dtype).name}")
        Path(self.prefix).parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.prefix + _TMP
        self._tokens = IndexedDatasetBuilder(f"{self._tmp}.bin", dtype=dtype)
        self._mask = IndexedDatasetBuilder(f"{mask_prefix(self._tmp)}.bin", dtype=MASK_DTYPE) if with_loss_mask else None
        self.counts = ShardCounts()
        self._done = False

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()
        elif not self._done:
            self.finalize()

    def add_document(self, token_ids: Sequence[int] | np.ndarray, loss_mask: Sequence[int] | np.ndarray | None = None) -> None:
        """Append one document: its ids (no EOD) then EOD; `loss_mask` (one per id) defaults to all 1."""
        ids = np.asarray(token_ids, dtype=np.int64)
        if len(ids) == 0:
            self._write(ids, ids.astype(MASK_DTYPE))
            return
        mask = np.ones(len(ids) + 1, dtype=MASK_DTYPE)
        if loss_mask is not None:
            if len(loss_mask) != len(ids):
                raise ValueError(f"{self.prefix}: document {self.counts.documents} has {len(ids)} ids but "
                                 f"{len(loss_mask)} mask values")  # fmt: skip
            mask[:-1] = np.asarray(loss_mask, dtype=MASK_DTYPE)
        self._write(np.append(ids, self.eod_id), mask)

    def _write(self, ids_with_eod: np.ndarray, mask: np.ndarray) -> None:
        """One document, EOD already appended (or nothing, for an empty document)."""
        n = len(ids_with_eod)
        lengths = [n] if n else []  # preprocess_data.py: an empty document has no sequence
        self._tokens.add_document(ids_with_eod, lengths)
        if self._mask is not None:
            self._mask.add_document(mask, lengths)
            self.counts.no_loss_tokens += n - int(mask.sum())
        self.counts.documents += 1
        self.counts.tokens += n
        self.counts.empty_documents += n == 0

    def _write_batch(self, out: np.ndarray, mask: np.ndarray, doc_len: np.ndarray) -> None:
        """Documents laid end to end in `out`/`mask` (EODs included); doc_len[i] = 0 for an empty one.

        The same bytes and index entries as one `add_document` per document (tests compare them with
        preprocess_data.py's output), written with one call per batch: the builder's own fields, as
        datatrove's MegatronTokenizedFile keeps them.
        """
        seqs = doc_len[doc_len > 0].tolist()
        builders = [(self._tokens, out.astype(self.dtype, copy=False))]
        if self._mask is not None:
            builders.append((self._mask, mask))
        for b, data in builders:
            b.data_file.write(data.tobytes(order="C"))
            n0 = len(b.sequence_lengths)
            b.sequence_lengths.extend(seqs)
            b.document_indices.extend((n0 + np.cumsum(doc_len > 0)).tolist())  # one entry per document
        n = len(doc_len)
        self.counts.documents += n
        self.counts.tokens += len(out)
        self.counts.empty_documents += int(n - len(seqs))
        if self._mask is not None:
            self.counts.no_loss_tokens += int(len(mask) - mask.sum(dtype=np.int64))

    def finalize(self) -> ShardCounts:
        self._tokens.finalize(f"{self._tmp}.idx")
        if self._mask is not None:
            self._mask.finalize(f"{mask_prefix(self._tmp)}.idx")
            _rename(mask_prefix(self._tmp), mask_prefix(self.prefix))
        _rename(self._tmp, self.prefix)
        self._done = True
        return self.counts

    def abort(self) -> None:
        for b in (self._tokens, self._mask):
            if b is not None:
                b.data_file.close()
        for p in (self._tmp, mask_prefix(self._tmp)):
            for ext in (".bin", ".idx"):
                Path(p + ext).unlink(missing_ok=True)
        self._done = True


@contextmanager
def _cheap_gc() -> Iterator[None]:
    """`IndexedDatasetBuilder.add_index` runs a full `gc.collect()` per input, which walks every object the
    process holds (torch, transformers: ~0.2 s each, hours for a merge of thousands of partials). Freezing the
    objects that exist before the merge leaves each collection only the merge's own garbage to look at."""
    if gc.get_freeze_count():  # someone else manages frozen objects: leave them alone
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def merge_shards(prefixes: Sequence[str | Path], out_prefix: str | Path) -> ShardCounts:
    """Concatenate shards in order with `IndexedDatasetBuilder.add_index` (data streamed, index in memory).

    The mask sidecars are merged the same way when every input has one; all inputs must share a dtype.
    """
    from megatron.core.datasets.indexed_dataset import IndexedDataset, IndexedDatasetBuilder

    if not prefixes:
        raise ValueError(f"{out_prefix}: nothing to merge")
    prefixes = [str(p) for p in prefixes]
    first = IndexedDataset(prefixes[0])
    dtype = first.index.dtype
    with_mask = all(IndexedDataset.exists(mask_prefix(p)) for p in prefixes)
    counts = ShardCounts()
    for p in prefixes:
        ds = IndexedDataset(p)
        if ds.index.dtype != dtype:
            raise ValueError(f"{p}: token dtype {np.dtype(ds.index.dtype).name} differs from "
                             f"{prefixes[0]} ({np.dtype(dtype).name}); shards of one tokenizer only")  # fmt: skip
        counts.documents += len(ds.document_indices) - 1
        counts.empty_documents += int(np.sum(np.diff(ds.document_indices) == 0))
        counts.tokens += int(ds.sequence_lengths.sum())
        if with_mask and os.path.getsize(f"{mask_prefix(p)}.bin"):
            bits = np.memmap(f"{mask_prefix(p)}.bin", dtype=MASK_DTYPE, mode="r")
            counts.no_loss_tokens += int(len(bits) - bits.sum(dtype=np.int64))
            del bits
        del ds
    out = str(out_prefix)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    tmp = out + _TMP
    jobs = [(tmp, out, prefixes, dtype)]
    if with_mask:
        jobs.insert(0, (mask_prefix(tmp), mask_prefix(out), [mask_prefix(p) for p in prefixes], MASK_DTYPE))
    with _cheap_gc():
        for t, _final, srcs, dt in jobs:
            builder = IndexedDatasetBuilder(f"{t}.bin", dtype=dt)
            for src in srcs:
                builder.add_index(src)
            builder.finalize(f"{t}.idx")
    for t, final, _, _ in jobs:  # masks first, tokens last: the token .idx appears when all is complete
        _rename(t, final)
    return counts


# ------------------------------------------------------------------------------------------ the worker
@dataclass
class ShardStats:
    documents: int = 0
    empty_documents: int = 0
    tokens: int = 0  # EODs included
    eod_tokens: int = 0  # appended EODs (= non-empty documents)
    eod_in_text: int = 0  # EOD ids produced by the text itself (a literal `<|endoftext|>` in a document)
    no_loss_tokens: int = 0
    documents_with_spans: int = 0
    unk_tokens: int = 0  # ids equal to the model's unknown token (0 for byte-level tokenizers)
    chars: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


def _span_batch(spans: Sequence[Any] | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-document span lists -> (ptr (n + 1), spans (m, 2)) like an Arrow list column."""
    if spans is None:
        return np.zeros(n + 1, dtype=np.int64), np.empty((0, 2), dtype=np.int64)
    arrs = [_spans_array(s) for s in spans]
    ptr = np.zeros(n + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(a) for a in arrs])
    return ptr, (np.concatenate(arrs) if arrs else np.empty((0, 2), dtype=np.int64))


class _Encoder:
    """Encodes a batch of documents into EOD-terminated ids and masks and hands them to a ShardWriter.

    Masks come from byte positions (`LoadedTokenizer.token_bytes`) where the tokenizer allows it, else from the
    tokenizer's character offsets; both apply the same rule (`_no_loss`) and give the same mask,
    because span edges fall on character edges.
    """

    def __init__(self, tok: LoadedTokenizer, writer: ShardWriter):
        self.tok, self.writer, self.stats = tok, writer, ShardStats()
        self.backend = tok.backend
        self.dtype = writer.dtype
        self.unk_id = tok.unk_id
        self.token_bytes = tok.token_bytes if writer.with_loss_mask else None
        self.nfc = tok.normalizer_kind == "NFC"

    def batch(self, texts: list[str], ptr: np.ndarray, spans: np.ndarray) -> None:
        n = len(texts)
        st = self.stats
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=n)
        n_spans = np.diff(ptr)
        masked = np.flatnonzero(n_spans > 0) if self.writer.with_loss_mask else np.empty(0, dtype=np.int64)
        if len(masked):
            self._check_spans(masked, lengths, ptr, spans)
        by_chars = masked
        if self.token_bytes is not None:
            by_chars = np.array([i for i in masked.tolist() if self.nfc and not unicodedata.is_normalized("NFC", texts[i])],
                                dtype=np.int64)  # fmt: skip
        ids: list[list[int]] = [None] * n  # type: ignore[list-item]
        char_offsets: dict[int, list] = {}
        if len(by_chars):
            encs = self.backend.encode_batch([texts[i] for i in by_chars], add_special_tokens=False)
            for i, e in zip(by_chars.tolist(), encs, strict=True):
                ids[i], char_offsets[i] = e.ids, e.offsets
        rest = [i for i in range(n) if i not in char_offsets] if char_offsets else range(n)
        for i, one in zip(rest, encode_batch(self.tok, [texts[i] for i in rest]), strict=True):
            ids[i] = one
        lens = np.fromiter(map(len, ids), dtype=np.int64, count=n)
        flat = np.fromiter(chain.from_iterable(ids), dtype=self.dtype, count=int(lens.sum()))
        nonempty = lens > 0
        first = np.cumsum(lens) - lens  # each document's first token in `flat`
        out = np.insert(flat, (first + lens)[nonempty], self.writer.eod_id)  # EOD after each non-empty document
        out_len = lens + nonempty
        out_start = np.cumsum(out_len) - out_len
        mask = np.ones(len(out), dtype=MASK_DTYPE)
        if len(masked):
            by_bytes = np.setdiff1d(masked, by_chars, assume_unique=True)
            by_bytes = by_bytes[lens[by_bytes] > 0]
            if len(by_bytes):
                failed = self._mask_by_bytes(texts, by_bytes, flat, first, lens, out_start, ptr, spans, mask)
                if len(failed):  # ids without a fixed byte length: ask the tokenizer for offsets
                    for i, e in zip(failed.tolist(), self.backend.encode_batch([texts[i] for i in failed],
                                                                               add_special_tokens=False), strict=True):  # fmt: skip
                        char_offsets[i] = e.offsets
            if char_offsets:
                self._mask_by_chars(texts, char_offsets, lens, out_start, ptr, spans, mask)
        eod = self.writer.eod_id
        st.eod_in_text += int(np.count_nonzero(flat == eod))
        if self.unk_id is not None and self.unk_id != eod:
            st.unk_tokens += int(np.count_nonzero(flat == self.unk_id))
        self.writer._write_batch(out, mask, out_len)
        st.documents += n
        st.empty_documents += int(n - nonempty.sum())
        st.eod_tokens += int(nonempty.sum())
        st.tokens += len(out)
        st.no_loss_tokens += int(len(mask) - mask.sum())
        st.documents_with_spans += len(masked)
        st.chars += int(lengths.sum())

    def _check_spans(self, masked, lengths, ptr, spans) -> None:
        sp_doc = np.repeat(masked, ptr[masked + 1] - ptr[masked])
        sp = np.concatenate([spans[ptr[i] : ptr[i + 1]] for i in masked])
        bad = (sp[:, 0] < 0) | (sp[:, 1] > lengths[sp_doc])
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            row = self.stats.documents + int(sp_doc[k])
            raise ValueError(f"document {row} of this shard: no_loss_spans [{sp[k, 0]}, {sp[k, 1]}) lies outside "
                             f"its text of {lengths[sp_doc[k]]} characters; fix the spans upstream")  # fmt: skip

    @staticmethod
    def _gather(docs, counts, starts) -> tuple[np.ndarray, np.ndarray]:
        """(owner index into `docs`, position) of every element of the ranges [starts[d], starts[d] + counts[d])."""
        c = counts[docs]
        owner = np.repeat(np.arange(len(docs)), c)
        local = np.arange(int(c.sum())) - (np.cumsum(c) - c)[owner]
        return owner, starts[docs][owner] + local

    def _mask_by_bytes(self, texts, docs, flat, first, lens, out_start, ptr, spans, mask) -> np.ndarray:
        """Mask `docs` from byte positions; returns the documents that need character offsets instead.

        The documents' tokens are laid end to end: a token's end byte is the running sum of token byte
        lengths. A document is trusted when its tokens' bytes add up to its UTF-8 length.
        """
        owner, pos = self._gather(docs, lens, first)
        nb = self.token_bytes[flat[pos]]
        tok_end = np.cumsum(nb)
        last = np.cumsum(lens[docs]) - 1
        doc_end = tok_end[last]
        doc_base = doc_end - np.diff(doc_end, prepend=0)  # byte line position of each document's start
        utf8 = np.fromiter((len(texts[i].encode("utf-8")) for i in docs.tolist()), dtype=np.int64, count=len(docs))
        ok = (doc_end - doc_base) == utf8
        if (nb < 0).any():
            ok &= np.bincount(owner[nb < 0], minlength=len(docs)) == 0
        sp_owner, sp_pos = self._gather(docs, np.diff(ptr), ptr[:-1])
        if not ok.all():
            keep, sp_keep = ok[owner], ok[sp_owner]
            owner, pos, nb, tok_end = owner[keep], pos[keep], nb[keep], tok_end[keep]
            sp_owner, sp_pos = sp_owner[sp_keep], sp_pos[sp_keep]
        se = spans[sp_pos] + self._extra_bytes(texts, docs, sp_owner, spans[sp_pos])
        no_loss = _no_loss(tok_end - nb, tok_end, doc_base[sp_owner] + se[:, 0], doc_base[sp_owner] + se[:, 1])
        mask[(out_start[docs][owner] + (pos - first[docs][owner]))[no_loss]] = 0
        return docs[~ok]

    @staticmethod
    def _extra_bytes(texts, docs, sp_owner, sp) -> np.ndarray:
        """UTF-8 bytes beyond one per character before each span edge (0 in ASCII text)."""
        wide = [k for k in range(len(docs)) if not texts[docs[k]].isascii()]
        if not wide:
            return np.zeros(sp.shape, dtype=np.int64)
        # one character line through the non-ASCII documents, and the positions of its wide characters
        cp = np.frombuffer("".join([texts[docs[k]] for k in wide]).encode("utf-32-le"), dtype=np.uint32)
        at_wide = np.flatnonzero(cp >= 0x80)
        cum = np.zeros(len(at_wide) + 1, dtype=np.int64)
        np.cumsum(1 + (cp[at_wide] >= 0x800) + (cp[at_wide] >= 0x10000), out=cum[1:])
        nchars = np.zeros(len(docs), dtype=np.int64)
        nchars[wide] = [len(texts[docs[k]]) for k in wide]
        base = (np.cumsum(nchars) - nchars)[sp_owner]
        before = cum[np.searchsorted(at_wide, base[:, None] + sp)] - cum[np.searchsorted(at_wide, base)][:, None]
        return before * (nchars[sp_owner] > 0)[:, None]

    def _mask_by_chars(self, texts, char_offsets, lens, out_start, ptr, spans, mask) -> None:
        docs = np.array(sorted(char_offsets), dtype=np.int64)
        owner, local_pos = self._gather(docs, lens, np.zeros(len(lens), dtype=np.int64))
        off = np.fromiter(chain.from_iterable(chain.from_iterable(char_offsets[i] for i in docs.tolist())),
                          dtype=np.int64, count=2 * len(owner)).reshape(-1, 2)  # fmt: skip
        nchars = np.fromiter((len(texts[i]) for i in docs.tolist()), dtype=np.int64, count=len(docs))
        base = np.cumsum(nchars) - nchars  # one character line through these documents
        sp_owner, sp_pos = self._gather(docs, np.diff(ptr), ptr[:-1])
        no_loss = _no_loss(base[owner] + off[:, 0], base[owner] + off[:, 1],
                           base[sp_owner] + spans[sp_pos, 0], base[sp_owner] + spans[sp_pos, 1])  # fmt: skip
        mask[(out_start[docs][owner] + local_pos)[no_loss]] = 0


def _batches(texts: Iterable[str], spans: Iterable[Any] | None, size: int) -> Iterator[tuple[list[str], list | None]]:
    it_t = iter(texts)
    it_s = iter(spans) if spans is not None else None
    while True:
        t = [x for _, x in zip(range(size), it_t, strict=False)]
        if not t:
            return
        s = [next(it_s) for _ in t] if it_s is not None else None
        yield t, s


def tokenize_to_shard(
    tok: LoadedTokenizer,
    texts: Iterable[str],
    spans: Iterable[Any] | None,
    out_prefix: str | Path,
    batch_size: int = 1024,
    with_loss_mask: bool = True,
) -> ShardStats:
    """Tokenize documents in batches and write one shard (the per-partition worker).

    `spans[i]` are document i's no-loss character spans (dicts, pairs or an array; None/[] = none).
    Both inputs may be generators: memory is bounded by `batch_size`.
    """
    t0 = time.perf_counter()
    with ShardWriter(out_prefix, dtype_for_vocab(tok.vocab_size), tok.eod_id, with_loss_mask) as w:
        enc = _Encoder(tok, w)
        for t, s in _batches(texts, spans, batch_size):
            ptr, sp = _span_batch(s, len(t))
            enc.batch(t, ptr, sp)
    enc.stats.seconds = round(time.perf_counter() - t0, 3)
    return enc.stats


def tokenize_arrow_to_shard(
    tok: LoadedTokenizer,
    batches: Iterable[Any],
    out_prefix: str | Path,
    text_column: str = "text",
    spans_column: str | None = "no_loss_spans",
    with_loss_mask: bool = True,
) -> ShardStats:
    """Like `tokenize_to_shard`, from Arrow record batches (e.g. `ParquetFile.iter_batches`) of
    `training_documents`; the spans column is read from its Arrow buffers, without Python objects."""
    t0 = time.perf_counter()
    with ShardWriter(out_prefix, dtype_for_vocab(tok.vocab_size), tok.eod_id, with_loss_mask) as w:
        enc = _Encoder(tok, w)
        for rb in batches:
            texts = rb.column(text_column).to_pylist()
            if spans_column is None or spans_column not in rb.schema.names:
                ptr, sp = _span_batch(None, len(texts))
            else:
                ptr, sp = _arrow_spans(rb.column(spans_column))
            enc.batch(texts, ptr, sp)
    enc.stats.seconds = round(time.perf_counter() - t0, 3)
    return enc.stats


def _arrow_spans(col: Any) -> tuple[np.ndarray, np.ndarray]:
    """A `list<struct<start, end>>` column -> (ptr, spans); null lists have no spans."""
    import pyarrow as pa

    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    offsets = col.offsets.to_numpy().astype(np.int64)  # absolute positions into col.values
    lo, hi = int(offsets[0]), int(offsets[-1])
    values = col.values
    sp = np.stack([values.field("start").to_numpy()[lo:hi], values.field("end").to_numpy()[lo:hi]], axis=1)
    return offsets - lo, sp.astype(np.int64)


# ------------------------------------------------------------------------------------------ reading
class LossMaskedDataset:
    """Documents of a shard: token ids and loss mask in step (document i = input row i)."""

    def __init__(self, prefix: str | Path, check: bool = True):
        from megatron.core.datasets.indexed_dataset import IndexedDataset

        self.prefix = str(prefix)
        self.tokens = IndexedDataset(self.prefix)
        self.mask = IndexedDataset(mask_prefix(self.prefix)) if IndexedDataset.exists(mask_prefix(self.prefix)) else None
        self.doc_index = self.tokens.document_indices
        if check:
            self.check()

    def check(self) -> None:
        """Raise unless the mask sidecar has exactly the tokens' sequence lengths and documents."""
        if self.mask is None:
            return
        t, m = self.tokens.sequence_lengths, self.mask.sequence_lengths
        if len(t) != len(m):
            raise ValueError(f"{self.prefix}: tokens and {MASK_SUFFIX} differ in length: {len(t):,} sequences against "
                             f"{len(m):,} in the sidecar; rewrite the shard")  # fmt: skip
        if not np.array_equal(t, m):
            bad = np.flatnonzero(t != m)
            raise ValueError(f"{self.prefix}: tokens and {MASK_SUFFIX} differ in length at sequence(s) "
                             f"{bad[:5].tolist()}; rewrite the shard")  # fmt: skip
        if not np.array_equal(self.doc_index, self.mask.document_indices):
            raise ValueError(f"{self.prefix}: tokens and {MASK_SUFFIX} have different document boundaries; rewrite the shard")

    def __len__(self) -> int:
        return len(self.doc_index) - 1

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray | None]:
        a, b = int(self.doc_index[i]), int(self.doc_index[i + 1])
        if a == b:
            empty = np.empty(0, dtype=self.tokens.index.dtype)
            return empty, (np.empty(0, dtype=MASK_DTYPE) if self.mask is not None else None)
        toks = np.concatenate(self.tokens[a:b])
        mask = np.concatenate(self.mask[a:b]) if self.mask is not None else None
        return toks, mask

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        for i in range(len(self)):
            yield self[i]


def read_shard(prefix: str | Path, check: bool = True) -> LossMaskedDataset:
    """Open a shard written here (or by preprocess_data.py: then the mask is None)."""
    return LossMaskedDataset(prefix, check)
