"""MME-RealWorld's official extraction (yfzhang114/MME-RealWorld @ 11af66f,
evaluation/eval_your_results.py ``extract_characters_regex``), case by case; expected letters
worked by hand from the official code."""

from __future__ import annotations

import pytest

from lmms_eval.api.errors import SampleError
from lmms_eval.metrics import mme_realworld as mrw
from lmms_eval.tasks.mme_realworld import utils

OPTIONS = [
    "(A) The red car",
    "(B) The blue truck",
    "(C) 456",
    "(D) 455",
    "(E) The image does not feature the object.",
]

# (reply, official letter; None = unparsed)
EXTRACT_TABLE: list[tuple[str, str | None]] = [
    ("D", "D"),
    ("(C)", "C"),
    ("The best answer is B", "B"),  # prefix deleted, then the first capital A-E
    ("The best answer is: E", "E"),
    ("The correct answer is (D) 455", "D"),
    ("The answer is A.", "A"),
    ("Based on the image, C", "B"),  # the B of "Based": the official rule reads letters inside words
    ("Certainly! The answer is A", "C"),  # the C of "Certainly"
    ("The best option is C", "C"),  # "The best option is" is not removed (joined string); "The" has no A-E
    ("the answer is c", None),  # no capital A-E; not inside any option's text
    ("red car", "A"),  # no capital A-E: the first option containing the reply
    ("blue truck", "B"),  # lower-cased substring of option (B)
    ("blue TRUCK", "C"),  # the C of "TRUCK" comes first: capitals are read before option texts
    ("45", "C"),  # "45" is inside "(C) 456" (first in order), also inside "(D) 455"
    ("feature", "E"),
    ("one two three four five six seven eight nine ten eleven", None),  # > 10 words, no capital A-E
    ("one two three four five six seven eight nine ten eleven E", "E"),  # > 10 words but an E
    ("none of these", None),
    ("", None),  # empty: unparsed here (the script reads option A: "" is in every option)
    ("   ", None),
    ("The answer", None),  # empty after the prefix is deleted
    ("<think>Bars: A is low, C is highest.</think><answer>C</answer>", "B"),  # raw text: the B of "Bars"
    ("<answer>C</answer>", "C"),
]


@pytest.mark.parametrize(("reply", "expected"), EXTRACT_TABLE)
def test_official_extraction(reply: str, expected: str | None) -> None:
    assert mrw.extract_mme_realworld_letter(reply, OPTIONS) == expected


# (reply, answer, acc, parsed, lenient)
ACC_TABLE = [
    ("D", "D", 1.0, 1.0, 1.0),
    ("Based on the image, C", "C", 0.0, 1.0, 1.0),  # official B; lenient reads the standalone C
    ("red car", "A", 1.0, 1.0, 0.0),  # lenient: "red car" is not a whole option text
    ("The red car", "A", 1.0, 1.0, 1.0),
    ("", "A", 0.0, 0.0, 0.0),
    ("D", "d", 1.0, 1.0, 1.0),  # the answer letter is compared upper-cased
]


@pytest.mark.parametrize(("reply", "answer", "acc", "parsed", "lenient"), ACC_TABLE)
def test_accuracy_parse_rate_lenient(reply: str, answer: str, acc: float, parsed: float, lenient: float) -> None:
    doc = {"index": 1, "multi-choice options": OPTIONS}
    assert mrw.mme_realworld_acc(reply, answer, doc=doc) == acc
    assert mrw.mme_realworld_parse_rate(reply, answer, doc=doc) == parsed
    assert mrw.mme_realworld_acc_lenient(reply, answer, doc=doc) == lenient


def test_bad_rows_are_sample_errors() -> None:
    with pytest.raises(SampleError, match="index=2.*answer 'F' is not a letter A-E"):
        mrw.mme_realworld_acc("A", "F", doc={"index": 2, "multi-choice options": OPTIONS})
    with pytest.raises(SampleError, match="index=3.*'multi-choice options' is '.A. x'"):
        mrw.mme_realworld_acc("A", "A", doc={"index": 3, "multi-choice options": "(A) x"})


def test_option_letters_and_texts() -> None:
    assert mrw.option_letter("(C) 456", 0) == "C"
    assert mrw.option_letter("456", 2) == "C"  # no prefix: its position
    assert mrw.option_text("(A) The red car") == "The red car"


@pytest.mark.parametrize(
    ("category", "l2", "expected"),
    [
        ("Perception/Monitoring", "Person/attribute/color", "Perception/Monitoring/person/attribute"),
        ("Perception/Monitoring", "Vehicle/counting", "Perception/Monitoring/vehicle/counting"),
        ("Perception/Autonomous_Driving", "Objects_Identify", "Perception/Autonomous_Driving/objects_identify"),
        ("Reasoning/Diagram and Table", "diagram", "Reasoning/Diagram and Table/diagram"),
    ],
)
def test_fine_category_groups_as_the_official_script(category: str, l2: str, expected: str) -> None:
    doc = {"category": category, "l2-category": l2}
    assert utils.fine_category(doc) == expected
    assert utils.task_type(doc) == category.split("/")[0]
