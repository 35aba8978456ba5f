"""`python -m pretrain.agent`: agentic boundary learning on a corpus run's outputs, end to end.

    python -m pretrain.agent --out out [--steps N] [--rl-steps N] [--max-queries N]      # after make sft

1. Queries: the uq2i `rl` split (`pretrain.grpo.rl_prompts`: users disjoint from SFT, no query an SFT sample used),
   split by a hash of the user into boundary-training and held-out evaluation queries.
2. Tools (`pretrain.agent.tools`) over the outputs; the reward `pretrain.grpo.build_reward(out)`.
3. Trajectories: per query, the checkpoint's greedy answer from memory (the SFT prompt, no tools) and the tool
   trajectory (`recommend` with the request, its list as the final answer); both scored, the query labelled
   (`pretrain.agent.boundary`); every query and its label in `trajectories.jsonl`, counts by label.
4. Boundary SFT shards (`boundary_shards/`): the labelled training queries as Qwen3 tool chats (tools in the system
   prompt), loss only on the assistant turns; valid/test: the held-out queries' chats. The pure tool-use baseline
   (`pure_tool_shards/`): the same queries, every one calling the tool.
5. Boundary SFT: the SFT run's config (`configs/pretrain/sft_demo.yaml`, the shared training loop) from the
   checkpoint on the boundary shards (`--steps`, else its epochs; `--steps 0` skips training), exported to
   `boundary/boundary/hf`; `--train-pure-baseline` trains the pure tool-use set the same way.
6. `--rl-steps N`: GRPO with tool rollouts from the boundary model on the training queries (`pretrain.agent.rl`:
   TRL runs the calls the policy writes; R = hybrid reward + the unnecessary-call penalty from each query's label),
   exported to `boundary_grpo/hf`.
7. Metrics on the held-out queries (`report.md`, `report.json`): success rate, calls per query, generated tokens
   and the latency proxy for the never-tool (memory), always-tool (scripted trajectories), oracle boundary (the
   labels' policy), boundary (the trained model as an agent, tools offered) and boundary_grpo policies.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pretrain.config import PROJECT


@dataclass(frozen=True)
class AgentConfig:
    """One boundary-learning run (`python -m pretrain.agent`)."""

    __pydantic_config__ = {"extra": "forbid"}

    out: str = "out"
    """The corpus run's outputs: ingest/, behavior/_sessions, uq2i/ (samples, query_pool, _personalizer, _judge),
    shards/tokenizer, and the SFT export."""
    checkpoint: str = ""
    """Hugging Face checkpoint that answers from memory and that boundary SFT starts from; "" = the SFT export
    `OUT/sft_demo/sft/sft/hf`."""
    run_dir: str = ""
    """Where the run writes; "" = `OUT/agent_demo`."""
    list_size: int = 10
    """Songs a tool returns and an answer lists."""
    trajectory_tool: str = "recommend"
    """The tool the scripted trajectories call (`recommend` or `search_catalog`)."""
    eval_share: float = 0.3
    """Share of the RL users (by hash) whose queries are held out for the metrics."""
    max_queries: int = 0
    """Use at most this many RL queries (in sample order); 0 = all."""
    max_new_tokens: int = 160
    """Token budget of one generated turn (the SFT and GRPO reports' budget; a ten-song list fits)."""
    max_tool_rounds: int = 1
    """Rounds of calls the agent may make before its next turn must be the answer."""
    round_trip_tokens: float = 200.0
    """The latency proxy's cost of one tool round trip, in generated-token equivalents."""
    penalty_cost: float = 0.1
    """Reward taken per unnecessary call (`boundary.tool_penalty`), for the report's penalised reward."""
    steps: int | None = None
    """Boundary SFT optimizer steps; None = the SFT config's epochs; 0 = no training (the metrics then use the
    oracle policy only)."""
    sft_samples: bool = False
    """Also label the SFT split's samples and add their chats to boundary training (never to the held-out
    evaluation, whose users and queries stay unseen in SFT; GRPO with tools, `rl_steps`, still trains on RL queries
    only): a few hundred boundary chats instead of the RL split's few dozen. On the demo (295 chats, 200 steps,
    about 20 minutes on 2 cores) the held-out chat loss fell to 1.54 (2.32 at best on 17 chats), yet the 4-layer
    model still did not copy the request into its call or the tool's list into its answer; off by default."""
    train_pure_baseline: bool = False
    """Also train on the pure tool-use set and evaluate that model as an agent."""
    rl_steps: int = 0
    """GRPO steps with tool rollouts after boundary SFT (`pretrain.agent.rl`: R = hybrid reward + the
    unnecessary-call penalty, one training query's group of eight per step), evaluated as the `boundary_grpo`
    policy; 0 = none."""
    rl_completion_tokens: int = 800
    """Token budget of one GRPO rollout after its prompt: every turn the model writes plus the tool results fed
    back (a ten-song result with ids is about 300 demo tokens); TRL drops a tool result that would pass it."""
    batch_size: int = 8
    """Generation batch."""
    seed: int = 0
    """Seeds the held-out split hash and the GRPO run with tools."""
    train_overrides: tuple[str, ...] = field(default_factory=tuple)
    """Extra `key=value` overrides of the training config (`configs/pretrain/sft_demo.yaml`)."""

    def __post_init__(self) -> None:
        if self.trajectory_tool not in ("recommend", "search_catalog"):
            raise ValueError(f"AgentConfig.trajectory_tool must be recommend or search_catalog, got {self.trajectory_tool!r}")
        if not 0.0 < self.eval_share < 1.0:
            raise ValueError(f"AgentConfig.eval_share must be in (0, 1), got {self.eval_share}")
        for name in ("list_size", "max_new_tokens", "batch_size", "rl_completion_tokens"):
            if getattr(self, name) < 1:
                raise ValueError(f"AgentConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.max_queries < 0 or self.max_tool_rounds < 0 or self.rl_steps < 0 or (self.steps is not None and self.steps < 0):
            raise ValueError("AgentConfig: max_queries, max_tool_rounds, steps and rl_steps must be >= 0")
        if self.round_trip_tokens < 0 or self.penalty_cost < 0:
            raise ValueError("AgentConfig: round_trip_tokens and penalty_cost must be >= 0")
        object.__setattr__(self, "train_overrides", tuple(self.train_overrides))

    @property
    def checkpoint_dir(self) -> Path:
        return Path(self.checkpoint) if self.checkpoint else Path(self.out) / "sft_demo" / "sft" / "sft" / "hf"

    @property
    def run_path(self) -> Path:
        return Path(self.run_dir) if self.run_dir else Path(self.out) / "agent_demo"


def held_out(user_id: str, cfg: AgentConfig) -> bool:
    h = int.from_bytes(hashlib.blake2b(f"agent-eval\x00{cfg.seed}\x00{user_id}".encode(), digest_size=8).digest(), "big")
    return h / 2**64 < cfg.eval_share


def load_records(cfg: AgentConfig) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, int]]:
    """(records, their users' events, counts). Records: the RL records (`rl_prompts`), then with `sft_samples` the
    SFT split's (`prompt_records`, never held out), each with the raw user turn `user_turn`, `held_out` and `split`.
    Counts: RL samples, those dropped because an SFT sample asked the same query, those past `max_queries`, SFT
    samples added."""
    import pyarrow.dataset as pads

    from jobs.outputs import part_files
    from pretrain.grpo import prompt_records, rl_prompts

    out = Path(cfg.out)
    files = part_files(out / "uq2i" / "uq2i_samples")
    if not files:
        raise FileNotFoundError(f"{out / 'uq2i' / 'uq2i_samples'}: no samples; run `make sft` (the uq2i stage) first")
    samples = pads.dataset(files, format="parquet").to_table().to_pylist()
    splits = ("rl", "sft") if cfg.sft_samples else ("rl",)
    users = sorted({s["user_id"] for s in samples if s["split"] in splits})
    events = pads.dataset(part_files(out / "behavior" / "_sessions"), format="parquet").to_table(
        filter=pads.field("user_id").isin(users)).to_pylist()
    records = rl_prompts(samples, events, out / "shards" / "tokenizer")
    n_rl = sum(s["split"] == "rl" for s in samples)
    counts = {"rl_samples": n_rl, "dropped_sft_query": n_rl - len(records), "past_max_queries": 0, "sft_samples": 0}
    if cfg.max_queries:
        counts["past_max_queries"] = max(0, len(records) - cfg.max_queries)
        records = records[: cfg.max_queries]
    for r in records:
        r["held_out"], r["split"] = held_out(r["user_id"], cfg), "rl"
    if cfg.sft_samples:  # training only: their users and queries were seen in SFT, so none is held out
        sft = prompt_records([s for s in samples if s["split"] == "sft"], events, out / "shards" / "tokenizer")
        records += [{**r, "held_out": False, "split": "sft"} for r in sft]
        counts["sft_samples"] = len(sft)
    turn = {s["sample_id"]: s["prompt"] for s in samples}
    for r in records:
        r["user_turn"] = turn[r["sample_id"]]
    return records, events, counts


def train_sft(cfg: AgentConfig, shards: Path, name: str) -> tuple[Path, dict[str, Any]]:
    """Boundary (or pure tool-use) SFT with the project's training loop; returns the export and the valid losses."""
    from pretrain.train import main as train

    steps = [f"stages.0.steps={cfg.steps}"] if cfg.steps is not None else []
    save = cfg.run_path / name
    res = train(["--config", str(PROJECT / "configs/pretrain/sft_demo.yaml"), f"model.hf_path={cfg.checkpoint_dir}",
                 f"data.shards_dir={shards}", f"checkpoint.save={save}", f"stages.0.name={name}", *steps,
                 *cfg.train_overrides])[name]  # fmt: skip
    return save / name / "hf", {"valid_loss_before": res["eval_before"]["valid"], "valid_loss_after": res["eval_after"]["valid"]}


def write_shards(path: Path, chats: dict[str, list[list[dict]]], tools: list[dict], tokenizer_dir: Path, source: str) -> dict[str, int]:
    from pretrain.agent.chat import render_chat
    from pretrain.demo import write_text_shards

    docs = {split: [render_chat(c, tools, tokenizer_dir)[0] for c in cs] for split, cs in chats.items()}
    if not docs["train"] or not docs["valid"]:
        raise ValueError(f"{path}: {len(docs['train'])} train and {len(docs['valid'])} valid chats; need both "
                         "(more RL queries, or another eval_share)")  # fmt: skip
    docs["test"] = docs["valid"]
    write_text_shards(path, tokenizer_dir, {1: docs}, source=source)
    return {k: len(v) for k, v in docs.items() if k != "test"}


RL_LOGGED = (("reward", "reward"), ("rewards/hybrid/mean", "hybrid"), ("rewards/tool_penalty/mean", "tool_penalty"),
             ("tools/call_frequency", "calls"), ("tools/failure_frequency", "refused_share"))  # fmt: skip
"""TRL's per-step logs the report keeps (first and last step): the summed reward, each reward function's mean,
tool calls run per rollout and the share of them refused."""


def rl_summary(history: list[dict[str, Any]], queries: int) -> dict[str, Any]:
    """First and last logged step of a GRPO run with tools (`RL_LOGGED`)."""
    steps = [h for h in history if "reward" in h]
    if not steps:
        return {"queries": queries, "steps": 0}
    return {"queries": queries, "steps": len(steps),
            **{f"{name}_{end}": float(h[key]) for key, name in RL_LOGGED for end, h in (("first", steps[0]), ("last", steps[-1]))
               if key in h}}  # fmt: skip


def acceptance(policy: dict[str, float], always_tool: dict[str, float]) -> dict[str, Any]:
    """The issue's acceptance against the pure tool-use policy: fewer calls per query, no lower success rate."""
    fewer = policy["calls_per_query"] < always_tool["calls_per_query"]
    holds = policy["success_rate"] >= always_tool["success_rate"]
    return {"fewer_calls": fewer, "success_not_lower": holds, "met": fewer and holds}


POLICIES = ("never_tool", "always_tool", "oracle_boundary", "boundary", "boundary_grpo", "pure_tool_trained")


def report_markdown(rep: dict[str, Any]) -> str:
    cfg = rep["config"]
    keys = ("success_rate", "calls_per_query", "failed_calls_per_query", "tokens_per_query", "latency_proxy",
            "reward", "reward_with_penalty")  # fmt: skip
    md = ["# Agentic boundary learning (demo)", "",
          f"Checkpoint `{rep['checkpoint']}`; {rep['queries']['all']} queries ({rep['queries']['train']} for "
          f"boundary training, {rep['queries']['held_out']} held out by user): {rep['queries']['all'] - rep['queries']['sft_samples']} "
          f"RL queries of {rep['queries']['rl_samples']} RL samples ({rep['queries']['dropped_sft_query']} dropped "
          f"because an SFT sample asked the same query, {rep['queries']['past_max_queries']} past --max-queries) and "
          f"{rep['queries']['sft_samples']} SFT samples (training only).", "",
          "Success: relevance gate passed, every item a catalog song, ten well-formed lines. Labels (all queries): "
          + ", ".join(f"{k} {v}" for k, v in rep["labels"].items()) + ".", "",
          f"Held-out queries; latency proxy = generated tokens + {cfg['round_trip_tokens']:g} per tool call; penalised "
          f"reward = hybrid reward - {cfg['penalty_cost']:g} per unnecessary call.", "",
          "| policy | " + " | ".join(keys) + " |", "|---|" + "---:|" * len(keys)]  # fmt: skip
    for name in POLICIES:
        m = rep["policies"].get(name)
        if m and m.get("n"):
            md.append(f"| {name} | " + " | ".join(f"{m.get(k, float('nan')):.3f}" for k in keys) + " |")
    md += ["", f"All {rep['queries']['all']} queries (scripted policies):", "",
           "| policy | " + " | ".join(keys) + " |", "|---|" + "---:|" * len(keys)]  # fmt: skip
    for name, m in rep.get("policies_all", {}).items():
        md.append(f"| {name} | " + " | ".join(f"{m.get(k, float('nan')):.3f}" for k in keys) + " |")
    md += ["", "Acceptance against always-tool (held out; fewer calls per query, success not lower): " + "; ".join(
        f"{k}: {'met' if v['met'] else 'not met'} (fewer calls {v['fewer_calls']}, success not lower "
        f"{v['success_not_lower']})" for k, v in rep.get("acceptance", {}).items())]  # fmt: skip
    if rep.get("training"):
        md += ["", "Boundary SFT (valid = held-out chats, answer-only loss): " + "; ".join(
            f"{k}: {v['valid_loss_before']:.4f} -> {v['valid_loss_after']:.4f}" for k, v in rep["training"].items())]
    if rep.get("rl", {}).get("steps"):
        r = rep["rl"]
        md += ["", f"GRPO with tool rollouts from the boundary model ({r['steps']} steps on {r['queries']} training "
               "queries; R = hybrid reward + unnecessary-call penalty), first -> last step: " + "; ".join(
                   f"{name} {r[name + '_first']:.3f} -> {r[name + '_last']:.3f}" for _, name in RL_LOGGED
                   if name + "_first" in r)]  # fmt: skip
    md += ["", "Both-fail reasons: " + (", ".join(f"{k} ({v})" for k, v in rep["both_fail_reasons"].items()) or "none")]
    for name, ex in rep.get("examples", {}).items():
        md += ["", f"{name}, first turn on \"{ex['query']}\":", "", "```", ex["first_turn"], "```"]
    md += ["", *rep.get("notes", [])]
    return "\n".join(md) + "\n"


def run(cfg: AgentConfig) -> dict[str, Any]:
    from eval.generation import load_for_generation
    from jobs.catalog import item_text, read_catalog_items
    from pretrain.agent.boundary import (
        Attempt,
        boundary_chat,
        label_query,
        memory_attempt,
        oracle_attempts,
        policy_metrics,
        pure_tool_chat,
        run_agent,
        scripted_tool_attempt,
    )
    from pretrain.agent.chat import generate_turns
    from pretrain.agent.tools import Toolbox
    from pretrain.grpo import build_reward

    out, runs = Path(cfg.out), cfg.run_path
    if not (cfg.checkpoint_dir / "config.json").is_file():
        raise SystemExit(f"error: {cfg.checkpoint_dir} is missing; run `make sft` first (or pass --checkpoint)")
    runs.mkdir(parents=True, exist_ok=True)
    (runs / "config.json").write_text(json.dumps(asdict(cfg), indent=2), encoding="utf-8")
    template = out / "shards" / "tokenizer"
    records, events, used = load_records(cfg)
    if not records:
        raise SystemExit(f"error: {out / 'uq2i'} has no RL queries unseen in SFT")
    toolbox = Toolbox.from_out(out, events)
    reward = build_reward(out)
    text_of = {k: t for k, v in read_catalog_items(out / "ingest").items() if v["item_type"] == "song" and (t := item_text(v))}
    print(f"[agent] {len(records)} queries ({used['sft_samples']} SFT samples for training only, "
          f"{sum(r['held_out'] for r in records)} RL queries held out); tools: {toolbox.names}")

    model, tok = load_for_generation(cfg.checkpoint_dir)
    memory = [memory_attempt(t).score(reward, r) for t, r in zip(
        generate_turns(model, tok, [r["prompt"] for r in records], cfg.max_new_tokens, cfg.batch_size), records, strict=True)]  # fmt: skip
    tool = [scripted_tool_attempt(r, toolbox, text_of, cfg.trajectory_tool, cfg.list_size, tok, template).score(reward, r)
            for r in records]  # fmt: skip
    labels = [label_query(m, t) for m, t in zip(memory, tool, strict=True)]
    with (runs / "trajectories.jsonl").open("w", encoding="utf-8") as f:
        for r, m, t, (lab, why) in zip(records, memory, tool, labels, strict=True):
            row = {k: r[k] for k in ("sample_id", "user_id", "query", "cluster", "held_out")}
            f.write(json.dumps({**row, "label": lab, "reason": why, "memory": m.to_dict(), "tool": t.to_dict()},
                               ensure_ascii=False) + "\n")  # fmt: skip
    counts = Counter(lab for lab, _ in labels)
    print(f"[agent] labels: {dict(counts)} -> {runs / 'trajectories.jsonl'}")

    chats: dict[str, dict[str, list]] = {"boundary": {"train": [], "valid": []}, "pure_tool": {"train": [], "valid": []}}
    for r, m, t, (lab, _) in zip(records, memory, tool, labels, strict=True):
        if lab == "both_fail":
            continue
        split = "valid" if r["held_out"] else "train"
        chats["boundary"][split].append(boundary_chat(r, lab, m, t))
        chats["pure_tool"][split].append(pure_tool_chat(r, t))
    rep: dict[str, Any] = {"config": asdict(cfg), "checkpoint": str(cfg.checkpoint_dir),
                           "queries": {**used, "all": len(records), "held_out": sum(r["held_out"] for r in records),
                                       "train": sum(not r["held_out"] for r in records)},
                           "labels": {k: counts.get(k, 0) for k in ("no_tool", "tool_needed", "both_fail")},
                           "both_fail_reasons": dict(Counter(why for lab, why in labels if lab == "both_fail")),
                           "shards": {}, "training": {}, "policies": {}, "examples": {}, "notes": []}  # fmt: skip
    for name, source in (("boundary", "agent_boundary"), ("pure_tool", "agent_pure_tool")):
        try:
            rep["shards"][name] = write_shards(runs / f"{name}_shards", chats[name], toolbox.schemas, template, source)
        except ValueError as e:
            rep["notes"].append(f"No {name} shards: {e}")
    print(f"[agent] SFT chats: {rep['shards']}")

    ev = [i for i, r in enumerate(records) if r["held_out"]]
    evr = [records[i] for i in ev]

    def metrics(attempts: list[Attempt], idx: list[int] = ev) -> dict[str, float]:
        ok = [labels[i][0] == "no_tool" for i in idx]
        return policy_metrics(attempts, cfg.round_trip_tokens, ok, cfg.penalty_cost)

    for key, idx in (("policies", ev), ("policies_all", list(range(len(records))))):
        rep[key] = {"never_tool": metrics([memory[i] for i in idx], idx), "always_tool": metrics([tool[i] for i in idx], idx),
                    "oracle_boundary": metrics(oracle_attempts([memory[i] for i in idx], [tool[i] for i in idx],
                                                               [labels[i][0] for i in idx]), idx)}  # fmt: skip
    pol = rep["policies"]
    trained = [("boundary", "boundary")] + ([("pure_tool_trained", "pure_tool")] if cfg.train_pure_baseline else [])
    if cfg.steps == 0:
        rep["notes"].append("Boundary SFT skipped (--steps 0): the boundary row is the labels' policy only.")
    def evaluate_agent(pname: str, hf: Path) -> None:
        model, tok = load_for_generation(hf)
        agent = [a.score(reward, r) for a, r in zip(run_agent(model, tok, evr, toolbox, template, cfg.max_new_tokens,
                                                              cfg.max_tool_rounds, cfg.batch_size), evr, strict=True)]  # fmt: skip
        pol[pname] = metrics(agent)
        rep["examples"][pname] = {"query": evr[0]["query"], "first_turn": agent[0].turns[0]["content"][:400]}
        with (runs / f"{pname}_agent.jsonl").open("w", encoding="utf-8") as f:
            for r, a in zip(evr, agent, strict=True):
                f.write(json.dumps({"sample_id": r["sample_id"], "query": r["query"], **a.to_dict()}, ensure_ascii=False) + "\n")

    boundary_hf = None
    for pname, shard in trained:
        if cfg.steps == 0 or shard not in rep["shards"]:
            continue
        hf, rep["training"][pname] = train_sft(cfg, runs / f"{shard}_shards", shard)
        boundary_hf = hf if pname == "boundary" else boundary_hf
        evaluate_agent(pname, hf)
    if cfg.rl_steps and boundary_hf is not None:
        from pretrain.agent.rl import train_grpo_with_tools

        tr = [i for i, r in enumerate(records) if r["split"] == "rl" and not r["held_out"] and labels[i][0] != "both_fail"]
        hf, hist = train_grpo_with_tools(boundary_hf, [records[i] for i in tr], [labels[i][0] == "no_tool" for i in tr],
                                         toolbox, reward, runs / "boundary_grpo", cfg.rl_steps, template, cfg.seed,
                                         cfg.penalty_cost, cfg.max_tool_rounds,
                                         max_completion_length=cfg.rl_completion_tokens)  # fmt: skip
        rep["rl"] = rl_summary(hist, len(tr))
        evaluate_agent("boundary_grpo", hf)
    if not counts.get("no_tool"):
        rep["notes"].append("No memory answer succeeded: this checkpoint's own knowledge never suffices here, so the "
                            "boundary chats are all tool calls, and the labels' policy saves calls only on both_fail "
                            "queries, where the tool does not help either.")  # fmt: skip
    rep["acceptance"] = {name: acceptance(pol[name], pol["always_tool"]) for name in ("oracle_boundary", "boundary",
                                                                                       "boundary_grpo", "pure_tool_trained")
                         if name in pol}  # fmt: skip
    (runs / "report.json").write_text(json.dumps(rep, indent=2, ensure_ascii=False), encoding="utf-8")
    (runs / "report.md").write_text(report_markdown(rep), encoding="utf-8")
    for name in POLICIES:
        if pol.get(name, {}).get("n"):
            m = pol[name]
            print(f"[agent] {name}: success {m['success_rate']:.3f}, calls/query {m['calls_per_query']:.3f}, "
                  f"latency proxy {m['latency_proxy']:.1f}")  # fmt: skip
    print(f"[agent] report: {runs / 'report.md'}")
    return rep


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m pretrain.agent", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="out", help="the corpus run's output folder (uq2i/, behavior/, sft_demo/)")
    p.add_argument("--steps", type=int, default=None, help="boundary SFT steps (default: the SFT config's epochs; 0: skip)")
    p.add_argument("--checkpoint", default="", help="HF checkpoint (default OUT/sft_demo/sft/sft/hf)")
    p.add_argument("--run-dir", default="", help="output folder (default OUT/agent_demo)")
    p.add_argument("--max-queries", type=int, default=0)
    p.add_argument("--round-trip-tokens", type=float, default=AgentConfig.round_trip_tokens)
    p.add_argument("--train-pure-baseline", action="store_true")
    p.add_argument("--sft-samples", action="store_true", help="also label the SFT split's samples and train the "
                   "boundary model on their chats too (evaluation stays on held-out RL users)")
    p.add_argument("--rl-steps", type=int, default=AgentConfig.rl_steps, help="GRPO steps with tool rollouts and the "
                   "unnecessary-call penalty after boundary SFT (0: none)")
    p.add_argument("overrides", nargs="*", help="key=value overrides of the training config (configs/pretrain/sft_demo.yaml)")
    a = p.parse_args(argv)
    try:
        cfg = AgentConfig(out=str(Path(a.out).resolve()), checkpoint=a.checkpoint, run_dir=a.run_dir, steps=a.steps,
                          max_queries=a.max_queries, round_trip_tokens=a.round_trip_tokens,
                          train_pure_baseline=a.train_pure_baseline, rl_steps=a.rl_steps, sft_samples=a.sft_samples,
                          train_overrides=tuple(a.overrides))  # fmt: skip
    except ValueError as e:
        raise SystemExit(f"error: {e}") from None
    print(f"[agent] config:\n{json.dumps(asdict(cfg), indent=2)}")
    run(cfg)
    return 0
