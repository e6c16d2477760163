"""lmms_eval: a plugin-based evaluation harness for large multimodal models."""

__version__ = "0.1.0"
