"""Entity-linking benchmark: precision and recall of `CatalogLinker` on the MusicRecoNER gold, and speed.

    python -m benchmarks.linking_eval [--shared PATH] [--docs 2000] [--show-web 60]

1. Catalog: the real catalog sources in the shared data dir go through our own ingest stage (inline
   engine) into `bench_out/linking/catalog`; the linker indexes its artists, songs and albums.
2. Gold: the 2,551 Reddit music requests of MusicRecoNER (Deezer, DS1-3 + Trial; 3 whose BIO block is
   garbled are left out) with their `Artist` and `WoA` mentions. We link the `original` text
   (capitalisation, quotes and apostrophes are the cues the safeguards read; `preprocessed` is lowercased
   and stripped of them) and map our spans onto the gold's preprocessed tokens by aligning the letters
   and digits of both. A link is correct when it overlaps a gold mention of its type (artist <-> Artist,
   song/album <-> WoA); "exact" needs the same tokens. The gold has no catalog ids, so whether a title
   link points at the right recording is not scored. Recall is bounded by the catalog: a gold mention is
   "linkable" when its text is a catalog name of its type; recall among linkable mentions is reported.
3. Ablation: each safeguard added in turn (none, minimum length, common-word filter, case cue, title
   corroboration, music context = the default config).
4. Throughput on 2,000 real C4 documents (one process), what it links there, and (`--show-web N`) a
   random sample of those links to check by eye: C4 has no gold.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import json
import logging
import os
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import pyarrow as pa

from corpus.knowledge.linking import CatalogLinker, LinkerConfig, name_key

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench_out" / "linking"
log = logging.getLogger(__name__)
GOLD_SETS = ("dataset1", "dataset2", "dataset3", "dataset4")
# (adapter / source name, folder under the shared data dir)
CATALOG_SOURCES: tuple[tuple[str, str], ...] = (
    ("spotify_songs_tidytuesday_2020", "spotify_songs_tidytuesday_2020"),
    ("spotify_top2000", "spotify_top2000"),
    ("spotify_most_streamed_2023", "spotify_most_streamed_2023"),
    ("msd_subset_corgis", "msd_subset_corgis_music"),
    ("billboard_year_end_hot100", "billboard_year_end_hot100"),
    ("billboard_number_ones", "billboard_number_ones"),
    ("rolling_stone_500_albums_2012", "rolling_stone_500_albums_2012"),
    ("lastfm_hetrec2011", "lastfm_hetrec2011_2k"),
    ("grammy_awards", "grammy_awards"),
)
GOLD_KIND = {"artist": "Artist", "song": "WoA", "album": "WoA"}


def default_shared() -> Path:
    env = os.environ.get("MUSIC_SHARED_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data"


def reference_paths(shared: Path) -> tuple[str, ...]:
    """General English text for the common-word filter: the web crawl samples and WikiText."""
    web = sorted((shared / "web_crawl_samples").glob("*.jsonl"))
    return tuple(str(p) for p in (*web, *sorted((shared / "wikitext2_raw").glob("wiki.*.raw"))))


# ------------------------------------------------------------------------------------------ catalog
def build_catalog(shared: Path, out: Path, sources: tuple[tuple[str, str], ...] = CATALOG_SOURCES) -> dict[str, pa.Table | None]:  # fmt: skip
    """Run our ingest stage over the catalog sources into `out` (skipped when already done) and read back
    the `artists`, `songs` and `albums` datasets."""
    import pyarrow.dataset as ds
    import yaml

    from jobs.config import load_config
    from jobs.run import run_corpus

    out.mkdir(parents=True, exist_ok=True)
    cfg = {"out": str(out), "engine": "inline", "workers": 1, "sample": {"enabled": False},
           "ingest": {"sources": [{"name": n, "adapter": n, "path": str(shared / d)} for n, d in sources
                                  if (shared / d).is_dir()]}}  # fmt: skip
    path = out / "catalog.yaml"
    path.write_text(yaml.safe_dump(cfg))
    run_corpus(load_config(path), stages=("ingest",), progress=False)
    tables: dict[str, pa.Table | None] = {}
    for name in ("artists", "songs", "albums"):
        d = out / "ingest" / name
        tables[name] = ds.dataset(d, format="parquet").to_table() if any(d.glob("*.parquet")) else None
    return tables


def build_linker(tables: dict[str, pa.Table | None], cfg: LinkerConfig) -> CatalogLinker:
    return CatalogLinker.from_tables(tables.get("artists"), tables.get("songs"), tables.get("albums"), cfg)


# ------------------------------------------------------------------------------------------ gold
@dataclass
class Query:
    original: str
    tokens: list[str]  # gold (preprocessed) tokens
    gold: list[tuple[int, int, str]]  # [first token, last token + 1), "Artist" | "WoA"
    char_token: list[int]  # for each character of `original`, the gold token it aligns to (-1: none)


def _bio_chunks(tags: list[str]) -> list[tuple[int, int, str]]:
    out, cur = [], None
    for i, t in enumerate([*tags, "O"]):
        if cur is not None and not (t.startswith("I-") and t[2:] == cur[2]):
            out.append((cur[0], i, cur[2]))
            cur = None
        if t.startswith("B-") or (t.startswith("I-") and cur is None):
            cur = (i, i, t[2:])
    return out


def align(original: str, tokens: list[str]) -> list[int]:
    """Map each character of `original` to the gold token holding the same letter or digit."""
    a_pos = [i for i, ch in enumerate(original) if ch.isalnum()]
    a = "".join(original[i].lower() for i in a_pos)
    b_tok = [k for k, t in enumerate(tokens) for ch in t if ch.isalnum()]
    b = "".join(ch for t in tokens for ch in t if ch.isalnum())
    out = [-1] * len(original)
    for blk in difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks():
        for k in range(blk.size):
            out[a_pos[blk.a + k]] = b_tok[blk.b + k]
    return out


def load_gold(shared: Path) -> list[Query]:
    """MusicRecoNER queries with gold spans; BIO blocks are matched to queries by their text."""
    base = shared / "music_reco_ner_deezer"
    queries: list[Query] = []
    skipped: list[str] = []
    for name in GOLD_SETS:
        blocks = (base / name / "ground-truth.bio").read_text(encoding="utf-8").strip("\n").split("\n\n")
        bio = [[ln.split("\t") for ln in b.split("\n") if ln.strip()] for b in blocks]
        by_text = {"".join(t[0] for t in b): b for b in bio}
        with (base / name / "queries.csv").open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                key = row["preprocessed"].replace(" ", "")
                block = by_text.get(key)
                if block is None:  # 3 of 2,551 BIO blocks garble "a&b" tokens: those queries are left out
                    skipped.append(row["preprocessed"])
                    continue
                toks = [t[0] for t in block]
                tags = [t[1] if len(t) > 1 else "O" for t in block]
                queries.append(Query(row["original"], toks, _bio_chunks(tags), align(row["original"], toks)))
    if skipped:
        log.info("MusicRecoNER: %d queries without a matching BIO block left out: %s", len(skipped), skipped)
    return queries


# ------------------------------------------------------------------------------------------ scoring
def _span_tokens(q: Query, start: int, end: int) -> set[int]:
    return {t for t in q.char_token[start:end] if t >= 0}


def evaluate(linker: CatalogLinker, queries: list[Query]) -> dict:
    """Precision / recall / F1 by gold type and overall, overlap and exact-span."""
    c = Counter()
    for q in queries:
        links = linker.link(q.original)
        found: set[tuple[int, int, str]] = set()
        found_exact: set[tuple[int, int, str]] = set()
        for x in links:
            typ = GOLD_KIND[x.kind]
            toks = _span_tokens(q, x.start, x.end)
            c[f"pred_{typ}"] += 1
            hit = [g for g in q.gold if g[2] == typ and toks & set(range(g[0], g[1]))]
            exact = [g for g in hit if toks == set(range(g[0], g[1]))]
            c[f"tp_{typ}"] += bool(hit)
            c[f"tpx_{typ}"] += bool(exact)
            found.update(hit)
            found_exact.update(exact)
        for g in q.gold:
            c[f"gold_{g[2]}"] += 1
            c[f"found_{g[2]}"] += g in found
            c[f"foundx_{g[2]}"] += g in found_exact
    res = {}
    for typ in ("Artist", "WoA", "all"):
        keys = ("Artist", "WoA") if typ == "all" else (typ,)
        s = {k: sum(c[f"{k}_{t}"] for t in keys) for k in ("pred", "tp", "tpx", "gold", "found", "foundx")}
        res[typ] = {**s, **_prf(s["tp"], s["pred"], s["found"], s["gold"]),
                    "exact": _prf(s["tpx"], s["pred"], s["foundx"], s["gold"])}  # fmt: skip
    return res


def _prf(tp: int, pred: int, found: int, gold: int) -> dict:
    p = tp / pred if pred else 1.0
    r = found / gold if gold else 1.0
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
    }


def gold_mention_text(q: Query, g: tuple[int, int, str]) -> str:
    """The original-text span that aligns to a gold mention."""
    idx = [i for i, t in enumerate(q.char_token) if g[0] <= t < g[1]]
    return q.original[idx[0] : idx[-1] + 1] if idx else " ".join(q.tokens[g[0] : g[1]])


def linkable(linker: CatalogLinker, q: Query, g: tuple[int, int, str]) -> bool:
    """Whether the catalog has the gold mention's text as a name of its type (possessive "'s" dropped)."""
    text = gold_mention_text(q, g)
    want = {"artist"} if g[2] == "Artist" else {"song", "album"}
    key = name_key(text)
    names = [text]
    if len(key) > 1 and key[-1] == "s":
        names.append(" ".join(key[:-1]))
    return any(linker.kinds_of(n) & want for n in names)


def coverage(linker: CatalogLinker, queries: list[Query]) -> dict:
    """Share of gold mentions the catalog could link at all, and recall among those."""
    out = {}
    found_lk = Counter()
    n_lk = Counter()
    n = Counter()
    for q in queries:
        links = linker.link(q.original)
        for g in q.gold:
            n[g[2]] += 1
            if not linkable(linker, q, g):
                continue
            n_lk[g[2]] += 1
            span = set(range(g[0], g[1]))
            found_lk[g[2]] += any(
                GOLD_KIND[x.kind] == g[2] and _span_tokens(q, x.start, x.end) & span for x in links
            )
    for typ in ("Artist", "WoA", "all"):
        keys = ("Artist", "WoA") if typ == "all" else (typ,)
        lk, tot, f = sum(n_lk[k] for k in keys), sum(n[k] for k in keys), sum(found_lk[k] for k in keys)
        out[typ] = {"linkable": lk, "gold": tot, "ceiling": round(lk / tot, 4) if tot else 0.0,
                    "recall_linkable": round(f / lk, 4) if lk else 0.0}  # fmt: skip
    return out


def ablation_configs(base: LinkerConfig) -> list[tuple[str, LinkerConfig]]:
    """Each safeguard added in turn, ending at `base`."""
    none = replace(base, min_name_chars=1, min_cjk_chars=1, common_filter=False, case_cue=False, title_cue=False,
                   context_cue=False)  # fmt: skip
    length = replace(none, min_name_chars=base.min_name_chars, min_cjk_chars=base.min_cjk_chars)
    common = replace(length, common_filter=base.common_filter)
    case = replace(common, case_cue=base.case_cue)
    title = replace(case, title_cue=base.title_cue)
    return [("no filters", none), ("+ min length", length), ("+ common-word filter", common),
            ("+ case cue", case), ("+ title co-mention rule", title), ("+ music context (default)", base)]  # fmt: skip


# ------------------------------------------------------------------------------------------ speed
def c4_texts(shared: Path, n: int) -> list[str]:
    path = shared / "web_crawl_samples" / "c4_en_validation_2k.jsonl"
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line)["text"] for _, line in zip(range(n), fh, strict=False)]


def throughput(linker: CatalogLinker, texts: list[str]) -> dict:
    """Documents per second through `link` (setup done before the clock), and what was linked."""
    linker.link(texts[0])
    t0 = time.perf_counter()
    all_links = [linker.link(t) for t in texts]
    dt = time.perf_counter() - t0
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    names = Counter(f"{x.kind}:{x.name}" for links in all_links for x in links)
    evidence = Counter(x.evidence.split(":")[0] for links in all_links for x in links)
    return {"docs": len(texts), "mb": round(mb, 2), "seconds": round(dt, 2), "docs_per_s": round(len(texts) / dt),
            "mb_per_s": round(mb / dt, 2), "links": sum(map(len, all_links)),
            "docs_with_links": sum(1 for x in all_links if x), "evidence": dict(evidence.most_common()),
            "top_links": names.most_common(12)}  # fmt: skip


def web_sample(linker: CatalogLinker, texts: list[str], n: int, seed: int = 0) -> list[str]:
    """`n` random C4 links in context, for reading by eye (C4 has no gold)."""
    import random

    found = [(t, x) for t in texts for x in linker.link(t)]
    rows = []
    for t, x in random.Random(seed).sample(found, min(n, len(found))):
        left, right = t[max(0, x.start - 60) : x.start], t[x.end : x.end + 40]
        rows.append(f"{x.kind:6} {x.evidence[:24]:24} ...{left!r} [[{x.mention}]] {right!r}")
    return rows


# ------------------------------------------------------------------------------------------ report
def _row(label: str, r: dict) -> str:
    a, w, al = r["Artist"], r["WoA"], r["all"]
    return (f"| {label} | {a['precision']:.3f} / {a['recall']:.3f} | {w['precision']:.3f} / {w['recall']:.3f} | "
            f"{al['precision']:.3f} | {al['recall']:.3f} | {al['f1']:.3f} | {al['exact']['precision']:.3f} / "
            f"{al['exact']['recall']:.3f} | {al['pred']} |")  # fmt: skip


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--shared", type=Path, default=None, help="shared data folder (default $MUSIC_SHARED_DATA)"
    )
    ap.add_argument("--docs", type=int, default=2000, help="C4 documents for the throughput figure")
    ap.add_argument("--show-web", type=int, default=0, help="print this many random C4 links to check by eye")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    shared = args.shared or default_shared()
    if not (shared / "music_reco_ner_deezer").is_dir():
        print(
            f"[linking] skipped: {shared}/music_reco_ner_deezer not found; set MUSIC_SHARED_DATA or --shared"
        )
        return {"linking": {"skipped": f"no shared data at {shared}"}}
    t0 = time.perf_counter()
    tables = build_catalog(shared, args.out / "catalog")
    sizes = {k: (v.num_rows if v is not None else 0) for k, v in tables.items()}
    base = LinkerConfig(reference_paths=reference_paths(shared))
    linker = build_linker(tables, base).setup()
    queries = load_gold(shared)
    n_gold = Counter(g[2] for q in queries for g in q.gold)
    print(
        f"[linking] catalog {sizes}; gold: {len(queries)} queries, {dict(n_gold)} mentions; "
        f"built in {time.perf_counter() - t0:.1f}s",
        flush=True,
    )
    print(f"[linking] config: {base}", flush=True)

    rows = {}
    print("\n| config | Artist P / R | WoA P / R | P | R | F1 | exact P / R | links |")
    print("|---|---|---|---|---|---|---|---|")
    for label, cfg in ablation_configs(base):
        rows[label] = evaluate(linker.with_config(cfg), queries)
        print(_row(label, rows[label]), flush=True)
    cov = coverage(linker, queries)
    print("\n| gold type | mentions | linkable (in catalog) | ceiling | recall among linkable (default) |")
    print("|---|---|---|---|---|")
    for typ, v in cov.items():
        print(f"| {typ} | {v['gold']} | {v['linkable']} | {v['ceiling']:.3f} | {v['recall_linkable']:.3f} |")

    texts = c4_texts(shared, args.docs)
    speed = throughput(linker, texts)
    print(
        f"\n[linking] throughput on {speed['docs']} C4 docs ({speed['mb']} MB, one process): "
        f"{speed['docs_per_s']:,} docs/s, {speed['mb_per_s']} MB/s; {speed['links']} links in "
        f"{speed['docs_with_links']} docs, by evidence {speed['evidence']}",
        flush=True,
    )
    print(f"[linking] most linked on C4: {speed['top_links']}", flush=True)
    for row in web_sample(linker, texts, args.show_web):
        print(f"[linking]   {row}")
    report = {"catalog": sizes, "gold": dict(n_gold), "ablation": rows, "coverage": cov, "throughput": speed}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=2))
    return {"linking": report}


if __name__ == "__main__":
    main()
