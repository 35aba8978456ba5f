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
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field

from corpus.dedup import cluster as C
from corpus.ingest.op import PARQUET_WRITE_OPTIONS
from jobs.outputs import read_task_stats, save_task_stats, write_card
from jobs.stage import SourceTally, Stage, StageCounts
from schemas import get_schema

SKETCH_DIR = "_sketch"
INDEX_DIR = "_index"
INDEX_META = "_index.json"
_DONE = "_finalized.json"
PREVIOUS_PREFIX = "~"
INDEX_STATUSES = (
    C.UNIQUE,
    C.KEPT,
    C.NO_TOKENS,
)  # statuses whose rows enter this version's index  # node ids of a previous version's documents sort after every current id

SKETCH_SCHEMA = pa.schema([
    ("doc_id", pa.string()), ("source", pa.string()), ("part", pa.int32()), ("row", pa.int32()), ("dataset", pa.string()),
    ("n_chars", pa.int64()), ("score", pa.float64()), ("n_tokens", pa.int32()), ("exact_key", pa.binary(16)),
    ("has_signature", pa.bool_()), ("signature", pa.binary()), ("bands", pa.list_(pa.int64())),
    ("eval_hits", pa.list_(pa.string())),
])  # fmt: skip


class EvalFile(BaseModel):
    """An evaluation set given as a file (JSONL, Parquet, CSV/TSV) rather than an ingested dataset."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    path: str
    eval_set: str
    text_field: str | tuple[str, ...] = "text"
    id_field: str | None = None
    part_fields: tuple[str, ...] = ()
    optional: bool = False  # a missing optional file is reported, not an error


class DecontamSettings(BaseModel):
    """Evaluation-set decontamination by long n-gram overlap (`corpus.dedup.decontam`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    enabled: bool = True
    # ingested datasets that are evaluation data (read from <out>/ingest/<name> when present)
    eval_datasets: tuple[str, ...] = ("qa_items", "conversations")
    files: tuple[EvalFile, ...] = ()
    ngram: int = Field(13, ge=1)
    min_tokens: int = Field(8, ge=1)
    min_matches: int = Field(1, ge=1)


class DedupConfig(BaseModel):
    """Near-duplicate and contamination settings (the defaults follow datatrove/NeMo practice)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

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
        from corpus.dedup.lsh import lsh_params  # noqa: PLC0415

        return lsh_params(self.threshold, self.num_perm, self.fp_weight, self.fn_weight)


def _expand(path: str) -> Path:
    """`{shared}` in configured paths is the shared data folder (as in ingest source paths)."""
    from jobs.config import shared_data_dir  # noqa: PLC0415  (jobs.config imports this module)

    return Path(path.replace("{shared}", str(shared_data_dir())))


def index_meta(cfg: DedupConfig) -> dict:
    """What makes two indexes comparable: signatures of the same permutations over the same shingles."""
    return {"format": "dedup_index/1", "num_perm": cfg.num_perm, "ngram": cfg.ngram, "seed": cfg.seed,
            "hash": "xxh3-token-polynomial/affine32"}  # fmt: skip


def previous_index_files(path: Path, cfg: DedupConfig) -> list[Path]:
    """The previous version's index files, after checking it was built with the same MinHash settings
    (reads only `_index.json`)."""
    meta_path = path / INDEX_META
    if not meta_path.exists():
        raise FileNotFoundError(f"dedup.previous_index: {path} is not a dedup index (no {INDEX_META}); "
                                f"point it at the `dedup/{INDEX_DIR}` folder of an earlier run")  # fmt: skip
    meta = orjson.loads(meta_path.read_bytes())
    want = index_meta(cfg)
    diff = {k: (meta.get(k), v) for k, v in want.items() if meta.get(k) != v}
    if diff:
        raise ValueError(f"dedup.previous_index {path} was built with other MinHash settings {diff} "
                         "(index, this run); signatures would not be comparable")  # fmt: skip
    return sorted(path.glob("*.parquet"))


def read_previous_index(path: Path, cfg: DedupConfig) -> pa.Table:
    """The previous version's index as one table, sorted by node id (single-node path)."""
    schema = get_schema("dedup_index").arrow_schema()
    tables = [pq.read_table(f, schema=schema) for f in previous_index_files(path, cfg)]
    return pa.concat_tables(tables).sort_by("node_id") if tables else schema.empty_table()


class DedupStage(Stage):
    name = "dedup"

    def __init__(
        self, cfg: DedupConfig, refine_dir: Path, engine: Any = None, ingest_dir: Path | None = None
    ):
        self.cfg = cfg
        self.refine_dir = refine_dir
        self.engine = engine  # SparkEngine: cluster in Spark; anything else: on this node
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
        from corpus.dedup import decontam as D  # noqa: PLC0415

        files, _ = self.eval_sources
        if not files:
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
        cfg = D.DecontamConfig(ngram=d.ngram, min_tokens=d.min_tokens, min_matches=d.min_matches)
        return D.DecontamIndex.build(items, cfg)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["engine"] = None
        state["_hasher"] = None
        state.pop("parts", None)
        state.pop("eval_sources", None)  # the built index itself travels (a few MB), its sources do not
        return state

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
    def run_task(self, task_index: int, work_dir: Path) -> dict:
        if (done := read_task_stats(work_dir, task_index)) is not None:
            return done
        from corpus.dedup.lsh import band_keys  # noqa: PLC0415
        from corpus.dedup.minhash import MinHasher  # noqa: PLC0415

        if self._hasher is None:
            self._hasher = MinHasher(self.cfg.num_perm, self.cfg.ngram, self.cfg.seed)
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
            from corpus.dedup.decontam import DecontamReport  # noqa: PLC0415

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
        save_task_stats(work_dir, task_index, result)
        return {"rows_in": row0, "rows_out": row0}

    # ------------------------------------------------------------------ global pass
    def finalize(self, work_dir: Path) -> StageCounts:
        counts = StageCounts()
        task_stats = [read_task_stats(work_dir, i) for i in range(len(self.parts))]
        for st in task_stats:
            counts.add_task(st)
        counts.bytes_in = sum(p.stat().st_size for _, p in self.parts)
        done = work_dir / _DONE
        if not done.exists():
            if self.engine is not None and getattr(self.engine, "name", "") == "spark":
                from jobs.spark.dedup import cluster_in_spark  # noqa: PLC0415

                summary = cluster_in_spark(self.engine.spark, self, work_dir)
            else:
                summary = cluster_locally(self, work_dir)
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
    from corpus.dedup.decontam import DecontamReport  # noqa: PLC0415

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


# ---------------------------------------------------------------------- single-node clustering
def _read_sketches(work_dir: Path) -> pa.Table:
    files = sorted((work_dir / SKETCH_DIR).glob("part-*.parquet"))
    tables = [pq.read_table(f, schema=SKETCH_SCHEMA) for f in files]
    return pa.concat_tables(tables) if tables else SKETCH_SCHEMA.empty_table()


def cluster_locally(stage: DedupStage, work_dir: Path) -> dict:
    """Cluster all sketches in this process and write the aligned attribute parts and the index."""
    import pyarrow.compute as pc  # noqa: PLC0415

    from corpus.dedup.lsh import band_keys  # noqa: PLC0415
    from corpus.dedup.minhash import signatures_from_binary  # noqa: PLC0415

    cfg = stage.cfg
    t = _read_sketches(work_dir)
    n_rows = t.num_rows
    # rows whose id an earlier row (in part, row order) already had take no part in clustering
    order = pc.sort_indices(
        t, [("doc_id", "ascending"), ("part", "ascending"), ("row", "ascending")]
    ).to_numpy()
    ids_sorted = t.column("doc_id").take(order).to_numpy(zero_copy_only=False)
    first = np.ones(n_rows, dtype=bool)
    first[1:] = ids_sorted[1:] != ids_sorted[:-1]
    node_rows = order[first]  # row of each node, nodes in doc_id order
    first_row_of = order[
        np.flatnonzero(first)[np.cumsum(first) - 1]
    ]  # first occurrence's row, per sorted row
    prev = read_previous_index(Path(cfg.previous_index), cfg) if cfg.previous_index else None
    n_prev = prev.num_rows if prev is not None else 0
    cur = t.take(pa.array(node_rows))
    # nodes in id order: current ids, then previous ids (prefixed, so they sort last)
    node_cols = ["node_id", "exact_key", "signature", "has_signature", "n_tokens", "score", "n_chars"]
    nodes = cur.select(["doc_id", *node_cols[1:]]).rename_columns(node_cols)
    if n_prev:
        prev_nodes = pa.table({
            "node_id": pa.array([PREVIOUS_PREFIX + x for x in prev.column("node_id").to_pylist()]),
            **{c: prev.column(c) for c in node_cols[1:5]},
            "score": pa.array(np.zeros(n_prev)), "n_chars": pa.array(np.zeros(n_prev, np.int64)),
        })  # fmt: skip
        nodes = pa.concat_tables([nodes, prev_nodes.cast(nodes.schema)])

    def col(name: str) -> np.ndarray:
        return nodes.column(name).to_numpy(zero_copy_only=False)

    exact = np.array(nodes.column("exact_key").to_pylist(), dtype="S16")
    sigs = signatures_from_binary(nodes.column("signature").to_pylist(), cfg.num_perm)
    has_sig, has_tok = col("has_signature"), col("n_tokens") > 0
    rep, edges = C.cluster(
        exact, has_tok, sigs, has_sig, band_keys(sigs, *cfg.lsh()), cfg.threshold, cfg.verify
    )
    is_prev = np.zeros(len(exact), dtype=bool)
    is_prev[len(node_rows) :] = True
    keeper, size, has_prev = C.choose(rep, col("score").astype(np.float64), col("n_chars"), is_prev)
    status = C.statuses(rep, keeper, size, has_prev, exact, has_tok)
    node_ids = col("node_id").astype(object)
    # attributes per input row (back in part, row order)
    row_node = np.full(n_rows, -1, dtype=np.int64)
    row_node[node_rows] = np.arange(len(node_rows))
    dup_id_rows = order[~first]
    nid = row_node.copy()
    nid[dup_id_rows] = row_node[first_row_of[~first]]
    r_status = status[nid].copy()
    r_status[dup_id_rows] = C.DUP_ID
    r_cluster = node_ids[rep[nid]]
    r_size = size[nid].astype(np.int32)
    k = keeper[nid]
    r_dup_of = np.where((k >= 0) & (k != nid), node_ids[np.maximum(k, 0)], None)
    r_dup_of[dup_id_rows] = t.column("doc_id").to_numpy(zero_copy_only=False)[dup_id_rows]
    in_index = np.isin(r_status, INDEX_STATUSES)  # dup-id rows are never in it (their status is duplicate_id)
    attrs = pa.table({
        "doc_id": t.column("doc_id"), "source": t.column("source"), "dataset": t.column("dataset"),
        "dup_cluster_id": pa.array(r_cluster, pa.string()), "dup_cluster_size": pa.array(r_size),
        "dup_status": pa.array(r_status, pa.string()), "dup_of": pa.array(r_dup_of, pa.string()),
        "eval_hits": t.column("eval_hits"), "part": t.column("part"), "row": t.column("row"),
        "in_index": pa.array(in_index), "exact_key": t.column("exact_key"), "signature": t.column("signature"),
        "has_signature": t.column("has_signature"), "n_tokens": t.column("n_tokens"),
    })  # fmt: skip
    write_attribute_parts(stage, work_dir, attrs)
    copy_previous_index(cfg, work_dir)
    return summarize(
        r_status, t.column("dataset").to_numpy(zero_copy_only=False), r_cluster, r_size, edges, n_prev
    )


def summarize(
    status: np.ndarray, dataset: np.ndarray, cluster: np.ndarray, size: np.ndarray, edges: Any, n_prev: int
) -> dict:
    statuses = Counter(status.tolist())
    in_clusters = size > 1
    by_ds: dict[str, dict] = {}
    drop = np.isin(status, C.DROP_STATUSES)
    for ds in sorted(set(dataset.tolist())):
        m = dataset == ds
        by_ds[ds] = {"rows": int(m.sum()), "dropped": int((m & drop).sum())}
    return {
        "statuses": dict(sorted(statuses.items())),
        "clusters": len(set(cluster[in_clusters].tolist())),
        "largest_cluster": int(size.max()) if len(size) else 0,
        "edges": {
            "exact": int(edges.exact),
            "candidates": int(edges.candidates),
            "verified": int(edges.verified),
        },
        "by_dataset": by_ds,
        "previous_index_rows": n_prev if n_prev else None,
    }


def write_attribute_parts(stage: DedupStage, work_dir: Path, attrs: pa.Table) -> None:
    """Per refine part: its `dedup_attributes` file (rows in the part's order) and its share of this
    version's index (rows with `in_index`, sorted by id). `attrs` has part, row and the index columns;
    the Spark job calls `write_part_outputs` on its own partitions."""
    import pyarrow.compute as pc  # noqa: PLC0415

    attrs = attrs.take(pc.sort_indices(attrs, [("part", "ascending"), ("row", "ascending")]))
    parts = attrs.column("part").to_numpy()
    bounds = np.searchsorted(parts, np.arange(len(stage.parts) + 1))
    for i, (ds, path) in enumerate(stage.parts):
        write_part_outputs(work_dir, ds, path.name, attrs.slice(bounds[i], bounds[i + 1] - bounds[i]))


def write_part_outputs(work_dir: Path, dataset: str, name: str, rows: pa.Table) -> None:
    """The aligned attribute file and the index file of one part, from its rows in part order."""
    schema = get_schema("dedup_attributes").arrow_schema()
    write_attribute_part(work_dir / dataset / name, rows.select(schema.names).cast(schema))
    idx_schema = get_schema("dedup_index").arrow_schema()
    idx = rows.filter(rows.column("in_index"))
    table = pa.table({"node_id": idx.column("doc_id"), **{c: idx.column(c) for c in idx_schema.names[1:]}})
    table = table.sort_by("node_id").cast(idx_schema)
    write_attribute_part(work_dir / INDEX_DIR / f"{dataset}-{name}", table)


def copy_previous_index(cfg: DedupConfig, work_dir: Path) -> None:
    """This version's index holds the previous version's files too (renamed in order: `prev-NNNNN`)."""
    if not cfg.previous_index:
        return
    d = work_dir / INDEX_DIR
    d.mkdir(parents=True, exist_ok=True)
    for j, f in enumerate(sorted(Path(cfg.previous_index).glob("*.parquet"))):
        shutil.copyfile(f, d / f"prev-{j:05d}.parquet")


def write_attribute_part(path: Path, table: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".inprogress")
    pq.write_table(table, tmp, **PARQUET_WRITE_OPTIONS)
    os.replace(tmp, path)
