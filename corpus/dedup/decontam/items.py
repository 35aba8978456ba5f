"""Evaluation items for decontamination: `EvalItem`, `DecontamConfig`, and the readers that turn `qa_items`
and `conversations` tables or any JSONL / Parquet / CSV file into items (rules in the package docstring).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from corpus.ingest.readers import detect_format, open_parquet, read_csv, read_jsonl, read_parquet

# ----------------------------------------------------------------------------- items and configuration


@dataclass(frozen=True)
class EvalItem:
    """One evaluation item. `text` is indexed as a whole and each of `parts` on its own (see the package doc)."""

    eval_set: str
    item_id: str
    text: str
    parts: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.eval_set, self.item_id)


@dataclass(frozen=True)
class DecontamConfig:
    """`ngram`: window length in tokens; `min_tokens`: shortest text indexed (shorter ones are whole-text
    n-grams down to this); `min_matches`: distinct n-grams an item must share with a document to contaminate
    it (capped at the item's own n-gram count); `template_items`: items with different texts sharing a
    short part that make it a template (0 keeps every part)."""

    ngram: int = 13
    min_tokens: int = 8
    min_matches: int = 1
    template_items: int = 3

    def __post_init__(self) -> None:
        if self.ngram < 1 or self.min_tokens < 1 or self.min_matches < 1:
            raise ValueError(
                f"ngram, min_tokens and min_matches must be >= 1 (got {self.ngram}, {self.min_tokens}, "
                f"{self.min_matches})"
            )
        if self.template_items == 1 or self.template_items < 0:
            raise ValueError(f"template_items must be 0 (off) or >= 2 (got {self.template_items})")


# ----------------------------------------------------------------------------- eval rows to items


def _require(columns: Sequence[str], needed: Sequence[str], origin: str, hint: str) -> None:
    missing = [c for c in needed if c not in columns]
    if missing:
        raise ValueError(f"{origin}: missing column(s) {missing} (columns: {list(columns)}); {hint}")


def _row_id(value: object, origin: str, row: int, column: str) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError(f"{origin}: row {row}: `{column}` is empty; every eval item needs an id")
    return str(value)


def eval_items_from_qa(
    table: pa.Table, eval_set: str | None = None, *, origin: str = "qa_items table"
) -> list[EvalItem]:
    """Items of a `qa_items` table: text = question + newline + answer, part = the question alone; choices
    are not indexed. `eval_set` defaults to each row's `source` (the adapter name); ids are `qa_id`."""
    needed = ["qa_id", "question", "answer", *([] if eval_set else ["source"])]
    _require(table.column_names, needed, origin, "expected the `qa_items` contract (schemas/datasets.py)")
    cols = {c: table.column(c).to_pylist() for c in needed}
    sources = cols.get("source") or [eval_set] * table.num_rows
    items = []
    for row, (qa_id, question, answer, src) in enumerate(
        zip(cols["qa_id"], cols["question"], cols["answer"], sources, strict=True), 1
    ):
        if not src:
            raise ValueError(f"{origin}: row {row}: `source` is empty; pass eval_set= to name the eval set")
        q, a = (question or "").strip(), (answer or "").strip()
        text = f"{q}\n{a}" if q and a else q or a
        items.append(EvalItem(str(src), _row_id(qa_id, origin, row, "qa_id"), text, (q,) if q and a else ()))
    return items


def eval_items_from_conversations(
    table: pa.Table, eval_set: str | None = None, *, origin: str = "conversations table"
) -> list[EvalItem]:
    """Items of a `conversations` table: one per conversation, text = its turns joined by newlines (no
    parts: short turns are stock phrases). `eval_set` defaults to each row's `source`; ids are `conversation_id`."""
    needed = ["conversation_id", "turns", *([] if eval_set else ["source"])]
    _require(
        table.column_names, needed, origin, "expected the `conversations` contract (schemas/datasets.py)"
    )
    cols = {c: table.column(c).to_pylist() for c in needed}
    sources = cols.get("source") or [eval_set] * table.num_rows
    items = []
    for row, (conv_id, turns, src) in enumerate(
        zip(cols["conversation_id"], cols["turns"], sources, strict=True), 1
    ):
        if not src:
            raise ValueError(f"{origin}: row {row}: `source` is empty; pass eval_set= to name the eval set")
        texts = []
        for t in turns or []:
            if not isinstance(t, dict) or not isinstance(t.get("text"), str):
                raise ValueError(f"{origin}: row {row}: a turn is {t!r:.80}; expected {{speaker, text}}")
            if t["text"].strip():
                texts.append(t["text"].strip())
        items.append(EvalItem(str(src), _row_id(conv_id, origin, row, "conversation_id"), "\n".join(texts)))
    return items


def _field_text(value: object, file: str, row: int, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str | int | float | bool):
        return str(value).strip()
    if isinstance(value, list) and all(v is None or isinstance(v, str | int | float) for v in value):
        return "\n".join(str(v).strip() for v in value if v is not None and str(v).strip())
    raise ValueError(
        f"{file}: row {row}: field `{name}` is a {type(value).__name__}; expected text or a list of text"
    )


def _file_rows(path: Path, needed: list[str]) -> Iterator[tuple[int, dict]]:
    fmt = detect_format(path)
    if fmt == "parquet":
        _require(open_parquet(path).schema_arrow.names, needed, str(path), "name existing fields")
        rows = read_parquet(path)
    elif fmt in ("csv", "tsv"):
        rows = read_csv(path, delimiter="\t" if fmt == "tsv" else ",", required_columns=tuple(needed))
    else:
        rows = read_jsonl(path)
    for raw in rows:
        if raw.reject is not None:  # an eval row that cannot be read would be an item never checked
            raise ValueError(
                f"{raw.reject.file}: row {raw.reject.row}: {raw.reject.message}; fix the eval file"
            )
        yield raw.row, raw.values or {}


def eval_items_from_file(
    path: str | os.PathLike,
    eval_set: str,
    text_field: str | Sequence[str],
    id_field: str | None = None,
    part_fields: Sequence[str] = (),
) -> list[EvalItem]:
    """Items of a JSONL, Parquet or CSV/TSV file (format from the extension). Text = the `text_field`
    values joined by newlines (a list value is joined too); each `part_fields` value is also indexed alone;
    ids come from `id_field`, else the 1-based row (JSONL: line) number. Missing file: FileNotFoundError;
    missing field, unreadable row, duplicate id: ValueError naming the file and row."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: eval file not found")
    fields = [text_field] if isinstance(text_field, str) else list(text_field)
    if not fields:
        raise ValueError(f"{path}: text_field names no field")
    needed = list(dict.fromkeys([*fields, *part_fields, *([id_field] if id_field else [])]))
    items: list[EvalItem] = []
    seen: dict[str, int] = {}
    present: set[str] = set()
    for row, values in _file_rows(path, needed):
        present.update(values)
        texts = [_field_text(values.get(f), str(path), row, f) for f in fields]
        parts = tuple(p for f in part_fields if (p := _field_text(values.get(f), str(path), row, f)))
        item_id = _row_id(values.get(id_field), str(path), row, id_field) if id_field else str(row)
        if item_id in seen:
            raise ValueError(
                f"{path}: row {row}: id {item_id!r} already used by row {seen[item_id]}; ids must be unique"
            )
        seen[item_id] = row
        items.append(EvalItem(eval_set, item_id, "\n".join(t for t in texts if t), parts))
    if items:  # JSONL rows may omit a key; a key that no row has is a wrong field name
        _require(sorted(present), needed, str(path), "name existing fields")
    return items
