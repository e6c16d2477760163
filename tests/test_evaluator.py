"""The evaluator end to end with a scripted model: scores, groups, errors, redaction, re-scoring."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from scripted_model import ScriptedConfig, ScriptedModel

from lmms_eval.api.errors import UsageError
from lmms_eval.engine.evaluator import Evaluator
from lmms_eval.engine.rescore import rescore_run
from lmms_eval.engine.run_config import RunConfig
from lmms_eval.media import load_image


def run(toy_tasks: Path, out: Path, model: ScriptedModel | None = None, **kw):
    cfg = RunConfig(
        model="scripted",
        tasks=kw.pop("tasks", ["toy_group"]),
        include_path=[str(toy_tasks)],
        output_path=str(out),
        show_progress=False,
        **kw,
    )
    return Evaluator(cfg, model=model or ScriptedModel()).run()


def test_scores_and_weighted_group_by_hand(toy_tasks: Path, tmp_path: Path) -> None:
    outcome = run(toy_tasks, tmp_path / "out")
    res = outcome.results["results"]
    # docs i % 3 == 0 have a wrong reference: 8 of 12 right in each task.
    assert res["say_word"]["exact_match,none"] == pytest.approx(8 / 12)
    assert res["say_upper"]["exact_match,none"] == pytest.approx(8 / 12)
    assert res["toy_group"]["exact_match,none"] == pytest.approx(8 / 12)
    # stderr of a mean of 0/1 values: sqrt(p(1-p)/(n-1)) with the sample variance.
    p = 8 / 12
    assert res["say_word"]["exact_match_stderr,none"] == pytest.approx(math.sqrt(p * (1 - p) * 12 / 11 / 12))
    assert outcome.exit_code == 0
    assert outcome.results["n-samples"]["say_word"] == {"original": 12, "effective": 12}
    assert outcome.results["versions"]["say_word"] == 2
    assert outcome.results["group_subtasks"] == {"toy_group": ["say_word", "say_upper"]}
    # a group's metric keeps its members' direction and scale (the table shows them)
    assert outcome.results["higher_is_better"]["toy_group"] == {"exact_match": True}
    assert outcome.results["units"]["toy_group"] == {"exact_match": "0-1"}
    assert (Path(outcome.run_dir) / "results.json").exists()
    lines = (Path(outcome.run_dir) / "samples_say_word.jsonl").read_text().splitlines()
    record = next(r for r in map(json.loads, lines) if r["doc_id"] == "q0")
    assert record["doc_id"] == "q0" and record["raw_output"] == "w0" and record["target"] == "nope"
    assert record["scores"] == {"exact_match,none": 0.0}
    assert record["prompt"][0]["content"][0]["text"] == "Please Say w0"  # per-model override applied


def test_model_error_is_an_error_record_never_a_score(toy_tasks: Path, tmp_path: Path) -> None:
    model = ScriptedModel(ScriptedConfig(fail_on="q1", batch=4))
    outcome = run(toy_tasks, tmp_path / "out", model=model)
    res = outcome.results["results"]
    assert res["say_word"]["n_errors"] == 1
    assert res["say_word"]["exact_match,none"] == pytest.approx(7 / 11)  # q1 left out, not scored 0
    assert res["toy_group"]["exact_match,none"] == pytest.approx(15 / 23)  # weighted by scored sizes
    assert outcome.results["errors"]["say_word"]["examples"][0]["doc_id"] == "q1"
    assert "scripted failure" in outcome.results["errors"]["say_word"]["examples"][0]["error"]
    assert outcome.exit_code == 3 and "1 of 24 samples failed" in outcome.message
    # the batch holding q1 was retried one by one, so its neighbours still got answers
    assert res["say_word"]["n_samples"] == 12


def test_error_rate_threshold(toy_tasks: Path, tmp_path: Path) -> None:
    model = ScriptedModel(ScriptedConfig(fail_on="q1"))
    assert run(toy_tasks, tmp_path / "out", model=model, max_error_rate=0.05).exit_code == 0


def test_batch_size_does_not_change_results(toy_tasks: Path, tmp_path: Path) -> None:
    one = run(toy_tasks, tmp_path / "a", model=ScriptedModel(ScriptedConfig(batch=1)), batch_size=1)
    many = run(toy_tasks, tmp_path / "b", model=ScriptedModel(ScriptedConfig(batch=5)), batch_size=5)
    assert one.results["results"] == many.results["results"]


def test_limit_and_offset(toy_tasks: Path, tmp_path: Path) -> None:
    outcome = run(toy_tasks, tmp_path / "out", tasks=["say_word"], limit=4, offset=2)
    lines = (Path(outcome.run_dir) / "samples_say_word.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["doc_id"] for line in lines) == ["q2", "q3", "q4", "q5"]
    assert outcome.results["results"]["say_word"]["exact_match,none"] == pytest.approx(3 / 4)


def test_secrets_are_redacted_everywhere(toy_tasks: Path, tmp_path: Path) -> None:
    outcome = run(
        toy_tasks,
        tmp_path / "out",
        tasks=["say_word"],
        model_args={"api_key": "sk-abcdefghijklmnopqrstuvwx"},
        gen_kwargs={"max_new_tokens": 4},
    )
    text = "".join(p.read_text() for p in Path(outcome.run_dir).iterdir())
    assert "sk-abcdefghijklmnopqrstuvwx" not in text
    assert "<redacted>" in text
    assert outcome.results["config"]["gen_kwargs"]["max_new_tokens"] == 4


def test_score_recomputes_from_logs_without_the_model(toy_tasks: Path, tmp_path: Path) -> None:
    outcome = run(toy_tasks, tmp_path / "out", predict_only=True)
    assert "exact_match,none" not in outcome.results["results"]["say_word"]
    rescored = rescore_run(outcome.run_dir)  # no model passed or built
    assert rescored.results["results"]["say_word"]["exact_match,none"] == pytest.approx(8 / 12)
    on_disk = json.loads((Path(outcome.run_dir) / "results.json").read_text())
    assert on_disk["results"]["toy_group"]["exact_match,none"] == pytest.approx(8 / 12)


def test_score_picks_up_a_fixed_metric(toy_tasks: Path, tmp_path: Path) -> None:
    outcome = run(toy_tasks, tmp_path / "out", tasks=["say_upper"])
    before = outcome.results["results"]["say_upper"]["exact_match,none"]
    # make the reference lower-case and the comparison case-sensitive: nothing matches any more
    utils = toy_tasks / "utils.py"
    utils.write_text(utils.read_text().replace('doc["answer"].upper()', 'doc["answer"]'))
    yaml_path = toy_tasks / "say_upper.yaml"
    yaml_path.write_text(yaml_path.read_text() + "metric_list:\n  - metric: exact_match\n    ignore_case: false\n")
    after = rescore_run(outcome.run_dir).results["results"]["say_upper"]["exact_match,none"]
    assert before == pytest.approx(8 / 12) and after == 0.0


def test_a_broken_sample_becomes_an_error_record(toy_tasks: Path, tmp_path: Path) -> None:
    (toy_tasks / "data" / "imgs.jsonl").write_text(
        json.dumps({"image": "missing.png", "answer": "a"}) + "\n" + json.dumps({"image": None, "answer": "b"}) + "\n"
    )
    (toy_tasks / "img.yaml").write_text(
        "task: img_task\ndataset_path: json\ndataset_kwargs: {data_files: data/imgs.jsonl}\ntest_split: train\n"
        "doc_to_visual: image\ndoc_to_text: 'Read {{answer}}'\ndoc_to_target: answer\n"
        "metric_list: [{metric: exact_match}]\n"
    )

    class Loader(ScriptedModel):
        def generate(self, requests):
            for r in requests:
                for img in r.images():
                    load_image(img)
            return super().generate(requests)

    outcome = run(toy_tasks, tmp_path / "out", tasks=["img_task"], model=Loader())
    res = outcome.results["results"]["img_task"]
    assert res["n_errors"] == 1 and res["exact_match,none"] == 1.0
    assert "missing.png" in outcome.results["errors"]["img_task"]["examples"][0]["error"]


def test_resume_refuses_a_changed_task(toy_tasks: Path, tmp_path: Path) -> None:
    first = run(toy_tasks, tmp_path / "out", tasks=["say_word"])
    yaml_path = toy_tasks / "say_word.yaml"
    yaml_path.write_text(yaml_path.read_text().replace("Say {{word}}", "Repeat {{word}}"))
    with pytest.raises(UsageError, match="changed since run"):
        run(toy_tasks, tmp_path / "out", tasks=["say_word"], resume=True)
    # re-scoring the old run stays possible and keeps its samples
    assert rescore_run(first.run_dir).results["results"]["say_word"]["n_samples"] == 12


def test_a_task_sending_what_the_model_does_not_take_is_refused_before_generation(
    toy_tasks: Path, tmp_path: Path
) -> None:
    (toy_tasks / "data" / "clips.jsonl").write_text(json.dumps({"audio": "a.wav", "answer": "x"}) + "\n")
    (toy_tasks / "hear.yaml").write_text(
        "task: hear\ndataset_path: json\ndataset_kwargs: {data_files: data/clips.jsonl}\ntest_split: train\n"
        "doc_to_audio: audio\ndoc_to_text: 'Transcribe.'\ndoc_to_target: answer\nmetric_list: [{metric: exact_match}]\n"
    )

    class Eyes(ScriptedModel):
        modalities = frozenset({"text", "image"})

    model = Eyes()
    for batch_size in (1, 4):  # planned without documents (batch 1) and with them (costs for batching)
        with pytest.raises(UsageError, match="model 'scripted' takes image\\+text; task 'hear' sends audio"):
            run(
                toy_tasks, tmp_path / f"out{batch_size}", tasks=["hear", "say_word"], model=model, batch_size=batch_size
            )
    assert model.calls == []  # nothing was generated


def test_media_are_decoded_ahead_and_a_corrupt_video_fails_alone(toy_tasks: Path, tmp_path: Path) -> None:
    av = pytest.importorskip("av")
    import numpy as np

    rows = []
    for i in range(5):
        path = toy_tasks / "data" / f"v{i}.mp4"
        with av.open(str(path), "w") as container:
            stream = container.add_stream("mpeg4", rate=5)
            stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
            for k in range(6):
                frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), 20 * k, np.uint8), format="rgb24")
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        rows.append({"video": path.name, "answer": f"v{i}"})
    (toy_tasks / "data" / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 definitely not a video")
    rows.insert(2, {"video": "broken.mp4", "answer": "broken"})
    (toy_tasks / "data" / "vids.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (toy_tasks / "vids.yaml").write_text(
        "task: vids\ndataset_path: json\ndataset_kwargs: {data_files: data/vids.jsonl}\ntest_split: train\n"
        "doc_to_video: video\ndoc_to_text: 'Name {{answer}}'\ndoc_to_target: answer\n"
        "metric_list: [{metric: exact_match}]\n"
    )
    model = ScriptedModel(ScriptedConfig(decode=True, batch=2))
    outcome = run(
        toy_tasks, tmp_path / "out", tasks=["vids"], model=model, batch_size=2, decode_workers=2, max_error_rate=0.5
    )
    res = outcome.results["results"]["vids"]
    assert res["n_errors"] == 1 and res["exact_match,none"] == 1.0
    error = outcome.results["errors"]["vids"]["examples"][0]["error"]
    assert error.startswith("vids doc 2, video 0: ") and "broken.mp4" in error
    assert model.decoded_before == [True] * 5  # the broken one never reached the model; the others came decoded
    lines = [json.loads(x) for x in (Path(outcome.run_dir) / "samples_vids.jsonl").read_text().splitlines()]
    assert sorted(r["usage"]["batch_size"] for r in lines if r["status"] == "ok") == [1, 2, 2, 2, 2]


def test_group_report_function_adds_values_computed_from_its_members(toy_tasks: Path, tmp_path: Path) -> None:
    (toy_tasks / "report.py").write_text(
        "def gap(members):\n"
        "    word, upper = members['say_word'], members['say_upper']\n"
        "    return {'em_gap': word['exact_match,none'] - upper['exact_match,none'], 'n_members': len(members)}\n"
        "def broken(members):\n"
        "    raise KeyError('no such metric')\n"
    )
    (toy_tasks / "gap_group.yaml").write_text(
        "group: gap_group\ntask: [say_word, say_upper]\nreport: !function report.gap\n"
    )
    (toy_tasks / "broken_group.yaml").write_text(
        "group: broken_group\ntask: [say_word]\nreport: !function report.broken\n"
    )
    outcome = run(toy_tasks, tmp_path / "out", tasks=["gap_group", "broken_group"])
    res = outcome.results["results"]
    assert res["gap_group"]["em_gap,report"] == pytest.approx(0.0)
    assert res["gap_group"]["n_members,report"] == 2
    assert "say_word" in res and not any(k.endswith(",report") for k in res["broken_group"])
    assert outcome.exit_code == 0
