"""The select stage: one policy turns scores into keep/drop decisions and sampling weights.

Reads the refine stage's scored documents; keeps a row when its language is allowed, its quality
signals are inside the configured bounds and its domain weight is positive. The weight is
`score_to_weight(domain_score, policy) * source weight`. Kept rows become `training_documents`
(curriculum stage by dataset); every dropped row is written to `_exclusions` with its first failing
reason. Changing a threshold re-runs only this stage.

When the dedup stage ran, its attribute parts (aligned row by row with the refine parts) come first:
rows it marked as exact or near duplicates, as content of a previous corpus version or as repeated
ids are dropped with that status as the reason and the kept document in the detail; rows that
overlap an evaluation set are dropped as `eval_contamination` (or only flagged in `metadata` when
`drop_contaminated` is false).
"""

from __future__ import annotations

from collections import Counter
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import orjson
import pyarrow.parquet as pq
from pydantic import Field

from corpus.classify.weighting import RatioPolicy, WeightPolicy, ratio_to_factor, score_to_weight
from corpus.dedup.cluster import DROP_STATUSES
from jobs.outputs import write_card, write_rows
from jobs.settings import StrictModel
from jobs.stage import Engine, SourceTally, Stage, StageCounts

EXCLUSIONS_DIR = "_exclusions"
OUT_DATASET = "training_documents"

# Gopher-style bounds (Rae et al. 2021, as in datatrove's Gopher filters), on our signal names.
DOCUMENT_QUALITY: dict[str, tuple[float | None, float | None]] = {
    "n_words": (20, 100_000),
    "alpha_word_ratio": (0.6, None),
    "hash_to_word_ratio": (None, 0.1),
    "ellipsis_to_word_ratio": (None, 0.1),
    "bullet_line_ratio": (None, 0.9),
    "ellipsis_line_ratio": (None, 0.3),
    "dup_line_frac": (None, 0.3),
    "dup_para_frac": (None, 0.3),
    "dup_line_char_frac": (None, 0.2),
    "dup_para_char_frac": (None, 0.2),
    "top_2_gram_char_frac": (None, 0.2),
    "top_3_gram_char_frac": (None, 0.18),
    "top_4_gram_char_frac": (None, 0.16),
    "dup_5_gram_char_frac": (None, 0.15),
    "dup_10_gram_char_frac": (None, 0.10),
}
# user comments are short by nature (n-gram fractions of a 4-word comment say nothing): only a minimum
# length and repeated-line spam apply
COMMENT_QUALITY: dict[str, tuple[float | None, float | None]] = {
    "n_words": (2, 100_000),
    "dup_line_frac": (None, 0.5),
}

if TYPE_CHECKING:
    from jobs.config import RunConfig


class SelectConfig(StrictModel):

    languages: tuple[str, ...] = ("en", "zh")
    # short user comments give low language-id confidence; documents are held to a higher bar
    min_lang_score: dict[str, float] = Field(default_factory=lambda: {"documents": 0.5, "comments": 0.0})
    quality: dict[str, dict[str, tuple[float | None, float | None]]] = Field(
        default_factory=lambda: {"documents": DOCUMENT_QUALITY, "comments": COMMENT_QUALITY}
    )
    # sources whose rows are held to their own bounds instead of their dataset's, e.g. short user requests
    # (a 12-word question fails Gopher's 20-word minimum, and n-gram fractions of 12 words say nothing)
    source_quality: dict[str, dict[str, tuple[float | None, float | None]]] = Field(default_factory=dict)
    domain: WeightPolicy = WeightPolicy()  # the op's own config (corpus/classify/weighting.py)
    # datasets whose rows are weighted by the domain classifier; comments on a music platform's own
    # items are in-domain by construction (and far shorter than what the classifier was trained on)
    domain_datasets: tuple[str, ...] = ("documents",)
    source_weights: dict[str, float] = Field(default_factory=dict)
    stage_by_dataset: dict[str, int] = Field(default_factory=lambda: {"documents": 1, "comments": 2})
    drop_contaminated: bool = True  # False: keep rows that overlap evaluation sets, flagged in metadata
    # reference-model scores: the `rm_score` stage's output when that stage runs, else an `rm_scores` folder
    # aligned with the refine parts (`python -m pretrain.score --documents`, e.g. scored on GPUs with torchrun)
    rm_scores: str | None = None
    # with scores: documents whose ref/base loss ratio is above `rm.max_ratio` are dropped (`rm_ratio_high`), the
    # others' weights are multiplied by the policy's factor (corpus/classify/weighting.py)
    rm: RatioPolicy = RatioPolicy()


def decide(row: dict, weight: float, cfg: SelectConfig, dup: dict | None = None,
           rm: dict | None = None, rm_factor: float = 1.0) -> tuple[str | None, str]:
    """(reason, detail) of the first rule a scored row fails, or (None, "") if it is kept.

    `dup` is the row's `dedup_attributes` record when the dedup stage ran, `rm` its `rm_scores` record (and
    `rm_factor` the `select.rm` policy's factor for it) when reference-model scores are read."""
    if dup is not None:
        if dup["dup_status"] in DROP_STATUSES:
            return dup["dup_status"], f"cluster={dup['dup_cluster_id']} kept={dup['dup_of']}"
        if dup["eval_hits"] and cfg.drop_contaminated:
            return "eval_contamination", "overlaps " + ", ".join(dup["eval_hits"][:5])
    if not row["text"]:
        return "empty_text", "nothing left after cleaning"
    if row["lang"] not in cfg.languages:
        return "lang_not_allowed", f"lang={row['lang']}"
    min_score = cfg.min_lang_score.get(row["dataset"], 0.0)
    if (row["lang_score"] or 0.0) < min_score:
        return "lang_score_low", f"lang_score={row['lang_score']:.3f} < {min_score}"
    quality = dict(row["quality"] or [])
    bounds = cfg.source_quality.get(row.get("source")) or cfg.quality.get(row["dataset"], {})
    for name, (lo, hi) in bounds.items():
        v = quality.get(name)
        if v is None:
            continue
        if lo is not None and v < lo:
            return f"quality:{name}_low", f"{name}={v:.4g} < {lo}"
        if hi is not None and v > hi:
            return f"quality:{name}_high", f"{name}={v:.4g} > {hi}"
    if weight <= 0:
        return "domain_score_low", f"domain_score={row['domain_score']:.3f} gives weight 0 ({cfg.domain.kind})"
    if rm is not None and rm_factor <= 0:
        if rm["loss_ratio"] is None:
            return "rm_unscored", f"no reference/base loss ratio ({rm['n_tokens']} tokens) and select.rm.unscored is 0"
        return "rm_ratio_high", (f"reference/base loss ratio {rm['loss_ratio']:.3f} > {cfg.rm.max_ratio} "
                                 f"(reference {rm['ref_loss']:.3f}, base {rm['base_loss']:.3f} nats per token)")
    return None, ""


class SelectStage(Stage):
    name = "select"
    transient = ("parts",)
    requires = ("refine",)

    @classmethod
    def from_run(cls, run: RunConfig, out: Path) -> SelectStage:
        rm_dir = out / "rm_score" / "rm_scores" if run.rm_score.enabled else None
        return cls(run.select, out / "refine", out / "dedup" if run.dedup.enabled else None, rm_dir,
                   run.rm_score.datasets if run.rm_score.enabled else None)

    @classmethod
    def required(cls, run: RunConfig) -> tuple[str, ...]:
        return ("refine", *(s for s in ("dedup", "rm_score") if getattr(run, s).enabled))

    def __init__(self, cfg: SelectConfig, refine_dir: Path, dedup_dir: Path | None = None,
                 rm_dir: Path | None = None, rm_datasets: tuple[str, ...] | None = None):
        """`rm_dir`: the rm_score stage's output (else `select.rm_scores`), with scores for `rm_datasets` (all
        datasets when None)."""
        self.cfg = cfg
        self.refine_dir = refine_dir
        self.dedup_dir = dedup_dir
        if rm_dir is not None and cfg.rm_scores is not None:
            raise ValueError("select.rm_scores is set and the rm_score stage runs: use one source of scores "
                             "(unset select.rm_scores, or set rm_score.enabled: false)")
        self.rm_dir = rm_dir if rm_dir is not None else Path(cfg.rm_scores) if cfg.rm_scores else None
        self.rm_datasets = rm_datasets


    @cached_property
    def parts(self) -> list[Path]:
        return sorted(p for d in sorted(self.refine_dir.iterdir()) if d.is_dir() and not d.name.startswith("_")
                      for p in d.glob("part-*.parquet")) if self.refine_dir.exists() else []  # fmt: skip

    def config(self) -> dict:
        return self.cfg.model_dump(mode="json")

    def dedup_part(self, part: Path) -> Path | None:
        """The dedup attribute file aligned with a refine part (None when dedup is off)."""
        if self.dedup_dir is None:
            return None
        p = self.dedup_dir / part.parent.name / part.name
        if not p.exists():
            raise FileNotFoundError(f"select: {p} is missing; run the dedup stage (or set dedup.enabled: false)")
        return p

    def rm_part(self, part: Path) -> Path | None:
        """The `rm_scores` file aligned with a refine part (None unless scores are read)."""
        if self.rm_dir is None or (self.rm_datasets is not None and part.parent.name not in self.rm_datasets):
            return None
        p = self.rm_dir / part.parent.name / part.name
        if not p.exists():
            raise FileNotFoundError(f"select: {p} is missing; run the rm_score stage or score the refine output with "
                                    f"`python -m pretrain.score --documents {self.refine_dir} --out {self.rm_dir}` "
                                    "(or unset select.rm_scores)")
        return p

    def input_files(self) -> list[Path]:
        return self.parts + [d for p in self.parts for d in (self.dedup_part(p), self.rm_part(p)) if d is not None]

    def plan(self) -> list[Path]:
        return self.parts

    def process(self, task_index: int, work_dir: Path) -> dict:
        table = pq.read_table(self.parts[task_index])
        rows = table.to_pylist()
        dups: list[dict | None] = [None] * len(rows)
        if (dpath := self.dedup_part(self.parts[task_index])) is not None:
            dups = pq.read_table(dpath).to_pylist()
            if len(dups) != len(rows) or any(d["doc_id"] != r["doc_id"] for d, r in zip(dups, rows, strict=True)):
                raise ValueError(f"select: {dpath} is not aligned with {self.parts[task_index]}; re-run dedup")
        rms: list[dict | None] = [None] * len(rows)
        if (rpath := self.rm_part(self.parts[task_index])) is not None:
            rms = pq.read_table(rpath).to_pylist()
            if len(rms) != len(rows) or any(m["doc_id"] != r["doc_id"] for m, r in zip(rms, rows, strict=True)):
                raise ValueError(f"select: {rpath} is not aligned with {self.parts[task_index]}; re-run the scoring pass")
        weights = score_to_weight(np.array([r["domain_score"] for r in rows], dtype=np.float64), self.cfg.domain)
        factors = (ratio_to_factor([m["loss_ratio"] for m in rms], self.cfg.rm) if rpath is not None
                   else np.ones(len(rows)))
        kept, excluded = [], []
        dropped: Counter[str] = Counter()
        tally = SourceTally()
        for row, w, dup, rm, f in zip(rows, weights, dups, rms, factors, strict=True):
            w = float(w) if row["dataset"] in self.cfg.domain_datasets else 1.0
            w *= self.cfg.source_weights.get(row["source"], 1.0)
            reason, detail = decide(row, w, self.cfg, dup, rm, float(f))
            w *= float(f)
            if reason is None:
                tally.kept(row["source"])
                meta = {"dataset": row["dataset"], "domain_score": round(row["domain_score"], 6), "lang": row["lang"]}
                if dup is not None:
                    meta["dup_cluster_id"] = dup["dup_cluster_id"]
                    if dup["eval_hits"]:
                        meta["eval_hits"] = dup["eval_hits"]
                if rm is not None and rm["loss_ratio"] is not None:
                    meta["rm_loss_ratio"] = round(rm["loss_ratio"], 6)
                    meta["rm_factor"] = round(float(f), 6)
                kept.append({
                    "doc_id": row["doc_id"], "stage": self.cfg.stage_by_dataset.get(row["dataset"], 1),
                    "source": row["source"], "text": row["text"], "weight": w, "no_loss_spans": None,
                    "metadata": orjson.dumps(meta, option=orjson.OPT_SORT_KEYS).decode(),
                })  # fmt: skip
            else:
                dropped[reason] += 1
                tally.drop(row["source"], reason)
                excluded.append({"id": row["doc_id"], "stage": self.name, "dataset": row["dataset"],
                                 "source": row["source"], "reason": reason, "detail": detail})
        write_rows(work_dir / OUT_DATASET / f"part-{task_index:05d}.parquet", kept, OUT_DATASET)
        write_rows(work_dir / EXCLUSIONS_DIR / f"part-{task_index:05d}.parquet", excluded, "exclusions")
        stats = {"rows_in": len(rows), "rows_out": len(kept), "dropped": dict(sorted(dropped.items())),
                 "by_source": tally.as_dict()}
        return stats

    def finalize(self, work_dir: Path, engine: Engine) -> StageCounts:
        counts = self.sum_tasks(work_dir)
        counts.bytes_in = sum(p.stat().st_size for p in self.parts)
        policy = f"Policy: {orjson.dumps(self.config(), option=orjson.OPT_SORT_KEYS).decode()}"
        for sub, name in ((OUT_DATASET, OUT_DATASET), (EXCLUSIONS_DIR, "exclusions")):
            d = work_dir / sub
            if d.exists():
                counts.datasets[name] = write_card(d, name, "`music-corpus` select stage (`jobs/stages/select.py`)",
                                                   notes=[policy])
        return counts
