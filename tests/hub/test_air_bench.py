"""AIR-Bench on a hub-shaped fixture: the foundation rule and the chat judge, by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
from servers import LocalOpenAIServer, openai_server  # noqa: F401

from hub import air_bench, common
from hub.common import fixture_mirror, judge_arg, needs_flite, prompt_text, records, run_evaluator
from lmms_eval.api.errors import SampleError
from lmms_eval.tasks.air_bench import utils


class TableModel(common.TableModel):
    """Answers from a table keyed by (task, doc id); documents not in it get ``default``."""

    default = "x"


mirror = fixture_mirror(air_bench.build)


# (response, letter score_foundation.py reads) worked out by hand from its rule
OFFICIAL_TABLE = [
    ("B", "B"),
    ("  C.\n", "C"),  # stripped: "C."
    ("The answer is A.", "A"),  # second-to-last character
    ("As the audio shows, B", "A"),  # the first character wins: the official quirk
    ("Answer: (D)", "A"),
    ("the answer is d.", None),  # lower case is never read
    ("I cannot tell.", None),
    ("(C) piano", None),
    ("None", None),
    ("", None),
    ("A\nB", "A"),
    ("x\nD.", "D"),  # line breaks removed first: "xD." -> second-to-last "D"
]


@pytest.mark.parametrize(("response", "letter"), OFFICIAL_TABLE)
def test_official_letter_table(response: str, letter: str | None) -> None:
    assert utils.official_letter(response) == letter


def test_prompt_is_the_official_one_with_none_for_missing_options() -> None:
    doc = {"question": "Q?", "choice_a": "yes", "choice_b": "no", "choice_c": None, "choice_d": None}
    assert utils.foundation_doc_to_text(doc, {}) == (
        "Choose the most suitable answer from options A, B, C, and D to respond the question in next line, "
        "you may only choose A or B or C or D.\nQ?\nA. yes\nB. no\nC. None\nD. None"
    )
    assert utils.foundation_choices(doc) == ["yes", "no"]
    assert utils.foundation_choices({**doc, "choice_c": "", "choice_d": ""}) == ["yes", "no"]


def test_gold_letter_needs_an_exact_option_text() -> None:
    doc = {"uniq_id": 7, "choice_a": "yes", "choice_b": "no", "choice_c": None, "choice_d": None, "answer_gt": "no"}
    assert utils.gold_letter(doc) == "B"
    with pytest.raises(SampleError, match="item 7: answer_gt 'No' equals none of choice_a..choice_d"):
        utils.gold_letter({**doc, "answer_gt": "No"})


def test_chat_target_needs_meta_info() -> None:
    doc = {"answer_gt": "ref", "meta_info": "a dog barks"}
    assert utils.chat_doc_to_target(doc) == "ref"
    with pytest.raises(SampleError, match="no meta_info"):
        utils.chat_doc_to_target({**doc, "meta_info": None})
    with pytest.raises(SampleError, match="no answer_gt"):
        utils.chat_doc_to_target({**doc, "answer_gt": ""})


@needs_flite
def test_foundation_scores_by_hand(mirror: Path, tmp_path: Path) -> None:
    TableModel.answers = air_bench.answer_table()
    results, run_dir = run_evaluator(tmp_path, ["air_bench_foundation"], TableModel())
    res = results["results"]
    speech = res["air_bench_foundation_speech"]
    # speech ids 1-5: official letters B, C, A, B (first char of "Both ..."), none;
    # gold B, A, A, B, D -> right 1, 3, 4; parsed 4 of 5
    assert speech["accuracy,none"] == pytest.approx(3 / 4)  # correct / parsed, as score_foundation.py
    assert speech["accuracy_all,none"] == pytest.approx(3 / 5)
    assert speech["parse_rate,none"] == pytest.approx(4 / 5)
    # shared extractor: B, C, A, none, none -> right 1 and 3; parsed 3 of 5
    assert speech["mcq_accuracy,none"] == pytest.approx(2 / 5)
    assert speech["mcq_parse_rate,none"] == pytest.approx(3 / 5)
    sound = res["air_bench_foundation_sound"]
    # ids 11 ("A." gold A) right, 12 ("C" gold B) wrong: 1/2 by both rules, all parsed
    assert (sound["accuracy,none"], sound["accuracy_all,none"], sound["parse_rate,none"]) == (0.5, 0.5, 1.0)
    music = res["air_bench_foundation_music"]
    # id 21 "(C) piano": official unparsed, extractor C (right); id 22 "A" right
    assert (music["accuracy,none"], music["accuracy_all,none"], music["parse_rate,none"]) == (1.0, 0.5, 0.5)
    assert (music["mcq_accuracy,none"], music["mcq_parse_rate,none"]) == (1.0, 1.0)
    group = res["air_bench_foundation"]
    # weighted by split size (5, 2, 2): accuracy (0.75*5 + 0.5*2 + 1.0*2) / 9 = 6.75 / 9 = 0.75
    assert group["accuracy,none"] == pytest.approx(0.75)
    assert group["accuracy_all,none"] == pytest.approx((3 + 1 + 1) / 9)
    assert group["parse_rate,none"] == pytest.approx((4 + 2 + 1) / 9)
    assert group["mcq_accuracy,none"] == pytest.approx((2 + 1 + 2) / 9)
    assert group["mcq_parse_rate,none"] == pytest.approx((3 + 2 + 2) / 9)
    # report hook: all correct / all parsed = (3 + 1 + 1) / (4 + 2 + 1)
    assert group["accuracy_pooled,report"] == pytest.approx(5 / 7)

    by_uid = {r["doc"]["uniq_id"]: r for r in records(run_dir, "air_bench_foundation_speech").values()}
    # the 2-way item with null C/D shows them as "None", exactly as Inference_Foundation.py does
    assert prompt_text(by_uid[3]).endswith("Is this speech synthesized?\nA. yes\nB. no\nC. None\nD. None")
    assert prompt_text(by_uid[4]).endswith("\nA. no\nB. yes\nC. \nD. ")  # empty strings stay empty
    assert by_uid[4]["target"] == "B"
    assert by_uid[5]["scores"]["accuracy,none"] is None  # unparsed: left out of the official accuracy
    assert by_uid[5]["scores"]["accuracy_all,none"] == 0.0


def official_judge_prompt(meta: str, question: str, first: str, second: str) -> str:
    """The prompt score_chat.py builds, written out from its text (placeholders filled in)."""
    return (
        "You are a helpful and precise assistant for checking the quality of the answer.\n"
        f"[Detailed Audio Description]\n{meta}\n[Question]\n{question}\n"
        f"[The Start of Assistant 1s Answer]\n{first}\n[The End of Assistant 1s Answer]\n"
        f"[The Start of Assistant 2s Answer]\n{second}\n[The End of Assistant 2s Answer]\n[System]\n"
        "We would like to request your feedback on the performance of two AI assistants in response to the user "
        "question and audio description displayed above. AI assistants are provided with detailed audio descriptions "
        "and questions.\nPlease rate the helpfulness, relevance, accuracy, and comprehensiveness of their responses. "
        "Each assistant receives an overall score on a scale of 1 to 10, where a higher score indicates better "
        "overall performance. Please output a single line containing only two values indicating the scores for "
        "Assistant 1 and 2, respectively. The two scores are separated by a space."
    )


@needs_flite
def test_chat_judged_in_both_orders_by_hand(
    openai_server: LocalOpenAIServer,  # noqa: F811
    mirror: Path,
    tmp_path: Path,
) -> None:
    TableModel.answers, TableModel.default = {}, "I hear something."
    results, run_dir = run_evaluator(tmp_path, ["air_bench_chat"], TableModel(), judge=judge_arg(openai_server, "8 6"))
    res = results["results"]
    # The judge always replies "8 6". Order 1 (reference, prediction): the prediction is
    # Assistant 2 -> 6. Order 2 (prediction, reference): the prediction is Assistant 1 -> 8.
    # Each sample: (6 + 8) / 2 = 7; each split's mean 7; the group (plain mean of 4 splits) 7.
    for split in ("speech", "sound", "music", "mixed"):
        assert res[f"air_bench_chat_{split}"]["gpt_score,none"] == pytest.approx(7.0)
    assert res["air_bench_chat"]["gpt_score,none"] == pytest.approx(7.0)
    assert results["judge"]["summary"]["air_bench_chat_speech"]["calls"] == 4  # 2 items x 2 orders

    record = records(run_dir, "air_bench_chat_speech")["0"]
    filt = record["judge"]["filters"]["none"]
    assert filt["verdict"]["prediction_scores"] == [6, 8] and filt["verdict"]["reference_scores"] == [8, 6]
    sent = [call["prompt"][-1]["content"] for call in filt["calls"]]
    meta, question = "A woman says: please close the window.", "What does the speaker ask for?"
    reference, prediction = "The speaker asks someone to close the window.", "I hear something."
    assert sent == [
        official_judge_prompt(meta, question, reference, prediction),
        official_judge_prompt(meta, question, prediction, reference),
    ]
