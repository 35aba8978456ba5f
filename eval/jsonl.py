"""JSON Lines in and out for the evaluation tools: rows read with errors that name the file and line, rows
written through a temporary file and a rename (a reader never sees half a file)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path


def read_rows(path: str | Path, required: tuple[str, ...] = (), hint: str = "") -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-blank line; `ValueError` naming file and line for bad JSON or a
    missing required field (`hint` says what a line should hold)."""
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{lineno}: not JSON ({e})") from e
            missing = [k for k in required if k not in row]
            if missing:
                raise ValueError(f"{path}:{lineno}: missing field(s) {missing}" + (f"; {hint}" if hint else ""))
            yield lineno, row


def write_rows(path: str | Path, rows: Iterable[dict]) -> Path:
    """Write one JSON object per line (UTF-8, not ASCII-escaped), atomically."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    os.replace(tmp, out)
    return out
