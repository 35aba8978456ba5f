"""The uq2i stage: user-query-to-item instruction samples for SFT and RL (`corpus/uq2i/synthesize.py`).

Off by default (`uq2i.enabled`); reads the ingest stage's catalog and profiles and the behavior stage's training
events (`behavior/_sessions`) and evaluation users (`behavior/heldout_events`).

1. Prepare (once, resumable): the query pool over the ingested songs (`corpus.queries.pool.build_pool`, written to
   `uq2i/query_pool/` with `_queries_report.md`) and the personalization model trained on the training users'
   events (`corpus.personalize`, saved in `uq2i/_personalizer/`, its time-split figures in `_personalizer.json`),
   then the query-item relevance judge on the pool (`corpus.uq2i.judge`, `uq2i/_judge/`, `_judge_report.md`): the
   RL reward's relevance gate.
2. Tasks (one per user bucket, any engine: datatrove or Spark): each user of the bucket becomes one sample or one
   exclusion with its reason; candidates the judge rejects are dropped before ranking
   (`synthesis.relevance_filter`). Rows are users: users in = samples + users dropped by reason.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow.dataset as pads
from pydantic import Field

from corpus.personalize.model import PersonalizerConfig
from corpus.queries.cluster import ClusterConfig
from corpus.queries.pool import CAPTION_REQUESTS
from corpus.uq2i.judge import JudgeConfig
from corpus.uq2i.synthesize import SynthesisConfig
from jobs.outputs import part_files, write_card, write_rows
from jobs.settings import StrictModel
from jobs.stage import Engine, SourceTally, Stage, StageCounts

if TYPE_CHECKING:
    from jobs.config import RunConfig

OUT_DATASET = "uq2i_samples"
POOL_DIR = "query_pool"
MODEL_DIR = "_personalizer"
JUDGE_DIR = "_judge"
EXCLUSIONS_DIR = "_exclusions"


class Uq2iConfig(StrictModel):
    """The uq2i stage: its ops' own configs plus how the work splits."""

    enabled: bool = False
    synthesis: SynthesisConfig = SynthesisConfig()
    clusters: ClusterConfig = ClusterConfig()
    personalizer: PersonalizerConfig = PersonalizerConfig()
    judge: JudgeConfig = JudgeConfig()
    queries_per_song: int = Field(3, ge=1, description="generated queries per song in the pool")
    caption_requests: int | None = Field(CAPTION_REQUESTS, ge=0, description="cap on MusicCaps requests in the pool "
                                         "(null: every clip; see corpus.queries.pool)")
    buckets: int = Field(4, ge=1, description="tasks: users are split into this many buckets by a hash of the id")


def _bucket(user_id: str, n: int) -> int:
    return int.from_bytes(hashlib.blake2b(user_id.encode(), digest_size=8).digest(), "big") % n


class Uq2iStage(Stage):
    name = "uq2i"
    requires = ("ingest", "behavior")
    transient = ("_loaded",)

    @classmethod
    def from_run(cls, run: RunConfig, out: Path) -> Uq2iStage:
        return cls(run.uq2i, out / "ingest", out / "behavior")

    def __init__(self, cfg: Uq2iConfig, ingest_dir: Path, behavior_dir: Path):
        self.cfg = cfg
        self.ingest_dir = ingest_dir
        self.behavior_dir = behavior_dir
        self._loaded: Any = None

    def config(self) -> dict:
        return self.cfg.model_dump(mode="json")

    def input_files(self) -> list[Path]:
        return [f for d in (self.ingest_dir / "songs", self.ingest_dir / "user_profiles", self.ingest_dir / "documents",
                            self.ingest_dir / "conversations", self.ingest_dir / "playlists", self.behavior_dir / "_sessions",
                            self.behavior_dir / "heldout_events") for f in part_files(d)]  # fmt: skip

    def plan(self) -> list[int]:
        return list(range(self.cfg.buckets))

    def describe_run(self, engine: Engine, n_tasks: int) -> str:
        return f"{n_tasks} user bucket(s) on {engine.name}"

    # ------------------------------------------------------------------ driver: pool and model
    def prepare(self, work_dir: Path, engine: Engine) -> None:
        from corpus.personalize.evaluate import evaluate_split
        from corpus.personalize.model import Personalizer
        from corpus.queries.pool import build_pool, write_pool

        if not (work_dir / POOL_DIR / "part-00000.parquet").exists():
            queries, labels, rep = build_pool(self.ingest_dir, self.cfg.clusters, self.cfg.queries_per_song,
                                              captions=self.cfg.caption_requests)
            write_pool(queries, labels, rep, work_dir / "_pool")
            (work_dir / "_pool" / "query_pool").rename(work_dir / POOL_DIR)
            (work_dir / "_pool" / "_report.md").rename(work_dir / "_queries_report.md")
            (work_dir / "_pool" / "_report.json").rename(work_dir / "_queries_report.json")
        if not (work_dir / MODEL_DIR / "model.json").exists():
            events = self.training_events()
            figures = evaluate_split(events, self.cfg.personalizer)
            (work_dir / "_personalizer.json").write_text(json.dumps(figures, indent=2, sort_keys=True), encoding="utf-8")
            Personalizer.fit(events, self.cfg.personalizer).save(work_dir / MODEL_DIR)
        if not (work_dir / JUDGE_DIR / "model.json").exists():
            self.train_judge(work_dir)

    def train_judge(self, work_dir: Path) -> dict:
        """The relevance judge on the written pool (`uq2i/_judge/`, `_judge_report.md`); returns its report."""
        from corpus.queries.pool import annotated_songs
        from corpus.uq2i.judge import RelevanceJudge, report_markdown

        pool = pads.dataset(part_files(work_dir / POOL_DIR), format="parquet").to_table(
            columns=["query_id", "text", "song_id", "song_ids", "facts", "cluster"]).to_pylist()
        judge, rep = RelevanceJudge.fit(pool, annotated_songs(self.ingest_dir), self.cfg.judge)
        judge.save(work_dir / JUDGE_DIR, rep)
        (work_dir / "_judge_report.md").write_text(report_markdown(rep), encoding="utf-8")
        return rep

    def training_events(self, users: set[str] | None = None) -> list[dict]:
        files = part_files(self.behavior_dir / "_sessions")
        if not files:
            raise FileNotFoundError(f"{self.behavior_dir}/_sessions: no part files; run the behavior stage first")
        expr = pads.field("user_id").isin(sorted(users)) if users is not None else None
        return pads.dataset(files, format="parquet").to_table(filter=expr).to_pylist()

    @cached_property
    def evaluation_users(self) -> frozenset[str]:
        files = part_files(self.behavior_dir / "heldout_events")
        if not files:
            return frozenset()
        t = pads.dataset(files, format="parquet").to_table(columns=["user_id"])
        return frozenset(t.column("user_id").to_pylist())

    # ------------------------------------------------------------------ per task
    def _load(self, work_dir: Path) -> tuple:
        if self._loaded is None:
            from corpus.personalize.model import Personalizer
            from corpus.uq2i.synthesize import ClusterIndex
            from jobs.catalog import item_text, read_catalog_items

            songs = {k: v for k, v in read_catalog_items(self.ingest_dir).items() if v["item_type"] == "song"}
            text_of = {k: t for k, v in songs.items() if (t := item_text(v))}
            artist_of = {k: (songs[k]["artists"] or [k])[0] for k in text_of}
            judge = None
            if self.cfg.synthesis.relevance_filter:
                from corpus.uq2i.judge import RelevanceJudge

                judge = RelevanceJudge.load(work_dir / JUDGE_DIR)
            self._loaded = (ClusterIndex.read(work_dir / POOL_DIR), Personalizer.load(work_dir / MODEL_DIR), text_of,
                            artist_of, judge)  # fmt: skip
        return self._loaded

    def profiles(self, users: set[str]) -> dict[str, dict]:
        files = part_files(self.ingest_dir / "user_profiles")
        if not files or not users:
            return {}
        rows = pads.dataset(files, format="parquet").to_table(filter=pads.field("user_id").isin(sorted(users)))
        out: dict[str, dict] = {}
        for r in rows.to_pylist():
            out.setdefault(r["user_id"], r)
        return out

    def process(self, task_index: int, work_dir: Path) -> dict:
        from corpus.behavior.events import BehaviorConfig
        from corpus.behavior.interleave import interleave_user, render_profile
        from corpus.uq2i.synthesize import choose_list, render_answer, render_prompt

        index, model, text_of, artist_of, judge = self._load(work_dir)
        syn = self.cfg.synthesis
        by_user: dict[str, list[dict]] = {}
        for e in self.training_events():
            if _bucket(e["user_id"], self.cfg.buckets) == task_index:
                by_user.setdefault(e["user_id"], []).append(e)
        profiles = self.profiles(set(by_user))
        samples, excluded = [], []
        tally = SourceTally()
        reasons: Counter[str] = Counter()
        render_cfg = BehaviorConfig(max_tokens=10**9, min_events_per_user=1)
        for user in sorted(by_user):
            events = sorted(by_user[user], key=lambda e: (e["ts"], e["session"], e["event_id"]))
            source = events[0]["source"] or "unknown"
            if user in self.evaluation_users:
                sample, reason = None, "evaluation_user"
            else:
                sample, reason = choose_list(user, events, index, model, artist_of, syn, judge)
            if sample is None:
                reasons[reason] += 1
                tally.drop(source, reason)
                excluded.append({"id": user, "stage": self.name, "dataset": "users", "source": source,
                                 "reason": reason, "detail": f"{len(events)} events"})
                continue
            recent = [{**e, "item_text": text_of.get(e["item_id"]), "session_index": e["session"]}
                      for e in events[-syn.recent_events:]] if syn.recent_events else []  # fmt: skip
            context = render_profile(profiles.get(user))
            if recent:
                chunks = interleave_user(user, context, recent, render_cfg).chunks
                context = chunks[-1].text if chunks else context
            q = sample.query
            sid = hashlib.blake2b(f"{user}\x00{q['query_id']}\x00{','.join(sample.items)}".encode(),
                                  digest_size=8).hexdigest()  # fmt: skip
            samples.append({"sample_id": sid, "user_id": user, "source": source, "split": sample.split, "query_id": q["query_id"],
                            "query": q["text"], "lang": q["lang"], "cluster": int(q["cluster"]),
                            "seed_song_id": sample.seed_song, "items": list(sample.items),
                            "scores": list(sample.scores), "candidates": sample.candidates,
                            "prompt": render_prompt(context, q["text"], syn.list_size, q["lang"]),
                            "answer": render_answer(sample.items, text_of)})  # fmt: skip
            tally.kept(source)
        write_rows(work_dir / OUT_DATASET / f"part-{task_index:05d}.parquet", samples, OUT_DATASET)
        write_rows(work_dir / EXCLUSIONS_DIR / f"part-{task_index:05d}.parquet", excluded, "exclusions")
        return {"rows_in": len(by_user), "rows_out": len(samples), "dropped": dict(sorted(reasons.items())),
                "by_source": tally.as_dict(), "splits": dict(Counter(s["split"] for s in samples))}

    def finalize(self, work_dir: Path, engine: Engine) -> StageCounts:
        counts = self.sum_tasks(work_dir)
        splits: Counter[str] = Counter()
        for st in self.task_stats(work_dir):
            splits.update(st.get("splits") or {})
        figures = json.loads((work_dir / "_personalizer.json").read_text(encoding="utf-8"))
        k = figures["k"]
        notes = [f"Splits: {dict(sorted(splits.items()))} (disjoint users; U2I evaluation users excluded).",
                 f"Personalization model ({figures['config']['algorithm']}, time split on the training users): "
                 f"NDCG@{k} {figures['model'][f'ndcg@{k}']:.3f} vs popularity {figures['popularity'][f'ndcg@{k}']:.3f}; "
                 f"hit rate@{k} {figures['model'][f'hit_rate@{k}']:.3f} vs {figures['popularity'][f'hit_rate@{k}']:.3f}.",
                 "Query pool and clusters: `../_queries_report.md`; relevance judge (the RL reward's gate): "
                 "`../_judge_report.md`."]  # fmt: skip
        counts.datasets[OUT_DATASET] = write_card(work_dir / OUT_DATASET, OUT_DATASET,
                                                  "`music-corpus` uq2i stage (`jobs/stages/uq2i.py`, `corpus/uq2i`)",
                                                  notes=notes)  # fmt: skip
        counts.datasets["exclusions"] = write_card(work_dir / EXCLUSIONS_DIR, "exclusions",
                                                   "`music-corpus` uq2i stage: users without a sample, by reason")
        counts.datasets["query_pool"] = write_card(work_dir / POOL_DIR, "query_pool",
                                                   "`music-corpus` uq2i stage (`corpus/queries`)")
        return counts
