"""A model only this plugin provides: it answers with the prompt's last word reversed."""

from lmms_eval.api.model import Model, ModelConfig
from lmms_eval.api.request import Response


class ReverseConfig(ModelConfig):
    suffix: str = ""


class ReverseModel(Model):
    name = "plugin_reverse"
    Config = ReverseConfig
    max_batch_size = 8

    def generate(self, requests):
        out = []
        for request in requests:
            words = request.prompt_text().split()
            out.append(Response(text=(words[-1][::-1] if words else "") + self.config.suffix))
        return out
