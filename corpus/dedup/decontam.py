"""Evaluation-set decontamination: find training documents that contain evaluation items.

Method (GPT-3 appendix C; OLMo / Dolma decontamination): evaluation items and documents are cut into the
tokens of `corpus.dedup.text` (NFKC-folded lowercase word runs, every CJK character a token of its own, so
English and Chinese need no switch; casing, punctuation and whitespace never matter), and a document is
contaminated when it shares token n-grams with an item. The rules:

* **Item text.** `qa_items`: the question, a newline, the correct answer; plus the question alone as a
  *part*, so a page that prints the question without its answer is caught too. Choices are not indexed:
  distractors are short names (song titles, "True"/"False") that occur in ordinary music text and are not
  what an item tests. `conversations`: one item per conversation, its turns joined by newlines in order, and
  no parts: a window across two turns is as much the conversation as one inside a turn, a turn of 13 tokens or
  more is caught whole inside the joined text, and a short turn alone is usually a stock phrase ("Let me know
  if you have any questions." occurs in C4 and OpenWebText). Any other file: the named fields joined
  (`eval_items_from_file`). Every text of an item (its `text` and each part) is indexed on its own: an n-gram
  never spans two of them.
* **Lengths.** A text of at least `ngram` tokens (default 13, as GPT-3) contributes all its `ngram`-token
  windows. A text of `min_tokens` (default 8) to `ngram - 1` tokens contributes one n-gram of its full length,
  matched against every window of exactly that many tokens of a document, so short trivia questions are still
  caught verbatim. An item with no text of `min_tokens` tokens is too generic to index; it is counted
  (`items_too_short`), not dropped silently.
* **Templates.** A short part (under `ngram` tokens) shared by `template_items` (default 3) or more items of
  one eval set with different texts (ZIQI's "下列说法中正确的是" stem) identifies no item: it is not indexed,
  and counted. The items keep their full text.
* **Decision.** `matches` is the number of distinct n-grams of an item found in a document. A document is
  contaminated when some item has `matches >= min(min_matches, item_ngrams)` (default `min_matches=1`: any
  shared 13-gram, or any short item verbatim). `scan` keeps every hit, so another threshold can be applied
  later without rescanning (score, then decide).

Storage is numpy only: per n-gram length a sorted uint64 array of n-gram values with an aligned int32 array
of item numbers, and per length a two-level bitmap (`_Prefilter`; built lazily in each process, never pickled
or saved) that rejects almost every document n-gram before the binary search. A window's value is its `batch_ngrams`
hash before the splitmix64 finaliser (a bijection, so equality is unchanged): from one prefix sum over the
token hashes of a batch, every window length costs one multiply, so a document is tokenized once however
many lengths the index holds, and a document with fewer tokens than a length simply has no window of it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pyarrow as pa

from corpus.dedup.text import batch_slices, k_powers, token_stream
from corpus.ingest.readers import detect_format, open_parquet, read_csv, read_jsonl, read_parquet

log = logging.getLogger(__name__)

INDEX_FORMAT = "music-corpus/decontam-index/1"
REPORT_FORMAT = "music-corpus/decontam-report/1"
PREVIEW_CHARS = 120  # item text kept per item for hits and report examples
# fixed text whose n-gram values fingerprint the token hashing: an index built by other hashing is refused
_PROBE = "Who sang 'Bohemian Rhapsody' (1975)? QUEEN — Freddie Mercury; Ünïcödé ＦＵＬＬ. 《阳关三叠》唐诗与音乐的典范"


# ----------------------------------------------------------------------------- items and configuration


@dataclass(frozen=True)
class EvalItem:
    """One evaluation item. `text` is indexed as a whole and each of `parts` on its own (see module doc)."""

    eval_set: str
    item_id: str
    text: str
    parts: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.eval_set, self.item_id)


@dataclass(frozen=True)
class DecontamConfig:
    """`ngram`: window length in tokens; `min_tokens`: shortest text indexed (shorter ones are whole-text
    n-grams down to this); `min_matches`: distinct n-grams an item must share with a document to contaminate
    it (capped at the item's own n-gram count); `template_items`: items with different texts sharing a
    short part that make it a template (0 keeps every part)."""

    ngram: int = 13
    min_tokens: int = 8
    min_matches: int = 1
    template_items: int = 3

    def __post_init__(self) -> None:
        if self.ngram < 1 or self.min_tokens < 1 or self.min_matches < 1:
            raise ValueError(
                f"ngram, min_tokens and min_matches must be >= 1 (got {self.ngram}, {self.min_tokens}, "
                f"{self.min_matches})"
            )
        if self.template_items == 1 or self.template_items < 0:
            raise ValueError(f"template_items must be 0 (off) or >= 2 (got {self.template_items})")


# ----------------------------------------------------------------------------- eval rows to items


def _require(columns: Sequence[str], needed: Sequence[str], origin: str, hint: str) -> None:
    missing = [c for c in needed if c not in columns]
    if missing:
        raise ValueError(f"{origin}: missing column(s) {missing} (columns: {list(columns)}); {hint}")


def _row_id(value: object, origin: str, row: int, column: str) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError(f"{origin}: row {row}: `{column}` is empty; every eval item needs an id")
    return str(value)


def eval_items_from_qa(
    table: pa.Table, eval_set: str | None = None, *, origin: str = "qa_items table"
) -> list[EvalItem]:
    """Items of a `qa_items` table: text = question + newline + answer, part = the question alone; choices
    are not indexed. `eval_set` defaults to each row's `source` (the adapter name); ids are `qa_id`."""
    needed = ["qa_id", "question", "answer", *([] if eval_set else ["source"])]
    _require(table.column_names, needed, origin, "expected the `qa_items` contract (schemas/datasets.py)")
    cols = {c: table.column(c).to_pylist() for c in needed}
    sources = cols.get("source") or [eval_set] * table.num_rows
    items = []
    for row, (qa_id, question, answer, src) in enumerate(
        zip(cols["qa_id"], cols["question"], cols["answer"], sources, strict=True), 1
    ):
        if not src:
            raise ValueError(f"{origin}: row {row}: `source` is empty; pass eval_set= to name the eval set")
        q, a = (question or "").strip(), (answer or "").strip()
        text = f"{q}\n{a}" if q and a else q or a
        items.append(EvalItem(str(src), _row_id(qa_id, origin, row, "qa_id"), text, (q,) if q and a else ()))
    return items


def eval_items_from_conversations(
    table: pa.Table, eval_set: str | None = None, *, origin: str = "conversations table"
) -> list[EvalItem]:
    """Items of a `conversations` table: one per conversation, text = its turns joined by newlines (no
    parts: short turns are stock phrases). `eval_set` defaults to each row's `source`; ids are `conversation_id`."""
    needed = ["conversation_id", "turns", *([] if eval_set else ["source"])]
    _require(
        table.column_names, needed, origin, "expected the `conversations` contract (schemas/datasets.py)"
    )
    cols = {c: table.column(c).to_pylist() for c in needed}
    sources = cols.get("source") or [eval_set] * table.num_rows
    items = []
    for row, (conv_id, turns, src) in enumerate(
        zip(cols["conversation_id"], cols["turns"], sources, strict=True), 1
    ):
        if not src:
            raise ValueError(f"{origin}: row {row}: `source` is empty; pass eval_set= to name the eval set")
        texts = []
        for t in turns or []:
            if not isinstance(t, dict) or not isinstance(t.get("text"), str):
                raise ValueError(f"{origin}: row {row}: a turn is {t!r:.80}; expected {{speaker, text}}")
            if t["text"].strip():
                texts.append(t["text"].strip())
        items.append(EvalItem(str(src), _row_id(conv_id, origin, row, "conversation_id"), "\n".join(texts)))
    return items


def _field_text(value: object, file: str, row: int, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str | int | float | bool):
        return str(value).strip()
    if isinstance(value, list) and all(v is None or isinstance(v, str | int | float) for v in value):
        return "\n".join(str(v).strip() for v in value if v is not None and str(v).strip())
    raise ValueError(
        f"{file}: row {row}: field `{name}` is a {type(value).__name__}; expected text or a list of text"
    )


def _file_rows(path: Path, needed: list[str]) -> Iterator[tuple[int, dict]]:
    fmt = detect_format(path)
    if fmt == "parquet":
        _require(open_parquet(path).schema_arrow.names, needed, str(path), "name existing fields")
        rows = read_parquet(path)
    elif fmt in ("csv", "tsv"):
        rows = read_csv(path, delimiter="\t" if fmt == "tsv" else ",", required_columns=tuple(needed))
    else:
        rows = read_jsonl(path)
    for raw in rows:
        if raw.reject is not None:  # an eval row that cannot be read would be an item never checked
            raise ValueError(
                f"{raw.reject.file}: row {raw.reject.row}: {raw.reject.message}; fix the eval file"
            )
        yield raw.row, raw.values or {}


def eval_items_from_file(
    path: str | os.PathLike,
    eval_set: str,
    text_field: str | Sequence[str],
    id_field: str | None = None,
    part_fields: Sequence[str] = (),
) -> list[EvalItem]:
    """Items of a JSONL, Parquet or CSV/TSV file (format from the extension). Text = the `text_field`
    values joined by newlines (a list value is joined too); each `part_fields` value is also indexed alone;
    ids come from `id_field`, else the 1-based row (JSONL: line) number. Missing file: FileNotFoundError;
    missing field, unreadable row, duplicate id: ValueError naming the file and row."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: eval file not found")
    fields = [text_field] if isinstance(text_field, str) else list(text_field)
    if not fields:
        raise ValueError(f"{path}: text_field names no field")
    needed = list(dict.fromkeys([*fields, *part_fields, *([id_field] if id_field else [])]))
    items: list[EvalItem] = []
    seen: dict[str, int] = {}
    present: set[str] = set()
    for row, values in _file_rows(path, needed):
        present.update(values)
        texts = [_field_text(values.get(f), str(path), row, f) for f in fields]
        parts = tuple(p for f in part_fields if (p := _field_text(values.get(f), str(path), row, f)))
        item_id = _row_id(values.get(id_field), str(path), row, id_field) if id_field else str(row)
        if item_id in seen:
            raise ValueError(
                f"{path}: row {row}: id {item_id!r} already used by row {seen[item_id]}; ids must be unique"
            )
        seen[item_id] = row
        items.append(EvalItem(eval_set, item_id, "\n".join(t for t in texts if t), parts))
    if items:  # JSONL rows may omit a key; a key that no row has is a wrong field name
        _require(sorted(present), needed, str(path), "name existing fields")
    return items


# ----------------------------------------------------------------------------- token windows


@dataclass(frozen=True)
class _Tokens:
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


def _tokenize(texts: Sequence[str]) -> _Tokens:
    th, doc = token_stream(list(texts))
    offsets = np.zeros(len(texts) + 1, np.int64)
    np.cumsum(np.bincount(doc, minlength=len(texts)), out=offsets[1:])
    powers, inverse = k_powers(len(th))
    prefix = np.zeros(len(th) + 1, np.uint64)
    with np.errstate(over="ignore"):
        np.cumsum(th * inverse, out=prefix[1:])
    return _Tokens(doc, offsets, prefix, powers)


def window_values(text: str, n: int) -> np.ndarray:
    """Values the index compares for every n-token window of `text` (none if it has fewer than n tokens):
    `batch_ngrams` hashes before their splitmix64 finaliser. For tests and debugging."""
    tok = _tokenize([text])
    return tok.windows(n) if tok.size >= n else np.empty(0, np.uint64)


@cache
def token_fingerprint() -> str:
    """Digest of the n-gram values of a fixed probe text: changes whenever the token hashing does."""
    tok = _tokenize([_PROBE])
    values = np.concatenate([tok.windows(n) for n in (1, 5, 13)])
    return hashlib.blake2b(values.tobytes(), digest_size=8).hexdigest()


# ----------------------------------------------------------------------------- hits


@dataclass(frozen=True)
class ItemHit:
    """An eval item found in a document: `matches` of its `item_ngrams` distinct n-grams occur there."""

    eval_set: str
    item_id: str
    matches: int
    item_ngrams: int
    item_text: str  # the item's text, truncated to PREVIEW_CHARS

    @property
    def key(self) -> tuple[str, str]:
        return (self.eval_set, self.item_id)

    def contaminates(self, min_matches: int) -> bool:
        return self.matches >= min(min_matches, self.item_ngrams)


@dataclass(frozen=True)
class DocHits:
    """Every eval item a document overlaps (most matches first); `contaminated` applies the index's
    `min_matches`, `contaminated_at` any other threshold."""

    hits: tuple[ItemHit, ...] = ()
    contaminated: bool = False

    @property
    def keys(self) -> list[tuple[str, str]]:
        return [h.key for h in self.hits]

    def contaminated_at(self, min_matches: int) -> bool:
        return any(h.contaminates(min_matches) for h in self.hits)


NO_HITS = DocHits()


# ----------------------------------------------------------------------------- index


class _Prefilter:
    """Two-level bitmap over a sorted value array: a byte per slot indexed by the top bits (about 8 slots
    per value, so ~12% or fewer of absent values pass), then, for those only, a packed bitmap indexed by the
    low bits (about 64 bits per value). Measured on C4 against the ~350k values of the real eval sets: 0.07%
    of windows reach the binary search, and filtering costs ~8 us per 2 KB document, against ~25 us for one
    4 MB packed bitmap (every window a gather from outside L2) and ~160 ns per window for binary search alone.
    Memory: about 9 MB per process for that index."""

    def __init__(self, values: np.ndarray):
        n = max(len(values), 1)
        top = int(min(26, max(10, np.ceil(np.log2(n * 8)))))
        low = int(min(32, max(13, np.ceil(np.log2(n * 64)))))
        self.shift = np.uint64(64 - top)
        self.mask = np.uint64((1 << low) - 1)
        self.top = np.zeros(1 << top, bool)
        self.top[(values >> self.shift).astype(np.intp)] = True
        self.low = np.zeros(1 << (low - 3), np.uint8)
        slot = (values & self.mask).astype(np.intp)
        np.bitwise_or.at(self.low, slot >> 3, np.left_shift(1, slot & 7).astype(np.uint8))

    def candidates(self, w: np.ndarray) -> np.ndarray:
        """Positions in `w` that may hold a value of the array (all that do, and a few that do not)."""
        cand = np.flatnonzero(self.top[(w >> self.shift).astype(np.intp)])
        slot = (w[cand] & self.mask).astype(np.intp)
        return cand[((self.low[slot >> 3] >> (slot & 7).astype(np.uint8)) & 1).astype(bool)]


def _set_stats() -> dict[str, int]:
    return {"items": 0, "duplicate_items": 0, "items_indexed": 0, "items_too_short": 0, "template_parts": 0}


def _unique_items(items: Iterable[EvalItem]) -> tuple[list[EvalItem], dict[str, dict[str, int]]]:
    """Items with duplicate keys removed (same texts: counted; different texts: an error), and per-set counts."""
    stats: dict[str, dict[str, int]] = defaultdict(_set_stats)
    kept: list[EvalItem] = []
    seen: dict[tuple[str, str], EvalItem] = {}
    for it in items:
        if not isinstance(it, EvalItem) or not all(
            isinstance(t, str) for t in (it.eval_set, it.item_id, it.text, *it.parts)
        ):
            raise ValueError(f"expected EvalItem with text fields, got {it!r:.120}")
        prev = seen.get(it.key)
        if prev is None:
            seen[it.key] = it
            kept.append(it)
            stats[it.eval_set]["items"] += 1
        elif (prev.text, prev.parts) == (it.text, it.parts):
            stats[it.eval_set]["duplicate_items"] += 1
        else:
            raise ValueError(
                f"eval item {it.eval_set}/{it.item_id} appears twice with different text; "
                "item ids must be unique within an eval set"
            )
    return kept, stats


def _item_ngrams(
    kept: list[EvalItem], cfg: DecontamConfig, stats: dict[str, dict[str, int]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (length, value, item) n-grams of the items, sorted by length then value: `ngram`-windows of
    long texts and the whole-text n-gram of short ones, template parts left out (and counted in `stats`)."""
    seg_text: list[str] = []  # each item's text, then its parts
    seg_item: list[int] = []
    seg_part: list[bool] = []
    for i, it in enumerate(kept):
        for j, t in enumerate((it.text, *it.parts)):
            seg_text.append(t)
            seg_item.append(i)
            seg_part.append(j > 0)
    item_of, is_part = np.array(seg_item, np.int64), np.array(seg_part, bool)
    n = cfg.ngram
    lens, vals, owners = [], [], []
    text_key = np.zeros(len(kept), np.uint64)  # value of an item's whole text: tells texts apart
    short: list[tuple[int, int, int, bool]] = []  # (item, length, value, is a part)
    for a, b in batch_slices(seg_text):
        tok = _tokenize(seg_text[a:b])
        counts = np.diff(tok.offsets)
        if tok.size >= n:
            w = tok.windows(n)
            first_doc = tok.doc[: len(w)]
            inside = (first_doc == tok.doc[n - 1 :]) & (counts[first_doc] >= cfg.min_tokens)
            vals.append(w[inside])
            owners.append(item_of[a + first_doc[inside]])
            lens.append(np.full(int(inside.sum()), n, np.int64))
        whole = np.flatnonzero(counts > 0)
        whole_vals = tok.spans(tok.offsets[whole], counts[whole])
        main = ~is_part[a + whole]
        text_key[item_of[a + whole[main]]] = whole_vals[main]
        is_short = (counts[whole] >= cfg.min_tokens) & (counts[whole] < n)
        for s, v in zip(whole[is_short].tolist(), whole_vals[is_short].tolist(), strict=True):
            short.append((int(item_of[a + s]), int(counts[s]), v, bool(is_part[a + s])))
    # a short part whose n-gram several items of one set with different texts share is a template
    texts_of: dict[tuple[str, int, int], set[int]] = defaultdict(set)
    for item, length, v, part in short:
        if part:
            texts_of[(kept[item].eval_set, length, v)].add(int(text_key[item]))
    kept_short = []
    for item, length, v, part in short:
        name = kept[item].eval_set
        if part and cfg.template_items and len(texts_of[(name, length, v)]) >= cfg.template_items:
            stats[name]["template_parts"] += 1
        else:
            kept_short.append((item, length, v))
    if kept_short:
        owners.append(np.array([i for i, _, _ in kept_short], np.int64))
        lens.append(np.array([length for _, length, _ in kept_short], np.int64))
        vals.append(np.array([v for _, _, v in kept_short], np.uint64))
    length_all = np.concatenate(lens) if lens else np.empty(0, np.int64)
    value_all = np.concatenate(vals) if vals else np.empty(0, np.uint64)
    owner_all = np.concatenate(owners) if owners else np.empty(0, np.int64)
    order = np.lexsort((owner_all, value_all, length_all))
    length_all, value_all, owner_all = length_all[order], value_all[order], owner_all[order]
    first = np.ones(len(order), bool)
    first[1:] = (
        (length_all[1:] != length_all[:-1])
        | (value_all[1:] != value_all[:-1])
        | (owner_all[1:] != owner_all[:-1])
    )
    return length_all[first], value_all[first], owner_all[first]


class DecontamIndex:
    """N-grams of evaluation items, grouped by length, for `scan`. Build with `build`, persist with
    `save` / `load`; picklable (a few MB for ~30k items) for shipping to worker processes."""

    def __init__(
        self,
        config: DecontamConfig,
        eval_sets: list[str],
        item_set: np.ndarray,
        item_ids: list[str],
        item_ngrams: np.ndarray,
        previews: list[str],
        groups: dict[int, tuple[np.ndarray, np.ndarray]],
        stats: dict[str, dict[str, int]],
    ):
        self.config = config
        self.eval_sets = eval_sets
        self.item_set = item_set  # int32: eval set of each indexed item
        self.item_ids = item_ids
        self.item_ngrams = item_ngrams  # int32: distinct n-grams of each item
        self.previews = previews
        self.groups = dict(sorted(groups.items()))  # length -> (sorted uint64 values, int32 items)
        self.stats = stats  # eval set -> counts (see `_set_stats`)
        self.digest = self._digest()
        self._filters: dict[int, _Prefilter] = {}

    # -- building

    @classmethod
    def build(cls, items: Iterable[EvalItem], config: DecontamConfig | None = None) -> DecontamIndex:
        """Index `items`. The same key twice with the same texts counts as a duplicate; with different
        texts it is an error (ids must be unique within an eval set)."""
        cfg = config or DecontamConfig()
        kept, stats = _unique_items(items)
        length_all, value_all, owner_all = _item_ngrams(kept, cfg, stats)
        ngrams = np.bincount(owner_all, minlength=len(kept))
        indexed = np.flatnonzero(ngrams > 0)
        renumber = np.full(len(kept), -1, np.int64)
        renumber[indexed] = np.arange(len(indexed))
        for i, it in enumerate(kept):
            stats[it.eval_set]["items_indexed" if ngrams[i] else "items_too_short"] += 1
        eval_sets = sorted(stats)
        set_no = {s: k for k, s in enumerate(eval_sets)}
        groups = {}
        for length in np.unique(length_all).tolist():
            sel = length_all == length
            groups[int(length)] = (value_all[sel], renumber[owner_all[sel]].astype(np.int32))
        index = cls(
            cfg,
            eval_sets,
            np.array([set_no[kept[i].eval_set] for i in indexed], np.int32),
            [kept[i].item_id for i in indexed],
            ngrams[indexed].astype(np.int32),
            [kept[i].text[:PREVIEW_CHARS] for i in indexed],
            groups,
            {s: dict(stats[s]) for s in eval_sets},
        )
        skipped = sum(st["items_too_short"] for st in index.stats.values())
        log.info("built %r; %d items under %d tokens not indexed", index, skipped, cfg.min_tokens)
        return index

    # -- facts

    def __len__(self) -> int:
        return len(self.item_ids)

    @property
    def n_values(self) -> int:
        return sum(len(v) for v, _ in self.groups.values())

    def _digest(self) -> str:
        h = hashlib.blake2b(digest_size=12)
        h.update(
            json.dumps([asdict(self.config), self.eval_sets, self.item_ids], ensure_ascii=False).encode()
        )
        h.update(self.item_set.tobytes())
        for length, (v, it) in self.groups.items():
            h.update(np.int64(length).tobytes() + v.tobytes() + it.tobytes())
        return h.hexdigest()

    def __repr__(self) -> str:
        return (
            f"DecontamIndex({len(self)} items in {len(self.eval_sets)} eval sets, {self.n_values} n-grams, "
            f"lengths {list(self.groups)}, {self.config})"
        )

    # -- scanning

    def _prefilter(self, length: int) -> _Prefilter:
        """Membership prefilter of one length group, built on first use in each process."""
        f = self._filters.get(length)
        if f is None:
            f = self._filters[length] = _Prefilter(self.groups[length][0])
        return f

    def scan(self, texts: Sequence[str | None]) -> list[DocHits]:
        """Hits of each document (None and empty texts have none). Any batch size: processed in slices."""
        docs = []
        for i, t in enumerate(texts):
            if t is not None and not isinstance(t, str):
                raise TypeError(f"document {i} is a {type(t).__name__}; scan takes text (str or None)")
            docs.append(t or "")
        out = [NO_HITS] * len(docs)
        if not self.groups:
            return out
        for a, b in batch_slices(docs):
            for d, hits in self._scan_slice(docs[a:b]).items():
                out[a + d] = hits
        return out

    def _scan_slice(self, texts: list[str]) -> dict[int, DocHits]:
        tok = _tokenize(texts)
        found_doc, found_item, found_val = [], [], []
        for length, (values, items) in self.groups.items():
            if tok.size < length:
                break
            w = tok.windows(length)
            cand = self._prefilter(length).candidates(w)
            if not len(cand):
                continue
            cand = cand[tok.doc[cand] == tok.doc[cand + length - 1]]  # windows inside one document
            v = w[cand]
            lo = np.searchsorted(values, v, "left")
            hi = np.searchsorted(values, v, "right")
            hit = hi > lo
            if not hit.any():
                continue
            cand, v, lo, reps = cand[hit], v[hit], lo[hit], (hi - lo)[hit]
            # one row per (window, item): an n-gram may belong to several items (the same question in two sets)
            pos = np.repeat(lo - np.cumsum(reps) + reps, reps) + np.arange(int(reps.sum()))
            found_doc.append(np.repeat(tok.doc[cand], reps))
            found_item.append(items[pos].astype(np.int64))
            found_val.append(np.repeat(v, reps))
        if not found_doc:
            return {}
        n_items = max(len(self.item_ids), 1)
        pair = np.concatenate(found_doc) * n_items + np.concatenate(found_item)
        val = np.concatenate(found_val)
        order = np.lexsort((val, pair))
        pair, val = pair[order], val[order]
        distinct = np.ones(len(pair), bool)  # a repeated n-gram in a document counts once
        distinct[1:] = (pair[1:] != pair[:-1]) | (val[1:] != val[:-1])
        pairs, matches = np.unique(pair[distinct], return_counts=True)
        per_doc: dict[int, list[ItemHit]] = defaultdict(list)
        for p, m in zip(pairs.tolist(), matches.tolist(), strict=True):
            d, i = divmod(p, n_items)
            per_doc[d].append(
                ItemHit(
                    self.eval_sets[self.item_set[i]],
                    self.item_ids[i],
                    m,
                    int(self.item_ngrams[i]),
                    self.previews[i],
                )
            )
        out = {}
        for d, hits in per_doc.items():
            hits.sort(key=lambda h: (-h.matches, h.eval_set, h.item_id))
            out[d] = DocHits(tuple(hits), any(h.contaminates(self.config.min_matches) for h in hits))
        return out

    # -- persistence

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_filters"] = {}  # rebuilt on first scan: smaller to ship than to rebuild
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    def save(self, path: str | os.PathLike) -> Path:
        """Write one .npz (arrays, plus item ids, sets, config and stats as JSON); atomic (temp + rename)."""
        path = Path(path)
        meta = {
            "format": INDEX_FORMAT,
            "tokens": token_fingerprint(),
            "config": asdict(self.config),
            "eval_sets": self.eval_sets,
            "item_ids": self.item_ids,
            "previews": self.previews,
            "stats": self.stats,
            "digest": self.digest,
        }
        arrays = {
            "meta": np.frombuffer(json.dumps(meta, ensure_ascii=False).encode(), np.uint8),
            "item_set": self.item_set,
            "item_ngrams": self.item_ngrams,
            "lengths": np.array(list(self.groups), np.int64),
        }
        for length, (v, it) in self.groups.items():
            arrays[f"values_{length}"] = v
            arrays[f"items_{length}"] = it
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> DecontamIndex:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(
                f"{path}: no decontamination index here; build one with DecontamIndex.build(items).save(path)"
            )
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            meta = json.loads(bytes(arrays["meta"]).decode())
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, AttributeError) as e:
            raise ValueError(
                f"{path}: not a decontamination index ({type(e).__name__}: {e}); rebuild it"
            ) from e
        if not isinstance(meta, dict) or meta.get("format") != INDEX_FORMAT:
            found = meta.get("format") if isinstance(meta, dict) else None
            raise ValueError(
                f"{path}: index format {found!r}, this code reads {INDEX_FORMAT!r}; rebuild the index"
            )
        if meta.get("tokens") != token_fingerprint():
            raise ValueError(
                f"{path}: built with other token hashing (corpus.dedup.text has changed since); rebuild the index"
            )
        groups = {int(n): (arrays[f"values_{n}"], arrays[f"items_{n}"]) for n in arrays["lengths"].tolist()}
        index = cls(
            DecontamConfig(**meta["config"]),
            meta["eval_sets"],
            arrays["item_set"],
            meta["item_ids"],
            arrays["item_ngrams"],
            meta["previews"],
            groups,
            meta["stats"],
        )
        if index.digest != meta["digest"]:
            raise ValueError(
                f"{path}: contents do not match their digest (truncated or edited); rebuild the index"
            )
        return index


# ----------------------------------------------------------------------------- report


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


@dataclass
class DecontamReport:
    """Counts per eval set for one index, accumulated over scanned documents; JSON-serializable through
    `to_dict` / `from_dict` so each task can save its part, and `merge` combines parts exactly (examples:
    the `max_examples` smallest (doc id, item id) per set, whatever the merge order)."""

    config: dict
    index_digest: str
    sets: dict[str, dict]
    documents_scanned: int = 0
    documents_contaminated: int = 0
    max_examples: int = 5
    _items_hit: dict[str, set[str]] = field(default_factory=dict, repr=False)

    @classmethod
    def for_index(cls, index: DecontamIndex, max_examples: int = 5) -> DecontamReport:
        sets = {s: {**st, "documents_hit": 0, "examples": []} for s, st in index.stats.items()}
        return cls(asdict(index.config), index.digest, sets, max_examples=max_examples,
                   _items_hit={s: set() for s in sets})  # fmt: skip

    def add(self, doc_ids: Sequence[str], hits: Sequence[DocHits]) -> None:
        """Count one batch: `doc_ids[i]` names the document `hits[i]` came from."""
        if len(doc_ids) != len(hits):
            raise ValueError(f"{len(doc_ids)} document ids for {len(hits)} scan results")
        min_matches = self.config["min_matches"]
        self.documents_scanned += len(hits)
        for doc_id, dh in zip(doc_ids, hits, strict=True):
            bad = [h for h in dh.hits if h.contaminates(min_matches)]
            if not bad:
                continue
            self.documents_contaminated += 1
            for s in {h.eval_set for h in bad}:
                self._set(s)["documents_hit"] += 1
            for h in bad:
                self._items_hit.setdefault(h.eval_set, set()).add(h.item_id)
                self._example(h.eval_set, {"doc_id": str(doc_id), "item_id": h.item_id, "matches": h.matches,
                                           "item_ngrams": h.item_ngrams, "item_text": h.item_text})  # fmt: skip

    def _set(self, name: str) -> dict:
        if name not in self.sets:  # a set the index did not declare (hits from another index)
            raise ValueError(f"eval set {name!r} is not in this report's index; scan with the same index")
        return self.sets[name]

    def _example(self, name: str, ex: dict) -> None:
        examples = self._set(name)["examples"]
        examples.append(ex)
        examples.sort(key=lambda e: (e["doc_id"], e["item_id"]))
        del examples[self.max_examples :]

    def to_dict(self) -> dict:
        sets = {}
        for s, st in self.sets.items():
            hit = sorted(self._items_hit.get(s, ()))
            sets[s] = {**st, "items_hit": len(hit), "items_hit_ids": hit, "examples": list(st["examples"])}
        return {
            "format": REPORT_FORMAT,
            "config": self.config,
            "index_digest": self.index_digest,
            "documents_scanned": self.documents_scanned,
            "documents_contaminated": self.documents_contaminated,
            "max_examples": self.max_examples,
            "sets": sets,
        }

    @classmethod
    def from_dict(cls, d: dict) -> DecontamReport:
        if not isinstance(d, dict) or d.get("format") != REPORT_FORMAT:
            found = d.get("format") if isinstance(d, dict) else type(d).__name__
            raise ValueError(f"not a decontamination report: format {found!r}, expected {REPORT_FORMAT!r}")
        sets = {
            s: {k: v for k, v in st.items() if k not in ("items_hit", "items_hit_ids")}
            for s, st in d["sets"].items()
        }
        hit = {s: set(st["items_hit_ids"]) for s, st in d["sets"].items()}
        return cls(d["config"], d["index_digest"], sets, d["documents_scanned"], d["documents_contaminated"],
                   d["max_examples"], hit)  # fmt: skip

    def merge(self, other: DecontamReport) -> DecontamReport:
        """A new report counting both; both must come from the same index and configuration."""
        if (self.index_digest, self.config) != (other.index_digest, other.config):
            raise ValueError(
                f"cannot merge reports of different indexes or configs ({self.index_digest} vs {other.index_digest})"
            )
        out = DecontamReport.from_dict(self.to_dict())
        out.documents_scanned += other.documents_scanned
        out.documents_contaminated += other.documents_contaminated
        for s, st in other.sets.items():
            mine = out._set(s)
            mine["documents_hit"] += st["documents_hit"]
            out._items_hit.setdefault(s, set()).update(other._items_hit.get(s, ()))
            for ex in st["examples"]:
                out._example(s, dict(ex))
        return out

    def to_markdown(self) -> str:
        c = self.config
        share = self.documents_contaminated / self.documents_scanned if self.documents_scanned else 0.0
        lines = [
            "## Evaluation-set decontamination",
            "",
            f"A document is contaminated when it shares at least min({c['min_matches']}, the item's n-gram count) "
            f"distinct {c['ngram']}-token n-grams with one eval item; items of {c['min_tokens']}-{c['ngram'] - 1} "
            f"tokens are matched whole, shorter ones are not indexed.",
            "",
            f"Documents scanned: {self.documents_scanned:,}; contaminated: {self.documents_contaminated:,} ({share:.3%}).",
            "",
            "| eval set | items | indexed | too short | duplicates | template parts | items hit | documents hit |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for s, st in sorted(self.sets.items()):
            lines.append(
                f"| {_cell(s)} | {st['items']:,} | {st['items_indexed']:,} | {st['items_too_short']:,} | "
                f"{st['duplicate_items']:,} | {st['template_parts']:,} | {len(self._items_hit.get(s, ())):,} | "
                f"{st['documents_hit']:,} |"
            )
        examples = [(s, ex) for s, st in sorted(self.sets.items()) for ex in st["examples"]]
        if examples:
            lines += [
                "",
                "| eval set | document | item | n-grams matched | item text |",
                "|---|---|---|---:|---|",
            ]
            for s, ex in examples:
                lines.append(
                    f"| {_cell(s)} | {_cell(ex['doc_id'])} | {_cell(ex['item_id'])} | "
                    f"{ex['matches']}/{ex['item_ngrams']} | {_cell(ex['item_text'])} |"
                )
        return "\n".join(lines) + "\n"
