"""The ingest stage: every configured source becomes contract-shaped Parquet datasets.

Output layout (`out/ingest/`): one folder per dataset with `part-*.parquet` and a `README.md`
dataset card; `_quarantine/` (rows that failed, with reason and payload); `_exclusions/` (rows
dropped on purpose, e.g. repeated rows); `_tasks/` (per-task accounting); `_manifest.json`.
"""

from __future__ import annotations

import os
from collections import Counter
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import orjson
from pydantic import Field, field_validator

from corpus.ingest.dedupe_ids import Origins, loser_payload, remove_rows, resolve_duplicates
from corpus.ingest.op import PROVENANCE_DIR, QUARANTINE_DIR, TaskStats, ingest_unit, task_stats_path
from corpus.ingest.records import IngestLimits, Reject
from corpus.ingest.sources import ADAPTERS, SourceSpec, WorkUnit, get_adapter
from jobs.outputs import count_rows_by_source, write_card, write_rows
from jobs.settings import StrictModel, expand_path
from jobs.stage import Engine, Stage, StageCounts
from schemas import RAW_DATASETS, SourceCredit, get_schema

EXCLUSIONS_DIR = "_exclusions"

if TYPE_CHECKING:
    from jobs.config import RunConfig


class SourceConfig(StrictModel):
    """One input source. `name` is the `source` column and the id namespace of its rows."""

    name: str
    path: str
    adapter: str = "generic"
    dataset: str | None = None
    format: Literal["jsonl", "csv", "tsv", "parquet"] | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    license: str = "unknown"
    description: str = ""
    generated: bool = False
    on_bad_file: Literal["fail", "quarantine"] = "fail"


class IgnoredInput(StrictModel):
    """A file or folder under `--input` that the run does not read, and why (recorded in the manifest)."""

    path: str = Field(description="path relative to the input folder")
    reason: str = Field(description="`hidden` (a name starting with `.` or `_`) or `unrecognised`")


class IngestConfig(StrictModel):
    sources: list[SourceConfig] = Field(default_factory=list)
    ignored_inputs: tuple[IgnoredInput, ...] = Field(
        (), description="files under `--input` the run does not read (set by the command line, kept in the manifest)")
    # part of the data config (it decides part boundaries), so never derived from the worker count
    split_bytes: int = Field(32 * 1024 * 1024, gt=0, description="JSONL/Parquet files are split into tasks of this size")
    batch_rows: int = Field(20_000, gt=0, description="rows per Parquet row group and per write batch")
    max_text_bytes: int = Field(8 * 1024 * 1024, gt=0, description="text fields larger than this are quarantined")
    quarantine_payload_bytes: int = Field(1024 * 1024, gt=0)
    unicode_form: Literal["NFC", "NFKC"] = "NFC"

    @field_validator("sources")
    @classmethod
    def _unique(cls, v: list[SourceConfig]) -> list[SourceConfig]:
        seen = set()
        for s in v:
            key = (s.name, s.adapter, s.dataset, s.path)
            if key in seen:
                raise ValueError(f"source {s.name!r} ({s.adapter}, {s.dataset}) is listed twice")
            seen.add(key)
        return v


class IngestStage(Stage):
    name = "ingest"
    requires = ()

    @classmethod
    def from_run(cls, run: RunConfig, out: Path) -> IngestStage:
        return cls(run.ingest, out / "sample")

    def __init__(self, cfg: IngestConfig, sample_dir: Path):
        self.cfg = cfg
        self.sample_dir = sample_dir


    @cached_property
    def specs(self) -> list[SourceSpec]:
        out = []
        for s in self.cfg.sources:
            adapter = ADAPTERS.get(s.adapter)
            if adapter is None:
                raise ValueError(f"source {s.name!r}: unknown adapter {s.adapter!r}; known: {sorted(ADAPTERS)}")
            out.append(
                SourceSpec(
                    name=s.name,
                    path=expand_path(s.path, self.sample_dir),
                    adapter=s.adapter,
                    dataset=s.dataset,
                    format=s.format,
                    options=dict(s.options),
                    license=s.license if s.license != "unknown" else adapter.license,
                    description=s.description or adapter.description,
                    generated=s.generated,
                    on_bad_file=s.on_bad_file,
                )
            )
        return out

    @cached_property
    def units(self) -> list[WorkUnit]:
        units: list[WorkUnit] = []
        for spec in self.specs:
            units += get_adapter(spec.adapter).plan(spec, self.cfg.split_bytes)
        return units

    @property
    def limits(self) -> IngestLimits:
        return IngestLimits(self.cfg.max_text_bytes, self.cfg.quarantine_payload_bytes, self.cfg.unicode_form)

    def config(self) -> dict:
        cfg = self.cfg.model_dump(mode="json")
        for s, spec in zip(cfg["sources"], self.specs, strict=True):
            s["path"] = os.path.abspath(spec.path)  # made portable ({out}/..., {shared}/...) by the runner
        return cfg

    def input_files(self) -> list[Path]:
        files: set[Path] = set()
        for u in self.units:
            p = Path(u.path)
            files.update(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else files.add(p)
        return sorted(files)

    def plan(self) -> list[WorkUnit]:
        return self.units

    def process(self, task_index: int, work_dir: Path) -> dict:
        """`ingest_unit` (corpus/ingest/op.py) writes the unit's datasets; its `TaskStats` are the task's stats."""
        stats = ingest_unit(self.units[task_index], task_index, work_dir, self.limits, self.cfg.batch_rows, self.name)
        return orjson.loads(stats.to_json())

    # ------------------------------------------------------------------ finalize
    def finalize(self, work_dir: Path, engine: Engine) -> StageCounts:
        counts = StageCounts()
        stats = [TaskStats.from_json(task_stats_path(work_dir, i).read_bytes()) for i in range(len(self.units))]
        by_source: dict[str, dict] = {}
        for st in stats:
            counts.rows_in += st.rows_in
            counts.rows_out += st.rows_out
            counts.bytes_in += st.bytes_in
            counts.quarantined.update(st.quarantined)
            src = by_source.setdefault(
                st.source, {
                    "rows_in": 0,
                    "rows_out": 0,
                    "dropped": Counter(),
                    "quarantined": Counter(),
                    "derived": Counter(),
                    "derived_dropped": Counter(),
                    "repaired": Counter(),
                }
            )
            src["rows_in"] += st.rows_in
            src["rows_out"] += st.rows_out
            src["quarantined"].update(st.quarantined)
            src["derived"].update(st.derived)
            src["repaired"].update(st.repaired)
            src["derived_dropped"].update({f"quarantined:{k}": v for k, v in st.derived_quarantined.items()})
        self._dedupe_keys(work_dir, counts, by_source, engine)
        for name in sorted(RAW_DATASETS):
            d = work_dir / name
            if d.exists():
                counts.datasets[name] = self._write_card(d, name)
        for sub, name in ((QUARANTINE_DIR, "quarantine"), (EXCLUSIONS_DIR, "exclusions")):
            d = work_dir / sub
            if d.exists():
                self._write_card(d, name)
        for src in by_source.values():
            for k in ("dropped", "quarantined", "derived", "derived_dropped", "repaired"):
                src[k] = dict(sorted(src[k].items()))
        counts.by_source = dict(sorted(by_source.items()))
        return counts

    def _dedupe_keys(self, work_dir: Path, counts: StageCounts, by_source: dict[str, dict], engine: Engine) -> None:
        exclusions: list[dict] = []
        conflicts: list[dict] = []
        origins = Origins(work_dir / PROVENANCE_DIR)
        for name in sorted(RAW_DATASETS):
            d = work_dir / name
            key = get_schema(name).key
            if not d.exists() or key is None:
                continue
            locations = engine.find_duplicates(d, key)
            if not locations:
                continue
            losers = resolve_duplicates(d, key, locations)
            for lo in losers:
                src = by_source[lo.source]
                here, kept_at = origins.describe(name, lo.loc), origins.describe(name, lo.kept)
                kept = f"kept the row at {kept_at}"
                if lo.derived:
                    # derived rows are not input rows: recorded, but outside rows-in accounting
                    src["derived_dropped"][f"{name}:{lo.reason}"] += 1
                    exclusions.append(self._exclusion(lo, name, key, "derived_" + lo.reason, f"{here}: {kept}"))
                elif lo.reason == "duplicate_row":
                    counts.rows_out -= 1
                    counts.dropped["duplicate_row"] += 1
                    src["rows_out"] -= 1
                    src["dropped"]["duplicate_row"] += 1
                    exclusions.append(self._exclusion(lo, name, key, lo.reason, f"{here} repeats it; {kept}"))
                else:
                    counts.rows_out -= 1
                    counts.quarantined["duplicate_id_conflict"] += 1
                    src["rows_out"] -= 1
                    src["quarantined"]["duplicate_id_conflict"] += 1
                    payload = loser_payload(lo)
                    conflicts.append(
                        Reject(
                            file=origins.where(name, lo.loc)[0] or f"{name}/{lo.loc.file}",
                            row=origins.where(name, lo.loc)[1],
                            reason="duplicate_id_conflict",
                            message=f"{name}.{key} {lo.loc.key} also belongs to a different row ({kept}); "
                            f"differing fields: {', '.join(lo.differing)}. Give the rows distinct source ids.",
                            payload=payload,
                            field=key,
                            dataset=name,
                        ).to_row(self.name, lo.source, self.cfg.quarantine_payload_bytes)
                    )
            remove_rows(d, losers)
            remove_rows(work_dir / PROVENANCE_DIR / name, losers)  # provenance stays aligned with the parts
        if exclusions:
            write_rows(work_dir / EXCLUSIONS_DIR / "part-00000.parquet", exclusions, "exclusions")
        if conflicts:
            write_rows(work_dir / QUARANTINE_DIR / "part-dedupe.parquet", conflicts, "quarantine")

    def _exclusion(self, lo, dataset: str, key: str, reason: str, detail: str) -> dict:
        return {"id": lo.loc.key, "stage": self.name, "dataset": dataset, "source": lo.source, "reason": reason, "detail": detail}

    def _write_card(self, d: Path, name: str) -> int:
        rows = count_rows_by_source(d)
        credits, seen = [], set()
        for spec in self.specs:
            if spec.name in rows and spec.name not in seen:
                seen.add(spec.name)
                credits.append(SourceCredit(spec.name, spec.license, spec.description, spec.generated))
        return write_card(d, name, "`music-corpus` ingest stage (`jobs/stages/ingest.py`, op `corpus/ingest/op.py`)",
                          credits)
