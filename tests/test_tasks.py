"""Task YAML loading: schema, include, !function, jinja2, overrides, index, errors."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import write

from lmms_eval.api.errors import ConfigError, DatasetError, UsageError
from lmms_eval.tasks import load_selection
from lmms_eval.tasks.index import TaskIndex
from lmms_eval.tasks.task import Task


def test_unknown_key_rejected_with_did_you_mean(tmp_path: Path) -> None:
    path = write(
        tmp_path / "bad.yaml",
        """
        task: bad
        dataset_path: json
        doc_to_txt: "{{question}}"
        """,
    )
    with pytest.raises(ConfigError) as err:
        Task.from_yaml(str(path))
    message = str(err.value)
    assert str(path) in message and "'doc_to_txt'" in message and "Did you mean 'doc_to_text'" in message


def test_missing_required_key_names_file(tmp_path: Path) -> None:
    path = write(tmp_path / "nodata.yaml", "task: nodata\n")
    with pytest.raises(ConfigError, match=r"nodata.yaml: required key 'dataset_path' is missing"):
        Task.from_yaml(str(path))


def test_bad_yaml_reports_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "broken.yaml", "task: broken\ndataset_path: json\nmetric_list: [a, b\nfoo: 1\n")
    with pytest.raises(ConfigError, match=r"broken.yaml:\d+: invalid YAML"):
        Task.from_yaml(str(path))


def test_include_and_function_resolve_relative_to_yaml(toy_tasks: Path) -> None:
    task = Task.from_yaml(str(toy_tasks / "say_upper.yaml"))
    assert task.config.dataset_kwargs["data_files"] == "data/words.jsonl"  # from the include
    assert task.config.version == 2
    doc = task.doc(1)
    messages = task.build_messages(doc, None)
    assert messages[0].text() == "Shout W1"  # !function utils.upper_text
    assert task.target(doc) == "W1"


def test_jinja_prompt_and_per_model_overrides(toy_tasks: Path) -> None:
    task = Task.from_yaml(str(toy_tasks / "say_word.yaml"))
    doc = task.doc(4)
    assert task.build_messages(doc, "some_other_model")[0].text() == "Say w4"
    assert task.build_messages(doc, "scripted")[0].text() == "Please Say w4"
    assert task.doc_key(4, doc) == "q4"


def test_no_silent_stop_string(toy_tasks: Path) -> None:
    task = Task.from_yaml(str(toy_tasks / "say_word.yaml"))
    assert task.generation_params().until == ()
    assert task.generation_params({"until": "\n\n"}).until == ("\n\n",)


def test_unknown_generation_kwargs_are_refused_naming_the_yaml(toy_tasks: Path) -> None:
    bad = toy_tasks / "bad_gen.yaml"
    bad.write_text("task: bad_gen\ninclude: _base_yaml\ndoc_to_text: x\ngeneration_kwargs: {temprature: 0}\n")
    with pytest.raises(
        ConfigError, match=r"bad_gen.yaml: generation_kwargs: unknown generation parameter 'temprature'"
    ):
        Task.from_yaml(str(bad))


def test_config_hash_changes_with_utils_source(toy_tasks: Path) -> None:
    before = Task.from_yaml(str(toy_tasks / "say_upper.yaml")).config_hash
    utils = toy_tasks / "utils.py"
    utils.write_text(utils.read_text() + "\n# changed\n")
    assert Task.from_yaml(str(toy_tasks / "say_upper.yaml")).config_hash != before


def test_missing_column_is_one_line_error(tmp_path: Path, toy_tasks: Path) -> None:
    write(
        toy_tasks / "wrongcol.yaml",
        """
        task: wrongcol
        include: _base_yaml
        doc_to_text: "{{question}}"
        """,
    )
    task = Task.from_yaml(str(toy_tasks / "wrongcol.yaml"))
    with pytest.raises(DatasetError) as err:
        task.doc_ids()
    assert "'question'" in str(err.value) and "wrongcol" in str(err.value) and "\n" not in str(err.value)


def test_index_resolves_wildcards_tags_groups(toy_tasks: Path) -> None:
    index = TaskIndex.load([str(toy_tasks)])
    assert index.expand(["say_*"]) == ["say_upper", "say_word"]
    assert sorted(index.expand(["toy_tag"])) == ["say_upper", "say_word"]
    assert index.expand(["toy_group"]) == ["toy_group"]
    with pytest.raises(UsageError, match="Did you mean 'say_word'"):
        index.expand(["say_wrod"])
    with pytest.raises(UsageError, match="no task matches"):
        index.expand(["zzz_*"])


def test_index_cache_is_reused_and_invalidated(toy_tasks: Path) -> None:
    first = TaskIndex.load([str(toy_tasks)])
    assert "say_word" in first.tasks
    time.sleep(0.01)
    write(toy_tasks / "late.yaml", "task: late_task\ninclude: _base_yaml\ndoc_to_text: word\n")
    second = TaskIndex.load([str(toy_tasks)])
    assert "late_task" in second.tasks


def test_broken_yaml_does_not_hide_other_tasks(toy_tasks: Path) -> None:
    write(toy_tasks / "zz_broken.yaml", "task: [unclosed\n")
    index = TaskIndex.load([str(toy_tasks)])
    assert "say_word" in index.tasks
    assert any("zz_broken.yaml" in p for p in index.broken)


def test_group_selection_loads_members(toy_tasks: Path) -> None:
    selection = load_selection(["toy_group"], [str(toy_tasks)])
    assert sorted(selection.tasks) == ["say_upper", "say_word"]
    assert selection.group_members["toy_group"] == ["say_word", "say_upper"]


def test_builtin_demo_tasks_are_listed() -> None:
    index = TaskIndex.load()
    assert {"demo_asr", "demo_asr_long", "demo_ocr"} <= set(index.tasks)
    assert "demo" in index.groups
