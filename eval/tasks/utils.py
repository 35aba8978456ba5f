"""lm-evaluation-harness hooks for our tasks: each `custom_dataset` builds its items from ../shared/data
(`$MUSIC_SHARED_DATA` to move it) with `eval.mc.items`; nothing is downloaded from a hub."""

from __future__ import annotations

import os
from pathlib import Path


def _shared() -> Path:
    env = os.environ.get("MUSIC_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2].parent / "shared" / "data"


def _dataset(task: str, **_: object):
    import datasets

    from eval.mc.items import build_task

    rows = [it.to_dict() for it in build_task(task, _shared())]
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(rows)})


def music_knowledge_opentdb(**kw: object):
    return _dataset("music_knowledge_opentdb", **kw)


def music_knowledge_otqa(**kw: object):
    return _dataset("music_knowledge_otqa", **kw)


def music_knowledge_ziqi(**kw: object):
    return _dataset("music_knowledge_ziqi", **kw)


def general_knowledge(**kw: object):
    return _dataset("general_knowledge", **kw)
