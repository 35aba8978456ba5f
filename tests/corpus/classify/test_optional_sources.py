"""Optional Chinese "other" sources (gettext catalogs, jieba vocabulary bags) and how the builder skips them.

No shared data needed: the builder runs on a stub reader (and no document sources), the catalogs and dictionary are written here.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from corpus.classify import dataset
from corpus.classify.dataset import BuildConfig, build_training_set
from corpus.classify.sources import (
    MUSIC,
    OTHER,
    Example,
    SourceUnavailable,
    read_zh_locale_messages,
    read_zh_vocab_bags,
)


def write_mo(path: Path, messages: dict[str, str]) -> None:
    """A minimal GNU .mo catalog (what msgfmt writes, without the hash table)."""
    items = sorted({"": "Content-Type: text/plain; charset=UTF-8\n", **messages}.items())
    ids = [k.encode() for k, _ in items]
    strs = [v.encode() for _, v in items]
    n = len(items)
    start = 7 * 4 + 16 * n
    blob, orig, trans = b"", [], []
    for table, data in ((orig, ids), (trans, strs)):
        for s in data:
            table.append((len(s), start + len(blob)))
            blob += s + b"\0"
    header = struct.pack("<7I", 0x950412DE, 0, n, 28, 28 + 8 * n, 0, start)
    body = b"".join(struct.pack("<2I", *t) for t in orig + trans)
    path.write_bytes(header + body + blob)


def _stub_reader(data: Path) -> Iterator[Example]:
    for i in range(40):
        yield Example("stub_music", MUSIC, "en", f"a song with guitar and drums number {i}")
        yield Example("stub_other", OTHER, "en", f"preheat the oven and bake the bread for {i} minutes")


@pytest.fixture
def stub_readers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dataset, "READERS", {"stub": _stub_reader})
    monkeypatch.setattr(dataset, "DOC_READERS", {})  # no whole-document sources: nothing read from shared/data


def test_builder_skips_missing_optional_sources(stub_readers: None, tmp_path: Path) -> None:
    cfg = BuildConfig(zh_locale_dir=str(tmp_path / "no_locale"), zh_vocab_dict=str(tmp_path / "no_dict.txt"))
    stats = build_training_set(tmp_path, tmp_path / "out", config=cfg)
    opt = stats["optional_sources"]
    assert opt["zh_locale_messages"]["status"] == "skipped" and "not found" in opt["zh_locale_messages"]["reason"]
    assert opt["zh_vocab_bags"]["status"] == "skipped" and "not found" in opt["zh_vocab_bags"]["reason"]
    assert set(stats["sources"]) == {"stub_music", "stub_other"}
    written = json.loads((tmp_path / "out" / "stats.json").read_text())
    assert written["optional_sources"] == opt


def test_builder_optional_sources_disabled(stub_readers: None, tmp_path: Path) -> None:
    stats = build_training_set(tmp_path, tmp_path / "out", config=BuildConfig(zh_locale_dir=None, zh_vocab_dict=None))
    assert {v["status"] for v in stats["optional_sources"].values()} == {"disabled"}


def test_empty_locale_dir_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable):
        list(read_zh_locale_messages(tmp_path))


def test_locale_messages_cleaned_windowed_and_leaks_dropped(stub_readers: None, tmp_path: Path) -> None:
    loc = tmp_path / "locale"
    loc.mkdir()
    msgs = {f"msg {i}": f"无法打开文件 %s：权限不足，请检查第 {i} 个配置项" for i in range(30)}
    msgs["usage"] = "  -b, --bytes           以字节为单位显示文件大小和磁盘使用情况"
    msgs["short"] = "确定"  # too little Chinese: dropped
    msgs["audio"] = "无法播放这首歌曲，音乐文件已损坏或者格式不受支持"  # music term: the builder drops its window
    write_mo(loc / "demo.mo", msgs)
    write_mo(loc / "iso_3166.mo", {"France": "法国大陆本土地区名称"})  # name lists are skipped
    exs = list(read_zh_locale_messages(loc))
    assert exs and all(e.source == "zh_locale_messages" and e.label == OTHER and e.lang == "zh" for e in exs)
    text = "\n".join(e.text for e in exs)
    assert "%s" not in text and "--bytes" not in text and "确定" not in text and "法国" not in text
    assert "以字节为单位显示文件大小" in text
    assert all(len(e.text) <= 330 for e in exs)

    cfg = BuildConfig(zh_locale_dir=str(loc), zh_vocab_dict=None)
    stats = build_training_set(tmp_path, tmp_path / "out", config=cfg)
    st = stats["sources"]["zh_locale_messages"]
    assert stats["optional_sources"]["zh_locale_messages"]["status"] == "used"
    assert st["drop_leak"] == 1 and sum(st["kept"].values()) + st["balanced_out"] + st["duplicate"] == len(exs) - 1


def test_vocab_bags_exclude_music_words_and_are_deterministic(tmp_path: Path) -> None:
    d = tmp_path / "dict.txt"
    d.write_text("天气 5000 n\n比赛 3000 n\n歌曲 9000 n\n钢琴 4000 n\n音乐会 800 n\nABC 100 eng\n吃饭 2000 v\n", encoding="utf-8")
    a = list(read_zh_vocab_bags(d, n=20, seed=1))
    assert a == list(read_zh_vocab_bags(d, n=20, seed=1))
    assert len(a) == 20 and all(e.source == "zh_vocab_bags" and e.label == OTHER and len(e.text) >= 40 for e in a)
    text = "".join(e.text for e in a)
    assert "天气" in text and not any(w in text for w in ("歌", "钢琴", "音乐", "ABC"))
    with pytest.raises(SourceUnavailable):
        list(read_zh_vocab_bags(tmp_path / "missing.txt"))
