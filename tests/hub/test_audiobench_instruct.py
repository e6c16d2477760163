"""AudioBench OpenHermes-Audio / Alpaca-Audio on hub-shaped fixtures, judged by fake servers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from servers import Fault, FaultServer, LocalOpenAIServer, openai_server  # noqa: F401

from hub import audiobench_instruct as fixture
from hub import common
from hub.common import fixture_mirror, judge_arg, needs_flite, run_evaluator, run_lmms_eval, sample_records
from lmms_eval.api.errors import SampleError
from lmms_eval.judge.parsing import VerdictError, parse_rating
from lmms_eval.tasks.audiobench_instruct import utils
from lmms_eval.tasks.task import Task

TASK_DIR = Path(utils.__file__).parent
TESTS = Path(__file__).resolve().parents[1]
TASKS = ("openhermes_audio_test", "alpaca_audio_test")


class TableModel(common.TableModel):
    """Answers each document from ``fixture.ANSWERS`` by task and doc id."""

    answers = {(task, doc_id): reply for task, by_id in fixture.ANSWERS.items() for doc_id, reply in by_id.items()}


class ContentJudge(FaultServer):
    """A fake judge that replies by the model answer found in the prompt (order-independent)."""

    def _next(self, body: dict[str, Any]) -> Fault:
        super()._next(body)
        prompt = body["messages"][-1]["content"]
        found = [
            reply for answer, reply in fixture.JUDGE_REPLIES.items() if f"[Model Answer]\n        {answer}\n" in prompt
        ]
        assert len(found) == 1, prompt
        return Fault.reply(found[0])


mirror = fixture_mirror(fixture.build)


def audiobench_prompt(reference: str, prediction: str, question: str) -> str:
    """AudioBench's llama3_70b_as_judge prompt (eval_llama3_70b.py, commit e991641), written out
    with the sample filled in; stripped as Llama-3's chat template trims the message."""
    pad = " " * 8
    lines = [
        "[Reference Answer]",
        f"{pad}{reference}",
        "",
        f"{pad}[Model Answer]",
        f"{pad}{prediction}",
        "",
        f"{pad}[Question]",
        f"{pad}{question}",
        "",
        f"{pad}[Task]",
        f"{pad}Rate the model's answer based on its alignment with the reference answer, focusing on accuracy and "
        "relevance to the reference provided. Please be critical on the details. If the model response is something "
        "like 'cannot decide', please rate as 0.",
        f"{pad}Criteria: Assess if the model's response mirrors the reference in terms of content, accuracy, and "
        "relevance.",
        f"{pad}Score0: The answer is refusing to give concrete results, providing something like 'cannot decide'.",
        f"{pad}Score0: The answer is completely misaligned, providing incorrect or irrelevant information compared to "
        "the reference.",
        f"{pad}Score1: The answer shows minimal alignment, often misunderstanding or providing irrelevant details "
        "unrelated to the reference.",
        f"{pad}Score2: The answer recognizes the topic but diverges significantly from the reference in accuracy or "
        "relevance.",
        f"{pad}Score3: The answer aligns with the reference generally but lacks detail or precise accuracy in some "
        "aspects.",
        f"{pad}Score4: The answer is mostly accurate and relevant, closely following the reference but could be "
        "clearer or more detailed.",
        f"{pad}Score5: The answer is highly accurate, detailed, and matches the reference answer perfectly, capturing "
        "its essence and detail.",
        "",
        f"{pad}Your response should be formatted as follows:",
        f"{pad}Explanation: (Provide a concise explanation of your rating, comparing the reference answer with the "
        "model's response. \"The reference answer is [XXX], while the model's answer is [YYY]. I think ...\")",
        f"{pad}Rating: (int)",
    ]
    return "\n".join(lines)


# ---- the official parsing rule --------------------------------------------------------------------
def audiobench_reading(reply: str) -> float | None:
    """What AudioBench takes from a reply: float of its last whitespace token (None = success 0)."""
    try:
        return float(reply.split()[-1])
    except (ValueError, IndexError):
        return None


PARSE_TABLE = [
    "Explanation: fine.\nRating: 5",
    "Rating: 3.",
    "Rating: 4.5\n",
    "Rating: 0",
    "Rating: .5",
    "Rating: 2e0",
    "Rating: **4**",
    "Rating: 4/5",
    "Rating: 4\nThanks!",
    "Score: 3 out of 5",
    "",
    "Rating:",
    "Rating: +2",
]


@pytest.mark.parametrize("reply", PARSE_TABLE)
def test_verdict_pattern_reads_what_audiobench_reads(reply: str) -> None:
    spec = Task.from_yaml(str(TASK_DIR / "openhermes_audio_test.yaml")).judge_specs[0]
    assert spec is not None and tuple(spec.rating_range) == (0.0, 5.0)
    official = audiobench_reading(reply)
    if official is None:
        with pytest.raises(VerdictError):
            parse_rating(reply, 0, 5, spec.verdict_pattern)
    else:
        assert parse_rating(reply, 0, 5, spec.verdict_pattern) == official


def test_out_of_range_rating_is_unparseable_here() -> None:
    # AudioBench would average a 6 in; on a 0-5 scale it is a judge error here (README)
    spec = Task.from_yaml(str(TASK_DIR / "alpaca_audio_test.yaml")).judge_specs[0]
    assert spec is not None
    assert audiobench_reading("Rating: 6") == 6.0
    with pytest.raises(VerdictError, match="outside 0..5"):
        parse_rating("Rating: 6", 0, 5, spec.verdict_pattern)


def test_text_prompt_is_one_of_audiobench_instructions() -> None:
    doc = {"speech_instruction": "What is the capital of France?", "answer": "Paris."}
    text = utils.doc_to_text(doc, {"pre_prompt": "", "post_prompt": ""})
    assert text in utils.SI_INSTRUCTIONS and len(utils.SI_INSTRUCTIONS) == 10
    assert utils.doc_to_text(dict(doc), {}) == text  # the same item always gets the same one
    picked = {utils.pick_instruction({"speech_instruction": f"instruction {i}"}) for i in range(200)}
    assert picked == set(utils.SI_INSTRUCTIONS)  # the draw spreads over all ten
    assert utils.doc_to_text(doc, {"instruction": "Follow the audio.", "post_prompt": " Be brief."}) == (
        "Follow the audio. Be brief."
    )


def test_items_without_text_are_sample_errors() -> None:
    with pytest.raises(SampleError, match="no 'speech_instruction'"):
        utils.doc_to_text({"speech_instruction": None}, {})
    with pytest.raises(SampleError, match="no 'answer'"):
        utils.doc_to_target({"speech_instruction": "Q?", "answer": " "})
    assert utils.doc_to_target({"speech_instruction": "Q?", "answer": "A."}) == "A."


def test_scale_is_mean_times_twenty() -> None:
    assert utils.audiobench_scale([5.0, 3.0]) == pytest.approx(80.0)  # (5 + 3) / 2 * 20


# ---- pipeline ----------------------------------------------------------------------------------
@needs_flite
def test_judged_scores_by_hand(mirror: Path, tmp_path: Path) -> None:
    judge = ContentJudge().start()
    try:
        results, run_dir = run_evaluator(
            tmp_path,
            ["audiobench_instruct"],
            TableModel(),
            max_error_rate=1.0,
            judge=judge_arg(judge, max_retries=0),
        )
    finally:
        judge.stop()
    res = results["results"]
    # OpenHermes: ratings 5, 3 ("3." reads 3.0), "**1**" unparseable, 6 outside 0..5 -> two judge
    # errors, left out: (5 + 3) / 2 * 20 = 80.0  (AudioBench would count both: (5+3+0+6)/4*20 = 70)
    oh = res["openhermes_audio_test"]
    assert oh["judge_score,none"] == pytest.approx(80.0)
    assert (oh["n_samples"], oh["n_errors"]) == (4, 2)
    # Alpaca: 4.5, 1, 0 -> (4.5 + 1 + 0) / 3 * 20 = 110 / 3 = 36.666...
    al = res["alpaca_audio_test"]
    assert al["judge_score,none"] == pytest.approx(110 / 3)
    assert (al["n_samples"], al["n_errors"]) == (3, 0)
    # group: plain mean of the two sets, (80 + 110/3) / 2 = 350 / 6 = 58.333...
    assert res["audiobench_instruct"]["judge_score,none"] == pytest.approx(350 / 6)
    summary = results["judge"]["summary"]
    assert summary["openhermes_audio_test"]["judge_errors"] == 2
    assert summary["openhermes_audio_test"]["decided_by_judge"] == 2
    assert summary["alpaca_audio_test"]["calls"] == 3

    records = common.records(run_dir, "openhermes_audio_test")
    assert records["2"]["status"] == "judge_error" and "unparseable judge verdict" in records["2"]["error"]
    assert records["3"]["status"] == "judge_error" and "outside 0..5" in records["3"]["error"]
    assert "judge_score,none" not in records["2"]["scores"]  # no score at all, never a 0
    assert records["0"]["scores"]["judge_score,none"] == 5.0
    assert records["1"]["scores"]["judge_score,none"] == 3.0
    # the model heard the instruction and read one of AudioBench's fixed instructions
    user = records["1"]["prompt"][-1]["content"]
    assert [p["type"] for p in user] == ["audio", "text"]
    assert user[1]["text"] in utils.SI_INSTRUCTIONS
    # the judge prompt is AudioBench's text with this sample filled in
    question, reference, _voice = fixture.OPENHERMES_ITEMS[1]
    sent = records["1"]["judge"]["filters"]["none"]["calls"][0]["prompt"]
    assert sent == [{"role": "user", "content": audiobench_prompt(reference, "Red, green and blue.", question)}]


@needs_flite
def test_real_judge_server(
    openai_server: LocalOpenAIServer,  # noqa: F811
    mirror: Path,
    tmp_path: Path,
) -> None:
    judge = judge_arg(openai_server, "Rating: 4")
    results, _ = run_evaluator(tmp_path, ["audiobench_instruct"], TableModel(), judge=judge)
    res = results["results"]
    # every reply is "Rating: 4": each set 4 * 20 = 80.0, and so is the group
    for name in (*TASKS, "audiobench_instruct"):
        assert res[name]["judge_score,none"] == pytest.approx(80.0)
    assert results["judge"]["summary"]["openhermes_audio_test"]["calls"] == 4


@needs_flite
def test_without_judge_no_score_is_made_up(mirror: Path, tmp_path: Path) -> None:
    results, run_dir = run_evaluator(tmp_path, TASKS, TableModel())
    for name in TASKS:
        assert results["results"][name].get("judge_score,none") is None
        assert results["results"][name]["n_errors"] == 0
    # judged afterwards from the logs (`lmms-eval score RUN_DIR --judge ...`): every reply
    # "Rating: 3" -> 3 * 20 = 60.0 per set, without calling the model again
    from lmms_eval.engine.rescore import rescore_run

    judge = FaultServer(default=Fault.reply("Explanation: partly right.\nRating: 3")).start()
    try:
        rescored = rescore_run(str(run_dir), judge=judge_arg(judge))
    finally:
        judge.stop()
    assert rescored.exit_code == 0
    for name in TASKS:
        assert rescored.results["results"][name]["judge_score,none"] == pytest.approx(60.0)
    assert judge.requests == 7


@needs_flite
def test_fixture_has_the_hub_schema(mirror: Path) -> None:
    import datasets

    for repo, items in ((fixture.OPENHERMES, fixture.OPENHERMES_ITEMS), (fixture.ALPACA, fixture.ALPACA_ITEMS)):
        ds = datasets.load_dataset(str(mirror / repo), split="test")
        assert ds.features == fixture.features()
        assert ds["speech_instruction"] == [i[0] for i in items] and ds["answer"] == [i[1] for i in items]
        audio = ds[0]["context"]
        assert audio["sampling_rate"] == 16000 and len(audio["array"]) > 8000  # over half a second of speech


def _words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]", " ", text.lower()).split()


@needs_flite
def test_cli_with_a_real_recogniser(mirror: Path, tmp_path: Path) -> None:
    """End to end through the CLI: pocketsphinx hears the spoken instruction (its "answer" is the
    transcript), the fake judge rates every answer 2 -> each set 2 * 20 = 40.0, the group 40.0."""
    pytest.importorskip("pocketsphinx")
    import jiwer

    judge = FaultServer(default=Fault.reply("Explanation: The model repeats the question.\nRating: 2")).start()
    try:
        data = run_lmms_eval(
            mirror,
            tmp_path / "out",
            "--model",
            "pocketsphinx",
            "--tasks",
            "audiobench_instruct",
            "--judge",
            judge_arg(judge),
        )
    finally:
        judge.stop()
    res = data["results"]
    for name in (*TASKS, "audiobench_instruct"):
        assert res[name]["judge_score,none"] == pytest.approx(40.0)
    assert judge.requests == len(fixture.OPENHERMES_ITEMS) + len(fixture.ALPACA_ITEMS)
    # the audio reached the recogniser: its transcripts are close to the spoken instructions
    refs, hyps, raw = [], [], []
    for task in TASKS:
        for record in sample_records(tmp_path / "out", task):
            refs.append(" ".join(_words(record["doc"]["speech_instruction"])))
            hyps.append(" ".join(_words(record["raw_output"])))
            raw.append(record["raw_output"])
    # pocketsphinx 5.x on this flite speech: 5 word errors over the 43 reference words (11.6 %)
    assert 0.0 <= jiwer.wer(refs, hyps) < 0.5, list(zip(refs, hyps))
    sent = sorted(body["messages"][-1]["content"] for body in judge.bodies)
    assert len(sent) == 7 and all(p.startswith("[Reference Answer]") for p in sent)
    # each judge prompt carries one of the model's answers, as logged
    assert all(any(f"[Model Answer]\n        {r}\n" in p for p in sent) for r in raw)
