"""The dedup stage: exact and MinHash near-duplicate clusters, plus evaluation-set contamination.

Runs between refine and select and, like every scoring stage, drops nothing: it writes one
`dedup_attributes` row per scored row, aligned with the refine part it comes from, and `select` keeps
one document per cluster (see `corpus.dedup.cluster` for the keeper policy and `corpus.dedup.lsh` for
the clustering rules).

1. Tasks (one per refine part, any engine): tokens, exact key, MinHash signature and LSH band keys of
   every row (`corpus.dedup`), and evaluation-set hits when decontamination is configured; written to
   `_sketch/part-NNNNN.parquet`.
2. Finalize: clusters over all sketches, on one node (numpy/scipy) or in Spark (connected components
   by alternating large-star/small-star rounds, nothing collected to the driver). Both give identical
   clusters. Then the aligned attribute parts, `_index/` (this version's dedup index: the previous
   index plus this version's kept documents) and `_report.md`/`_report.json`.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import Field
from pydantic.dataclasses import dataclass as pydantic_dataclass

from corpus.dedup import decontam as D
from corpus.dedup.driver import (
    INDEX_DIR,
    INDEX_META,
    SKETCH_DIR,
    SKETCH_SCHEMA,
    index_meta,
    previous_index_files,
)
from corpus.dedup.lsh import band_keys
from corpus.dedup.minhash import MinHasher
from corpus.ingest.op import PARQUET_WRITE_OPTIONS
from jobs.outputs import write_card
from jobs.settings import STRICT, StrictModel, op_config, shared_data_dir
from jobs.stage import Engine, SourceTally, Stage, StageCounts

_DONE = "_finalized.json"

if TYPE_CHECKING:
    from jobs.config import RunConfig


class EvalFile(StrictModel):
    """An evaluation set given as a file (JSONL, Parquet, CSV/TSV) rather than an ingested dataset."""
    path: str
    eval_set: str
    text_field: str | tuple[str, ...] = "text"
    id_field: str | None = None
    part_fields: tuple[str, ...] = ()
    optional: bool = False  # a missing optional file is reported, not an error


@pydantic_dataclass(frozen=True, config=STRICT)
class DecontamSettings(D.DecontamConfig):
    """Evaluation-set decontamination by long n-gram overlap: the op's own settings
    (`corpus.dedup.decontam.DecontamConfig`: ngram, min_tokens, min_matches, template_items) plus which
    evaluation sets to index."""

    enabled: bool = True
    eval_datasets: tuple[str, ...] = ("qa_items", "conversations")
    """Ingested datasets that are evaluation data (read from `<out>/ingest/<name>` when present)."""
    files: tuple[EvalFile, ...] = ()
    """Evaluation sets given as files."""
    providers: tuple[str, ...] = ("music_benchmarks",)
    """Evaluation sets built by installed packages: names of entry points in the `music_platform.decontam`
    group (or `module:function` paths), each a callable `(shared data folder) -> iterable of
    corpus.dedup.decontam.EvalItem`. The default,
    `music_benchmarks` (`eval.benchmarks:decontam_items`), is every item of our evaluation suite
    (MusicSimpleQA, the multiple-choice knowledge tasks, Q2I relevance), so none of them reaches training."""


class DedupConfig(StrictModel):
    """Near-duplicate and contamination settings (the defaults follow datatrove/NeMo practice)."""

    enabled: bool = True
    datasets: tuple[str, ...] = ("documents", "comments")
    # MinHash applies to these datasets; the others (short comments) are deduplicated exactly only
    near_dup_datasets: tuple[str, ...] = ("documents",)
    threshold: float = Field(0.8, gt=0.0, lt=1.0, description="Jaccard similarity of word 5-gram sets")
    # 256 permutations and a recall-leaning S-curve (23 bands x 11 rows at 0.8), with every candidate pair
    # verified on its signatures, measured best in `benchmarks/dedup_bench.py`: precision >= 0.958 and
    # recall >= 0.977 on the demo, C4 and MusicCaps reposts (128 / 0.5 / 0.5 gave recall 0.87-0.95)
    num_perm: int = Field(256, ge=16, le=1024)
    ngram: int = Field(5, ge=1, le=32)
    seed: int = 1
    # weights of false positives and false negatives when deriving bands x rows (datasketch optimal_param)
    fp_weight: float = 0.1
    fn_weight: float = 0.9
    verify: bool = True  # keep a candidate pair only if its estimated Jaccard reaches the threshold
    previous_index: str | None = Field(None, description="`dedup/_index` folder of a previous corpus version")
    batch_rows: int = Field(5_000, gt=0)
    decontam: DecontamSettings = DecontamSettings()
    # scheduling only (not part of the fingerprint): cluster on Spark when the run's engine is Spark
    spark_shuffle_partitions: int | None = None

    def lsh(self) -> tuple[int, int]:
        from corpus.dedup.lsh import lsh_params

        return lsh_params(self.threshold, self.num_perm, self.fp_weight, self.fn_weight)


DECONTAM_GROUP = "music_platform.decontam"


def decontam_provider(name: str):
    """The evaluation-set provider `name`: an entry point of the `music_platform.decontam` group, or a
    `module:function` path (for a driver where the project is importable but not installed)."""
    from importlib import import_module
    from importlib.metadata import entry_points

    if ":" in name:
        module, _, func = name.partition(":")
        try:
            return getattr(import_module(module), func)
        except (ImportError, AttributeError) as e:
            raise ValueError(f"dedup.decontam.providers: cannot load {name!r}: {e}") from e
    found = {ep.name: ep for ep in entry_points(group=DECONTAM_GROUP)}
    if name not in found:
        raise ValueError(f"dedup.decontam.providers: no provider {name!r} installed (entry-point group "
                         f"{DECONTAM_GROUP}: {sorted(found) or 'none'}); install the project (pip install -e .) "
                         f"or name it as module:function, e.g. eval.benchmarks:decontam_items")
    return found[name].load()


def _expand(path: str) -> Path:
    """`{shared}` in configured paths is the shared data folder (as in ingest source paths)."""

    return Path(path.replace("{shared}", str(shared_data_dir())))


class DedupStage(Stage):
    name = "dedup"
    transient = ("_hasher", "parts", "eval_sources")
    requires = ("refine",)

    @classmethod
    def from_run(cls, run: RunConfig, out: Path) -> DedupStage:
        return cls(run.dedup, out / "refine", ingest_dir=out / "ingest")

    def __init__(self, cfg: DedupConfig, refine_dir: Path, ingest_dir: Path | None = None):
        self.cfg = cfg
        self.refine_dir = refine_dir
        self.ingest_dir = ingest_dir  # where ingested eval datasets (qa_items, conversations) are found
        self._hasher: Any = None

    @cached_property
    def eval_sources(self) -> tuple[list[Path], list[str]]:
        """(eval files and ingested eval parts that exist, optional files that are missing)."""
        d = self.cfg.decontam
        found: list[Path] = []
        missing: list[str] = []
        if not d.enabled:
            return found, missing
        for name in d.providers:
            decontam_provider(name)  # an unknown provider fails here, before any work
        for ds in d.eval_datasets:
            if self.ingest_dir is not None and (self.ingest_dir / ds).exists():
                found += sorted((self.ingest_dir / ds).glob("part-*.parquet"))
        for f in d.files:
            p = _expand(f.path)
            if p.is_file():
                found.append(p)
            elif f.optional:
                missing.append(str(p))
            else:
                raise FileNotFoundError(
                    f"dedup.decontam.files: {p} not found (set optional: true to skip it)"
                )
        return found, missing

    @cached_property
    def decontam(self) -> Any:
        """The evaluation n-gram index, built once on the driver (None when there is no eval data)."""

        files, _ = self.eval_sources
        if not files and not self.cfg.decontam.providers:
            return None
        items: list = []
        d = self.cfg.decontam
        for ds in d.eval_datasets:
            parts = [p for p in files if self.ingest_dir is not None and p.parent == self.ingest_dir / ds]
            if parts:
                table = pa.concat_tables([pq.read_table(p) for p in parts])
                reader = D.eval_items_from_qa if ds == "qa_items" else D.eval_items_from_conversations
                items += reader(table, origin=str(self.ingest_dir / ds))
        for f in d.files:
            if (p := _expand(f.path)).is_file():
                items += D.eval_items_from_file(p, f.eval_set, f.text_field, f.id_field, f.part_fields)
        for name in d.providers:
            items += list(decontam_provider(name)(shared_data_dir()))
        return D.DecontamIndex.build(items, op_config(d, D.DecontamConfig)) if items else None


    @cached_property
    def parts(self) -> list[tuple[str, Path]]:
        out = []
        for ds in self.cfg.datasets:
            d = self.refine_dir / ds
            out += [(ds, p) for p in sorted(d.glob("part-*.parquet"))] if d.exists() else []
        return out

    def config(self) -> dict:
        cfg = self.cfg.model_dump(mode="json", exclude={"spark_shuffle_partitions", "batch_rows"})
        cfg["lsh"] = list(self.cfg.lsh())
        cfg["decontam_missing_files"] = self.eval_sources[1]
        if self.cfg.decontam.enabled and self.cfg.decontam.providers:  # the items, not just the names, decide a rerun
            cfg["decontam_index"] = self.decontam.digest if self.decontam is not None else None
        return cfg

    def input_files(self) -> list[Path]:
        prev = []
        if self.cfg.previous_index:  # checked here, so an unusable index fails before any work
            p = Path(self.cfg.previous_index)
            prev = [*previous_index_files(p, self.cfg), p / INDEX_META]
        return [p for _, p in self.parts] + prev + self.eval_sources[0]

    def plan(self) -> list[tuple[str, Path]]:
        _ = self.decontam  # built here, on the driver, and shipped with the stage
        return self.parts

    # ------------------------------------------------------------------ tasks
    def setup(self) -> None:
        """The MinHash sketcher, built once per worker process."""
        self._hasher = MinHasher(self.cfg.num_perm, self.cfg.ngram, self.cfg.seed)

    def process(self, task_index: int, work_dir: Path) -> dict:
        bands, rows = self.cfg.lsh()
        dataset, part = self.parts[task_index]
        near = dataset in self.cfg.near_dup_datasets
        out_path = work_dir / SKETCH_DIR / f"part-{task_index:05d}.parquet"
        out_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = out_path.with_name(out_path.name + ".inprogress")
        stats: Counter[str] = Counter()
        tally = SourceTally()  # dedup scores, never drops: every row of a source is in and out
        row0 = 0
        index = self.decontam
        min_matches = self.cfg.decontam.min_matches
        report = None
        if index is not None:
            from corpus.dedup.decontam import DecontamReport

            report = DecontamReport.for_index(index)
        pf = pq.ParquetFile(part)
        cols = ["doc_id", "source", "text", "domain_score"]
        with pq.ParquetWriter(tmp, SKETCH_SCHEMA, **PARQUET_WRITE_OPTIONS) as writer:
            for batch in pf.iter_batches(batch_size=self.cfg.batch_rows, columns=cols):
                texts = [t or "" for t in batch.column("text").to_pylist()]
                sk = self._hasher.sketch(texts)
                n = len(texts)
                has_sig = (sk.n_shingles > 0) if near else np.zeros(n, dtype=bool)
                keys = band_keys(sk.signatures, bands, rows)
                hits = [[] for _ in texts]
                if index is not None:
                    scans = index.scan(texts)
                    hits = [[f"{h.eval_set}/{h.item_id}" for h in dh.hits if h.contaminates(min_matches)]
                            for dh in scans]  # fmt: skip
                    report.add(batch.column("doc_id").to_pylist(), scans)
                stats["rows"] += n
                for src, k in Counter(batch.column("source").to_pylist()).items():
                    tally.kept(src, k)
                stats["no_tokens"] += int((sk.n_tokens == 0).sum())
                stats["shorter_than_ngram"] += int(((sk.n_tokens > 0) & (sk.n_tokens < self.cfg.ngram)).sum())
                stats["exact_only"] += int(((sk.n_tokens > 0) & ~has_sig).sum())
                stats["contaminated"] += sum(1 for h in hits if h)
                table = pa.Table.from_arrays([
                    batch.column("doc_id"), batch.column("source"), pa.array(np.full(n, task_index, np.int32)),
                    pa.array(np.arange(row0, row0 + n, dtype=np.int32)), pa.array([dataset] * n),
                    pa.array([len(t) for t in texts], pa.int64()), batch.column("domain_score").cast(pa.float64()),
                    pa.array(sk.n_tokens), pa.array(sk.exact_keys, pa.binary(16)), pa.array(has_sig),
                    pa.array([s.tobytes() for s in sk.signatures], pa.binary()),
                    pa.FixedSizeListArray.from_arrays(keys.reshape(-1), bands).cast(pa.list_(pa.int64())),
                    pa.array(hits, pa.list_(pa.string())),
                ], schema=SKETCH_SCHEMA)  # fmt: skip
                writer.write_table(table)
                row0 += n
        os.replace(tmp, out_path)
        result = {"rows_in": row0, "rows_out": row0, "dataset": dataset, **dict(stats), "by_source": tally.as_dict()}
        if report is not None:
            result["decontam"] = report.to_dict()
        return result

    # ------------------------------------------------------------------ global pass
    def finalize(self, work_dir: Path, engine: Engine) -> StageCounts:
        counts = self.sum_tasks(work_dir)
        task_stats = self.task_stats(work_dir)
        counts.bytes_in = sum(p.stat().st_size for _, p in self.parts)
        done = work_dir / _DONE
        if not done.exists():
            summary = engine.cluster_duplicates(self, work_dir)
            summary["tasks"] = _sum_task_stats(task_stats)
            summary["lsh"] = {"threshold": self.cfg.threshold, "num_perm": self.cfg.num_perm,
                              "bands": self.cfg.lsh()[0], "rows": self.cfg.lsh()[1], "ngram": self.cfg.ngram}  # fmt: skip
            summary["decontamination"] = decontam_summary(self, task_stats)
            (work_dir / "_report.json").write_bytes(
                orjson.dumps(summary, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
            )
            (work_dir / "_report.md").write_text(report_markdown(summary))
            (work_dir / INDEX_DIR / INDEX_META).write_bytes(orjson.dumps(index_meta(self.cfg)))
            tmp = done.with_name(done.name + ".inprogress")
            tmp.write_bytes(b"{}")
            os.replace(tmp, done)
        shutil.rmtree(work_dir / SKETCH_DIR, ignore_errors=True)
        for ds in self.cfg.datasets:
            d = work_dir / ds
            if d.exists():
                counts.datasets[f"dedup_attributes:{ds}"] = write_card(
                    d, "dedup_attributes", "`music-corpus` dedup stage (`jobs/stages/dedup.py`, `corpus/dedup`)",
                    notes=[f"Aligned row by row with `refine/{ds}/` parts of the same name. See `../_report.md`."],
                )  # fmt: skip
        idx_rows = sum(pq.ParquetFile(f).metadata.num_rows for f in (work_dir / INDEX_DIR).glob("*.parquet"))
        counts.datasets["dedup_index"] = idx_rows
        return counts


def decontam_summary(stage: DedupStage, task_stats: list[dict]) -> dict:
    """The merged per-task decontamination reports (or why none ran), with its Markdown."""
    from corpus.dedup.decontam import DecontamReport

    files, missing = stage.eval_sources
    if stage.decontam is None:
        why = "disabled" if not stage.cfg.decontam.enabled else "no evaluation data found"
        return {
            "enabled": False,
            "markdown": f"## Decontamination\n\nNot run: {why}.",
            "missing_files": missing,
        }
    report = DecontamReport.for_index(stage.decontam)
    for st in task_stats:
        if "decontam" in st:
            report = report.merge(DecontamReport.from_dict(st["decontam"]))
    md = report.to_markdown()
    if missing:
        md += "\n\nOptional evaluation files not found (skipped): " + ", ".join(f"`{m}`" for m in missing)
    return {"enabled": True, "report": report.to_dict(), "markdown": md, "missing_files": missing}


def _sum_task_stats(stats: list[dict]) -> dict:
    total: Counter[str] = Counter()
    for st in stats:
        total.update({k: v for k, v in st.items() if isinstance(v, int)})
    return dict(sorted(total.items()))


def report_markdown(summary: dict) -> str:
    lsh = summary["lsh"]
    lines = [
        "# Dedup report",
        "",
        f"MinHash: {lsh['num_perm']} permutations over word {lsh['ngram']}-grams (characters for CJK); "
        f"LSH {lsh['bands']} bands x {lsh['rows']} rows for Jaccard {lsh['threshold']}.",
        "",
        "| status | rows |",
        "|---|---|",
        *[f"| {k} | {v:,} |" for k, v in sorted(summary["statuses"].items())],
        "",
        f"Clusters with two or more members: {summary['clusters']:,} (largest {summary['largest_cluster']:,}). "
        f"Edges: {summary['edges']['exact']:,} exact, {summary['edges']['candidates']:,} MinHash candidates, "
        f"{summary['edges']['verified']:,} verified.",
        "",
        "| dataset | rows | dropped as duplicates |",
        "|---|---|---|",
        *[f"| {ds} | {v['rows']:,} | {v['dropped']:,} |" for ds, v in sorted(summary["by_dataset"].items())],
        "",
        "Per task: " + ", ".join(f"{k}={v:,}" for k, v in summary["tasks"].items()),
    ]
    if summary.get("previous_index_rows") is not None:
        lines += ["", f"Previous index: {summary['previous_index_rows']:,} documents."]
    if "decontamination" in summary:
        lines += ["", summary["decontamination"].get("markdown", "")]
    return "\n".join(lines) + "\n"
