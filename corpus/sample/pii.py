"""Fake personal data with valid checksums (Luhn, IBAN mod 97, Chinese resident ID), for planting.

Every generator returns `(value, subtype)`; the value is exactly what is written into the text,
so ground-truth offsets can be checked with `text[start:end] == value`. The validators are used by
tests and by anyone scoring a PII detector against the sample.
"""

from __future__ import annotations

import random
import unicodedata

PII_TYPES = (
    "email",
    "phone",
    "credit_card",
    "ipv4",
    "ipv6",
    "iban",
    "us_ssn",
    "cn_resident_id",
    "street_address",
    "social_handle",
    "platform_user_id",
)
# Documented format of the platform's public user id inside text: `uid:` + the 8 digits of a
# user's source_id (`u` + 8 digits), e.g. `uid:10000042` for user `u10000042`.
PLATFORM_UID_PREFIX = "uid:"

_EMAIL_DOMAINS = (
    "gmail.com",
    "outlook.com",
    "yahoo.com",
    "hotmail.co.uk",
    "web.de",
    "gmx.de",
    "orange.fr",
    "free.fr",
    "qq.com",
    "163.com",
    "126.com",
    "icloud.com",
    "proton.me",
    "mail.ru",
)
_NICKS = (
    "music",
    "vinyl",
    "beats",
    "fan",
    "rocker",
    "jazzcat",
    "lofi",
    "synth",
    "bass",
    "drummer",
    "dj",
    "tunes",
)
_US_AREA = (
    "212",
    "312",
    "415",
    "617",
    "646",
    "702",
    "713",
    "206",
    "305",
    "404",
    "503",
    "512",
    "615",
    "720",
    "818",
)
_CN_MOBILE = (
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "155",
    "157",
    "158",
    "159",
    "176",
    "177",
    "178",
    "186",
    "187",
    "188",
    "189",
)
_CN_REGIONS = (
    ("110101", "北京市东城区"),
    ("110105", "北京市朝阳区"),
    ("310104", "上海市徐汇区"),
    ("310115", "上海市浦东新区"),
    ("440106", "广州市天河区"),
    ("440305", "深圳市南山区"),
    ("510107", "成都市武侯区"),
    ("330106", "杭州市西湖区"),
    ("420106", "武汉市武昌区"),
    ("320102", "南京市玄武区"),
)
_CN_ROADS = (
    "建国路",
    "中山路",
    "人民路",
    "解放路",
    "长江路",
    "南京西路",
    "科技园路",
    "天府大道",
    "文三路",
    "珞喻路",
)
_STREET_NAMES = (
    "Baker",
    "Elm",
    "Maple",
    "Oak",
    "High",
    "Church",
    "Station",
    "Mill",
    "Park",
    "Victoria",
    "King",
    "Queen",
    "Willow",
    "Cedar",
    "Pine",
    "Lake",
    "Hill",
    "Sunset",
    "Market",
    "Bridge",
    "Harbor",
    "Orchard",
    "Spring",
)
_STREET_SUFFIXES = (
    "Street",
    "St",
    "Avenue",
    "Ave",
    "Road",
    "Rd",
    "Lane",
    "Drive",
    "Boulevard",
    "Way",
    "Court",
    "Place",
)
_FAMOUS_ADDRESSES = (
    "221B Baker Street",
    "1600 Pennsylvania Ave NW",
    "10 Downing Street",
    "742 Evergreen Terrace",
)
_ADDRESS_CITIES = ("London", "Springfield", "Austin", "Leeds", "Portland", "Denver", "Boston", "Bristol")
_DE_STREETS = ("Hauptstraße", "Lindenallee", "Schillerstraße", "Goethestraße", "Bahnhofstraße", "Gartenweg")
_FR_STREETS = ("rue de la Paix", "avenue Victor Hugo", "rue des Lilas", "boulevard Voltaire", "rue du Moulin")


def _ascii(s: str) -> str:
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().replace("'", "").lower()


def _digits(rng: random.Random, n: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(n))


# ------------------------------------------------------------------ checksums


def luhn_valid(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    if len(digits) < 12:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_check_digit(partial: str) -> str:
    for c in "0123456789":
        if luhn_valid(partial + c):
            return c
    raise AssertionError("unreachable")  # pragma: no cover


def _iban_numeric(s: str) -> int:
    return int("".join(str(int(c, 36)) for c in s))


def iban_valid(iban: str) -> bool:
    s = iban.replace(" ", "").upper()
    if len(s) < 15 or not s[:2].isalpha() or not s[2:4].isdigit():
        return False
    return _iban_numeric(s[4:] + s[:4]) % 97 == 1


def make_iban_from_bban(country: str, bban: str) -> str:
    check = 98 - _iban_numeric(bban + country + "00") % 97
    return f"{country}{check:02d}{bban}"


_CN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def cn_id_check_char(first17: str) -> str:
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, _CN_ID_WEIGHTS, strict=True)) % 11]


def cn_id_valid(s: str) -> bool:
    return len(s) == 18 and s[:17].isdigit() and cn_id_check_char(s[:17]) == s[17].upper()


def ssn_valid(s: str) -> bool:
    parts = s.split("-")
    if len(parts) != 3 or [len(p) for p in parts] != [3, 2, 4] or not all(p.isdigit() for p in parts):
        return False
    area, group, serial = (int(p) for p in parts)
    return 0 < area < 900 and area != 666 and group > 0 and serial > 0


# ------------------------------------------------------------------ generators


def email(rng: random.Random, first: str, last: str) -> tuple[str, str]:
    f, la = _ascii(first), _ascii(last)
    r = rng.random()
    if r < 0.35:
        local = f"{f}.{la}"
    elif r < 0.6:
        local = f"{f}{la}{rng.randint(1, 99)}"
    elif r < 0.8:
        local = f"{rng.choice(_NICKS)}_{f}{rng.randint(1970, 2009)}"
    else:
        local = f"{f[0]}{la}"
    return f"{local}@{rng.choice(_EMAIL_DOMAINS)}", "email"


def phone(rng: random.Random) -> tuple[str, str]:
    c = rng.choice(("US", "US", "GB", "DE", "FR", "CN", "CN"))
    if c == "US":
        a = rng.choice(_US_AREA)
        ex = f"{rng.randint(2, 9)}{rng.randint(0, 9)}{rng.randint(2, 9)}"
        sub = _digits(rng, 4)
        v = rng.choice((f"+1 ({a}) {ex}-{sub}", f"({a}) {ex}-{sub}", f"{a}-{ex}-{sub}", f"+1 {a} {ex} {sub}"))
    elif c == "GB":
        if rng.random() < 0.6:
            m = f"7{rng.choice('4579')}{_digits(rng, 2)}"
            rest = _digits(rng, 6)
            v = rng.choice((f"+44 {m} {rest}", f"0{m} {rest}"))
        else:
            v = f"+44 20 7{_digits(rng, 3)} {_digits(rng, 4)}"
    elif c == "DE":
        if rng.random() < 0.6:
            pre = rng.choice(("151", "152", "160", "170", "171", "176"))
            rest = _digits(rng, 8 if pre.startswith("15") else 7)
            v = rng.choice((f"+49 {pre} {rest}", f"0{pre} {rest}"))
        else:
            v = f"+49 30 {rng.randint(2, 9)}{_digits(rng, 7)}"
    elif c == "FR":
        d = [f"{rng.randint(0, 99):02d}" for _ in range(4)]
        lead = rng.choice(("6", "7", "1"))
        v = rng.choice((f"+33 {lead} {' '.join(d)}", f"0{lead} {' '.join(d)}"))
    else:
        p = rng.choice(_CN_MOBILE)
        a, b = _digits(rng, 4), _digits(rng, 4)
        v = rng.choice((f"+86 {p} {a} {b}", f"{p}{a}{b}", f"{p}-{a}-{b}", f"+86{p}{a}{b}"))
    return v, c


def credit_card(rng: random.Random) -> tuple[str, str]:
    brand = rng.choice(("visa", "visa", "mastercard", "amex"))
    if brand == "visa":
        partial = "4" + _digits(rng, 14)
    elif brand == "mastercard":
        partial = str(rng.randint(51, 55)) + _digits(rng, 13)
    else:
        partial = rng.choice(("34", "37")) + _digits(rng, 12)
    num = partial + luhn_check_digit(partial)
    style = rng.random()
    if style < 0.35:
        return num, brand
    sep = " " if style < 0.75 else "-"
    if brand == "amex":
        return sep.join((num[:4], num[4:10], num[10:])), brand
    return sep.join(num[i : i + 4] for i in range(0, 16, 4)), brand


def ipv4(rng: random.Random) -> tuple[str, str]:
    if rng.random() < 0.2:
        return f"192.168.{rng.randint(0, 255)}.{rng.randint(2, 254)}", "private"
    first = rng.choice([x for x in range(11, 224) if x not in (127, 172, 192)])
    return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}", "public"


def ipv6(rng: random.Random) -> tuple[str, str]:
    groups = [rng.choice(("2001", "2a02", "2600", "2404", "240e", "2a00"))] + [
        f"{rng.randrange(0x10000):x}" for _ in range(7)
    ]
    if rng.random() < 0.5:
        # compressed form: a run of zero groups becomes `::`
        i = rng.randint(2, 5)
        return ":".join(groups[:i]) + "::" + ":".join(groups[i + 2 :]), "compressed"
    return ":".join(groups), "full"


def iban(rng: random.Random) -> tuple[str, str]:
    c = rng.choice(("DE", "GB", "FR", "NL"))
    if c == "DE":
        bban = _digits(rng, 18)
    elif c == "GB":
        bban = rng.choice(("NWBK", "BARC", "LOYD", "HBUK", "MIDL")) + _digits(rng, 14)
    elif c == "FR":
        bank, branch, acct = _digits(rng, 5), _digits(rng, 5), _digits(rng, 11)
        key = 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(acct)) % 97
        bban = f"{bank}{branch}{acct}{key:02d}"
    else:
        bban = rng.choice(("ABNA", "INGB", "RABO", "TRIO")) + _digits(rng, 10)
    s = make_iban_from_bban(c, bban)
    if rng.random() < 0.6:
        s = " ".join(s[i : i + 4] for i in range(0, len(s), 4))
    return s, c


def us_ssn(rng: random.Random) -> tuple[str, str]:
    area = rng.choice([x for x in range(1, 900) if x != 666])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}", "ssn"


def cn_resident_id(rng: random.Random) -> tuple[str, str]:
    region = rng.choice(_CN_REGIONS)[0]
    y, m, d = rng.randint(1962, 2006), rng.randint(1, 12), rng.randint(1, 28)
    first17 = f"{region}{y:04d}{m:02d}{d:02d}{rng.randint(0, 999):03d}"
    return first17 + cn_id_check_char(first17), "cn_id"


def street_address(rng: random.Random, zh: bool = False) -> tuple[str, str]:
    if zh:
        region = rng.choice(_CN_REGIONS)[1]
        return f"{region}{rng.choice(_CN_ROADS)}{rng.randint(1, 999)}号", "CN"
    r = rng.random()
    if r < 0.12:
        return rng.choice(_FAMOUS_ADDRESSES), "famous"
    if r < 0.72:
        s = f"{rng.randint(1, 9999)} {rng.choice(_STREET_NAMES)} {rng.choice(_STREET_SUFFIXES)}"
        if rng.random() < 0.4:
            s += f", {rng.choice(_ADDRESS_CITIES)}"
        return s, "US/UK"
    if r < 0.86:
        return f"{rng.choice(_DE_STREETS)} {rng.randint(1, 120)}", "DE"
    return f"{rng.randint(1, 120)} {rng.choice(_FR_STREETS)}", "FR"


def social_handle(rng: random.Random, first: str, last: str) -> tuple[str, str]:
    f, la = _ascii(first), _ascii(last)
    r = rng.random()
    if r < 0.4:
        h = f"{f}_{la}{rng.randint(1, 99)}"
    elif r < 0.7:
        h = f"{rng.choice(_NICKS)}.{f}"
    else:
        h = f"{f}{la}_{rng.choice(_NICKS)}"
    return "@" + h, "handle"


def platform_user_id(user_sid: str) -> tuple[str, str]:
    return PLATFORM_UID_PREFIX + user_sid[1:], "uid"


def validate(pii_type: str, value: str) -> bool:
    """Checksum / format check of a planted value (what the tests assert for every row)."""
    if pii_type == "credit_card":
        return luhn_valid(value)
    if pii_type == "iban":
        return iban_valid(value)
    if pii_type == "cn_resident_id":
        return cn_id_valid(value)
    if pii_type == "us_ssn":
        return ssn_valid(value)
    if pii_type == "email":
        return value.count("@") == 1 and "." in value.split("@")[1]
    if pii_type == "ipv4":
        parts = value.split(".")
        return len(parts) == 4 and all(p.isdigit() and 0 <= int(p) <= 255 for p in parts)
    if pii_type == "ipv6":
        import ipaddress

        try:
            ipaddress.IPv6Address(value)
        except ValueError:
            return False
        return True
    if pii_type == "social_handle":
        return value.startswith("@") and len(value) > 2
    if pii_type == "platform_user_id":
        return value.startswith(PLATFORM_UID_PREFIX) and value[len(PLATFORM_UID_PREFIX) :].isdigit()
    return bool(value)
