"""MathVerse: the per-version document selections and the official output file.

The scoring rule lives in :mod:`lmms_eval.metrics.mathverse` and the judge templates of this
folder. Source: ``ZrrSkywalker/MathVerse`` @ ``937b090`` (README "Inference": result files in the
shape of ``output_templates/output_testmini.json``, a list of the problem's fields plus the
model's ``model_answer``, which ``evaluation/extract_answer_s1.py`` reads).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

VERSIONS = {
    "text_dominant": "Text Dominant",
    "text_lite": "Text Lite",
    "vision_intensive": "Vision Intensive",
    "vision_dominant": "Vision Dominant",
    "vision_only": "Vision Only",
}

# fields of an entry of output_templates/output_testmini.json, in that order (image: the path there;
# the hub copy holds the image itself, which the logged document leaves out)
OUTPUT_FIELDS = (
    "sample_index",
    "problem_index",
    "problem_version",
    "question",
    "image",
    "answer",
    "question_type",
    "metadata",
    "query_wo",
    "query_cot",
)


def _version(ds: Any, version: str) -> Any:
    """The rows of one problem version, read without decoding any image."""
    if isinstance(ds, list):
        return [row for row in ds if row.get("problem_version") == version]
    keep = [i for i, value in enumerate(ds["problem_version"]) if value == version]
    return ds.select(keep)


def text_dominant_docs(ds: Any) -> Any:
    """``process_docs`` of ``mathverse_testmini_text_dominant``."""
    return _version(ds, VERSIONS["text_dominant"])


def text_lite_docs(ds: Any) -> Any:
    """``process_docs`` of ``mathverse_testmini_text_lite``."""
    return _version(ds, VERSIONS["text_lite"])


def vision_intensive_docs(ds: Any) -> Any:
    """``process_docs`` of ``mathverse_testmini_vision_intensive``."""
    return _version(ds, VERSIONS["vision_intensive"])


def vision_dominant_docs(ds: Any) -> Any:
    """``process_docs`` of ``mathverse_testmini_vision_dominant``."""
    return _version(ds, VERSIONS["vision_dominant"])


def vision_only_docs(ds: Any) -> Any:
    """``process_docs`` of ``mathverse_testmini_vision_only``."""
    return _version(ds, VERSIONS["vision_only"])


def _model_answer(record: Any) -> str:
    filtered = record.filtered or {}
    value = filtered.get("none", record.raw_output)
    return "" if value is None else str(value)


def output_file(records: Sequence[Any]) -> tuple[str, list[dict[str, Any]]]:
    """``submission:``: the run as the official result file (``output_testmini.json`` shape).

    One entry per answered sample, in document order: the problem's fields and ``model_answer``
    (the response; under ``--prompt_variant reasoning`` its ``<answer>`` part), ready for the
    official ``extract_answer_s1.py`` / ``score_answer_s2.py``.
    """
    entries = []
    task = "mathverse"
    for record in records:
        task = record.task
        if record.status == "error" or record.doc is None:
            continue
        entry = {name: record.doc.get(name) for name in OUTPUT_FIELDS if name in record.doc}
        entry["model_answer"] = _model_answer(record)
        entries.append(entry)
    return f"{task}_output.json", entries
