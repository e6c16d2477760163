"""The built-in agent protocols, registered lazily by ``module:Class`` (see :data:`PROTOCOLS`)."""

from __future__ import annotations

from lmms_eval.agent.protocol import PROTOCOLS

BUILTIN_PROTOCOLS = {
    "mmsearch_r1": "lmms_eval.agent.search:MMSearchR1Protocol",
    "react": "lmms_eval.agent.search:ReActProtocol",
    "mgpo": "lmms_eval.agent.mgpo:MGPOProtocol",
}

for _name, _spec in BUILTIN_PROTOCOLS.items():
    PROTOCOLS.register(_name, _spec)
