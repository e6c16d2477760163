"""extract_choice: formats it reads, its documented priority order, and what it refuses."""

from __future__ import annotations

import pytest

from lmms_eval.metrics.extract import extract_choice, extract_yes_no, gold_letter, last_boxed

FRUIT = ["pear", "banana", "cherry", "date"]
COLOURS = ["red", "dark red", "blue", "green"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(B)", "B"),
        ("B.", "B"),
        ("B)", "B"),
        ("B", "B"),
        ("b", "B"),
        ("[C]", "C"),
        ("B: banana", "B"),
        ("(B) banana, as (B) says", "B"),
        ("C\n\nExplanation: A cherry is red.", "C"),
        ("Answer: B", "B"),
        ("Answer:B", "B"),
        ("The answer is B", "B"),
        ("The answer is B because bananas are yellow.", "B"),
        ("the correct option is (b)", "B"),
        ("The final answer is: **C**", "C"),
        ("Option D", "D"),
        ("答案：C", "C"),
        ("<answer>B</answer>", "B"),
        ("<answer>(c) cherry</answer>", "C"),
        ("\\boxed{D}", "D"),
        ("\\boxed{\\text{A}}", "A"),
        ("banana", "B"),
        ("Banana.", "B"),
        ("I think it is the cherry.", "C"),
        ("The answer: cherry", "C"),
        ("I think (C) is right", "C"),
        ("I pick C", "C"),
        ("A is correct", "A"),
    ],
)
def test_formats(text: str, expected: str) -> None:
    assert extract_choice(text, FRUIT) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "I don't know",
        "Apple",  # "A" inside a word
        "A cat sat on the mat",  # the article
        "Bananas are yellow",  # option text only inside a longer word
        "E",  # not one of the 4 options
        "The answer is E",
        "A or B",  # two options named
        "(A) is wrong and (C) is wrong",  # a leading marker with another bracketed option
        "(A) or (B)?",
        "either banana or cherry",  # two option texts
        "the answer is a fruit",  # "a" the article after the cue
        "\\boxed{",  # truncated box
        "EXCELLENT QUESTION",  # capitals inside words
    ],
)
def test_unparsed_is_none(text: str) -> None:
    assert extract_choice(text, FRUIT) is None


def test_priority_answer_tag_beats_statement() -> None:
    assert extract_choice("The answer is A. <answer>B</answer>", FRUIT) == "B"


def test_priority_boxed_beats_statement() -> None:
    assert extract_choice("The answer is A. Finally \\boxed{C}", FRUIT) == "C"


def test_priority_answer_tag_beats_boxed() -> None:
    assert extract_choice("\\boxed{C} <answer>D</answer>", FRUIT) == "D"


def test_unreadable_tag_falls_through_to_text() -> None:
    assert extract_choice("<answer>hmm</answer> The answer is B", FRUIT) == "B"


def test_priority_last_statement_wins() -> None:
    assert extract_choice("The answer is A. Wait, no: the answer is (C).", FRUIT) == "C"


def test_priority_statement_beats_leading_marker() -> None:
    assert extract_choice("A. Let me reconsider. The answer is B", FRUIT) == "B"


def test_priority_leading_marker_beats_option_text() -> None:
    assert extract_choice("B) cherry", FRUIT) == "B"


def test_priority_option_text_beats_bracketed_letter() -> None:
    assert extract_choice("It is the cherry, not the one in (B)", FRUIT) == "C"


def test_priority_bracketed_beats_standalone() -> None:
    assert extract_choice("I think (C) is right, although D was tempting", FRUIT) == "C"


def test_article_sentence_gives_way_to_a_letter() -> None:
    assert extract_choice("A cat is on the mat, so C", FRUIT) == "C"
    assert extract_choice("A cat is on the mat, so the answer is (C)", FRUIT) == "C"


def test_option_text_statement_beats_letter_reading() -> None:
    options = ["a dog", "a bird", "A cat", "a cow"]
    assert extract_choice("Answer: A cat", options) == "C"


def test_longer_option_text_wins_over_its_part() -> None:
    assert extract_choice("The colour is dark red.", COLOURS) == "B"
    assert extract_choice("The colour is red.", COLOURS) == "A"
    assert extract_choice("red or blue", COLOURS) is None


def test_without_choices_letters_limit_the_answers() -> None:
    assert extract_choice("I choose C", None, "ABCD") == "C"
    assert extract_choice("I choose F", None, "ABCD") is None
    assert extract_choice("I choose F", None) == "F"  # default letters A-Z


def test_choices_limit_letters() -> None:
    assert extract_choice("C", ["x", "y"]) is None
    assert extract_choice("B", ["x", "y"]) == "B"


def test_non_alphabetic_letters_rejected() -> None:
    with pytest.raises(ValueError):
        extract_choice("1", None, "1234")


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("B", "B"),
        ("(b)", "B"),
        ("c.", "C"),
        (1, "B"),
        ("banana", "B"),
        (" Cherry ", "C"),
        (["D"], "D"),
        ("kiwi", None),
        (7, None),
        (None, None),
        ("E", None),
    ],
)
def test_gold_letter(reference: object, expected: str | None) -> None:
    assert gold_letter(reference, FRUIT) == expected


def test_gold_letter_prefers_option_text() -> None:
    # Options that are themselves letters: the reference is read as option text first.
    assert gold_letter("A", ["B", "A"]) == "B"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x \\boxed{\\frac{1}{2}} and \\boxed{3}", "3"),
        ("\\boxed{a{b}c}", "a{b}c"),
        ("\\boxed{\\{1, 2\\}}", "\\{1, 2\\}"),
        ("\\fbox{7}", "7"),
        ("\\boxed 5$", "5"),
        ("\\boxed{ab", None),
        ("no box", None),
    ],
)
def test_last_boxed(text: str, expected: str | None) -> None:
    assert last_boxed(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Yes", "yes"),
        ("No.", "no"),
        ("  yes, it is", "yes"),
        ("There is no dog.", "no"),
        ("The answer is yes.", "yes"),
        ("yes and no", "yes"),
        ("maybe yes maybe no", None),
        ("Nope", None),
        ("Yesterday", None),
        ("", None),
        ("**No**", "no"),
    ],
)
def test_yes_no(text: str, expected: str | None) -> None:
    assert extract_yes_no(text) == expected
