"""News text as `documents`: BBC News full articles (English) and THUCNews headlines (Chinese).

Both are topic-labelled, mostly non-music text (the `entertainment` / 娱乐 class holds the music stories):
the label is kept in metadata as `category` so later stages can pick music stories or negatives by it.
One document per JSON line, one work unit per byte split of the file. BBC ids are the upstream file names
(`business/001.txt`); THUCNews ids are `<split>/<idx>` (the line in the upstream dev/test file), and a
label that disagrees with `class.txt` is quarantined as `bad_value` rather than guessed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from corpus.ingest.readers import InputError, jsonl_splits, read_jsonl
from corpus.ingest.records import FieldError, Record, Reject
from corpus.ingest.sources.base import IngestContext, SourceAdapter, SourceSpec, WorkUnit
from corpus.ingest.sources.real._common import passthrough, to_int

# Upstream field names that are our column names, renamed so they cannot clash with ours.
_RENAME = {"source": "upstream_source", "metadata": "upstream_metadata", "id": "upstream_id"}


def _extra(v: dict, used: tuple[str, ...]) -> dict:
    """Fields the adapter does not map, kept for metadata under names that cannot clash with columns."""
    return {_RENAME.get(k, k): x for k, x in v.items() if k not in used}


class JsonlDocumentsAdapter(SourceAdapter):
    """One JSONL file of documents, read in byte splits. Subclasses map a row with `values`, which may raise
    `FieldError` for a value the source documents otherwise (quarantined with that reason and field)."""

    data_file: str

    def plan(self, spec: SourceSpec, split_bytes: int) -> list[WorkUnit]:
        root = self.check_root(spec)
        path = root / self.data_file
        return [WorkUnit(spec, str(path), "jsonl", s) for s in jsonl_splits(path, split_bytes)]

    def read(self, unit: WorkUnit, ctx: IngestContext) -> Iterator[Record | Reject]:
        path = Path(unit.path)
        file = str(path)
        start, end = unit.split or (0, None)
        lookup = self.lookup(path.parent)
        for raw in read_jsonl(path, start, end):
            if raw.reject is not None:
                yield passthrough(raw, "documents")
                continue
            try:
                values = self.values(raw.values or {}, lookup)
            except FieldError as e:
                msg = f"documents.{e.field}: {e}"
                yield Reject(file, raw.row, e.reason, msg, raw.payload or b"", e.field, "documents")
                continue
            yield ctx.build("documents", values, file, raw.row, raw.payload)

    def lookup(self, root: Path) -> object:
        """What `values` needs besides the row (read once per work unit)."""
        return None

    def values(self, v: dict, lookup: object) -> dict:
        raise NotImplementedError


class BbcNewsFulltextAdapter(JsonlDocumentsAdapter):
    name = "bbc_news_fulltext"
    license = "(c) BBC, no open license; internal research/test use only (Greene & Cunningham 2006)"
    description = "2,225 BBC News articles (2004-05), full text, 5 topic classes (entertainment holds ~190 music stories)."
    datasets = ("documents",)
    expected_files = ("bbc_news.jsonl",)
    data_file = "bbc_news.jsonl"

    def values(self, v: dict, lookup: object) -> dict:
        return {
            "source_id": v.get("id"),  # `<category>/<nnn>.txt`, the upstream file
            "title": v.get("title"),
            "text": v.get("text"),
            "lang": "en",
            "category": v.get("category"),
            # a heuristic count of music words (SOURCE.md), not a label
            "n_music_keyword_hits": v.get("n_music_keyword_hits"),
            **_extra(v, ("id", "title", "text", "category", "n_music_keyword_hits")),
        }


class ThucNewsTitlesAdapter(JsonlDocumentsAdapter):
    name = "thucnews_titles_zh"
    license = "unknown (repository MIT for code; THUCNews data terms not stated); research use"
    description = (
        "20,000 THUCNews Chinese news headlines (Sina 2005-11; dev + test), 10 topic classes incl. 娱乐."
    )
    datasets = ("documents",)
    expected_files = ("thucnews_titles.jsonl", "class.txt")
    data_file = "thucnews_titles.jsonl"

    def lookup(self, root: Path) -> list[str]:
        """Class names by label id, from `class.txt` (one per line)."""
        names = [line.strip() for line in (root / "class.txt").read_text(encoding="utf-8").splitlines()]
        if not names or not all(names):
            raise InputError(f"{root / 'class.txt'}: empty or blank line; expected one class name per line.")
        return names

    def values(self, v: dict, lookup: object) -> dict:
        classes: list[str] = lookup  # type: ignore[assignment]
        label_id = to_int(v.get("label_id"))
        if label_id is None or not 0 <= label_id < len(classes):
            msg = f"{v.get('label_id')!r:.40} is not one of the {len(classes)} label ids in class.txt"
            raise FieldError("label_id", "bad_value", msg)
        if v.get("label") != classes[label_id]:
            msg = f"{v.get('label')!r:.40} is not class.txt's name {classes[label_id]!r} for label_id {label_id}"
            raise FieldError("label", "bad_value", msg)
        split, idx = v.get("split"), v.get("idx")
        return {
            "source_id": f"{split}/{idx}" if split is not None and idx is not None else None,
            "text": v.get("text"),
            "lang": "zh",
            "category": classes[label_id],
            "category_zh": v.get("label_zh"),
            "label_id": label_id,
            "split": split,
            "idx": idx,
            **_extra(v, ("split", "idx", "text", "label_id", "label", "label_zh")),
        }
