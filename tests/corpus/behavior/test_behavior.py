"""Stage-3 behaviour sequences: validation and sessionization (`corpus.behavior.events`) and the
interleaved profile/state/item/feedback chunks with exact no-loss spans (`corpus.behavior.interleave`),
on the demo events, hand-built edge cases and Last.fm HetRec rows."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from corpus.behavior.events import (
    BehaviorConfig,
    PreparedEvents,
    heldout_user,
    holdout_mask,
    prepare_user_events,
)
from corpus.behavior.interleave import (
    FEEDBACK,
    ITEM,
    ITEM_WITHOUT_METADATA,
    PROFILE,
    STATE,
    InterleaveResult,
    approx_tokens,
    interleave_user,
    item_token,
    render_feedback,
    render_item,
    render_profile,
    render_state,
)
from corpus.ingest.ids import make_id
from schemas.datasets import BEHAVIOR_EVENTS

T0 = datetime(2024, 3, 4, 8, 0, tzinfo=UTC)  # a Monday morning
# contract columns, all nullable so that bad rows can be built
SCHEMA = pa.schema([f.with_nullable(True) for f in BEHAVIOR_EVENTS.arrow_schema()])


def ev(eid: str, user: str, item: str, at: float | None, feedback: str = "play", **kw) -> dict:
    """One behaviour event `at` seconds after T0 (None: missing ts)."""
    row = {
        "event_id": eid, "source": "test", "source_id": eid, "user_id": user, "item_type": "song",
        "item_id": item, "feedback": feedback, "value": 180.0 if feedback == "play" else None, "tag": None,
        "state": [("device", "phone")], "session_id": None, "metadata": None,
        "ts": None if at is None else T0 + timedelta(seconds=at),
    }  # fmt: skip
    row.update(kw)
    return row


def table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=SCHEMA)


def with_render_columns(p: PreparedEvents, texts: dict[str, str]) -> pa.Table:
    return p.events.append_column(
        "item_text", pa.array([texts.get(i) for i in p.events["item_id"].to_pylist()])
    ).append_column("session_index", pa.array(p.session_index))


def interleave_all(
    p: PreparedEvents, texts: dict[str, str], profiles: dict[str, str], cfg: BehaviorConfig
) -> dict[str, InterleaveResult]:
    tbl = with_render_columns(p, texts)
    return {u: interleave_user(u, profiles.get(u), tbl.slice(a, b - a), cfg) for u, a, b in p.user_slices()}


def assert_accounted(p: PreparedEvents) -> None:
    assert p.rows_in == p.kept + sum(p.dropped.values())
    ids = {r: len(ids) for r, ids in p.dropped_ids.items()}
    assert ids.pop("missing_field", 0) <= p.dropped["missing_field"]  # a null event id cannot be listed
    assert ids == {r: n for r, n in p.dropped.items() if r != "missing_field"}


def expected_states(rows: list[dict], session_index: list[int]) -> list[str]:
    """State lines rendered independently of the chunker, from the prepared rows."""
    out, prev = [], None
    for i, r in enumerate(rows):
        out.append(
            render_state(r["ts"], r["state"], prev, i == 0 or session_index[i] != session_index[i - 1])
        )
        prev = r["ts"]
    return out


def under(text: str, spans: list[tuple[int, int]]) -> tuple[str, str]:
    """(text under the spans, text outside them)."""
    inside, outside, pos = [], [], 0
    for s, e in spans:
        assert pos <= s < e <= len(text)
        outside.append(text[pos:s])
        inside.append(text[s:e])
        pos = e
    outside.append(text[pos:])
    return "".join(inside), "".join(outside)


def check_user_chunks(
    res: InterleaveResult, profile: str, rows: list[dict], session_index: list[int], cfg: BehaviorConfig
) -> None:
    """Order, token limit, repeated profile, whole events and exact spans for one user's chunks."""
    assert res.n_events_out + sum(res.dropped.values()) == res.n_events_in == len(rows)
    assert not res.dropped  # callers of this helper use limits every event fits
    states = expected_states(rows, session_index)
    pos = 0
    for k, c in enumerate(res.chunks):
        assert c.chunk_index == k
        assert c.n_tokens == approx_tokens(c.text) <= cfg.max_tokens
        assert c.text.startswith(profile) and c.text.count(PROFILE) == 1
        chunk_rows = rows[pos : pos + c.n_events]
        assert c.first_ts == chunk_rows[0]["ts"] and c.last_ts == chunk_rows[-1]["ts"]
        if k:
            assert res.chunks[k - 1].last_ts <= c.first_ts
        # whole events: after the profile, lines go state, item, feedback, one triple per event
        lines = c.text[len(profile) :].splitlines(keepends=True)
        assert len(lines) == 3 * c.n_events
        assert [ln.split(" ", 1)[0] for ln in lines] == [STATE, ITEM, FEEDBACK] * c.n_events
        inside, outside = under(c.text, c.no_loss_spans)
        assert inside == profile + "".join(states[pos : pos + c.n_events])
        assert outside == "".join(lines[i] + lines[i + 1] for i in range(1, len(lines), 3))
        pos += c.n_events
    assert pos == len(rows)


# ---------------------------------------------------------------- demo data


@dataclass
class DemoRun:
    events_in: int
    prepared: PreparedEvents
    texts: dict[str, str]
    profiles: dict[str, str]
    results: dict[str, InterleaveResult]
    cfg: BehaviorConfig


@pytest.fixture(scope="module")
def demo(demo_ingest: Path) -> DemoRun:
    DEMO = demo_ingest
    events = ds.dataset(DEMO / "behavior_events").to_table()
    songs = ds.dataset(DEMO / "songs").to_table(columns=["song_id", "title", "artists"]).to_pylist()
    texts = {s["song_id"]: f"{s['title']} — {', '.join(s['artists'])}" for s in songs}
    profile_rows = ds.dataset(DEMO / "user_profiles").to_table().to_pylist()
    cfg = BehaviorConfig(max_tokens=1024)
    profiles = {r["user_id"]: render_profile(r, None) for r in profile_rows}
    prepared = prepare_user_events(events, set(texts), cfg)
    results = interleave_all(prepared, texts, profiles, cfg)
    return DemoRun(events.num_rows, prepared, texts, profiles, results, cfg)


def test_demo_chunks_ordered_bounded_with_exact_spans(demo: DemoRun) -> None:
    p = demo.prepared
    assert p.rows_in == demo.events_in  # every event read is counted in or out
    assert_accounted(p)
    assert p.kept > 0.99 * p.rows_in
    tbl = with_render_columns(p, demo.texts)
    multi = 0
    for u, a, b in p.user_slices():
        rows = tbl.slice(a, b - a).to_pylist()
        ts = [(r["ts"], r["event_id"]) for r in rows]
        assert ts == sorted(ts) and len(set(ts)) == len(ts)  # strict (ts, event_id) order
        check_user_chunks(demo.results[u], demo.profiles[u], rows, p.session_index[a:b].tolist(), demo.cfg)
        multi += len(demo.results[u].chunks) > 1
    assert multi > 100  # the 1,024-token limit splits most demo users


def test_demo_sessions_match_source_sessions(demo: DemoRun) -> None:
    # the demo generator starts a session after a 30-minute gap, as the gap rule does
    p = demo.prepared
    for _user, a, b in list(p.user_slices())[:50]:
        sids = p.events["session_id"].slice(a, b - a).to_pylist()
        idx = p.session_index[a:b].tolist()
        assert idx[0] == 0 and max(idx) == len(set(sids)) - 1
        assert all((x == y) == (s == t) for x, y, s, t in zip(idx, idx[1:], sids, sids[1:], strict=False))


# ---------------------------------------------------------------- hand-built cases


def test_users_never_share_items() -> None:
    rows = [ev(f"a{i}", "ua", f"itemA{i % 5}", 100.0 * i) for i in range(40)]
    rows += [ev(f"b{i}", "ub", f"itemB{i % 5}", 100.0 * i + 7) for i in range(40)]
    texts = {f"item{u}{k}": f"Song {u}{k} — Band {u}" for u in "AB" for k in range(5)}
    for repr_ in ("text", "id_token"):
        cfg = BehaviorConfig(max_tokens=200, item_repr=repr_)
        p = prepare_user_events(table(rows), None, cfg)
        results = interleave_all(p, texts, {}, cfg)
        for user, own in (("ua", "A"), ("ub", "B")):
            own_lines = {render_item(i, t, repr_) for i, t in texts.items() if i.startswith(f"item{own}")}
            assert len(results[user].chunks) > 1
            for c in results[user].chunks:
                item_lines = [ln + "\n" for ln in c.text.split("\n") if ln.startswith(ITEM)]
                assert len(item_lines) == c.n_events and set(item_lines) <= own_lines


def test_bad_input_is_dropped_and_accounted() -> None:
    now = T0 + timedelta(days=1)
    rows = [
        ev("e01", "u1", "i1", 0), ev("e02", "u1", "i2", 60), ev("e03", "u1", "i3", 120),
        ev("e04", "u1", "i1", None),  # missing ts
        ev("e05", "u1", "i1", 86400 + 120),  # 2 min after now: future (tolerance 60 s)
        ev("e06", "u1", "i1", 86400 + 30),  # within the tolerance: kept
        ev("e07", "u1", "nope", 200),  # unknown item
        ev("e08", "u1", "i2", 60),  # same user, item, feedback, ts as e02: duplicate
        ev("e02", "u1", "i2", 60, value=3.0),  # repeated event id
        ev("e09", "u1", "i9", 300),  # known item without metadata: kept, flagged
        ev("e10", "u2", "i1", 0),  # u2's only event
        ev("e11", "u3", "i1", 0), ev("e12", "u3", "i2", 10),
        ev("e13", "u3", "nope", 20),  # unknown: u3 keeps 2 events, enough
        ev("e14", "u4", "i1", 0), ev("e15", "u4", "nope", 10),  # u4 left with 1 event after unknown_item
        ev(None, "u1", "i1", 5), ev("e16", None, "i1", 5),  # missing key fields
    ]  # fmt: skip
    cfg = BehaviorConfig(now=now, future_tolerance_s=60, max_events_per_user=4)
    known = {"i1", "i2", "i3", "i9"}
    p = prepare_user_events(table(rows), known, cfg)
    assert_accounted(p)
    assert p.dropped == {
        "missing_field": 2, "missing_timestamp": 1, "future_timestamp": 1, "unknown_item": 3,
        "duplicate_event": 2, "user_event_cap": 1, "user_too_few_events": 2,
    }  # fmt: skip
    assert p.dropped_ids["missing_field"] == ["e16"]  # the null id cannot be listed
    assert sorted(p.dropped_ids["duplicate_event"]) == ["e02", "e08"]
    assert p.dropped_ids["user_event_cap"] == ["e01"]  # the oldest of u1's five
    assert sorted(p.dropped_ids["user_too_few_events"]) == ["e10", "e14"]
    assert p.events["event_id"].to_pylist() == ["e02", "e03", "e09", "e06", "e11", "e12"]
    kept_e02 = p.events.slice(0, 1).to_pylist()[0]
    assert kept_e02["value"] == 3.0  # of the two rows named e02, the smaller value wins, whatever the order
    res = interleave_all(p, {"i1": "One — A", "i2": "Two — B", "i3": "Three — C"}, {}, cfg)
    assert res["u1"].flags == {ITEM_WITHOUT_METADATA: 1}
    assert item_token("i9") in res["u1"].chunks[0].text
    assert res["u1"].chunks[0].text.startswith(f"{PROFILE} Unknown listener")


def test_dedupe_window_collapses_bursts() -> None:
    rows = [ev(f"e{i}", "u", "i1", 20.0 * i) for i in range(5)] + [
        ev("x", "u", "i1", 500),
        ev("y", "u", "i2", 20),
    ]
    exact = prepare_user_events(table(rows), None, BehaviorConfig())
    assert exact.kept == 7 and not exact.dropped
    windowed = prepare_user_events(table(rows), None, BehaviorConfig(dedupe_window_s=30))
    assert_accounted(windowed)
    assert windowed.dropped == {"duplicate_event": 4}  # the chain e0..e4 keeps e0; x is 420 s after e4
    assert windowed.events["event_id"].to_pylist() == ["e0", "y", "x"]


def test_sessions_gap_ties_and_input_order() -> None:
    gap = 1800
    rows = [
        ev("e1", "u", "i1", 0), ev("e2", "u", "i2", gap),  # gap == limit: same session
        ev("e3", "u", "i3", 2 * gap + 1),  # gap > limit: new session
        ev("e5", "u", "i5", 2 * gap + 1), ev("e4", "u", "i4", 2 * gap + 1),  # ts tie: event_id order
        ev("e6", "u", "i6", 2 * gap + 60),
        ev("f1", "v", "i1", 0), ev("f2", "v", "i2", 10),
    ]  # fmt: skip
    cfg = BehaviorConfig(session_gap_s=gap, max_tokens=120)
    base = prepare_user_events(table(rows), None, cfg)
    assert base.events["event_id"].to_pylist() == ["e1", "e2", "e3", "e4", "e5", "e6", "f1", "f2"]
    assert base.session_index.tolist() == [0, 0, 1, 1, 1, 1, 0, 0]
    texts = {f"i{k}": f"Song {k} — Band" for k in range(7)}
    base_chunks = interleave_all(base, texts, {}, cfg)
    assert len(base_chunks["u"].chunks) > 1
    assert "new session, 30 min later" in "".join(c.text for c in base_chunks["u"].chunks)
    for seed in range(5):
        shuffled = rows[:]
        random.Random(seed).shuffle(shuffled)
        p = prepare_user_events(table(shuffled), None, cfg)
        assert p.events.equals(base.events) and p.session_index.tolist() == base.session_index.tolist()
        assert interleave_all(p, texts, {}, cfg) == base_chunks


def test_source_session_id_change_starts_a_session() -> None:
    rows = [
        ev("e1", "u", "i1", 0, session_id="s1"), ev("e2", "u", "i2", 60, session_id="s2"),
        ev("e3", "u", "i3", 120, session_id=None), ev("e4", "u", "i4", 180, session_id=None),
    ]  # fmt: skip
    p = prepare_user_events(table(rows), None, BehaviorConfig())
    assert p.session_index.tolist() == [0, 1, 2, 2]
    p = prepare_user_events(table(rows).drop_columns(["session_id"]), None, BehaviorConfig())
    assert p.session_index.tolist() == [0, 0, 0, 0]


def test_event_longer_than_limit_is_dropped_and_counted() -> None:
    rows = [ev(f"e{i}", "u", f"i{i}", 60.0 * i) for i in range(6)]
    texts = {f"i{i}": f"Song {i} — Band" for i in range(6)}
    texts["i3"] = " ".join(["very long title"] * 60)
    cfg = BehaviorConfig(max_tokens=100)
    res = interleave_all(prepare_user_events(table(rows), None, cfg), texts, {}, cfg)["u"]
    assert res.dropped == {"event_exceeds_max_tokens": 1}
    assert res.n_events_out == 5 and all(c.n_tokens <= 100 for c in res.chunks)
    assert all("very long" not in c.text for c in res.chunks)


def test_non_additive_token_counter_still_respects_the_limit() -> None:
    def count(text: str) -> int:  # charges extra for long texts: the per-event sum underestimates
        return approx_tokens(text) + len(text) // 40

    rows = [ev(f"e{i}", "u", "i1", 60.0 * i) for i in range(60)]
    cfg = BehaviorConfig(max_tokens=300)
    p = prepare_user_events(table(rows), None, cfg)
    tbl = with_render_columns(p, {"i1": "Song — Band"})
    res = interleave_user("u", None, tbl, cfg, count_tokens=count)
    assert res.n_events_out + sum(res.dropped.values()) == 60
    assert all(count(c.text) == c.n_tokens <= 300 for c in res.chunks)
    assert [c.chunk_index for c in res.chunks] == list(range(len(res.chunks)))


def test_approx_tokens_is_additive_over_lines() -> None:
    assert approx_tokens(f"{PROFILE} {item_token('ab12')} 你好 world, 2:19") == 1 + 1 + 2 + 1 + 1 + 3
    lines = [
        render_profile(None, None),
        render_state(T0, {"device": "tv"}, None, True),
        "<|item|> 候鸟 — 赵洋\n",
    ]
    assert approx_tokens("".join(lines)) == sum(approx_tokens(ln) for ln in lines)


def test_renderers() -> None:
    assert render_feedback("play", 139.3, None) == f"{FEEDBACK} played 2:19\n"
    assert render_feedback("skip", 12.0, None) == f"{FEEDBACK} skipped after 0:12\n"
    assert render_feedback("add_to_playlist", None, None) == f"{FEEDBACK} added to a playlist\n"
    assert render_feedback("tag", None, "post-rock") == f'{FEEDBACK} tagged "post-rock"\n'
    assert render_item("x1", "Title — Artist", "text") == f"{ITEM} Title — Artist\n"
    assert render_item("x1", "Radiohead", "text", "artist") == f"{ITEM} artist: Radiohead\n"
    assert (
        render_item("x1", "Title", "id_token")
        == render_item("x1", None, "text")
        == f"{ITEM} {item_token('x1')}\n"
    )
    state = render_state(T0 + timedelta(hours=12), [("network", "wifi"), ("device", "tv")], T0, False)
    assert (
        state == f"{STATE} Mon 2024-03-04 20:00 UTC (evening); 12 h 0 min later; device: tv, network: wifi\n"
    )
    profile = render_profile(
        {"profile_text": "I love\n<|item|> shoegaze", "age": 33, "gender": "female", "country": "IT"},
        {"top_artists": [("Slowdive", 1234), ("Ride", 99)]},
    )
    assert profile == (
        f'{PROFILE} Listener: age 33, gender female, country IT. In their words: "I love < |item|> shoegaze" '
        "Top artists by plays: Slowdive (1,234 plays), Ride (99 plays).\n"
    )
    assert (
        render_profile({"profile_text": "", "age": None}, {})
        == f"{PROFILE} Unknown listener: no profile information.\n"
    )
    with pytest.raises(ValueError, match="max_events_per_user"):
        BehaviorConfig(max_events_per_user=1, min_events_per_user=2)


# ---------------------------------------------------------------- Last.fm HetRec


def _tsv(path: Path, encoding: str = "utf-8", limit: int | None = None) -> list[list[str]]:
    with path.open(encoding=encoding) as f:
        next(f)
        return [line.rstrip("\n").split("\t") for i, line in enumerate(f) if limit is None or i < limit]


def test_lastfm_tag_events_render_tag_text(shared_data: Path) -> None:
    root = shared_data / "lastfm_hetrec2011_2k"
    src = "lastfm_hetrec2011"
    tags = dict(_tsv(root / "tags.dat", "latin-1"))
    names = {r[0]: r[1] for r in _tsv(root / "artists.dat")}
    raw = _tsv(root / "user_taggedartists.dat", limit=400)
    rows = [
        {
            "event_id": make_id("behavior_events", src, f"{u}:{a}:{t}"), "source": src, "source_id": f"{u}:{a}:{t}",
            "user_id": make_id("user_profiles", src, u), "ts": datetime(int(y), int(m), int(d), tzinfo=UTC),
            "item_type": "artist", "item_id": make_id("artists", src, a), "feedback": "tag", "value": None,
            "tag": tags[t], "state": None, "session_id": None, "metadata": None,
        }
        for u, a, t, d, m, y in raw
    ]  # fmt: skip
    texts = {make_id("artists", src, a): n for a, n in names.items()}
    plays = [r for r in _tsv(root / "user_artists.dat", limit=50) if r[0] == raw[0][0]]
    top = sorted(((names[a], int(w)) for _, a, w in plays), key=lambda x: -x[1])[:5]
    user0 = rows[0]["user_id"]
    cfg = BehaviorConfig(max_tokens=512)
    p = prepare_user_events(table(rows), set(texts), cfg)
    assert_accounted(p)
    profiles = {user0: render_profile(None, {"top_artists": top})}
    results = interleave_all(p, texts, profiles, cfg)
    text = "".join(c.text for c in results[user0].chunks)
    assert f"Top artists by plays: {top[0][0]} ({top[0][1]:,} plays)" in text
    first = rows[0]
    assert f'{ITEM} artist: {names[raw[0][1]]}\n{FEEDBACK} tagged "{first["tag"]}"\n' in text
    # day-precision dates: no invented time of day; same-day tags fall in one session
    assert " UTC" not in text and "same day" in text
    tbl = with_render_columns(p, texts)
    for u, a, b in p.user_slices():
        profile = profiles.get(u, render_profile(None, None))
        check_user_chunks(
            results[u], profile, tbl.slice(a, b - a).to_pylist(), p.session_index[a:b].tolist(), cfg
        )


def test_different_tags_on_the_same_day_are_not_duplicates() -> None:
    """Last.fm users tag one artist several times on one date: each tag is its own event."""
    rows = [ev("t1", "u1", "i1", 0, "tag", tag="rock"), ev("t2", "u1", "i1", 0, "tag", tag="indie"),
            ev("t3", "u1", "i1", 0, "tag", tag="rock")]  # fmt: skip
    p = prepare_user_events(table(rows), None, BehaviorConfig())
    assert_accounted(p)
    assert p.kept == 2 and p.dropped == {"duplicate_event": 1}
    assert p.dropped_ids["duplicate_event"] == ["t3"]


def test_heldout_users_are_a_stable_share_chosen_by_id():
    users = [f"user-{i}" for i in range(20000)]
    ten = {u for u in users if heldout_user(u, 0.1)}
    twenty = {u for u in users if heldout_user(u, 0.2)}
    assert 0.09 < len(ten) / len(users) < 0.11 and 0.19 < len(twenty) / len(users) < 0.21
    assert ten < twenty  # a larger share holds out a superset
    assert {u for u in users if heldout_user(u, 0.1, seed=1)} != ten
    assert not any(heldout_user(u, 0.0) for u in users[:100])


def test_holdout_mask_marks_held_users_and_the_future_as_suffixes():
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    users = [f"u{i}" for i in range(50) for _ in range(4)]
    ts = [t0 + timedelta(days=d) for _ in range(50) for d in range(4)]
    held = {u for u in set(users) if heldout_user(u, 0.3)}
    assert held
    cut = t0 + timedelta(days=2)
    mask = holdout_mask(pa.array(users), pa.array(ts, pa.timestamp("ms", tz="UTC")), 0.3, after=cut)
    assert mask.tolist() == [u in held or t >= cut for u, t in zip(users, ts, strict=True)]
    assert not holdout_mask(pa.array(users), pa.array(ts, pa.timestamp("ms", tz="UTC")), 0.0).any()
