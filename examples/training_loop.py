"""Evaluate a model every N steps of a training loop, in memory, with ``lmms_eval.evaluate``.

A tiny Qwen2 language model (random weights, a tokenizer trained on the spot) learns to answer
"Say w7" with "w7"; every ``--every`` steps the live model is scored on a small text task through
the harness, without saving a checkpoint. Each evaluation is a normal run folder
(``OUTPUT/step_<N>/hf_chat__toy-lm/<timestamp>/``: results.json, samples_say_word.jsonl) that
``lmms-eval compare`` / ``report`` read like any other. Runs offline on a CPU in about ten
seconds; exact_match climbs from 0 to 1::

    python examples/training_loop.py --steps 300 --every 50 --output_path logs/training_loop

With your own model: load it with ``transformers``, build the adapter once with
``from_loaded(model, processor, "qwen2_5_vl")`` (or the adapter of its family) and call
``lmms_eval.evaluate(model=adapter, tasks=[...], limit=..., output_path=...)`` in the loop.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

import lmms_eval

WORDS = [f"w{i}" for i in range(16)]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
    "{% if m['content'] is string %}{{ m['content'] }}{% else %}{% for c in m['content'] %}"
    "{% if c['type'] == 'text' %}{{ c['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
TASK_YAML = """\
task: say_word
dataset_path: json
dataset_kwargs:
  data_files: words.jsonl
test_split: train
doc_id_column: qid
doc_to_text: "Say {{word}}"
doc_to_target: word
metric_list:
  - metric: exact_match
generation_kwargs:
  max_new_tokens: 4
metadata:
  version: 1
"""


def write_task(root: Path) -> Path:
    """A one-task folder (``--include_path``): "Say wN" -> "wN" for every word."""
    root.mkdir(parents=True, exist_ok=True)
    rows = [{"qid": f"q{i}", "word": word} for i, word in enumerate(WORDS)]
    (root / "words.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (root / "say_word.yaml").write_text(TASK_YAML, encoding="utf-8")
    return root


def build_model() -> tuple[Any, Any]:
    """A small random Qwen2 causal LM and a byte-level BPE tokenizer with a ChatML template."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator([f"user assistant system Say {w} {w}" for w in WORDS] * 10, trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    tokenizer.chat_template = CHAT_TEMPLATE
    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=320,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
        tie_word_embeddings=True,
    )
    model = Qwen2ForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def training_batch(tokenizer: Any) -> tuple[Any, Any, Any]:
    """Every word as one chat example; the loss counts the answer and its end-of-turn only."""
    import torch

    rows = []
    for word in WORDS:
        prompt = tokenizer.apply_chat_template(
            [{"role": "user", "content": f"Say {word}"}], add_generation_prompt=True, tokenize=False
        )
        p = tokenizer.encode(prompt, add_special_tokens=False)
        a = tokenizer.encode(f"{word}<|im_end|>", add_special_tokens=False)
        rows.append((p + a, [-100] * len(p) + a))
    width = max(len(ids) for ids, _ in rows)
    pad = tokenizer.pad_token_id
    ids = torch.tensor([i + [pad] * (width - len(i)) for i, _ in rows])
    labels = torch.tensor([lab + [-100] * (width - len(lab)) for _, lab in rows])
    mask = torch.tensor([[1] * len(i) + [0] * (width - len(i)) for i, _ in rows])
    return ids, labels, mask


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--every", type=int, default=50, help="evaluate every N steps")
    parser.add_argument("--output_path", default=None, help="where the run folders go (default: a temp folder)")
    args = parser.parse_args()

    import torch

    from lmms_eval.evaluation import from_loaded

    out = Path(args.output_path or tempfile.mkdtemp(prefix="lmms_eval_training_loop_"))
    tasks = write_task(out / "tasks")
    model, tokenizer = build_model()
    ids, labels, mask = training_batch(tokenizer)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    # Built once: the adapter holds references, so every evaluation sees the current weights.
    adapter = from_loaded(model, tokenizer, "hf_chat", {"pretrained": "toy-lm"})

    def evaluate(step: int) -> float:
        outcome = lmms_eval.evaluate(
            model=adapter,
            tasks=["say_word"],
            include_path=[str(tasks)],
            output_path=str(out / f"step_{step}"),  # one run folder per checkpoint
            batch_size=8,
            show_progress=False,
        )
        score = float(outcome.results["results"]["say_word"]["exact_match,none"])
        print(f"step {step:4d}  exact_match {score:.3f}  ({outcome.run_dir})")
        return score

    model.train()
    evaluate(0)
    for step in range(1, args.steps + 1):
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if step % args.every == 0:
            print(f"step {step:4d}  loss {loss.item():.4f}")
            evaluate(step)  # in eval mode for the run; back in train mode after


if __name__ == "__main__":
    main()
