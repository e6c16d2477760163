"""lmms_eval: a plugin-based evaluation harness for large multimodal models.

``lmms_eval.evaluate(model=..., tasks=[...], **settings)`` runs an evaluation from Python (see
:mod:`lmms_eval.evaluation` and docs/api.md); it is imported on first use, so ``import lmms_eval``
stays cheap (no torch).
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "evaluate"]


def __getattr__(name: str) -> Any:
    if name == "evaluate":
        from lmms_eval.evaluation import evaluate

        return evaluate
    raise AttributeError(f"module 'lmms_eval' has no attribute {name!r}")
