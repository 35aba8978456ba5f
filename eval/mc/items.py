"""Multiple-choice benchmarks built from real question sets in shared/data, scored by log-likelihood.

Tasks (each item: question, choices, index of the gold choice, source file and row):
- `music_knowledge_opentdb`: opentdb.com music and musicals questions (4-way multiple choice and true/false);
- `music_knowledge_otqa`: OpenTriviaQA music multiple-choice questions;
- `music_knowledge_ziqi`: ZIQI-Eval, Chinese music knowledge (test split, ten subject files);
- `general_knowledge`: the non-music trivia of the same three trivia sets (science, history, geography, sports,
  food, film), the control for music knowledge.

Choices are put in a deterministic order from a hash of the question (the source files often list the right
answer first), so the gold position is spread evenly. An item with a missing gold, fewer than two distinct
choices, or the gold absent from its choices is skipped. Same files: same items, same order.
"""

from __future__ import annotations

import csv
import hashlib
import html
import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

TASKS = ("music_knowledge_opentdb", "music_knowledge_otqa", "music_knowledge_ziqi", "general_knowledge")


@dataclass(frozen=True)
class MCItem:
    id: str
    task: str
    lang: str
    question: str
    choices: tuple[str, ...]
    gold: int
    source: str
    source_row: int

    def to_dict(self) -> dict:
        d = asdict(self)
        d["choices"] = list(self.choices)
        return d


def _clean(s: object) -> str:
    return re.sub(r"\s+", " ", html.unescape(str(s or ""))).strip()


def _item(task: str, lang: str, question: str, answer: str, choices: list[str], source: str,
          row: int) -> MCItem | None:
    question, answer = _clean(question), _clean(answer)
    opts = list(dict.fromkeys(_clean(c) for c in choices if _clean(c)))
    if not question or not answer or answer not in opts or len(opts) < 2:
        return None
    key = f"{source}\x00{row}\x00{question}"
    opts.sort(key=lambda c: hashlib.blake2b(f"{key}\x00{c}".encode(), digest_size=8).digest())
    h = hashlib.blake2b(key.encode(), digest_size=6).hexdigest()
    return MCItem(f"{task}-{h}", task, lang, question, tuple(opts), opts.index(answer), source, row)


def opentdb_music(shared: Path) -> Iterator[MCItem]:
    src = "opentdb_music/opentdb_music.jsonl"
    with open(shared / src, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            r = json.loads(line)
            it = _item("music_knowledge_opentdb", "en", r["question"], r["correct_answer"],
                       [r["correct_answer"], *r["incorrect_answers"]], src, lineno)
            if it:
                yield it


def otqa_music(shared: Path) -> Iterator[MCItem]:
    src = "open_trivia_qa_music/music.json"
    for i, r in enumerate(json.loads((shared / src).read_text(encoding="utf-8"))):
        if r and r.get("choices") and r.get("question"):
            it = _item("music_knowledge_otqa", "en", r["question"], r.get("answer"), r["choices"], src, i)
            if it:
                yield it


def ziqi(shared: Path) -> Iterator[MCItem]:
    for path in sorted((shared / "ziqi_eval" / "test").glob("*.csv")):
        src = f"ziqi_eval/test/{path.name}"
        with open(path, newline="", encoding="utf-8") as f:
            for i, r in enumerate(csv.DictReader(f), 1):
                letter = (r.get("answer") or "").strip().upper()
                if letter not in "ABCD" or not letter:
                    continue
                it = _item("music_knowledge_ziqi", "zh", r["question"], r[letter], [r[c] for c in "ABCD"], src, i)
                if it:
                    yield it


def general_trivia(shared: Path) -> Iterator[MCItem]:
    src = "trivia_other_categories/all_questions.jsonl"
    with open(shared / src, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            r = json.loads(line)
            if r.get("choices"):
                it = _item("general_knowledge", "en", r["question"], r.get("answer"), r["choices"], src, lineno)
                if it:
                    yield it


BUILDERS = {
    "music_knowledge_opentdb": opentdb_music,
    "music_knowledge_otqa": otqa_music,
    "music_knowledge_ziqi": ziqi,
    "general_knowledge": general_trivia,
}


def build_task(task: str, shared: Path) -> list[MCItem]:
    """A task's items, each question once (the first occurrence in file order)."""
    if task not in BUILDERS:
        raise ValueError(f"unknown task {task!r}; known: {TASKS}")
    seen: set[str] = set()
    out = []
    for it in BUILDERS[task](Path(shared)):
        k = it.question.lower()
        if k not in seen:
            seen.add(k)
            out.append(it)
    return out
