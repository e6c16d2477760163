"""The judge stage: run the LLM judge over finished sample records.

:func:`judge_records` takes the records a task wrote (``doc``, ``target``, ``raw_output``,
``filtered`` ``{filter: answer}``, ``scores``) and, for every filter's answer:

1. runs the cascade's rule metrics, if any; where they decide, no judge call is made;
2. otherwise renders the judge prompt(s), answers each from the cache when it can, and sends the
   rest concurrently (``JudgeConfig.concurrency``) with retries;
3. parses each reply strictly and writes the value under ``record.scores["<metric>,<filter>"]``.

Everything the judge saw and said goes into ``record.judge``: the template and its hash, each
call's prompt (images replaced by their hash), raw reply, whether it came from the cache, and
the parsed verdict. A failed call or an unparseable verdict marks the record
``status="judge_error"`` with the reason in ``record.error``; no judge score is written for
it, so it is counted as an error and never as a 0. Generation failures (``status="error"``) and
records without scores (``--predict_only``) are left as they are. Records marked
``judge_error`` by an earlier run are judged again (their cached replies cost nothing).

:class:`JudgeStage` is ONE judge block; :mod:`lmms_eval.judge.blocks` runs a task's blocks in
order (``judge:`` as a list), feeds an ``answer_from`` block the answers an earlier extract
block extracted, and writes the records' ``judge`` entries and statuses.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from lmms_eval.api.errors import ConfigError, LmmsEvalError, SampleError
from lmms_eval.api.record import SampleRecord
from lmms_eval.clients.loop import run_sync
from lmms_eval.judge import grading
from lmms_eval.judge.cache import JudgeCache, cache_key
from lmms_eval.judge.config import JudgeConfig, default_cache_path, parse_judge_arg
from lmms_eval.judge.parsing import VerdictError
from lmms_eval.judge.spec import JudgeSpec, parse_spec
from lmms_eval.judge.templates import JudgeTemplate, load_template

log = logging.getLogger(__name__)

JUDGE_ERROR: Final = "judge_error"
DocLoader = Callable[[SampleRecord], Mapping[str, Any]]


@dataclass
class _Call:
    key: str
    inputs_hash: str
    messages: list[dict[str, Any]]
    reply: str | None = None
    error: str | None = None
    cached: bool = False
    usage: dict[str, Any] | None = None

    def log_entry(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "prompt": _loggable(self.messages),
            "reply": self.reply,
            "cached": self.cached,
            "error": self.error,
            "usage": self.usage,
        }


@dataclass
class _Item:
    """One (record, filter) the stage decides."""

    index: int
    filter: str
    stage: str = "judge"
    rules: dict[str, Any] = field(default_factory=dict)
    calls: list[_Call] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)
    doc: Mapping[str, Any] = field(default_factory=dict)
    value: Any = None
    verdict: Any = None
    error: str | None = None
    skipped: str | None = None
    """Why this (sample, filter) is not judged by this block (``answer_from``: no upstream answer)."""


@dataclass
class BlockResult:
    """What one judge block decided for one record: its ``judge`` entry and its error reasons."""

    entry: dict[str, Any]
    errors: list[str]


Upstream = Mapping[int, Mapping[str, tuple[Any, str | None]]]
"""``answer_from`` input: record index -> filter -> (extracted answer, or None and why not)."""


def _loggable(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages for the sample log: image data replaced by a short hash."""
    out = []
    for msg in messages:
        content = msg["content"]
        if isinstance(content, list):
            parts = []
            for part in content:
                if part.get("type") == "image_url":
                    url = part["image_url"]["url"]
                    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
                    parts.append(
                        {"type": "image", "sha256_16": digest}
                        if url.startswith("data:")
                        else {"type": "image", "url": url}
                    )
                else:
                    parts.append(part)
            content = parts
        out.append({"role": msg["role"], "content": content})
    return out


def _image_url(spec: JudgeSpec, doc: Mapping[str, Any]) -> str | None:
    if not spec.image:
        return None
    from lmms_eval.api.messages import media_part
    from lmms_eval.clients.media import image_url

    if spec.image not in doc or doc[spec.image] is None:
        raise SampleError(
            f"judge.image names column {spec.image!r}, which this document lacks; "
            "pass doc_loader= so the judge sees the full dataset row"
        )
    return image_url(media_part("image", doc[spec.image]))  # type: ignore[arg-type]


def judgeable(record: SampleRecord) -> bool:
    """True for a record the judge stage takes: generated and scored (``ok``, or ``judge_error``
    from an earlier judge run or an earlier block)."""
    return record.status in ("ok", JUDGE_ERROR) and isinstance(record.filtered, dict) and record.scores is not None


def reset_judge_errors(records: list[SampleRecord]) -> None:
    """Before judging again: a ``judge_error`` record becomes ``ok`` (its judge verdicts are redone)."""
    for record in records:
        if judgeable(record) and record.status == JUDGE_ERROR:
            record.status, record.error = "ok", None


class JudgeStage:
    """The judge stage for one task: spec + config + cache + templates, reusable across calls."""

    def __init__(
        self,
        spec: JudgeSpec | dict[str, Any],
        config: JudgeConfig | str | dict[str, Any],
        cache: JudgeCache | str | None = None,
        *,
        template_dir: str | None = None,
        run_dir: str | None = None,
        doc_loader: DocLoader | None = None,
        client: Any = None,
        show_progress: bool = False,
    ) -> None:
        self.spec = parse_spec(spec)
        self.config = parse_judge_arg(config)
        dirs = [template_dir] if template_dir else []
        self.template: JudgeTemplate = load_template(self.spec.template_name, dirs)
        self.system: JudgeTemplate | None = (
            load_template(self.spec.system_template, dirs) if self.spec.system_template else None
        )
        self.template_hash = hashlib.sha256(
            (self.template.source + "\0" + (self.system.source if self.system else "")).encode()
        ).hexdigest()[:16]
        if isinstance(cache, JudgeCache):
            self.cache, self._own_cache = cache, False
        else:
            self.cache = JudgeCache(cache or self.config.cache_path or default_cache_path(run_dir))
            self._own_cache = True
        self.doc_loader = doc_loader
        self.client = client
        self.show_progress = show_progress
        self.params = self.config.call_params()
        for rule in self.spec.rules() + ([self.spec.scorer()] if self.spec.type == "extract" else []):
            self._check_metric(rule.metric if rule else None)

    @staticmethod
    def _check_metric(name: str | None) -> None:
        if name is None:
            return
        from lmms_eval.api.registry import METRICS

        metric = METRICS.get(name)  # raises a UsageError with a did-you-mean for unknown names
        if getattr(metric, "corpus_level", False):
            raise ConfigError(f"judge metric {name!r} is corpus-level; the cascade needs a per-sample metric")

    def close(self) -> None:
        if self._own_cache:
            self.cache.close()

    # ---- planning ---------------------------------------------------------------------------
    def _doc(self, record: SampleRecord) -> Mapping[str, Any]:
        if self.doc_loader is not None:
            return self.doc_loader(record)
        return record.doc or {}

    def _plan(self, records: list[SampleRecord], upstream: Upstream | None = None) -> list[_Item]:
        items: list[_Item] = []
        metric = self.spec.metric_name
        for index, record in enumerate(records):
            if not judgeable(record):
                continue
            scores = record.scores
            assert scores is not None
            for key in [k for k in scores if k.split(",", 1)[0] == metric]:
                del scores[key]
            try:
                doc = self._doc(record)
            except Exception as exc:  # noqa: BLE001 - one unreadable document fails that sample only
                items.append(
                    _Item(index, "*", error=f"cannot load the document for the judge: {type(exc).__name__}: {exc}")
                )
                continue
            wanted = self.spec.filters or list(record.filtered or {})
            for filter_name in wanted:
                items.append(self._plan_one(index, record, doc, filter_name, upstream))
        return items

    def _plan_one(
        self, index: int, record: SampleRecord, doc: Mapping[str, Any], filter_name: str, upstream: Upstream | None
    ) -> _Item:
        item = _Item(index, filter_name, doc=doc)
        filtered = record.filtered or {}
        if filter_name not in filtered:
            item.error = f"filter {filter_name!r} named in judge.filters is not among {sorted(filtered)}"
            return item
        prediction = filtered[filter_name]
        scores = record.scores
        if self.spec.answer_from is not None:
            prediction, why_not = (
                (upstream or {})
                .get(index, {})
                .get(filter_name, (None, f"block {self.spec.answer_from!r} did not judge this answer"))
            )
            if why_not is not None:
                item.stage, item.skipped = "skipped", why_not
                return item
            scores = None  # the task's rule scores are of the filtered output, not of this answer
        try:
            if self.spec.cascade:
                outcome = grading.rule_decision(self.spec, prediction, record.target, doc, scores, filter_name)
                item.rules = outcome.values
                if outcome.decided(self.spec.judge_when):
                    item.stage = "rule"
                    if self.spec.type == "extract":
                        scorer = self.spec.scorer()
                        assert scorer is not None
                        item.value = grading.metric_value(scorer, prediction, record.target, doc)
                    else:
                        item.value = 1.0 if outcome.passed else 0.0
                    item.verdict = "rule"
                    return item
            item.variables = grading.template_variables(self.spec, record, doc, filter_name, prediction)
            conversations = grading.prompts(
                self.spec, self.template, self.system, item.variables, _image_url(self.spec, doc)
            )
        except (ConfigError, LmmsEvalError):
            raise
        except Exception as exc:  # noqa: BLE001 - a sample the judge cannot be asked about
            item.error = (
                f"cannot build the judge prompt: {exc}"
                if isinstance(exc, SampleError)
                else f"cannot build the judge prompt: {type(exc).__name__}: {exc}"
            )
            return item
        for messages in conversations:
            key, inputs_hash = cache_key(self.config.model, self.template_hash, messages, self.params)
            item.calls.append(_Call(key, inputs_hash, messages))
        return item

    # ---- calling ----------------------------------------------------------------------------
    async def _run_calls(self, items: list[_Item]) -> None:
        pending: dict[str, list[_Call]] = {}
        for item in items:
            for call in item.calls:
                if call.key in pending:
                    pending[call.key].append(call)
                    continue
                hit = self.cache.get(call.key)
                if hit is not None:
                    call.reply, call.usage, call.cached = hit["reply"], hit["usage"], True
                else:
                    pending[call.key] = [call]
        if not pending:
            return
        from lmms_eval.clients.openai_chat import AsyncChatClient

        own_client = self.client is None
        client = self.client or AsyncChatClient(self.config.client_settings(self.config.concurrency))
        keys = list(pending)
        bar = None
        if self.show_progress:
            from tqdm import tqdm

            bar = tqdm(total=len(keys), desc="judge", unit="call", dynamic_ncols=True, mininterval=0.5)

        def on_result(i: int, result: Any) -> None:
            calls = pending[keys[i]]
            usage = {
                "prompt_tokens": result.prompt_tokens,
                "completion_tokens": result.completion_tokens,
                "latency_s": result.latency_s,
                "attempts": result.attempts,
            }
            if result.ok:
                self.cache.put(
                    calls[0].key, self.config.model, self.template_hash, calls[0].inputs_hash, result.text or "", usage
                )
            for n, call in enumerate(calls):
                call.usage = usage
                if result.ok:
                    call.reply = result.text or ""
                    call.cached = n > 0  # a duplicate prompt in this batch was paid for once
                else:
                    call.error = result.error
            if bar is not None:
                bar.update(1)

        try:
            await client.chat_many(self.config.model, [(pending[k][0].messages, self.params) for k in keys], on_result)
        finally:
            if bar is not None:
                bar.close()
            if own_client:
                await client.aclose()

    # ---- scoring ----------------------------------------------------------------------------
    def _decide(self, item: _Item, record: SampleRecord) -> None:
        if item.error is not None or item.stage in ("rule", "skipped"):
            return
        failed = [c.error for c in item.calls if c.error is not None]
        if failed:
            item.error = f"judge call failed: {failed[0]}"
            return
        try:
            item.value, item.verdict = grading.score(
                self.spec, [c.reply or "" for c in item.calls], item.variables, record, item.doc
            )
        except VerdictError as exc:
            item.error = f"unparseable judge verdict: {exc}"
        except (ConfigError, LmmsEvalError):
            raise
        except Exception as exc:  # noqa: BLE001 - a scoring bug fails this sample, not the run
            item.error = f"judge scoring failed: {type(exc).__name__}: {exc}"

    def _write(self, items: list[_Item], records: list[SampleRecord]) -> dict[int, BlockResult]:
        """Write this block's scores; return each judged record's ``judge`` entry and error reasons."""
        metric = self.spec.metric_name
        by_record: dict[int, list[_Item]] = {}
        for item in items:
            by_record.setdefault(item.index, []).append(item)
        results: dict[int, BlockResult] = {}
        for index, its in by_record.items():
            record = records[index]
            per_filter: dict[str, Any] = {}
            errors: list[str] = []
            for item in its:
                per_filter[item.filter] = {
                    "stage": item.stage,
                    "rules": item.rules or None,
                    "verdict": item.verdict,
                    "value": item.value if item.error is None and item.skipped is None else None,
                    "error": item.error,
                    "calls": [c.log_entry() for c in item.calls],
                }
                if item.skipped is not None:
                    per_filter[item.filter]["skipped"] = item.skipped
                elif item.error is None:
                    assert record.scores is not None
                    record.scores[f"{metric},{item.filter}"] = item.value
                else:
                    errors.append(f"{item.filter}: {item.error}" if item.filter != "*" else item.error)
            status = JUDGE_ERROR if errors else ("skipped" if all(i.skipped for i in its) else "ok")
            entry = {
                "type": self.spec.type,
                "metric": metric,
                "judge_model": self.config.model,
                "template": self.template.name,
                "template_hash": self.template_hash,
                "status": status,
                "filters": per_filter,
            }
            if self.spec.answer_from is not None:
                entry["answer_from"] = self.spec.answer_from
            results[index] = BlockResult(entry, errors)
        return results

    async def judge_block(
        self, records: list[SampleRecord], upstream: Upstream | None = None
    ) -> dict[int, BlockResult]:
        """Run this block over ``records``: plan, call (cache first), parse, write its scores.

        ``upstream`` gives an ``answer_from`` block its answers. Statuses and ``record.judge`` are
        left to the caller (:func:`lmms_eval.judge.blocks.judge_records`).
        """
        items = self._plan(records, upstream)
        await self._run_calls(items)
        for item in items:
            self._decide(item, records[item.index])
        return self._write(items, records)

    async def run(self, records: list[SampleRecord]) -> list[SampleRecord]:
        """Judge ``records`` in place with this one block (see the module docstring) and return them."""
        reset_judge_errors(records)
        for index, result in (await self.judge_block(records)).items():
            records[index].judge = result.entry
            if result.errors:
                records[index].fail(JUDGE_ERROR, "judge: " + "; ".join(result.errors))
        return records

    def run_sync(self, records: list[SampleRecord]) -> list[SampleRecord]:
        """Synchronous :meth:`run`."""
        return run_sync(self.run(records))
