"""Shared pieces of the Hugging Face ``transformers`` adapters (vision, audio and text).

Every ``transformers`` adapter (``qwen2_5_vl``, ``llava_onevision``, ``llava_vid``, ``hf_chat``,
``qwen2_audio``, ``aero``, ``whisper``) takes its generic parts from here, so they behave the
same everywhere:

* Placement: :func:`resolve_device` (``auto`` -> ``cuda:LOCAL_RANK`` under ``torchrun`` with
  several processes, else ``cuda`` or ``cpu``), :func:`resolve_dtype` (bf16 on a GPU that
  supports it, else fp16; fp32 on CPU), :func:`resolve_attn_implementation` (``sdpa`` unless
  asked otherwise; ``flash_attention_2`` is checked to be usable).
* Loading: :class:`HFModelConfig` (the ``--model_args`` every adapter takes),
  :func:`pretrained_kwargs`, :func:`load_or_explain` (one clear error line instead of a
  traceback), :func:`place_model`, :func:`input_device`, :func:`release_memory`,
  :func:`describe_load`, and the :class:`HFModel` base class that ties them together.
* Generation: :func:`map_gen_kwargs` turns a task's ``gen_kwargs`` into :class:`GenSettings`
  faithfully (greedy unless sampling is asked for; ``until`` stop strings enforced on the
  generated tokens by :class:`StopOnStrings` and by :func:`truncate_at_stop`);
  :func:`generate_completions` runs one left-padded batch through ``model.generate`` and
  decodes only the new tokens, counting prompt and completion tokens
  (:func:`completion_lengths`, :func:`eos_token_ids`, :func:`pad_token_id`).
* Vision: :func:`to_hf_chat` (typed messages -> processor chat format), video frame sampling
  (:func:`sample_frame_indices`, :func:`load_video`) and :class:`HFProcessorModel`, the base of
  the vision adapters (chat template + batched ``generate``).

Frame-sampling hints on a :class:`~lmms_eval.api.messages.Video` part: for a video file,
``fps`` is the rate to sample at (else the adapter's ``fps``); for pre-extracted frames or a
folder of frame images, ``fps`` is the rate they were extracted at (so the adapter's ``fps``
can resample them and the model learns their timing). ``max_frames`` caps the count together
with the adapter's own ``max_frames`` (the smaller wins); ``frame_indices`` picks exact frames.
Readers tried for files: PyAV (the ``video`` extra), decord, OpenCV (``opencv-python-headless``).
"""

from __future__ import annotations

import gc
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch
from pydantic import Field

from lmms_eval.api.errors import SampleError, UsageError
from lmms_eval.api.messages import Audio, Image, Message, Text, Video
from lmms_eval.api.model import Model, ModelConfig
from lmms_eval.api.request import Request, Response

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- device / dtype

_DTYPES = {
    "bfloat16": torch.bfloat16,
    "bf16": torch.bfloat16,
    "float16": torch.float16,
    "fp16": torch.float16,
    "half": torch.float16,
    "float32": torch.float32,
    "fp32": torch.float32,
    "float": torch.float32,
}


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    try:
        return int(raw) if raw.strip() else default
    except ValueError:
        raise UsageError(
            f"environment variable {name}={raw!r} is not a whole number; unset it or fix the launcher"
        ) from None


def resolve_device(device: str | None = "auto") -> str:
    """Turn the ``device`` model arg into a concrete device string.

    ``"auto"``: with ``WORLD_SIZE > 1`` (one process per GPU under ``torchrun``/``accelerate``)
    and a visible GPU, ``cuda:{LOCAL_RANK}``, so every rank holds its replica on its own GPU
    (``cuda:0`` when each process sees exactly one GPU, as with per-rank
    ``CUDA_VISIBLE_DEVICES``); otherwise ``"cuda"`` when a GPU is visible, else ``"cpu"``.
    Other values pass through after checking that the GPU they name is visible.
    """
    if device in ("auto", "", None):
        if not torch.cuda.is_available():
            return "cpu"
        if _env_int("WORLD_SIZE", 1) <= 1:
            return "cuda"
        local_rank = _env_int("LOCAL_RANK", _env_int("RANK", 0))
        count = torch.cuda.device_count()
        if local_rank < count:
            return f"cuda:{local_rank}"
        if count == 1:
            return "cuda:0"
        raise UsageError(
            f"LOCAL_RANK={local_rank} but only {count} GPUs are visible; launch at most {count} "
            "processes per node (torchrun --nproc_per_node) or set device= explicitly"
        )
    device = str(device)
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise UsageError(f"device={device!r} but no CUDA GPU is visible; use device=cpu or device=auto")
        index = device.partition(":")[2]
        if index.isdigit() and int(index) >= torch.cuda.device_count():
            raise UsageError(
                f"device={device!r} but only {torch.cuda.device_count()} GPUs are visible; "
                "use device=auto or a lower index"
            )
    return device


def resolve_dtype(dtype: str | None = "auto", device: str = "cpu") -> torch.dtype:
    """``"auto"``: bfloat16 on a GPU that supports it (else float16), float32 on CPU."""
    if dtype in ("auto", "", None):
        if str(device).startswith("cuda"):
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    try:
        return _DTYPES[str(dtype).lower().replace("torch.", "")]
    except KeyError:
        raise UsageError(f"unknown dtype {dtype!r}; use auto, bfloat16, float16 or float32") from None


def flash_attn_available() -> bool:
    """Whether the ``flash_attn`` package imports (needed for ``flash_attention_2``)."""
    try:
        import flash_attn  # noqa: F401
    except Exception:
        return False
    return True


def resolve_attn_implementation(name: str | None, device: str, dtype: torch.dtype) -> str:
    """``None``/``"auto"`` -> ``"sdpa"``; ``flash_attention_2`` is checked to be usable."""
    if name in (None, "", "auto"):
        return "sdpa"
    if name == "flash_attention_2":
        if not str(device).startswith("cuda"):
            raise UsageError("attn_implementation=flash_attention_2 needs a CUDA GPU; use attn_implementation=sdpa")
        if dtype not in (torch.bfloat16, torch.float16):
            raise UsageError("attn_implementation=flash_attention_2 needs dtype=bfloat16 or float16")
        if not flash_attn_available():
            raise UsageError(
                "attn_implementation=flash_attention_2 needs `pip install flash-attn`; or use attn_implementation=sdpa"
            )
    return name


# --------------------------------------------------------------------------- loading


class HFModelConfig(ModelConfig):
    """Arguments every ``transformers`` adapter takes (``--model_args k=v,...``)."""

    pretrained: str
    revision: str | None = None
    dtype: str = "auto"
    device: str = "auto"
    device_map: str | dict[str, Any] | None = None
    attn_implementation: str | None = None
    batch_size: int = Field(1, ge=1)
    trust_remote_code: bool = False
    max_new_tokens: int | None = Field(None, ge=1)
    """Used when a task's gen_kwargs give no ``max_new_tokens`` (None: the checkpoint's own limit)."""


def pretrained_kwargs(cfg: HFModelConfig, dtype: torch.dtype, attn_implementation: str | None = None) -> dict[str, Any]:
    """Keyword arguments for ``*.from_pretrained`` built from the adapter's config."""
    kwargs: dict[str, Any] = {"revision": cfg.revision, "dtype": dtype, "trust_remote_code": cfg.trust_remote_code}
    if cfg.device_map is not None:
        kwargs["device_map"] = cfg.device_map
    attn = attn_implementation or cfg.attn_implementation
    if attn:
        kwargs["attn_implementation"] = attn
    return kwargs


def load_or_explain(what: str, pretrained: str, loader: Callable[[], Any]) -> Any:
    """Run ``loader``; turn a missing checkpoint or package into one clear UsageError."""
    try:
        return loader()
    except (OSError, ValueError, ImportError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise UsageError(
            f"cannot load the {what} of {pretrained!r}: {type(exc).__name__}: {first} "
            f"(check pretrained=/revision=, that the checkpoint is downloaded or the hub reachable, and "
            f"trust_remote_code=true for models that need it)"
        ) from exc


def place_model(model: Any, device_map: Any, device: str) -> Any:
    """Move the model to ``device`` unless ``device_map`` already placed it; eval mode."""
    if device_map is None:
        model = model.to(device)
    return model.eval()


def input_device(model: Any) -> torch.device:
    """Where the model's inputs must go (its first parameter's device)."""
    return next(model.parameters()).device


def release_memory() -> None:
    """Return cached GPU memory after an adapter drops its model."""
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def describe_load(device_map: Any, device: str, dtype: torch.dtype) -> dict[str, Any]:
    """The resolved loading choices, for ``describe()``."""
    return {"device": device if device_map is None else f"device_map={device_map}", "dtype": str(dtype)}


# --------------------------------------------------------------------------- generation kwargs

# gen_kwargs keys handed to ``generate`` unchanged when present.
_PASSTHROUGH = ("repetition_penalty", "length_penalty", "no_repeat_ngram_size", "min_new_tokens")
_SAMPLING = ("top_p", "top_k")
_KNOWN = frozenset(
    {"max_new_tokens", "max_gen_toks", "temperature", "num_beams", "do_sample", "until", *_SAMPLING, *_PASSTHROUGH}
)
_warned_keys: set[str] = set()


@dataclass(frozen=True)
class GenSettings:
    """``generate`` kwargs plus stop strings, hashable so requests can be grouped by them.

    ``ignored`` lists the task's gen_kwargs keys no ``transformers`` adapter uses (recorded in
    responses by the adapters that report them); it does not take part in grouping.
    """

    kwargs: tuple[tuple[str, Any], ...]
    stop: tuple[str, ...] = ()
    ignored: tuple[str, ...] = field(default=(), compare=False)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.kwargs)


def stop_strings(until: Any) -> tuple[str, ...]:
    """Normalise an ``until`` value (a string or a list of strings) to a tuple of non-empty strings."""
    if until is None:
        return ()
    if isinstance(until, str):
        until = [until]
    if not isinstance(until, (list, tuple)) or not all(isinstance(s, str) for s in until):
        raise UsageError(f"gen_kwargs 'until' must be a string or a list of strings, got {until!r}")
    return tuple(s for s in until if s)


def map_gen_kwargs(gen_kwargs: Mapping[str, Any] | None, default_max_new_tokens: int | None) -> GenSettings:
    """Map task ``gen_kwargs`` to ``transformers`` ``generate`` kwargs.

    * ``max_new_tokens`` (alias ``max_gen_toks``), else ``default_max_new_tokens`` (the
      adapter's ``max_new_tokens`` arg; ``None`` leaves the checkpoint's generation config in charge).
    * Sampling happens only when asked: ``do_sample`` if given, else ``temperature > 0``.
      Greedy decoding passes ``do_sample=False`` and clears temperature/top_p/top_k (``None``),
      so a checkpoint's ``generation_config`` sampling defaults can neither apply nor warn.
    * ``temperature``/``top_p``/``top_k`` are passed only when sampling; ``num_beams``,
      ``repetition_penalty``, ``length_penalty``, ``no_repeat_ngram_size``, ``min_new_tokens``
      always when given.
    * ``until`` becomes stop strings (see :class:`StopOnStrings`, :func:`truncate_at_stop`).
    * Other keys are listed in ``GenSettings.ignored`` and logged once (tasks written for other
      adapters carry some).
    """
    gk = dict(gen_kwargs or {})
    ignored = tuple(sorted(k for k in gk if k not in _KNOWN))
    for key in ignored:
        if key not in _warned_keys:
            _warned_keys.add(key)
            log.warning("gen_kwargs key %r is not used by the Hugging Face adapters; ignored", key)
    max_new = gk.get("max_new_tokens", gk.get("max_gen_toks"))
    max_new = default_max_new_tokens if max_new is None else int(max_new)
    if max_new is not None and max_new < 1:
        raise UsageError(f"gen_kwargs max_new_tokens must be >= 1, got {max_new}")
    temperature = gk.get("temperature")
    if temperature is not None:
        temperature = float(temperature)
        if temperature < 0:
            raise UsageError(f"gen_kwargs temperature must be >= 0, got {temperature}")
    do_sample = gk.get("do_sample")
    do_sample = bool(do_sample) if do_sample is not None else bool(temperature and temperature > 0)
    if do_sample and temperature == 0:
        raise UsageError("gen_kwargs do_sample=true with temperature=0 is contradictory; set temperature > 0")
    out: dict[str, Any] = {"do_sample": do_sample}
    if max_new is not None:
        out["max_new_tokens"] = max_new
    if do_sample:
        if temperature is not None:
            out["temperature"] = temperature
        for key in _SAMPLING:
            if gk.get(key) is not None:
                out[key] = gk[key]
    else:
        # Explicitly clear sampling knobs a checkpoint's generation_config may carry.
        out.update(temperature=None, top_p=None, top_k=None)
    if gk.get("num_beams") is not None:
        out["num_beams"] = int(gk["num_beams"])
    for key in _PASSTHROUGH:
        if gk.get(key) is not None:
            out[key] = gk[key]
    return GenSettings(kwargs=tuple(sorted(out.items())), stop=stop_strings(gk.get("until")), ignored=ignored)


def truncate_at_stop(text: str, stops: Sequence[str]) -> str:
    """Cut ``text`` at the earliest occurrence of any stop string (the stop string is dropped)."""
    cut = len(text)
    for s in stops:
        i = text.find(s)
        if i != -1:
            cut = min(cut, i)
    return text[:cut]


class StopOnStrings:
    """A ``transformers`` stopping criterion: a row is done once its *generated* text holds a stop string.

    Only tokens after ``prompt_len`` are looked at (a stop string spanning the prompt/answer
    boundary does not count), and the text is decoded the same way as the final answer, so
    stopping agrees exactly with :func:`truncate_at_stop`. Each step decodes a short tail only.
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


def generate_completions(
    model: Any,
    tokenizer: Any,
    inputs: Mapping[str, Any],
    settings: GenSettings,
    *,
    dtype: torch.dtype | None = None,
    eos_ids: Sequence[int] = (),
    pad_id: int | None = None,
) -> list[Completion]:
    """Run one left-padded batch of processor outputs through ``model.generate``.

    Tensors go to the model's input device (floating ones cast to ``dtype``); ``eos_ids`` and
    ``pad_id`` are handed to ``generate``; stop strings stop a row on its generated tokens only.
    Only the new tokens are decoded: up to the first EOS (padding of rows that finished early
    is not counted), cut at the first stop string. Prompt tokens are the non-padding positions.
    """
    device = input_device(model)
    batch: dict[str, Any] = {}
    for key, value in inputs.items():
        if isinstance(value, torch.Tensor):
            value = (
                value.to(device, dtype=dtype) if (dtype is not None and value.is_floating_point()) else value.to(device)
            )
        batch[key] = value
    prompt_len = int(batch["input_ids"].shape[1])
    kwargs = settings.as_dict()
    if pad_id is not None:
        kwargs["pad_token_id"] = pad_id
    if eos_ids:
        kwargs["eos_token_id"] = list(eos_ids)
    if settings.stop:
        from transformers import StoppingCriteriaList

        kwargs["stopping_criteria"] = StoppingCriteriaList([StopOnStrings(tokenizer, settings.stop, prompt_len)])
    with torch.inference_mode():
        output = model.generate(**batch, **kwargs)
    sequences = output.sequences if hasattr(output, "sequences") else output
    new_tokens = sequences[:, prompt_len:].cpu()
    lengths = completion_lengths(new_tokens, eos_ids, pad_id)
    texts = tokenizer.batch_decode([row[:n] for row, n in zip(new_tokens.tolist(), lengths)], skip_special_tokens=True)
    mask = batch.get("attention_mask")
    prompts = mask.sum(dim=1).tolist() if isinstance(mask, torch.Tensor) else [prompt_len] * len(texts)
    return [
        Completion(truncate_at_stop(text, settings.stop), int(p), int(n)) for text, p, n in zip(texts, prompts, lengths)
    ]


# --------------------------------------------------------------------------- chat messages


@dataclass
class ChatInput:
    """A request rendered for a processor: HF chat messages plus the media in order of appearance."""

    messages: list[dict[str, Any]]
    images: list[Image] = field(default_factory=list)
    videos: list[Video] = field(default_factory=list)
    audios: list[Audio] = field(default_factory=list)


def to_hf_chat(messages: Sequence[Message], system_prompt: str | None = None) -> ChatInput:
    """Convert typed messages to the ``[{"role", "content": [{"type": ...}]}]`` chat format.

    Media parts become ``{"type": "image"|"video"|"audio"}`` placeholders at their position;
    the media objects are collected in the same order for the processor call.
    ``system_prompt`` is prepended as a system turn when the request has none.
    """
    out = ChatInput(messages=[])
    if system_prompt and not any(m.role == "system" for m in messages):
        out.messages.append({"role": "system", "content": [{"type": "text", "text": system_prompt}]})
    for msg in messages:
        content: list[dict[str, Any]] = []
        for part in msg.content:
            if isinstance(part, Text):
                content.append({"type": "text", "text": part.text})
            elif isinstance(part, Image):
                content.append({"type": "image"})
                out.images.append(part)
            elif isinstance(part, Video):
                content.append({"type": "video"})
                out.videos.append(part)
            elif isinstance(part, Audio):
                content.append({"type": "audio"})
                out.audios.append(part)
            else:
                raise SampleError(f"unsupported content part {type(part).__name__}")
        out.messages.append({"role": msg.role, "content": content})
    return out


# --------------------------------------------------------------------------- video frames

VIDEO_EXTENSIONS = (".mp4", ".mkv", ".webm", ".avi", ".mov", ".m4v", ".flv", ".mpg", ".mpeg", ".gif")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


@dataclass
class VideoClip:
    """Sampled frames of one video: ``frames`` (T, H, W, 3) uint8 RGB, with where they came from.

    ``native_fps``/``total_frames`` describe the source; ``indices`` are the sampled positions in
    it, so frame ``k`` sits at ``indices[k] / native_fps`` seconds.
    """

    frames: np.ndarray
    indices: list[int]
    total_frames: int
    native_fps: float | None
    backend: str

    @property
    def duration(self) -> float | None:
        return self.total_frames / self.native_fps if self.native_fps else None

    @property
    def timestamps(self) -> list[float] | None:
        return [i / self.native_fps for i in self.indices] if self.native_fps else None

    @property
    def sampled_fps(self) -> float | None:
        """Frames per second of video time that the sampled frames represent."""
        if not self.native_fps or not self.total_frames:
            return None
        return len(self.indices) / self.total_frames * self.native_fps

    def describe(self) -> dict[str, Any]:
        return {
            "n_frames": len(self.indices),
            "total_frames": self.total_frames,
            "native_fps": self.native_fps,
            "indices": list(self.indices),
            "backend": self.backend,
        }


def uniform_indices(total: int, n: int) -> list[int]:
    """``n`` indices spread evenly over ``[0, total-1]``, first and last frame included."""
    if total <= 0 or n <= 0:
        return []
    if n >= total:
        return list(range(total))
    if n == 1:
        return [total // 2]
    return [int(round(x)) for x in np.linspace(0, total - 1, n)]


def sample_frame_indices(
    total: int,
    native_fps: float | None = None,
    fps: float | None = None,
    max_frames: int | None = None,
    multiple_of: int = 1,
    min_frames: int = 1,
) -> list[int]:
    """Choose frames to keep from a ``total``-frame video.

    With ``fps`` (and a known ``native_fps``): about ``duration * fps`` frames. Without it: all
    frames. Either way at most ``max_frames`` and at least ``min_frames`` (never more than
    ``total``), then rounded down to a multiple of ``multiple_of`` when that keeps >= 1 frame
    (models that pair frames, like Qwen2-VL, use 2). Frames are spread uniformly.
    """
    if total <= 0:
        return []
    n = total
    if fps is not None and native_fps:
        n = int(round(total / native_fps * fps))
    if max_frames is not None:
        n = min(n, int(max_frames))
    n = max(n, min_frames, 1)
    n = min(n, total)
    if multiple_of > 1 and n >= multiple_of:
        n -= n % multiple_of
    return uniform_indices(total, n)


def video_backends() -> list[str]:
    """Video-file readers importable here, in order of preference (PyAV, decord, OpenCV)."""
    found = []
    for name, module in (("av", "av"), ("decord", "decord"), ("opencv", "cv2")):
        try:
            __import__(module)
        except Exception:
            continue
        found.append(name)
    return found


def _read_av(path: str, pick) -> tuple[list[np.ndarray], list[int], int, float | None]:
    import av

    with av.open(path) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate) if stream.average_rate else None
        total = int(stream.frames or 0)
        if total > 0:
            wanted = pick(total, fps)
            want = set(wanted)
            frames: dict[int, np.ndarray] = {}
            for i, frame in enumerate(container.decode(stream)):
                if i in want:
                    frames[i] = frame.to_ndarray(format="rgb24")
                if i >= wanted[-1]:
                    break
            if len(frames) == len(want):
                return [frames[i] for i in wanted], wanted, total, fps
        # Unknown or wrong frame count: decode everything, then sample.
        container.seek(0)
        all_frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    wanted = pick(len(all_frames), fps)
    return [all_frames[i] for i in wanted], wanted, len(all_frames), fps


def _read_decord(path: str, pick) -> tuple[list[np.ndarray], list[int], int, float | None]:
    import decord

    vr = decord.VideoReader(path, ctx=decord.cpu(0))
    total, fps = len(vr), float(vr.get_avg_fps()) or None
    wanted = pick(total, fps)
    batch = vr.get_batch(wanted).asnumpy()
    return list(batch), wanted, total, fps


def _read_opencv(path: str, pick) -> tuple[list[np.ndarray], list[int], int, float | None]:
    import cv2

    def scan(wanted: list[int]) -> tuple[dict[int, np.ndarray], int]:
        cap = cv2.VideoCapture(path)
        if not cap.isOpened():
            raise SampleError(f"OpenCV cannot open video {path}")
        want, got, i = set(wanted), {}, 0
        last = wanted[-1] if wanted else -1
        try:
            while True:
                if not cap.grab():
                    break
                if i in want:
                    ok, bgr = cap.retrieve()
                    if ok:
                        got[i] = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                i += 1
                if i > last and last >= 0 and len(got) == len(want):
                    break
        finally:
            cap.release()
        return got, i

    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        raise SampleError(f"OpenCV cannot open video {path}")
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0) or None
    cap.release()
    if total > 0:
        wanted = pick(total, fps)
        got, _ = scan(wanted)
        if len(got) == len(wanted):
            return [got[i] for i in wanted], wanted, total, fps
    # Frame count missing or wrong in the container: count by decoding, then sample again.
    _, counted = scan([])
    wanted = pick(counted, fps)
    got, _ = scan(wanted)
    wanted = [i for i in wanted if i in got]
    return [got[i] for i in wanted], wanted, counted, fps


_READERS = {"av": _read_av, "decord": _read_decord, "opencv": _read_opencv}


def _frame_array(frame: Any) -> np.ndarray:
    """One frame (PIL image, array, or image path) as an (H, W, 3) uint8 RGB array."""
    if isinstance(frame, (str, os.PathLike)):
        frame = Image(path=str(frame)).load()
    elif hasattr(frame, "convert"):
        frame = frame.convert("RGB")
    elif isinstance(frame, torch.Tensor):
        frame = frame.detach().cpu().numpy()
    arr = np.asarray(frame)
    if arr.ndim == 3 and arr.shape[0] in (1, 3) and arr.shape[-1] not in (1, 3):
        arr = np.transpose(arr, (1, 2, 0))  # CHW -> HWC
    if arr.ndim == 2:
        arr = np.stack([arr] * 3, axis=-1)
    if arr.shape[-1] == 1:
        arr = np.repeat(arr, 3, axis=-1)
    if arr.dtype != np.uint8:
        arr = np.clip(arr * (255.0 if arr.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
    return arr


def _stack(frames: list[np.ndarray], where: str) -> np.ndarray:
    shapes = {f.shape for f in frames}
    if len(shapes) != 1:
        raise SampleError(f"video {where}: frames differ in size {sorted(shapes)}; resize them to one size")
    return np.stack(frames)


FramePicker = Callable[[int, "float | None", "float | None", "int | None"], list[int]]


def load_video(
    video: Video,
    fps: float | None = None,
    max_frames: int | None = None,
    multiple_of: int = 1,
    min_frames: int = 1,
    backend: str | None = None,
    picker: FramePicker | None = None,
) -> VideoClip:
    """Decode and sample one video part into a :class:`VideoClip`.

    Sources, in order: ``video.frames`` (pre-extracted: PIL images, arrays or image paths),
    ``video.path`` naming a folder of frame images (sorted by name), or a video file read with
    PyAV, decord or OpenCV (the first installed, or ``backend``).

    Which frames: ``video.frame_indices`` when given; else ``picker(total, native_fps,
    target_fps, max_frames)`` (default :func:`sample_frame_indices` with ``multiple_of`` and
    ``min_frames``). ``max_frames`` is the smaller of the adapter's and ``video.max_frames``.
    For a file, ``native_fps`` comes from the container and ``target_fps`` is ``video.fps`` or
    else ``fps``; for frames and folders, ``video.fps`` is their own (native) rate, if known,
    and ``target_fps`` is the adapter's ``fps``.
    """
    caps = [int(m) for m in (video.max_frames, max_frames) if m]
    cap = min(caps) if caps else None
    if picker is None:

        def picker(total: int, native: float | None, target: float | None, limit: int | None) -> list[int]:
            return sample_frame_indices(total, native, target, limit, multiple_of, min_frames)

    def pick(total: int, native: float | None, target: float | None) -> list[int]:
        if video.frame_indices is not None:
            bad = [i for i in video.frame_indices if not 0 <= int(i) < total]
            if bad:
                raise SampleError(f"video frame_indices {bad[:5]} outside 0..{total - 1}")
            return [int(i) for i in video.frame_indices]
        return picker(total, native, target, cap)

    if video.frames is not None:
        total = len(video.frames)
        if total == 0:
            raise SampleError("video part has an empty frame list")
        wanted = pick(total, video.fps, fps)
        frames = [_frame_array(video.frames[i]) for i in wanted]
        return VideoClip(_stack(frames, "frames"), wanted, total, video.fps, "frames")
    if not video.path:
        raise SampleError("video part has neither frames nor path")
    path = str(video.path)
    if os.path.isdir(path):
        files = sorted(f for f in os.listdir(path) if f.lower().endswith(IMAGE_EXTENSIONS))
        if not files:
            raise SampleError(f"video folder {path} holds no frame images ({', '.join(IMAGE_EXTENSIONS)})")
        wanted = pick(len(files), video.fps, fps)
        frames = [_frame_array(os.path.join(path, files[i])) for i in wanted]
        return VideoClip(_stack(frames, path), wanted, len(files), video.fps, "folder")
    if not os.path.exists(path):
        raise SampleError(f"video file not found: {path}")
    names = [backend] if backend else video_backends()
    if not names:
        raise SampleError(
            f"cannot decode video {path}: no video reader installed; "
            "`pip install av` (or give pre-extracted frames / a folder of frame images)"
        )
    target = video.fps if video.fps is not None else fps
    errors = []
    for name in names:
        try:
            frames, wanted, total, native = _READERS[name](path, lambda t, n: pick(t, n, target))
        except SampleError:
            raise
        except Exception as exc:  # a reader that cannot handle this container: try the next one
            errors.append(f"{name}: {exc}")
            continue
        if not frames:
            errors.append(f"{name}: no frames decoded")
            continue
        return VideoClip(_stack(frames, path), wanted, total, native, name)
    raise SampleError(f"cannot decode video {path} ({'; '.join(errors)})")


# --------------------------------------------------------------------------- adapter bases


class HFModel(Model):
    """Base of every ``transformers`` adapter: placement, loading, ``describe`` and ``close``.

    ``__init__`` resolves ``device``/``dtype``/``attn_implementation`` from the config
    (:class:`HFModelConfig`) and sets ``max_batch_size``; subclasses then call
    :meth:`load_processor` and :meth:`load_model` (which loads :meth:`model_class`).
    """

    Config: ClassVar[type[ModelConfig]] = HFModelConfig

    def __init__(self, config: HFModelConfig | None = None) -> None:
        super().__init__(config)
        cfg: HFModelConfig = self.config  # type: ignore[assignment]
        self.max_batch_size = cfg.batch_size
        self.device = resolve_device(cfg.device)
        self.dtype = resolve_dtype(cfg.dtype, self.device)
        self.attn_implementation = resolve_attn_implementation(cfg.attn_implementation, self.device, self.dtype)
        self.processor: Any = None
        self.model: Any = None

    def load_processor(self) -> Any:
        """``AutoProcessor.from_pretrained`` with the adapter's revision/trust settings."""
        from transformers import AutoProcessor

        cfg: HFModelConfig = self.config  # type: ignore[assignment]
        return load_or_explain(
            "processor",
            cfg.pretrained,
            lambda: AutoProcessor.from_pretrained(
                cfg.pretrained, revision=cfg.revision, trust_remote_code=cfg.trust_remote_code
            ),
        )

    def model_class(self) -> Any:
        """The ``transformers`` class to load."""
        raise NotImplementedError

    def load_model(self) -> Any:
        """Load :meth:`model_class` with the resolved dtype/attention, placed on the device, in eval mode."""
        cfg: HFModelConfig = self.config  # type: ignore[assignment]
        cls = self.model_class()
        kwargs = pretrained_kwargs(cfg, self.dtype, self.attn_implementation)
        model = load_or_explain(
            f"model ({getattr(cls, '__name__', cls)})",
            cfg.pretrained,
            lambda: cls.from_pretrained(cfg.pretrained, **kwargs),
        )
        return place_model(model, cfg.device_map, self.device)

    def describe(self) -> dict[str, Any]:
        """Args plus the resolved loading choices (flat ``device``/``dtype`` and a ``resolved`` block)."""
        import transformers

        cfg: HFModelConfig = self.config  # type: ignore[assignment]
        out = {**super().describe(), **describe_load(cfg.device_map, self.device, self.dtype)}
        model = self.model
        out["resolved"] = {
            "dtype": str(getattr(model, "dtype", self.dtype)).replace("torch.", ""),
            "device": str(getattr(model, "device", self.device)),
            "attn_implementation": getattr(
                getattr(model, "config", None), "_attn_implementation", self.attn_implementation
            ),
            "model_class": type(model).__name__ if model is not None else None,
            "processor_class": type(self.processor).__name__,
            "torch": torch.__version__,
            "transformers": transformers.__version__,
        }
        return out

    def close(self) -> None:
        self.model = None
        release_memory()


class HFConfig(HFModelConfig):
    """Arguments of the vision/chat adapters: :class:`HFModelConfig` plus a system prompt."""

    system_prompt: str | None = None
    max_new_tokens: int = Field(1024, ge=1)
    """Used when a task's gen_kwargs give no ``max_new_tokens``."""


@dataclass
class Prepared:
    """One request ready for the processor: prompt text, decoded media, generation settings."""

    index: int
    prompt: str
    images: list[Any]
    videos: list[VideoClip]
    audios: list[np.ndarray]
    settings: GenSettings
    extra: dict[str, Any]


class HFProcessorModel(HFModel):
    """Base adapter: ``AutoProcessor`` chat template + batched ``generate`` for vision/audio LMs.

    Subclasses choose the model class (:meth:`model_class`), how videos are sampled
    (:meth:`load_clip`) and extra processor kwargs (:meth:`images_kwargs`,
    :meth:`videos_kwargs`); everything else is shared.
    """

    name: ClassVar[str] = "hf_processor"
    modalities: ClassVar[frozenset[str]] = frozenset({"text", "image", "video"})
    Config: ClassVar[type[ModelConfig]] = HFConfig
    #: Frames per video are rounded down to a multiple of this (Qwen2-VL pairs frames).
    frame_multiple: ClassVar[int] = 1
    #: Frame rate assumed for pre-extracted frames whose rate is unknown (None: leave unknown).
    frames_fps_fallback: ClassVar[float | None] = None
    #: Tokenizer padding side for batches; left is what decoder-only generation needs.
    padding_side: str = "left"

    def __init__(self, config: HFConfig | None = None) -> None:
        super().__init__(config)
        cfg: HFConfig = self.config  # type: ignore[assignment]
        self.processor = self.load_processor()
        self.tokenizer = getattr(self.processor, "tokenizer", self.processor)
        if not getattr(self.processor, "chat_template", None) and not getattr(self.tokenizer, "chat_template", None):
            raise UsageError(
                f"{cfg.pretrained}: its processor has no chat template; "
                "use a chat/instruct checkpoint or add chat_template.jinja to the folder"
            )
        self.model = self.load_model()
        self.eos_ids = eos_token_ids(self.model, self.tokenizer)
        self.pad_id = pad_token_id(self.model, self.tokenizer, self.eos_ids)
        #: Modalities this checkpoint really takes (subclasses may narrow by the processor).
        self.accepts: set[str] = set(self.modalities)

    def model_class(self) -> Any:
        """The ``transformers`` class to load; default ``AutoModelForImageTextToText``."""
        from transformers import AutoModelForImageTextToText

        return AutoModelForImageTextToText

    # ---- per-request preparation (overridable hooks)
    def load_clip(self, video: Video) -> VideoClip:
        """Decode and sample one video with the adapter's ``fps``/``max_frames``."""
        return load_video(
            video,
            fps=getattr(self.config, "fps", None),
            max_frames=getattr(self.config, "max_frames", None),
            multiple_of=self.frame_multiple,
        )

    def images_kwargs(self) -> dict[str, Any]:
        """Extra ``images_kwargs`` for the processor call."""
        return {}

    def videos_kwargs(self, clips: list[VideoClip]) -> dict[str, Any]:
        """Extra ``videos_kwargs`` for the processor call: frames are already sampled, so the
        processor must not sample again; metadata tells it their timing."""
        from transformers.video_utils import VideoMetadata

        meta = []
        for c in clips:
            rate = c.native_fps or self.frames_fps_fallback
            meta.append(
                VideoMetadata(
                    total_num_frames=c.total_frames,
                    fps=rate,
                    duration=c.total_frames / rate if rate else None,
                    frames_indices=list(c.indices),
                    height=int(c.frames.shape[1]),
                    width=int(c.frames.shape[2]),
                )
            )
        return {"do_sample_frames": False, "video_metadata": meta}

    def audio_rate(self) -> int:
        fe = getattr(self.processor, "feature_extractor", None)
        return int(getattr(fe, "sampling_rate", 16000) or 16000)

    def edit_chat(self, chat: ChatInput, clips: list[VideoClip]) -> None:
        """Hook to adjust the chat messages once videos are sampled (e.g. add frame times)."""

    def render_prompt(self, chat: ChatInput, request: Request) -> str:
        """Apply the processor's chat template (continuing a trailing assistant turn)."""
        continue_final = bool(chat.messages) and chat.messages[-1]["role"] == "assistant"
        extra: dict[str, Any] = {}
        if not getattr(self.processor, "chat_template", None) and self.processor is not self.tokenizer:
            extra["chat_template"] = self.tokenizer.chat_template  # only the tokenizer carries one
        try:
            return self.processor.apply_chat_template(
                chat.messages,
                tokenize=False,
                add_generation_prompt=not continue_final,
                continue_final_message=continue_final,
                **extra,
            )
        except Exception as exc:
            raise SampleError(f"chat template failed: {exc}") from exc

    def prepare(self, index: int, request: Request) -> Prepared:
        cfg: HFConfig = self.config  # type: ignore[assignment]
        chat = to_hf_chat(request.messages, cfg.system_prompt)
        kinds = {"image": chat.images, "video": chat.videos, "audio": chat.audios}
        for kind, parts in kinds.items():
            if parts and kind not in self.accepts:
                raise SampleError(f"model {self.name!r} does not take {kind} input")
        images = [p.load() for p in chat.images]
        clips = [self.load_clip(v) for v in chat.videos]
        audios = [a.load(self.audio_rate())[0] for a in chat.audios]
        extra: dict[str, Any] = {}
        if clips:
            extra["video_frames"] = [len(c.indices) for c in clips]
        self.edit_chat(chat, clips)
        return Prepared(
            index,
            self.render_prompt(chat, request),
            images,
            clips,
            audios,
            map_gen_kwargs(request.gen_kwargs, cfg.max_new_tokens),
            extra,
        )

    # ---- generation
    def generate(self, requests: Sequence[Request]) -> list[Response]:
        results: list[Response | None] = [None] * len(requests)
        groups: dict[GenSettings, list[Prepared]] = {}
        for i, request in enumerate(requests):
            try:
                item = self.prepare(i, request)
            except (SampleError, OSError, ValueError) as exc:
                results[i] = Response.failed(f"{type(exc).__name__}: {exc}")
                continue
            groups.setdefault(item.settings, []).append(item)
        for settings, items in groups.items():
            for start in range(0, len(items), self.max_batch_size):
                chunk = items[start : start + self.max_batch_size]
                for item, resp in zip(chunk, self.generate_batch(chunk, settings)):
                    results[item.index] = resp
        return [r if r is not None else Response.failed("no output") for r in results]

    def processor_inputs(self, items: Sequence[Prepared]) -> Any:
        """Run the processor on a batch: padded token ids, pixel values, grids, masks."""
        call: dict[str, Any] = {"text": [it.prompt for it in items], "padding": True, "return_tensors": "pt"}
        if any(it.images for it in items):
            call["images"] = [list(it.images) for it in items]
            if ik := self.images_kwargs():
                call["images_kwargs"] = ik
        clips = [c for it in items for c in it.videos]
        if clips:
            call["videos"] = [c.frames for c in clips]
            call["videos_kwargs"] = self.videos_kwargs(clips)
        audios = [a for it in items for a in it.audios]
        if audios:
            call["audio"] = audios
            call["audio_kwargs"] = {"sampling_rate": self.audio_rate()}
        previous = self.tokenizer.padding_side
        self.tokenizer.padding_side = self.padding_side
        try:
            return self.processor(**call)
        finally:
            self.tokenizer.padding_side = previous

    def generate_batch(self, items: Sequence[Prepared], settings: GenSettings) -> list[Response]:
        """Generate for one batch with shared settings; decode only the new tokens."""
        start = time.perf_counter()
        outputs = generate_completions(
            self.model,
            self.tokenizer,
            self.processor_inputs(items),
            settings,
            dtype=self.dtype,
            eos_ids=self.eos_ids,
            pad_id=self.pad_id,
        )
        elapsed = time.perf_counter() - start
        return [
            Response(
                text=out.text,
                prompt_tokens=out.prompt_tokens,
                completion_tokens=out.completion_tokens,
                latency_s=elapsed,
                extra={**item.extra, "batch_size": len(items)},
            )
            for item, out in zip(items, outputs)
        ]

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out["resolved"]["padding_side"] = self.padding_side
        return out
