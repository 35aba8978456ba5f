"""The relations stage: item-to-item relations from co-occurrence, computed in Spark.

Baskets come from three places: playlists (`co_playlist`), the behavior stage's listening sessions
(`co_session`, positive feedback only) and users' play-count libraries (`co_listener`, e.g. Last.fm's
user-artist play counts). `jobs.spark.lib.relations` scores every pair by binary co-occurrence cosine and
keeps the top k per item. Rows are written as the `item_relations` contract (weight = similarity,
metadata = counts and rank), bucketed by source item, so every item's neighbours sit in one part.

This stage always runs in Spark: with the Spark engine in the run's session, otherwise in a local
session (`local[workers]`) it starts and stops itself. The work happens in `finalize` on the driver,
which only submits Spark jobs and receives per-part row counts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import pyarrow as pa
from pydantic.dataclasses import dataclass as pydantic_dataclass

from jobs.outputs import part_files, write_card, write_table
from jobs.settings import STRICT, config_dict
from jobs.spark.lib.relations import RelationsConfig
from jobs.stage import Engine, Stage, StageCounts

OUT_DATASET = "item_relations"
REPORT = "_report.json"
SESSIONS_DIR = "_sessions"  # written by the behavior stage
HELDOUT_USERS_DIR = "_heldout_users"  # written by the behavior stage: users held out for evaluation
CATALOG = (("songs", "song_id", "song"), ("artists", "artist_id", "artist"), ("albums", "album_id", "album"))

if TYPE_CHECKING:
    from jobs.config import RunConfig


@pydantic_dataclass(frozen=True, config=STRICT)
class RelationsStageConfig(RelationsConfig):
    """The relations stage: the op's own settings (`jobs.spark.lib.relations.RelationsConfig`: top_k, min_co_count,
    max_basket_items, similarity, min_item_baskets) plus which baskets count and how the output is split."""

    enabled: bool = True
    kinds: tuple[str, ...] = ("co_playlist", "co_session", "co_listener")
    """Relation kinds to build: co-occurrence in playlists, in listening sessions, in user libraries."""
    session_feedback: tuple[str, ...] = ("play", "like", "add_to_playlist", "share", "tag")
    """Session feedback that means "listened to and kept" (skips and dislikes say the opposite)."""
    output_parts: int = 4
    """Parquet parts of the output."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.output_parts < 1:
            raise ValueError(f"relations.output_parts must be >= 1, got {self.output_parts}")


class RelationsStage(Stage):
    name = "relations"
    requires = ("ingest",)

    @classmethod
    def from_run(cls, run: RunConfig, out: Path) -> RelationsStage:
        return cls(run.relations, out / "ingest", out / "behavior" if run.behavior.enabled else None, workers=run.workers)

    def __init__(self, cfg: RelationsStageConfig, ingest_dir: Path, behavior_dir: Path | None, workers: int = 2):
        self.cfg = cfg
        self.ingest_dir = ingest_dir
        self.behavior_dir = behavior_dir
        self.workers = workers  # cores of the local Spark session when the run's engine is not Spark

    def inputs(self) -> dict[str, list[Path]]:
        ing = self.ingest_dir
        out = {"playlists": part_files(ing / "playlists"), "item_relations": part_files(ing / "item_relations"),
               "sessions": part_files(self.behavior_dir / SESSIONS_DIR) if self.behavior_dir else [],
               "heldout_users": part_files(self.behavior_dir / HELDOUT_USERS_DIR) if self.behavior_dir else []}  # fmt: skip
        for ds, _, _ in CATALOG:
            out[ds] = part_files(ing / ds)
        return out

    def config(self) -> dict:
        return config_dict(self.cfg)

    def input_files(self) -> list[Path]:
        return [p for files in self.inputs().values() for p in files]

    def plan(self) -> list:
        return []  # one Spark job in finalize

    def process(self, task_index: int, work_dir: Path) -> dict:
        raise AssertionError("the relations stage has no tasks")

    def describe_run(self, engine: Engine, n_tasks: int) -> str:
        return f"Spark jobs in {engine.spark_description(self.workers)}"

    def finalize(self, work_dir: Path, engine: Engine) -> StageCounts:
        with engine.stage_spark(self.workers, work_dir.parent) as spark:
            report = compute_relations(spark, self, work_dir)
        (work_dir / REPORT).write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
        counts = StageCounts()
        for kind in report["kinds"].values():  # input rows are basket items; those past the cut or rare are dropped
            for source, st in kind["by_source"].items():
                cut = st["rows_in"] - st["basket_items"]
                counts.add_source(source, {"rows_in": st["rows_in"], "rows_out": st["basket_items"],
                                           "dropped": {"basket_cut_or_rare_item": cut} if cut else {}})
        counts.bytes_in = sum(p.stat().st_size for p in self.input_files())
        notes = [f"Relations by kind: {orjson.dumps(report['kinds'], option=orjson.OPT_SORT_KEYS).decode()}",
                 f"Similarity: {self.cfg.similarity} of binary co-occurrence (co / sqrt(n_i n_j)); top {self.cfg.top_k} "
                 f"per item, at least {self.cfg.min_co_count} shared baskets. `weight` is the similarity."]  # fmt: skip
        counts.datasets[OUT_DATASET] = write_card(work_dir / OUT_DATASET, OUT_DATASET,
                                                  "`music-corpus` relations stage (`jobs/stages/relations.py`, Spark)",
                                                  notes=notes)  # fmt: skip
        return counts


def _has_play_counts(files: list[Path]) -> bool:
    """Whether any user-item play count exists (a pyarrow scan that stops at the first match): a
    Spark job per basket kind costs seconds even when the kind has no rows."""
    import pyarrow.compute as pc
    import pyarrow.dataset as pads

    flt = (pc.field("relation") == "play_count") & (pc.field("src_type") == "user")
    return pads.dataset([str(f) for f in files], format="parquet").head(1, columns=["relation"], filter=flt).num_rows > 0


def basket_frames(spark, stage: RelationsStage) -> dict[str, Any]:
    """Baskets per relation kind, as Spark DataFrames (kinds without input are left out)."""
    from pyspark.sql import functions as F

    from jobs.spark.lib.relations import playlist_baskets, session_baskets

    inputs = stage.inputs()
    read = lambda ds: spark.read.parquet(*[str(p) for p in inputs[ds]])  # noqa: E731
    out: dict[str, Any] = {}
    kinds = stage.cfg.kinds
    if "co_playlist" in kinds and inputs["playlists"]:
        out["co_playlist"] = playlist_baskets(read("playlists"), carry=("source",))
    if "co_session" in kinds and inputs["sessions"]:
        ev = read("sessions").where(F.col("feedback").isin(list(stage.cfg.session_feedback)))
        out["co_session"] = session_baskets(ev, basket_cols=("user_id", "session"), order_cols=("ts", "event_id"),
                                            carry=("source",))
    if "co_listener" in kinds and inputs["item_relations"] and _has_play_counts(inputs["item_relations"]):
        plays = read("item_relations").where((F.col("relation") == "play_count") & (F.col("src_type") == "user"))
        if inputs["heldout_users"]:  # the evaluation users' libraries stay out of training relations
            plays = plays.join(read("heldout_users").withColumnRenamed("user_id", "src_id"), "src_id", "left_anti")
        libraries = plays.select(F.col("src_id").alias("user_id"), F.lit(0).alias("session"), "source",
                                 F.col("dst_id").alias("item_id"), (-F.col("weight")).alias("order"))  # most played first
        out["co_listener"] = session_baskets(libraries, basket_cols=("user_id", "session"), order_cols=("order",),
                                             carry=("source",))
    return out


def compute_relations(spark, stage: RelationsStage, work_dir: Path) -> dict:
    """Compute every kind's relations and write the bucketed `item_relations` parts."""
    from pyspark.sql import functions as F

    from jobs.spark.lib.relations import basket_stats, compute_item_relations

    inputs = stage.inputs()
    rcfg = stage.cfg
    items = None
    for ds, key, kind in CATALOG:
        if inputs[ds]:
            df = spark.read.parquet(*[str(p) for p in inputs[ds]]).select(
                F.col(key).alias("item_id"), F.lit(kind).alias("item_type"), F.col("source"))
            items = df if items is None else items.unionByName(df)
    kinds_report: dict[str, dict] = {}
    frames = []
    for kind, baskets in sorted(basket_frames(spark, stage).items()):
        baskets = baskets.cache()
        stats = basket_stats(baskets, rcfg)
        if stats["rows_in"] == 0:  # e.g. item_relations without play counts
            continue
        kinds_report[kind] = stats
        frames.append(compute_item_relations(baskets, rcfg, kind))
    n_parts = stage.cfg.output_parts
    out_dir = work_dir / OUT_DATASET
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[int, int] = {}
    if frames and items is not None:
        rel = frames[0]
        for f in frames[1:]:
            rel = rel.unionByName(f)
        # one row per item id (an id is a content hash of source and source id, so it names one item)
        items = items.dropDuplicates(["item_id"])
        src = items.select(F.col("item_id").alias("src_id"), F.col("item_type").alias("src_type"), "source")
        dst = items.select(F.col("item_id").alias("dst_id"), F.col("item_type").alias("dst_type"))
        rel = rel.join(src, "src_id").join(dst, "dst_id")
        rel = rel.withColumn("bucket", F.pmod(F.xxhash64("src_id"), F.lit(n_parts)).cast("int"))
        rows = (rel.repartition(n_parts, "bucket")
                .mapInArrow(_write_buckets(str(out_dir)), "bucket int, rows long").collect())  # fmt: skip
        written = {int(r["bucket"]): int(r["rows"]) for r in rows}
    empty = pa.table({c: pa.array([], pa.string()) for c in ("src_id", "dst_id", "relation", "src_type", "dst_type", "source")}
                     | {"co_count": pa.array([], pa.int64()), "src_baskets": pa.array([], pa.int64()),
                        "dst_baskets": pa.array([], pa.int64()), "similarity": pa.array([], pa.float64()),
                        "rank": pa.array([], pa.int32())})  # fmt: skip
    for b in range(n_parts):
        if b not in written:
            write_table(out_dir / f"part-{b:05d}.parquet", to_relation_rows(empty), OUT_DATASET)
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    for f in part_files(out_dir):
        vc = pc.value_counts(pq.read_table(f, columns=["relation"]).column("relation"))
        for kind, n in zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True):
            kinds_report[kind]["relations"] = kinds_report[kind].get("relations", 0) + n
    return {"kinds": kinds_report, "parts": n_parts, "rows_written": sum(written.values()),
            "similarity": stage.cfg.similarity, "top_k": stage.cfg.top_k}  # fmt: skip


def to_relation_rows(t: pa.Table) -> pa.Table:
    """Computed relations (sorted by src_id, rank) as `item_relations` contract rows."""
    import pyarrow.compute as pc
    import xxhash

    t = t.sort_by([("src_id", "ascending"), ("relation", "ascending"), ("rank", "ascending")])
    rel, src, dst = (t.column(c).to_pylist() for c in ("relation", "src_id", "dst_id"))
    source_ids = [f"{r}:{s}:{d}" for r, s, d in zip(rel, src, dst, strict=True)]
    meta = [orjson.dumps({"co_count": c, "src_baskets": a, "dst_baskets": b, "rank": k}, option=orjson.OPT_SORT_KEYS).decode()
            for c, a, b, k in zip(*(t.column(x).to_pylist() for x in ("co_count", "src_baskets", "dst_baskets", "rank")),
                                  strict=True)]  # fmt: skip
    return pa.table({
        "relation_id": [xxhash.xxh3_128_hexdigest(f"{s}\x00{sid}") for s, sid in zip(t.column("source").to_pylist(), source_ids, strict=True)],
        "source": t.column("source"), "source_id": source_ids, "src_type": t.column("src_type"), "src_id": t.column("src_id"),
        "dst_type": t.column("dst_type"), "dst_id": t.column("dst_id"), "relation": t.column("relation"),
        "weight": pc.cast(t.column("similarity"), pa.float64()), "metadata": meta,
    })  # fmt: skip


def _write_buckets(out_dir: str):
    """mapInArrow function: write each bucket of source items in the partition as one part."""
    import numpy as np

    def run(batches):
        tables = [pa.Table.from_batches([b]) for b in batches if b.num_rows]
        if not tables:
            return
        t = pa.concat_tables(tables).sort_by("bucket")
        buckets = t.column("bucket").to_numpy()
        for b in np.unique(buckets):
            lo, hi = np.searchsorted(buckets, [b, b + 1])
            part = t.slice(lo, hi - lo)
            write_table(Path(out_dir) / f"part-{int(b):05d}.parquet", to_relation_rows(part), OUT_DATASET)
            yield pa.RecordBatch.from_arrays([pa.array([int(b)], pa.int32()), pa.array([int(hi - lo)], pa.int64())],
                                             ["bucket", "rows"])  # fmt: skip

    return run
