"""GenerationParams: one validation, one mapping per backend, side by side."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from lmms_eval.api.errors import UsageError
from lmms_eval.api.generation import GenerationParams

P = GenerationParams.from_kwargs

# (task generation_kwargs, transformers generate kwargs, vLLM SamplingParams kwargs, OpenAI params)
SIDE_BY_SIDE = [
    (
        {},  # nothing asked: greedy everywhere, sent explicitly
        {"do_sample": False, "max_new_tokens": 64, "temperature": None, "top_p": None, "top_k": None},
        {"max_tokens": 64, "temperature": 0.0},
        {"temperature": 0.0},
    ),
    (
        {"max_new_tokens": 16, "temperature": 0, "top_p": 0.9, "until": ["\n\n", "Q:"]},  # greedy: top_p has no effect
        {"do_sample": False, "max_new_tokens": 16, "temperature": None, "top_p": None, "top_k": None},
        {"max_tokens": 16, "temperature": 0.0, "stop": ["\n\n", "Q:"]},
        {"max_tokens": 16, "temperature": 0.0, "stop": ["\n\n", "Q:"]},
    ),
    (
        {"max_gen_toks": 8, "temperature": 0.7, "top_p": 0.9, "top_k": 20, "seed": 3},
        {"do_sample": True, "max_new_tokens": 8, "temperature": 0.7, "top_p": 0.9, "top_k": 20},
        {"max_tokens": 8, "temperature": 0.7, "top_p": 0.9, "top_k": 20, "seed": 3},
        {"max_tokens": 8, "temperature": 0.7, "top_p": 0.9, "seed": 3, "extra_body": {"top_k": 20}},
    ),
    (
        {"do_sample": True},  # sampling without a temperature: 1.0, sent explicitly
        {"do_sample": True, "max_new_tokens": 64, "temperature": 1.0},
        {"max_tokens": 64, "temperature": 1.0},
        {"temperature": 1.0},
    ),
    (
        {"do_sample": False, "temperature": 0.8, "repetition_penalty": 1.1},  # do_sample wins: greedy
        {
            "do_sample": False,
            "max_new_tokens": 64,
            "temperature": None,
            "top_p": None,
            "top_k": None,
            "repetition_penalty": 1.1,
        },
        {"max_tokens": 64, "temperature": 0.0, "repetition_penalty": 1.1},
        {"temperature": 0.0, "extra_body": {"repetition_penalty": 1.1}},
    ),
]


@pytest.mark.parametrize(("kwargs", "hf", "vllm", "openai"), SIDE_BY_SIDE)
def test_each_backend_side_by_side(kwargs, hf, vllm, openai) -> None:
    params = P(kwargs)
    assert params.to_transformers(64) == hf
    assert params.to_vllm(64) == vllm
    assert params.to_openai() == openai


def test_greedy_is_sent_to_apis_when_the_task_gives_nothing() -> None:
    assert P({}).to_openai()["temperature"] == 0.0
    assert P({}).to_openai("max_completion_tokens") == {"temperature": 0.0}
    assert P({"max_new_tokens": 5}).to_openai("max_completion_tokens") == {
        "max_completion_tokens": 5,
        "temperature": 0.0,
    }


def test_unknown_keys_are_rejected_with_did_you_mean() -> None:
    with pytest.raises(UsageError, match="unknown generation parameter 'temprature'.*Did you mean 'temperature'"):
        P({"temprature": 0.2}, "tasks/x.yaml: generation_kwargs")
    with pytest.raises(UsageError, match="image_aspect_ratio"):
        P({"image_aspect_ratio": "pad"})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_new_tokens": 0}, "max_new_tokens"),
        ({"temperature": -1}, "temperature"),
        ({"do_sample": True, "temperature": 0}, "contradictory"),
        ({"until": [1, 2]}, "until"),
        ({"max_new_tokens": 4, "max_gen_toks": 8}, "repeats max_new_tokens"),
    ],
)
def test_bad_values_are_usage_errors(kwargs, match) -> None:
    with pytest.raises(UsageError, match=match):
        P(kwargs)


def test_what_a_backend_cannot_serve_is_refused_not_dropped() -> None:
    beams = P({"num_beams": 4})
    assert beams.to_transformers()["num_beams"] == 4
    for mapping in (lambda p: p.to_vllm(8), lambda p: p.to_openai()):
        with pytest.raises(UsageError, match="num_beams"):
            mapping(beams)
    with pytest.raises(UsageError, match="presence_penalty=0.5 cannot be served by transformers"):
        P({"presence_penalty": 0.5}).to_transformers()
    assert "presence_penalty" not in P({"presence_penalty": 0.0}).to_transformers()  # neutral value: fine
    with pytest.raises(UsageError, match="length_penalty"):
        P({"length_penalty": 2.0}).to_openai()


def test_stop_strings_cut_and_until_normalised() -> None:
    params = P({"until": "Q:"})
    assert params.until == ("Q:",)
    assert params.cut("answer B\nQ: next") == "answer B\n"
    assert P({"until": ["\n", "."]}).cut("a. b\nc") == "a"
    assert P({}).cut("unchanged") == "unchanged"
    assert P({"until": ["", "x"]}).until == ("x",)


def test_merged_overrides_and_resolved_record() -> None:
    task = P({"max_new_tokens": 8, "temperature": 0.5})
    merged = task.merged({"temperature": 0})
    assert merged.max_new_tokens == 8 and merged.temperature == 0 and not merged.sampling
    assert merged.resolved() == {"max_new_tokens": 8, "do_sample": False}
    assert task.resolved() == {"max_new_tokens": 8, "temperature": 0.5, "do_sample": True}
    assert P({}).with_default_max_new_tokens(32).max_new_tokens == 32
    assert P({"max_new_tokens": 4}).with_default_max_new_tokens(32).max_new_tokens == 4
    with pytest.raises(UsageError, match="--gen_kwargs"):
        task.merged({"bogus": 1})
    with pytest.raises(ValidationError, match="frozen"):  # frozen: shared by every request of a task
        task.temperature = 1.0  # type: ignore[misc]
