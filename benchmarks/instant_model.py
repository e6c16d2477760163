"""An instant model for harness-overhead benchmarks: answers at once; reads each image's size."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from lmms_eval.api.model import Model, ModelConfig
from lmms_eval.api.request import Request, Response
from lmms_eval.media import image_size


class InstantConfig(ModelConfig):
    batch: int = 64


class InstantModel(Model[InstantConfig]):
    name: ClassVar[str] = "instant"
    modalities: ClassVar[frozenset[str]] = frozenset({"text", "image", "audio", "video"})
    Config: ClassVar[type[ModelConfig]] = InstantConfig

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        out = []
        for request in requests:
            for image in request.images():
                if image_size(image) is None:  # fetched from the dataset, header read; pixels left alone
                    out.append(Response.failed("unreadable image"))
                    break
            else:
                out.append(Response(text="A"))
        return out
