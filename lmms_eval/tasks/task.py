"""A loaded task: its documents, the request built from each, and per-sample scoring."""

from __future__ import annotations

import hashlib
import inspect
import json
import os
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Any

from lmms_eval.api.errors import ConfigError, SampleError, UsageError, did_you_mean
from lmms_eval.api.generation import GenerationParams
from lmms_eval.api.messages import Message, Text, coerce_messages, media_part
from lmms_eval.api.metric import Metric
from lmms_eval.api.request import Request, stable_id
from lmms_eval.api.task_config import TaskConfig, validate_config
from lmms_eval.tasks import datasource
from lmms_eval.tasks.checks import MEDIA_FIELDS, check_columns, check_scoring, is_template
from lmms_eval.tasks.rows import raw_value
from lmms_eval.tasks.task_scoring import TaskScoring
from lmms_eval.tasks.templates import _plain_substituter, _PlainTemplate
from lmms_eval.tasks.yaml_loader import (
    function_sources,
    load_yaml_with_includes,
    resolve_functions,
    to_plain,
)


def _call_with_optional_kwargs(fn: Callable[..., Any], doc: Any, prompt_kwargs: dict[str, Any]) -> Any:
    """Call ``fn(doc)`` or ``fn(doc, lmms_eval_specific_kwargs)`` depending on its signature."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return fn(doc)
    if len(params) >= 2 or any(p.kind is p.VAR_POSITIONAL for p in params.values()):
        return fn(doc, prompt_kwargs)
    return fn(doc)


class Task(TaskScoring):
    """A task built from a validated :class:`TaskConfig` plus the folder of its YAML."""

    def __init__(self, config: TaskConfig, raw_config: dict[str, Any], yaml_path: str) -> None:
        self.config = config
        self.name: str = config.task
        self.raw_config = raw_config
        self.yaml_path = yaml_path
        self.yaml_dir = os.path.dirname(os.path.abspath(yaml_path))
        self._templates: dict[str, Any] = {}
        self._prompt_kwargs_cache: dict[str | None, dict[str, Any]] = {}
        self._renderers: dict[str, tuple[Any, Callable[[dict[str, Any], dict[str, Any]], Any]]] = {}
        self._keys_by_filter: dict[str, list[tuple[str, Metric, dict[str, Any], bool]]] = {}
        self._source: datasource.DocSource | None = None
        self._column_set: frozenset[str] | None = None
        self._references: list[tuple[str, str]] | None = None
        self.prompt_variant: str | None = None
        self.variant_overlay: dict[str, Any] = {}
        """The prompt variant's entry (prompt kwargs, ``system_prompt``, ``generation_kwargs``)."""

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def from_yaml(cls, path: str) -> Task:
        """Read, merge includes, resolve ``!function`` and validate one task YAML."""
        raw = load_yaml_with_includes(path)
        resolved = resolve_functions(raw)
        config = validate_config(TaskConfig, resolved, path)
        task = cls(config, raw, path)
        _ = task.judge_specs  # validate the judge blocks now, naming this file
        _ = task.base_params  # and the generation parameters
        _ = task.agent_protocol  # and the agent: block
        check_scoring(task)  # metric, aggregation and filter names, judge templates: before any generation
        return task

    @cached_property
    def base_params(self) -> GenerationParams:
        """The task's ``generation_kwargs`` (overlaid by its prompt variant's), validated (unknown
        keys are a ConfigError naming the YAML)."""
        kwargs = {**self.config.generation_kwargs, **(self.variant_overlay.get("generation_kwargs") or {})}
        where = f"{self.yaml_path}: generation_kwargs"
        if self.prompt_variant:
            where += f" (prompt variant {self.prompt_variant!r})"
        try:
            return GenerationParams.from_kwargs(kwargs, where)
        except UsageError as exc:
            raise ConfigError(str(exc)) from None

    def set_prompt_variant(self, name: str | None) -> None:
        """Run this task under prompt variant ``name`` (see :mod:`lmms_eval.tasks.variants`);
        None restores the default prompt. An unknown name is a UsageError listing the known ones."""
        from lmms_eval.tasks.variants import REASONING, available_variants, variant_entry

        entry = variant_entry(self.config.prompt_variants, name) if name else {}
        if entry and (name == REASONING or "agent" in entry) and self.config.output_type == "multiple_choice":
            raise UsageError(
                f"task {self.name!r} scores its options by likelihood (output_type: multiple_choice): nothing "
                f"is generated, so --prompt_variant {name} cannot apply; run it without the variant"
            )
        if entry is None:
            known = available_variants(self.config.prompt_variants)
            raise UsageError(
                f"task {self.name!r} has no prompt variant {name!r}.{did_you_mean(str(name), known)} "
                f"Its variants: {', '.join(known)} (or none: the task's own prompt)"
            )
        self.prompt_variant, self.variant_overlay = name or None, entry
        self._prompt_kwargs_cache.clear()
        for cached in ("base_params", "config_hash", "agent_spec", "agent_protocol"):
            self.__dict__.pop(cached, None)
        _ = self.base_params  # the variant's generation_kwargs are checked now
        _ = self.agent_protocol  # and its agent: block

    def check_prompt_variant(self, docs: Sequence[dict[str, Any]], model_name: str | None) -> None:
        """Refuse a prompt variant that leaves this task's prompt unchanged (see
        :func:`lmms_eval.tasks.variants.check_changes_prompt`)."""
        from lmms_eval.tasks.variants import check_changes_prompt

        check_changes_prompt(self, docs, model_name)

    @cached_property
    def judge_specs(self) -> list[Any]:
        """The validated ``judge:`` blocks (:class:`lmms_eval.judge.JudgeSpec`), in run order; ``[]``
        without a judge. One mapping gives one block; a list gives several (distinct metrics)."""
        if not self.config.judge:
            return []
        from lmms_eval.judge.spec import parse_specs

        return parse_specs(self.config.judge, self.yaml_path)

    @cached_property
    def agent_spec(self) -> Any:
        """The validated ``agent:`` block (:class:`lmms_eval.agent.spec.AgentSpec`) of the prompt
        variant, else of the task; None for a single-turn task."""
        raw = self.variant_overlay.get("agent") if "agent" in self.variant_overlay else self.config.agent
        if raw is None:
            return None
        from lmms_eval.agent.spec import parse_agent

        where = self.yaml_path + (f" (prompt variant {self.prompt_variant!r})" if self.prompt_variant else "")
        return parse_agent(raw, where)  # already resolved: the config holds the imported functions

    @cached_property
    def agent_protocol(self) -> Any:
        """The protocol instance that runs this task's conversations, or None."""
        spec = self.agent_spec
        if spec is None:
            return None
        from lmms_eval.agent.protocol import PROTOCOLS

        return PROTOCOLS.get(spec.protocol)(spec)

    def agent_job(self, request: Request, doc: dict[str, Any]) -> Any:
        """The agent loop's job for one request of this task (question and choices from the
        ``agent:`` block's functions when it gives them)."""
        from lmms_eval.agent.protocol import AgentJob

        spec = self.agent_spec
        question = str(spec.question(doc)) if spec.question is not None else None
        choices = spec.choices(doc) if spec.choices is not None else self.choices(doc)
        return AgentJob(request, self.agent_protocol, doc, question, [str(c) for c in choices] if choices else None)

    @cached_property
    def config_hash(self) -> str:
        """Hash of the merged YAML plus the source of every Python file it points to."""
        digest = hashlib.sha256(json.dumps(to_plain(self.raw_config), sort_keys=True, default=str).encode())
        for src in function_sources(self.raw_config):
            with open(src, "rb") as fh:
                digest.update(fh.read())
        if self.prompt_variant:  # another prompt: other sample ids
            variant = {"prompt_variant": self.prompt_variant, "overlay": to_plain(self.variant_overlay)}
            digest.update(json.dumps(variant, sort_keys=True, default=str).encode())
        return digest.hexdigest()[:16]

    def plain_config(self) -> dict[str, Any]:
        """The merged config as written (functions as ``!function`` strings) and the prompt
        variant it ran under, for results."""
        plain = to_plain(self.raw_config)
        if self.prompt_variant:
            plain["prompt_variant"] = self.prompt_variant
        return plain

    # ---- documents ----------------------------------------------------------------------
    @property
    def source(self) -> datasource.DocSource:
        """The dataset split, opened on first use (``process_docs`` applied)."""
        if self._source is None:
            cfg = self.config
            src = datasource.open_split(
                cfg.dataset_path, cfg.dataset_name, cfg.test_split, cfg.dataset_kwargs, self.yaml_dir, self.name
            )
            if cfg.process_docs is not None:
                src = src.processed(cfg.process_docs)
            self._source = src
            self._check_columns()
        return self._source

    def doc_ids(self, limit: float | None = None, offset: int = 0) -> range:
        """Indices of the documents to evaluate, after ``--offset`` and ``--limit`` (a range: no list of N ints)."""
        n = len(self.source)
        start = min(max(offset, 0), n)
        if limit is None:
            stop = n
        elif 0 < limit < 1:
            stop = start + int(round((n - start) * limit))
        else:
            stop = start + int(limit)
        return range(start, min(stop, n))

    def doc(self, index: int) -> dict[str, Any]:
        return self.source[index]

    def docs(self, indices: Sequence[int]) -> list[dict[str, Any]]:
        """The documents at ``indices``, read from the dataset together."""
        return self.source.rows(indices)

    def doc_key(self, index: int, doc: dict[str, Any] | None) -> Any:
        """The doc id recorded in samples: ``doc_id_column`` if set, else the row index.

        A row without that column fails when its prompt is built (:meth:`build_messages`); here,
        where error records are labelled too, its row index stands in."""
        col = self.config.doc_id_column
        if col and doc is not None and col in doc:
            return doc[col]
        return index

    def _columns(self) -> frozenset[str] | None:
        """The dataset's columns (union over rows), or None while the split is not open (documents
        given from elsewhere, e.g. logged ones when rescoring)."""
        if self._source is None:
            return None
        if self._column_set is None:
            self._column_set = frozenset(self._source.columns)
        return self._column_set

    def _check_columns(self) -> None:
        """Fail early, in one line, naming every column (or template variable) the dataset lacks."""
        columns = self._columns()
        if columns is not None:
            check_columns(self, set(columns))

    # ---- prompts ------------------------------------------------------------------------
    def _template(self, text: str) -> Any:
        """A compiled jinja2 template, or a plain substituter for ``{{ name }}``-only templates."""
        if text not in self._templates:
            plain = _plain_substituter(text)
            if plain is not None:
                self._templates[text] = plain
                return plain
            import jinja2

            env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
            try:
                self._templates[text] = env.from_string(text)
            except jinja2.TemplateSyntaxError as exc:
                raise ConfigError(f"{self.yaml_path}: bad jinja2 template {text!r}: {exc.message}") from None
        return self._templates[text]

    def render(self, value: Any, doc: dict[str, Any], prompt_kwargs: dict[str, Any], field: str) -> Any:
        """Evaluate a templated field: function, column name, jinja2 template or literal."""
        renderer = self._renderers.get(field)
        if renderer is None or renderer[0] is not value:
            renderer = self._renderers[field] = (value, self._compile(value, field))
        return renderer[1](doc, prompt_kwargs)

    def _compile(self, value: Any, field: str) -> Callable[[dict[str, Any], dict[str, Any]], Any]:
        """A field's renderer, decided once: a function; a template (``{{``/``{%``) rendered as text;
        a string naming a column of the dataset, read from each row (a row without it is that
        sample's error); any other value, a literal. A media field's list is rendered item by item."""
        if callable(value):
            return lambda doc, kwargs: _call_with_optional_kwargs(value, doc, kwargs)
        if isinstance(value, str) and is_template(value):
            template = self._template(value)
            if isinstance(template, _PlainTemplate):
                return template.render

            def render_jinja(doc: dict[str, Any], kwargs: dict[str, Any]) -> Any:
                import jinja2

                try:
                    return template.render({**kwargs, **doc, "lmms_eval_specific_kwargs": kwargs})
                except jinja2.UndefinedError as exc:
                    raise SampleError(f"{field} template: {exc.message}") from None

            return render_jinja
        if isinstance(value, str):
            return self._column_or_literal(value, field)
        if isinstance(value, list) and field in MEDIA_FIELDS:
            items = [self._compile(v, field) for v in value]

            def render_items(doc: dict[str, Any], kwargs: dict[str, Any]) -> list[Any]:
                out: list[Any] = []
                for item in items:
                    got = item(doc, kwargs)
                    out.extend(got if isinstance(got, (list, tuple)) else [got])
                return out

            return render_items
        return lambda doc, kwargs: value

    def _column_or_literal(self, value: str, field: str) -> Callable[[dict[str, Any], dict[str, Any]], Any]:
        columns = self._columns()
        if columns is None:  # no split open: decide by the document itself
            return lambda doc, kwargs: raw_value(doc, value) if value in doc else value
        if value not in columns:
            return lambda doc, kwargs: value

        def column(doc: dict[str, Any], kwargs: dict[str, Any]) -> Any:
            try:
                return raw_value(doc, value)
            except KeyError:
                raise SampleError(
                    f"{field}: column {value!r} is missing from {self._describe(doc)} (other rows have it); "
                    f"add it to that row or change {field} in {self.yaml_path}"
                ) from None

        return column

    def _reference_columns(self) -> list[tuple[str, str]]:
        """``(field, column)`` of ``doc_to_target``/``doc_to_choice`` when they name a column."""
        if self._references is None:
            columns = self._columns()
            if columns is None:
                return []
            fields = (("doc_to_target", self.config.doc_to_target), ("doc_to_choice", self.config.doc_to_choice))
            self._references = [(f, v) for f, v in fields if isinstance(v, str) and not is_template(v) and v in columns]
        return self._references

    def _describe(self, doc: dict[str, Any]) -> str:
        """A short name for a document in error messages: its id column, else its first fields."""
        col = self.config.doc_id_column
        if col and col in doc:
            return f"doc {doc[col]!r}"
        shown = {k: v for k, v in list(doc.items())[:3] if isinstance(v, (str, int, float, bool)) or v is None}
        text = repr(shown)
        return f"doc {text if len(text) <= 80 else text[:77] + '...'}"

    def _prompt_kwargs(self, model_name: str | None) -> dict[str, Any]:
        """``lmms_eval_specific_kwargs`` for a model, with the prompt variant's overlay on top."""
        if model_name not in self._prompt_kwargs_cache:
            from lmms_eval.tasks.variants import prompt_overlay

            merged = self.config.prompt_kwargs(model_name)
            merged.update(prompt_overlay(self.variant_overlay))
            self._prompt_kwargs_cache[model_name] = merged
        return self._prompt_kwargs_cache[model_name]

    @property
    def system_prompt(self) -> str | None:
        """The system message text: the prompt variant's ``system_prompt`` if it sets one, else the task's."""
        if "system_prompt" in self.variant_overlay:
            return self.variant_overlay["system_prompt"]
        return self.config.system_prompt

    def build_messages(self, doc: dict[str, Any], model_name: str | None) -> list[Message]:
        """The chat messages for one document."""
        cfg = self.config
        if cfg.doc_id_column and cfg.doc_id_column not in doc:
            raise SampleError(
                f"doc_id_column: column {cfg.doc_id_column!r} is missing from {self._describe(doc)}; "
                f"add it to that row or change doc_id_column in {self.yaml_path}"
            )
        for field, column in self._reference_columns():
            if column not in doc:  # the sample could not be scored: fail it before the model is asked
                self.render(getattr(cfg, field), doc, self._prompt_kwargs(None), field)
        prompt_kwargs = self._prompt_kwargs(model_name)
        if cfg.doc_to_messages is not None:
            chat = coerce_messages(
                _call_with_optional_kwargs(cfg.doc_to_messages, doc, prompt_kwargs), self.source.base_dir
            )
            if self.system_prompt and not any(m.role == "system" for m in chat):
                chat.insert(0, Message("system", [Text(self.system_prompt)]))
            return chat
        content: list[Any] = []
        for kind, value in self.media_fields:
            items = self.render(value, doc, prompt_kwargs, f"doc_to_{kind}")
            for item in items if isinstance(items, (list, tuple)) else [items]:
                if item is None:
                    continue
                try:
                    content.append(media_part(kind, item, self.source.base_dir))
                except Exception as exc:  # noqa: BLE001 - any decode failure is this sample's error
                    raise SampleError(f"cannot read {kind}: {exc}") from None
        if cfg.doc_to_text is not None:
            text = self.render(cfg.doc_to_text, doc, prompt_kwargs, "doc_to_text")
            content.append(Text(str(text)))
        messages = [Message("user", content)]
        if self.system_prompt:
            messages.insert(0, Message("system", [Text(self.system_prompt)]))
        return messages

    @cached_property
    def media_fields(self) -> list[tuple[str, Any]]:
        """``(kind, doc_to_* value)`` of the media fields the task sets."""
        cfg = self.config
        fields = (("image", cfg.doc_to_visual), ("video", cfg.doc_to_video), ("audio", cfg.doc_to_audio))
        return [(kind, value) for kind, value in fields if value is not None]

    def generation_params(self, overrides: dict[str, Any] | None = None) -> GenerationParams:
        """The task's generation parameters with ``--gen_kwargs`` on top. No stop string is invented."""
        return self.base_params.merged(overrides, f"--gen_kwargs (task {self.name})")

    def request_id(self, index: int, doc: dict[str, Any] | None, repeat: int) -> str:
        """The stable id of (document, repeat) under this task's config."""
        return stable_id(self.config_hash, self.doc_key(index, doc), repeat)

    def build_request(
        self,
        index: int,
        doc: dict[str, Any],
        repeat: int,
        model_name: str | None,
        params: GenerationParams | None = None,
        request_id: str | None = None,
    ) -> Request:
        """The request for one (document, repeat); ``params`` default to the task's own."""
        messages = self.build_messages(doc, model_name)
        doc_id = self.doc_key(index, doc)
        choices = None
        if self.config.output_type == "multiple_choice":
            options = self.choices(doc)
            if not options:
                raise SampleError(f"multiple_choice: doc_to_choice gave no options for {self._describe(doc)}")
            choices = [str(option) for option in options]
        context = None
        if self.config.doc_to_context is not None:
            value = _call_with_optional_kwargs(self.config.doc_to_context, doc, self._prompt_kwargs(model_name))
            if value is not None and not isinstance(value, dict):
                raise ConfigError(f"doc_to_context of {self.yaml_path} returned {type(value).__name__}: return a dict")
            context = value
        return Request(
            task=self.name,
            doc_id=doc_id,
            messages=messages,
            params=params if params is not None else self.base_params,
            repeat=repeat,
            id=request_id or stable_id(self.config_hash, doc_id, repeat),
            choices=choices,
            context=context,
        )

    # ---- scoring ------------------------------------------------------------------------
    def target(self, doc: dict[str, Any]) -> Any:
        cfg = self.config
        if cfg.doc_to_target is None:
            return None
        value = self.render(cfg.doc_to_target, doc, self._prompt_kwargs(None), "doc_to_target")
        choices = self.choices(doc)
        if isinstance(value, int) and not isinstance(value, bool) and choices:
            return choices[value]
        return value

    def choices(self, doc: dict[str, Any]) -> list[Any] | None:
        if self.config.doc_to_choice is None:
            return None
        value = self.render(self.config.doc_to_choice, doc, self._prompt_kwargs(None), "doc_to_choice")
        return list(value) if value is not None else None

    def dataset_info(self) -> dict[str, Any]:
        """Dataset id, config, split, revision and content fingerprint, for results."""
        info = {
            "path": self.config.dataset_path,
            "name": self.config.dataset_name,
            "split": self.config.test_split,
            "revision": self.config.dataset_kwargs.get("revision"),
        }
        info.update(self.source.info())
        return info
