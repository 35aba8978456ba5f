"""Q2I relevance (`music_q2i`): items are deterministic and trace to their CPCD conversations, distractors respect
the conversation, no choice overlaps the request on the surface, and surface, length and popularity baselines
stay near chance (0.25); the lm-evaluation-harness task loads from `eval/tasks` and scores an oracle at 1.0."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from eval.cpcd import catalog, liked_playlists
from eval.mc.items import MCItem
from eval.q2i.items import SKIP_RULES, build_q2i, q2i_skips, render, word_overlap
from eval.recommend.match import CatalogSong
from tests.conftest import SHARED_DATA

SHARED = SHARED_DATA
TASKS_DIR = Path(__file__).resolve().parents[2] / "eval" / "tasks"
pytestmark = pytest.mark.skipif(not (SHARED / "cpcd").is_dir(), reason=f"no CPCD data at {SHARED}")


@pytest.fixture(scope="module")
def items() -> list[MCItem]:
    return build_q2i(SHARED)


@pytest.fixture(scope="module")
def songs() -> dict[str, CatalogSong]:
    return {s.song_id: s for s in catalog(SHARED)}


@pytest.fixture(scope="module")
def songs_by_text(songs) -> dict[str, list[CatalogSong]]:
    out = defaultdict(list)
    for s in songs.values():
        out[render(s)].append(s)
    return out


@pytest.fixture(scope="module")
def conversations(items) -> dict[tuple[str, int], dict]:
    """(source, 0-based line) -> the CPCD conversation on that line, for the files the items cite."""
    out = {}
    for source in sorted({it.source for it in items}):
        for row, line in enumerate((SHARED / source).read_text(encoding="utf-8").splitlines()):
            out[(source, row)] = json.loads(line)
    return out


def _accuracy(items: list[MCItem], pick) -> float:
    return sum(pick(it) == it.gold for it in items) / len(items)


def test_size_skip_counts_and_determinism(items) -> None:
    skips = q2i_skips(SHARED)
    assert skips["items"] == len(items) >= 500 and skips["requests"] == 444 and set(SKIP_RULES) <= set(skips)
    assert skips["gold_named_in_request"] > 0 and skips["gold_word_overlap"] > 0
    assert skips["draw_liked_in_similar_request"] > 0 and skips["draw_artist_liked_here"] > 0
    assert [i.to_dict() for i in build_q2i(SHARED)] == [i.to_dict() for i in items]
    assert len({it.id for it in items}) == len(items)


def test_items_trace_to_their_conversation(items, songs_by_text, conversations) -> None:
    for it in items:
        assert it.task == "music_q2i" and it.lang == "en" and it.source.startswith("cpcd/")
        assert len(it.choices) == len(set(it.choices)) == 4 and 0 <= it.gold < 4
        conv = conversations[(it.source, it.source_row)]
        first_query = " ".join(str(conv["turns"][0]["user_query"]).split())
        assert it.question.startswith(first_query), it.id
        goal = set(conv["goal_playlist"])
        assert any(s.song_id in goal for s in songs_by_text[it.choices[it.gold]]), it.id


def test_distractors_are_not_liked_here_nor_by_liked_artists(items, songs, songs_by_text, conversations) -> None:
    for it in items:
        liked = [songs[t] for t in conversations[(it.source, it.source_row)]["goal_playlist"] if t in songs]
        liked_texts = {render(s).casefold() for s in liked}
        liked_artists = {a.casefold() for s in liked for a in s.artists}
        for j, c in enumerate(it.choices):
            if j == it.gold:
                continue
            assert c.casefold() not in liked_texts, (it.id, c)
            assert not {a.casefold() for s in songs_by_text[c] for a in s.artists} & liked_artists, (it.id, c)


def test_no_choice_is_named_in_or_overlaps_the_request(items, songs_by_text) -> None:
    for it in items:
        request = it.question.casefold()
        gold = songs_by_text[it.choices[it.gold]][0]
        for name in (gold.title, *gold.artists):
            assert not re.search(rf"\b{re.escape(name.casefold())}\b", request), (it.id, name)
        assert all(word_overlap(c, it.question) == 0.0 for c in it.choices), it.id


def test_gold_position_is_spread(items) -> None:
    share = {k: v / len(items) for k, v in Counter(it.gold for it in items).items()}
    assert set(share) == {0, 1, 2, 3} and all(0.15 <= v <= 0.35 for v in share.values()), share


def test_surface_length_and_popularity_baselines_are_near_chance(items, songs) -> None:
    from rapidfuzz import fuzz

    def best(score):
        return lambda it: max(range(4), key=lambda j: score(it, it.choices[j]))

    liked_by = Counter(render(songs[t]) for pl in liked_playlists(SHARED, ("train", "val")) for t in pl if t in songs)
    baselines = {
        "word overlap": best(lambda it, c: word_overlap(c, it.question)),
        "fuzzy overlap": best(lambda it, c: fuzz.token_set_ratio(c.casefold(), it.question.casefold())),
        "longest": best(lambda it, c: len(c)),
        "shortest": best(lambda it, c: -len(c)),
        "most liked in CPCD": best(lambda it, c: liked_by[c]),
    }
    acc = {name: _accuracy(items, pick) for name, pick in baselines.items()}
    assert all(0.15 <= a <= 0.35 for a in acc.values()), acc


def test_harness_task_loads_and_scores_an_oracle_at_one(items) -> None:
    import lm_eval
    from lm_eval.api.model import LM
    from lm_eval.tasks import TaskManager

    golds = defaultdict(set)  # two items can share a request (two golds); neither is the other's distractor
    for it in items:
        golds[f"Request: {it.question}\nA song that fits the request:"].add(it.choices[it.gold])
    seen: list[tuple[str, str]] = []

    class Oracle(LM):
        def loglikelihood(self, requests):
            seen.extend(r.args for r in requests)
            return [(0.0 if cont.startswith(" ") and cont[1:] in golds[ctx] else -10.0, False)
                    for ctx, cont in (r.args for r in requests)]

        def loglikelihood_rolling(self, requests):
            raise NotImplementedError

        def generate_until(self, requests):
            raise NotImplementedError

    res = lm_eval.simple_evaluate(model=Oracle(), tasks=["music_q2i"], limit=20,
                                  task_manager=TaskManager(include_path=str(TASKS_DIR)))
    assert len(seen) == 80 and all(ctx in golds for ctx, _ in seen)
    assert res["results"]["music_q2i"]["acc,none"] == 1.0
