"""Judge-stage throughput: concurrency N vs serial, against a real local OpenAI-compatible server.

By default it starts ``transformers serve`` on 127.0.0.1 with a tiny scripted judge model (the
test peer of ``tests/servers.py``), judges ``--samples`` distinct records with
``concurrency=1`` and with ``concurrency=N`` (fresh cache each time, so every call is paid),
and prints calls/s and the ratio. ``--latency S`` puts a proxy in front of the server that adds
S seconds per call, the way a hosted API's network and queueing do; that is where concurrency
pays off most, since a local CPU server decodes one request at a time. ``--base-url`` and
``--model`` measure an existing server instead.

    python benchmarks/judge_throughput.py [--samples 48] [--concurrency 8] [--latency 0.25]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))


def records(n: int) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        question = f"What is {i} + {i + 1}?"
        out.append(
            {
                "id": f"r{i}",
                "doc_id": i,
                "index": i,
                "repeat": 0,
                "status": "ok",
                "error": None,
                "prompt": [{"role": "user", "content": [{"type": "text", "text": question}]}],
                "raw_output": str(2 * i + 1 + i % 2),
                "filtered": {"none": str(2 * i + 1 + i % 2)},
                "target": str(2 * i + 1),
                "scores": {},
                "doc": {"question": question},
            }
        )
    return out


def measure(base_url: str, model: str, n: int, concurrency: int) -> tuple[float, dict[str, Any]]:
    from lmms_eval.judge import judge_records_sync, judge_summary, parse_judge_arg

    cfg = parse_judge_arg({"model": model, "base_url": base_url, "concurrency": concurrency, "max_tokens": 16})
    recs = records(n)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        judge_records_sync(recs, {"type": "binary"}, cfg, os.path.join(tmp, "cache.sqlite"))
        elapsed = time.perf_counter() - started
    summary = judge_summary(recs)
    if summary["calls"] != n or summary["judge_errors"]:
        raise SystemExit(f"unexpected judge outcome: {summary}")
    return elapsed, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=48)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--latency", type=float, default=0.25, help="seconds added per call by a proxy (0: none)")
    parser.add_argument("--base-url", default=None, help="use this server instead of starting transformers serve")
    parser.add_argument("--model", default=None, help="model name on --base-url")
    args = parser.parse_args()

    server = None
    if args.base_url:
        base_url, model = args.base_url, args.model or "judge"
        where = base_url
    else:
        from servers import LocalOpenAIServer

        root = tempfile.mkdtemp(prefix="judge_bench_")
        server = LocalOpenAIServer(root).start()
        model = server.model("Verdict: correct")
        server.wait_ready()
        base_url = server.base_url
        where = f"transformers serve (tiny scripted Qwen2 on CPU), start-up {server.startup_s:.1f}s"
    try:
        print(f"server: {where}; {args.samples} judge calls, {os.cpu_count()} CPU cores")
        measure(base_url, model, 2, 1)  # warm-up: model load
        setups = [("direct", base_url)]
        proxy = None
        if args.latency > 0:
            from servers import Fault, FaultServer

            proxy = FaultServer(upstream=base_url, default=Fault.sleep(args.latency)).start()
            setups.append((f"+{args.latency:g}s/call latency", proxy.base_url))
        for label, url in setups:
            serial, _ = measure(url, model, args.samples, 1)
            fast, _ = measure(url, model, args.samples, args.concurrency)
            print(
                f"{label:>24}: serial {args.samples / serial:7.2f} calls/s ({serial:.2f}s), "
                f"concurrency {args.concurrency} {args.samples / fast:7.2f} calls/s ({fast:.2f}s), "
                f"ratio {serial / fast:.2f}x"
            )
        if proxy is not None:
            proxy.stop()
    finally:
        if server is not None:
            server.stop()
            shutil.rmtree(server.root, ignore_errors=True)


if __name__ == "__main__":
    main()
