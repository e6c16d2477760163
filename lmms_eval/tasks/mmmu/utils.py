"""MMMU: the official prompt with images interleaved at their ``<image i>`` tags, breakdowns and
the result files of the official evaluation (validation) and the EvalAI server (test).

Prompt (``construct_prompt`` of ``MMMU-Benchmark/MMMU`` @ ``bb0b95a``, ``mmmu/utils/data_utils.py``,
with the formats of ``mmmu/configs/llava1.5.yaml``):

* multiple choice: ``{question}\\n(A) {option A}\\n(B) {option B}\\n...`` then the instruction
  ``\\nAnswer with the option's letter from the given choices directly.``;
* open: ``{question}`` then ``\\nAnswer the question using a single word or phrase.``.

The instruction is the ``post_prompt`` slot: the prompt kwargs ``multiple_choice_post_prompt`` and
``open_post_prompt`` hold the two official texts, and a ``post_prompt`` set to a string (the
``reasoning`` prompt variant does) replaces both. ``pre_prompt`` goes before the question.

Images: every ``<image i>`` tag in the question and options is replaced by image ``i`` (column
``image_i``) at that point of the text, so the user turn is text and image parts interleaved in
reading order. An image whose tag occurs twice is sent twice (once per tag, where the text
refers to it). An image column that no tag names is not sent (as lmms-eval 0.7). A tag whose
column is empty or missing is that sample's error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from lmms_eval.api.errors import SampleError
from lmms_eval.api.messages import Image, Message, Part, Text, media_part
from lmms_eval.metrics.mmmu import (
    SUBJECT_DISCIPLINE,
    is_multiple_choice,
    option_letters,
    parse_multi_choice,
    parse_options,
    subject_of,
)
from lmms_eval.tasks.rows import raw_value

IMAGE_TAG = re.compile(r"<image (\d+)>")
MULTIPLE_CHOICE_INSTRUCTION = "\nAnswer with the option's letter from the given choices directly."
OPEN_INSTRUCTION = "\nAnswer the question using a single word or phrase."


def prompt_text(doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None) -> str:
    """The prompt text with the ``<image i>`` tags still in it (see the module docstring)."""
    kwargs = lmms_eval_specific_kwargs or {}
    override = kwargs.get("post_prompt")
    body = str(doc["question"])
    if is_multiple_choice(doc):
        options = parse_options(doc)
        body += "\n" + "".join(
            f"({letter}) {option}\n" for letter, option in zip(option_letters(len(options)), options)
        )
        instruction = kwargs.get("multiple_choice_post_prompt", MULTIPLE_CHOICE_INSTRUCTION)
    else:
        instruction = kwargs.get("open_post_prompt", OPEN_INSTRUCTION)
    if isinstance(override, str):
        instruction = override
    return f"{kwargs.get('pre_prompt', '')}{body}{instruction}"


def _image_part(doc: Mapping[str, Any], number: int) -> Image:
    column = f"image_{number}"
    value = raw_value(doc, column) if column in doc else None
    if value is None:
        raise SampleError(
            f"MMMU item {doc.get('id')!r}: the text refers to <image {number}> but column {column!r} is empty; "
            "use the MMMU/MMMU row with its images"
        )
    try:
        part = media_part("image", value)
    except ValueError as exc:
        raise SampleError(f"MMMU item {doc.get('id')!r}: cannot read {column}: {exc}") from None
    assert isinstance(part, Image)
    return part


def interleave(text: str, doc: Mapping[str, Any]) -> list[Part]:
    """Text and image parts in reading order: each ``<image i>`` tag becomes image ``i``."""
    parts: list[Part] = []
    position = 0
    for tag in IMAGE_TAG.finditer(text):
        if tag.start() > position:
            parts.append(Text(text[position : tag.start()]))
        parts.append(_image_part(doc, int(tag.group(1))))
        position = tag.end()
    if position < len(text):
        parts.append(Text(text[position:]))
    return parts


def doc_to_messages(
    doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None
) -> list[Message]:
    """``doc_to_messages``: one user turn, the official prompt with its images where the tags stand."""
    return [Message("user", interleave(prompt_text(doc, lmms_eval_specific_kwargs), doc))]


# ---------------------------------------------------------------- breakdowns


def subject(doc: Mapping[str, Any]) -> str:
    """Breakdown ``subject``: from the id (``validation_Art_Theory_12`` -> ``Art_Theory``)."""
    return subject_of(str(doc.get("id", "")))


def discipline(doc: Mapping[str, Any]) -> str | None:
    """Breakdown ``discipline``: the subject's discipline (``DOMAIN_CAT2SUB_CAT``)."""
    return SUBJECT_DISCIPLINE.get(subject(doc))


# ---------------------------------------------------------------- result files


def _response(record: Any) -> str:
    filtered = record.filtered or {}
    value = filtered.get("none", record.raw_output)
    return "" if value is None else str(value)


def prediction_file(records: Sequence[Any]) -> dict[str, str]:
    """``{id: answer}`` as ``main_eval_only.py`` reads it and the EvalAI server takes it: the
    parsed letter for multiple choice ("" when the official parser finds none, where the official
    run would pick a random letter), the response text for open questions (the evaluator parses it)."""
    out: dict[str, str] = {}
    for record in records:
        doc = record.doc
        if record.status == "error" or not doc:
            continue
        response = _response(record)
        if is_multiple_choice(doc):
            out[str(doc["id"])] = parse_multi_choice(response, parse_options(doc)) or ""
        else:
            out[str(doc["id"])] = response
    return out


def val_submission(records: Sequence[Any]) -> tuple[str, dict[str, str]]:
    """``submission:`` of ``mmmu_val``: the file ``python main_eval_only.py --output_path`` scores."""
    return "mmmu_val_output.json", prediction_file(records)


def test_submission(records: Sequence[Any]) -> tuple[str, dict[str, str]]:
    """``submission:`` of ``mmmu_test``: the prediction file for the EvalAI test server."""
    return "mmmu_test_for_submission.json", prediction_file(records)
