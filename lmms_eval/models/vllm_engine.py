"""Offline vLLM engine adapter (``--model vllm``): images, video and audio via ``multi_modal_data``.

Each request is rendered to a prompt with the checkpoint's own chat template (through its
``transformers`` processor) and handed to ``vllm.LLM.generate`` as ``{"prompt", "multi_modal_data",
"mm_processor_kwargs"}``: images as PIL images, videos as sampled ``(T, H, W, 3)`` uint8 frames
(with their timing metadata, so the model's processor does not sample again), audio as
``(waveform, sampling_rate)``. Generation parameters map 1:1 to ``SamplingParams``
(:func:`sampling_params_kwargs`): nothing is added that the task did not ask for, except that a
request with neither ``temperature`` nor ``do_sample`` decodes greedily, as the
``transformers`` adapters do.

``tensor_parallel_size`` shards one engine over GPUs; ``data_parallel_size`` > 1 starts that many
independent engine processes, each on its own ``tensor_parallel_size`` GPUs, and splits every
batch between them.

vLLM is optional: this module imports without it, and constructing the adapter without it
raises a one-line :class:`~lmms_eval.api.errors.UsageError`. The conversion functions here are
pure and testable without vLLM or a GPU.

Example: ``--model vllm --model_args pretrained=Qwen/Qwen2.5-VL-7B-Instruct,tensor_parallel_size=2,
limit_mm_per_prompt={"image":4}``
"""

from __future__ import annotations

import importlib
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from lmms_eval.api.errors import SampleError, UsageError
from lmms_eval.api.model import Model, ModelConfig
from lmms_eval.api.request import Request, Response

log = logging.getLogger(__name__)

INSTALL_HINT = "vllm is not installed: pip install 'lmms_eval[vllm]'"

# gen_kwargs key -> SamplingParams field, for keys that only change name.
_RENAMES = {
    "max_new_tokens": "max_tokens",
    "max_gen_toks": "max_tokens",
    "min_new_tokens": "min_tokens",
    "top_p": "top_p",
    "top_k": "top_k",
    "repetition_penalty": "repetition_penalty",
    "presence_penalty": "presence_penalty",
    "frequency_penalty": "frequency_penalty",
    "seed": "seed",
}
_warned: set[str] = set()


def require_vllm() -> Any:
    """Import ``vllm`` or raise the one-line install hint."""
    try:
        return importlib.import_module("vllm")
    except ImportError:
        raise UsageError(INSTALL_HINT) from None


# --------------------------------------------------------------------------- pure conversion


def sampling_params_kwargs(gen_kwargs: Mapping[str, Any], default_max_new_tokens: int) -> dict[str, Any]:
    """Map task ``gen_kwargs`` to ``vllm.SamplingParams`` keyword arguments, 1:1.

    * ``max_new_tokens`` -> ``max_tokens`` (the adapter's ``max_new_tokens`` when absent);
    * ``temperature`` -> ``temperature``; ``do_sample=false`` -> ``temperature=0``; with
      neither given -> ``temperature=0`` (greedy, the harness-wide convention);
    * ``top_p``/``top_k``/``repetition_penalty``/``min_new_tokens``/``seed`` only when given;
    * ``until`` -> ``stop`` (a list of strings);
    * ``num_beams`` > 1 is refused (vLLM's ``SamplingParams`` has no beam search).
    """
    gk = dict(gen_kwargs or {})
    out: dict[str, Any] = {}
    for key, value in gk.items():
        if value is None:
            continue
        if key in _RENAMES:
            out[_RENAMES[key]] = value
        elif key in ("temperature", "do_sample", "until", "num_beams"):
            continue
        elif key not in _warned:
            _warned.add(key)
            log.warning("gen_kwargs key %r has no vLLM SamplingParams counterpart; ignored", key)
    out["max_tokens"] = int(out.get("max_tokens", default_max_new_tokens))
    if out["max_tokens"] < 1:
        raise UsageError(f"gen_kwargs max_new_tokens must be >= 1, got {out['max_tokens']}")
    temperature, do_sample = gk.get("temperature"), gk.get("do_sample")
    if temperature is not None and float(temperature) < 0:
        raise UsageError(f"gen_kwargs temperature must be >= 0, got {temperature}")
    if do_sample is not None and not do_sample:
        out["temperature"] = 0.0
    elif temperature is not None:
        if do_sample and float(temperature) == 0:
            raise UsageError("gen_kwargs do_sample=true with temperature=0 is contradictory; set temperature > 0")
        out["temperature"] = float(temperature)
    elif not do_sample:
        out["temperature"] = 0.0
    num_beams = gk.get("num_beams")
    if num_beams is not None and int(num_beams) > 1:
        raise UsageError(
            "the vllm adapter does not do beam search (num_beams > 1); use an hf adapter or drop num_beams"
        )
    until = gk.get("until")
    if until is not None:
        stops = [until] if isinstance(until, str) else list(until)
        if not all(isinstance(s, str) for s in stops):
            raise UsageError(f"gen_kwargs 'until' must be a string or a list of strings, got {until!r}")
        stops = [s for s in stops if s]
        if stops:
            out["stop"] = stops
    return out


def video_input(clip: Any, with_metadata: bool = True) -> Any:
    """A sampled :class:`~lmms_eval.models.hf_common.VideoClip` as vLLM video data.

    With ``with_metadata``: ``(frames, metadata)`` where metadata tells the model's processor
    the source frame count, rate and which frames these are (and not to sample again).
    """
    if not with_metadata:
        return clip.frames
    meta: dict[str, Any] = {
        "total_num_frames": int(clip.total_frames),
        "frames_indices": list(clip.indices),
        "video_backend": clip.backend,
        "do_sample_frames": False,
    }
    if clip.native_fps:
        meta["fps"] = float(clip.native_fps)
        meta["duration"] = float(clip.duration)
    return clip.frames, meta


def request_to_vllm_input(
    request: Request,
    render: Callable[[list[dict[str, Any]], bool], str],
    *,
    system_prompt: str | None = None,
    fps: float | None = None,
    max_frames: int | None = None,
    frame_multiple: int = 1,
    video_metadata: bool = True,
) -> dict[str, Any]:
    """Convert one request to a vLLM prompt dict ``{"prompt", "multi_modal_data"?, "mm_processor_kwargs"?}``.

    ``render(messages, continue_final)`` applies the model's chat template to HF-format chat
    messages (media parts as ``{"type": "image"|"video"|"audio"}`` placeholders, in order).
    """
    from lmms_eval.models.hf_common import load_video, to_hf_chat

    chat = to_hf_chat(request.messages, system_prompt)
    continue_final = bool(chat.messages) and chat.messages[-1]["role"] == "assistant"
    out: dict[str, Any] = {"prompt": render(chat.messages, continue_final)}
    mm: dict[str, list[Any]] = {}
    if chat.images:
        mm["image"] = [p.load() for p in chat.images]
    if chat.videos:
        clips = [load_video(v, fps=fps, max_frames=max_frames, multiple_of=frame_multiple) for v in chat.videos]
        mm["video"] = [video_input(c, video_metadata) for c in clips]
        if video_metadata:
            out["mm_processor_kwargs"] = {"do_sample_frames": False}
    if chat.audios:
        mm["audio"] = [a.load() for a in chat.audios]
    if mm:
        out["multi_modal_data"] = mm
    return out


@dataclass
class Generated:
    """What one engine returned for one prompt (plain data, so it crosses process boundaries)."""

    text: str
    prompt_tokens: int | None
    completion_tokens: int | None
    finish_reason: str | None = None


def output_to_generated(output: Any) -> Generated:
    """A ``vllm.RequestOutput`` -> :class:`Generated` (first completion)."""
    first = output.outputs[0]
    prompt_ids = getattr(output, "prompt_token_ids", None)
    token_ids = getattr(first, "token_ids", None)
    return Generated(
        text=first.text,
        prompt_tokens=len(prompt_ids) if prompt_ids is not None else None,
        completion_tokens=len(token_ids) if token_ids is not None else None,
        finish_reason=getattr(first, "finish_reason", None),
    )


def generated_to_response(gen: Generated, stops: Sequence[str], latency_s: float) -> Response:
    """Build the :class:`Response`; text is cut at the first stop string (vLLM already drops it)."""
    text = gen.text
    for s in stops:
        i = text.find(s)
        if i != -1:
            text = text[:i]
    return Response(
        text=text,
        prompt_tokens=gen.prompt_tokens,
        completion_tokens=gen.completion_tokens,
        latency_s=latency_s,
        extra={"finish_reason": gen.finish_reason} if gen.finish_reason else {},
    )


def engine_kwargs(cfg: VLLMConfig) -> dict[str, Any]:
    """``vllm.LLM(**kwargs)`` from the adapter config: only what the user set, plus the model."""
    out: dict[str, Any] = {
        "model": cfg.pretrained,
        "tensor_parallel_size": cfg.tensor_parallel_size,
        "trust_remote_code": cfg.trust_remote_code,
    }
    optional = {
        "revision": cfg.revision,
        "dtype": None if cfg.dtype == "auto" else cfg.dtype,
        "gpu_memory_utilization": cfg.gpu_memory_utilization,
        "max_model_len": cfg.max_model_len,
        "max_num_seqs": cfg.max_num_seqs,
        "seed": cfg.seed,
        "limit_mm_per_prompt": cfg.limit_mm_per_prompt,
        "mm_processor_kwargs": cfg.mm_processor_kwargs,
        "enforce_eager": cfg.enforce_eager or None,
    }
    out.update({k: v for k, v in optional.items() if v is not None})
    clash = set(out) & set(cfg.engine_kwargs or {})
    if clash:
        raise UsageError(f"engine_kwargs repeats {sorted(clash)}; set them as model args instead")
    out.update(cfg.engine_kwargs or {})
    return out


def dp_device_groups(dp: int, tp: int, visible: str | None) -> list[str]:
    """``CUDA_VISIBLE_DEVICES`` value for each data-parallel replica (``tp`` GPUs each)."""
    ids = [d.strip() for d in visible.split(",") if d.strip()] if visible else None
    if ids is None:
        try:
            import torch

            ids = [str(i) for i in range(torch.cuda.device_count())]
        except Exception:
            ids = []
    if len(ids) < dp * tp:
        raise UsageError(
            f"data_parallel_size={dp} x tensor_parallel_size={tp} needs {dp * tp} GPUs, {len(ids)} visible"
        )
    return [",".join(ids[r * tp : (r + 1) * tp]) for r in range(dp)]


# --------------------------------------------------------------------------- engines


def make_vllm_engine(kwargs: dict[str, Any]) -> Any:
    """Default engine factory: a real ``vllm.LLM``."""
    vllm = require_vllm()
    return vllm.LLM(**kwargs)


def run_engine(engine: Any, prompts: list[dict[str, Any]], params: list[dict[str, Any]]) -> list[Generated]:
    """Generate with a ``vllm.LLM``-like engine; ``params`` are ``SamplingParams`` kwargs per prompt."""
    try:
        from vllm import SamplingParams
    except ImportError:  # test engines take plain dicts
        sampling = params
    else:
        sampling = [SamplingParams(**p) for p in params]
    outputs = engine.generate(prompts, sampling, use_tqdm=False)
    return [output_to_generated(o) for o in outputs]


def _load_factory(spec: str) -> Callable[[dict[str, Any]], Any]:
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)


def _replica_main(conn: Any, factory: str, kwargs: dict[str, Any], devices: str | None) -> None:
    """Body of one data-parallel replica process: build an engine, then serve generate calls."""
    if devices is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = devices
    try:
        engine = _load_factory(factory)(kwargs)
    except BaseException as exc:  # report start-up failure to the parent
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", None))
    while True:
        msg = conn.recv()
        if msg is None:
            break
        prompts, params = msg
        try:
            conn.send(("ok", run_engine(engine, prompts, params)))
        except BaseException as exc:
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
    conn.close()


class ReplicaPool:
    """``n`` engine processes (spawned), each on its own GPU group; a batch is split in contiguous shards."""

    def __init__(
        self,
        n: int,
        kwargs: dict[str, Any],
        devices: list[str | None],
        factory: str = "lmms_eval.models.vllm_engine:make_vllm_engine",
    ) -> None:
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        self.procs, self.conns = [], []
        for rank in range(n):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_replica_main, args=(child, factory, kwargs, devices[rank]), daemon=True)
            proc.start()
            self.procs.append(proc)
            self.conns.append(parent)
        for rank, conn in enumerate(self.conns):
            status, detail = conn.recv()
            if status != "ready":
                self.close()
                raise UsageError(f"vllm data-parallel replica {rank} failed to start: {detail}")

    def generate(self, prompts: list[dict[str, Any]], params: list[dict[str, Any]]) -> list[Generated]:
        n = len(self.conns)
        size = -(-len(prompts) // n) if prompts else 0
        shards = [(r, slice(r * size, (r + 1) * size)) for r in range(n)]
        busy = []
        for rank, sl in shards:
            if prompts[sl]:
                self.conns[rank].send((prompts[sl], params[sl]))
                busy.append(rank)
        out: list[Generated] = []
        errors = []
        for rank in busy:
            status, payload = self.conns[rank].recv()
            if status == "ok":
                out.extend(payload)
            else:
                errors.append(f"replica {rank}: {payload}")
        if errors:
            raise RuntimeError("; ".join(errors))
        return out

    def close(self) -> None:
        for conn in self.conns:
            try:
                conn.send(None)
            except (OSError, BrokenPipeError):
                pass
        for proc in self.procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.terminate()
        self.procs, self.conns = [], []


class LocalEngine:
    """One in-process engine."""

    def __init__(self, kwargs: dict[str, Any], factory: str = "lmms_eval.models.vllm_engine:make_vllm_engine") -> None:
        self.engine = _load_factory(factory)(kwargs)

    def generate(self, prompts: list[dict[str, Any]], params: list[dict[str, Any]]) -> list[Generated]:
        return run_engine(self.engine, prompts, params)

    def close(self) -> None:
        self.engine = None


# --------------------------------------------------------------------------- adapter


class VLLMConfig(ModelConfig):
    """Model args of :class:`VLLM` (engine args left unset keep vLLM's own defaults)."""

    pretrained: str
    revision: str | None = None
    dtype: str = "auto"
    tensor_parallel_size: int = 1
    data_parallel_size: int = 1
    gpu_memory_utilization: float | None = None
    max_model_len: int | None = None
    max_num_seqs: int | None = None
    seed: int | None = None
    trust_remote_code: bool = False
    enforce_eager: bool = False
    limit_mm_per_prompt: dict[str, int] | None = None
    mm_processor_kwargs: dict[str, Any] | None = None
    engine_kwargs: dict[str, Any] | None = None
    batch_size: int = 256
    system_prompt: str | None = None
    chat_template: str | None = None
    max_new_tokens: int = 1024
    """Used when a task's gen_kwargs give no ``max_new_tokens``."""
    max_frames: int | None = 32
    fps: float | None = None
    frame_multiple: int = 1
    video_metadata: bool = True


class VLLM(Model):
    """Offline ``vllm.LLM`` engine for image/video/audio chat models."""

    name: ClassVar[str] = "vllm"
    modalities: ClassVar[frozenset[str]] = frozenset({"text", "image", "video", "audio"})
    Config: ClassVar[type[ModelConfig]] = VLLMConfig

    def __init__(self, config: VLLMConfig | None = None) -> None:
        super().__init__(config)
        cfg: VLLMConfig = self.config  # type: ignore[assignment]
        self.vllm = require_vllm()
        for key in ("tensor_parallel_size", "data_parallel_size", "batch_size"):
            if getattr(cfg, key) < 1:
                raise UsageError(f"model 'vllm': {key} must be >= 1")
        self.max_batch_size = cfg.batch_size
        self.template = self._load_template(cfg)
        kwargs = engine_kwargs(cfg)
        if cfg.data_parallel_size > 1:
            groups = dp_device_groups(
                cfg.data_parallel_size, cfg.tensor_parallel_size, os.environ.get("CUDA_VISIBLE_DEVICES")
            )
            self.engine: Any = ReplicaPool(cfg.data_parallel_size, kwargs, groups)
        else:
            self.engine = LocalEngine(kwargs)

    @staticmethod
    def _load_template(cfg: VLLMConfig) -> Any:
        """The checkpoint's processor (or tokenizer) to render chat templates with."""
        from transformers import AutoProcessor, AutoTokenizer

        try:
            proc = AutoProcessor.from_pretrained(
                cfg.pretrained, revision=cfg.revision, trust_remote_code=cfg.trust_remote_code
            )
        except Exception:
            proc = AutoTokenizer.from_pretrained(
                cfg.pretrained, revision=cfg.revision, trust_remote_code=cfg.trust_remote_code
            )
        if cfg.chat_template:
            text = cfg.chat_template
            if os.path.isfile(text):
                with open(text, encoding="utf-8") as fh:
                    text = fh.read()
            proc.chat_template = text
        if not getattr(proc, "chat_template", None):
            raise UsageError(f"{cfg.pretrained}: no chat template; pass chat_template=<path to .jinja>")
        return proc

    def render(self, messages: list[dict[str, Any]], continue_final: bool) -> str:
        return self.template.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=not continue_final, continue_final_message=continue_final
        )

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        cfg: VLLMConfig = self.config  # type: ignore[assignment]
        results: list[Response | None] = [None] * len(requests)
        prompts, params, stops, where = [], [], [], []
        for i, request in enumerate(requests):
            try:
                prompt = request_to_vllm_input(
                    request,
                    self.render,
                    system_prompt=cfg.system_prompt,
                    fps=cfg.fps,
                    max_frames=cfg.max_frames,
                    frame_multiple=cfg.frame_multiple,
                    video_metadata=cfg.video_metadata,
                )
            except (SampleError, OSError, ValueError) as exc:
                results[i] = Response.failed(f"{type(exc).__name__}: {exc}")
                continue
            sp = sampling_params_kwargs(request.gen_kwargs, cfg.max_new_tokens)
            prompts.append(prompt)
            params.append(sp)
            stops.append(sp.get("stop", []))
            where.append(i)
        if prompts:
            start = time.perf_counter()
            generated = self.engine.generate(prompts, params)
            elapsed = time.perf_counter() - start
            for i, gen, stop in zip(where, generated, stops):
                results[i] = generated_to_response(gen, stop, elapsed)
        return [r if r is not None else Response.failed("no output") for r in results]

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out["resolved"] = {"vllm": getattr(self.vllm, "__version__", None), "engine_kwargs": engine_kwargs(self.config)}  # type: ignore[arg-type]
        return out

    def close(self) -> None:
        engine = getattr(self, "engine", None)
        if engine is not None:
            engine.close()
            self.engine = None
