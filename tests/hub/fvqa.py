"""Fixture: a hub-shaped copy of ``lmms-lab/FVQA`` holding ``fvqa_test.parquet`` at the repository
root, as on the hub (veRL-format file, loaded with ``data_files``).

Columns and types as MMSearch-R1's ``mmsearch_r1/data/mini_data.pq`` (@ ``583c6b4``) holds them:
``prompt`` list<struct{content, role}>, ``images`` list<struct{bytes, path}>, ``reward_model``
struct{candidate_answers (a JSON list in a string), ground_truth, style}, ``data_source`` string,
``image_urls`` (all null there; a string column here), plus ``data_id`` and ``category`` strings
(named by third-party docs; their hub types were not seen). Images are 64x64 drawings.
``ANSWERS`` is what the scripted model says per ``data_id`` (scores worked by hand in test_fvqa.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hub.common import encode_image

REPO_ID = "lmms-lab/FVQA"

# data_id -> (category, question, ground_truth, candidate answers)
ITEMS: dict[str, tuple[str, str, str, list[str]]] = {
    "fvqa_test_0": (
        "search_required",
        "What is the country of origin of this food?",
        "Spain",
        ["Kingdom of Spain", "ES"],
    ),
    "fvqa_test_1": ("search_free", "Who is this statue dedicated to?", "Gautama Buddha", ["Buddha", "Shakyamuni"]),
    "fvqa_test_2": ("search_required", "What is this landmark called?", "Eiffel Tower", []),
    "fvqa_test_3": ("search_free", "In which year was this building completed?", "1889", ["1889 AD"]),
    "fvqa_test_4": ("search_required", "What is the name of this mountain?", "Mount Fuji", ["Fuji", "Fujisan"]),
    "fvqa_test_5": ("search_free", "Which city is shown in this picture?", "Tokyo", ["Tokyo Metropolis"]),
}

ANSWERS: dict[str, str] = {
    "fvqa_test_0": "<answer>the Kingdom of Spain</answer>",  # an alias after SQuAD normalisation
    "fvqa_test_1": "It is Buddha.",  # no tag: the whole reply "it is buddha" matches nothing
    "fvqa_test_2": "<answer>eiffel tower.</answer>",
    "fvqa_test_3": "<answer>1890</answer> no, <answer>1889</answer>",  # the last tag counts
    "fvqa_test_4": "Fujisan",  # no tag: the whole reply, an alias
    "fvqa_test_5": "<answer>Kyoto</answer>",  # wrong
}


def _png(shade: int) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (64, 64), (shade, 120, 200 - shade))
    ImageDraw.Draw(image).rectangle((16, 16, 48, 48), outline=(255, 255, 255))
    return encode_image(image)


def rows() -> list[dict[str, Any]]:
    """The test rows in file order."""
    out = []
    for i, (data_id, (category, question, truth, candidates)) in enumerate(ITEMS.items()):
        out.append(
            {
                "prompt": [{"content": question, "role": "user"}],
                "images": [{"bytes": _png(30 * i), "path": None}],
                "reward_model": {"candidate_answers": json.dumps(candidates), "ground_truth": truth, "style": "rule"},
                "data_source": "mmsearch_r1/fvqa_test",
                "image_urls": None,
                "data_id": data_id,
                "category": category,
            }
        )
    return out


def features() -> Any:
    """The ``datasets`` features of the file."""
    from datasets import Features, List, Value

    return Features(
        {
            "prompt": List({"content": Value("string"), "role": Value("string")}),
            "images": List({"bytes": Value("binary"), "path": Value("string")}),
            "reward_model": {
                "candidate_answers": Value("string"),
                "ground_truth": Value("string"),
                "style": Value("string"),
            },
            "data_source": Value("string"),
            "image_urls": Value("string"),
            "data_id": Value("string"),
            "category": Value("string"),
        }
    )


def build(mirror: Path) -> Path:
    """Write ``<mirror>/lmms-lab/FVQA/fvqa_test.parquet`` (and a card without ``configs:``)."""
    import datasets

    root = mirror.joinpath(*REPO_ID.split("/"))
    root.mkdir(parents=True, exist_ok=True)
    data = rows()
    columns = {name: [row[name] for row in data] for name in features()}
    datasets.Dataset.from_dict(columns, features=features()).to_parquet(str(root / "fvqa_test.parquet"))
    (root / "README.md").write_text("---\nlicense: apache-2.0\n---\n# FVQA (fixture)\n", encoding="utf-8")
    return root
