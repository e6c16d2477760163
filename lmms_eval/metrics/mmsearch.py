"""MMSearch's official scores (``CaraJ7/MMSearch`` at commit ``d340f3f``), reimplemented.

Sources: ``score/f1_score.py`` (answer F1), ``score/req_score.py`` (requery score),
``eval_rerank.py`` + ``utils/prompt_utils.py::postprocess_rerank`` (rerank score),
``score/result_summary.py`` and ``get_final_scores.py`` (averages and the weighted final score).

* **Answer F1** (end-to-end and summarization tasks): SQuAD token F1 between the prediction and
  one answer - both normalised (lower-case, ASCII punctuation and a/an/the removed, whitespace
  collapsed) and split on whitespace; common tokens counted with multiplicity; an empty side
  scores 1 when both are empty, else 0. The sample's score is the **max over** ``gt_answer`` and
  every ``alternative_gt_answers`` item.
* **Requery score**: ``(BLEU-1 + ROUGE-L F) / 2`` between the model's search query and
  ``gt_requery``. BLEU-1 is nltk's ``sentence_bleu`` with weights ``(1, 0, 0, 0)`` and smoothing
  ``method1`` against one reference, both split on whitespace: ``BP * matches / len(hyp)``, with
  ``BP = exp(1 - len(ref) / len(hyp))`` when the hypothesis is shorter, and 0 when no unigram
  matches (nltk returns 0 then). ROUGE-L F is the ``rouge`` package's (pltrdy) summary-level
  ROUGE-L: texts split into sentences at ``.``, words at spaces; words counted as *sets*
  (its default ``exclusive=True``); the union over reference sentences of the words of the LCS
  with each hypothesis sentence, ``F = 2PR / (P + R + 1e-8)`` with ``P = |union| / |hyp words|``
  and ``R = |union| / |ref words|``. An empty hypothesis scores 0 here (the package raises).
* **Rerank score**: the indices ``<Website N>`` in the output (``N - 1``). Unless exactly
  ``rerank_num`` of them are found the output is invalid and scores 0; else the first index
  scores 1 when in ``valid``, 0.5 when in ``not_sure``, 0 otherwise. (The official check for
  indices below 1 is ``not all([[...]])``, which never fires: ``<Website 0>`` is valid and
  scores 0 as index -1 is in no list. The same here.)
* **Final score**: ``0.75 end2end + 0.05 requery + 0.1 rerank + 0.1 summarization`` of the task
  averages (a missing sample counts 0 in the official averages), also per ``area`` / ``subfield``.

Registered metrics (0-1, mean over samples): ``mmsearch_f1`` (the end-to-end and summarization
tasks' answer F1) and ``mmsearch_requery`` (the requery task's score). The rerank score and the
final score are pure functions: the rerank task is not built (see tasks/mmsearch/README.md).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from lmms_eval.api.errors import SampleError
from lmms_eval.api.metric import register_metric
from lmms_eval.metrics.text import squad_f1

FINAL_WEIGHTS: dict[str, float] = {"end2end": 0.75, "requery": 0.05, "rerank": 0.1, "summarization": 0.1}
_WEBSITE = re.compile(r"<Website (\d+)>")
_ROUGE_EPS = 1e-8


# ---- answer F1 ----------------------------------------------------------------------------


def answers_of(doc: Mapping[str, Any] | None, reference: Any = None) -> list[str]:
    """``gt_answer`` then ``alternative_gt_answers`` of a row (or ``reference`` when given)."""
    doc = doc or {}
    first = reference if reference is not None else doc.get("gt_answer")
    if first is None or (isinstance(first, (list, tuple)) and not first):
        raise SampleError(f"MMSearch {doc.get('sample_id')!r} has no gt_answer; the end2end rows need one")
    values = list(first) if isinstance(first, (list, tuple)) else [first]
    values += list(doc.get("alternative_gt_answers") or [])
    return [str(v) for v in values]


def best_answer_f1(prediction: str, answers: Iterable[str]) -> float:
    """Max token F1 over the answers (official end-to-end and summarization score)."""
    return max((squad_f1(prediction, answer) for answer in answers), default=0.0)


@register_metric("mmsearch_f1")
def mmsearch_f1(prediction: str, reference: Any, doc: Mapping[str, Any] | None = None, **_: Any) -> float:
    """MMSearch answer score: SQuAD token F1, max over gt_answer and alternative_gt_answers."""
    return best_answer_f1(prediction, answers_of(doc, reference))


def summarization_score(prediction: str, gt_answer: str, alternative_gt_answers: Sequence[str] = ()) -> float:
    """Official summarization-task score: the same max token F1 over the answer and its alternatives."""
    return best_answer_f1(prediction, [gt_answer, *alternative_gt_answers])


# ---- requery ------------------------------------------------------------------------------


def bleu1(hypothesis: str, reference: str) -> float:
    """nltk sentence BLEU-1 (weights (1,0,0,0), smoothing method1) on whitespace tokens."""
    hyp, ref = hypothesis.split(), reference.split()
    if not hyp:
        return 0.0
    ref_counts = Counter(ref)
    matches = sum(min(n, ref_counts[w]) for w, n in Counter(hyp).items())
    if matches == 0:
        return 0.0
    brevity = 1.0 if len(hyp) >= len(ref) else math.exp(1 - len(ref) / len(hyp))
    return brevity * matches / len(hyp)


def _sentences(text: str) -> list[list[str]]:
    """pltrdy rouge's split: sentences at ``.`` (empty pieces dropped), words at single spaces."""
    return [" ".join(part.split()).split(" ") for part in text.split(".") if part]


def _lcs_words(ref: Sequence[str], hyp: Sequence[str]) -> set[str]:
    """Words of the LCS of ``ref`` and ``hyp`` as the package reconstructs it (up on a strict win)."""
    rows, cols = len(ref), len(hyp)
    table = [[0] * (cols + 1) for _ in range(rows + 1)]
    for i in range(1, rows + 1):
        for j in range(1, cols + 1):
            if ref[i - 1] == hyp[j - 1]:
                table[i][j] = table[i - 1][j - 1] + 1
            else:
                table[i][j] = max(table[i - 1][j], table[i][j - 1])
    words: set[str] = set()
    i, j = rows, cols
    while i and j:
        if ref[i - 1] == hyp[j - 1]:
            words.add(ref[i - 1])
            i, j = i - 1, j - 1
        elif table[i - 1][j] > table[i][j - 1]:
            i -= 1
        else:
            j -= 1
    return words


def rouge_l_f(hypothesis: str, reference: str) -> float:
    """Summary-level ROUGE-L F of the ``rouge`` package (set semantics; 0 for an empty side)."""
    hyp_sents, ref_sents = _sentences(hypothesis), _sentences(reference)
    if not hyp_sents or not ref_sents:
        return 0.0
    hyp_words = {w for s in hyp_sents for w in s}
    ref_words = {w for s in ref_sents for w in s}
    union: set[str] = set()
    for ref_sent in ref_sents:
        for hyp_sent in hyp_sents:
            union |= _lcs_words(ref_sent, hyp_sent)
    precision, recall = len(union) / len(hyp_words), len(union) / len(ref_words)
    return 2.0 * (precision * recall) / (precision + recall + _ROUGE_EPS)


def requery_score(requery: str, gt_requery: str) -> dict[str, float]:
    """Official requery score: ``{"bleu", "rouge_l", "score" = (bleu + rouge_l) / 2}``."""
    bleu, rouge = bleu1(requery, gt_requery), rouge_l_f(requery, gt_requery)
    return {"bleu": bleu, "rouge_l": rouge, "score": (bleu + rouge) / 2}


@register_metric("mmsearch_requery")
def mmsearch_requery(prediction: Any, reference: Any, **_: Any) -> float:
    """MMSearch requery score: (BLEU-1 + ROUGE-L F) / 2 of the model's query against ``gt_requery``."""
    return requery_score("" if prediction is None else str(prediction), str(reference))["score"]


# ---- rerank -------------------------------------------------------------------------------


def parse_rerank(output: str, rerank_num: int) -> tuple[list[int], bool]:
    """Selected website indices (0-based) and whether exactly ``rerank_num`` were written."""
    indices = [int(n) - 1 for n in _WEBSITE.findall(output)]
    if len(indices) > rerank_num:
        return indices[:rerank_num], False
    if len(indices) < rerank_num:
        return (indices or list(range(rerank_num))), False
    return indices, True


def rerank_score(output: str, valid: Sequence[int], not_sure: Sequence[int], rerank_num: int = 1) -> float:
    """Official rerank score of one output: 1 (first pick in ``valid``), 0.5 (``not_sure``), else 0."""
    indices, ok = parse_rerank(output, rerank_num)
    if not ok or not indices:
        return 0.0
    if indices[0] in valid:
        return 1.0
    return 0.5 if indices[0] in not_sure else 0.0


# ---- final score --------------------------------------------------------------------------


def group_average(scores: Sequence[Mapping[str, Any]], key: str, field: str | None = None) -> dict[str, float]:
    """Average of ``key`` overall (``{"total": ...}``) or per value of ``field`` (area/subfield)."""
    buckets: dict[str, list[float]] = {}
    for row in scores:
        label = "total" if field is None else str(row[field])
        buckets.setdefault(label, []).append(float(row[key]))
    return {label: math.fsum(vals) / len(vals) for label, vals in buckets.items()}


def final_score(task_averages: Mapping[str, float]) -> float:
    """Official weighted final score: 0.75 end2end + 0.05 requery + 0.1 rerank + 0.1 summarization."""
    missing = [task for task in FINAL_WEIGHTS if task not in task_averages]
    if missing:
        raise ValueError(f"MMSearch final score needs the averages of {missing}; run those tasks first")
    return math.fsum(weight * float(task_averages[task]) for task, weight in FINAL_WEIGHTS.items())
