"""User comments: short, informal, emoji-laden, some Chinese, some replies, some with planted PII.

PII values are inserted through tracked slots, so their exact character offsets are known; music
numbers that look like PII to a naive detector (durations, years, BPM, chart positions, ISRCs,
catalog numbers, digit band names) are tracked the same way and recorded as decoys.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache

from corpus.sample import pii as P
from corpus.sample import vocab as V
from corpus.sample.catalog import Catalog
from corpus.sample.config import END_DATE, SampleConfig, derive_seed
from corpus.sample.templates import Frame, compile_frames, render_tracked
from corpus.sample.users import User

_BASE_EN = (
    "{song} is {praise} {emoji}",
    "the {instrument} at {dur} [is everything|gives me chills|lives in my head] {emoji}",
    "been listening to {artist} since {year} and [this|it] still [hits|slaps|holds up]",
    "{song} at {bpm} is perfect for [the gym|running|cycling] {emoji}",
    "this was {rank} on the weekly chart, should have been #1 [tbh|imo|honestly]",
    "if you're looking for the right version it's ISRC {isrc}",
    "got the {catno} pressing and it sounds [amazing|so warm|way better than the stream]",
    "saw {artist} live in {city} [last year|in {year}|twice] [and it was unreal|best night ever|still not over it] {emoji}",
    "better than anything {artist2} ever did, [fight me|sorry not sorry]",
    "who's still here in {year_now}? {emoji}",
    "{count} plays and counting {emoji}",
    "[underrated|so underrated|criminally underrated]. {emoji}{emoji}",
    "[skip to|wait for] {dur} [you're welcome|trust me] {emoji}",
    "{artist} never misses {emoji}",
    "[not their best tbh|kinda mid], {song} [is|feels] [a bit boring|too long|overproduced]",
    "the [mix|master] on this is [weird|muddy|so good], [vocals way too quiet|bass is huge|perfect on headphones]",
    "my [dad|mom|older brother] used to play this in the car back in {year} {emoji}",
    "{song} + rain = [perfect|heaven|my whole mood]",
    "ranked: 1. {song} 2. {song2} 3. {song3}",
    "[this|that] drop at {dur} {emoji}{emoji}",
    "[anyone know|does anyone know] what [synth|guitar pedal|drum machine] they used on {song}?",
    "[came here from|found this through] the {artist2} radio, [no regrets|instant fan]",
    "[why is this not|how is this not] [on every playlist|on more playlists]",
    "[listening|playing this] [at 3am|on the night bus|while studying] {emoji}",
    "{artist} [and|x] {artist2} collab when??",
    "[the|that] {duration_word} long version is [better|a masterpiece|worth it]",
)
_BASE_ZH = (
    "《{song}》{zh_praise}{emoji}",
    "{dur}那段{instrument}{zh_reaction}",
    "从{year}年听到现在，{zh_inter}",
    "{bpm}的速度刚好适合[跑步|健身|骑车]",
    "周榜{rank}，[不服|意难平]，应该第一",
    "收了{catno}的黑胶，[音质绝了|太值了]",
    "{artist}的现场[真的|是真的]{zh_praise}{emoji}",
    "{year_now}年了还有人在听吗{emoji}",
    "第{count}遍了{emoji}",
    "{zh_inter}{zh_inter}{emoji}",
    "[下雨天|深夜|通勤路上]听《{song}》[太对味了|绝配]",
    "[有没有人知道|求问]《{song}》用的是什么[合成器|效果器]？",
    "{artist}和{artist2}[快合作|什么时候合作]啊",
    "[排名|个人排名]：《{song}》>《{song2}》>《{song3}》",
    "[被|从]{artist2}的电台[推荐过来|安利过来]的，[入坑了|不后悔]",
)
_PII_EN: dict[str, tuple[str, ...]] = {
    "email": (
        "email me at {pii} if you want the [FLAC|lossless] files",
        "my email is {pii}, send me the setlist pls",
        "anyone selling tickets? {pii}",
        "fan club sign-ups: {pii}",
    ),
    "phone": (
        "text me {pii}, I have 2 extra tickets for {city}",
        "call {pii} if you found my jacket at the show lol",
        "whatsapp {pii} for the group chat",
        "selling my ticket, {pii}",
    ),
    "credit_card": (
        "why does my card {pii} keep getting declined on the merch store??",
        "bought the vinyl with {pii} and never got it {emoji}",
        "charged twice on {pii} for the presale wtf",
    ),
    "ipv4": (
        "stream keeps buffering, my IP is {pii}, is the CDN down?",
        "mods pls unban {pii} it was my roommate",
        "server {pii} not responding again",
    ),
    "ipv6": (
        "stream keeps buffering, my IP is {pii}, is the CDN down?",
        "banned from chat? my address is {pii}",
    ),
    "iban": ("selling my ticket, send the money to {pii}", "refund for the presale please: IBAN {pii}"),
    "us_ssn": (
        "the presale form asked for my SSN {pii}, is that legit??",
        "lol I almost pasted my SSN {pii} instead of the code",
    ),
    "cn_resident_id": (
        "my ID for the ticket is {pii}, hope that's right",
        "real-name ticket, ID {pii}, did I fill it in right?",
    ),
    "street_address": (
        "ship it to {pii} please",
        "the listening party is at {pii} this saturday",
        "send the signed copy to {pii}",
    ),
    "social_handle": (
        "follow me on ig {pii} for more covers",
        "DM me on twitter {pii}",
        "my tiktok is {pii}",
    ),
    "platform_user_id": ("add me: {pii}", "my profile is {pii}, follow for playlists", "friend me {pii}"),
}
_PII_ZH: dict[str, tuple[str, ...]] = {
    "email": ("邮箱{pii}，求发无损资源", "有票的发我邮箱 {pii}"),
    "phone": ("有票的联系我{pii}", "手机号{pii}，转让两张内场票", "捡到我外套的请打{pii}"),
    "credit_card": ("信用卡{pii}一直付款失败，有人一样吗", "用{pii}买的黑胶到现在没发货"),
    "ipv4": ("我的IP是{pii}，一直卡", "IP {pii} 被封了，求解封"),
    "ipv6": ("我的IP是{pii}，一直卡",),
    "iban": ("转票款打到{pii}",),
    "us_ssn": ("预售表格要填SSN {pii}，正常吗",),
    "cn_resident_id": ("抢票实名，身份证{pii}，帮我看下填对没", "身份证号{pii}，抢到了！"),
    "street_address": ("寄到{pii}，谢谢", "签名专辑请寄{pii}"),
    "social_handle": ("微博{pii}，互关", "我的小红书{pii}"),
    "platform_user_id": ("加我好友 {pii}", "我的主页 {pii}，歌单都在里面"),
}
_PII_WEIGHTS = {
    "email": 14,
    "phone": 16,
    "credit_card": 8,
    "ipv4": 6,
    "ipv6": 4,
    "iban": 6,
    "us_ssn": 5,
    "cn_resident_id": 7,
    "street_address": 10,
    "social_handle": 12,
    "platform_user_id": 12,
}
_REPLY_EN = (
    "agreed",
    "lol same",
    "+1",
    "this!!",
    "no way",
    "facts",
    "hard disagree",
    "exactly what I was thinking",
    "came here to say this",
    "underrated comment",
)
_REPLY_ZH = ("同意", "哈哈哈同感", "+1", "说得对", "不敢苟同", "楼上真相了", "我也是")
_DECOY_TYPES = {
    "dur": "duration",
    "year": "year",
    "year_now": "year",
    "bpm": "bpm",
    "rank": "chart_position",
    "isrc": "isrc",
    "catno": "catalog_number",
    "count": "play_count",
    "artist": "artist_name",
    "artist2": "artist_name",
    "song": "song_title",
    "song2": "song_title",
    "song3": "song_title",
}
_TRACK = frozenset(_DECOY_TYPES) | {"pii"}


@cache
def _compiled() -> dict[str, tuple[Frame, ...] | dict[str, tuple[Frame, ...]]]:
    return {
        "base_en": compile_frames(_BASE_EN),
        "base_zh": compile_frames(_BASE_ZH),
        "pii_en": {k: compile_frames(v) for k, v in _PII_EN.items()},
        "pii_zh": {k: compile_frames(v) for k, v in _PII_ZH.items()},
    }


def _glob(zh: bool) -> dict[str, object]:
    return {
        "emoji": V.EMOJI,
        "dur": lambda r: f"{r.randint(0, 5)}:{r.randint(0, 59):02d}",
        "year": lambda r: str(r.randint(1975, END_DATE.year)),
        "year_now": str(END_DATE.year),
        "bpm": lambda r: f"{r.randint(70, 175)} BPM" if not zh else f"{r.randint(70, 175)}BPM",
        "rank": lambda r: f"#{r.randint(1, 50)}",
        "count": lambda r: str(r.randint(20, 900)),
        "city": tuple(c[1] if zh else c[0] for c in V.CITIES),
        "instrument": V.ZH_INSTRUMENTS if zh else V.INSTRUMENTS,
        "praise": ("a masterpiece", "so good", "pure gold", "a whole vibe", "perfect", "unreal", "elite"),
        "zh_praise": ("太好听了", "yyds", "绝了", "封神", "百听不厌", "神曲"),
        "zh_reaction": ("绝了", "起鸡皮疙瘩", "听哭了", "太上头了"),
        "zh_inter": V.ZH_INTERJECTIONS,
        "duration_word": ("7-minute", "9 minute", "extended", "12-minute"),
    }


@lru_cache(maxsize=2)
def _globs() -> tuple[dict, dict]:
    return _glob(False), _glob(True)


@dataclass
class CommentChunk:
    rows: list[dict]
    pii: list[dict]
    decoys: list[dict]


_START = datetime(2016, 1, 1, tzinfo=UTC)
_END = datetime(END_DATE.year, END_DATE.month, END_DATE.day, tzinfo=UTC)
_SPAN = int((_END - _START).total_seconds())


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _item(rng: random.Random, cat: Catalog, playlists: list[dict]) -> tuple[str, str, list[int], int]:
    """(item_type, item source_id, related song indices, main artist index)."""
    r = rng.random()
    if r < 0.55:
        a = cat.pick_artist(rng)
        s = cat.songs[a.songs[int(rng.random() * len(a.songs))]] if a.songs else cat.songs[0]
        return "song", s.sid, [s.idx] + a.songs[:5], s.artists[0]
    if r < 0.75:
        a = cat.pick_artist(rng)
        return "artist", a.sid, a.songs or [0], a.idx
    if r < 0.9 or not playlists:
        al = cat.albums[int(rng.random() * len(cat.albums))]
        return "album", al.sid, al.songs, al.artist
    pl = playlists[int(rng.random() * len(playlists))]
    idx = [int(s[2:]) for s in pl["song_ids"][:10]]  # song sids are `tr` + index
    return "playlist", pl["source_id"], idx, cat.songs[idx[0]].artists[0]


def _ctx(rng: random.Random, cat: Catalog, songs: list[int], artist: int, zh: bool) -> dict[str, object]:
    titles = list(dict.fromkeys(cat.songs[s].title for s in songs)) or ["Untitled"]
    while len(titles) < 3:  # rankings name three different songs
        titles.append(cat.songs[int(rng.random() * len(cat.songs))].title)
    peers = [x for x in cat.genre_artists.get(cat.artists[artist].genres[0], ()) if x != artist]
    a2 = (
        cat.artists[peers[int(rng.random() * len(peers))]]
        if peers
        else cat.artists[(artist + 1) % len(cat.artists)]
    )
    al = cat.albums[cat.songs[songs[0]].album] if songs else cat.albums[0]
    return {
        "song": titles[0],
        "song2": titles[1 + int(rng.random() * (len(titles) - 2))],
        "song3": titles[-1],
        "artist": cat.artists[artist].name,
        "artist2": a2.name,
        "catno": al.catno,
        "isrc": cat.songs[songs[0]].isrc if songs else "USRC17607839",
    }


def _has_digit(s: str) -> bool:
    return any(c.isdigit() for c in s)


def generate_chunk(
    cfg: SampleConfig, cat: Catalog, users: list[User], playlists: list[dict], chunk: int
) -> CommentChunk:
    start = chunk * cfg.comment_chunk
    count = min(cfg.comment_chunk, cfg.n_comments - start)
    rng = random.Random(derive_seed(cfg.seed, "comments", chunk))
    comp = _compiled()
    g_en, g_zh = _globs()
    types, weights = list(_PII_WEIGHTS), list(_PII_WEIGHTS.values())
    rows: list[dict] = []
    pii_rows: list[dict] = []
    decoys: list[dict] = []
    for i in range(count):
        sid = f"c{start + i:09d}"
        u = users[int(rng.random() * len(users))]
        zh = u.zh if rng.random() < 0.9 else not u.zh
        glob = g_zh if zh else g_en
        parent = None
        if rows and rng.random() < cfg.reply_fraction:
            parent = rows[int(rng.random() * len(rows))]
        if parent is not None:
            item_type, item_id = parent["item_type"], parent["item_id"]
            songs, artist = parent["_songs"], parent["_artist"]
        else:
            item_type, item_id, songs, artist = _item(rng, cat, playlists)
        ctx = _ctx(rng, cat, songs, artist, zh)
        pieces: list[tuple[str, list[tuple[int, int, str, str]], str | None]] = []
        if parent is not None:
            r = (_REPLY_ZH if zh else _REPLY_EN)[int(rng.random() * len(_REPLY_ZH if zh else _REPLY_EN))]
            pieces.append((r, [], None))
        if parent is None or rng.random() < 0.5:
            base = comp["base_zh" if zh else "base_en"]
            text, spans = render_tracked(base[int(rng.random() * len(base))], ctx, glob, rng, _TRACK)
            pieces.append((text, spans, None))
        if rng.random() < cfg.pii_fraction:
            for _ in range(2 if rng.random() < 0.2 else 1):
                ptype = rng.choices(types, weights)[0]
                value, sub = _pii_value(ptype, rng, zh, users)
                frames = comp["pii_zh" if zh else "pii_en"][ptype]
                local: dict[str, object] = {**ctx, "pii": value}
                text, spans = render_tracked(
                    frames[int(rng.random() * len(frames))], local, glob, rng, _TRACK
                )
                pieces.append((text, spans, ptype + "|" + sub))
        if rng.random() < 0.3:
            pieces.append((V.EMOJI[int(rng.random() * len(V.EMOJI))], [], None))
        out: list[str] = []
        pos = 0
        for n, (text, spans, pinfo) in enumerate(pieces):
            if n:
                prev = out[-1]
                if prev[-1:].isalnum() and text[:1].isalnum():  # two sentences: punctuate between them
                    sep = (
                        rng.choice(("，", "。", " ")) if zh else rng.choice((". ", "! ", " - ", "... ", ", "))
                    )
                else:
                    sep = " "
                out.append(sep)
                pos += len(sep)
            for s, e, slot, value in spans:
                if slot == "pii":
                    ptype, sub = pinfo.split("|", 1)  # type: ignore[union-attr]
                    pii_rows.append(
                        {
                            "dataset": "comments",
                            "source_id": sid,
                            "field": "text",
                            "start": pos + s,
                            "end": pos + e,
                            "pii_type": ptype,
                            "subtype": sub,
                            "value": value,
                        }
                    )
                elif _has_digit(value) or slot not in ("artist", "artist2", "song", "song2", "song3"):
                    decoys.append(
                        {
                            "dataset": "comments",
                            "source_id": sid,
                            "field": "text",
                            "start": pos + s,
                            "end": pos + e,
                            "decoy_type": _DECOY_TYPES[slot],
                            "value": value,
                        }
                    )
            out.append(text)
            pos += len(text)
        text = "".join(out)
        if parent is not None:
            p_created = datetime.strptime(parent["created_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            created = min(_END, p_created + timedelta(seconds=rng.randint(60, 30 * 86400)))
        else:
            created = max(_START, u.registered) + timedelta(
                seconds=rng.randrange(max(1, int((_END - max(_START, u.registered)).total_seconds())))
            )
        rating = (
            rng.randint(1, 5)
            if item_type in ("song", "album") and parent is None and rng.random() < 0.35
            else None
        )
        rows.append(
            {
                "source_id": sid,
                "text": text,
                "item_type": item_type,
                "item_id": item_id,
                "user_id": u.sid,
                "rating": rating,
                "parent_id": parent["source_id"] if parent else None,
                "created_at": _iso(created),
                "lang": "zh" if zh else "en",
                "_songs": songs,
                "_artist": artist,
            }
        )
    for r in rows:  # helper fields only link replies to their parent's item
        del r["_songs"], r["_artist"]
    return CommentChunk(rows, pii_rows, decoys)


def _pii_value(ptype: str, rng: random.Random, zh: bool, users: list[User]) -> tuple[str, str]:
    first, last = rng.choice(V.FIRST_NAMES), rng.choice(V.LAST_NAMES)
    gens: dict[str, Callable[[], tuple[str, str]]] = {
        "email": lambda: P.email(rng, first, last),
        "phone": lambda: P.phone(rng),
        "credit_card": lambda: P.credit_card(rng),
        "ipv4": lambda: P.ipv4(rng),
        "ipv6": lambda: P.ipv6(rng),
        "iban": lambda: P.iban(rng),
        "us_ssn": lambda: P.us_ssn(rng),
        "cn_resident_id": lambda: P.cn_resident_id(rng),
        "street_address": lambda: P.street_address(rng, zh),
        "social_handle": lambda: P.social_handle(rng, first, last),
        "platform_user_id": lambda: P.platform_user_id(users[int(rng.random() * len(users))].sid),
    }
    return gens[ptype]()


def n_chunks(cfg: SampleConfig) -> int:
    return -(-cfg.n_comments // cfg.comment_chunk) if cfg.n_comments > 0 else 0
