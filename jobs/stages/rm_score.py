"""The rm_score stage: reference-model scores of every refined document, for data selection in `select`.

Runs between refine (and dedup) and select when `rm_score.enabled` (off by default: it needs a reference model,
e.g. the one `make reference` trains). Like dedup it drops nothing: one `rm_scores` row per refined row, aligned
with the refine part it comes from (`rm_score/rm_scores/<dataset>/part-NNNNN.parquet`): tokens scored, the
reference model's and the base model's mean per-token loss and their ratio (`pretrain.score.DocumentScorer`, the
same code as `python -m pretrain.score --documents`, which does this pass on GPUs outside a corpus run).
`select.rm` then drops documents whose ratio is above `max_ratio` (`rm_ratio_high`) and scales the others'
weights. Rows without a score (no tokens in the reference tokenizer) are counted per source as `unscored`.

The models are part of the stage's inputs (their files' checksums are in the fingerprint), so retraining the
reference reruns the scoring, and select after it.
"""

from __future__ import annotations

from collections import Counter
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq
from pydantic import Field, model_validator

from jobs.outputs import write_card, write_rows
from jobs.settings import StrictModel
from jobs.stage import Engine, SourceTally, Stage, StageCounts

if TYPE_CHECKING:
    from jobs.config import RunConfig

OUT_DIR = "rm_scores"


class RmScoreConfig(StrictModel):
    """Reference-model document scoring (MuCPT's loss-ratio criterion, data-selection side)."""

    enabled: bool = False
    # Hugging Face directory of the reference model (trained on clean in-domain text: `make reference`)
    reference: str | None = None
    # Hugging Face directory of the base model; without one there is no ratio and `select.rm` keeps every
    # document at `select.rm.unscored`
    base: str | None = None
    datasets: tuple[str, ...] = ("documents",)
    max_tokens: int = Field(1024, ge=2, description="tokens scored per document (its first ones, after an EOS)")
    device: str = "cpu"

    @model_validator(mode="after")
    def _models(self) -> RmScoreConfig:
        if not self.enabled:
            return self
        if self.reference is None:
            raise ValueError("rm_score.enabled needs rm_score.reference (a Hugging Face model directory)")
        for key in ("reference", "base"):
            v = getattr(self, key)
            if v is not None and not (Path(v) / "config.json").is_file():
                raise ValueError(f"rm_score.{key}: {v} is not a Hugging Face model directory (no config.json); "
                                 "train a reference with `make reference` or point at an exported checkpoint")
        return self


def _model_files(path: str | None) -> list[Path]:
    return sorted(f for f in Path(path).iterdir() if f.is_file()) if path else []


class RmScoreStage(Stage):
    name = "rm_score"
    transient = ("_scorer", "parts")

    @classmethod
    def from_run(cls, run: RunConfig, out: Path) -> RmScoreStage:
        return cls(run.rm_score, out / "refine")

    @classmethod
    def required(cls, run: RunConfig) -> tuple[str, ...]:
        return ("refine",)

    def __init__(self, cfg: RmScoreConfig, refine_dir: Path):
        self.cfg = cfg
        self.refine_dir = refine_dir
        self._scorer: Any = None

    @cached_property
    def parts(self) -> list[Path]:
        return [p for ds in self.cfg.datasets for p in sorted((self.refine_dir / ds).glob("part-*.parquet"))]

    def config(self) -> dict:
        return self.cfg.model_dump(mode="json", exclude={"device"})

    def input_files(self) -> list[Path]:
        return self.parts + _model_files(self.cfg.reference) + _model_files(self.cfg.base)

    def plan(self) -> list[Path]:
        return self.parts

    def describe_run(self, engine: Engine, n_tasks: int) -> str:
        return f"{n_tasks} part(s) on {engine.name}, reference {self.cfg.reference}, base {self.cfg.base}"

    def setup(self) -> None:
        if self._scorer is None:
            from pretrain.score import DocumentScorer  # torch and transformers, only where the stage runs

            self._scorer = DocumentScorer(self.cfg.reference, self.cfg.base, self.cfg.max_tokens, self.cfg.device)

    def process(self, task_index: int, work_dir: Path) -> dict:
        part = self.parts[task_index]
        t = pq.read_table(part, columns=["doc_id", "source", "text"])
        rows = self._scorer.rows(*(t.column(c).to_pylist() for c in ("doc_id", "source", "text")))
        write_rows(work_dir / OUT_DIR / part.parent.name / part.name, rows, "rm_scores")
        tally = SourceTally()
        unscored: dict[str, Counter] = {}
        for r in rows:
            tally.kept(r["source"])
            if r["loss_ratio"] is None:
                why = "no_tokens" if r["ref_loss"] is None else "no_base_model"
                unscored.setdefault(r["source"], Counter())[why] += 1
        by_source = tally.as_dict()
        for src, c in unscored.items():
            by_source[src]["unscored"] = dict(sorted(c.items()))
        return {"rows_in": len(rows), "rows_out": len(rows), "tokens": sum(r["n_tokens"] for r in rows),
                "by_source": by_source}

    def finalize(self, work_dir: Path, engine: Engine) -> StageCounts:
        counts = self.sum_tasks(work_dir)
        counts.bytes_in = sum(p.stat().st_size for p in self.parts)
        counts.tokens = sum(s.get("tokens", 0) for s in self.task_stats(work_dir))
        for ds in self.cfg.datasets:
            d = work_dir / OUT_DIR / ds
            if d.exists():
                counts.datasets[f"rm_scores:{ds}"] = write_card(
                    d, "rm_scores", "`music-corpus` rm_score stage (`jobs/stages/rm_score.py`, `pretrain/score.py`)",
                    notes=[f"Aligned row by row with `refine/{ds}/` parts of the same name.",
                           f"Reference model `{self.cfg.reference}`, base model `{self.cfg.base}`, "
                           f"first {self.cfg.max_tokens} tokens of each document."])
        return counts
