"""``pocketsphinx``: offline English speech recognition (CMU PocketSphinx, model in the wheel).

Used by the embedded demo: real recognition on CPU with no network. The whole recording is
decoded as one utterance, whatever its length (PocketSphinx has no 30 s window), so the
long-form demo task measures unchunked transcription. Text prompts are ignored.

The decoder is stateful: a call that fails between ``start_utt`` and ``end_utt`` leaves it inside
an utterance, and every later ``start_utt`` then fails ("Failed to start utterance processing"),
so one bad file would fail every later sample of the run (and of its resume). Audio with no
samples is therefore refused up front (that sample's error), and any failure while decoding
replaces the decoder with a fresh one before the error is reported.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Sequence
from typing import Any, ClassVar

from lmms_eval.api.errors import SampleError, UsageError
from lmms_eval.api.model import Model, ModelConfig
from lmms_eval.api.request import Request, Response
from lmms_eval.media import MediaSpec, load_audio

SAMPLE_RATE = 16000


class PocketSphinxConfig(ModelConfig):
    """Arguments: ``hmm`` (acoustic model folder), ``lm`` (language model) and ``dictionary``
    (pronunciations) override the bundled US English model files."""

    hmm: str | None = None
    lm: str | None = None
    dictionary: str | None = None


class PocketSphinxASR(Model[PocketSphinxConfig]):
    """Transcribes each request's audio (all audio parts, in order, joined by spaces)."""

    name: ClassVar[str] = "pocketsphinx"
    modalities: ClassVar[frozenset[str]] = frozenset({"audio", "text"})
    Config: ClassVar[type[ModelConfig]] = PocketSphinxConfig
    max_batch_size = 1

    @property
    def media_spec(self) -> MediaSpec:
        return MediaSpec(audio=True, audio_rate=SAMPLE_RATE)

    def __init__(self, config: PocketSphinxConfig | None = None) -> None:
        super().__init__(config)
        try:
            from pocketsphinx import Decoder  # noqa: F401
        except ImportError:
            raise UsageError("model 'pocketsphinx' needs: pip install 'lmms_eval[demo]'") from None
        self._options: dict[str, Any] = {"samprate": SAMPLE_RATE, "loglevel": "FATAL"}
        for key, option in (("hmm", "hmm"), ("lm", "lm"), ("dictionary", "dict")):
            if getattr(self.config, key):
                self._options[option] = getattr(self.config, key)
        self._decoder = self._new_decoder()
        self._lock = threading.Lock()

    def _new_decoder(self) -> Any:
        from pocketsphinx import Decoder

        return Decoder(**self._options)

    def transcribe(self, wave: Any) -> str:
        """Decode a float waveform in [-1, 1] at 16 kHz as one utterance.

        Raises :class:`SampleError` for a waveform with no samples. If decoding fails, the
        decoder is replaced by a fresh one (a failure can leave it inside the utterance, which
        would fail every later call) and the error is raised.
        """
        import numpy as np

        if len(wave) == 0:
            raise SampleError("pocketsphinx: audio has no samples at 16 kHz; fix or drop this sample")
        pcm = (np.clip(wave, -1.0, 1.0) * 32767.0).astype("<i2")
        with self._lock:
            try:
                with warnings.catch_warnings():
                    # start_stream is deprecated but resets the noise statistics, so a result does
                    # not depend on which audio the decoder heard before (batching, resume).
                    warnings.simplefilter("ignore", DeprecationWarning)
                    self._decoder.start_stream()
                self._decoder.start_utt()
                self._decoder.process_raw(pcm.tobytes(), full_utt=True)
                self._decoder.end_utt()
                hyp = self._decoder.hyp()
            except BaseException:
                self._decoder = self._new_decoder()
                raise
        return hyp.hypstr if hyp is not None else ""

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        import time

        out = []
        for request in requests:
            audios = request.audios()
            if not audios:
                out.append(Response.failed("pocketsphinx needs an audio input; this task gives none"))
                continue
            start = time.perf_counter()
            try:
                texts = [self._transcribe_part(request, n, part) for n, part in enumerate(audios)]
            except SampleError as exc:
                out.append(Response.failed(str(exc)))
                continue
            text = " ".join(t for t in texts if t)
            out.append(Response(text=text, completion_tokens=len(text.split()), latency_s=time.perf_counter() - start))
        return out

    def _transcribe_part(self, request: Request, n: int, part: Any) -> str:
        """One audio part's transcript; any failure becomes a :class:`SampleError` naming the sample."""
        where = f"{request.label()}, audio {n}"
        try:
            wave = load_audio(part, SAMPLE_RATE, where)[0]
        except SampleError:
            raise
        except Exception as exc:  # noqa: BLE001 - an unreadable file is this sample's error
            raise SampleError(f"{where}: cannot read audio: {type(exc).__name__}: {exc}") from exc
        try:
            return self.transcribe(wave)
        except Exception as exc:  # noqa: BLE001 - the decoder was reset; this sample fails alone
            raise SampleError(f"{where}: pocketsphinx failed: {type(exc).__name__}: {exc}") from exc
