"""MMBench (``lmms-lab/MMBench``, configs ``en`` and ``cn``): the VLMEvalKit prompt, the rotation
count CircularEval needs, breakdowns and the prediction file of the MMBench server.

Prompt (``ImageMCQDataset.build_prompt`` of ``open-compass/VLMEvalKit`` @ ``e8e78f0``,
``vlmeval/dataset/image_mcq.py``): the image, then the text::

    Hint: {hint}            (only when the row has a hint)
    Question: {question}
    Options:
    A. {A}
    B. {B}                  (each option present, in letter order)
    Please select the correct answer from the options above. \\n

The closing instruction is the ``post_prompt`` slot (the ``reasoning`` prompt variant replaces it);
``pre_prompt`` goes before everything. Scoring: :mod:`lmms_eval.metrics.mmbench`.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from lmms_eval.metrics.mmbench import GROUP_OFFSET, OPTION_LETTERS, ROTATIONS_COLUMN, choices_of, option_present

INSTRUCTION = "Please select the correct answer from the options above. \n"
SUBMISSION_COLUMNS = ("index", "question", "A", "B", "C", "D", "prediction", "category", "l2_category")
"""The fields the MMBench README (open-compass/MMBench "How to save results") asks for."""


def _group(index: Any) -> int | None:
    try:
        return int(str(index).strip()) % GROUP_OFFSET
    except (TypeError, ValueError):
        return None  # the metric names the row with the bad index


def rotation_counts(indices: Sequence[Any]) -> list[int]:
    """For each row, how many rows of the split share its group (``int(index) % 1e6``)."""
    groups = [_group(i) for i in indices]
    counts = Counter(groups)
    return [counts[g] for g in groups]


def process_docs(dataset: Any) -> Any:
    """``process_docs``: add ``mmbench_rotations`` (the rotations of the row's question in this split),
    read from the ``index`` column only (images are not decoded)."""
    if isinstance(dataset, list):
        counts = rotation_counts([row.get("index") for row in dataset])
        return [{**row, ROTATIONS_COLUMN: n} for row, n in zip(dataset, counts)]
    return dataset.add_column(ROTATIONS_COLUMN, rotation_counts(dataset["index"]))


def doc_to_text(doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None) -> str:
    """The VLMEvalKit prompt text (see the module docstring)."""
    kwargs = lmms_eval_specific_kwargs or {}
    text = str(kwargs.get("pre_prompt") or "")
    hint = doc.get("hint")
    if option_present(hint):
        text += f"Hint: {hint}\n"
    text += f"Question: {doc['question']}\n"
    choices = choices_of(doc)
    if choices:
        text += "Options:\n" + "".join(f"{letter}. {option}\n" for letter, option in choices.items())
        post = kwargs.get("post_prompt")
        text += INSTRUCTION if post is None else str(post)
    return text


# ---------------------------------------------------------------- breakdowns


def category(doc: Mapping[str, Any]) -> str | None:
    """Breakdown ``category`` (the leaf ability, ``report_acc``'s per-category rows)."""
    value = doc.get("category")
    return str(value) if option_present(value) else None


def l2_category(doc: Mapping[str, Any]) -> str | None:
    """Breakdown ``l2_category``: the ``L2-category`` column (``l2-category`` in older copies)."""
    value = doc.get("L2-category", doc.get("l2-category"))
    return str(value) if option_present(value) else None


# ---------------------------------------------------------------- prediction file


def _response(record: Any) -> str:
    filtered = record.filtered or {}
    value = filtered.get("none", record.raw_output)
    return "" if value is None else str(value)


def prediction_rows(records: Sequence[Any]) -> list[dict[str, str]]:
    """One row per answered sample (every rotation), the README's fields, missing options blank."""
    rows = []
    for record in records:
        doc = record.doc
        if record.status == "error" or not doc:
            continue
        row = {
            "index": str(doc.get("index")),
            "question": str(doc.get("question", "")),
            "prediction": _response(record),
            "category": category(doc) or "",
            "l2_category": l2_category(doc) or "",
        }
        for letter in OPTION_LETTERS:
            row[letter] = str(doc[letter]) if option_present(doc.get(letter)) else ""
        rows.append(row)
    return rows


def prediction_tsv(records: Sequence[Any]) -> str:
    """The rows of :func:`prediction_rows` as tab-separated text (header first; fields holding a tab,
    a quote or a line break are quoted as ``csv``/``pandas.read_csv(sep="\\t")`` read them)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=SUBMISSION_COLUMNS, delimiter="\t", lineterminator="\n")
    writer.writeheader()
    writer.writerows(prediction_rows(records))
    return buffer.getvalue()


def en_dev_submission(records: Sequence[Any]) -> tuple[str, str]:
    """``submission:`` of ``mmbench_en_dev``."""
    return "mmbench_en_dev_predictions.tsv", prediction_tsv(records)


def cn_dev_submission(records: Sequence[Any]) -> tuple[str, str]:
    """``submission:`` of ``mmbench_cn_dev``."""
    return "mmbench_cn_dev_predictions.tsv", prediction_tsv(records)


def en_test_submission(records: Sequence[Any]) -> tuple[str, str]:
    """``submission:`` of ``mmbench_en_test``: the file for the MMBench evaluation server."""
    return "mmbench_en_test_predictions.tsv", prediction_tsv(records)


def cn_test_submission(records: Sequence[Any]) -> tuple[str, str]:
    """``submission:`` of ``mmbench_cn_test``: the file for the MMBench evaluation server."""
    return "mmbench_cn_test_predictions.tsv", prediction_tsv(records)
