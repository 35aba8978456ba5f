"""Every item of the evaluation suite as decontamination input for the corpus (`dedup.decontam.providers`).

Registered as the entry point `music_benchmarks` in the `music_platform.decontam` group (pyproject.toml), so the
corpus's dedup stage indexes these items without importing this package: a training document that shares a long
n-gram (13 tokens by default) with an item's text, or with its question alone, is marked contaminated and
`select` drops it. Items:

- MusicSimpleQA (`music_simpleqa`): question + gold answer; the question alone as a part;
- the multiple-choice tasks (`music_knowledge_opentdb`, `music_knowledge_otqa`, `music_knowledge_ziqi`,
  `general_knowledge`): question + gold choice; the question alone as a part;
- Q2I relevance (`music_q2i`): request + gold song; the request alone as a part.

U2I needs no entry: its held-out users' sequences never enter training (the behavior stage's hold-out). A
benchmark whose source files are absent from the shared data folder contributes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from corpus.dedup.decontam import EvalItem


def decontam_items(shared: Path) -> Iterator[EvalItem]:
    from eval.mc.items import TASKS, build_task
    from eval.q2i.items import build_q2i
    from eval.simpleqa.items import build_items

    shared = Path(shared)
    if not shared.is_dir():
        return
    for it in build_items(shared):
        yield EvalItem("music_simpleqa", it.id, f"{it.question} {it.gold}", (it.question,))
    for task in TASKS:
        for mc in build_task(task, shared):
            yield EvalItem(task, mc.id, f"{mc.question} {mc.choices[mc.gold]}", (mc.question,))
    for q in build_q2i(shared):
        yield EvalItem(q.task, q.id, f"{q.question} {q.choices[q.gold]}", (q.question,))
