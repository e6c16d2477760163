"""MIA-Bench's official judge-reply scoring (apple/ml-mia-bench ``evaluation.ipynb`` @ 5422852,
``process_rawscore`` and ``get_score_dict``), reimplemented. These metrics read the JUDGE's reply,
never the evaluated model's answer: the task applies them through its ``judge:`` blocks
(``type: extract``, ``extract_reply: whole``), one shared judge call per sample.

The judge is asked (``lmms_eval/tasks/mia_bench/judge_prompt.jinja``) for one sentence
``score of component 1: x/2, score of component 2: y/8, total score: z/10.``. The official rule,
in order (the notebook's reply is ``content.strip()``):

1. ``first_sentence = reply.split('.')[0].split(',')``: the text before the FIRST full stop, cut at
   every comma (so a decimal score ``1.5/2`` ends the sentence at ``1``, and a comma inside the
   sentence makes one more piece);
2. every piece but the last is component ``i`` (in order): ``piece.split(':')[1][1:].split('/')``
   (between the first and the second colon, its first character dropped, assumed a blank), the
   score is ``int(a) / int(b)`` with the JUDGE's denominator (not the weight: a fraction of that
   component, not range-checked), stored under ``component_type[i]`` - a later component of the
   same type OVERWRITES an earlier one (22 of the 400 rows repeat a type), and a piece beyond the
   row's component list raises ``IndexError``;
3. the last piece is the total, read the same way: ``int(z) / int(b)`` (``z/10`` -> a fraction;
   the judge's own total, not the sum of the components; not range-checked);
4. a reply with no comma before its first full stop leaves the loop variable unbound (a
   ``NameError``); any exception (no colon, ``int()`` refusing a piece, a zero denominator, too
   many pieces) drops the WHOLE sample from every average (``get_score_dict``'s bare
   ``except: pass``). Here such a reply is a judge error of that sample
   (``MiaBenchReplyError``, a :class:`~lmms_eval.judge.parsing.VerdictError`), counted,
   never a guessed 0;
5. ``total_score`` = mean of the per-sample totals over the parsed samples; each component type's
   score = mean over the parsed samples that hold that type (after the overwrite of step 2).

Per-sample values: :func:`mia_bench_total` the total (0-1; the published numbers are x100);
:func:`mia_bench_component` the score of one ``component_type`` (None where this sample's parsed
components lack it, so the mean runs over the samples that have it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from lmms_eval.api.errors import SampleError
from lmms_eval.api.metric import register_metric


@lru_cache(maxsize=1)
def reply_error_class() -> type[Exception]:
    """``MiaBenchReplyError``: a :class:`~lmms_eval.judge.parsing.VerdictError` (the judge stage
    counts it as a judge error) that is also a :class:`SampleError`; built on first use so that
    importing the metrics does not import the judge package."""
    from lmms_eval.judge.parsing import VerdictError

    doc = "A judge reply the official process_rawscore raises on: the sample is a judge error."
    return type("MiaBenchReplyError", (VerdictError, SampleError), {"__doc__": doc, "__module__": __name__})


def MiaBenchReplyError(message: str) -> Exception:  # noqa: N802 - reads as the exception it builds
    """The exception to raise for an unparseable judge reply."""
    return reply_error_class()(message)


def _excerpt(text: str, n: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= n else flat[: n - 3] + "..."


def _fraction(piece: str, what: str, reply: str) -> float:
    """``int(a) / int(b)`` of ``piece.split(':')[1][1:].split('/')`` (official step 2/3)."""
    parts = piece.split(":")
    if len(parts) < 2:
        raise MiaBenchReplyError(f"{what} has no ':' ({piece!r}) in judge reply {_excerpt(reply)!r}")
    halves = parts[1][1:].split("/")
    if len(halves) < 2:
        raise MiaBenchReplyError(f"{what} has no '/' after its ':' ({piece!r}) in judge reply {_excerpt(reply)!r}")
    try:
        numerator, denominator = int(halves[0]), int(halves[1])
    except ValueError:
        raise MiaBenchReplyError(
            f"{what} is not int/int after its ':' ({piece!r}), as the official int() needs: {_excerpt(reply)!r}"
        ) from None
    if denominator == 0:
        raise MiaBenchReplyError(f"{what} divides by 0 ({piece!r}) in judge reply {_excerpt(reply)!r}")
    return numerator / denominator


def component_types(doc: Mapping[str, Any] | None) -> list[str]:
    """The row's ``component_type`` list (the names the official per-type scores are kept under)."""
    types = (doc or {}).get("component_type")
    if not isinstance(types, Sequence) or isinstance(types, str):
        raise SampleError("MIA-Bench scoring needs the document's component_type list")
    return [str(t) for t in types]


def parse_judge_reply(reply: Any, types: Sequence[str]) -> tuple[dict[str, float], float]:
    """``({component_type: score}, total)`` of a judge reply by the official rule (steps 1-4).

    Raises ``MiaBenchReplyError`` (:func:`reply_error_class`) wherever the official ``process_rawscore`` raises.
    """
    text = "" if reply is None else str(reply).strip()
    pieces = text.split(".")[0].split(",")
    if len(pieces) < 2:
        raise MiaBenchReplyError(
            "no ',' before the first '.': the official parser reads no component and fails "
            f"(unbound loop variable): {_excerpt(text)!r}"
        )
    scores: dict[str, float] = {}
    for i, piece in enumerate(pieces[:-1]):
        value = _fraction(piece, f"component {i + 1}", text)
        if i >= len(types):
            raise MiaBenchReplyError(
                f"the first sentence scores {len(pieces) - 1} components, the row has {len(types)} "
                f"(official IndexError): {_excerpt(text)!r}"
            )
        scores[types[i]] = value  # a repeated type overwrites, as the official dict does
    total = _fraction(pieces[-1], "the total (last piece)", text)
    return scores, total


@register_metric("mia_bench_total")
def mia_bench_total(prediction: Any, reference: Any = None, *, doc: Mapping[str, Any] | None = None, **_: Any) -> float:
    """MIA-Bench judge reply: the judge's total z/10 as a fraction (official total_score; x100 = published)."""
    return parse_judge_reply(prediction, component_types(doc))[1]


@register_metric("mia_bench_component")
def mia_bench_component(
    prediction: Any,
    reference: Any = None,
    *,
    doc: Mapping[str, Any] | None = None,
    component_type: str | None = None,
    **_: Any,
) -> float | None:
    """MIA-Bench judge reply: x/y of the last component of ``component_type`` (None when absent)."""
    if not component_type:
        raise SampleError("mia_bench_component needs component_type=<type> (e.g. describe)")
    scores, _total = parse_judge_reply(prediction, component_types(doc))
    return scores.get(component_type)
