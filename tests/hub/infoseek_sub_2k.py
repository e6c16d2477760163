"""Fixture: ``mmsearch_r1_infoseek_sub_2k.parquet`` in MMSearch-R1's veRL row format.

The Arrow schema is the one of ``mmsearch_r1/data/mini_data.pq`` @ ``583c6b4`` (read with pyarrow):
``prompt: list<struct<content: string, role: string>>``, ``images: list<struct<bytes: binary,
path: null>>``, ``reward_model: struct<candidate_answers: string, ground_truth: string, style:
string>``, ``data_source: string``, ``image_urls: null``. Four rows, 64x64 JPEG images.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hub.common import encode_image

FILE = "mmsearch_r1_infoseek_sub_2k.parquet"
# question, ground truth, candidates, scripted answer (direct mode)
ROWS: list[tuple[str, str, list[str], str]] = [
    (
        "What is the country of origin of this food?",
        "Spain",
        ["Kingdom of Spain", "ESP"],
        "<answer>Kingdom of Spain</answer>",
    ),
    ("Who commissioned this building?", "Order of Saint John", [], "<answer>the Templars</answer>"),
    ("What is this garden named after?", "Tuileries Palace", ["Palais des Tuileries"], "Tuileries Palace"),
    ("Who is the owner of this place?", "Portugal", ["PRT"], "<answer>prt</answer>"),
]
ANSWERS = {str(i): row[3] for i, row in enumerate(ROWS)}


def schema() -> Any:
    import pyarrow as pa

    return pa.schema(
        [
            ("prompt", pa.list_(pa.struct([("content", pa.string()), ("role", pa.string())]))),
            ("images", pa.list_(pa.struct([("bytes", pa.binary()), ("path", pa.null())]))),
            (
                "reward_model",
                pa.struct([("candidate_answers", pa.string()), ("ground_truth", pa.string()), ("style", pa.string())]),
            ),
            ("data_source", pa.string()),
            ("image_urls", pa.null()),
        ]
    )


def build(folder: Path) -> Path:
    """Write ``<folder>/mmsearch_r1_infoseek_sub_2k.parquet`` and return it."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rows = [
        {
            "prompt": [{"content": question, "role": "user"}],
            "images": [{"bytes": encode_image(Image.new("RGB", (64, 64), (40 * i, 90, 160)), "JPEG"), "path": None}],
            "reward_model": {"candidate_answers": json.dumps(candidates), "ground_truth": truth, "style": "rule"},
            "data_source": "mmsearch_r1/infoseek_sub_2k",
            "image_urls": None,
        }
        for i, (question, truth, candidates, _) in enumerate(ROWS)
    ]
    path = folder / FILE
    pq.write_table(pa.Table.from_pylist(rows, schema=schema()), path)
    return path
