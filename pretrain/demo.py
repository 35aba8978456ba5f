"""`make pretrain`: the continued-pretraining path a user takes with real Qwen3 weights, on a laptop CPU.

No pretrained weights can be downloaded here, so the demo first makes its own small general-domain base:
1. general shards: real general text from `../shared/data` (the first 1,000 C4 *train* documents and the
   WikiText-2 validation articles to train on; the WikiText-2 test articles to validate on), tokenized
   with the corpus run's tokenizer (`OUT/shards/tokenizer`) into a shards folder of the same layout;
   the evaluation-only web files (C4 validation, OpenWebText) are never used;
2. `configs/pretrain/demo_base.yaml`: a tiny Qwen3-shaped model (configs/pretrain/models/qwen3-tiny)
   trained from random init on it, exported as a Hugging Face checkpoint;
3. `configs/pretrain/demo.yaml`: that checkpoint imported (`init: hf`) and trained through the
   curriculum, stages 1 -> 2 -> 3 of `make corpus`'s shards, evaluating the in-domain (mixed valid) and
   general (WikiText-2 test) loss before and after: the shape of the seeds' data-scaling figure.
Prints where the checkpoints, exports, logs and TensorBoard files went. Rerunning skips finished stages.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
from collections.abc import Sequence
from pathlib import Path

from pretrain.config import PROJECT

SHARED_DATA = Path(os.environ.get("MUSIC_SHARED_DATA", PROJECT.parent / "shared" / "data"))
Doc = tuple[str, list[tuple[int, int]]]  # text, no-loss character spans


# ------------------------------------------------------------------------------------------ general text
def wikitext_articles(split: str, shared: Path = SHARED_DATA) -> list[Doc]:
    """WikiText-2 raw articles of `split` ("valid" or "test"), one document each, the title line as a
    no-loss span (like the corpus templates' wording); `articles.tsv` gives the article boundaries."""
    root = shared / "wikitext2_raw"
    lines = (root / f"wiki.{split}.raw").read_text(encoding="utf-8").split("\n")
    docs = []
    with (root / "articles.tsv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["split"] != split:
                continue
            first, last = int(row["first_line"]), int(row["last_line"])
            title = lines[first - 1].strip() + "\n"
            body = "\n".join(ln.strip() for ln in lines[first:last] if ln.strip())
            docs.append((title + body, [(0, len(title))]))
    if not docs:
        raise ValueError(f"{root / 'articles.tsv'}: no {split} articles")
    return docs


def c4_train_documents(shared: Path = SHARED_DATA) -> list[Doc]:
    """The first 1,000 C4 `en` train documents (general web text; the C4 validation file stays unused)."""
    path = shared / "web_crawl_samples" / "c4_en_train_first1000.jsonl"
    with path.open(encoding="utf-8") as f:
        return [(json.loads(line)["text"], []) for line in f if line.strip()]


def write_text_shards(out: Path, tokenizer_dir: Path, stages: dict[int, dict[str, Sequence[Doc]]],
                      source: str = "text") -> Path:  # fmt: skip
    """A shards folder in the shards stage's layout from plain documents: `stage<N>/<source>` (train),
    `stage<N>/{valid,test}/<source>`, blend files and a copy of the tokenizer. `stages[N][split]` are the
    (text, no-loss spans) documents of stage N's split."""
    from tokenizer.blend import write_blend_files
    from tokenizer.load import load_tokenizer
    from tokenizer.shards import tokenize_to_shard

    tok = load_tokenizer(tokenizer_dir, add_domain_tokens=False)
    out.mkdir(parents=True, exist_ok=True)
    tok.save(out / "tokenizer")
    blends: dict[str, dict[int, list]] = {s: {} for s in ("train", "valid", "test")}
    for stage, splits in sorted(stages.items()):
        for split, docs in splits.items():
            rel = f"stage{stage}/{source}" if split == "train" else f"stage{stage}/{split}/{source}"
            st = tokenize_to_shard(tok, [t for t, _ in docs], [s for _, s in docs], out / rel)
            blends[split].setdefault(stage, []).append((rel, float(st.tokens), st.tokens))
    write_blend_files(out / "blends", blends["train"], blends["valid"], blends["test"], root=out)
    return out


def general_shards(out: Path, tokenizer_dir: Path, shared: Path = SHARED_DATA) -> Path:
    """The demo's general-domain shards (stage 1 only): train C4 train + WikiText-2 valid, valid/test the
    two halves of WikiText-2 test. Written once (a finished folder has its blend files)."""
    if (out / "blends" / "stage1.per_split.json").is_file():
        return out
    test = wikitext_articles("test", shared)
    half = len(test) // 2
    docs = {"train": c4_train_documents(shared) + wikitext_articles("valid", shared), "valid": test[:half],
            "test": test[half:]}  # fmt: skip
    return write_text_shards(out, tokenizer_dir, {1: docs}, source="general")


# ------------------------------------------------------------------------------------------ the demo
def _report(results: dict, base: dict) -> list[str]:
    stages = [s for s in results.values() if s.get("eval_before")]
    first, last = stages[0], stages[-1]
    before, after = first["eval_before"], last["eval_after"]
    lines = ["", "continued pretraining (demo): loss before -> after the curriculum"]
    for name, label in (("domain", "in-domain (mixed valid)"), ("general", "general (WikiText-2 test)")):
        if name in before and name in after:
            lines.append(f"  {label:28s} {before[name]:.4f} -> {after[name]:.4f} ({after[name] - before[name]:+.4f})")
    lines.append(f"  base model: {base['final_checkpoint']} (general valid loss {base['eval_after']['valid']:.4f})")
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m pretrain.demo", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="out", help="the corpus run's output folder (holds shards/); default out")
    p.add_argument("overrides", nargs="*", help="key=value overrides for the curriculum run (configs/pretrain/demo.yaml)")
    args = p.parse_args(argv)
    out = Path(args.out).resolve()
    shards = out / "shards"
    if not (shards / "tokenizer" / "tokenizer_meta.json").is_file():
        raise SystemExit(f"error: {shards} has no shards; run `make corpus` first (OUT={args.out})")
    runs = out / "pretrain_demo"
    general = general_shards(runs / "general_shards", shards / "tokenizer")

    from pretrain.train import main as train

    common = [f"data.shards_dir={general}"]
    base = train(["--config", str(PROJECT / "configs/pretrain/demo_base.yaml"), *common,
                  f"checkpoint.save={runs / 'base'}"])["base"]  # fmt: skip
    results = train(["--config", str(PROJECT / "configs/pretrain/demo.yaml"), f"data.shards_dir={shards}",
                     f"model.hf_path={runs / 'base' / 'base' / 'hf'}", f"checkpoint.save={runs / 'cpt'}",
                     f"eval_sets.domain.shards_dir={shards}", f"eval_sets.general.shards_dir={general}",
                     *args.overrides])  # fmt: skip
    for line in _report(results, base):
        print(line)
    print(f"  checkpoints: {runs / 'cpt'}/<stage>/iter_*  (Hugging Face exports: {runs / 'cpt'}/<stage>/hf)")
    print(f"  logs: {runs / 'cpt' / 'log.jsonl'}; TensorBoard: tensorboard --logdir {runs}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
