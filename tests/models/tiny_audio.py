"""Tiny randomly initialised audio checkpoints, built offline for tests.

Each builder writes a complete Hugging Face checkpoint folder that the adapters load through
their real ``from_pretrained`` path:

* :func:`build_tiny_qwen2_audio`: ``Qwen2AudioForConditionalGeneration`` (1-layer encoder,
  2-layer Qwen2 LM) + ``Qwen2AudioProcessor`` (default ``WhisperFeatureExtractor``, its built-in
  Qwen2-Audio chat template).
* :func:`build_aero_stand_in`: the same tiny model saved as a *remote-code* checkpoint:
  ``config.json``/``processor_config.json`` carry an ``auto_map`` to a local
  ``aero_stand_in.py``, so the ``aero`` adapter's ``AutoModelForCausalLM``/``AutoProcessor``
  loading with ``trust_remote_code=True`` runs for real. The stand-in processor takes the clips
  as ``audios=`` and exposes ``audio_processor`` like Aero's own processor, and with
  ``aero_template=True`` uses Aero's chat template (docs/models.md lists what still differs).
  It is NOT Aero's architecture or code (which cannot be downloaded here); it exercises the
  adapter's loading, chunking, batching and alignment.
* :func:`build_tiny_whisper`: ``WhisperForConditionalGeneration`` with a Whisper-layout
  vocabulary (task special tokens and the 1501 timestamp tokens at the end of the vocab) and a
  fresh multilingual ``GenerationConfig`` (lang_to_id, task_to_id, no_timestamps_token_id ...).

Tokenizers are byte-level BPEs trained here with ``tokenizers`` on a few sentences. Builders are
cached per process under one temporary root, so a pytest session builds each model once.
Audio for tests is synthesised with numpy (:func:`tone`, :func:`noise`, :func:`chirps`).
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
from pathlib import Path

import numpy as np

RATE = 16000

CORPUS = [
    "You are a helpful assistant.",
    "Transcribe the audio into text. What is the sound? Answer in one word.",
    "the quick brown fox jumps over the lazy dog and the cat sat on the mat",
    "Audio 1: Audio 2: system user assistant hello world 0 1 2 3 4 5 6 7 8 9",
]

QWEN_AUDIO_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|AUDIO|>", "<|audio_bos|>", "<|audio_eos|>"]

WHISPER_LANGS = ["en", "fr", "de"]


# ---- audio ----------------------------------------------------------------------------------


def tone(seconds: float, freq: float = 440.0, rate: int = RATE, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def noise(seconds: float, seed: int = 0, rate: int = RATE, amp: float = 0.1) -> np.ndarray:
    return (amp * np.random.RandomState(seed).randn(int(seconds * rate))).astype(np.float32)


def chirps(seconds: float, seed: int = 0, rate: int = RATE) -> np.ndarray:
    """A tone whose pitch changes every second, plus a little noise: every window differs."""
    rng = np.random.RandomState(seed)
    parts = [tone(1.0, float(rng.uniform(150, 3000)), rate) for _ in range(int(np.ceil(seconds)))]
    wave = np.concatenate(parts)[: int(seconds * rate)]
    return (wave + noise(seconds, seed + 1, rate, 0.02)[: len(wave)]).astype(np.float32)


# ---- tokenizers -----------------------------------------------------------------------------


def _bpe(vocab_size: int, specials: list[str]):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS * 10, trainer)
    return tok


def _qwen_audio_tokenizer():
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=_bpe(360, QWEN_AUDIO_SPECIALS),
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=QWEN_AUDIO_SPECIALS[1:],
    )


# ---- Qwen2-Audio ----------------------------------------------------------------------------


def _write_qwen2_audio(out: Path, seed: int) -> None:
    import torch
    from safetensors.torch import save_file
    from transformers import (
        Qwen2AudioConfig,
        Qwen2AudioForConditionalGeneration,
        Qwen2AudioProcessor,
        WhisperFeatureExtractor,
    )

    tokenizer = _qwen_audio_tokenizer()
    processor = Qwen2AudioProcessor(feature_extractor=WhisperFeatureExtractor(), tokenizer=tokenizer)
    config = Qwen2AudioConfig(
        audio_config=dict(
            model_type="qwen2_audio_encoder",
            d_model=16,
            encoder_layers=1,
            encoder_attention_heads=2,
            encoder_ffn_dim=32,
            num_mel_bins=80,
            max_source_positions=1500,
        ),
        text_config=dict(
            model_type="qwen2",
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=32768,
            tie_word_embeddings=False,
        ),
        audio_token_index=tokenizer.convert_tokens_to_ids("<|AUDIO|>"),
    )
    torch.manual_seed(seed)
    model = Qwen2AudioForConditionalGeneration(config).eval()
    gen = model.generation_config
    gen.eos_token_id = tokenizer.convert_tokens_to_ids("<|im_end|>")
    gen.pad_token_id = tokenizer.pad_token_id
    # Sampling defaults like the released checkpoint's: the adapter must override them.
    gen.do_sample, gen.temperature, gen.top_p, gen.top_k = True, 0.7, 0.5, 20
    processor.save_pretrained(out)
    model.save_pretrained(out)
    # Rewrite the weights under the model's own parameter names, so both the direct class and the
    # remote-code (AutoModelForCausalLM) load paths read them without legacy key conversion.
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(out / "model.safetensors"), metadata={"format": "pt"})


@functools.cache
def tiny_root() -> Path:
    return Path(tempfile.mkdtemp(prefix="lmms_tiny_audio_"))


@functools.cache
def build_tiny_qwen2_audio(root: Path | None = None) -> str:
    out = (root or tiny_root()) / "tiny-qwen2-audio"
    out.mkdir(parents=True, exist_ok=True)
    _write_qwen2_audio(out, seed=0)
    return str(out)


AERO_STAND_IN_CODE = '''"""Test stand-in for Aero's remote code: the tiny Qwen2-Audio model and a processor that,
like Aero's, takes its clips as ``audios=`` and exposes its feature extractor as ``audio_processor``."""
from transformers import Qwen2AudioForConditionalGeneration, Qwen2AudioProcessor


class AeroStandInForCausalLM(Qwen2AudioForConditionalGeneration):
    """A subclass, not an alias: aliasing would mark the real class as remote code."""


class AeroStandInProcessor(Qwen2AudioProcessor):
    @property
    def audio_processor(self):
        return self.feature_extractor

    def __call__(self, text=None, audios=None, sampling_rate=None, **kwargs):
        return super().__call__(text=text, audio=audios, sampling_rate=sampling_rate, **kwargs)
'''

# Aero's own default chat template (AeroProcessor.default_chat_template): a default system turn,
# ``<|AUDIO|>`` + newline for every content entry with an ``audio``/``audio_url`` key, text as is.
AERO_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}"
    "{% for part in message['content'] %}"
    "{% if 'audio' in part or 'audio_url' in part %}<|AUDIO|>\n"
    "{% elif 'text' in part %}{{ part['text'] }}{% endif %}"
    "{% endfor %}<|im_end|>\n"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


@functools.cache
def build_aero_stand_in(root: Path | None = None, aero_template: bool = False) -> str:
    """The Aero stand-in checkpoint. ``aero_template=True`` gives it Aero's own chat template
    (``<|AUDIO|>\\n`` per clip); the default keeps Qwen2-Audio's (``Audio N: <|audio_bos|>...``),
    which older tests' token arithmetic relies on."""
    out = (root or tiny_root()) / ("tiny-aero-stand-in" + ("-aero-template" if aero_template else ""))
    out.mkdir(parents=True, exist_ok=True)
    _write_qwen2_audio(out, seed=1)
    if aero_template:
        (out / "chat_template.jinja").write_text(AERO_CHAT_TEMPLATE, encoding="utf-8")
    (out / "aero_stand_in.py").write_text(AERO_STAND_IN_CODE, encoding="utf-8")
    config = json.loads((out / "config.json").read_text())
    config["auto_map"] = {"AutoModelForCausalLM": "aero_stand_in.AeroStandInForCausalLM"}
    (out / "config.json").write_text(json.dumps(config, indent=2))
    proc = json.loads((out / "processor_config.json").read_text())
    proc["auto_map"] = {"AutoProcessor": "aero_stand_in.AeroStandInProcessor"}
    proc["processor_class"] = "AeroStandInProcessor"
    (out / "processor_config.json").write_text(json.dumps(proc, indent=2))
    return str(out)


# ---- Whisper --------------------------------------------------------------------------------


def whisper_special_tokens() -> list[str]:
    """Whisper's special tokens in vocabulary order (they sit at the end of the vocab)."""
    return (
        ["<|endoftext|>", "<|startoftranscript|>"]
        + [f"<|{lang}|>" for lang in WHISPER_LANGS]
        + ["<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>", "<|nocaptions|>", "<|notimestamps|>"]
    )


def _whisper_tokenizer():
    from tokenizers import AddedToken
    from transformers import WhisperTokenizer

    bpe = _bpe(300, [])
    vocab = bpe.get_vocab()
    merges = [
        tuple(m) if not isinstance(m, str) else tuple(m.split(" ")) for m in json.loads(bpe.to_str())["model"]["merges"]
    ]
    tok = WhisperTokenizer(vocab=vocab, merges=merges)
    tok.add_tokens(
        [AddedToken(t, special=True, normalized=False) for t in whisper_special_tokens()], special_tokens=True
    )
    tok.add_tokens([AddedToken("<|%.2f|>" % (i * 0.02), normalized=False) for i in range(1501)])
    return tok


@functools.cache
def build_tiny_whisper(root: Path | None = None) -> str:
    """A tiny multilingual Whisper. Its weights are random except for one change: timestamp
    tokens get a large negative logit (through the final layer norm's bias and their output
    embeddings), so the model never *chooses* a timestamp; the only timestamp in a window is the
    ``<|0.00|>`` that long-form decoding forces first. Long-form decoding then advances by whole
    30 s windows, which makes the number of windows predictable: ceil(seconds / 30)."""
    import torch
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
    )

    out = (root or tiny_root()) / "tiny-whisper"
    out.mkdir(parents=True, exist_ok=True)
    tok = _whisper_tokenizer()
    ids = {t: tok.convert_tokens_to_ids(t) for t in whisper_special_tokens()}
    eot, sot, no_ts = ids["<|endoftext|>"], ids["<|startoftranscript|>"], ids["<|notimestamps|>"]
    first_ts = tok.convert_tokens_to_ids("<|0.00|>")
    assert first_ts == no_ts + 1 and len(tok) == first_ts + 1501, "timestamps must follow <|notimestamps|>"
    space = tok.convert_tokens_to_ids("Ġ")
    config = WhisperConfig(
        vocab_size=len(tok),
        num_mel_bins=80,
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_source_positions=1500,
        max_target_positions=448,
        pad_token_id=eot,
        bos_token_id=eot,
        eos_token_id=eot,
        decoder_start_token_id=sot,
        begin_suppress_tokens=[space, eot],
        suppress_tokens=[],
    )
    torch.manual_seed(0)
    model = WhisperForConditionalGeneration(config).eval()
    with torch.no_grad():
        emb = model.model.decoder.embed_tokens.weight  # tied to proj_out
        emb[:, 0] = 0.0
        emb[first_ts:] = 0.0
        emb[first_ts:, 0] = -3.0
        model.model.decoder.layer_norm.bias[0] = 10.0
        # Random init leaves the decoder nearly deaf to the audio (sinusoidal positions swamp the
        # conv features, cross-attention is tiny); scale both so different clips decode differently.
        model.model.encoder.conv1.weight.mul_(30.0)
        model.model.encoder.conv2.weight.mul_(30.0)
        cross = model.model.decoder.layers[0].encoder_attn
        cross.v_proj.weight.mul_(10.0)
        cross.out_proj.weight.mul_(10.0)
    gen = GenerationConfig(
        decoder_start_token_id=sot,
        bos_token_id=eot,
        eos_token_id=eot,
        pad_token_id=eot,
        max_length=448,
        begin_suppress_tokens=[space, eot],
        suppress_tokens=[],
        is_multilingual=True,
        lang_to_id={f"<|{lang}|>": ids[f"<|{lang}|>"] for lang in WHISPER_LANGS},
        task_to_id={"transcribe": ids["<|transcribe|>"], "translate": ids["<|translate|>"]},
        no_timestamps_token_id=no_ts,
        prev_sot_token_id=ids["<|startofprev|>"],
        max_initial_timestamp_index=50,
        forced_decoder_ids=[[1, None], [2, ids["<|transcribe|>"]]],
        alignment_heads=[[0, 0]],
    )
    model.generation_config = gen
    processor = WhisperProcessor(feature_extractor=WhisperFeatureExtractor(), tokenizer=tok)
    processor.save_pretrained(out)
    model.save_pretrained(out)
    return str(out)


if __name__ == "__main__":  # build all three and print where
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    print(build_tiny_qwen2_audio(), build_aero_stand_in(), build_tiny_whisper(), sep="\n")
