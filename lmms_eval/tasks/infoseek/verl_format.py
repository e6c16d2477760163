"""The InfoSeek 2k subset MMSearch-R1 evaluates on (``mmsearch_r1_infoseek_sub_2k.parquet``).

It is in MMSearch-R1's veRL row format, documented in its ``mmsearch_r1/data/data_example.ipynb``
("Train/Val Data Format": ``prompt``, ``images``, ``reward_model``, ``data_source``,
``image_urls``) and shown by ``mini_data.pq`` (InfoSeek train rows) @ ``583c6b4``: the same format
as FVQA's files, so the row readers are FVQA's (:mod:`lmms_eval.tasks.fvqa.utils`), shared, not
copied.
"""

from __future__ import annotations

from lmms_eval.tasks.fvqa.utils import doc_to_target, doc_to_text, doc_to_visual, question

__all__ = ["doc_to_target", "doc_to_text", "doc_to_visual", "question"]
