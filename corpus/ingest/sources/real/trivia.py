"""Trivia question sets as `qa_items`: opentdb.com music, OpenTriviaQA music, el-cms music, other categories.

Formats: opentdb JSONL (HTML-entity encoded, unescaped here), OpenTriviaQA `#Q`/`^`/`A`-blocks (a row is a
block, numbered by its `#Q` line; questions may span lines), el-cms JSON arrays (a row is an array
element), and the normalised `all_questions.jsonl` of the non-music categories. opentdb gives a correct
answer and a list of wrong ones but no choice order; choices are sorted so the correct one is not always
first. Real answers spelled like nulls ("None") are kept: only empty strings are missing in text columns.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

from corpus.ingest.ids import content_key
from corpus.ingest.readers import InputError, RawRow, read_jsonl
from corpus.ingest.records import Record, Reject
from corpus.ingest.sources.base import IngestContext, SourceAdapter, SourceSpec, WorkUnit
from corpus.ingest.sources.real._common import build_qa, passthrough, read_json_list

_CHOICE = re.compile(r"([A-Z]) (.*)")
OPENTDB_ORIGIN = "opentdb.com"


def opentdb_choices(correct: str, incorrect: list[str], qtype: str | None) -> list[str]:
    """All choices in a fixed order: True/False for booleans, else sorted case-insensitively."""
    if qtype == "boolean":
        return ["True", "False"]
    return sorted([correct, *incorrect], key=lambda s: (s.casefold(), s))


def read_otqa_blocks(path: Path) -> Iterator[RawRow]:
    """OpenTriviaQA blocks: `#Q question` (continuation lines allowed), `^ answer`, then `A choice` lines.
    A block's row is the line number of its `#Q`; its payload is the block's bytes. Invalid UTF-8 is kept
    as surrogate escapes so the record builder quarantines the row as `invalid_utf8`."""
    file = str(path)
    lines = path.read_bytes().split(b"\n")
    block: dict | None = None

    def finish(b: dict) -> RawRow:
        payload = b"\n".join(b["raw"])
        if b["error"] or b["answer"] is None:
            msg = b["error"] or "block has no '^ <answer>' line"
            return RawRow(b["row"], payload, reject=Reject(file, b["row"], "malformed_row", msg, payload))
        question = "\n".join(b["question"])
        return RawRow(
            b["row"], payload, values={"question": question, "answer": b["answer"], "choices": b["choices"]}
        )

    for n, line in enumerate(lines, 1):
        text = line.decode("utf-8", "surrogateescape").rstrip("\r")
        if text.startswith("#Q"):
            if block is not None:
                yield finish(block)
            block = {"row": n, "raw": [line], "question": [text[2:].strip()], "answer": None, "choices": [],
                     "error": None}  # fmt: skip
            continue
        if block is None:
            if text.strip():  # text before the first question belongs to no block
                msg = "line outside any '#Q' block"
                yield RawRow(n, line, reject=Reject(file, n, "malformed_row", msg, line))
            continue
        block["raw"].append(line)
        if not text.strip():
            continue
        if block["answer"] is None:
            if text.startswith("^"):
                block["answer"] = text[1:].strip()
            else:
                block["question"].append(text)  # multi-line question (lyrics quoted over several lines)
            continue
        m = _CHOICE.fullmatch(text)
        if m:
            block["choices"].append(m.group(2).strip())
        elif block["error"] is None:
            block["error"] = f"unexpected line {n} after the answer: {text[:60]!r}"
    if block is not None:
        yield finish(block)


def _letter(answer: str, choices: list[str]) -> str | None:
    for i, c in enumerate(choices):
        if c == answer:
            return chr(ord("A") + i)
    return None


class OpenTdbMusicAdapter(SourceAdapter):
    name = "opentdb_music"
    license = "CC BY-SA 4.0 (opentdb.com API terms)"
    description = "527 opentdb.com music and musicals questions (multiple choice and true/false)."
    datasets = ("qa_items",)
    expected_files = ("opentdb_music.jsonl",)
    unit_kind = "jsonl"

    def read(self, unit: WorkUnit, ctx: IngestContext) -> Iterator[Record | Reject]:
        path = Path(unit.path)
        file = str(path)
        for raw in read_jsonl(path):
            if raw.reject is not None:
                yield passthrough(raw, "qa_items")
                continue
            v = raw.values or {}
            un = {k: html.unescape(x) if isinstance(x, str) else x for k, x in v.items()}
            wrong = [html.unescape(x) for x in v.get("incorrect_answers") or [] if isinstance(x, str)]
            correct = un.get("correct_answer")
            values = {
                "source_id": content_key(v.get("category"), v.get("question")),
                "question": un.get("question"),
                "answer": correct,
                "choices": opentdb_choices(correct, wrong, v.get("type"))
                if isinstance(correct, str)
                else None,
                "category": un.get("category"),
                "difficulty": un.get("difficulty"),
                "lang": "en",
                "type": v.get("type"),
                "incorrect_answers": wrong,
            }
            yield build_qa(ctx, values, file, raw.row, raw.payload)


class OpenTriviaQAMusicAdapter(SourceAdapter):
    """Option `variant`: `txt` (default; `music.txt`, the cleaned 2023 version SOURCE.md recommends) or
    `json` (`music.json`, the 2016 conversion: 5,637 elements, 5 empty `{}` and 53 questions split in two
    elements, all of which are quarantined). Read one or the other, never both: they hold the same questions."""

    name = "open_trivia_qa_music"
    license = "CC BY-SA 4.0"
    description = "OpenTriviaQA music category: 5,579 multiple-choice questions."
    datasets = ("qa_items",)
    expected_files = ()

    def plan(self, spec: SourceSpec, split_bytes: int) -> list[WorkUnit]:
        variant = str(spec.options.get("variant", "txt"))
        if variant not in ("txt", "json"):
            raise ValueError(f"source {spec.name!r}: option variant must be 'txt' or 'json', got {variant!r}")
        root = self.check_root(spec)
        path = root / f"music.{variant}"
        if not path.exists():
            raise InputError(f"{path}: missing input file for source {spec.name!r} (adapter {self.name}).")
        return [WorkUnit(spec, str(path), kind=variant)]

    def read(self, unit: WorkUnit, ctx: IngestContext) -> Iterator[Record | Reject]:
        path = Path(unit.path)
        file = str(path)
        rows = read_otqa_blocks(path) if unit.kind == "txt" else read_json_list(path)
        for raw in rows:
            if raw.reject is not None:
                yield passthrough(raw, "qa_items")
                continue
            v = raw.values or {}
            question, answer, choices = v.get("question"), v.get("answer"), v.get("choices")
            values = {
                # the same question and answer with other choices is another item, not a conflict
                "source_id": content_key(question, answer, *(choices or [])),
                "question": question,
                "answer": answer,
                "choices": choices,
                "category": "music",
                "lang": "en",
                "answer_letter": _letter(answer, choices) if isinstance(choices, list) else None,
                **{k: x for k, x in v.items() if k not in ("question", "answer", "choices")},
            }
            yield build_qa(ctx, values, file, raw.row, raw.payload)


class OpenTriviaDatabaseMusicAdapter(SourceAdapter):
    name = "open_trivia_database_music"
    license = "unknown (none stated; cite el-cms/Open-trivia-database)"
    description = "3,317 el-cms Open-trivia-database music short-answer questions (unreviewed 'todo' set)."
    datasets = ("qa_items",)
    expected_files = ("music.json",)
    unit_kind = "json"

    def read(self, unit: WorkUnit, ctx: IngestContext) -> Iterator[Record | Reject]:
        path = Path(unit.path)
        yield from read_elcms(path, ctx)


def read_elcms(path: Path, ctx: IngestContext) -> Iterator[Record | Reject]:
    """el-cms JSON arrays: `answers[answer]` is the short answer; there are no distractors."""
    file = str(path)
    for raw in read_json_list(path):
        if raw.reject is not None:
            yield passthrough(raw, "qa_items")
            continue
        v = raw.values or {}
        answers, idx = v.get("answers"), v.get("answer")
        if not isinstance(answers, list) or not isinstance(idx, int) or not 0 <= idx < len(answers):
            msg = f"`answer` ({idx!r}) is not an index into `answers` ({answers!r:.80})"
            yield Reject(file, raw.row, "bad_type", msg, raw.payload or b"", "answer", "qa_items")
            continue
        question, answer = v.get("question"), answers[idx]
        values = {
            "source_id": content_key(question, answer),
            "question": question,
            "answer": answer,
            "category": v.get("category_id"),
            "lang": v.get("lang"),
            "answers": answers,
            "tags": v.get("tags"),
            "origin": v.get("source"),  # renamed: `source` is our adapter-name column
        }
        yield build_qa(ctx, values, file, raw.row, raw.payload)


class TriviaOtherCategoriesAdapter(SourceAdapter):
    """Reads `all_questions.jsonl`, the normalised union of the three repos' non-music categories (SOURCE.md:
    the raw OpenTriviaQA `.txt` files hold a few non-UTF-8 lines that the union repaired)."""

    name = "trivia_other_categories"
    license = "mixed: OpenTriviaQA and opentdb CC BY-SA 4.0; el-cms none stated"
    description = (
        "22,714 non-music trivia questions (geography, history, science, sports, food, film) as negatives."
    )
    datasets = ("qa_items",)
    expected_files = ("all_questions.jsonl",)
    unit_kind = "jsonl"

    def read(self, unit: WorkUnit, ctx: IngestContext) -> Iterator[Record | Reject]:
        path = Path(unit.path)
        file = str(path)
        for raw in read_jsonl(path):
            if raw.reject is not None:
                yield passthrough(raw, "qa_items")
                continue
            v = raw.values or {}
            origin, question, answer, choices = (
                v.get("source"),
                v.get("question"),
                v.get("answer"),
                v.get("choices"),
            )
            if origin == OPENTDB_ORIGIN and isinstance(choices, list) and isinstance(answer, str):
                # the union lists opentdb choices correct-first: give them the same order as opentdb_music
                choices = opentdb_choices(answer, [c for c in choices if c != answer], v.get("type"))
            values = {
                "source_id": content_key(origin, v.get("category"), question, answer, *(choices or [])),
                "question": question,
                "answer": answer,
                "choices": choices,
                "category": v.get("category"),
                "difficulty": v.get("difficulty"),
                "lang": "en",
                "origin": origin,  # renamed: `source` is our adapter-name column
                "type": v.get("type"),
            }
            yield build_qa(ctx, values, file, raw.row, raw.payload)
