"""MMBench on a hub-shaped fixture: the VLMEvalKit prompt, the official rule matching, CircularEval
over the rotation rows (a question right in 3 of 4 rotations scores 0), the judge fallback with
the official choice-extraction prompt against a real local judge (cached, failures counted), the
rule-only metric, category breakdowns, the reasoning variant and the prediction files."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest
from servers import LocalOpenAIServer, openai_server  # noqa: F401

from hub import common, mmbench
from hub.common import fixture_mirror, judge_arg, records, run_evaluator
from lmms_eval.api.errors import SampleError
from lmms_eval.metrics.mmbench import can_infer, circular_accuracy
from lmms_eval.tasks.mmbench import utils
from lmms_eval.tasks.variants import REASONING_INSTRUCTION as REASONING

EN, CN = "mmbench_en_dev", "mmbench_cn_dev"
INSTRUCTION = "Please select the correct answer from the options above. \n"


class TableModel(common.TableModel):
    """Answers each document from ``mmbench.ANSWERS`` keyed by (task, index)."""

    answers = mmbench.ANSWERS


mirror = fixture_mirror(mmbench.build)

ABCD = {"A": "teddy bear", "B": "rabbit", "C": "cat", "D": "dog"}
# (response, choices, what VLMEvalKit's can_infer returns; None for False) worked out by hand
MATCH_TABLE = [
    ("A", ABCD, "A"),
    ("(B)", ABCD, "B"),
    ("**C**", ABCD, "C"),  # '*' is a separator
    ("The answer is D.", ABCD, "D"),
    ("A and B", ABCD, None),  # two letters; text: "cat" is not in "a and b"
    ("B is right, because the others are wrong here", ABCD, None),  # B is the 1st of 9 tokens: too early
    ("B is correct.", ABCD, "B"),  # 1st of 3 tokens: within the last four
    ("Z", ABCD, "Z"),
    ("Cannot determine the answer", ABCD, "Z"),  # a refusal phrase
    ("Failed to obtain answer via API", ABCD, None),
    ("The correct answer is **B** because ...", ABCD, "B"),
    ("A or maybe the answer is C", ABCD, "C"),  # two letters, then the "answer is" pattern
    ("the answer is apple", {"A": "x", "B": "y"}, "A"),  # the pattern has no word boundary: the quirk
    ("I think it is a cute dog", ABCD, "D"),  # text: only "dog" occurs
    ("cat or dog", ABCD, None),  # text: two options occur
    ("a very long answer that mentions a dog among many other words", ABCD, None),  # too long for text
    ("", ABCD, None),
]


@pytest.mark.parametrize(("response", "choices", "expected"), MATCH_TABLE)
def test_official_matching_table(response: str, choices: dict[str, str], expected: str | None) -> None:
    assert can_infer(response, choices) == expected


def test_rotations_are_the_official_circular_shifts() -> None:
    # vlmeval/tools.py CIRCULAR: rotation 1 of A..D maps A->D, B->A, C->B, D->C (deque.rotate(1)):
    # the new option B is the old A, so the answer A becomes D, and so on
    assert mmbench.rotate(["a", "b", "c", "d"], "A", 1) == (["b", "c", "d", "a"], "D")
    assert mmbench.rotate(["a", "b", "c", "d"], "A", 2) == (["c", "d", "a", "b"], "C")
    assert mmbench.rotate(["a", "b", "c", None], "C", 1) == (["b", "c", "a", None], "B")
    rows = mmbench.en_dev_rows()
    q1 = [r for r in rows if int(r["index"]) % 1_000_000 == 1]
    assert [r["index"] for r in q1] == [1, 1000001, 2000001, 3000001]
    assert [r["answer"] for r in q1] == ["A", "D", "C", "B"]
    assert all(r[r["answer"]] == "Oil painting" for r in q1)  # the answer's text never changes


def test_three_of_four_rotations_score_zero() -> None:
    row = {"group": 7, "main": True, "rotations": 4, "correct": 1}
    right = [row, {**row, "main": False}, {**row, "main": False}]
    assert circular_accuracy([*right, {**row, "main": False}]) == 1.0
    assert circular_accuracy([*right, {**row, "main": False, "correct": 0}]) == 0.0
    # one rotation missing (a judge error): undecided when the others are right, left out
    other = {"group": 8, "main": True, "rotations": 1, "correct": 1}
    assert circular_accuracy([*right, other]) == 1.0  # group 7 undecided (3 of 4 scored), group 8 right
    # a group without its main row is not scored (mcq_circular_eval scores the main rows' groups)
    assert math.isnan(circular_accuracy([{**row, "main": False}] * 4))


def test_prompt_is_vlmevalkits() -> None:
    doc = {"question": "Q?", "hint": "H", "A": "x", "B": "y", "C": "nan", "D": None}
    assert utils.doc_to_text(doc, {"pre_prompt": "", "post_prompt": None}) == (
        "Hint: H\nQuestion: Q?\nOptions:\nA. x\nB. y\n" + INSTRUCTION
    )
    assert utils.doc_to_text({**doc, "hint": None}, {}) == "Question: Q?\nOptions:\nA. x\nB. y\n" + INSTRUCTION
    assert utils.doc_to_text({**doc, "hint": "nan"}, {"post_prompt": REASONING}) == (
        "Question: Q?\nOptions:\nA. x\nB. y\n" + REASONING
    )


def test_rotation_counts_per_group() -> None:
    assert utils.rotation_counts(["1", "1000001", "2", "2000002", "1000002", "3"]) == [2, 2, 3, 3, 3, 1]
    rows = utils.process_docs([{"index": 5}, {"index": 1000005}])
    assert [r["mmbench_rotations"] for r in rows] == [2, 2]


def test_bad_answer_letter_is_the_samples_error() -> None:
    from lmms_eval.metrics.mmbench import mmbench_acc_rule

    with pytest.raises(SampleError, match="not one of A-D"):
        mmbench_acc_rule("A", "AB", doc={"index": 1, "A": "x", "B": "y"})


def test_rule_only_scores_by_hand(mirror: Path, tmp_path: Path) -> None:
    results, run_dir = run_evaluator(tmp_path, [EN, CN], TableModel())
    en = results["results"][EN]
    # Q1 right in all 4 rotations; Q2 right in 3 of 4 -> 0; Q3 right by option text (2 of 2);
    # Q4 third rotation unmatched -> wrong without the judge; Q5 second rotation unmatched
    # (<think>...<answer>A</answer> has no standalone letter) -> 2 of 5 questions
    assert en["mmbench_acc_rule,none"] == pytest.approx(2 / 5)
    assert en["mmbench_parse_rate,none"] == pytest.approx(13 / 15)  # rows: all but Q4 r2 and Q5 r1
    assert "mmbench_acc,none" not in en  # the judge metric needs --judge
    assert en["mmbench_acc_rule,none,category=image_style"] == pytest.approx(1 / 2)  # Q1 right, Q2 wrong
    assert en["mmbench_acc_rule,none,category=ocr"] == pytest.approx(1.0)
    assert en["mmbench_acc_rule,none,category=future_prediction"] == pytest.approx(0.0)
    assert en["mmbench_acc_rule,none,l2_category=coarse_perception"] == pytest.approx(1 / 2)
    assert en["mmbench_parse_rate,none,l2_category=logic_reasoning"] == pytest.approx(3 / 5)
    assert en["breakdown_n"]["category"] == {"future_prediction": 5, "image_style": 8, "ocr": 2}
    cn = results["results"][CN]
    assert cn["mmbench_acc_rule,none"] == pytest.approx(1 / 2)  # Q10's second rotation unmatched
    assert cn["mmbench_parse_rate,none"] == pytest.approx(5 / 6)

    # the prompt: image first, then VLMEvalKit's text with the hint and the rotated options
    request = TableModel.requests[f"{EN}:2000004"]
    assert [p.type for p in request.messages[0].content] == ["image", "text"]
    assert request.prompt_text() == (
        "Hint: The ball is dropped.\nQuestion: What will happen next?\nOptions:\n"
        "A. The ball stays\nB. The ball falls\nC. The ball rises\n" + INSTRUCTION
    )
    assert TableModel.prompts[f"{EN}:3"].endswith("Options:\nA. STOP\nB. GO\n" + INSTRUCTION)  # "nan", null left out
    assert request.params.max_new_tokens == 1024
    logged = records(run_dir, EN)["3000002"]
    assert logged["target"] == "C" and logged["scores"]["mmbench_acc_rule,none"]["correct"] == 0

    # the dev prediction file: every rotation, the README's fields
    tsv = (run_dir / "submissions" / "mmbench_en_dev_predictions.tsv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(tsv), delimiter="\t"))
    assert len(rows) == 15 and list(rows[0]) == list(utils.SUBMISSION_COLUMNS)
    by_index = {r["index"]: r for r in rows}
    assert by_index["1000001"]["prediction"] == "The answer is D."
    assert (by_index["3"]["C"], by_index["3"]["D"], by_index["3"]["l2_category"]) == ("", "", OCR_L2)


OCR_L2 = "finegrained_perception (instance-level)"


def test_reasoning_variant(mirror: Path, tmp_path: Path) -> None:
    res = run_evaluator(tmp_path, [EN], TableModel(), prompt_variant="reasoning")[0]["results"][EN]
    # <think> removed and <answer> taken: Q5 reads B then A -> right; 3 of 5 questions
    assert res["mmbench_acc_rule,none"] == pytest.approx(3 / 5)
    assert res["mmbench_parse_rate,none"] == pytest.approx(14 / 15)  # only Q4's third rotation unmatched
    request = TableModel.requests[f"{EN}:5"]
    assert request.prompt_text().endswith("A. cat\nB. car\n" + REASONING)
    assert request.params.max_new_tokens == 4096


def official_prompt_en(question: str, options: str, prediction: str) -> str:
    """VLMEvalKit build_prompt, written out from its text."""
    return (
        "You are an AI assistant who will help me to match an answer with several options of a single-choice "
        "question. You are provided with a question, several options, and an answer, and you need to find which "
        "option is most similar to the answer. If the meaning of all options are significantly different from the "
        "answer, output Z. Your should output a single uppercase character in A, B, C, D (if they are valid "
        "options), and Z. \nExample 1: \nQuestion: What is the main object in image?\nOptions: A. teddy bear "
        "B. rabbit C. cat D. dog\nAnswer: a cute teddy bear\nYour output: A\nExample 2: \nQuestion: What is the "
        "main object in image?\nOptions: A. teddy bear B. rabbit C. cat D. dog\nAnswer: Spider\nYour output: Z\n"
        f"Example 3: \nQuestion: {question}?\nOptions: {options}\nAnswer: {prediction}\nYour output: "
    )


def judge_prompts(run_dir: Path, task: str, index: str) -> list[str]:
    entry = records(run_dir, task)[index]["judge"]["filters"]["none"]
    return [call["prompt"][-1]["content"] for call in entry["calls"]]


def test_judge_fallback_by_hand(
    openai_server: LocalOpenAIServer,  # noqa: F811
    mirror: Path,
    tmp_path: Path,
) -> None:
    judge = judge_arg(openai_server, "B")
    results, run_dir = run_evaluator(tmp_path, [EN, CN], TableModel(), judge=judge)
    en = results["results"][EN]
    # the judge answers "B" for the two unmatched rows: Q4 rotation 2 (answer B) -> right, so Q4
    # counts; Q5 rotation 1 (answer A) -> wrong. Q1, Q3, Q4 right -> 3 of 5
    assert en["mmbench_acc,none"] == pytest.approx(3 / 5)
    assert en["mmbench_acc_rule,none"] == pytest.approx(2 / 5)  # the rule-only metric is unchanged
    assert en["mmbench_acc,none,category=future_prediction"] == pytest.approx(1 / 2)
    assert en["n_errors"] == 0
    summary = results["judge"]["summary"]
    assert (summary[EN]["decided_by_judge"], summary[EN]["decided_by_rule"], summary[EN]["calls"]) == (2, 13, 2)
    assert results["results"][CN]["mmbench_acc,none"] == pytest.approx(1.0)  # Q10 rotation 1: "B" is right
    assert summary[CN]["calls"] == 1

    options = "There are several options: \nA. The ball stays\nB. The ball falls\nC. The ball rises\n"
    assert judge_prompts(run_dir, EN, "2000004") == [
        official_prompt_en("What will happen next?", options, "I am not sure about this one")
    ]  # "Question: {}?" adds its own "?": "next??", as the official prompt reads
    (cn_prompt,) = judge_prompts(run_dir, CN, "1000010")
    assert cn_prompt.startswith("你是一个帮助我匹配答案与单选题中多个选项的 AI 助手。")  # build_prompt_cn
    assert cn_prompt.endswith(
        "例 3: \n问题: 图中的动物是什么?\n选项: There are several options: \nA. 狗\nB. 猫\n\n答案: 我不确定\n输出: "
    )
    assert records(run_dir, EN)["1"]["judge"]["filters"]["none"]["stage"] == "rule"

    # judged again from the logs: every reply comes from the cache
    from lmms_eval.engine.rescore import rescore_run

    rescored = rescore_run(str(run_dir), judge=judge)
    assert rescored.exit_code == 0
    again = rescored.results["judge"]["summary"][EN]
    assert (again["calls"], again["cached_calls"]) == (0, 2)
    assert rescored.results["results"][EN]["mmbench_acc,none"] == pytest.approx(3 / 5)


def test_judge_reply_without_a_letter_is_a_counted_error(
    openai_server: LocalOpenAIServer,  # noqa: F811
    mirror: Path,
    tmp_path: Path,
) -> None:
    judge = judge_arg(openai_server, "maybe")
    results, run_dir = run_evaluator(tmp_path, [EN], TableModel(), judge=judge, max_error_rate=1.0)
    en = results["results"][EN]
    # the official rule reads nothing from "maybe": both judged rows are judge errors
    # (VLMEvalKit would pick a random letter). Q4 and Q5 then miss a rotation while their other
    # rotations are right: undecided, left out. Q1, Q3 right, Q2 wrong -> 2 of 3
    assert en["n_errors"] == 2
    assert en["mmbench_acc,none"] == pytest.approx(2 / 3)
    assert results["judge"]["summary"][EN]["judge_errors"] == 2
    record = records(run_dir, EN)["2000004"]
    assert record["status"] == "judge_error" and "reads no option letter" in record["error"]


def test_test_split_writes_the_prediction_file(mirror: Path, tmp_path: Path) -> None:
    results, run_dir = run_evaluator(tmp_path, ["mmbench_en_test", "mmbench_cn_test"], TableModel())
    test = results["results"]["mmbench_en_test"]
    # "B" matched; "Summer\tor spring" names two options; "no idea" nothing -> 1 of 3
    assert test["mmbench_parse_rate,none"] == pytest.approx(1 / 3)
    assert "mmbench_acc_rule,none" not in test
    tsv = (run_dir / "submissions" / "mmbench_en_test_predictions.tsv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(tsv), delimiter="\t"))
    assert [r["index"] for r in rows] == ["20", "1000020", "2000020"]
    assert rows[1]["prediction"] == "Summer\tor spring"  # quoted, read back intact
    assert (rows[1]["A"], rows[1]["B"], rows[1]["C"], rows[1]["D"]) == ("Summer", "Winter", "Spring", "")
    assert results["results"]["mmbench_cn_test"]["mmbench_parse_rate,none"] == pytest.approx(1.0)
    assert json.dumps(results["submissions"])  # both files listed
    assert set(results["submissions"]) == {"mmbench_en_test", "mmbench_cn_test"}


def test_fixture_has_the_hub_schema(mirror: Path) -> None:
    import datasets

    en = datasets.load_dataset(str(mirror / mmbench.REPO_ID), "en", split="dev")
    assert en.features == mmbench.features("string")
    assert en.features["index"].dtype == "string" and len(en) == 15
    cn = datasets.load_dataset(str(mirror / mmbench.REPO_ID), "cn", split="dev")
    assert cn.features["index"].dtype == "int64" and cn.features["image"] == datasets.Image()


def test_judge_reply_without_a_letter_raises_a_verdict_error() -> None:
    from lmms_eval.judge.parsing import VerdictError
    from lmms_eval.metrics.mmbench import mmbench_judge_match

    doc = {"index": 4, "A": "The ball falls", "B": "The ball rises", "C": "The ball stays", "D": None}
    assert mmbench_judge_match("C", "A", doc=doc)["correct"] == 0
    with pytest.raises(VerdictError, match="reads no option letter"):
        mmbench_judge_match("maybe", "A", doc=doc)
