"""VQA accuracy (VQA v2 / EvalAI rule), as used by VQAv2, TextVQA, VizWiz and OK-VQA."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lmms_eval.api.errors import SampleError
from lmms_eval.api.metric import register_metric
from lmms_eval.metrics.normalize import normalize_vqa, vqa_punctuation


def human_answers(reference: Any) -> list[str]:
    """The annotators' answers from a list of strings or of ``{"answer": ...}`` dicts."""
    if isinstance(reference, str) or not isinstance(reference, Sequence):
        raise SampleError(
            "vqa_accuracy needs the list of human answers (e.g. 10 for VQAv2), got "
            f"{type(reference).__name__}; point doc_to_target at the answers column."
        )
    answers = [str(a["answer"]) if isinstance(a, dict) else str(a) for a in reference]
    if len(answers) < 2:
        raise SampleError(
            f"vqa_accuracy needs at least 2 human answers (leave-one-out), got {len(answers)}; "
            "use exact_match for single-reference data."
        )
    return answers


def vqa_score(prediction: str, answers: list[str], variant: str = "evalai") -> float:
    """Mean over each held-out annotator of min(1, matches among the others / 3).

    The prediction gets the full VQA normaliser. The human answers get only the punctuation
    step, and only when they disagree among themselves, exactly as the official script does.
    """
    pred = normalize_vqa(prediction, variant)
    if len(set(answers)) > 1:
        answers = [vqa_punctuation(a, variant) for a in answers]
    matches = [a == pred for a in answers]
    total = sum(matches)
    return sum(min(1.0, (total - hit) / 3.0) for hit in matches) / len(matches)


@register_metric("vqa_accuracy")
def vqa_accuracy(prediction: str, reference: Any, punctuation: str = "evalai", **_: Any) -> float:
    """VQA accuracy: mean over held-out annotators of min(1, matching other answers / 3).

    With 10 answers this averages the 10 choose 9 annotator subsets: 1, 2, 3 and 4+ matching
    humans give 0.3, 0.6, 0.9 and 1.0. ``punctuation`` picks the EvalAI script (default) or
    the original VQA API (``vqa_v1``) punctuation step.
    """
    return vqa_score(str(prediction), human_answers(reference), punctuation)
