"""Allow-list of catalog names (artists, songs, albums) that PII masking must never touch.

Band names like Blink-182, Maroon 5 or UB40 and titles like "Route 72" look like numbers or
addresses; reading them from the catalog files of a source keeps them out of the masks. An artist's
own pages (instagram.com/arcticmonkeys, phoebebridgers.bandcamp.com) are matched by slug instead:
`official_slugs` / `is_official_account`.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path


def _names_from_list_field(value: str) -> list[str]:
    try:
        parsed = json.loads(value)
    except (json.JSONDecodeError, TypeError):
        return [value] if value else []
    return [str(v) for v in parsed] if isinstance(parsed, list) else [str(parsed)]


def load_catalog_allow_list(root: str | Path) -> list[str]:
    """Artist, song and album names from a sample-layout source dir (songs/, artists/, albums/).

    Missing files are skipped, so a source without albums still yields its songs and artists.
    """
    root = Path(root)
    names: set[str] = set()
    songs = root / "songs" / "songs.csv"
    if songs.exists():
        with songs.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                names.update(x for x in (row.get("title"), row.get("album")) if x)
                names.update(_names_from_list_field(row.get("artists") or ""))
    artists = root / "artists" / "artists.parquet"
    if artists.exists():
        import pyarrow.parquet as pq

        names.update(n for n in pq.read_table(artists, columns=["name"]).column("name").to_pylist() if n)
    albums = root / "albums" / "albums.jsonl"
    if albums.exists():
        with albums.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    rec = json.loads(line)
                    names.update(x for x in [rec.get("title"), *(rec.get("artists") or [])] if x)
    return sorted(names)


def merge_allow_lists(*lists: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({n for lst in lists for n in lst if n}))


# an official account often wraps the name: theweeknd, arcticmonkeysofficial, TaylorSwiftVEVO
_ACCOUNT_PREFIXES = ("the", "official", "real", "its", "iam")
_ACCOUNT_SUFFIXES = ("official", "offical", "music", "band", "vevo", "tv", "hq", "records")


def slug(name: str) -> str:
    """Case-folded letters and digits only: "Blink-182" -> "blink182", "周杰伦" -> "周杰伦"."""
    return "".join(ch for ch in name.casefold() if ch.isalnum())


def official_slugs(names: Iterable[str]) -> frozenset[str]:
    """Slugs of artist / label names (with and without a leading "the") that accounts are compared with."""
    out: set[str] = set()
    for n in names:
        s = slug(n)
        out.add(s)
        if s.startswith("the") and len(s) > 5:
            out.add(s[3:])
    return frozenset(s for s in out if len(s) >= 2)


def is_official_account(account: str, slugs: frozenset[str]) -> bool:
    """True if `account` (the user part of a profile URL or a site's name) is an official name's slug,
    alone or with one of the usual affixes (the-, official-, -vevo, -music ...)."""
    s = slug(account)
    if not s or not slugs:
        return False
    variants = {s}
    for p in _ACCOUNT_PREFIXES:
        if s.startswith(p):
            variants.add(s[len(p) :])
    for v in list(variants):
        for suf in _ACCOUNT_SUFFIXES:
            if v.endswith(suf):
                variants.add(v[: -len(suf)])
    return any(v in slugs for v in variants if v)
