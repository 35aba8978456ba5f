"""Tool-use chats in Qwen3's format: rendering with the chat template (tools listed in its system prompt), loss
spans on the assistant turns, the prompt of each turn, parsing the calls a model writes, and greedy turns.

Format (Qwen3's template, `tools=`): a call is `<tool_call>\n{"name": ..., "arguments": {...}}\n</tool_call>` in
the assistant turn; results come back as role "tool", rendered as `<tool_response>` blocks in a user turn. With
thinking off, the generation prompt ends with an empty think block, and the template keeps that block only on the
last assistant turn. So that every turn of a multi-turn chat continues exactly the prompt the model saw when it
wrote it, an assistant message without `reasoning_content` is given "\n", which the template renders as the same
empty block: the chat up to any assistant turn is that turn's generation prompt (`render_chat` checks it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pretrain.demo import Doc

END_OF_TURN = "<|im_end|>"
_OPEN, _CLOSE = "<tool_call>", "</tool_call>"


@dataclass(frozen=True)
class ToolCall:
    """One `<tool_call>` block of a model's turn."""

    name: str | None
    arguments: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    """Why the block is not a usable call (unclosed, not JSON, no name, arguments not an object); None if it is."""
    raw: str = ""


def _call_from_json(body: str) -> ToolCall:
    try:
        obj = json.loads(body)
    except json.JSONDecodeError as e:
        return ToolCall(None, {}, f"not JSON ({e.msg})", body)
    if not isinstance(obj, dict):
        return ToolCall(None, {}, "not a JSON object", body)
    name, args = obj.get("name"), obj.get("arguments", {})
    if isinstance(args, str):  # some models write the arguments as a JSON string
        try:
            args = json.loads(args)
        except json.JSONDecodeError:
            return ToolCall(name if isinstance(name, str) else None, {}, "arguments are not JSON", body)
    if not isinstance(name, str) or not name:
        return ToolCall(None, {}, "no tool name", body)
    if not isinstance(args, dict):
        return ToolCall(name, {}, "arguments are not a JSON object", body)
    return ToolCall(name, args, None, body)


def parse_tool_calls(text: str) -> tuple[list[ToolCall], str]:
    """(the calls of a generated turn in order, the text outside them, stripped). Every `<tool_call>` opening is a
    call: one that is not closed before the next opening or the end of the text is malformed, as is a body that is
    not a JSON object with a string `name` and an object `arguments` (a JSON string holding one is accepted)."""
    calls: list[ToolCall] = []
    outside: list[str] = []
    pos = 0
    while (start := text.find(_OPEN, pos)) >= 0:
        outside.append(text[pos:start])
        body_start = start + len(_OPEN)
        close, nxt = text.find(_CLOSE, body_start), text.find(_OPEN, body_start)
        if close < 0 or 0 <= nxt < close:
            end = nxt if nxt >= 0 else len(text)
            calls.append(ToolCall(None, {}, "unclosed <tool_call>", text[body_start:end]))
            pos = end
            continue
        calls.append(_call_from_json(text[body_start:close].strip()))
        pos = close + len(_CLOSE)
    outside.append(text[pos:])
    return calls, "".join(outside).strip()


def call_message(calls: Sequence[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """An assistant message making `calls` ((name, arguments) pairs), in the template's `tool_calls` form."""
    return {"role": "assistant", "content": "",
            "tool_calls": [{"type": "function", "function": {"name": n, "arguments": dict(a)}} for n, a in calls]}  # fmt: skip


def _for_template(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{**m, "reasoning_content": "\n"} if m["role"] == "assistant" and "reasoning_content" not in m else dict(m)
            for m in messages]  # fmt: skip


def _template(tokenizer_dir: str | Path) -> Any:
    from pretrain.sft import _template_tokenizer

    return _template_tokenizer(str(tokenizer_dir))


def turn_prompt(messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]] | None,
                tokenizer_dir: str | Path) -> str:  # fmt: skip
    """The chat up to where the next assistant turn starts (thinking off), tools listed when given."""
    return _template(tokenizer_dir).apply_chat_template(_for_template(messages), tools=tools or None, tokenize=False,
                                                        add_generation_prompt=True, enable_thinking=False)  # fmt: skip


def render_chat(messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]] | None,
                tokenizer_dir: str | Path) -> tuple[Doc, list[str]]:  # fmt: skip
    """((text, no-loss spans), each assistant turn's generated text): the whole chat through the template, loss
    only on what the assistant wrote (each assistant turn after its generation prompt, through its end-of-turn
    marker). The template is the tokenizer's own, else Qwen3's (`pretrain.sft.render_chat`'s rule)."""
    tok = _template(tokenizer_dir)
    msgs = _for_template(messages)
    full = tok.apply_chat_template(msgs, tools=tools or None, tokenize=False, enable_thinking=False)
    loss: list[tuple[int, int]] = []
    turns: list[str] = []
    for i, m in enumerate(msgs):
        if m["role"] != "assistant":
            continue
        head = turn_prompt(msgs[:i], tools, tokenizer_dir)
        end = full.find(END_OF_TURN, len(head))
        if not full.startswith(head) or end < 0:
            raise ValueError(f"chat template of {tokenizer_dir}: assistant turn {i} does not continue its generation "
                             "prompt; use a Qwen3-style template")  # fmt: skip
        end += len(END_OF_TURN)
        loss.append((len(head), end))
        turns.append(full[len(head):end])
    spans, pos = [], 0
    for a, b in loss:
        if a > pos:
            spans.append((pos, a))
        pos = b
    if pos < len(full):
        spans.append((pos, len(full)))
    return (full, spans), turns


@dataclass(frozen=True)
class Turn:
    """One generated assistant turn: its text before the end-of-turn marker, and the tokens generating it took."""

    text: str
    n_tokens: int
    ended: bool
    """The model closed the turn (end-of-turn marker or end of text) within the token budget."""


def count_tokens(tok: Any, text: str) -> int:
    return len(tok(text, add_special_tokens=False)["input_ids"])


def generate_turns(model: Any, tok: Any, prompts: Sequence[str], max_new_tokens: int, batch_size: int = 8,
                   device: str = "cpu") -> list[Turn]:  # fmt: skip
    """Greedy assistant turns for `prompts` (a tokenizer from `eval.generation.load_for_generation`: left padding).
    A turn ends at the end-of-turn marker or the end-of-text token; its tokens are counted by encoding the text
    and the marker, the same count a scripted turn gets (`count_tokens`), or `max_new_tokens` when it never
    ended."""
    import torch

    stops = [s for s in (END_OF_TURN, tok.eos_token, tok.pad_token) if s]
    out: list[Turn] = []
    for i in range(0, len(prompts), batch_size):
        enc = tok(list(prompts[i : i + batch_size]), return_tensors="pt", padding=True, add_special_tokens=False).to(device)
        with torch.no_grad():
            gen = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tok.pad_token_id)
        for row in gen[:, enc["input_ids"].shape[1]:]:
            text = tok.decode(row, skip_special_tokens=False)
            cut = min((p for s in stops if (p := text.find(s)) >= 0), default=-1)
            if cut >= 0:
                body = text[:cut]
                out.append(Turn(body, min(count_tokens(tok, body + END_OF_TURN), max_new_tokens), True))
            else:
                out.append(Turn(text, max_new_tokens, False))
    return out

