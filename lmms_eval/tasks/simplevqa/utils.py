"""SimpleVQA: the official answer prompt (EN/ZH) and the image (a PIL image or a base64 string).

Prompts: ``vqa_en_without_confidence`` / ``vqa_cn_without_confidence`` of
SimpleVQA/SimpleVQA @ b94d1f3d05d7f488afcdcf95bfcd69bcb279111e
``data_engineering/vqa_request/prompt.py``; ``[<question>]`` (brackets included) is replaced by the
question, as ``simplevqa_request_lvlm_api_parallel.py`` does; image first, then the text.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from typing import Any

PROMPT_EN = (
    "If you are a computer vision expert, please understand the picture and answer the question below. "
    "The answer must be a short named entity:\n## Now let's ask the question:\n{question}\n"
)
PROMPT_ZH = (
    "假如你是一个计算机视觉专家，请理解图片内容，并回答给出的问题，要求只能回答一个命名实体：\n"
    "## 下面我们提出问题: \n{question}\n"
)


def doc_to_text(doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None) -> str:
    """``{pre_prompt}`` + the official prompt of the row's ``language`` (``ZH``: Chinese, else English)
    + ``{post_prompt}``; with ``answer_prompt: false`` (the search variants, whose protocol writes
    its own instructions) the bare question."""
    kwargs = lmms_eval_specific_kwargs or {}
    if kwargs.get("answer_prompt", True) is False:
        return str(doc["question"])
    template = PROMPT_ZH if str(doc.get("language", "")).strip().upper() in ("ZH", "CN") else PROMPT_EN
    return f"{kwargs.get('pre_prompt', '')}{template.format(question=doc['question'])}{kwargs.get('post_prompt', '')}"


def doc_to_visual(doc: Mapping[str, Any]) -> list[Any]:
    """The row's image; a base64 string (some copies store the image so) is decoded with Pillow."""
    from PIL import Image

    image = doc["image"]
    if isinstance(image, str):
        data = image.split(",", 1)[1] if image.startswith("data:") else image
        image = Image.open(io.BytesIO(base64.b64decode(data)))
    return [image.convert("RGB")]
