"""The dedup stage's single-node clustering driver and its index files (the Spark pass, built on the same
rules, is `jobs/spark/lib/dedup.py`).

The stage's tasks write MinHash sketches (`SKETCH_SCHEMA`) under `_sketch/`; `cluster_locally` reads them
all, clusters exact and near duplicates with `corpus.dedup.cluster` (and a previous corpus version's index),
and writes per refine part its aligned `dedup_attributes` file and its share of this version's index
(`_index/`, described by `_index.json`).
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from corpus.dedup import cluster as C
from corpus.dedup.lsh import band_keys
from corpus.dedup.minhash import signatures_from_binary
from corpus.ingest.op import PARQUET_WRITE_OPTIONS
from schemas import get_schema

SKETCH_DIR = "_sketch"
INDEX_DIR = "_index"
INDEX_META = "_index.json"
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


def index_meta(cfg: Any) -> dict:
    """What makes two indexes comparable: signatures of the same permutations over the same shingles."""
    return {"format": "dedup_index/1", "num_perm": cfg.num_perm, "ngram": cfg.ngram, "seed": cfg.seed,
            "hash": "xxh3-token-polynomial/affine32"}  # fmt: skip


def previous_index_files(path: Path, cfg: Any) -> list[Path]:
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


def read_previous_index(path: Path, cfg: Any) -> pa.Table:
    """The previous version's index as one table, sorted by node id (single-node path)."""
    schema = get_schema("dedup_index").arrow_schema()
    tables = [pq.read_table(f, schema=schema) for f in previous_index_files(path, cfg)]
    return pa.concat_tables(tables).sort_by("node_id") if tables else schema.empty_table()


# ---------------------------------------------------------------------- single-node clustering
def _read_sketches(work_dir: Path) -> pa.Table:
    files = sorted((work_dir / SKETCH_DIR).glob("part-*.parquet"))
    tables = [pq.read_table(f, schema=SKETCH_SCHEMA) for f in files]
    return pa.concat_tables(tables) if tables else SKETCH_SCHEMA.empty_table()


def cluster_locally(cfg: Any, parts: list[tuple[str, Path]], work_dir: Path) -> dict:
    """Cluster all sketches in this process and write the aligned attribute parts and the index.

    `cfg` is the dedup config (`num_perm`, `lsh()`, `threshold`, `verify`, `previous_index`, `ngram`,
    `seed`); `parts` are the refine parts as (dataset, path), in task order."""
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
    write_attribute_parts(parts, work_dir, attrs)
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


def write_attribute_parts(parts: list[tuple[str, Path]], work_dir: Path, attrs: pa.Table) -> None:
    """Per refine part: its `dedup_attributes` file (rows in the part's order) and its share of this
    version's index (rows with `in_index`, sorted by id). `attrs` has part, row and the index columns;
    the Spark job calls `write_part_outputs` on its own partitions."""
    attrs = attrs.take(pc.sort_indices(attrs, [("part", "ascending"), ("row", "ascending")]))
    part_of_row = attrs.column("part").to_numpy()
    bounds = np.searchsorted(part_of_row, np.arange(len(parts) + 1))
    for i, (ds, path) in enumerate(parts):
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


def copy_previous_index(cfg: Any, work_dir: Path) -> None:
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
