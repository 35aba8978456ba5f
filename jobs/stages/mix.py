"""The mix stage: the three-stage curriculum over every producer's output, within token budgets.

Inputs are the knowledge stage's `training_documents` (stage 1: templated metadata, encyclopedia and
web text with linked catalog facts; stage 2: comments joined to their items, playlists, item
relations) and the behavior stage's `training_sequences` (stage 3). Every row names its mix group in
`metadata.mix_group`; `(stage, mix_group)` is a budgeted group (`corpus.mix.budget`).

1. Tasks (one per input part, any engine): token counts per row, written to `_counts/`.
2. Finalize: group totals, targets scaled from the budgets by the config's rule (`keep_all` without
   `total_tokens`: every group at least one epoch and every document at least one copy; `total_tokens`:
   the budgets' proportions of that total, down-sampling allowed), expected copies per document (select
   weights, capped at `max_repeats`), seeded whole copies; then each part is rewritten with its copies
   (a repeat k > 0 gets the id `<doc_id>~<k>`; documents drawn 0 times go to `_exclusions` as
   `mix_downsampled`) and `_report.md` / `_report.json` give tokens per stage, group and source,
   effective epochs and the shortfalls.

Finalize holds only the `_counts` columns (about 40 bytes per document) and one part at a time.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import Field, field_validator

from corpus.behavior.interleave import approx_tokens
from corpus.mix.budget import (
    KEEP_ALL,
    RULES,
    SEED_BUDGETS,
    TOTAL_TOKENS,
    expected_copies,
    group_targets,
    whole_copies,
)
from jobs.outputs import part_files, write_card, write_rows
from jobs.settings import StrictModel
from jobs.stage import Engine, SourceTally, Stage, StageCounts

OUT_DATASET = "training_documents"
EXCLUSIONS_DIR = "_exclusions"
COUNTS_DIR = "_counts"
REPORT = "_report"
COUNTS_SCHEMA = pa.schema([("id", pa.string()), ("stage", pa.int8()), ("group", pa.string()),
                           ("source", pa.string()), ("weight", pa.float64()), ("n_tokens", pa.int64())])  # fmt: skip

if TYPE_CHECKING:
    from jobs.config import RunConfig


def _default_budgets() -> dict[int, dict[str, float]]:
    out: dict[int, dict[str, float]] = defaultdict(dict)
    for (stage, group), tokens in SEED_BUDGETS.items():
        out[stage][group] = tokens
    return dict(out)


class MixConfig(StrictModel):
    """Curriculum budgets: tokens per stage and mix group (default: the seeds' 23.3B composition)."""
    enabled: bool = True
    budgets: dict[int, dict[str, float]] = Field(default_factory=_default_budgets)
    # tokens of the whole mix (rule `total_tokens`: groups may be down-sampled); None (rule `keep_all`): every
    # selected document at least once, small groups repeated toward the budgets' proportions
    total_tokens: float | None = Field(None, gt=0)
    max_repeats: float = Field(4.0, ge=1.0, description="cap on copies of one document (effective epochs)")
    seed: int = 0

    @field_validator("budgets")
    @classmethod
    def _stages(cls, v: dict[int, dict[str, float]]) -> dict[int, dict[str, float]]:
        for stage, groups in v.items():
            if stage not in (1, 2, 3):
                raise ValueError(f"curriculum stages are 1, 2 and 3, not {stage}")
            for g, tokens in groups.items():
                if tokens < 0:
                    raise ValueError(f"budget of stage {stage} group {g!r} is negative")
        return v

    def flat_budgets(self) -> dict[tuple[int, str], float]:
        return {(s, g): t for s, groups in self.budgets.items() for g, t in groups.items()}

    @property
    def rule(self) -> str:
        """`total_tokens` when a total is given (down-sampling allowed), else `keep_all`."""
        return TOTAL_TOKENS if self.total_tokens is not None else KEEP_ALL


def mix_group(metadata: str | None, where: str) -> str:
    group = orjson.loads(metadata or "{}").get("mix_group")
    if not group:
        raise ValueError(f"mix: {where} has no metadata.mix_group; every producer must name the row's mix group")
    return group


def sequence_to_document(row: dict) -> dict:
    """A `training_sequences` row as a `training_documents` row (sequence facts move to metadata)."""
    meta = orjson.loads(row["metadata"] or "{}")
    meta.update(user_id=row["user_id"], chunk_index=row["chunk_index"], n_events=row["n_events"],
                first_ts=row["first_ts"], last_ts=row["last_ts"])  # fmt: skip
    return {"doc_id": row["seq_id"], "stage": row["stage"], "source": row["source"], "text": row["text"],
            "weight": row["weight"], "no_loss_spans": row["no_loss_spans"],
            "metadata": orjson.dumps(meta, option=orjson.OPT_SORT_KEYS, default=str).decode()}  # fmt: skip


class MixStage(Stage):
    name = "mix"
    transient = ("parts",)
    requires = ()

    @classmethod
    def from_run(cls, run: RunConfig, out: Path) -> MixStage:
        return cls(run.mix, out / "knowledge" if run.knowledge.enabled else None, out / "behavior" if run.behavior.enabled else None)

    @classmethod
    def required(cls, run: RunConfig) -> tuple[str, ...]:
        return tuple(s for s in ("knowledge", "behavior") if getattr(run, s).enabled)

    def __init__(self, cfg: MixConfig, knowledge_dir: Path | None, behavior_dir: Path | None):
        self.cfg = cfg
        self.knowledge_dir = knowledge_dir
        self.behavior_dir = behavior_dir


    @cached_property
    def parts(self) -> list[tuple[str, Path]]:
        """(kind, file) of every input part: `documents` or `sequences`."""
        out: list[tuple[str, Path]] = []
        for kind, d in (("documents", self.knowledge_dir and self.knowledge_dir / "training_documents"),
                        ("sequences", self.behavior_dir and self.behavior_dir / "training_sequences")):  # fmt: skip
            if d is not None:
                out += [(kind, p) for p in part_files(d)]
        return out

    def config(self) -> dict:
        return self.cfg.model_dump(mode="json")

    def input_files(self) -> list[Path]:
        return [p for _, p in self.parts]

    def plan(self) -> list[tuple[str, Path]]:
        if not self.parts:
            raise FileNotFoundError("mix: no inputs; run the knowledge and/or behavior stages first")
        return self.parts

    def read_part(self, i: int) -> list[dict]:
        kind, path = self.parts[i]
        rows = pq.read_table(path).to_pylist()
        return [sequence_to_document(r) for r in rows] if kind == "sequences" else rows

    def process(self, task_index: int, work_dir: Path) -> dict:
        rows = self.read_part(task_index)
        where = str(self.parts[task_index][1])
        counts = pa.Table.from_pylist([
            {"id": r["doc_id"], "stage": r["stage"], "group": mix_group(r["metadata"], f"{where} row {r['doc_id']}"),
             "source": r["source"], "weight": r["weight"], "n_tokens": approx_tokens(r["text"])}
            for r in rows
        ], schema=COUNTS_SCHEMA)  # fmt: skip
        path = work_dir / COUNTS_DIR / f"part-{task_index:05d}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(counts, path)
        stats = {"rows_in": len(rows)}
        return stats

    def finalize(self, work_dir: Path, engine: Engine) -> StageCounts:
        counts = pq.read_table(sorted((work_dir / COUNTS_DIR).glob("part-*.parquet")))
        lengths = [st["rows_in"] for st in self.task_stats(work_dir)]
        stage = counts.column("stage").to_numpy()
        group = np.asarray(counts.column("group").to_pylist(), dtype=object)
        ids = counts.column("id").to_pylist()
        weight = counts.column("weight").to_numpy()
        n_tok = counts.column("n_tokens").to_numpy()
        keys = [(int(s), str(g)) for s, g in zip(stage, group, strict=True)]
        available: Counter = Counter()
        for k, n in zip(keys, n_tok, strict=True):
            available[k] += int(n)
        targets, scale = group_targets(self.cfg.flat_budgets(), available, self.cfg.total_tokens)
        copies = np.zeros(len(ids), dtype=np.int64)
        key_arr = np.array([f"{s}\t{g}" for s, g in keys], dtype=object)
        for t in targets:
            m = np.flatnonzero(key_arr == f"{t.stage}\t{t.group}")
            if len(m):
                c = expected_copies(weight[m], n_tok[m], t.target_tokens, self.cfg.max_repeats,
                                    min_copies=1.0 if self.cfg.rule == KEEP_ALL else 0.0)
                copies[m] = whole_copies(c, [ids[j] for j in m], self.cfg.seed)
        result = StageCounts()
        tally = SourceTally()
        written: dict[tuple[int, str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        offset = 0
        for i, n in enumerate(lengths):
            part_copies = copies[offset : offset + n]
            part_tokens = n_tok[offset : offset + n]
            part_groups = group[offset : offset + n]  # from the task's counts: no second metadata parse
            offset += n
            rows = self.read_part(i)
            out, excluded = [], []
            for r, c, nt, g in zip(rows, part_copies, part_tokens, part_groups, strict=True):
                acc = written[(r["stage"], g, r["source"])]
                acc["documents"] += 1
                acc["available_tokens"] += int(nt)
                if c == 0:
                    tally.drop(r["source"], "mix_downsampled")
                    excluded.append({"id": r["doc_id"], "stage": self.name, "dataset": OUT_DATASET,
                                     "source": r["source"], "reason": "mix_downsampled",
                                     "detail": f"stage={r['stage']} group={g} weight={r['weight']:.4g}"})  # fmt: skip
                    continue
                acc["kept_documents"] += 1
                tally.kept(r["source"])
                acc["rows_written"] += int(c)
                acc["tokens"] += int(c) * int(nt)
                for k in range(int(c)):
                    out.append(r if k == 0 else {**r, "doc_id": f"{r['doc_id']}~{k}"})
            write_rows(work_dir / OUT_DATASET / f"part-{i:05d}.parquet", out, OUT_DATASET)
            write_rows(work_dir / EXCLUSIONS_DIR / f"part-{i:05d}.parquet", excluded, "exclusions")
        result.add_task({"by_source": tally.as_dict()})
        report = mixture_report(targets, scale, written, self.cfg)
        (work_dir / f"{REPORT}.json").write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
        (work_dir / f"{REPORT}.md").write_text(report_markdown(report))
        result.tokens = report["totals"]["tokens"]
        notes = [f"Mixture: {report['totals']['tokens']:,} tokens (estimated, `approx_tokens`) in "
                 f"{report['totals']['rows_written']:,} rows; see `../_report.md`.",
                 "`weight` is the select weight the mix has already applied through its draws and repeats: "
                 "sample these rows uniformly (the shards stage does), do not weight them again."]  # fmt: skip
        result.datasets[OUT_DATASET] = write_card(work_dir / OUT_DATASET, OUT_DATASET,
                                                  "`music-corpus` mix stage (`jobs/stages/mix.py`)", notes=notes)
        result.datasets["exclusions"] = write_card(work_dir / EXCLUSIONS_DIR, "exclusions",
                                                   "`music-corpus` mix stage (`jobs/stages/mix.py`)")
        return result


def mixture_report(targets: list, scale: float, written: dict, cfg: MixConfig) -> dict[str, Any]:
    """Tokens per (stage, group, source) as written, against the scaled targets."""
    by_group: dict[tuple[int, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    rows = []
    for (stage, group, source), acc in sorted(written.items()):
        rows.append({"stage": stage, "group": group, "source": source, **acc,
                     "effective_epochs": round(acc["tokens"] / acc["available_tokens"], 4) if acc["available_tokens"] else 0.0})  # fmt: skip
        g = by_group[(stage, group)]
        for k, v in acc.items():
            g[k] += v
    groups = []
    for t in targets:
        g = by_group.get((t.stage, t.group), {})
        tokens = int(g.get("tokens", 0))
        groups.append({
            "stage": t.stage, "group": t.group, "budget": t.budget, "target_tokens": round(t.target_tokens),
            "available_tokens": t.available_tokens, "tokens": tokens,
            "effective_epochs": round(tokens / t.available_tokens, 4) if t.available_tokens else 0.0,
            # capped: even max_repeats copies of everything fall short; otherwise the written tokens differ
            # from the target only by whole copies of unequal documents (see `deviation`)
            "status": "missing" if t.available_tokens == 0 else
                      ("capped" if t.available_tokens * cfg.max_repeats < t.target_tokens else "met"),
            "deviation": round(tokens / t.target_tokens - 1, 4) if t.target_tokens else 0.0,
        })  # fmt: skip
    stages = []
    for s in (1, 2, 3):
        toks = sum(g["tokens"] for g in groups if g["stage"] == s)
        stages.append({"stage": s, "tokens": toks, "target_tokens": sum(g["target_tokens"] for g in groups if g["stage"] == s)})
    total = sum(st["tokens"] for st in stages)
    for st in stages:
        st["share"] = round(st["tokens"] / total, 4) if total else 0.0
    return {
        "config": cfg.model_dump(mode="json"), "rule": cfg.rule, "rule_description": RULES[cfg.rule],
        "scale": scale, "stages": stages, "groups": groups, "sources": rows,
        "totals": {"tokens": total, "rows_written": int(sum(r["rows_written"] for r in rows)),
                   "documents": int(sum(r["documents"] for r in rows)),
                   "kept_documents": int(sum(r["kept_documents"] for r in rows))},
        "token_counter": "approx_tokens (corpus.behavior.interleave): an estimate until shards are tokenized",
    }  # fmt: skip


def report_markdown(report: dict) -> str:
    lines = ["# Curriculum mixture", "",
             f"Rule `{report['rule']}`: {report['rule_description']}.", "",
             f"Scale: {report['scale']:.3g} x the budgets; max repeats {report['config']['max_repeats']}; "
             f"{report['totals']['tokens']:,} tokens in {report['totals']['rows_written']:,} rows "
             f"({report['totals']['kept_documents']:,} of {report['totals']['documents']:,} documents kept). "
             f"Token counts: {report['token_counter']}.", "",
             "| stage | tokens | target | share |", "|---|---|---|---|"]  # fmt: skip
    lines += [f"| {s['stage']} | {s['tokens']:,} | {s['target_tokens']:,} | {s['share']:.1%} |" for s in report["stages"]]
    lines += ["", "| stage | group | budget | target | available | written | vs target | epochs | status |",
              "|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {g['stage']} | {g['group']} | {g['budget']:.3g} | {g['target_tokens']:,} | {g['available_tokens']:,} | "
              f"{g['tokens']:,} | {g['deviation']:+.1%} | {g['effective_epochs']:.2f} | {g['status']} |" for g in report["groups"]]  # fmt: skip
    lines += ["", "| stage | group | source | documents | kept | rows | tokens | epochs |", "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['stage']} | {r['group']} | {r['source']} | {r['documents']:,} | {r['kept_documents']:,} | "
              f"{r['rows_written']:,} | {r['tokens']:,} | {r['effective_epochs']:.2f} |" for r in report["sources"]]  # fmt: skip
    return "\n".join(lines) + "\n"
