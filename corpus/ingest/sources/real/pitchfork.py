"""Pitchfork album reviews 1999-2017, metadata only (no review text): albums with critic scores.

Each `pitchfork_reviews.csv` row is one primary `albums` record (id: `reviewid`). The four side tables
(`pitchfork_artists/genres/labels/years.csv`, one row per value of a review) are joined by `reviewid`, so
their rows are not records of their own; a side row whose `reviewid` matches no review is quarantined
(`orphan_row`), a malformed one as usual. Credited artists come from the artists table (the review's own
`artist` cell joins them with commas); genres fill `genres`; `year` is the earliest release year (reissue
reviews list the original and the reissue year; all are kept as `release_years`); score (0-10), Best New
Music, critic, publication date, labels and URL go to metadata, as the albums contract has no columns for
them. The SQLite export wrote NULL as a bare `NA`: such values are dropped, and a review left without a
title or artist (3, whose names were made of symbols the scrape lost) is quarantined. Four reviews are
listed twice, identically (with their side rows): their repeated album records are dropped by the id
dedupe as `duplicate_row`. Artists are derived once per case-folded name, except the compilation credit
`various artists`, which names no artist.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from corpus.ingest.records import Record, Reject
from corpus.ingest.sources.base import IngestContext, SourceAdapter, WorkUnit
from corpus.ingest.sources.real._common import csv_rows, derived, name_key, passthrough, to_float, to_int

REVIEWS = "pitchfork_reviews.csv"
# side table -> its value column
SIDE_TABLES = {
    "pitchfork_artists.csv": "artist",
    "pitchfork_genres.csv": "genre",
    "pitchfork_labels.csv": "label",
    "pitchfork_years.csv": "year",
}
NA = "NA"  # NULL as the SQLite-to-CSV export wrote it
NOT_AN_ARTIST = "various artists"
_BOOL = {"0": False, "1": True}


def _reject(file: str, row: int, reason: str, field: str, msg: str, payload: bytes | None) -> Reject:
    return Reject(file, row, reason, f"albums.{field}: {msg}", payload or b"", field, "albums")


class PitchforkReviewsAdapter(SourceAdapter):
    name = "pitchfork_reviews_metadata"
    license = (
        "not stated (review metadata of a commercial publication; N. Conway's scrape via "
        "ElishaPhillips/Analyzing_Pitchfork_Music_Reviews); internal research use"
    )
    description = (
        "18,393 Pitchfork album reviews 1999-2017 (no text): score, Best New Music, critic, date, artists, "
        "genres, labels, release years."
    )
    datasets = ("albums", "artists")
    expected_files = (REVIEWS, *SIDE_TABLES)
    # one unit: the side tables are joined into the review rows

    def read(self, unit: WorkUnit, ctx: IngestContext) -> Iterator[Record | Reject]:
        root = Path(unit.path)
        # side table -> reviewid -> values (ordered, distinct); and the rows each reviewid came from
        joined: dict[str, dict[str, list]] = {t: defaultdict(list) for t in SIDE_TABLES}
        side_rows: dict[str, dict[str, list[tuple[int, bytes]]]] = {t: defaultdict(list) for t in SIDE_TABLES}
        for table, column in SIDE_TABLES.items():
            yield from self._read_side(root / table, column, joined[table], side_rows[table])

        path = root / REVIEWS
        file = str(path)
        reviewed: set[str] = set()
        artists: dict[str, tuple[str, int]] = {}  # name key -> (first spelling, first row)
        for raw in csv_rows(path):
            if raw.reject is not None:
                yield passthrough(raw, "albums")
                continue
            v = raw.values or {}
            rid = v["reviewid"].strip()
            reviewed.add(rid)
            score = to_float(v["score"])
            if score is None or not 0 <= score <= 10:
                reason = "bad_type" if score is None else "out_of_range"
                msg = f"must be a number in [0, 10], got {v['score']!r:.60}"
                yield _reject(file, raw.row, reason, "score", msg, raw.payload)
                continue
            bnm = v["best_new_music"].strip()
            if bnm not in _BOOL:
                msg = f"must be 0 or 1, got {bnm!r:.60}"
                yield _reject(file, raw.row, "bad_type", "best_new_music", msg, raw.payload)
                continue
            v = {k: None if x.strip() == NA else x for k, x in v.items()}
            # no title or artist (3 reviews: names of symbols the scrape lost) is quarantined as `missing_field`
            credited = joined["pitchfork_artists.csv"].get(rid) or ([v["artist"]] if v["artist"] else None)
            years = joined["pitchfork_years.csv"].get(rid) or []
            values = {
                "source_id": rid,
                "title": v["title"],
                "artists": credited,
                "year": min(years) if years else None,
                "genres": joined["pitchfork_genres.csv"].get(rid) or None,
                "score": score,
                "best_new_music": _BOOL[bnm],
                "author": v["author"],
                "author_type": v["author_type"],
                "pub_date": v["pub_date"],
                "labels": joined["pitchfork_labels.csv"].get(rid) or None,
                "release_years": years or None,
                "artist": v["artist"],  # the review's credit line, e.g. "kleenex, liliput"
                "url": v["url"],
            }
            rec = ctx.build("albums", values, file, raw.row, raw.payload)
            if isinstance(rec, Record) and credited:
                for name in credited:
                    key = name_key(name)
                    if key and key != NOT_AN_ARTIST:
                        artists.setdefault(key, (name, raw.row))
            yield rec

        for table, rows in side_rows.items():
            for rid, found in rows.items():
                if rid in reviewed:
                    continue
                for row, payload in found:
                    msg = f"reviewid {rid!r:.40} matches no review in {REVIEWS}"
                    yield _reject(str(root / table), row, "orphan_row", "reviewid", msg, payload)
        for key, (name, row) in artists.items():
            yield derived(ctx, "artists", {"source_id": key, "name": name}, file, row)

    def _read_side(
        self, path: Path, column: str, values: dict[str, list], rows: dict[str, list[tuple[int, bytes]]]
    ) -> Iterator[Reject]:
        """Fill `values` (reviewid -> distinct values, file order) and `rows` from one side table; yield its
        malformed rows."""
        file = str(path)
        for raw in csv_rows(path):
            if raw.reject is not None:
                yield passthrough(raw, "albums")
                continue
            v = raw.values or {}
            rid, value = v["reviewid"].strip(), v[column].strip()
            if not rid or not value:
                field = "reviewid" if not rid else column
                yield _reject(file, raw.row, "missing_field", field, f"is empty in {path.name}", raw.payload)
                continue
            parsed: str | int | None = None if value == NA else value
            if column == "year" and parsed is not None:
                parsed = to_int(value)
                if parsed is None:
                    msg = f"must be a year, got {value!r:.60}"
                    yield _reject(file, raw.row, "bad_type", "year", msg, raw.payload)
                    continue
            rows[rid].append((raw.row, raw.payload or b""))
            if parsed is not None and parsed not in values[rid]:
                values[rid].append(parsed)
