"""One batched ``generate`` call of a ``transformers`` model, decoded faithfully.

:func:`generate_completions` runs a left-padded batch of processor outputs through
``model.generate`` with the transformers view of the request's
:class:`~lmms_eval.api.generation.GenerationParams` (greedy unless sampling is asked for; ``until``
stop strings stop a row on its generated tokens only, :class:`StopOnStrings`, and cut the text,
``GenerationParams.cut``), and decodes only the new tokens, counting prompt and completion tokens
(:func:`completion_lengths`, :func:`eos_token_ids`, :func:`pad_token_id`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from lmms_eval.api.generation import GenerationParams
from lmms_eval.models.hf.placement import input_device


class StopOnStrings:
    """A ``transformers`` stopping criterion: a row is done once its *generated* text holds a stop string.

    Only tokens after ``prompt_len`` are looked at (a stop string spanning the prompt/answer
    boundary does not count), and the text is decoded the same way as the final answer, so
    stopping agrees exactly with :meth:`GenerationParams.cut`. Each step decodes a short tail only.
    """

    def __init__(self, tokenizer: Any, stops: Sequence[str], prompt_len: int) -> None:
        self.tokenizer = tokenizer
        self.stops = tuple(stops)
        self.prompt_len = prompt_len
        # Every non-special token decodes to >= 1 byte, so this many tokens cover any stop string.
        self.window = 4 * max(len(s.encode()) for s in self.stops) + 8

    def __call__(self, input_ids: torch.LongTensor, scores: Any = None, **kwargs: Any) -> torch.BoolTensor:
        tail = input_ids[:, self.prompt_len :][:, -self.window :]
        texts = self.tokenizer.batch_decode(tail.tolist(), skip_special_tokens=True)
        done = [any(s in t for s in self.stops) for t in texts]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


def completion_lengths(new_tokens: torch.Tensor, eos_ids: Sequence[int], pad_id: int | None = None) -> list[int]:
    """Generated tokens per row: up to and including the first EOS, else without trailing padding.

    Padding after a row stopped early (EOS or a stop string) is not counted, so the count does
    not depend on what the row was batched with.
    """
    eos = set(int(e) for e in eos_ids)
    out = []
    for row in new_tokens.tolist():
        n = len(row)
        for i, tok in enumerate(row):
            if tok in eos:
                n = i + 1
                break
        else:
            while n and pad_id is not None and row[n - 1] == pad_id:
                n -= 1
        out.append(n)
    return out


def eos_token_ids(model: Any, tokenizer: Any, extra_tokens: Sequence[str] = ()) -> list[int]:
    """End-of-sequence ids: the generation config's, the tokenizer's, and named chat tokens in the vocab."""
    ids: list[int] = []
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    for candidate in (configured, getattr(tokenizer, "eos_token_id", None)):
        if candidate is not None:
            ids.extend(int(i) for i in (candidate if isinstance(candidate, (list, tuple)) else [candidate]))
    if extra_tokens:
        vocab = tokenizer.get_vocab()
        ids.extend(int(vocab[t]) for t in extra_tokens if t in vocab)
    return list(dict.fromkeys(ids))


def pad_token_id(model: Any, tokenizer: Any, eos_ids: Sequence[int]) -> int | None:
    """The id ``generate`` pads finished rows with: the tokenizer's pad (the one the prompt batch
    was padded with), else the generation config's, else the first EOS."""
    for candidate in (
        getattr(tokenizer, "pad_token_id", None),
        getattr(getattr(model, "generation_config", None), "pad_token_id", None),
    ):
        if candidate is not None:
            return int(candidate)
    return int(eos_ids[0]) if eos_ids else None


@dataclass
class Completion:
    """What one prompt of a batch produced: new text (stop strings applied) and token counts."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    extra: dict[str, Any] = field(default_factory=dict)


def to_device(inputs: Mapping[str, Any], device: Any, dtype: torch.dtype | None) -> dict[str, Any]:
    """Processor outputs on ``device``; floating tensors cast to ``dtype`` (when given)."""
    out: dict[str, Any] = {}
    for key, value in inputs.items():
        if isinstance(value, torch.Tensor):
            floating = dtype is not None and value.is_floating_point()
            value = value.to(device, dtype=dtype) if floating else value.to(device)
        out[key] = value
    return out


def generate_completions(
    model: Any,
    tokenizer: Any,
    inputs: Mapping[str, Any],
    params: GenerationParams,
    *,
    default_max_new_tokens: int | None = None,
    dtype: torch.dtype | None = None,
    eos_ids: Sequence[int] = (),
    pad_id: int | None = None,
) -> list[Completion]:
    """Run one left-padded batch of processor outputs through ``model.generate``.

    Tensors go to the model's input device (floating ones cast to ``dtype``); ``eos_ids`` and
    ``pad_id`` are handed to ``generate``; stop strings stop a row on its generated tokens only.
    When sampling with a ``seed``, the torch generator is seeded right before the call. Only
    the new tokens are decoded: up to the first EOS (padding of rows that finished early is not
    counted), cut at the first stop string. Prompt tokens are the non-padding positions.
    """
    batch = to_device(inputs, input_device(model), dtype)
    prompt_len = int(batch["input_ids"].shape[1])
    kwargs = params.to_transformers(default_max_new_tokens)
    if pad_id is not None:
        kwargs["pad_token_id"] = pad_id
    if eos_ids:
        kwargs["eos_token_id"] = list(eos_ids)
    if params.until:
        from transformers import StoppingCriteriaList

        kwargs["stopping_criteria"] = StoppingCriteriaList([StopOnStrings(tokenizer, params.until, prompt_len)])
    if params.sampling and params.seed is not None:
        torch.manual_seed(params.seed)
    with torch.inference_mode():
        output = model.generate(**batch, **kwargs)
    sequences = output.sequences if hasattr(output, "sequences") else output
    new_tokens = sequences[:, prompt_len:].cpu()
    lengths = completion_lengths(new_tokens, eos_ids, pad_id)
    texts = tokenizer.batch_decode([row[:n] for row, n in zip(new_tokens.tolist(), lengths)], skip_special_tokens=True)
    mask = batch.get("attention_mask")
    prompts = mask.sum(dim=1).tolist() if isinstance(mask, torch.Tensor) else [prompt_len] * len(texts)
    return [Completion(params.cut(text), int(p), int(n)) for text, p, n in zip(texts, prompts, lengths)]
