"""Shared pieces of the Hugging Face ``transformers`` adapters, one module per job.

* :mod:`~lmms_eval.models.hf.placement`: device, dtype, attention implementation, loading.
* :mod:`~lmms_eval.models.hf.generation`: one batched ``generate`` call, decoded faithfully.
* :mod:`~lmms_eval.models.hf.choices`: likelihood scoring of options (``output_type: multiple_choice``).
* :mod:`~lmms_eval.models.hf.chat`: typed messages -> the processors' chat format.
* :mod:`~lmms_eval.models.hf.base`: :class:`HFModel` and the one batching path of every adapter.
* :mod:`~lmms_eval.models.hf.vision`: :class:`HFProcessorModel`, the chat-template vision base.
* :mod:`~lmms_eval.models.hf.audio`: :class:`ChatAudioModel` and the long-audio policies.

Model-family traits (frame multiples, end tokens, sampling rules) live in
:mod:`lmms_eval.models.families`; media decoding in :mod:`lmms_eval.media`.
"""
