"""`DecontamIndex`: the n-grams of evaluation items grouped by length (sorted uint64 values with aligned item
numbers), built from `EvalItem`s, saved to and loaded from one .npz, and scanned through `scan`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np

from corpus.dedup.decontam.items import DecontamConfig, EvalItem
from corpus.dedup.decontam.scan import DocHits, ItemHit, Prefilter, scan_texts
from corpus.dedup.decontam.windows import token_fingerprint, tokenize
from corpus.dedup.text import batch_slices

log = logging.getLogger(__name__)

INDEX_FORMAT = "music-corpus/decontam-index/1"
PREVIEW_CHARS = 120  # item text kept per item for hits and report examples


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
        tok = tokenize(seg_text[a:b])
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
        self._filters: dict[int, Prefilter] = {}

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

    def _prefilter(self, length: int) -> Prefilter:
        """Membership prefilter of one length group, built on first use in each process."""
        f = self._filters.get(length)
        if f is None:
            f = self._filters[length] = Prefilter(self.groups[length][0])
        return f

    def _hit(self, item: int, matches: int) -> ItemHit:
        return ItemHit(
            self.eval_sets[self.item_set[item]],
            self.item_ids[item],
            matches,
            int(self.item_ngrams[item]),
            self.previews[item],
        )

    def scan(self, texts: Sequence[str | None]) -> list[DocHits]:
        """Hits of each document (None and empty texts have none). Any batch size: processed in slices."""
        return scan_texts(
            texts, self.groups, self._prefilter, len(self.item_ids), self._hit, self.config.min_matches
        )

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
