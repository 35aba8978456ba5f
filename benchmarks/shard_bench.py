"""Shard-writing benchmark: Parquet `training_documents` to Megatron `.bin/.idx` with the Qwen3 tokenizer, per core.

    python -m benchmarks.shard_bench [--mb 100] [--chunks 24]

Input: real text (C4 and OpenWebText samples, WikiText-2 articles, MusicCaps captions from shared/data)
plus the demo `training_documents` (out/mix, with their no-loss spans; the demo generator's documents
when out/mix is absent), written as `training_documents` Parquet. The real text is repeated whole to
reach `--mb` (the default 100 MB holds each real document ~5 times), which the report states.

Each variant runs in its own process on one core (TOKENIZERS_PARALLELISM=false, RAYON_NUM_THREADS=1),
over the same Parquet files, side by side in one run: the processes take turns chunk by chunk (`--chunks`),
one running at a time, so slow spells of the shared machine fall on all variants alike:
  (a) the anchor: the Hugging Face fast tokenizer's batch call `tok(texts)`, and (a') its Rust
      backend's `encode_batch_fast` (both the stock tokenizer, texts already in memory); (a'') our
      `encode_batch` alone (larger BPE cache, NFC normalizer skipped for NFC text), texts in memory;
  (b) ours end to end: Parquet -> `tokenize_arrow_to_shard` -> `.bin/.idx` + `_lossmask.bin/.idx`;
  (c) datatrove's `ParquetReader` -> `MegatronDocumentTokenizer` (the same tokenizer, saved as
      tokenizer.json) -> `.bin/.idx`, and (c') its tokenizer call alone, `Tokenizer.from_file(tokenizer.json)
      .encode_batch(texts)`, which separates datatrove's pipeline overhead from tokenization.
Throughput is input UTF-8 MB (and text tokens) per CPU-second of the process; wall seconds are shown
too, since other work shares the machine. (b) and (c) must write the same tokens: the token `.bin`
files are compared. The 50B-token projection uses (b)'s tokens per CPU-second.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench_out" / "shard"
ONE_CORE_ENV = {"TOKENIZERS_PARALLELISM": "false", "RAYON_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                "MKL_NUM_THREADS": "1"}  # fmt: skip
BATCH = 1024


# ------------------------------------------------------------------------------------------ inputs
def real_documents(shared: Path) -> list[tuple[str, str]]:
    """(source, text) of the real text in shared/data."""
    docs: list[tuple[str, str]] = []
    for name in ("c4_en_validation_2k", "c4_en_train_first1000", "openwebtext_1000"):
        p = shared / "web_crawl_samples" / f"{name}.jsonl"
        if p.exists():
            docs += [(name, json.loads(line)["text"]) for line in p.open(encoding="utf-8")]
    for split in ("valid", "test"):
        p = shared / "wikitext2_raw" / f"wiki.{split}.raw"
        if p.exists():
            arts = re.split(r"\n = (?!=)[^\n]+ = \n", p.read_text(encoding="utf-8"))
            docs += [("wikitext2", a.strip()) for a in arts if a.strip()]
    p = shared / "musiccaps" / "musiccaps-public.csv"
    if p.exists():
        with open(p, newline="", encoding="utf-8") as f:
            docs += [("musiccaps", r["caption"]) for r in csv.DictReader(f) if r["caption"]]
    return docs


def demo_table():
    """The demo `training_documents` (out/mix) or, without it, demo-generator documents (no spans)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts = sorted((ROOT / "out" / "mix" / "training_documents").glob("part-*.parquet"))
    if parts:
        return pa.concat_tables([pq.read_table(p) for p in parts]), "out/mix/training_documents"
    from benchmarks.dedup_bench import demo_documents

    texts, ids = demo_documents(5000)
    return _table([("demo", t) for t in texts], 2, prefix="demo"), "demo generator documents (no spans)"


def _table(docs: list[tuple[str, str]], stage: int, prefix: str):
    import pyarrow as pa

    from schemas.datasets import TRAINING_DOCUMENTS

    n = len(docs)
    return pa.table({
        "doc_id": [hashlib.md5(f"{prefix}-{i}".encode()).hexdigest() for i in range(n)],
        "stage": pa.array([stage] * n, pa.int8()), "source": [s for s, _ in docs], "text": [t for _, t in docs],
        "weight": [1.0] * n, "no_loss_spans": pa.nulls(n, TRAINING_DOCUMENTS.column("no_loss_spans").type),
        "metadata": pa.nulls(n, pa.string()),
    }).cast(TRAINING_DOCUMENTS.arrow_schema())  # fmt: skip


def build_input(shared: Path, target_mb: float) -> tuple[Path, dict]:
    """`OUT/input-<mb>MB/part-*.parquet`: the demo documents, then whole copies of the real text."""
    import pyarrow.parquet as pq

    d = OUT / f"input-{target_mb:g}MB"
    marker = d / "_input.json"
    if marker.exists():
        return d, json.loads(marker.read_text())
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    demo, demo_what = demo_table()
    demo_mb = sum(len(t.encode()) for t in demo.column("text").to_pylist()) / 1e6
    pq.write_table(demo, d / "part-00000.parquet")
    real = real_documents(shared)
    real_mb = sum(len(t.encode()) for _, t in real) / 1e6
    copies = max(1, math.ceil((target_mb - demo_mb) / real_mb)) if real else 0
    for c in range(copies):
        pq.write_table(_table(real, 1, prefix=f"real{c}"), d / f"part-{c + 1:05d}.parquet")
    info = {"demo": demo_what, "demo_docs": demo.num_rows, "demo_mb": round(demo_mb, 1),
            "demo_docs_with_spans": sum(1 for s in demo.column("no_loss_spans").to_pylist() if s),
            "real_docs": len(real), "real_unique_mb": round(real_mb, 1), "real_copies": copies,
            "total_mb": round(demo_mb + copies * real_mb, 1), "docs": demo.num_rows + copies * len(real)}  # fmt: skip
    marker.write_text(json.dumps(info))
    return d, info


# ------------------------------------------------------------------------------------------ variants (child side)
class Turns:
    """The child's side of turn-taking: work only after "go" on stdin, report each segment's CPU and wall
    seconds on stdout. All variants advance chunk by chunk in rotation, one process running at a time,
    so a slow spell of the shared machine falls on every variant alike."""

    def __init__(self) -> None:
        self.c0 = self.w0 = 0.0

    def wait(self) -> None:
        if sys.stdin.readline().strip() != "go":
            raise SystemExit("parent went away")
        self.c0, self.w0 = time.process_time(), time.perf_counter()

    def report(self, **extra) -> None:
        print(json.dumps({"cpu": time.process_time() - self.c0, "wall": time.perf_counter() - self.w0, **extra}),
              flush=True)  # fmt: skip

    def paced(self, items, size, bounds: list[int]):
        """Yield `items`; at each document-count boundary report the segment and wait for the next turn."""
        self.wait()
        done, k = 0, 0
        for item in items:
            yield item
            done += size(item)
            while k < len(bounds) and done >= bounds[k]:
                self.report()
                self.wait()
                k += 1
        while k < len(bounds):  # fewer documents than boundaries: empty segments keep the rotation in step
            self.report()
            self.wait()
            k += 1


def _texts(input_dir: Path) -> list[str]:
    import pyarrow.parquet as pq

    out: list[str] = []
    for p in sorted(input_dir.glob("part-*.parquet")):
        out += pq.read_table(p, columns=["text"]).column("text").to_pylist()
    return out


def run_variant(variant: str, tok_path: str, input_dir: Path, out_dir: Path, bounds: list[int]) -> None:
    """Child process: set up (untimed), print "ready", then run the variant in turns (see `Turns`)."""
    from tokenizer.load import DEFAULT_BPE_CACHE, encode_batch, load_tokenizer

    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    ours = variant in ("ours", "ours_encode_only")
    tok = load_tokenizer(tok_path, bpe_cache_capacity=DEFAULT_BPE_CACHE if ours else None)
    turns, extra = Turns(), {}
    if ours:  # one-time setup per worker, untimed like every variant's tokenizer load
        import megatron.core.datasets.indexed_dataset  # noqa: F401

        tok.token_bytes, tok.unnormalized_backend  # noqa: B018
    if variant in ("anchor_hf_call", "anchor_encode_batch_fast", "json_encode_batch", "ours_encode_only"):
        texts = _texts(input_dir)  # the anchors tokenize texts already in memory
        if variant == "json_encode_batch":  # datatrove's tokenizer call alone: tokenizer.json via from_file
            from tokenizers import Tokenizer

            tok.backend.save(str(out_dir / "tokenizer.json"))
            from_json = Tokenizer.from_file(str(out_dir / "tokenizer.json"))
        call = {
            "anchor_hf_call": lambda b: tok.tokenizer(b, add_special_tokens=False)["input_ids"],
            "anchor_encode_batch_fast": lambda b: [e.ids for e in tok.backend.encode_batch_fast(b, add_special_tokens=False)],
            "json_encode_batch": lambda b: [e.ids for e in from_json.encode_batch(b, add_special_tokens=False)],
            "ours_encode_only": lambda b: encode_batch(tok, b),
        }[variant]
        print("ready", flush=True)
        n = 0
        for batch in turns.paced((texts[i : i + BATCH] for i in range(0, len(texts), BATCH)), len, bounds):
            n += sum(map(len, call(batch)))
        extra = {"text_tokens": n}
    elif variant == "ours":
        import pyarrow.parquet as pq

        from tokenizer.shards import tokenize_arrow_to_shard

        def batches():
            for p in sorted(input_dir.glob("part-*.parquet")):
                yield from pq.ParquetFile(p).iter_batches(batch_size=BATCH, columns=["text", "no_loss_spans"])

        print("ready", flush=True)
        st = tokenize_arrow_to_shard(tok, turns.paced(batches(), lambda rb: rb.num_rows, bounds), out_dir / "ours")
        extra = {"text_tokens": st.tokens - st.eod_tokens, "tokens_written": st.tokens, "docs": st.documents,
                 "empty_docs": st.empty_documents, "no_loss_tokens": st.no_loss_tokens,
                 "docs_with_spans": st.documents_with_spans, "bin": str(out_dir / "ours.bin")}  # fmt: skip
    elif variant == "datatrove":
        from datatrove.pipeline.readers import ParquetReader
        from datatrove.pipeline.tokens.megatron_tokenizer import MegatronDocumentTokenizer

        tj = out_dir / "tokenizer.json"
        tok.backend.save(str(tj))  # the same vocabulary (domain markers included), stock BPE cache
        reader = ParquetReader(str(input_dir), glob_pattern="part-*.parquet", text_key="text", id_key="doc_id",
                               read_metadata=False)  # fmt: skip
        step = MegatronDocumentTokenizer(str(out_dir / "dt"), save_filename="dt", tokenizer_name_or_path=str(tj),
                                         eos_token=tok.eod_token)  # fmt: skip
        step.tokenizer  # noqa: B018  loaded before timing, as for the other variants
        print("ready", flush=True)
        docs = turns.paced(reader.run(None, rank=0, world_size=1), lambda _: 1, bounds)
        step.run(docs, rank=0, world_size=1)
        bins = sorted((out_dir / "dt").glob("*.bin"))
        extra = {"bin": str(bins[0]) if bins else None}
    else:
        raise ValueError(f"unknown variant {variant!r}")
    turns.report(final=True, **extra)


# ------------------------------------------------------------------------------------------ parent side
def run_in_turns(variants: Sequence[str], tok_path: str, input_dir: Path, n_docs: int, chunks: int) -> dict[str, dict]:
    """Start one process per variant, then let them advance chunk by chunk in rotation (one at a time)."""
    size = math.ceil(n_docs / chunks)
    bounds = [size * k for k in range(1, chunks) if size * k < n_docs]
    env = {**os.environ, **ONE_CORE_ENV, "PYTHONPATH": str(ROOT)}
    procs = {}
    for v in variants:
        cmd = [sys.executable, "-m", "benchmarks.shard_bench", "--child", v, tok_path, str(input_dir),
               str(OUT / "work" / v), ",".join(map(str, bounds))]  # fmt: skip
        procs[v] = subprocess.Popen(cmd, cwd=ROOT, env=env, text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL)  # fmt: skip
    for v, p in procs.items():
        line = p.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"{v} did not start (exit {p.poll()}); run it with --child to see why")
    totals = {v: {"cpu_s": 0.0, "wall_s": 0.0} for v in variants}
    order = list(variants)
    for k in range(len(bounds) + 1):
        for v in order[k % len(order) :] + order[: k % len(order)]:
            p = procs[v]
            p.stdin.write("go\n")
            p.stdin.flush()
            seg = json.loads(p.stdout.readline())
            totals[v]["cpu_s"] += seg.pop("cpu")
            totals[v]["wall_s"] += seg.pop("wall")
            totals[v].update(seg)
        print(f"[shard] chunk {k + 1}/{len(bounds) + 1} done", end="\r", flush=True)
    print()
    for v, p in procs.items():
        p.stdin.close()
        if p.wait() != 0:
            raise RuntimeError(f"{v} exited with {p.returncode}")
    return totals


def _sha(path: str | None) -> str | None:
    if not path or not Path(path).exists():
        return None
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=float(os.environ.get("SHARD_BENCH_MB", 100)))
    ap.add_argument("--chunks", type=int, default=24, help="turns each variant takes (see Turns)")
    ap.add_argument("--tokenizer", default=None, help="tokenizer directory (default shared/tokenizers/qwen3)")
    ap.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        variant, tok_path, input_dir, out_dir, bounds = args.child
        run_variant(variant, tok_path, Path(input_dir), Path(out_dir), [int(b) for b in bounds.split(",") if b])
        return {}
    from jobs.config import shared_data_dir
    from tokenizer.blend import projection, projection_markdown

    shared = shared_data_dir()
    tok_path = args.tokenizer or str(shared.parent / "tokenizers" / "qwen3")
    if not shared.exists() or not Path(tok_path).exists():
        print(f"[shard] skipped: needs {shared} and the tokenizer {tok_path}")
        return {"shard": {"skipped": True}}
    input_dir, info = build_input(shared, args.mb)
    print(f"[shard] input {info['total_mb']} MB, {info['docs']:,} docs: {info['demo']} ({info['demo_mb']} MB, "
          f"{info['demo_docs_with_spans']:,} with no-loss spans) + real text {info['real_unique_mb']} MB x "
          f"{info['real_copies']} copies (repeated whole to reach {args.mb:g} MB)", flush=True)  # fmt: skip
    print(f"[shard] one process per variant, {', '.join(f'{k}={v}' for k, v in ONE_CORE_ENV.items())}; "
          f"tokenizer {Path(tok_path).name}", flush=True)  # fmt: skip
    variants = ("anchor_hf_call", "anchor_encode_batch_fast", "json_encode_batch", "ours_encode_only", "ours", "datatrove")
    runs = run_in_turns(variants, tok_path, input_dir, info["docs"], args.chunks)
    mb = info["total_mb"]
    text_tokens = runs["ours"]["text_tokens"]
    table = {}
    for v, res in runs.items():
        table[v] = {"cpu_s": round(res["cpu_s"], 1), "wall_s": round(res["wall_s"], 1),
                    "mb_per_cpu_s": round(mb / res["cpu_s"], 2), "tokens_per_cpu_s": round(text_tokens / res["cpu_s"]),
                    "mb_per_wall_s": round(mb / res["wall_s"], 2)}  # fmt: skip
        print(f"[shard] {v:>26}: {table[v]}", flush=True)
    ours = runs["ours"]["cpu_s"]
    ratios = {
        "ours_vs_anchor_hf_call": round(runs["anchor_hf_call"]["cpu_s"] / ours, 3),
        "ours_vs_anchor_encode_batch_fast": round(runs["anchor_encode_batch_fast"]["cpu_s"] / ours, 3),
        "ours_vs_ours_encode_only": round(runs["ours_encode_only"]["cpu_s"] / ours, 3),
        "datatrove_vs_its_tokenizer_call": round(runs["json_encode_batch"]["cpu_s"] / runs["datatrove"]["cpu_s"], 3),

        "ours_speedup_vs_datatrove": round(runs["datatrove"]["cpu_s"] / ours, 3),
        "ours_speedup_vs_datatrove_wall": round(runs["datatrove"]["wall_s"] / runs["ours"]["wall_s"], 3),
    }
    same = _sha(runs["ours"].get("bin")) == _sha(runs["datatrove"].get("bin"))
    print(f"[shard] ratios (throughput, CPU time): {ratios}; token .bin identical to datatrove's: {same}", flush=True)
    for key, need in (("ours_vs_anchor_hf_call", 0.85), ("ours_speedup_vs_datatrove", 1.3)):
        print(f"[shard] {key} = {ratios[key]} (target >= {need}): {'met' if ratios[key] >= need else 'NOT met'}")
    proj = projection(text_tokens / ours)
    print("[shard] projection from (b):\n" + projection_markdown(proj), flush=True)
    ours_res = {k: runs["ours"][k] for k in ("docs", "empty_docs", "docs_with_spans", "no_loss_tokens", "tokens_written")}
    unique = unique_text_check(shared, tok_path)
    return {"shard": {"input": info, "variants": table, "ratios": ratios, "bin_identical_to_datatrove": same,
                      "ours": ours_res, "projection": proj, "env": ONE_CORE_ENV, "unique_text": unique}}  # fmt: skip


def unique_text_check(shared: Path, tok_path: str) -> dict:
    """The word cache's gain without repeated input: every real text once (C4, OpenWebText, WikiText,
    ZIQI's Chinese questions), cold cache, against the Rust batch path; ids compared."""
    import json
    import subprocess
    import sys

    code = f"""
import json, time, glob
from tokenizer.load import load_tokenizer, WordCacheEncoder
tok = load_tokenizer({tok_path!r})
texts = []
for f in sorted(glob.glob({str(shared / "web_crawl_samples" / "*.jsonl")!r})):
    texts += [json.loads(line)["text"] for line in open(f, encoding="utf-8")]
for pat, size in (({str(shared / "wikitext2_raw" / "wiki.*.raw")!r}, 4000), ({str(shared / "ziqi_eval" / "test" / "*.csv")!r}, 2000)):
    for f in sorted(glob.glob(pat)):
        raw = open(f, encoding="utf-8").read()
        texts += [raw[i : i + size] for i in range(0, len(raw), size)]
mb = sum(len(t.encode()) for t in texts) / 1e6
backend = tok.unnormalized_backend or tok.backend
t = time.process_time(); ref = [e.ids for e in backend.encode_batch_fast(texts, add_special_tokens=False)]; rust = time.process_time() - t
enc = WordCacheEncoder.for_tokenizer(tok)
t = time.process_time(); ours = [enc.encode(x) for x in texts]; ws = time.process_time() - t
print(json.dumps({{"mb": round(mb, 1), "docs": len(texts), "rust_mb_per_cpu_s": round(mb / rust, 2),
                  "word_cache_mb_per_cpu_s": round(mb / ws, 2), "ratio": round(rust / ws, 2),
                  "identical_ids": ours == ref, "distinct_words": len(enc.cache)}}))
"""
    env = {**os.environ, **ONE_CORE_ENV}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    out = json.loads(res.stdout.strip().splitlines()[-1])
    print(f"[shard] unique real text, cold cache: {out['mb']} MB, {out['docs']:,} docs: Rust encode_batch_fast "
          f"{out['rust_mb_per_cpu_s']} MB/cpu-s, word cache {out['word_cache_mb_per_cpu_s']} (x{out['ratio']}), "
          f"identical ids: {out['identical_ids']}", flush=True)  # fmt: skip
    return out


if __name__ == "__main__":
    main()
