"""The helpers every Hugging Face adapter shares (``lmms_eval.models.hf``), without a model.

Device choice under data parallel is checked with a faked CUDA (``torch.cuda.is_available`` /
``device_count`` / ``is_bf16_supported`` monkeypatched) and torchrun's environment variables.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from lmms_eval.api.errors import UsageError  # noqa: E402
from lmms_eval.api.generation import GenerationParams  # noqa: E402
from lmms_eval.api.registry import MODELS  # noqa: E402
from lmms_eval.models.hf import generation as hg  # noqa: E402
from lmms_eval.models.hf import placement as hp  # noqa: E402
from lmms_eval.models.hf.base import HFModel, HFModelConfig, Job, batch_groups  # noqa: E402

HF_ADAPTERS = ("qwen2_5_vl", "qwen2_vl", "llava_onevision", "llava_vid", "hf_chat", "qwen2_audio", "aero", "whisper")


@pytest.fixture
def fake_gpus(monkeypatch):
    """Pretend ``n`` GPUs are visible (``bf16`` tells whether they support bfloat16)."""

    def install(n: int, bf16: bool = True) -> None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: n > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: n)
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)

    for var in ("WORLD_SIZE", "LOCAL_RANK", "RANK"):
        monkeypatch.delenv(var, raising=False)
    return install


@pytest.mark.parametrize(
    ("env", "gpus", "expected"),
    [
        ({}, 2, "cuda"),  # one process: the current GPU
        ({"WORLD_SIZE": "1", "LOCAL_RANK": "0"}, 2, "cuda"),
        ({"WORLD_SIZE": "4", "LOCAL_RANK": "3", "RANK": "7"}, 4, "cuda:3"),  # torchrun rank 7 on node 2
        ({"WORLD_SIZE": "2", "LOCAL_RANK": "0"}, 2, "cuda:0"),
        ({"WORLD_SIZE": "2", "RANK": "1"}, 2, "cuda:1"),  # no LOCAL_RANK: the rank (one node)
        ({"WORLD_SIZE": "2", "LOCAL_RANK": "1"}, 1, "cuda:0"),  # each process sees only its own GPU
        ({"WORLD_SIZE": "2", "LOCAL_RANK": "1"}, 0, "cpu"),  # data parallel on CPUs (gloo)
        ({}, 0, "cpu"),
    ],
)
def test_auto_device_follows_local_rank_under_torchrun(fake_gpus, monkeypatch, env, gpus, expected):
    fake_gpus(gpus)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert hp.resolve_device("auto") == expected
    assert hp.resolve_device(None) == expected


def test_explicit_devices_and_bad_ranks(fake_gpus, monkeypatch):
    fake_gpus(2)
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert hp.resolve_device("cpu") == "cpu"  # an explicit choice is kept
    assert hp.resolve_device("cuda") == "cuda"
    assert hp.resolve_device("cuda:0") == "cuda:0"
    with pytest.raises(UsageError, match="only 2 GPUs"):
        hp.resolve_device("cuda:2")
    monkeypatch.setenv("LOCAL_RANK", "3")
    with pytest.raises(UsageError, match="LOCAL_RANK=3 but only 2 GPUs.*nproc_per_node"):
        hp.resolve_device("auto")
    monkeypatch.setenv("LOCAL_RANK", "one")
    with pytest.raises(UsageError, match="LOCAL_RANK='one'"):
        hp.resolve_device("auto")
    fake_gpus(0)
    with pytest.raises(UsageError, match="no CUDA GPU"):
        hp.resolve_device("cuda:0")


def test_every_hf_adapter_places_itself_through_the_shared_resolution(fake_gpus, monkeypatch):
    """All HF adapters derive from HFModel, whose __init__ resolves device/dtype/attention once."""
    for name in HF_ADAPTERS:
        assert issubclass(MODELS.get(name), HFModel), name
    fake_gpus(4, bf16=False)
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("LOCAL_RANK", "2")
    model = HFModel(HFModelConfig(pretrained="unused"))  # resolves only; loading is the subclass's
    assert (model.device, model.dtype, model.attn_implementation) == ("cuda:2", torch.float16, "sdpa")
    fake_gpus(4, bf16=True)
    assert HFModel(HFModelConfig(pretrained="unused")).dtype == torch.bfloat16
    with pytest.raises(UsageError, match="unknown dtype"):
        HFModel(HFModelConfig(pretrained="unused", dtype="int3"))


def test_one_batching_path_for_every_hf_adapter():
    """No adapter batches on its own: generate is HFModel's, each adapter only prepares and runs chunks."""
    for name in HF_ADAPTERS:
        cls = MODELS.get(name)
        assert cls.generate is HFModel.generate, name
        assert cls.run_batch is not HFModel.run_batch and cls.request_jobs is not HFModel.request_jobs, name


def test_batch_groups_split_by_parameters_sort_longest_first_and_cap():
    greedy, sampled = GenerationParams(max_new_tokens=4), GenerationParams(temperature=0.5)
    jobs = [
        Job(0, 0, greedy, 3.0, "a"),
        Job(1, 0, sampled, 9.0, "b"),
        Job(2, 0, GenerationParams(max_new_tokens=4), 8.0, "c"),  # equal parameters: same group
        Job(3, 0, greedy, 5.0, "d", group="long"),  # another group key (e.g. Whisper long-form)
        Job(4, 0, greedy, 1.0, "e"),
    ]
    assert [[j.inputs for j in chunk] for chunk in batch_groups(jobs, None)] == [["c", "a", "e"], ["b"], ["d"]]
    assert [[j.inputs for j in chunk] for chunk in batch_groups(jobs, 2)] == [["c", "a"], ["e"], ["b"], ["d"]]


def test_eos_and_pad_ids():
    vocab = {"<|im_end|>": 2, "<|endoftext|>": 0, "a": 5}
    tok = SimpleNamespace(eos_token_id=0, pad_token_id=None, get_vocab=lambda: vocab)
    model = SimpleNamespace(generation_config=SimpleNamespace(eos_token_id=[7, 0], pad_token_id=9))
    assert hg.eos_token_ids(model, tok) == [7, 0]
    assert hg.eos_token_ids(model, tok, extra_tokens=("<|im_end|>", "<|missing|>")) == [7, 0, 2]
    assert hg.pad_token_id(model, tok, [7, 0]) == 9  # no tokenizer pad: the config's
    tok.pad_token_id = 0
    assert hg.pad_token_id(model, tok, [7, 0]) == 0  # the tokenizer's (what the prompt is padded with)
    bare = SimpleNamespace(generation_config=SimpleNamespace(eos_token_id=None, pad_token_id=None))
    assert hg.pad_token_id(bare, SimpleNamespace(pad_token_id=None), [4]) == 4
    # Stop-string padding after an early stop is not counted; a row without EOS keeps its tokens.
    rows = torch.tensor([[5, 6, 0, 0], [5, 2, 0, 0], [5, 6, 7, 8]])
    assert hg.completion_lengths(rows, eos_ids=[2], pad_id=0) == [2, 2, 4]
