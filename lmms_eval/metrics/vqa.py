"""VQA accuracy: two official rules that share the 10-annotator formula but not the normalisation.

``vqa_accuracy`` - VQAv2, ``vqaEval.py`` of GT-Vision-Lab/VQA (PythonEvaluationTools/vqaEvaluation,
HEAD a013f00 "Fixed processing answers bug", 2021-03-11), per question, in order:

1. every human answer and the prediction: newlines and tabs to spaces, strip (nothing else yet);
2. if the human answers, compared as those strings, are NOT all identical: each human answer and
   the prediction get ``processPunctuation`` then ``processDigitArticle`` (see
   :mod:`lmms_eval.metrics.normalize`); if they ARE all identical nothing more is done to either
   side, so the prediction must equal that answer exactly, case included ("Yes" or "two" against
   ten "yes" / "2" scores 0: quirk kept);
3. for each annotator in turn, the others are the answers not equal to that annotator's record
   (the script compares whole ``{"answer", "answer_id", ...}`` dicts; VQAv2's carry distinct
   ``answer_id`` so exactly one is left out; plain strings here count as one annotator each),
   and the annotator's value is ``min(1, others equal to the prediction / 3)``;
4. the accuracy is the mean of those values (10 for VQAv2: 1, 2, 3 and 4+ matching humans give
   0.3, 0.6, 0.9 and 1.0). The script reports 100 x the mean, rounded to 2 places; this is 0-1.

``version: "2016"`` selects the same file as of 458a8b2 (2016-10-08, in use until 2021): the
prediction always gets step 1 and both processing steps; the human answers are not stripped and,
only when they disagree, get ``processPunctuation`` alone (no digit/article step).

``textvqa_accuracy`` - TextVQA, MMF ``mmf/utils/m4c_evaluators.py`` ``TextVQAAccuracyEvaluator``
with ``EvalAIAnswerProcessor`` (facebookresearch/mmf, unchanged since 2dc099a, 2020-08-05):

1. the prediction and EVERY one of the human answers, agreeing or not, get the whole processor
   (:func:`lmms_eval.metrics.normalize.normalize_textvqa`: lower-case, ``,`` and ``?`` deleted,
   ``'s`` -> `` 's``, strip, punctuation step, digit/article step);
2. there must be exactly 10 human answers (the script asserts it);
3. each distinct processed answer scores the mean over the 10 annotators (by position) of
   ``min(1, the other 9 equal to it / 3)``;
4. the prediction scores its processed form's value from step 3, or 0 if no human gave it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lmms_eval.api.errors import ConfigError, SampleError
from lmms_eval.api.metric import register_metric
from lmms_eval.metrics.normalize import (
    normalize_textvqa,
    vqa_clean,
    vqa_process_digit_article,
    vqa_process_punctuation,
)

VQA_EVAL_VERSIONS = ("2021", "2016")


def _answer_text(item: Any) -> str:
    return str(item["answer"]) if isinstance(item, dict) else str(item)


def human_answers(reference: Any, metric: str = "vqa_accuracy") -> list[Any]:
    """The annotators' answers: a list of strings or of VQAv2 ``{"answer": ...}`` dicts."""
    if isinstance(reference, (str, bytes)) or not isinstance(reference, Sequence):
        raise SampleError(
            f"{metric} needs the list of human answers (10 for VQAv2 and TextVQA), got "
            f"{type(reference).__name__}; point doc_to_target at the answers column."
        )
    answers = list(reference)
    if any(isinstance(a, dict) and "answer" not in a for a in answers):
        raise SampleError(f"{metric}: a human answer dict has no 'answer' key: {answers!r}")
    return answers


def _leave_one_out(records: list[dict[str, Any]], prediction: str) -> float:
    """vqaEval's loop: per record, others = records != it; min(1, matches / 3); the mean."""
    accs = []
    for held in records:
        matches = sum(1 for other in records if other != held and other["answer"] == prediction)
        accs.append(min(1, float(matches) / 3))
    return float(sum(accs)) / len(accs)


def _both_steps(text: str) -> str:
    return vqa_process_digit_article(vqa_process_punctuation(text))


def vqa_eval_score(prediction: str, reference: Any, version: str = "2021") -> float:
    """One question's accuracy under VQAv2's ``vqaEval.py`` (steps in the module docstring)."""
    version = str(version)
    if version not in VQA_EVAL_VERSIONS:
        raise ConfigError(f"vqa_accuracy: unknown vqaEval version {version!r}; use one of {list(VQA_EVAL_VERSIONS)}")
    answers = human_answers(reference)
    if len(answers) < 2:
        raise SampleError(
            f"vqa_accuracy needs at least 2 human answers (leave-one-out), got {len(answers)}; "
            "use exact_match for single-reference data."
        )
    # Each record stands for one annotator; a plain string gets its position as its identity.
    records: list[dict[str, Any]] = [
        dict(a) if isinstance(a, dict) else {"answer": str(a), "_annotator": i} for i, a in enumerate(answers)
    ]
    if version == "2021":
        for r in records:
            r["answer"] = vqa_clean(r["answer"])
        pred = vqa_clean(prediction)
        if len({r["answer"] for r in records}) > 1:
            for r in records:
                r["answer"] = _both_steps(r["answer"])
            pred = _both_steps(pred)
    else:
        for r in records:
            r["answer"] = str(r["answer"])
        pred = _both_steps(vqa_clean(prediction))
        if len({r["answer"] for r in records}) > 1:
            for r in records:
                r["answer"] = vqa_process_punctuation(r["answer"])
    return _leave_one_out(records, pred)


def textvqa_score(prediction: str, reference: Any) -> float:
    """One question's accuracy under MMF's ``TextVQAAccuracyEvaluator`` (module docstring)."""
    answers = [normalize_textvqa(_answer_text(a)) for a in human_answers(reference, "textvqa_accuracy")]
    if len(answers) != 10:
        raise SampleError(
            f"textvqa_accuracy needs exactly 10 human answers (the script asserts it), got {len(answers)}"
        )
    pred = normalize_textvqa(prediction)
    if pred not in answers:
        return 0.0
    records = [{"answer": a, "_annotator": i} for i, a in enumerate(answers)]
    return _leave_one_out(records, pred)


@register_metric("vqa_accuracy")
def vqa_accuracy(prediction: Any, reference: Any, version: str = "2021", **_: Any) -> float:
    """VQAv2 vqaEval.py: mean over held-out annotators of min(1, matches / 3); normalised only if humans disagree."""
    return vqa_eval_score(str(prediction), reference, version)


@register_metric("textvqa_accuracy")
def textvqa_accuracy(prediction: Any, reference: Any, **_: Any) -> float:
    """TextVQA (MMF evaluator): prediction and all 10 answers normalised; held-out min(1, matches / 3)."""
    return textvqa_score(str(prediction), reference)
