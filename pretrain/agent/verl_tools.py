"""GRPO with tool rollouts on verl: the agent's tools as verl tools, their config, and the tool-trajectory reward.

verl's `tool_agent` loop (`verl/experimental/agent_loop/tool_agent_loop.py`, `actor_rollout_ref.rollout.multi_turn`)
samples each rollout as an agent: it parses the `<tool_call>` blocks the policy writes (hermes format, Qwen3's),
runs each call through a tool from `multi_turn.tool_config_path`, appends the result as a tool turn (masked out of
the loss) and lets the policy go on. This module is the thin adapter that plugs our tools into that loop, as
`pretrain/agent/rl.py` plugs them into TRL's:

- `ToolboxTool`: one verl `BaseTool` per tool of `pretrain.agent.tools.Toolbox` (`recommend`, `search_catalog`),
  the toolbox built once per process from the corpus outputs named in the tool's config (`out`). verl creates an
  instance per call with the row's `extra_info.tools_kwargs[<tool>].create_kwargs`; `user_id` there binds the
  listener, as `ToolEnv.reset` does on TRL. A malformed call gets the toolbox's refusal text, never an exception.
- `tool_config(out)`: the tool config verl reads (`tools: [{class_name, config: {type: native, out}, tool_schema}]`),
  schemas exactly `Toolbox.schemas`, the ones boundary SFT and TRL show the model.
- `split_trajectory` and `tool_score`: verl's reward managers decode the whole response (assistant turns and tool
  turns, special tokens skipped); the final answer is the text after the last tool response (role marker
  removed), the calls are the `<tool_call>` blocks outside tool responses, refused ones (malformed, or answered
  with an error) counted apart. R = hybrid reward of the final answer + `boundary.tool_penalty` (the query's
  `memory_succeeds` label rides in the ground truth): the same R as TRL's `HybridReward` + `ToolPenaltyReward`.

verl is imported only when installed (`BaseTool` and `ToolResponse` otherwise fall back to stand-ins with the same
interface, so the adapter is testable on a machine without verl).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from uuid import uuid4

from pretrain.agent.boundary import tool_penalty
from pretrain.agent.chat import parse_tool_calls

try:  # verl's tool interface (verl/tools/base_tool.py, verl/tools/schemas.py)
    from verl.tools.base_tool import BaseTool
    from verl.tools.schemas import ToolResponse
except ImportError:  # the same interface, for machines without verl

    class BaseTool:  # type: ignore[no-redef]
        def __init__(self, config: dict, tool_schema: Any):
            self.config, self.tool_schema = config, tool_schema
            self.name = tool_schema["function"]["name"] if isinstance(tool_schema, Mapping) else tool_schema.function.name

    class ToolResponse:  # type: ignore[no-redef]
        def __init__(self, text: str | None = None, image: list | None = None, video: list | None = None):
            self.text, self.image, self.video = text, image, video


CLASS_NAME = "pretrain.agent.verl_tools.ToolboxTool"
_BUILD = threading.Lock()
_TOOLBOXES: dict[str, Any] = {}


def toolbox_for(out: str | Path) -> Any:
    """The toolbox of a corpus run's outputs, built once per process (verl builds a tool object per agent-loop
    worker; the catalog, query pool and personalization model are too large to load per tool)."""
    from pretrain.agent.tools import Toolbox
    from pretrain.grpo import positive_song_events

    key = str(Path(out).resolve())
    with _BUILD:
        if key not in _TOOLBOXES:
            _TOOLBOXES[key] = Toolbox.from_out(key, positive_song_events(Path(key)))
        return _TOOLBOXES[key]


class ToolboxTool(BaseTool):
    """A verl tool running one of the toolbox's tools (the schema's function name) for the rollout's listener."""

    def __init__(self, config: dict, tool_schema: Any):
        super().__init__(config, tool_schema)
        if not config.get("out"):
            raise ValueError(f"{CLASS_NAME}: the tool config needs `config.out`, the corpus output folder")
        self.out = str(config["out"])
        self._users: dict[str, str] = {}

    async def create(self, instance_id: str | None = None, create_kwargs: Mapping[str, Any] | None = None,
                     **kwargs: Any) -> tuple[str, Any]:  # fmt: skip
        instance_id = instance_id or uuid4().hex
        self._users[instance_id] = str((create_kwargs or {}).get("user_id") or "")
        return instance_id, ToolResponse()

    async def execute(self, instance_id: str, parameters: Mapping[str, Any], **kwargs: Any) -> tuple[Any, float, dict]:
        user = self._users.get(instance_id, "")
        if self.name == "recommend" and not user:
            res_text, refused = "error: recommend: no listener bound to this session", True
        else:
            res = toolbox_for(self.out).execute(self.name, dict(parameters or {}), user)
            res_text, refused = res.text, res.error is not None
        return ToolResponse(text=res_text), 0.0, {"refused": int(refused)}

    async def calc_reward(self, instance_id: str, **kwargs: Any) -> float:
        return 0.0  # the trajectory's reward is `tool_score`'s, on the whole response

    async def release(self, instance_id: str, **kwargs: Any) -> None:
        self._users.pop(instance_id, None)


def tool_config(out: str | Path) -> dict[str, Any]:
    """verl's tool config (`multi_turn.tool_config_path`, YAML) for the toolbox of `out`."""
    schemas = json.loads(json.dumps(toolbox_for(out).schemas))  # plain copies: no YAML anchors for shared parts
    return {"tools": [{"class_name": CLASS_NAME, "config": {"type": "native", "out": str(Path(out).resolve())},
                       "tool_schema": s} for s in schemas]}  # fmt: skip


_RESPONSE = re.compile(r"<tool_response>(.*?)</tool_response>", re.DOTALL)
_ROLE_START = re.compile(r"^\s*(?:assistant|user|tool)\s*\n")
_ROLE_END = re.compile(r"\n\s*(?:assistant|user|tool)\s*$")
_NO_THINKING = re.compile(r"^<think>\s*</think>\s*")  # the next turn's generation prompt with thinking off
_REFUSED = ("error:", "Error when executing tool")


def split_trajectory(response: str) -> tuple[list[str], list[str]]:
    """(assistant segments, tool responses) of a decoded tool rollout: the text between tool responses, the chat
    template's role words at the seams (left once `<|im_start|>` is skipped) and an empty thinking block (the
    generation prompt after a tool turn, thinking off) removed."""
    tools = [t.strip() for t in _RESPONSE.findall(response)]
    segments = []
    for seg in _RESPONSE.split(response)[::2]:
        seg = _ROLE_END.sub("", _NO_THINKING.sub("", _ROLE_START.sub("", seg)))
        segments.append(seg.strip())
    return segments, tools


def tool_score(reward: Any, response: str, gt: Mapping[str, Any], query: str | None, cost: float) -> dict[str, float]:
    """{"score": R, components..., "tool_calls", "refused_calls", "tool_penalty"} of one decoded tool rollout:
    the hybrid reward (`reward`, a `HybridReward`) of its final answer plus the unnecessary-call penalty."""
    segments, tools = split_trajectory(response)
    calls = [c for s in segments for c in parse_tool_calls(s)[0]]
    final = parse_tool_calls(segments[-1])[1]  # the answer's text outside any call it still wrote
    refused = sum(c.error is not None for c in calls) + sum(t.startswith(_REFUSED) for t in tools)
    n_calls = len(calls)
    penalty = tool_penalty(n_calls, bool(gt.get("memory_succeeds", False)), cost, min(refused, n_calls)) + 0.0  # no -0.0
    parts = reward.components(final, gt["user_id"], int(gt["cluster"]), list(gt["recent_positive"]), query)
    score = parts.pop("reward") + penalty
    return {"score": score, **parts, "tool_calls": float(n_calls), "refused_calls": float(refused),
            "tool_penalty": penalty}  # fmt: skip
