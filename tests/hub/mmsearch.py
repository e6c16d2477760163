"""Fixture: a hub-shaped copy of ``CaraJ/MMSearch`` config ``end2end`` (split ``end2end``).

Columns and types as the card declares them (``benchmark_schemas.json`` key ``mmsearch``):
``sample_id, query`` (strings), ``query_image`` (``Image``, null for text-only queries),
``image_search_result`` (``Image``), ``area`` (news / knowledge), ``subfield, timestamp,
gt_requery, gt_answer`` (strings), ``alternative_gt_answers`` (a list of strings).
``ANSWERS`` is what the scripted test model says per ``sample_id``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.common import image_cell, write_hub_dataset

REPO_ID = "CaraJ/MMSearch"

# sample_id -> (area, subfield, has image, gt_answer, alternatives, scripted answer)
SAMPLES: dict[str, tuple[str, str, bool, str, list[str], str]] = {
    "news_0": ("news", "sports", True, "Zheng Qinwen", ["Qinwen Zheng"], "Zheng Qinwen"),
    "news_1": ("news", "sports", False, "2024-08-11", [], "It was on 2024-08-11"),
    "news_2": ("news", "finance", False, "Apple", [], "Microsoft"),
    "knowledge_0": ("knowledge", "arts", True, "The Starry Night", ["Starry Night painting"], "starry night painting"),
}
ANSWERS: dict[str, str] = {sid: spec[5] for sid, spec in SAMPLES.items()}


def png(size: tuple[int, int], color: tuple[int, int, int]) -> dict[str, Any]:
    """An encoded PNG cell (``{"bytes", "path"}``) of one colour."""
    from PIL import Image

    return image_cell(Image.new("RGB", size, color))


def features() -> Any:
    import datasets

    text = datasets.Value("string")
    return datasets.Features(
        {
            "sample_id": text,
            "query": text,
            "query_image": datasets.Image(),
            "image_search_result": datasets.Image(),
            "area": text,
            "subfield": text,
            "timestamp": text,
            "gt_requery": text,
            "gt_answer": text,
            "alternative_gt_answers": datasets.Sequence(text),
        }
    )


def rows() -> list[dict[str, Any]]:
    out = []
    for k, (sid, (area, subfield, has_image, gt, alternatives, _)) in enumerate(SAMPLES.items()):
        out.append(
            {
                "sample_id": sid,
                "query": f"Question {sid}?",
                "query_image": png((64, 48), (10 * k, 50, 90)) if has_image else None,
                "image_search_result": png((32, 32), (200, 10 * k, 0)),
                "area": area,
                "subfield": subfield,
                "timestamp": "2024-09-01",
                "gt_requery": f"search {sid}",
                "gt_answer": gt,
                "alternative_gt_answers": alternatives,
            }
        )
    return out


# the summarization config: sample_id -> full-page screenshot height (512-px slices, at most 10)
SCREENSHOT_HEIGHTS: dict[str, int] = {"news_0": 1100, "news_1": 300, "news_2": 6000, "knowledge_0": 512}


def summarization_features() -> Any:
    """The ``summarization`` config: end2end's columns without ``gt_requery``, plus the website."""
    import datasets

    text = datasets.Value("string")
    base = {k: v for k, v in features().items() if k != "gt_requery"}
    return datasets.Features(
        {
            **base,
            "website_title": text,
            "website_snippet": text,
            "website_retrieved_content": text,
            "website_fullpage_screenshot": datasets.Image(),
        }
    )


def summarization_rows() -> list[dict[str, Any]]:
    out = []
    for k, row in enumerate(rows()):
        row = {key: value for key, value in row.items() if key != "gt_requery"}
        sid = row["sample_id"]
        row.update(
            website_title=f"Page about {sid}",
            website_snippet=f"Snippet {sid}",
            website_retrieved_content=f"The answer to {sid} is {row['gt_answer']}.",
            website_fullpage_screenshot=png((40, SCREENSHOT_HEIGHTS[sid]), (0, 20 * k, 200)),
        )
        out.append(row)
    return out


def build(mirror: Path) -> Path:
    """Write the fixture mirror (configs end2end and summarization) under ``mirror``; return the dataset folder."""
    return write_hub_dataset(
        mirror,
        REPO_ID,
        {"end2end": {"end2end": rows()}, "summarization": {"summarization": summarization_rows()}},
        {"end2end": features(), "summarization": summarization_features()},
    )


if __name__ == "__main__":
    import sys

    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else "hub_mirror")))
