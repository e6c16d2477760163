"""Task loading under hostile or sloppy input: where relative paths resolve, column references
versus literals, load-time checks of templates, metrics, filters, aggregations and judge blocks,
broken task files named by `--tasks`, and `!function` kept inside the task folders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import write

from lmms_eval.api.errors import ConfigError, DatasetError, SampleError
from lmms_eval.tasks import datasource, load_selection
from lmms_eval.tasks.index import TaskIndex
from lmms_eval.tasks.task import Task

TESTS = Path(__file__).parent
SCRIPTED = "scripted_model:ScriptedModel"
MODEL_DIR = "scripted_model_ScriptedModel"


def cli(*args: str, env_extra: dict[str, str] | None = None, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "lmms_eval", *args], capture_output=True, text=True, env=env, timeout=120, **kw
    )


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


WORDS = [{"word": f"w{i}", "answer": f"w{i}"} for i in range(4)]


# ---- 1. relative data files resolve against the YAML's folder only --------------------------------


@pytest.mark.parametrize(
    "dataset_lines",
    [
        "dataset_path: json\ndataset_kwargs:\n  data_files: data/x.jsonl\n",
        "dataset_path: data/x.jsonl\n",
    ],
)
def test_relative_data_file_is_never_read_from_the_current_folder(tmp_path: Path, dataset_lines: str) -> None:
    tasks, cwd = tmp_path / "tasks", tmp_path / "cwd"
    (tasks / "data").mkdir(parents=True)
    write(tasks / "rel.yaml", "task: rel\n" + dataset_lines + "test_split: train\ndoc_to_text: word\n")
    write_jsonl(cwd / "data" / "x.jsonl", WORDS)  # the impostor: same name, wrong folder
    out = cli(
        "--model", SCRIPTED, "--tasks", "rel", "--include_path", str(tasks),
        "--output_path", str(tmp_path / "out"), "--no_progress", cwd=cwd,
    )  # fmt: skip
    assert out.returncode == 1, out.stderr
    line = one_line(out.stderr)
    assert str(tasks / "data" / "x.jsonl") in line and "'rel'" in line
    assert not (tmp_path / "out" / MODEL_DIR).exists() or not list((tmp_path / "out" / MODEL_DIR).iterdir())


def test_relative_data_file_for_datasets_loader_is_not_read_from_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tasks, cwd = tmp_path / "tasks", tmp_path / "cwd"
    tasks.mkdir()
    write(cwd / "data" / "x.txt", "impostor\n")
    monkeypatch.chdir(cwd)
    with pytest.raises(DatasetError) as err:
        datasource.open_split("text", None, "train", {"data_files": "data/x.txt"}, str(tasks), "txt")
    assert str(tasks / "data" / "x.txt") in str(err.value) and "\n" not in str(err.value)


def test_relative_glob_stays_relative_to_the_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tasks, cwd = tmp_path / "tasks", tmp_path / "cwd"
    write_jsonl(tasks / "data" / "a.jsonl", [{"word": "right"}])
    write_jsonl(cwd / "data" / "a.jsonl", [{"word": "wrong"}])
    monkeypatch.chdir(cwd)
    src = datasource.open_split("json", None, "train", {"data_files": "data/*.jsonl"}, str(tasks), "g")
    assert [src[i]["word"] for i in range(len(src))] == ["right"]


# ---- 2. a column reference is a column reference on every row -------------------------------------


def test_row_missing_target_column_is_that_samples_error(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks"
    rows = [dict(r) for r in WORDS]
    del rows[0]["answer"], rows[2]["answer"]  # the first row too: columns are the union over all rows
    write_jsonl(tasks / "data" / "x.jsonl", rows)
    write(
        tasks / "col.yaml",
        """
        task: col
        dataset_path: json
        dataset_kwargs: {data_files: data/x.jsonl}
        test_split: train
        doc_to_text: "Say {{word}}"
        doc_to_target: answer
        metric_list: [{metric: exact_match}]
        """,
    )
    out = cli(
        "--model", SCRIPTED, "--tasks", "col", "--include_path", str(tasks), "--output_path", str(tmp_path / "o"),
        "--no_progress", "--log_samples", "--max_error_rate", "0.9",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    records = [json.loads(x) for x in next((tmp_path / "o").rglob("samples_col.jsonl")).read_text().splitlines()]
    by_index = {r["index"]: r for r in records}
    for bad in (0, 2):
        assert by_index[bad]["status"] == "error", by_index[bad]  # refused before the model is asked
        assert "'answer'" in by_index[bad]["error"] and "doc_to_target" in by_index[bad]["error"]
    for good in (1, 3):
        assert by_index[good]["status"] == "ok" and by_index[good]["scores"]["exact_match,none"] == 1.0


def test_plain_string_rules(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "d.jsonl", [{"word": "w0", "answer": "a0"}, {"word": "w1"}])
    write(
        tmp_path / "t.yaml",
        """
        task: t
        dataset_path: d.jsonl
        test_split: train
        doc_to_text: word
        doc_to_target: answer
        """,
    )
    task = Task.from_yaml(str(tmp_path / "t.yaml"))
    assert sorted(task.source.columns) == ["answer", "word"]
    doc0, doc1 = task.doc(0), task.doc(1)
    assert task.target(doc0) == "a0"
    with pytest.raises(SampleError, match="doc_to_target: column 'answer' is missing from doc"):
        task.target(doc1)
    assert task.render("not a column", doc0, {}, "doc_to_text") == "not a column"  # a literal stays literal


# ---- 3. every template variable is checked, deterministically --------------------------------------


_CHECK = """
import sys
from lmms_eval.api.errors import DatasetError
from lmms_eval.tasks.task import Task
task = Task.from_yaml(sys.argv[1])
try:
    task.doc_ids()
except DatasetError as exc:
    print(exc)
else:
    print("no error")
"""


def test_template_variables_all_checked_whatever_the_hash_seed(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "d.jsonl", [{"a": 1, "c": 3, "e": 5}])
    write(
        tmp_path / "tpl.yaml",
        """
        task: tpl
        dataset_path: d.jsonl
        test_split: train
        doc_to_text: "{{ pre }}{{ a }} {{ b }} {{ c }}{% for x in [1] %}{{ x }}{% endfor %}"
        doc_to_target: "{{ e }}{{ d }}"
        lmms_eval_specific_kwargs:
          default: {}
          some_model: {pre: "Q: "}
        """,
    )
    messages = set()
    for seed in ("0", "1", "2", "3", "4", "5", "6", "7"):
        out = subprocess.run(
            [sys.executable, "-c", _CHECK, str(tmp_path / "tpl.yaml")],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        messages.add(out.stdout.strip())
    assert len(messages) == 1, messages
    (message,) = messages
    named = message.split(" not in dataset")[0]
    assert "'b' (from doc_to_text template)" in named and "'d' (from doc_to_target template)" in named, message
    assert "'pre'" not in named and "'x'" not in named and "'a'" not in named and "'e'" not in named


# ---- 4. metrics, filters, aggregations and judge blocks are checked when the task loads -----------


_SCORED = """
task: scored
dataset_path: json
dataset_kwargs: {data_files: data/x.jsonl}
test_split: train
doc_to_text: "Say {{word}}"
doc_to_target: answer
"""


@pytest.mark.parametrize(
    "block, expected",
    [
        ("metric_list: [{metric: exact_mtch}]", "unknown metric 'exact_mtch'. Did you mean 'exact_match'"),
        (
            "metric_list: [{metric: exact_match, aggregation: meen}]",
            "unknown aggregation 'meen'. Did you mean 'mean'",
        ),
        (
            "metric_list: [{metric: exact_match}]\nfilter_list: [{name: f, filter: [{function: lowercse}]}]",
            "unknown filter 'lowercse'. Did you mean 'lowercase'",
        ),
        (
            "metric_list: [{metric: exact_match}]\n"
            "filter_list: [{name: f, filter: [{function: regex, regex_patern: 'x'}]}]",
            "filter 'regex' has no argument 'regex_patern'. Did you mean 'regex_pattern'",
        ),
        (
            "metric_list: [{metric: exact_match}]\njudge: {type: binary, cascade: [exact_mtch]}",
            "unknown metric 'exact_mtch'. Did you mean 'exact_match'",
        ),
        (
            "metric_list: [{metric: exact_match}]\njudge: {type: binary, filters: [extrct]}",
            "judge.filters names 'extrct'",
        ),
        (
            "metric_list: [{metric: exact_match}]\njudge: {type: binary, template: no_such_template}",
            "judge template 'no_such_template' not found",
        ),
    ],
)
def test_unknown_scoring_names_refused_at_load(tmp_path: Path, block: str, expected: str) -> None:
    path = write(tmp_path / "scored.yaml", _SCORED + block + "\n")
    with pytest.raises(ConfigError) as err:
        Task.from_yaml(str(path))
    message = str(err.value)
    assert expected in message and str(path) in message and "\n" not in message, message


def test_unknown_names_point_at_the_listing_commands(tmp_path: Path) -> None:
    for block, command in (
        ("metric_list: [{metric: exact_mtch}]", "`lmms-eval metrics`"),
        ("metric_list: [{metric: exact_match, aggregation: meen}]", "`lmms-eval metrics`"),
        ("filter_list: [{name: f, filter: [{function: lowercse}]}]", "`lmms-eval filters`"),
    ):
        path = write(tmp_path / "scored.yaml", _SCORED + block + "\n")
        with pytest.raises(ConfigError, match=command):
            Task.from_yaml(str(path))


def test_process_results_metric_names_are_allowed(tmp_path: Path) -> None:
    write(tmp_path / "u.py", "def pr(doc, preds):\n    return {'my_score': 1.0}\n")
    path = write(tmp_path / "pr.yaml", _SCORED + "process_results: !function u.pr\nmetric_list: [{metric: my_score}]\n")
    assert Task.from_yaml(str(path)).metrics[0][0] == "my_score"


_MARKER_MODEL = """
import os
from scripted_model import ScriptedModel

class MarkerModel(ScriptedModel):
    def generate(self, requests):
        with open(os.environ["MARKER_FILE"], "a") as fh:
            fh.write("called\\n")
        return super().generate(requests)
"""


@pytest.mark.parametrize(
    "block, expected",
    [
        ("metric_list: [{metric: exact_mtch}]", "Did you mean 'exact_match'"),
        ("metric_list: [{metric: exact_match}]\nfilter_list: [{name: f, filter: [{function: lowercse}]}]", "lowercase"),
        ("metric_list: [{metric: exact_match, aggregation: meen}]", "Did you mean 'mean'"),
    ],
)
def test_cli_refuses_bad_scoring_before_any_generation(tmp_path: Path, block: str, expected: str) -> None:
    tasks = tmp_path / "tasks"
    write_jsonl(tasks / "data" / "x.jsonl", WORDS)
    write(tasks / "scored.yaml", _SCORED + block + "\n")
    write(tmp_path / "mods" / "marker_model.py", _MARKER_MODEL)
    marker = tmp_path / "called.txt"
    out = cli(
        "--model", "marker_model:MarkerModel", "--tasks", "scored", "--include_path", str(tasks),
        "--output_path", str(tmp_path / "o"), "--no_progress",
        env_extra={
            "MARKER_FILE": str(marker),
            "PYTHONPATH": os.pathsep.join([str(tmp_path / "mods"), str(TESTS), os.environ.get("PYTHONPATH", "")]),
        },
    )  # fmt: skip
    assert out.returncode == 2, out.stderr
    line = one_line(out.stderr)
    assert expected in line and "scored.yaml" in line
    assert not marker.exists(), "the model was called"
    assert not list((tmp_path / "o").rglob("samples_*.jsonl"))


def test_validate_reports_unknown_aggregation(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "data" / "x.jsonl", WORDS)
    path = write(tmp_path / "agg.yaml", _SCORED + "metric_list: [{metric: exact_match, aggregation: medain}]\n")
    out = cli("validate", str(path))
    assert out.returncode == 2, out.stdout + out.stderr
    assert "unknown aggregation 'medain'" in out.stdout and "Did you mean 'median'" in out.stdout
    assert str(path) in out.stdout


def test_listing_functions() -> None:
    from lmms_eval.filters import list_filters
    from lmms_eval.metrics import list_aggregations, list_metrics

    metrics = dict(list_metrics())
    assert "exact_match" in metrics and "higher is better" in metrics["exact_match"]
    assert {"mean", "median", "sum"} <= set(list_aggregations())
    filters = dict(list_filters())
    assert filters["lowercase"] == "Lower-case the answer."


# ---- 5. a broken file that defines the requested task is named -------------------------------------


def test_requested_task_in_broken_yaml_names_file_and_line(toy_tasks: Path, tmp_path: Path) -> None:
    (toy_tasks / "say_word.yaml").write_text("task: say_word\ndataset_path: json\n  bad: indent\n")
    out = cli("--model", SCRIPTED, "--tasks", "say_word", "--include_path", str(toy_tasks))
    assert out.returncode == 2
    line = one_line(out.stderr)
    assert f"{toy_tasks / 'say_word.yaml'}:3" in line and "invalid YAML" in line and "unknown task" not in line


def test_requested_task_with_missing_include_names_the_include(toy_tasks: Path) -> None:
    write(toy_tasks / "inc.yaml", "task: inc_task\ninclude: _nope_yaml\ndoc_to_text: word\n")
    with pytest.raises(ConfigError) as err:
        load_selection(["inc_task"], [str(toy_tasks)])
    message = str(err.value)
    assert "'_nope_yaml' not found" in message and str(toy_tasks / "_nope_yaml") in message
    assert "unknown task" not in message


def test_requested_task_in_include_cycle_names_the_cycle(toy_tasks: Path) -> None:
    write(toy_tasks / "cyc_a.yaml", "task: cyc_a\ninclude: cyc_b.yaml\n")
    write(toy_tasks / "cyc_b.yaml", "include: cyc_a.yaml\ndoc_to_text: word\n")
    with pytest.raises(ConfigError) as err:
        TaskIndex.load([str(toy_tasks)]).expand(["cyc_a"])
    message = str(err.value)
    assert "include cycle" in message and "cyc_a.yaml -> " in message and "cyc_b.yaml" in message


def test_unrelated_broken_file_keeps_unknown_task(toy_tasks: Path) -> None:
    write(toy_tasks / "zz_broken.yaml", "task: [unclosed\n")
    with pytest.raises(Exception, match=r"unknown task 'say_wrod'. Did you mean 'say_word'.*1 task file"):
        TaskIndex.load([str(toy_tasks)]).expand(["say_wrod"])


# ---- 6. !function stays inside the task folders ----------------------------------------------------


_FN_TASK = """
task: {name}
dataset_path: json
dataset_kwargs: {{data_files: data/x.jsonl}}
test_split: train
doc_to_text: !function {spec}
"""

_EVIL = """
import pathlib
pathlib.Path({marker!r}).write_text("imported")

def fn(doc):
    return "evil"
"""


def _fn_layout(tmp_path: Path, spec: str, name: str = "fn_task") -> tuple[Path, Path]:
    root = tmp_path / "root"
    write_jsonl(root / "bench" / "data" / "x.jsonl", WORDS)
    yaml_path = write(root / "bench" / f"{name}.yaml", _FN_TASK.format(name=name, spec=spec))
    return root, yaml_path


def test_function_escaping_the_root_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "imported.txt"
    write(tmp_path / "x.py", _EVIL.format(marker=str(marker)))
    root, yaml_path = _fn_layout(tmp_path, "../../x.fn")
    with pytest.raises(ConfigError) as err:
        load_selection(["fn_task"], [str(root)])
    message = str(err.value)
    assert str(yaml_path) in message and "'../../x.fn'" in message and "outside" in message
    assert not marker.exists()


def test_function_with_absolute_path_is_refused_and_not_imported(tmp_path: Path) -> None:
    marker = tmp_path / "imported.txt"
    evil = write(tmp_path / "elsewhere" / "evil.py", _EVIL.format(marker=str(marker)))
    spec = str(evil.with_suffix("")) + ".fn"
    root, yaml_path = _fn_layout(tmp_path, spec)
    with pytest.raises(ConfigError) as err:
        load_selection(["fn_task"], [str(root)])
    assert str(yaml_path) in str(err.value) and "absolute" in str(err.value)
    with pytest.raises(ConfigError):
        Task.from_yaml(str(yaml_path))
    assert not marker.exists(), "the file outside the task folder was imported"


def test_function_through_symlink_out_of_root_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "imported.txt"
    evil = write(tmp_path / "elsewhere" / "evil.py", _EVIL.format(marker=str(marker)))
    root, _ = _fn_layout(tmp_path, "link.fn")
    (root / "bench" / "link.py").symlink_to(evil)
    with pytest.raises(ConfigError, match="outside"):
        load_selection(["fn_task"], [str(root)])
    assert not marker.exists()


def test_function_in_shared_folder_of_the_root_works(tmp_path: Path) -> None:
    root, _ = _fn_layout(tmp_path, "../shared/u.fn")
    write(root / "shared" / "u.py", "def fn(doc):\n    return 'shared ' + doc['word']\n")
    write(root / "shared" / "pkg" / "mod.py", "def fn(doc):\n    return 'pkg ' + doc['word']\n")
    write(root / "bench" / "pkg" / "mod.py", "def fn(doc):\n    return 'pkg ' + doc['word']\n")
    write(root / "bench" / "dotted.yaml", _FN_TASK.format(name="dotted", spec="pkg.mod.fn"))
    selection = load_selection(["fn_task", "dotted"], [str(root)])
    task = selection.tasks["fn_task"]
    assert task.build_messages(task.doc(1), None)[0].text() == "shared w1"
    dotted = selection.tasks["dotted"]
    assert dotted.build_messages(dotted.doc(0), None)[0].text() == "pkg w0"
    before = task.config_hash
    (root / "shared" / "u.py").write_text("def fn(doc):\n    return 'changed'\n")
    assert Task.from_yaml(task.yaml_path).config_hash != before  # function_sources finds the same file


def test_function_outside_yaml_folder_refused_when_under_no_root(tmp_path: Path) -> None:
    write(tmp_path / "root" / "shared" / "u.py", "def fn(doc):\n    return 'x'\n")
    _, yaml_path = _fn_layout(tmp_path, "../shared/u.fn", name="loose")
    out = cli("validate", str(yaml_path))
    assert out.returncode == 2 and "outside" in out.stdout and str(yaml_path) in out.stdout


def test_docs_describe_path_resolution() -> None:
    text = (TESTS.parent / "docs" / "tasks.md").read_text(encoding="utf-8")
    assert "## How paths resolve" in text


def test_doc_to_context_is_logged_with_the_sample_and_must_be_a_dict(tmp_path: Path) -> None:
    """``doc_to_context``: what the task chose beyond the messages, copied into the sample record."""
    tasks = tmp_path / "tasks"
    write_jsonl(tasks / "data" / "x.jsonl", WORDS)
    write(
        tasks / "utils.py",
        """
        def context(doc, kwargs=None):
            return {"looked_up": doc["word"], "mode": (kwargs or {}).get("mode")}

        def not_a_dict(doc):
            return doc["word"]
        """,
    )
    body = """
        dataset_path: json
        dataset_kwargs: {data_files: data/x.jsonl}
        test_split: train
        doc_to_text: "Say {{word}}"
        doc_to_target: answer
        lmms_eval_specific_kwargs: {default: {mode: lookup}}
        metric_list: [{metric: exact_match}]
        """
    body = textwrap.dedent(body)
    write(tasks / "ctx.yaml", f"task: ctx\ndoc_to_context: !function utils.context\n{body}")
    write(tasks / "bad_ctx.yaml", f"task: bad_ctx\ndoc_to_context: !function utils.not_a_dict\n{body}")
    selection = load_selection(["ctx", "bad_ctx"], [str(tasks)])
    good, bad = selection.tasks["ctx"], selection.tasks["bad_ctx"]
    doc = next(iter(good.docs([0])))
    assert good.build_request(0, doc, 0, None).context == {"looked_up": "w0", "mode": "lookup"}
    with pytest.raises(ConfigError, match=r"doc_to_context of .*bad_ctx.yaml returned str: return a dict"):
        bad.build_request(0, doc, 0, None)
    out = cli(
        "--model", SCRIPTED, "--tasks", "ctx", "--include_path", str(tasks), "--output_path", str(tmp_path / "o"),
        "--no_progress", "--log_samples",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    records = [json.loads(x) for x in next((tmp_path / "o").rglob("samples_ctx.jsonl")).read_text().splitlines()]
    assert sorted(r["context"]["looked_up"] for r in records) == ["w0", "w1", "w2", "w3"]
