"""The scoring pass: a reference model's per-token losses over the training shards, written as sidecars.

    python -m pretrain.score --reference out/ref/hf --shards out/shards [--stages 1 2 3] [--device cuda]
    torchrun --nproc-per-node N -m pretrain.score ...     # prefixes are split across the ranks

For every shard prefix of the chosen stages' blends (the train split by default), each document (its tokens and the
appended EOD, exactly as the `.bin` holds them) is scored by the reference model with an EOD in front, so every
token -- the document's first one included -- gets `-log p_ref(token | EOD, earlier tokens of the document)`,
the loss it has as a target in a training sample (where it follows the previous document's EOD). Documents
longer than `max_tokens` are scored in windows that carry the last `context` tokens of the previous window.
Values go to `<prefix>_refloss.bin/.idx` (`tokenizer.shards.REFLOSS_*`: uint16 milli-nats, aligned with the
tokens like the loss-mask sidecar), written under a temporary name and renamed, so a killed pass leaves no
partial sidecar and a rerun skips finished prefixes. Training reads them with `weighting.mode: offline` and
needs no reference forward pass.

The reference model is any Hugging Face causal LM directory whose vocabulary covers the shards' tokenizer.

    python -m pretrain.score --documents out/refine --reference REF --base BASE --out out/rm_scores

scores documents for data selection instead: the mean per-token loss of the reference and of the base model
over each refined document (each model with its own tokenizer, the first `--max-tokens` tokens after an EOS)
and their ratio, written as `rm_scores` parts aligned with the refine parts (the corpus `rm_score` stage does the
same inside a corpus run, on CPU); with `select.rm_scores` pointing there, `select.rm` drops documents whose ratio
is too high (`rm_ratio_high`, in `select/_exclusions`) and scales the others' weights.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch


@dataclass(frozen=True)
class ScoreConfig:
    """One scoring pass."""

    reference: str
    """Hugging Face directory of the reference model."""
    shards: str
    """The corpus run's shards folder (`blends/`, `stage<N>/`)."""
    stages: tuple[int, ...] = (1, 2, 3)
    """Curriculum stages whose blends' prefixes are scored."""
    splits: tuple[str, ...] = ("train",)
    """Blend splits scored (training reads the train split's sidecars; evaluation losses are never weighted)."""
    max_tokens: int = 1024
    """Tokens per forward pass (a window of a long document)."""
    context: int = 256
    """Tokens of the previous window carried into the next one as context (not scored twice)."""
    device: str = "cpu"
    overwrite: bool = False
    """Rescore prefixes that already have a sidecar."""

    def __post_init__(self) -> None:
        if not (Path(self.reference) / "config.json").is_file():
            raise ValueError(f"score: {self.reference} has no config.json (a Hugging Face model directory)")
        if not (Path(self.shards) / "blends").is_dir():
            raise ValueError(f"score: {self.shards} has no blends/ folder (run `make corpus` first)")
        if not self.splits or not set(self.splits) <= {"train", "valid", "test"}:
            raise ValueError(f"score: splits must be among train, valid, test; got {self.splits}")
        if self.max_tokens < 2 or not 0 <= self.context < self.max_tokens:
            raise ValueError("score: need max_tokens >= 2 and 0 <= context < max_tokens")


def stage_prefixes(shards: Path, stages: tuple[int, ...], splits: tuple[str, ...] = ("train",)) -> list[str]:
    """The prefixes of the stages' blends in `splits`, once each, in order (`pretrain.data.read_blend`)."""
    from pretrain.data import SPLITS, DataConfig, read_blend

    out: list[str] = []
    for s in stages:
        for split, blend in zip(SPLITS, read_blend(DataConfig(shards_dir=str(shards), stage=s)), strict=True):
            if split in splits:
                out += [p for p in (blend[0] if blend else []) if p not in out]
    return out


def document_losses(model, tokens: np.ndarray, eod: int, cfg: ScoreConfig) -> np.ndarray:
    """Reference loss of every token of one document (see the module docstring), float64 nats."""
    ids = np.concatenate([[eod], tokens]).astype(np.int64)
    out = np.zeros(len(tokens), np.float64)
    start = 1  # position in `ids` of the first token not yet scored
    while start < len(ids):
        lo = max(0, start - max(cfg.context, 1))  # at least the token before `start` as context
        hi = min(len(ids), lo + cfg.max_tokens)
        x = torch.from_numpy(ids[lo:hi]).unsqueeze(0).to(cfg.device)
        with torch.no_grad():
            logp = torch.log_softmax(model(input_ids=x).logits.float()[0, :-1], dim=-1)
        tgt = x[0, 1:]
        nll = -logp.gather(-1, tgt.unsqueeze(-1)).squeeze(-1).double().cpu().numpy()  # for ids[lo+1 : hi]
        out[start - 1 : hi - 1] = nll[start - lo - 1 :]
        start = hi
    return out


def score_prefix(model, prefix: str, eod: int, cfg: ScoreConfig) -> dict:
    """Write `<prefix>_refloss.bin/.idx`; returns documents, tokens, seconds and the mean loss."""
    from megatron.core.datasets.indexed_dataset import IndexedDataset, IndexedDatasetBuilder

    from tokenizer.shards import REFLOSS_DTYPE, encode_refloss, refloss_prefix

    final = refloss_prefix(prefix)
    tmp = f"{final}.tmp{os.getpid()}"
    ds = IndexedDataset(prefix, multimodal=False, mmap=True)
    t0 = time.perf_counter()
    builder = IndexedDatasetBuilder(f"{tmp}.bin", dtype=REFLOSS_DTYPE)
    total, n_tok = 0.0, 0
    try:
        for i in range(len(ds)):
            toks = np.asarray(ds[i])
            loss = document_losses(model, toks, eod, cfg) if len(toks) else np.zeros(0)
            builder.add_item(torch.from_numpy(encode_refloss(loss).astype(np.int32)))
            builder.end_document()
            total += float(loss.sum())
            n_tok += len(toks)
        builder.finalize(f"{tmp}.idx")
        os.replace(f"{tmp}.bin", f"{final}.bin")
        os.replace(f"{tmp}.idx", f"{final}.idx")  # the .idx last: a sidecar whose .idx exists is complete
    finally:
        for ext in (".bin", ".idx"):
            if os.path.exists(tmp + ext):
                os.remove(tmp + ext)
    return {"prefix": prefix, "documents": len(ds), "tokens": n_tok, "seconds": time.perf_counter() - t0,
            "mean_loss": total / max(n_tok, 1)}


def score(cfg: ScoreConfig, rank: int = 0, world: int = 1) -> list[dict]:
    """Score this rank's share of the prefixes (every `world`-th, from `rank`); skips finished ones."""
    from transformers import AutoModelForCausalLM

    from pretrain.data import tokenizer_meta
    from tokenizer.shards import refloss_prefix

    shards = Path(cfg.shards)
    meta = tokenizer_meta(shards)
    model = AutoModelForCausalLM.from_pretrained(cfg.reference, dtype=torch.float32).to(cfg.device).eval()
    if model.config.vocab_size < int(meta["vocab_size"]):
        raise ValueError(f"score: the reference model's vocabulary ({model.config.vocab_size}) does not cover the "
                         f"shards' tokenizer ({meta['vocab_size']}); score with a model of this tokenizer")
    eod = int(meta["eod_id"])
    done = []
    for j, prefix in enumerate(stage_prefixes(shards, cfg.stages, cfg.splits)):
        if j % world != rank:
            continue
        if not cfg.overwrite and os.path.isfile(refloss_prefix(prefix) + ".idx"):
            done.append({"prefix": prefix, "skipped": True})
            continue
        r = score_prefix(model, prefix, eod, cfg)
        print(f"[score] {prefix}: {r['documents']} documents, {r['tokens']:,} tokens, mean reference loss "
              f"{r['mean_loss']:.3f}, {r['tokens'] / max(r['seconds'], 1e-9):,.0f} tokens/s")
        done.append(r)
    return done


# ------------------------------------------------------------------------------------------ documents
def mean_losses(model, tok, texts: list[str], max_tokens: int, device: str) -> tuple[list[int], list[float | None]]:
    """(tokens scored, mean per-token loss in nats) of each text: its first `max_tokens` tokens after an EOS.

    One document per forward pass: batching 16 right-padded documents measured no faster on CPU (the LM head over
    the vocabulary dominates), and a single pass per document keeps each figure independent of its neighbours."""
    counts, means = [], []
    bos = tok.eos_token_id if tok.eos_token_id is not None else 0
    for text in texts:
        ids = tok(text or "", add_special_tokens=False)["input_ids"][: max_tokens - 1]
        if not ids:
            counts.append(0)
            means.append(None)
            continue
        x = torch.tensor([[bos, *ids]], device=device)
        with torch.no_grad():
            logp = torch.log_softmax(model(input_ids=x).logits.float()[0, :-1], dim=-1)
        nll = -logp.gather(-1, x[0, 1:].unsqueeze(-1)).squeeze(-1)
        counts.append(len(ids))
        means.append(float(nll.double().mean()))
    return counts, means


class DocumentScorer:
    """The reference (and optional base) model, each with its own tokenizer, scoring documents into `rm_scores`
    rows. One implementation for the CLI (`score_documents`, torchrun/GPU) and the corpus `rm_score` stage."""

    def __init__(self, reference: str, base: str | None = None, max_tokens: int = 1024, device: str = "cpu"):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.max_tokens, self.device = max_tokens, device
        self.models = {}
        for name, path in (("ref", reference), ("base", base)):
            if path:
                self.models[name] = (AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).to(device).eval(),
                                     AutoTokenizer.from_pretrained(path))

    def rows(self, doc_ids: list[str], sources: list[str], texts: list[str | None]) -> list[dict]:
        """One `rm_scores` row per document, in order."""
        n, ref = mean_losses(*self.models["ref"], texts, self.max_tokens, self.device)
        base = (mean_losses(*self.models["base"], texts, self.max_tokens, self.device)[1] if "base" in self.models
                else [None] * len(doc_ids))
        return [{"doc_id": d, "source": s, "n_tokens": k, "ref_loss": r, "base_loss": b,
                 "loss_ratio": r / b if r is not None and b else None}
                for d, s, k, r, b in zip(doc_ids, sources, n, ref, base, strict=True)]  # fmt: skip


def score_documents(reference: str, documents: str | Path, out: str | Path, base: str | None = None,
                    max_tokens: int = 1024, device: str = "cpu", overwrite: bool = False) -> dict:
    """Per-document `rm_scores` aligned with each `scored_documents` part under `documents` (a refine output
    folder: `<dataset>/part-*.parquet`), written to `out/<dataset>/<part>` (atomic; finished parts are skipped).
    Each model tokenizes with its own tokenizer (the Hugging Face directory's)."""
    import pyarrow.parquet as pq

    from jobs.outputs import write_rows

    documents, out = Path(documents), Path(out)
    parts = sorted(p for d in sorted(documents.iterdir()) if d.is_dir() and not d.name.startswith("_")
                   for p in d.glob("part-*.parquet"))  # fmt: skip
    if not parts:
        raise FileNotFoundError(f"score: no {documents}/<dataset>/part-*.parquet (run the refine stage first)")
    scorer = DocumentScorer(reference, base, max_tokens, device)
    stats = {"parts": 0, "skipped": 0, "documents": 0, "tokens": 0, "seconds": 0.0}
    for part in parts:
        dst = out / part.parent.name / part.name
        if dst.exists() and not overwrite:
            stats["skipped"] += 1
            continue
        t0 = time.perf_counter()
        t = pq.read_table(part, columns=["doc_id", "source", "text"])
        rows = scorer.rows(*(t.column(c).to_pylist() for c in ("doc_id", "source", "text")))
        write_rows(dst, rows, "rm_scores")
        stats["parts"] += 1
        stats["documents"] += len(rows)
        stats["tokens"] += sum(r["n_tokens"] for r in rows)
        stats["seconds"] += time.perf_counter() - t0
    print(f"[score] documents: {stats['documents']} in {stats['parts']} part(s) ({stats['skipped']} already done), "
          f"{stats['tokens'] / max(stats['seconds'], 1e-9):,.0f} tokens/s -> {out}")
    return stats


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pretrain.score", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reference", required=True, help="Hugging Face directory of the reference model")
    ap.add_argument("--shards", default="out/shards")
    ap.add_argument("--stages", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--max-tokens", type=int, default=1024)
    ap.add_argument("--context", type=int, default=256)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--overwrite", action="store_true")
    ap.add_argument("--documents", help="score documents instead of shards: a refine output folder "
                                        "(<dataset>/part-*.parquet); writes rm_scores to --out")
    ap.add_argument("--base", help="with --documents: the base model's Hugging Face directory (for loss_ratio)")
    ap.add_argument("--out", default="out/rm_scores", help="with --documents: where the rm_scores parts go")
    a = ap.parse_args(argv)
    if a.documents:
        try:
            score_documents(a.reference, a.documents, a.out, a.base, a.max_tokens, a.device, a.overwrite)
        except (OSError, ValueError) as e:
            print(e)
            return 2
        return 0
    try:
        cfg = ScoreConfig(a.reference, a.shards, tuple(a.stages), a.max_tokens, a.context, device=a.device,
                          overwrite=a.overwrite)
    except ValueError as e:
        print(e)
        return 2
    print(f"[score] config {json.dumps(cfg.__dict__)}")
    rank, world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    score(cfg, rank, world)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
