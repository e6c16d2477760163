"""``rapidocr``: offline text reading (PaddleOCR models in ONNX, shipped in the rapidocr wheel).

Used by the embedded demo: detects and recognises the text lines of each image and answers
with them joined top-to-bottom, left-to-right. The question text is ignored: this is an OCR
engine, not a VQA model, which suits read-the-text tasks.

The engine keeps no state between calls (each call builds its own inputs for the ONNX
sessions), so an image the engine cannot take (e.g. 1x3000 px) fails alone: it becomes that
sample's error and the next image is read as if nothing happened (checked in
``tests/models/test_bad_sample_isolation.py``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any, ClassVar

from lmms_eval.api.errors import SampleError, UsageError
from lmms_eval.api.model import Model, ModelConfig
from lmms_eval.api.request import Request, Response
from lmms_eval.media import MediaSpec, load_image


class RapidOCRConfig(ModelConfig):
    """Arguments: ``min_score`` drops recognised lines below that confidence."""

    min_score: float = 0.0
    threads: int | None = None


class RapidOCRReader(Model[RapidOCRConfig]):
    """Reads all text in each request's images."""

    name: ClassVar[str] = "rapidocr"
    modalities: ClassVar[frozenset[str]] = frozenset({"image", "text"})
    Config: ClassVar[type[ModelConfig]] = RapidOCRConfig
    max_batch_size = 1

    @property
    def media_spec(self) -> MediaSpec:
        return MediaSpec(images=True)

    def __init__(self, config: RapidOCRConfig | None = None) -> None:
        super().__init__(config)
        try:
            from rapidocr import RapidOCR
        except ImportError:
            raise UsageError("model 'rapidocr' needs: pip install 'lmms_eval[demo]'") from None
        logging.getLogger("RapidOCR").setLevel(logging.ERROR)
        self._engine = RapidOCR(params=self._params())
        logging.getLogger("RapidOCR").setLevel(logging.ERROR)
        self._lock = threading.Lock()

    def _params(self) -> dict[str, Any]:
        """Engine settings: the wheel's own model files (so nothing is ever downloaded), no
        up-scaling of small images (the default scales them to 736 px: slow, and it splits
        words), no rotation classifier (the text of these tasks is upright)."""
        import os

        import rapidocr

        models = os.path.join(os.path.dirname(rapidocr.__file__), "models")
        params: dict[str, Any] = {
            "Global.log_level": "error",
            "Global.use_cls": False,
            "Det.limit_type": "max",
            "Det.limit_side_len": 960,
            "Det.model_path": os.path.join(models, "PP-OCRv6_det_small.onnx"),
            "Rec.model_path": os.path.join(models, "PP-OCRv6_rec_small.onnx"),
            "Cls.model_path": os.path.join(models, "ch_ppocr_mobile_v2.0_cls_mobile.onnx"),
        }
        if self.config.threads:
            params["EngineConfig.onnxruntime.intra_op_num_threads"] = self.config.threads
        return params

    def read_text(self, image: Any) -> str:
        """All recognised lines of a PIL image, top-to-bottom then left-to-right."""
        import numpy as np

        with self._lock:
            result: Any = self._engine(np.asarray(image.convert("RGB"))[:, :, ::-1])
        texts = list(result.txts or [])
        if not texts:
            return ""
        boxes = result.boxes if result.boxes is not None else [None] * len(texts)
        scores = list(result.scores or [1.0] * len(texts))
        lines = []
        for text, box, score in zip(texts, boxes, scores):
            if score < self.config.min_score:
                continue
            top = float(min(p[1] for p in box)) if box is not None else 0.0
            left = float(min(p[0] for p in box)) if box is not None else 0.0
            lines.append((round(top / 10.0), left, text))
        lines.sort()
        return " ".join(text for _, _, text in lines)

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        out = []
        for request in requests:
            images = request.images()
            if not images:
                out.append(Response.failed("rapidocr needs an image input; this task gives none"))
                continue
            start = time.perf_counter()
            try:
                text = " ".join(t for t in (self._read_part(request, n, img) for n, img in enumerate(images)) if t)
            except SampleError as exc:
                out.append(Response.failed(str(exc)))
                continue
            out.append(Response(text=text, completion_tokens=len(text.split()), latency_s=time.perf_counter() - start))
        return out

    def _read_part(self, request: Request, n: int, part: Any) -> str:
        """One image part's text; any failure becomes a :class:`SampleError` naming the sample."""
        where = f"{request.label()}, image {n}"
        try:
            image = load_image(part, where=where)
        except SampleError:
            raise
        except Exception as exc:  # noqa: BLE001 - an unreadable image is this sample's error
            raise SampleError(f"{where}: cannot read image: {type(exc).__name__}: {exc}") from exc
        try:
            return self.read_text(image)
        except Exception as exc:  # noqa: BLE001 - e.g. a size the detector cannot resize
            raise SampleError(
                f"{where}: rapidocr failed on this {image.size[0]}x{image.size[1]} image: {type(exc).__name__}: {exc}"
            ) from exc
