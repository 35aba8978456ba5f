"""Build the labelled train/valid/test set for the music-domain classifier from real sources.

Two kinds of source (`stats.json` counts every step per source):
- **short texts** (trivia questions, Reddit requests, MusicCaps captions, ZIQI questions): one example each;
  a short "other" item naming any music term is dropped (`drop_leak`: film-soundtrack trivia and the like);
- **whole documents** (C4 train pages, BBC articles, WikiText articles, THUCNews headlines, MuChin
  descriptions, NetEase song comments; `documents.py`): each document gets one label (hand label, source
  category, or the document-level lexicon rule, which may abstain) and every scoring window of it becomes an
  example with that label. No web window is "other" by default any more.

Then exact duplicates and label conflicts are dropped, each (source, label) group is capped, the classes are
balanced, and examples are split by a hash (of the text for short items, of the document key for windows, so
one document never straddles splits). `holdout` leaves chosen documents out entirely: the cross-fitted
evaluation (`crossfit.py`) trains without the development documents it scores.

The evaluation-only files (`annotations.EVAL_ONLY_FILES`: C4 validation, OpenWebText) are never read.
Chinese "other" text: THUCNews headlines (and digests of them) are the real Chinese non-music text in
shared/data, but no Chinese *prose* about other topics is, while the Chinese music side (MuChin descriptions,
song comments, ZIQI questions) is prose; trained on headlines alone, any long Chinese text scored as music
(demo Chinese accuracy 0.61). So the two optional sources outside shared/data stay on when this machine has
them (`BuildConfig.zh_locale_dir`: human translations in gettext catalogs; `BuildConfig.zh_vocab_dict`: words
by frequency from jieba's dictionary); when absent the build goes on and `stats.json` says so under
`optional_sources`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from corpus.classify.annotations import MIXED, load_labels
from corpus.classify.documents import ADJACENT, DOC_READERS, Document, LexiconRule, lexicon_doc_label
from corpus.classify.lexicon import music_hits
from corpus.classify.sources import (
    MUSIC,
    OTHER,
    READERS,
    ZH_LOCALE_DIR,
    Example,
    SourceUnavailable,
    default_shared_data,
    read_zh_locale_messages,
    read_zh_vocab_bags,
)
from corpus.classify.text import prepare_text
from corpus.classify.windows import split_windows

log = logging.getLogger(__name__)

SPLITS = ("train", "valid", "test")
DocKey = tuple[str, "str | int"]


@dataclass(frozen=True)
class BuildConfig:
    seed: int = 0
    max_per_source: int = 6000  # cap per (source, label) so no single source dominates its class
    valid_pct: int = 10
    test_pct: int = 10
    min_chars: int = 3
    window_chars: int = 300  # documents are cut into the scoring windows (`ScoringConfig` defaults)
    min_window_chars: int = 100
    max_windows_per_doc: int = 40  # a long article's windows past this are left out (`capped`)
    use_hand_labels: bool = True  # hand labels (annotations/labels.jsonl) label their documents for training
    lexicon_rule: LexiconRule = field(default_factory=LexiconRule)
    # Chinese non-music text from the system's gettext catalogs (optional; None or a missing folder: skipped).
    zh_locale_dir: str | None = ZH_LOCALE_DIR
    zh_locale_max: int = 3500  # cap for that source, so software messages do not dominate the Chinese side
    # General Chinese vocabulary bags from a jieba-format dictionary: "jieba" = the installed jieba's dict.txt,
    # a path = that file, None = off. Skipped when jieba / the file is missing.
    zh_vocab_dict: str | None = "jieba"
    zh_vocab_n: int = 2500

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BuildConfig:
        """The config as stored in `stats.json`."""
        kw = dict(d)
        if isinstance(kw.get("lexicon_rule"), dict):
            kw["lexicon_rule"] = LexiconRule(**kw["lexicon_rule"])
        return cls(**kw)


def split_of(text_key: str, valid_pct: int = 10, test_pct: int = 10) -> str:
    """Deterministic split from a hash of the normalised text (so duplicates never straddle splits)."""
    bucket = int.from_bytes(hashlib.blake2b(text_key.encode("utf-8"), digest_size=8).digest(), "big") % 100
    if bucket < test_pct:
        return "test"
    if bucket < test_pct + valid_pct:
        return "valid"
    return "train"


def _order_key(seed: int, key: str) -> bytes:
    return hashlib.blake2b(f"{seed}\x00{key}".encode(), digest_size=8).digest()


def clean_label_noise(ex: Example) -> tuple[Example | None, str]:
    """(example or None, action) for a short item: action `keep`, or `drop_leak` for an "other" item naming music."""
    if ex.label != OTHER or not music_hits(ex.text):
        return ex, "keep"
    return None, "drop_leak"


def _optional_sources(cfg: BuildConfig) -> list[tuple[str, str | None, Callable[[], Iterable[Example]]]]:
    """(name, configured path or None when disabled, reader) for the optional sources."""
    vocab = None if cfg.zh_vocab_dict in (None, "", "jieba") else cfg.zh_vocab_dict
    return [
        ("zh_locale_messages", cfg.zh_locale_dir, lambda: read_zh_locale_messages(cfg.zh_locale_dir or "")),
        ("zh_vocab_bags", cfg.zh_vocab_dict, lambda: read_zh_vocab_bags(vocab, n=cfg.zh_vocab_n)),
    ]


@dataclass
class SourceStats:
    read: int = 0  # short items, or windows of documents
    docs: int = 0  # documents read (document sources)
    too_short: int = 0
    drop_leak: int = 0
    held_out: int = 0  # windows of held-out documents
    mixed: int = 0  # windows of documents hand-labelled mixed (neither class)
    abstain: int = 0  # windows of documents the lexicon rule could not label
    duplicate: int = 0
    label_conflict: int = 0
    capped: int = 0
    balanced_out: int = 0
    labelled_by: dict[str, int] = field(default_factory=dict)  # documents per label origin: hand/category/lexicon
    kept: dict[str, int] = field(default_factory=dict)  # "label/split" -> n


@dataclass(frozen=True)
class DocWindows:
    """A document cut into scoring windows, with its label candidates (resolved per build by `_doc_label`)."""

    doc: Document
    windows: tuple[str, ...]
    lexicon: str | None


def read_documents(data: Path, cfg: BuildConfig) -> list[DocWindows]:
    """Every training document of the document sources, windowed, with its lexicon-rule label."""
    out: list[DocWindows] = []
    for read in DOC_READERS.values():
        for d in read(data):
            wins = tuple(w for w in split_windows(d.text, cfg.window_chars, cfg.min_window_chars) if w.strip())
            lex = None
            if d.prior in (None, ADJACENT):
                lex = lexicon_doc_label(list(wins), cfg.lexicon_rule, adjacent=d.prior == ADJACENT)
            out.append(DocWindows(d, wins, lex))
    return out


def hand_labels() -> dict[DocKey, str]:
    """(source, doc) -> music / mixed / other from annotations/labels.jsonl."""
    return {(lab.source, lab.doc): lab.label for lab in load_labels()}


def _doc_label(dw: DocWindows, labels: dict[DocKey, str]) -> tuple[str | None, str]:
    """(label or None, origin) for one document: hand label, then category prior, then lexicon rule."""
    hand = labels.get((dw.doc.source, dw.doc.doc))
    if hand is not None:
        return (None if hand == MIXED else hand), ("mixed" if hand == MIXED else "hand")
    if dw.doc.prior in (MUSIC, OTHER):
        return dw.doc.prior, "category"
    return dw.lexicon, ("lexicon" if dw.lexicon else "abstain")


@dataclass
class SourcePool:
    """Everything read from shared/data for one build configuration; reusable across holdouts (cross-fitting)."""

    short: list[list[Example]]
    documents: list[DocWindows]
    optional: dict[str, dict[str, Any]]


def read_pool(data: Path, cfg: BuildConfig) -> SourcePool:
    """Read the short-text sources, the optional ones that are switched on, and the windowed documents."""
    short: list[list[Example]] = [list(reader(data)) for reader in READERS.values()]
    optional: dict[str, dict[str, Any]] = {}
    for name, path, read in _optional_sources(cfg):
        if not path:
            optional[name] = {"status": "disabled"}
            continue
        try:
            examples = list(read())
        except SourceUnavailable as e:
            log.warning("optional source %s skipped: %s", name, e)
            optional[name] = {"status": "skipped", "path": path, "reason": str(e)}
            continue
        optional[name] = {"status": "used", "path": path, "read": len(examples)}
        short.append(examples)
    return SourcePool(short, read_documents(data, cfg), optional)


def build_training_set(shared_dir: str | Path | None, out_dir: str | Path, seed: int = 0,
                       config: BuildConfig | None = None, holdout: Iterable[DocKey] = (),
                       pool: SourcePool | None = None) -> dict[str, Any]:
    """Write `train/valid/test.jsonl` (text, label, source, lang) and `stats.json` to `out_dir`; return stats.

    `holdout`: (source, doc) keys of documents to leave out entirely (their windows are counted `held_out`).
    `pool`: sources already read with `read_pool` for this configuration (saves re-reading them).
    """
    cfg = config or BuildConfig(seed=seed)
    if cfg.seed != seed:
        cfg = BuildConfig(**{**asdict(cfg), "seed": seed})
    data = Path(shared_dir) if shared_dir else default_shared_data()
    if not data.is_dir():
        raise FileNotFoundError(f"shared data folder {data} not found: pass shared_dir or set MUSIC_SHARED_DATA")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    log.info("build_training_set config=%s data=%s", asdict(cfg), data)
    pool = pool or read_pool(data, cfg)
    held = set(holdout)
    labels = hand_labels() if cfg.use_hand_labels else {}

    stats: dict[str, SourceStats] = defaultdict(SourceStats)
    by_key: dict[str, tuple[Example, str]] = {}  # prepared text -> (example, split key)
    conflicts: set[str] = set()

    def add(ex: Example, split_key: str | None) -> None:
        st = stats[ex.source]
        key = prepare_text(ex.text)
        if len(key) < cfg.min_chars:
            st.too_short += 1
            return
        prev = by_key.get(key)
        if prev is not None:
            if prev[0].label != ex.label:
                conflicts.add(key)
                st.label_conflict += 1
            else:
                st.duplicate += 1
            return
        by_key[key] = (ex, split_key or key)

    for examples in pool.short:
        for ex in examples:
            stats[ex.source].read += 1
            cleaned, action = clean_label_noise(ex)
            if cleaned is None:
                setattr(stats[ex.source], action, getattr(stats[ex.source], action) + 1)
                continue
            add(cleaned, None)
    for dw in pool.documents:
        d = dw.doc
        st = stats[d.source]
        st.docs += 1
        st.read += len(dw.windows)
        if (d.source, d.doc) in held:
            st.held_out += len(dw.windows)
            continue
        label, origin = _doc_label(dw, labels)
        st.labelled_by[origin] = st.labelled_by.get(origin, 0) + 1
        if label is None:
            if origin == "mixed":
                st.mixed += len(dw.windows)
            else:
                st.abstain += len(dw.windows)
            continue
        wins = dw.windows[: cfg.max_windows_per_doc]
        st.capped += len(dw.windows) - len(wins)
        for w in wins:
            add(Example(d.source, label, d.lang, w), f"{d.source}\x00{d.doc}")
    for key in conflicts:
        ex, _ = by_key.pop(key)
        stats[ex.source].label_conflict += 1

    # Cap each (source, label) group, taking a seeded but order-independent subset.
    groups: dict[tuple[str, str], list[tuple[str, Example, str]]] = defaultdict(list)
    for key, (ex, split_key) in by_key.items():
        groups[(ex.source, ex.label)].append((key, ex, split_key))
    for g, items in groups.items():
        items.sort(key=lambda kv: _order_key(cfg.seed, kv[0]))
        cap = cfg.zh_locale_max if g[0] == "zh_locale_messages" else cfg.max_per_source
        if len(items) > cap:
            stats[g[0]].capped += len(items) - cap
            del items[cap:]

    # Balance classes within each language: shrink every group of the larger class by the same fraction (a
    # language whose music side outweighs its other side would otherwise learn "Chinese means music").
    def lang_of(items: list[tuple[str, Example, str]]) -> str:
        return Counter(ex.lang for _, ex, _ in items).most_common(1)[0][0] if items else ""

    totals: Counter[tuple[str, str]] = Counter()
    for (_, label), items in groups.items():
        totals[(lang_of(items), label)] += len(items)
    for lang in sorted({lang for lang, _ in totals}):
        big, small = (MUSIC, OTHER) if totals[(lang, MUSIC)] >= totals[(lang, OTHER)] else (OTHER, MUSIC)
        frac = totals[(lang, small)] / totals[(lang, big)] if totals[(lang, big)] else 1.0
        for (src, label), items in groups.items():
            if label == big and frac < 1.0 and lang_of(items) == lang:
                n = round(len(items) * frac)
                stats[src].balanced_out += len(items) - n
                del items[n:]

    rows: dict[str, list[dict[str, str]]] = {s: [] for s in SPLITS}
    for (src, label), items in sorted(groups.items()):
        for _, ex, split_key in items:
            sp = split_of(split_key, cfg.valid_pct, cfg.test_pct)
            rows[sp].append({"text": ex.text, "label": ex.label, "source": ex.source, "lang": ex.lang})
            k = f"{label}/{sp}"
            stats[src].kept[k] = stats[src].kept.get(k, 0) + 1
    for sp, rs in rows.items():
        rs.sort(key=lambda r: _order_key(cfg.seed, r["text"]))  # shuffled, reproducible order
        with open(out / f"{sp}.jsonl", "w", encoding="utf-8") as f:
            for r in rs:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")

    summary = {
        "config": asdict(cfg),
        "shared_dir": str(data),
        "held_out_documents": len(held),
        "sources": {s: asdict(v) for s, v in sorted(stats.items())},
        "optional_sources": pool.optional,
        "splits": {sp: dict(Counter(r["label"] for r in rs)) for sp, rs in rows.items()},
        "leaks": {
            "drop_leak": sum(v.drop_leak for v in stats.values()),
            "abstain": sum(v.abstain for v in stats.values()),
            "label_conflict": sum(v.label_conflict for v in stats.values()),
        },
    }
    (out / "stats.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    return summary


def read_split(path: str | Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
