"""DocVQA: the RRC submission file (validation and test) and the prediction-only test metric.

Submission format (the RRC script's ``validate_data``, read in the verbatim copy
``QwenLM/Qwen-VL@e6bbb9d eval_mm/infographicsvqa_eval.py``): the root is a JSON array, one
object per question with ``questionId`` (the script matches ``int(questionId)`` and compares
the sorted id lists with the ground truth's integer ids, so ids are written as integers) and
``answer`` (a single string, not a list). The server rejects a file whose number of answers
differs from the ground truth's, so only a full run (no ``--limit``) gives a file it accepts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def _response(record: Any) -> str:
    filtered = record.filtered or {}
    value = filtered.get("none", record.raw_output)
    return "" if value is None else str(value)


def question_id(doc: Mapping[str, Any]) -> int | str:
    """``questionId`` as the RRC ground truth holds it: an integer (the hub column is a string)."""
    value = doc.get("questionId")
    try:
        return int(str(value))
    except ValueError:
        return str(value)


def prediction_file(records: Sequence[Any]) -> list[dict[str, Any]]:
    """``[{"questionId": int, "answer": str}, ...]`` in document order; failed samples left out."""
    out: list[dict[str, Any]] = []
    for record in records:
        if record.status == "error" or not record.doc:
            continue
        out.append({"questionId": question_id(record.doc), "answer": _response(record)})
    return out


def val_submission(records: Sequence[Any]) -> tuple[str, list[dict[str, Any]]]:
    """``submission:`` of ``docvqa_val``: the RRC-format file for the validation ground truth."""
    return "docvqa_val_results.json", prediction_file(records)


def test_submission(records: Sequence[Any]) -> tuple[str, list[dict[str, Any]]]:
    """``submission:`` of ``docvqa_test``: the file for the RRC server."""
    return "docvqa_test_for_submission.json", prediction_file(records)


def test_process_results(doc: Mapping[str, Any], results: Sequence[Any]) -> dict[str, float]:
    """Prediction only: ``answered`` is 1.0 for a non-empty (after strip) answer."""
    text = "" if not results or results[0] is None else str(results[0])
    return {"answered": float(bool(text.strip()))}
