"""The knowledge stage: stage-1 and stage-2 training documents from structured data and selected text.

Tasks (one per input part, any engine), each writing `training_documents/part-<task>`:
- `songs`, `artists`, `albums`, `chart_entries`, `awards` (ingest): catalog facts through the EN/ZH
  templates of `corpus.knowledge.render` (stage 1, group `metadata`); template wording is no-loss.
  Songs carry their chart and award facts; artists their songs and albums.
- `documents` (select's `training_documents`): stage-1 text passes through with catalog entity links
  (`corpus.knowledge.linking`) in its metadata and, when `attach_linked`, the linked items' facts
  appended (group `encyclopedia`, or `lyric_descriptions` for the sources listed); comments become
  stage-2 documents joined to the item they discuss (group `comments`).
- `playlists` (ingest) and `relations` (the relations stage): stage-2 playlist and "listeners also
  played" documents (groups `playlists`, `relations`).

Rows in = rows rendered + rows dropped by reason; a grouped document (a chart week, an award category,
an item's neighbours) counts each row it renders.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from functools import cached_property
from pathlib import Path
from typing import Any

import orjson
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import xxhash
from pydantic import BaseModel, ConfigDict, Field

from corpus.knowledge import render as R
from jobs.catalog import catalog_items
from jobs.outputs import part_files, read_task_stats, save_task_stats, write_card, write_rows
from jobs.stage import Stage, StageCounts

OUT_DATASET = "training_documents"
CATALOG_KINDS = ("songs", "artists", "albums")
GROUPED_KINDS = ("chart_entries", "awards")


class KnowledgeConfig(BaseModel):
    """Templating and linking settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    enabled: bool = True
    seed: int = 0
    zh_share: float = Field(0.3, ge=0.0, le=1.0, description="share of records rendered in Chinese (CJK titles: always)")
    link_entities: bool = True
    attach_linked: bool = True  # append the linked items' catalog facts to the document
    max_attached: int = Field(3, ge=0)
    group_by_source: dict[str, str] = Field(default_factory=lambda: {"musiccaps": "lyric_descriptions"})
    comment_group: str = "comments"
    max_artist_songs: int = Field(10, ge=0)


def norm_key(s: str | None) -> str:
    """Loose match key of a title or name (NFKC, casefold, letters and digits only)."""
    if not s:
        return ""
    return re.sub(r"[\W_]+", " ", unicodedata.normalize("NFKC", s).casefold()).strip()


def _doc_id(kind: str, key: str) -> str:
    return xxhash.xxh3_128_hexdigest(f"knowledge\x00{kind}\x00{key}")


def _meta(**kv: Any) -> str:
    return orjson.dumps({k: v for k, v in kv.items() if v is not None}, option=orjson.OPT_SORT_KEYS).decode()


def _spans(spans: list[tuple[int, int]], shift: int = 0) -> list[dict]:
    return [{"start": s + shift, "end": e + shift} for s, e in spans]


class KnowledgeStage(Stage):
    name = "knowledge"

    def __init__(self, cfg: KnowledgeConfig, ingest_dir: Path, select_dir: Path | None, relations_dir: Path | None):
        self.cfg = cfg
        self.ingest_dir = ingest_dir
        self.select_dir = select_dir
        self.relations_dir = relations_dir

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        for k in ("tasks", "catalog", "artist_works", "song_facts", "comment_items", "linker", "full_rows", "_rows"):
            state.pop(k, None)
        return state

    @cached_property
    def tasks(self) -> list[tuple[str, tuple[Path, ...]]]:
        ing = self.ingest_dir
        out: list[tuple[str, tuple[Path, ...]]] = []
        for ds in CATALOG_KINDS:
            out += [(ds, (p,)) for p in part_files(ing / ds)]
        for ds in GROUPED_KINDS:  # grouped by chart week / award category: one task sees all rows
            if files := part_files(ing / ds):
                out.append((ds, tuple(files)))
        if self.select_dir is not None:
            out += [("documents", (p,)) for p in part_files(self.select_dir / "training_documents")]
        out += [("playlists", (p,)) for p in part_files(ing / "playlists")]
        if self.relations_dir is not None:
            out += [("relations", (p,)) for p in part_files(self.relations_dir / "item_relations")]
        return out

    def config(self) -> dict:
        return self.cfg.model_dump(mode="json")

    def input_files(self) -> list[Path]:
        lookups = [p for ds in ("songs", "artists", "albums", "playlists", "comments", "chart_entries", "awards")
                   for p in part_files(self.ingest_dir / ds)]  # fmt: skip
        refs: list[Path] = []
        if self.cfg.link_entities:  # the linker's common-word statistics come from these general texts
            from corpus.knowledge.linking import default_reference_paths  # noqa: PLC0415

            refs = list(default_reference_paths())
        return sorted(set(lookups) | set(refs) | {p for _, files in self.tasks for p in files})

    def plan(self) -> list[tuple[str, tuple[Path, ...]]]:
        return self.tasks

    # ---------------------------------------------------------------- lookups (once per worker)

    def _read(self, ds: str, columns: list[str] | None = None) -> list[dict]:
        """Rows of an ingested dataset; the catalog tables several lookups need are read once per worker."""
        if ds in CATALOG_KINDS:
            return self._catalog_rows(ds)
        d = self.ingest_dir / ds
        if not part_files(d):
            return []
        return pads.dataset(d, format="parquet").to_table(columns=columns).to_pylist()

    def _catalog_rows(self, ds: str) -> list[dict]:
        cache = self.__dict__.setdefault("_rows", {})
        if ds not in cache:
            d = self.ingest_dir / ds
            cache[ds] = pads.dataset(d, format="parquet").to_table().to_pylist() if part_files(d) else []
        return cache[ds]

    @cached_property
    def catalog(self) -> dict[str, dict]:
        """item id -> {item_type, title, artists} for songs, albums, artists and playlists."""
        return catalog_items(self._read)

    @cached_property
    def artist_works(self) -> tuple[dict[str, list[dict]], dict[str, list[dict]]]:
        """Songs by artist id and albums by artist name key (most popular songs first)."""
        songs: dict[str, list[dict]] = defaultdict(list)
        for r in self._read("songs", ["song_id", "title", "artists", "artist_ids", "popularity", "year"]):
            for aid in r["artist_ids"] or []:
                songs[aid].append(r)
        for lst in songs.values():
            lst.sort(key=lambda r: (-(r["popularity"] or 0.0), r["title"], r["song_id"]))
        albums: dict[str, list[dict]] = defaultdict(list)
        for r in self._read("albums", ["album_id", "title", "artists", "year"]):
            for a in r["artists"] or []:
                albums[norm_key(a)].append(r)
        for lst in albums.values():
            lst.sort(key=lambda r: (r["year"] or 0, r["title"], r["album_id"]))
        return songs, albums

    @cached_property
    def song_facts(self) -> tuple[dict[tuple[str, str], list[dict]], dict[tuple[str, str], list[dict]]]:
        """Chart entries and award rows by (title key, main artist key)."""
        charts: dict[tuple[str, str], list[dict]] = defaultdict(list)
        for r in self._read("chart_entries"):
            if r["item_type"] == "song" and r["artists"]:
                charts[(norm_key(r["title"]), norm_key(r["artists"][0]))].append(r)
        awards: dict[tuple[str, str], list[dict]] = defaultdict(list)
        for r in self._read("awards"):
            if r["nominee"] and r["artists"]:
                awards[(norm_key(r["nominee"]), norm_key(r["artists"][0]))].append(r)
        for d in (charts, awards):
            for lst in d.values():
                lst.sort(key=lambda r: (r.get("year") or 0, r.get("date") or "", r.get("rank") or 0, r.get("entry_id") or r.get("award_id")))
        return charts, awards

    @cached_property
    def comment_items(self) -> dict[str, tuple[str | None, str | None]]:
        return {r["comment_id"]: (r["item_type"], r["item_id"]) for r in self._read("comments", ["comment_id", "item_type", "item_id"])}

    @cached_property
    def linker(self):
        from corpus.knowledge.linking import CatalogLinker  # noqa: PLC0415

        tables = {}
        for ds in ("artists", "songs", "albums"):
            d = self.ingest_dir / ds
            tables[ds] = pads.dataset(d, format="parquet").to_table() if part_files(d) else None
        return CatalogLinker.from_tables(tables["artists"], tables["songs"], tables["albums"]).setup()

    # ---------------------------------------------------------------- tasks

    def lang(self, key: str, title: str | None) -> str:
        return R.pick_lang(key, self.cfg.seed, self.cfg.zh_share, title)

    def run_task(self, task_index: int, work_dir: Path) -> dict:
        if (done := read_task_stats(work_dir, task_index)) is not None:
            return done
        kind, files = self.tasks[task_index]
        rows = [r for f in files for r in pq.read_table(f).to_pylist()]
        out: list[dict] = []
        dropped: Counter[str] = Counter()
        flags: Counter[str] = Counter()
        rendered = getattr(self, f"_render_{kind}")(rows, out, dropped, flags)
        write_rows(work_dir / OUT_DATASET / f"part-{task_index:05d}.parquet", out, OUT_DATASET)
        stats = {"kind": kind, "rows_in": len(rows), "rows_out": rendered, "dropped": dict(sorted(dropped.items())),
                 "flags": dict(sorted(flags.items())), "documents": len(out)}  # fmt: skip
        if stats["rows_in"] != rendered + sum(dropped.values()):
            raise AssertionError(f"knowledge task {task_index} ({kind}): rows do not balance: {stats}")
        save_task_stats(work_dir, task_index, stats)
        return stats

    def _emit(self, out: list[dict], kind: str, key: str, doc: R.RenderedDoc, stage: int, group: str, source: str,
              lang: str, weight: float = 1.0, **meta: Any) -> None:  # fmt: skip
        out.append({"doc_id": _doc_id(kind, key), "stage": stage, "source": source, "text": doc.text, "weight": weight,
                    "no_loss_spans": _spans(doc.no_loss_spans),
                    "metadata": _meta(mix_group=group, kind=kind, lang=lang, record_id=key, **meta)})  # fmt: skip

    def _render_each(self, rows, out, dropped, kind: str, key_col: str, title_col: str, render, stage: int = 1,
                     group: str = "metadata") -> int:  # fmt: skip
        """One document per row: `render(row, lang)` gives a RenderedDoc or None (counted as a drop)."""
        n = 0
        for r in rows:
            lang = self.lang(r[key_col], r[title_col])
            doc = render(r, lang)
            if doc is None:
                dropped["no_renderable_facts"] += 1
                continue
            self._emit(out, kind, r[key_col], doc, stage, group, r["source"], lang)
            n += 1
        return n

    def _render_songs(self, rows, out, dropped, flags) -> int:
        charts, awards = self.song_facts

        def render(r, lang):
            key = (norm_key(r["title"]), norm_key(r["artists"][0]) if r["artists"] else "")
            return R.render_song(r, lang, self.cfg.seed, charts=charts.get(key, ()), awards=awards.get(key, ()))

        return self._render_each(rows, out, dropped, "song", "song_id", "title", render)

    def _render_artists(self, rows, out, dropped, flags) -> int:
        songs, albums = self.artist_works
        cap = self.cfg.max_artist_songs

        def render(r, lang):
            return R.render_artist(r, lang, self.cfg.seed, songs=songs.get(r["artist_id"], [])[:cap],
                                   albums=albums.get(norm_key(r["name"]), [])[:cap])  # fmt: skip

        return self._render_each(rows, out, dropped, "artist", "artist_id", "name", render)

    def _render_albums(self, rows, out, dropped, flags) -> int:
        return self._render_each(rows, out, dropped, "album", "album_id", "title",
                                 lambda r, lang: R.render_album(r, lang, self.cfg.seed))  # fmt: skip

    def _render_grouped(self, rows, out, dropped, kind: str, group_key, render, cap: int | None,
                        chunk: int | None = None) -> int:
        groups: dict[tuple, list[dict]] = defaultdict(list)
        for r in rows:
            groups[group_key(r)].append(r)
        n = 0
        for gk in sorted(groups, key=lambda k: tuple("" if x is None else str(x) for x in k)):
            members = groups[gk]
            key = "\x1f".join("" if x is None else str(x) for x in gk)
            lang = self.lang(key, None)
            pieces = [members]
            if chunk:  # a long chart (a year-end Hot 100) becomes several documents of `chunk` ranks
                members = sorted(members, key=lambda r: (r.get("rank") is None, r.get("rank") or 0, r.get("entry_id") or ""))
                pieces = [members[i : i + chunk] for i in range(0, len(members), chunk)]
            for j, piece in enumerate(pieces):
                docs = render(piece, lang, self.cfg.seed)
                if not docs:
                    dropped["no_renderable_facts"] += len(piece)
                    continue
                used = len(piece) if cap is None else min(len(piece), cap)
                if len(piece) > used:
                    dropped[f"{kind}_beyond_cap"] += len(piece) - used
                n += used
                for k, doc in enumerate(docs):
                    self._emit(out, kind, f"{key}\x1f{j}\x1f{k}", doc, 1, "metadata", piece[0]["source"], lang, rows=used)
        return n

    def _render_chart_entries(self, rows, out, dropped, flags) -> int:
        return self._render_grouped(rows, out, dropped, "chart", lambda r: (r["source"], r["chart"], r["date"] or r["year"]),
                                    R.render_chart, cap=R.MAX_CHART_ENTRIES, chunk=R.MAX_CHART_ENTRIES)  # fmt: skip

    def _render_awards(self, rows, out, dropped, flags) -> int:
        return self._render_grouped(rows, out, dropped, "award", lambda r: (r["source"], r["ceremony"], r["year"], r["category"]),
                                    R.render_award, cap=R.MAX_NOMINEES)  # fmt: skip

    def _render_documents(self, rows, out, dropped, flags) -> int:
        for r in rows:
            meta = orjson.loads(r["metadata"] or "{}")
            if meta.get("dataset") == "comments":
                out.append(self._comment(r, meta, flags))
                continue
            group = self.cfg.group_by_source.get(r["source"], "encyclopedia")
            meta["mix_group"] = group
            text, spans = r["text"], list(r["no_loss_spans"] or [])
            if self.cfg.link_entities:
                links = self.linker.link(text)
                if links:
                    from corpus.knowledge.linking import linked_metadata  # noqa: PLC0415

                    meta["links"] = linked_metadata(links)
                    flags["documents_linked"] += 1
                    if self.cfg.attach_linked:
                        text, spans = self._attach(text, spans, links, meta.get("lang") or "en", flags)
            out.append({**r, "text": text, "no_loss_spans": spans, "stage": 1,
                        "metadata": orjson.dumps(meta, option=orjson.OPT_SORT_KEYS).decode()})  # fmt: skip
        return len(rows)

    def _attach(self, text: str, spans: list[dict], links, lang: str, flags: Counter) -> tuple[str, list[dict]]:
        """Append the catalog facts of the first linked items (template wording no-loss)."""
        lang = "zh" if lang == "zh" else "en"
        seen: set[str] = set()
        for link in links:
            if len(seen) >= self.cfg.max_attached:
                break
            item_id = next((i for i in link.ids if i in self.catalog and i not in seen), None)
            if item_id is None:
                continue
            seen.add(item_id)
            doc = self.render_linked(item_id, lang)
            if doc is None:
                continue
            sep = "\n\n"
            spans = spans + [{"start": len(text), "end": len(text) + len(sep)}] + _spans(doc.no_loss_spans, len(text) + len(sep))
            text = text + sep + doc.text
            flags["facts_attached"] += 1
        return text, _merge(spans)

    @cached_property
    def full_rows(self) -> dict[str, tuple[str, dict]]:
        """item id -> (kind, catalog row) of songs, artists and albums, for facts attached to linked text."""
        out: dict[str, tuple[str, dict]] = {}
        for ds, key, kind in (("songs", "song_id", "song"), ("artists", "artist_id", "artist"), ("albums", "album_id", "album")):
            for r in self._read(ds):
                out.setdefault(r[key], (kind, r))
        return out

    def render_linked(self, item_id: str, lang: str):
        kind, row = self.full_rows.get(item_id, (None, None))
        if kind == "song":
            return R.render_song(row, lang, self.cfg.seed)
        if kind == "artist":
            return R.render_artist(row, lang, self.cfg.seed)
        if kind == "album":
            return R.render_album(row, lang, self.cfg.seed)
        return None

    def _comment(self, r: dict, meta: dict, flags: Counter) -> dict:
        item_type, item_id = self.comment_items.get(r["doc_id"], (None, None))
        item = self.catalog.get(item_id) if item_id else None
        if item is None:
            flags["comment_item_unknown"] += 1
        lang = "zh" if meta.get("lang") == "zh" else "en"
        doc = R.render_comment(r["text"], item or {"item_type": item_type, "title": None, "artists": None}, lang, self.cfg.seed)
        meta.update(mix_group=self.cfg.comment_group, item_id=item_id, item_type=item_type)
        return {**r, "stage": 2, "text": doc.text, "no_loss_spans": _spans(doc.no_loss_spans),
                "metadata": orjson.dumps({k: v for k, v in meta.items() if v is not None}, option=orjson.OPT_SORT_KEYS).decode()}  # fmt: skip

    def _render_playlists(self, rows, out, dropped, flags) -> int:
        def render(r, lang):
            tracks = [self.catalog[s] for s in r["song_ids"] or [] if s in self.catalog]
            flags["playlist_tracks_unknown"] += len(r["song_ids"] or []) - len(tracks)
            return R.render_playlist(r, tracks, lang, self.cfg.seed)

        return self._render_each(rows, out, dropped, "playlist", "playlist_id", "name", render, stage=2, group="playlists")

    def _render_relations(self, rows, out, dropped, flags) -> int:
        groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
        for r in rows:
            groups[(r["src_id"], r["relation"])].append(r)
        n = 0
        for (src, relation), members in sorted(groups.items()):
            item = self.catalog.get(src)
            neighbours = []
            ranked = sorted(((orjson.loads(m["metadata"] or "{}"), m) for m in members), key=lambda x: x[0].get("rank", 0))
            for meta, m in ranked:
                if (dst := self.catalog.get(m["dst_id"])) is not None:
                    neighbours.append({**dst, "score": m["weight"], "co_count": meta.get("co_count")})
            if item is None or not neighbours:
                dropped["relation_item_unknown"] += len(members)
                continue
            key = f"{relation}\x1f{src}"
            lang = self.lang(key, item["title"])
            # listeners' libraries (co_listener) read like sessions: "listeners of X also play Y"
            doc = R.render_relations(item, neighbours, lang, self.cfg.seed, "playlist" if relation == "co_playlist" else "session")
            if doc is None:
                dropped["no_renderable_facts"] += len(members)
                continue
            self._emit(out, "relation", key, doc, 2, "relations", members[0]["source"], lang, relation=relation)
            n += len(members)
        return n

    def finalize(self, work_dir: Path) -> StageCounts:
        counts = StageCounts()
        flags: Counter = Counter()
        docs: Counter = Counter()
        for i in range(len(self.tasks)):
            st = read_task_stats(work_dir, i)
            counts.rows_in += st["rows_in"]
            counts.rows_out += st["rows_out"]
            counts.dropped.update(st["dropped"])
            flags.update(st["flags"])
            docs[st["kind"]] += st["documents"]
        counts.bytes_in = sum(p.stat().st_size for _, files in self.tasks for p in files)
        notes = [f"Documents by input: {dict(sorted(docs.items()))}; flags: {dict(sorted(flags.items()))}.",
                 "Template wording, and the separators before appended catalog facts, are no-loss spans."]  # fmt: skip
        if (work_dir / OUT_DATASET).exists():
            counts.datasets[OUT_DATASET] = write_card(work_dir / OUT_DATASET, OUT_DATASET,
                                                      "`music-corpus` knowledge stage (`jobs/stages/knowledge.py`)", notes=notes)
        return counts


def _merge(spans: list[dict]) -> list[dict]:
    """Sorted spans with touching or overlapping ones merged."""
    out: list[dict] = []
    for s in sorted(spans, key=lambda s: (s["start"], s["end"])):
        if s["end"] <= s["start"]:
            continue
        if out and s["start"] <= out[-1]["end"]:
            out[-1]["end"] = max(out[-1]["end"], s["end"])
        else:
            out.append(dict(s))
    return out
