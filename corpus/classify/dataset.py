"""Build the labelled train/valid/test set for the music-domain classifier from real sources.

Steps (each counted per source in `stats.json`): read every source, clean label noise in the "other"
sources with the music lexicon (drop short items with any music term; relabel web chunks that are
clearly about music), drop exact duplicates and label conflicts, cap each source, balance the two
classes, and split by a hash of the normalised text (stable across runs and seeds).

Optional sources outside shared/data, the only Chinese non-music text available (`BuildConfig.zh_locale_dir`:
Chinese gettext catalogs; `BuildConfig.zh_vocab_dict`: jieba's word-frequency dictionary), are used when
present; when absent the build goes on without them and `stats.json` says so under `optional_sources`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from corpus.classify.lexicon import music_hits
from corpus.classify.sources import (
    MUSIC,
    OTHER,
    READERS,
    ZH_LOCALE_DIR,
    Example,
    SourceUnavailable,
    read_zh_locale_messages,
    read_zh_vocab_bags,
)
from corpus.classify.text import prepare_text

log = logging.getLogger(__name__)

SPLITS = ("train", "valid", "test")
# Web chunks that name this many distinct music terms are music writing (gig listings, album reviews).
WEB_SOURCES = ("c4", "openwebtext")


def default_shared_data() -> Path:
    """`$MUSIC_SHARED_DATA`, else `<repo>/../shared/data`."""
    env = os.environ.get("MUSIC_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


@dataclass(frozen=True)
class BuildConfig:
    seed: int = 0
    max_per_source: int = 6000  # cap so no single source dominates its class
    relabel_min_hits: int = 3  # web chunk with >= this many distinct music terms -> relabelled music
    valid_pct: int = 10
    test_pct: int = 10
    min_chars: int = 3
    # Chinese non-music text from the system's gettext catalogs (optional; None or a missing folder: skipped).
    zh_locale_dir: str | None = ZH_LOCALE_DIR
    zh_locale_max: int = 3500  # cap for that source, so software messages do not dominate the Chinese side
    # General Chinese vocabulary bags from a jieba-format dictionary: "jieba" = the installed jieba's dict.txt,
    # a path = that file, None = off. Skipped when jieba / the file is missing.
    zh_vocab_dict: str | None = "jieba"
    zh_vocab_n: int = 2500


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


def clean_label_noise(ex: Example, relabel_min_hits: int = 3) -> tuple[Example | None, str]:
    """(example or None, action) with action in keep / drop_leak / relabel_music."""
    if ex.label != OTHER:
        return ex, "keep"
    hits = music_hits(ex.text)
    if not hits:
        return ex, "keep"
    if ex.source in WEB_SOURCES and len(hits) >= relabel_min_hits:
        return Example(ex.source, MUSIC, ex.lang, ex.text), "relabel_music"
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
    read: int = 0
    too_short: int = 0
    drop_leak: int = 0
    relabel_music: int = 0
    duplicate: int = 0
    label_conflict: int = 0
    capped: int = 0
    balanced_out: int = 0
    kept: dict[str, int] = field(default_factory=dict)  # "label/split" -> n


def build_training_set(shared_dir: str | Path | None, out_dir: str | Path, seed: int = 0,
                       config: BuildConfig | None = None) -> dict[str, Any]:
    """Write `train/valid/test.jsonl` (text, label, source, lang) and `stats.json` to `out_dir`; return stats."""
    cfg = config or BuildConfig(seed=seed)
    if cfg.seed != seed:
        cfg = BuildConfig(**{**asdict(cfg), "seed": seed})
    data = Path(shared_dir) if shared_dir else default_shared_data()
    if not data.is_dir():
        raise FileNotFoundError(f"shared data folder {data} not found: pass shared_dir or set MUSIC_SHARED_DATA")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    log.info("build_training_set config=%s data=%s", asdict(cfg), data)

    sources: list[Iterable[Example]] = [reader(data) for reader in READERS.values()]
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
        sources.append(examples)

    stats: dict[str, SourceStats] = defaultdict(SourceStats)
    by_key: dict[str, Example] = {}
    conflicts: set[str] = set()
    for examples in sources:
        for ex in examples:
            st = stats[ex.source]
            st.read += 1
            key = prepare_text(ex.text)
            if len(key) < cfg.min_chars:
                st.too_short += 1
                continue
            cleaned, action = clean_label_noise(ex, cfg.relabel_min_hits)
            if action != "keep":
                setattr(st, action, getattr(st, action) + 1)
            if cleaned is None:
                continue
            prev = by_key.get(key)
            if prev is not None:
                if prev.label != cleaned.label:
                    conflicts.add(key)
                    st.label_conflict += 1
                else:
                    st.duplicate += 1
                continue
            by_key[key] = cleaned
    for key in conflicts:
        ex = by_key.pop(key)
        stats[ex.source].label_conflict += 1

    # Cap each (source, label) group, taking a seeded but order-independent subset.
    groups: dict[tuple[str, str], list[tuple[str, Example]]] = defaultdict(list)
    for key, ex in by_key.items():
        groups[(ex.source, ex.label)].append((key, ex))
    for g, items in groups.items():
        items.sort(key=lambda kv: _order_key(cfg.seed, kv[0]))
        cap = cfg.zh_locale_max if g[0] == "zh_locale_messages" else cfg.max_per_source
        if len(items) > cap:
            stats[g[0]].capped += len(items) - cap
            del items[cap:]

    # Balance classes: shrink every group of the larger class by the same fraction.
    totals = Counter()
    for (_, label), items in groups.items():
        totals[label] += len(items)
    big, small = (MUSIC, OTHER) if totals[MUSIC] >= totals[OTHER] else (OTHER, MUSIC)
    frac = totals[small] / totals[big] if totals[big] else 1.0
    for (src, label), items in groups.items():
        if label == big and frac < 1.0:
            n = round(len(items) * frac)
            stats[src].balanced_out += len(items) - n
            del items[n:]

    rows: dict[str, list[dict[str, str]]] = {s: [] for s in SPLITS}
    for (src, label), items in sorted(groups.items()):
        for key, ex in items:
            sp = split_of(key, cfg.valid_pct, cfg.test_pct)
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
        "sources": {s: asdict(v) for s, v in sorted(stats.items())},
        "optional_sources": optional,
        "splits": {sp: dict(Counter(r["label"] for r in rs)) for sp, rs in rows.items()},
        "leaks": {
            "drop_leak": sum(v.drop_leak for v in stats.values()),
            "relabel_music": sum(v.relabel_music for v in stats.values()),
            "label_conflict": sum(v.label_conflict for v in stats.values()),
        },
    }
    (out / "stats.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    return summary


def read_split(path: str | Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
