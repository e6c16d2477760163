"""MIA-Bench on its hub-shaped fixture: lmms-eval's prompt (image, then the instruction), the
official judge prompt (apple/ml-mia-bench evaluation.ipynb, verbatim, with the image shown to the
judge) and the official reply rule (first sentence, split on ',' and ':', ``int(a)/int(b)``; a
reply it raises on is a counted judge error). Judged by a local OpenAI-compatible stand-in that
answers per model answer, and by a real ``transformers serve`` vision judge with one fixed reply;
re-scoring pays no call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import servers
from servers import Fault, FaultServer, LocalOpenAIServer, openai_server  # noqa: F401

from hub import common, mia_bench
from hub.common import fixture_mirror, judge_arg, records, run_evaluator
from lmms_eval.api.messages import Image

mirror = fixture_mirror(mia_bench.build)
TASK = "mia_bench"
TYPES = ("describe", "mention", "length_limit", "linguistics", "grammar", "textual", "math", "perspective")


class TableModel(common.TableModel):
    answers = mia_bench.ANSWERS


class KeyedJudge(FaultServer):
    """The judge stand-in: replies ``mia_bench.JUDGE[<the response quoted in the prompt>]``."""

    def _next(self, body: dict[str, Any]) -> Fault:
        super()._next(body)  # counts the request and keeps its body
        content = body["messages"][-1]["content"]
        assert [p["type"] for p in content] == ["image_url", "text"]  # the judge sees the image
        text = content[1]["text"]
        response = text.split("The response is:' ", 1)[1].split("' You need to score the response", 1)[0]
        return Fault.reply(mia_bench.JUDGE[response])


@pytest.fixture
def keyed_judge() -> Any:
    server = KeyedJudge().start()
    yield server
    server.stop()


def official_prompt_row0(response: str) -> str:
    """generate_prompt (evaluation.ipynb @ 5422852) for fixture row 0, written out by hand."""
    return (
        "Here is an instruction for a multimodal LLM: ' Describe the shape in the image in exactly three words. "
        "You need to grade if the response from the model follows each component of the instruction. "
        "The first component is:' Describe the shape in the image', and the second component is:' in exactly "
        f"three words' The response is:' {response}' You need to score the response and be strict. The total "
        "score ranges from 0 to 10, depending on if the response follows the instruction. The first and second "
        "component is each worth 4 and 6 scores. List scores of each component, and the total score in one "
        "sentence in this format: score of component 1: x/2, score of component 2: y/8, total score: z/10. "
        "Then explain your reasons."
    )


OFFICIAL_PROMPT_ROW4 = (  # four components: "The first second, third, and fourth component ..."
    "Here is an instruction for a multimodal LLM: ' Describe the image, quote any text, in two sentences, as a "
    "painter would. You need to grade if the response from the model follows each component of the "
    "instruction. The first component is:' Describe the image', and the second component is:' quote any "
    "text', and the third component is:' in two sentences', and the fourth component is:' as a painter "
    "would' The response is:' ' You need to score the response and be strict. The total score ranges from 0 "
    "to 10, depending on if the response follows the instruction. The first second, third, and fourth "
    "component is each worth 3, 3, 2 and 2 scores. List scores of each component, and the total score in one "
    "sentence in this format: score of component 1: x/2, score of component 2: y/8, total score: z/10. Then "
    "explain your reasons."
)
OFFICIAL_PROMPT_ROW6 = (  # one component
    "Here is an instruction for a multimodal LLM: ' Describe the image. You need to grade if the response "
    "from the model follows each component of the instruction. The first component is:' Describe the image' "
    "The response is:' A white image.' You need to score the response and be strict. The total score ranges "
    "from 0 to 10, depending on if the response follows the instruction. The first component is worth 10 "
    "scores. List scores of each component, and the total score in one sentence in this format: score of "
    "component 1: x/2, score of component 2: y/8, total score: z/10. Then explain your reasons."
)


def judge_call(record: dict[str, Any], block: str = "total_score") -> dict[str, Any]:
    calls: list[dict[str, Any]] = record["judge"]["blocks"][block]["filters"]["none"]["calls"]
    assert len(calls) == 1
    return calls[0]


def test_judged_by_hand(mirror: Path, tmp_path: Path, keyed_judge: KeyedJudge) -> None:
    results, run_dir = run_evaluator(tmp_path, [TASK], TableModel(), judge=judge_arg(keyed_judge), max_error_rate=0.5)
    res = results["results"][TASK]
    # Judge replies (fixture JUDGE), official rule: row 0 total 10/10, describe 4/4, length 6/6;
    # row 1 total 5/10, describe 2/4, length 3/3, linguistics 0/3; row 2 (the reasoning-wrapped
    # answer, judged whole) total 6/10, mention 3/3 then 1/3 (same type: the later overwrites),
    # describe 2/4; row 3 "Score: 0/10." has no comma: judge error; row 4 (empty answer) all 0;
    # row 5 scores three components of a two-component row: IndexError, judge error; row 6
    # (one component) total 7/10, describe 7/10.
    assert res["total_score,none"] == pytest.approx((1 + 0.5 + 0.6 + 0 + 0.7) / 5)
    assert res["component_describe,none"] == pytest.approx((1 + 0.5 + 0.5 + 0 + 0.7) / 5)
    assert res["component_length_limit,none"] == pytest.approx((1 + 1 + 0) / 3)
    assert res["component_linguistics,none"] == pytest.approx(0.0)
    assert res["component_mention,none"] == pytest.approx(1 / 3)
    assert res["component_textual,none"] == pytest.approx(0.0)
    assert res["component_perspective,none"] == pytest.approx(0.0)
    assert "component_grammar,none" not in res and "component_math,none" not in res  # only in row 3: no value
    assert res["n_samples"] == 7 and res["n_errors"] == 2
    summary = results["judge"]["summary"][TASK]
    assert summary["calls"] == 7 and summary["cached_calls"] == 7 * 8  # one paid call per sample
    assert summary["samples_with_judge_error"] == 2
    assert keyed_judge.requests == 7

    recs = records(run_dir, TASK)
    assert judge_call(recs["0"])["prompt"][0]["content"][1] == {
        "type": "text",
        "text": official_prompt_row0("A red square."),
    }
    assert judge_call(recs["0"])["prompt"][0]["content"][0]["type"] == "image"
    assert judge_call(recs["4"])["prompt"][0]["content"][1]["text"] == OFFICIAL_PROMPT_ROW4
    assert judge_call(recs["6"])["prompt"][0]["content"][1]["text"] == OFFICIAL_PROMPT_ROW6
    # every block renders the same prompt: the eight after the first are served from the cache
    assert judge_call(recs["0"], "component_describe")["cached"] is True
    assert judge_call(recs["0"], "component_describe")["key"] == judge_call(recs["0"])["key"]
    # the reasoning-wrapped output reaches the judge whole (the official notebook judges the raw text)
    assert (
        "The response is:' <think>It is green and round.</think>A green circle.' You"
        in (judge_call(recs["2"])["prompt"][0]["content"][1]["text"])
    )
    assert recs["2"]["scores"]["component_mention,none"] == pytest.approx(1 / 3)
    assert recs["0"]["scores"]["component_math,none"] is None  # a type the row lacks
    for doc_id, reason in (("3", "no ',' before the first '.'"), ("5", "official IndexError")):
        assert recs[doc_id]["status"] == "judge_error"
        assert "unparseable judge verdict" in recs[doc_id]["error"] and reason in recs[doc_id]["error"]
        assert "total_score,none" not in recs[doc_id]["scores"]

    # lmms-eval's prompt: the image, then the instruction as it is
    request = TableModel.requests["1"]
    assert isinstance(request.messages[-1].content[0], Image)
    assert request.prompt_text() == "Name the colour of the image in one word, using a simile."


def test_reasoning_variant_judges_the_reduced_answer(
    mirror: Path, tmp_path: Path, keyed_judge: KeyedJudge, monkeypatch: pytest.MonkeyPatch
) -> None:
    reply = "score of component 1: 3/3, score of component 2: 4/4, score of component 3: 3/3, total score: 10/10."
    monkeypatch.setitem(mia_bench.JUDGE, "A green circle.", reply)
    results, run_dir = run_evaluator(
        tmp_path, [TASK], TableModel(), judge=judge_arg(keyed_judge), max_error_rate=0.5, prompt_variant="reasoning"
    )
    rec = records(run_dir, TASK)["2"]
    assert "The response is:' A green circle.' You" in judge_call(rec)["prompt"][0]["content"][1]["text"]
    assert rec["scores"]["total_score,none"] == 1.0 and rec["scores"]["component_mention,none"] == 1.0
    assert "Please reason step by step" in TableModel.requests["2"].prompt_text()


def test_without_judge_nothing_is_scored(mirror: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    results, _ = run_evaluator(tmp_path, [TASK], TableModel(), max_error_rate=0.5)
    res = results["results"][TASK]
    assert not [k for k in res if k.startswith(("total_score", "component_"))]
    assert res["n_samples"] == 7 and res["n_errors"] == 0
    assert "define a judge but no --judge was given" in caplog.text


# The real server's scripted models must not repeat a token in their reply; this reply repeats
# words and punctuation, so its four pieces are added to the tokenizer as whole tokens.
SERVER_REPLY_PIECES = ("score of component 1: 3/4", ", score of component 2: 3/6", ", total score: 6/10", ". Reasons.")
SERVER_REPLY = "".join(SERVER_REPLY_PIECES)


def vision_judge(server: LocalOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """The ``--judge`` string of a scripted Qwen2-VL on ``server`` that always says SERVER_REPLY."""
    plain = servers.build_tokenizer

    def with_pieces() -> Any:
        tokenizer = plain()
        tokenizer.add_tokens(list(SERVER_REPLY_PIECES))
        assert len(tokenizer) <= servers.VOCAB_SIZE
        return tokenizer

    monkeypatch.setattr(servers, "build_tokenizer", with_pieces)
    path = server.model(SERVER_REPLY, kind="vision")
    monkeypatch.setattr(servers, "build_tokenizer", plain)
    return f"model={path},base_url={server.base_url},api_key_env=NO_KEY_NEEDED"


def test_a_real_vision_judge_server_by_hand_and_cached(
    openai_server: LocalOpenAIServer,  # noqa: F811
    mirror: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lmms_eval.engine.rescore import rescore_run

    judge = vision_judge(openai_server, monkeypatch)
    results, run_dir = run_evaluator(tmp_path, [TASK], TableModel(), judge=judge, max_error_rate=0.5)
    res = results["results"][TASK]
    # Every reply: component 1 = 3/4, component 2 = 3/6, total 6/10. Rows 0-5 (2-4 components)
    # parse (a third or fourth component left unscored is simply absent); row 6 has one
    # component, so the second piece is the official IndexError: a judge error.
    # describe: rows 0, 1, 4, 5 as component 1 (3/4), row 2 as component 2 (3/6).
    # length_limit: rows 0, 1 as component 2 (3/6); row 4's is its third: unscored.
    # mention: row 2 component 1 (3/4; its component 3 unscored), row 5 component 2 (3/6).
    assert res["total_score,none"] == pytest.approx(0.6)
    assert res["component_describe,none"] == pytest.approx((4 * 0.75 + 0.5) / 5)
    assert res["component_length_limit,none"] == pytest.approx(0.5)
    assert res["component_mention,none"] == pytest.approx((0.75 + 0.5) / 2)
    assert res["component_grammar,none"] == pytest.approx(0.75)
    assert res["component_math,none"] == pytest.approx(0.5)
    assert res["component_textual,none"] == pytest.approx(0.5)
    assert "component_linguistics,none" not in res and "component_perspective,none" not in res
    assert res["n_errors"] == 1
    summary = results["judge"]["summary"][TASK]
    assert (summary["calls"], summary["cached_calls"], summary["samples_with_judge_error"]) == (7, 7 * 8, 1)
    recs = records(run_dir, TASK)
    call = judge_call(recs["0"])
    assert call["reply"] == SERVER_REPLY and call["cached"] is False
    assert call["prompt"][0]["content"][0]["type"] == "image"
    assert recs["6"]["status"] == "judge_error" and "official IndexError" in recs["6"]["error"]

    # scoring again (the same judge, the run's cache) pays no call and gives the same numbers
    again = rescore_run(str(run_dir), judge=judge)
    assert again.exit_code == 0
    summary = again.results["judge"]["summary"][TASK]
    assert (summary["calls"], summary["cached_calls"]) == (0, 7 * 9)
    for key in ["total_score,none"] + [f"component_{t},none" for t in TYPES]:
        assert again.results["results"][TASK].get(key) == res.get(key), key
