"""NQ-Open / EfficientQA search questions as `qa_items`, flagged where they are music questions.

The three question files are ingested, one work unit each. `nq_open_music_candidates.jsonl` is a subset
of those rows (526 matched by a music-keyword regex), not new data: it is a lookup that sets
`music_candidate` in metadata. `answer` is the first listed acceptable answer (real answers such as
"None" or "N/A" are kept as text); all answers stay in metadata.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from corpus.ingest.ids import content_key
from corpus.ingest.readers import read_jsonl
from corpus.ingest.records import Record, Reject
from corpus.ingest.sources.base import IngestContext, SourceAdapter, SourceSpec, WorkUnit
from corpus.ingest.sources.real._common import build_qa, file_units, passthrough

QUESTION_FILES = (
    "NQ-open.dev.jsonl",
    "NQ-open.efficientqa.dev.1.1.jsonl",
    "NQ-open.efficientqa.test.1.1.jsonl",
)
CANDIDATES = "nq_open_music_candidates.jsonl"


def load_candidates(path: Path) -> set[tuple[str, str]]:
    """(source_file, question) pairs of the music candidates."""
    out: set[tuple[str, str]] = set()
    if path.exists():
        for raw in read_jsonl(path):
            if raw.values:
                out.add((str(raw.values.get("source_file")), str(raw.values.get("question"))))
    return out


class NQOpenMusicAdapter(SourceAdapter):
    name = "nq_open_music"
    license = "CC BY-SA 3.0"
    description = "7,179 NQ-Open/EfficientQA real search questions with short answers; 526 flagged as music."
    datasets = ("qa_items",)
    expected_files = (*QUESTION_FILES, CANDIDATES)

    def plan(self, spec: SourceSpec, split_bytes: int) -> list[WorkUnit]:
        root = self.check_root(spec)
        return file_units(spec, [("jsonl", root / f) for f in QUESTION_FILES])

    def read(self, unit: WorkUnit, ctx: IngestContext) -> Iterator[Record | Reject]:
        path = Path(unit.path)
        file = str(path)
        music = load_candidates(path.parent / CANDIDATES)
        for raw in read_jsonl(path):
            if raw.reject is not None:
                yield passthrough(raw, "qa_items")
                continue
            v = raw.values or {}
            question = v.get("question")
            answers = v.get("answer")
            answers = answers if isinstance(answers, list) else [answers]
            usable = [a for a in answers if isinstance(a, str) and a.strip()]
            values = {
                "source_id": content_key(question),  # questions are unique across the three files
                "question": question,
                "answer": usable[0] if usable else (answers[0] if answers else None),
                "lang": "en",
                "answers": answers,
                "split": path.name,
                "music_candidate": (path.name, question) in music,
                **{k: x for k, x in v.items() if k not in ("question", "answer")},
            }
            yield build_qa(ctx, values, file, raw.row, raw.payload)
