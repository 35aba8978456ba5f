"""`generate_sample`: write a whole made-up streaming platform as raw input files plus ground truth.

The layout is what the generic ingest adapter reads (one folder per dataset, contract column
names, the platform's own ids in `source_id` and foreign-key columns); `_truth/` holds what a
pipeline is scored against (domain labels, duplicate clusters, PII spans), `_sample.json` the
config and per-file row counts, and `README.md` a dataset card that says the data is generated.
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import shutil
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from corpus.sample import behavior, catalog, comments, documents
from corpus.sample import users as U
from corpus.sample.config import END_DATE, GENERATOR_VERSION, SampleConfig
from corpus.sample.vocab import PLATFORM, PLATFORM_HOST
from corpus.sample.writers import (
    ParquetStream,
    RollingJsonl,
    RollingParquet,
    WrittenFile,
    write_jsonl,
    write_table,
)

SOURCE_NAME = "sample"
# dataset -> (path under the output dir, format): what an ingest config points the generic adapter at
DATASET_PATHS: dict[str, tuple[str, str]] = {
    "documents": ("documents", "jsonl"),
    "artists": ("artists/artists.parquet", "parquet"),
    "albums": ("albums/albums.jsonl", "jsonl"),
    "songs": ("songs/songs.csv", "csv"),
    "chart_entries": ("chart_entries/charts.jsonl", "jsonl"),
    "comments": ("comments", "jsonl"),
    "playlists": ("playlists/playlists.jsonl", "jsonl"),
    "user_profiles": ("user_profiles/users.parquet", "parquet"),
    "behavior_events": ("behavior_events", "parquet"),
    "item_relations": ("item_relations/relations.jsonl", "jsonl"),
}
_OWNED = [*{p.split("/")[0] for p, _ in DATASET_PATHS.values()}, "_truth", "README.md", "_sample.json"]

_STR = pa.string()
ARTIST_SCHEMA = pa.schema(
    [
        ("source_id", _STR),
        ("name", _STR),
        ("url", _STR),
        ("country", _STR),
        ("genres", pa.list_(_STR)),
        ("debut_year", pa.int32()),
    ]
)
USER_SCHEMA = pa.schema(
    [
        ("source_id", _STR),
        ("profile_text", _STR),
        ("age", pa.int32()),
        ("gender", _STR),
        ("country", _STR),
        ("registered_at", pa.timestamp("ms", tz="UTC")),
    ]
)
LABEL_SCHEMA = pa.schema([("source_id", _STR), ("kind", _STR), ("label", _STR), ("lang", _STR)])
DUP_SCHEMA = pa.schema(
    [
        ("dataset", _STR),
        ("source_id", _STR),
        ("cluster_id", _STR),
        ("original_source_id", _STR),
        ("edit", _STR),
        ("jaccard", pa.float64()),
    ]
)
PII_SCHEMA = pa.schema(
    [
        ("dataset", _STR),
        ("source_id", _STR),
        ("field", _STR),
        ("start", pa.int32()),
        ("end", pa.int32()),
        ("pii_type", _STR),
        ("subtype", _STR),
        ("value", _STR),
    ]
)
DECOY_SCHEMA = pa.schema(
    [
        ("dataset", _STR),
        ("source_id", _STR),
        ("field", _STR),
        ("start", pa.int32()),
        ("end", pa.int32()),
        ("decoy_type", _STR),
        ("value", _STR),
    ]
)
TASTE_SCHEMA = pa.schema(
    [("source_id", _STR), ("liked_genres", pa.list_(_STR)), ("disliked_genres", pa.list_(_STR))]
)
SONG_COLUMNS = (
    "source_id",
    "title",
    "artists",
    "artist_ids",
    "album",
    "album_id",
    "release_date",
    "year",
    "duration_ms",
    "genres",
    "popularity",
    "explicit",
    "isrc",
    "danceability",
    "energy",
    "valence",
    "acousticness",
    "instrumentalness",
    "liveness",
    "speechiness",
    "loudness_db",
    "tempo_bpm",
    "key",
    "mode",
    "time_signature",
)


@dataclass
class SampleSummary:
    """What `generate_sample` wrote: files with row and byte counts, rows per dataset, timing."""

    out_dir: Path
    config: SampleConfig
    files: dict[str, WrittenFile] = field(default_factory=dict)  # relative path -> file
    datasets: dict[str, int] = field(default_factory=dict)  # raw dataset -> rows
    truth: dict[str, int] = field(default_factory=dict)  # ground-truth table -> rows
    elapsed_s: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def total_bytes(self) -> int:
        return sum(f.bytes for f in self.files.values())

    @property
    def mb_per_s(self) -> float:
        return self.total_bytes / 1e6 / self.elapsed_s if self.elapsed_s else 0.0

    def __str__(self) -> str:
        rows = ", ".join(f"{ds} {n:,}" for ds, n in sorted(self.datasets.items()))
        return (
            f"sample {self.config.name!r} (seed {self.config.seed}) -> {self.out_dir}: "
            f"{self.total_bytes / 1e6:,.1f} MB in {len(self.files)} files, {self.elapsed_s:.1f} s "
            f"({self.mb_per_s:.1f} MB/s); rows: {rows}"
        )

    def sources(self) -> list[dict]:
        """One generic-adapter source per dataset (name, dataset, path, format), for ingest configs."""
        return sample_sources(self.out_dir)


def sample_sources(out_dir: str | Path, name: str = SOURCE_NAME) -> list[dict]:
    """Source entries for the generic adapter. All datasets share one source name, because foreign
    keys are linked within a source's id namespace."""
    out = Path(out_dir)
    return [
        {
            "name": name,
            "dataset": ds,
            "adapter": "generic",
            "path": str(out / p),
            "format": fmt,
            "license": "CC0-1.0 (generated)",
            "generated": True,
            "description": f"Generated by corpus/sample: made-up {PLATFORM} platform ({ds})",
        }
        for ds, (p, fmt) in DATASET_PATHS.items()
    ]


def _clear(out: Path) -> None:
    for name in _OWNED:
        p = out / name
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()


def _csv_value(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list | dict):
        return orjson.dumps(v).decode()
    return str(v)


def _write_catalog(cat: catalog.Catalog, cfg: SampleConfig, out: Path, summary: SampleSummary) -> None:
    a_rows = {
        "source_id": [a.sid for a in cat.artists],
        "name": [a.name for a in cat.artists],
        "url": [f"https://{PLATFORM_HOST}/artist/{a.sid}" for a in cat.artists],
        "country": [a.country for a in cat.artists],
        "genres": [[catalog.GENRE_EN[g] for g in a.genres] for a in cat.artists],
        "debut_year": [a.debut_year for a in cat.artists],
    }
    summary.files["artists/artists.parquet"] = write_table(
        out / "artists/artists.parquet", pa.table(a_rows, schema=ARTIST_SCHEMA)
    )
    summary.files["albums/albums.jsonl"] = write_jsonl(
        out / "albums/albums.jsonl",
        [
            {
                "source_id": al.sid,
                "title": al.title,
                "artists": [cat.artists[al.artist].name],
                "artist_ids": [cat.artists[al.artist].sid],
                "year": al.year,
                "genres": [catalog.GENRE_EN[g] for g in cat.artists[al.artist].genres],
                "label": al.label,
                "catalog_number": al.catno,
                "n_tracks": len(al.songs),
            }
            for al in cat.albums
        ],
    )
    # songs.csv: list columns as JSON arrays, as the generic adapter expects
    path = out / "songs/songs.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    f = cat.features
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(SONG_COLUMNS)
    for s in cat.songs:
        i = s.idx
        al = cat.albums[s.album]
        genres = [catalog.GENRE_EN[s.genre]] + [
            catalog.GENRE_EN[g] for g in cat.artists[s.artists[0]].genres if g != s.genre
        ]
        w.writerow(
            [
                _csv_value(v)
                for v in (
                    s.sid,
                    s.title,
                    cat.artist_names(s.artists),
                    [cat.artists[a].sid for a in s.artists],
                    al.title,
                    al.sid,
                    s.release_date,
                    s.year,
                    s.duration_ms,
                    genres,
                    int(s.popularity),
                    s.explicit,
                    s.isrc,
                    float(f["danceability"][i]),
                    float(f["energy"][i]),
                    float(f["valence"][i]),
                    float(f["acousticness"][i]),
                    float(f["instrumentalness"][i]),
                    float(f["liveness"][i]),
                    float(f["speechiness"][i]),
                    float(f["loudness_db"][i]),
                    s.tempo,
                    int(f["key"][i]),
                    int(f["mode"][i]),
                    int(f["time_signature"][i]),
                )
            ]
        )
    data = buf.getvalue().encode()
    path.write_bytes(data)
    summary.files["songs/songs.csv"] = WrittenFile(path, len(cat.songs), len(data))
    summary.files["chart_entries/charts.jsonl"] = write_jsonl(
        out / "chart_entries/charts.jsonl", catalog.chart_rows(cat, cfg)
    )
    summary.files["item_relations/relations.jsonl"] = write_jsonl(
        out / "item_relations/relations.jsonl", catalog.similar_artist_rows(cat, cfg)
    )


# ---------------------------------------------------------------- parallel chunk generation
# Every chunk is seeded from the config and its index alone, so workers can build them in any order
# and the parent writes them in order: the output is byte-identical whatever the worker count.
_WORKER: dict[str, Any] = {}


def _init_worker(cfg: SampleConfig) -> None:
    cat = catalog.build_catalog(cfg)
    users = U.build_users(cfg)
    _WORKER.update(
        cfg=cfg,
        cat=cat,
        users=users,
        playlists=U.build_playlists(cfg, cat, users),
        static=behavior.static_tables(cat),
    )


def _work(task: tuple[str, int]) -> Any:
    kind, i = task
    w = _WORKER
    if kind == "documents":
        return documents.generate_chunk(w["cfg"], w["cat"], i)
    if kind == "comments":
        return comments.generate_chunk(w["cfg"], w["cat"], w["users"], w["playlists"], i)
    return behavior.generate_block(w["cfg"], w["cat"], w["users"], i, w["static"])


def _chunks(kind: str, n: int, pool: Any) -> Iterator[Any]:
    tasks = [(kind, i) for i in range(n)]
    if pool is None:
        return map(_work, tasks)
    return pool.imap(_work, tasks)


def generate_sample(config: SampleConfig, out_dir: str | Path, workers: int = 1) -> SampleSummary:
    """Generate the sample described by `config` into `out_dir` (files this generator owns are replaced).

    `workers > 1` builds document, comment and event chunks in that many processes; the files are the
    same bytes as with one worker (worth it from a few hundred MB on).
    """
    t0 = time.perf_counter()
    if workers > 1:
        ctx = multiprocessing.get_context("spawn")  # no fork after Arrow has started threads
        with ctx.Pool(workers, initializer=_init_worker, initargs=(config,)) as pool:
            return _generate(config, Path(out_dir), pool, t0)
    _init_worker(config)
    try:
        return _generate(config, Path(out_dir), None, t0)
    finally:
        _WORKER.clear()


def _progress(chunks: Iterable[Any], total: int, what: str) -> Iterable[Any]:
    """A progress bar over generated chunks on a terminal (big samples take minutes); silent otherwise."""
    import sys

    from tqdm import tqdm

    return tqdm(chunks, total=total, desc=f"sample {what}", unit="chunk", leave=False,
                disable=total < 20 or not sys.stderr.isatty())


def _generate(config: SampleConfig, out_dir: Path, pool: Any, t0: float) -> SampleSummary:
    cfg = config
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _clear(out)
    summary = SampleSummary(out, cfg)
    tick = t0

    def lap(name: str) -> None:
        nonlocal tick
        now = time.perf_counter()
        summary.timings[name] = round(now - tick, 3)
        tick = now

    if pool is None:
        cat = _WORKER["cat"]
    else:
        cat = catalog.build_catalog(cfg)
    _write_catalog(cat, cfg, out, summary)
    lap("catalog")

    users = _WORKER["users"] if pool is None else U.build_users(cfg)
    summary.files["user_profiles/users.parquet"] = write_table(
        out / "user_profiles/users.parquet",
        pa.Table.from_pylist(U.user_rows(users, cat, cfg), schema=USER_SCHEMA),
    )
    summary.files["_truth/user_taste.parquet"] = write_table(
        out / "_truth/user_taste.parquet",
        pa.table(
            {
                "source_id": [u.sid for u in users],
                "liked_genres": [[catalog.GENRE_EN[g] for g in u.liked] for u in users],
                "disliked_genres": [[catalog.GENRE_EN[g] for g in u.disliked] for u in users],
            },
            schema=TASTE_SCHEMA,
        ),
    )
    playlists = _WORKER["playlists"] if pool is None else U.build_playlists(cfg, cat, users)
    summary.files["playlists/playlists.jsonl"] = write_jsonl(out / "playlists/playlists.jsonl", playlists)
    lap("users_playlists")

    truth = out / "_truth"
    labels = ParquetStream(truth / "domain_labels.parquet", LABEL_SCHEMA)
    dups = ParquetStream(truth / "duplicates.parquet", DUP_SCHEMA)
    pii = ParquetStream(truth / "pii.parquet", PII_SCHEMA)
    decoys = ParquetStream(truth / "pii_decoys.parquet", DECOY_SCHEMA)
    docs = RollingJsonl(out / "documents", cfg.max_file_bytes)
    for chunk in _progress(_chunks("documents", documents.n_chunks(cfg), pool), documents.n_chunks(cfg), "documents"):
        for d in chunk.docs:
            docs.write(d)
        labels.extend(chunk.labels)
        dups.extend(chunk.duplicates)
        pii.extend(chunk.pii)
    _add_parts(summary, out, docs.close())
    lap("documents")

    cw = RollingJsonl(out / "comments", cfg.max_file_bytes)
    for ch in _progress(_chunks("comments", comments.n_chunks(cfg), pool), comments.n_chunks(cfg), "comments"):
        for r in ch.rows:
            cw.write(r)
        pii.extend(ch.pii)
        decoys.extend(ch.decoys)
    _add_parts(summary, out, cw.close())
    lap("comments")

    ew = RollingParquet(out / "behavior_events", behavior.event_schema(cfg.state_as_json), cfg.max_file_bytes)
    for table in _progress(_chunks("events", behavior.n_blocks(cfg), pool), behavior.n_blocks(cfg), "events"):
        ew.write(table)
    _add_parts(summary, out, ew.close())
    lap("events")

    for s in (labels, dups, pii, decoys):
        f = s.close()
        summary.files[str(f.path.relative_to(out))] = f

    for rel, f in summary.files.items():
        ds = dataset_of(rel)
        if ds is not None:
            summary.datasets[ds] = summary.datasets.get(ds, 0) + f.rows
        else:
            summary.truth[truth_of(rel)] = f.rows
    _write_meta(summary, out)
    lap("metadata")
    summary.elapsed_s = time.perf_counter() - t0
    return summary


_TOP = {p.split("/")[0]: d for d, (p, _) in DATASET_PATHS.items()}


def dataset_of(rel: str) -> str | None:
    """The raw dataset a written file belongs to (None for ground truth)."""
    return _TOP.get(rel.split("/")[0])


def truth_of(rel: str) -> str:
    return rel.split("/")[-1].removesuffix(".parquet")


def _add_parts(summary: SampleSummary, out: Path, files: list[WrittenFile]) -> None:
    for f in files:
        summary.files[str(f.path.relative_to(out))] = f


def _write_meta(summary: SampleSummary, out: Path) -> None:
    cfg = summary.config
    meta = {
        "generator": "corpus.sample",
        "generator_version": GENERATOR_VERSION,
        "generated": True,
        "platform": PLATFORM,
        "platform_now": END_DATE.isoformat(),
        "config": cfg.to_dict(),
        "datasets": dict(sorted(summary.datasets.items())),
        "truth": dict(sorted(summary.truth.items())),
        # one entry per file; ground-truth files have `dataset: null` and name their table in `truth`
        "files": [
            {
                "path": k,
                "dataset": dataset_of(k),
                "truth": None if dataset_of(k) else truth_of(k),
                "rows": f.rows,
                "bytes": f.bytes,
            }
            for k, f in sorted(summary.files.items())
        ],
        "total_bytes": summary.total_bytes,
        "sources": [
            {k: v for k, v in s.items() if k != "path"} | {"path": DATASET_PATHS[s["dataset"]][0]}
            for s in sample_sources(out)
        ],
    }
    (out / "_sample.json").write_bytes(
        orjson.dumps(meta, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"
    )
    (out / "README.md").write_text(_readme(summary), encoding="utf-8")


def _readme(summary: SampleSummary) -> str:
    cfg = summary.config
    lines = [
        f"# {PLATFORM} sample — GENERATED data",
        "",
        f"> **This data is generated**, not collected: it was written by `corpus/sample` (generator version "
        f"{GENERATOR_VERSION}) with seed **{cfg.seed}** and size **{cfg.name}** ({cfg.n_documents:,} documents, "
        f"{cfg.n_comments:,} comments, {cfg.n_users:,} users). It describes a made-up music streaming platform; "
        "no real person, user or recording is behind it (a few real band names appear as names only).",
        "",
        "Re-create it byte for byte with:",
        "",
        "```python",
        "from corpus.sample import SampleConfig, generate_sample",
        f'generate_sample({_config_expr(cfg)}, "<out_dir>")',
        "```",
        "",
        "## Files",
        "",
        "| file | rows | bytes |",
        "|---|---:|---:|",
    ]
    for rel, f in sorted(summary.files.items()):
        lines.append(f"| `{rel}` | {f.rows:,} | {f.bytes:,} |")
    lines += [
        "",
        f"Total: {summary.total_bytes:,} bytes.",
        "",
        "## Rows per dataset",
        "",
        "| dataset | rows |",
        "|---|---:|",
    ]
    for ds, n in sorted(summary.datasets.items()):
        lines.append(f"| `{ds}` | {n:,} |")
    lines += [
        "",
        "Ground-truth rows: " + ", ".join(f"`{t}` {n:,}" for t, n in sorted(summary.truth.items())) + ".",
    ]
    lines += [
        "",
        "## How to read it",
        "",
        f"Every dataset folder follows its contract in `schemas/datasets.py` and is read by the generic ingest adapter "
        f"under one source name (`{SOURCE_NAME}`), so the platform ids in `source_id`, `user_id`, `item_id`, "
        "`song_ids`, `artist_ids`, `parent_id`, `src_id`/`dst_id` link up. In `songs.csv`, list columns are JSON arrays. "
        "Timestamps are ISO 8601 UTC (`Z`); every date lies before "
        f'{END_DATE.isoformat()}, the platform\'s fixed "now". Extra columns (`kind`, `lang`, `label`, `album_id`, '
        "`genre`, ...) end up in `metadata`.",
        "",
        "## Ground truth (`_truth/`)",
        "",
        "- `domain_labels.parquet`: every document's `kind`, `label` (`music` / `other`) and `lang`.",
        "- `duplicates.parquet`: repost clusters (2-5 documents): the original (`edit = original`) and each repost "
        "with its edit (`exact`, `header_footer`, `whitespace_punct`, `truncate`, `reorder`, `substitute`) and the "
        "word 5-gram Jaccard similarity to the original (`jaccard`).",
        "- `pii.parquet`: planted personal data (`email`, `phone`, `credit_card` (Luhn-valid), `ipv4`, `ipv6`, "
        "`iban` (mod-97 valid), `us_ssn`, `cn_resident_id` (checksum valid), `street_address`, `social_handle`, "
        "`platform_user_id`) with `start`/`end` Python character offsets into `text` exactly as written; "
        "`text[start:end] == value`. Platform user ids appear in text as `uid:` + the 8 digits of a user's "
        "`source_id` (`u10000042` → `uid:10000042`).",
        "- `pii_decoys.parquet`: music numbers and names that are *not* personal data (durations, years, BPM, chart "
        "positions, ISRCs, catalog numbers, play counts, band names and titles with digits), with offsets.",
        "- `user_taste.parquet`: each user's liked and disliked genres, which drive their events and playlists.",
        "",
        "Texts are NFC, without `\\r`, control characters or trailing spaces, so ingest normalisation does not move "
        "any offset.",
        "",
    ]
    return "\n".join(lines)


def _config_expr(cfg: SampleConfig) -> str:
    if cfg.name in ("tiny", "small", "medium") and cfg == SampleConfig.preset(cfg.name, cfg.seed):
        return f"SampleConfig.preset({cfg.name!r}, seed={cfg.seed})"
    d = cfg.to_dict()
    default = SampleConfig().to_dict()
    args = ", ".join(f"{k}={v!r}" for k, v in d.items() if v != default[k] or k == "seed")
    return f"SampleConfig({args})"
