"""The made-up platform's music catalog: artists, albums, songs, weekly charts and similar-artist links.

The catalog is generated first and kept in memory (it grows sublinearly with the sample size);
documents, comments, playlists and behaviour events draw their names and ids from it, which is
what makes the sample self-consistent.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from corpus.sample import vocab as V
from corpus.sample.config import END_DATE, SampleConfig, derive_seed

GENRE_KEYS: tuple[str, ...] = tuple(g[0] for g in V.GENRES)
GENRE_INDEX = {k: i for i, k in enumerate(GENRE_KEYS)}
GENRE_EN = {g[0]: g[1] for g in V.GENRES}
GENRE_ZH = {g[0]: g[2] for g in V.GENRES}
# How common each primary genre is among artists (others weigh 2).
_GENRE_WEIGHT = {
    "pop": 10,
    "rock": 8,
    "hip_hop": 8,
    "indie_rock": 6,
    "electronic": 5,
    "rnb": 5,
    "mandopop": 4,
    "kpop": 3,
    "jazz": 3,
    "metal": 3,
    "folk": 3,
    "country": 3,
    "latin": 3,
    "house": 3,
    "trap": 3,
}
_CHINESE_GENRES = {"mandopop", "cantopop"}
_CN_CITIES = [c for c in V.CITIES if c[2] in ("CN", "TW", "HK", "SG")]
_KR_CITIES = [c for c in V.CITIES if c[2] == "KR"]
_ISRC_COUNTRY = {
    "GB": "GB",
    "DE": "DE",
    "FR": "FR",
    "CN": "CN",
    "KR": "KR",
    "JP": "JP",
    "SE": "SE",
    "NL": "NL",
}


@dataclass(slots=True)
class Artist:
    idx: int
    sid: str
    name: str
    country: str
    hometown: str
    hometown_zh: str
    genres: list[str]
    debut_year: int
    popularity: float
    zh_name: bool
    albums: list[int] = field(default_factory=list)
    songs: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Album:
    idx: int
    sid: str
    title: str
    artist: int
    year: int
    label: str
    catno: str
    songs: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Song:
    idx: int
    sid: str
    title: str
    artists: list[int]
    album: int
    year: int
    release_date: str
    release_day: int  # days since 1970-01-01, for charts and events
    duration_ms: int
    genre: str
    popularity: float
    explicit: bool
    isrc: str
    tempo: float


@dataclass
class Catalog:
    artists: list[Artist]
    albums: list[Album]
    songs: list[Song]
    features: dict[str, np.ndarray]  # per-song audio features, aligned with `songs`
    genre_songs: dict[str, np.ndarray] = field(default_factory=dict)  # genre -> song indices
    genre_cum_pop: dict[str, np.ndarray] = field(default_factory=dict)  # genre -> cumulative popularity

    def __post_init__(self) -> None:
        by_genre: dict[str, list[int]] = {}
        for s in self.songs:
            by_genre.setdefault(s.genre, []).append(s.idx)
        pop = np.array([s.popularity for s in self.songs], dtype=np.float64) + 1.0
        for g, idx in by_genre.items():
            a = np.array(idx, dtype=np.int64)
            self.genre_songs[g] = a
            c = np.cumsum(pop[a])
            self.genre_cum_pop[g] = c / c[-1]
        self.song_pop = pop
        self.artist_cum_pop = np.cumsum([a.popularity for a in self.artists])
        self.artist_cum_pop /= self.artist_cum_pop[-1]
        self.genre_artists: dict[str, list[int]] = {}
        for a in self.artists:
            self.genre_artists.setdefault(a.genres[0], []).append(a.idx)
        self.song_titles_by_artist = {
            a.idx: tuple(self.songs[s].title for s in a.songs) for a in self.artists
        }

    def pick_artist(self, rng: random.Random) -> Artist:
        """An artist drawn by popularity (popular artists are written about more)."""
        i = int(np.searchsorted(self.artist_cum_pop, rng.random(), side="right"))
        return self.artists[min(i, len(self.artists) - 1)]

    def artist_names(self, idxs: list[int]) -> list[str]:
        return [self.artists[i].name for i in idxs]


def _title_case(s: str) -> str:
    small = {"of", "the", "a", "in", "on", "at", "to", "and", "for"}
    words = s.split(" ")
    return " ".join(w if (i and w in small) else w[:1].upper() + w[1:] for i, w in enumerate(words))


def _invented_word(rng: random.Random) -> str:
    return "".join(rng.choice(V.SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


def artist_name(rng: random.Random, genre: str, zh: bool) -> str:
    if zh:
        r = rng.random()
        if r < 0.55:
            return rng.choice(V.ZH_SURNAMES) + rng.choice(V.ZH_GIVEN)
        return rng.choice(V.ZH_BAND_STEMS) + rng.choice(V.ZH_BAND_WORDS)
    r = rng.random()
    if r < 0.22:
        return f"{rng.choice(V.FIRST_NAMES)} {rng.choice(V.LAST_NAMES)}"
    if r < 0.40:
        return _title_case(f"the {rng.choice(V.ADJECTIVES)} {rng.choice(V.PLURAL_NOUNS)}")
    if r < 0.52:
        return _title_case(f"{rng.choice(V.ADJECTIVES)} {rng.choice(V.NOUNS)}")
    if r < 0.60:
        return _invented_word(rng)
    if r < 0.66:
        return _title_case(f"{rng.choice(V.NOUNS)} & the {rng.choice(V.PLURAL_NOUNS)}")
    if r < 0.72:
        # digit names: a number inside a band name is not personal data
        return f"{_title_case(rng.choice(V.NOUNS))} {rng.choice((rng.randint(2, 99), rng.randint(100, 999)))}"
    if r < 0.80 and genre in ("hip_hop", "trap", "rnb", "electronic", "house", "techno", "dnb"):
        pre = rng.choice(("Lil", "DJ", "MC", "Young", "Big", "Kid"))
        return f"{pre} {_title_case(rng.choice(V.NOUNS))}"
    if r < 0.88:
        return f"{rng.choice(V.FIRST_NAMES)} {_title_case(rng.choice(V.NOUNS))}"
    return _title_case(f"{rng.choice(V.NOUNS)} {rng.choice(V.NOUNS)}")


def song_title(rng: random.Random, zh: bool) -> str:
    if zh:
        r = rng.random()
        s1, s2 = rng.choice(V.ZH_BAND_STEMS), rng.choice(V.ZH_BAND_STEMS)
        if r < 0.3:
            return s1
        if r < 0.5:
            return f"{s1}与{s2}"
        if r < 0.65:
            return f"写给{s1}的信"
        if r < 0.8:
            return f"{s1}之歌"
        return f"第{rng.randint(2, 99)}个{s1}"
    r = rng.random()
    if r < 0.2:
        t = f"{rng.choice(V.ADJECTIVES)} {rng.choice(V.NOUNS)}"
    elif r < 0.32:
        t = f"{rng.choice(V.NOUNS)} of {rng.choice(V.ABSTRACT)}"
    elif r < 0.44:
        t = f"{rng.choice(V.VERBS_ING)} {rng.choice(('past', 'through', 'toward', 'across', 'into'))} {rng.choice(V.PLACES_POETIC)}"
    elif r < 0.54:
        t = rng.choice(V.ABSTRACT)
    elif r < 0.62:
        t = f"the {rng.choice(V.NOUNS)}"
    elif r < 0.70:
        t = f"{rng.choice(V.ABSTRACT)} in {rng.choice(V.NOUNS)}"
    elif r < 0.76:
        # numbers in titles are catalog facts, not personal data
        t = rng.choice(
            (
                f"{rng.randint(2, 99)} {rng.choice(V.PLURAL_NOUNS)}",
                f"room {rng.randint(100, 999)}",
                f"route {rng.randint(1, 99)}",
                f"summer '{rng.randint(70, 99)}",
                f"{rng.randint(1, 12)} A.M.",
            )
        )
    elif r < 0.84:
        t = f"{rng.choice(V.VERBS_ING)} {rng.choice(V.ABSTRACT)}"
    elif r < 0.92:
        t = f"{rng.choice(V.ADJECTIVES)} {rng.choice(V.PLURAL_NOUNS)}"
    else:
        t = f"{rng.choice(V.NOUNS)} {rng.choice(V.NOUNS)}"
    t = _title_case(t)
    if rng.random() < 0.04:
        t += rng.choice((" (Live)", " (Acoustic)", " - Remastered", " (Demo)", " (Radio Edit)"))
    return t


def album_title(rng: random.Random, zh: bool) -> str:
    if zh:
        return rng.choice(
            (
                f"{rng.choice(V.ZH_BAND_STEMS)}",
                f"{rng.choice(V.ZH_BAND_STEMS)}{rng.choice(('集', '纪', '手记', '回声'))}",
                f"{rng.choice(V.ZH_THEMES)}",
            )
        )
    r = rng.random()
    if r < 0.3:
        t = f"{rng.choice(V.ADJECTIVES)} {rng.choice(V.ABSTRACT)}"
    elif r < 0.5:
        t = f"songs for {rng.choice(V.PLACES_POETIC)}"
    elif r < 0.65:
        t = rng.choice(V.NOUNS) + "s" if rng.random() < 0.5 else rng.choice(V.ABSTRACT)
    elif r < 0.8:
        t = f"the {rng.choice(V.ADJECTIVES)} {rng.choice(V.NOUNS)}"
    else:
        t = f"{rng.choice(V.NOUNS)} {rng.choice(V.NOUNS)}"
    return _title_case(t)


def _iso(day: int) -> str:
    return (date(1970, 1, 1) + timedelta(days=day)).isoformat()


def build_catalog(cfg: SampleConfig) -> Catalog:
    rng = random.Random(derive_seed(cfg.seed, "catalog"))
    nrng = np.random.default_rng(derive_seed(cfg.seed, "catalog-features"))
    end_year = END_DATE.year
    epoch = date(1970, 1, 1)
    genre_keys = list(GENRE_KEYS)
    genre_w = [_GENRE_WEIGHT.get(g, 2) for g in genre_keys]

    # ---- artists
    n_digit = min(len(V.DIGIT_BAND_NAMES), max(1, cfg.n_artists // 15))
    digit_slots = dict(
        zip(
            sorted(rng.sample(range(cfg.n_artists), min(n_digit, cfg.n_artists))),
            V.DIGIT_BAND_NAMES,
            strict=False,
        )
    )
    seen: set[str] = set()
    artists: list[Artist] = []
    for i in range(cfg.n_artists):
        g = rng.choices(genre_keys, genre_w)[0]
        zh = g in _CHINESE_GENRES and rng.random() < 0.8 or rng.random() < 0.05
        if g in _CHINESE_GENRES or zh:
            city = rng.choice(_CN_CITIES)
        elif g == "kpop":
            city = rng.choice(_KR_CITIES)
        else:
            city = rng.choice(V.CITIES)
        name = digit_slots.get(i)
        if name is None:
            for _ in range(20):
                name = artist_name(rng, g, zh)
                if name not in seen:
                    break
            else:
                name = f"{name} {_invented_word(rng)}"
        seen.add(name)
        extra = rng.sample(genre_keys, rng.randint(0, 2))
        genres = [g] + [x for x in extra if x != g]
        debut = rng.randint(1965, end_year - 1) if rng.random() < 0.3 else rng.randint(1995, end_year - 1)
        pop = rng.paretovariate(1.3)
        artists.append(Artist(i, f"ar{i:06d}", name, city[2], city[0], city[1], genres, debut, pop, zh))

    # ---- albums: every artist has at least one, the rest go to popular artists
    n_albums = max(cfg.n_albums, cfg.n_artists)
    owners = list(range(cfg.n_artists)) + rng.choices(
        range(cfg.n_artists), weights=[a.popularity for a in artists], k=n_albums - cfg.n_artists
    )
    owners.sort()
    albums: list[Album] = []
    isrc_counter: dict[tuple[str, int], int] = {}
    for j, ai in enumerate(owners):
        a = artists[ai]
        year = rng.randint(a.debut_year, end_year)
        li = rng.randrange(len(V.LABEL_NAMES))
        catno = f"{V.LABEL_CODES[li % len(V.LABEL_CODES)]}-{rng.randint(1, 9999):04d}"
        albums.append(Album(j, f"al{j:07d}", album_title(rng, a.zh_name), ai, year, V.LABEL_NAMES[li], catno))
        a.albums.append(j)

    # ---- songs: distribute over albums by a per-album target size
    n_songs = max(cfg.n_songs, n_albums)
    sizes = [rng.randint(4, 16) for _ in albums]
    total = sum(sizes)
    counts = [max(1, round(s * n_songs / total)) for s in sizes]
    diff = n_songs - sum(counts)
    k = 0
    while diff != 0:  # fix rounding so counts sum exactly to n_songs
        j = k % len(counts)
        if diff > 0:
            counts[j] += 1
            diff -= 1
        elif counts[j] > 1:
            counts[j] -= 1
            diff += 1
        k += 1
    songs: list[Song] = []
    for al, cnt in zip(albums, counts, strict=True):
        a = artists[al.artist]
        base_day = (date(al.year, rng.randint(1, 12), rng.randint(1, 28)) - epoch).days
        end_day = (END_DATE - epoch).days
        base_day = min(base_day, end_day - 1)
        reg = f"{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ0123456789')}{rng.randint(0, 9)}"
        cc = _ISRC_COUNTRY.get(a.country, "US")
        for _t in range(cnt):
            idx = len(songs)
            g = a.genres[0] if rng.random() < 0.8 else rng.choice(a.genres)
            credits = [a.idx]
            if rng.random() < 0.12:
                peers = [x for x in range(max(0, a.idx - 40), min(len(artists), a.idx + 40)) if x != a.idx]
                if peers:
                    credits.append(rng.choice(peers))
            gi = GENRE_INDEX[g]
            lo, hi = V.GENRES[gi][3]
            tempo = round(rng.uniform(lo, hi), 3)
            if g == "classical":
                dur = rng.randint(180_000, 720_000)
            elif g == "punk":
                dur = rng.randint(95_000, 200_000)
            else:
                dur = max(60_000, int(rng.gauss(215_000, 45_000)))
            single_day = min(base_day - rng.randint(0, 60) if rng.random() < 0.2 else base_day, end_day - 1)
            d = epoch + timedelta(days=single_day)
            release = d.isoformat() if rng.random() > 0.05 else str(d.year)
            key = (cc + reg, d.year % 100)
            isrc_counter[key] = isrc_counter.get(key, 0) + 1
            isrc = f"{cc}{reg}{d.year % 100:02d}{isrc_counter[key] + 10000 * rng.randint(0, 8):05d}"
            pop = min(100.0, round(a.popularity**0.5 * 18 + rng.gauss(10, 12), 0))
            explicit = rng.random() < (0.4 if g in ("hip_hop", "trap") else 0.05)
            songs.append(
                Song(
                    idx,
                    f"tr{idx:08d}",
                    song_title(rng, a.zh_name),
                    credits,
                    al.idx,
                    d.year,
                    release,
                    single_day,
                    dur,
                    g,
                    max(0.0, pop),
                    explicit,
                    isrc,
                    tempo,
                )
            )
            al.songs.append(idx)
            for c in credits:
                artists[c].songs.append(idx)

    # ---- audio features, vectorised around each genre's profile
    gidx = np.array([GENRE_INDEX[s.genre] for s in songs], dtype=np.int64)
    prof = np.array(
        [g[4:10] for g in V.GENRES], dtype=np.float64
    )  # energy, dance, acoustic, valence, instr, speech
    n = len(songs)

    def around(col: int, sd: float) -> np.ndarray:
        return np.clip(prof[gidx, col] + nrng.normal(0, sd, n), 0.0, 1.0).round(4)

    energy = around(0, 0.12)
    feats = {
        "energy": energy,
        "danceability": around(1, 0.12),
        "acousticness": around(2, 0.15),
        "valence": around(3, 0.18),
        "instrumentalness": around(4, 0.12),
        "speechiness": around(5, 0.04),
        "liveness": np.clip(nrng.gamma(2.0, 0.08, n), 0.0, 1.0).round(4),
        "loudness_db": np.clip(-4.0 - (1 - energy) * 16 + nrng.normal(0, 2.0, n), -60.0, 0.0).round(3),
        "key": nrng.integers(0, 12, n).astype(np.int8),
        "mode": (nrng.random(n) < 0.62).astype(np.int8),
        "time_signature": nrng.choice(np.array([3, 4, 5], dtype=np.int8), n, p=[0.08, 0.9, 0.02]),
    }
    return Catalog(artists, albums, songs, feats)


def chart_rows(cat: Catalog, cfg: SampleConfig) -> list[dict]:
    """Weekly platform chart: top `chart_size` songs by popularity, recency and noise, each week."""
    rng = np.random.default_rng(derive_seed(cfg.seed, "charts"))
    end_day = (END_DATE - date(1970, 1, 1)).days
    release = np.array([s.release_day for s in cat.songs], dtype=np.int64)
    pop = cat.song_pop
    rows = []
    chart = "tunewave_weekly_top50"
    for w in range(cfg.chart_weeks, 0, -1):
        day = end_day - 7 * (w - 1)
        age = day - release
        ok = age >= 0
        score = np.where(
            ok, pop * np.exp(-np.maximum(age, 0) / 540.0) * rng.lognormal(0, 0.35, len(pop)), -1.0
        )
        top = np.argsort(-score, kind="stable")[: cfg.chart_size]
        iso = _iso(int(day))
        for rank, si in enumerate(top, 1):
            if score[si] < 0:
                break
            s = cat.songs[int(si)]
            rows.append(
                {
                    "source_id": f"{chart}:{iso}:{rank}",
                    "chart": chart,
                    "item_type": "song",
                    "title": s.title,
                    "artists": cat.artist_names(s.artists),
                    "date": iso,
                    "year": int(iso[:4]),
                    "rank": rank,
                    "song_id": s.sid,
                }
            )
    return rows


def similar_artist_rows(cat: Catalog, cfg: SampleConfig) -> list[dict]:
    """Platform "similar artist" links: mostly same primary genre, a few across related genres."""
    rng = random.Random(derive_seed(cfg.seed, "relations"))
    rows = []
    for a in cat.artists:
        pool = [x for x in cat.genre_artists.get(a.genres[0], []) if x != a.idx]
        for g in a.genres[1:]:
            pool += [x for x in cat.genre_artists.get(g, [])[:50] if x != a.idx]
        if not pool:
            continue
        k = min(len(pool), rng.randint(3, 8))
        picks = sorted(set(rng.sample(pool, k)))
        for b in picks:
            shared = len(set(a.genres) & set(cat.artists[b].genres))
            w = round(min(1.0, 0.25 + 0.25 * shared + rng.random() * 0.3), 4)
            rows.append(
                {
                    "source_id": f"similar:{a.sid}:{cat.artists[b].sid}",
                    "src_type": "artist",
                    "src_id": a.sid,
                    "dst_type": "artist",
                    "dst_id": cat.artists[b].sid,
                    "relation": "similar",
                    "weight": w,
                }
            )
    return rows
