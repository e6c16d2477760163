"""The model adapter contract and ``--model_args`` parsing."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast

from pydantic import BaseModel, ConfigDict, ValidationError

from lmms_eval.api.errors import UsageError, did_you_mean
from lmms_eval.api.request import Request, Response

if TYPE_CHECKING:
    from lmms_eval.media.prepare import MediaSpec


class ModelConfig(BaseModel):
    """Base for adapters' validated arguments. Unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())


def parse_kv_string(text: str | None) -> dict[str, Any]:
    """Parse ``"k=v,k2=v2"`` into a dict, typing values as Python literals where they parse.

    Values may hold commas inside brackets or quotes: ``device_map={"":0},max_pixels=1003520``.
    """
    if not text:
        return {}
    parts: list[str] = []
    depth, quote, current = 0, "", []
    for ch in text:
        if quote:
            current.append(ch)
            if ch == quote:
                quote = ""
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if current:
        parts.append("".join(current))
    out: dict[str, Any] = {}
    for part in parts:
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"cannot read {part!r} as key=value; write e.g. pretrained=org/name,batch_size=4")
        out[key.strip()] = _literal(value.strip())
    return out


def _literal(value: str) -> Any:
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value


def _without_input(error: Any) -> str:
    """A pydantic error's message with the rejected value itself left out (it may be a secret)."""
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    value = error.get("input")
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        text = str(value)
        if len(text) >= 4 and text in message:
            message = message.replace(text, "<value>")
    return message


ConfigT = TypeVar("ConfigT", bound=ModelConfig)

#: The adapters that implement :meth:`Model.score_choices` (named in refusals).
CHOICE_ADAPTERS = ("hf_chat", "qwen2_5_vl", "llava_onevision", "llava_vid", "qwen2_audio", "aero", "vllm")


def option_letter(index: int) -> str:
    """The letter of option ``index``: A..Z, then AA, AB, ... (spreadsheet style)."""
    letters = ""
    index += 1
    while index > 0:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def choice_response(
    logprobs: Sequence[float], tokens: Sequence[int], prompt_tokens: int | None = None, **fields: Any
) -> Response:
    """The :meth:`Model.score_choices` response for one request from each option's summed
    log-prob and token count: ``text`` = the winner's letter, the winner = the lowest mean token
    loss (``-logprob / tokens``; ties: the first option); ``extra`` holds ``choice`` (the index),
    ``choice_losses``, ``choice_logprobs`` and ``choice_tokens``. ``fields`` go to the Response."""
    if not logprobs or len(logprobs) != len(tokens) or any(n <= 0 for n in tokens):
        raise ValueError(f"cannot pick an option from logprobs={list(logprobs)} tokens={list(tokens)}")
    losses = [-float(lp) / int(n) for lp, n in zip(logprobs, tokens)]
    best = min(range(len(losses)), key=lambda i: (losses[i], i))
    extra = {
        "choice": best,
        "choice_losses": losses,
        "choice_logprobs": [float(lp) for lp in logprobs],
        "choice_tokens": [int(n) for n in tokens],
    }
    return Response(text=option_letter(best), prompt_tokens=prompt_tokens, extra=extra, **fields)


class Model(Generic[ConfigT]):
    """Base class for model adapters, generic in their validated config.

    Subclasses set ``name``, ``modalities`` and ``Config`` (the :class:`ModelConfig` subclass that
    ``--model_args`` are validated against) and implement :meth:`generate`. What the engine reads:

    * ``modalities``: the content kinds the adapter takes; a task that sends another kind is
      refused before any generation ("model X takes text+image; task Y sends audio").
    * ``max_batch_size``: a cap on the requests per :meth:`generate` call (None: no cap). The
      batch itself is ``--batch_size``; ``--batch_size auto`` takes this cap.
    * ``max_concurrency``: for API adapters, requests in flight at once (None for local models);
      the engine hands over batches of at least this size so the concurrency is used.
    * ``default_max_new_tokens``: what a task that sets no ``max_new_tokens`` gets (recorded in
      each sample's resolved generation parameters).
    * :attr:`media_spec`: what to decode ahead of :meth:`generate` in worker threads.
    * ``scores_choices``: True when :meth:`score_choices` is implemented (likelihood scoring of
      ``multiple_choice`` tasks); a run that sends such a task to another model is refused
      before the model loads.
    * ``default_prompt_variant``: the prompt variant a run uses when ``--prompt_variant`` is not
      given (the agent presets in ``models/presets.py``: their protocol).
    """

    name: ClassVar[str] = "model"
    modalities: ClassVar[frozenset[str]] = frozenset({"text"})
    default_prompt_variant: ClassVar[str | None] = None
    Config: ClassVar[type[ModelConfig]] = ModelConfig
    max_batch_size: int | None = None
    max_concurrency: int | None = None
    default_max_new_tokens: int | None = None
    #: Old ``--model_args`` names and the name that replaced them (one name per concept).
    renamed_args: ClassVar[dict[str, str]] = {}
    #: Whether :meth:`score_choices` is implemented (``output_type: multiple_choice`` tasks).
    scores_choices: ClassVar[bool] = False

    def __init__(self, config: ConfigT | None = None) -> None:
        self.config: ConfigT = config if config is not None else cast(ConfigT, self.Config())
        cap = getattr(self.config, "batch_size", None)
        if isinstance(cap, int):
            self.max_batch_size = cap
        default = getattr(self.config, "max_new_tokens", None)
        if isinstance(default, int):
            self.default_max_new_tokens = default

    @classmethod
    def validate_args(cls, args: str | dict[str, Any] | None, **overrides: Any) -> ModelConfig:
        """``--model_args`` (a ``k=v,...`` string or dict) validated into ``Config``, without
        building the adapter (no weights loaded, no server called).

        A rejected argument raises a one-line :class:`UsageError` that names the key, never the
        value given (which may be a secret typed under a misspelt name).
        """
        values = parse_kv_string(args) if isinstance(args, str) or args is None else dict(args)
        values.update({k: v for k, v in overrides.items() if v is not None})
        fields = cls.Config.model_fields
        for key in values:
            if key in cls.renamed_args:
                raise UsageError(
                    f"model {cls.name!r}: argument {key!r} is now {cls.renamed_args[key]!r}; "
                    f"write {cls.renamed_args[key]}=... instead"
                )
            if key not in fields:
                raise UsageError(
                    f"model {cls.name!r} has no argument {key!r}.{did_you_mean(key, fields)} "
                    f"Known arguments: {', '.join(sorted(fields)) or '(none)'}."
                )
        try:
            return cls.Config(**values)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(x) for x in first["loc"])
            raise UsageError(f"model {cls.name!r} argument {loc!r}: {_without_input(first)}") from None

    @classmethod
    def from_args(cls, args: str | dict[str, Any] | None, **overrides: Any) -> Model[Any]:
        """Build from a ``k=v,...`` string or dict, validating against ``Config`` (:meth:`validate_args`)."""
        return cls(cls.validate_args(args, **overrides))  # type: ignore[arg-type]  # Config is the subclass's ConfigT

    @property
    def media_spec(self) -> MediaSpec | None:
        """What the engine decodes ahead of :meth:`generate`, in worker threads, while the model
        runs the previous batch (None: nothing). The adapter must decode with the same
        :mod:`lmms_eval.media` functions and arguments, so it finds the results in the parts' caches."""
        return None

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        """Return one :class:`Response` per request, in order. Per-request failures go in
        ``Response.error``; an exception fails the whole batch (the engine then retries the
        requests one by one so a single bad sample cannot take its neighbours with it)."""
        raise NotImplementedError

    def score_choices(self, requests: Sequence[Request]) -> list[Response]:
        """Likelihood scoring of ``multiple_choice`` requests: one :class:`Response` per request, in order.

        Contract (V* Bench's official rule, penghao-wu/vstar ``vstar_bench_eval.py`` @7539bcc,
        ``multiple_choices_inference``): each option of ``request.choices`` is scored as the
        assistant's reply after the request's chat prompt, the prompt rendered exactly as
        generation renders it (with the generation prompt / assistant header). The scored tokens
        are everything the chat template writes for that reply after the prompt: the option's
        tokens and the template's end-of-turn marker (the official script scores the option plus
        the conversation separator ``</s>`` the same way). Per option: the sum of the log-probs of
        those tokens, their count and the mean token loss (``-sum / count``). The winner is the
        option with the LOWEST MEAN TOKEN LOSS (ties: the first). Build the response with
        :func:`choice_response`. A request that cannot be scored fails alone (``Response.error``);
        an exception fails the whole call (the engine then retries one by one).
        """
        raise UsageError(
            f"model {self.name!r} cannot score options (output_type: multiple_choice); use {', '.join(CHOICE_ADAPTERS)}"
        )

    def describe(self) -> dict[str, Any]:
        """What the results record about this model (secrets are redacted later)."""
        return {"name": self.name, "args": self.config.model_dump(mode="json")}

    def close(self) -> None:
        """Release resources (GPU memory, servers, process groups)."""
