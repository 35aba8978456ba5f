"""Music keyword lexicon used to find music items that leak into the "other" training sources.

Terms are chosen to be unambiguous in non-music text ("band" alone is not: rubber band, wedding band),
so a hit means the text is really about music. `music_hits` returns the distinct terms found.
"""

from __future__ import annotations

import re

# Unambiguous music words and phrases (English). Matched on word boundaries, case-insensitive.
MUSIC_TERMS_EN: tuple[str, ...] = (
    r"songs?", r"songwriters?", r"singers?", r"sang", r"sung", r"singing", r"albums?", r"lyrics?",
    r"musicians?", r"music(?:al|als)?", r"concerts?", r"gigs?", r"soundtracks?", r"orchestras?",
    r"symphon(?:y|ies)", r"operas?", r"guitar(?:s|ist|ists)?", r"drummers?", r"bassists?", r"pianists?",
    r"vocals?", r"vocalists?", r"rappers?", r"hip[ -]hop", r"jazz", r"rock (?:and|n|'n'|&) roll",
    r"rock bands?", r"pop stars?", r"(?:boy|girl|rock|punk|metal|jazz|indie) bands?", r"the band",
    r"band members?", r"frontman", r"record labels?", r"studio albums?", r"singles? chart", r"billboard",
    r"grammys?", r"mixtapes?", r"playlists?", r"composers?", r"melod(?:y|ies)", r"choirs?", r"tracklist",
    r"ep", r"lp", r"vinyl", r"dj", r"setlist", r"encore", r"tour dates", r"on tour",
    r"recording artists?", r"chart-topping", r"number one hit", r"hit single", r"anthem",
)
# Chinese music words (no word boundaries in Chinese).
MUSIC_TERMS_ZH: tuple[str, ...] = (
    "音乐", "歌曲", "专辑", "乐队", "歌手", "演唱会", "巡演", "乐器", "旋律", "作曲", "歌词", "唱片", "乐团",
    "乐曲", "曲目", "演唱", "演奏", "钢琴", "吉他", "乐谱", "交响", "合唱", "声乐", "歌唱",
)

# Matched on the lower-cased text (every term is lower case): 4.5x faster than re.IGNORECASE on web text, same
# hits on all 133k texts of the classifier's training set. It runs on every window the classifier scores.
_EN = re.compile(r"\b(" + "|".join(MUSIC_TERMS_EN) + r")\b")
_ZH = re.compile("(" + "|".join(MUSIC_TERMS_ZH) + ")")


def music_hits(text: str) -> set[str]:
    """Distinct music terms (lowercased) found in `text`."""
    found = {m.group(1) for m in _EN.finditer(text.lower())}
    found.update(m.group(1) for m in _ZH.finditer(text))
    return found
