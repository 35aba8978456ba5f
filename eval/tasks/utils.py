"""lm-evaluation-harness hooks for our tasks: each `custom_dataset` builds its items from ../shared/data
(`$MUSIC_SHARED_DATA` to move it) with `eval.mc.items` (`music_q2i`: `eval.q2i.items`); nothing is downloaded
from a hub."""

from __future__ import annotations


def _dataset(task: str, **_: object):
    import datasets

    from eval.mc.items import build_task
    from jobs.settings import shared_data_dir

    rows = [it.to_dict() for it in build_task(task, shared_data_dir())]
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(rows)})


def music_knowledge_opentdb(**kw: object):
    return _dataset("music_knowledge_opentdb", **kw)


def music_knowledge_otqa(**kw: object):
    return _dataset("music_knowledge_otqa", **kw)


def music_knowledge_ziqi(**kw: object):
    return _dataset("music_knowledge_ziqi", **kw)


def general_knowledge(**kw: object):
    return _dataset("general_knowledge", **kw)


def music_q2i(**_: object):
    """Q2I relevance: a CPCD request and four catalog songs (`eval.q2i.items`)."""
    import datasets

    from eval.q2i.items import build_q2i
    from jobs.settings import shared_data_dir

    rows = [it.to_dict() for it in build_q2i(shared_data_dir())]
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(rows)})
