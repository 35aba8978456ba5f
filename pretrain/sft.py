"""Supervised fine-tuning on the synthesised user-query-to-item lists (`uq2i_samples`, split `sft`).

    python -m pretrain.sft [--out out] [key=value overrides of configs/pretrain/sft_demo.yaml]     # or: make sft

1. Render: each sample becomes one chat (the user turn is the prompt: the user's context and request; the
   assistant turn is the ten-song list) through a chat template: the model tokenizer's own when it has one, else
   Qwen3's (`../shared/tokenizers/qwen3`, what real runs use), with thinking off (Qwen3's empty think block before
   the answer). Loss only on the answer: the rendered text before the answer and after its end-of-turn marker are
   no-loss spans, which the shards' loss-mask sidecar carries (the corpus shards' mechanism, `tokenizer/shards.py`);
   the document separator (EOD) the packed format appends after each chat takes loss, as in every shard.
2. Shards: `OUT/sft_demo/shards` in the shards stage's layout (stage 1 = SFT; train, valid and test splits by a
   hash of the user, so no user is in two splits), with blend files and the tokenizer.
3. Train: `configs/pretrain/sft_demo.yaml` (the training loop of continued pretraining, from the demo's last
   curriculum checkpoint), evaluating the answer-only loss of the valid split before and after, then the
   Hugging Face export in `OUT/sft_demo/sft/sft/hf`.
4. Lists: the checkpoint before SFT and after it answer the held-out users' prompts (valid and test splits,
   greedy); the answers are matched to the catalog by the evaluation suite's matcher and scored with its list
   metrics (factuality, artist repetition, hit rate / NDCG against the synthesised list, personalization by the
   uq2i stage's model): `OUT/sft_demo/report.md`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from pretrain.config import PROJECT
from pretrain.demo import SHARED_DATA, Doc, write_text_shards

QWEN3_TEMPLATE = SHARED_DATA.parent / "tokenizers" / "qwen3"
SPLITS = (("valid", 0.05), ("test", 0.05))
"""Shares of users (by hash) whose samples validate and test; the rest train."""


@cache
def _template_tokenizer(tokenizer_dir: str):
    from transformers import AutoTokenizer

    cfg = Path(tokenizer_dir) / "tokenizer_config.json"
    own = cfg.is_file() and json.loads(cfg.read_text(encoding="utf-8")).get("chat_template")
    return AutoTokenizer.from_pretrained(tokenizer_dir if own else QWEN3_TEMPLATE)


def render_chat(prompt: str, answer: str, tokenizer_dir: str | Path) -> Doc:
    """(text, no-loss spans): the chat with loss only on the answer and its end-of-turn marker."""
    tok = _template_tokenizer(str(tokenizer_dir))
    user = [{"role": "user", "content": prompt}]
    head = tok.apply_chat_template(user, tokenize=False, add_generation_prompt=True, enable_thinking=False)
    full = tok.apply_chat_template([*user, {"role": "assistant", "content": answer}], tokenize=False,
                                   enable_thinking=False)  # fmt: skip
    if not full.startswith(head) or answer not in full[len(head):]:
        raise ValueError(f"chat template of {tokenizer_dir}: the answer does not follow the generation prompt")
    start = full.index(answer, len(head))
    end = start + len(answer)
    eot = tok.eos_token if tok.eos_token and full.startswith(tok.eos_token, end) else ""
    end += len(eot)
    return full, [(0, start)] + ([(end, len(full))] if end < len(full) else [])


def split_of(user_id: str) -> str:
    u = int.from_bytes(hashlib.blake2b(f"sft-split\x00{user_id}".encode(), digest_size=8).digest(), "big") / 2**64
    lo = 0.0
    for name, share in SPLITS:
        if lo <= u < lo + share:
            return name
        lo += share
    return "train"


def build_shards(samples_dir: Path, tokenizer_dir: Path, out: Path) -> dict[str, Any]:
    """SFT shards from the `sft` samples (see the module docstring); returns the sample counts per split."""
    import pyarrow.dataset as pads

    from jobs.outputs import part_files

    files = part_files(samples_dir)
    if not files:
        raise FileNotFoundError(f"{samples_dir}: no uq2i_samples; run the uq2i stage (make sft does)")
    rows = pads.dataset(files, format="parquet").to_table(
        columns=["sample_id", "user_id", "split", "prompt", "answer"], filter=pads.field("split") == "sft").to_pylist()
    docs: dict[str, list[Doc]] = {"train": [], "valid": [], "test": []}
    for r in sorted(rows, key=lambda r: r["sample_id"]):
        docs[split_of(r["user_id"])].append(render_chat(r["prompt"], r["answer"], tokenizer_dir))
    if not docs["train"] or not docs["valid"]:
        raise ValueError(f"{samples_dir}: {len(rows)} sft samples leave an empty train or valid split")
    if not docs["test"]:
        docs["test"] = docs["valid"][:1]
    write_text_shards(out, tokenizer_dir, {1: docs}, source="uq2i_sft")
    return {k: len(v) for k, v in docs.items()}


def generation_prompt(prompt: str, tokenizer_dir: str | Path) -> str:
    """The chat up to where the assistant's answer starts (what the model continues at inference)."""
    tok = _template_tokenizer(str(tokenizer_dir))
    return tok.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True,
                                   enable_thinking=False)  # fmt: skip


def evaluate_lists(model_dir: Path, samples: list[dict], ingest: Path, personalizer: Path, template_dir: Path,
                   max_new_tokens: int = 160, batch_size: int = 8) -> dict[str, Any]:  # fmt: skip
    """The model's greedy answers to the samples' prompts, matched to the catalog and scored with the evaluation
    suite's list metrics against the synthesised lists (see the module docstring)."""
    from corpus.personalize.model import Context, Personalizer
    from eval.generation import greedy, load_for_generation
    from eval.recommend.match import CatalogMatcher, CatalogSong
    from eval.recommend.metrics import list_metrics, personalization
    from eval.rewards import turn_text
    from jobs.catalog import read_catalog_items

    songs = {k: v for k, v in read_catalog_items(ingest).items() if v["item_type"] == "song"}
    matcher = CatalogMatcher(CatalogSong(k, v["title"], tuple(v["artists"])) for k, v in songs.items() if v["title"])
    model, tok = load_for_generation(model_dir)
    prompts = [generation_prompt(r["prompt"], template_dir) for r in samples]
    raw = [turn_text(t) for t in greedy(model, tok, prompts, max_new_tokens, batch_size)]
    answers = [[matcher.match(line) for line in t.splitlines() if line.strip()][:10] for t in raw]
    golds = [set(r["items"]) for r in samples]
    artist_of = {k: (v["artists"] or [k])[0] for k, v in songs.items()}
    out = list_metrics(answers, golds, len(songs), {it: artist_of.get(it, it) for a in answers for it in a if it},
                       (1, 5, 10))  # fmt: skip
    pz = Personalizer.load(personalizer)

    def score(user: str, items: list[str]) -> list[float]:
        s = pz.score(Context(user), items)
        return [0.0 if x != x else float(x) for x in s]

    out["personalization"] = personalization(answers, [r["user_id"] for r in samples], score)
    out["lines_per_answer"] = sum(len(a) for a in answers) / max(len(answers), 1)
    out["n"] = len(samples)
    out["example"] = {"user": samples[0]["user_id"], "query": samples[0]["query"], "answer": raw[0][:600]} if raw else {}
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m pretrain.sft", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="out", help="the corpus run's output folder (uq2i/, shards/, pretrain_demo/)")
    p.add_argument("overrides", nargs="*", help="key=value overrides of configs/pretrain/sft_demo.yaml")
    args = p.parse_args(argv)
    out = Path(args.out).resolve()
    init = out / "pretrain_demo" / "cpt" / "stage3" / "hf"
    if not (init / "config.json").is_file():
        raise SystemExit(f"error: {init} is missing; run `make corpus` and `make pretrain` first")
    runs = out / "sft_demo"
    counts = build_shards(out / "uq2i" / "uq2i_samples", out / "shards" / "tokenizer", runs / "shards")
    print(f"[sft] samples per split: {counts} -> {runs / 'shards'}")
    from pretrain.train import main as train

    res = train(["--config", str(PROJECT / "configs/pretrain/sft_demo.yaml"), f"model.hf_path={init}",
                 f"data.shards_dir={runs / 'shards'}", f"checkpoint.save={runs / 'sft'}", *args.overrides])["sft"]
    before, after = res["eval_before"]["valid"], res["eval_after"]["valid"]
    summary = {"samples": counts, "answer_loss_before": before, "answer_loss_after": after,
               "hf": str(runs / "sft" / "sft" / "hf")}  # fmt: skip
    print(f"[sft] answer loss on held-out users: {before:.4f} -> {after:.4f}; Hugging Face export: {summary['hf']}")
    import pyarrow.dataset as pads

    from jobs.outputs import part_files

    rows = pads.dataset(part_files(out / "uq2i" / "uq2i_samples"), format="parquet").to_table(
        filter=pads.field("split") == "sft").to_pylist()
    held = sorted((r for r in rows if split_of(r["user_id"]) != "train"), key=lambda r: r["sample_id"])
    template = out / "shards" / "tokenizer"
    lists = {name: evaluate_lists(Path(path), held, out / "ingest", out / "uq2i" / "_personalizer", template)
             for name, path in (("before_sft", init), ("after_sft", summary["hf"]))}  # fmt: skip
    summary["lists"] = lists
    (runs / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    keys = ("factuality", "artist_repetition", "hit_rate@10", "ndcg@10", "success@10", "personalization",
            "lines_per_answer")  # fmt: skip
    md = ["# Query-to-item SFT (demo)", "",
          f"Samples per split: {counts}. Answer-only loss on held-out users: {before:.4f} before, {after:.4f} after.",
          "", f"Ten-song answers of the {len(held)} held-out users' prompts (greedy), matched to the catalog; hit rate "
          "and NDCG against the synthesised list; personalization: mean score of the uq2i stage's model.", "",
          "| checkpoint | " + " | ".join(keys) + " |", "|---|" + "---:|" * len(keys)]  # fmt: skip
    for name, m in lists.items():
        md.append(f"| {name} | " + " | ".join(f"{m[k]:.3f}" for k in keys) + " |")
    ex = lists["after_sft"].get("example") or {}
    if ex:
        md += ["", f"Example (user {ex['user']}, request \"{ex['query']}\"):", "", "```", ex["answer"], "```"]
    (runs / "report.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    for name, m in lists.items():
        print(f"[sft] {name}: " + ", ".join(f"{k} {m[k]:.3f}" for k in keys))
    print(f"[sft] report: {runs / 'report.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
