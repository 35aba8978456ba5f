"""MusicCaps aspects as requests: aspects sorted into kinds by hand, recording aspects never named, every fact
in the text, one to three kinds, the same request on every call."""

from __future__ import annotations

from corpus.queries.captions import aspect_facts, request

ASPECTS = ["low quality", "sustained strings melody", "soft female vocal", "mellow piano melody", "sad", "soulful",
           "ballad", "Hip-Hop", "no percussion", "slow tempo", "live performance", "happy mood"]  # fmt: skip


def test_aspect_facts_by_hand():
    f = aspect_facts(ASPECTS)
    assert f == {"instrument": ["strings", "piano"], "voice": ["female vocals"], "mood_tag": ["sad", "soulful", "happy"],
                 "genre": ["ballad", "hip hop"], "tempo": ["slow"]}  # fmt: skip
    # names match as whole words: "female vocal" holds no "male vocal"
    assert aspect_facts(["passionate male vocal", "no voices", "e-guitar", "soft female voice"]) == {
        "voice": ["male vocals", "instrumental", "female vocals"], "instrument": ["electric guitar"]}
    assert aspect_facts(["low quality", "noisy", "mono", "amateur recording", "no other instruments"]) == {}


def test_request_names_its_facts_and_only_usable_aspects():
    seen_sizes = set()
    for i in range(200):
        text, facts = request(f"clip{i}", ASPECTS)
        assert (text, facts) == request(f"clip{i}", ASPECTS)  # deterministic
        named = {k: v for k, v in facts.items() if k != "mood"}
        seen_sizes.add(len(named))
        for v in named.values():
            assert v in text
        assert "low quality" not in text and "live" not in text and "percussion" not in text
        if "mood" in facts:
            assert facts["mood"] == {"sad": "sad", "happy": "happy"}[facts["mood_tag"]]
        else:
            assert facts.get("mood_tag") in (None, "soulful")
    assert seen_sizes == {1, 2, 3}
    text, facts = request("c", ["no voices", "jazz"])
    assert set(facts) <= {"voice", "genre"} and ("instrumental" in text) == ("voice" in facts)
    assert request("c", ["low quality", "noisy"]) is None and request("c", []) is None
