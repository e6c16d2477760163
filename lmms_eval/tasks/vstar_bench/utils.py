"""V* Bench prompts: the ``text`` cell taken apart so the task's own instruction is ``post_prompt``.

``lmms-lab/vstar-bench`` stores ``question\\n(A) ...\\n(B) ...\\nAnswer with the option's letter
from the given choices directly.`` in one cell; :func:`lmms_eval.metrics.vstar.split_vstar_text`
splits it. The generative prompt is ``{pre_prompt}{question}\\n(A) ...{post_prompt}`` with the
instruction as the default ``post_prompt`` (so the default prompt is the cell as stored, once,
and the ``reasoning`` variant replaces exactly the instruction). The likelihood prompt is the
bare question, as ``vstar_bench_eval.py`` builds it (penghao-wu/vstar @ 7539bcc:
``DEFAULT_IMAGE_TOKEN + '\\n' + question``, options scored as the reply). The image is passed
as stored: no resize here; the model's own pixel limits apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lmms_eval.metrics.extract import LETTERS
from lmms_eval.metrics.vstar import split_vstar_text


def doc_to_choice(doc: Mapping[str, Any]) -> list[str]:
    """The option texts, in letter order."""
    return split_vstar_text(doc["text"], doc)[1]


def doc_to_text(doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None) -> str:
    """Generative prompt: ``{pre_prompt}{question}`` + ``\\n(A) option`` lines + ``{post_prompt}``."""
    kwargs = lmms_eval_specific_kwargs or {}
    question, options = split_vstar_text(doc["text"], doc)
    lines = "".join(f"\n({LETTERS[i]}) {option}" for i, option in enumerate(options))
    return f"{kwargs.get('pre_prompt', '')}{question}{lines}{kwargs.get('post_prompt', '')}"


def doc_to_question(doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None) -> str:
    """Likelihood prompt: ``{pre_prompt}{question}{post_prompt}`` without the options."""
    kwargs = lmms_eval_specific_kwargs or {}
    question, _ = split_vstar_text(doc["text"], doc)
    return f"{kwargs.get('pre_prompt', '')}{question}{kwargs.get('post_prompt', '')}"


def _category(ds: Any, category: str) -> Any:
    """The rows of one ``category``, read without decoding any image."""
    if isinstance(ds, list):
        return [row for row in ds if row.get("category") == category]
    return ds.select([i for i, value in enumerate(ds["category"]) if value == category])


def direct_attributes_docs(ds: Any) -> Any:
    """``process_docs`` of ``vstar_bench_direct_attributes`` (115 rows)."""
    return _category(ds, "direct_attributes")


def relative_position_docs(ds: Any) -> Any:
    """``process_docs`` of ``vstar_bench_relative_position`` (76 rows)."""
    return _category(ds, "relative_position")


def mgpo_question(doc: Mapping[str, Any]) -> str:
    """The question alone (no options, no instruction): MGPO's turn-1 text and turn-2 ``{question}``."""
    return split_vstar_text(doc["text"], doc)[0]
