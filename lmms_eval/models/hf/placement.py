"""Where and how a ``transformers`` model runs: device, dtype, attention, loading, memory.

* :func:`resolve_device`: ``auto`` -> ``cuda:LOCAL_RANK`` under ``torchrun`` with several
  processes, else ``cuda`` or ``cpu``.
* :func:`resolve_dtype`: bf16 on a GPU that supports it, else fp16; fp32 on CPU.
* :func:`resolve_attn_implementation`: ``sdpa`` unless asked otherwise; ``flash_attention_2``
  is checked to be usable before any weight is loaded.
* :func:`pretrained_kwargs`, :func:`load_or_explain` (the hub check of
  :mod:`lmms_eval.models.hf.hub` first, then one clear error line instead of a traceback),
  :func:`place_model`, :func:`input_device`, :func:`release_memory`, :func:`describe_load`.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch

from lmms_eval.api.errors import UsageError
from lmms_eval.models.hf.hub import hub_kwargs, require_hub

if TYPE_CHECKING:
    from lmms_eval.models.hf.base import HFModelConfig

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


def pretrained_kwargs(cfg: HFModelConfig, dtype: torch.dtype, attn_implementation: str | None = None) -> dict[str, Any]:
    """Keyword arguments for ``*.from_pretrained`` built from the adapter's config."""
    kwargs: dict[str, Any] = {"revision": cfg.revision, "dtype": dtype, "trust_remote_code": cfg.trust_remote_code}
    if cfg.device_map is not None:
        kwargs["device_map"] = cfg.device_map
    attn = attn_implementation or cfg.attn_implementation
    if attn:
        kwargs["attn_implementation"] = attn
    return kwargs


def load_or_explain(
    what: str, pretrained: str, loader: Callable[[dict[str, Any]], Any], revision: str | None = None
) -> Any:
    """Run ``loader(hub)``; turn a missing checkpoint or package into one clear UsageError.

    ``hub`` holds the extra ``from_pretrained`` arguments :func:`~lmms_eval.models.hf.hub.hub_kwargs`
    decides before anything is loaded (a hub id neither cached nor reachable fails here, in one
    line, within seconds). When a load from the cache misses a file (an interrupted download), the
    hub is asked once more if it answers.
    """
    hub = hub_kwargs(pretrained, revision)
    try:
        try:
            return loader(hub)
        except OSError:
            if not hub.get("local_files_only"):
                raise
            return loader(require_hub(pretrained, revision, cached=True))
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
