"""Caption every clip of a person's EgoLife week once, with any registered video model, for the
retrieval mode (``--prompt_variant rag``).

``python -m lmms_eval.tasks.egolifeqa.captions --model qwen2_5_vl --model_args pretrained=...``
writes ``{"clip": <file name>, "caption": <text>}`` lines to
``$LMMS_EVAL_CACHE/egolifeqa/captions_<person>.jsonl`` (``--out`` to choose), where the task
looks by default. Each clip is shown as ``--frames`` frames at the centres of equal parts of its
30 seconds. Lines are appended and flushed per batch, so an interrupted run continues where it
stopped; a clip whose generation failed is reported and left out (run again to retry it). The
prompt is ours (EgoRAG captions with EgoGPT at 1 fps with a first-person prompt whose exact text
is not reproduced here); the captions file's sha256 enters every retrieval's cache key.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lmms_eval.api.generation import GenerationParams
from lmms_eval.api.messages import Message, Text, Video
from lmms_eval.api.request import Request, Response
from lmms_eval.tasks.egolifeqa.timeline import CLIP_SECONDS, Clip

PROMPT = (
    "This is a 30-second clip from my first-person camera. In one or two sentences, describe what I am "
    "doing, where I am, and the people and objects that can be seen."
)


def done_clips(out: Path) -> set[str]:
    """File names already captioned in ``out`` (a cut last line is ignored)."""
    if not out.exists():
        return set()
    names = set()
    for line in out.read_text(encoding="utf-8").splitlines():
        try:
            names.add(os.path.basename(json.loads(line)["clip"]))
        except (json.JSONDecodeError, KeyError, TypeError):
            continue
    return names


def caption_request(clip: Clip, path: str, frames: int, prompt: str, params: GenerationParams) -> Request:
    step = min(clip.length, CLIP_SECONDS) / frames
    video = Video(segments=[(path, [step * (i + 0.5) for i in range(frames)])])
    return Request("egolifeqa_captions", clip.name, [Message("user", [video, Text(prompt)])], params)


def _generate(model: Any, requests: list[Request]) -> list[Response]:
    """The batch's replies; when the batch raises, each request alone (a failure is its own error)."""
    try:
        return list(model.generate(requests))
    except Exception:  # noqa: BLE001 - one bad clip must not lose its neighbours
        out = []
        for request in requests:
            try:
                out.extend(model.generate([request]))
            except Exception as exc:  # noqa: BLE001
                out.append(Response.failed(f"{type(exc).__name__}: {exc}"))
        return out


def caption_clips(
    model: Any,
    clips: Sequence[Clip],
    fetch: Any,
    out: Path,
    frames: int = 8,
    batch_size: int = 8,
    prompt: str = PROMPT,
    max_new_tokens: int = 96,
) -> tuple[int, list[str]]:
    """Caption the clips not yet in ``out`` (``fetch(name) -> local path``); returns (new captions,
    failures as one line each)."""
    params = GenerationParams.from_kwargs({"max_new_tokens": max_new_tokens, "temperature": 0}, "captions")
    have = done_clips(out)
    todo = [clip for clip in clips if os.path.basename(clip.name) not in have]
    out.parent.mkdir(parents=True, exist_ok=True)
    written, failures = 0, []
    for start in range(0, len(todo), batch_size):
        batch = todo[start : start + batch_size]
        requests = [caption_request(clip, fetch(clip.name), frames, prompt, params) for clip in batch]
        responses = _generate(model, requests)
        with out.open("a", encoding="utf-8") as fh:
            for clip, response in zip(batch, responses, strict=True):
                if response.error is not None or not response.text.strip():
                    failures.append(f"{clip.name}: {response.error or 'empty caption'}")
                    continue
                row = {"clip": os.path.basename(clip.name), "caption": " ".join(response.text.split())}
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                written += 1
            fh.flush()
    return written, failures


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; exit 1 when a clip could not be captioned."""
    from lmms_eval.api.errors import LmmsEvalError
    from lmms_eval.api.registry import MODELS
    from lmms_eval.tasks.egolifeqa import utils

    parser = argparse.ArgumentParser(prog="python -m lmms_eval.tasks.egolifeqa.captions", description=__doc__)
    parser.add_argument("--model", required=True, help="a registered video model, e.g. qwen2_5_vl")
    parser.add_argument("--model_args", default="", help="as for lmms-eval, e.g. pretrained=...")
    parser.add_argument("--person", default="A1_JAKE")
    parser.add_argument("--out", default=None, help="JSONL to append to (default: where the task looks)")
    parser.add_argument("--frames", type=int, default=8, help="frames per clip")
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--limit", type=int, default=None, help="caption only the first N clips (a trial)")
    args = parser.parse_args(argv)
    out = Path(args.out) if args.out else utils.default_captions(args.person)
    try:
        clips = list(utils.clips_of(args.person))[: args.limit]
        if not clips:
            raise LmmsEvalError(f"no clips of {args.person} in {utils.REPO_ID}")
        model = MODELS.get(args.model).from_args(args.model_args)
        written, failures = caption_clips(model, clips, utils.FILES.fetch, out, args.frames, args.batch_size)
    except LmmsEvalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in failures:
        print(f"not captioned: {line}", file=sys.stderr)
    print(f"{written} new captions in {out} ({len(failures)} failed)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
