"""The Python API: ``lmms_eval.evaluate(model=..., tasks=[...], **settings)``.

One run of the harness from Python, with the same run folder, resume and results as the
``lmms-eval`` command (which is a thin layer over :func:`run_config` and :func:`run` here):

* ``model="qwen2_5_vl", model_args={"pretrained": ...}``: a registered adapter, loaded as the
  CLI loads it;
* ``model=adapter``: a :class:`~lmms_eval.api.model.Model` instance you built (it stays open
  after the run, so it can be evaluated again);
* ``model=(hf_model, processor), model_family="qwen2_5_vl"``: a ``transformers`` model and
  processor already in memory (a training job's live checkpoint), evaluated as they are,
  without saving them (:func:`from_loaded`).

Every other keyword is a run setting (a :class:`~lmms_eval.engine.run_config.RunConfig` field,
the CLI's flags without the dashes): ``limit``, ``batch_size``, ``output_path``, ``gen_kwargs``,
``resume``, ``seed``, ``judge``, ... See docs/api.md.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any

from lmms_eval.api.errors import UsageError
from lmms_eval.api.model import Model
from lmms_eval.engine.outcome import RunOutcome

if TYPE_CHECKING:
    from lmms_eval.engine.distributed import DistContext
    from lmms_eval.engine.run_config import RunConfig

#: The adapter :func:`from_loaded` uses when no family is named: any chat-templated model.
DEFAULT_FAMILY = "hf_chat"


def evaluate(
    model: str | Model[Any] | tuple[Any, Any] | None = None,
    tasks: str | Sequence[str] | None = None,
    *,
    model_args: str | Mapping[str, Any] | None = None,
    model_family: str | None = None,
    config: str | None = None,
    distributed: bool = True,
    **settings: Any,
) -> RunOutcome:
    """Evaluate ``model`` on ``tasks`` and return the run's :class:`RunOutcome`.

    Args:
        model: a registered adapter name (with ``model_args``), a ``Model`` instance, or a
            ``(hf_model, processor)`` pair already loaded with ``transformers``.
        tasks: task, group or tag names (a list or ``"a,b"``), as ``--tasks``.
        model_args: the adapter's arguments (dict or ``"k=v,..."``). With a loaded pair they
            are the adapter's settings (``max_new_tokens``, ``max_pixels``, ...) and
            ``pretrained`` is the label the run records (give each checkpoint its own: resume
            matches runs by their settings, never by their weights).
        model_family: the adapter that wraps a loaded pair (``qwen2_5_vl``, ``llava_onevision``,
            ``qwen2_audio``, ...; default ``hf_chat``).
        config: a run YAML (as ``--config``); keywords given here win over it.
        distributed: under ``torchrun`` (``WORLD_SIZE`` > 1), shard the samples over the ranks
            (call this on every rank); False runs this process alone.
        settings: run settings, the CLI flags without dashes (``limit=8``, ``batch_size=4``,
            ``output_path="evals/step_100"``, ``gen_kwargs={"max_new_tokens": 64}``,
            ``resume=True``, ``show_progress=False``, ...). None means "not given".

    Returns:
        ``outcome.results`` is what ``results.json`` holds (``results[task]["metric,filter"]``),
        ``outcome.run_dir`` the run folder, ``outcome.exit_code`` the CLI's exit code (3 when
        more samples failed than ``max_error_rate`` allows). On ranks other than 0,
        ``results`` is empty.

    Raises:
        LmmsEvalError: a bad setting, task or model argument (one line that says the fix).
    """
    values = merge_settings(config, {"tasks": tasks, **settings})
    adapter, owned = None, True
    if isinstance(model, tuple):
        if len(model) != 2:
            raise UsageError("evaluate(model=...): give a loaded model as a pair (hf_model, processor)")
        adapter = from_loaded(model[0], model[1], model_family or DEFAULT_FAMILY, model_args)
    elif model_family is not None:
        raise UsageError(
            "evaluate(model_family=...) names the adapter of a loaded pair: pass model=(hf_model, processor)"
        )
    elif isinstance(model, Model):
        if model_args is not None:
            raise UsageError("evaluate(model_args=...) goes with a model name; a Model instance already holds its args")
        adapter, owned = model, False
    elif model is not None and not isinstance(model, str):
        raise UsageError(
            f"evaluate(model=...) takes a registered name, a Model instance or a pair (hf_model, processor), "
            f"not {type(model).__name__}"
        )
    if adapter is not None:
        values["model"] = type(adapter).name
        values["model_args"] = adapter.config.model_dump(mode="json")
    else:
        if model is not None:
            values["model"] = model
        if model_args is not None:
            values["model_args"] = model_args if isinstance(model_args, str) else dict(model_args)
    if not values.get("model"):
        raise UsageError("evaluate() needs model=: a registered name (see `lmms-eval models`), e.g. model='demo'")
    if not values.get("tasks"):
        raise UsageError("evaluate() needs tasks=, e.g. tasks=['demo'] (see `lmms-eval tasks`)")
    cfg = run_config(values, config or "evaluate()")
    from lmms_eval.engine.distributed import DistContext

    dist = DistContext.from_env() if distributed else DistContext()
    try:
        return run(cfg, adapter, dist=dist, keep_open=not owned)  # a finished run closes the adapter
    except BaseException:
        if owned and adapter is not None:
            adapter.close()  # ours: drop the references to the caller's model
        raise


def from_loaded(
    hf_model: Any,
    processor: Any,
    family: str = DEFAULT_FAMILY,
    model_args: str | Mapping[str, Any] | None = None,
) -> Model[Any]:
    """The ``family`` adapter (a registered ``transformers`` adapter name) around a model and
    processor already in memory: nothing is loaded, saved, moved or cast.

    The adapter holds references, so it sees later weight updates: build it once and pass it
    to :func:`evaluate` every N steps. ``pretrained`` in ``model_args`` is the label the run
    records (default: the model's ``name_or_path``); ``device`` and ``dtype`` default to the
    model's own.
    """
    from lmms_eval.api.registry import MODELS
    from lmms_eval.models.hf.base import HFModel

    cls = MODELS.get(family)
    if not (isinstance(cls, type) and issubclass(cls, HFModel)):
        raise UsageError(
            f"model_family {family!r} is not a transformers adapter; use one that loads with "
            f"pretrained=, e.g. {DEFAULT_FAMILY}, qwen2_5_vl, llava_onevision, qwen2_audio"
        )
    if hf_model is None or not hasattr(hf_model, "parameters"):
        raise UsageError(f"from_loaded: the model must be a loaded transformers model, not {type(hf_model).__name__}")
    args = model_args if isinstance(model_args, str) or model_args is None else dict(model_args)
    return cls.from_loaded(hf_model, processor, args)


def merge_settings(config: str | None, given: Mapping[str, Any]) -> dict[str, Any]:
    """Run settings: the ``config`` YAML's, then ``given`` (None values are "not given")."""
    values: dict[str, Any] = {}
    if config:
        from lmms_eval.tasks.yaml_loader import read_yaml_file

        values.update(read_yaml_file(config))
    values.update({k: v for k, v in given.items() if v is not None})
    return values


def run_config(values: Mapping[str, Any], source: str) -> RunConfig:
    """``values`` validated into a :class:`RunConfig`; a bad one raises a one-line error naming ``source``."""
    from lmms_eval.api.task_config import validate_config
    from lmms_eval.engine.run_config import RunConfig

    values = dict(values)
    limit = values.get("limit")
    if isinstance(limit, float) and limit.is_integer() and limit >= 1:
        values["limit"] = int(limit)
    config: RunConfig = validate_config(RunConfig, values, source)
    return config


def run(
    cfg: RunConfig, model: Model[Any] | None = None, dist: DistContext | None = None, keep_open: bool = False
) -> RunOutcome:
    """Run (or resume) ``cfg``, with ``model`` when given (else the adapter ``cfg`` names is built).

    A ``transformers`` model in training mode is switched to eval mode for the run and back
    afterwards (each submodule as it was). ``keep_open``: the run does not close ``model``.
    """
    from lmms_eval.engine.evaluator import Evaluator

    with ExitStack() as stack:
        if model is not None:
            stack.enter_context(_eval_mode(getattr(model, "model", None)))
            if keep_open:
                stack.enter_context(_kept_open(model))
        return Evaluator(cfg, model=model, dist=dist).run()
    raise AssertionError("unreachable")  # pragma: no cover - ExitStack does not swallow exceptions


@contextmanager
def _eval_mode(module: Any) -> Iterator[None]:
    """A ``torch.nn.Module`` in eval mode inside, every submodule's own mode restored after."""
    modules = getattr(module, "modules", None)
    if not callable(modules) or not getattr(module, "training", False):
        yield
        return
    modes = [(m, m.training) for m in modules()]
    module.eval()
    try:
        yield
    finally:
        for m, training in modes:
            m.training = training


@contextmanager
def _kept_open(model: Model[Any]) -> Iterator[None]:
    """The run's final ``close()`` skipped: the caller owns ``model`` and may evaluate it again."""
    own = vars(model).get("close")
    model.close = _no_close  # type: ignore[method-assign]
    try:
        yield
    finally:
        if own is None:
            del model.close
        else:
            model.close = own  # type: ignore[method-assign]


def _no_close() -> None:
    """Stands in for a caller-owned model's ``close`` during a run."""


__all__ = ["DEFAULT_FAMILY", "evaluate", "from_loaded", "merge_settings", "run", "run_config"]
