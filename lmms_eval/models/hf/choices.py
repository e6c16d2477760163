"""Likelihood scoring of ``multiple_choice`` requests for the ``transformers`` chat adapters.

What is scored (the contract of :meth:`lmms_eval.api.model.Model.score_choices`, V* Bench's
official rule: penghao-wu/vstar ``vstar_bench_eval.py`` @7539bcc, ``multiple_choices_inference``,
which renders the conversation with the option as the assistant's message, takes every token
after the question prompt (the option and the separator ``</s>``) and picks the lowest mean
cross-entropy):

* the prompt is rendered exactly as generation renders it (chat template with the generation
  prompt, or continuing a trailing assistant turn);
* each option is rendered as the assistant's reply with the turn closed
  (:func:`reply_messages`, ``add_generation_prompt=False``), so the scored tokens are the option's
  tokens plus whatever the template writes to end the turn (e.g. ``<|im_end|>\\n`` for ChatML);
* both texts go through the adapter's processor (with the request's media, so image
  placeholders expand identically); the prompt's token ids must be a prefix of the reply's, else
  that request fails with a one-line error (never a silent shift);
* one forward pass per chunk of (request, option) rows, right padding; the log-prob of each
  continuation token is read from the logits at the position before it (``log_softmax`` in
  float32); per option: summed log-prob and token count; mean token loss = ``-sum / count``.

Batching: the rows of all requests handed over are sorted by cost (longest first) and cut into
chunks of at most ``max_batch_size`` ROWS (the ``batch_size`` model argument; unset: all rows in
one forward). Right padding leaves each row's positions and attention unchanged, so the scores do
not depend on the batch. Only the continuation positions are projected onto the vocabulary
(``logits_to_keep`` where the model's ``forward`` takes it).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lmms_eval.api.errors import SampleError


@dataclass
class ChoiceJob:
    """One request ready for likelihood scoring."""

    request: int
    """Position of the request in the batch."""
    prompt: str
    """The prompt text exactly as generation renders it."""
    replies: list[str]
    """Per option: the conversation rendered with the option as the closed assistant reply."""
    media: Any
    """The adapter's payload for its processor (decoded images, clips, audio), shared by every row."""
    cost: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class ChoiceTally:
    """What the rows of one request produced."""

    prompt_ids: list[int]
    """The prompt's token ids as the processor encodes it (media placeholders expanded)."""
    logprobs: dict[int, float] = field(default_factory=dict)
    tokens: dict[int, int] = field(default_factory=dict)
    error: str | None = None
    latency_s: float = 0.0
    batch_size: int = 0


def reply_messages(messages: Sequence[dict[str, Any]], option: str, as_string: bool = False) -> list[dict[str, Any]]:
    """HF chat messages with ``option`` as the assistant's reply: appended to a trailing assistant
    turn (a prefill, which generation continues), else as a new assistant turn (its content a
    plain string with ``as_string``, as the audio adapters' templates expect)."""
    out = copy.deepcopy(list(messages))
    if out and out[-1]["role"] == "assistant":
        content = out[-1]["content"]
        if isinstance(content, str):
            out[-1]["content"] = content + option
        else:
            content.append({"type": "text", "text": option})
        return out
    out.append({"role": "assistant", "content": option if as_string else [{"type": "text", "text": option}]})
    return out


def audio_choice_job(
    adapter: Any,
    index: int,
    request: Any,
    prompts: list[Any],
    conversation: list[dict[str, Any]],
    extra: dict[str, Any],
) -> ChoiceJob:
    """The :class:`ChoiceJob` of a chat audio adapter (``qwen2_audio``, ``aero``) from its
    generation prompts (one ``AudioPrompt`` per audio window: only one can be scored) and the
    conversation it rendered the prompt from, with each option as the closed assistant reply."""
    if len(prompts) != 1:
        raise SampleError(
            f"{request.label()}: options cannot be scored over {len(prompts)} audio windows; "
            f"use long_audio=truncate or shorter clips"
        )
    replies = [
        str(adapter.processor.apply_chat_template(reply_messages(conversation, o, True), tokenize=False))
        for o in request.choices or []
    ]
    cost = float(sum(len(c) for c in prompts[0].clips)) * len(replies)
    return ChoiceJob(index, prompts[0].prompt, replies, prompts[0].clips, cost, extra)


def encode_audio_texts(adapter: Any, texts: list[str], media: list[Any]) -> Any:
    """A chat audio adapter's processor call for likelihood rows, RIGHT padded."""
    clips = [clip for row in media for clip in row]
    audio = {adapter.audio_keyword: clips} if clips else {}
    previous = adapter.tokenizer.padding_side
    adapter.tokenizer.padding_side = "right"
    try:
        return adapter.processor(text=texts, sampling_rate=adapter.rate, padding=True, return_tensors="pt", **audio)
    finally:
        adapter.tokenizer.padding_side = previous


def prefix_error(label: str, option: int, prompt_ids: Sequence[int], reply_ids: Sequence[int]) -> str | None:
    """None when ``prompt_ids`` is a proper prefix of ``reply_ids``, else the one-line reason."""
    n = len(prompt_ids)
    if len(reply_ids) > n and list(reply_ids[:n]) == list(prompt_ids):
        return None
    if len(reply_ids) <= n:
        return f"{label}: option {option} adds no token after the prompt; check doc_to_choice (empty option?)"
    return (
        f"{label}: option {option}: the prompt's tokens are not a prefix of prompt+option's tokens "
        f"(the tokenizer merges across the boundary); rephrase the option or the prompt's end"
    )


def real_ids(input_ids: Any, attention_mask: Any, row: int) -> list[int]:
    """The unpadded token ids of ``row`` of a right-padded batch (raises if it is not right-padded)."""
    mask = attention_mask[row]
    n = int(mask.sum())
    if n and not bool(mask[:n].all()):
        raise RuntimeError("the processor did not pad on the right; likelihood scoring needs right padding")
    return [int(t) for t in input_ids[row, :n].tolist()]


def takes_position_rows() -> bool:
    """Whether this ``transformers`` reads a 2-D ``logits_to_keep`` as positions per row
    (``modeling_utils.slice_logits_to_keep``; older releases index with it and would mis-shape)."""
    import transformers.modeling_utils as modeling_utils

    return hasattr(modeling_utils, "slice_logits_to_keep")


def continuation_logprobs(
    model: Any, batch: Mapping[str, Any], spans: Sequence[tuple[int, int] | None], dtype: Any = None
) -> list[float]:
    """One forward pass; per row, the summed log-prob of tokens ``[start, end)`` of its own
    ``input_ids`` (each read from the logits at the position before it). ``None`` spans give 0."""
    import inspect

    import torch

    from lmms_eval.models.hf.generation import to_device
    from lmms_eval.models.hf.placement import input_device

    inputs = to_device(batch, input_device(model), dtype)
    ids = inputs["input_ids"]
    width = max((end - start for start, end in (s for s in spans if s is not None)), default=1)
    # logits position p predicts token p + 1: positions start-1 .. end-2, padded by repeating the last.
    positions = torch.zeros((len(spans), width), dtype=torch.long)
    for row, span in enumerate(spans):
        if span is not None:
            start, end = span
            wanted = list(range(start - 1, end - 1))
            positions[row] = torch.tensor(wanted + [wanted[-1]] * (width - len(wanted)))
    if all(span is None for span in spans):
        return [0.0] * len(spans)
    kwargs: dict[str, Any] = {"use_cache": False}
    keep = "logits_to_keep" in inspect.signature(model.forward).parameters and takes_position_rows()
    if keep:
        kwargs["logits_to_keep"] = positions.to(ids.device)
    with torch.inference_mode():
        logits = model(**inputs, **kwargs).logits
    if not keep or tuple(logits.shape[:2]) != (len(spans), width):  # full logits: pick the positions here
        index = positions.to(logits.device)[..., None].expand(-1, -1, logits.shape[-1])
        logits = torch.gather(logits, 1, index)
    logp = torch.log_softmax(logits.float(), dim=-1)
    out: list[float] = []
    for row, span in enumerate(spans):
        if span is None:
            out.append(0.0)
            continue
        start, end = span
        targets = ids[row, start:end].to(logp.device)
        out.append(float(logp[row, : end - start].gather(-1, targets[:, None]).sum()))
    return out


def score_jobs(
    jobs: Sequence[ChoiceJob],
    encode: Callable[[list[str], list[Any]], Mapping[str, Any]],
    model: Any,
    label: Callable[[int], str],
    cap: int | None = None,
    dtype: Any = None,
) -> dict[int, ChoiceTally]:
    """Score every option of every job (see the module docstring); keyed by request position.

    ``encode(texts, media)`` runs the adapter's processor on a batch with RIGHT padding and
    returns its tensors (``input_ids``, ``attention_mask`` and the media's). A request whose
    prompt cannot be encoded or whose prompt is not a token prefix of a reply gets ``error``.
    """
    tallies: dict[int, ChoiceTally] = {}
    rows: list[tuple[ChoiceJob, int]] = []
    for job in jobs:
        try:
            encoded = encode([job.prompt], [job.media])
        except (SampleError, OSError, ValueError) as exc:
            tallies[job.request] = ChoiceTally([], error=f"{label(job.request)}: {type(exc).__name__}: {exc}")
            continue
        prompt_ids = real_ids(encoded["input_ids"], encoded["attention_mask"], 0)
        tallies[job.request] = ChoiceTally(prompt_ids)
        rows.extend((job, option) for option in range(len(job.replies)))
    rows.sort(key=lambda row: -row[0].cost)  # stable: options of a request stay in order
    size = cap or len(rows) or 1
    for begin in range(0, len(rows), size):
        chunk = rows[begin : begin + size]
        started = time.perf_counter()
        batch = encode([job.replies[option] for job, option in chunk], [job.media for job, _ in chunk])
        spans: list[tuple[int, int] | None] = []
        for row, (job, option) in enumerate(chunk):
            tally = tallies[job.request]
            prompt_ids = tally.prompt_ids
            reply_ids = real_ids(batch["input_ids"], batch["attention_mask"], row)
            reason = prefix_error(label(job.request), option, prompt_ids, reply_ids)
            if reason is not None:
                tally.error = tally.error or reason
                spans.append(None)
            else:
                spans.append((len(prompt_ids), len(reply_ids)))
        sums = continuation_logprobs(model, batch, spans, dtype)
        share = (time.perf_counter() - started) / len(chunk)
        requests_in_call = len({job.request for job, _ in chunk})
        for (job, option), span, total in zip(chunk, spans, sums):
            tally = tallies[job.request]
            tally.latency_s += share
            tally.batch_size = max(tally.batch_size, requests_in_call)
            if span is not None:
                tally.logprobs[option] = total
                tally.tokens[option] = span[1] - span[0]
    return tallies
