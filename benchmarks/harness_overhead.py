"""What the harness itself costs per sample: wall time and peak RSS of `lmms-eval` runs with an instant model.

Tasks (made here, in a temp folder):
* text_N: a local JSON Lines task of N short questions (exact match);
* image_N: a Hugging Face ``datasets`` split read from parquet with PNG bytes in an ``Image``
  column (the hub path users run: ``datasets.load_dataset`` + Arrow), 100 distinct small PNGs.

Each run is a fresh ``python -m lmms_eval`` process, at ``--batch_size 1`` (as issue 7 measured)
and 64 (cost-sorted batches: every document is read and costed first); wall and CPU time and
peak RSS come from wait4(). The instant model answers at once; for images it reads each image's size (so every
image is fetched from the dataset and its header parsed; pixels are not decoded: decoding is a
model's own work, done in the decode-ahead workers, see benchmarks/media_pipeline.py).

Per-sample cost = slope of wall time between N=2,000 and the largest N (start-up cancels out).
Goals (issue 7): text <= 15 us, images <= 40 us per sample; peak RSS < 150 MB at 100,000
samples and flat in N beyond the data itself.

    python benchmarks/harness_overhead.py [--sizes 2000,20000,100000] [--batch_sizes 1,64] [--repeats 3]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TEXT_GOAL_US, IMAGE_GOAL_US, RSS_GOAL_MB = 15.0, 40.0, 150.0
# lmms-eval 0.7.3, measured side by side on this machine kind (quoted from issue 7, not re-run here).
QUOTED_0_7_3 = {"text_2000": 9.96, "text_100000": 28.05}


def make_tasks(root: str, sizes: list[int]) -> None:
    import datasets
    from PIL import Image

    os.makedirs(root, exist_ok=True)
    pngs = []
    for k in range(100):
        buf = io.BytesIO()
        Image.new("RGB", (64 + k, 48), (k, 2 * k, 255 - k)).save(buf, format="PNG")
        pngs.append(buf.getvalue())
    features = datasets.Features(
        {
            "id": datasets.Value("int64"),
            "question": datasets.Value("string"),
            "answer": datasets.Value("string"),
            "image": datasets.Image(),
        }
    )
    for n in sizes:
        with open(os.path.join(root, f"text_{n}.jsonl"), "w") as fh:
            for i in range(n):
                row = {"id": i, "question": f"Question number {i}: which option is right?", "answer": "AB"[i % 2]}
                fh.write(json.dumps(row) + "\n")
        with open(os.path.join(root, f"text_{n}.yaml"), "w") as fh:
            fh.write(
                f"task: text_{n}\ndataset_path: json\ndataset_kwargs: {{data_files: text_{n}.jsonl}}\n"
                "test_split: train\ndoc_to_text: '{{question}}\\nAnswer with the letter.'\n"
                "doc_to_target: answer\nmetric_list: [{metric: exact_match}]\n"
                "generation_kwargs: {max_new_tokens: 4}\n"
            )
        rows = {
            "id": list(range(n)),
            "question": [f"What is shown? ({i})" for i in range(n)],
            "answer": ["A"] * n,
            "image": [{"bytes": pngs[i % 100], "path": None} for i in range(n)],
        }
        datasets.Dataset.from_dict(rows, features=features).to_parquet(os.path.join(root, f"image_{n}.parquet"))
        with open(os.path.join(root, f"image_{n}.yaml"), "w") as fh:
            fh.write(
                f"task: image_{n}\ndataset_path: parquet\ndataset_kwargs: {{data_files: {{test: image_{n}.parquet}}}}\n"
                "test_split: test\ndoc_to_visual: image\ndoc_to_text: question\ndoc_to_target: answer\n"
                "metric_list: [{metric: exact_match}]\ngeneration_kwargs: {max_new_tokens: 4}\n"
            )


def run_once(task: str, tasks_dir: str, out_dir: str, batch: int) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MB) of one CLI run."""
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
        str(batch),
    ]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"run of {task} failed: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,20000,100000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch_sizes", default="1,64", help="1 is how issue 7 measured; 64 adds cost-sorted batching")
    parser.add_argument("--make", help=argparse.SUPPRESS)  # internal: write the tasks into this folder
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    batches = [int(b) for b in args.batch_sizes.split(",")]
    if args.make:
        make_tasks(args.make, sizes)
        return
    with tempfile.TemporaryDirectory() as tmp:
        tasks_dir = os.path.join(tmp, "tasks")
        # In a child process: a parent that imported datasets would lend its RSS to every forked run.
        subprocess.run(
            [sys.executable, __file__, "--make", tasks_dir, "--sizes", args.sizes],
            check=True,
            stderr=subprocess.DEVNULL,
        )
        os.environ["LMMS_EVAL_CACHE"] = os.path.join(tmp, "cache")
        os.environ["HF_DATASETS_CACHE"] = os.path.join(tmp, "hf_cache")
        for kind in ("text", "image"):  # warm-up: task index, datasets' parquet -> Arrow cache
            for n in sizes:
                run_once(f"{kind}_{n}", tasks_dir, os.path.join(tmp, "warmup"), 1)
        rows: dict[tuple[str, int], tuple[float, float, float]] = {}
        for rep in range(args.repeats):  # interleaved repeats: best wall and CPU, worst RSS
            for batch in batches:
                for kind in ("text", "image"):
                    for n in sizes:
                        wall, cpu, rss = run_once(f"{kind}_{n}", tasks_dir, os.path.join(tmp, f"r{rep}"), batch)
                        best = rows.get((f"{kind}_{n}", batch), (float("inf"), float("inf"), 0.0))
                        rows[(f"{kind}_{n}", batch)] = (min(best[0], wall), min(best[1], cpu), max(best[2], rss))
        print(f"{'task':<14} {'batch':>5} {f'wall s (best of {args.repeats})':>20} {'CPU s':>7} {'peak RSS MB':>12}")
        for (task, batch), (wall, cpu, rss) in rows.items():
            print(f"{task:<14} {batch:>5} {wall:>20.2f} {cpu:>7.2f} {rss:>12.0f}")
        lo, hi = sizes[0], sizes[-1]
        for batch in batches:
            for kind, goal in (("text", TEXT_GOAL_US), ("image", IMAGE_GOAL_US)):
                a, b = rows[(f"{kind}_{lo}", batch)], rows[(f"{kind}_{hi}", batch)]
                wall_us, cpu_us = ((b[i] - a[i]) / (hi - lo) * 1e6 for i in (0, 1))
                rss_slope = (b[2] - a[2]) / (hi - lo) * 1e6
                print(
                    f"batch {batch:>2} {kind:<5}: per-sample {wall_us:.1f} us wall, {cpu_us:.1f} us CPU "
                    f"(goal <= {goal:g}); RSS {b[2]:.0f} MB at {hi} (goal < {RSS_GOAL_MB:g}), "
                    f"+{rss_slope:.0f} bytes/sample"
                )
        for task, base in QUOTED_0_7_3.items():
            if (task, 1) in rows:
                print(
                    f"{task} at batch 1 vs lmms-eval 0.7.3 ({base} s, quoted from issue 7): "
                    f"{rows[(task, 1)][0] / base:.3f}x the time"
                )


if __name__ == "__main__":
    main()
