"""Tools for agentic evaluation: search backends (offline corpus, record/replay, web API) and image crop.

Plain Python APIs; the agent loop that calls them is planned (issue 11). See docs/agents.md.
"""
