"""MMAU test-mini (Sakshi113/MMAU): prompt, domain splits and the official ``string_match`` rule.

Scoring of one sample, in order:

1. ``choices`` is the JSON-encoded string list of the hub copy (``lmms-lab/mmau``); a cell that
   is not a JSON list of strings is that sample's error.
2. Answer extraction (the harness's step: the official repo scores a ``model_prediction`` that
   the submitter extracted): when the shared deterministic extractor
   :func:`lmms_eval.metrics.extract.extract_choice` finds exactly one option in the output
   (a letter such as "B" / "(B)" / "Answer: B", or one option's text), the prediction is that
   option's text; otherwise the prediction is the raw output. Nothing is guessed.
3. The official rule, ``string_match`` of ``evaluation.py`` (commit 110127f): lower-case both
   texts and take their sets of ``\\b\\w+\\b`` tokens. An empty prediction is wrong. The answer is
   matched when (a) every answer token is in the prediction and (b) the prediction has no
   token of a wrong option, counting only the tokens of wrong options that are not answer
   tokens (an option whose token set equals the answer's contributes nothing).
4. Accuracy is the mean over samples. The official "Total Accuracy" is correct / total over
   all 1000 test-mini items (a micro mean), so the group ``mmau_test_mini`` weights its three
   domain tasks by size.

``string_match_raw`` applies step 3 to the raw output without step 2 (what ``evaluation.py``
gives when ``model_prediction`` is the unedited output); ``parse_rate`` is how often step 2
found an option.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from lmms_eval.api.errors import SampleError
from lmms_eval.metrics.extract import LETTERS, extract_choice

_WORD = re.compile(r"\b\w+\b")


def parse_choices(doc: Mapping[str, Any]) -> list[str]:
    """Step 1: the options of a row (``choices`` is a JSON string on the hub; a list is accepted)."""
    raw = doc.get("choices")
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError as exc:
        raise SampleError(
            f"MMAU item {doc.get('id')!r}: choices {raw!r} is not JSON ({exc.msg}); "
            "expected a JSON list of option strings as in lmms-lab/mmau"
        ) from exc
    if not isinstance(value, list) or not value or not all(isinstance(c, str) for c in value):
        raise SampleError(f"MMAU item {doc.get('id')!r}: choices {raw!r} is not a non-empty list of strings")
    return value


def doc_to_text(doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None) -> str:
    """``{pre_prompt}{question}`` then one ``A. option`` line per option, then ``{post_prompt}``."""
    kwargs = lmms_eval_specific_kwargs or {}
    choices = parse_choices(doc)
    options = "\n".join(f"{LETTERS[i]}. {c}" for i, c in enumerate(choices))
    return f"{kwargs.get('pre_prompt', '')}{doc['question']}\n{options}{kwargs.get('post_prompt', '')}"


def _tokens(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def string_match(answer: str, prediction: str, choices: Sequence[str]) -> bool:
    """Step 3: the official MMAU match of a prediction against the answer text (see module doc)."""
    prediction_tokens = _tokens(prediction)
    answer_tokens = _tokens(answer)
    if not prediction_tokens:
        return False
    wrong_tokens: set[str] = set()
    for choice in choices:
        choice_tokens = _tokens(choice)
        if choice_tokens != answer_tokens:
            wrong_tokens |= choice_tokens - answer_tokens
    return answer_tokens <= prediction_tokens and prediction_tokens.isdisjoint(wrong_tokens)


def model_prediction(output: str, choices: Sequence[str]) -> tuple[str, bool]:
    """Step 2: (the text to score, whether an option was extracted)."""
    letter = extract_choice(output, choices)
    if letter is None:
        return output, False
    return choices[LETTERS.index(letter)], True


def process_results(doc: Mapping[str, Any], results: list[Any]) -> dict[str, float]:
    """Per-sample ``accuracy`` (steps 2+3), ``string_match_raw`` (step 3 alone) and ``parse_rate``."""
    output = str(results[0] if results[0] is not None else "").strip()
    choices = parse_choices(doc)
    answer = doc.get("answer")
    if not isinstance(answer, str) or not answer.strip():
        raise SampleError(f"MMAU item {doc.get('id')!r} has no answer text (test-mini rows carry one)")
    prediction, parsed = model_prediction(output, choices)
    return {
        "accuracy": float(string_match(answer, prediction, choices)),
        "string_match_raw": float(string_match(answer, output, choices)),
        "parse_rate": float(parsed),
    }


def _domain(ds: Any, domain: str) -> Any:
    """The rows of one domain (``task`` column), read without decoding any audio."""
    if isinstance(ds, list):
        return [row for row in ds if row.get("task") == domain]
    keep = [i for i, value in enumerate(ds["task"]) if value == domain]
    return ds.select(keep)


def sound_docs(ds: Any) -> Any:
    """``process_docs`` of ``mmau_test_mini_sound``."""
    return _domain(ds, "sound")


def music_docs(ds: Any) -> Any:
    """``process_docs`` of ``mmau_test_mini_music``."""
    return _domain(ds, "music")


def speech_docs(ds: Any) -> Any:
    """``process_docs`` of ``mmau_test_mini_speech``."""
    return _domain(ds, "speech")
