"""The query pool: generated queries for every ingested song plus real users' requests, clustered, written as the
`query_pool` dataset with its cluster report.

Songs get their playlists' tags as a fact (`playlist_tags`). Real requests come from the ingest outputs: Deezer's
intent requests (their annotated descriptors become facts:
Genre -> genre, Decade -> decade, Mood -> mood_tag, ListeningContext -> activity_tag), Reddit music requests
(MusicRecoNER) and the first user turn of CPCD's *train* conversations (CPCD val/test are evaluation sets and are
never read here).
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


def real_queries(ingest: Path) -> Iterator[Query]:
    """Users' requests from the ingest outputs (see the module docstring), in source order."""
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


def build_pool(ingest: Path, cfg: ClusterConfig | None = None, per_song: int = 3,
               generator: str | None = None) -> tuple[list[Query], np.ndarray, dict]:
    """(queries, cluster per query, report): generated queries of every ingested song, then the real requests,
    clustered by `cluster_queries`. `generator`: a local Hugging Face model directory that writes one more query
    per song (`ModelGenerator`)."""
    cfg = cfg or ClusterConfig()
    songs = _table(ingest / "songs")
    if not songs:
        raise FileNotFoundError(f"{ingest}/songs: no part files; run the ingest stage first")
    tags = playlist_tags(ingest)
    for row in songs:
        if row["song_id"] in tags:
            row["_tags"] = tags[row["song_id"]]
    queries = list(generate_pool(songs, per_song)) + list(real_queries(ingest))
    if generator:
        from corpus.queries.generate import ModelGenerator

        queries += list(ModelGenerator(generator)(songs))
    labels, layout = cluster_queries(queries, cfg)
    rep = cluster_report(queries, labels, cfg, layout)
    rep.update(unique_texts=len({q.text for q in queries}), generated=sum(q.kind == "generated" for q in queries),
               real=sum(q.kind == "real" for q in queries), songs=len(songs),
               songs_with_queries=len({q.song_id for q in queries if q.song_id}))  # fmt: skip
    return queries, labels, rep


def write_pool(queries: list[Query], labels: np.ndarray, rep: dict, out: Path) -> Path:
    """`out/query_pool/part-00000.parquet` (the contract), `out/_report.md` and `_report.json`."""
    from jobs.outputs import write_rows

    rows = [{"query_id": q.query_id, "text": q.text, "lang": q.lang, "kind": q.kind, "source": q.source,
             "song_id": q.song_id, "facts": sorted(q.facts.items()), "cluster": int(c)}
            for q, c in zip(queries, labels, strict=True)]  # fmt: skip
    write_rows(out / "query_pool" / "part-00000.parquet", rows, "query_pool")
    (out / "_report.json").write_text(json.dumps(rep, indent=2, sort_keys=True, ensure_ascii=False), encoding="utf-8")
    (out / "_report.md").write_text(report_markdown(rep) + _pool_lines(rep), encoding="utf-8")
    return out


def _pool_lines(rep: dict) -> str:
    return (f"\nPool: {rep['generated']:,} generated queries for {rep['songs_with_queries']:,} of {rep['songs']:,} "
            f"songs, {rep['real']:,} real requests; {rep['unique_texts']:,} distinct texts clustered.\n")
