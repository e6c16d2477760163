"""End-to-end wall time and peak RSS of `lmms-eval` runs with an instant model.

Measures what the harness itself costs: start-up, dataset reading, prompt building, the
sample log, scoring and results, for local text tasks of 2,000 and 20,000 samples and a
20,000-sample image task. Each run is a fresh `python -m lmms_eval` process; peak RSS comes
from wait4(). Prints per-sample overhead (the slope between the 2,000 and 20,000 runs).

    python benchmarks/harness_overhead.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def make_tasks(root: str) -> None:
    from PIL import Image

    os.makedirs(os.path.join(root, "img"), exist_ok=True)
    for n in (2000, 20000):
        with open(os.path.join(root, f"text_{n}.jsonl"), "w") as fh:
            for i in range(n):
                fh.write(
                    json.dumps(
                        {
                            "id": i,
                            "question": f"Question number {i}: which option is right?",
                            "answer": "A" if i % 2 else "B",
                        }
                    )
                    + "\n"
                )
        with open(os.path.join(root, f"text_{n}.yaml"), "w") as fh:
            fh.write(
                f"task: text_{n}\ndataset_path: json\ndataset_kwargs: {{data_files: text_{n}.jsonl}}\n"
                "test_split: train\ndoc_to_text: '{{question}}\\nAnswer with the letter.'\n"
                "doc_to_target: answer\nmetric_list: [{metric: exact_match}]\n"
                "generation_kwargs: {max_new_tokens: 4}\n"
            )
    for k in range(100):
        Image.new("RGB", (64 + k, 48), (k, 2 * k, 255 - k)).save(os.path.join(root, "img", f"{k}.png"))
    with open(os.path.join(root, "image_20000.jsonl"), "w") as fh:
        for i in range(20000):
            fh.write(
                json.dumps({"id": i, "image": f"img/{i % 100}.png", "question": f"What is shown? ({i})", "answer": "A"})
                + "\n"
            )
    with open(os.path.join(root, "image_20000.yaml"), "w") as fh:
        fh.write(
            "task: image_20000\ndataset_path: json\ndataset_kwargs: {data_files: image_20000.jsonl}\n"
            "test_split: train\ndoc_to_visual: image\ndoc_to_text: question\ndoc_to_target: answer\n"
            "metric_list: [{metric: exact_match}]\ngeneration_kwargs: {max_new_tokens: 4}\n"
        )


def run_once(task: str, tasks_dir: str, out_dir: str) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one CLI run."""
    env = {**os.environ, "PYTHONPATH": HERE + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [
        sys.executable,
        "-m",
        "lmms_eval",
        "--model",
        "instant_model:InstantModel",
        "--tasks",
        task,
        "--include_path",
        tasks_dir,
        "--output_path",
        out_dir,
        "--no_progress",
        "--batch_size",
        "64",
    ]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"run of {task} failed: {proc.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_maxrss / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tasks_dir = os.path.join(tmp, "tasks")
        make_tasks(tasks_dir)
        os.environ["LMMS_EVAL_CACHE"] = os.path.join(tmp, "cache")
        run_once("text_2000", tasks_dir, os.path.join(tmp, "warmup"))  # fill the task index cache
        startup = min(run_once("text_2000", tasks_dir, os.path.join(tmp, f"s{i}"))[0] for i in range(1))
        rows = {}
        for task in ("text_2000", "text_20000", "image_20000"):
            walls, rss = [], []
            for i in range(args.repeats):
                w, r = run_once(task, tasks_dir, os.path.join(tmp, f"{task}_{i}"))
                walls.append(w)
                rss.append(r)
            rows[task] = (min(walls), max(rss))
        t2, t20 = rows["text_2000"][0], rows["text_20000"][0]
        per_sample_us = (t20 - t2) / 18000 * 1e6
        print(f"{'task':<14} {'samples':>8} {f'wall s (best of {args.repeats})':>20} {'peak RSS MB':>12}")
        for task, (wall, rss) in rows.items():
            print(f"{task:<14} {task.split('_')[1]:>8} {wall:>20.2f} {rss:>12.0f}")
        print(f"per-sample overhead (text, slope 2k->20k): {per_sample_us:.1f} us")
        print(
            f"image per-sample overhead (20k, minus the 2k text start-up share): "
            f"{(rows['image_20000'][0] - t2) / 18000 * 1e6:.1f} us"
        )
        ref = {"text_2000": 13.0, "text_20000": 18.5}
        for task, base in ref.items():
            print(f"vs lmms-eval 0.7.3 reference on this machine kind ({base} s): {rows[task][0] / base:.3f}x the time")
        print(f"peak RSS vs the 600 MB reference: {max(r for _, r in rows.values()) / 600:.3f}x")
        _ = startup


if __name__ == "__main__":
    main()
