"""ActivityNet-QA on its hub-shaped fixture: videos (mp4, webm, mkv) from the repository's zip
archives, lmms-eval's prompt, the official judge prompt (system + user, verbatim) and the official
reply rule (literal-eval of a Python dict; yes / (yes + no); mean int(score)), with the judge as a
local OpenAI-compatible stand-in that answers per predicted answer, and through a real
``transformers serve`` judge whose reply is no dict (every sample a counted judge error)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from servers import Fault, FaultServer, LocalOpenAIServer, openai_server  # noqa: F401

from hub import activitynetqa, common
from hub.common import fixture_mirror, judge_arg, records, run_evaluator
from lmms_eval.api.messages import Video
from lmms_eval.judge.parsing import VerdictError
from lmms_eval.metrics.activitynetqa import parse_judge_reply, verdict

mirror = fixture_mirror(activitynetqa.build)
TASK = "activitynetqa"


class TableModel(common.TableModel):
    answers = activitynetqa.ANSWERS


class KeyedJudge(FaultServer):
    """The judge stand-in: replies ``activitynetqa.JUDGE[<the prompt's Predicted Answer>]``."""

    def _next(self, body: dict[str, Any]) -> Fault:
        super()._next(body)  # counts the request and keeps its body
        content = body["messages"][-1]["content"]
        text = content if isinstance(content, str) else "".join(p.get("text", "") for p in content)
        predicted = text.split("Predicted Answer: ", 1)[1].split("\n\nProvide your evaluation", 1)[0]
        return Fault.reply(activitynetqa.JUDGE[predicted])


@pytest.fixture
def keyed_judge() -> Any:
    server = KeyedJudge().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def video_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from lmms_eval.tasks.yaml_loader import load_module_from_path

    path = Path(__file__).parents[2] / "lmms_eval" / "tasks" / "activitynetqa" / "utils.py"
    utils = load_module_from_path(str(path))
    monkeypatch.setenv("LMMS_EVAL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(utils, "VIDEOS", utils.HubVideos(utils.REPO_ID, utils.PATTERNS))
    return tmp_path / "cache"


# (judge reply, (pred, score)) by the official rule; None: the official script cannot score it
REPLY_TABLE: list[tuple[str, tuple[str, int] | None]] = [
    ("{'pred': 'yes', 'score': 4}", ("yes", 4)),
    ("{'pred': 'no', 'score': 0}", ("no", 0)),
    ('{"pred": "yes", "score": 3}', ("yes", 3)),  # JSON is a Python literal too
    ("{'pred': 'yes', 'score': 4.8}", ("yes", 4)),  # int() truncates, as officially
    ("{'pred': 'yes', 'score': '5'}", ("yes", 5)),  # int('5'), as officially
    ("{'pred': 'yes', 'score': 9}", ("yes", 9)),  # no range check, as officially
    ("  {'pred': 'no', 'score': 1}", ("no", 1)),  # literal_eval drops leading blanks
    ("{'score': 2, 'pred': 'Yes.'}", ("Yes.", 2)),
    ("yes", None),
    ("{'pred': 'yes'}", None),  # the official script raises KeyError on 'score'
    ("{'pred': 'yes', 'score': 'high'}", None),  # int('high') raises
    ("{'pred': 'yes', 'score': '4.8'}", None),  # int('4.8') raises
    ("{'pred': 1, 'score': 3}", None),  # 1.lower() raises
    ("['yes', 4]", None),
    ("```python\n{'pred': 'yes', 'score': 4}\n```", None),
    ("Sure! {'pred': 'yes', 'score': 4}", None),
    ("", None),
]


@pytest.mark.parametrize(("reply", "parsed"), REPLY_TABLE)
def test_official_reply_rule(reply: str, parsed: tuple[str, int] | None) -> None:
    if parsed is None:
        with pytest.raises(VerdictError):
            parse_judge_reply(reply)
    else:
        assert parse_judge_reply(reply) == parsed


@pytest.mark.parametrize(
    ("pred", "found"),
    [("yes", "yes"), ("Yes.", "yes"), ("no", "no"), ("NO", "no"), ("not sure", "no"), ("unclear", None), ("", None)],
)
def test_official_yes_no_by_substring(pred: str, found: str | None) -> None:
    assert verdict(pred) == found


def official_messages(question: str, answer: str, pred: str) -> list[dict[str, str]]:
    """The messages evaluate_activitynet_qa.py sends, written out from its string pieces."""
    system = (
        "You are an intelligent chatbot designed for evaluating the correctness of generative outputs for "
        "question-answer pairs. "
        "Your task is to compare the predicted answer with the correct answer and determine if they match "
        "meaningfully. Here's how you can accomplish the task:"
        "------"
        "##INSTRUCTIONS: "
        "- Focus on the meaningful match between the predicted answer and the correct answer.\n"
        "- Consider synonyms or paraphrases as valid matches.\n"
        "- Evaluate the correctness of the prediction compared to the answer."
    )
    user = (
        "Please evaluate the following video-based question-answer pair:\n\n"
        f"Question: {question}\n"
        f"Correct Answer: {answer}\n"
        f"Predicted Answer: {pred}\n\n"
        "Provide your evaluation only as a yes/no and score where the score is an integer value between 0 and 5, "
        "with 5 indicating the highest meaningful match. "
        "Please generate the response in the form of a Python dictionary string with keys 'pred' and 'score', "
        "where value of 'pred' is  a string of 'yes' or 'no' and value of 'score' is in INTEGER, not STRING."
        "DO NOT PROVIDE ANY OTHER OUTPUT TEXT OR EXPLANATION. Only provide the Python dictionary string. "
        "For example, your response should look like this: {'pred': 'yes', 'score': 4.8}."
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def test_judged_by_hand(mirror: Path, tmp_path: Path, video_cache: Path, keyed_judge: KeyedJudge) -> None:
    results, run_dir = run_evaluator(tmp_path, [TASK], TableModel(), judge=judge_arg(keyed_judge), max_error_rate=0.5)
    res = results["results"][TASK]
    # judge replies (fixture JUDGE): "a dog" yes 5; "three" no 1; the reasoning-wrapped answer yes
    # 4.8 -> 4; "I cannot tell" prose: judge error; "maybe" "not sure" -> no 2; "" "unclear":
    # neither, 0; "running" fenced dict: judge error; the missing video: generation error.
    # accuracy = yes / (yes + no) = 2 / 4; score = (5 + 1 + 4 + 2 + 0) / 5; yes-or-no 4 of 5
    assert res["judge_acc,none"] == pytest.approx(2 / 4)
    assert res["judge_score,none"] == pytest.approx(12 / 5)
    assert res["judge_yes_no_rate,none"] == pytest.approx(4 / 5)
    assert res["n_errors"] == 3
    assert res["judge_acc,none,type=4"] == pytest.approx(1 / 2)  # colour: yes, "not sure" (no)
    assert res["judge_score,none,type=4"] == pytest.approx((4 + 2) / 2)
    summary = results["judge"]["summary"][TASK]
    assert summary["calls"] == 7 and summary["cached_calls"] == 14  # one paid call per judged sample
    assert keyed_judge.requests == 7

    recs = records(run_dir, TASK)
    first = recs["v_vidmp4_0"]
    calls = first["judge"]["blocks"]["judge_acc"]["filters"]["none"]["calls"]
    assert calls[0]["prompt"] == official_messages("what is in front of the person", "dog", "a dog")
    assert first["scores"]["judge_acc,none"] == 1.0 and first["scores"]["judge_score,none"] == 5.0
    # the reasoning-wrapped output reaches the judge whole (the official script judges the raw output)
    sent = recs["v_vidwebm_0"]["judge"]["blocks"]["judge_acc"]["filters"]["none"]["calls"][0]["prompt"]
    assert "Predicted Answer: <think>The ball looks red.</think>red\n" in sent[1]["content"]
    assert recs["v_vidwebm_0"]["scores"]["judge_score,none"] == 4.0
    assert recs["v_vidmkv_1"]["scores"]["judge_acc,none"] is None  # neither: out of the accuracy
    assert recs["v_vidmkv_1"]["scores"]["judge_score,none"] == 0.0
    for qid in ("v_vidwebm_1", "v_vidmkv_2"):
        assert recs[qid]["status"] == "judge_error"
        assert "unparseable judge verdict: reply is not a Python literal" in recs[qid]["error"]
        assert "judge_acc,none" not in recs[qid]["scores"]
    missing = recs["v_missing_0"]
    assert missing["status"] == "error"
    assert (
        "video v_missing.mp4 of lmms-lab/ActivityNetQA is not in archives videos_chunked_01.zip, "
        "videos_chunked_02.zip, nor is v_missing.webm or v_missing.mkv" in missing["error"]
    )

    request = TableModel.requests["v_vidmkv_0"]
    video = request.messages[-1].content[0]
    assert isinstance(video, Video) and video.path is not None
    assert Path(video.path).name == "v_vidmkv.mkv"
    assert Path(video.path).is_relative_to(video_cache)
    # lmms-eval's prompt: str.capitalize() lowers the rest ("NASA" -> "nasa"), "?" appended
    assert request.prompt_text() == "What color is the car of nasa? Answer the question using a single word or phrase."


def test_reasoning_variant_judges_the_reduced_answer(
    mirror: Path, tmp_path: Path, keyed_judge: KeyedJudge, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(activitynetqa.JUDGE, "red", "{'pred': 'yes', 'score': 5}")
    results, run_dir = run_evaluator(
        tmp_path, [TASK], TableModel(), judge=judge_arg(keyed_judge), max_error_rate=0.5, prompt_variant="reasoning"
    )
    rec = records(run_dir, TASK)["v_vidwebm_0"]
    sent = rec["judge"]["blocks"]["judge_acc"]["filters"]["none"]["calls"][0]["prompt"][1]["content"]
    assert "Predicted Answer: red\n" in sent  # <think> removed by the variant before the judge
    assert rec["scores"]["judge_score,none"] == 5.0
    assert "Please reason step by step" in TableModel.requests["v_vidwebm_0"].prompt_text()


def test_without_judge_nothing_is_scored(mirror: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    results, _ = run_evaluator(tmp_path, [TASK], TableModel(), max_error_rate=0.5)
    res = results["results"][TASK]
    assert not [k for k in res if k.startswith("judge_")]
    assert "define a judge but no --judge was given" in caplog.text


def test_a_real_judge_server_whose_reply_is_no_dict(
    openai_server: LocalOpenAIServer,  # noqa: F811
    mirror: Path,
    tmp_path: Path,
) -> None:
    # The scripted server model always says "Verdict: correct": not a Python dict, so no sample
    # is scored and each one is a counted judge error (the official script would ask forever).
    results, run_dir = run_evaluator(
        tmp_path, [TASK], TableModel(), judge=judge_arg(openai_server, "Verdict: correct"), max_error_rate=1.0
    )
    res = results["results"][TASK]
    assert res["n_errors"] == 8  # 7 judge errors + the missing video
    assert results["judge"]["summary"][TASK]["samples_with_judge_error"] == 7
    rec = records(run_dir, TASK)["v_vidmp4_0"]
    assert rec["status"] == "judge_error" and "reply is not a Python literal" in rec["error"]
    assert rec["judge"]["blocks"]["judge_acc"]["filters"]["none"]["calls"][0]["reply"] == "Verdict: correct"


def test_frames_are_decoded_from_webm_and_mkv(mirror: Path) -> None:
    from lmms_eval.media import FrameSampling, load_video
    from lmms_eval.tasks.activitynetqa import utils

    for name, level in (("vidwebm", 80), ("vidmkv", 120), ("vidmp4", 40)):
        path = utils.doc_to_video({"video_name": name})[0]
        clip = load_video(Video(path=path), FrameSampling(max_frames=4))
        assert clip.frames.shape[0] == 4 and abs(float(clip.frames.mean()) - level) < 6
