"""Rendering of a user's profile and (state, item, feedback) events into stage-3 training text, chunked.

A chunk is `profile line` + whole events, each event being a `state line`, an `item line` and a
`feedback line`, every line ending in "\\n". Profile and state text (markers and the ending newline
included) are the no-loss spans; item and feedback text takes the loss (next-behaviour prediction).
Free text from sources (profile, titles, tags, state values) is put on one line and any `<|` in it
is written `< |`, so it can never form a marker once markers become special tokens.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from corpus.behavior.events import BehaviorConfig

# Markers; they become tokenizer special tokens (tokenizer issue), counted as one token each meanwhile.
PROFILE = "<|profile|>"
STATE = "<|state|>"
ITEM = "<|item|>"
FEEDBACK = "<|feedback|>"
MARKERS = (PROFILE, STATE, ITEM, FEEDBACK)

# accounting keys of InterleaveResult
EVENT_EXCEEDS_MAX_TOKENS = "event_exceeds_max_tokens"  # dropped: profile + this one event > max_tokens
ITEM_WITHOUT_METADATA = "item_without_metadata"  # flag, not a drop: rendered with its id token

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_CJK = (
    "\u2e80-\u2fff\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f"
)
# one token per: marker, CJK/kana/hangul character, run of other word characters, punctuation character
_TOKEN_RE = re.compile(rf"<\|[^\s|<>]*\|>|[{_CJK}]|[^\W{_CJK}]+|[^\w\s]")
_SPACES = re.compile(r"\s+")
_PROFILE_TEXT_CHARS = 1000


def item_token(item_id: str) -> str:
    """Token text standing for one item, e.g. `<|item:6543ccf9...|>`.

    Ids are the platform's 32-hex-character ids; the tokenizer issue will map these to added tokens
    (and may shorten them, e.g. to a per-vocabulary index). Until then they are plain text.
    """
    return f"<|item:{item_id}|>"


def approx_tokens(text: str) -> int:
    """Fast deterministic token-count *estimate*: one per marker, CJK character, word or punctuation mark.

    Whitespace counts nothing and no match crosses it, so for text made of newline-ended lines the
    count of the whole equals the sum of the counts of the lines (the chunker relies on this only
    for speed: it verifies each chunk). Real subword tokenizers usually give more tokens (digits,
    long words); pass the real tokenizer's length function as `count_tokens` where it matters.
    """
    return len(_TOKEN_RE.findall(text))


def _clean(text: Any) -> str:
    """One line of source text: whitespace collapsed, `<|` defused so it cannot form a marker."""
    return _SPACES.sub(" ", str(text)).strip().replace("<|", "< |")


def _fmt_duration(seconds: float) -> str:
    s = max(0, round(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def _fmt_number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def render_profile(
    profile_row: Mapping[str, Any] | None,
    extras: Mapping[str, Any] | None = None,
    max_text_chars: int = _PROFILE_TEXT_CHARS,
) -> str:
    """Profile line: demographics, the user's own taste text, and extras, in English.

    `profile_row` is a `user_profiles` row (`profile_text`, `age`, `gender`, `country` are used).
    `extras`: `top_artists` as [(name, plays), ...] (e.g. from `item_relations` play counts),
    `top_tags` as [tag, ...]; other keys are rendered as `key: value`, sorted by key. The user's
    text is cut at a word boundary after `max_text_chars`. Nothing known gives an "unknown listener".
    """
    row = profile_row or {}
    extras = extras or {}
    facts = []
    if row.get("age") is not None:
        facts.append(f"age {int(row['age'])}")
    for key in ("gender", "country"):
        if row.get(key):
            facts.append(f"{key} {_clean(row[key])}")
    parts = [f"Listener: {', '.join(facts)}."] if facts else []
    text = _clean(row.get("profile_text") or "")
    if len(text) > max_text_chars:
        text = text[:max_text_chars].rsplit(" ", 1)[0] + " …"
    if text:
        parts.append(f'In their words: "{text}"')
    for key in sorted(extras):
        value = extras[key]
        if not value:
            continue
        if key == "top_artists":
            listed = ", ".join(f"{_clean(name)} ({_fmt_number(plays)} plays)" for name, plays in value)
            parts.append(f"Top artists by plays: {listed}.")
        elif key == "top_tags":
            parts.append(f"Favourite tags: {', '.join(_clean(t) for t in value)}.")
        else:
            parts.append(f"{_clean(key).replace('_', ' ')}: {_clean(value)}.")
    if not parts:
        parts.append("Unknown listener: no profile information.")
    return f"{PROFILE} {' '.join(parts)}\n"


def _as_utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _date_only(ts: datetime) -> bool:
    # sources with day precision (Last.fm HetRec) store midnight UTC; a time of day would be invented
    return ts.hour == 0 and ts.minute == 0 and ts.second == 0 and ts.microsecond == 0


def _part_of_day(hour: int) -> str:
    if 5 <= hour < 12:
        return "morning"
    if 12 <= hour < 17:
        return "afternoon"
    if 17 <= hour < 22:
        return "evening"
    return "night"


def _fmt_gap(ts: datetime, prev: datetime, days_only: bool) -> str:
    if days_only:
        days = (ts.date() - prev.date()).days
        return "same day" if days == 0 else f"{days} day{'s' * (days != 1)} later"
    s = int((ts - prev).total_seconds())
    if s < 60:
        gap = f"{s} s"
    elif s < 3600:
        gap = f"{s // 60} min"
    elif s < 86400:
        gap = f"{s // 3600} h {s % 3600 // 60} min"
    else:
        gap = f"{s // 86400} day{'s' * (s // 86400 != 1)}"
    return f"{gap} later"


def render_state(
    ts: datetime,
    state_map: Mapping[str, Any] | Iterable[tuple[str, Any]] | None,
    prev_ts: datetime | None,
    new_session: bool,
) -> str:
    """State line: when (weekday, date, time and part of day in UTC), the gap since the previous event,
    whether a new session starts, and the situational state (`device`, `context`, ...) sorted by key.

    A timestamp at exactly midnight UTC is taken as date-only (day-precision sources): no time of
    day is rendered, and the gap to another date-only event is given in days.
    """
    ts = _as_utc(ts)
    day_only = _date_only(ts)
    parts = [f"{_WEEKDAYS[ts.weekday()]} {ts.date().isoformat()}"]
    if not day_only:
        parts[0] += f" {ts.hour:02d}:{ts.minute:02d} UTC ({_part_of_day(ts.hour)})"
    if prev_ts is None:
        parts.append("first event")
    else:
        prev = _as_utc(prev_ts)
        gap = _fmt_gap(ts, prev, day_only and _date_only(prev))
        parts.append(f"new session, {gap}" if new_session else gap)
    pairs = state_map.items() if isinstance(state_map, Mapping) else (state_map or ())
    situation = ", ".join(
        f"{_clean(k)}: {_clean(v)}" for k, v in sorted(pairs) if v is not None and str(v).strip()
    )
    if situation:
        parts.append(situation)
    return f"{STATE} {'; '.join(parts)}\n"


def render_item(
    item_id: str, item_text: str | None, item_repr: str = "text", item_type: str | None = None
) -> str:
    """Item line: the item's text (e.g. "Title — Artist"; non-song types prefixed, "artist: Name"),
    or its id token for `item_repr="id_token"` and for items without text (see ITEM_WITHOUT_METADATA)."""
    if item_repr == "text" and item_text is not None and _clean(item_text):
        prefix = f"{_clean(item_type)}: " if item_type and item_type != "song" else ""
        return f"{ITEM} {prefix}{_clean(item_text)}\n"
    return f"{ITEM} {item_token(item_id)}\n"


def render_feedback(feedback: str, value: float | None, tag: str | None) -> str:
    """Feedback line with the real signal: "played 2:19", "skipped after 0:12", 'tagged "shoegaze"', ..."""
    has_value = value is not None and value == value  # NaN counts as missing
    if feedback == "play":
        what = f"played {_fmt_duration(value)}" if has_value else "played"
    elif feedback == "skip":
        what = f"skipped after {_fmt_duration(value)}" if has_value else "skipped"
    elif feedback == "tag":
        what = f'tagged "{_clean(tag)}"' if tag else "tagged"
    else:
        what = {
            "like": "liked",
            "dislike": "disliked",
            "add_to_playlist": "added to a playlist",
            "share": "shared",
            "search": "searched for",
        }.get(feedback, _clean(feedback).replace("_", " "))
        if has_value:
            what += f" (rating {value:g})" if feedback in ("like", "dislike") else f" ({value:g})"
        if tag and feedback != "tag":
            what += f' "{_clean(tag)}"'
    return f"{FEEDBACK} {what}\n"


@dataclass(frozen=True)
class SequenceChunk:
    """One training sequence: the profile then whole events; spans are [start, end) str offsets."""

    user_id: str
    chunk_index: int
    text: str
    no_loss_spans: list[tuple[int, int]]  # profile + state text, sorted, touching spans merged
    n_events: int
    first_ts: datetime
    last_ts: datetime
    n_tokens: int  # count_tokens(text)


@dataclass
class InterleaveResult:
    """Chunks of one user, plus drops (`n_events_in == chunked events + sum(dropped)`) and flags."""

    chunks: list[SequenceChunk]
    n_events_in: int
    dropped: Counter[str] = field(default_factory=Counter)
    flags: Counter[str] = field(default_factory=Counter)  # e.g. item_without_metadata: kept, noted
    dropped_ids: list[tuple[str, str, str]] = field(default_factory=list)  # (event id, reason, detail)

    @property
    def n_events_out(self) -> int:
        return sum(c.n_events for c in self.chunks)


@dataclass(frozen=True)
class _Event:
    state: str
    rest: str  # item + feedback lines
    n_tokens: int
    ts: datetime
    event_id: str | None = None


_COLUMNS = (
    "ts",
    "state",
    "item_id",
    "item_text",
    "item_type",
    "feedback",
    "value",
    "tag",
    "session_index",
    "user_id",
    "event_id",
)


def _columns(events: pa.Table | Sequence[Mapping[str, Any]]) -> tuple[int, dict[str, list]]:
    """Event fields as python lists (ts as datetime); absent optional fields are lists of None."""
    if isinstance(events, pa.Table):
        n = events.num_rows
        cols = {}
        for c in _COLUMNS:
            if c not in events.column_names:
                cols[c] = [None] * n
            elif c == "ts":  # via epoch ms: much faster than pyarrow's zone-aware datetimes
                ms = events.column("ts").cast(pa.timestamp("ms", tz="UTC")).cast(pa.int64()).to_pylist()
                cols[c] = [None if m is None else _EPOCH + timedelta(milliseconds=m) for m in ms]
            else:
                cols[c] = events.column(c).to_pylist()
        return n, cols
    return len(events), {c: [e.get(c) for e in events] for c in _COLUMNS}


def interleave_user(
    user_id: str,
    profile_text: str | None,
    events: pa.Table | Sequence[Mapping[str, Any]],
    cfg: BehaviorConfig,
    count_tokens: Callable[[str], int] = approx_tokens,
) -> InterleaveResult:
    """Render one user's events (sorted by ts, e.g. a slice of `PreparedEvents.events` with an
    `item_text` column added) into chunks of at most `cfg.max_tokens` tokens.

    `profile_text` is a `render_profile` line (None: the unknown-listener profile); it is repeated at
    the start of every chunk. Events are never split; one that does not fit with the profile alone is
    dropped (`event_exceeds_max_tokens`). Without `session_index`, sessions follow `cfg.session_gap_s`.
    Events are packed on summed per-event counts, and each chunk is then counted whole; if a
    non-additive `count_tokens` puts it over the limit, its last events move to the next chunk.
    """
    profile = profile_text if profile_text is not None else render_profile(None, None)
    if not profile.startswith(PROFILE) or not profile.endswith("\n"):
        raise ValueError(
            f"user {user_id}: profile must be a render_profile() line ({PROFILE} ... \\n), got {profile[:60]!r}"
        )
    n, col = _columns(events)
    result = InterleaveResult([], n)
    rendered: list[_Event] = []
    prev_ts: datetime | None = None
    for i in range(n):
        ts = col["ts"][i]
        if ts is None or (col["user_id"][i] is not None and col["user_id"][i] != user_id):
            what = "a null ts" if ts is None else f"user_id {col['user_id'][i]}"
            raise ValueError(
                f"user {user_id}: event {i} has {what}; pass the user's rows of prepare_user_events() output"
            )
        ts = _as_utc(ts)
        if prev_ts is not None and ts < prev_ts:
            raise ValueError(
                f"user {user_id}: event {i} at {ts} is earlier than event {i - 1}; events must be sorted by ts"
            )
        if col["session_index"][i] is not None:
            new_session = i == 0 or col["session_index"][i] != col["session_index"][i - 1]
        else:
            new_session = prev_ts is None or (ts - prev_ts).total_seconds() > cfg.session_gap_s
        if col["item_text"][i] is None:
            result.flags[ITEM_WITHOUT_METADATA] += 1
        state = render_state(ts, col["state"][i], prev_ts, new_session)
        rest = render_item(
            col["item_id"][i], col["item_text"][i], cfg.item_repr, col["item_type"][i]
        ) + render_feedback(col["feedback"][i], col["value"][i], col["tag"][i])
        rendered.append(_Event(state, rest, count_tokens(state + rest), ts, col["event_id"][i]))
        prev_ts = ts
    _pack(user_id, profile, rendered, cfg.max_tokens, count_tokens, result)
    return result


def _pack(
    user_id: str,
    profile: str,
    events: list[_Event],
    max_tokens: int,
    count_tokens: Callable[[str], int],
    result: InterleaveResult,
) -> None:
    profile_n = count_tokens(profile)
    current: list[_Event] = []
    current_n = profile_n
    for ev in events:
        if profile_n + ev.n_tokens > max_tokens:
            result.dropped[EVENT_EXCEEDS_MAX_TOKENS] += 1
            result.dropped_ids.append((ev.event_id, EVENT_EXCEEDS_MAX_TOKENS,
                                       f"profile {profile_n} + event {ev.n_tokens} tokens > max_tokens {max_tokens}"))
            continue
        while current and current_n + ev.n_tokens > max_tokens:
            current = _emit(user_id, profile, current, max_tokens, count_tokens, result)
            current_n = profile_n + sum(e.n_tokens for e in current)
        current.append(ev)
        current_n += ev.n_tokens
    while current:
        current = _emit(user_id, profile, current, max_tokens, count_tokens, result)


def _emit(
    user_id: str,
    profile: str,
    events: list[_Event],
    max_tokens: int,
    count_tokens: Callable[[str], int],
    result: InterleaveResult,
) -> list[_Event]:
    """Emit the longest prefix of `events` whose whole text fits; return the rest."""
    for k in range(len(events), 0, -1):
        text, spans = _assemble(profile, events[:k])
        n_tokens = count_tokens(text)
        if n_tokens <= max_tokens:
            chunk = SequenceChunk(
                user_id, len(result.chunks), text, spans, k, events[0].ts, events[k - 1].ts, n_tokens
            )
            result.chunks.append(chunk)
            return events[k:]
    result.dropped[EVENT_EXCEEDS_MAX_TOKENS] += 1  # fits only by the per-event estimate
    result.dropped_ids.append((events[0].event_id, EVENT_EXCEEDS_MAX_TOKENS,
                               f"profile and event exceed max_tokens {max_tokens} once tokenized together"))
    return events[1:]


def _assemble(profile: str, events: list[_Event]) -> tuple[str, list[tuple[int, int]]]:
    parts = [profile]
    spans = [[0, len(profile)]]
    pos = len(profile)
    for ev in events:
        if spans[-1][1] == pos:
            spans[-1][1] = pos + len(ev.state)
        else:
            spans.append([pos, pos + len(ev.state)])
        pos += len(ev.state) + len(ev.rest)
        parts.append(ev.state)
        parts.append(ev.rest)
    return "".join(parts), [(s, e) for s, e in spans]
