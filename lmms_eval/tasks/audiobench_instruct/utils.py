"""AudioBench speech-instruction sets (OpenHermes-Audio, Alpaca-Audio): prompt, target and scale.

The model hears the spoken instruction (column ``context``) and gets one of AudioBench's ten fixed
"follow the audio" text instructions; the judge stage (``audiobench_judge.jinja``) rates its
answer 0-5 against ``answer``, and the task reports the mean rating x 20, as AudioBench's
``llama3_70b_as_judge`` does (``src/dataset_src/eval_methods/eval_llama3_70b.py``, commit
e991641). See README.md for what differs from AudioBench.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from lmms_eval.api.errors import SampleError

# AudioBench's ``si_instructions`` (identical in openhermes_audio_test.py and alpaca_audio_test.py).
SI_INSTRUCTIONS: tuple[str, ...] = (
    "Kindly adhere to the directions provided in the audio.",
    "Please comply with the instructions given in the audio clip.",
    "Please obey the instructions that were provided in the audio.",
    "Please adhere to the instructions given in the audio.",
    "Please make sure to follow the instructions provided in the audio.",
    "Please ensure you follow the directions provided in the audio.",
    "Please adhere strictly to the instructions in the audio recording.",
    "Please adhere to the guidelines provided in the audio.",
    "Please make it a point to follow the instructions from the audio.",
    "Please listen carefully and follow the instructions given in the audio.",
)

SCALE = 20.0  # AudioBench: mean judge rating (0-5) x 20 -> 0-100


def _text_field(doc: Mapping[str, Any], column: str, what: str) -> str:
    value = doc.get(column)
    if not isinstance(value, str) or not value.strip():
        raise SampleError(
            f"AudioBench instruction item has no {column!r} ({what}); "
            "use AudioLLMs/openhermes_instruction_test or AudioLLMs/alpaca_audio_test, whose rows carry it"
        )
    return value


def pick_instruction(doc: Mapping[str, Any]) -> str:
    """The fixed text instruction of one item: one of :data:`SI_INSTRUCTIONS`.

    AudioBench draws it with an unseeded ``random.choice`` per item; here the draw is made
    reproducible by hashing the item's ``speech_instruction`` (same item, same instruction).
    """
    text = _text_field(doc, "speech_instruction", "the text of the spoken instruction")
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return SI_INSTRUCTIONS[int.from_bytes(digest[:8], "big") % len(SI_INSTRUCTIONS)]


def doc_to_text(doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None) -> str:
    """``pre_prompt + instruction + post_prompt``; ``instruction`` (a kwarg) fixes one for every item."""
    kwargs = dict(lmms_eval_specific_kwargs or {})
    fixed = kwargs.get("instruction")
    instruction = str(fixed) if fixed else pick_instruction(doc)
    return f"{kwargs.get('pre_prompt', '')}{instruction}{kwargs.get('post_prompt', '')}"


def doc_to_target(doc: Mapping[str, Any]) -> str:
    """The reference answer the judge compares with (an item without one is that sample's error)."""
    _text_field(doc, "speech_instruction", "the instruction text the judge is shown as [Question]")
    return _text_field(doc, "answer", "the reference answer the judge compares with")


def judge_score(prediction: Any, target: Any, doc: Any = None, choices: Any = None, **_: Any) -> None:
    """Placeholder for the judge's 0-5 rating before the judge stage runs.

    The judge stage (``judge.metric: judge_score``) replaces it with the parsed rating; without
    ``--judge`` it stays ``None`` and the task reports no score rather than a made-up one.
    """
    return None


def audiobench_scale(values: Sequence[float]) -> float:
    """AudioBench's final number: the mean of the parsed 0-5 ratings times 20 (0-100)."""
    ratings = [float(v) for v in values]
    if not ratings:
        return float("nan")
    return sum(ratings) / len(ratings) * SCALE
