"""The agent loop through the ``openai_compat`` adapter against a real ``transformers serve``: the
growing conversation (image, assistant turns, result turns) is re-sent every turn over the API."""

from __future__ import annotations

from typing import Any

from servers import LocalOpenAIServer, openai_server  # noqa: F401

from agent.test_protocols import Pages
from lmms_eval.agent.search import MMSearchR1Protocol
from lmms_eval.agent.spec import AgentSpec
from lmms_eval.agent.toolbox import Toolbox
from lmms_eval.api.generation import GenerationParams
from lmms_eval.api.messages import Image, Message, Text
from lmms_eval.api.request import Request
from lmms_eval.engine.agent_loop import AgentJob, run_agents
from lmms_eval.models.openai_compat import OpenAICompat

REPLY = "Verdict: correct"  # what the scripted server model says (a reply without repeated tokens)


class SearchTwiceThenAnswer(MMSearchR1Protocol):
    """MMSearch-R1's texts; turns 1 and 2 read as text searches, turn 3 as the answer."""

    def parse(self, text: str, conv: Any) -> Any:
        from lmms_eval.agent.protocol import Action

        if conv.turns < 3:
            return Action("text_search", text, query="tower height")
        return Action("answer", text, answer=text)


def test_a_search_conversation_runs_over_the_api(openai_server: LocalOpenAIServer) -> None:  # noqa: F811
    from PIL import Image as PILImage

    model = OpenAICompat.from_args(
        {"model": openai_server.model(REPLY, kind="vision"), "base_url": openai_server.base_url}
    )
    sent: list[Any] = []
    generate = model.generate

    def keep(requests: Any) -> Any:
        responses = generate(requests)
        sent.extend(zip(requests, responses))
        return responses

    model.generate = keep  # type: ignore[method-assign]
    params = GenerationParams(max_new_tokens=32)
    image = PILImage.new("RGB", (64, 64), (0, 200, 0))
    jobs = [
        AgentJob(
            Request("t", i, [Message("user", [Image(data=image), Text(f"How tall is it? {i}")])], params, id=str(i)),
            SearchTwiceThenAnswer(AgentSpec(protocol="mmsearch_r1")),
            {},
        )
        for i in range(2)
    ]
    try:
        done = run_agents(model, jobs, Toolbox(Pages()))
    finally:
        model.close()
    for response, conv in done:
        assert response.error is None and response.text == REPLY and conv.turns == 3 and conv.stop == "answer"
        assert dict(conv.calls) == {"text_search": 2}
    tokens = [response.prompt_tokens for request, response in sent if request.doc_id == 0]
    assert len(tokens) == 3 and tokens[0] < tokens[1] < tokens[2]  # the whole conversation each turn
    last = [request for request, _ in sent if request.doc_id == 0][-1]
    assert [m.role for m in last.messages] == ["user", "assistant", "user", "assistant", "user"]
    assert last.messages[1].text() == REPLY
