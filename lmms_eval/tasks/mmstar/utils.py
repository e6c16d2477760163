"""MMStar prompt: the ``question`` cell (which already holds ``Options: A: ..., B: ...``) and
lmms-eval's instruction.

``{pre_prompt}{question stripped}{post_prompt}`` with ``post_prompt`` = ``"\\nAnswer with the
option's letter from the given choices directly"`` (lmms-eval ``tasks/mmstar``
``_default_template_yaml``, no final full stop), so the options are not written twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def doc_to_text(doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None) -> str:
    """``{pre_prompt}{question}{post_prompt}``."""
    kwargs = lmms_eval_specific_kwargs or {}
    return f"{kwargs.get('pre_prompt', '')}{str(doc['question']).strip()}{kwargs.get('post_prompt', '')}"
