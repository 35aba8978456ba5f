"""ZIQI-Eval (Chinese music-knowledge multiple-choice benchmark): one `qa_items` row per CSV row.

One work unit per `<split>/<category>.csv` (11 categories, dev and test). `answer` is the text of the
correct choice (the letter is kept in metadata). The `music_generation` choices are multi-line ABC
notation; the contract normalises list items as names (whitespace collapsed), so their line structure
is kept in metadata `options`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from corpus.ingest.readers import InputError
from corpus.ingest.records import Record, Reject
from corpus.ingest.sources.base import IngestContext, SourceAdapter, SourceSpec, WorkUnit, resolve_dir
from corpus.ingest.sources.real._common import build_qa, csv_rows, file_units, passthrough

SPLITS = ("dev", "test")
LETTERS = ("A", "B", "C", "D")


class ZiqiEvalAdapter(SourceAdapter):
    name = "ziqi_eval"
    license = "unknown (not stated); cite Li et al. 2024"
    description = "ZIQI-Eval: 14,334 test + 55 dev Chinese music-knowledge multiple-choice questions."
    datasets = ("qa_items",)

    def plan(self, spec: SourceSpec, split_bytes: int) -> list[WorkUnit]:
        root = resolve_dir(spec.path)
        files = [(split, f) for split in SPLITS for f in sorted((root / split).glob("*.csv"))]
        if not files:
            raise InputError(
                f"{root}: no dev/*.csv or test/*.csv files for source {spec.name!r} (adapter {self.name})."
            )
        return file_units(spec, files)

    def read(self, unit: WorkUnit, ctx: IngestContext) -> Iterator[Record | Reject]:
        path = Path(unit.path)
        file = str(path)
        split, category = unit.kind, path.stem
        for raw in csv_rows(path):
            if raw.reject is not None:
                yield passthrough(raw, "qa_items")
                continue
            v = raw.values or {}
            letter = v["answer"].strip().upper()
            options = {k: v[k].strip() for k in LETTERS}
            if letter not in options:
                msg = f"answer letter {v['answer']!r} is not one of A-D"
                yield Reject(file, raw.row, "bad_type", msg, raw.payload or b"", "answer", "qa_items")
                continue
            values = {
                "source_id": f"{split}/{category}/{v['id'].strip()}",
                "question": v["question"],
                "answer": options[letter],
                "choices": list(options.values()),
                "category": category,
                "lang": "zh",
                "answer_letter": letter,
                "subtheme": v["subtheme"],
                "split": split,
                "id": v["id"],
            }
            if any("\n" in o for o in options.values()):
                values["options"] = options
            yield build_qa(ctx, values, file, raw.row, raw.payload)
