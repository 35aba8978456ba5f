"""The behavior stage: users' events become stage-3 training sequences (personalized preference).

1. Prepare (the shuffle): every event goes to the bucket of its user, `pmod(xxhash64(user_id), n)` with
   Spark's xxhash64 (seed 42), so a user's events all land in one bucket. With the Spark engine this is
   a Spark job (`jobs.spark.lib.behavior`); otherwise one streaming pass over the event parts in pyarrow.
   Both write `_buckets/bucket=<b>/*.parquet`.
2. Tasks (one per bucket, any engine): `corpus.behavior.events.prepare_user_events` (validation, time
   order, duplicates, gap-based sessions) and `corpus.behavior.interleave.interleave_user` (profile +
   (state, item, feedback) lines, chunked under `max_tokens`, profile and state as no-loss spans).
   Outputs: `training_sequences/part-<b>`, `_sessions/part-<b>` (the sessionized events, for the
   relations stage) and `_exclusions/part-<b>` (every dropped event id with its reason).
   With a user hold-out (`holdout_user_share`, `holdout_after`) the held-out users' events, and every
   user's events after the time cut, are rendered the same way into `heldout_sequences/part-<b>` (the U2I
   evaluation split) and written as events to `heldout_events/part-<b>`; they are left out of
   `training_sequences` and `_sessions`, and `_heldout_users/part-<b>` lists the users held out by share so
   that the relations stage leaves their play counts out of co-listener relations too.
3. Finalize: accounting and cards. Events in = events in training + held-out sequences + dropped by reason.

Items are rendered as "title — artists" from the catalog (songs, artists, albums, playlists); the
profile adds the user's most played artists when play counts exist (Last.fm HetRec).
"""

from __future__ import annotations

import dataclasses
import math
import shutil
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import xxhash
from pydantic.dataclasses import dataclass as pydantic_dataclass

from corpus.behavior.events import BehaviorConfig, heldout_user, holdout_mask, prepare_user_events
from corpus.behavior.interleave import interleave_user, render_profile
from jobs.catalog import item_text, read_catalog_items
from jobs.outputs import part_files, write_card, write_rows, write_table
from jobs.settings import STRICT, config_dict
from jobs.stage import Engine, SourceTally, Stage, StageCounts, read_manifest
from schemas import get_schema

OUT_DATASET = "training_sequences"
HELDOUT_DATASET = "heldout_sequences"  # same contract as training_sequences; the U2I evaluation split
HELDOUT_EVENTS_DIR = "heldout_events"  # the held-out split's events (SESSION_SCHEMA), for recommender evaluation
HELDOUT_USERS_DIR = "_heldout_users"  # users held out by share (all their events), for the relations stage
BUCKETS_DIR = "_buckets"
SESSIONS_DIR = "_sessions"
EXCLUSIONS_DIR = "_exclusions"
MIX_GROUP = "user_context"
SESSION_SCHEMA = pa.schema([("user_id", pa.string()), ("session", pa.int32()), ("event_id", pa.string()),
                            ("ts", pa.timestamp("ms", tz="UTC")), ("item_type", pa.string()),
                            ("item_id", pa.string()), ("feedback", pa.string()), ("source", pa.string())])  # fmt: skip

if TYPE_CHECKING:
    from jobs.config import RunConfig


@pydantic_dataclass(frozen=True, config=STRICT)
class BehaviorStageConfig(BehaviorConfig):
    """The behavior stage: the op's own settings (`corpus.behavior.events.BehaviorConfig`: session_gap_s,
    max_tokens, min_events_per_user, item_repr, now, future_tolerance_s, max_events_per_user, dedupe_window_s)
    plus how the stage splits the work and renders profiles. `now` unset: the day after the ingest stage
    finished (a naive `now` is read as UTC)."""

    enabled: bool = True
    buckets: int | None = None
    """User buckets (tasks); None: from the events' size and `target_bucket_bytes`."""
    target_bucket_bytes: int = 64 * 1024 * 1024
    """Event bytes per bucket when `buckets` is unset."""
    top_artists: int = 5
    """Most played artists named in a user's profile (from play-count relations)."""
    holdout_user_share: float = 0.0
    """Share of users held out for evaluation (U2I personalization), chosen by a hash of the user id
    (`corpus.behavior.events.heldout_user`). All their events go to `heldout_sequences` and `heldout_events`,
    never to `training_sequences`, to `_sessions` (co-session relations) or to co-listener relations."""
    holdout_seed: int = 0
    """Seed of the user hash: another seed holds out other users."""
    holdout_after: datetime | None = None
    """Time cut for real logs: every user's events at or after it go to the held-out split (the model is
    evaluated on its users' future); None: no cut. A naive time is read as UTC."""

    def __post_init__(self) -> None:
        for name in ("now", "holdout_after"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                object.__setattr__(self, name, value.replace(tzinfo=UTC))
        super().__post_init__()
        if (self.buckets is not None and self.buckets < 1) or self.target_bucket_bytes < 1 or self.top_artists < 0:
            raise ValueError("behavior: buckets and target_bucket_bytes must be >= 1, top_artists >= 0")
        if not 0.0 <= self.holdout_user_share < 1.0:
            raise ValueError(f"behavior.holdout_user_share must be in [0, 1), got {self.holdout_user_share}")


def user_buckets(user_ids: pa.Array | pa.ChunkedArray, n: int) -> np.ndarray:
    """`pmod(xxhash64(user_id), n)` exactly as Spark computes it (xxh64 of the UTF-8 bytes, seed 42)."""
    uniq = pc.unique(user_ids)
    codes = pc.index_in(user_ids, value_set=uniq).to_numpy(zero_copy_only=False)
    h = np.array([xxhash.xxh64_intdigest(u.encode(), seed=42) for u in uniq.to_pylist()], dtype=np.uint64)
    return (h.view(np.int64) % n)[codes].astype(np.int32)  # numpy % with n > 0 is Spark's pmod


def catalog_item_texts(ingest_dir: Path) -> dict[str, str | None]:
    """item id -> its text in sequences; a known item with no usable name maps to None (rendered by id,
    flagged `item_without_metadata`)."""
    return {k: item_text(v) for k, v in read_catalog_items(ingest_dir).items()}


def bucket_events_locally(event_parts: list[Path], n: int, out: Path) -> None:
    """The behavior shuffle on one node: one pass over the event parts, each part's rows split by user bucket
    into `out/bucket=<b>/` (memory: one row group). The Spark engine's is `jobs.spark.lib.behavior.bucket_events`."""
    for j, part in enumerate(event_parts):
        pf = pq.ParquetFile(part)
        for g in range(pf.num_row_groups):
            t = pf.read_row_group(g)
            b = user_buckets(t.column("user_id"), n)
            order = np.argsort(b, kind="stable")
            t, b = t.take(order), b[order]
            for bucket in np.unique(b):
                lo, hi = np.searchsorted(b, [bucket, bucket + 1])
                write_table(out / f"bucket={int(bucket)}" / f"part-{j:05d}-{g:05d}.parquet", t.slice(lo, hi - lo))


class BehaviorStage(Stage):
    name = "behavior"
    transient = ("items", "event_parts")
    requires = ("ingest",)

    @classmethod
    def from_run(cls, run: RunConfig, out: Path) -> BehaviorStage:
        return cls(run.behavior, out / "ingest")

    def __init__(self, cfg: BehaviorStageConfig, ingest_dir: Path):
        self.cfg = cfg
        self.ingest_dir = ingest_dir


    @cached_property
    def event_parts(self) -> list[Path]:
        return part_files(self.ingest_dir / "behavior_events")

    @property
    def holds_out(self) -> bool:
        return self.cfg.holdout_user_share > 0 or self.cfg.holdout_after is not None

    def now(self) -> datetime | None:
        if self.cfg.now is not None:
            return self.cfg.now
        m = read_manifest(self.ingest_dir)
        if not m or not m.get("finished_at"):
            return None
        day = datetime.fromisoformat(m["finished_at"]).astimezone(UTC).date()
        return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)

    def n_buckets(self) -> int:
        if self.cfg.buckets:
            return self.cfg.buckets
        total = sum(p.stat().st_size for p in self.event_parts)
        return max(1, math.ceil(total / self.cfg.target_bucket_bytes))

    def behavior_config(self) -> BehaviorConfig:
        """The op's config with `now` resolved (the stage config is a `BehaviorConfig` too)."""
        return dataclasses.replace(self.cfg, now=self.now())

    def config(self) -> dict:
        cfg = config_dict(self.cfg)
        cfg["resolved"] = {"now": str(self.now()), "buckets": self.n_buckets()}
        return cfg

    def input_files(self) -> list[Path]:
        ds = ("songs", "albums", "artists", "playlists", "user_profiles", "item_relations")
        return self.event_parts + [p for d in ds for p in part_files(self.ingest_dir / d)]

    def plan(self) -> list[int]:
        return list(range(self.n_buckets())) if self.event_parts else []

    # ---------------------------------------------------------------- 1. the shuffle

    def prepare(self, work_dir: Path, engine: Engine) -> None:
        done = work_dir / BUCKETS_DIR / "_done.json"
        if done.exists() or not self.event_parts:
            return
        shutil.rmtree(work_dir / BUCKETS_DIR, ignore_errors=True)
        n = self.n_buckets()
        engine.bucket_by_user(self.event_parts, n, work_dir / BUCKETS_DIR)
        done.write_text("{}")

    # ---------------------------------------------------------------- 2. sequences per bucket

    @cached_property
    def items(self) -> dict[str, str | None]:
        return catalog_item_texts(self.ingest_dir)

    def read_bucket(self, work_dir: Path, b: int) -> pa.Table:
        # nullable everywhere: a null in a required field is a drop reason of prepare_user_events, not a crash
        schema = pa.schema([f.with_nullable(True) for f in get_schema("behavior_events").arrow_schema()])
        files = sorted((work_dir / BUCKETS_DIR / f"bucket={b}").glob("*.parquet"))
        tables = []
        for f in files:
            t = pq.read_table(f)
            tables.append(pa.table({fld.name: t.column(fld.name).cast(fld.type) if fld.name in t.column_names
                                    else pa.nulls(t.num_rows, fld.type) for fld in schema}, schema=schema))  # fmt: skip
        return pa.concat_tables(tables) if tables else schema.empty_table()

    def profiles(self, users: pa.Array) -> tuple[dict[str, dict], dict[str, dict]]:
        """Profile rows and profile extras (most played artists) of the given users."""
        rows: dict[str, dict] = {}
        d = self.ingest_dir / "user_profiles"
        if d.exists():
            t = pads.dataset(d, format="parquet").to_table(filter=pc.field("user_id").isin(users))
            for r in t.to_pylist():
                rows.setdefault(r["user_id"], r)
        extras: dict[str, dict] = {}
        d = self.ingest_dir / "item_relations"
        if d.exists() and self.cfg.top_artists:
            flt = pc.field("src_id").isin(users) & (pc.field("relation") == "play_count")
            t = pads.dataset(d, format="parquet").to_table(columns=["src_id", "dst_id", "weight"], filter=flt)
            plays: dict[str, list] = defaultdict(list)
            for u, a, w in zip(*(t.column(c).to_pylist() for c in ("src_id", "dst_id", "weight")), strict=True):
                if self.items.get(a):
                    plays[u].append((-(w or 0.0), self.items[a], a))
            for u, lst in plays.items():
                extras[u] = {"top_artists": [(name, int(-neg)) for neg, name, _ in sorted(lst)[: self.cfg.top_artists]]}
        return rows, extras

    def process(self, task_index: int, work_dir: Path) -> dict:
        bcfg = self.behavior_config()
        events = self.read_bucket(work_dir, task_index)
        prepared = prepare_user_events(events, set(self.items), bcfg)
        kept = prepared.events
        kept = kept.append_column("item_text", pa.array([self.items.get(i) for i in kept.column("item_id").to_pylist()],
                                                        pa.string()))  # fmt: skip
        kept = kept.append_column("session_index", pa.array(prepared.session_index, pa.int32()))
        profiles, extras = self.profiles(pc.unique(kept.column("user_id")))
        held = holdout_mask(kept.column("user_id"), kept.column("ts"), self.cfg.holdout_user_share,
                            self.cfg.holdout_seed, self.cfg.holdout_after)
        rows: dict[str, list[dict]] = {OUT_DATASET: [], HELDOUT_DATASET: []}
        dropped, flags = Counter(prepared.dropped), Counter()
        interleave_drops: list[tuple[str, str, str]] = []
        n_out = n_users = n_held_out = 0
        for user, lo, hi in prepared.user_slices():
            cut = lo + int((~held[lo:hi]).sum())  # a user's held-out events are a suffix (all, or ts >= cut)
            if held[lo:cut].any():
                raise AssertionError(f"behavior: user {user}'s held-out events are not a suffix of their events")
            n_users += 1
            profile = render_profile(profiles.get(user), extras.get(user))
            for split, a, b in ((OUT_DATASET, lo, cut), (HELDOUT_DATASET, cut, hi)):
                if a == b:
                    continue
                sl = kept.slice(a, b - a)
                res = interleave_user(user, profile, sl, bcfg)
                dropped.update(res.dropped)
                interleave_drops += res.dropped_ids
                flags.update(res.flags)
                n_out += res.n_events_out
                n_held_out += res.n_events_out if split == HELDOUT_DATASET else 0
                source = sl.column("source")[0].as_py()
                key = user if split == OUT_DATASET else f"{user}\x00{HELDOUT_DATASET}"
                for ch in res.chunks:
                    meta = {"mix_group": MIX_GROUP, "item_repr": bcfg.item_repr, "n_tokens_estimate": ch.n_tokens}
                    rows[split].append({
                        "seq_id": xxhash.xxh3_128_hexdigest(f"{key}\x00{ch.chunk_index}"), "user_id": user,
                        "source": source, "chunk_index": ch.chunk_index, "stage": 3, "text": ch.text, "weight": 1.0,
                        "no_loss_spans": [{"start": s, "end": e} for s, e in ch.no_loss_spans], "n_events": ch.n_events,
                        "first_ts": ch.first_ts, "last_ts": ch.last_ts,
                        "metadata": orjson.dumps(meta, option=orjson.OPT_SORT_KEYS).decode(),
                    })  # fmt: skip
        part = f"part-{task_index:05d}.parquet"
        write_rows(work_dir / OUT_DATASET / part, rows[OUT_DATASET], OUT_DATASET)
        sessions = pa.table({"user_id": kept.column("user_id"), "session": kept.column("session_index"),
                             "event_id": kept.column("event_id"), "ts": kept.column("ts"),
                             "item_type": kept.column("item_type"), "item_id": kept.column("item_id"),
                             "feedback": kept.column("feedback"), "source": kept.column("source")},
                            schema=SESSION_SCHEMA)  # fmt: skip
        write_table(work_dir / SESSIONS_DIR / part, sessions.filter(pa.array(~held)))
        if self.holds_out:
            write_rows(work_dir / HELDOUT_DATASET / part, rows[HELDOUT_DATASET], OUT_DATASET)
            write_table(work_dir / HELDOUT_EVENTS_DIR / part, sessions.filter(pa.array(held)))
            users = sorted({u for u in pc.unique(events.column("user_id").drop_null()).to_pylist()
                            if heldout_user(u, self.cfg.holdout_user_share, self.cfg.holdout_seed)})
            write_table(work_dir / HELDOUT_USERS_DIR / part, pa.table({"user_id": pa.array(users, pa.string())}))
        excluded = self.exclusions(events, prepared, interleave_drops, bcfg)
        tally = SourceTally()
        dropped_by_source: Counter = Counter()
        for e in excluded:
            tally.drop(e["source"], e["reason"])
            dropped_by_source[e["source"]] += 1
        for source, n in Counter(events.column("source").to_pylist()).items():
            tally.kept(source or "unknown", n - dropped_by_source.get(source or "unknown", 0))
        if self.holds_out:  # of the rows out: events that went to the held-out split (an extra counter per source)
            held_src = Counter(kept.column("source").filter(pa.array(held)).to_pylist())
            for source in tally.by_source:
                tally.by_source[source]["heldout"] = {"events": held_src.get(source, 0)}
        write_rows(work_dir / EXCLUSIONS_DIR / f"part-{task_index:05d}.parquet", excluded, "exclusions")
        stats = {"rows_in": events.num_rows, "rows_out": n_out, "dropped": dict(sorted(dropped.items())),
                 "flags": dict(sorted(flags.items())), "sequences": len(rows[OUT_DATASET]), "users": n_users,
                 "by_source": tally.as_dict()}  # fmt: skip
        if self.holds_out:  # out = events in training sequences + events in held-out sequences
            stats["heldout"] = {"events": n_held_out, "sequences": len(rows[HELDOUT_DATASET]),
                                "users": len(pc.unique(kept.column("user_id").filter(pa.array(held))))}
        if stats["rows_in"] != n_out + sum(dropped.values()):
            raise AssertionError(f"behavior bucket {task_index}: events do not balance: {stats}")
        return stats

    def exclusions(self, events: pa.Table, prepared, interleave_drops: list[tuple[str, str, str]],
                   bcfg: BehaviorConfig) -> list[dict]:
        """One exclusion row per dropped event, with the detail a user needs to find and fix it."""
        from corpus.behavior.events import DROP_REASONS

        dropped_rows = np.flatnonzero(prepared.reason_codes >= 0)
        cols = {c: events.column(c).take(pa.array(dropped_rows, pa.int64())).to_pylist()
                for c in ("event_id", "user_id", "source", "ts", "item_type", "item_id", "feedback")}  # fmt: skip
        reasons = [DROP_REASONS[c] for c in prepared.reason_codes[dropped_rows]]
        repeated_ids: set[str] = set()
        if "duplicate_event" in reasons:  # a pass over the bucket's ids only when a duplicate needs explaining
            repeated_ids = {k for k, n in Counter(events.column("event_id").to_pylist()).items() if n > 1 and k is not None}
        too_few = Counter(u for u, r in zip(cols["user_id"], reasons, strict=True) if r == "user_too_few_events")
        out = []
        for j, row in enumerate(dropped_rows.tolist()):
            reason = reasons[j]
            r = {c: v[j] for c, v in cols.items()}
            if reason == "missing_field":
                detail = "null " + ", ".join(c for c in ("event_id", "user_id", "item_id", "feedback") if r[c] is None)
            elif reason == "missing_timestamp":
                detail = "ts is null"
            elif reason == "future_timestamp":
                detail = f"ts {r['ts']} is after {bcfg.now} + {bcfg.future_tolerance_s}s (behavior.now)"
            elif reason == "unknown_item":
                detail = f"{r['item_type']} {r['item_id']} is not in the catalog"
            elif reason == "duplicate_event":
                detail = ("event_id occurs more than once" if r["event_id"] in repeated_ids else
                          f"repeats the user's {r['feedback']} of {r['item_id']} within {bcfg.dedupe_window_s}s")
            elif reason == "user_event_cap":
                detail = f"older than the user's {bcfg.max_events_per_user} most recent events"
            else:  # user_too_few_events
                detail = (f"user {r['user_id']} has {too_few[r['user_id']]} usable event(s), fewer "
                          f"than min_events_per_user {bcfg.min_events_per_user}")
            out.append({"id": r["event_id"] or f"row {row}", "stage": self.name, "dataset": "behavior_events",
                        "source": r["source"] or "unknown", "reason": reason, "detail": detail})
        if not interleave_drops:
            return out
        src = dict(zip(events.column("event_id").to_pylist(), events.column("source").to_pylist(), strict=True))
        out += [{"id": eid, "stage": self.name, "dataset": "behavior_events", "source": src.get(eid) or "unknown",
                 "reason": reason, "detail": detail} for eid, reason, detail in interleave_drops]  # fmt: skip
        return out

    def finalize(self, work_dir: Path, engine: Engine) -> StageCounts:
        counts = StageCounts()
        flags: Counter = Counter()
        for st in self.task_stats(work_dir):
            counts.add_task(st)
            flags.update(st["flags"])
        counts.bytes_in = sum(p.stat().st_size for p in self.event_parts)
        shutil.rmtree(work_dir / BUCKETS_DIR, ignore_errors=True)
        if not self.event_parts:
            return counts
        c = self.behavior_config()
        notes = [f"Sessions: a gap over {c.session_gap_s}s starts a new one; chunks of at most {c.max_tokens} "
                 f"estimated tokens, the profile repeated in each; items as {c.item_repr}; future cutoff {c.now}.",
                 f"Flags (kept, noted): {dict(flags) or 'none'}. Drops by reason are in the stage manifest."]  # fmt: skip
        counts.datasets[OUT_DATASET] = write_card(work_dir / OUT_DATASET, OUT_DATASET,
                                                  "`music-corpus` behavior stage (`jobs/stages/behavior.py`)", notes=notes)
        if self.holds_out:
            held = Counter()
            for st in self.task_stats(work_dir):
                held.update(st.get("heldout") or {})
            c = self.cfg
            counts.datasets[HELDOUT_DATASET] = write_card(
                work_dir / HELDOUT_DATASET, OUT_DATASET, "`music-corpus` behavior stage (`jobs/stages/behavior.py`)",
                notes=[f"The evaluation split (U2I personalization), never in training shards: every event of the "
                       f"{c.holdout_user_share:.0%} of users whose id hash (seed {c.holdout_seed}) falls below the share"
                       + (f", and every user's events at or after {c.holdout_after}" if c.holdout_after else "")
                       + f". {held['users']} users, {held['events']} events, {held['sequences']} sequences; the events "
                       f"themselves are in `{HELDOUT_EVENTS_DIR}/`.", *notes])
        counts.datasets["exclusions"] = write_card(work_dir / EXCLUSIONS_DIR, "exclusions",
                                                   "`music-corpus` behavior stage (`jobs/stages/behavior.py`)")
        return counts
