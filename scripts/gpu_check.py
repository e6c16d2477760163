#!/usr/bin/env python
"""GPU check of the Qwen2.5-VL adapter: batched greedy generation equals one-by-one, and speed.

Runs fully offline (no hub access needed): it builds a small random Qwen2.5-VL-like checkpoint
from a config object with an offline-trained tokenizer (``tests/models/tiny_vision.py``), saves
it to a temporary folder, loads it through the ``qwen2_5_vl`` adapter's real loading path, and
generates for a batch of images of different sizes at batch size 1 and at batch size N.

Checks, printed as one JSON object on stdout (exit code 1 if a required check fails):

* ``main``: the requested dtype (bf16 on GPU) and attention (``flash_attention_2`` when
  ``flash_attn`` imports, else ``sdpa``). Batch-1 vs batch-N greedy equality is *reported*
  (``equal``, ``mismatches``): low-precision kernels may legitimately flip near-tied argmaxes of
  a random model.
* ``fp32``: the same comparison in float32 with ``sdpa`` (GPU only): must be exactly equal.
* timings (generated tokens per second), peak GPU memory, versions.

Usage on the GPU machine:   python scripts/gpu_check.py
Quick run on a CPU:         python scripts/gpu_check.py --device cpu --small
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "models"))


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda", help="cuda or cpu")
    p.add_argument("--small", action="store_true", help="test-sized model and images (for a CPU)")
    p.add_argument("--batch", type=int, default=8, help="batch size N compared with batch size 1")
    p.add_argument("--max-new-tokens", type=int, default=64)
    p.add_argument(
        "--attn",
        default=None,
        help="attention implementation (default: flash_attention_2 if flash_attn imports, else sdpa)",
    )
    p.add_argument("--dtype", default=None, help="default: bfloat16 on GPU, float32 on CPU")
    p.add_argument("--skip-fp32", action="store_true", help="skip the float32 exact-equality run on GPU")
    p.add_argument("--out", default=None, help="also write the JSON here")
    return p.parse_args()


def make_requests(n: int, small: bool, max_new_tokens: int) -> list:
    """n requests, each one image of a different size with a different question."""
    import numpy as np
    from PIL import Image as PILImage

    from lmms_eval.api.generation import GenerationParams
    from lmms_eval.api.messages import Image, Message, Text
    from lmms_eval.api.request import Request

    rng = np.random.default_rng(0)
    sizes = (
        [(56, 56), (84, 56), (56, 112), (70, 42)]
        if small
        else [(224, 224), (336, 252), (448, 336), (280, 560), (640, 480), (196, 392), (512, 512), (300, 200)]
    )
    questions = [
        "What is shown?",
        "Describe the image in one sentence.",
        "How many objects are there?",
        "Answer with one word: which colour dominates?",
    ]
    out = []
    for i in range(n):
        w, h = sizes[i % len(sizes)]
        img = PILImage.fromarray(rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8))
        text = questions[i % len(questions)] * (1 + i % 3)
        # min_new_tokens = max_new_tokens: every request generates the same count (stable tokens/s).
        gen = GenerationParams(max_new_tokens=max_new_tokens, min_new_tokens=max_new_tokens)
        out.append(
            Request(task="gpu_check", doc_id=i, messages=[Message("user", [Image(data=img), Text(text)])], params=gen)
        )
    return out


def sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def compare(model, requests: list, batch: int, device: str) -> dict:
    """Generate one by one and in batches of ``batch``; compare texts and time both."""
    model.generate(requests[:1])  # warm-up (kernels, allocator)
    sync(device)
    t0 = time.perf_counter()
    singles = [model.generate([r])[0] for r in requests]
    sync(device)
    t1 = time.perf_counter()
    batched = []
    for start in range(0, len(requests), batch):
        batched.extend(model.generate(requests[start : start + batch]))
    sync(device)
    t2 = time.perf_counter()
    errors = [r.error for r in singles + batched if r.error]
    tok1 = sum(r.completion_tokens or 0 for r in singles)
    tokn = sum(r.completion_tokens or 0 for r in batched)
    mismatches = []
    for i, (s, b) in enumerate(zip(singles, batched)):
        if (s.text, s.completion_tokens) != (b.text, b.completion_tokens):
            common = 0
            while common < min(len(s.text), len(b.text)) and s.text[common] == b.text[common]:
                common += 1
            mismatches.append(
                {"request": i, "same_prefix_chars": common, "len_single": len(s.text), "len_batched": len(b.text)}
            )
    return {
        "equal": not mismatches and not errors,
        "mismatches": mismatches,
        "errors": errors[:3],
        "nonempty": all(r.text for r in batched),
        "prompt_tokens": [r.prompt_tokens for r in singles],
        "batch1": {"wall_s": round(t1 - t0, 4), "tokens": tok1, "tokens_per_s": round(tok1 / (t1 - t0), 1)},
        f"batch{batch}": {"wall_s": round(t2 - t1, 4), "tokens": tokn, "tokens_per_s": round(tokn / (t2 - t1), 1)},
        "speedup": round((t1 - t0) / (t2 - t1), 2),
    }


def run_config(path: str, device: str, dtype: str, attn: str, requests: list, batch: int, small: bool) -> dict:
    import torch

    from lmms_eval.models.qwen2_5_vl import Qwen2_5_VL

    if device.startswith("cuda"):
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        # Full fp32 for the exactness run: no TF32 in matmuls or the patch-embedding convolution.
        if dtype == "float32":
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
    args = {"pretrained": path, "device": device, "dtype": dtype, "attn_implementation": attn, "batch_size": batch}
    if not small:
        args["max_pixels"] = 28 * 28 * 256  # up to 256 visual tokens per image
    model = Qwen2_5_VL.from_args(args)
    info = model.describe()["resolved"]
    result = compare(model, requests, batch, device)
    result.update(
        {"dtype": info["dtype"], "attn_implementation": info["attn_implementation"], "device": info["device"]}
    )
    if device.startswith("cuda"):
        result["peak_gpu_mem_gb"] = round(torch.cuda.max_memory_allocated() / 2**30, 3)
    result["n_params_m"] = round(sum(p.numel() for p in model.model.parameters()) / 1e6, 2)
    model.close()
    return result


def main() -> int:
    args = parse_args()
    import tiny_vision as tv
    import torch
    import transformers

    from lmms_eval.media import video_backends
    from lmms_eval.models.hf import placement as hc

    device = args.device
    if device.startswith("cuda") and not torch.cuda.is_available():
        print(json.dumps({"ok": False, "error": "no CUDA device visible; use --device cpu --small"}))
        return 1
    on_gpu = device.startswith("cuda")
    dtype = args.dtype or ("bfloat16" if on_gpu else "float32")
    attn = args.attn or ("flash_attention_2" if on_gpu and hc.flash_attn_available() else "sdpa")
    shape = (
        dict(hidden=64, layers=2, heads=4, vision_hidden=32, vision_depth=2, vision_heads=2)
        if args.small
        else dict(hidden=512, layers=4, heads=8, vision_hidden=256, vision_depth=4, vision_heads=4)
    )
    n = max(args.batch * 2, 4) if not args.small else max(args.batch, 4)
    requests = make_requests(n, args.small, args.max_new_tokens)

    report: dict = {
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "cuda": torch.version.cuda,
        "gpu": torch.cuda.get_device_name(0) if on_gpu else None,
        "flash_attn_importable": hc.flash_attn_available(),
        "video_backends": video_backends(),
        "model_shape": shape,
        "n_requests": n,
        "batch": args.batch,
        "max_new_tokens": args.max_new_tokens,
    }
    with tempfile.TemporaryDirectory(prefix="gpu_check_") as tmp:
        t0 = time.perf_counter()
        # Saved in the run dtype; the float32 run upcasts on load.
        path = tv.build_tiny_qwen2_5_vl(
            tmp, device=device, dtype=dtype, image_max_pixels=28 * 28 * (16 if args.small else 256), **shape
        )
        report["build_s"] = round(time.perf_counter() - t0, 2)
        try:
            report["main"] = run_config(path, device, dtype, attn, requests, args.batch, args.small)
        except Exception as exc:  # report, do not hide
            report["main"] = {"error": f"{type(exc).__name__}: {exc}"}
        if on_gpu and not args.skip_fp32 and (dtype != "float32" or attn != "sdpa"):
            try:
                report["fp32"] = run_config(path, device, "float32", "sdpa", requests, args.batch, args.small)
            except Exception as exc:
                report["fp32"] = {"error": f"{type(exc).__name__}: {exc}"}
    main_ok = "error" not in report["main"] and report["main"]["nonempty"] and not report["main"]["errors"]
    exact = report.get("fp32", report["main"])
    report["ok"] = bool(main_ok and "error" not in exact and exact["equal"])
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
