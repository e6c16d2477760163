"""AIR-Bench (OFA-Sys/AIR-Bench): the foundation prompt and scoring rule, and the chat reference.

Foundation, as ``Inference_Foundation.py`` and ``score_foundation.py`` do it (OFA-Sys/AIR-Bench
commit 9832476):

1. Prompt: the fixed instruction, a line break, the question, a line break, then the four
   lines ``A. <choice_a>`` .. ``D. <choice_d>``. A missing option is written as Python formats
   it: ``C. None`` for a 2-way question whose ``choice_c`` is null (the official script does
   exactly this; an empty string gives ``C. ``).
2. The response is stripped and its line breaks removed. An empty response or the literal
   ``None`` is unparsed.
3. If its first character is ``A``, ``B``, ``C`` or ``D``, that is the answer (so "As the
   audio ..." answers A: the official rule, kept on purpose).
4. Otherwise, if it has two or more characters and the second-to-last one is one of those
   letters ("The answer is A."), that is the answer.
5. Otherwise the response is unparsed.
6. The reference letter is the option whose text equals ``answer_gt`` exactly (A, B, C, D in
   that order); no such option is an error of that sample (the official script exits).
7. Accuracy = correct / parsed: unparsed responses are left out of the denominator and counted
   in ``fail_num`` (here: ``parse_rate``). ``accuracy_all`` counts them as wrong instead.

The friendlier variant (``mcq_accuracy``/``mcq_parse_rate``) reads the letter with the shared
deterministic extractor :func:`lmms_eval.metrics.extract.extract_choice` over the options that
are present; it never guesses either.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lmms_eval.api.errors import SampleError
from lmms_eval.metrics.extract import extract_choice

FOUNDATION_INSTRUCTION = (
    "Choose the most suitable answer from options A, B, C, and D to respond the question in next line, "
    "you may only choose A or B or C or D."
)
LETTERS = "ABCD"
OPTION_COLUMNS = ("choice_a", "choice_b", "choice_c", "choice_d")


def _field(doc: Mapping[str, Any], column: str) -> Any:
    """``doc[column]``, or None when the row lacks it (the official ``item.get``)."""
    return doc.get(column)


def foundation_doc_to_text(doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None) -> str:
    """The official foundation prompt (``Inference_Foundation.py``), with optional per-model pieces."""
    kwargs = lmms_eval_specific_kwargs or {}
    options = "\n".join(f"{letter}. {_field(doc, col)}" for letter, col in zip(LETTERS, OPTION_COLUMNS))
    body = f"{FOUNDATION_INSTRUCTION}\n{doc['question']}\n{options}"
    return f"{kwargs.get('pre_prompt', '')}{body}{kwargs.get('post_prompt', '')}"


def foundation_choices(doc: Mapping[str, Any]) -> list[str]:
    """The options present, in letter order: A and B always, C and D when non-empty."""
    out = [str(_field(doc, "choice_a")), str(_field(doc, "choice_b"))]
    for column in ("choice_c", "choice_d"):
        value = _field(doc, column)
        if value is None or not str(value).strip():
            break
        out.append(str(value))
    return out


def gold_letter(doc: Mapping[str, Any]) -> str:
    """Step 6: the letter whose option text equals ``answer_gt`` exactly."""
    answer = doc["answer_gt"]
    for letter, column in zip(LETTERS, OPTION_COLUMNS):
        if answer == _field(doc, column):
            return letter
    raise SampleError(
        f"AIR-Bench foundation item {_field(doc, 'uniq_id')!r}: answer_gt {answer!r} equals none of "
        "choice_a..choice_d; fix the row so answer_gt is one option's exact text"
    )


def foundation_doc_to_target(doc: Mapping[str, Any]) -> str:
    """The reference option letter (logged as the target)."""
    return gold_letter(doc)


def official_letter(response: Any) -> str | None:
    """Steps 2-5: the letter ``score_foundation.py`` reads from a response, or None (unparsed)."""
    predict = str(response if response is not None else "").strip().replace("\n", "")
    if not predict or predict == "None":
        return None
    if predict[0] in LETTERS:
        return predict[0]
    if len(predict) > 1 and predict[-2] in LETTERS:
        return predict[-2]
    return None


def foundation_process_results(doc: Mapping[str, Any], results: list[Any]) -> dict[str, float | None]:
    """Per-sample values: the official rule (``accuracy`` None when unparsed) and the shared extractor."""
    gold = gold_letter(doc)
    response = results[0]
    letter = official_letter(response)
    choices = foundation_choices(doc)
    shared = extract_choice(str(response or ""), choices, LETTERS)
    return {
        "accuracy": None if letter is None else float(letter == gold),
        "accuracy_all": float(letter == gold),
        "parse_rate": float(letter is not None),
        "mcq_accuracy": float(shared == gold),
        "mcq_parse_rate": float(shared is not None),
    }


def foundation_report(members: Mapping[str, Mapping[str, Any]]) -> dict[str, float | None]:
    """Group hook: ``accuracy_pooled`` = all correct / all parsed answers over the splits (the
    official correct / parsed rule applied to the pooled samples), from each split's results."""
    correct = parsed = 0.0
    for entry in members.values():
        n_ok = float(entry.get("n_samples", 0)) - float(entry.get("n_errors", 0))
        rate, acc = entry.get("parse_rate,none"), entry.get("accuracy,none")
        if rate is None or n_ok <= 0:
            continue
        answered = float(rate) * n_ok
        parsed += answered
        correct += float(acc) * answered if acc is not None else 0.0
    return {"accuracy_pooled": correct / parsed if parsed else None}


def chat_doc_to_target(doc: Mapping[str, Any]) -> str:
    """The reference answer of a chat item; an item the judge cannot be shown is that sample's error.

    The official judge prompt needs ``meta_info`` (the audio description) and ``answer_gt``; the
    official script stops on an item without meta info.
    """
    meta, answer = _field(doc, "meta_info"), _field(doc, "answer_gt")
    if not isinstance(meta, str) or not meta.strip():
        raise SampleError(
            "AIR-Bench chat item has no meta_info (the audio description the judge reads); "
            "use the Chat config of lmms-lab/AIR_Bench, whose rows carry it"
        )
    if not isinstance(answer, str) or not answer.strip():
        raise SampleError("AIR-Bench chat item has no answer_gt (the reference answer the judge compares)")
    return answer
