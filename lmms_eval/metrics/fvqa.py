"""FVQA (MMSearch-R1): the exact-match rule the MMSearch-R1 code scores answers with.

Source: ``EvolvingLMMs-Lab/multimodal-search-r1`` @ ``583c6b4``:
``mmsearch_r1/utils/reward_score_mm/mmsearch_r1_score.py`` (``extract_solution``: the last
``<answer>...</answer>``; ``em_check``: SQuAD normalisation, equal to any reference) and
``mmsearch_r1/workers/multimodal/reward/mmsearch_r1.py`` (the references are ``ground_truth``
plus the JSON list ``candidate_answers``, non-strings dropped). Our own implementation.

The paper's reported FVQA accuracy is an LLM judge whose prompt was not released; that variant is
the task's ``fvqa_judge_acc`` judge block (our prompt), not a metric here.
"""

from __future__ import annotations

import re
from typing import Any

from lmms_eval.api.metric import register_metric
from lmms_eval.metrics.normalize import normalize_squad
from lmms_eval.metrics.text import references

_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)  # case-sensitive, as the official pattern


def fvqa_answer(response: Any) -> str:
    """The answer of a response: the stripped text of its last ``<answer>...</answer>``, else the
    whole response stripped (official: no tag scores 0; see the task README for why we differ)."""
    text = "" if response is None else str(response)
    found = _ANSWER.findall(text)
    return found[-1].strip() if found else text.strip()


@register_metric("fvqa_em")
def fvqa_em(prediction: Any, reference: Any, **_: Any) -> float:
    """1.0 when the SQuAD-normalised answer equals a normalised ground truth or candidate answer."""
    answer = normalize_squad(fvqa_answer(prediction))
    return 1.0 if any(normalize_squad(ref) == answer for ref in references(reference)) else 0.0


@register_metric("fvqa_parse_rate")
def fvqa_parse_rate(prediction: Any, reference: Any = None, response: Any = None, **_: Any) -> float:
    """1.0 when the model's response holds an ``<answer>...</answer>`` tag (the official extraction
    parses it). The whole ``response`` is read when the engine passes it: under the ``reasoning``
    variant or an agent protocol the prediction is already the tag's content."""
    text = response if response is not None else prediction
    return 1.0 if _ANSWER.search("" if text is None else str(text)) else 0.0
