"""Recommendation answers: line parsing and catalog matching, list metrics against hand-computed values on
small fixtures (a perfect model, one that always abstains, one that repeats one artist, one that names songs
outside the catalog), and `music-eval match` on files."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from eval.cli import main as cli
from eval.recommend.match import CatalogMatcher, CatalogSong, match_file, parse_line
from eval.recommend.metrics import (
    artist_repetition,
    coverage,
    factuality,
    hit_rate,
    list_metrics,
    mrr,
    ndcg,
    personalization,
    success_at,
)

CATALOG = [
    CatalogSong("s1", "Hey Jude", ("The Beatles",)),
    CatalogSong("s2", "Bohemian Rhapsody", ("Queen",)),
    CatalogSong("s3", "Dilemma", ("Nelly", "Kelly Rowland")),
    CatalogSong("s4", "七里香", ("周杰伦",), ("Qi Li Xiang", "Jay Chou")),
    CatalogSong("s5", "Yesterday", ("The Beatles",)),
    CatalogSong("s6", "Yesterday", ("Leona Lewis",)),
    CatalogSong("s7", "Hotel California", ("Eagles",)),
    CatalogSong("s8", "Smooth", ("Santana", "Rob Thomas")),
]


@pytest.fixture(scope="module")
def matcher() -> CatalogMatcher:
    return CatalogMatcher(CATALOG)


@pytest.mark.parametrize(("line", "expected"), [
    ('3. "Hey Jude" by The Beatles (Remastered 2009)', "s1"),
    ("Bohemian Rhapsody - Queen", "s2"),
    ("Queen - Bohemian Rhapsody", "s2"),  # artist first
    ('Queen - "Bohemian Rhapsody"', "s2"),
    ("Bohemian Rapsody by Queen", "s2"),  # misspelt title, fuzzy
    ("Dilemma (feat. Kelly Rowland) – Nelly", "s3"),
    ("《七里香》- 周杰伦", "s4"),
    ("七里香（周杰伦）", "s4"),
    ("Qi Li Xiang by Jay Chou", "s4"),  # English forms through aliases
    ("Yesterday - The Beatles", "s5"),
    ("Yesterday by Leona Lewis", "s6"),
    ("Yesterday", None),  # two songs of that title and no artist
    ("Hotel California (Live at the Forum) - Eagles", "s7"),
    ("- Hotel California", "s7"),  # unique title, no artist
    ("1) Smooth by Santana ft. Rob Thomas", "s8"),
    ("Hey Jude by Queen", None),  # wrong artist
    ("Stairway to Heaven - Led Zeppelin", None),  # not in the catalog
    ("", None),
])
def test_match(matcher: CatalogMatcher, line: str, expected: str | None) -> None:
    assert matcher.match(line) == expected


def test_parse_line_forms() -> None:
    assert parse_line('2. "Hey Jude" by The Beatles') == ("Hey Jude", "The Beatles")
    assert parse_line("《七里香》 周杰伦") == ("七里香", "周杰伦")
    assert parse_line("• Imagine") == ("Imagine", None)


# --- metrics, by hand --------------------------------------------------------------------------------------
GOLDS = [{"s1", "s2", "s3"}, {"s4"}]
ARTIST = {s.song_id: s.artists[0] for s in CATALOG}


def test_perfect_model() -> None:
    answers = [["s1", "s2", "s3"], ["s4"]]
    m = list_metrics(answers, GOLDS, catalog_size=8, artist_of=ARTIST)
    assert m["factuality"] == 1.0 and m["coverage"] == 0.5 and m["artist_repetition"] == 0.0
    for k in (1, 5, 10):
        assert m[f"hit_rate@{k}"] == 1.0 and m[f"mrr@{k}"] == 1.0 and m[f"success@{k}"] == 1.0
        assert m[f"ndcg@{k}"] == pytest.approx(1.0)


def test_model_that_always_abstains() -> None:
    answers: list[list[str | None]] = [[], []]
    m = list_metrics(answers, GOLDS, catalog_size=8, artist_of=ARTIST)
    assert all(v == 0.0 for v in m.values())


def test_model_that_repeats_one_artist() -> None:
    answers = [["s1", "s5", "s1"], ["s5", "s1"]]  # all Beatles; a repeated item counts once
    assert artist_repetition(answers, ARTIST) == pytest.approx(0.5)  # 1 - 1/2 in both lists
    assert factuality(answers) == 1.0 and coverage(answers, 8) == 0.25
    assert hit_rate(answers, GOLDS, 10) == pytest.approx((1 / 3 + 0) / 2)
    assert mrr(answers, GOLDS, 10) == pytest.approx(0.5)  # first list: rank 1; second: none


def test_model_that_names_songs_outside_the_catalog() -> None:
    answers = [[None, None, "s2"], [None]]
    assert factuality(answers) == pytest.approx(1 / 4)
    assert mrr(answers, GOLDS, 10) == pytest.approx((1 / 3) / 2)
    assert success_at(answers, GOLDS, 2) == 0.0 and success_at(answers, GOLDS, 3) == 0.5


def test_ndcg_and_rates_by_hand() -> None:
    answers = [["x", "s1", "y", "s2"]]
    gold = [{"s1", "s2", "s3"}]
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg(answers, gold, 5) == pytest.approx(dcg / ideal)  # 0.4982
    assert hit_rate(answers, gold, 5) == pytest.approx(2 / 3) and hit_rate(answers, gold, 1) == 0.0
    assert mrr(answers, gold, 5) == 0.5 and mrr(answers, gold, 1) == 0.0


def test_personalization_mean_score() -> None:
    def score(user: str, items: list[str]) -> list[float]:
        return [1.0 if (user, it) in {("u1", "s1"), ("u2", "s4")} else 0.2 for it in items]

    answers = [["s1", None], ["s4", "s2"]]
    assert personalization(answers, ["u1", "u2"], score) == pytest.approx((1.0 + 0.0 + 1.0 + 0.2) / 4)


def test_match_cli_round_trip(tmp_path: Path) -> None:
    cat = tmp_path / "catalog.jsonl"
    cat.write_text("".join(json.dumps({"song_id": s.song_id, "title": s.title, "artists": list(s.artists),
                                       "aliases": list(s.aliases)}, ensure_ascii=False) + "\n" for s in CATALOG),
                   encoding="utf-8")
    src = tmp_path / "answers.jsonl"
    lines = ["1. Hey Jude - The Beatles", "2. 《七里香》- 周杰伦", "3. Made Up Song - Nobody"]
    src.write_text("".join(json.dumps({"request": 7, "line": x}, ensure_ascii=False) + "\n" for x in lines),
                   encoding="utf-8")
    assert cli(["match", str(src), "--catalog", str(cat), "--out", str(tmp_path / "out.jsonl")]) == 0
    out = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [o["song_id"] for o in out] == ["s1", "s4", None] and out[0]["request"] == 7
    (tmp_path / "bad.jsonl").write_text('{"text": "x"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.jsonl:1: missing field\(s\) \['line'\]"):
        match_file(tmp_path / "bad.jsonl", cat, tmp_path / "o.jsonl")


def test_jsonl_helpers_name_file_and_line(tmp_path: Path) -> None:
    from eval.jsonl import read_rows, write_rows

    p = write_rows(tmp_path / "sub" / "x.jsonl", [{"a": "周"}, {"a": 2}])
    assert p.read_text(encoding="utf-8") == '{"a": "周"}\n{"a": 2}\n'
    assert not list((tmp_path / "sub").glob(".*tmp*"))
    (tmp_path / "bad.jsonl").write_text('{"a": 1}\n\n{oops\n', encoding="utf-8")
    rows = read_rows(tmp_path / "bad.jsonl", ("a",))
    assert next(rows) == (1, {"a": 1})
    with pytest.raises(ValueError, match=r"bad\.jsonl:3: not JSON"):
        next(rows)
