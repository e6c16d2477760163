"""MMSearch's requery and answer (summarization) rounds as single-turn tasks.

Built as ``eval_requery.py`` and ``eval_summarization.py`` build them (CaraJ7/MMSearch @ d340f3f;
read, not copied): a text-only query gets the text prompt and no image; a query with an image gets
the image prompt, its ``<image>`` slots filled in order. Requery: the query image, then the image
search result. Answer round: the slices of the website's full-page screenshot, then the image
search result, then the query image. The screenshot in the dataset is already "slimmed"; it is
cut into slices of 512 pixels height, at most 10 (``constants.FULLPAGE_SPLIT_DICT``,
``utils/image_utils.py::crop_and_split``), the last one shorter.
"""

from __future__ import annotations

import io
from typing import Any

from lmms_eval.api.errors import SampleError
from lmms_eval.tasks.mmsearch.prompts import ANSWER_IMAGE, ANSWER_TEXT, REQUERY_IMAGE, REQUERY_TEXT

IMAGE = "<image>"
SLICE_HEIGHT = 512
MAX_SLICES = 10


def _pil(cell: Any, what: str, doc: dict[str, Any]) -> Any:
    """A PIL image from an ``Image`` cell (decoded, or ``{"bytes", "path"}``)."""
    from PIL import Image

    if hasattr(cell, "crop"):
        return cell
    if isinstance(cell, dict) and cell.get("bytes"):
        return Image.open(io.BytesIO(cell["bytes"]))
    if isinstance(cell, dict) and cell.get("path"):
        return Image.open(cell["path"])
    raise SampleError(f"MMSearch {doc.get('sample_id')!r}: column {what!r} holds no image")


def screenshot_slices(image: Any) -> list[Any]:
    """The full-page screenshot cut top to bottom into 512-pixel-high slices, at most 10."""
    width, height = image.size
    count = min(MAX_SLICES, (height + SLICE_HEIGHT - 1) // SLICE_HEIGHT)
    return [image.crop((0, i * SLICE_HEIGHT, width, min((i + 1) * SLICE_HEIGHT, height))) for i in range(count)]


def _message(text: str, images: list[Any]) -> list[dict[str, Any]]:
    """One user turn: ``text`` with each ``<image>`` replaced by the next image."""
    pieces = text.split(IMAGE)
    if len(pieces) - 1 != len(images):
        raise SampleError(f"the prompt has {len(pieces) - 1} image slots for {len(images)} images")
    content: list[dict[str, Any]] = []
    for i, piece in enumerate(pieces):
        if piece:
            content.append({"type": "text", "text": piece})
        if i < len(images):
            content.append({"type": "image", "image": images[i]})
    return [{"role": "user", "content": content}]


def answers(doc: dict[str, Any]) -> list[str]:
    """The target: ``gt_answer`` then ``alternative_gt_answers`` (the F1 takes the best; the judge
    variant shows the first as the ground truth and the rest as aliases)."""
    return [str(doc["gt_answer"]), *(str(a) for a in doc.get("alternative_gt_answers") or [])]


def requery_messages(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Stage 1: ask for a search-engine query."""
    if doc.get("query_image") is None:
        return _message(REQUERY_TEXT.format(question=doc["query"]), [])
    text = REQUERY_IMAGE.format(question=IMAGE + doc["query"], image_search_result=IMAGE)
    return _message(text, [doc["query_image"], doc["image_search_result"]])


def website_information(doc: dict[str, Any], n_slices: int) -> str:
    """``get_full_website_information``'s text for the row's one website."""
    return (
        f"Website Title: {doc['website_title']};\n Website Snippet: {doc['website_snippet']};\n"
        f"Website Content: {doc['website_retrieved_content']};\n"
        f"Website Screenshot: {IMAGE * n_slices};\n"
    )


def answer_messages(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Stage 3: answer from the website's title, snippet, content and screenshot slices."""
    slices = screenshot_slices(_pil(doc["website_fullpage_screenshot"], "website_fullpage_screenshot", doc))
    info = website_information(doc, len(slices))
    if doc.get("query_image") is None:
        return _message(ANSWER_TEXT.format(rerank_num=1, website_information=info, question=doc["query"]), slices)
    text = ANSWER_IMAGE.format(
        rerank_num=1, website_information=info, image_search_result=IMAGE, question=IMAGE + doc["query"]
    )
    return _message(text, [*slices, doc["image_search_result"], doc["query_image"]])
