"""Throughput of the agent loop batched turn by turn vs one conversation at a time, on a tiny random Qwen2.5-VL.

Everything runs offline, on the real code path: the ``qwen2_5_vl`` adapter (processor, chat
template over the growing multi-turn conversation, left-padded batched ``generate``) on a random
checkpoint built from a config object with an offline-trained tokenizer
(``tests/models/tiny_vision.py``), driven by the engine's loop
(:func:`lmms_eval.engine.agent_loop.run_agents`) with the record/replay-free in-memory toolbox.

A random model writes noise, so the conversations follow a fixed script whatever it writes: a
protocol defined here (MMSearch-R1's, with ``parse`` replaced) reads turns 1 and 2 as text
searches and turn 3 as the answer. Every sample is then exactly 3 model turns, each re-sending the
whole conversation (image, question, earlier turns, five search results), with
``--max-new-tokens`` decoded per turn. Two modes over the same samples:

* sequential: one conversation at a time (``run_agents`` per sample: 3 model calls of 1 request);
* batched: ``--batch`` conversations at once (``run_agents`` per chunk: 3 model calls of ``--batch``).

It prints, for each prompt kind (``--prompt``: ``short`` texts and MMSearch-R1's real ones, both
by default) and each mode, samples/s (the fastest of ``--repeats`` runs, after a warm-up call),
turns per sample (3.0), engine model calls and requests per call, the rows of the transformers
``generate`` call each request ran in (``Response.batch_size``), mean prompt and new tokens per
turn, the speed-up (ratios against the sequential mode measured in the same run) and how many
final texts differ from the sequential mode's (greedy float32: 0 expected; left padding may flip
near-tied tokens of a random model, which would show here, not fail).

    python benchmarks/agent_loop.py                          # CPU, both prompt kinds, about 30-60 s
    python benchmarks/agent_loop.py --prompt short           # short texts only
    python benchmarks/agent_loop.py --prompt mmsearch_r1 --max-new-tokens 128
    python benchmarks/agent_loop.py --batch 16 --samples 32

Measured on 2 shared CPU cores, no GPU (torch SDPA attention, float32), 2026-12-04, defaults
(16 samples, batch 8, max_new_tokens 32, best of 2); the machine is noisy (the sequential rate
of the same configuration ranged 5.1 to 8.0 samples/s across runs):

* short prompts (~240 tokens per turn): sequential 8.03, batched 29.61 samples/s: **3.69x**
  (5.05x and 3.28x in other runs; 6.64x at 16 new tokens), 0/16 final texts differ;
* MMSearch-R1's real texts (~2,400 tokens per turn with this tokenizer): sequential 4.88, batched
  3.76 samples/s: **0.77x** (0.94x in another run; 0.50x at 1 new token, 1.74x at 128), 0/16
  differ. Prefill dominates, and batched prefill is slower than the same prompts one by one: a
  left-padded batch carries an attention mask, so PyTorch's CPU ``scaled_dot_product_attention``
  leaves its causal fast path (8 x 4 heads x 2,400 tokens, head dim 16: 15 ms for one row causal,
  66 ms for 8 rows causal, 223 ms for 8 rows with a boolean mask). Batching pays where decoding
  and per-call overhead dominate (short turns, more new tokens), not on a long prefill on CPU; a
  GPU run (flash attention on padded batches) is the check still to make.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=16)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--max-new-tokens", type=int, default=32)
    p.add_argument(
        "--prompt",
        default="short,mmsearch_r1",
        help="protocol texts, comma-separated: short and/or mmsearch_r1 (see above); default both",
    )
    p.add_argument("--repeats", type=int, default=2, help="runs per mode; the fastest counts")
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--attn", default=None, help="attn_implementation model arg (default: the adapter's)")
    return p.parse_args(argv)


class Pages:
    """An in-memory search backend: five fixed pages for any query (tool time ~0)."""

    name = "pages"
    params: dict[str, Any] = {}

    def search_text(self, query: str, k: int = 5) -> Any:
        from lmms_eval.tools.base import SearchHit, SearchResult

        hits = [
            SearchHit(f"Page {i} on {query}", f"https://ex.org/{i}", f"{query} is described here, {i}.")
            for i in range(k)
        ]
        return SearchResult(query, "text", hits, backend=self.name)

    def search_image(self, image: Any, k: int = 5) -> Any:
        raise NotImplementedError


def scripted_protocol(prompt: str) -> Any:
    """MMSearch-R1's protocol with the model's text ignored: text search, text search, answer.

    ``prompt="short"`` also replaces its texts by short ones (the image and the question; each
    result as one line per page), so a turn costs what the loop and the model calls cost rather than
    attention over MMSearch-R1's long template (~2,400 tokens a turn here); ``"mmsearch_r1"`` keeps its real texts.
    """
    from lmms_eval.agent.protocol import Action
    from lmms_eval.agent.search import MMSearchR1Protocol
    from lmms_eval.agent.spec import AgentSpec
    from lmms_eval.api.messages import Message, Text

    class ThreeTurns(MMSearchR1Protocol):
        def parse(self, text: str, conv: Any) -> Action:
            if conv.turns < 3:
                return Action("text_search", text, query=f"query {conv.turns}")
            return Action("answer", text, answer=text)

    class ShortThreeTurns(ThreeTurns):
        def begin(self, conv: Any) -> list[Message]:
            return [Message("user", [*conv.images, Text(conv.question)])]

        def observe(self, action: Action, outcome: Any, conv: Any) -> Message:
            lines = "".join(f"{i + 1}. {hit.title}\n" for i, hit in enumerate(outcome.hits))
            return Message("user", [Text(f"<information>{lines}</information>")])

    if prompt not in ("short", "mmsearch_r1"):
        raise SystemExit(f"--prompt {prompt!r}: use short or mmsearch_r1")
    cls = ShortThreeTurns if prompt == "short" else ThreeTurns
    return cls(AgentSpec(protocol="mmsearch_r1", max_turns=3, tools={"text_search": {"max_calls": 2, "top_k": 5}}))


def jobs(n: int, protocol: Any, params: Any) -> list[Any]:
    """Fresh jobs (conversations are stateful): an image and a question each."""
    sys.path.insert(0, str(ROOT / "tests" / "models"))
    import tiny_vision

    from lmms_eval.agent.protocol import AgentJob
    from lmms_eval.api.messages import Image, Message, Text
    from lmms_eval.api.request import Request

    images = tiny_vision.make_images(n)
    out = []
    for i in range(n):
        messages = [Message("user", [Image(data=images[i]), Text(f"Question {i}: what is in this picture?")])]
        out.append(AgentJob(Request("bench", i, messages, params=params, id=str(i)), protocol, {}))
    return out


def timed(model: Any, n: int, size: int, protocol: Any, params: Any, toolbox: Any, prepare: Any) -> dict[str, Any]:
    """One mode over ``n`` fresh samples, ``size`` conversations per ``run_agents`` call."""
    from lmms_eval.engine.agent_loop import run_agents

    work = jobs(n, protocol, params)
    calls: list[int] = []
    rows: list[int] = []
    generate = model.generate

    def counting(requests: Any) -> Any:
        calls.append(len(requests))
        responses = generate(requests)
        # Response.batch_size: the rows of the transformers ``generate`` call the request ran in.
        rows.extend(r.batch_size or 0 for r in responses)
        return responses

    model.generate = counting
    try:
        started = time.perf_counter()
        done = []
        for k in range(0, n, size):
            done += run_agents(model, work[k : k + size], toolbox, prepare)
        seconds = time.perf_counter() - started
    finally:
        model.generate = generate
    turns = sum(conv.turns for _, conv in done)
    return {
        "seconds": seconds,
        "texts": [response.text for response, _ in done],
        "errors": [conv.error for _, conv in done if conv.error],
        "turns": turns / n,
        "calls": len(calls),
        "per_call": sum(calls) / len(calls),
        "rows": sum(rows) / len(rows),
        "prompt_tokens": sum(conv.prompt_tokens for _, conv in done) / max(1, turns),
        "new_tokens": sum(conv.completion_tokens for _, conv in done) / max(1, turns),
    }


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    sys.path.insert(0, str(ROOT / "tests" / "models"))
    import tiny_vision

    from lmms_eval.agent.toolbox import Toolbox
    from lmms_eval.api.generation import GenerationParams
    from lmms_eval.api.registry import MODELS
    from lmms_eval.media import prepare_request

    root = Path(tempfile.mkdtemp(prefix="agent_loop_bench_"))
    ckpt = tiny_vision.build_tiny_qwen2_5_vl(root, hidden=args.hidden, layers=args.layers)
    margs = {"pretrained": ckpt, "device": "cpu", "dtype": "float32", "batch_size": args.batch}
    if args.attn:
        margs["attn_implementation"] = args.attn
    model = MODELS.get("qwen2_5_vl").from_args(margs)
    spec = model.media_spec
    prepare = (lambda r: prepare_request(r, spec)) if spec is not None else None
    params = GenerationParams.from_kwargs({"max_new_tokens": args.max_new_tokens, "temperature": 0}, "benchmark")
    toolbox = Toolbox(Pages())
    prompts = [p.strip() for p in args.prompt.split(",") if p.strip()]
    results: list[tuple[str, dict[str, dict[str, Any]]]] = []
    for prompt in prompts:
        protocol = scripted_protocol(prompt)
        timed(model, 2, 2, protocol, params, toolbox, prepare)  # warm-up
        best: dict[str, dict[str, Any]] = {}
        for _ in range(args.repeats):
            for mode, size in (("sequential", 1), ("batched", args.batch)):
                run = timed(model, args.samples, size, protocol, params, toolbox, prepare)
                if run["errors"]:
                    raise SystemExit(f"{mode}, {prompt} prompts: {len(run['errors'])} failed, e.g. {run['errors'][0]}")
                if mode not in best or run["seconds"] < best[mode]["seconds"]:
                    best[mode] = run
        results.append((prompt, best))
    toolbox.close()
    model.close()
    print(
        f"agent loop, tiny Qwen2.5-VL (hidden {args.hidden}, {args.layers} layers, float32, CPU), "
        f"{args.samples} samples x 3 turns, max_new_tokens {args.max_new_tokens}, best of {args.repeats}"
    )
    print(
        f"{'prompts':<12}{'mode':<12}{'samples/s':>10}{'turns/sample':>13}{'model calls':>12}{'requests/call':>14}"
        f"{'rows/generate':>14}{'prompt tok/turn':>16}{'new tok/turn':>13}{'speed-up':>9}{'differ':>8}"
    )
    for prompt, best in results:
        base = best["sequential"]
        for mode, run in best.items():
            rate = args.samples / run["seconds"]
            speedup = base["seconds"] / run["seconds"]
            differ = sum(a != b for a, b in zip(base["texts"], run["texts"]))
            print(
                f"{prompt:<12}{mode:<12}{rate:>10.2f}{run['turns']:>13.1f}{run['calls']:>12}{run['per_call']:>14.1f}"
                f"{run['rows']:>14.1f}{run['prompt_tokens']:>16.0f}{run['new_tokens']:>13.1f}{speedup:>8.2f}x"
                f"{differ:>5}/{args.samples}"
            )
    print(
        f"speed-up = batched samples/s over sequential samples/s of the same run (goal >= 3x at batch 8); "
        f"differ = final texts unlike the sequential mode's; wall time {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
