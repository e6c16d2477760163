"""MME yes/no metrics: acc, acc+ and the score per subtask, the Perception and Cognition totals.

The official rule is ``tools/eval_tool/calculation.py`` of
``BradyFU/Awesome-Multimodal-Large-Language-Models`` (branch ``Evaluation``, ``tools/eval_tool.zip``,
commit ``1c1d69e``), reimplemented. :func:`parse_pred_ans`, in order:

1. the response is lower-cased, NOT stripped (``" yes"`` keeps its space);
2. exactly ``"yes"`` or ``"no"``: that answer;
3. else ``"yes"`` inside the first 4 characters: yes (``"yesterday"``, ``"yes,"``, ``" yes"``);
4. else ``"no"`` inside the first 4 characters: no (``"no."``, ``"not "``, ``"know"``, ``"none"``);
5. else ``"other"``, which never equals the reference (wrong) and is counted in ``other_num``.

The reference (``Yes``/``No``) is lower-cased and must be yes or no (the script asserts it).
Per subtask (``category``): ``acc`` = right / questions, ``acc+`` = images whose questions are all
right / images (the script pairs consecutive lines, two per image; here the questions are grouped
by image id, which is the same on the hub copy where every image has two questions), the score is
``acc * 100 + acc+ * 100``; Perception is the sum of the 10 perception subtask scores (max 2000),
Cognition the sum of the 4 cognition ones (max 800).

Metrics (per-sample values carry the category and image so the aggregation can pair questions):

* ``mme_acc`` (0/1, mean), ``mme_acc_plus`` (``{"image", "correct"}``, share of images all right),
  ``mme_score`` (``{"category", "image", "correct"}``, sum of (acc + acc+) x 100 over the
  categories present), ``mme_perception`` / ``mme_cognition`` (the same values summed over the
  perception / cognition categories only; no such category present: no value), all official;
* ``mme_parse_rate``: 1 when the official rule reads yes or no (not "other");
* ``mme_score_lenient`` (not official): ``mme_score`` with answers read by the shared
  :func:`~lmms_eval.metrics.extract.extract_yes_no` (first word, else the only one of yes/no as
  a whole word, ``*`` and leading quotes/brackets dropped), which reads "I think yes" and
  "**Yes**" but not "yesterday" or "Nobody".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
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

OTHER = "other"


def parse_pred_ans(prediction: Any) -> str:
    """``"yes"``, ``"no"`` or ``"other"``: the official ``parse_pred_ans`` (module docstring)."""
    text = ("" if prediction is None else str(prediction)).lower()
    if text in ("yes", "no"):
        return text
    prefix = text[:4]
    if "yes" in prefix:
        return "yes"
    if "no" in prefix:
        return "no"
    return OTHER


def parse_lenient(prediction: Any) -> str:
    """``"yes"``/``"no"`` as :func:`extract_yes_no` reads the answer, else ``"other"`` (not official)."""
    return extract_yes_no("" if prediction is None else str(prediction)) or OTHER


def gold_answer(reference: Any) -> str:
    """The reference lower-cased; it must be yes or no (the official script asserts this)."""
    gold = str(reference).lower()
    if gold not in ("yes", "no"):
        raise SampleError(f"MME reference must be 'Yes' or 'No', got {reference!r}; check doc_to_target.")
    return gold


def mme_correct(prediction: Any, reference: Any, parse: Callable[[Any], str] = parse_pred_ans) -> int:
    """1 if the answer read by ``parse`` (the official rule by default) equals the reference, else 0."""
    gold = gold_answer(reference)
    return int(parse(prediction) == gold)


def _doc_field(doc: dict[str, Any] | None, key: str, metric: str) -> str:
    if not doc or key not in doc:
        raise SampleError(
            f"{metric} needs the doc field {key!r} to pair the two questions of an image; "
            f"set the metric's image_key/category_key to the right column."
        )
    return str(doc[key])


def _image_id(category: str, image: str) -> str:
    """``category/image``, unless the image id already starts with it (the hub's ``question_id``
    is ``<category>/<file name>``): the same file name in two subtasks stays two images."""
    return image if image.startswith(f"{category}/") else f"{category}/{image}"


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

    ``categories`` restricts the sum (``MME_PERCEPTION`` or ``MME_COGNITION``); by default every
    category present counts. NaN (no value) when none of the wanted categories is present.
    """
    scores = mme_category_scores(values)
    wanted = set(categories) if categories is not None else set(scores)
    present = [s["score"] for c, s in scores.items() if c in wanted]
    return sum(present) if present else float("nan")


def mme_perception_total(values: Sequence[dict[str, Any]]) -> float:
    """Perception score: the sum over the perception subtasks present (max 2000 with all ten)."""
    return mme_total(values, MME_PERCEPTION)


def mme_cognition_total(values: Sequence[dict[str, Any]]) -> float:
    """Cognition score: the sum over the cognition subtasks present (max 800 with all four)."""
    return mme_total(values, MME_COGNITION)


def mme_acc_plus_aggregate(values: Sequence[dict[str, Any]]) -> float:
    """acc+ over all values: share of images (by ``image``) with every question right."""
    return image_accuracy((v["image"], int(v["correct"])) for v in values)


def _score_value(
    prediction: Any,
    reference: Any,
    doc: dict[str, Any] | None,
    image_key: str,
    category_key: str,
    metric: str,
    parse: Callable[[Any], str] = parse_pred_ans,
) -> dict[str, Any]:
    category = _doc_field(doc, category_key, metric)
    image = _doc_field(doc, image_key, metric)
    return {
        "category": category,
        "image": _image_id(category, image),
        "correct": mme_correct(prediction, reference, parse),
    }


@register_metric("mme_acc")
def mme_acc(prediction: Any, reference: Any, **_: Any) -> float:
    """MME acc (official ``parse_pred_ans``): 1.0 if the answer read equals the reference; "other" is wrong."""
    return float(mme_correct(prediction, reference))


@register_metric("mme_parse_rate")
def mme_parse_rate(prediction: Any, reference: Any, **_: Any) -> float:
    """1.0 if the official rule reads yes or no from the answer (not "other"); the reference is checked."""
    gold_answer(reference)
    return float(parse_pred_ans(prediction) != OTHER)


@register_metric("mme_acc_plus", aggregate=mme_acc_plus_aggregate)
def mme_acc_plus(
    prediction: Any,
    reference: Any,
    doc: dict[str, Any] | None = None,
    image_key: str = "question_id",
    category_key: str = "category",
    **_: Any,
) -> dict[str, Any]:
    """MME acc+: share of images whose two questions are both answered correctly (paired by image id).

    The image id is ``doc[image_key]``, prefixed with ``doc[category_key]`` when the doc has it
    (and the id does not already start with it).
    """
    image = _doc_field(doc, image_key, "mme_acc_plus")
    if doc is not None and category_key in doc:
        image = _image_id(str(doc[category_key]), image)
    return {"image": image, "correct": mme_correct(prediction, reference)}


@register_metric("mme_score", aggregate=mme_total, unit="points")
def mme_score(
    prediction: Any,
    reference: Any,
    doc: dict[str, Any] | None = None,
    image_key: str = "question_id",
    category_key: str = "category",
    **_: Any,
) -> dict[str, Any]:
    """MME score: sum over the categories present of (acc + acc+) x 100 (per category: that subtask's score)."""
    return _score_value(prediction, reference, doc, image_key, category_key, "mme_score")


@register_metric("mme_perception", aggregate=mme_perception_total, unit="points")
def mme_perception(
    prediction: Any,
    reference: Any,
    doc: dict[str, Any] | None = None,
    image_key: str = "question_id",
    category_key: str = "category",
    **_: Any,
) -> dict[str, Any]:
    """MME Perception: (acc + acc+) x 100 summed over the 10 perception subtasks (max 2000)."""
    return _score_value(prediction, reference, doc, image_key, category_key, "mme_perception")


@register_metric("mme_cognition", aggregate=mme_cognition_total, unit="points")
def mme_cognition(
    prediction: Any,
    reference: Any,
    doc: dict[str, Any] | None = None,
    image_key: str = "question_id",
    category_key: str = "category",
    **_: Any,
) -> dict[str, Any]:
    """MME Cognition: (acc + acc+) x 100 summed over the 4 cognition subtasks (max 800)."""
    return _score_value(prediction, reference, doc, image_key, category_key, "mme_cognition")


@register_metric("mme_score_lenient", aggregate=mme_total, unit="points")
def mme_score_lenient(
    prediction: Any,
    reference: Any,
    doc: dict[str, Any] | None = None,
    image_key: str = "question_id",
    category_key: str = "category",
    **_: Any,
) -> dict[str, Any]:
    """Not official: ``mme_score`` with answers read by ``extract_yes_no`` (first word / only yes-no word)."""
    return _score_value(prediction, reference, doc, image_key, category_key, "mme_score_lenient", parse_lenient)
