"""Source adapters: the generic contract-shaped reader and one adapter per real public dataset.

`get_adapter(name)` returns an adapter instance; `ADAPTERS` lists them for `music-corpus sources`.
"""

from __future__ import annotations

from corpus.ingest.sources.base import IngestContext, SourceAdapter, SourceSpec, WorkUnit
from corpus.ingest.sources.generic import GenericAdapter

ADAPTERS: dict[str, type[SourceAdapter]] = {GenericAdapter.name: GenericAdapter}


def _register_real_adapters() -> None:
    from corpus.ingest.sources import real  # kept out of the import time of `base`

    for cls in real.ADAPTERS:
        ADAPTERS[cls.name] = cls


_register_real_adapters()


def get_adapter(name: str) -> SourceAdapter:
    try:
        return ADAPTERS[name]()
    except KeyError:
        raise KeyError(f"unknown source adapter {name!r}; known: {', '.join(sorted(ADAPTERS))}") from None


__all__ = ["ADAPTERS", "IngestContext", "SourceAdapter", "SourceSpec", "WorkUnit", "get_adapter"]
