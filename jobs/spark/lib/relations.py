"""Item-to-item relations from co-occurrence in baskets (playlists, listening sessions), as Spark DataFrames.

The "subjective knowledge" input of the curriculum ("listeners who played X also played Y, Z"): for
every item, its top-k most related items by how often they share a basket.

A basket is a DataFrame of `(basket_id: string, item_id: string, pos: long)` rows (`playlist_baskets`,
`session_baskets` build them). Each basket counts as a *set*: an item repeated in one basket counts once,
at its first position. With n_i the number of baskets containing item i, co(i, j) the number of baskets
containing both, and N the number of baskets, the similarity is one of (`RelationsConfig.similarity`):

- `cosine` (default), binary co-occurrence cosine: co(i, j) / sqrt(n_i * n_j), computed in exactly this
  order in doubles (n_i * n_j as an exact integer product), so a plain-Python `co / math.sqrt(ni * nj)`
  gives bit-identical values. It is in (0, 1]; 1 means i and j always occur together.
- `jaccard`: co(i, j) / (n_i + n_j - co(i, j)), also in (0, 1].

Counts are taken *after* basket truncation, so co(i, j) <= min(n_i, n_j) holds for the counts reported.
Items in fewer than `min_item_baskets` baskets are neither sources nor destinations; pairs with fewer than
`min_co_count` shared baskets are dropped; each source keeps its `top_k` destinations ranked by
(similarity desc, co_count desc, dst_id asc), so ties break the same way on every run and partitioning.
Everything stays in DataFrames: the driver sees at most one row of counts (`basket_stats`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

RELATION_COLUMNS = ("src_id", "dst_id", "relation", "co_count", "src_baskets", "dst_baskets", "similarity", "rank")
BASKET_COLUMNS = ("basket_id", "item_id", "pos")


@dataclass(frozen=True)
class RelationsConfig:
    """How item relations are counted, scored and cut.

    `max_basket_items` keeps the first N distinct items of a basket by position (ties by item id): a
    basket of n items makes n * (n - 1) ordered pairs, so one 5,000-track playlist would outweigh
    thousands of ordinary ones in cost (25M pairs) while saying little about any one pair."""

    __pydantic_config__ = {"extra": "forbid"}  # unknown YAML keys are refused (read by pydantic only)

    top_k: int = 10
    """Related items kept per item."""
    min_co_count: int = 2
    """Pairs sharing fewer baskets are dropped."""
    max_basket_items: int = 100
    """A basket's first N distinct items (by position, ties by id) take part."""
    similarity: Literal["cosine", "jaccard"] = "cosine"
    """Binary co-occurrence cosine or Jaccard (see the module docstring)."""
    min_item_baskets: int = 2
    """Items in fewer baskets are neither sources nor destinations."""

    def __post_init__(self) -> None:
        for name in ("top_k", "min_co_count", "max_basket_items", "min_item_baskets"):
            if getattr(self, name) < 1:
                raise ValueError(f"RelationsConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.similarity not in SIMILARITIES:
            raise ValueError(f"RelationsConfig.similarity must be one of {sorted(SIMILARITIES)}, got {self.similarity!r}")


def _cosine(co: Column, n_src: Column, n_dst: Column) -> Column:
    from pyspark.sql import functions as F

    return co.cast("double") / F.sqrt((n_src * n_dst).cast("double"))


def _jaccard(co: Column, n_src: Column, n_dst: Column) -> Column:
    return co.cast("double") / (n_src + n_dst - co).cast("double")


SIMILARITIES: dict[str, Callable[[Column, Column, Column], Column]] = {"cosine": _cosine, "jaccard": _jaccard}


def playlist_baskets(playlists_df: DataFrame, carry: Sequence[str] = ()) -> DataFrame:
    """Baskets from the `playlists` dataset: one basket per playlist, pos = track position in `song_ids`.
    `carry`: playlist columns kept on every basket row (e.g. `source`, for per-source accounting)."""
    from pyspark.sql import functions as F

    return (playlists_df.select(F.col("playlist_id").alias("basket_id"), *carry,
                                F.posexplode("song_ids").alias("pos", "item_id"))
            .where(F.col("item_id").isNotNull())
            .select("basket_id", "item_id", F.col("pos").cast("long").alias("pos"), *carry))  # fmt: skip


def session_baskets(events_df: DataFrame, basket_cols: Sequence[str] = ("user_id", "session"),
                    order_cols: Sequence[str] = ("ts",), item_col: str = "item_id",
                    carry: Sequence[str] = ()) -> DataFrame:  # fmt: skip
    """Baskets from sessionized events: one basket per value of `basket_cols`, pos = event order in it.

    The caller filters the events first (one `item_type`, the feedback kinds that mean "listened").
    `basket_id` is the JSON array of the key values (`["u1","3"]`), unambiguous whatever the ids hold;
    events with equal `order_cols` are ordered by item id so positions are the same on every run. `carry`:
    event columns kept on every basket row (e.g. `source`)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    missing = [c for c in (*basket_cols, *order_cols, item_col) if c not in events_df.columns]
    if missing:
        raise ValueError(f"session_baskets: events have no column(s) {missing}; columns are {events_df.columns}")
    w = Window.partitionBy(*basket_cols).orderBy(*[F.col(c).asc_nulls_last() for c in order_cols], F.col(item_col))
    return (events_df.where(F.col(item_col).isNotNull())
            .select(F.to_json(F.array(*[F.col(c).cast("string") for c in basket_cols])).alias("basket_id"),
                    F.col(item_col).cast("string").alias("item_id"),
                    (F.row_number().over(w) - 1).cast("long").alias("pos"), *carry))  # fmt: skip


def basket_sets(baskets_df: DataFrame, cfg: RelationsConfig) -> DataFrame:
    """Distinct (basket_id, item_id) at each item's first position, cut to the first `max_basket_items`."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    missing = [c for c in BASKET_COLUMNS if c not in baskets_df.columns]
    if missing:
        raise ValueError(f"baskets have no column(s) {missing}; columns are {baskets_df.columns}")
    first = (baskets_df.where(F.col("basket_id").isNotNull() & F.col("item_id").isNotNull())
             .groupBy("basket_id", "item_id").agg(F.min("pos").alias("pos")))  # fmt: skip
    w = Window.partitionBy("basket_id").orderBy(F.col("pos").asc_nulls_last(), F.col("item_id"))
    return (first.withColumn("_i", F.row_number().over(w))
            .where(F.col("_i") <= cfg.max_basket_items).select("basket_id", "item_id"))  # fmt: skip


def _pairable(baskets_df: DataFrame, cfg: RelationsConfig) -> tuple[DataFrame, DataFrame]:
    """Basket sets restricted to items in at least `min_item_baskets` baskets, and those items' counts."""
    from pyspark.sql import functions as F

    sets = basket_sets(baskets_df, cfg)
    counts = sets.groupBy("item_id").agg(F.count("*").alias("n_baskets")).where(F.col("n_baskets") >= cfg.min_item_baskets)
    return sets.join(counts.select("item_id"), "item_id"), counts


def compute_item_relations(baskets_df: DataFrame, cfg: RelationsConfig, relation: str) -> DataFrame:
    """Top-k related items per item: `RELATION_COLUMNS`, rank 1..top_k per src_id (see the module docstring)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    sets, counts = _pairable(baskets_df, cfg)
    a = sets.select("basket_id", F.col("item_id").alias("src_id"))
    b = sets.select("basket_id", F.col("item_id").alias("dst_id"))
    co = (a.join(b, "basket_id").where(F.col("src_id") != F.col("dst_id"))
          .groupBy("src_id", "dst_id").agg(F.count("*").alias("co_count"))
          .where(F.col("co_count") >= cfg.min_co_count))  # fmt: skip
    scored = (co.join(counts.select(F.col("item_id").alias("src_id"), F.col("n_baskets").alias("src_baskets")), "src_id")
              .join(counts.select(F.col("item_id").alias("dst_id"), F.col("n_baskets").alias("dst_baskets")), "dst_id"))  # fmt: skip
    sim = SIMILARITIES[cfg.similarity](F.col("co_count"), F.col("src_baskets"), F.col("dst_baskets"))
    w = Window.partitionBy("src_id").orderBy(F.col("similarity").desc(), F.col("co_count").desc(), F.col("dst_id").asc())
    return (scored.withColumn("similarity", sim)
            .withColumn("rank", F.row_number().over(w))
            .where(F.col("rank") <= cfg.top_k)
            .select("src_id", "dst_id", F.lit(relation).alias("relation"), F.col("co_count").cast("long"),
                    F.col("src_baskets").cast("long"), F.col("dst_baskets").cast("long"),
                    F.col("similarity").cast("double"), F.col("rank").cast("int")))  # fmt: skip


def basket_stats(baskets_df: DataFrame, cfg: RelationsConfig) -> dict:
    """What the relation job works on: baskets and rows in, after the basket cut, after dropping rare items,
    and the ordered pairs (basket, i, j) the self-join generates. With a `source` column on the baskets
    (one source per basket), the same figures per source under `by_source`; the totals are their sums."""
    from pyspark.sql import functions as F

    keys = ("rows_in", "baskets_in", "baskets", "basket_items", "items", "pairs")
    has_source = "source" in baskets_df.columns
    src = (baskets_df.select("basket_id", F.col("source") if has_source else F.lit("all").alias("source"))
           .dropDuplicates(["basket_id"]))  # fmt: skip
    sets, _ = _pairable(baskets_df, cfg)
    sets = sets.join(src, "basket_id")
    inp = (baskets_df.join(src.withColumnRenamed("source", "_s"), "basket_id").groupBy(F.col("_s").alias("source"))
           .agg(F.count("*").alias("rows_in"), F.countDistinct("basket_id").alias("baskets_in")))  # fmt: skip
    per_basket = sets.groupBy("source", "basket_id").agg(F.count("*").cast("long").alias("n"))
    kept = per_basket.groupBy("source").agg(F.count("*").alias("baskets"), F.sum("n").alias("basket_items"),
                                            F.sum(F.col("n") * (F.col("n") - 1)).alias("pairs"))  # fmt: skip
    items = sets.groupBy("source").agg(F.countDistinct("item_id").alias("items"))
    # one small result (a row per source) from three aggregates: a single Spark action
    rows = inp.join(kept, "source", "left").join(items, "source", "left").collect()
    by_source = {r["source"]: {k: int(r[k] or 0) for k in keys} for r in rows}
    out = {k: sum(v[k] for v in by_source.values()) for k in keys}
    if has_source:
        out["by_source"] = dict(sorted(by_source.items()))
    return out


__all__ = [
    "BASKET_COLUMNS", "RELATION_COLUMNS", "SIMILARITIES", "RelationsConfig", "basket_sets", "basket_stats",
    "compute_item_relations", "playlist_baskets", "session_baskets",
]  # fmt: skip
