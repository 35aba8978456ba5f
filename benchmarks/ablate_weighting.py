"""Ablation of reference-model token weighting (issue 15): what each criterion buys on noisy in-domain data.

    python -m benchmarks.ablate_weighting [--corpus out_shared] [--steps 30] [--seeds 0 1 2] [--noise 0.3]
    make ablate      # runs the real-data corpus (configs/shared_data.yaml) through select first, then this

Data (real, from ../shared/data): with `--corpus OUT`, the English documents that a real-data corpus run's select
stage kept with a domain score of at least 0.8 (`OUT/select/training_documents`: BBC music stories, music web
pages, Wikipedia music articles, MusicCaps captions, ...), i.e. the in-domain corpus the training would see;
without it, BBC entertainment music stories and MusicCaps captions grouped five to a document, read directly.
Either is split by a hash into a clean reference subset (15%), a clean held-out set (15%) and the training set
(70%). A known share of the training documents (`--noise`, default 30%) is replaced by
noise made from them, one of five kinds in turn: random words from the corpus vocabulary, repeated boilerplate,
the document's own words shuffled, wrong-language text (THUCNews Chinese headlines), and the document with its
words replaced by leaked PII placeholders. General text for forgetting: WikiText-2 (test articles).

Models: the demo shape (configs/pretrain/models/qwen3-tiny), random init, a BPE of 8,000 tokens trained on the
clean text. A reference model is trained briefly on the clean reference subset, a base model on WikiText-2
valid (the general model that data selection compares against). Then, at equal steps and tokens, one run per
variant and seed: `none`, `rho1` (keep 0.6), `loss_ratio`, `inverse_ref` (online, `pretrain.weighting`), and
`select` (document-level selection: the training documents whose reference/base mean-loss ratio is above 1.0
dropped, as `select.rm` (max_ratio 1.0) does, then trained with `none`). Each run is evaluated on the clean held-out
loss, the general (WikiText-2 test) loss, U2I perplexity on the demo corpus's held-out users when
`out/behavior/heldout_sequences` exists (the suite's measure; a model trained on this text is not expected to
do well there), and the share of the loss weight that fell on injected-noise tokens (measured after training
on a fixed sample of noisy and clean training documents, as one batch) against their share of tokens.
Report: `bench_out/ablate_weighting/report.md` (mean and spread over seeds, plot) and `results.json`.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import re
import shutil
import statistics
from pathlib import Path

import torch

from benchmarks.train_bench import GBS, MODEL, SEQ, run_tree

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench_out" / "ablate_weighting"
NOISE_KINDS = ("random_words", "boilerplate", "shuffled", "wrong_language", "placeholders")
VARIANTS = ("none", "rho1", "loss_ratio", "inverse_ref", "select")
BOILERPLATE = ("Click here to subscribe to our newsletter. All rights reserved. Terms of use | Privacy policy | "
               "Cookie settings. Share this on Facebook Twitter Email. ")
EVAL_ONLY = ("c4_en_validation_2k", "openwebtext_1000")
"""web_crawl_samples collections that are evaluation text only (never trained on)."""
PLACEHOLDERS = ("<PERSON>", "<EMAIL_ADDRESS>", "<PHONE_NUMBER>", "<LOCATION>", "<URL>")


def _h(key: str) -> float:
    return int(hashlib.blake2b(key.encode(), digest_size=8).hexdigest(), 16) / 2**64


def music_documents(shared: Path) -> list[str]:
    docs = []
    for line in (shared / "bbc_news_fulltext" / "bbc_news.jsonl").open(encoding="utf-8"):
        r = json.loads(line)
        if r["category"] == "entertainment" and r["n_music_keyword_hits"] >= 6:
            docs.append(r["text"].strip())
    with (shared / "musiccaps" / "musiccaps-public.csv").open(encoding="utf-8", newline="") as f:
        caps = [r["caption"].strip() for r in csv.DictReader(f) if r["caption"].strip()]
    docs += [" ".join(caps[i : i + 5]) for i in range(0, len(caps), 5)]
    return docs


def corpus_documents(out: Path, min_domain: float = 0.8, min_chars: int = 200) -> list[str]:
    """English documents a corpus run's select stage kept, with domain score >= `min_domain` (longest first
    within equal hash order is not needed: file order, which is deterministic)."""
    import pyarrow.dataset as pads

    folder = out / "select" / "training_documents"
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: run the corpus through select first (make ablate does: music-corpus run "
                                "--config configs/shared_data.yaml --stages ingest,refine,dedup,select)")
    # the evaluation-only web text (C4 validation, OpenWebText) is never trained on, whatever the corpus holds
    docs_in = pads.dataset(out / "ingest" / "documents", format="parquet").to_table(
        columns=["doc_id", "metadata"], filter=pads.field("source") == "web_crawl_samples").to_pylist()
    eval_only = {r["doc_id"] for r in docs_in if json.loads(r["metadata"] or "{}").get("collection") in EVAL_ONLY}
    rows = pads.dataset(folder, format="parquet").to_table(columns=["doc_id", "text", "metadata"]).to_pylist()
    docs = []
    for r in rows:
        meta = json.loads(r["metadata"])
        if meta.get("dataset") == "documents" and meta.get("lang") == "en" and meta["domain_score"] >= min_domain \
                and len(r["text"]) >= min_chars and r["doc_id"] not in eval_only:
            docs.append(r["text"].strip())
    if len(docs) < 300:
        raise ValueError(f"{folder}: only {len(docs)} English documents with domain score >= {min_domain}; "
                         "the ablation needs at least 300")
    return docs


def chinese_text(shared: Path) -> list[str]:
    with (shared / "thucnews_titles_zh" / "thucnews_titles.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f][:5000]


def make_noise(text: str, kind: str, rng: random.Random, vocab: list[str], zh: list[str]) -> str:
    words = text.split()
    n = max(len(words), 20)
    if kind == "random_words":
        return " ".join(rng.choice(vocab) for _ in range(n))
    if kind == "boilerplate":
        return (BOILERPLATE * (1 + len(text) // len(BOILERPLATE)))[: max(len(text), 200)]
    if kind == "shuffled":
        rng.shuffle(words)
        return " ".join(words)
    if kind == "wrong_language":
        out = []
        while sum(map(len, out)) < len(text) // 2:
            out.append(rng.choice(zh))
        return "，".join(out)
    return " ".join(rng.choice(PLACEHOLDERS) if i % 2 else w for i, w in enumerate(words))  # placeholders


def build_data(shared: Path, noise_share: float, corpus: Path | None = None) -> dict:
    from pretrain.demo import wikitext_articles, write_text_shards
    from tokenizer.load import train_bpe

    docs = corpus_documents(corpus) if corpus else music_documents(shared)
    ref, held, train = [], [], []
    for d in docs:
        u = _h(d[:200])
        (ref if u < 0.15 else held if u < 0.30 else train).append(d)
    rng = random.Random(0)
    vocab = sorted({w for d in train for w in re.findall(r"[A-Za-z]+", d)})
    zh = chinese_text(shared)
    noisy_idx = [i for i, d in enumerate(train) if _h("noise" + d[:200]) < noise_share]
    kinds = {}
    for j, i in enumerate(noisy_idx):
        kind = NOISE_KINDS[j % len(NOISE_KINDS)]
        train[i] = make_noise(train[i], kind, rng, vocab, zh)
        kinds[i] = kind
    wiki_valid, wiki_test = wikitext_articles("valid", shared), wikitext_articles("test", shared)
    tok = OUT / "tokenizer"  # retrained every run (seconds): a cached one could come from other documents
    train_bpe([*ref, *held, *[t for t, _ in wiki_valid]], vocab_size=8000).save(tok)
    as_docs = lambda texts: [(t, []) for t in texts]  # noqa: E731
    shards = {
        "ref": write_text_shards(OUT / "ref_shards", tok, {1: {"train": as_docs(ref), "valid": as_docs(held[:20]),
                                                                "test": as_docs(held[20:30])}}),
        "base": write_text_shards(OUT / "base_shards", tok, {1: {"train": wiki_valid, "valid": wiki_test[:20],
                                                                  "test": wiki_test[20:30]}}),
        "general": write_text_shards(OUT / "general_shards", tok, {1: {"train": wiki_test[:10], "valid": wiki_test,
                                                                        "test": wiki_test[:10]}}),
    }  # fmt: skip
    return {"ref": ref, "held": held, "train": train, "noisy": kinds, "shards": shards, "tokenizer": tok}


def train_tiny(name: str, shards: Path, steps: int, seed: int, *, weighting: dict | None = None,
               general: Path | None = None, export: bool = False, init: str | None = None) -> dict:
    save = OUT / "runs" / name
    shutil.rmtree(save, ignore_errors=True)
    tree = {
        "model": {"hf_path": init or str(MODEL), "init": "hf" if init else "random"},
        "data": {"shards_dir": str(shards), "seq_length": SEQ, "num_workers": 0},
        "stages": [{"name": "s", "data": 1, "steps": steps, "optimizer": {"lr": 1e-3, "min_lr": 1e-4, "warmup_fraction": 0.1}}],
        "micro_batch_size": 4, "global_batch_size": GBS, "seed": seed,
        "checkpoint": {"save": str(save), "interval": 10**6, "export_hf": export},
        "logging": {"interval": 5, "eval_interval": 10**6, "eval_iters": 4, "tensorboard": False, "eval_at_start": False},
    }  # fmt: skip
    if general is not None:
        tree["eval_sets"] = {"general": {"shards_dir": str(general), "stage": 1, "use_loss_mask": False}}
    if weighting:
        tree["weighting"] = weighting
    res = run_tree(tree)["s"]
    return {"eval": res["eval_after"], "hf": str(save / "s" / "hf")}


def noise_weight_share(variant: str, model_dir: str, ref_dir: str, data: dict, kept: set[int] | None) -> dict:
    """Share of loss weight on injected-noise tokens, on 40 noisy + 40 clean training documents as one batch."""
    from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast

    from pretrain.weighting import WeightingConfig, token_weights

    tok = PreTrainedTokenizerFast(tokenizer_file=str(data["tokenizer"] / "tokenizer.json"))
    noisy = sorted(data["noisy"])[:40]
    clean = [i for i in range(len(data["train"])) if i not in data["noisy"]][:40]
    docs = [(i, True) for i in noisy] + [(i, False) for i in clean]
    if variant == "select":  # documents dropped before training take no weight
        docs = [(i, n) for i, n in docs if kept is None or i in kept]
    ids = [tok(data["train"][i])["input_ids"][:256] for i, _ in docs]
    width = max(len(x) for x in ids)
    x = torch.zeros(len(ids), width, dtype=torch.long)
    mask = torch.zeros(len(ids), width)
    for r, seq in enumerate(ids):
        x[r, : len(seq)] = torch.tensor(seq)
        mask[r, 1 : len(seq)] = 1.0

    def losses(path: str) -> torch.Tensor:
        m = AutoModelForCausalLM.from_pretrained(path).eval()
        with torch.no_grad():
            logp = torch.log_softmax(m(input_ids=x).logits.float(), -1)
        out = torch.zeros_like(mask)
        out[:, 1:] = -logp[:, :-1].gather(-1, x[:, 1:].unsqueeze(-1)).squeeze(-1)
        return out

    criterion = variant if variant in ("rho1", "loss_ratio", "inverse_ref") else "none"
    w = token_weights(WeightingConfig(criterion=criterion, keep=0.6), mask, losses(model_dir), losses(ref_dir))
    is_noise = torch.tensor([n for _, n in docs], dtype=torch.bool).unsqueeze(1).expand_as(mask)
    return {"weight_share": float(w[is_noise].sum() / w.sum()),
            "token_share": float(mask[is_noise].sum() / mask.sum())}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--noise", type=float, default=0.3)
    ap.add_argument("--corpus", type=Path, help="a real-data corpus run's output folder (its select stage's documents)")
    args = ap.parse_args(argv)
    from jobs.settings import shared_data_dir
    from pretrain.demo import write_text_shards
    from pretrain.score import mean_losses

    OUT.mkdir(parents=True, exist_ok=True)
    data = build_data(shared_data_dir(), args.noise, args.corpus)
    ref = train_tiny("reference", data["shards"]["ref"], args.steps, 0, export=True)["hf"]
    base = train_tiny("base", data["shards"]["base"], args.steps, 0, export=True)["hf"]
    held = [(t, []) for t in data["held"]]
    train_docs = [(t, []) for t in data["train"]]
    main_shards = write_text_shards(OUT / "train_shards", data["tokenizer"], {1: {"train": train_docs, "valid": held,
                                                                                    "test": held[:10]}})  # fmt: skip
    # document-level selection: reference/base mean loss ratio above 1.0 is dropped (select.rm.max_ratio)
    from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast

    tok = PreTrainedTokenizerFast(tokenizer_file=str(data["tokenizer"] / "tokenizer.json"), eos_token="<|endoftext|>")
    r = mean_losses(AutoModelForCausalLM.from_pretrained(ref).eval(), tok, data["train"], 256, "cpu")[1]
    b = mean_losses(AutoModelForCausalLM.from_pretrained(base).eval(), tok, data["train"], 256, "cpu")[1]
    from corpus.classify.weighting import RatioPolicy, ratio_to_factor

    factor = ratio_to_factor([x / y if x is not None and y else None for x, y in zip(r, b, strict=True)], RatioPolicy())
    kept = {i for i, f in enumerate(factor) if f > 0}
    sel_shards = write_text_shards(OUT / "selected_shards", data["tokenizer"],
                                   {1: {"train": [train_docs[i] for i in sorted(kept)], "valid": held, "test": held[:10]}})  # fmt: skip
    dropped_noise = sum(1 for i in data["noisy"] if i not in kept) / max(len(data["noisy"]), 1)
    dropped_clean = sum(1 for i in range(len(train_docs)) if i not in data["noisy"] and i not in kept) / max(
        len(train_docs) - len(data["noisy"]), 1)
    heldout = ROOT / "out" / "behavior" / "heldout_sequences"
    results: dict[str, list[dict]] = {v: [] for v in VARIANTS}
    for seed in args.seeds:
        for v in VARIANTS:
            w = {"criterion": v, "reference": ref, "keep": 0.6} if v in ("rho1", "loss_ratio", "inverse_ref") else None
            res = train_tiny(f"{v}_{seed}", sel_shards if v == "select" else main_shards, args.steps, seed,
                             weighting=w, general=data["shards"]["general"], export=True)  # fmt: skip
            row = {"seed": seed, "clean_loss": res["eval"]["valid"], "general_loss": res["eval"]["general"]}
            row.update(noise_weight_share(v, res["hf"], ref, data, kept if v == "select" else None))
            if heldout.exists():
                from transformers import AutoTokenizer

                from eval.u2i import perplexity, read_heldout

                m = AutoModelForCausalLM.from_pretrained(res["hf"]).eval()
                row["u2i_ppl"] = perplexity(m, AutoTokenizer.from_pretrained(res["hf"]), read_heldout(heldout, 16), 512).perplexity
            results[v].append(row)
            print(f"[ablate] {v:11s} seed {seed}: clean {row['clean_loss']:.4f}  general {row['general_loss']:.4f}  "
                  f"noise weight share {row['weight_share']:.3f} (tokens {row['token_share']:.3f})", flush=True)
    summary = {}
    for v, rows in results.items():
        summary[v] = {k: {"mean": statistics.mean(r[k] for r in rows),
                          "spread": (max(r[k] for r in rows) - min(r[k] for r in rows)) / 2}
                      for k in rows[0] if k != "seed"}  # fmt: skip
    out = {"config": {**vars(args), "corpus": str(args.corpus) if args.corpus else None}, "documents": {"train": len(train_docs), "noisy": len(data["noisy"]),
                                               "reference": len(data["ref"]), "held_out": len(held)},
           "selection": {"kept": len(kept), "noise_dropped": dropped_noise, "clean_dropped": dropped_clean},
           "runs": results, "summary": summary}  # fmt: skip
    (OUT / "results.json").write_text(json.dumps(out, indent=2), encoding="utf-8")
    write_report(out)
    return {"ablate_weighting": summary}


def write_report(out: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = out["summary"]
    cols = [c for c in ("clean_loss", "general_loss", "u2i_ppl", "weight_share", "token_share") if c in s["none"]]
    src = (f"the English documents with domain score >= 0.8 that the real-data corpus run `{out['config']['corpus']}` "
           "selected" if out["config"].get("corpus") else "BBC music stories and MusicCaps captions (read directly)")
    lines = ["# Token-weighting ablation", "", f"Documents: {src}.", "",
             f"{out['documents']['train']} training documents, {out['documents']['noisy']} of them replaced by noise "
             f"({', '.join(NOISE_KINDS)}); reference model on {out['documents']['reference']} clean documents; "
             f"{out['documents']['held_out']} clean held-out documents. Seeds {out['config']['seeds']}, "
             f"{out['config']['steps']} steps of {GBS} x {SEQ} tokens per run (equal tokens). Mean ± half-range.", "",
             f"Document selection kept {out['selection']['kept']} documents: dropped "
             f"{100 * out['selection']['noise_dropped']:.0f}% of the noisy and {100 * out['selection']['clean_dropped']:.0f}% "
             "of the clean ones.", "",
             "| variant | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]  # fmt: skip
    for v, m in s.items():
        lines.append(f"| {v} | " + " | ".join(f"{m[c]['mean']:.4f} ± {m[c]['spread']:.4f}" for c in cols) + " |")
    best = min(s, key=lambda v: s[v]["clean_loss"]["mean"])
    lines += ["", f"Lowest clean held-out loss: `{best}` ({s[best]['clean_loss']['mean']:.4f} vs `none` "
              f"{s['none']['clean_loss']['mean']:.4f}).", "", "![ablation](ablation.png)"]
    (OUT / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.2))
    names = list(s)
    for a, key in zip(ax, ("clean_loss", "weight_share"), strict=True):
        a.bar(names, [s[n][key]["mean"] for n in names], yerr=[s[n][key]["spread"] for n in names])
        a.set_title(key)
        a.tick_params(axis="x", rotation=30, labelsize=7)
        if key == "clean_loss":
            a.set_ylim(min(s[n][key]["mean"] for n in names) - 0.2, max(s[n][key]["mean"] for n in names) + 0.2)
    fig.tight_layout()
    fig.savefig(OUT / "ablation.png", dpi=100)
    print(f"[ablate] report: {OUT / 'report.md'}")


if __name__ == "__main__":
    main()
