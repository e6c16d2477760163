"""The protocols' parsers and turns, and a ReAct conversation through the loop."""

from __future__ import annotations

from typing import Any

import pytest

from agent.scripted_agent import of
from lmms_eval.agent.search import MMSearchR1Protocol, ReActProtocol
from lmms_eval.agent.search_prompts import REACT_SYSTEM
from lmms_eval.agent.spec import AgentSpec
from lmms_eval.api.messages import Image, Message, Text
from lmms_eval.api.request import Request


def mmsearch(text: str) -> tuple[str, Any, Any]:
    action = MMSearchR1Protocol(AgentSpec(protocol="mmsearch_r1")).parse(text, None)  # type: ignore[arg-type]
    return action.kind, action.query, action.answer


def react(text: str) -> tuple[str, Any, Any]:
    action = ReActProtocol(AgentSpec(protocol="react")).parse(text, None)  # type: ignore[arg-type]
    return action.kind, action.query, action.answer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<reason>r</reason><search><img></search>", ("image_search", None, None)),
        ("<reason>r</reason><search><img></search>\n  ", ("image_search", None, None)),  # right-stripped
        ("<search><img></search> then more", ("none", None, None)),  # a call must END the turn
        ("<reason>r</reason><text_search> eiffel tower </text_search>", ("text_search", "eiffel tower", None)),
        ("<answer>a</answer> <answer> Paris </answer>", ("answer", None, "Paris")),  # the last answer
        ("<answer>Paris</answer><text_search>q</text_search>", ("text_search", "q", None)),  # the call at the end wins
        ("Unable to answer due to lack of relevant information", ("none", None, None)),
    ],
)
def test_mmsearch_r1_reads_a_turn_as_its_rollout_does(text: str, expected: tuple[str, Any, Any]) -> None:
    assert mmsearch(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<reason>r</reason>\n<search> IMAGE </search>", ("image_search", None, None)),
        (
            "<reason>r</reason>\n<search>height of the eiffel tower</search>",
            ("text_search", "height of the eiffel tower", None),
        ),
        ("<reason>r</reason>\n<answer> 330 m </answer>", ("answer", None, "330 m")),
        ("<search>image</search> <answer>x</answer>", ("answer", None, "x")),  # the last tag is the action
        ("<reason>only thinking</reason>", ("none", None, None)),
        ("<search>  </search>", ("none", None, None)),  # an empty query is no action
    ],
)
def test_react_reads_the_last_action_tag(text: str, expected: tuple[str, Any, Any]) -> None:
    assert react(text) == expected


class Pages:
    """An offline backend: one page per text query, one image hit for any image."""

    name = "pages"
    params: dict[str, Any] = {}

    def search_text(self, query: str, k: int = 5) -> Any:
        from lmms_eval.tools.base import SearchHit, SearchResult

        return SearchResult(query, "text", [SearchHit(f"About {query}", "https://p", f"{query} is 330 m")])

    def search_image(self, image: Any, k: int = 5) -> Any:
        from PIL import Image as PILImage

        from lmms_eval.tools.base import SearchHit, SearchResult

        return SearchResult("img", "image", [SearchHit("Eiffel Tower", "https://e", image=PILImage.new("RGB", (8, 8)))])


def test_a_react_conversation_searches_image_then_text_then_answers() -> None:
    from lmms_eval.agent.toolbox import Toolbox
    from lmms_eval.engine.agent_loop import AgentJob, run_agents

    script = {
        "q": [
            "<reason>?</reason><search>image</search>",
            "<search>eiffel tower height</search>",
            "<answer>330 m</answer>",
        ]
    }
    request = Request("t", "q", [Message("user", [Image(raw=b"not decoded here"), Text("How tall is it?")])], id="q")
    model = of(script)
    [(response, conv)] = run_agents(
        model, [AgentJob(request, ReActProtocol(AgentSpec(protocol="react")), {})], Toolbox(Pages())
    )
    assert response.text == "<answer>330 m</answer>" and conv.stop == "answer" and conv.turns == 3
    last = model.requests[-1].messages
    assert [m.role for m in last] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert last[0].text() == REACT_SYSTEM and last[1].text() == "How tall is it?"
    assert last[3].text().startswith("<observation>[Image Search Results]") and last[3].text().endswith(
        "</observation>"
    )
    assert len([p for p in last[3].content if isinstance(p, Image)]) == 1  # the hit's picture, in its slot
    assert last[5].text().endswith("\n1. (https://p) eiffel tower height is 330 m\n</observation>")
    assert response.extra["agent"]["calls"] == {"image_search": 1, "text_search": 1}


@pytest.mark.parametrize(
    ("preset", "protocol"),
    [("mmsearch_r1", "mmsearch_r1"), ("react_search_vllm", "react"), ("mgpo", "mgpo"), ("mgpo_vllm", "mgpo")],
)
def test_a_preset_runs_its_protocol_unless_told_otherwise(preset: str, protocol: str, tmp_path: Any) -> None:
    from lmms_eval.engine.evaluator import Evaluator
    from lmms_eval.engine.run_config import RunConfig

    evaluator = Evaluator(RunConfig(model=preset, tasks=["vstar_bench"], output_path=str(tmp_path)))
    assert evaluator.tasks[0].agent_protocol.name == protocol
    assert evaluator.cfg.prompt_variant is not None  # recorded in run.json, so `lmms-eval score` applies it too
    plain = Evaluator(RunConfig(model=preset, tasks=["vstar_bench"], output_path=str(tmp_path), prompt_variant=""))
    assert plain.tasks[0].agent_protocol is None
    reasoning = Evaluator(
        RunConfig(model=preset, tasks=["vstar_bench"], output_path=str(tmp_path), prompt_variant="reasoning")
    )
    assert reasoning.tasks[0].agent_protocol is None and reasoning.tasks[0].prompt_variant == "reasoning"


def test_cli_search_without_tools_or_with_a_bad_backend_stops_before_any_run_folder(tmp_path: Any) -> None:
    import subprocess
    import sys

    base = [sys.executable, "-m", "lmms_eval", "--model", "demo", "--tasks", "demo", "--prompt_variant", "search"]
    for extra, message in (
        ([], "calls image_search and text_search: give --tools backend=corpus,corpus=DIR"),
        (["--tools", "backend=corpus"], "--tools backend=corpus needs corpus=DIR"),
        (["--tools", f"backend=corpus,corpus={tmp_path / 'nothing'}"], "--tools backend=corpus: no corpus index at"),
        (["--tools", "backend=bing"], "unknown tool 'bing'"),
        (["--tools", "backend=replay,mode=later"], "--tools mode='later': use auto, record or replay"),
    ):
        out = tmp_path / "out"
        done = subprocess.run([*base, *extra, "--output_path", str(out)], capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, done.stderr
        assert message in done.stderr.strip().splitlines()[-1]
        assert not out.exists()


def test_mgpo_without_a_box_falls_back_to_the_original_and_reads_the_boxed_answer() -> None:
    from PIL import Image as PILImage

    from lmms_eval.agent.mgpo import MGPOProtocol
    from lmms_eval.engine.agent_loop import AgentJob, run_agents

    image = PILImage.new("RGB", (900, 600), (10, 20, 30))
    request = Request("t", "m", [Message("user", [Image(data=image), Text("What colour?")])], id="m")
    protocol = MGPOProtocol(AgentSpec(protocol="mgpo"))
    script = {"m": ["The region is the sky.", "It is dark. \\boxed{B}"]}
    model = of(script)
    [(response, conv)] = run_agents(model, [AgentJob(request, protocol, {}, "What colour", ["red", "navy"])], None)
    assert conv.stop == "answer" and protocol.answer(response.text) == "B"
    grounding = response.extra["agent"]["grounding"]
    assert grounding["valid"] is False and grounding["reason"].startswith("no ```json block")
    turn2 = model.requests[-1].messages[-1]
    assert turn2.text().startswith(
        "Not providing correct coordinates or invalid coordinate values, return the original"
    )
    assert "Question: What colour The choices are listed below:\n(A) red\n(B) navy\n" in turn2.text()
    assert turn2.content[1].data.size == (900, 600)  # the original again (within MGPO's pixel range already)
