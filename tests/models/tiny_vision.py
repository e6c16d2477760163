"""Tiny randomly initialised vision-language checkpoints, built offline for tests.

Each builder writes a complete Hugging Face checkpoint folder (config, safetensors weights,
tokenizer, image/video processor, chat template) that the adapters load through their real
``from_pretrained`` path, so the real processor and ``generate`` code run on CPU in seconds.

The tokenizer is a byte-level BPE trained here with the ``tokenizers`` library on a few
sentences and wrapped as a :class:`~transformers.PreTrainedTokenizerFast`; the chat templates
are minimal Jinja templates written for these tests in the shape the real checkpoints use
(ChatML turns; ``<|vision_start|><|image_pad|><|vision_end|>`` for Qwen, ``<image>`` for LLaVA).

Builders are cached per process (``functools.cache``) and under one temporary root, so a
pytest session builds each model once. ``build_tiny_qwen2_5_vl(root)`` etc. take an explicit
root for scripts; :func:`tiny_root` gives the shared per-session folder.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from pathlib import Path

CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "What is shown in the image? Answer with a single word.",
    "Describe the video in one sentence. How many frames are there?",
    "A red square, a green circle and a blue triangle on a white background.",
    "Question: which option is correct? A. cat B. dog C. bird D. fish",
    "system user assistant hello world 0 1 2 3 4 5 6 7 8 9",
]

QWEN_SPECIALS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
]
LLAVA_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<image>", "<video>"]

# Minimal ChatML templates written for the tests. Media parts become the placeholder the
# processor expands; the Qwen one adds a default system turn like the released checkpoints.
QWEN_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif part['type'] == 'video' %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
LLAVA_TEMPLATE = (
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<image>\n"
    "{% elif part['type'] == 'video' %}<video>\n"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


@functools.cache
def tiny_root() -> Path:
    """One temporary folder per process holding every tiny checkpoint (removed at exit)."""
    root = Path(tempfile.mkdtemp(prefix="lmms_eval_tiny_vision_"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return root


def train_tokenizer(specials: list[str], vocab_size: int = 320):
    """A byte-level BPE trained offline on :data:`CORPUS`, wrapped for transformers.

    Special tokens get the lowest ids (in the order given), so ``<|endoftext|>`` is 0.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS * 4, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
        additional_special_tokens=[s for s in specials if s not in ("<|endoftext|>", "<|im_end|>")],
    )


def _randomise(model, seed: int, std: float) -> None:
    """Re-draw every weight matrix from N(0, std) with a fixed seed.

    The default init (std 0.02) gives a tiny model whose next token hardly depends on the
    context; a larger spread makes outputs depend on the whole prompt, so padding or masking
    mistakes change them (the batch-equality tests rely on that).
    """
    import torch

    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, param in sorted(model.named_parameters()):
            if param.dim() >= 2:
                param.copy_((torch.randn(param.shape, generator=gen) * std).to(param.device, param.dtype))


def _save(model, path: Path) -> None:
    """``save_pretrained`` even if another test registered the class as remote code.

    Loading a remote-code checkpoint whose ``auto_map`` points at a plain alias of a
    ``transformers`` class marks that class with ``_auto_class``; ``save_pretrained`` would then
    try to copy "custom code" for a built-in class and fail. Clear the mark while saving.
    """
    cls = type(model)
    mark = cls.__dict__.get("_auto_class")
    if mark is not None:
        cls._auto_class = None
    try:
        model.save_pretrained(path)
    finally:
        if mark is not None:
            cls._auto_class = mark


def _pad_vocab(n: int) -> int:
    return ((n + 63) // 64) * 64


def build_tiny_qwen2_5_vl(
    root: str | os.PathLike,
    *,
    hidden: int = 64,
    layers: int = 2,
    heads: int = 4,
    vision_hidden: int = 32,
    vision_depth: int = 2,
    vision_heads: int = 2,
    seed: int = 0,
    init_std: float = 0.1,
    qwen2: bool = False,
    device: str = "cpu",
    dtype: str = "float32",
    image_max_pixels: int = 28 * 28 * 16,
) -> str:
    """Write a tiny random Qwen2.5-VL (or Qwen2-VL with ``qwen2=True``) checkpoint; return its path.

    The model is built on ``device`` and saved in ``dtype``; ``image_max_pixels`` is the image
    processor's budget (28x28 pixels per visual token).
    """
    import torch
    from transformers import Qwen2VLImageProcessor, Qwen2VLVideoProcessor

    name = "tiny-qwen2-vl" if qwen2 else f"tiny-qwen2.5-vl-h{hidden}-l{layers}-v{vision_hidden}x{vision_depth}"
    path = Path(root) / f"{name}-{dtype}-p{image_max_pixels}"
    if (path / "config.json").exists():
        return str(path)
    tokenizer = train_tokenizer(QWEN_SPECIALS)
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in QWEN_SPECIALS}
    head_dim = hidden // heads
    # mrope sections (temporal, height, width) sum to head_dim / 2.
    quarter = head_dim // 4
    mrope = [head_dim // 2 - 2 * quarter, quarter, quarter]
    text = dict(
        vocab_size=_pad_vocab(len(tokenizer)),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=max(1, heads // 2),
        max_position_embeddings=4096,
        rope_scaling={"type": "mrope", "mrope_section": mrope},
        rope_theta=10000.0,
        bos_token_id=None,
        eos_token_id=ids["<|im_end|>"],
        pad_token_id=ids["<|endoftext|>"],
    )
    common = dict(
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        eos_token_id=ids["<|im_end|>"],
        pad_token_id=ids["<|endoftext|>"],
    )
    if qwen2:
        from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration, Qwen2VLProcessor

        vision = dict(
            depth=vision_depth,
            embed_dim=vision_hidden,
            hidden_size=hidden,
            num_heads=vision_heads,
            mlp_ratio=2,
            patch_size=14,
            spatial_merge_size=2,
            temporal_patch_size=2,
        )
        config = Qwen2VLConfig(text_config=text, vision_config=vision, **common)
        model_cls, proc_cls = Qwen2VLForConditionalGeneration, Qwen2VLProcessor
    else:
        from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration, Qwen2_5_VLProcessor

        vision = dict(
            depth=vision_depth,
            hidden_size=vision_hidden,
            intermediate_size=vision_hidden * 2,
            num_heads=vision_heads,
            out_hidden_size=hidden,
            patch_size=14,
            spatial_merge_size=2,
            temporal_patch_size=2,
            window_size=112,
            fullatt_block_indexes=[vision_depth - 1],
            tokens_per_second=2,
        )
        config = Qwen2_5_VLConfig(text_config=text, vision_config=vision, **common)
        model_cls, proc_cls = Qwen2_5_VLForConditionalGeneration, Qwen2_5_VLProcessor
    with torch.device(device):
        model = model_cls(config).eval()
    _randomise(model, seed, init_std)
    model = model.to(getattr(torch, dtype))
    model.generation_config.eos_token_id = ids["<|im_end|>"]
    model.generation_config.pad_token_id = ids["<|endoftext|>"]
    # Small pixel budgets keep the number of visual tokens (and CPU time) low.
    image_processor = Qwen2VLImageProcessor(min_pixels=28 * 28 * 4, max_pixels=image_max_pixels)
    video_processor = Qwen2VLVideoProcessor(min_pixels=28 * 28 * 4, max_pixels=28 * 28 * 4)
    processor = proc_cls(
        image_processor=image_processor,
        tokenizer=tokenizer,
        video_processor=video_processor,
        chat_template=QWEN_TEMPLATE,
    )
    _save(model, path)
    processor.save_pretrained(path)
    return str(path)


def build_tiny_llava_onevision(
    root: str | os.PathLike, *, hidden: int = 64, layers: int = 2, seed: int = 0, init_std: float = 0.1
) -> str:
    """Write a tiny random LLaVA-OneVision checkpoint (tiny SigLIP + Qwen2 text); return its path."""
    from transformers import (
        LlavaOnevisionConfig,
        LlavaOnevisionForConditionalGeneration,
        LlavaOnevisionImageProcessor,
        LlavaOnevisionProcessor,
        LlavaOnevisionVideoProcessor,
    )

    path = Path(root) / f"tiny-llava-onevision-h{hidden}-l{layers}"
    if (path / "config.json").exists():
        return str(path)
    tokenizer = train_tokenizer(LLAVA_SPECIALS)
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in LLAVA_SPECIALS}
    image_size, patch = 28, 7  # 4x4 = 16 patches per tile
    vision = dict(
        model_type="siglip_vision_model",
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        image_size=image_size,
        patch_size=patch,
    )
    text = dict(
        model_type="qwen2",
        vocab_size=_pad_vocab(len(tokenizer)),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        eos_token_id=ids["<|im_end|>"],
        pad_token_id=ids["<|endoftext|>"],
        bos_token_id=None,
    )
    pinpoints = [[28, 28], [28, 56], [56, 28], [56, 56]]
    config = LlavaOnevisionConfig(
        vision_config=vision,
        text_config=text,
        image_token_index=ids["<image>"],
        video_token_index=ids["<video>"],
        image_grid_pinpoints=pinpoints,
        vision_feature_select_strategy="full",
        vision_feature_layer=-1,
        vision_aspect_ratio="anyres_max_9",
    )
    model = LlavaOnevisionForConditionalGeneration(config).eval()
    _randomise(model, seed, init_std)
    model.generation_config.eos_token_id = ids["<|im_end|>"]
    model.generation_config.pad_token_id = ids["<|endoftext|>"]
    size = {"height": image_size, "width": image_size}
    image_processor = LlavaOnevisionImageProcessor(size=size, image_grid_pinpoints=pinpoints)
    video_processor = LlavaOnevisionVideoProcessor(size=size)
    processor = LlavaOnevisionProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        video_processor=video_processor,
        num_image_tokens=(image_size // patch) ** 2,
        vision_feature_select_strategy="full",
        chat_template=LLAVA_TEMPLATE,
        vision_aspect_ratio="anyres_max_9",
    )
    _save(model, path)
    processor.save_pretrained(path)
    return str(path)


@functools.cache
def tiny_qwen2_5_vl() -> str:
    """The session's cached tiny Qwen2.5-VL checkpoint folder."""
    return build_tiny_qwen2_5_vl(tiny_root())


@functools.cache
def tiny_qwen2_vl() -> str:
    """The session's cached tiny Qwen2-VL checkpoint folder."""
    return build_tiny_qwen2_5_vl(tiny_root(), qwen2=True)


@functools.cache
def tiny_llava_onevision() -> str:
    """The session's cached tiny LLaVA-OneVision checkpoint folder."""
    return build_tiny_llava_onevision(tiny_root())


def make_images(n: int = 3, seed: int = 0) -> list:
    """Deterministic RGB PIL images of different sizes and content."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    sizes = [(56, 56), (84, 56), (56, 112), (70, 42), (112, 84)]
    out = []
    for i in range(n):
        w, h = sizes[i % len(sizes)]
        out.append(Image.fromarray(rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)))
    return out


def make_frames(n: int = 8, size: tuple[int, int] = (56, 56), seed: int = 1) -> list:
    """Deterministic video frames as RGB PIL images (a bright bar moving right)."""
    import numpy as np
    from PIL import Image

    w, h = size
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 80, size=(h, w, 3), dtype=np.uint8)
    frames = []
    for i in range(n):
        arr = base.copy()
        x = (i * w) // max(n, 1)
        arr[:, x : x + max(2, w // n)] = 255
        frames.append(Image.fromarray(arr))
    return frames


def write_video(path: str | os.PathLike, frames: list, fps: float = 4.0) -> str | None:
    """Encode frames to an mp4 with OpenCV if it is installed; return the path, or None."""
    try:
        import cv2
        import numpy as np
    except ImportError:
        return None
    first = np.asarray(frames[0])
    h, w = first.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    if not writer.isOpened():
        return None
    for frame in frames:
        writer.write(cv2.cvtColor(np.asarray(frame), cv2.COLOR_RGB2BGR))
    writer.release()
    return str(path)


QWEN_AUDIO_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|audio_bos|>", "<|audio_eos|>", "<|AUDIO|>"]
QWEN_AUDIO_TEMPLATE = (
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'audio' %}<|audio_bos|><|AUDIO|><|audio_eos|>\n"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_tiny_qwen2_audio(
    root: str | os.PathLike, *, hidden: int = 64, seed: int = 0, init_std: float = 0.1, chunk_seconds: int = 2
) -> str:
    """Write a tiny random Qwen2-Audio checkpoint (2-second audio window); return its path."""
    from transformers import (
        Qwen2AudioConfig,
        Qwen2AudioForConditionalGeneration,
        Qwen2AudioProcessor,
        WhisperFeatureExtractor,
    )

    path = Path(root) / f"tiny-qwen2-audio-h{hidden}"
    if (path / "config.json").exists():
        return str(path)
    tokenizer = train_tokenizer(QWEN_AUDIO_SPECIALS)
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in QWEN_AUDIO_SPECIALS}
    frames = chunk_seconds * 100  # 10 ms hop
    audio = dict(
        model_type="qwen2_audio_encoder",
        d_model=32,
        encoder_layers=1,
        encoder_attention_heads=2,
        encoder_ffn_dim=64,
        num_mel_bins=128,
        max_source_positions=frames // 2,
    )
    text = dict(
        model_type="qwen2",
        vocab_size=_pad_vocab(len(tokenizer)),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        eos_token_id=ids["<|im_end|>"],
        pad_token_id=ids["<|endoftext|>"],
        bos_token_id=None,
    )
    config = Qwen2AudioConfig(audio_config=audio, text_config=text, audio_token_index=ids["<|AUDIO|>"])
    model = Qwen2AudioForConditionalGeneration(config).eval()
    _randomise(model, seed, init_std)
    model.generation_config.eos_token_id = ids["<|im_end|>"]
    model.generation_config.pad_token_id = ids["<|endoftext|>"]
    feature_extractor = WhisperFeatureExtractor(feature_size=128, chunk_length=chunk_seconds, sampling_rate=16000)
    processor = Qwen2AudioProcessor(
        feature_extractor=feature_extractor, tokenizer=tokenizer, chat_template=QWEN_AUDIO_TEMPLATE
    )
    _save(model, path)
    processor.save_pretrained(path)
    return str(path)


@functools.cache
def tiny_qwen2_audio() -> str:
    """The session's cached tiny Qwen2-Audio checkpoint folder."""
    return build_tiny_qwen2_audio(tiny_root())


def make_tone(seconds: float = 1.0, freq: float = 440.0, rate: int = 16000):
    """A sine tone as a float32 waveform."""
    import numpy as np

    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


TEXT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}{% if part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_tiny_text_lm(root: str | os.PathLike, *, hidden: int = 64, seed: int = 0, init_std: float = 0.1) -> str:
    """Write a tiny random Qwen2 causal LM with a chat-templated tokenizer (no processor); return its path."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    path = Path(root) / f"tiny-qwen2-text-h{hidden}"
    if (path / "config.json").exists():
        return str(path)
    tokenizer = train_tokenizer(["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
    tokenizer.chat_template = TEXT_TEMPLATE
    config = Qwen2Config(
        vocab_size=_pad_vocab(len(tokenizer)),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
    )
    model = Qwen2ForCausalLM(config).eval()
    _randomise(model, seed, init_std)
    _save(model, path)
    tokenizer.save_pretrained(path)
    return str(path)


@functools.cache
def tiny_text_lm() -> str:
    """The session's cached tiny text-only chat LM folder."""
    return build_tiny_text_lm(tiny_root())
