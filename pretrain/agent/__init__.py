"""Agentic boundary learning (WeMusic-Agent's idea): the model learns when its own knowledge answers a request and
when to call a tool, from trajectories labelled by whether the tool was needed, so it stops making needless calls.

`tools` (search_catalog, recommend over the corpus outputs), `chat` (Qwen3 tool-call chats: rendering with loss on
assistant turns, call parsing, generation), `boundary` (success, labels, the agent loop, the unnecessary-call
penalty, policy metrics), `run` (the config and `python -m pretrain.agent`).
"""
