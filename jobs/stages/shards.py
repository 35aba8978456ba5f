"""The shards stage: the mix's training documents become Megatron `.bin/.idx` shards and blend files.

1. Prepare: the tokenizer. A Hugging Face tokenizer directory (`shards.tokenizer`, e.g. Qwen3 from
   ../shared/tokenizers) gets the domain special tokens (`<|profile|>`, `<|state|>`, `<|item|>`,
   `<|feedback|>`); without one, a byte-level BPE is trained on the mix's documents (the demo). Either
   way it is saved under `tokenizer/` with its vocabulary size for embedding resizing, and every task
   loads that copy.
   Before it, the held-out split rule: every document goes to train, valid or test by a hash of its
   base doc id (the split rule, below); the per-prefix thresholds are written to `_splits.json`.
2. Tasks (one per mix part, any engine; Spark runs them as partitions): each (curriculum stage,
   source, split) in the part is tokenized into its own partial shard, EOD after each document, with the
   no-loss spans as an aligned loss-mask sidecar (`<prefix>_lossmask.bin/.idx`, 1 = takes loss).
3. Finalize: the partial shards of each (stage, source, split) are merged in part order (streamed by
   megatron-core's `IndexedDatasetBuilder.add_index`) into `stage<N>/<source>` (train),
   `stage<N>/valid/<source>` and `stage<N>/test/<source>`; then the blend files
   (`blends/stage<N>.data_args.txt` for `--data-args-path`, train only; `blends/stage<N>.per_split.json`
   for `--per-split-data-args-path`, with the valid and test prefixes; `blends/mixed.*`, all stages in
   one blend; weights = each prefix's share of the stage's tokens, since the mix has already applied the
   budgets and repeats), `blends/blend_manifest.json` (tokens per prefix) and `_projection.md`
   (core-hours and wall time to tokenize 50B tokens, from this run's throughput).

The split rule. A document's split depends only on its base doc id (the mix's repeat suffix `~k`
stripped, so the copies of a document never straddle splits) and on thresholds of its (stage, source)
prefix: with h = xxh3-64 of the salted base id, a document is valid iff h < valid_below, else test iff
h >= test_from. For a prefix of N base documents, valid_below = max(valid_fraction * 2^64, just above the
m-th smallest h) with m = min(min_valid_documents, floor(max_heldout_share * N / 2)), and test_from, from
the top of the hash range, likewise. The thresholds depend on the set of the prefix's base ids only, not
on how the mix is cut into parts or in what order rows come, so every partitioning and engine gives the
same splits; in a prefix large enough that the fraction exceeds the minimum, a document's split is a
function of its id alone (adding documents never moves one between splits).
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
import warnings
from collections import defaultdict
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xxhash
from pydantic import Field, model_validator

from jobs.outputs import part_files
from jobs.settings import StrictModel, expand_path
from jobs.stage import Engine, SourceTally, Stage, StageCounts

TOKENIZER_DIR = "tokenizer"
PARTIAL_DIR = "_partial"
BLEND_DIR = "blends"
PROJECTION = "_projection"
SPLITS_FILE = "_splits.json"
SPLITS = ("train", "valid", "test")
HASH_SPACE = 1 << 64
_HASH_SALT = b"music-llm heldout split\x00"  # keeps this hash independent of other uses of the same ids
_REPEAT = re.compile(r"~[0-9]+$")  # the mix's repeat suffix: copy k > 0 of <doc_id> is <doc_id>~<k>

if TYPE_CHECKING:
    from jobs.config import RunConfig


def _quiet_megatron() -> None:
    """megatron-core warns at import that Transformer Engine and Apex are absent (shard I/O needs neither) and logs
    a few INFO lines per index it opens (hundreds per merge): keep both out of the run's log."""
    warnings.filterwarnings("ignore", message=".*Transformer Engine and Apex are not installed.*")
    for name in ("megatron", "megatron_fsdp"):
        if logging.getLogger(name).level == logging.NOTSET:
            logging.getLogger(name).setLevel(logging.WARNING)


class ShardsConfig(StrictModel):
    """Tokenizer and shard settings."""
    enabled: bool = True
    # a Hugging Face tokenizer directory ({shared} = ../shared/data, so "{shared}/../tokenizers/qwen3");
    # None: train a byte-level BPE on the mix's documents
    tokenizer: str | None = None
    train_vocab_size: int = Field(8000, ge=300)
    train_max_documents: int = Field(50_000, ge=1, description="documents (in part order) the demo BPE learns from")
    batch_size: int = Field(1024, ge=1)
    loss_mask: bool = True
    projection_tokens: float = 50e9
    # held-out documents per (stage, source) prefix (the split rule: module docstring)
    valid_fraction: float = Field(0.01, ge=0, le=1, description="share of base documents in valid (by hash)")
    test_fraction: float = Field(0.01, ge=0, le=1, description="share of base documents in test (by hash)")
    min_valid_documents: int = Field(20, ge=0, description="at least this many valid base documents per prefix")
    min_test_documents: int = Field(20, ge=0, description="at least this many test base documents per prefix")
    max_heldout_share: float = Field(0.2, ge=0, le=1, description="the minimums take at most this share of a "
                                     "prefix's base documents, half each for valid and test")  # fmt: skip

    @model_validator(mode="after")
    def _fractions_leave_train(self) -> ShardsConfig:
        if self.valid_fraction + self.test_fraction >= 1:
            raise ValueError(f"shards.valid_fraction + shards.test_fraction = {self.valid_fraction + self.test_fraction} "
                             "leaves no training documents; keep the sum below 1 (defaults 0.01 + 0.01)")  # fmt: skip
        return self


def prefix_name(stage: int, source: str, split: str = "train") -> str:
    """`stage<N>/<source>` (train), `stage<N>/valid/<source>` or `stage<N>/test/<source>`, the source made safe
    for a file name (a source named `valid` stays `stage<N>/valid.bin`, apart from the folder)."""
    if split not in SPLITS:
        raise ValueError(f"split {split!r}: one of {SPLITS}")
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", source)
    return f"stage{stage}/{safe}" if split == "train" else f"stage{stage}/{split}/{safe}"


# ------------------------------------------------------------------------------------------ the split rule
def base_doc_id(doc_id: str) -> str:
    """The document a mix row copies: `<doc_id>~<k>` -> `<doc_id>`; other ids unchanged."""
    return _REPEAT.sub("", doc_id)


def split_hashes(doc_ids: list[str]) -> np.ndarray:
    """uint64 hash of each row's base doc id (repeats of one document get the same value)."""
    h = xxhash.xxh3_64_intdigest
    return np.fromiter((h(_HASH_SALT + base_doc_id(d).encode()) for d in doc_ids), dtype=np.uint64, count=len(doc_ids))


@dataclass(frozen=True)
class SplitRule:
    """One prefix's thresholds: valid iff hash < valid_below, else test iff hash >= test_from, else train."""

    valid_below: int
    test_from: int
    base_documents: int | None = None  # N, when the minimums needed it

    def split_codes(self, hashes: np.ndarray) -> np.ndarray:
        """0 = train, 1 = valid, 2 = test per row (valid wins where the two ranges meet in a tiny prefix)."""
        codes = np.zeros(len(hashes), dtype=np.int8)
        if self.test_from < HASH_SPACE:
            codes[hashes >= np.uint64(self.test_from)] = 2
        if self.valid_below >= HASH_SPACE:
            codes[:] = 1
        elif self.valid_below > 0:
            codes[hashes < np.uint64(self.valid_below)] = 1
        return codes


def split_rule(cfg: ShardsConfig, base_documents: int | None = None, smallest: np.ndarray | None = None,
               largest: np.ndarray | None = None) -> SplitRule:  # fmt: skip
    """A prefix's thresholds from its number of base documents and its lowest / highest base-id hashes
    (ascending / descending, at least as many as the minimums need); without them, the fractions alone."""
    valid_below = math.floor(cfg.valid_fraction * HASH_SPACE)
    test_from = HASH_SPACE - math.floor(cfg.test_fraction * HASH_SPACE)
    if base_documents:
        cap = math.floor(cfg.max_heldout_share * base_documents / 2)
        mv, mt = min(cfg.min_valid_documents, cap), min(cfg.min_test_documents, cap)
        if mv:
            valid_below = max(valid_below, int(smallest[mv - 1]) + 1)
        if mt:
            test_from = min(test_from, int(largest[mt - 1]))
    return SplitRule(valid_below, test_from, base_documents)


def read_split_rules(shards_dir: str | Path) -> dict[str, SplitRule]:
    """The SplitRule of each "<stage>\t<source>" key of a shards folder (`_splits.json`); any other key gets the
    fractions-only rule. `rules[f"{stage}\t{source}"].split_codes(split_hashes(doc_ids))` replays the split."""
    data = json.loads((Path(shards_dir) / SPLITS_FILE).read_text())
    default = SplitRule(**data["default"])
    return defaultdict(lambda: default, {k: SplitRule(**v) for k, v in data["prefixes"].items()})


def _keep_extremes(a: np.ndarray, k: int, largest: bool) -> np.ndarray:
    """The k smallest (or largest) values of `a`, sorted from the extreme inwards."""
    a = np.sort(a)
    return a[::-1][:k].copy() if largest else a[:k].copy()


class ShardsStage(Stage):
    name = "shards"
    transient = ("parts", "_tok", "_rules")
    requires = ("mix",)

    @classmethod
    def from_run(cls, run: RunConfig, out: Path) -> ShardsStage:
        return cls(run.shards, out / "mix")

    @classmethod
    def enabled(cls, run: RunConfig) -> bool:
        return run.shards.enabled and run.mix.enabled  # the shards are the mix's

    def __init__(self, cfg: ShardsConfig, mix_dir: Path):
        self.cfg = cfg
        self.mix_dir = mix_dir
        self._tok: Any = None
        self._rules: dict[str, SplitRule] | None = None


    @cached_property
    def parts(self) -> list[Path]:
        return part_files(self.mix_dir / "training_documents")

    def tokenizer_path(self) -> Path | None:
        if self.cfg.tokenizer is None:
            return None

        p = Path(expand_path(self.cfg.tokenizer, Path("."))).resolve()
        if not p.exists():
            raise FileNotFoundError(f"shards.tokenizer: {p} does not exist; point it at a Hugging Face tokenizer "
                                    f"directory (e.g. ../shared/tokenizers/qwen3) or leave it unset to train a BPE")  # fmt: skip
        return p

    def config(self) -> dict:
        cfg = self.cfg.model_dump(mode="json")
        cfg["resolved_tokenizer"] = str(self.tokenizer_path())
        return cfg

    def input_files(self) -> list[Path]:
        tok = self.tokenizer_path()
        return self.parts + (sorted(f for f in tok.iterdir() if f.is_file()) if tok else [])

    def after_skip(self, final_dir: Path) -> None:
        from tokenizer.blend import blend_root

        root = blend_root(final_dir / BLEND_DIR)
        if root is not None and Path(root) != final_dir.resolve():
            logging.getLogger("music_corpus").warning(
                "shards: the blend files point to %s, not to this folder (%s): run `music-corpus blends %s` to "
                "rewrite them for this location", root, final_dir.resolve(), final_dir)

    def plan(self) -> list[Path]:
        if not self.parts:
            raise FileNotFoundError(f"shards: no training documents under {self.mix_dir}; run the mix stage first")
        return self.parts

    def prepare(self, work_dir: Path, engine: Engine) -> None:
        self._prepare_splits(work_dir)
        self._prepare_tokenizer(work_dir)

    def _needs_scan(self) -> bool:
        return bool(self.cfg.min_valid_documents or self.cfg.min_test_documents) and self.cfg.max_heldout_share > 0

    def _prepare_splits(self, work_dir: Path) -> None:
        """`_splits.json`: each prefix's SplitRule. The minimums need every prefix's number of base documents and
        its lowest and highest hashes: one pass over the `doc_id`, `stage`, `source` columns, keeping only those."""
        out = work_dir / SPLITS_FILE
        if out.exists():
            return
        rules: dict[str, dict] = {}
        if self._needs_scan():
            kv, kt = self.cfg.min_valid_documents, self.cfg.min_test_documents
            n: dict[str, int] = defaultdict(int)
            low: dict[str, np.ndarray] = {}
            high: dict[str, np.ndarray] = {}
            for part in self.parts:
                t = pq.read_table(part, columns=["doc_id", "stage", "source"])
                t = t.filter(pc.invert(pc.match_substring_regex(t.column("doc_id"), _REPEAT.pattern)))  # base rows
                keys = np.array([f"{st}\t{src}" for st, src in zip(t.column("stage").to_pylist(),
                                                                    t.column("source").to_pylist(), strict=True)],
                                dtype=object)  # fmt: skip
                hashes = split_hashes(t.column("doc_id").to_pylist())
                for key in sorted(set(keys.tolist())):
                    h = hashes[keys == key]
                    n[key] += len(h)
                    low[key] = _keep_extremes(np.concatenate([low.get(key, h[:0]), h]), kv, largest=False)
                    high[key] = _keep_extremes(np.concatenate([high.get(key, h[:0]), h]), kt, largest=True)
            for key in sorted(n):
                rules[key] = asdict(split_rule(self.cfg, n[key], low[key], high[key]))
        tmp = out.with_name(out.name + ".inprogress")
        tmp.write_text(json.dumps({"default": asdict(split_rule(self.cfg)), "prefixes": rules}, indent=2) + "\n")
        os.replace(tmp, out)

    def split_rules(self, work_dir: Path) -> dict[str, SplitRule]:
        """The SplitRule of each "stage\tsource" key written by prepare (the fractions alone for any other key)."""
        if self._rules is None:
            self._rules = read_split_rules(work_dir)
        return self._rules

    def _prepare_tokenizer(self, work_dir: Path) -> None:
        from tokenizer.load import load_tokenizer, train_bpe

        out = work_dir / TOKENIZER_DIR
        if (out / "tokenizer_meta.json").exists():
            return
        if (src := self.tokenizer_path()) is not None:
            tok = load_tokenizer(src)
        else:
            tok = train_bpe(self._training_texts(work_dir), vocab_size=self.cfg.train_vocab_size)
        tmp = work_dir / (TOKENIZER_DIR + ".inprogress")
        shutil.rmtree(tmp, ignore_errors=True)
        tok.save(tmp)
        os.replace(tmp, out)

    def _training_texts(self, work_dir: Path):
        """Train documents (in part order) for the demo BPE: no mix repeats (they would only reweight the BPE
        statistics) and nothing held out for valid or test."""
        left = self.cfg.train_max_documents
        rules = self.split_rules(work_dir)
        for p in self.parts:
            rows = pq.read_table(p, columns=["doc_id", "stage", "source", "text"]).to_pylist()
            keys = np.array([f"{r['stage']}\t{r['source']}" for r in rows], dtype=object)
            codes = np.zeros(len(rows), dtype=np.int8)
            for key in set(keys.tolist()):
                at = np.flatnonzero(keys == key)
                codes[at] = rules[key].split_codes(split_hashes([rows[i]["doc_id"] for i in at]))
            for r, code in zip(rows, codes.tolist(), strict=True):
                if left <= 0:
                    return
                if code == 0 and not _REPEAT.search(r["doc_id"]):
                    left -= 1
                    yield r["text"]

    def tokenizer(self, work_dir: Path):
        if self._tok is None:
            from tokenizer.load import load_tokenizer

            self._tok = load_tokenizer(work_dir / TOKENIZER_DIR)
        return self._tok

    def process(self, task_index: int, work_dir: Path) -> dict:
        from tokenizer.shards import tokenize_arrow_to_shard

        _quiet_megatron()
        tok = self.tokenizer(work_dir)
        rules = self.split_rules(work_dir)
        table = pq.read_table(self.parts[task_index], columns=["doc_id", "stage", "source", "text", "no_loss_spans"])
        keys = sorted({(int(s), str(src)) for s, src in zip(table.column("stage").to_pylist(), table.column("source").to_pylist(), strict=True)})
        groups = {}
        tally = SourceTally()
        per_split: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(SPLITS, 0))
        for stage, source in keys:
            sub = table.filter(pc.and_(pc.equal(table.column("stage"), stage), pc.equal(table.column("source"), source)))
            codes = rules[f"{stage}\t{source}"].split_codes(split_hashes(sub.column("doc_id").to_pylist()))
            for code, split in enumerate(SPLITS):
                rows = sub if (code == 0 and not codes.any()) else sub.filter(pa.array(codes == code))
                if rows.num_rows == 0:
                    continue
                prefix = work_dir / PARTIAL_DIR / prefix_name(stage, source, split) / f"part-{task_index:05d}"
                prefix.parent.mkdir(parents=True, exist_ok=True)
                st = tokenize_arrow_to_shard(tok, rows.to_batches(max_chunksize=self.cfg.batch_size), prefix,
                                             with_loss_mask=self.cfg.loss_mask)  # fmt: skip
                groups[f"{stage}\t{source}\t{split}"] = st.as_dict()
                per_split[source][split] += rows.num_rows
            tally.kept(source, sub.num_rows)
        by_source = tally.as_dict()
        for source, n in per_split.items():  # extra per-source counters pass through StageCounts, summed
            by_source[source]["split_documents"] = n
        stats = {"rows_in": table.num_rows, "groups": groups, "by_source": by_source}
        return stats

    def finalize(self, work_dir: Path, engine: Engine) -> StageCounts:
        _quiet_megatron()
        from tokenizer.blend import projection, projection_markdown, write_blend_files
        from tokenizer.shards import merge_shards

        counts = StageCounts()
        Key = tuple[int, str, str]  # (stage, source, split)
        totals: dict[Key, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        partials: dict[Key, list[Path]] = defaultdict(list)
        for i, st in enumerate(self.task_stats(work_dir)):
            counts.add_task(st)
            for key, g in st["groups"].items():
                stage, source, split = key.split("\t")
                k = (int(stage), source, split)
                partials[k].append(work_dir / PARTIAL_DIR / prefix_name(*k) / f"part-{i:05d}")
                for name, v in g.items():
                    totals[k][name] += v
        final_dir = work_dir.parent / self.name  # where the prefixes live once the stage commits
        blends: dict[str, dict[int, list[tuple[str, float, int]]]] = {s: defaultdict(list) for s in SPLITS}
        prefixes = []
        rules = self.split_rules(work_dir)
        for (stage, source, split), files in sorted(partials.items(), key=lambda kv: (kv[0][0], kv[0][1], SPLITS.index(kv[0][2]))):
            rel = prefix_name(stage, source, split)
            out = work_dir / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            merged = merge_shards([str(f) for f in files], out)
            t = totals[(stage, source, split)]
            if int(t["documents"]) != merged.documents:
                raise AssertionError(f"shards {rel}: merged {merged.documents} documents, tasks wrote {int(t['documents'])}")
            blends[split][stage].append((rel, float(t["tokens"]), int(t["tokens"])))
            prefixes.append({"prefix": rel, "stage": stage, "source": source, "split": split,
                             **{k: int(v) if k != "seconds" else round(v, 3) for k, v in t.items()}})  # fmt: skip
        shutil.rmtree(work_dir / PARTIAL_DIR, ignore_errors=True)
        # Megatron needs absolute prefixes; `music-corpus blends` rewrites them if the folder moves
        manifest = write_blend_files(work_dir / BLEND_DIR, dict(blends["train"]), dict(blends["valid"]),
                                     dict(blends["test"]), root=final_dir.resolve())  # fmt: skip
        tokens = sum(p["tokens"] for p in prefixes)
        seconds = sum(totals[k]["seconds"] for k in totals)
        by_split = {s: {"documents": sum(p["documents"] for p in prefixes if p["split"] == s),
                        "tokens": sum(p["tokens"] for p in prefixes if p["split"] == s),
                        "prefixes": sum(p["split"] == s for p in prefixes)} for s in SPLITS}  # fmt: skip
        split_rule_report = {"valid_fraction": self.cfg.valid_fraction, "test_fraction": self.cfg.test_fraction,
                             "min_valid_documents": self.cfg.min_valid_documents,
                             "min_test_documents": self.cfg.min_test_documents,
                             "max_heldout_share": self.cfg.max_heldout_share,
                             "prefixes": {prefix_name(st, src): asdict(rules[f"{st}\t{src}"])
                                          for st, src in sorted({k[:2] for k in partials})}}  # fmt: skip
        tok = self.tokenizer(work_dir)
        proj = projection(tokens / seconds if seconds else 0.0, self.cfg.projection_tokens)
        report = {"tokenizer": tok.meta(), "prefixes": prefixes, "tokens": tokens, "splits": by_split,
                  "split_rule": split_rule_report, "blends": manifest, "tokenize_seconds": round(seconds, 3),
                  "projection": proj}  # fmt: skip
        (work_dir / "_report.json").write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS))
        (work_dir / f"{PROJECTION}.md").write_text(
            "# Tokenization projection\n\nMeasured in this run: " f"{tokens:,} tokens in {seconds:.1f} s of task time "
            f"(one core per task), tokenizer {tok.name} ({tok.vocab_size:,} ids).\n\n" + projection_markdown(proj) + "\n")  # fmt: skip
        (work_dir / "_README.md").write_text(shards_card(tok.meta(), prefixes, self.cfg, by_split))
        counts.tokens = tokens
        counts.datasets["documents"] = counts.rows_out
        counts.datasets["valid_documents"] = by_split["valid"]["documents"]
        counts.datasets["test_documents"] = by_split["test"]["documents"]
        counts.datasets["prefixes"] = len(prefixes)
        counts.bytes_in = sum(p.stat().st_size for p in self.parts)
        return counts


def shards_card(tok_meta: dict, prefixes: list[dict], cfg: ShardsConfig, by_split: dict | None = None) -> str:
    """The card of the shards folder: what each file is, the tokenizer, the split rule, and tokens per prefix."""
    lines = [
        "# Megatron shards", "",
        "Produced by the `music-corpus` shards stage (`jobs/stages/shards.py`) from `mix/training_documents`.", "",
        f"- Tokenizer: `{tok_meta['name']}` ({'trained here' if cfg.tokenizer is None else cfg.tokenizer}), "
        f"{tok_meta['vocab_size']:,} ids ({tok_meta['base_vocab_size']:,} before the added tokens "
        f"{', '.join(tok_meta['added_tokens']) or 'none'}); resize embeddings to `vocab_size`. EOD "
        f"`{tok_meta['eod_token']}` = {tok_meta['eod_id']}, also the saved tokenizer's `eos_token` (the original eos "
        f"`{tok_meta.get('original_eos_token')}` is in `tokenizer_meta.json`). Saved in `tokenizer/`.",
        "- `stage<N>/<source>.bin/.idx`: megatron-core indexed datasets, one document per mix row, EOD appended "
        "(empty documents: an entry with no tokens, as `preprocess_data.py` writes); `stage<N>/valid/<source>` and "
        "`stage<N>/test/<source>`: the held-out documents of that prefix, in the same format.",
        "- `stage<N>/.../<source>_lossmask.bin/.idx`: uint8 sidecar with the same lengths; 0 = no loss (template "
        "wording, profile and state lines), 1 = loss (EOD included). Read both with `tokenizer.shards.read_shard`.",
        "- `blends/stage<N>.data_args.txt` (`--data-args-path`, train only), `blends/stage<N>.per_split.json` "
        "(`--per-split-data-args-path`: train, valid, test), `blends/mixed.*` (all stages in one blend, each "
        "weighted by its tokens), `blends/blend_manifest.json` (tokens per prefix).",
        f"- Splits: a document is held out by a hash of its base doc id (mix repeats `~k` stripped, so repeats stay "
        f"together): {cfg.valid_fraction:g} valid and {cfg.test_fraction:g} test per (stage, source), at least "
        f"{cfg.min_valid_documents} valid and {cfg.min_test_documents} test documents where a prefix has "
        f"{math.ceil(2 * max(cfg.min_valid_documents, cfg.min_test_documents) / cfg.max_heldout_share) if cfg.max_heldout_share else 'any'}"
        f" base documents or more (fewer: {cfg.max_heldout_share:g} of them, half each); thresholds in `_splits.json`.",
        "- `_projection.md`: core-hours to tokenize 50B tokens at this run's rate; `_report.json`: all counts.", "",
    ]  # fmt: skip
    if by_split:
        lines += ["| split | prefixes | documents | tokens |", "|---|---|---|---|"]
        lines += [f"| {s} | {v['prefixes']} | {v['documents']:,} | {v['tokens']:,} |" for s, v in by_split.items()]
        lines.append("")
    lines += ["| prefix | split | documents | empty | tokens | no-loss tokens |", "|---|---|---|---|---|---|"]
    lines += [f"| `{p['prefix']}` | {p.get('split', 'train')} | {p['documents']:,} | {p['empty_documents']:,} | "
              f"{p['tokens']:,} | {p['no_loss_tokens']:,} |" for p in prefixes]  # fmt: skip
    return "\n".join(lines) + "\n"
