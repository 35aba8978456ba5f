"""Behaviour events: time order, sessions, taste-consistent listening, and value semantics."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime

import orjson
import pyarrow.parquet as pq

from corpus.sample import SampleConfig, generate_sample
from corpus.sample.config import END_DATE

GAP_MS = 30 * 60 * 1000


def _ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def test_events_time_ordered_per_user_with_gap_sessions(tables: dict[str, list[dict]]) -> None:
    by_user: dict[str, list[dict]] = defaultdict(list)
    for e in tables["events"]:
        by_user[e["user_id"]].append(e)
    end = _ms(datetime(END_DATE.year, END_DATE.month, END_DATE.day, tzinfo=UTC))
    users = {u["source_id"]: u for u in tables["users"]}
    assert len(by_user) == len(users)
    for uid, evs in by_user.items():
        ts = [_ms(e["ts"]) for e in evs]
        assert all(a < b for a, b in zip(ts, ts[1:], strict=False)), uid
        assert ts[-1] <= end and ts[0] >= _ms(users[uid]["registered_at"])
        for a, b in zip(evs, evs[1:], strict=False):
            gap = _ms(b["ts"]) - _ms(a["ts"])
            if a["session_id"] == b["session_id"]:
                assert gap < GAP_MS
            else:
                assert gap >= GAP_MS
        assert len({e["source_id"] for e in evs}) == len(evs)


def test_values_and_state(tables: dict[str, list[dict]]) -> None:
    for e in tables["events"]:
        if e["feedback"] in ("play", "skip"):
            assert e["value"] is not None and e["value"] > 0
        else:
            assert e["value"] is None
        assert e["tag"] is None
        state = orjson.loads(e["state"]) if isinstance(e["state"], str) else dict(e["state"])
        assert sorted(state) == ["context", "device", "network"]
        assert state["device"] != "car" or state["network"] == "cellular"


def test_listening_follows_taste(tables: dict[str, list[dict]]) -> None:
    genre = {s["source_id"]: s["genres"][0] for s in tables["songs"]}
    taste = {t["source_id"]: t for t in tables["taste"]}
    liked_plays = disliked_plays = 0
    skips = {"liked": [0, 0], "disliked": [0, 0]}
    for e in tables["events"]:
        t = taste[e["user_id"]]
        g = genre[e["item_id"]]
        cls = "liked" if g in t["liked_genres"] else "disliked" if g in t["disliked_genres"] else None
        if cls == "liked":
            liked_plays += 1
        elif cls == "disliked":
            disliked_plays += 1
        if cls and e["feedback"] in ("play", "skip"):
            skips[cls][0] += e["feedback"] == "skip"
            skips[cls][1] += 1
    assert liked_plays > 10 * max(1, disliked_plays)
    rate = {k: a / max(1, b) for k, (a, b) in skips.items()}
    assert rate["disliked"] > 2 * rate["liked"]


def test_native_map_state_option(tmp_path) -> None:
    cfg = replace(SampleConfig.preset("tiny"), n_documents=10, n_comments=10, state_as_json=False)
    generate_sample(cfg, tmp_path)
    t = pq.read_table(tmp_path / "behavior_events/part-00000.parquet")
    assert str(t.schema.field("state").type) == "map<string, string ('state')>"
    assert [k for k, _ in t.column("state")[0].as_py()] == ["context", "device", "network"]
