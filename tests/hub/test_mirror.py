"""LMMS_EVAL_HUB_MIRROR: a hub id loads from a hub-shaped folder through datasets.load_dataset."""

from __future__ import annotations

from pathlib import Path

import datasets
import numpy as np
import pytest

from hub.common import audio_cell, needs_flite, speak, write_hub_dataset
from lmms_eval.tasks.datasource import hub_mirror, open_split


def test_hub_id_loads_from_the_mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    features = datasets.Features({"audio": datasets.Audio(), "text": datasets.Value("string")})
    rows = [{"audio": audio_cell(np.zeros(1600, np.float32), "a.wav"), "text": "HI"}]
    write_hub_dataset(
        tmp_path / "mirror",
        "org/set",
        {"default": {"test": rows}, "other": {"dev": rows}},
        {
            "default": features,
            "other": features,
        },
    )
    assert hub_mirror("org/set") is None
    monkeypatch.setenv("LMMS_EVAL_HUB_MIRROR", f"{tmp_path / 'nothing'}:{tmp_path / 'mirror'}")
    assert hub_mirror("org/set") == str(tmp_path / "mirror" / "org" / "set")
    assert hub_mirror("org/missing") is None
    source = open_split("org/set", None, "test", {"revision": "abc123"}, str(tmp_path), "t")
    assert len(source) == 1 and source.rows([0])[0]["text"] == "HI"
    assert source.rows([0])[0]["audio"]["array"].shape == (1600,)
    assert len(open_split("org/set", "other", "dev", {}, str(tmp_path), "t")) == 1


@needs_flite
def test_flite_speech_is_deterministic_16k() -> None:
    a, b = speak("hello world"), speak("hello world")
    assert a.dtype == np.float32 and np.array_equal(a, b) and 0.5 < len(a) / 16000 < 3


def test_two_mirrors_of_one_repo_never_share_a_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """datasets alone keys a local folder's cache by name and relative file paths: a/org/set and
    b/org/set with same-sized files would load the same rows."""
    features = {"default": datasets.Features({"text": datasets.Value("string")})}
    for name in ("a", "b"):
        rows = [{"text": f"{name.upper()}1"}, {"text": f"{name.upper()}2"}]
        write_hub_dataset(tmp_path / name, "org/set", {"default": {"test": rows}}, features)
    loaded = []
    for name in ("a", "b"):
        monkeypatch.setenv("LMMS_EVAL_HUB_MIRROR", str(tmp_path / name))
        loaded.append([row["text"] for row in open_split("org/set", None, "test", {}, str(tmp_path), "t").rows([0, 1])])
    assert loaded == [["A1", "A2"], ["B1", "B2"]]
