"""The agent loop: multi-turn conversations with tools, batched turn by turn across samples.

For a batch of samples whose task has an ``agent:`` block (:mod:`lmms_eval.agent.spec`):

1. each sample's protocol writes its first messages from the task's prompt;
2. every conversation still open goes to the model together, as one batch of requests that
   re-send the whole conversation (so any adapter works: HF, vLLM, API), through
   :func:`~lmms_eval.engine.preflight.call_isolated` (one failing sample cannot fail the rest);
3. each reply is parsed into an action: an answer, or no known action, ends the conversation;
   a tool call on the last allowed turn ends it (``max_turns``), as does a call past that tool's
   ``max_calls`` (``over_limit``); otherwise the tool runs (search calls concurrently, each under
   the task's ``timeout_s``, through the record/replay cache), and the protocol's result turn is
   appended. A failed or timed-out tool call is recorded and the model gets the protocol's error
   text; nothing is raised;
4. repeat until every conversation has ended.

Each sample comes back as a :class:`~lmms_eval.api.request.Response`: the last model turn, usage
summed over turns, ``extra["agent"]`` (the summary tool-use metrics read) and ``transcript``
(every model turn with its action, every tool call with its result by reference, every user
turn), which the sample record keeps. A model error ends that sample alone as an ``error``
record (retried by ``--resume``); samples are written when their batch ends, so a killed run
resumes per sample.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from lmms_eval.agent.protocol import (
    SEARCH_TOOLS,
    Action,
    AgentJob,
    AgentProtocol,
    Conversation,
    describe_message,
    task_images,
    task_question,
)
from lmms_eval.api.errors import LmmsEvalError
from lmms_eval.api.messages import Message, Text
from lmms_eval.api.request import Request, Response
from lmms_eval.engine.preflight import call_isolated

if TYPE_CHECKING:
    from lmms_eval.agent.toolbox import Toolbox, ToolOutcome
    from lmms_eval.api.model import Model

log = logging.getLogger("lmms_eval")


def start(job: AgentJob, hints: dict[str, Any]) -> Conversation:
    """The conversation of one job, with the protocol's first messages (a failure ends it as an error)."""
    base = job.request.messages
    conv = Conversation(
        messages=[],
        question=job.question if job.question is not None else task_question(base),
        images=task_images(base),
        choices=job.choices,
        hints=dict(hints),
    )
    try:
        conv.messages = job.protocol.begin(conv)
    except LmmsEvalError:
        raise
    except Exception as exc:  # noqa: BLE001 - e.g. MGPO on a sample without an image
        conv.end("error", f"{job.request.label()}: cannot start protocol {job.protocol.name!r}: {exc}")
        return conv
    conv.transcript.extend({"turn": 0, **describe_message(m)} for m in conv.messages)
    return conv


def run_agents(
    model: Model[Any],
    jobs: Sequence[AgentJob],
    toolbox: Toolbox | None,
    prepare: Callable[[Request], None] | None = None,
) -> list[tuple[Response, Conversation]]:
    """Run every job's conversation to its end, all open conversations batched per turn."""
    hints = model_hints(model)
    convs = [start(job, hints) for job in jobs]
    while True:
        open_ = [i for i, conv in enumerate(convs) if not conv.done]
        if not open_:
            break
        requests = []
        for i in open_:
            request = turn_request(jobs[i].request, convs[i].messages)
            if prepare is not None:
                try:
                    prepare(request)
                except LmmsEvalError:
                    raise
                except Exception as exc:  # noqa: BLE001 - a result image that cannot be decoded ends that sample
                    convs[i].end("error", str(exc))
                    continue
            requests.append((i, request))
        if not requests:
            continue
        responses = call_isolated(model, [r for _, r in requests])
        calls: list[tuple[int, Action]] = []
        for (i, _), response in zip(requests, responses):
            action = take_turn(jobs[i].protocol, convs[i], response)
            if action is not None:
                calls.append((i, action))
        for (i, action), outcome in zip(calls, run_tools(jobs, convs, calls, toolbox)):
            deliver(jobs[i].protocol, convs[i], action, outcome)
    return [(final_response(job, conv), conv) for job, conv in zip(jobs, convs)]


def model_hints(model: Any) -> dict[str, Any]:
    """What protocols may need from the adapter (``image_pixels``: its image processor's limits)."""
    limits = getattr(model, "image_pixel_limits", None)
    try:
        pixels = limits() if callable(limits) else None
    except Exception:  # noqa: BLE001 - an adapter without a processor yet: protocols use their defaults
        pixels = None
    return {"image_pixels": tuple(pixels)} if pixels else {}


def turn_request(first: Request, messages: list[Message]) -> Request:
    """The request of the next turn: the conversation so far, the task's parameters and id."""
    return Request(
        task=first.task,
        doc_id=first.doc_id,
        messages=list(messages),
        params=first.params,
        repeat=first.repeat,
        id=first.id,
    )


def take_turn(protocol: AgentProtocol, conv: Conversation, response: Response) -> Action | None:
    """Fold one model reply into its conversation; the action when a tool must run, else None."""
    conv.prompt_tokens += response.prompt_tokens or 0
    conv.completion_tokens += response.completion_tokens or 0
    conv.latency_s += response.latency_s or 0.0
    if response.error is not None:
        conv.end("model_error", response.error)
        return None
    conv.turns += 1
    action = protocol.parse(response.text, conv)
    conv.final_text = action.text
    entry: dict[str, Any] = {"turn": conv.turns, "role": "assistant", "text": action.text, "action": action.to_dict()}
    if action.text != response.text:
        entry["cut"] = len(response.text) - len(action.text)
    conv.transcript.append(entry)
    if action.kind == "answer":
        conv.end("answer")
    elif action.kind == "none":
        conv.end("no_action")
    elif conv.turns >= protocol.max_turns:
        conv.end("max_turns")
    elif action.tool not in protocol.limits or conv.calls[action.tool] >= protocol.limits[action.tool].max_calls:
        conv.end("over_limit")
    else:
        return action
    return None


def run_tools(
    jobs: Sequence[AgentJob], convs: Sequence[Conversation], calls: list[tuple[int, Action]], toolbox: Toolbox | None
) -> list[ToolOutcome]:
    """Every pending tool call of this turn, concurrently; outcomes in call order."""
    if not calls:
        return []

    def one(item: tuple[int, Action]) -> ToolOutcome:
        i, action = item
        return call_tool(jobs[i].protocol, convs[i], action, toolbox)

    if len(calls) == 1:
        return [one(calls[0])]
    with cf.ThreadPoolExecutor(max_workers=min(16, len(calls)), thread_name_prefix="lmms-eval-agent") as pool:
        return list(pool.map(one, calls))


def call_tool(protocol: AgentProtocol, conv: Conversation, action: Action, toolbox: Toolbox | None) -> ToolOutcome:
    """One tool call; every failure becomes an outcome with ``error`` (never raised)."""
    from lmms_eval.agent.search import query_image
    from lmms_eval.agent.toolbox import ToolOutcome

    tool = action.tool or action.kind
    try:
        if tool in SEARCH_TOOLS:
            if toolbox is None:
                return ToolOutcome(tool=tool, query=action.query or "", error="no search backend (--tools)")
            k = protocol.limits[tool].top_k
            if tool == "text_search":
                return toolbox.search(tool, action.query or "", k, protocol.spec.timeout_s)
            if not conv.images:
                return ToolOutcome(tool=tool, query="", k=k, error="the sample has no image to search")
            return toolbox.search(tool, query_image(conv.images[0]), k, protocol.spec.timeout_s)
        return protocol.run_local(action, conv)
    except LmmsEvalError:
        raise
    except Exception as exc:  # noqa: BLE001 - a failing tool is a recorded failure
        return ToolOutcome(tool=tool, query=action.query or "", error=f"{type(exc).__name__}: {exc}")


def deliver(protocol: AgentProtocol, conv: Conversation, action: Action, outcome: ToolOutcome) -> None:
    """Append the model's turn and the tool's result turn to the conversation and transcript."""
    conv.calls[outcome.tool] += 1
    conv.transcript.append({"turn": conv.turns, **outcome.record()})
    try:
        reply = protocol.observe(action, outcome, conv)
    except LmmsEvalError:
        raise
    except Exception as exc:  # noqa: BLE001 - e.g. a result image that cannot be opened
        conv.end("error", f"cannot build the turn after {outcome.tool}: {type(exc).__name__}: {exc}")
        return
    conv.messages.extend([Message("assistant", [Text(action.text)]), reply])
    conv.transcript.append({"turn": conv.turns, **describe_message(reply)})


def final_response(job: AgentJob, conv: Conversation) -> Response:
    """What the sample record is made from: the last model turn, usage over all turns, the summary."""
    summary = conv.summary(job.protocol.name, job.protocol.limits)
    failed = conv.stop in ("model_error", "error")
    return Response(
        text=conv.final_text,
        error=conv.error if failed else None,
        prompt_tokens=conv.prompt_tokens or None,
        completion_tokens=conv.completion_tokens or None,
        latency_s=round(conv.latency_s, 6) if conv.latency_s else None,
        extra={"agent": summary},
        transcript=conv.transcript,
    )


class AgentRunner:
    """What the evaluator holds for agent tasks: the toolbox (built on first use, in the run's
    cache) and the turn from its batch items to the loop and back."""

    def __init__(self, tools: dict[str, Any] | None, cache_path: str | None = None) -> None:
        self.tools, self.cache_path = tools, cache_path
        """``cache_path``: the record/replay cache's default file (set once the run folder is known)."""
        self._toolbox: Toolbox | None = None
        self._live: Any = None

    def check(self, tasks: Sequence[Any]) -> None:
        """Before the run: a task whose protocol searches needs ``--tools`` (a UsageError says how),
        and the live backend ``--tools`` names is built now, so a bad one fails before any run folder."""
        from lmms_eval.agent.toolbox import BACKEND_HELP, live_backend
        from lmms_eval.api.errors import UsageError

        searching = [t for t in tasks if t.agent_protocol is not None and t.agent_protocol.search_tools]
        if searching and self.tools is None:
            task, protocol = searching[0], searching[0].agent_protocol
            raise UsageError(
                f"task {task.name!r} runs protocol {protocol.name!r}, which calls "
                f"{' and '.join(protocol.search_tools)}: {BACKEND_HELP}"
            )
        if searching and self.tools is not None:
            self._live = live_backend(self.tools)

    def toolbox(self) -> Toolbox | None:
        if self._toolbox is None and self.tools is not None:
            from lmms_eval.agent.toolbox import build_toolbox

            assert self.cache_path is not None, "the run folder (and its cache) is set before generation"
            self._toolbox = build_toolbox(self.tools, self.cache_path, self._live)
        return self._toolbox

    def run(
        self, model: Model[Any], items: Sequence[Any], prepare: Callable[[Request], None] | None
    ) -> list[tuple[Any, Response]]:
        """``(item, response)`` for batch items (``Built``) of agent tasks (the response carries the transcript)."""
        jobs, started = [], []
        out: list[tuple[Any, Response]] = []
        for item in items:
            try:
                jobs.append(item.task.agent_job(item.request, item.doc))
                started.append(item)
            except LmmsEvalError:
                raise
            except Exception as exc:  # noqa: BLE001 - e.g. the agent's question function fails on a row
                reason = f"{item.request.label()}: cannot start the agent: {type(exc).__name__}: {exc}"
                out.append((item, Response.failed(reason)))
        needs_tools = any(job.protocol.search_tools for job in jobs)
        finished = run_agents(model, jobs, self.toolbox() if needs_tools else None, prepare)
        out.extend((item, response) for item, (response, _conv) in zip(started, finished))
        return out

    def close(self) -> None:
        if self._toolbox is not None:
            self._toolbox.close()
            self._toolbox = None
