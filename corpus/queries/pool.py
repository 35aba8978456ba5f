"""The query pool: generated queries for every ingested song plus real users' requests, clustered, written as the
`query_pool` dataset with its cluster report.

Songs get their playlists' tags as a fact (`playlist_tags`) and MuChin songs their annotators' tags
(`muchin_song_facts`, through `zh_tags`). Real requests come from the ingest outputs: Deezer's intent requests
(their annotated descriptors become facts: Genre -> genre, Decade -> decade, Mood -> mood_tag, ListeningContext ->
activity_tag), Reddit music requests (MusicRecoNER), the first user turn of CPCD's *train* conversations (CPCD
val/test are evaluation sets and are never read here), NetEase playlist titles (written by their owners; the
playlist's tags become facts through `zh_tags` and its tracks are the songs the request lists, `song_ids`), and
MusicCaps clips' aspects worded as requests (`captions`; at most `captions` of them, 2,500 by default, picked by a
hash of the clip id: about the size of each Deezer set, so the 5,521 clips do not make up most of the real
requests).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from corpus.queries.cluster import ClusterConfig, cluster_queries, cluster_report, report_markdown
from corpus.queries.generate import Query, generate_pool

REAL_SOURCES = ("music_reco_intent_deezer", "music_reco_ner_deezer")
PLAYLIST_TITLE_SOURCES = ("netease_playlists_zh",)
"""Sources whose playlist titles are users' requests (Chinese)."""
CAPTION_REQUESTS = 2500
"""Default cap on MusicCaps requests (see the module docstring)."""
_DEEZER_FACTS = {"Genre": "genre", "Decade": "decade", "Mood": "mood_tag", "ListeningContext": "activity_tag"}


def _table(folder: Path, **kw: Any) -> list[dict]:
    import pyarrow.dataset as pads

    from jobs.outputs import part_files

    files = part_files(folder)
    return pads.dataset(files, format="parquet").to_table(**kw).to_pylist() if files else []


def _qid(*parts: str) -> str:
    return hashlib.blake2b("\x00".join(parts).encode(), digest_size=8).hexdigest()


def playlist_tags(ingest: Path) -> dict[str, list[str]]:
    """Song id -> the tags of the playlists it is in (`metadata.tags`, e.g. NetEase's), most common first (ties by
    tag)."""
    from collections import Counter

    counts: dict[str, Counter] = {}
    for r in _table(ingest / "playlists", columns=["song_ids", "metadata"]):
        tags = (json.loads(r["metadata"] or "{}") or {}).get("tags") or []
        for sid in r["song_ids"] or []:
            for t in tags:
                if isinstance(t, str) and t.strip():
                    counts.setdefault(sid, Counter())[t.strip()] += 1
    return {s: [t for t, _ in sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))] for s, c in counts.items()}


def muchin_song_facts(ingest: Path) -> dict[str, dict[str, str]]:
    """Song id -> the facts of its MuChin annotation tags (`zh_tags.muchin_facts`; each annotator group's tags
    once, though every description of the group repeats them)."""
    import pyarrow.dataset as pads

    from corpus.queries.zh_tags import muchin_facts

    groups: dict[str, dict[str, dict]] = {}
    for r in _table(ingest / "documents", columns=["metadata"], filter=pads.field("source") == "muchin_1k_zh"):
        meta = json.loads(r["metadata"] or "{}") or {}
        if meta.get("song_id") and isinstance(meta.get("tags"), dict):
            groups.setdefault(meta["song_id"], {}).setdefault(str(meta.get("annotator")), meta["tags"])
    return {sid: f for sid, g in groups.items() if (f := muchin_facts(g.values(), sid))}


def playlist_requests(ingest: Path, sources: tuple[str, ...] = PLAYLIST_TITLE_SOURCES) -> Iterator[Query]:
    """Playlist titles of `sources` as Chinese requests: facts from the playlist's tags (`zh_tags.tag_facts`),
    `song_ids` its tracks."""
    import pyarrow.dataset as pads

    from corpus.queries.zh_tags import tag_facts

    for r in _table(ingest / "playlists", columns=["source", "source_id", "name", "song_ids", "metadata"],
                    filter=pads.field("source").isin(list(sources))):  # fmt: skip
        text = " ".join((r["name"] or "").split())
        if text:
            tags = (json.loads(r["metadata"] or "{}") or {}).get("tags") or []
            yield Query(_qid(r["source"], r["source_id"], text), text, "zh", "real", r["source"], None,
                        tag_facts([t for t in tags if isinstance(t, str)], r["source_id"]),
                        tuple(dict.fromkeys(r["song_ids"] or [])))  # fmt: skip


def caption_requests(ingest: Path, limit: int | None = CAPTION_REQUESTS) -> Iterator[Query]:
    """MusicCaps clips' aspects as English requests (`captions.request`), at most `limit` (None: all) of the clips
    that have a usable aspect, the ones with the smallest hash of the clip id, in source order."""
    import pyarrow.dataset as pads

    from corpus.queries.captions import request

    made = []
    for r in _table(ingest / "documents", columns=["source", "source_id", "metadata"],
                    filter=pads.field("source") == "musiccaps"):  # fmt: skip
        aspects = (json.loads(r["metadata"] or "{}") or {}).get("aspect_list")
        got = request(r["source_id"], aspects) if isinstance(aspects, list) else None
        if got is not None:
            made.append((r["source_id"], Query(_qid(r["source"], r["source_id"], got[0]), got[0], "en", "real",
                                               r["source"], None, got[1])))  # fmt: skip
    if limit is not None and len(made) > limit:
        keep = set(sorted(range(len(made)), key=lambda i: (_qid("musiccaps-cap", made[i][0]), i))[:limit])
        made = [m for i, m in enumerate(made) if i in keep]
    yield from (q for _, q in made)


def real_queries(ingest: Path, captions: int | None = CAPTION_REQUESTS) -> Iterator[Query]:
    """Users' requests from the ingest outputs (see the module docstring), by source in the order there, each
    source's rows in ingest order. `captions`: the cap on MusicCaps requests (None: every clip)."""
    import pyarrow.dataset as pads

    for r in _table(ingest / "documents", columns=["source", "source_id", "text", "lang", "metadata"],
                    filter=pads.field("source").isin(list(REAL_SOURCES))):  # fmt: skip
        text = " ".join((r["text"] or "").split())
        if not text:
            continue
        meta = json.loads(r["metadata"] or "{}")
        facts = {}
        for cat, key in _DEEZER_FACTS.items():
            vals = sorted((meta.get("descriptors") or {}).get(cat) or {})
            if vals:
                facts[key] = vals[0]
        yield Query(_qid(r["source"], r["source_id"], text), text, r["lang"] or "en", "real", r["source"], None, facts)
    for r in _table(ingest / "conversations", columns=["source", "source_id", "turns", "metadata"]):
        if json.loads(r["metadata"] or "{}").get("split") != "train":
            continue
        first = next((t["text"] for t in r["turns"] if t["speaker"] == "user" and t["text"]), None)
        if first:
            text = " ".join(first.split())
            yield Query(_qid(r["source"], r["source_id"], text), text, "en", "real", r["source"], None, {})
    yield from playlist_requests(ingest)
    yield from caption_requests(ingest, captions)


def annotated_songs(ingest: Path) -> list[dict]:
    """The ingested `songs` rows with the facts other datasets give them attached: `_tags` (`playlist_tags`) and
    `_facts` (`muchin_song_facts`); `generate.song_facts` reads both."""
    songs = _table(ingest / "songs")
    if not songs:
        raise FileNotFoundError(f"{ingest}/songs: no part files; run the ingest stage first")
    tags, described = playlist_tags(ingest), muchin_song_facts(ingest)
    for row in songs:
        if row["song_id"] in tags:
            row["_tags"] = tags[row["song_id"]]
        if row["song_id"] in described:
            row["_facts"] = described[row["song_id"]]
    return songs


def build_pool(ingest: Path, cfg: ClusterConfig | None = None, per_song: int = 3, generator: str | None = None,
               captions: int | None = CAPTION_REQUESTS) -> tuple[list[Query], np.ndarray, dict]:  # fmt: skip
    """(queries, cluster per query, report): generated queries of every ingested song, then the real requests,
    clustered by `cluster_queries`. `generator`: a local Hugging Face model directory that writes one more query
    per song (`ModelGenerator`); `captions`: the cap on MusicCaps requests (None: every clip)."""
    cfg = cfg or ClusterConfig()
    songs = annotated_songs(ingest)
    queries = list(generate_pool(songs, per_song)) + list(real_queries(ingest, captions))
    if generator:
        from corpus.queries.generate import ModelGenerator

        queries += list(ModelGenerator(generator)(songs))
    labels, layout = cluster_queries(queries, cfg)
    rep = cluster_report(queries, labels, cfg, layout)
    rep.update(unique_texts=len({q.text for q in queries}), generated=sum(q.kind == "generated" for q in queries),
               real=sum(q.kind == "real" for q in queries), songs=len(songs),
               songs_with_queries=len({q.song_id for q in queries if q.song_id}),
               songs_listed_by_requests=len({s for q in queries for s in q.song_ids}),
               by_source=_by_source(queries))  # fmt: skip
    return queries, labels, rep


def _by_source(queries: list[Query]) -> dict[str, dict[str, int]]:
    """Per (kind, source): queries, and the number that express at least one fact."""
    out: dict[str, dict[str, int]] = {}
    for q in queries:
        c = out.setdefault(f"{q.kind}:{q.source}", {"queries": 0, "with_facts": 0})
        c["queries"] += 1
        c["with_facts"] += bool(q.facts)
    return dict(sorted(out.items()))


def write_pool(queries: list[Query], labels: np.ndarray, rep: dict, out: Path) -> Path:
    """`out/query_pool/part-00000.parquet` (the contract), `out/_report.md` and `_report.json`."""
    from jobs.outputs import write_rows

    rows = [{"query_id": q.query_id, "text": q.text, "lang": q.lang, "kind": q.kind, "source": q.source,
             "song_id": q.song_id, "facts": sorted(q.facts.items()), "song_ids": list(q.song_ids) or None,
             "cluster": int(c)}
            for q, c in zip(queries, labels, strict=True)]  # fmt: skip
    write_rows(out / "query_pool" / "part-00000.parquet", rows, "query_pool")
    (out / "_report.json").write_text(json.dumps(rep, indent=2, sort_keys=True, ensure_ascii=False), encoding="utf-8")
    (out / "_report.md").write_text(report_markdown(rep) + _pool_lines(rep), encoding="utf-8")
    return out


def _pool_lines(rep: dict) -> str:
    sources = "; ".join(f"{k} {v['queries']:,} ({v['with_facts']:,} with facts)" for k, v in rep["by_source"].items())
    return (f"\nPool: {rep['generated']:,} generated queries for {rep['songs_with_queries']:,} of {rep['songs']:,} "
            f"songs, {rep['real']:,} real requests (listing {rep['songs_listed_by_requests']:,} songs); "
            f"{rep['unique_texts']:,} distinct texts clustered.\n\nBy source: {sources}.\n")
