"""A user's own data folder, as a new user brings it: CSV and JSONL files named after datasets, real music
news articles (BBC, read by path from ../shared/data), a small hand-written catalog, listening events,
comments, and the mistakes users make (a file the run does not know, values outside the contract)."""

from __future__ import annotations

import json
from pathlib import Path

SONGS = [
    ("1", "Bohemian Rhapsody", "Queen", "A Night at the Opera", 1975, "rock"),
    ("2", "Imagine", "John Lennon", "Imagine", 1971, "rock|pop"),
    ("3", "Billie Jean", "Michael Jackson", "Thriller", 1982, "pop"),
    ("4", "Smells Like Teen Spirit", "Nirvana", "Nevermind", 1991, "grunge"),
    ("5", "Hey Jude", "The Beatles", "Hey Jude", 1968, "rock"),
    ("6", "Like a Rolling Stone", "Bob Dylan", "Highway 61 Revisited", 1965, "folk rock"),
    ("7", "Purple Rain", "Prince", "Purple Rain", 1984, "pop|rock"),
    ("8", "Hotel California", "Eagles", "Hotel California", 1976, "rock"),
    ("9", "One", "U2", "Achtung Baby", 1991, "rock"),
    ("10", "Wonderwall", "Oasis", "(What's the Story) Morning Glory?", 1995, "britpop"),
    ("11", "Crazy in Love", "Beyoncé", "Dangerously in Love", 2003, "r&b"),
    ("12", "Dancing Queen", "ABBA", "Arrival", 1976, "pop"),
]
N_ARTICLES = 18


def music_articles(shared: Path, n: int = N_ARTICLES) -> list[dict]:
    """The first `n` BBC entertainment articles about music (real text)."""
    rows = [json.loads(line) for line in (shared / "bbc_news_fulltext" / "bbc_news.jsonl").open(encoding="utf-8")]
    music = [r for r in rows if r["category"] == "entertainment" and r["n_music_keyword_hits"] >= 6
             and r["id"] >= "entertainment/103.txt"]  # fmt: skip
    return music[:n]


def write_user_data(root: Path, shared: Path, *, unknown_file: bool = True, bad_rows: bool = True) -> Path:
    """Write the folder; returns it. With `bad_rows`, one event has feedback `teleport` (not in the contract),
    one names a song the catalog lacks, and one comment has a number for its text."""
    root.mkdir(parents=True, exist_ok=True)
    with (root / "documents.jsonl").open("w", encoding="utf-8") as f:
        for a in music_articles(shared):
            f.write(json.dumps({"id": a["id"], "title": a["title"], "text": a["text"]}) + "\n")
    lines = ["id,title,artists,album,year,genres"]
    lines += [f'{i},"{t}","{a}","{al}",{y},{g}' for i, t, a, al, y, g in SONGS]
    (root / "songs.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "user_profiles.csv").write_text("id,country,age\nu1,GB,31\nu2,US,24\nu3,DE,45\n", encoding="utf-8")
    events = []
    for u, user in enumerate(("u1", "u2", "u3")):
        for k in range(10):
            song = SONGS[(u * 4 + k) % len(SONGS)][0]
            feedback = ("play", "skip", "like", "play", "add_to_playlist")[k % 5]
            events.append({"id": f"{user}-{k}", "user_id": user, "ts": f"2024-03-0{u + 1}T1{k // 3}:{(k * 7) % 60:02d}:00Z",
                           "item_type": "song", "item_id": song, "feedback": feedback,
                           "value": 200.0 if feedback == "play" else (12.0 if feedback == "skip" else None)})
    if bad_rows:
        events.append({"id": "u1-bad", "user_id": "u1", "ts": "2024-03-01T18:00:00Z", "item_type": "song",
                       "item_id": "1", "feedback": "teleport"})
        events.append({"id": "u2-unknown", "user_id": "u2", "ts": "2024-03-02T19:00:00Z", "item_type": "song",
                       "item_id": "77", "feedback": "play", "value": 180.0})  # a song the catalog lacks
    (root / "behavior_events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    comments = [
        {"id": "c1", "user_id": "u1", "item_type": "song", "item_id": "1", "text": "The operatic middle section still gives me chills every single time."},
        {"id": "c2", "user_id": "u2", "item_type": "song", "item_id": "4", "text": "This riff started a whole decade of music for me."},
        {"id": "c3", "user_id": "u3", "item_type": "song", "item_id": "12", "text": "Nobody writes choruses like this anymore, pure joy."},
        {"id": "c4", "user_id": "u2", "item_type": "song", "item_id": "99", "text": "Is this the live version from the reunion tour?"},
    ]
    if bad_rows:
        comments.append({"id": "c5", "user_id": "u3", "item_type": "song", "item_id": "3", "text": 12345})
    (root / "comments.jsonl").write_text("".join(json.dumps(c) + "\n" for c in comments), encoding="utf-8")
    if unknown_file:  # a file the run does not recognise (its name is no dataset)
        (root / "tracks.csv").write_text("id,name\n1,Bohemian Rhapsody\n", encoding="utf-8")
    return root
