"""The one definition of every PII recognizer: pattern(s), validator, score, context words, trigger.

Both detection paths read these specs: the fast path (`corpus.pii.masker`) compiles the patterns
with `re` and calls the validators directly; the Presidio path (`corpus.pii.presidio_engine`) wraps
each spec in a `PatternRecognizer`. Patterns use explicit ASCII boundaries instead of `\\b`, because
CJK characters count as word characters and PII is often glued to Chinese text (`手机号13812345678`).
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field

import phonenumbers

ENTITY_TYPES: tuple[str, ...] = (
    "EMAIL",
    "PHONE",
    "CREDIT_CARD",
    "IPV4",
    "IPV6",
    "IBAN",
    "US_SSN",
    "CN_RESIDENT_ID",
    "STREET_ADDRESS",
    "SOCIAL_HANDLE",
    "PLATFORM_USER_ID",
    "PERSON",
)

Validator = Callable[[str], bool | None]


@dataclass(frozen=True)
class RecognizerSpec:
    """A pattern recognizer: regexes (inline flags only), an optional validator, a base score.

    `validator(match) -> True` raises the score to 1.0, `False` drops the match, `None` keeps the base
    score. `trigger` is a cheap substring test: if none of its strings occur in the text, the
    recognizer cannot match and is skipped (the prefilter of the fast path).
    """

    name: str
    entity: str
    patterns: tuple[str, ...]
    score: float
    validator: Validator | None = None
    context: tuple[str, ...] = ()
    trigger: tuple[str, ...] = field(default_factory=tuple)
    needs_digit: bool = False
    # Speed only (the Presidio path ignores it): a cheap regex that every match must contain; the
    # patterns then run only in windows of `window` = (chars before, chars after) around its hits.
    gate: str | None = None
    window: tuple[int, int] = (0, 0)
    # Speed only: every gate hit lies in [start - before, end + after) of a digit cluster (a run of
    # digits joined by single " ", ".", "-") of at least `min_len` characters; the gate then runs
    # only there instead of over the whole text. (before, after, min_len); None: gate scans the text.
    anchor: tuple[int, int, int] | None = None


# ------------------------------------------------------------------ validators


def _digits_of(s: str) -> str:
    return "".join(c for c in s if "0" <= c <= "9")


def luhn_ok(s: str) -> bool:
    digits = _digits_of(s)
    if not 13 <= len(digits) <= 19 or len(set(digits)) < 2:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def validate_credit_card(s: str) -> bool:
    seps = {c for c in s if c in " -"}
    if len(seps) > 1:  # mixed separators: a list of numbers, not a card
        return False
    return luhn_ok(s)


def validate_iban(s: str) -> bool:
    c = s.replace(" ", "").upper()
    if not 15 <= len(c) <= 34:
        return False
    try:
        n = int("".join(str(int(ch, 36)) for ch in c[4:] + c[:4]))
    except ValueError:
        return False
    return n % 97 == 1


def validate_ipv4(s: str) -> bool:
    try:
        ip = ipaddress.IPv4Address(s)
    except ValueError:
        return False
    return not (ip.is_unspecified or ip.is_loopback or s.startswith("0."))


def validate_ipv6(s: str) -> bool:
    if s.count(":") < 2 or sum(ch.isdigit() for ch in s) == 0:
        return False
    try:
        ipaddress.IPv6Address(s)
    except ValueError:
        return False
    return len([g for g in s.split(":") if g]) >= 3


def validate_us_ssn(s: str) -> bool:
    d = _digits_of(s)
    if len(d) != 9 or len(set(d)) == 1:
        return False
    area, group, serial = int(d[:3]), int(d[3:5]), int(d[5:])
    return 0 < area < 900 and area != 666 and group > 0 and serial > 0


_CN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def validate_cn_resident_id(s: str) -> bool:
    if len(s) != 18 or not s[:17].isascii() or not s[:17].isdigit():
        return False
    check = "10X98765432"[sum(int(c) * w for c, w in zip(s[:17], _CN_ID_WEIGHTS, strict=True)) % 11]
    return check == s[17].upper()


@functools.lru_cache(maxsize=8192)
def _phone_valid(s: str, regions: tuple[str | None, ...]) -> bool:
    for region in regions:
        try:
            num = phonenumbers.parse(s, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(num):
            return True
    return False


def validate_phone_international(s: str) -> bool:
    return _phone_valid(s, (None,))


def validate_phone_us(s: str) -> bool:
    return _phone_valid(s, ("US",))


def validate_phone_trunk(s: str) -> bool:
    # national numbers with a trunk 0 (UK, DE, FR, CN landline ...): the shape is checked by the regex
    return _phone_valid(s, ("GB", "DE", "FR", "CN"))


def validate_phone_cn_mobile(s: str) -> bool:
    return _phone_valid(s, ("CN",))


# ------------------------------------------------------------------ specs

_NB = r"(?<![A-Za-z0-9])"  # ASCII-only left boundary (CJK text around PII is common)
_NA = r"(?![A-Za-z0-9])"
_STREET_SUFFIX = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Court|Ct|Place|Pl|"
    r"Terrace|Square|Sq|Crescent|Close|Parkway|Pkwy|Highway|Hwy)"
)


def default_specs() -> tuple[RecognizerSpec, ...]:
    """All recognizers, in priority order (earlier wins ties in overlap resolution)."""
    return (
        RecognizerSpec(
            name="EmailRecognizer",
            entity="EMAIL",
            patterns=(
                r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@"
                r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9\-])",
            ),
            score=0.9,
            context=("email", "mail", "e-mail", "邮箱"),
            trigger=("@",),
            gate="@",
            window=(70, 260),
        ),
        RecognizerSpec(
            name="PlatformUserIdRecognizer",
            entity="PLATFORM_USER_ID",
            patterns=(r"(?i)" + _NB + r"uid:[0-9]{8}(?![0-9])",),
            score=0.9,
            gate="(?i)uid:",
            window=(2, 10),
            anchor=(4, 0, 8),
        ),
        RecognizerSpec(
            name="CnResidentIdRecognizer",
            entity="CN_RESIDENT_ID",
            patterns=(
                _NB + r"[1-9][0-9]{5}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
                r"[0-9]{3}[0-9Xx]" + _NA,
            ),
            score=0.3,
            validator=validate_cn_resident_id,
            context=("身份证", "id", "identity"),
            needs_digit=True,
            gate="[0-9]{17}",
            window=(2, 3),
            anchor=(0, 0, 17),
        ),
        RecognizerSpec(
            name="IbanRecognizer",
            entity="IBAN",
            patterns=(_NB + r"[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?" + _NA,),
            score=0.3,
            validator=validate_iban,
            context=("iban", "bank", "account", "transfer"),
            needs_digit=True,
            gate="[A-Z]{2}[0-9]{2}",
            window=(2, 45),
            anchor=(2, 0, 2),
        ),
        RecognizerSpec(
            name="CreditCardRecognizer",
            entity="CREDIT_CARD",
            patterns=(r"(?<![0-9\-])[2-6][0-9]{3}(?:[ \-]?[0-9]{2,7}){2,5}(?![0-9]|-[0-9])",),
            score=0.3,
            validator=validate_credit_card,
            context=("card", "credit", "visa", "mastercard", "amex", "信用卡"),
            needs_digit=True,
            gate=r"[0-9](?:[ \-]?[0-9]){12}",
            window=(2, 12),
            anchor=(0, 0, 13),
        ),
        RecognizerSpec(
            name="UsSsnRecognizer",
            entity="US_SSN",
            patterns=(r"(?<![0-9\-])[0-9]{3}-[0-9]{2}-[0-9]{4}(?![0-9]|-[0-9])",),
            score=0.5,
            validator=lambda s: None if validate_us_ssn(s) else False,
            context=("ssn", "social security"),
            needs_digit=True,
            gate="[0-9]{3}-[0-9]{2}-",
            window=(2, 7),
            anchor=(0, 1, 6),
        ),
        RecognizerSpec(
            name="IpV4Recognizer",
            entity="IPV4",
            patterns=(
                r"(?<![0-9.])(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}"
                r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(?![0-9]|\.[0-9])",
            ),
            score=0.6,
            validator=lambda s: None if validate_ipv4(s) else False,
            context=("ip", "server", "address"),
            trigger=(".",),
            needs_digit=True,
            gate=r"[0-9]\.[0-9]{1,3}\.[0-9]",
            window=(6, 10),
            anchor=(0, 0, 5),
        ),
        RecognizerSpec(
            name="IpV6Recognizer",
            entity="IPV6",
            patterns=(
                r"(?<![0-9A-Za-z:])(?=[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:)[0-9A-Fa-f:]{4,39}[0-9A-Fa-f:]"
                r"(?![0-9A-Za-z:])",
            ),
            score=0.3,
            validator=validate_ipv6,
            context=("ip", "ipv6", "server"),
            trigger=(":",),
            gate="::|:[0-9A-Fa-f]{1,4}:",
            window=(42, 42),
        ),
        RecognizerSpec(
            name="PhoneInternationalRecognizer",
            entity="PHONE",
            patterns=(r"(?<![A-Za-z0-9+])\+[1-9][0-9]{0,2}(?:[ .\-]?\(?[0-9]{1,5}\)?){2,6}(?![0-9])",),
            score=0.4,
            validator=validate_phone_international,
            context=("phone", "call", "text", "whatsapp", "tel", "手机", "电话"),
            trigger=("+",),
            needs_digit=True,
            gate=r"\+[1-9]",
            window=(2, 30),
        ),
        RecognizerSpec(
            name="PhoneUsRecognizer",
            entity="PHONE",
            patterns=(r"(?<![A-Za-z0-9+\-])(?:\([2-9][0-9]{2}\) ?|[2-9][0-9]{2}[\-. ])[2-9][0-9]{2}[\-. ][0-9]{4}(?![0-9]|-[0-9])",),
            score=0.4,
            validator=validate_phone_us,
            context=("phone", "call", "text", "whatsapp", "tel"),
            needs_digit=True,
            gate=r"[0-9]{3}[\-. ][0-9]{4}",
            window=(10, 3),
            anchor=(0, 0, 8),
        ),
        RecognizerSpec(
            name="PhoneTrunkRecognizer",
            entity="PHONE",
            patterns=(
                r"(?<![A-Za-z0-9+\-])(?![0-9]{3}-[0-9]{2}-[0-9]{4}(?![0-9]))0[1-9][0-9]{0,3}(?:[ \-][0-9]{2,8}){1,4}"
                r"(?![0-9]|-[0-9])",
                r"(?<![A-Za-z0-9+\-.:])0[1-9][0-9]{8,10}(?![0-9]|[.:\-][0-9])",
            ),
            score=0.4,
            validator=validate_phone_trunk,
            context=("phone", "call", "text", "whatsapp", "tel", "电话"),
            needs_digit=True,
            gate="0[1-9]",
            window=(2, 30),
        ),
        RecognizerSpec(
            name="PhoneCnMobileRecognizer",
            entity="PHONE",
            patterns=(r"(?<![A-Za-z0-9+\-])1[3-9][0-9](?:[0-9]{8}|[ \-][0-9]{4}[ \-][0-9]{4})(?![0-9]|-[0-9])",),
            score=0.4,
            validator=validate_phone_cn_mobile,
            context=("phone", "call", "手机", "电话", "联系"),
            needs_digit=True,
            gate="1[3-9][0-9]",
            window=(2, 14),
        ),
        RecognizerSpec(
            name="SocialHandleRecognizer",
            entity="SOCIAL_HANDLE",
            patterns=(r"(?<![A-Za-z0-9._%+\-@])@(?=[A-Za-z0-9_.]*[A-Za-z_])[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?(?![A-Za-z0-9_@]|\.[A-Za-z0-9_])",),
            score=0.6,
            context=("follow", "dm", "ig", "instagram", "twitter", "tiktok", "微博", "小红书"),
            trigger=("@",),
            gate="@",
            window=(2, 33),
        ),
        RecognizerSpec(
            name="StreetAddressEnRecognizer",
            entity="STREET_ADDRESS",
            # 221B Baker Street, London / 1600 Pennsylvania Ave NW
            patterns=(
                _NB + r"[1-9][0-9]{0,4}[A-Za-z]? (?:[A-Z][a-z]+ ){1,3}" + _STREET_SUFFIX
                + r"\.?(?: (?:NW|NE|SW|SE))?(?:, [A-Z][a-z]+(?: [A-Z][a-z]+)?)?(?![A-Za-z0-9])",
            ),
            score=0.6,
            context=("ship", "send", "address", "live at", "party at"),
            needs_digit=True,
            gate=r" " + _STREET_SUFFIX + r"(?![a-z])",
            window=(60, 40),
            anchor=(0, 80, 1),
        ),
        RecognizerSpec(
            name="StreetAddressDeRecognizer",
            entity="STREET_ADDRESS",
            # Hauptstraße 12 / Lindenallee 3a
            patterns=(
                r"(?<![A-Za-zÄÖÜäöüß])[A-ZÄÖÜ][a-zäöüß]+(?:straße|strasse|str\.|allee|weg|platz|gasse|ring|damm)"
                r" [1-9][0-9]{0,3}[a-z]?(?![0-9A-Za-z])",
            ),
            score=0.6,
            context=("adresse", "an", "schicken"),
            needs_digit=True,
            gate=r"(?:straße|strasse|str\.|allee|weg|platz|gasse|ring|damm) [1-9]",
            window=(40, 8),
            anchor=(12, 0, 1),
        ),
        RecognizerSpec(
            name="StreetAddressFrRecognizer",
            entity="STREET_ADDRESS",
            # 12 rue de la Paix / 5 avenue Victor Hugo
            patterns=(
                _NB + r"[1-9][0-9]{0,3}(?: bis| ter)?,? (?:rue|avenue|boulevard|bd|place|chemin|allée|impasse|quai)"
                r"(?: (?:de la|de l'|des|du|de|d'))? ?[A-ZÉÈ][A-Za-zÀ-ÿ'\-]+(?: [A-ZÉÈ][A-Za-zÀ-ÿ'\-]+)?",
            ),
            score=0.6,
            context=("adresse", "envoyer", "envoyez"),
            needs_digit=True,
            gate=r"[0-9],? (?:rue|avenue|boulevard|bd|place|chemin|allée|impasse|quai) ",
            window=(12, 60),
            anchor=(0, 16, 1),
        ),
        RecognizerSpec(
            name="StreetAddressCnRecognizer",
            entity="STREET_ADDRESS",
            # 北京市朝阳区建国路88号
            patterns=(
                r"(?:[\u4e00-\u9fff]{2,3}(?:省|自治区))?(?:[\u4e00-\u9fff]{2,4}市)?(?:[\u4e00-\u9fff]{1,4}(?:区|县))?"
                r"[\u4e00-\u9fff]{1,6}(?:路|街|大道|巷|弄)[0-9]{1,5}(?:号|號)",
            ),
            score=0.6,
            context=("寄", "地址", "收货"),
            trigger=("号", "號"),
            needs_digit=True,
            gate=r"(?:路|街|道|巷|弄)[0-9]{1,5}(?:号|號)",
            window=(30, 1),
            anchor=(1, 1, 1),
        ),
    )
