"""``output_type: multiple_choice``: likelihood scoring by the HF adapters and vLLM, and its routing.

The HF checks run the tiny random Qwen2.5-VL of ``tiny_vision`` (real processor, chat template and
forward on CPU): the adapter's losses equal a hand computation with the model's own forward and
``log_softmax``, and neither the adapter's nor the Evaluator's batch size changes them. The engine
checks use a scripted model; the vLLM checks a stand-in engine that reports prompt log-probs.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("torchvision")

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))

import tiny_vision as tv  # noqa: E402
import torch  # noqa: E402
from scripted_model import ScriptedModel  # noqa: E402

from lmms_eval.api.errors import UsageError  # noqa: E402
from lmms_eval.api.messages import Image, Message, Text  # noqa: E402
from lmms_eval.api.model import Model, ModelConfig, choice_response, option_letter  # noqa: E402
from lmms_eval.api.request import Request, Response  # noqa: E402
from lmms_eval.engine.evaluator import Evaluator  # noqa: E402
from lmms_eval.engine.preflight import call_isolated  # noqa: E402
from lmms_eval.engine.run_config import RunConfig  # noqa: E402
from lmms_eval.models.qwen2_5_vl import Qwen2_5_VL  # noqa: E402

QUESTION = "Question: which option is correct?"
OPTIONS = [["cat", "dog"], ["a red square", "a green circle", "blue"], ["fish", "bird", "the lazy dog", "7"]]


@pytest.fixture(scope="module")
def qwen() -> Qwen2_5_VL:
    model = Qwen2_5_VL.from_args(f"pretrained={tv.tiny_qwen2_5_vl()},device=cpu,dtype=float32")
    assert isinstance(model, Qwen2_5_VL)
    return model


def choice_request(doc_id: int, image: Any, options: list[str]) -> Request:
    return Request("t", doc_id, [Message("user", [Image(data=image), Text(QUESTION)])], choices=options)


# ---- the contract -------------------------------------------------------------------------------


def test_choice_response_picks_the_lowest_mean_loss_first_on_ties() -> None:
    # losses: 6/3 = 2.0, 4/2 = 2.0, 9/3 = 3.0 -> a tie between A and B; the first (A) wins.
    out = choice_response([-6.0, -4.0, -9.0], [3, 2, 3], prompt_tokens=10)
    assert out.text == "A" and out.extra["choice"] == 0 and out.extra["choice_losses"] == [2.0, 2.0, 3.0]
    # summed log-prob would prefer B (-4 > -6); the mean loss prefers C: 5/5 = 1.0 < 4/2 = 2.0.
    assert choice_response([-6.0, -4.0, -5.0], [3, 2, 5]).text == "C"
    assert [option_letter(i) for i in (0, 25, 26, 27)] == ["A", "Z", "AA", "AB"]
    with pytest.raises(ValueError):
        choice_response([-1.0], [0])


# ---- HF: hand computation and batch invariance --------------------------------------------------


def hand_logprob(model: Qwen2_5_VL, image: Any, option: str) -> tuple[float, int]:
    """The option's summed log-prob and token count, computed here from the processor and forward."""
    proc = model.processor
    user = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": QUESTION}]}]
    reply = [*user, {"role": "assistant", "content": [{"type": "text", "text": option}]}]
    prompt = proc.apply_chat_template(user, tokenize=False, add_generation_prompt=True)
    full = proc.apply_chat_template(reply, tokenize=False, add_generation_prompt=False)
    assert full.startswith(prompt) and full.endswith("<|im_end|>\n")  # the template closes the turn
    n_prompt = proc(text=[prompt], images=[[image]], return_tensors="pt")["input_ids"].shape[1]
    inputs = proc(text=[full], images=[[image]], return_tensors="pt")
    with torch.no_grad():
        logits = model.model(**inputs).logits[0].float()
    ids = inputs["input_ids"][0]
    logp = torch.log_softmax(logits, dim=-1)
    total = sum(float(logp[pos - 1, ids[pos]]) for pos in range(n_prompt, len(ids)))
    return total, len(ids) - n_prompt


def test_losses_equal_a_hand_computation(qwen: Qwen2_5_VL) -> None:
    image = tv.make_images(1)[0].convert("RGB")
    options = ["cat", "a green circle", "7"]
    (out,) = qwen.score_choices([choice_request(0, image, options)])
    assert out.error is None, out.error
    hand = [hand_logprob(qwen, image, option) for option in options]
    assert out.extra["choice_tokens"] == [n for _, n in hand]
    assert out.extra["choice_logprobs"] == pytest.approx([lp for lp, _ in hand], abs=1e-4)
    losses = [-lp / n for lp, n in hand]
    assert out.extra["choice"] == losses.index(min(losses)) and out.text == "ABC"[out.extra["choice"]]


def test_same_choices_and_losses_at_batch_1_and_3(qwen: Qwen2_5_VL) -> None:
    images = tv.make_images(3)
    requests = [choice_request(i, images[i], OPTIONS[i]) for i in range(3)]
    try:
        qwen.max_batch_size = None  # all 9 rows of the 3 requests in one forward
        together = qwen.score_choices(requests)
        qwen.max_batch_size = 1  # one row per forward
        alone = qwen.score_choices(requests)
        qwen.max_batch_size = 3
        by_three = qwen.score_choices(requests)
    finally:
        qwen.max_batch_size = None
    assert [r.batch_size for r in together] == [3, 3, 3] and all(r.batch_size == 1 for r in alone)
    for a, b, c in zip(together, alone, by_three):
        assert a.error is None and a.text == b.text == c.text
        assert a.extra["choice_tokens"] == b.extra["choice_tokens"] == c.extra["choice_tokens"]
        assert a.extra["choice_losses"] == pytest.approx(b.extra["choice_losses"], abs=1e-4)
        assert a.extra["choice_losses"] == pytest.approx(c.extra["choice_losses"], abs=1e-4)


def test_an_empty_option_fails_only_its_request(qwen: Qwen2_5_VL) -> None:
    images = tv.make_images(2)
    bad, good = qwen.score_choices([choice_request(0, images[0], ["cat", ""]), choice_request(1, images[1], ["dog"])])
    # "" still adds the end-of-turn tokens, so it is scored; a missing options list is an error instead.
    assert bad.error is None and good.error is None
    (none,) = qwen.score_choices([Request("t", 2, [Message("user", [Text(QUESTION)])], choices=[])])
    assert none.error == "t doc 2: a multiple_choice request has no options"


# ---- through the Evaluator -----------------------------------------------------------------------


def write_tasks(root: Path) -> None:
    """A multiple_choice task with images (4 docs) and a generation task (3 docs) as local JSON."""
    (root / "data").mkdir(parents=True, exist_ok=True)
    with open(root / "data" / "mc.jsonl", "w", encoding="utf-8") as fh:
        for i, image in enumerate(tv.make_images(4, seed=3)):
            path = root / "data" / f"img{i}.png"
            image.save(path)
            options = OPTIONS[i % 3]
            fh.write(json.dumps({"id": f"m{i}", "image": str(path), "options": options, "answer": "A"}) + "\n")
    (root / "mc_task.yaml").write_text(
        "task: mc_task\ndataset_path: json\ndataset_kwargs: {data_files: data/mc.jsonl}\ntest_split: train\n"
        "doc_id_column: id\noutput_type: multiple_choice\ndoc_to_visual: image\n"
        f"doc_to_text: '{QUESTION}'\ndoc_to_choice: options\ndoc_to_target: answer\n"
        "metric_list: [{metric: exact_match}]\n",
        encoding="utf-8",
    )
    with open(root / "data" / "gen.jsonl", "w", encoding="utf-8") as fh:
        for i in range(3):
            fh.write(json.dumps({"id": f"g{i}", "question": f"say word{i}", "answer": f"word{i}"}) + "\n")
    (root / "gen_task.yaml").write_text(
        "task: gen_task\ndataset_path: json\ndataset_kwargs: {data_files: data/gen.jsonl}\ntest_split: train\n"
        "doc_id_column: id\ndoc_to_text: '{{question}}'\ndoc_to_target: answer\n"
        "metric_list: [{metric: exact_match}]\ngeneration_kwargs: {max_new_tokens: 4}\n",
        encoding="utf-8",
    )


def run_tasks(model: Model[Any] | None, name: str, root: Path, tasks: list[str], batch_size: int, out: Path) -> Any:
    cfg = RunConfig(
        model=name,
        tasks=tasks,
        include_path=[str(root)],
        output_path=str(out),
        batch_size=batch_size,
        show_progress=False,
    )
    if model is None:
        return Evaluator(cfg).run()
    model.close = lambda: None  # type: ignore[method-assign]  # one loaded model serves every run
    try:
        return Evaluator(cfg, model=model).run()
    finally:
        del model.close


def records(run_dir: str, task: str) -> dict[str, dict[str, Any]]:
    lines = (Path(run_dir) / f"samples_{task}.jsonl").read_text(encoding="utf-8").splitlines()
    return {str(row["doc_id"]): row for row in map(json.loads, lines)}


def test_evaluator_batch_size_1_and_3_agree(qwen: Qwen2_5_VL, tmp_path: Path) -> None:
    write_tasks(tmp_path / "tasks")
    one = run_tasks(qwen, "qwen2_5_vl", tmp_path / "tasks", ["mc_task"], 1, tmp_path / "b1")
    three = run_tasks(qwen, "qwen2_5_vl", tmp_path / "tasks", ["mc_task"], 3, tmp_path / "b3")
    a, b = records(one.run_dir, "mc_task"), records(three.run_dir, "mc_task")
    assert sorted(a) == ["m0", "m1", "m2", "m3"]
    for doc in a:
        assert a[doc]["error"] is None and a[doc]["raw_output"] in "ABCD"
        assert a[doc]["raw_output"] == b[doc]["raw_output"]
        assert a[doc]["extra"]["choice_losses"] == pytest.approx(b[doc]["extra"]["choice_losses"], abs=1e-4)
    assert max(r["usage"]["batch_size"] or 0 for r in b.values()) > 1  # the batch-3 run did share forwards


class NeverLoads(Model[ModelConfig]):
    """A model without likelihood scoring whose construction would fail loudly."""

    name: ClassVar[str] = "never_loads"
    modalities: ClassVar[frozenset[str]] = frozenset({"text", "image"})

    def __init__(self, config: ModelConfig | None = None) -> None:
        raise AssertionError("the model was loaded")


def test_a_model_that_cannot_score_options_is_refused_before_loading(tmp_path: Path) -> None:
    write_tasks(tmp_path / "tasks")
    with pytest.raises(UsageError) as err:
        run_tasks(None, "test_multiple_choice:NeverLoads", tmp_path / "tasks", ["gen_task", "mc_task"], 1, tmp_path)
    message = str(err.value)
    assert message.startswith(
        "model 'never_loads' cannot score options (multiple_choice task 'mc_task'); use hf_chat/qwen2_5_vl/"
    )
    assert message.endswith(" or vllm") and "\n" not in message
    assert not any(tmp_path.glob("**/samples_*.jsonl"))  # nothing was run
    with pytest.raises(UsageError, match="cannot score options"):
        ScriptedModel().score_choices([choice_request(0, None, ["x"])])


# ---- mixed batches (scripted model) ----------------------------------------------------------------


class ScriptedChooser(ScriptedModel):
    """Scores options by a rule: the longest option wins (loss = 1 / length); fails docs in ``fail_on``."""

    scores_choices: ClassVar[bool] = True

    def __init__(self, config: Any = None) -> None:
        super().__init__(config)
        self.choice_calls: list[int] = []

    def score_choices(self, requests: Sequence[Request]) -> list[Response]:
        self.choice_calls.append(len(requests))
        if any(str(r.doc_id) in self.config.fail_on.split(",") for r in requests):
            raise RuntimeError("scripted failure")
        return [choice_response([-1.0] * len(r.choices or []), [len(o) for o in r.choices or []]) for r in requests]


def test_call_isolated_routes_a_mixed_batch_and_keeps_order() -> None:
    model = ScriptedChooser(ScriptedChooser.Config(fail_on="bad"))
    gen = [Request("g", i, [Message("user", [Text(f"say w{i}")])]) for i in range(2)]
    mc = [Request("m", doc, [Message("user", [Text("pick")])], choices=["a", "bbb", "cc"]) for doc in ("ok", "bad")]
    out = call_isolated(model, [mc[0], gen[0], mc[1], gen[1]])
    # 1/len: a=1.0, bbb=0.33, cc=0.5 -> B
    assert [r.text for r in out] == ["B", "w0", "", "w1"]
    assert out[2].error == "RuntimeError: scripted failure"  # the bad doc fails alone after the retry
    assert model.calls == [2] and model.choice_calls == [2, 1, 1]


def test_a_run_mixing_a_generate_task_and_a_multiple_choice_task(tmp_path: Path) -> None:
    write_tasks(tmp_path / "tasks")
    model = ScriptedChooser()
    outcome = run_tasks(model, "scripted", tmp_path / "tasks", ["gen_task", "mc_task"], 4, tmp_path / "out")
    gen, mc = records(outcome.run_dir, "gen_task"), records(outcome.run_dir, "mc_task")
    assert {d: r["raw_output"] for d, r in gen.items()} == {"g0": "word0", "g1": "word1", "g2": "word2"}
    # longest option: OPTIONS[0] -> dog (B: tie 3/3, first wins -> A "cat"), [1] -> "a green circle" (B),
    # [2] -> "the lazy dog" (C); docs m0..m3 use OPTIONS[0], [1], [2], [0].
    assert {d: r["raw_output"] for d, r in mc.items()} == {"m0": "A", "m1": "B", "m2": "C", "m3": "A"}
    assert outcome.results["results"]["gen_task"]["exact_match,none"] == 1.0
    assert outcome.results["results"]["mc_task"]["exact_match,none"] == 0.5  # A is the answer of every doc


# ---- vLLM: prompt_logprobs conversion (stand-in engine) ---------------------------------------------


def fake_logprob(token: int) -> float:
    """The stand-in engine's log-prob of an actual prompt token."""
    return -((token % 7) + 1) / 10


class LogprobLLM:
    """A ``vllm.LLM`` stand-in: tokenises each prompt with the checkpoint's tokenizer and reports
    per position ``{actual: Logprob, decoy: Logprob}`` (None at position 0), as vLLM does."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.params: list[Any] = []

    def generate(self, prompts: list[dict[str, Any]], params: Any, use_tqdm: bool = False) -> list[Any]:
        self.params.extend(params)
        outputs = []
        for prompt in prompts:
            ids = self.tokenizer(prompt["prompt"], add_special_tokens=False)["input_ids"]
            entries = [None] + [
                {tok: SimpleNamespace(logprob=fake_logprob(tok)), tok + 1: SimpleNamespace(logprob=-0.01)}
                for tok in ids[1:]
            ]
            first = SimpleNamespace(text="x", token_ids=[1], finish_reason="length")
            outputs.append(SimpleNamespace(prompt_token_ids=ids, prompt_logprobs=entries, outputs=[first]))
        return outputs


def test_vllm_scores_the_option_tokens_from_prompt_logprobs(monkeypatch: pytest.MonkeyPatch) -> None:
    from transformers import AutoProcessor

    from lmms_eval.models import vllm_engine as ve

    tokenizer = AutoProcessor.from_pretrained(tv.tiny_qwen2_5_vl()).tokenizer
    engines: list[LogprobLLM] = []
    monkeypatch.setattr(ve, "require_vllm", lambda: SimpleNamespace(__version__="stand-in"))

    def make_engine(kwargs: dict[str, Any]) -> LogprobLLM:
        engines.append(LogprobLLM(tokenizer))
        return engines[-1]

    monkeypatch.setattr(ve, "make_vllm_engine", make_engine)
    model = ve.VLLM.from_args(f"pretrained={tv.tiny_qwen2_5_vl()}")
    options = ["cat", "the lazy dog"]
    text_only = Request("t", 0, [Message("user", [Text(QUESTION)])], choices=options)
    out, empty = model.score_choices([text_only, Request("t", 1, [Message("user", [Text("q")])], choices=[])])
    assert empty.error == "t doc 1: a multiple_choice request has no options"
    assert out.error is None, out.error
    # By hand: the option's tokens are what "...<|im_start|>assistant\n{option}<|im_end|>\n" adds.
    for k, option in enumerate(options):
        continuation = tokenizer(f"{option}<|im_end|>\n", add_special_tokens=False)["input_ids"]
        assert out.extra["choice_tokens"][k] == len(continuation)
        assert out.extra["choice_logprobs"][k] == pytest.approx(sum(fake_logprob(t) for t in continuation))
    losses = out.extra["choice_losses"]
    assert out.text == "AB"[losses.index(min(losses))]
    assert engines[0].params == [{"max_tokens": 1, "temperature": 0.0, "prompt_logprobs": 1}] * 2


def test_vllm_conversion_rejects_misaligned_engine_tokens() -> None:
    from lmms_eval.api.errors import SampleError
    from lmms_eval.models.vllm_replicas import Generated, actual_prompt_logprobs, continuation_logprob

    entries = [None, {5: SimpleNamespace(logprob=-0.5), 9: SimpleNamespace(logprob=-0.1)}, {6: -0.25}]
    assert actual_prompt_logprobs([4, 5, 6], entries) == [None, -0.5, -0.25]
    gen = Generated("x", 3, 1, prompt_token_ids=[4, 5, 6], prompt_logprobs=[None, -0.5, -0.25])
    assert continuation_logprob(gen, [5, 6], "t doc 0", 0) == -0.75  # -0.5 + -0.25: the last two positions
    with pytest.raises(SampleError, match="are not the option's"):
        continuation_logprob(gen, [7, 6], "t doc 0", 1)
    gap = Generated("x", 3, 1, prompt_token_ids=[4, 5, 6], prompt_logprobs=[None, None, -0.2])
    with pytest.raises(SampleError, match="no log-prob"):
        continuation_logprob(gap, [5, 6], "t doc 0", 0)


# ---- audio adapters (qwen2_audio; aero through its remote-code stand-in) ---------------------------


@pytest.mark.parametrize("name", ["qwen2_audio", "aero"])
def test_audio_adapters_score_options_the_same_at_any_batch_size(name: str) -> None:
    from tiny_audio import build_aero_stand_in, build_tiny_qwen2_audio, tone

    from lmms_eval.api.messages import Audio
    from lmms_eval.api.registry import MODELS

    path = build_tiny_qwen2_audio() if name == "qwen2_audio" else build_aero_stand_in()
    model = MODELS.get(name).from_args(f"device=cpu,pretrained={path}")
    requests = [
        Request(
            "t",
            i,
            [
                Message(
                    "user",
                    [
                        Audio(array=tone(1.0 + i, 300.0 * (i + 1)), sampling_rate=16000),
                        Text("which option is correct?"),
                    ],
                )
            ],
            choices=OPTIONS[i],
        )  # fmt: skip
        for i in range(3)
    ]
    together = model.score_choices(requests)
    model.max_batch_size = 1
    alone = model.score_choices(requests)
    for a, b in zip(together, alone):
        assert a.error is None, a.error
        assert a.text == b.text and a.extra["choice_tokens"] == b.extra["choice_tokens"]
        assert min(a.extra["choice_tokens"]) >= 2  # the option and the end-of-turn token at least
        assert a.extra["choice_losses"] == pytest.approx(b.extra["choice_losses"], abs=1e-4)
        assert a.extra["audio_seconds"] > 0  # the generation path's extra is kept
