"""Knowledge-boundary labels, the agent loop, the unnecessary-call penalty and the policy metrics.

**Success** of an answer (`succeeded`), on the hybrid reward's components (`pretrain.grpo.HybridReward.components`):
the relevance gate passed (`relevance` = 1: the judge finds at least half of the catalog items relevant to the
request), every item names a catalog song (`r_factuality` = 1) and the list is well formed (`r_format` = 1:
exactly ten numbered "Title — Artist" lines). Personalization, diversity and de-duplication are graded by the
reward, not by success.

**Labels** of a query (`label_query`), from its memory answer (no tools) and its tool trajectory (call -> result ->
the tool's list as the final answer): `no_tool` when the memory answer succeeds (whatever the tool gives),
`tool_needed` when it fails and the tool trajectory succeeds, `both_fail` otherwise, each with a reason (the checks
that failed, or the tool's error).

**Penalty** (`tool_penalty`): a non-positive term for RL, -cost for each unnecessary call: every call when the
memory answer would have succeeded, calls beyond the needed ones otherwise, and every refused (malformed) call.
It adds to the hybrid reward, R = R_hybrid + tool_penalty, without touching `eval/rewards.py`: on TRL, give
`ToolPenaltyReward(cost)` to the trainer beside `pretrain.grpo.build_reward(out)` (TRL sums its reward functions,
`reward_weights` to weigh them) with a `memory_succeeds` dataset column (the query's label is `no_tool`, from
`trajectories.jsonl`); on verl, add `tool_penalty(...)` to the hybrid score in the reward function, the calls
counted by `parse_tool_calls` on the response and `memory_succeeds` carried in the ground truth.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pretrain.agent.chat import Turn, count_tokens, generate_turns, parse_tool_calls, render_chat, turn_prompt

SUCCESS_CHECKS = ("relevance", "r_factuality", "r_format")
"""Reward components that must all be 1 for an answer to succeed."""
LABELS = ("no_tool", "tool_needed", "both_fail")


def failed_checks(components: Mapping[str, float]) -> list[str]:
    return [k for k in SUCCESS_CHECKS if components.get(k, 0.0) < 1.0]


def succeeded(components: Mapping[str, float]) -> bool:
    return not failed_checks(components)


@dataclass
class Attempt:
    """One policy's answer to one query: the final answer, its calls and tokens, and its reward components."""

    final: str
    n_calls: int = 0
    n_failed_calls: int = 0
    generated_tokens: int = 0
    turns: list[dict[str, Any]] = field(default_factory=list)
    """The messages after the user turn (assistant calls, tool results, the final answer)."""
    tool_error: str | None = None
    components: dict[str, float] = field(default_factory=dict)
    success: bool = False

    def score(self, reward: Any, record: Mapping[str, Any]) -> Attempt:
        """Fills `components` and `success` with `reward.components` (a `HybridReward`) for the record's user."""
        self.components = reward.components(self.final, record["user_id"], record["cluster"],
                                            record["recent_positive"], record["query"])  # fmt: skip
        self.success = succeeded(self.components)
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def label_query(memory: Attempt, tool: Attempt) -> tuple[str, str]:
    """(label, reason) of a query from its scored memory answer and tool trajectory (module docstring)."""
    if memory.success:
        return "no_tool", ""
    why_memory = "memory fails " + ", ".join(failed_checks(memory.components))
    if tool.success:
        return "tool_needed", why_memory
    why_tool = f"tool error: {tool.tool_error}" if tool.tool_error else "tool list fails " + ", ".join(failed_checks(tool.components))
    return "both_fail", f"{why_memory}; {why_tool}"


def scripted_tool_attempt(record: Mapping[str, Any], toolbox: Any, text_of: Mapping[str, str], tool: str, k: int,
                          tokenizer: Any, tokenizer_dir: str | Path) -> Attempt:  # fmt: skip
    """The tool trajectory of a record: call `tool` with the request, the result as the tool turn, the tool's list
    rendered as the synthesis renders answers (`corpus.uq2i.synthesize.render_answer`) as the final answer. Its
    tokens are the two assistant turns as the template renders them, counted by `tokenizer`."""
    from corpus.uq2i.synthesize import render_answer
    from pretrain.agent.chat import call_message

    args = {"query": record["query"], "k": k}
    res = toolbox.execute(tool, args, record["user_id"])
    final = render_answer(res.ids, text_of)
    turns = [call_message([(tool, args)]), {"role": "tool", "content": res.text}, {"role": "assistant", "content": final}]
    _, texts = render_chat([{"role": "user", "content": record["user_turn"]}, *turns], toolbox.schemas, tokenizer_dir)
    return Attempt(final, 1, int(res.error is not None), sum(count_tokens(tokenizer, t) for t in texts), turns,
                   res.error or (None if res.ids else "no songs"))  # fmt: skip


def memory_attempt(turn: Turn) -> Attempt:
    """A memory answer (a turn generated without tools) as an attempt."""
    return Attempt(turn.text, generated_tokens=turn.n_tokens, turns=[{"role": "assistant", "content": turn.text}])


def run_agent(model: Any, tok: Any, records: Sequence[Mapping[str, Any]], toolbox: Any, tokenizer_dir: str | Path,
              max_new_tokens: int, max_tool_rounds: int = 1, batch_size: int = 8) -> list[Attempt]:  # fmt: skip
    """The model as a tool-using agent on each record's user turn (tools listed): each round it writes a turn; its
    calls are parsed (`parse_tool_calls`) and run by the toolbox for the record's user, the results go back as tool
    turns, and it writes again; a turn without calls is the final answer. After `max_tool_rounds` rounds of calls
    the next turn is final whatever it holds (calls it still makes count, refused). Each assistant turn is kept as
    the model wrote it, so every prompt continues the text the model generated."""
    msgs = [[{"role": "user", "content": r["user_turn"]}] for r in records]
    attempts = [Attempt("") for _ in records]
    active = list(range(len(records)))
    for rnd in range(max_tool_rounds + 1):
        if not active:
            break
        turns = generate_turns(model, tok, [turn_prompt(msgs[i], toolbox.schemas, tokenizer_dir) for i in active],
                               max_new_tokens, batch_size)  # fmt: skip
        still = []
        for i, turn in zip(active, turns, strict=True):
            a = attempts[i]
            a.generated_tokens += turn.n_tokens
            calls, outside = parse_tool_calls(turn.text)
            msgs[i].append({"role": "assistant", "content": turn.text})
            a.turns.append(msgs[i][-1])
            a.n_calls += len(calls)
            if not calls:
                a.final = turn.text
                continue
            if rnd == max_tool_rounds:
                a.n_failed_calls += len(calls)
                a.final = outside
                continue
            for c in calls:
                res = toolbox.execute(c.name, c.arguments, records[i]["user_id"]) if c.error is None else None
                error = c.error if res is None else res.error
                a.n_failed_calls += error is not None
                a.tool_error = a.tool_error or error
                msgs[i].append({"role": "tool", "content": res.text if res is not None else f"error: {error}"})
                a.turns.append(msgs[i][-1])
            still.append(i)
        active = still
    return attempts


# ---------------------------------------------------------------------------------------------------- RL penalty
def tool_penalty(n_calls: int, memory_would_succeed: bool, cost: float = 0.1, failed_calls: int = 0,
                 needed_calls: int = 1) -> float:  # fmt: skip
    """-cost x unnecessary calls, added to the hybrid reward: R = R_hybrid + tool_penalty(...). Unnecessary: every
    refused call (`failed_calls`, counted within `n_calls`), and of the calls that ran, all of them when the memory
    answer would have succeeded (the query's label is `no_tool`), else those beyond `needed_calls`."""
    if n_calls < 0 or not 0 <= failed_calls <= n_calls or needed_calls < 0 or cost < 0:
        raise ValueError(f"tool_penalty: need 0 <= failed_calls <= n_calls, needed_calls >= 0 and cost >= 0 (n_calls="
                         f"{n_calls}, failed_calls={failed_calls}, needed_calls={needed_calls}, cost={cost})")  # fmt: skip
    ran = n_calls - failed_calls
    unnecessary = failed_calls + (ran if memory_would_succeed else max(0, ran - needed_calls))
    return -cost * unnecessary


class ToolPenaltyReward:
    """The penalty as an RL reward function (TRL's signature, like `pretrain.grpo.HybridReward`):
    `reward(prompts, completions, memory_succeeds=[...], **columns) -> list[float]`. A completion's calls are the
    `<tool_call>` blocks its assistant text holds (malformed ones refused) and, in a conversational completion, the
    `tool_calls` of its assistant messages; `memory_succeeds` is a dataset column, True for queries labelled
    `no_tool`. Given to the trainer beside the hybrid reward, the two add up."""

    __name__ = "tool_penalty"

    def __init__(self, cost: float = 0.1, needed_calls: int = 1):
        tool_penalty(0, False, cost, 0, needed_calls)  # validates
        self.cost, self.needed_calls = cost, needed_calls

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], memory_succeeds: Sequence[bool],
                 **kw: Any) -> list[float]:  # fmt: skip
        out = []
        for c, ok in zip(completions, memory_succeeds, strict=True):
            turns = [c] if isinstance(c, str) else [m for m in c if m.get("role") == "assistant"]
            texts = [t if isinstance(t, str) else t.get("content") or "" for t in turns]
            calls = [call for t in texts for call in parse_tool_calls(t)[0]]
            structured = sum(len(t.get("tool_calls") or []) for t in turns if not isinstance(t, str))
            out.append(tool_penalty(len(calls) + structured, bool(ok), self.cost, sum(x.error is not None for x in calls),
                                    self.needed_calls))  # fmt: skip
        return out


# ---------------------------------------------------------------------------------------------------- metrics
def policy_metrics(attempts: Sequence[Attempt], round_trip_tokens: float,
                   memory_succeeds: Sequence[bool] | None = None, cost: float = 0.1) -> dict[str, float]:  # fmt: skip
    """Success rate, calls (and refused calls) per query, generated tokens per query, the latency proxy (generated
    tokens + `round_trip_tokens` per call, a tool round trip's cost in token-equivalents) per query, and the mean
    hybrid reward; with `memory_succeeds` (per query), the mean reward with the unnecessary-call penalty too."""
    n = len(attempts)
    if not n:
        return {"n": 0}
    out = {"n": n, "success_rate": sum(a.success for a in attempts) / n,
           "calls_per_query": sum(a.n_calls for a in attempts) / n,
           "failed_calls_per_query": sum(a.n_failed_calls for a in attempts) / n,
           "tokens_per_query": sum(a.generated_tokens for a in attempts) / n,
           "latency_proxy": sum(a.generated_tokens + round_trip_tokens * a.n_calls for a in attempts) / n,
           "reward": sum(a.components.get("reward", 0.0) for a in attempts) / n}  # fmt: skip
    if memory_succeeds is not None:
        pen = [tool_penalty(a.n_calls, ok, cost, a.n_failed_calls) for a, ok in zip(attempts, memory_succeeds, strict=True)]
        out["reward_with_penalty"] = out["reward"] + sum(pen) / n
    return out


def oracle_attempts(memory: Sequence[Attempt], tool: Sequence[Attempt], labels: Sequence[str]) -> list[Attempt]:
    """The labels' policy: the tool trajectory where the label is `tool_needed`, the memory answer elsewhere (a
    `both_fail` query gains nothing from the call, so the oracle saves it)."""
    return [t if lab == "tool_needed" else m for m, t, lab in zip(memory, tool, labels, strict=True)]


# ---------------------------------------------------------------------------------------------------- SFT chats
def boundary_chat(record: Mapping[str, Any], label: str, memory: Attempt, tool: Attempt) -> list[dict[str, Any]]:
    """The boundary SFT chat of a labelled query: the direct answer for `no_tool`, the call, the tool result and
    the final answer for `tool_needed` (a `both_fail` query has no chat: nothing in it is worth learning)."""
    user = {"role": "user", "content": record["user_turn"]}
    if label == "no_tool":
        return [user, {"role": "assistant", "content": memory.final}]
    if label == "tool_needed":
        return [user, *tool.turns]
    raise ValueError(f"boundary_chat: label {label!r} has no chat (only no_tool and tool_needed do)")


def pure_tool_chat(record: Mapping[str, Any], tool: Attempt) -> list[dict[str, Any]]:
    """The pure tool-use baseline's chat: the tool trajectory, whatever the label."""
    return [{"role": "user", "content": record["user_turn"]}, *tool.turns]
