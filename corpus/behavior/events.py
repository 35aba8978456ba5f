"""Validation and sessionization of `behavior_events` for stage-3 sequences (pure pyarrow/numpy ops).

`prepare_user_events` takes a batch holding *all* events of the users in it, drops what cannot go
into a sequence (every drop counted by reason, with the dropped event ids), sorts the rest by
(user_id, ts, event_id) and numbers each user's sessions.

Drop rules, applied in this order; a row is counted under the first rule that drops it:

1. `missing_field`: null `event_id`, `user_id`, `item_id` or `feedback` (the contract forbids these;
   counted rather than crashing on a bad batch).
2. `missing_timestamp`: null `ts`.
3. `future_timestamp`: `ts > cfg.now + cfg.future_tolerance_s` (only when `cfg.now` is set).
4. `unknown_item`: `item_id` not in `known_items` (only when `known_items` is given).
5. `duplicate_event`: (a) a row whose `event_id` an earlier row already has (the first in
   (ts, item_id, feedback, value, tag) order is kept), or (b) a row whose previous row of the same
   (user_id, item_id, feedback, tag), in (ts, event_id) order, is at most `cfg.dedupe_window_s` earlier.
   With the default window 0 only rows identical in (user_id, item_id, feedback, tag, ts) are
   duplicates; with a window > 0 the rule chains, so a burst of repeats collapses to its first row.
6. `user_event_cap`: beyond the `cfg.max_events_per_user` most recent events of a user.
7. `user_too_few_events`: all events of a user left with fewer than `cfg.min_events_per_user`.

Sessions (0-based per user, counted over the *kept* events): a new session starts at a user's first
event, when the gap to the user's previous kept event exceeds `cfg.session_gap_s` (strictly), and,
when the batch has a `session_id` column, when it differs from the previous kept event's (a null
and a non-null value differ; two nulls do not).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

MISSING_FIELD = "missing_field"
MISSING_TIMESTAMP = "missing_timestamp"
FUTURE_TIMESTAMP = "future_timestamp"
UNKNOWN_ITEM = "unknown_item"
DUPLICATE_EVENT = "duplicate_event"
USER_EVENT_CAP = "user_event_cap"
USER_TOO_FEW_EVENTS = "user_too_few_events"
DROP_REASONS = (
    MISSING_FIELD, MISSING_TIMESTAMP, FUTURE_TIMESTAMP, UNKNOWN_ITEM, DUPLICATE_EVENT, USER_EVENT_CAP,
    USER_TOO_FEW_EVENTS,
)  # fmt: skip
REQUIRED_COLUMNS = ("event_id", "user_id", "ts", "item_id", "feedback")


@dataclass(frozen=True)
class BehaviorConfig:
    """Settings for validating, sessionizing and chunking behaviour events (one per stage-3 job)."""

    session_gap_s: int = 1800  # a gap longer than this starts a new session
    max_tokens: int = 2048  # chunk limit, as counted by the chunker's `count_tokens`
    min_events_per_user: int = 2
    item_repr: Literal["text", "id_token"] = "text"
    now: datetime | None = None  # events after now + future_tolerance_s are dropped; None: no check
    future_tolerance_s: int = 0
    max_events_per_user: int | None = None  # keep the most recent N; None: no cap
    dedupe_window_s: int = 0

    def __post_init__(self) -> None:
        if self.session_gap_s <= 0:
            raise ValueError(f"BehaviorConfig.session_gap_s must be > 0, got {self.session_gap_s}")
        if self.max_tokens <= 0:
            raise ValueError(f"BehaviorConfig.max_tokens must be > 0, got {self.max_tokens}")
        if self.min_events_per_user < 1:
            raise ValueError(
                f"BehaviorConfig.min_events_per_user must be >= 1, got {self.min_events_per_user}"
            )
        if self.item_repr not in ("text", "id_token"):
            raise ValueError(f"BehaviorConfig.item_repr must be 'text' or 'id_token', got {self.item_repr!r}")
        if self.now is not None and self.now.tzinfo is None:
            raise ValueError("BehaviorConfig.now must be timezone-aware (e.g. datetime.now(UTC))")
        if self.future_tolerance_s < 0 or self.dedupe_window_s < 0:
            raise ValueError("BehaviorConfig.future_tolerance_s and dedupe_window_s must be >= 0")
        cap = self.max_events_per_user
        if cap is not None and cap < self.min_events_per_user:
            raise ValueError(
                f"BehaviorConfig.max_events_per_user ({cap}) must be >= min_events_per_user "
                f"({self.min_events_per_user}), or every capped user would be dropped"
            )


@dataclass
class PreparedEvents:
    """Kept events sorted by (user_id, ts, event_id), their session numbers, and what was dropped."""

    events: pa.Table
    session_index: np.ndarray  # int32, one per row of `events`, 0-based within each user
    rows_in: int
    dropped: Counter[str] = field(default_factory=Counter)
    dropped_ids: dict[str, list[str]] = field(default_factory=dict)  # reason -> event ids (null ids omitted)
    # the drop reason of every input row (index into DROP_REASONS; -1 = kept), for per-row details
    reason_codes: np.ndarray = field(default_factory=lambda: np.empty(0, np.int8))

    @property
    def kept(self) -> int:
        return self.events.num_rows

    def user_slices(self) -> Iterator[tuple[str, int, int]]:
        """(user_id, start, stop) of each user's rows in `events`, in user_id order."""
        users = self.events.column("user_id")
        if len(users) == 0:
            return
        starts = _run_starts(users)
        stops = np.append(starts[1:], len(users))
        for s, e in zip(starts.tolist(), stops.tolist(), strict=True):
            yield users[s].as_py(), s, e


def _run_starts(sorted_col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Start positions of runs of equal values in an already-sorted, null-free column."""
    n = len(sorted_col)
    if n == 0:
        return np.empty(0, np.int64)
    col = sorted_col.combine_chunks() if isinstance(sorted_col, pa.ChunkedArray) else sorted_col
    change = np.ones(n, dtype=bool)
    if n > 1:
        change[1:] = pc.not_equal(col.slice(1), col.slice(0, n - 1)).to_numpy(zero_copy_only=False)
    return np.flatnonzero(change)


def _group_ids(sorted_cols: list[pa.Array]) -> np.ndarray:
    """Group number of each row of rows sorted by `sorted_cols` (a new group where any column changes)."""
    n = len(sorted_cols[0])
    change = np.zeros(n, dtype=bool)
    if n:
        change[0] = True
    for col in sorted_cols:
        change[_run_starts(col)] = True
    return np.cumsum(change) - 1


def _ts_ms(events: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """ts as int64 epoch milliseconds (0 where null) and its validity mask."""
    ts = events.column("ts")
    if not pa.types.is_timestamp(ts.type):
        raise TypeError(f"behavior_events.ts must be a timestamp column, got {ts.type}")
    ms = pc.cast(ts, pa.timestamp("ms", tz=ts.type.tz), safe=False).cast(pa.int64())
    valid = pc.is_valid(ms).to_numpy(zero_copy_only=False)
    return pc.fill_null(ms, 0).to_numpy(zero_copy_only=False).astype(np.int64), valid


def _take(col: pa.ChunkedArray, idx: np.ndarray) -> pa.Array:
    return col.take(pa.array(idx, pa.int64())).combine_chunks()


def _sort_rows(events: pa.Table, ts_ms: np.ndarray, rows: np.ndarray, keys: list[str]) -> np.ndarray:
    """`rows` (positions into `events`) sorted by `keys` (column names, `_ts` for ts in ms), nulls last."""
    idx = pa.array(rows, pa.int64())
    sub = pa.table({k: (pa.array(ts_ms[rows]) if k == "_ts" else events.column(k).take(idx)) for k in keys})
    return rows[pc.sort_indices(sub, sort_keys=[(k, "ascending") for k in keys]).to_numpy()]


def _duplicates(events: pa.Table, ts_ms: np.ndarray, rows: np.ndarray, window_ms: int) -> np.ndarray:
    """Subset of `rows` (positions into `events`) that rule 5 drops; see the module docstring.

    Ties are broken on content (value, tag) before input position, so which row survives does not
    depend on input order except between rows identical in every compared field.
    """
    content = [c for c in ("value", "tag") if c in events.column_names]
    # (a) repeated event_id
    order = _sort_rows(events, ts_ms, rows, ["event_id", "_ts", "item_id", "feedback", *content])
    repeated = np.ones(len(order), dtype=bool)
    repeated[_run_starts(_take(events.column("event_id"), order))] = False
    # (b) same (user, item, feedback, tag) within the window of the previous surviving such row
    # the tag is part of the event: Last.fm users give one artist several tags on the same day
    group_cols = ["user_id", "item_id", "feedback", *(["tag"] if "tag" in events.column_names else [])]
    order_b = _sort_rows(events, ts_ms, order[~repeated], [*group_cols, "_ts", "event_id", *content])
    group = _group_ids([pc.fill_null(_take(events.column(c), order_b), "") if c == "tag" else _take(events.column(c), order_b)
                        for c in group_cols])  # fmt: skip
    ts_sorted = ts_ms[order_b]
    close = np.zeros(len(order_b), dtype=bool)
    close[1:] = (group[1:] == group[:-1]) & (ts_sorted[1:] - ts_sorted[:-1] <= window_ms)
    return np.concatenate([order[repeated], order_b[close]])


def prepare_user_events(
    events: pa.Table, known_items: set[str] | pa.Array | None, cfg: BehaviorConfig
) -> PreparedEvents:
    """Validate, dedupe, cap and sort one batch of `behavior_events` rows (all events of its users).

    `known_items`: the item ids that exist (any dataset; pass a pa.Array to reuse one across batches);
    None skips the check. Returns the kept rows
    sorted by (user_id, ts, event_id), their session numbers, and the drops by reason, so that
    `rows_in == kept + sum(dropped.values())` always holds.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in events.column_names]
    if missing:
        raise ValueError(
            f"behavior events batch lacks column(s) {missing}; it must follow the `behavior_events` contract "
            f"(schemas/datasets.py BEHAVIOR_EVENTS), got columns {events.column_names}"
        )
    n = events.num_rows
    reason = np.full(n, -1, dtype=np.int8)  # index into DROP_REASONS, -1 = kept so far

    def drop(mask: np.ndarray, code: str) -> None:
        reason[mask & (reason < 0)] = DROP_REASONS.index(code)

    null_field = np.zeros(n, dtype=bool)
    for c in ("event_id", "user_id", "item_id", "feedback"):
        null_field |= pc.is_null(events.column(c)).to_numpy(zero_copy_only=False)
    drop(null_field, MISSING_FIELD)
    ts_ms, ts_valid = _ts_ms(events)
    drop(~ts_valid, MISSING_TIMESTAMP)
    if cfg.now is not None:
        limit = int(cfg.now.astimezone(UTC).timestamp() * 1000) + cfg.future_tolerance_s * 1000
        drop(ts_valid & (ts_ms > limit), FUTURE_TIMESTAMP)
    if known_items is not None:
        value_set = (
            known_items if isinstance(known_items, pa.Array) else pa.array(list(known_items), pa.string())
        )
        known = pc.is_in(events.column("item_id"), value_set=value_set).to_numpy(zero_copy_only=False)
        drop(~known, UNKNOWN_ITEM)
    dup_rows = _duplicates(events, ts_ms, np.flatnonzero(reason < 0), cfg.dedupe_window_s * 1000)
    dup = np.zeros(n, dtype=bool)
    dup[dup_rows] = True
    drop(dup, DUPLICATE_EVENT)

    # sort the survivors; event ids are unique now, so the order is strict
    rows = _sort_rows(events, ts_ms, np.flatnonzero(reason < 0), ["user_id", "_ts", "event_id"])
    users = _take(events.column("user_id"), rows)
    starts = _run_starts(users)
    sizes = np.diff(np.append(starts, len(rows)))
    user_of = np.repeat(np.arange(len(starts)), sizes)
    pos = np.arange(len(rows)) - starts[user_of]  # position within the user's sorted events
    size = sizes[user_of]

    if cfg.max_events_per_user is not None:
        capped = size - pos > cfg.max_events_per_user  # older than the N most recent
        reason[rows[capped]] = DROP_REASONS.index(USER_EVENT_CAP)
        size = np.minimum(size, cfg.max_events_per_user)
        rows, user_of = rows[~capped], user_of[~capped]
        size = size[~capped]
    too_few = size < cfg.min_events_per_user
    reason[rows[too_few]] = DROP_REASONS.index(USER_TOO_FEW_EVENTS)
    rows, user_of = rows[~too_few], user_of[~too_few]

    kept = events.take(pa.array(rows, pa.int64()))
    session_index = _sessions(kept, ts_ms[rows], user_of, cfg.session_gap_s * 1000)

    dropped: Counter[str] = Counter()
    dropped_ids: dict[str, list[str]] = {}
    event_ids = events.column("event_id")
    for code, name in enumerate(DROP_REASONS):
        idx = np.flatnonzero(reason == code)
        if len(idx):
            dropped[name] = len(idx)
            dropped_ids[name] = [i for i in _take(event_ids, idx).to_pylist() if i is not None]
    return PreparedEvents(kept, session_index, n, dropped, dropped_ids, reason)


def _sessions(kept: pa.Table, ts_ms: np.ndarray, user_of: np.ndarray, gap_ms: int) -> np.ndarray:
    n = kept.num_rows
    if n == 0:
        return np.empty(0, np.int32)
    new = np.ones(n, dtype=bool)
    new[1:] = (user_of[1:] != user_of[:-1]) | (ts_ms[1:] - ts_ms[:-1] > gap_ms)
    if "session_id" in kept.column_names and n > 1:
        sid = kept.column("session_id").combine_chunks()
        valid = pc.is_valid(sid).to_numpy(zero_copy_only=False)
        differ = pc.fill_null(pc.not_equal(sid.slice(1), sid.slice(0, n - 1)), False).to_numpy(
            zero_copy_only=False
        )
        new[1:] |= differ | (valid[1:] != valid[:-1])
    running = np.cumsum(new) - 1  # session number over the whole batch
    user_start = np.r_[True, user_of[1:] != user_of[:-1]]
    first_of_user = running[user_start][np.cumsum(user_start) - 1]
    return (running - first_of_user).astype(np.int32)


def heldout_user(user_id: str, share: float, seed: int = 0) -> bool:
    """Whether a user belongs to the evaluation hold-out: the user id's xxh64 (UTF-8, `seed`) as a fraction of
    2**64 is below `share`. A property of the id alone, so the same users are held out at any scale, in any
    bucket layout and on any engine, and a larger share holds out a superset of a smaller one's users."""
    return share > 0 and xxhash.xxh64_intdigest(user_id.encode(), seed=seed) < share * 2**64


def holdout_mask(users: pa.Array | pa.ChunkedArray, ts: pa.Array | pa.ChunkedArray, share: float, seed: int = 0,
                 after: datetime | None = None) -> np.ndarray:
    """Per row: does the event go to the evaluation split? Every event of a held-out user (`heldout_user`), and
    with a time cut `after` every user's events at or after it (evaluation on the future of real logs). On rows
    sorted by (user, ts) the held-out rows of each user are a suffix of the user's rows."""
    n = len(users)
    mask = np.zeros(n, dtype=bool)
    if n == 0:
        return mask
    if share > 0:
        uniq = pc.unique(users)
        held = pa.array([heldout_user(u, share, seed) for u in uniq.to_pylist()], pa.bool_())
        mask |= held.take(pc.index_in(users, value_set=uniq)).to_numpy(zero_copy_only=False)
    if after is not None:
        ms = pc.cast(ts, pa.timestamp("ms", tz="UTC"), safe=False).cast(pa.int64()).to_numpy(zero_copy_only=False)
        mask |= ms >= int(after.astimezone(UTC).timestamp() * 1000)
    return mask
