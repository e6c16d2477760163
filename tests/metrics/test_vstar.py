"""V* Bench: the ``text`` cell parser and the letter metrics (generative and likelihood)."""

from __future__ import annotations

import pytest

from lmms_eval.api.errors import SampleError
from lmms_eval.metrics import vstar

INSTRUCTION = vstar.VSTAR_INSTRUCTION
GLOVE = f"What is the material of the glove?\n(A) rubber\n(B) cotton\n(C) kevlar\n(D) leather\n{INSTRUCTION}"
DOG = (
    "Is the dog on the left or right side of the car?\n(A) The dog is on the left side of the car.\n"
    f"(B) The dog is on the right side of the car.\n{INSTRUCTION}"
)


def test_split_text_cell() -> None:
    assert vstar.split_vstar_text(GLOVE) == (
        "What is the material of the glove?",
        ["rubber", "cotton", "kevlar", "leather"],
    )
    question, options = vstar.split_vstar_text(DOG)
    assert question == "Is the dog on the left or right side of the car?" and len(options) == 2
    # without the instruction line (the upstream per-image JSON shape) it parses the same
    assert vstar.split_vstar_text(GLOVE.rsplit("\n", 1)[0])[1] == ["rubber", "cotton", "kevlar", "leather"]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("What colour?", "no question followed by"),  # no options
        ("(A) red\n(B) blue", "no question followed by"),  # no question
        ("What colour?\n(A) red\n(C) blue", r"not option \(B\)"),  # a letter skipped
        ("What colour?\n(A) red\nsomething else", r"not option \(B\)"),  # a stray line after the options
    ],
)
def test_malformed_cell_is_one_sample_error(text: str, match: str) -> None:
    with pytest.raises(SampleError, match=rf"question_id='7'.*{match}"):
        vstar.split_vstar_text(text, {"question_id": "7"})


# (reply, label, expected vstar_acc, expected parsed) on the glove question (options rubber..leather)
GENERATIVE_TABLE = [
    ("Based on the image, the answer is C.", "C", 1.0, 1.0),  # lmms-eval 0.7: "B" from "Based"
    ("Answer: B", "B", 1.0, 1.0),  # lmms-eval 0.7: "A" from "Answer"
    ("A", "A", 1.0, 1.0),
    ("(D)", "D", 1.0, 1.0),
    ("B. cotton", "B", 1.0, 1.0),
    ("The glove is made of leather.", "D", 1.0, 1.0),  # one option's text
    ("A glove like this is usually leather.", "D", 1.0, 1.0),  # the article "A" is not option A
    ("<think>rubber? no.</think><answer>C</answer>", "C", 1.0, 1.0),  # the answer tag wins
    ("\\boxed{B}", "B", 1.0, 1.0),
    ("D", "A", 0.0, 1.0),  # parsed, wrong
    ("I cannot tell.", "A", 0.0, 0.0),  # no option: unparsed, wrong (no random fallback)
    ("A or B", "A", 0.0, 0.0),  # two options: unparsed
    ("E", "A", 0.0, 0.0),  # not a letter of the 4 options
    ("", "A", 0.0, 0.0),
]


@pytest.mark.parametrize(("reply", "label", "acc", "parsed"), GENERATIVE_TABLE)
def test_generative_letter_accuracy(reply: str, label: str, acc: float, parsed: float) -> None:
    doc = {"question_id": "1", "text": GLOVE}
    assert vstar.vstar_acc(reply, label, doc=doc) == acc
    assert vstar.vstar_parse_rate(reply, label, doc=doc) == parsed
    # the task passes the options as choices: same values
    assert vstar.vstar_acc(reply, label, doc=doc, choices=["rubber", "cotton", "kevlar", "leather"]) == acc


def test_two_option_questions_limit_the_letters() -> None:
    doc = {"question_id": "4", "text": DOG}
    assert vstar.vstar_acc("B", "B", doc=doc) == 1.0
    assert vstar.vstar_parse_rate("C", None, doc=doc) == 0.0  # only A and B exist
    assert vstar.vstar_acc("The dog is on the right side of the car.", "B", doc=doc) == 1.0
    with pytest.raises(SampleError, match="label 'C' is not one of the 2 option letters AB"):
        vstar.vstar_acc("A", "C", doc=doc)


@pytest.mark.parametrize(
    ("response", "label", "expected"),
    [("C", "C", 1.0), ("A", "C", 0.0), (" b ", "B", 1.0), ("", "A", 0.0), ("rubber", "A", 0.0)],
)
def test_likelihood_choice_accuracy(response: str, label: str, expected: float) -> None:
    # the response of a multiple_choice request is the chosen option's letter; nothing else is read
    assert vstar.vstar_choice_acc(response, label, doc={"question_id": "1", "text": GLOVE}) == expected
