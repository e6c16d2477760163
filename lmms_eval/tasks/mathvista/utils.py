"""MathVista: the leaderboard's result files, written from the sample records.

The scoring rule lives in :mod:`lmms_eval.metrics.mathvista`. The official repository
(``lupantech/MathVista`` @ ``53d5258``, README "Contributing the Leaderboard") asks for one JSON
object keyed by ``pid``; each value is the problem's fields (as in ``data/testmini.json``:
``question, image, choices, unit, precision, question_type, answer_type, pid, metadata``,
``answer`` on testmini only, plus ``query``) and the run's ``response``, then ``extraction``,
``prediction`` and ``true_false`` as ``extract_answer.py`` and ``calculate_score.py`` add them
(template ``results/leaderboad_submission_template/output_testmini_template_for_leaderboard_submission.json``).
For the test split only the extraction the rules made is written: the organisers' own
``extract_answer.py`` run extracts the rest (it skips problems whose ``extraction`` is set).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lmms_eval.metrics.mathvista import normalize_extracted_answer, rule_extract

PROBLEM_FIELDS = (
    "question",
    "image",
    "choices",
    "unit",
    "precision",
    "answer",
    "question_type",
    "answer_type",
    "pid",
    "metadata",
    "query",
)


def _problem(doc: Mapping[str, Any], with_answer: bool) -> dict[str, Any]:
    fields = PROBLEM_FIELDS if with_answer else tuple(f for f in PROBLEM_FIELDS if f != "answer")
    out = {name: doc.get(name) for name in fields}
    precision = out.get("precision")
    if isinstance(precision, float) and precision.is_integer():
        out["precision"] = int(precision)  # the repository's JSON has 1 / 2; the parquet 1.0 / 2.0
    return out


def _response(record: Any) -> str:
    filtered = record.filtered or {}
    value = filtered.get("none", record.raw_output)
    return "" if value is None else str(value)


def _judge_extraction(record: Any) -> str | None:
    """The LLM's extracted answer when the judge decided this sample (``filters.none.verdict``)."""
    outcome = ((record.judge or {}).get("filters") or {}).get("none") or {}
    if outcome.get("stage") == "judge" and outcome.get("error") is None and isinstance(outcome.get("verdict"), str):
        return outcome["verdict"]
    return None


def _entries(records: Sequence[Any], with_answer: bool) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for record in records:
        if record.status == "error" or record.doc is None:
            continue
        doc = record.doc
        entry = _problem(doc, with_answer)
        response = _response(record)
        entry["response"] = response
        extraction = rule_extract(response, doc)
        if extraction is None:
            extraction = _judge_extraction(record)
        if extraction == "" and not with_answer:
            extraction = None  # the organisers' extract_answer.py then extracts it (an empty response stays "")
        if extraction is not None:
            entry["extraction"] = extraction
            if with_answer:
                prediction = normalize_extracted_answer(extraction, doc)
                entry["prediction"] = prediction
                entry["true_false"] = prediction is not None and prediction == doc.get("answer")
        out[str(doc.get("pid", record.doc_id))] = entry
    return out


def testmini_submission(records: Sequence[Any]) -> tuple[str, dict[str, dict[str, Any]]]:
    """``submission:`` of ``mathvista_testmini``: the leaderboard's output file for testmini."""
    return "mathvista_testmini_output.json", _entries(records, with_answer=True)


def test_submission(records: Sequence[Any]) -> tuple[str, dict[str, dict[str, Any]]]:
    """``submission:`` of ``mathvista_test``: the output file the leaderboard asks for on test."""
    return "mathvista_test_output.json", _entries(records, with_answer=False)
