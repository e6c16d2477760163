"""MME yes/no metrics: accuracy, accuracy+ (both questions of an image right), and the score.

MME asks two yes/no questions about each image. Per subtask (category) the benchmark reports
acc (share of questions right) and acc+ (share of images with both questions right), and
its score is (acc + acc+) * 100; the Perception and Cognition totals are the sums of their
subtasks' scores (max 2000 and 800). Answers are read with :func:`extract_yes_no`; an
answer that is neither counts as wrong.

Per-sample values carry the image (and category) so that aggregation can pair questions:
``mme_acc_plus`` -> ``{"image": ..., "correct": 0/1}``, ``mme_score`` ->
``{"category": ..., "image": ..., "correct": 0/1}``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from lmms_eval.api.errors import SampleError
from lmms_eval.api.metric import register_metric
from lmms_eval.metrics.extract import extract_yes_no

MME_PERCEPTION = (
    "existence",
    "count",
    "position",
    "color",
    "posters",
    "celebrity",
    "scene",
    "landmark",
    "artwork",
    "OCR",
)
MME_COGNITION = ("commonsense_reasoning", "numerical_calculation", "text_translation", "code_reasoning")


def mme_correct(prediction: str, reference: Any) -> int:
    """1 if the yes/no read from the answer equals the reference ("Yes"/"No"), else 0."""
    gold = str(reference).strip().lower()
    if gold not in ("yes", "no"):
        raise SampleError(f"MME reference must be 'Yes' or 'No', got {reference!r}; check doc_to_target.")
    return int(extract_yes_no(prediction) == gold)


def _doc_field(doc: dict[str, Any] | None, key: str, metric: str) -> str:
    if not doc or key not in doc:
        raise SampleError(
            f"{metric} needs the doc field {key!r} to pair the two questions of an image; "
            f"set the metric's image_key/category_key to the right column."
        )
    return str(doc[key])


def image_accuracy(pairs: Iterable[tuple[Any, int]]) -> float:
    """Share of images whose questions are all answered correctly (acc+ as a fraction)."""
    per_image: dict[Any, bool] = {}
    for image, correct in pairs:
        per_image[image] = per_image.get(image, True) and bool(correct)
    return sum(per_image.values()) / len(per_image) if per_image else float("nan")


def mme_category_scores(values: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per category: ``acc`` and ``acc_plus`` in percent, ``score`` = acc + acc_plus, ``n`` questions.

    ``values`` are ``mme_score`` per-sample values (``category``, ``image``, ``correct``).
    """
    by_category: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for value in values:
        by_category[str(value["category"])].append(value)
    out: dict[str, dict[str, float]] = {}
    for category, items in by_category.items():
        acc = 100.0 * sum(int(v["correct"]) for v in items) / len(items)
        acc_plus = 100.0 * image_accuracy((v["image"], int(v["correct"])) for v in items)
        out[category] = {"acc": acc, "acc_plus": acc_plus, "score": acc + acc_plus, "n": float(len(items))}
    return out


def mme_total(values: Sequence[dict[str, Any]], categories: Iterable[str] | None = None) -> float:
    """Sum of (acc + acc+) over categories: MME's reported number.

    ``categories`` restricts the sum (``MME_PERCEPTION`` or ``MME_COGNITION``); by default
    every category present counts.
    """
    scores = mme_category_scores(values)
    wanted = set(categories) if categories is not None else set(scores)
    return sum(s["score"] for c, s in scores.items() if c in wanted) if scores else float("nan")


def mme_acc_plus_aggregate(values: Sequence[dict[str, Any]]) -> float:
    """acc+ over all values: share of images (by ``image``) with every question right."""
    return image_accuracy((v["image"], int(v["correct"])) for v in values)


@register_metric("mme_acc")
def mme_acc(prediction: str, reference: Any, **_: Any) -> float:
    """MME acc: 1.0 if the yes/no read from the answer matches the reference (unparsed = wrong)."""
    return float(mme_correct(prediction, reference))


@register_metric("mme_acc_plus", aggregate=mme_acc_plus_aggregate)
def mme_acc_plus(
    prediction: str,
    reference: Any,
    doc: dict[str, Any] | None = None,
    image_key: str = "question_id",
    category_key: str = "category",
    **_: Any,
) -> dict[str, Any]:
    """MME acc+: share of images whose two questions are both answered correctly (paired by image id).

    The image id is ``doc[image_key]``, prefixed with ``doc[category_key]`` when the doc has it.
    """
    image = _doc_field(doc, image_key, "mme_acc_plus")
    if doc is not None and category_key in doc:
        image = f"{doc[category_key]}/{image}"
    return {"image": image, "correct": mme_correct(prediction, reference)}


@register_metric("mme_score", aggregate=mme_total, unit="points")
def mme_score(
    prediction: str,
    reference: Any,
    doc: dict[str, Any] | None = None,
    image_key: str = "question_id",
    category_key: str = "category",
    **_: Any,
) -> dict[str, Any]:
    """MME score: sum over categories of (acc + acc+) in percent (Perception max 2000, Cognition 800)."""
    category = _doc_field(doc, category_key, "mme_score")
    image = _doc_field(doc, image_key, "mme_score")
    return {"category": category, "image": f"{category}/{image}", "correct": mme_correct(prediction, reference)}
