"""Grammy Awards nominations 1958-2019 (Kaggle scrape of grammy.com): one primary `awards` row per CSV row.

The file is UTF-8 with a BOM (the reader strips it). The scrape's mojibake (`BartÃ³k`, "Â" before a
non-breaking space) is repaired by the record builder, like every ingested string. Every row of this copy
has `winner` TRUE.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from corpus.ingest.ids import content_key
from corpus.ingest.records import Record, Reject
from corpus.ingest.sources.base import IngestContext, SourceAdapter, WorkUnit
from corpus.ingest.sources.real._common import csv_rows, passthrough


class GrammyAwardsAdapter(SourceAdapter):
    name = "grammy_awards"
    license = "unknown (Kaggle 'Grammy Awards', scraped from grammy.com)"
    description = "4,462 Grammy Award nominations 1958-2019: ceremony, category, nominee, artist, credits."
    datasets = ("awards",)
    expected_files = ("the_grammy_awards.csv",)
    unit_kind = "csv"

    def read(self, unit: WorkUnit, ctx: IngestContext) -> Iterator[Record | Reject]:
        path = Path(unit.path)
        file = str(path)
        for raw in csv_rows(path):
            if raw.reject is not None:
                yield passthrough(raw, "awards")
                continue
            v = raw.values or {}
            values = {
                # no id in the source: (year, category, nominee, artist, credits) identifies a nomination
                "source_id": content_key(v["year"], v["category"], v["nominee"], v["artist"], v["workers"]),
                "ceremony": v["title"],
                "year": v["year"],
                "category": v["category"],
                "nominee": v["nominee"],
                "artists": [v["artist"]] if v["artist"].strip() else None,
                "credits": v["workers"],
                "winner": v["winner"],
                "published_at": v["published_at"],
                "updated_at": v["updated_at"],
                "img": v["img"],
            }
            yield ctx.build("awards", values, file, raw.row, raw.payload)
