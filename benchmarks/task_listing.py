"""Wall time of `lmms-eval tasks` with hundreds of task YAMLs (goal: under 0.5 s warm).

Writes N synthetic task folders (each a YAML with an include and a !function, like real
benchmarks), then times the CLI in fresh processes: once cold (index built), then warm
(cached index reused), and once after touching one YAML (index rebuilt).

    python benchmarks/task_listing.py [--tasks 500] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time


def make_tasks(root: str, n: int) -> None:
    for i in range(n):
        folder = os.path.join(root, f"bench_{i // 10}")
        os.makedirs(folder, exist_ok=True)
        base = os.path.join(folder, "_default_template_yaml")
        if not os.path.exists(base):
            with open(base, "w") as fh:
                fh.write(
                    "dataset_path: lmms-lab/fake\ntest_split: test\ndoc_to_visual: !function utils.visual\n"
                    "doc_to_text: '{{question}}'\ndoc_to_target: answer\n"
                    "metric_list: [{metric: exact_match}]\nmetadata: {version: 1}\n"
                )
            with open(os.path.join(folder, "utils.py"), "w") as fh:
                fh.write("def visual(doc):\n    return [doc['image']]\n")
        with open(os.path.join(folder, f"task_{i}.yaml"), "w") as fh:
            fh.write(f"task: bench_task_{i}\ntag: [bench_tag_{i % 7}]\ninclude: _default_template_yaml\n")


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tasks_dir = os.path.join(tmp, "tasks")
        make_tasks(tasks_dir, args.tasks)
        env = {**os.environ, "LMMS_EVAL_CACHE": os.path.join(tmp, "cache")}
        cmd = [sys.executable, "-m", "lmms_eval", "tasks", "--include_path", tasks_dir]
        cold = timed(cmd, env)
        warm = sorted(timed(cmd, env) for _ in range(args.repeats))
        os.utime(os.path.join(tasks_dir, "bench_0", "task_0.yaml"))
        touched = timed(cmd, env)
        baseline = sorted(timed([sys.executable, "-c", "pass"], env) for _ in range(args.repeats))[0]
        print(f"{args.tasks} extra task YAMLs plus the built-in ones")
        print(f"cold (index built):        {cold:.3f} s")
        print(f"warm (cached index), best: {warm[0]:.3f} s   median: {warm[len(warm) // 2]:.3f} s")
        print(f"after touching one YAML:   {touched:.3f} s")
        print(f"bare python start-up:      {baseline:.3f} s  (warm listing = {warm[0] / baseline:.1f}x that)")
        print(f"goal < 0.5 s warm: {'met' if warm[len(warm) // 2] < 0.5 else 'NOT met'}")


if __name__ == "__main__":
    main()
