"""GRPO with the hybrid reward on TRL (the Hugging Face engine; `eval/rewards.py` holds the rewards themselves).

    python -m pretrain.grpo [--out out] [--steps 40] [--seeds 0 1 2]       # or: make rl (after make sft)

Data: the `rl` split of the uq2i samples (users disjoint from SFT by construction), minus any sample whose query
text also appears in the SFT split, so no RL user or query was seen in SFT. Each prompt is the chat up to the
answer (`pretrain.sft.generation_prompt`), with the user's recent positive songs for the de-duplication reward.

Reward (`HybridReward`, TRL's reward-function signature): R = R_rel x lambda_pers x R_pers + rule rewards, with
- R_rel: the relevance gate of the trained query-item judge (`corpus.uq2i.judge`, trained by the uq2i stage in
  `uq2i/_judge/`): 1 when at least half of the answer's catalog items are judged relevant to the request at the
  judge's calibrated threshold, else 0. Without a judge (a run from before it), the cluster rule: 1 when at least
  half of the items are indexed under the request's semantic cluster;
- R_pers: the uq2i stage's personalization model's mean score of the answer's catalog items for the user, clipped
  to [0, 1] (ALS scores are predicted preferences; an unmatched line counts 0);
- the rule rewards of `eval.rewards.answer_facts` (format, factuality, diversity, de-duplication).

GRPO as the seeds define it (`grpo_args`): group size 8, advantage = reward minus the group's mean (no
standard-deviation scaling: TRL's `scale_rewards="none"`), clipped importance ratio (epsilon 0.2), KL to the
reference policy (beta 0.04), the original GRPO loss normalisation (`loss_type="grpo"`); rollouts sampled at
`ROLLOUT_TEMPERATURE` and stopped at the chat turn end (the SFT export's generation config).

Before/after (`mean_reward`): on held-out RL prompts, the expected reward over `--eval-samples` answers per prompt
sampled as the rollouts are (what GRPO maximises), and the reward of the greedy answers, both reported.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from eval.rewards import RewardConfig, answer_facts, hybrid_reward


def positive_song_events(out: str | Path) -> list[dict[str, Any]]:
    """The session events `rl_prompts` and the tools read (positive song feedback; the session log stays on disk)."""
    import pyarrow.compute as pc
    import pyarrow.dataset as pads

    from corpus.uq2i.synthesize import POSITIVE
    from jobs.outputs import part_files

    return pads.dataset(part_files(Path(out) / "behavior" / "_sessions"), format="parquet").to_table(
        columns=["user_id", "ts", "event_id", "item_type", "item_id", "feedback"],
        filter=(pc.field("item_type") == "song") & pc.field("feedback").isin(list(POSITIVE)),
    ).to_pylist()


def rl_prompts(samples: Sequence[Mapping[str, Any]], events: Sequence[Mapping[str, Any]], template_dir: str | Path,
               recent: int = 50) -> list[dict[str, Any]]:  # fmt: skip
    """RL records from uq2i sample rows: `rl` users only, and no query that an SFT sample used."""
    sft_queries = {s["query"] for s in samples if s["split"] == "sft"}
    return prompt_records([s for s in samples if s["split"] == "rl" and s["query"] not in sft_queries], events,
                          template_dir, recent)  # fmt: skip


def prompt_records(samples: Sequence[Mapping[str, Any]], events: Sequence[Mapping[str, Any]], template_dir: str | Path,
                   recent: int = 50) -> list[dict[str, Any]]:  # fmt: skip
    """Reward records of uq2i sample rows (all of them, by sample id): the chat up to the answer, the user, query
    and cluster, and the user's `recent` latest positive songs (newest first) for the de-duplication reward."""
    from corpus.uq2i.synthesize import POSITIVE
    from pretrain.sft import generation_prompt

    positive: dict[str, list[str]] = {}
    for e in sorted(events, key=lambda e: (e["user_id"], e["ts"], e["event_id"])):
        if e["item_type"] == "song" and e["feedback"] in POSITIVE:
            positive.setdefault(e["user_id"], []).append(e["item_id"])
    out = []
    for s in sorted(samples, key=lambda s: s["sample_id"]):
        hist = list(dict.fromkeys(reversed(positive.get(s["user_id"], []))))[:recent]
        out.append({"prompt": generation_prompt(s["prompt"], template_dir), "user_id": s["user_id"],
                    "query": s["query"], "cluster": int(s["cluster"]), "recent_positive": hist,
                    "sample_id": s["sample_id"]})  # fmt: skip
    return out


class HybridReward:
    """TRL reward function: `reward(prompts, completions, **columns) -> list[float]`, the dataset's `user_id`,
    `cluster` and `recent_positive` columns passed as keyword lists. `last` keeps the components of the last call
    (for logging and reports)."""

    __name__ = "hybrid"  # TRL names the logged reward after the function

    def __init__(self, matcher: Any, personalizer: Any, cluster_songs: Mapping[int, set[str]],
                 cfg: RewardConfig | None = None, judge: Any = None):  # fmt: skip
        self.matcher, self.personalizer, self.cluster_songs = matcher, personalizer, cluster_songs
        self.judge = judge
        self.cfg = cfg or RewardConfig()
        self.last: list[dict[str, float]] = []

    def relevance(self, query: str | None, cluster: int, ids: Sequence[str]) -> float:
        """R_rel: the judge's gate when there is a judge and a query text, else the cluster rule."""
        if self.judge is not None and query:
            return self.judge.gate(query, ids)
        in_cluster = sum(1 for i in ids if i in self.cluster_songs.get(int(cluster), ()))
        return 1.0 if ids and in_cluster >= len(ids) / 2 else 0.0

    def components(self, completion: str, user_id: str, cluster: int, recent: Sequence[str],
                   query: str | None = None) -> dict[str, float]:  # fmt: skip
        from corpus.personalize.model import Context

        facts = answer_facts(completion, self.matcher, recent, self.cfg)
        ids = [it.song_id for it in facts.items if it.song_id]
        rel = self.relevance(query, cluster, ids)
        scores = self.personalizer.score(Context(user_id), ids) if ids else np.array([])
        pers = float(np.clip(np.nan_to_num(scores, nan=0.0), 0.0, 1.0).sum() / max(facts.n_items, 1))
        return {"reward": hybrid_reward(facts, rel, pers, self.cfg), "relevance": rel, "personalization": pers,
                **{k: float(v) for k, v in facts.rewards.items()}}  # fmt: skip

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], **kw: Any) -> list[float]:
        texts = [c if isinstance(c, str) else final_answer(c) for c in completions]
        queries = kw.get("query") or [None] * len(texts)
        self.last = [self.components(t, u, c, r, q) for t, u, c, r, q in
                     zip(texts, kw["user_id"], kw["cluster"], kw["recent_positive"], queries, strict=True)]  # fmt: skip
        return [x["reward"] for x in self.last]


def final_answer(messages: Sequence[Mapping[str, Any]]) -> str:
    """The answer of a conversational completion: its last assistant message's text ("" when there is none). With
    tool rollouts a completion holds the call turn, the tool results and the final turn; a rollout that ends on a
    tool result is scored on what the model itself wrote, never on the tool's list."""
    return next((m.get("content") or "" for m in reversed(messages) if m.get("role") == "assistant"), "")


def build_reward(out: str | Path, cfg: RewardConfig | None = None) -> HybridReward:
    """The hybrid reward of a corpus run's outputs (`out`: ingest/ for the catalog, uq2i/ for the query pool's
    clusters and the personalization model): what TRL's trainer and verl's reward function both call."""
    from corpus.personalize.model import Personalizer
    from corpus.uq2i.judge import RelevanceJudge
    from corpus.uq2i.synthesize import ClusterIndex
    from eval.recommend.match import CatalogMatcher, CatalogSong
    from jobs.catalog import read_catalog_items

    out = Path(out)
    songs = {k: v for k, v in read_catalog_items(out / "ingest").items() if v["item_type"] == "song"}
    matcher = CatalogMatcher(CatalogSong(k, v["title"], tuple(v["artists"])) for k, v in songs.items() if v["title"])
    # the songs candidate retrieval indexes under each cluster, as the synthesis read them
    clusters = {c: set(s) for c, s in ClusterIndex.read(out / "uq2i" / "query_pool").songs_in.items()}
    judge = RelevanceJudge.load(out / "uq2i" / "_judge") if (out / "uq2i" / "_judge" / "model.json").is_file() else None
    return HybridReward(matcher, Personalizer.load(out / "uq2i" / "_personalizer"), clusters, cfg, judge)


GRPO_LR = 1e-4
"""Learning rate of the demo's GRPO runs (`--lr`): the 4-layer demo policy; about 1e-6 for billion-parameter ones.
On the demo, 1e-5 moved nothing in 40 steps and 5e-4 broke the list format before it helped."""
GRPO_STEPS = 40
"""Optimizer steps per demo GRPO run (`--steps`; one prompt's group of eight per step)."""
EVAL_SAMPLES = 8
"""Answers sampled per held-out prompt for the before/after expected reward (`--eval-samples`)."""
ROLLOUT_TEMPERATURE = 0.7
"""Sampling temperature of the GRPO rollouts, and of the sampled before/after evaluation. GRPO learns from the
differences within a group; the demo's SFT policy at 1.0 mostly breaks the numbering (format 0.22, diversity 0.95
on the held-out prompts) and greedily repeats one artist (format 1, diversity 0), while at 0.7 both rewarded
properties vary within groups (format 0.56, diversity 0.67)."""


def grpo_args(out: Path, steps: int, seed: int, **kw: Any):
    """TRL's `GRPOConfig` as the seeds define GRPO (see the module docstring); CPU, fp32, no reporting."""
    from trl import GRPOConfig

    base = {"num_generations": 8, "per_device_train_batch_size": 8, "gradient_accumulation_steps": 1,
            "max_completion_length": 160, "learning_rate": GRPO_LR, "beta": 0.04, "epsilon": 0.2,
            "scale_rewards": "none", "loss_type": "grpo", "temperature": ROLLOUT_TEMPERATURE, "max_steps": steps,
            "use_cpu": True, "bf16": False, "report_to": [], "logging_steps": 1, "save_strategy": "no",
            "seed": seed, "output_dir": str(out)}  # fmt: skip
    base.update(kw)
    return GRPOConfig(**base)


def mean_reward(model_dir: str | Path, records: Sequence[Mapping[str, Any]], reward: HybridReward,
                max_new_tokens: int = 160, batch_size: int = 8, samples: int = 0, temperature: float = ROLLOUT_TEMPERATURE,
                seed: int = 0) -> dict[str, float]:  # fmt: skip
    """Mean reward and mean of each component of a checkpoint's answers to the records' prompts: greedy answers
    (`samples=0`), or `samples` answers per prompt sampled at `temperature` as the GRPO rollouts are (the policy's
    expected reward, what GRPO maximises; seeded, so two checkpoints are compared on the same draws' seeds)."""
    from eval.generation import greedy, load_for_generation, sample

    model, tok = load_for_generation(model_dir)
    prompts = [r["prompt"] for r in records]
    if samples:
        texts = sample(model, tok, prompts, samples, max_new_tokens, temperature, seed)
    else:
        texts = [[t] for t in greedy(model, tok, prompts, max_new_tokens, batch_size)]
    rows = [reward.components(t, r["user_id"], r["cluster"], r["recent_positive"], r["query"])
            for ts, r in zip(texts, records, strict=True) for t in ts]  # fmt: skip
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]} | {"n": len(rows)}


ABLATIONS: dict[str, dict[str, Any]] = {
    "no_relevance": {"relevance_gate": False}, "no_personalization": {"lambda_pers": 0.0},
    "no_format": {"lambda_format": 0.0}, "no_factuality": {"lambda_factuality": 0.0},
    "no_diversity": {"lambda_diversity": 0.0}, "no_dedup": {"lambda_dedup": 0.0},
}  # fmt: skip
"""MuChator's reward ablation: GRPO with one reward removed (`RewardConfig` overrides), evaluated with the full one."""
COLUMNS = (("reward", "hybrid reward"), ("relevance", "relevance"), ("personalization", "personalization"),
           ("r_format", "format"), ("r_factuality", "factuality"), ("r_diversity", "diversity"),
           ("r_dedup", "de-duplication"))  # fmt: skip


def ablated(reward: HybridReward, **overrides: Any) -> HybridReward:
    """The same reward with some weights changed (`RewardConfig` fields): what an ablation run trains on."""
    from dataclasses import replace

    return HybridReward(reward.matcher, reward.personalizer, reward.cluster_songs, replace(reward.cfg, **overrides),
                        reward.judge)  # fmt: skip


def report_markdown(report: Mapping[str, Any]) -> str:
    """MuChator's Table 3 shape (SFT against SFT+GRPO, mean ± half-range over seeds) and Table 7 shape (GRPO with
    each reward removed, one seed), every column measured by the full reward on the held-out prompts."""
    head = "| model | " + " | ".join(c for _, c in COLUMNS) + " |"
    rule = "|---|" + "---:|" * len(COLUMNS)

    def row(name: str, runs: Sequence[Mapping[str, float]]) -> str:
        cells = []
        for k, _ in COLUMNS:
            v = [r[k] for r in runs]
            cells.append(f"{np.mean(v):.3f}" + (f" ± {(max(v) - min(v)) / 2:.3f}" if len(v) > 1 else ""))
        return f"| {name} | " + " | ".join(cells) + " |"

    p = report["prompts"]
    seeds = list(report["seeds"])
    k = report.get("eval_samples", 0)
    how = (f"{k} answers per held-out prompt sampled as the rollouts are (temperature {report.get('temperature')}: "
           "the policy's expected reward, what GRPO maximises)") if k else "greedy answers of the held-out prompts"
    md = ["# GRPO with the hybrid reward (demo)", "",
          f"{p['train']} RL prompts for training, {p['held_out']} held out (users and queries unseen in SFT); {how}, "
          "scored by the full hybrid reward. Relevance: share of answers passing the judge's gate; personalization: "
          "mean R_pers; the rules: share of answers earning each.", "",
          f"## SFT against SFT+GRPO (seeds {seeds})", "", head, rule, row("SFT", [report["before"]]),
          row("SFT+GRPO", [s["after"] for s in report["seeds"].values()])]  # fmt: skip
    if k and report.get("before_greedy"):
        md += ["", "Greedy answers of the same prompts:", "", head, rule, row("SFT", [report["before_greedy"]]),
               row("SFT+GRPO", [s["after_greedy"] for s in report["seeds"].values()])]  # fmt: skip
    if report.get("ablations"):
        md += ["", f"## Reward ablation (seed {report['ablation_seed']})", "", head, rule,
               row("SFT+GRPO, full reward", [report["seeds"][report["ablation_seed"]]["after"]])]  # fmt: skip
        md += [row(f"without {name.removeprefix('no_')}", [a["after"]]) for name, a in report["ablations"].items()]
    mismatch = report.get("logp_mismatch")
    md += ["", "Train/rollout log-probability mismatch: " + (json.dumps(mismatch) if mismatch else
           "not applicable here (generation and training are the same transformers model in fp32 on CPU); with vLLM "
           "generation (`--vllm`) TRL logs `sampling/sampling_logp_difference/{mean,max}` and the importance-sampling "
           "ratio from the first step.")]  # fmt: skip
    return "\n".join(md) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m pretrain.grpo", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="out", help="the corpus run's output folder (uq2i/, sft_demo/)")
    p.add_argument("--steps", type=int, default=GRPO_STEPS)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--lr", type=float, default=GRPO_LR, help="learning rate (the demo's tiny model; about 1e-6 for "
                   "billion-parameter policies)")
    p.add_argument("--eval-prompts", type=int, default=16, help="held-out RL prompts for the before/after reward")
    p.add_argument("--eval-samples", type=int, default=EVAL_SAMPLES, help="answers sampled per held-out prompt for "
                   "the before/after expected reward (as the rollouts are sampled); 0: greedy answers only")
    p.add_argument("--ablate", action="store_true", help="also train with each reward removed (first seed; "
                   f"{', '.join(ABLATIONS)}) for the ablation table")
    p.add_argument("--vllm", action="store_true", help="generate with vLLM (GPU): TRL then logs the train/rollout "
                   "log-probability mismatch and corrects it by truncated importance sampling")
    args = p.parse_args(argv)
    import pyarrow.dataset as pads
    from datasets import Dataset
    from trl import GRPOTrainer

    from jobs.outputs import part_files

    out = Path(args.out).resolve()
    sft = out / "sft_demo" / "sft" / "sft" / "hf"
    if not (sft / "config.json").is_file():
        raise SystemExit(f"error: {sft} is missing; run `make sft` first")
    samples = pads.dataset(part_files(out / "uq2i" / "uq2i_samples"), format="parquet").to_table().to_pylist()
    events = pads.dataset(part_files(out / "behavior" / "_sessions"), format="parquet").to_table().to_pylist()
    records = rl_prompts(samples, events, out / "shards" / "tokenizer")
    held, train = records[: args.eval_prompts], records[args.eval_prompts:]
    reward = build_reward(out)
    runs = out / "rl_demo"

    def evaluate(model_dir: Path) -> dict[str, dict[str, float]]:
        greedy = mean_reward(model_dir, held, reward)
        sampled = mean_reward(model_dir, held, reward, samples=args.eval_samples) if args.eval_samples else greedy
        return {"sampled": sampled, "greedy": greedy}

    start = evaluate(sft)
    report: dict[str, Any] = {"prompts": {"train": len(train), "held_out": len(held)}, "reward": asdict(reward.cfg),
                              "judge": reward.judge is not None, "eval_samples": args.eval_samples,
                              "temperature": ROLLOUT_TEMPERATURE, "before": start["sampled"], "before_greedy": start["greedy"],
                              "seeds": {}}  # fmt: skip
    print(f"[grpo] {len(train)} RL prompts, {len(held)} held out; SFT start: {json.dumps(report['before'])}")
    ds = Dataset.from_list([{k: r[k] for k in ("prompt", "user_id", "cluster", "recent_positive", "query")} for r in train])
    extra = {"use_vllm": True, "vllm_mode": "colocate", "use_cpu": False} if args.vllm else {}

    def run(name: str, seed: int, fn: HybridReward) -> dict[str, Any]:
        trainer = GRPOTrainer(model=str(sft), reward_funcs=[fn],
                              args=grpo_args(runs / name, args.steps, seed, learning_rate=args.lr, **extra),
                              train_dataset=ds)  # fmt: skip
        trainer.train()
        final = runs / name / "hf"
        trainer.save_model(str(final))
        trainer.processing_class.save_pretrained(str(final))
        hist = trainer.state.log_history
        train_rewards = [h["reward"] for h in hist if "reward" in h]
        end = evaluate(final)
        res = {"after": end["sampled"], "after_greedy": end["greedy"], "train_reward_first": train_rewards[0],
               "train_reward_last": train_rewards[-1]}  # fmt: skip
        diff = [h["sampling/sampling_logp_difference/mean"] for h in hist if "sampling/sampling_logp_difference/mean" in h]
        if diff:
            res["logp_mismatch_mean"] = float(np.mean(diff))
        print(f"[grpo] {name}: {json.dumps(res)}")
        return res

    for seed in args.seeds:
        report["seeds"][seed] = run(f"seed{seed}", seed, reward)
    after = [s["after"]["reward"] for s in report["seeds"].values()]
    report["after_mean"], report["after_spread"] = float(np.mean(after)), float((max(after) - min(after)) / 2)
    if any("logp_mismatch_mean" in s for s in report["seeds"].values()):
        report["logp_mismatch"] = {str(k): s.get("logp_mismatch_mean") for k, s in report["seeds"].items()}
    if args.ablate:
        report["ablation_seed"] = args.seeds[0]
        report["ablations"] = {name: run(name, args.seeds[0], ablated(reward, **kw)) for name, kw in ABLATIONS.items()}
    runs.mkdir(parents=True, exist_ok=True)
    (runs / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    (runs / "report.md").write_text(report_markdown(report), encoding="utf-8")
    print(f"[grpo] held-out mean hybrid reward: SFT {report['before']['reward']:.4f} -> GRPO "
          f"{report['after_mean']:.4f} ± {report['after_spread']:.4f} over seeds {args.seeds}; {runs / 'report.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
