"""Listening behaviour: time-ordered, session-structured song events driven by each user's taste.

Per block of `user_chunk` users one NumPy generator (seeded by the block index) draws sessions
(separated by gaps of at least 30 minutes), a device and a context per session (the context sets the
time of day and nudges genres: sleep → ambient, gym → electronic ...), songs from the user's taste and
heavy rotation, and feedback whose skip rate rises on disliked genres. Blocks become Arrow tables.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import orjson
import pyarrow as pa

from corpus.sample import vocab as V
from corpus.sample.catalog import GENRE_INDEX, GENRE_KEYS, Catalog
from corpus.sample.config import END_DATE, SampleConfig, derive_seed
from corpus.sample.users import User, sample_genre_songs

FEEDBACK = ("play", "skip", "like", "add_to_playlist", "share", "dislike")
NETWORKS = ("wifi", "cellular")
# feedback probabilities for liked / neutral / disliked genres (same order as FEEDBACK)
_FB_P = np.array(
    [
        [0.80, 0.10, 0.06, 0.025, 0.01, 0.005],
        [0.62, 0.30, 0.03, 0.010, 0.005, 0.035],
        [0.25, 0.62, 0.005, 0.0, 0.0, 0.125],
    ]
)
_FB_CUM = np.cumsum(_FB_P, axis=1)
_FB_CUM[:, -1] = 1.0
# hours of day (UTC, the platform's clock) at which each context's sessions start
_CTX_HOURS = {
    "commute": (7, 8, 17, 18),
    "gym": (6, 7, 18, 19, 20),
    "home": tuple(range(9, 23)),
    "work": tuple(range(9, 17)),
    "party": (20, 21, 22, 23),
    "sleep": (22, 23, 0),
}
_SESSION_GAP_S = 30 * 60


def event_schema(state_as_json: bool) -> pa.Schema:
    """The Parquet schema of the event files; `state` is a JSON string or a native map."""
    state = pa.string() if state_as_json else pa.map_(pa.string(), pa.string())
    return EVENT_SCHEMA.set(EVENT_SCHEMA.get_field_index("state"), pa.field("state", state))


EVENT_SCHEMA = pa.schema(
    [
        pa.field("source_id", pa.string(), nullable=False),
        pa.field("user_id", pa.string(), nullable=False),
        pa.field("ts", pa.timestamp("ms", tz="UTC"), nullable=False),
        pa.field("item_type", pa.string(), nullable=False),
        pa.field("item_id", pa.string(), nullable=False),
        pa.field("feedback", pa.string(), nullable=False),
        pa.field("value", pa.float64()),
        pa.field("tag", pa.string()),
        pa.field("state", pa.map_(pa.string(), pa.string())),
        pa.field("session_id", pa.string()),
    ]
)


class _Static:
    """Per-catalog lookup arrays shared by all blocks."""

    def __init__(self, cat: Catalog):
        self.song_sids = pa.array([s.sid for s in cat.songs], pa.string())
        self.song_genre = np.array([GENRE_INDEX[s.genre] for s in cat.songs], dtype=np.int64)
        self.song_dur_s = np.array([s.duration_ms / 1000 for s in cat.songs])
        self.feedback = pa.array(FEEDBACK, pa.string())
        self.state_values = pa.array(list(V.CONTEXTS) + list(V.DEVICES) + list(NETWORKS), pa.string())
        self.state_keys = pa.array(["context", "device", "network"], pa.string())
        # every (context, device, network) combination as a JSON object with sorted keys
        self.state_json = pa.array(
            [
                orjson.dumps({"context": c, "device": d, "network": w}, option=orjson.OPT_SORT_KEYS).decode()
                for c in V.CONTEXTS
                for d in V.DEVICES
                for w in NETWORKS
            ],
            pa.string(),
        )
        width = max(len(h) for h in _CTX_HOURS.values())
        self.ctx_hours = np.array(
            [list(_CTX_HOURS[c]) + [0] * (width - len(_CTX_HOURS[c])) for c in V.CONTEXTS]
        )
        self.ctx_hour_n = np.array([len(_CTX_HOURS[c]) for c in V.CONTEXTS])
        n_g = len(GENRE_KEYS)
        self.ctx_mult = np.ones((len(V.CONTEXTS), n_g))
        for ci, c in enumerate(V.CONTEXTS):
            for g in V.CONTEXT_GENRES[c]:
                self.ctx_mult[ci, GENRE_INDEX[g]] = 4.0


_END_S = int(datetime(END_DATE.year, END_DATE.month, END_DATE.day, tzinfo=UTC).timestamp())


def _user_events(u: User, cat: Catalog, st: _Static, cfg: SampleConfig, rng: np.random.Generator):
    n = max(3, int(rng.poisson(cfg.events_per_user * u.activity)))
    # session sizes: geometric (mean 10), cut so they sum to n
    sizes = rng.geometric(0.1, n // 5 + 8)
    cs = np.cumsum(sizes)
    while cs[-1] < n:  # rare: draw more
        sizes = np.concatenate([sizes, rng.geometric(0.1, n // 5 + 8)])
        cs = np.cumsum(sizes)
    n_sess = int(np.searchsorted(cs, n)) + 1
    sizes = sizes[:n_sess].copy()
    sizes[-1] -= int(cs[n_sess - 1]) - n
    sess = np.repeat(np.arange(n_sess), sizes)

    # device, then a context the device makes plausible, then a time of day the context makes plausible
    dev = np.searchsorted(np.cumsum(u.device_w), rng.random(n_sess) * 0.999999, side="right")
    r = rng.random(n_sess)
    ctx = np.where(
        dev == 3,
        np.where(r < 0.85, 0, 4),  # car: commute / party
        np.where(
            dev == 2,
            np.array([2, 4, 5])[(r * 3).astype(np.int64)],  # speaker: home / party / sleep
            np.where(
                dev == 1,
                np.where(r < 0.6, 3, 2),  # desktop: work / home
                (r * len(V.CONTEXTS)).astype(np.int64),
            ),
        ),
    )  # phone: anything
    hour = st.ctx_hours[ctx, (rng.random(n_sess) * st.ctx_hour_n[ctx]).astype(np.int64)]
    window_start = max(int(u.registered.timestamp()), _END_S - 365 * 86400)
    days = np.sort(rng.integers(0, max(1, (_END_S - window_start) // 86400), n_sess))
    nominal = window_start + days * 86400 + hour * 3600 + rng.integers(0, 3600, n_sess)
    wifi_p = np.where(dev == 3, 0.0, np.where(dev == 0, np.where((ctx == 0) | (ctx == 1), 0.2, 0.8), 1.0))
    net = (rng.random(n_sess) >= wifi_p).astype(np.int64)  # 0 wifi, 1 cellular

    # genres from taste × context, songs by popularity, 30% from the user's heavy rotation
    ev_ctx = ctx[sess]
    genres = np.empty(n, dtype=np.int64)
    for c in np.unique(ev_ctx):
        m = ev_ctx == c
        cum = np.cumsum(u.taste * st.ctx_mult[c])
        genres[m] = np.searchsorted(cum, rng.random(int(m.sum())) * cum[-1], side="right")
    np.minimum(genres, len(GENRE_KEYS) - 1, out=genres)
    songs = np.empty(n, dtype=np.int64)
    for g in np.unique(genres):
        m = genres == g
        songs[m] = sample_genre_songs(cat, GENRE_KEYS[int(g)], rng, int(m.sum()))
    rotation = np.concatenate([sample_genre_songs(cat, g, rng, 6) for g in u.liked])
    rot = rng.random(n) < 0.3
    songs[rot] = rotation[rng.integers(0, len(rotation), int(rot.sum()))]

    cls_of_genre = np.ones(len(GENRE_KEYS), dtype=np.int64)
    cls_of_genre[[GENRE_INDEX[g] for g in u.liked]] = 0
    if u.disliked:
        cls_of_genre[[GENRE_INDEX[g] for g in u.disliked]] = 2
    cls = cls_of_genre[st.song_genre[songs]]
    fb = (rng.random(n)[:, None] > _FB_CUM[cls]).sum(axis=1)
    dur = st.song_dur_s[songs]
    val = np.full(n, np.nan)
    play = fb == 0
    skip = fb == 1
    val[play] = np.round(dur[play] * rng.uniform(0.85, 1.0, int(play.sum())), 1)
    # skips happen early: 2 s plus up to 40 s (or half the song, if shorter)
    val[skip] = np.round(2.0 + np.minimum(40.0, dur[skip] * 0.5) * rng.uniform(0.05, 1.0, int(skip.sum())), 1)
    step = np.where(np.isnan(val), rng.uniform(1.0, 5.0, n), val) + rng.uniform(0.5, 3.0, n)

    # offsets inside each session, then session starts pushed apart by at least the session gap
    csum = np.cumsum(step) - step
    first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    offset = csum - csum[first][sess]
    span = offset[np.cumsum(sizes) - 1]
    starts = np.empty(n_sess, dtype=np.float64)
    prev_end = -1e18
    for j in range(n_sess):
        s0 = max(float(nominal[j]), prev_end + _SESSION_GAP_S)
        starts[j] = s0
        prev_end = s0 + float(span[j]) + 1.0
    ts_ms = np.round((starts[sess] + offset) * 1000).astype(np.int64)
    excess = int(ts_ms[-1]) - (_END_S - 60) * 1000
    if excess > 0:  # pushed past the platform's "now": shift the whole history back, order and gaps kept
        ts_ms -= excess
    return ts_ms, songs, fb, val, ctx[sess], dev[sess], net[sess], sizes


def n_blocks(cfg: SampleConfig) -> int:
    return -(-cfg.n_users // cfg.user_chunk)


def generate_block(
    cfg: SampleConfig, cat: Catalog, users: list[User], block: int, st: _Static | None = None
) -> pa.Table:
    """Events of users `block * user_chunk` ..; rows sorted by user, then time."""
    st = st or _Static(cat)
    rng = np.random.default_rng(derive_seed(cfg.seed, "events", block))
    sids: list[str] = []
    uids: list[str] = []
    sessions: list[str] = []
    cols: list[list[np.ndarray]] = [[] for _ in range(7)]
    for u in users[block * cfg.user_chunk : (block + 1) * cfg.user_chunk]:
        *arrays, sess = _user_events(u, cat, st, cfg, rng)
        n = len(arrays[0])
        for c, a in zip(cols, arrays, strict=True):
            c.append(a)
        prefix = f"{u.sid}-e"
        sids.extend([prefix + str(i) for i in range(n)])
        uids.extend([u.sid] * n)
        for j, k in enumerate(sess.tolist()):
            sessions.extend([f"{u.sid}-s{j}"] * k)
    ts, songs, fb, val, ctx, dev, net = (np.concatenate(c) for c in cols)
    n = len(ts)
    nc, nd, nn = len(V.CONTEXTS), len(V.DEVICES), len(NETWORKS)
    if cfg.state_as_json:
        state = st.state_json.take(pa.array((ctx * nd + dev) * nn + net))
    else:
        items_idx = np.stack([ctx, nc + dev, nc + nd + net], axis=1).ravel()
        state = pa.MapArray.from_arrays(
            pa.array(np.arange(0, 3 * n + 1, 3, dtype=np.int32)),
            st.state_keys.take(pa.array(np.tile(np.arange(3), n))),
            st.state_values.take(pa.array(items_idx)),
        )
    return pa.table(
        [
            pa.array(sids, pa.string()),
            pa.array(uids, pa.string()),
            pa.array(ts, pa.timestamp("ms", tz="UTC")),
            pa.array(["song"] * n, pa.string()),
            st.song_sids.take(pa.array(songs)),
            st.feedback.take(pa.array(fb)),
            pa.array(val, pa.float64(), from_pandas=True),
            pa.nulls(n, pa.string()),
            state,
            pa.array(sessions, pa.string()),
        ],
        schema=event_schema(cfg.state_as_json),
    )


def static_tables(cat: Catalog) -> _Static:
    return _Static(cat)


__all__ = ["EVENT_SCHEMA", "FEEDBACK", "event_schema", "generate_block", "n_blocks", "static_tables"]
