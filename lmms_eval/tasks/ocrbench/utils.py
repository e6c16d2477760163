"""OCRBench: the prompt (the question, stripped, as lmms-eval sends it) and the score components.

The official script (``Yuliang-Liu/MultimodalOCR@794c36d`` ``OCRBench/example.py``) prints the
ten category scores (``type``, the hub column ``question_type``), "Text Recognition" = the sum
of the six recognition categories (out of 300) and the "Final Score" (out of 1000).
:func:`component` maps a category to its line of that printout, so the task's ``component``
breakdown of ``ocrbench_score`` gives those five numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

TEXT_RECOGNITION = "Text Recognition"
RECOGNITION_TYPES = frozenset(
    {
        "Regular Text Recognition",
        "Irregular Text Recognition",
        "Artistic Text Recognition",
        "Handwriting Recognition",
        "Digit String Recognition",
        "Non-Semantic Text Recognition",
    }
)
# the ten categories and their sizes in the 1,000-question set (the official printout's totals)
CATEGORY_TOTALS: dict[str, int] = {
    **{name: 50 for name in sorted(RECOGNITION_TYPES)},
    "Scene Text-centric VQA": 200,
    "Doc-oriented VQA": 200,
    "Key Information Extraction": 200,
    "Handwritten Mathematical Expression Recognition": 100,
}


def doc_to_text(doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None) -> str:
    """``{pre_prompt}{question.strip()}{post_prompt}`` (both empty by default: the bare question)."""
    kwargs = lmms_eval_specific_kwargs or {}
    return f"{kwargs.get('pre_prompt') or ''}{str(doc['question']).strip()}{kwargs.get('post_prompt') or ''}"


def component(doc: Mapping[str, Any]) -> str | None:
    """Breakdown ``component``: "Text Recognition" for the six recognition types, else the type."""
    kind = doc.get("question_type")
    if not kind:
        return None
    return TEXT_RECOGNITION if kind in RECOGNITION_TYPES else str(kind)
