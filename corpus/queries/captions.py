"""MusicCaps clips as short English requests: one to three of a clip's aspects (the tags its musician-annotator
listed: genre, mood, instrument, voice, tempo) worded as a request, the aspects as facts.

The clips are YouTube segments, not songs of the catalog, so the requests name no song; they join the pool as
descriptive requests a listener could make and take part in clustering. The aspects are human-written; the
wording around them is a template (`request`), so "melancholic jazz songs with piano" records
{"mood_tag": "melancholic", "mood": "sad", "genre": "jazz", "instrument": "piano"}. Aspects about the recording
(low quality, noisy, live, mono) or outside the vocabularies below are never named. Spellings are folded to one
value (hip-hop -> hip hop, e-guitar -> electric guitar); `mood` restates a mood word that sits plainly in one
of the generator's quadrants (`generate.MOODS`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

GENRES: dict[str, tuple[str, ...]] = {
    "rock": ("rock music",), "hard rock": (), "pop": ("pop music", "pop song"), "jazz": ("jazz music",),
    "blues": (), "classical": ("classical music",), "folk": ("folk music", "folk song"), "country": ("country music",),
    "reggae": (), "metal": ("heavy metal",), "hip hop": ("hip-hop", "hiphop", "rap"), "r&b": ("rnb",), "soul": (),
    "gospel": (), "funk": (), "electronic": ("electronic music", "electro"), "edm": ("electronic dance music",),
    "techno": (), "trance": (), "house": (), "dance": ("dance music", "club music"), "ambient": (), "latin": (),
    "punk": (), "indie": (), "disco": (), "ballad": (), "lullaby": (), "soundtrack": ("movie soundtrack",),
}  # fmt: skip
MOODS: dict[str, str | None] = {
    "sad": "sad", "melancholic": "sad", "melancholy": "sad", "sorrowful": "sad", "mournful": "sad",
    "happy": "happy", "cheerful": "happy", "joyful": "happy", "fun": "happy", "uplifting": "happy",
    "relaxing": "relaxed", "calming": "relaxed", "calm": "relaxed", "chill": "relaxed", "soothing": "relaxed",
    "mellow": "relaxed", "peaceful": "relaxed", "meditative": "relaxed",
    "aggressive": "angry", "angry": "angry",
    "emotional": None, "passionate": None, "energetic": None, "groovy": None, "romantic": None, "exciting": None,
    "upbeat": None, "intense": None, "sentimental": None, "soulful": None, "playful": None, "dreamy": None,
    "epic": None, "nostalgic": None, "mysterious": None, "eerie": None, "dramatic": None, "haunting": None,
    "hypnotic": None, "psychedelic": None, "suspenseful": None, "inspiring": None, "cinematic": None,
}  # fmt: skip
"""Mood words -> their quadrant, or None when the word says arousal or colour but not one quadrant."""
INSTRUMENTS: dict[str, tuple[str, ...]] = {
    "acoustic guitar": (), "electric guitar": ("e-guitar", "e-guitars"), "piano": (), "violin": ("violins",),
    "cello": (), "strings": ("string section",), "flute": (), "saxophone": (), "trumpet": ("trumpets",),
    "harp": (), "banjo": (), "accordion": (), "mandolin": (), "organ": (), "synth": ("synthesizer", "synthesiser"),
    "tabla": (), "sitar": (), "didgeridoo": (), "harmonica": (), "ukulele": (), "bagpipes": (), "brass": ("brass section",),
}  # fmt: skip
"""Matched as words inside an aspect ("mellow piano melody" -> piano), as voices are ("soft female vocal"),
longest name first; drums and bass are left out: nearly every clip has them."""
VOICES: dict[str, tuple[str, ...]] = {
    "female vocals": ("female vocal", "female voice", "female singer", "female vocalist"),
    "male vocals": ("male vocal", "male voice", "male singer", "male vocalist"),
    "choir": ("choir singing",), "instrumental": ("instrumental music", "no voices", "no singer", "no voice"),
}  # fmt: skip
TEMPOS = {"slow tempo": "slow", "fast tempo": "fast", "uptempo": "fast", "medium tempo": "mid-tempo",
          "moderate tempo": "mid-tempo"}  # fmt: skip

KINDS = ("mood_tag", "tempo", "genre", "instrument", "voice")
PREFIXES = ("", "play some ", "I'm looking for ", "recommend me ", "any good ", "find me ")
HEADS = ("songs", "music", "tracks")


def _spellings(vocab: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    return {s: v for v, alts in vocab.items() for s in (v, *alts)}


def _pick(key: str, n: int) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big") % n


def aspect_facts(aspects: Iterable[str]) -> dict[str, list[str]]:
    """The values of a clip's aspects by kind (`KINDS`), each value once, in aspect order."""
    genres, voices, instr = _spellings(GENRES), _spellings(VOICES), _spellings(INSTRUMENTS)
    inside = [(n, "voice", voices[n]) for n in sorted(voices, key=len, reverse=True) if not n.startswith("no ")]
    inside += [(n, "instrument", instr[n]) for n in sorted(instr, key=len, reverse=True)]
    out: dict[str, list[str]] = {}

    def add(kind: str, value: str) -> None:
        if value not in out.setdefault(kind, []):
            out[kind].append(value)

    for a in aspects:
        if not isinstance(a, str):
            continue
        t = " ".join(a.lower().split())
        if t.startswith("no ") and t not in voices:
            continue  # "no percussion", "no other instruments"
        if t in genres:
            add("genre", genres[t])
        elif t in MOODS or (t.endswith(" mood") and t[:-5] in MOODS):
            add("mood_tag", t.removesuffix(" mood"))
        elif t in voices:
            add("voice", voices[t])
        elif t in TEMPOS:
            add("tempo", TEMPOS[t])
        else:  # a voice or an instrument named inside a phrase: "soft female vocal", "mellow piano melody"
            hit = next(((kind, v) for n, kind, v in inside if f" {n} " in f" {t} "), None)
            if hit is not None:
                add(*hit)
    return {k: v for k, v in out.items() if v}


def request(clip_id: str, aspects: Iterable[str]) -> tuple[str, dict[str, str]] | None:
    """(text, facts) naming one to three of the clip's aspects of different kinds, or None when none is usable.
    How many, which and the phrasing are picked by a hash of `clip_id`."""
    found = aspect_facts(aspects)
    if not found:
        return None
    kinds = sorted(found, key=lambda k: _pick(f"{clip_id}\x00order\x00{k}", 1 << 30))
    chosen = kinds[: 1 + _pick(f"{clip_id}\x00n", 3)]
    facts = {k: found[k][_pick(f"{clip_id}\x00{k}", len(found[k]))] for k in chosen}
    voice = facts.get("voice")
    words = [facts.get("mood_tag"), facts.get("tempo"), "instrumental" if voice == "instrumental" else None,
             facts.get("genre"), HEADS[_pick(f"{clip_id}\x00head", len(HEADS))]]  # fmt: skip
    withs = [x for x in (facts.get("instrument"), voice if voice and voice != "instrumental" else None) if x]
    text = " ".join(w for w in words if w) + (" with " + " and ".join(withs) if withs else "")
    text = PREFIXES[_pick(f"{clip_id}\x00prefix", len(PREFIXES))] + text
    if facts.get("mood_tag") and MOODS.get(facts["mood_tag"]):
        facts["mood"] = MOODS[facts["mood_tag"]]  # type: ignore[assignment]
    return text, facts
