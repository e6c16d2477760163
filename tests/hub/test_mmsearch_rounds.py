"""MMSearch's requery and summarization rounds on the hub-schema fixture: the official prompts (text
and image versions), the images in their slots (query image, image search result, screenshot
slices of 512 px, at most 10), and the official scores worked by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub import common, mmsearch
from hub.common import fixture_mirror, run_evaluator
from lmms_eval.api.messages import Image
from lmms_eval.tasks.mmsearch.prompts import ANSWER_TEXT, REQUERY_TEXT

mirror = fixture_mirror(mmsearch.build)


class TableModel(common.TableModel):
    answers = {
        ("mmsearch_requery", "news_0"): "search news_0",  # = gt_requery: 1.0
        ("mmsearch_requery", "news_1"): "search news_1 results",  # BLEU-1 2/3, ROUGE-L 0.8 -> 0.7333
        ("mmsearch_requery", "news_2"): "nothing alike",  # 0
        ("mmsearch_requery", "knowledge_0"): "",  # empty: 0
        ("mmsearch_summarization", "news_0"): "Zheng Qinwen",  # 1
        ("mmsearch_summarization", "news_1"): "2024-08-11",  # 1
        ("mmsearch_summarization", "news_2"): "Microsoft",  # 0
        ("mmsearch_summarization", "knowledge_0"): "The Starry Night",  # 1
    }


def sizes(request: object) -> list[tuple[int, int]]:
    from lmms_eval.media import load_image

    return [load_image(p).size for p in request.images()]  # type: ignore[attr-defined]


def test_requery_round(mirror: Path, tmp_path: Path) -> None:
    results, _ = run_evaluator(tmp_path, ["mmsearch_requery"], TableModel())
    res = results["results"]["mmsearch_requery"]
    assert res["mmsearch_requery,none"] == pytest.approx((1 + (2 / 3 + 0.8) / 2 + 0 + 0) / 4)
    assert res["mmsearch_requery,none,area=knowledge"] == 0.0
    text_only = TableModel.requests["mmsearch_requery:news_1"]
    assert text_only.images() == [] and text_only.prompt_text() == REQUERY_TEXT.format(question="Question news_1?")
    with_image = TableModel.requests["mmsearch_requery:news_0"]
    assert sizes(with_image) == [(64, 48), (32, 32)]  # the query image, then the image search result
    parts = with_image.messages[0].content
    assert isinstance(parts[1], Image) and parts[2].text.startswith("Question news_0? \nThe image search result is: ")


def test_summarization_round(mirror: Path, tmp_path: Path) -> None:
    results, _ = run_evaluator(tmp_path, ["mmsearch_summarization"], TableModel())
    res = results["results"]["mmsearch_summarization"]
    assert res["mmsearch_f1,none"] == pytest.approx(3 / 4)
    text_only = TableModel.requests["mmsearch_summarization:news_1"]  # a 300-px screenshot: one slice
    info = (
        "Website Title: Page about news_1;\n Website Snippet: Snippet news_1;\n"
        "Website Content: The answer to news_1 is 2024-08-11.;\nWebsite Screenshot: <image>;\n"
    )
    assert text_only.prompt_text() == ANSWER_TEXT.format(
        rerank_num=1, website_information=info, question="Question news_1?"
    ).replace("<image>", "")
    assert sizes(text_only) == [(40, 300)]
    # 1100 px -> slices 512, 512, 76; then the image search result and the query image
    assert sizes(TableModel.requests["mmsearch_summarization:news_0"]) == [
        (40, 512),
        (40, 512),
        (40, 76),
        (32, 32),
        (64, 48),
    ]
    assert len(TableModel.requests["mmsearch_summarization:news_2"].images()) == 10  # 6000 px: at most 10 slices
