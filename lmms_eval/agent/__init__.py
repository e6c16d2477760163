"""Multi-turn agents: protocols (how a model asks for tools and answers), the toolbox, and
tool-use metrics. The loop that runs them, batched turn by turn, is
:mod:`lmms_eval.engine.agent_loop`; see docs/agents.md."""
