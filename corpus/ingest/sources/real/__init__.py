"""Adapters for the real public music datasets under `../shared/data/` (read by path, never copied)."""

from __future__ import annotations

from corpus.ingest.sources.base import SourceAdapter

ADAPTERS: list[type[SourceAdapter]] = []
