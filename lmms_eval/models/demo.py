"""``demo``: the embedded offline model, routing each request by modality.

Audio requests go to PocketSphinx (speech recognition), image requests to RapidOCR (text
reading). Both engines' weights ship inside their PyPI wheels, so
``lmms-eval --model demo --tasks demo`` runs anywhere, with no network and no GPU, and
prints real scores. Each engine is loaded the first time a request needs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from lmms_eval.api.model import Model, ModelConfig
from lmms_eval.api.request import Request, Response
from lmms_eval.media import MediaSpec


class OfflineDemoConfig(ModelConfig):
    """Arguments: ``ocr_threads`` caps onnxruntime's threads for RapidOCR."""

    ocr_threads: int | None = None


class OfflineDemo(Model[OfflineDemoConfig]):
    name: ClassVar[str] = "demo"
    modalities: ClassVar[frozenset[str]] = frozenset({"audio", "image", "text"})
    Config: ClassVar[type[ModelConfig]] = OfflineDemoConfig
    max_batch_size = 1

    def __init__(self, config: OfflineDemoConfig | None = None) -> None:
        super().__init__(config)
        self._asr: Model[Any] | None = None
        self._ocr: Model[Any] | None = None

    @property
    def media_spec(self) -> MediaSpec:
        """Both engines' media, decoded ahead: audio at PocketSphinx's 16 kHz, images to RGB."""
        return MediaSpec(images=True, audio=True, audio_rate=16000)

    def _engine_for(self, request: Request) -> Model[Any] | None:
        if request.audios():
            if self._asr is None:
                from lmms_eval.models.pocketsphinx_asr import PocketSphinxASR

                self._asr = PocketSphinxASR()
            return self._asr
        if request.images():
            if self._ocr is None:
                from lmms_eval.models.rapidocr_ocr import RapidOCRConfig, RapidOCRReader

                self._ocr = RapidOCRReader(RapidOCRConfig(threads=self.config.ocr_threads))
            return self._ocr
        return None

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        out = []
        for request in requests:
            engine = self._engine_for(request)
            if engine is None:
                out.append(Response.failed("the demo model reads audio or images; this request has neither"))
            else:
                out.extend(engine.generate([request]))
        return out
