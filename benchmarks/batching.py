"""Throughput of the evaluator's dynamic batching vs batch size 1, on a small random Qwen2.5-VL.

Everything runs offline. A random Qwen2.5-VL checkpoint (default: hidden 256, 4 text layers, a
2-layer vision tower; built from a config object with an offline-trained tokenizer by
``tests/models/tiny_vision.py``) and a local JSONL task (``--include_path``) whose documents mix
very different prompt lengths (a few words to a few hundred tokens) and image sizes
(56x56 to 336x336 pixels, i.e. 4 to 144 visual tokens) are written to a temporary folder. Each
configuration then runs the real engine (``lmms_eval.engine.evaluator.Evaluator``: cost-sorted
batches from the scheduler, the ``qwen2_5_vl`` adapter's left-padded batched ``generate``, the
sample log, scoring) in a fresh process, so its peak RSS is its own:

* batch size 1 (the baseline), batch 8, batch 16, and batch 16 capped by ``--max_batch_tokens``.

For each it prints samples/s and generated tokens/s over the generation phase (the evaluator's
``timing.generation_seconds``, the fastest of ``--repeats`` runs, after one warm-up call so
one-time start-up costs are not counted), the speed-up over batch 1, the share of that time
spent outside ``Model.generate`` (scheduling, sample log, scoring: "engine %"), peak RSS of the
process, peak CUDA memory (on a GPU), the mean batch the model saw, and how many greedy outputs
differ from batch 1 (0 expected in float32; bf16 kernels of different shapes may flip near-tied
tokens of a random model).

On a small CPU the speed-up is bounded by prefill compute (long prompts cost the same batched
or not); decode-heavy runs (``--max-new-tokens`` up, ``--max-words`` down) gain more. With bf16 on
a recent GPU, PyTorch's SDPA may pick cuDNN attention, which builds a plan for every new
sequence shape: a short run like this one is then dominated by plan building (seen on an H200,
torch 2.11: a batch of new shapes 10x slower than the same shapes again); compare in float32.

    python benchmarks/batching.py                         # CPU, default sizes (about 1-2 minutes)
    python benchmarks/batching.py --device cuda           # a GPU (dtype auto = bf16; add --dtype float32)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TASK = "batching_bench"
IMAGE_SIZES = [(56, 56), (336, 336), (112, 84), (84, 252), (224, 168), (168, 336), (280, 224), (140, 140)]
WORDS = (
    "the quick brown fox jumps over the lazy dog what is shown in the image answer with a single word "
    "describe a red square green circle and blue triangle on white background"
).split()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default cpu)")
    p.add_argument("--dtype", default="auto", help="model dtype: auto (bf16 on GPU, fp32 on CPU), float32, ...")
    p.add_argument("--samples", type=int, default=48, help="documents in the generated task")
    p.add_argument("--max-new-tokens", type=int, default=48)
    p.add_argument("--max-words", type=int, default=80, help="longest prompt context in words (shortest: 2)")
    p.add_argument("--batch-sizes", default="8,16", help="batch sizes compared with batch size 1")
    p.add_argument(
        "--max-batch-tokens",
        type=float,
        default=3000.0,
        help="cost cap for the extra run at the largest batch size (0: skip that run)",
    )
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--repeats", type=int, default=2, help="evaluator runs per configuration; the fastest counts")
    p.add_argument("--out", default=None, help="also write the figures as JSON here")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    return p.parse_args(argv)


# --------------------------------------------------------------------------- inputs


def make_task(root: Path, n: int, max_new_tokens: int, max_words: int) -> Path:
    """A local JSONL task of ``n`` image questions of very different lengths; returns its folder."""
    import numpy as np
    from PIL import Image

    folder = root / "task"
    (folder / "img").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for k, (w, h) in enumerate(IMAGE_SIZES):
        Image.fromarray(rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)).save(folder / "img" / f"{k}.png")
    with open(folder / "docs.jsonl", "w", encoding="utf-8") as fh:
        for i in range(n):
            # 2 to max_words words, spread geometrically and interleaved in document order.
            n_words = int(round(2 * (max_words / 2) ** ((i * 7 % n) / max(1, n - 1))))
            context = " ".join(WORDS[int(j)] for j in rng.integers(0, len(WORDS), n_words))
            doc = {
                "id": i,
                "image": f"img/{i % len(IMAGE_SIZES)}.png",
                "answer": "square",
                "question": f"{context}\nWhat is shown in the image? Answer with a single word.",
            }
            fh.write(json.dumps(doc) + "\n")
    (folder / f"{TASK}.yaml").write_text(
        f"task: {TASK}\ndataset_path: json\ndataset_kwargs: {{data_files: docs.jsonl}}\ntest_split: train\n"
        "doc_id_column: id\ndoc_to_visual: image\ndoc_to_text: question\ndoc_to_target: answer\n"
        "metric_list: [{metric: exact_match}]\n"
        f"generation_kwargs: {{max_new_tokens: {max_new_tokens}, temperature: 0}}\n",
        encoding="utf-8",
    )
    return folder


def build_model(root: Path, device: str, hidden: int, layers: int) -> str:
    sys.path.insert(0, str(ROOT / "tests" / "models"))
    import tiny_vision

    return tiny_vision.build_tiny_qwen2_5_vl(
        root,
        hidden=hidden,
        layers=layers,
        heads=4,
        vision_hidden=64,
        vision_depth=2,
        vision_heads=2,
        device="cuda" if device.startswith("cuda") else "cpu",
        image_max_pixels=28 * 28 * 144,
    )


# --------------------------------------------------------------------------- one configuration (child process)


def worker(spec: dict) -> dict:
    """Run one configuration through the evaluator; return its figures."""
    import torch
    from PIL import Image as PILImage

    from lmms_eval.api.generation import GenerationParams
    from lmms_eval.api.messages import Image, Message, Text
    from lmms_eval.api.registry import MODELS
    from lmms_eval.api.request import Request
    from lmms_eval.engine.evaluator import Evaluator
    from lmms_eval.engine.run_config import RunConfig
    from lmms_eval.engine.sample_store import samples_path

    model_args = {
        "pretrained": spec["pretrained"],
        "batch_size": spec["batch_size"],
        "device": spec["device"],
        "dtype": spec["dtype"],
    }
    model = MODELS.get("qwen2_5_vl").from_args(model_args)
    warm = Request(
        task="warmup",
        doc_id=0,
        params=GenerationParams(max_new_tokens=2),
        messages=[Message("user", [Image(data=PILImage.new("RGB", (56, 56))), Text("hi")])],
    )
    model.generate([warm])  # one-time start-up (allocator, kernels) is not part of the figures
    on_gpu = str(model.device).startswith("cuda")
    if on_gpu:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    # The evaluator closes its model at the end of a run; keep it for the repeats, close it after.
    close, model.close = model.close, lambda: None
    generate, in_model = model.generate, [0.0]

    def timed_generate(requests):
        start = time.perf_counter()
        try:
            return generate(requests)
        finally:
            in_model[0] += time.perf_counter() - start

    model.generate = timed_generate
    best = None
    for rep in range(spec["repeats"]):
        cfg = RunConfig(
            model="qwen2_5_vl",
            model_args=model_args,
            tasks=[TASK],
            batch_size=spec["batch_size"],
            max_batch_tokens=spec["max_batch_tokens"],
            include_path=[spec["task_dir"]],
            output_path=os.path.join(spec["output"], f"rep{rep}"),
            show_progress=False,
            verbosity="WARNING",
        )
        in_model[0] = 0.0
        outcome = Evaluator(cfg, model=model).run()
        seconds = outcome.results["timing"]["generation_seconds"]
        if best is None or seconds < best[0]:
            best = (seconds, in_model[0], outcome.run_dir)
    close()
    seconds, model_seconds, run_dir = best
    records = [json.loads(line) for line in open(samples_path(run_dir, TASK), encoding="utf-8")]
    errors = [r["error"] for r in records if r["status"] != "ok"]
    if errors:
        raise SystemExit(f"{len(errors)} samples failed, e.g. {errors[0]}")
    return {
        "generation_s": seconds,
        "model_s": model_seconds,
        "samples": len(records),
        "completion_tokens": sum(r["usage"]["completion_tokens"] for r in records),
        "prompt_tokens": [
            min(r["usage"]["prompt_tokens"] for r in records),
            max(r["usage"]["prompt_tokens"] for r in records),
        ],
        "outputs": {str(r["doc_id"]): r["raw_output"] for r in records},
        "mean_batch": sum(r["usage"]["batch_size"] for r in records) / len(records),
        "cuda_peak_mb": torch.cuda.max_memory_allocated() / 2**20 if on_gpu else None,
        "device": str(model.device),
    }


def run_config(spec: dict) -> dict:
    """One configuration in a fresh interpreter (so the peak RSS it reports is its own)."""
    cmd = [sys.executable, __file__, "--worker", json.dumps(spec)]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")},
    )
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"run {spec['label']} failed:\n{err[-3000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    result["rss_peak_mb"] = result.pop("_rss_mb")
    return result


def _self_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# --------------------------------------------------------------------------- main


def main() -> None:
    args = parse_args()
    if args.worker:
        result = worker(json.loads(args.worker))
        result["_rss_mb"] = _self_rss_mb()
        print(json.dumps(result))
        return
    started = time.perf_counter()
    sizes = [int(b) for b in args.batch_sizes.split(",") if b.strip()]
    configs = [("batch 1", 1, None)] + [(f"batch {b}", b, None) for b in sizes]
    if args.max_batch_tokens:
        configs.append(
            (f"batch {max(sizes)}, max_batch_tokens={args.max_batch_tokens:g}", max(sizes), args.max_batch_tokens)
        )
    with tempfile.TemporaryDirectory(prefix="lmms_eval_batching_") as tmp:
        root = Path(tmp)
        task_dir = make_task(root, args.samples, args.max_new_tokens, args.max_words)
        pretrained = build_model(root / "model", args.device, args.hidden, args.layers)
        rows = []
        for label, batch, cap in configs:
            spec = {
                "label": label,
                "pretrained": pretrained,
                "batch_size": batch,
                "max_batch_tokens": cap,
                "device": args.device,
                "dtype": args.dtype,
                "task_dir": str(task_dir),
                "repeats": args.repeats,
                "output": str(root / "runs" / f"b{batch}_{cap}"),
            }
            rows.append((label, run_config(spec)))
    base = rows[0][1]
    lo, hi = base["prompt_tokens"]
    print(
        f"Qwen2.5-VL random, hidden {args.hidden}, {args.layers} layers; {args.samples} image prompts of {lo} to "
        f"{hi} tokens; max_new_tokens {args.max_new_tokens}; device {base['device']}, dtype {args.dtype}"
    )
    header = (
        f"{'configuration':<40} {'mean batch':>10} {'samples/s':>10} {'gen tok/s':>10} {'speed-up':>9} "
        f"{'engine %':>8} {'RSS MB':>8} {'CUDA MB':>8} {'mismatch':>9}"
    )
    print(header)
    summary = []
    for label, r in rows:
        sps = r["samples"] / r["generation_s"]
        tps = r["completion_tokens"] / r["generation_s"]
        speedup = sps / (base["samples"] / base["generation_s"])
        mismatches = sum(r["outputs"][k] != v for k, v in base["outputs"].items())
        cuda = f"{r['cuda_peak_mb']:.0f}" if r["cuda_peak_mb"] is not None else "-"
        engine = 100 * (1 - r["model_s"] / r["generation_s"])
        print(
            f"{label:<40} {r['mean_batch']:>10.1f} {sps:>10.2f} {tps:>10.1f} {speedup:>8.2f}x {engine:>7.1f}% "
            f"{r['rss_peak_mb']:>8.0f} {cuda:>8} {mismatches:>5}/{len(base['outputs'])}"
        )
        summary.append(
            {
                "configuration": label,
                "mean_batch": r["mean_batch"],
                "samples_per_s": sps,
                "generated_tokens_per_s": tps,
                "speedup_vs_batch1": speedup,
                "generation_s": r["generation_s"],
                "model_s": r["model_s"],
                "completion_tokens": r["completion_tokens"],
                "rss_peak_mb": r["rss_peak_mb"],
                "cuda_peak_mb": r["cuda_peak_mb"],
                "greedy_mismatches_vs_batch1": mismatches,
            }
        )
    best = max(s["speedup_vs_batch1"] for s in summary[1:]) if len(summary) > 1 else 1.0
    print(f"best speed-up over batch 1: {best:.2f}x (goal >= 3x); wall time {time.perf_counter() - started:.0f} s")
    if args.out:
        Path(args.out).write_text(json.dumps({"args": vars(args), "rows": summary}, indent=2))


if __name__ == "__main__":
    main()
