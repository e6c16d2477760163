"""Checks a run makes before it writes anything, and the isolated model call.

``open_data`` opens every task's split before a run folder exists (a dataset that cannot load,
an empty split or an ``--offset`` past the end fails the run at once and leaves nothing behind)
and returns the splits' content fingerprints, which ``run.json`` records so that ``--resume``
can refuse data that changed. ``call_isolated`` runs one batch so that one bad sample cannot
take its neighbours down.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lmms_eval.api.errors import DatasetError, LmmsEvalError, SampleError, UsageError
from lmms_eval.api.request import Request, Response

if TYPE_CHECKING:
    from lmms_eval.api.model import Model
    from lmms_eval.tasks.task import Task

log = logging.getLogger("lmms_eval")
VARIANT_CHECK_DOCS = 8
"""Documents a prompt variant must change at least one of (else it is refused as a no-op)."""


def data_fingerprint(task: Task) -> str | None:
    """The content fingerprint of the split as loaded (before ``process_docs``)."""
    info = task.source.info()
    return info.get("source_fingerprint") or info.get("fingerprint")


def open_data(tasks: Sequence[Task], offset: int, model_name: str | None = None) -> dict[str, str | None]:
    """Open every task's split; refuse an empty split, an ``--offset`` past its end, or a prompt
    variant that does not change a task's prompt (checked on its first document).

    Returns each task's :func:`data_fingerprint`.
    """
    fingerprints: dict[str, str | None] = {}
    for task in tasks:
        n = len(task.source)
        if n == 0:
            raise DatasetError(
                f"task {task.name!r}: split {task.config.test_split!r} of {task.config.dataset_path!r} "
                f"has no documents; check test_split in {task.yaml_path}"
            )
        if offset >= n:
            raise UsageError(
                f"--offset {offset} is past the end of task {task.name!r} ({n} documents): "
                f"give an offset from 0 to {n - 1}"
            )
        if task.prompt_variant:
            try:  # the first few documents: a variant may change only some prompts (a time window)
                task.check_prompt_variant(task.docs(range(offset, min(n, offset + VARIANT_CHECK_DOCS))), model_name)
            except SampleError:  # a row whose prompt cannot be built is that sample's error later
                pass
            except LmmsEvalError:
                raise
            except Exception:  # noqa: BLE001 - an unreadable row is that sample's error later
                pass
        fingerprints[task.name] = data_fingerprint(task)
    return fingerprints


def warn_unused_judge(tasks: Sequence[Task], judge: Any) -> None:
    """Warn when ``--judge`` is given but no selected task has a ``judge:`` block."""
    if judge is not None and not any(task.judge_specs for task in tasks):
        log.warning(
            "--judge is ignored: none of the selected tasks (%s) has a judge: block",
            ", ".join(task.name for task in tasks),
        )


def call_isolated(model: Model[Any], requests: list[Request]) -> list[Response]:
    """Run a batch through the model; if it fails, retry one by one so one bad sample cannot take
    its neighbours down, and never misalign outputs with requests. Requests with ``choices``
    (``multiple_choice`` tasks) go to ``model.score_choices``, the others to ``model.generate``;
    a batch may mix both (each part is called and isolated on its own, the order is kept). A
    usage error (the user must fix something, e.g. parameters the backend cannot serve) stops the run."""

    def isolated(call: Any, batch: list[Request]) -> list[Response]:
        try:
            responses = call(batch)
            if len(responses) != len(batch):
                raise RuntimeError(f"model returned {len(responses)} outputs for {len(batch)} requests")
            return list(responses)
        except LmmsEvalError:
            raise
        except Exception as exc:  # noqa: BLE001 - adapters fail in many ways; isolate per request
            if len(batch) == 1:
                return [Response.failed(f"{type(exc).__name__}: {exc}")]
            log.debug("batch failed (%s); retrying one by one", exc)
        out = []
        for request in batch:
            try:
                single = call([request])
                response = single[0] if len(single) == 1 else Response.failed("model returned no output")
            except LmmsEvalError:
                raise
            except Exception as exc:  # noqa: BLE001
                response = Response.failed(f"{type(exc).__name__}: {exc}")
            response.batch_size = response.batch_size or 1
            out.append(response)
        return out

    scored = [i for i, request in enumerate(requests) if request.choices is not None]
    if not scored:
        return isolated(model.generate, requests)
    if len(scored) == len(requests):
        return isolated(model.score_choices, requests)
    generated = [i for i in range(len(requests)) if i not in set(scored)]
    merged: dict[int, Response] = {}
    for call, positions in ((model.generate, generated), (model.score_choices, scored)):
        merged.update(zip(positions, isolated(call, [requests[i] for i in positions])))
    return [merged[i] for i in range(len(requests))]


def check_modalities(model_cls: Any, model_name: str, tasks: Sequence[Task], kinds: dict[str, set[str]]) -> None:
    """Refuse, before the model loads, a task that sends what the model does not take, and a
    ``multiple_choice`` task for a model that cannot score options."""
    from lmms_eval.api.model import CHOICE_ADAPTERS

    if not getattr(model_cls, "scores_choices", False):
        for task in tasks:
            if task.config.output_type == "multiple_choice" and task.name in kinds:
                raise UsageError(
                    f"model {model_name!r} cannot score options (multiple_choice task {task.name!r}); "
                    f"use {'/'.join(CHOICE_ADAPTERS[:-1])} or {CHOICE_ADAPTERS[-1]}"
                )
    takes = set(model_cls.modalities)
    for name, sent in kinds.items():
        missing = sent - takes
        if missing:
            raise UsageError(
                f"model {model_name!r} takes {'+'.join(sorted(takes))}; task {name!r} sends "
                f"{'+'.join(sorted(missing))}. Pick a model that takes {'+'.join(sorted(missing))} "
                f"(see `lmms-eval models`) or drop the task"
            )
