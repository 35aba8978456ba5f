"""Configuration of the sample generator: sizes, fractions, presets and byte-targeted scaling.

Everything the output depends on is in `SampleConfig`; the same config always gives the same
bytes. Sub-seeds are derived from the seed and a part name (and chunk index), so chunk k of a
dataset never depends on how chunks before it were generated.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import Any

# The platform's "now": every date in the sample lies before it (no wall-clock anywhere).
END_DATE = date(2025, 6, 30)
START_DATE = date(2012, 1, 1)
GENERATOR_VERSION = "1.0.0"

# Measured average output bytes per unit at default fractions (small preset; see `for_target_bytes`).
_BYTES_PER_DOCUMENT = 2_155  # JSONL line + truth rows
_BYTES_PER_COMMENT = 246  # JSONL line + PII / decoy truth rows
_BYTES_PER_EVENT = 12.6  # zstd Parquet, JSON state column
_BYTES_PER_SONG = 373  # songs.csv + albums, artists and similar-artist links that scale with it
_BYTES_PER_CHART_ROW = 223
_BYTES_PER_PLAYLIST = 462
_BYTES_PER_USER = 44  # profile + taste truth


def derive_seed(seed: int, *parts: object) -> int:
    """A 64-bit seed for one part of the sample, independent of every other part."""
    h = hashlib.blake2b(repr((seed, *parts)).encode(), digest_size=8)
    return int.from_bytes(h.digest(), "little")


@dataclass(frozen=True)
class SampleConfig:
    """Sizes and mix of a generated sample. Use `preset()` or `for_target_bytes()` for sane sizes."""

    seed: int = 0
    name: str = "custom"
    n_artists: int = 300
    n_albums: int = 750
    n_songs: int = 3_000
    n_users: int = 400
    n_playlists: int = 300
    n_documents: int = 3_000
    n_comments: int = 4_000
    events_per_user: int = 150
    chart_weeks: int = 52
    chart_size: int = 50
    music_fraction: float = 0.6  # share of documents about music
    zh_fraction: float = 0.15  # share of Chinese documents (and roughly of comments)
    duplicate_fraction: float = 0.08  # share of documents that are reposts of another document
    pii_fraction: float = 0.2  # share of comments with planted personal data
    doc_pii_fraction: float = 0.02  # share of forum posts / news with a planted contact line
    reply_fraction: float = 0.15  # share of comments that reply to another comment
    max_file_bytes: int = 64 << 20  # documents/comments JSONL and event Parquet files roll over here
    doc_chunk: int = 500  # documents per independently seeded chunk (duplicates stay within a chunk)
    comment_chunk: int = 2_000
    user_chunk: int = 256  # users per independently seeded block of behaviour events
    # behaviour event `state` as a JSON-object string column (what ingest's map coercion reads today);
    # False writes a native Parquet map<string, string> column instead
    state_as_json: bool = False

    def __post_init__(self) -> None:
        for f in (
            "music_fraction",
            "zh_fraction",
            "duplicate_fraction",
            "pii_fraction",
            "doc_pii_fraction",
            "reply_fraction",
        ):
            v = getattr(self, f)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"SampleConfig.{f} must be in [0, 1], got {v}")
        if self.duplicate_fraction > 0.5:
            raise ValueError("SampleConfig.duplicate_fraction must be at most 0.5 (reposts need originals)")
        for f in (
            "n_artists",
            "n_songs",
            "n_users",
            "n_documents",
            "doc_chunk",
            "comment_chunk",
            "user_chunk",
        ):
            if getattr(self, f) < 1:
                raise ValueError(f"SampleConfig.{f} must be at least 1")
        if self.max_file_bytes < 1 << 16:
            raise ValueError("SampleConfig.max_file_bytes must be at least 64 KiB")

    # ------------------------------------------------------------------ presets
    @classmethod
    def preset(cls, name: str, seed: int = 0) -> SampleConfig:
        """`tiny` (~600 docs, unit tests), `small` (~3,000 docs, `make corpus`), `medium` (~30,000 docs)."""
        sizes: dict[str, dict[str, Any]] = {
            "tiny": dict(
                n_artists=60,
                n_albums=120,
                n_songs=500,
                n_users=60,
                n_playlists=40,
                n_documents=600,
                n_comments=800,
                events_per_user=60,
                chart_weeks=12,
                chart_size=20,
            ),
            "small": dict(),
            "medium": dict(
                n_artists=2_000,
                n_albums=5_000,
                n_songs=30_000,
                n_users=4_000,
                n_playlists=3_000,
                n_documents=30_000,
                n_comments=40_000,
                events_per_user=200,
            ),
        }
        if name not in sizes:
            raise ValueError(f"unknown sample preset {name!r}; choose one of {sorted(sizes)}")
        return cls(seed=seed, name=name, **sizes[name])

    @classmethod
    def for_target_bytes(cls, n_bytes: int, seed: int = 0, **overrides: Any) -> SampleConfig:
        """A config whose total output is about `n_bytes` (within ~10%; tested within 20%).

        Comments take ~10% of the bytes and behaviour events ~8%; the catalog, playlists and user base
        grow with the square root of the size (so names repeat realistically instead of every document
        inventing a new artist, and memory stays bounded), users get longer histories (up to 1,500
        events), and documents fill the rest (~75% at large sizes).
        """
        if n_bytes < 1 << 20:
            raise ValueError("for_target_bytes needs at least 1 MiB")
        base = cls()
        root = math.sqrt(n_bytes / 10e6)  # the `small` preset writes about 10 MB
        n_songs = max(300, int(base.n_songs * root))
        n_playlists = max(30, int(base.n_playlists * root))
        # users grow with the square root too (they are held in memory); longer histories absorb the rest
        n_events = 0.08 * n_bytes / _BYTES_PER_EVENT
        n_users = max(50, int(base.n_users * root))
        events_per_user = int(min(1_500, max(base.events_per_user, n_events / n_users)))
        n_users = max(n_users, int(n_events / events_per_user))
        n_comments = max(100, int(0.10 * n_bytes / _BYTES_PER_COMMENT))
        fixed = (
            n_songs * _BYTES_PER_SONG
            + base.chart_weeks * base.chart_size * _BYTES_PER_CHART_ROW
            + n_playlists * _BYTES_PER_PLAYLIST
            + n_users * (_BYTES_PER_USER + events_per_user * _BYTES_PER_EVENT)
            + n_comments * _BYTES_PER_COMMENT
        )
        n_documents = max(200, int((n_bytes - fixed) / _BYTES_PER_DOCUMENT))
        cfg = cls(
            seed=seed,
            name=f"target-{n_bytes}",
            n_artists=max(40, int(base.n_artists * root)),
            n_albums=max(80, int(base.n_albums * root)),
            n_songs=n_songs,
            n_users=n_users,
            n_playlists=n_playlists,
            n_documents=n_documents,
            n_comments=n_comments,
            events_per_user=events_per_user,
            # event blocks of ~100k rows keep peak memory flat whatever the size
            user_chunk=max(16, min(base.user_chunk, 100_000 // events_per_user)),
        )
        return replace(cfg, **overrides) if overrides else cfg

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
