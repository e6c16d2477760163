"""MME-RealWorld (yfzhang114/MME-RealWorld): image decoding, prompt, breakdown labels.

The lmms-eval copies (``yifanzhang114/MME-RealWorld-Lmms-eval``, ``-lite-lmms-eval``,
``-CN-Lmms-eval``; split ``train``) store the image as a base64 STRING column ``bytes`` and
the options as ``multi-choice options`` (``["(A) ...", ..., "(E) ..."]``). ``category`` is
``<Task>/<Subtask>`` (e.g. ``Perception/Autonomous_Driving``) and ``l2-category`` the
official fine-grained Category.

Prompt, as ``evaluation/model_vqa_mme_real_world.py`` @ 9caa8b8 builds it: ``Text`` +
" The choices are listed below: \\n" + each option and a newline + the test prompt +
"\\nThe best answer is:". Here the question and options come first and the trailing
instruction is ``post_prompt`` (without the options' last newline, which starts
``post_prompt``), so the default prompt is the script's and the ``reasoning`` variant
replaces exactly the instruction.
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Mapping
from typing import Any

from lmms_eval.api.errors import SampleError
from lmms_eval.metrics.mme_realworld import OPTIONS_COLUMN, options_of


def doc_to_visual(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The image of a row: the base64 ``bytes`` cell decoded to encoded image bytes (the media
    layer decodes the pixels once, when the model needs them; no resize here). A cell that is not
    base64 of an image is that sample's one-line error."""
    cell = doc.get("bytes")
    where = f"MME-RealWorld item index={doc.get('index')!r}"
    if not isinstance(cell, str) or not cell:
        raise SampleError(f"{where}: column 'bytes' is {type(cell).__name__}, not a base64 image string")
    try:
        raw = base64.b64decode(cell, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SampleError(
            f"{where}: column 'bytes' is not valid base64 ({exc}); re-download the parquet file"
        ) from None
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(raw)) as img:
            kind = (img.format or "img").lower()
    except (UnidentifiedImageError, OSError) as exc:
        raise SampleError(
            f"{where}: column 'bytes' decodes to {len(raw)} bytes that are not an image ({exc})"
        ) from None
    return [{"bytes": raw, "path": f"mme_realworld_{doc.get('index')}.{kind}"}]


def doc_to_text(doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None) -> str:
    """``{pre_prompt}{question}{options_header}`` + the options joined by newlines + ``{post_prompt}``."""
    kwargs = lmms_eval_specific_kwargs or {}
    options = "\n".join(options_of(doc))
    header = kwargs.get("options_header", " The choices are listed below: \n")
    return f"{kwargs.get('pre_prompt', '')}{doc['question']}{header}{options}{kwargs.get('post_prompt', '')}"


def doc_to_choice(doc: Mapping[str, Any]) -> list[str]:
    """The options as stored (``(A) ...``)."""
    return options_of(doc)


def task_type(doc: Mapping[str, Any]) -> str:
    """The official Task of a row: ``Perception`` or ``Reasoning`` (first part of ``category``)."""
    return "Perception" if "perception" in str(doc.get("category", "")).lower() else "Reasoning"


def fine_category(doc: Mapping[str, Any]) -> str:
    """``<category>/<Category>`` as the official scoring groups it: ``l2-category`` lower-cased,
    and every one containing "attribute" merged into ``<first part>/attribute``."""
    fine = str(doc.get("l2-category", "")).lower()
    if "attribute" in fine:
        fine = fine.split("/")[0] + "/attribute"
    return f"{doc.get('category')}/{fine}"


__all__ = ["OPTIONS_COLUMN", "doc_to_choice", "doc_to_text", "doc_to_visual", "fine_category", "task_type"]


def mgpo_question(doc: Mapping[str, Any]) -> str:
    """The question alone (no options, no instruction): MGPO's turn-1 text and turn-2 ``{question}``."""
    return str(doc["question"])
