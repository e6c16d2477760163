"""FVQA test (``lmms-lab/FVQA``, ``fvqa_test.parquet``, veRL format): image, question, references.

Columns (MMSearch-R1 ``mmsearch_r1/data/mini_data.pq`` @ ``583c6b4`` and the FVQA files):
``prompt`` a list of ``{content, role}`` (the user turn is the bare question; MMSearch-R1 puts its
round-1 agent prompt in front at load time), ``images`` a list of ``{bytes, path}``,
``reward_model`` ``{ground_truth, candidate_answers (a JSON list as a string), style}``,
``data_source``, ``image_urls``, ``data_id``, ``category`` (search_required / search_free).
The scoring rule is :mod:`lmms_eval.metrics.fvqa`.
"""

from __future__ import annotations

import json
from typing import Any

from lmms_eval.api.errors import SampleError


def question(doc: dict[str, Any]) -> str:
    """The question: the content of the last user turn of ``prompt``."""
    turns = [t for t in doc.get("prompt") or [] if isinstance(t, dict) and t.get("role") == "user"]
    if not turns or not str(turns[-1].get("content") or "").strip():
        raise SampleError(f"FVQA sample {doc.get('data_id')!r}: 'prompt' has no user turn with a question")
    return str(turns[-1]["content"]).strip()


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    """``{pre_prompt}{question}{post_prompt}``."""
    kwargs = lmms_eval_specific_kwargs or {}
    return f"{kwargs.get('pre_prompt', '')}{question(doc)}{kwargs.get('post_prompt', '')}"


def doc_to_visual(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The images of ``images`` as ``{"bytes"}`` / ``{"path"}`` cells (usually one)."""
    cells = []
    for cell in doc.get("images") or []:
        if isinstance(cell, dict) and cell.get("bytes"):
            cells.append({"bytes": cell["bytes"]})
        elif isinstance(cell, dict) and cell.get("path"):
            cells.append({"path": cell["path"]})
    if not cells:
        raise SampleError(f"FVQA sample {doc.get('data_id')!r}: 'images' holds no image bytes or path")
    return cells


def doc_to_target(doc: dict[str, Any]) -> list[str]:
    """``[ground_truth] + candidate_answers`` (strings only, as the official reward manager)."""
    reward = doc.get("reward_model") or {}
    refs: list[Any] = [reward.get("ground_truth")]
    raw = reward.get("candidate_answers")
    if isinstance(raw, str) and raw.strip():
        try:
            parsed = json.loads(raw)
        except ValueError as exc:
            raise SampleError(
                f"FVQA sample {doc.get('data_id')!r}: reward_model.candidate_answers is not a JSON list ({exc})"
            ) from None
        refs += parsed if isinstance(parsed, list) else [parsed]
    elif isinstance(raw, list):
        refs += raw
    out = [r for r in refs if isinstance(r, str)]
    if not out:
        raise SampleError(f"FVQA sample {doc.get('data_id')!r}: reward_model has no ground_truth string")
    return out
