"""Tools for agentic evaluation: search backends (offline corpus, record/replay, web API) and image crop.

Plain Python APIs, called by the engine's agent loop (lmms_eval/engine/agent_loop.py) through
lmms_eval/agent/. See docs/agents.md.
"""
