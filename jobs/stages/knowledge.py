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

A record whose document would state fewer than `min_facts` distinct facts ("X is an artist.") is dropped
as `too_few_facts` (artists are first given their songs, by artist id or else by name, and albums); the
same minimum applies to the catalog facts appended to linked text. Comments on items missing from the
catalog are counted per source (flag `comment_item_unknown`) and kept or dropped per
`unknown_comment_items`.

Rows in = rows rendered + rows dropped by reason, per source (`by_source` in the task stats and the
manifest); a grouped document (a chart week, an award category, an item's neighbours) counts each row it
renders under that row's source.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import orjson
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import xxhash
from pydantic import Field

from corpus.knowledge import render as R
from jobs.catalog import catalog_items
from jobs.outputs import part_files, write_card, write_rows
from jobs.settings import StrictModel
from jobs.stage import Engine, SourceTally, Stage, StageCounts

OUT_DATASET = "training_documents"
CATALOG_KINDS = ("songs", "artists", "albums")
GROUPED_KINDS = ("chart_entries", "awards")

Flags = defaultdict[str, Counter]  # source -> flag -> count (facts attached, comments on unknown items, ...)
Renderer = Callable[[list[dict], list[dict], SourceTally, Flags], None]

if TYPE_CHECKING:
    from jobs.config import RunConfig


class KnowledgeConfig(StrictModel):
    """Templating and linking settings."""
    enabled: bool = True
    seed: int = 0
    zh_share: float = Field(0.3, ge=0.0, le=1.0, description="share of records rendered in Chinese (CJK titles: always)")
    link_entities: bool = True
    attach_linked: bool = True  # append the linked items' catalog facts to the document
    max_attached: int = Field(3, ge=0)
    group_by_source: dict[str, str] = Field(default_factory=lambda: {"musiccaps": "lyric_descriptions", "muchin_1k_zh": "lyric_descriptions"})
    comment_group: str = "comments"
    max_artist_songs: int = Field(10, ge=0)
    min_facts: int = Field(
        2, ge=1,
        description="fewest distinct facts (RenderedDoc.n_facts) a rendered record, chart, award, playlist or "
                    "relation document, or a catalog blurb appended to linked text, must state; fewer: the rows "
                    "are dropped as `too_few_facts` (blurbs are not appended). 2 drops name-only records such as "
                    "\"X is an artist.\"",
    )  # fmt: skip
    unknown_comment_items: Literal["keep", "drop"] = Field(
        "keep",
        description="a comment whose item is not in the catalog: `keep` renders it after a generic prefix, "
                    "`drop` drops it as `comment_item_unknown`; either way it is counted in the source's flag "
                    "`comment_item_unknown` (manifest `by_source`)",
    )  # fmt: skip


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
    transient = ("tasks", "catalog", "artist_works", "song_facts", "comment_items", "linker", "full_rows", "_rows")
    requires = ("ingest", "select")

    @classmethod
    def from_run(cls, run: RunConfig, out: Path) -> KnowledgeStage:
        return cls(run.knowledge, out / "ingest", out / "select", out / "relations" if run.relations.enabled else None)

    def __init__(self, cfg: KnowledgeConfig, ingest_dir: Path, select_dir: Path | None, relations_dir: Path | None):
        self.cfg = cfg
        self.ingest_dir = ingest_dir
        self.select_dir = select_dir
        self.relations_dir = relations_dir


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
            from corpus.knowledge.linking import default_reference_paths

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
    def artist_works(self) -> tuple[dict[str, list[dict]], dict[str, list[dict]], dict[str, list[dict]]]:
        """Songs by artist id and by artist name key (most popular first), albums by artist name key."""
        by_id: dict[str, list[dict]] = defaultdict(list)
        by_name: dict[str, list[dict]] = defaultdict(list)
        for r in self._read("songs", ["song_id", "title", "artists", "artist_ids", "popularity", "year"]):
            for aid in r["artist_ids"] or []:
                by_id[aid].append(r)
            for k in {norm_key(a) for a in r["artists"] or []} - {""}:
                by_name[k].append(r)
        for d in (by_id, by_name):
            for lst in d.values():
                lst.sort(key=lambda r: (-(r["popularity"] or 0.0), r["title"] or "", r["song_id"]))
        albums: dict[str, list[dict]] = defaultdict(list)
        for r in self._read("albums", ["album_id", "title", "artists", "year"]):
            for k in {norm_key(a) for a in r["artists"] or []} - {""}:
                albums[k].append(r)
        for lst in albums.values():
            lst.sort(key=lambda r: (r["year"] or 0, r["title"] or "", r["album_id"]))
        return by_id, by_name, albums

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
        from corpus.knowledge.linking import CatalogLinker

        tables = {}
        for ds in ("artists", "songs", "albums"):
            d = self.ingest_dir / ds
            tables[ds] = pads.dataset(d, format="parquet").to_table() if part_files(d) else None
        return CatalogLinker.from_tables(tables["artists"], tables["songs"], tables["albums"]).setup()

    # ---------------------------------------------------------------- tasks

    def lang(self, key: str, title: str | None) -> str:
        return R.pick_lang(key, self.cfg.seed, self.cfg.zh_share, title)

    def process(self, task_index: int, work_dir: Path) -> dict:
        kind, files = self.tasks[task_index]
        rows = [r for f in files for r in pq.read_table(f).to_pylist()]
        out: list[dict] = []
        tally = SourceTally()
        flags: Flags = defaultdict(Counter)
        self._renderers()[kind](rows, out, tally, flags)
        write_rows(work_dir / OUT_DATASET / f"part-{task_index:05d}.parquet", out, OUT_DATASET)
        by_source = tally.as_dict()
        for source, fl in sorted(flags.items()):
            if fl := +fl:
                by_source.setdefault(source, {"rows_in": 0, "rows_out": 0, "dropped": {}, "quarantined": {}})
                by_source[source]["flags"] = dict(sorted(fl.items()))
        total_dropped: Counter[str] = Counter()
        total_flags: Counter[str] = Counter()
        for source in by_source.values():
            total_dropped.update(source["dropped"])
            total_flags.update(source.get("flags", {}))
        stats = {"kind": kind, "rows_in": sum(s["rows_in"] for s in by_source.values()),
                 "rows_out": sum(s["rows_out"] for s in by_source.values()), "dropped": dict(sorted(total_dropped.items())),
                 "flags": dict(sorted(total_flags.items())), "documents": len(out), "by_source": by_source}  # fmt: skip
        if not len(rows) == stats["rows_in"] == stats["rows_out"] + total_dropped.total():
            raise AssertionError(f"knowledge task {task_index} ({kind}): {len(rows)} rows read do not balance: {stats}")
        return stats

    def _renderers(self) -> dict[str, Renderer]:
        """Task kind -> the method that renders its rows (documents into `out`, every row counted in `tally`)."""
        return {
            "songs": self._render_songs,
            "artists": self._render_artists,
            "albums": self._render_albums,
            "chart_entries": self._render_chart_entries,
            "awards": self._render_awards,
            "documents": self._render_documents,
            "playlists": self._render_playlists,
            "relations": self._render_relations,
        }

    def _too_little(self, doc: R.RenderedDoc | None) -> str | None:
        """The drop reason of a rendered record, or None to keep it."""
        if doc is None:
            return "no_renderable_facts"
        return "too_few_facts" if doc.n_facts < self.cfg.min_facts else None

    def _emit(self, out: list[dict], kind: str, key: str, doc: R.RenderedDoc, stage: int, group: str, source: str,
              lang: str, weight: float = 1.0, **meta: Any) -> None:  # fmt: skip
        out.append({"doc_id": _doc_id(kind, key), "stage": stage, "source": source, "text": doc.text, "weight": weight,
                    "no_loss_spans": _spans(doc.no_loss_spans),
                    "metadata": _meta(mix_group=group, kind=kind, lang=lang, record_id=key, **meta)})  # fmt: skip

    def _render_each(self, rows, out, tally: SourceTally, kind: str, key_col: str, title_col: str, render,
                     stage: int = 1, group: str = "metadata") -> None:  # fmt: skip
        """One document per row: `render(row, lang)` gives a RenderedDoc, or None (nothing to state)."""
        for r in rows:
            lang = self.lang(r[key_col], r[title_col])
            doc = render(r, lang)
            if reason := self._too_little(doc):
                tally.drop(r["source"], reason)
                continue
            self._emit(out, kind, r[key_col], doc, stage, group, r["source"], lang)
            tally.kept(r["source"])

    def render_record(self, kind: str, row: dict, lang: str, flags: Counter | None = None) -> R.RenderedDoc | None:
        """A song with its chart and award facts, an artist with its songs and albums, or an album."""
        seed = self.cfg.seed
        if kind == "song":
            charts, awards = self.song_facts
            key = (norm_key(row["title"]), norm_key(row["artists"][0]) if row["artists"] else "")
            return R.render_song(row, lang, seed, charts=charts.get(key, ()), awards=awards.get(key, ()))
        if kind == "artist":
            by_id, by_name, albums = self.artist_works
            songs = by_id.get(row["artist_id"])
            if not songs and (songs := by_name.get(norm_key(row["name"]))) and flags is not None:
                flags["artist_songs_by_name"] += 1  # artist tables without song ids (Last.fm): joined by name
            cap = self.cfg.max_artist_songs
            return R.render_artist(row, lang, seed, songs=(songs or [])[:cap], albums=albums.get(norm_key(row["name"]), [])[:cap])
        if kind == "album":
            return R.render_album(row, lang, seed)
        return None

    def _render_songs(self, rows, out, tally, flags) -> None:
        self._render_each(rows, out, tally, "song", "song_id", "title", lambda r, lang: self.render_record("song", r, lang))

    def _render_artists(self, rows, out, tally, flags) -> None:
        self._render_each(rows, out, tally, "artist", "artist_id", "name",
                          lambda r, lang: self.render_record("artist", r, lang, flags[r["source"]]))  # fmt: skip

    def _render_albums(self, rows, out, tally, flags) -> None:
        self._render_each(rows, out, tally, "album", "album_id", "title", lambda r, lang: self.render_record("album", r, lang))

    def _render_grouped(self, rows, out, tally: SourceTally, kind: str, group_key, render, cap: int | None,
                        chunk: int | None = None) -> None:  # fmt: skip
        groups: dict[tuple, list[dict]] = defaultdict(list)
        for r in rows:
            groups[group_key(r)].append(r)
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
                reasons = [self._too_little(d) for d in docs] or [self._too_little(None)]
                if None not in reasons:
                    for r in piece:
                        tally.drop(r["source"], reasons[0])
                    continue
                used = len(piece) if cap is None else min(len(piece), cap)
                for r in piece[:used]:
                    tally.kept(r["source"])
                for r in piece[used:]:
                    tally.drop(r["source"], f"{kind}_beyond_cap")
                for k, doc in enumerate(docs):
                    if reasons[k] is None:
                        self._emit(out, kind, f"{key}\x1f{j}\x1f{k}", doc, 1, "metadata", piece[0]["source"], lang, rows=used)

    def _render_chart_entries(self, rows, out, tally, flags) -> None:
        self._render_grouped(rows, out, tally, "chart", lambda r: (r["source"], r["chart"], r["date"] or r["year"]),
                             R.render_chart, cap=R.MAX_CHART_ENTRIES, chunk=R.MAX_CHART_ENTRIES)  # fmt: skip

    def _render_awards(self, rows, out, tally, flags) -> None:
        self._render_grouped(rows, out, tally, "award", lambda r: (r["source"], r["ceremony"], r["year"], r["category"]),
                             R.render_award, cap=R.MAX_NOMINEES)  # fmt: skip

    def _render_documents(self, rows, out, tally, flags) -> None:
        for r in rows:
            meta = orjson.loads(r["metadata"] or "{}")
            if meta.get("dataset") == "comments":
                if (doc := self._comment(r, meta, tally, flags[r["source"]])) is not None:
                    out.append(doc)
                continue
            group = self.cfg.group_by_source.get(r["source"], "encyclopedia")
            meta["mix_group"] = group
            text, spans = r["text"], list(r["no_loss_spans"] or [])
            if self.cfg.link_entities:
                links = self.linker.link(text)
                if links:
                    from corpus.knowledge.linking import linked_metadata

                    meta["links"] = linked_metadata(links)
                    flags[r["source"]]["documents_linked"] += 1
                    if self.cfg.attach_linked:
                        text, spans = self._attach(text, spans, links, meta.get("lang") or "en", flags[r["source"]])
            out.append({**r, "text": text, "no_loss_spans": spans, "stage": 1,
                        "metadata": orjson.dumps(meta, option=orjson.OPT_SORT_KEYS).decode()})  # fmt: skip
            tally.kept(r["source"])

    def _attach(self, text: str, spans: list[dict], links, lang: str, flags: Counter) -> tuple[str, list[dict]]:
        """Append the catalog facts of the first linked items (template wording no-loss); an item whose
        document states fewer than `min_facts` facts is skipped (flag `attached_too_few_facts`)."""
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
            if (reason := self._too_little(doc)) is not None:
                if reason == "too_few_facts":
                    flags["attached_too_few_facts"] += 1
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

    def render_linked(self, item_id: str, lang: str) -> R.RenderedDoc | None:
        """The catalog document of a linked item, as its stage-1 record renders it (None: not a song, artist
        or album)."""
        kind, row = self.full_rows.get(item_id, (None, None))
        return self.render_record(kind, row, lang) if kind else None

    def _comment(self, r: dict, meta: dict, tally: SourceTally, flags: Counter) -> dict | None:
        item_type, item_id = self.comment_items.get(r["doc_id"], (None, None))
        item = self.catalog.get(item_id) if item_id else None
        if item is None:
            flags["comment_item_unknown"] += 1
            if self.cfg.unknown_comment_items == "drop":
                tally.drop(r["source"], "comment_item_unknown")
                return None
        lang = "zh" if meta.get("lang") == "zh" else "en"
        doc = R.render_comment(r["text"], item or {"item_type": item_type, "title": None, "artists": None}, lang, self.cfg.seed)
        if doc is None:
            tally.drop(r["source"], "no_renderable_facts")
            return None
        tally.kept(r["source"])
        meta.update(mix_group=self.cfg.comment_group, item_id=item_id, item_type=item_type)
        return {**r, "stage": 2, "text": doc.text, "no_loss_spans": _spans(doc.no_loss_spans),
                "metadata": orjson.dumps({k: v for k, v in meta.items() if v is not None}, option=orjson.OPT_SORT_KEYS).decode()}  # fmt: skip

    def _render_playlists(self, rows, out, tally, flags) -> None:
        def render(r, lang):
            tracks = [self.catalog[s] for s in r["song_ids"] or [] if s in self.catalog]
            flags[r["source"]]["playlist_tracks_unknown"] += len(r["song_ids"] or []) - len(tracks)
            return R.render_playlist(r, tracks, lang, self.cfg.seed)

        self._render_each(rows, out, tally, "playlist", "playlist_id", "name", render, stage=2, group="playlists")

    def _render_relations(self, rows, out, tally, flags) -> None:
        groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
        for r in rows:
            groups[(r["src_id"], r["relation"])].append(r)
        for (src, relation), members in sorted(groups.items()):
            item = self.catalog.get(src)
            neighbours = []
            ranked = sorted(((orjson.loads(m["metadata"] or "{}"), m) for m in members), key=lambda x: x[0].get("rank", 0))
            for meta, m in ranked:
                if (dst := self.catalog.get(m["dst_id"])) is not None:
                    neighbours.append({**dst, "score": m["weight"], "co_count": meta.get("co_count")})
            if item is None or not neighbours:
                for m in members:
                    tally.drop(m["source"], "relation_item_unknown")
                continue
            key = f"{relation}\x1f{src}"
            lang = self.lang(key, item["title"])
            # listeners' libraries (co_listener) read like sessions: "listeners of X also play Y"
            doc = R.render_relations(item, neighbours, lang, self.cfg.seed, "playlist" if relation == "co_playlist" else "session")
            if reason := self._too_little(doc):
                for m in members:
                    tally.drop(m["source"], reason)
                continue
            self._emit(out, "relation", key, doc, 2, "relations", members[0]["source"], lang, relation=relation)
            for m in members:
                tally.kept(m["source"])

    def finalize(self, work_dir: Path, engine: Engine) -> StageCounts:
        counts = StageCounts()
        flags: Counter = Counter()
        docs: Counter = Counter()
        for st in self.task_stats(work_dir):
            counts.add_task(st)  # rows in / out / dropped, in total and per source
            flags.update(st["flags"])
            docs[st["kind"]] += st["documents"]
        counts.bytes_in = sum(p.stat().st_size for _, files in self.tasks for p in files)
        unknown = ("dropped" if self.cfg.unknown_comment_items == "drop" else "kept") + " (`unknown_comment_items`)"
        notes = [f"Documents by input: {dict(sorted(docs.items()))}; flags: {dict(sorted(flags.items()))}.",
                 f"Comments on items not in the catalog: {flags['comment_item_unknown']:,}, {unknown}.",
                 f"Records stating fewer than {self.cfg.min_facts} distinct facts are dropped (`too_few_facts`): "
                 f"{counts.dropped['too_few_facts']:,} rows.",
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
