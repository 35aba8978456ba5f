"""Render Markdown dataset cards from a dataset contract and a run's counts.

A card is written next to every output dataset (`README.md` in the dataset folder): purpose,
schema version, columns with types and meaning, row counts, and the sources with their licenses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from schemas.spec import DatasetSchema


@dataclass(frozen=True)
class SourceCredit:
    """A source that contributed rows, as shown on a card."""

    name: str
    license: str
    description: str = ""
    generated: bool = False


def render_card(
    spec: DatasetSchema,
    rows: int,
    rows_by_source: Mapping[str, int] | None = None,
    sources: Sequence[SourceCredit] = (),
    produced_by: str = "",
    notes: Sequence[str] = (),
) -> str:
    """The Markdown card for one dataset; deterministic for the same arguments."""
    lines = [f"# Dataset `{spec.name}`", "", spec.purpose, ""]
    if any(s.generated for s in sources):
        lines += [
            "> **Generated data.** Some or all rows come from the project's seeded demo generator "
            "(`corpus/sample`). They describe a made-up music platform; no real person, song or user is behind them.",
            "",
        ]
    lines += [
        f"- Schema: `{spec.name}` version `{spec.version}` (stored in the Parquet schema metadata as "
        "`musicplatform.schema` / `musicplatform.schema_version`)",
        f"- Rows: {rows:,}",
    ]
    if spec.key:
        lines.append(f"- Primary key: `{spec.key}` (unique)")
    if produced_by:
        lines.append(f"- Produced by: {produced_by}")
    lines += ["", "## Columns", "", "| column | type | nullable | meaning |", "|---|---|---|---|"]
    for c in spec.columns:
        meaning = c.description.replace("|", "\\|")
        if c.allowed:
            meaning += " Allowed values: " + ", ".join(f"`{a}`" for a in c.allowed) + "."
        lines.append(f"| `{c.name}` | `{c.type}` | {'yes' if c.nullable else 'no'} | {meaning} |")
    if rows_by_source:
        lines += ["", "## Rows by source", "", "| source | rows |", "|---|---|"]
        for name in sorted(rows_by_source):
            lines.append(f"| `{name}` | {rows_by_source[name]:,} |")
    if sources:
        lines += ["", "## Sources and licenses", "", "| source | license | what |", "|---|---|---|"]
        for s in sorted(sources, key=lambda s: s.name):
            what = ("generated: " if s.generated else "") + s.description
            lines.append(f"| `{s.name}` | {s.license} | {what} |")
    all_notes = [*spec.notes, *notes]
    if all_notes:
        lines += ["", "## Notes", ""]
        lines += [f"- {n}" for n in all_notes]
    return "\n".join(lines) + "\n"
