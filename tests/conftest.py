"""Shared fixtures: a folder of toy tasks written on the fly, and a scripted model."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from scripted_model import ScriptedModel  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own task-index cache folder."""
    monkeypatch.setenv("LMMS_EVAL_CACHE", str(tmp_path_factory.mktemp("cache")))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def make_toy_tasks(root: Path, n_docs: int = 12) -> Path:
    """A task folder: `say_word` (jinja + overrides), `say_upper` (include + !function), a group."""
    rows = [{"qid": f"q{i}", "word": f"w{i}", "answer": f"w{i}" if i % 3 else "nope"} for i in range(n_docs)]
    (root / "data").mkdir(parents=True, exist_ok=True)
    with open(root / "data" / "words.jsonl", "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")
    write(
        root / "_base_yaml",
        """
        dataset_path: json
        dataset_kwargs:
          data_files: data/words.jsonl
        test_split: train
        doc_to_target: answer
        metric_list:
          - metric: exact_match
        generation_kwargs:
          max_new_tokens: 8
        metadata:
          version: 2
        """,
    )
    write(
        root / "say_word.yaml",
        """
        task: say_word
        tag: [toy_tag]
        include: _base_yaml
        doc_id_column: qid
        doc_to_text: "{{pre_prompt}}Say {{word}}"
        lmms_eval_specific_kwargs:
          default: {pre_prompt: ""}
          scripted: {pre_prompt: "Please "}
        """,
    )
    write(
        root / "utils.py",
        """
        def upper_text(doc, lmms_eval_specific_kwargs=None):
            return "Shout " + doc["word"].upper()

        def upper_target(doc):
            return doc["answer"].upper()
        """,
    )
    write(
        root / "say_upper.yaml",
        """
        task: say_upper
        tag: toy_tag
        include: _base_yaml
        doc_to_text: !function utils.upper_text
        doc_to_target: !function utils.upper_target
        """,
    )
    write(
        root / "toy_group.yaml",
        """
        group: toy_group
        task: [say_word, say_upper]
        aggregate_metric_list:
          - metric: exact_match
            weight_by_size: true
        metadata: {version: 1}
        """,
    )
    return root


@pytest.fixture
def toy_tasks(tmp_path: Path) -> Path:
    return make_toy_tasks(tmp_path / "tasks")


@pytest.fixture
def scripted() -> ScriptedModel:
    return ScriptedModel()
