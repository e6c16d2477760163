"""MMMU's official rule (MMMU-Benchmark/MMMU @ bb0b95a, mmmu/utils/eval_utils.py), case by case;
expected values worked by hand from the official code and its README (mmmu/README.md)."""

from __future__ import annotations

from typing import Any

import pytest

from lmms_eval.api.errors import SampleError
from lmms_eval.metrics import mmmu
from lmms_eval.metrics.extract import extract_choice

OPTIONS4 = ["cat", "dog", "bird", "fish"]
FRENCH = ["The American Revolution", "The French Revolution", "The Russian Revolution"]

# (response, options, official letter, extract_choice letter)
MULTI_CHOICE_TABLE: list[tuple[str, list[str], str | None, str | None]] = [
    ("B", OPTIONS4, "B", "B"),
    ("(B)", OPTIONS4, "B", "B"),
    ("B.", OPTIONS4, "B", "B"),  # "." stripped from the ends
    ("The answer is (C).", OPTIONS4, "C", "C"),
    ("Answer: B", OPTIONS4, "B", "B"),  # " B " stands alone
    # several candidates: the LAST one ("last candidate" rule); extract_choice reads the statement
    ("(A) is wrong, the answer is (B)", OPTIONS4, "B", "B"),
    ("(B) or maybe (A)", OPTIONS4, "A", None),  # last bracket wins; extract_choice sees two: none
    ("Between A and C, C", OPTIONS4, "C", None),  # " C " last (rfind); extract_choice: two letters
    ("A or B", OPTIONS4, "B", None),
    # brackets beat bare letters: "(C)" is the only bracketed candidate
    ("A looks fine but (C)", OPTIONS4, "C", "C"),
    # letters outside the options do not count (4 options: A-D)
    ("E", OPTIONS4, None, None),
    # what the official parser misses and extract_choice reads
    ("Answer:C", OPTIONS4, None, "C"),  # ":C" is not " C "
    ("**B**", OPTIONS4, None, "B"),  # "*" is not stripped
    ("\\boxed{D}", OPTIONS4, None, "D"),
    ("<answer>D</answer>", OPTIONS4, None, "D"),  # the raw reasoning reply: no " D "
    # what extract_choice misses and the official parser reads
    ("'D'", OPTIONS4, "D", None),  # "'" is stripped from the ends
    # whitespace is not stripped: "B\n" padded is " B\n ", no " B "
    ("B\n", OPTIONS4, None, "B"),
    # option text, only when the response has more than 5 words
    ("The painting shows the French Revolution clearly", FRENCH, "B", "B"),
    ("the French Revolution", FRENCH, None, "B"),  # 3 words: no text matching in the official rule
    # two option texts: the one occurring last ("french" ends later than "american")
    ("Not the American Revolution but the French Revolution", FRENCH, "B", None),
    ("I do not know the answer here", OPTIONS4, None, None),  # no candidate: None, not random
    ("", OPTIONS4, None, None),
]


@pytest.mark.parametrize(("response", "options", "official", "lenient"), MULTI_CHOICE_TABLE)
def test_multi_choice_parser(response: str, options: list[str], official: str | None, lenient: str | None) -> None:
    assert mmmu.parse_multi_choice(response, options) == official
    assert extract_choice(response, options) == lenient


def test_first_candidate_wins_a_tie() -> None:
    # "cat" and "category" both occur; rfind("cat") lands inside "category" (later) -> option A's
    # marker is the later one: A. With options in the other order the same positions give "cat".
    assert mmmu.parse_multi_choice("I would go with the category of answers", ["cat", "category"]) == "A"


# (response, normalised predictions as a set): parse_open_response
OPEN_PARSE_TABLE: list[tuple[str, set[Any]]] = [
    ("36 watts", {"36 watts", 36.0}),  # README example: no cue, the whole text and its number
    ("The answer is -120.", {-120.0}),  # "is " -> "-120" (shortest tail), a number
    ("So the phase is -120 degrees", {"-120 degrees", -120.0}),
    ("1,000", {1000.0, 0.0}),  # a number once commas are dropped; "000" is also a plain number
    # comma-grouped, then plain numbers: "000" after the last comma is a plain number too
    ("7,243,000 dollars", {"7,243,000 dollars", 7243000.0, 0.0}),
    # scientific: "1.5e3"; the plain pattern still finds "1" and "3" in it
    ("1.5e3", {1500.0, 1.0, 3.0}),
    ("x is 1.5e3 m", {"1.5e3 m", 1500.0, 1.0, 3.0}),
    # the last line accepts "=": "final " -> "result = 2.83 v", "result " -> "= 2.83 v", "=" -> "2.83 v"
    ("The final result = 2.83 V", {"2.83 v", 2.83}),
    # every line gives a key: "so " -> "x = 5" ("=" only counts on the last line), "is " -> "8"
    ("Step 1: compute.\nSo x = 5\nThus the answer is 8", {"x = 5", 5.0, 8.0}),
    ("C", {" c", "c "}),  # one character: padded both ways
    ("9.20", {9.2}),  # rounded to 2 decimals
    ("0.9965", {1.0}),  # round(0.9965, 2) == 1.0
    ("", {""}),
]


@pytest.mark.parametrize(("response", "expected"), OPEN_PARSE_TABLE)
def test_open_parser(response: str, expected: set[Any]) -> None:
    assert set(mmmu.parse_open(response)) == expected


# (response, reference, correct): parse_open_response + eval_open
OPEN_EVAL_TABLE: list[tuple[str, Any, bool]] = [
    ("36 watts", "30", False),  # README example (validation_Electronics_29)
    ("30 watts", "30", True),
    ("The answer is -120.", "-120", True),
    ("141", "-141", False),  # the sign matters
    ("1,000", "1000", True),
    ("7,243,000 dollars", "7243000", True),
    ("The final result = 2.83 V", "2.83", True),
    ("9.2", "9.20", True),  # both 9.2
    ("1", "0.9965", True),  # 1.0 == round(0.9965, 2)
    ("0.99", "0.9965", False),
    ("It is transformation.", "Transformation", True),  # reference text inside the prediction
    ("The answer is C", "C", True),  # "is " -> "c" -> [" c", "c "]; reference " c" in " c"
    ("c is the answer", "C", False),  # "is " -> "the answer": " c" is not in it
    ("Florida", ["Tampa", "Florida"], True),  # a list reference: any of them
    ("Miami", ["Tampa", "Florida"], False),
    ("The answer is 3.429", "['24/7', '3.429']", True),  # a list literal cell is read as a list
    ("24/7", "['24/7', '3.429']", True),
    ("", "5", False),
]


@pytest.mark.parametrize(("response", "reference", "expected"), OPEN_EVAL_TABLE)
def test_open_answers(response: str, reference: Any, expected: bool) -> None:
    doc = {"id": "validation_Math_1", "question_type": "open", "options": "[]", "answer": reference}
    assert mmmu.mmmu_acc(response, reference, doc=doc) == float(expected)
    assert mmmu.mmmu_acc_lenient(response, reference, doc=doc) == float(expected)  # open: official


def test_multi_choice_scores_and_parse_rate() -> None:
    doc = {"id": "validation_Art_1", "question_type": "multiple-choice", "options": str(OPTIONS4), "answer": "C"}
    assert mmmu.mmmu_acc("(C)", "C", doc=doc) == 1.0
    assert mmmu.mmmu_acc("(B)", "C", doc=doc) == 0.0
    assert mmmu.mmmu_acc("Answer:C", "C", doc=doc) == 0.0  # unparsed: wrong, never a random letter
    assert mmmu.mmmu_acc_lenient("Answer:C", "C", doc=doc) == 1.0
    assert mmmu.mmmu_parse_rate("Answer:C", doc=doc) == 0.0
    assert mmmu.mmmu_parse_rate("(B)", doc=doc) == 1.0
    assert mmmu.eval_multi_choice(["A", "C"], "C") and not mmmu.eval_multi_choice("C", None)
    open_doc = {"id": "validation_Math_2", "question_type": "open", "options": "[]", "answer": "5"}
    assert mmmu.mmmu_parse_rate("anything", doc=open_doc) == 1.0
    assert mmmu.mmmu_parse_rate("  ", doc=open_doc) == 0.0


def test_options_cell_and_reference() -> None:
    assert mmmu.parse_options({"options": "['$1', \"it's\", '<image 1>']"}) == ["$1", "it's", "<image 1>"]
    with pytest.raises(SampleError, match="'v_X_1'.*not a Python list literal"):
        mmmu.parse_options({"id": "v_X_1", "options": "[unclosed"})
    with pytest.raises(SampleError, match="no question_type"):
        mmmu.mmmu_acc("A", "A", doc={"id": "v_X_2", "options": "[]"})
    assert mmmu.parse_reference("['Tampa', 'Florida']") == ["Tampa", "Florida"]
    assert mmmu.parse_reference("[1, 2]") == ["1", "2"]
    assert mmmu.parse_reference("[x]") == "[x]"  # not a literal: the text itself
    assert mmmu.parse_reference("B") == "B"


def test_subjects_and_disciplines() -> None:
    assert mmmu.subject_of("validation_Art_Theory_12") == "Art_Theory"
    assert mmmu.subject_of("test_Diagnostics_and_Laboratory_Medicine_3") == "Diagnostics_and_Laboratory_Medicine"
    assert mmmu.SUBJECT_DISCIPLINE["Manage"] == "Business"
    assert mmmu.SUBJECT_DISCIPLINE["Geography"] == "Science"
    assert len(mmmu.SUBJECT_DISCIPLINE) == 30  # 30 subjects, each in one of 6 disciplines
    assert len(mmmu.DISCIPLINE_SUBJECTS) == 6
    with pytest.raises(SampleError, match="not '<split>_<Subject>_<n>'"):
        mmmu.subject_of("bad")
