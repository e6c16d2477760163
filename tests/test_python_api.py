"""``lmms_eval.evaluate``: the Python API a training loop calls, checked against the CLI.

The in-memory models are real ``transformers`` models: the scripted Qwen2 text stack of
``tests/servers.py`` (its greedy reply is set by its weights, so a weight change changes the
score by a known amount) and the tiny random Qwen2.5-VL of ``tests/models/tiny_vision.py``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from scripted_model import ScriptedModel

import lmms_eval
from lmms_eval.api.errors import LmmsEvalError, UsageError

TESTS = Path(__file__).parent
sys.path.insert(0, str(TESTS / "models"))


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-m", "lmms_eval", *args, "--no_progress"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def scores(results: dict[str, Any]) -> dict[str, Any]:
    """What must match between two runs of the same model: per-task metrics and sample counts."""
    return {"results": results["results"], "n-samples": results["n-samples"]}


def comparable(results: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in results.items() if k not in ("date", "timing")}


def predictions(run_dir: str | Path, task: str) -> list[tuple[Any, str, str]]:
    path = Path(run_dir) / f"samples_{task}.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return sorted((row["doc_id"], row["raw_output"], row["status"]) for row in rows)


def only_run(root: Path) -> Path:
    (results,) = list(root.rglob("results.json"))
    return results.parent


# ---- import cost and the lazy attribute -----------------------------------------------------
def test_import_and_attribute_do_not_import_torch() -> None:
    code = (
        "import sys, lmms_eval\n"
        "f = lmms_eval.evaluate\n"
        "import lmms_eval.evaluation\n"  # importing the module must not shadow the function
        "assert lmms_eval.evaluate is lmms_eval.evaluation.evaluate and callable(lmms_eval.evaluate)\n"
        "bad = sorted(m for m in sys.modules if m == 'torch' or m.startswith(('torch.', 'transformers')))\n"
        "assert not bad, bad\n"
        "try:\n    lmms_eval.nope\nexcept AttributeError as e:\n    print('ok', e)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "has no attribute 'nope'" in proc.stdout


# ---- a registered name and a Model instance, against the CLI ---------------------------------
def test_registered_name_matches_cli_and_resumes(toy_tasks: Path, tmp_path: Path) -> None:
    common = dict(tasks=["toy_group"], include_path=[str(toy_tasks)], show_progress=False)
    outcome = lmms_eval.evaluate(model="scripted_model:ScriptedModel", output_path=str(tmp_path / "api"), **common)
    assert outcome.exit_code == 0
    assert outcome.results["results"]["say_word"]["exact_match,none"] == pytest.approx(8 / 12)
    assert Path(outcome.run_dir, "results.json").exists()

    out = cli(
        "--model", "scripted_model:ScriptedModel", "--tasks", "toy_group", "--include_path", str(toy_tasks),
        "--output_path", str(tmp_path / "cli"),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    from_cli = json.loads((only_run(tmp_path / "cli") / "results.json").read_text())
    assert comparable(from_cli) == comparable(outcome.results)  # the whole results.json, timing aside

    # resume: the same call with resume=True finds the finished run and generates nothing
    again = lmms_eval.evaluate(
        model="scripted_model:ScriptedModel", output_path=str(tmp_path / "api"), resume=True, **common
    )
    assert again.run_dir == outcome.run_dir
    assert again.counts["generated"] == 0 and again.counts["resumed"] == again.counts["planned"] == 24
    assert scores(again.results) == scores(outcome.results)


def test_config_yaml_and_keywords(toy_tasks: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "run.yaml"
    cfg.write_text(f"model: scripted_model:ScriptedModel\ntasks: [say_word]\ninclude_path: [{toy_tasks}]\nlimit: 3\n")
    outcome = lmms_eval.evaluate(config=str(cfg), limit=5, output_path=str(tmp_path), show_progress=False)
    assert outcome.results["n-samples"]["say_word"]["effective"] == 5


class CountingModel(ScriptedModel):
    closed = 0

    def close(self) -> None:
        CountingModel.closed += 1


def test_model_instance_stays_open_and_is_reused(toy_tasks: Path, tmp_path: Path) -> None:
    from scripted_model import ScriptedConfig

    model = CountingModel(ScriptedConfig(mode="constant", constant="w1"))
    common = dict(tasks="say_word", include_path=[str(toy_tasks)], show_progress=False)
    first = lmms_eval.evaluate(model=model, output_path=str(tmp_path / "a"), **common)
    assert first.results["results"]["say_word"]["exact_match,none"] == pytest.approx(1 / 12)
    assert CountingModel.closed == 0 and "close" not in vars(model)  # the caller owns it
    assert first.results["config"]["model"] == "scripted"
    assert first.results["config"]["model_args"]["constant"] == "w1"
    model.config.constant = "nope"  # the "training step"
    second = lmms_eval.evaluate(model=model, output_path=str(tmp_path / "b"), **common)
    assert second.results["results"]["say_word"]["exact_match,none"] == pytest.approx(4 / 12)
    assert sum(model.calls) == 2 * 12  # both runs called the one instance


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        (dict(model="scripted_model:ScriptedModel", tasks=["say_word"], lmit=3), r"unknown key 'lmit'.*'limit'"),
        (dict(model="scripted_model:ScriptedModel", tasks=["say_word"], limit=-1), r"--limit must be > 0"),
        (dict(model="scripted_model:ScriptedModel"), r"needs tasks="),
        (dict(tasks=["say_word"]), r"needs model="),
        (dict(model=ScriptedModel(), model_args={"constant": "a"}, tasks=["say_word"]), r"Model instance"),
        (dict(model="scripted_model:ScriptedModel", model_family="qwen2_5_vl", tasks=["x"]), r"loaded pair"),
        (dict(model=(1, 2, 3), tasks=["x"]), r"pair \(hf_model, processor\)"),
        (dict(model=3.5, tasks=["x"]), r"not float"),
        (dict(model=("not a model", None), model_family="demo", tasks=["x"]), r"'demo' is not a transformers"),
        (dict(model=("not a model", None), tasks=["x"]), r"loaded transformers model, not str"),
        (dict(model="no_such_model", tasks=["say_word"]), r"unknown model 'no_such_model'"),
    ],
)
def test_bad_calls_raise_one_line_errors(toy_tasks: Path, tmp_path: Path, kwargs: dict[str, Any], pattern: str) -> None:
    kwargs.setdefault("include_path", [str(toy_tasks)])
    with pytest.raises(LmmsEvalError, match=pattern) as info:
        lmms_eval.evaluate(output_path=str(tmp_path), show_progress=False, **kwargs)
    assert "\n" not in str(info.value)
    assert not list(tmp_path.rglob("run.json"))  # nothing started


# ---- an in-memory transformers model: the training-loop case --------------------------------
def scripted_text_lm(reply: str) -> tuple[Any, Any]:
    """The scripted Qwen2 causal LM of tests/servers.py, built in memory (never saved)."""
    import torch
    from servers import _script_text_stack, _text_config, build_tokenizer
    from transformers import Qwen2Config, Qwen2ForCausalLM

    tokenizer = build_tokenizer()
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(Qwen2Config(**_text_config(tokenizer)))
    _script_text_stack(model, tokenizer, reply, prefix="model.")
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def test_in_memory_text_model_tracks_weight_changes_and_matches_cli(toy_tasks: Path, tmp_path: Path) -> None:
    from servers import _script_text_stack

    from lmms_eval.evaluation import from_loaded

    model, tokenizer = scripted_text_lm("w1")
    model.train()
    model.model.embed_tokens.eval()  # a frozen part the caller keeps in eval mode
    seen_modes: list[bool] = []
    model.register_forward_pre_hook(lambda module, args: seen_modes.append(module.training))
    common = dict(tasks=["say_word"], include_path=[str(toy_tasks)], show_progress=False, batch_size=4)

    # the pair form: answers "w1" to every doc; only q1's answer is w1
    step0 = lmms_eval.evaluate(
        model=(model, tokenizer), model_args={"pretrained": "toy/step0"}, output_path=str(tmp_path / "s0"), **common
    )
    assert step0.exit_code == 0
    assert step0.results["results"]["say_word"]["exact_match,none"] == pytest.approx(1 / 12)
    assert {(text, status) for _, text, status in predictions(step0.run_dir, "say_word")} == {("w1", "ok")}
    assert seen_modes and not any(seen_modes)  # generated in eval mode ...
    assert model.training and not model.model.embed_tokens.training  # ... and every mode restored after
    assert model.model.layers[0].training
    assert step0.results["config"]["model"] == "hf_chat"
    assert step0.results["config"]["model_args"]["pretrained"] == "toy/step0"
    assert Path(step0.run_dir).parent.name == "hf_chat__step0"

    # "training": change the weights in place; one adapter built once sees the new weights
    _script_text_stack(model, tokenizer, "nope", prefix="model.")
    adapter = from_loaded(model, tokenizer, "hf_chat", {"pretrained": "toy/step1"})
    step1 = lmms_eval.evaluate(model=adapter, output_path=str(tmp_path / "s1"), **common)
    assert step1.results["results"]["say_word"]["exact_match,none"] == pytest.approx(4 / 12)  # q0, q3, q6, q9
    assert scores(step1.results) != scores(step0.results)
    assert adapter.model is model  # still open: evaluate it again after the next step

    # the same checkpoint saved to disk and run by the CLI scores the same, sample for sample
    ckpt = tmp_path / "ckpt"
    model.save_pretrained(ckpt)
    tokenizer.save_pretrained(ckpt)
    out = cli(
        "--model", "hf_chat", "--model_args", f"pretrained={ckpt}", "--tasks", "say_word",
        "--include_path", str(toy_tasks), "--batch_size", "4", "--output_path", str(tmp_path / "cli"),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    run_dir = only_run(tmp_path / "cli")
    from_cli = json.loads((run_dir / "results.json").read_text())
    assert scores(from_cli) == scores(step1.results)
    assert predictions(run_dir, "say_word") == predictions(step1.run_dir, "say_word")


def test_in_memory_vision_model_matches_cli_and_changes_with_weights(tmp_path: Path) -> None:
    import tiny_vision as tv
    import torch
    from transformers import AutoProcessor, Qwen2_5_VLForConditionalGeneration

    path = tv.build_tiny_qwen2_5_vl(tmp_path / "models")
    model = Qwen2_5_VLForConditionalGeneration.from_pretrained(path)
    processor = AutoProcessor.from_pretrained(path)
    common = dict(tasks=["demo_ocr"], limit=3, gen_kwargs={"max_new_tokens": 6}, show_progress=False)

    before = lmms_eval.evaluate(
        model=(model, processor), model_family="qwen2_5_vl", output_path=str(tmp_path / "api"), **common
    )
    assert before.exit_code == 0 and before.results["n-samples"]["demo_ocr"]["effective"] == 3
    out = cli(
        "--model", "qwen2_5_vl", "--model_args", f"pretrained={path}", "--tasks", "demo_ocr", "--limit", "3",
        "--gen_kwargs", "max_new_tokens=6", "--output_path", str(tmp_path / "cli"),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    run_dir = only_run(tmp_path / "cli")
    assert scores(json.loads((run_dir / "results.json").read_text())) == scores(before.results)
    assert predictions(run_dir, "demo_ocr") == predictions(before.run_dir, "demo_ocr")

    with torch.no_grad():  # a "training step" on the output head
        head = model.get_output_embeddings().weight
        head.add_(torch.randn(head.shape, generator=torch.Generator().manual_seed(1)) * 0.5)
    after = lmms_eval.evaluate(
        model=(model, processor), model_family="qwen2_5_vl", output_path=str(tmp_path / "api2"), **common
    )
    assert predictions(after.run_dir, "demo_ocr") != predictions(before.run_dir, "demo_ocr")
    resolved = json.loads((Path(after.run_dir) / "results.json").read_text())
    assert resolved["config"]["model"] == "qwen2_5_vl"


def test_from_loaded_rejects_a_processor_without_chat_template() -> None:
    from lmms_eval.evaluation import from_loaded

    model, tokenizer = scripted_text_lm("w1")
    tokenizer.chat_template = None
    with pytest.raises(UsageError, match="no chat template"):
        from_loaded(model, tokenizer, "hf_chat", {"pretrained": "toy/x"})


def test_training_loop_example_runs_and_learns(tmp_path: Path) -> None:
    """examples/training_loop.py: the score of the live model, evaluated every 100 steps, rises."""
    example = TESTS.parent / "examples" / "training_loop.py"
    proc = subprocess.run(
        [sys.executable, str(example), "--steps", "300", "--every", "100", "--output_path", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    found = re.findall(r"step +(\d+) +exact_match ([0-9.]+)", proc.stdout)
    scores_by_step = {int(step): float(score) for step, score in found}
    assert sorted(scores_by_step) == [0, 100, 200, 300]
    assert scores_by_step[0] == 0.0 and scores_by_step[300] >= 0.75
    runs = sorted(p.parent.relative_to(tmp_path).parts[0] for p in tmp_path.rglob("results.json"))
    assert runs == ["step_0", "step_100", "step_200", "step_300"]
