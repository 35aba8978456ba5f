"""The community-text recognizers one by one: what each masks (the whole value, with its type) and
what it leaves alone (labels, build numbers, official pages, track links, music numbers)."""

from __future__ import annotations

import pytest

from corpus.pii import PiiConfig, PiiMasker

CATALOG = ("Arctic Monkeys", "Phoebe Bridgers", "Blink-182", "Maroon 5", "The National", "22 Acacia Avenue")


@pytest.fixture(scope="module")
def masker() -> PiiMasker:
    return PiiMasker(PiiConfig(allow_list=CATALOG, official_names=(*CATALOG, "Sub Pop"))).setup()


def _spans(masker: PiiMasker, text: str) -> list[tuple[str, str]]:
    return [(text[s.start : s.end], s.label) for s in masker.analyze(text)]


def _untouched(masker: PiiMasker, text: str, kept: str) -> bool:
    s = text.index(kept)
    return not any(sp.start < s + len(kept) and sp.end > s for sp in masker.analyze(text))


def _check(masker: PiiMasker, text: str, value: str, label: str) -> None:
    assert (value, label) in _spans(masker, text), _spans(masker, text)


# ------------------------------------------------------------------ profile URLs


@pytest.mark.parametrize(
    "text, value",
    [
        ("my insta is instagram.com/lou.plays.drums", "instagram.com/lou.plays.drums"),
        ("covers at https://www.youtube.com/@RoxyKeysMusic!", "https://www.youtube.com/@RoxyKeysMusic"),
        ("old channel youtube.com/channel/UCa1b2c3d4e5f6g7h8i9j0kL", "youtube.com/channel/UCa1b2c3d4e5f6g7h8i9j0kL"),
        ("beats: soundcloud.com/kid-ferro/late-night-demo (unreleased)", "soundcloud.com/kid-ferro/late-night-demo"),
        ("follow x.com/ferro_beats for drops", "x.com/ferro_beats"),
        ("tiktok.com/@drum.girl.dee has the clip", "tiktok.com/@drum.girl.dee"),
        ("my last.fm: last.fm/user/NightShiftNed", "last.fm/user/NightShiftNed"),
        ("open.spotify.com/user/9k2xq7mbl1 is me", "open.spotify.com/user/9k2xq7mbl1"),
        ("我的微博 weibo.com/u/7712093344 欢迎互关", "weibo.com/u/7712093344"),
        ("B站 space.bilibili.com/9981234?spm_id_from=333.1 有完整版", "space.bilibili.com/9981234?spm_id_from=333.1"),
        ("主页 douban.com/people/tingge_88/ 有乐评", "douban.com/people/tingge_88/"),
        ("zines on lofi-lucy.tumblr.com and stems on patreon.com/lofilucy", "lofi-lucy.tumblr.com"),
        ("sold via ebay.com/usr/crate_king_71, fast shipping", "ebay.com/usr/crate_king_71"),
        ("photos on my website marlowesnaps.com/gigs", "marlowesnaps.com/gigs"),
    ],
)
def test_profile_urls_are_masked_whole(masker: PiiMasker, text: str, value: str) -> None:
    _check(masker, text, value, "PROFILE_URL")


@pytest.mark.parametrize(
    "text, kept",
    [
        ("the official page is instagram.com/arcticmonkeys", "instagram.com/arcticmonkeys"),
        ("tickets: arcticmonkeys.com/tour", "arcticmonkeys.com/tour"),  # a site, no "my site" before it
        ("buy it at phoebebridgers.bandcamp.com on Friday", "phoebebridgers.bandcamp.com"),
        ("their instagram is instagram.com/thenational", "instagram.com/thenational"),  # "The National"
        ("label site: subpop.com", "subpop.com"),
        ("the band's official instagram: instagram.com/tinycastlesband", "instagram.com/tinycastlesband"),
        ("周杰伦官方微博 weibo.com/jaychouofficial 发了新歌", "weibo.com/jaychouofficial"),
        ("watch youtube.com/watch?v=a1B2c3D4e5F and youtu.be/a1B2c3D4e5F", "youtube.com/watch?v=a1B2c3D4e5F"),
        ("stream open.spotify.com/track/1a2B3c4D5e6F7g8H9i0JkL now", "open.spotify.com/track/1a2B3c4D5e6F7g8H9i0JkL"),
        ("MV: www.bilibili.com/video/BV1Ab411c7XY", "www.bilibili.com/video/BV1Ab411c7XY"),
        ("mail me at dee.drums@gmail.com", "gmail.com"),  # the email is masked, as an email
    ],
)
def test_official_pages_and_content_links_stay(masker: PiiMasker, text: str, kept: str) -> None:
    if kept == "gmail.com":
        assert _spans(masker, text) == [("dee.drums@gmail.com", "EMAIL")]
        return
    assert _untouched(masker, text, kept), _spans(masker, text)


def test_fan_page_named_after_an_artist_is_still_masked(masker: PiiMasker) -> None:
    text = "my fan page instagram.com/arcticmonkeys.fans.berlin, follow!"
    _check(masker, text, "instagram.com/arcticmonkeys.fans.berlin", "PROFILE_URL")


def test_official_names_need_not_be_in_the_allow_list() -> None:
    """The refine stage passes every artist as an official name, only digit-bearing names as allow-list."""
    m = PiiMasker(PiiConfig(official_names=("Wet Leg",))).setup()
    assert m.analyze("see instagram.com/wetleg for dates") == []
    assert [s.label for s in m.analyze("see instagram.com/wetlegfan_ana for pics")] == ["PROFILE_URL"]


# ------------------------------------------------------------------ ids after label words


@pytest.mark.parametrize(
    "text, value, label",
    [
        ("收周边，QQ 2718281828 私聊", "2718281828", "QQ_NUMBER"),
        ("QQ号码：31415926，备注五月天", "31415926", "QQ_NUMBER"),
        ("联系扣扣27182818", "27182818", "QQ_NUMBER"),
        ("add my qq: 100200300 if you're in Shanghai", "100200300", "QQ_NUMBER"),
        ("微信 lemon_tree_07 拼车", "lemon_tree_07", "WECHAT_ID"),
        ("wechat: xiaomeng_music", "xiaomeng_music", "WECHAT_ID"),
        ("加V：tickets-sh-01", "tickets-sh-01", "WECHAT_ID"),
        ("vx号 yuanyuan2023 备注来意", "yuanyuan2023", "WECHAT_ID"),
        ("my user id is 60318842", "60318842", "PLATFORM_USER_ID"),
        ("UID：1884203", "1884203", "PLATFORM_USER_ID"),
        ("friend me, Steam ID 76561198111222333", "76561198111222333", "PLATFORM_USER_ID"),
        ("my discord id: 998877665544332211", "998877665544332211", "PLATFORM_USER_ID"),
        ("discord: lofi.lu#2049", "lofi.lu#2049", "PLATFORM_USER_ID"),
        ("快手号：ks_guitar_ming 每晚直播", "ks_guitar_ming", "PLATFORM_USER_ID"),
        ("username: moonpie_88 on the forum", "moonpie_88", "PLATFORM_USER_ID"),
        ("snapchat is dee.drums.22", "dee.drums.22", "SOCIAL_HANDLE"),
        ("kik: beat_maker_ron", "beat_maker_ron", "SOCIAL_HANDLE"),
        ("I'm on discord as synth_wizard_99", "synth_wizard_99", "SOCIAL_HANDLE"),
        ("venmo @Jo-Ann-Marsh-5 for the tickets", "@Jo-Ann-Marsh-5", "SOCIAL_HANDLE"),
        ("DM @lou.plays.drums on ig", "@lou.plays.drums", "SOCIAL_HANDLE"),
        ("@夜猫子听歌 你的票到了", "@夜猫子听歌", "SOCIAL_HANDLE"),
        ("ask u/vinyl_hunter_22 about it", "u/vinyl_hunter_22", "SOCIAL_HANDLE"),
        ("cashapp $DeeDrums22 for the merch", "$DeeDrums22", "SOCIAL_HANDLE"),
    ],
)
def test_ids_after_label_words_are_masked_and_labels_stay(masker: PiiMasker, text: str, value: str, label: str) -> None:
    _check(masker, text, value, label)


@pytest.mark.parametrize(
    "text, kept",
    [
        ("QQ音乐 2024 年度歌单，听了 12345 分钟", "12345"),
        ("QQ音乐播放量 1200万", "1200"),
        ("my order id is 88234019, still no tickets", "88234019"),
        ("ticket id: 55512345 was refunded", "55512345"),
        ("订单号：20240520123 已发货", "20240520123"),
        ("my ig is down again", "down"),
        ("YouTube videos. It receives 3 million views", "videos"),
        ("another Instagram third-party app", "third-party"),
        ("wechat group chat is full", "group"),
        ("send $50 to the band", "$50"),
        ("Blink-182 and Maroon 5 at 7:30, row 22, $45", "Blink-182"),
        ("ship to PO Box 4417, Boise, ID 83704 please", "ID"),  # Idaho, inside the masked address
    ],
)
def test_label_look_alikes_stay(masker: PiiMasker, text: str, kept: str) -> None:
    if kept == "ID":
        assert _spans(masker, text) == [("PO Box 4417, Boise, ID 83704", "STREET_ADDRESS")]
        return
    assert _untouched(masker, text, kept), _spans(masker, text)


# ------------------------------------------------------------------ addresses


@pytest.mark.parametrize(
    "text, value",
    [
        ("mail it to 8810 Cedar Springs Rd, Apt 12B, Dallas, TX 75219 thanks", "8810 Cedar Springs Rd, Apt 12B, Dallas, TX 75219"),
        ("I'm at Flat 3, 41 Pembroke Road, Bristol BS8 3BA", "Flat 3, 41 Pembroke Road, Bristol BS8 3BA"),
        ("send to Suite 400, 120 King St W, Toronto, ON M5H 1J9", "Suite 400, 120 King St W, Toronto, ON M5H 1J9"),
        ("PO Box 772, Missoula, MT 59806", "PO Box 772, Missoula, MT 59806"),
        ("envoyez au 27 bis rue du Faubourg Saint-Antoine, 75011 Paris", "27 bis rue du Faubourg Saint-Antoine, 75011 Paris"),
        ("chez moi : 1200, boulevard René-Lévesque Est, app. 8, Montréal (Québec) H2L 2M4",
         "1200, boulevard René-Lévesque Est, app. 8, Montréal (Québec) H2L 2M4"),
        ("bitte an Bergmannstraße 14a, 10961 Berlin", "Bergmannstraße 14a, 10961 Berlin"),
        ("piso en Calle de Toledo 88, 3º B, 28005 Madrid", "Calle de Toledo 88, 3º B, 28005 Madrid"),
        ("please ship to 14 maple st apt 3, denver co 80203", "14 maple st apt 3, denver co 80203"),
        ("寄到四川省成都市锦江区春熙路99号时代广场A座1502室，谢谢", "四川省成都市锦江区春熙路99号时代广场A座1502室"),
        ("收货地址：上海市闵行区七莘路1885弄3号1201", "上海市闵行区七莘路1885弄3号1201"),
    ],
)
def test_addresses_are_masked_whole(masker: PiiMasker, text: str, value: str) -> None:
    _check(masker, text, value, "STREET_ADDRESS")


@pytest.mark.parametrize(
    "text, kept",
    [
        ("收货地址：上海市闵行区七莘路1885弄3号", "收货地址："),
        ("地址是广州市越秀区北京路200号", "地址是"),
        ("寄到杭州市上城区延安路100号", "寄到"),
        ("坐地铁2号线到3号门，排在第5排", "2号线"),
        ("新房434-450平米，霄云路8号", "434-450平米"),
        ("I learned 22 Acacia Avenue on bass", "22 Acacia Avenue"),
        ("the Top 40 Hit Parade in 1985", "40 Hit Parade"),
        ("we drove 300 miles down the road", "300 miles down the road"),
        ("Section 101, Row 1, Gate C", "101"),
    ],
)
def test_address_look_alikes_and_labels_stay(masker: PiiMasker, text: str, kept: str) -> None:
    assert _untouched(masker, text, kept), _spans(masker, text)


# ------------------------------------------------------------------ versions, IPs, emails


@pytest.mark.parametrize(
    "text",
    [
        "Build 10.4.1.203 fixed the crash",
        "firmware 2.1.0.5 on the looper",
        "固件 3.10.2.8 之后有杂音",
        "nightly v1.12.4.3 is out",
        "after update 192.4.1.8 the EQ resets",
        "my library vanished after 7.0.2.15, help",
        "version 4.4.0.117 of the app",
    ],
)
def test_build_numbers_are_not_ips(masker: PiiMasker, text: str) -> None:
    assert masker.analyze(text) == []


@pytest.mark.parametrize(
    "text, value",
    [
        ("my IP is 10.0.0.12 and the stream drops", "10.0.0.12"),
        ("banned ip 7.0.2.15 again?", "7.0.2.15"),
        ("server 203.0.113.9 after the version 2 update", "203.0.113.9"),
        ("我的IP是183.15.96.201", "183.15.96.201"),
    ],
)
def test_ips_are_still_masked(masker: PiiMasker, text: str, value: str) -> None:
    _check(masker, text, value, "IPV4")


@pytest.mark.parametrize(
    "text, value",
    [
        ("email ana.lopez at gmail dot com", "ana.lopez at gmail dot com"),
        ("contact: ana.lopez [at] proton [dot] me", "ana.lopez [at] proton [dot] me"),
        ("write to ana(at)band-mail.org", "ana(at)band-mail.org"),
    ],
)
def test_obfuscated_emails(masker: PiiMasker, text: str, value: str) -> None:
    _check(masker, text, value, "EMAIL")


def test_meeting_at_a_site_is_not_an_email(masker: PiiMasker) -> None:
    assert masker.analyze("tickets at ticketmaster dot com or at the door") == []


def test_new_types_are_on_by_default_and_person_is_not() -> None:
    entities = PiiConfig().entities
    assert {"PROFILE_URL", "WECHAT_ID", "QQ_NUMBER", "PLATFORM_USER_ID", "STREET_ADDRESS"} <= set(entities)
    assert "PERSON" not in entities
