"""Users (with a hidden genre taste that drives their events, comments and playlists) and playlists.

Each user's taste is a weight per genre: a few favourites, a long tail, and some disliked genres.
Behaviour events sample songs from it, skips are likelier on disliked genres, and a user's playlists
are built around their favourite genres, so all three datasets tell the same story.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from corpus.sample import vocab as V
from corpus.sample.catalog import GENRE_EN, GENRE_INDEX, GENRE_KEYS, GENRE_ZH, Catalog
from corpus.sample.config import END_DATE, SampleConfig, derive_seed

_COUNTRIES = (
    "US",
    "GB",
    "DE",
    "FR",
    "BR",
    "MX",
    "JP",
    "KR",
    "CN",
    "TW",
    "HK",
    "SG",
    "IN",
    "NG",
    "SE",
    "NL",
    "ES",
    "AU",
    "CA",
    "IT",
)
_COUNTRY_W = (18, 8, 7, 5, 6, 4, 5, 4, 9, 2, 1.5, 1, 5, 2, 2, 2, 3, 3, 3, 3)
_ZH_COUNTRIES = {"CN", "TW", "HK", "SG"}
_REG_START = datetime(2014, 1, 1, tzinfo=UTC)
_END = datetime(END_DATE.year, END_DATE.month, END_DATE.day, tzinfo=UTC)


@dataclass(slots=True)
class User:
    idx: int
    sid: str
    country: str
    zh: bool
    age: int
    gender: str | None
    registered: datetime
    taste: np.ndarray  # weight per genre (sums to 1)
    liked: list[str]
    disliked: list[str]
    device_w: tuple[float, float, float, float]  # phone, desktop, smart_speaker, car
    activity: float  # relative number of events


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def build_users(cfg: SampleConfig) -> list[User]:
    rng = random.Random(derive_seed(cfg.seed, "users"))
    n_g = len(GENRE_KEYS)
    span = int((_END - _REG_START).total_seconds()) - 90 * 86400
    users = []
    for i in range(cfg.n_users):
        country = rng.choices(_COUNTRIES, _COUNTRY_W)[0]
        zh = country in _ZH_COUNTRIES and rng.random() < 0.9
        taste = np.full(n_g, 0.01)
        liked: list[str] = []
        if zh and rng.random() < 0.7:
            liked.append(rng.choice(("mandopop", "cantopop")))
        while len(liked) < rng.randint(2, 4):
            g = rng.choice(GENRE_KEYS)
            if g not in liked:
                liked.append(g)
        for r, g in enumerate(liked):
            taste[GENRE_INDEX[g]] += 1.0 / (r + 1)
        disliked = [g for g in rng.sample(GENRE_KEYS, 4) if g not in liked][:3]
        for g in disliked:
            taste[GENRE_INDEX[g]] = 0.002
        taste /= taste.sum()
        age = max(13, min(75, int(rng.gauss(29, 10))))
        gender = rng.choices(("female", "male", "non-binary", None), (0.47, 0.47, 0.03, 0.03))[0]
        registered = _REG_START + timedelta(seconds=rng.randrange(span))
        dw = [rng.random() * 3 + 1, rng.random(), rng.random() * 0.6, rng.random() * 0.8]
        s = sum(dw)
        users.append(
            User(
                i,
                f"u{10_000_000 + i}",
                country,
                zh,
                age,
                gender,
                registered,
                taste,
                liked,
                disliked,
                tuple(x / s for x in dw),
                rng.lognormvariate(0, 0.6),
            )
        )
    # normalise activity so the mean is 1 (events total ≈ n_users × events_per_user)
    mean = sum(u.activity for u in users) / max(1, len(users))
    for u in users:
        u.activity /= mean
    return users


def profile_text(u: User, cat: Catalog, rng: random.Random) -> str:
    names = GENRE_ZH if u.zh else GENRE_EN
    fav = [names[g] for g in u.liked]
    g0 = u.liked[0]
    artists = cat.genre_artists.get(g0) or [0]
    art = cat.artists[artists[int(rng.random() * len(artists))]].name
    if u.zh:
        parts = [
            rng.choice(
                (
                    f"平时最爱听{'、'.join(fav)}。",
                    f"{'和'.join(fav[:2])}重度爱好者。",
                    f"主要听{fav[0]}，偶尔听{fav[-1]}。",
                )
            )
        ]
        if rng.random() < 0.7:
            parts.append(rng.choice((f"最近在循环{art}。", f"本命是{art}。", f"{art}的现场去过好几次。")))
        if u.disliked and rng.random() < 0.5:
            parts.append(f"不太能接受{GENRE_ZH[u.disliked[0]]}。")
        return "".join(parts)
    parts = [
        rng.choice(
            (
                f"Mostly into {', '.join(fav[:-1])} and {fav[-1]}."
                if len(fav) > 1
                else f"Mostly into {fav[0]}.",
                f"{fav[0].capitalize()} head. Also {', '.join(fav[1:]) or 'whatever is on'}.",
                f"I listen to a lot of {fav[0]}, some {fav[-1]}.",
            )
        )
    ]
    if rng.random() < 0.7:
        parts.append(
            rng.choice(
                (
                    f"Currently obsessed with {art}.",
                    f"Favourite artist: {art}.",
                    f"Seen {art} live {rng.randint(2, 9)} times.",
                )
            )
        )
    if rng.random() < 0.5:
        parts.append(
            rng.choice(
                (
                    "Playlists for the commute.",
                    "Music for studying and late nights.",
                    "Always looking for new stuff.",
                    "Vinyl collector.",
                    "Gym playlists only.",
                )
            )
        )
    if u.disliked and rng.random() < 0.4:
        parts.append(f"Can't stand {GENRE_EN[u.disliked[0]]}.")
    return " ".join(parts)


def user_rows(users: list[User], cat: Catalog, cfg: SampleConfig) -> list[dict]:
    rng = random.Random(derive_seed(cfg.seed, "profiles"))
    rows = []
    for u in users:
        rows.append(
            {
                "source_id": u.sid,
                "profile_text": profile_text(u, cat, rng) if rng.random() < 0.85 else None,
                "age": u.age if rng.random() < 0.9 else None,
                "gender": u.gender,
                "country": u.country,
                "registered_at": u.registered,
            }
        )
    return rows


def sample_genre_songs(cat: Catalog, genre: str, rng: np.random.Generator, k: int) -> np.ndarray:
    """`k` song indices of `genre`, drawn by popularity."""
    songs = cat.genre_songs.get(genre)
    if songs is None:
        songs = np.arange(len(cat.songs))
        return songs[rng.integers(0, len(songs), k)]
    idx = np.searchsorted(cat.genre_cum_pop[genre], rng.random(k), side="right")
    return songs[np.minimum(idx, len(songs) - 1)]


_PL_NAMES_EN = (
    "{mood} {genre}",
    "{genre} for {context}",
    "late night {genre}",
    "{genre} essentials",
    "my {genre} mix",
    "{context} {genre}",
    "{mood} {context} songs",
    "{genre} deep cuts",
    "{genre} + {genre2}",
    "songs for {context}",
    "{year} {genre} favourites",
    "{genre} that slaps",
    "rainy day {genre}",
    "sunday morning {genre}",
)
_PL_NAMES_ZH = (
    "{mood}的{genre}",
    "{context}听的{genre}",
    "深夜{genre}",
    "{genre}精选",
    "我的{genre}歌单",
    "{genre}私藏",
    "适合{context}的歌",
)
_CTX_EN = {
    "commute": "the commute",
    "gym": "the gym",
    "home": "home",
    "work": "work",
    "party": "the party",
    "sleep": "sleep",
}
_CTX_ZH = {"commute": "通勤", "gym": "健身", "home": "宅家", "work": "工作", "party": "派对", "sleep": "睡前"}


def build_playlists(cfg: SampleConfig, cat: Catalog, users: list[User]) -> list[dict]:
    """Genre- and mood-coherent playlists owned by users who like that genre."""
    rng = random.Random(derive_seed(cfg.seed, "playlists"))
    nrng = np.random.default_rng(derive_seed(cfg.seed, "playlists-np"))
    rows = []
    for i in range(cfg.n_playlists):
        u = users[int(rng.random() * len(users))]
        g = u.liked[0] if rng.random() < 0.6 else rng.choice(u.liked)
        g2 = rng.choice(u.liked)
        ctx = rng.choice(V.CONTEXTS)
        n = rng.randint(8, 40)
        main = sample_genre_songs(cat, g, nrng, n)
        side = sample_genre_songs(cat, g2, nrng, max(1, n // 5))
        seen: set[int] = set()
        order = []
        for s in list(main) + list(side):
            s = int(s)
            if s not in seen:
                seen.add(s)
                order.append(s)
        year = rng.randint(2015, END_DATE.year)
        if u.zh:
            name = rng.choice(_PL_NAMES_ZH).format(
                mood=rng.choice(V.ZH_MOODS), genre=GENRE_ZH[g], context=_CTX_ZH[ctx]
            )
            desc = rng.choice(
                (
                    f"{_CTX_ZH[ctx]}时循环的{GENRE_ZH[g]}，持续更新。",
                    f"收录{len(order)}首{GENRE_ZH[g]}，{rng.choice(V.ZH_MOODS)}向。",
                    None,
                )
            )
        else:
            name = rng.choice(_PL_NAMES_EN).format(
                mood=rng.choice(V.MOODS),
                genre=GENRE_EN[g],
                genre2=GENRE_EN[g2],
                context=_CTX_EN[ctx],
                year=year,
            )
            desc = rng.choice(
                (
                    f"{len(order)} {rng.choice(V.MOODS)} {GENRE_EN[g]} tracks for {_CTX_EN[ctx]}. Updated weekly.",
                    f"The best of {GENRE_EN[g]} with a little {GENRE_EN[g2]} on the side.",
                    f"Curated by a {GENRE_EN[g]} fan since {year}.",
                    None,
                )
            )
        rows.append(
            {
                "source_id": f"pl{i:07d}",
                "name": name[:1].upper() + name[1:],
                "description": desc,
                "user_id": u.sid,
                "song_ids": [cat.songs[s].sid for s in order],
                "genre": GENRE_EN[g],
                "context": ctx,
            }
        )
    return rows


__all__ = ["User", "build_playlists", "build_users", "sample_genre_songs", "user_rows"]
