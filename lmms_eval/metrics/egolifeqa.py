"""EgoLifeQA's scoring: EgoRAG's ``extract_single_option_answer`` (EvolvingLMMs-Lab/EgoLife @ 7a97157,
``EgoRAG/egorag/utils/util.py``) and ``RagAgent.calculate_accuracy``, reimplemented: the option is the
first ``\\b([A-D])\\b`` in the answer; correct when it equals the ``answer`` letter (both stripped);
accuracy = correct / all questions answered.

Difference, on purpose: EgoRAG turns an API error reply into a random letter and drops questions
whose query raised from the denominator; here an unparsed reply is simply wrong (reported by
``egolifeqa_parse_rate``) and a failed sample is an error record, counted in ``n_errors``.
"""

from __future__ import annotations

from typing import Any

from lmms_eval.api.metric import register_metric
from lmms_eval.metrics.extract import first_standalone_letter as extract_option


@register_metric("egolifeqa_acc")
def egolifeqa_acc(prediction: Any, reference: Any, **_: Any) -> float:
    """1.0 when the first standalone A-D of the reply is the answer letter; unparsed is wrong."""
    return float(extract_option(prediction) == str(reference).strip())


@register_metric("egolifeqa_parse_rate")
def egolifeqa_parse_rate(prediction: Any, reference: Any = None, **_: Any) -> float:
    """1.0 when the reply holds a standalone A-D."""
    return float(extract_option(prediction) is not None)
