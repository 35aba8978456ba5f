"""The one definition of every PII recognizer: pattern(s), validator, score, context words, trigger.

Both detection paths read these specs: the fast path (`corpus.pii.masker`) compiles the patterns
with `re` and calls the validators directly; the Presidio path (`corpus.pii.presidio_engine`) wraps
each spec in a `PatternRecognizer`. Patterns use explicit ASCII boundaries instead of `\\b`, because
CJK characters count as word characters and PII is often glued to Chinese text (`手机号13812345678`).
Values that only context makes PII (a QQ number, a WeChat id, a bare user id) are matched after their
label words with fixed-width lookbehinds (`after_label`), so the span is the value and the label stays.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable, Iterable
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
    "PROFILE_URL",
    "WECHAT_ID",
    "QQ_NUMBER",
    "PERSON",
)

Validator = Callable[[str], bool | None]


@dataclass(frozen=True)
class RecognizerSpec:
    """A pattern recognizer: regexes (inline flags only), an optional validator, a base score.

    `validator(match) -> True` raises the score to 1.0, `False` drops the match, `None` keeps the base
    score. `trigger` is a cheap substring test: if none of its strings occur in the text, the
    recognizer cannot match and is skipped (the prefilter of the fast path); `trigger_lower` is the
    same test on the lower-cased text. `suppress` and `keep_official` are decisions taken in the
    shared finalisation, so both detection paths apply them.
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
    # Speed only: the gate is written in lower case and runs on the lower-cased text (about twice as
    # fast as an IGNORECASE scan; offsets are the same whenever lower-casing keeps the length).
    gate_lower: bool = False
    trigger_lower: tuple[str, ...] = ()
    # A regex searched in the text just before a match (it should end with `\\Z`): a hit drops the
    # match. Build numbers after "version" are not IPs; a page called "official" is not a person's.
    suppress: str | None = None
    # Drop the match when its account part (instagram.com/<account>, <account>.bandcamp.com, a
    # site's domain) is the slug of an official name (`PiiConfig.official_names` and the allow-list).
    keep_official: bool = False


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


# ------------------------------------------------------------------ pattern pieces

_NB = r"(?<![A-Za-z0-9])"  # ASCII-only left boundary (CJK text around PII is common)
_NA = r"(?![A-Za-z0-9])"


def trie_regex(strings: Iterable[str]) -> str:
    """An alternation of `strings` as a prefix tree ("ab|ac" -> "a(?:b|c)"): a failing position costs one
    character test instead of one per string. Equal-length strings keep it fixed-width."""
    trie: dict[str, dict] = {}
    for st in strings:
        node = trie
        for ch in st:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, dict]) -> str:
        alts = ["" if ch == "" else re.escape(ch) + emit(child) for ch, child in sorted(node.items())]
        if len(alts) == 1:
            return alts[0]
        optional = "" in alts
        body = "(?:" + "|".join(a for a in alts if a) + ")"
        return body + "?" if optional else body

    return emit(trie)


def after_label(labels: Iterable[str], seps: Iterable[str]) -> str:
    """A zero-width test that holds right after one of `labels` followed by one of `seps`.

    Labels match case-insensitively and not glued to a preceding ASCII letter ("qq" but not "faqq").
    `re` needs fixed-width lookbehinds, so the label + separator strings are grouped by length, one
    lookbehind (a prefix tree) per length, behind a test of their last two characters; both `re` and
    Presidio's `regex` accept the result and reject most positions at that first test.
    """
    by_len: dict[int, set[str]] = {}
    for lab in labels:
        for sep in seps:
            st = (lab + sep).lower()
            by_len.setdefault(len(st), set()).add(st)
    last2 = {st[-2:] for strs in by_len.values() for st in strs}
    groups = [f"(?<=(?<![A-Za-z]){trie_regex(strs)})" for _, strs in sorted(by_len.items())]
    return "(?i:(?<=" + trie_regex(last2) + ")(?:" + "|".join(groups) + "))"


def label_gate(labels: Iterable[str]) -> str:
    """A lower-case gate (`gate_lower=True`) that finds the label words themselves, as words ("ig" but
    not "big" or "right"), as one prefix tree."""
    labels = sorted({lab.lower() for lab in labels})
    ascii_end = [lab for lab in labels if lab[-1].isascii()]
    cjk_end = [lab for lab in labels if not lab[-1].isascii()]
    alts = ([trie_regex(ascii_end) + "(?![a-z])"] if ascii_end else []) + ([trie_regex(cjk_end)] if cjk_end else [])
    return "(?<![a-z])(?:" + "|".join(alts) + ")"


def ends_with(words: Iterable[str], tail: str) -> str:
    """A test, placed after `tail` (a fixed-width regex), that the text before it ends with one of
    `words` (case-insensitive): fixed-width lookbehinds grouped by length."""
    by_len: dict[int, set[str]] = {}
    for w in words:
        by_len.setdefault(len(w), set()).add(w.lower())
    return "(?i:" + "|".join(f"(?<={trie_regex(ws)}{tail})" for _, ws in sorted(by_len.items())) + ")"


def lowered(words: Iterable[str]) -> tuple[str, ...]:
    """Trigger strings for a recognizer that only counts with a context word (its score is below the
    threshold without one): if none of its context words occurs, none of its matches survives."""
    return tuple(sorted({w.lower() for w in words}))


def _glued(labels: Iterable[str]) -> tuple[str, ...]:
    """Labels ending in a CJK character: a value may follow them with no space (微信abc_123)."""
    return tuple(lab for lab in labels if not lab[-1].isascii())


# Between a label and its value. A colon (or 是) says "the value follows", so any value shape is
# accepted; after a space or "is" the value must look like an id: a digit or "_" (handles: or an
# inner "."), so "my ig is down" or "YouTube videos." stay.
_SEP_STRONG = (":", ": ", "：", "： ", " :", " : ", " ：", " ： ", "是", "是：", "是:", "是 ", " - ", " – ", " — ", "为", "为：")
_SEP_WEAK = (" ", "  ", " is ", " is: ", " is:", " was ", " as ", " = ")

_QQ_LABELS = ("qq", "qq号", "qq号码", "qq id", "qq no", "qq no.", "扣扣", "扣扣号", "企鹅", "企鹅号", "q号")
_WECHAT_LABELS = (
    "微信", "微信号", "微信id", "威信", "薇信", "徽信", "v信", "wechat", "wechat id", "weixin", "vx", "vx号",
    "wx", "wx号", "加v", "加微",
)
_USER_ID_LABELS = (
    "id", "uid", "userid", "steamid", "id号", "账号", "帐号", "用户名", "username", "user name", "抖音号",
    "快手号", "小红书号", "小红书", "网易云", "酷狗号",
)
_HANDLE_LABELS = (
    "ig", "insta", "instagram", "tiktok", "tik tok", "twitter", "snap", "snapchat", "sc", "soundcloud", "kik",
    "discord", "telegram", "tg", "threads", "twitch", "venmo", "cashapp", "cash app", "skype", "reddit",
    "bluesky", "bsky", "mastodon", "youtube", "yt", "抖音", "快手", "微博", "b站",
)
_HANDLE_CONTEXT = (
    "discord", "insta", "instagram", "ig", "snapchat", "snap", "kik", "tiktok", "twitter", "telegram", "twitch",
    "username", "user name", "handle", "add me", "dm me", "message me", "find me", "follow me", "hit me up",
    "微信", "抖音", "用户名", "账号", "加我",
)
# A value read after a label starts a token (tested first: it rejects most positions of a scan at once)
_VALUE_START = r"(?<![A-Za-z0-9_.\-])"
# The recognizers that read a value after a label word share one gate: one scan of the text serves all.
_LABEL_GATE = label_gate((*_QQ_LABELS, *_WECHAT_LABELS, *_USER_ID_LABELS, "discord", *_HANDLE_LABELS))
# "order id 12345678" is not a person's id
_NOT_A_USER = (
    r",\s?[A-Z][A-Za-z.'’ \-]{1,30}, ID \Z"  # "Boise, ID 83704": Idaho and its ZIP code
    r"|(?i:(?:(?<![A-Za-z])(?:order|ticket|transaction|booking|tracking|invoice|receipt|confirmation|reference|"
    r"product|item|video|song|track|playlist|album|device|session|event)s?[ _\-]?|订单|票|歌单|视频|商品|设备|交易|快递|物流)"
    r"(?:id|no\.?|number|#|号|编号)?[^\n.!?。！？,，;；]{0,6}\Z)"
)

_URL_START = r"(?<![A-Za-z0-9.\-/@_])(?i:https?://)?(?i:(?:www|m|mobile|web)\.)?"
_USER = r"[A-Za-z0-9_](?:[A-Za-z0-9_.\-]{0,62}[A-Za-z0-9_])?"
_URL_TAIL = r"(?:[/?#](?:[A-Za-z0-9_.~%+=&#/:@!\-]{0,118}[A-Za-z0-9_~%+=&#/\-])?)?"


def _not(words: str) -> str:
    """The path segment that follows is none of the space-separated `words` (a site's own pages)."""
    return r"(?!(?i:" + "|".join(re.escape(w) for w in words.split()) + r")(?![A-Za-z0-9_.\-]))"


# (host, path shape of a user's page). Hosts are case-insensitive; paths name the user.
_PROFILE_PATHS: tuple[tuple[str, str], ...] = (
    (r"instagr(?:am\.com|\.am)", _not("p reel reels explore tv accounts direct about legal stories") + _USER),
    (
        r"(?:twitter|x)\.com",
        _not(
            "i home search hashtag intent share explore settings messages "
            "notifications login signup tos privacy"
        ) + _USER,
    ),
    (
        r"(?:facebook|fb)\.com",
        r"(?:profile\.php\?id=[0-9]+|" + _not(
            "events groups pages watch share sharer sharer.php photo photo.php "
            "story.php home home.php login.php notes hashtag marketplace login help "
            "policies gaming reel permalink.php business ads"
        ) + _USER + ")",
    ),
    (r"tiktok\.com", "@" + _USER),
    (r"threads\.(?:net|com)", "@" + _USER),
    (r"youtube\.com", r"(?:@" + _USER + r"|(?i:channel|c|user)/[A-Za-z0-9_\-]+)"),
    (
        r"soundcloud\.com",
        _not(
            "discover search stream you charts pages tags stations upload settings "
            "messages notifications terms-of-use jobs mobile pro imprint people "
            "popular"
        ) + _USER,
    ),
    (r"mixcloud\.com", _not("discover upload select live categories search") + _USER),
    (
        r"twitch\.tv",
        _not(
            "directory videos p downloads jobs settings search subscriptions "
            "inventory wallet turbo"
        ) + _USER,
    ),
    (r"patreon\.com", r"(?:c/)?" + _not("posts login signup explore search home messages settings") + _USER),
    (r"ko-fi\.com", _not("s post explore manage home account album shop i") + _USER),
    (r"linktr\.ee", _USER),
    (
        r"github\.com",
        _not(
            "features orgs marketplace topics explore about pricing login settings "
            "sponsors collections trending enterprise security readme events join "
            "new notifications apps"
        ) + _USER,
    ),
    (r"t\.me", _not("joinchat s share addstickers addtheme c proxy socks iv") + _USER),
    (r"vk\.com", _not("feed im groups video audio music wall photo market search settings") + _USER),
    (r"pinterest\.com", _not("pin search ideas today explore business settings login") + _USER),
    (r"medium\.com", "@" + _USER),
    (r"linkedin\.com", "in/" + _USER),
    (r"snapchat\.com", "add/" + _USER),
    (r"bsky\.app", "profile/" + _USER),
    (r"reddit\.com", "(?:u|user)/" + _USER),
    (r"discogs\.com", "(?:user|seller)/" + _USER),
    (r"last\.fm", "user/" + _USER),
    (r"(?:music\.)?apple\.com", "profile/" + _USER),
    (r"open\.spotify\.com", "user/" + _USER),
    (r"rateyourmusic\.com", "~" + _USER),
    (
        r"bandcamp\.com",
        _not(
            "tag discover search about help artists login signup terms_of_use "
            "privacy guide fan_signup gift_cards daily"
        ) + _USER,
    ),
    (
        r"weibo\.(?:com|cn)",
        r"(?:u/[0-9]{5,12}|n/[^\s/?#，。！？]{1,30}|" + _not(
            "tv ttarticle status detail p search hot login signup a z newlogin set "
            "messages at comment like fav mygroups visitor sinaurl story"
        ) + _USER + ")",
    ),
    (r"ebay\.(?:com|co\.uk|de|fr|ca|com\.au)", "usr/" + _USER),
    (r"paypal\.me", _USER),
    (r"venmo\.com", "(?:u/)?" + _not("about legal signup login pay business") + _USER),
    (r"cash\.app", r"\$" + _USER),
    (r"depop\.com", _not("products search explore sell login signup about") + _USER),
    (r"vinted\.(?:com|co\.uk|fr|de|es|it|nl|pl)", "member/" + _USER),
    (r"poshmark\.com", "closet/" + _USER),
    (r"space\.bilibili\.com", "[0-9]{1,12}"),
    (r"music\.163\.com", r"(?:#/)?user/home\?id=[0-9]{1,12}"),
    (r"douyin\.com", "user/[A-Za-z0-9_\\-]{4,80}"),
    (r"xiaohongshu\.com", "user/profile/[0-9a-f]{16,32}"),
    (r"douban\.com", "people/[A-Za-z0-9_.\\-]{1,40}"),
    (r"zhihu\.com", "people/[A-Za-z0-9_.\\-]{1,60}"),
    (r"kuaishou\.com", "profile/[A-Za-z0-9_\\-]{4,40}"),
)
_BLOG_HOSTS = r"(?i:bandcamp|tumblr|wordpress|blogspot|substack|lofter|weebly|wixsite|carrd|neocities)\.(?i:com|co|org)"
_SITE_TLDS = (
    r"(?i:com|net|org|io|me|co|info|blog|art|studio|xyz|site|page|dev|music|band|fm|tv|live|online|space|world|"
    r"website|co\.uk|org\.uk|com\.cn|com\.au|cn|de|fr|uk|nl|ca|au|es|it|jp|se|no|ie|be|ch|at)"
)
_PERSONAL_SITE_CONTEXT = (
    "my site", "my website", "my web site", "my webpage", "my blog", "my homepage", "my home page", "my page",
    "my portfolio", "portfolio", "my own site", "his site", "her site", "his website", "her website",
    "his blog", "her blog", "my new site", "personal site", "personal website",
    "personal blog", "personal page", "个人网站", "个人主页", "个人博客", "我的网站", "我的博客", "我的主页", "博客",
)
_OFFICIAL = r"(?i:official|officiel|officielle|oficial|offiziell|官方|官网)[^\n.!?。！？,，;；]{0,40}\Z"
_URL_GATE = (  # a literal "." first: `re` jumps from dot to dot
    r"\.(?i:com|net|org|tv|ee|fm|me|app|am|cn|co|io|info|blog|art|studio|xyz|site|page|dev|music|band|live|online|"
    r"space|world|website|uk|de|fr|nl|ca|au|es|it|jp|se|no|ie|be|ch|at)(?![A-Za-z0-9])"
)

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_SMALL = r"(?:20|1[0-9]|[0-9])\."  # an octet of 0..20 and its dot
_IPV4 = r"(?<![0-9.])" + r"(?:" + _OCTET + r"\.){3}" + _OCTET + r"(?![0-9]|\.[0-9])"
# x.y.z.w with x, y, z all <= 20 is how build numbers look (10.4.1.203); as an IP it needs context
_VERSION_SHAPED = _SMALL * 3
_VERSION_BEFORE = (
    r"(?i)(?<![A-Za-z])(?:v|ver|version|versions|build|release|firmware|fw|update|updated|nightly|beta|patch|os|ios|"
    r"android|固件|版本|版本号|更新)(?![A-Za-z])(?:(?!ip)[^\n!?。！？,，;；]){0,24}\Z"
)

# Every address recognizer's gate hit lies within (80 before, 110 after) of a digit cluster; one
# shared anchor lets them share the merged regions.
_ADDRESS_ANCHOR = (80, 110, 1)

# Street addresses, English-speaking countries: [unit,] number [dir] Name Name Suffix [dir] [, unit] [, city ...]
_STREET_SUFFIX_WORDS = (
    "Street", "St", "Avenue", "Ave", "Road", "Rd", "Lane", "Ln", "Drive", "Dr", "Boulevard", "Blvd", "Way", "Court", "Ct",
    "Place", "Pl", "Terrace", "Ter", "Square", "Sq", "Crescent", "Cres", "Close", "Parkway", "Pkwy", "Highway", "Hwy",
    "Parade", "Grove", "Gardens", "Gdns", "Row", "Mews", "Hill", "Walk", "Circle", "Cir", "Trail", "Trl", "Alley",
    "Esplanade", "Quay", "Wharf", "Green", "Rise",
)
_STREET_SUFFIX = "(?:" + "|".join(_STREET_SUFFIX_WORDS) + ")"
_LOWER_SUFFIX_WORDS = (
    "street", "st", "avenue", "ave", "road", "rd", "lane", "ln", "drive", "dr", "boulevard", "blvd", "way", "court",
    "ct", "place", "pl", "close", "crescent", "terrace",
)
_LETTERS = r"A-Za-zÀ-ÖØ-öø-ÿ"
_CAP = r"[A-Z][" + _LETTERS + r"'’\-]{0,20}[a-zà-öø-ÿ]"
_ORDINAL = r"[1-9][0-9]{0,2}(?:st|nd|rd|th)"
_NAME_WORD = r"(?:" + _CAP + "|" + _ORDINAL + ")"
_DIR = r"(?:NE|NW|SE|SW|N|S|E|W|North|South|East|West)\.?"
_HOUSE_NUMBER = r"(?:[1-9][0-9]{0,4}[A-Za-z]?[\-/])?[1-9][0-9]{0,4}[A-Za-z]?"
_UNIT_WORD = r"(?i:apt|apartment|unit|suite|ste|flat|fl|floor|room|rm|loft|studio|bldg|building|lot)"
_UNIT = r"(?:" + _UNIT_WORD + r"\.? ?#? ?|#)(?:[0-9]{1,5}[A-Za-z]?|[A-Za-z][0-9]{0,4})(?![A-Za-z0-9])"
_CITY = (
    r"[A-Z][" + _LETTERS + r"'’.\-]{1,25}(?: (?:[A-Z][" + _LETTERS + r"'’.\-]{1,25}|upon|am|an der|sur|en|de|la|du|le|les|di|del)){0,3}"
)
_REGION = r"(?:[A-Z]{2,3}|\([A-Z][" + _LETTERS + r"]+(?:[ \-][A-Z][" + _LETTERS + r"]+)?\))"
_US_ZIP = r"[0-9]{5}(?:-[0-9]{4})?"
_CA_POST = r"[ABCEGHJ-NPRSTVXY][0-9][A-Z] ?[0-9][A-Z][0-9]"
_UK_POST = r"[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}"
_EIRCODE = r"(?:[AC-FHKNPRTV-Y][0-9]{2}|D6W) ?[0-9AC-FHKNPRTV-Y]{4}"
_TERM = r"(?=\s*(?:[.,;:!?)\]\n]|$)|\s+[a-z(])"
_ADDRESS_TAIL = (
    r"(?:, " + _CITY + r",? " + _REGION + r",? (?:" + _US_ZIP + "|" + _CA_POST + r"|[0-9]{4})(?![A-Za-z0-9])"
    r"|, " + _CITY + r",? " + _UK_POST + r"(?![A-Za-z0-9])"
    r"|, " + _CITY + r"(?: [0-9]{1,2}W?)?,? " + _EIRCODE + r"(?![A-Za-z0-9])"
    r"|, " + _UK_POST + r"(?![A-Za-z0-9])"
    r"|, " + _CITY + r", [A-Z]{2}(?![A-Za-z0-9])"
    r"|, " + _CITY + _TERM + r")?"
)
_EN_START = r"(?<![A-Za-z0-9#/\-])(?<!Top )(?<!Hot )(?<!No\. )(?<!Vol\. )"
_UNIT_WORDS = ("apt", "apartment", "unit", "suite", "ste", "flat", "fl", "floor", "room", "rm", "loft", "studio", "bldg",
               "building", "lot")
_EN_FIRST = r"(?=[0-9#]|(?i:" + trie_regex(_UNIT_WORDS) + "))"  # cheap first test for a whole-text scan
_UNIT_BEFORE = r"(?:(?:" + _UNIT + r"|[0-9]{1,3}/[0-9]{1,3}),? )?(?:" + _UNIT_WORD + r"\.? )?"
_STREET_EN = (
    _HOUSE_NUMBER + r" (?:" + _DIR + r" )?(?:(?:" + _NAME_WORD + r" ){1,3}" + _STREET_SUFFIX + r"(?![A-Za-z])\.?(?: "
    + _DIR + r"(?![A-Za-z]))?|Broadway(?![A-Za-z]))"
)
_STREET_EN_LOWER = (
    r"(?<![A-Za-z0-9#/\-])[1-9][0-9]{0,4}[a-z]? (?:[a-z]+ ){1,3}(?:" + "|".join(_LOWER_SUFFIX_WORDS) + r")\.?"
    r"(?:,? (?:apt|apartment|unit|suite|flat|#) ?[0-9]{1,5}[a-z]?)?(?![A-Za-z0-9])"
    # , brooklyn ny 11201 / , Chicago, IL 60610
    r"(?:,? [a-z]+(?: [a-z]+){0,2},? [a-z]{2},? [0-9]{5}(?:-[0-9]{4})?(?![0-9])"
    r"|, " + _CITY + r",? [A-Z]{2},? " + _US_ZIP + r"(?![0-9]))?"
)

_SHIPPING_CONTEXT = (
    "ship to", "ship it to", "send to", "send it to", "mail to", "mail it to", "post to", "deliver", "address",
    "live at", "living at", "located at", "pick up at", "pickup at", "pick-up at", "pick up from",
    "pickup from", "collect from", "collection from", "my place", "my house", "come to", "party at",
    "meet at", "staying at",
)

# French (France, Quebec): [appartement 4,] 12 [bis] rue de la Paix [Ouest] [, app. 3] [, 75002 Paris]
_FR_TYPES = (
    r"(?i:rue|avenue|av\.|boulevard|bd|bld|place|chemin|allée|impasse|quai|route|rte|cours|square|passage|rang|"
    r"côte|montée|promenade|voie|sentier|cité|faubourg|fbg)"
)
_FR_NAME = r"[A-ZÉÈÀÂÎÔ][" + _LETTERS + r"'’\-]*"
_FR_PARTICLE = r"(?:de la |de l'|de l’|des |du |de |d'|d’|la |le |les |l'|l’)"
_FR_UNIT = r"(?i:appartement|appt|app|apt|bât|bâtiment|bat|escalier|esc|résidence|porte|étage|bureau|suite|unité)\.? ?[0-9A-Z]{1,4}"
_STREET_FR = (
    r"(?<![A-Za-z0-9])(?=[1-9]|(?i:app|apt|bât|bat|esc|rés|porte|étage|bureau|suite|unité))(?:" + _FR_UNIT + r", )?"
    r"[1-9][0-9]{0,3}(?: ?(?:bis|ter|quater|[A-D])(?![A-Za-z]))?,? " + _FR_TYPES
    + r" " + _FR_PARTICLE + r"?" + _FR_NAME + r"(?: " + _FR_PARTICLE + r"?" + _FR_NAME + r"){0,3}"
    + r"(?: (?:Ouest|Est|Nord|Sud|O|E|N|S)(?![A-Za-z]))?(?:, " + _FR_UNIT + r")?"
    + r"(?:,? (?:[0-9]{5}|[0-9]{2} [0-9]{3}) " + _CITY + r"(?: CEDEX(?: [0-9]{1,2})?)?"
    + r"|, " + _CITY + r",? " + _REGION + r",? " + _CA_POST + r"(?![A-Za-z0-9])"
    + r"|, " + _CITY + _TERM + r")?"
)

# German and Dutch: Schillerstraße 12 / Karl-Marx-Allee 90 / Prinsengracht 263-2 [, 10115 Berlin]
_DE_SUFFIX_WORDS = (
    "straße", "strasse", "str.", "allee", "weg", "platz", "gasse", "ring", "damm", "ufer", "chaussee", "steig", "pfad",
    "markt", "straat", "gracht", "laan", "plein", "kade", "singel", "dijk", "steeg", "kanaal",
)
_DE_SUFFIX = "(?:" + "|".join(re.escape(w) for w in _DE_SUFFIX_WORDS) + ")"
_STREET_DE = (
    r"(?<![A-Za-zÄÖÜäöüß\-])(?:(?:[A-ZÄÖÜ][a-zäöüß]+-){1,3}(?:Straße|Strasse|Str\.|Allee|Weg|Platz|Gasse|Ring|Damm|Ufer)"
    r"|[A-ZÄÖÜ][a-zäöüß]+" + _DE_SUFFIX + r") [1-9][0-9]{0,3}[a-z]?(?:[\-/][0-9]{1,3}[a-z]?)?"
    r"(?:, ?(?:[0-9]{5}|[0-9]{4} ?[A-Z]{2}) " + _CITY + r")?(?![0-9A-Za-z])"
)

# Portuguese, Spanish, Italian, Catalan: street type first, number after the name
_STREET_IBERIAN = (
    r"(?<![A-Za-zÀ-ÿ])(?:Rua|Avenida|Av\.|Avda\.?|Travessa|Largo|Praça|Calle|C/|Paseo|Plaza|Carrer|Camino|Ronda|"
    r"Via|Viale|Piazza|Corso|Vicolo) (?:(?:da|do|dos|das|de|del|della|di|dei|la|las|los|el|d')\s?)?"
    + _FR_NAME + r"(?: (?:(?:da|do|dos|das|de|del|della|di|la)\s)?" + _FR_NAME + r"){0,3},? (?:n\.?º ?)?"
    r"[1-9][0-9]{0,3}[A-Za-z]?"
    r"(?:, ?[0-9]{1,2}[º°ª.]?(?: ?(?:[0-9]{1,2}[º°ª]?|Esq|Dto|Dir|Izq|Izda|Dcha|[A-Z])\.?)?"  # 2º Esq / 3º 2ª
    r"|, ?(?:piso|planta|int\.?|scala) ?[0-9A-Z]{1,3})?(?:, ?(?:[0-9]{4}-[0-9]{3}|[0-9]{5}) " + _CITY + r")?(?![0-9A-Za-z])"
)

# Chinese: [省][市][区/县][镇/街道] road + number + [building] [units...]. Place-name characters exclude
# the words that introduce an address (地址、寄到、住在、发货地址...), so a match never swallows them.
_CN_NOT_PLACE = "址的了是在到寄至往住于给送邮递件货收从去搬请我你他她们说写着或把被让要想就也还吧呢吗啊哦呀嘛啦这些点位坐标为加"


@functools.cache
def _cn_place_class() -> str:
    excluded = sorted(ord(c) for c in set(_CN_NOT_PLACE))
    ranges, lo = [], 0x4E00
    for cp in excluded:
        if cp > lo:
            ranges.append((lo, cp - 1))
        lo = cp + 1
    ranges.append((lo, 0x9FFF))
    return "[" + "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in ranges) + "]"


def _street_cn() -> tuple[str, ...]:
    p = _cn_place_class()
    unit = (
        r"(?:[0-9]{1,5}|[A-Za-z][0-9]{0,4}|[一二三四五六七八九十]{1,3})(?:-[0-9]{1,5}){0,2}"
        r"(?:号楼|号院|号(?![线门厅馆机位台床票])|號|弄|栋|幢|座|单元|楼|层|室|户)"
    )
    # a bare room number only after a building / entrance / floor (2单元1402) or a lane's house
    # (1885弄3号1201), never "434-450平米"
    room = r"(?:(?<=单元|号楼)|(?<=[栋幢座楼层])|(?<=弄[0-9]号)|(?<=弄[0-9]{2}号)|(?<=弄[0-9]{3}号))[0-9]{2,5}(?![0-9\-])"
    more = r"(?: ?" + p + r"{0,12}? ?" + unit + r")*(?:" + room + r")?"
    admin = (
        r"(?:" + p + r"{2,3}(?:省|自治区))?(?:" + p + r"{2,4}市)?(?:" + p + r"{1,6}(?:区|县|旗))?(?:" + p + r"{1,6}(?:镇|乡|街道))?"
    )
    admin_required = (
        r"(?:" + p + r"{2,3}(?:省|自治区))?(?:" + p + r"{2,4}市(?:" + p + r"{1,6}(?:区|县|旗))?|" + p + r"{1,6}(?:区|县|旗))"
    )
    road = p + r"{1,8}(?:大道|大街|路|街|巷|胡同|道)(?:[东西南北中]段?|[一二三四五六七八九十]段)?"
    return (
        # 北京市朝阳区建国路88号3栋2单元501
        r"(?=[\u4e00-\u9fff])" + admin + r" ?" + road + r" ?[0-9]{1,5}(?:-[0-9]{1,5})?(?:号|號|弄)" + more,
        # 北京市朝阳区望京西园三区312号楼2单元1402 (an estate, no road: the district must be named)
        r"(?=[\u4e00-\u9fff])" + admin_required + r" ?" + p + r"{2,12}? ?[0-9]{1,5}(?:号楼|栋|幢|座|号院)" + more,
    )


# ------------------------------------------------------------------ specs


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
            name="EmailObfuscatedRecognizer",
            entity="EMAIL",
            # name [at] host [dot] com / name at gmail dot com (written to dodge scrapers)
            patterns=(
                r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}"
                r"(?: ?[\[({](?i:at)[\])}] ?[A-Za-z0-9\-]{1,63}|(?i: at )(?i:gmail|googlemail|yahoo|hotmail|outlook|live|msn|"
                r"icloud|me|aol|protonmail|proton|gmx|web|yandex|mail|qq|163|126|sina|foxmail|btinternet))"
                r"(?:(?: ?[\[({](?i:dot)[\])}] ?|(?i: dot )|\.)[A-Za-z0-9\-]{1,63})*"
                r"(?: ?[\[({](?i:dot)[\])}] ?|(?i: dot )|\.)(?i:com|net|org|edu|gov|io|co|me|de|fr|uk|cn|es|it|nl|ca|au|jp|ru)"
                r"(?![A-Za-z0-9])",
            ),
            score=0.85,
            # every match holds "at]" / "at)" / "at}" or " at <provider>"
            gate=r"at(?:[\])}]| (?:gmail|googlemail|yahoo|hotmail|outlook|live|msn|icloud|me|aol|proton|gmx|web|"
            r"yandex|mail|qq|163|126|sina|foxmail|btinternet))",
            gate_lower=True,
            window=(75, 60),
        ),
        RecognizerSpec(
            name="ProfileUrlRecognizer",
            entity="PROFILE_URL",
            # a user's page on a social, streaming or video site (instagram.com/<user>, space.bilibili.com/<id>)
            # or a blog on a hosting platform (<user>.tumblr.com); never a track, video or artist page
            patterns=(
                _URL_START + r"(?:" + "|".join(f"(?i:{host})/{path}" for host, path in _PROFILE_PATHS) + r")" + _URL_TAIL,
                _URL_START + r"(?!(?i:www|m|blog|help|daily|support|api|shop|store)\.)[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}"
                r"[A-Za-z0-9])?\." + _BLOG_HOSTS + r"(?![A-Za-z0-9.\-])" + _URL_TAIL,
            ),
            score=0.85,
            suppress=_OFFICIAL,
            keep_official=True,
            trigger=(".",),
            gate=_URL_GATE,
            window=(40, 230),
        ),
        RecognizerSpec(
            name="PersonalSiteRecognizer",
            entity="PROFILE_URL",
            # a bare domain is only personal when the writer says so ("my site", "个人网站")
            patterns=(
                _URL_START + r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.){1,3}" + _SITE_TLDS
                + r"(?![A-Za-z0-9\-]|\.[A-Za-z0-9])" + _URL_TAIL,
            ),
            score=0.3,
            context=_PERSONAL_SITE_CONTEXT,
            suppress=_OFFICIAL,
            keep_official=True,
            trigger=(".",),
            gate=_URL_GATE,
            window=(90, 140),
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
            name="UserIdAfterLabelRecognizer",
            entity="PLATFORM_USER_ID",
            # my id is 48213377 / UID：35184726 / Steam ID 7656... / 抖音号：dy_music_lily / my discord is 10293...
            patterns=(
                r"(?<![0-9])(?=[0-9])(?:" + after_label((*_USER_ID_LABELS, "discord"), (*_SEP_STRONG, *_SEP_WEAK, ""))
                + r")[0-9]{5,20}(?![A-Za-z0-9]|[.,:][0-9])",
                _VALUE_START + r"(?=[A-Za-z0-9])(?:" + after_label(_USER_ID_LABELS, _SEP_STRONG) + r")(?=[A-Za-z0-9_.\-]*[A-Za-z])"
                r"[A-Za-z0-9][A-Za-z0-9_.\-]{2,30}[A-Za-z0-9_](?![A-Za-z0-9_@/\-]|\.[A-Za-z0-9]|:/)",
                _VALUE_START + r"(?=[A-Za-z0-9.\-]*[0-9_])(?=[A-Za-z0-9_.\-]*[A-Za-z])(?:" + after_label(_USER_ID_LABELS, _SEP_WEAK) + "|"
                + after_label(_glued(_USER_ID_LABELS), ("",)) + r")[A-Za-z0-9][A-Za-z0-9_.\-]{2,30}[A-Za-z0-9_]"
                r"(?![A-Za-z0-9_@/\-]|\.[A-Za-z0-9]|:/)",
            ),
            score=0.85,
            suppress=_NOT_A_USER,
            gate=_LABEL_GATE,
            gate_lower=True,
            window=(0, 50),
        ),
        RecognizerSpec(
            name="DiscordTagRecognizer",
            entity="PLATFORM_USER_ID",
            patterns=(r"(?<![A-Za-z0-9_.#@])(?=[A-Za-z0-9_.]{0,32}[A-Za-z])[A-Za-z0-9_.]{2,32}#[0-9]{4}(?![0-9A-Za-z])",),
            score=0.7,
            trigger=("#",),
            needs_digit=True,
            gate="#[0-9]{4}",
            window=(34, 1),
            anchor=(1, 0, 4),
        ),
        RecognizerSpec(
            name="QqNumberRecognizer",
            entity="QQ_NUMBER",
            # QQ 583920174 / QQ号：1029384756 / 扣扣 88473920 / 联系qq3047581926 (never QQ音乐 or QQ群)
            patterns=(
                r"(?<![0-9])(?=[1-9])(?:" + after_label(_QQ_LABELS, (*_SEP_STRONG, *_SEP_WEAK, "")) + r")[1-9][0-9]{4,10}"
                r"(?![A-Za-z0-9]|[.,][0-9])",
            ),
            score=0.85,
            needs_digit=True,
            gate=_LABEL_GATE,
            gate_lower=True,
            window=(0, 40),
        ),
        RecognizerSpec(
            name="WeChatIdRecognizer",
            entity="WECHAT_ID",
            # WeChat ids: 6-20 characters, a letter first, then letters, digits, "_" or "-"
            patterns=(
                _VALUE_START + r"(?=[A-Za-z])(?:" + after_label(_WECHAT_LABELS, _SEP_STRONG) + r")[A-Za-z][A-Za-z0-9_\-]{5,19}(?![A-Za-z0-9_\-])",
                _VALUE_START + r"(?=[A-Za-z][A-Za-z0-9\-]*[0-9_])(?:" + after_label(_WECHAT_LABELS, _SEP_WEAK) + "|"
                + after_label(_glued(_WECHAT_LABELS), ("",)) + r")[A-Za-z][A-Za-z0-9_\-]{5,19}(?![A-Za-z0-9_\-])",
            ),
            score=0.85,
            gate=_LABEL_GATE,
            gate_lower=True,
            window=(0, 50),
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
            patterns=(r"(?!" + _VERSION_SHAPED + r")" + _IPV4,),
            score=0.6,
            validator=lambda s: None if validate_ipv4(s) else False,
            context=("ip", "server", "address"),
            suppress=_VERSION_BEFORE,
            trigger=(".",),
            needs_digit=True,
            gate=r"[0-9]\.[0-9]{1,3}\.[0-9]",
            window=(6, 10),
            anchor=(0, 0, 5),
        ),
        RecognizerSpec(
            name="IpV4VersionShapedRecognizer",
            entity="IPV4",
            # 10.4.1.203 is a build number unless the text says IP
            patterns=(r"(?=" + _VERSION_SHAPED + r")" + _IPV4,),
            score=0.3,
            validator=lambda s: None if validate_ipv4(s) else False,
            context=("ip", "ipv4", "ip address", "server", "服务器"),
            suppress=_VERSION_BEFORE,
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
            patterns=(
                # @jess.spins.vinyl / @Becca-Lynn-22 (hyphens and dots inside, not at the end)
                r"(?<![A-Za-z0-9._%+\-@/])@(?=[A-Za-z0-9_.\-]*[A-Za-z_])[A-Za-z0-9_](?:[A-Za-z0-9_.\-]{0,28}[A-Za-z0-9_])?"
                r"(?![A-Za-z0-9_@\-]|\.[A-Za-z0-9_])",
                # @小鱼爱听歌 (Weibo-style names end at a space or punctuation)
                r"(?<![A-Za-z0-9._%+\-@/])@(?=[A-Za-z0-9_\-]*[\u4e00-\u9fff])[\u4e00-\u9fffA-Za-z0-9_\-]{1,30}"
                r"(?=[\s,，。！!？?：:;；、)）]|$)",
            ),
            score=0.6,
            context=("follow", "dm", "ig", "instagram", "twitter", "tiktok", "微博", "小红书"),
            trigger=("@",),
            gate="@",
            window=(2, 34),
        ),
        RecognizerSpec(
            name="HandleAfterPlatformRecognizer",
            entity="SOCIAL_HANDLE",
            # my snapchat is kayla.b.music / kik: bass_dropper_99 / on discord as crate_digger_77
            patterns=(
                _VALUE_START + r"(?=[A-Za-z0-9_])(?:" + after_label(_HANDLE_LABELS, _SEP_STRONG) + r")(?=[A-Za-z0-9_.\-]*[A-Za-z])"
                r"[A-Za-z0-9_][A-Za-z0-9_.\-]{1,28}[A-Za-z0-9_](?![A-Za-z0-9_@/\-]|\.[A-Za-z0-9]|:/)",
                _VALUE_START + r"(?=[A-Za-z0-9\-]*(?:[0-9_]|\.[A-Za-z0-9]))(?=[A-Za-z0-9_.\-]*[A-Za-z])(?:"
                + after_label(_HANDLE_LABELS, _SEP_WEAK) + "|"
                + after_label(_glued(_HANDLE_LABELS), ("",)) + r")[A-Za-z0-9_][A-Za-z0-9_.\-]{1,28}[A-Za-z0-9_]"
                r"(?![A-Za-z0-9_@/\-]|\.[A-Za-z0-9]|:/)",
            ),
            score=0.7,
            gate=_LABEL_GATE,
            gate_lower=True,
            window=(0, 45),
        ),
        RecognizerSpec(
            name="RedditUserRecognizer",
            entity="SOCIAL_HANDLE",
            patterns=(r"(?<![A-Za-z0-9/_\-])u/[A-Za-z0-9_\-]{3,20}(?![A-Za-z0-9_\-])",),
            score=0.85,
            trigger=("u/",),
            gate="u/",
            window=(1, 22),
        ),
        RecognizerSpec(
            name="CashtagRecognizer",
            entity="SOCIAL_HANDLE",
            patterns=(r"(?<![A-Za-z0-9$])\$[A-Za-z][A-Za-z0-9_]{2,19}(?![A-Za-z0-9_$])",),
            score=0.3,
            context=("cashapp", "cash app", "cashtag", "cash tag"),
            trigger=("$",),
            trigger_lower=lowered(("cashapp", "cash app", "cashtag", "cash tag")),
            gate=r"\$[A-Za-z]",
            window=(1, 21),
        ),
        RecognizerSpec(
            name="HandleShapedRecognizer",
            entity="SOCIAL_HANDLE",
            # a token with an underscore (pieceofme_41, midnight.rider_) near a platform word
            patterns=(
                r"(?<![A-Za-z0-9_.@#/\-])(?=[A-Za-z0-9.\-]*_)[A-Za-z0-9_][A-Za-z0-9_.\-]{1,30}[A-Za-z0-9_]"
                r"(?![A-Za-z0-9_@/\-]|\.[A-Za-z0-9_])",
            ),
            score=0.3,
            context=_HANDLE_CONTEXT,
            trigger_lower=lowered(_HANDLE_CONTEXT),
            trigger=("_",),
            gate="_",
            window=(32, 32),
        ),
        RecognizerSpec(
            name="StreetAddressEnRecognizer",
            entity="STREET_ADDRESS",
            # 221B Baker Street, London / Flat 2, 14 Wellington Road, Leeds LS6 2AB /
            # 1187 Alder Ave, Apt 3C, Oakland, CA 94610 / PO Box 4417, Boise, ID 83704
            patterns=(
                _EN_START + _EN_FIRST + _UNIT_BEFORE + _STREET_EN + r"(?:,? " + _UNIT + r")?" + _ADDRESS_TAIL,
                _EN_START + r"(?i:p\.? ?o\.? ?box|post office box) [0-9]{1,6}(?![0-9])" + _ADDRESS_TAIL,
            ),
            score=0.6,
            context=("ship", "send", "address", "live at", "party at"),
            needs_digit=True,
            # a literal space first: `re` jumps from space to space
            gate=r" (?:" + trie_regex((*_STREET_SUFFIX_WORDS, "Broadway")) + r"(?![a-z])|(?i:box) [0-9])",
            window=(110, 110),
            anchor=_ADDRESS_ANCHOR,
        ),
        RecognizerSpec(
            name="StreetAddressUsRecognizer",
            entity="STREET_ADDRESS",
            # 1021 W Fulton Market, Loft 3, Chicago, IL 60607: no street suffix, but city, state and ZIP
            patterns=(
                _EN_START + _EN_FIRST + _UNIT_BEFORE + _HOUSE_NUMBER + r" (?:" + _DIR + r" )?" + _NAME_WORD + r"(?: " + _NAME_WORD
                + r"){0,2}(?:,? " + _UNIT + r")?, " + _CITY + r",? [A-Z]{2},? (?:" + _US_ZIP + "|" + _CA_POST + r")(?![A-Za-z0-9])",
            ),
            score=0.6,
            needs_digit=True,
            # the ZIP / postcode's first digit, then the state or province before it
            gate=r"[0-9](?:(?<=[A-Z]{2} [0-9])|(?<=[A-Z]{2}, [0-9])|(?<=[A-Z]{2} [A-Z][0-9])|(?<=[A-Z]{2}, [A-Z][0-9]))",
            window=(130, 14),
            anchor=_ADDRESS_ANCHOR,
        ),
        RecognizerSpec(
            name="StreetAddressEnLowercaseRecognizer",
            entity="STREET_ADDRESS",
            # "ship it to 42 oak st apt 3": lower-case, so only with a shipping / living context
            patterns=(_STREET_EN_LOWER,),
            score=0.3,
            context=_SHIPPING_CONTEXT,
            needs_digit=True,
            gate=r" " + trie_regex(_LOWER_SUFFIX_WORDS) + r"(?![a-z])",
            window=(60, 60),
            anchor=_ADDRESS_ANCHOR,
        ),
        RecognizerSpec(
            name="StreetAddressDeRecognizer",
            entity="STREET_ADDRESS",
            # Hauptstraße 12 / Karl-Marx-Allee 90, 10243 Berlin / Prinsengracht 263-2, 1016 GV Amsterdam
            patterns=(_STREET_DE,),
            score=0.6,
            context=("adresse", "an", "schicken"),
            needs_digit=True,
            gate=r" [1-9]" + ends_with(_DE_SUFFIX_WORDS, " [1-9]"),
            window=(50, 50),
        ),
        RecognizerSpec(
            name="StreetAddressFrRecognizer",
            entity="STREET_ADDRESS",
            # 12 rue de la Paix / 3 bis avenue Jean Jaurès, 69007 Lyon / 4520, rue Saint-Denis, app. 3, Montréal (Québec) H2J 2L3
            patterns=(_STREET_FR,),
            score=0.6,
            context=("adresse", "envoyer", "envoyez"),
            needs_digit=True,
            gate=r"[0-9](?: ?(?:bis|ter|quater|[A-D]))?,? " + _FR_TYPES + " ",
            window=(25, 120),
            anchor=_ADDRESS_ANCHOR,
        ),
        RecognizerSpec(
            name="StreetAddressIberianRecognizer",
            entity="STREET_ADDRESS",
            # Rua da Rosa 45, 2º Esq, 1200-385 Lisboa / Calle Mayor 12, 28013 Madrid / Via Roma 5
            patterns=(_STREET_IBERIAN,),
            score=0.6,
            needs_digit=True,
            gate=r"(?:Rua|Avenida|Av\.|Avda|Travessa|Largo|Praça|Calle|C/|Paseo|Plaza|Carrer|Camino|Ronda|Via|Viale|Piazza|Corso|Vicolo) ",
            window=(2, 120),
            anchor=_ADDRESS_ANCHOR,
        ),
        RecognizerSpec(
            name="StreetAddressCnRecognizer",
            entity="STREET_ADDRESS",
            # 北京市朝阳区建国路88号 / 杭州市西湖区文三路478号华星时代广场B座1203室
            patterns=_street_cn(),
            score=0.6,
            context=("寄", "地址", "收货"),
            needs_digit=True,
            gate=r"[0-9](?:号|號|弄|栋|幢|座|单元|楼|层|室)",
            window=(55, 60),
            anchor=_ADDRESS_ANCHOR,
        ),
    )


# ------------------------------------------------------------------ official pages

_ACCOUNT_STRUCTURE = frozenset(
    "www m mobile web open music space store shop official tour u user users usr seller member closet people profile "
    "channel c in add n home id "
    "com net org tv ee fm me app am cn co io uk de fr info blog art studio xyz site page dev band live online world "
    "website au ca nl es it jp".split()
)
_PLATFORM_NAMES = frozenset(
    "instagram instagr twitter x facebook fb tiktok threads youtube soundcloud mixcloud twitch patreon ko-fi linktr "
    "github t vk pinterest medium linkedin snapchat bsky reddit discogs last apple spotify rateyourmusic bandcamp "
    "ebay paypal venmo cash depop vinted poshmark "
    "weibo bilibili 163 douyin xiaohongshu douban zhihu kuaishou tumblr wordpress blogspot substack lofter weebly "
    "wixsite carrd neocities".split()
)


def url_account(url: str) -> str:
    """The account part of a profile URL or a site: instagram.com/<account>, <account>.bandcamp.com,
    <account>.com. Scheme, platform names and structural path words (user/, channel/ ...) are skipped;
    a path segment is kept whole (instagram.com/wetleg.fanpage.uk is "wetleg.fanpage.uk", not "wetleg")."""
    s = re.sub(r"^(?i:https?://)", "", url)
    cut = next((i for i, ch in enumerate(s) if ch in "/?#"), len(s))
    tokens = s[:cut].split(".") + re.split(r"[/?#=&]+", s[cut:])
    for tok in tokens:
        t = tok.strip("@~$").lower()
        if t and t not in _ACCOUNT_STRUCTURE and t not in _PLATFORM_NAMES:
            return t
    return ""
