"""Tool-result text (MMSearch-R1 and ReAct) and token-budget truncation."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from lmms_eval.tools.formatting import (
    AFTER_IMAGE_SEARCH_PROMPT,
    AFTER_TEXT_SEARCH_PROMPT,
    IMAGE_RESULTS_HEADER,
    IMAGE_SEARCH_ERROR,
    TEXT_RESULTS_HEADER,
    TEXT_SEARCH_ERROR,
    count_words,
    format_search_results,
    next_turn_message,
    react_observation,
)


@dataclass
class Hit:  # the shape of lmms_eval.tools.base.SearchHit, without importing it
    title: str
    url: str = ""
    snippet: str = ""
    image: bytes | str | None = None


TEXT_HITS = [
    {"title": "Eiffel", "url": "https://a.org/eiffel", "snippet": "The Eiffel Tower is in Paris."},
    {"title": "Paris", "url": "https://b.org/paris", "snippet": "Paris is the capital of France."},
    {"title": "Gustave", "url": "https://c.org/ge", "snippet": "Gustave Eiffel was an engineer."},
]
IMAGE_HITS = [Hit("Eiffel Tower at night", "u1", image="thumb1.png"), Hit("Paris skyline", "u2", image=b"\x89PNG")]

HEADER_TEXT_WORDS = count_words(TEXT_RESULTS_HEADER)  # 23 words: "[Text" ... "relevance:"


def test_header_word_count():
    assert HEADER_TEXT_WORDS == 23


def test_text_results_exact():
    out = format_search_results("text", TEXT_HITS)
    assert out.text == (
        "[Text Search Results] Below are the text summaries of the most relevant webpages related to your query, "
        "ranked in descending order of relevance:\n"
        "1. (https://a.org/eiffel) The Eiffel Tower is in Paris.\n"
        "2. (https://b.org/paris) Paris is the capital of France.\n"
        "3. (https://c.org/ge) Gustave Eiffel was an engineer.\n"
    )
    assert (out.hits_shown, out.hits_total, out.truncated, out.images) == (3, 3, False, [])


def test_image_results_exact_with_dataclass_hits():
    out = format_search_results("image", IMAGE_HITS)
    assert out.text == (
        "[Image Search Results] The result of the image search consists of web page information related to the "
        "image from the user's original question. Each result includes the main image from the web page and its "
        "title, ranked in descending order of search relevance, as demonstrated below:\n"
        "1. image: <image>\ntitle: Eiffel Tower at night\n"
        "2. image: <image>\ntitle: Paris skyline\n"
    )
    assert out.images == ["thumb1.png", b"\x89PNG"]
    qwen = format_search_results("image", IMAGE_HITS, image_token="<|vision_start|><|image_pad|><|vision_end|>")
    assert "1. image: <|vision_start|><|image_pad|><|vision_end|>\ntitle: Eiffel" in qwen.text


def test_image_hit_without_image_is_skipped_and_ranks_follow():
    out = format_search_results("image", [Hit("no picture"), IMAGE_HITS[1]])
    assert out.text.endswith("\n1. image: <image>\ntitle: Paris skyline\n") and out.images == [b"\x89PNG"]


def test_newlines_in_fields_are_flattened():
    out = format_search_results("text", [{"url": "u", "snippet": "line one\nline two"}])
    assert out.text.endswith("1. (u) line one line two\n")


@pytest.mark.parametrize("kind, expected", [("image", IMAGE_SEARCH_ERROR), ("text", TEXT_SEARCH_ERROR)])
def test_error_and_empty(kind, expected):
    assert format_search_results(kind, TEXT_HITS, error="timeout").text == expected
    assert format_search_results(kind, []).text == expected
    assert next_turn_message(expected, "Q?", kind) == expected  # errors go bare


def test_budget_drops_whole_hits():
    # words: header 23; hit 1 "1. (https://a.org/eiffel) The Eiffel Tower is in Paris." = 8;
    # hit 2 = 8 ("2. (...) Paris is the capital of France."); hit 3 = 7. Budget 39: 23+8+8 = 39 fits, +7 does not.
    out = format_search_results("text", TEXT_HITS, budget=39)
    assert (out.hits_shown, out.text_truncated, out.truncated) == (2, False, True)
    assert out.text.endswith("2. (https://b.org/paris) Paris is the capital of France.\n")
    assert count_words(out.text) == 39
    assert format_search_results("text", TEXT_HITS, budget=38).hits_shown == 1  # 23+8 = 31 <= 38 < 39


def test_budget_cuts_last_hit_text_word_by_word():
    # budget 28 leaves 5 words for hit 1: "1." "(url)" + 2 words + "..." -> "The Eiffel ..."
    out = format_search_results("text", TEXT_HITS, budget=28)
    assert out.text == TEXT_RESULTS_HEADER + "1. (https://a.org/eiffel) The Eiffel ...\n"
    assert (out.hits_shown, out.text_truncated, out.over_budget) == (1, True, False)
    # budget 26: "1." "(url)" "..." = 3 words fits with an empty text
    assert format_search_results("text", TEXT_HITS, budget=26).text.endswith("1. (https://a.org/eiffel) ...\n")
    # budget 25: not even the rank + url fit -> no hit, header only
    out = format_search_results("text", TEXT_HITS, budget=25)
    assert (out.text, out.hits_shown, out.over_budget) == (TEXT_RESULTS_HEADER, 0, False)


def test_budget_never_cuts_the_image_placeholder():
    header = count_words(IMAGE_RESULTS_HEADER)
    # "1. image: <image>\ntitle: Eiffel Tower at night" = 7 words; with budget header+5:
    # "1." "image:" "<image>" "title:" + "..." = 5 -> title cut to nothing
    out = format_search_results("image", IMAGE_HITS, budget=header + 5)
    assert out.text == IMAGE_RESULTS_HEADER + "1. image: <image>\ntitle: ...\n"
    assert out.images == ["thumb1.png"]
    out = format_search_results("image", IMAGE_HITS, budget=header + 4)
    assert "<image" not in out.text and out.images == []


def test_header_alone_over_budget_is_flagged():
    out = format_search_results("text", TEXT_HITS, budget=5)
    assert out.text == TEXT_RESULTS_HEADER and out.over_budget


def test_custom_token_counter_characters():
    def chars(s: str) -> int:
        return len(s)

    full = format_search_results("text", TEXT_HITS, count_tokens=chars)
    out = format_search_results("text", TEXT_HITS, budget=len(full.text) - 1, count_tokens=chars)
    assert out.hits_shown == 2 and len(out.text) <= len(full.text) - 1


def test_next_turn_message_wrappers():
    results = format_search_results("text", TEXT_HITS[:1])
    msg = next_turn_message(results, "Where is this tower?", "text")
    assert msg == (
        "Searched results: <information>" + TEXT_RESULTS_HEADER + "1. (https://a.org/eiffel) The Eiffel Tower is in "
        "Paris.\n</information>\nOriginal user's question: Where is this tower?\n" + AFTER_TEXT_SEARCH_PROMPT
    )
    img_msg = next_turn_message(format_search_results("image", IMAGE_HITS), "Q?", "image")
    assert img_msg.endswith("</information>\nOriginal user's question: Q?\n" + AFTER_IMAGE_SEARCH_PROMPT)
    assert AFTER_IMAGE_SEARCH_PROMPT.startswith("Please extract the visual element relevant to the user's question")
    assert AFTER_TEXT_SEARCH_PROMPT.endswith("without any additional explanation or elaboration.")


def test_react_observation():
    assert react_observation("snippet A") == "<observation>snippet A</observation>"
    out = format_search_results("text", TEXT_HITS[:1])
    assert react_observation(out) == f"<observation>{out.text}</observation>"


def test_unknown_kind():
    with pytest.raises(ValueError, match="'image' or 'text'"):
        format_search_results("video", TEXT_HITS)  # type: ignore[arg-type]
