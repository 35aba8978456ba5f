"""MusicCaps (Google): one `documents` row per clip caption written by a musician.

Captions may span lines (quoted CSV fields), so rows are CSV records, not lines. `aspect_list` is a
Python-list string and is parsed into a list in metadata; AudioSet labels become a list of MIDs.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from corpus.ingest.records import Record, Reject
from corpus.ingest.sources.base import IngestContext, SourceAdapter, WorkUnit
from corpus.ingest.sources.real._common import csv_rows, passthrough


def parse_list(cell: str) -> list | str | None:
    """A Python-literal list, or the raw string when it does not parse (kept rather than dropped)."""
    if not cell.strip():
        return None
    try:
        value = ast.literal_eval(cell)
    except (ValueError, SyntaxError):
        return cell
    return value if isinstance(value, list) else cell


class MusicCapsAdapter(SourceAdapter):
    name = "musiccaps"
    license = "CC BY-SA 4.0"
    description = "5,521 MusicCaps captions and aspect lists for 10-second AudioSet clips."
    datasets = ("documents",)
    expected_files = ("musiccaps-public.csv",)
    unit_kind = "csv"

    def read(self, unit: WorkUnit, ctx: IngestContext) -> Iterator[Record | Reject]:
        path = Path(unit.path)
        file = str(path)
        for raw in csv_rows(path):
            if raw.reject is not None:
                yield passthrough(raw, "documents")
                continue
            v = raw.values or {}
            labels = [x.strip() for x in v["audioset_positive_labels"].split(",") if x.strip()]
            values = {
                "source_id": f"{v['ytid'].strip()}:{v['start_s'].strip()}",
                "text": v["caption"],
                "lang": "en",
                "ytid": v["ytid"],
                "start_s": v["start_s"],
                "end_s": v["end_s"],
                "audioset_positive_labels": labels or None,
                "aspect_list": parse_list(v["aspect_list"]),
                "author_id": v["author_id"],
                "is_balanced_subset": v["is_balanced_subset"].strip() == "True",
                "is_audioset_eval": v["is_audioset_eval"].strip() == "True",
            }
            yield ctx.build("documents", values, file, raw.row, raw.payload)
