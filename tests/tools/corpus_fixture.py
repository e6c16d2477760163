"""A 4-document, 2-image corpus shared by the tool tests (written with Pillow, no download)."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

# title + text tokens (lengths): d0 [cat, cat, sat] 3 | d1 [dog, dog, ran] 3 | d2 [pets, cat, and, dog] 4
# | d3 [sky, blue, sky] 3  -> N = 4, avgdl = 13 / 4 = 3.25
DOCUMENTS = [
    {"title": "Cat", "url": "https://ex.org/cat", "text": "cat sat"},
    {"title": "Dog", "url": "https://ex.org/dog", "text": "dog ran"},
    {"title": "Pets", "url": "https://ex.org/pets", "text": "cat and dog"},
    {"title": "Sky", "url": "https://ex.org/sky", "text": "blue sky"},
]


def halves(vertical: bool, invert: bool = False) -> Image.Image:
    """64x64: white left half (vertical) or top half (not vertical), black elsewhere; ``invert`` swaps."""
    img = Image.new("RGB", (64, 64), (0, 0, 0))
    box = (0, 0, 32, 64) if vertical else (0, 0, 64, 32)
    img.paste((255, 255, 255), box)
    if invert:
        img = Image.eval(img, lambda v: 255 - v)
    return img


def write_corpus(root: Path) -> Path:
    """Write documents.jsonl, images.jsonl and two PNGs under ``root``; returns ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "img").mkdir(exist_ok=True)
    halves(vertical=True).save(root / "img" / "left.png")
    halves(vertical=False).save(root / "img" / "top.png")
    with (root / "documents.jsonl").open("w") as fh:
        fh.writelines(json.dumps(d) + "\n" for d in DOCUMENTS)
    images = [
        {"path": "img/left.png", "caption": "white left half", "title": "Left", "url": "https://ex.org/left"},
        {"path": "img/top.png", "caption": "white top half", "title": "Top", "url": "https://ex.org/top"},
    ]
    with (root / "images.jsonl").open("w") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in images)
    return root
