"""Rule rewards on hand-written answers: every fact and reward, the edge cases (empty list, 11 items, a remaster
suffix, Chinese titles, one artist under two spellings, history items), the hybrid formula and the file CLI."""

from __future__ import annotations

import json

import pytest

from eval.cli import main
from eval.recommend.match import CatalogMatcher, CatalogSong
from eval.rewards import RewardConfig, answer_facts, hybrid_reward, list_lines, turn_text

CATALOG = [
    CatalogSong("s1", "Yesterday", ("The Beatles",)),
    CatalogSong("s2", "Halo", ("Beyoncé",)),
    CatalogSong("s3", "七里香", ("周杰伦",), ("Qi Li Xiang", "Jay Chou")),
    CatalogSong("s4", "Hurt", ("Johnny Cash",)),
    CatalogSong("s5", "Jolene", ("Dolly Parton",)),
    CatalogSong("s6", "Creep", ("Radiohead",)),
    CatalogSong("s7", "Hallelujah", ("Jeff Buckley",)),
    CatalogSong("s8", "Dreams", ("Fleetwood Mac",)),
    CatalogSong("s9", "Wonderwall", ("Oasis",)),
    CatalogSong("s10", "Zombie", ("The Cranberries",)),
    CatalogSong("s11", "Let It Be", ("The Beatles",)),
    CatalogSong("s12", "后来", ("刘若英",)),
]
GOOD = [f"{s.title} — {s.artists[0]}" for s in CATALOG[1:11]]  # ten songs, ten artists


@pytest.fixture(scope="module")
def matcher():
    return CatalogMatcher(CATALOG)


def numbered(lines):
    return "\n".join(f"{i}. {x}" for i, x in enumerate(lines, 1))


def test_a_good_list_gets_every_rule_reward(matcher):
    f = answer_facts("Here are ten songs for you:\n" + numbered(GOOD) + "\nEnjoy!", matcher, ["s1"])
    assert f.format_ok and f.n_items == 10 and f.n_in_catalog == 10
    assert [i.song_id for i in f.items] == [f"s{k}" for k in range(2, 12)]
    assert not f.repeated_artist and not f.duplicated_title_suffix and f.n_in_recent_history == 0
    assert f.rewards == {"r_format": 1.0, "r_factuality": 1.0, "r_diversity": 1.0, "r_dedup": 1.0, "rule_reward": 1.0}


def test_empty_answer(matcher):
    for out in ("", "I don't know any songs like that.", "<think>hmm</think>"):
        f = answer_facts(out, matcher)
        assert f.n_items == 0 and not f.format_ok and f.n_in_catalog == 0
        assert f.rewards["rule_reward"] == 0.0  # an empty list earns nothing, not a free diversity or dedup reward


def test_eleven_items_break_the_format(matcher):
    f = answer_facts(numbered([*GOOD, "Yesterday — The Beatles"]), matcher)
    assert f.n_items == 11 and not f.format_ok and f.n_in_catalog == 11
    assert f.rewards["r_format"] == 0.0 and f.rewards["r_factuality"] == 1.0
    assert answer_facts(numbered(GOOD[:9]), matcher).format_ok is False  # nine for a ten-song request
    assert answer_facts(numbered(GOOD[:9]), matcher, cfg=RewardConfig(list_size=9)).format_ok is True


def test_the_answer_ends_at_the_end_of_its_turn(matcher):
    # a policy whose tokenizer spells <|im_end|> in several tokens generates past it when the engine stops on EOS
    run_on = numbered(GOOD) + "<|im_end|>\n11. Yesterday — The Beatles\n<|im_start|>user\n1. Halo — Beyoncé"
    f = answer_facts(run_on, matcher)
    assert f.format_ok and f.n_items == 10 and not f.repeated_artist
    assert turn_text("a<|endoftext|>b<|im_end|>c") == "a" and turn_text("no marker") == "no marker"
    assert answer_facts("<|im_end|>" + numbered(GOOD), matcher).n_items == 0  # nothing before the end: empty


def test_numbering_and_contiguity(matcher):
    bad_order = "\n".join(f"{i}. {x}" for i, x in zip([1, 2, 4, 3, 5, 6, 7, 8, 9, 10], GOOD, strict=True))
    assert not answer_facts(bad_order, matcher).format_ok
    gap = numbered(GOOD[:5]) + "\nand also\n" + "\n".join(f"{i}. {x}" for i, x in enumerate(GOOD[5:], 6))
    assert not answer_facts(gap, matcher).format_ok
    bullets = "\n".join(f"- {x}" for x in GOOD)
    assert answer_facts(bullets, matcher).format_ok
    assert list_lines("1) A - B\n2) C - D")[0] == ["A - B", "C - D"]
    no_artist = numbered([*GOOD[:9], "Wonderwall"])
    f = answer_facts(no_artist, matcher)
    assert not f.format_ok and f.n_in_catalog == 10  # a title alone still matches a unique catalog title


def test_remaster_suffix_is_a_duplicated_title(matcher):
    lines = [*GOOD[:8], "Yesterday — The Beatles", "Yesterday - Remastered 2009 — The Beatles"]
    f = answer_facts(numbered(lines), matcher)
    assert f.duplicated_title_suffix and f.repeated_artist and f.rewards["r_diversity"] == 0.0
    assert [i.song_id for i in f.items][-2:] == ["s1", "s1"]
    live = answer_facts(numbered([*GOOD[:9], "Halo (Live) — Beyoncé"]), matcher)
    assert live.duplicated_title_suffix


def test_chinese_titles(matcher):
    lines = [GOOD[0], *GOOD[2:9], "《后来》- 刘若英", "七里香 — Jay Chou"]  # GOOD without its 七里香 line
    f = answer_facts(numbered(lines), matcher)
    assert f.format_ok and [i.song_id for i in f.items][-2:] == ["s12", "s3"] and f.n_in_catalog == 10
    assert f.items[-2].title == "后来" and f.items[-2].artist == "刘若英"  # 《》 quoting parsed
    assert not f.repeated_artist and not f.duplicated_title_suffix  # the artist alias matched the catalog song
    f2 = answer_facts(numbered([*GOOD[:9], "七里香 — Jay Chou"]), matcher)  # GOOD[1] is 七里香 — 周杰伦
    assert f2.repeated_artist and f2.duplicated_title_suffix  # the same song and artist under another name


def test_one_artist_under_two_spellings(matcher):
    lines = [*GOOD[2:10], "Halo — Beyonce", "Crazy in Love — BEYONCÉ"]
    f = answer_facts(numbered(lines), matcher)
    assert f.repeated_artist and not f.duplicated_title_suffix
    assert f.items[-1].song_id is None and f.n_in_catalog == 9 and f.rewards["r_factuality"] == 0.0
    beatles = answer_facts(numbered([*GOOD[:8], "Yesterday — Beatles", "Let It Be — The Beatles"]), matcher)
    assert beatles.repeated_artist and [i.song_id for i in beatles.items][-2:] == ["s1", "s11"]


def test_recent_history(matcher):
    f = answer_facts(numbered(GOOD), matcher, ["s2", "s5", "nope"])
    assert f.n_in_recent_history == 2 and f.rewards["r_dedup"] == 0.0 and f.rewards["rule_reward"] == 0.75


def test_hybrid_reward_formula(matcher):
    f = answer_facts(numbered(GOOD), matcher, ["s2"])
    cfg = RewardConfig(lambda_pers=2.0, lambda_format=0.1, lambda_factuality=0.2, lambda_diversity=0.3, lambda_dedup=0.4)
    f = answer_facts(numbered(GOOD), matcher, ["s2"], cfg)
    assert f.rewards["rule_reward"] == pytest.approx(0.1 + 0.2 + 0.3)
    assert hybrid_reward(f, 1, 0.5, cfg) == pytest.approx(2.0 * 0.5 + 0.6)
    assert hybrid_reward(f, 0, 0.9, cfg) == pytest.approx(0.6)  # irrelevant: personalization counts for nothing
    with pytest.raises(ValueError, match="gate"):
        hybrid_reward(f, 0.5, 0.9, cfg)
    # the ablation without the judge: every answer passes the gate
    assert hybrid_reward(f, 0, 0.9, RewardConfig(lambda_pers=2.0, relevance_gate=False)) == pytest.approx(1.8 + 0.6)


def test_rewards_cli(tmp_path, capsys):
    cat = tmp_path / "catalog.jsonl"
    cat.write_text("\n".join(json.dumps({"song_id": s.song_id, "title": s.title, "artists": list(s.artists),
                                         "aliases": list(s.aliases)}, ensure_ascii=False) for s in CATALOG))
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps({"id": "a", "output": numbered(GOOD), "user_recent_positive": ["s4"]}) + "\n"
                   + json.dumps({"id": "b", "output": "", "user_recent_positive": []}) + "\n")
    out = tmp_path / "out.jsonl"
    assert main(["rewards", str(inp), "--catalog", str(cat), "--out", str(out)]) == 0
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["a", "b"]
    a = rows[0]
    assert a["format_ok"] is True and a["n_items"] == 10 and a["n_in_catalog"] == 10 and a["n_in_recent_history"] == 1
    assert a["repeated_artist"] is False and a["duplicated_title_suffix"] is False
    assert a["items"][0] == {"line": "Halo — Beyoncé", "title": "Halo", "artist": "Beyoncé", "song_id": "s2"}
    assert a["r_dedup"] == 0.0 and a["rule_reward"] == 0.75 and rows[1]["rule_reward"] == 0.0
    assert "2 answers" in capsys.readouterr().out
    inp.write_text(json.dumps({"id": "c"}) + "\n")
    assert main(["rewards", str(inp), "--catalog", str(cat), "--out", str(out)]) == 2
    assert "missing field(s) ['output']" in capsys.readouterr().err
