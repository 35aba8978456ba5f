"""GRPO with tool rollouts (TRL): the boundary policy keeps learning when to call, with the unnecessary-call penalty.

The policy samples its group of answers as an agent: TRL's `GRPOTrainer` parses each turn's Qwen3 `<tool_call>`
blocks (the chat template's response parser), runs them in a per-rollout `ToolEnv` bound to the prompt's listener
(`environment_factory`: `reset(**row)` gets the dataset row), appends the results as tool turns (masked out of the
loss) and lets the model write again, at most `max_tool_rounds` rounds. Each rollout is rewarded by
R = R_hybrid(final answer) + tool_penalty (`pretrain.agent.boundary.ToolPenaltyReward`, from the query's label in
the `memory_succeeds` column): TRL sums the reward functions, the advantage is the group-mean baseline of
`pretrain.grpo.grpo_args` (the seeds' GRPO). TRL logs calls per rollout (`tools/call_frequency`) and refused calls
(`tools/failure_frequency`) beside each reward.

The tools the rollouts see are the ones boundary SFT trained on: `ToolEnv`'s methods render, through
`transformers.utils.get_json_schema`, to exactly `Toolbox.schemas` (tested), and they answer with `Toolbox.execute`'s
text, so the system prompt and the tool turns are the same in SFT, in RL and in the evaluation loop (`run_agent`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pretrain.agent.tools import Toolbox


class ToolEnv:
    """One rollout's tools for TRL's `environment_factory`: `recommend` and `search_catalog` with the toolbox's
    schemas, run by `Toolbox.execute` for the listener `reset` bound. A refused call answers with the toolbox's
    error text (the model reads it, as in `run_agent`) and is counted in `refused`."""

    def __init__(self, toolbox: Toolbox):
        self.toolbox = toolbox
        self.user_id: str | None = None
        self.calls = self.refused = 0
        if (mine := env_schemas(self)) != sorted(toolbox.schemas, key=lambda s: s["function"]["name"]):
            raise ValueError(f"ToolEnv: the methods' schemas {mine} differ from the toolbox's {toolbox.schemas} (a "
                             "toolbox with another max_k?); the rollouts must see the tools boundary SFT saw")  # fmt: skip

    def reset(self, user_id: str, **row: Any) -> None:
        """Binds the rollout's listener (the dataset row's `user_id`); adds nothing to the prompt."""
        self.user_id, self.calls, self.refused = user_id, 0, 0

    def _run(self, name: str, arguments: Mapping[str, Any]):
        if self.user_id is None:
            raise RuntimeError("ToolEnv: reset(user_id=...) before a call")
        res = self.toolbox.execute(name, arguments, self.user_id)
        self.calls += 1
        self.refused += res.error is not None
        return res.text

    # The two methods' docstrings are their schemas (transformers' `get_json_schema`; checked against the toolbox's
    # in `__init__`); no return annotation, which would add a "return" key the toolbox's schemas do not have.
    def recommend(self, query: str, k: int = 10):
        """Personalised song recommendations for the current listener: songs that fit the request, ranked by the listener's taste, none they already know.

        Args:
            query: The listener's request, in their words.
            k: How many songs (1 to 20; default 10).
        """
        return self._run("recommend", {"query": query, "k": k})

    def search_catalog(self, query: str, k: int = 10):
        """Search the music catalog by words of a song's title or artists.

        Args:
            query: The listener's request, in their words.
            k: How many songs (1 to 20; default 10).
        """
        return self._run("search_catalog", {"query": query, "k": k})


def env_schemas(env: ToolEnv) -> list[dict[str, Any]]:
    """The schemas TRL renders for an environment's tools (its public methods but `reset`), as the trainer derives
    them."""
    import inspect

    from transformers.utils import get_json_schema

    names = [n for n, _ in inspect.getmembers(type(env), predicate=inspect.isfunction)
             if n not in ("reset", "get_reward") and not n.startswith("_")]  # fmt: skip
    return [get_json_schema(getattr(env, n)) for n in names]


def rl_rows(records: Sequence[Mapping[str, Any]], memory_succeeds: Sequence[bool]) -> list[dict[str, Any]]:
    """The GRPO dataset rows: the user turn as a conversational prompt (TRL renders it with the tools listed) and
    the reward's columns, `memory_succeeds` for the penalty."""
    return [{"prompt": [{"role": "user", "content": r["user_turn"]}], "user_id": r["user_id"], "cluster": int(r["cluster"]),
             "recent_positive": list(r["recent_positive"]), "query": r["query"], "memory_succeeds": bool(ok)}
            for r, ok in zip(records, memory_succeeds, strict=True)]  # fmt: skip


def tool_tokenizer(model_dir: str | Path, template_dir: str | Path) -> Any:
    """The checkpoint's tokenizer with the chat template the agent's chats were rendered with (the tokenizer's own,
    else Qwen3's: `pretrain.sft._template_tokenizer`), so TRL can render tools and parse calls (its response parser
    knows Qwen3's template)."""
    from transformers import AutoTokenizer

    from pretrain.sft import _template_tokenizer

    tok = AutoTokenizer.from_pretrained(str(model_dir))
    if not tok.chat_template:
        tok.chat_template = _template_tokenizer(str(template_dir)).chat_template
    return tok


def train_grpo_with_tools(model_dir: str | Path, records: Sequence[Mapping[str, Any]], memory_succeeds: Sequence[bool],
                          toolbox: Toolbox, reward: Any, out: str | Path, steps: int, template_dir: str | Path,
                          seed: int = 0, penalty_cost: float = 0.1, max_tool_rounds: int = 1,
                          **args: Any) -> tuple[Path, list[dict[str, Any]]]:  # fmt: skip
    """GRPO from `model_dir` on the records' user turns with tool rollouts and R = hybrid + penalty (module
    docstring); `args` override `pretrain.grpo.grpo_args`. Returns the saved Hugging Face checkpoint and TRL's log
    history."""
    from datasets import Dataset
    from trl import GRPOTrainer

    from pretrain.agent.boundary import ToolPenaltyReward
    from pretrain.grpo import grpo_args

    out = Path(out)
    conf = grpo_args(out, steps, seed, max_tool_calling_iterations=max_tool_rounds,
                     chat_template_kwargs={"enable_thinking": False}, **args)  # fmt: skip
    tok = tool_tokenizer(model_dir, template_dir)
    trainer = GRPOTrainer(model=str(model_dir), reward_funcs=[reward, ToolPenaltyReward(penalty_cost)], args=conf,
                          train_dataset=Dataset.from_list(rl_rows(records, memory_succeeds)), processing_class=tok,
                          environment_factory=lambda: ToolEnv(toolbox))  # fmt: skip
    trainer.train()
    final = out / "hf"
    trainer.save_model(str(final))
    tok.save_pretrained(str(final))  # with the chat template (and TRL's response parser, where it set one)
    return final, trainer.state.log_history
