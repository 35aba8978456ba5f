"""The shards stage: the mix's training documents become Megatron `.bin/.idx` shards and blend files.

1. Prepare: the tokenizer. A Hugging Face tokenizer directory (`shards.tokenizer`, e.g. Qwen3 from
   ../shared/tokenizers) gets the domain special tokens (`<|profile|>`, `<|state|>`, `<|item|>`,
   `<|feedback|>`); without one, a byte-level BPE is trained on the mix's documents (the demo). Either
   way it is saved under `tokenizer/` with its vocabulary size for embedding resizing, and every task
   loads that copy.
2. Tasks (one per mix part, any engine; Spark runs them as partitions): each (curriculum stage,
   source) in the part is tokenized into its own partial shard, EOD after each document, with the
   no-loss spans as an aligned loss-mask sidecar (`<prefix>_lossmask.bin/.idx`, 1 = takes loss).
3. Finalize: the partial shards of each (stage, source) are merged in part order (streamed by
   megatron-core's `IndexedDatasetBuilder.add_index`) into `stage<N>/<source>`; then the blend files
   (`blends/stage<N>.data_args.txt` for `--data-args-path`, `blends/stage<N>.per_split.json` for
   `--per-split-data-args-path`, weights = each prefix's share of the stage's tokens, since the mix has
   already applied the budgets and repeats), `blends/blend_manifest.json` (tokens per prefix) and
   `_projection.md` (core-hours and wall time to tokenize 50B tokens, from this run's throughput).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import warnings
from collections import defaultdict
from functools import cached_property
from pathlib import Path
from typing import Any

import orjson
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field

from jobs.outputs import part_files, read_task_stats, save_task_stats
from jobs.stage import SourceTally, Stage, StageCounts

TOKENIZER_DIR = "tokenizer"
PARTIAL_DIR = "_partial"
BLEND_DIR = "blends"
PROJECTION = "_projection"


def _quiet_megatron() -> None:
    """megatron-core warns at import that Transformer Engine and Apex are absent (shard I/O needs neither) and logs
    a few INFO lines per index it opens (hundreds per merge): keep both out of the run's log."""
    warnings.filterwarnings("ignore", message=".*Transformer Engine and Apex are not installed.*")
    for name in ("megatron", "megatron_fsdp"):
        if logging.getLogger(name).level == logging.NOTSET:
            logging.getLogger(name).setLevel(logging.WARNING)


class ShardsConfig(BaseModel):
    """Tokenizer and shard settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    enabled: bool = True
    # a Hugging Face tokenizer directory ({shared} = ../shared/data, so "{shared}/../tokenizers/qwen3");
    # None: train a byte-level BPE on the mix's documents
    tokenizer: str | None = None
    train_vocab_size: int = Field(8000, ge=300)
    train_max_documents: int = Field(50_000, ge=1, description="documents (in part order) the demo BPE learns from")
    batch_size: int = Field(1024, ge=1)
    loss_mask: bool = True
    projection_tokens: float = 50e9


def prefix_name(stage: int, source: str) -> str:
    """`stage<N>/<source>` with the source made safe for a file name."""
    return f"stage{stage}/{re.sub(r'[^A-Za-z0-9_.-]+', '_', source)}"


class ShardsStage(Stage):
    name = "shards"

    def __init__(self, cfg: ShardsConfig, mix_dir: Path):
        self.cfg = cfg
        self.mix_dir = mix_dir
        self._tok: Any = None

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("parts", None)
        state["_tok"] = None
        return state

    @cached_property
    def parts(self) -> list[Path]:
        return part_files(self.mix_dir / "training_documents")

    def tokenizer_path(self) -> Path | None:
        if self.cfg.tokenizer is None:
            return None
        from jobs.config import expand_path  # noqa: PLC0415

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
        from tokenizer.blend import blend_root  # noqa: PLC0415

        root = blend_root(final_dir / BLEND_DIR)
        if root is not None and Path(root) != final_dir.resolve():
            logging.getLogger("music_corpus").warning(
                "shards: the blend files point to %s, not to this folder (%s): run `music-corpus blends %s` to "
                "rewrite them for this location", root, final_dir.resolve(), final_dir)

    def plan(self) -> list[Path]:
        if not self.parts:
            raise FileNotFoundError(f"shards: no training documents under {self.mix_dir}; run the mix stage first")
        return self.parts

    def prepare(self, work_dir: Path) -> None:
        from tokenizer.load import load_tokenizer, train_bpe  # noqa: PLC0415

        out = work_dir / TOKENIZER_DIR
        if (out / "tokenizer_meta.json").exists():
            return
        if (src := self.tokenizer_path()) is not None:
            tok = load_tokenizer(src)
        else:
            tok = train_bpe(self._training_texts(), vocab_size=self.cfg.train_vocab_size)
        tmp = work_dir / (TOKENIZER_DIR + ".inprogress")
        shutil.rmtree(tmp, ignore_errors=True)
        tok.save(tmp)
        os.replace(tmp, out)

    def _training_texts(self):
        left = self.cfg.train_max_documents
        for p in self.parts:
            for t in pq.read_table(p, columns=["doc_id", "text"]).to_pylist():
                if left <= 0:
                    return
                if "~" not in t["doc_id"]:  # a mix repeat would only reweight the BPE statistics
                    left -= 1
                    yield t["text"]

    def tokenizer(self, work_dir: Path):
        if self._tok is None:
            from tokenizer.load import load_tokenizer  # noqa: PLC0415

            self._tok = load_tokenizer(work_dir / TOKENIZER_DIR)
        return self._tok

    def run_task(self, task_index: int, work_dir: Path) -> dict:
        from tokenizer.shards import tokenize_arrow_to_shard  # noqa: PLC0415

        if (done := read_task_stats(work_dir, task_index)) is not None:
            return done
        _quiet_megatron()
        tok = self.tokenizer(work_dir)
        table = pq.read_table(self.parts[task_index], columns=["stage", "source", "text", "no_loss_spans"])
        keys = sorted({(int(s), str(src)) for s, src in zip(table.column("stage").to_pylist(), table.column("source").to_pylist(), strict=True)})
        groups = {}
        tally = SourceTally()
        for stage, source in keys:
            sub = table.filter(pc.and_(pc.equal(table.column("stage"), stage), pc.equal(table.column("source"), source)))
            prefix = work_dir / PARTIAL_DIR / prefix_name(stage, source) / f"part-{task_index:05d}"
            prefix.parent.mkdir(parents=True, exist_ok=True)
            st = tokenize_arrow_to_shard(tok, sub.to_batches(max_chunksize=self.cfg.batch_size), prefix,
                                         with_loss_mask=self.cfg.loss_mask)  # fmt: skip
            groups[f"{stage}\t{source}"] = st.as_dict()
            tally.kept(source, sub.num_rows)
        stats = {"rows_in": table.num_rows, "groups": groups, "by_source": tally.as_dict()}
        save_task_stats(work_dir, task_index, stats)
        return stats

    def finalize(self, work_dir: Path) -> StageCounts:
        _quiet_megatron()
        from tokenizer.blend import projection, projection_markdown, write_blend_files  # noqa: PLC0415
        from tokenizer.shards import merge_shards  # noqa: PLC0415

        counts = StageCounts()
        totals: dict[tuple[int, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
        partials: dict[tuple[int, str], list[Path]] = defaultdict(list)
        for i in range(len(self.parts)):
            st = read_task_stats(work_dir, i)
            counts.add_task(st)
            for key, g in st["groups"].items():
                stage, source = key.split("\t", 1)
                k = (int(stage), source)
                partials[k].append(work_dir / PARTIAL_DIR / prefix_name(*k) / f"part-{i:05d}")
                for name, v in g.items():
                    totals[k][name] += v
        final_dir = work_dir.parent / self.name  # where the prefixes live once the stage commits
        blends: dict[int, list[tuple[str, float, int]]] = defaultdict(list)
        prefixes = []
        for (stage, source), files in sorted(partials.items()):
            rel = prefix_name(stage, source)
            out = work_dir / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            merged = merge_shards([str(f) for f in files], out)
            t = totals[(stage, source)]
            if int(t["documents"]) != merged.documents:
                raise AssertionError(f"shards {rel}: merged {merged.documents} documents, tasks wrote {int(t['documents'])}")
            blends[stage].append((rel, float(t["tokens"]), int(t["tokens"])))
            prefixes.append({"prefix": rel, "stage": stage, "source": source, **{k: int(v) if k != "seconds" else round(v, 3)
                                                                                  for k, v in t.items()}})  # fmt: skip
        shutil.rmtree(work_dir / PARTIAL_DIR, ignore_errors=True)
        # Megatron needs absolute prefixes; `music-corpus blends` rewrites them if the folder moves
        manifest = write_blend_files(work_dir / BLEND_DIR, dict(blends), root=final_dir.resolve())
        tokens = sum(p["tokens"] for p in prefixes)
        seconds = sum(totals[k]["seconds"] for k in totals)
        tok = self.tokenizer(work_dir)
        proj = projection(tokens / seconds if seconds else 0.0, self.cfg.projection_tokens)
        report = {"tokenizer": tok.meta(), "prefixes": prefixes, "tokens": tokens, "blends": manifest,
                  "tokenize_seconds": round(seconds, 3), "projection": proj}  # fmt: skip
        (work_dir / "_report.json").write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS))
        (work_dir / f"{PROJECTION}.md").write_text(
            "# Tokenization projection\n\nMeasured in this run: " f"{tokens:,} tokens in {seconds:.1f} s of task time "
            f"(one core per task), tokenizer {tok.name} ({tok.vocab_size:,} ids).\n\n" + projection_markdown(proj) + "\n")  # fmt: skip
        (work_dir / "_README.md").write_text(shards_card(tok.meta(), prefixes, self.cfg))
        counts.tokens = tokens
        counts.datasets["documents"] = counts.rows_out
        counts.datasets["prefixes"] = len(prefixes)
        counts.bytes_in = sum(p.stat().st_size for p in self.parts)
        return counts


def shards_card(tok_meta: dict, prefixes: list[dict], cfg: ShardsConfig) -> str:
    """The card of the shards folder: what each file is, the tokenizer, and tokens per prefix."""
    lines = [
        "# Megatron shards", "",
        "Produced by the `music-corpus` shards stage (`jobs/stages/shards.py`) from `mix/training_documents`.", "",
        f"- Tokenizer: `{tok_meta['name']}` ({'trained here' if cfg.tokenizer is None else cfg.tokenizer}), "
        f"{tok_meta['vocab_size']:,} ids ({tok_meta['base_vocab_size']:,} before the added tokens "
        f"{', '.join(tok_meta['added_tokens']) or 'none'}); resize embeddings to `vocab_size`. EOD "
        f"`{tok_meta['eod_token']}` = {tok_meta['eod_id']}. Saved in `tokenizer/`.",
        "- `stage<N>/<source>.bin/.idx`: megatron-core indexed datasets, one document per mix row, EOD appended "
        "(empty documents: an entry with no tokens, as `preprocess_data.py` writes).",
        "- `stage<N>/<source>_lossmask.bin/.idx`: uint8 sidecar with the same lengths; 0 = no loss (template "
        "wording, profile and state lines), 1 = loss (EOD included). Read both with `tokenizer.shards.read_shard`.",
        "- `blends/stage<N>.data_args.txt` (`--data-args-path`), `blends/stage<N>.per_split.json` "
        "(`--per-split-data-args-path`), `blends/blend_manifest.json` (tokens per prefix).",
        "- `_projection.md`: core-hours to tokenize 50B tokens at this run's rate; `_report.json`: all counts.", "",
        "| prefix | documents | empty | tokens | no-loss tokens |", "|---|---|---|---|---|",
    ]  # fmt: skip
    lines += [f"| `{p['prefix']}` | {p['documents']:,} | {p['empty_documents']:,} | {p['tokens']:,} | {p['no_loss_tokens']:,} |"
              for p in prefixes]  # fmt: skip
    return "\n".join(lines) + "\n"
