"""One generation contract: :class:`GenerationParams` and its mapping onto every backend.

A task's ``generation_kwargs`` and ``--gen_kwargs`` are validated once into a frozen
:class:`GenerationParams` (unknown keys are rejected with a did-you-mean). Each backend takes
its own view of the same object, so the rules below hold everywhere:

1. **Greedy unless asked otherwise.** Sampling happens only when ``do_sample`` is true, or when
   ``do_sample`` is not given and ``temperature > 0``. Greedy decoding is sent explicitly:
   ``do_sample=False`` (transformers), ``temperature=0`` (vLLM, OpenAI-compatible APIs), so a
   checkpoint's or a server's own sampling defaults never apply.
2. **Sampling knobs only when sampling.** ``temperature``/``top_p``/``top_k``/``min_p`` are passed
   only when sampling (they cannot change a greedy answer); ``do_sample=true`` without a
   temperature samples at 1.0, sent explicitly.
3. **Nothing invented, nothing dropped silently.** Every set field reaches the backend, or the
   backend refuses it with a one-line :class:`UsageError` (beam search on vLLM or an API,
   a penalty transformers does not have). Fields left unset are not sent.
4. **One stop rule.** ``until`` stop strings end generation where the backend supports it, and
   :meth:`GenerationParams.cut` cuts the text before the first stop string on every backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lmms_eval.api.errors import UsageError, did_you_mean

# Other names tasks written for lm-eval / lmms-eval / OpenAI use for ``max_new_tokens``.
_ALIASES = {"max_gen_toks": "max_new_tokens", "max_tokens": "max_new_tokens", "max_completion_tokens": "max_new_tokens"}
# Values at which a penalty or a sampling knob changes nothing: a backend without the knob may accept them.
_NEUTRAL = {
    "repetition_penalty": 1.0,
    "length_penalty": 1.0,
    "presence_penalty": 0.0,
    "frequency_penalty": 0.0,
    "no_repeat_ngram_size": 0,
    "min_new_tokens": 0,
}
_SAMPLING_KNOBS = ("top_p", "top_k", "min_p")


class GenerationParams(BaseModel):
    """Validated generation parameters (``None`` = not set: the backend's own behaviour is not used
    for sampling, see the module rules; ``max_new_tokens=None`` means the adapter's default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_new_tokens: int | None = Field(None, ge=1, description="new tokens at most (aliases: max_gen_toks, max_tokens)")
    min_new_tokens: int | None = Field(None, ge=0)
    temperature: float | None = Field(None, ge=0)
    do_sample: bool | None = None
    top_p: float | None = Field(None, gt=0, le=1)
    top_k: int | None = Field(None, ge=0)
    min_p: float | None = Field(None, ge=0, le=1)
    num_beams: int | None = Field(None, ge=1)
    repetition_penalty: float | None = Field(None, gt=0)
    length_penalty: float | None = None
    no_repeat_ngram_size: int | None = Field(None, ge=0)
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    seed: int | None = None
    until: tuple[str, ...] = ()

    @field_validator("until", mode="before")
    @classmethod
    def _until(cls, value: Any) -> Any:
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)) or not all(isinstance(s, str) for s in value):
            raise ValueError(f"must be a string or a list of strings, got {value!r}")
        return tuple(s for s in value if s)

    # ---- construction --------------------------------------------------------------------
    @classmethod
    def from_kwargs(cls, kwargs: Mapping[str, Any] | None, where: str = "gen_kwargs") -> GenerationParams:
        """Validate a ``generation_kwargs`` mapping; ``where`` names its source in errors."""
        values: dict[str, Any] = {}
        for key, value in (kwargs or {}).items():
            name = _ALIASES.get(key, key)
            if name not in cls.model_fields:
                raise UsageError(
                    f"{where}: unknown generation parameter {key!r}.{did_you_mean(key, list(cls.model_fields))} "
                    f"Known: {', '.join(cls.model_fields)}."
                )
            if name in values and values[name] != value:
                raise UsageError(f"{where}: {key!r} repeats max_new_tokens with another value; keep one")
            if value is not None:
                values[name] = value
        try:
            params = cls(**values)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(x) for x in first["loc"])
            raise UsageError(f"{where}: generation parameter {loc!r}: {first['msg']}") from None
        if params.do_sample and params.temperature == 0:
            raise UsageError(f"{where}: do_sample=true with temperature=0 is contradictory; set temperature > 0")
        return params

    def merged(self, overrides: Mapping[str, Any] | None, where: str = "--gen_kwargs") -> GenerationParams:
        """These parameters with ``overrides`` (e.g. ``--gen_kwargs``) on top, validated again."""
        if not overrides:
            return self
        return GenerationParams.from_kwargs({**self.as_kwargs(), **overrides}, where)

    def with_default_max_new_tokens(self, default: int | None) -> GenerationParams:
        """Fill ``max_new_tokens`` from an adapter's default when the task did not set it."""
        if self.max_new_tokens is not None or default is None:
            return self
        return self.model_copy(update={"max_new_tokens": int(default)})

    # ---- reading --------------------------------------------------------------------------
    @property
    def sampling(self) -> bool:
        """Whether to sample: ``do_sample`` when given, else ``temperature > 0``."""
        if self.do_sample is not None:
            return self.do_sample
        return bool(self.temperature and self.temperature > 0)

    def as_kwargs(self) -> dict[str, Any]:
        """The fields that are set, as ``generation_kwargs`` would write them."""
        out = {k: v for k, v in self.model_dump().items() if v is not None and v != ()}
        if "until" in out:
            out["until"] = list(out["until"])
        return out

    @cached_property
    def _resolved(self) -> dict[str, Any]:
        return self._resolve()

    def resolved(self) -> dict[str, Any]:
        """What a sample record logs: the set fields plus the greedy/sampling decision.

        Computed once per parameters object and shared by every record of a task: do not mutate.
        """
        return self._resolved

    def _resolve(self) -> dict[str, Any]:
        out = self.as_kwargs()
        out["do_sample"] = self.sampling
        if not self.sampling:
            for key in ("temperature", *_SAMPLING_KNOBS):
                out.pop(key, None)
        return out

    def cut(self, text: str) -> str:
        """``text`` cut before the earliest stop string (the stop string is dropped)."""
        cut = len(text)
        for stop in self.until:
            i = text.find(stop)
            if i != -1:
                cut = min(cut, i)
        return text[:cut]

    def _refuse(self, backend: str, keys: tuple[str, ...], fix: str) -> None:
        for key in keys:
            value = getattr(self, key)
            if value is not None and value != _NEUTRAL.get(key, object()):
                raise UsageError(f"generation parameter {key}={value!r} cannot be served by {backend}; {fix}")

    # ---- backends -------------------------------------------------------------------------
    def to_transformers(self, default_max_new_tokens: int | None = None) -> dict[str, Any]:
        """``model.generate`` keyword arguments (stop strings are applied by the caller).

        Greedy: ``do_sample=False`` and ``temperature``/``top_p``/``top_k`` cleared (``None``), so a
        checkpoint's ``generation_config`` sampling defaults neither apply nor warn.
        """
        self._refuse("transformers", ("presence_penalty", "frequency_penalty", "min_p"), "drop it or use vllm")
        out: dict[str, Any] = {"do_sample": self.sampling}
        max_new = self.max_new_tokens if self.max_new_tokens is not None else default_max_new_tokens
        if max_new is not None:
            out["max_new_tokens"] = int(max_new)
        if self.sampling:
            out["temperature"] = self.temperature if self.temperature is not None else 1.0
            for key in ("top_p", "top_k"):
                if getattr(self, key) is not None:
                    out[key] = getattr(self, key)
        else:
            out.update(temperature=None, top_p=None, top_k=None)
        for key in ("num_beams", "repetition_penalty", "length_penalty", "no_repeat_ngram_size", "min_new_tokens"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out

    def to_vllm(self, default_max_new_tokens: int) -> dict[str, Any]:
        """``vllm.SamplingParams`` keyword arguments (``stop`` included)."""
        if self.num_beams is not None and self.num_beams > 1:
            raise UsageError(
                "generation parameter num_beams > 1 cannot be served by vllm (no beam search); "
                "use an hf adapter or drop num_beams"
            )
        self._refuse("vllm", ("length_penalty", "no_repeat_ngram_size"), "drop it or use an hf adapter")
        out: dict[str, Any] = {"max_tokens": int(self.max_new_tokens or default_max_new_tokens)}
        out["temperature"] = (self.temperature if self.temperature is not None else 1.0) if self.sampling else 0.0
        if self.sampling:
            for key in _SAMPLING_KNOBS:
                if getattr(self, key) is not None:
                    out[key] = getattr(self, key)
        for key, name in (
            ("min_new_tokens", "min_tokens"),
            ("repetition_penalty", "repetition_penalty"),
            ("presence_penalty", "presence_penalty"),
            ("frequency_penalty", "frequency_penalty"),
            ("seed", "seed"),
        ):
            if getattr(self, key) is not None:
                out[name] = getattr(self, key)
        if self.until:
            out["stop"] = list(self.until)
        return out

    def to_openai(self, max_tokens_param: str = "max_tokens") -> dict[str, Any]:
        """Chat-completions parameters; ``top_k``/``min_p``/``repetition_penalty`` go in
        ``extra_body`` (the vLLM/SGLang extensions). ``temperature`` is always sent."""
        if self.num_beams is not None and self.num_beams > 1:
            raise UsageError(
                "generation parameter num_beams > 1 cannot be served by an OpenAI-compatible API; "
                "use an hf adapter or drop num_beams"
            )
        self._refuse(
            "an OpenAI-compatible API",
            ("length_penalty", "no_repeat_ngram_size", "min_new_tokens"),
            "drop it or use an hf adapter",
        )
        out: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        if self.max_new_tokens is not None:
            out[max_tokens_param] = self.max_new_tokens
        out["temperature"] = (self.temperature if self.temperature is not None else 1.0) if self.sampling else 0.0
        if self.sampling:
            if self.top_p is not None:
                out["top_p"] = self.top_p
            for key in ("top_k", "min_p"):
                if getattr(self, key) is not None:
                    extra[key] = getattr(self, key)
        for key in ("presence_penalty", "frequency_penalty", "seed"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.repetition_penalty is not None:
            extra["repetition_penalty"] = self.repetition_penalty
        if self.until:
            out["stop"] = list(self.until)
        if extra:
            out["extra_body"] = extra
        return out


GREEDY = GenerationParams()
