"""CPCD (Conversational Playlist Curation Dataset), dev set: one primary `conversations` row per line.

The dev set is `train` (400) + `val` (50). `val.with_clusters` holds the same 50 conversations in a newer
schema; reading it as well would duplicate them, so option `val_with_clusters: true` reads it *instead
of* the plain val file (default false). Tracks (YouTube video ids with title/artist/release) become
derived `songs`, one per track id across the unit. A turn's empty system response (85 turns) is left
out of `turns`, which require text; per-turn search and feedback fields stay in metadata.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from corpus.ingest.readers import InputError, read_jsonl
from corpus.ingest.records import Record, Reject
from corpus.ingest.sources.base import IngestContext, SourceAdapter, SourceSpec, WorkUnit
from corpus.ingest.sources.real._common import derived, passthrough

TRAIN = "cpcd_v1.dialogs.dev.train.jsonl"
VAL = "cpcd_v1.dialogs.dev.val.jsonl"
VAL_WITH_CLUSTERS = "cpcd_v1.dialogs.dev.val.with_clusters.jsonl"
_TURN_DETAIL = ("search_queries", "search_results", "liked_results", "disliked_results")


def data_files(spec: SourceSpec) -> list[str]:
    return [TRAIN, VAL_WITH_CLUSTERS if spec.options.get("val_with_clusters", False) else VAL]


class CpcdAdapter(SourceAdapter):
    name = "cpcd"
    license = "CC BY 4.0"
    description = (
        "450 human-human playlist-curation conversations (dev train + val) with liked/disliked tracks."
    )
    datasets = ("conversations", "songs")
    expected_files = (TRAIN,)

    def plan(self, spec: SourceSpec, split_bytes: int) -> list[WorkUnit]:
        # one unit so tracks shared between conversations (and files) become one derived song each
        root = self.check_root(spec)
        for f in data_files(spec):
            if not (root / f).exists():
                raise InputError(
                    f"{root / f}: missing input file for source {spec.name!r} (adapter {self.name})."
                )
        return [WorkUnit(spec, str(root), kind="dir")]

    def read(self, unit: WorkUnit, ctx: IngestContext) -> Iterator[Record | Reject]:
        root = Path(unit.path)
        tracks: dict[str, tuple[dict, str, int]] = {}
        for name in data_files(unit.source):
            path = root / name
            split = "train" if name == TRAIN else "val"
            for raw in read_jsonl(path):
                if raw.reject is not None:
                    yield passthrough(raw, "conversations")
                    continue
                v = raw.values or {}
                turns, details = [], []
                for t in v.get("turns") or []:
                    if not isinstance(t, dict):
                        turns.append(t)  # let the builder reject the malformed turn
                        continue
                    for speaker, key in (("user", "user_query"), ("system", "system_response")):
                        text = t.get(key)
                        if isinstance(text, str) and text.strip():
                            turns.append({"speaker": speaker, "text": text})
                    details.append({k: t.get(k) for k in _TURN_DETAIL})
                track_map = v.get("tracks") or {}
                goal = v.get("goal_playlist") or []
                values = {
                    "source_id": v.get("id"),
                    "turns": turns,
                    "split": split,
                    "turn_details": details,
                    "goal_playlist": goal,
                    "goal_song_ids": [ctx.link("songs", t) for t in goal],
                    "track_ids": list(track_map),
                    **{k: x for k, x in v.items() if k not in ("id", "turns", "tracks", "goal_playlist")},
                }
                out = ctx.build("conversations", values, str(path), raw.row, raw.payload)
                yield out
                if isinstance(out, Record) and isinstance(track_map, dict):
                    for tid, info in track_map.items():
                        if tid not in tracks and isinstance(info, dict):
                            tracks[tid] = (info, str(path), raw.row)
        for tid, (info, file, row) in tracks.items():
            values = {
                "source_id": tid,
                "title": info.get("track_titles"),
                "artists": info.get("track_artists"),
                "album": info.get("track_release_titles"),
                "youtube_id": info.get("track_ids"),
                **{k: x for k, x in info.items() if k not in ("track_titles", "track_artists",
                                                                "track_release_titles", "track_ids")},
            }  # fmt: skip
            rec = derived(ctx, "songs", values, file, row)
            if rec is not None:
                yield rec
