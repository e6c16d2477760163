"""The sample browser: one card per kept sample (prompt with image thumbnails and audio players,
output, parsed answer, target, scores, judge verdict, agent transcript, retrieval context) and the
filter bar the inline script reads. Every value from a record is escaped."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lmms_eval.html_report.collect import Sample, TaskSamples
from lmms_eval.html_report.markup import esc, pre
from lmms_eval.html_report.media import MediaEmbedder
from lmms_eval.html_report.runs import mapping
from lmms_eval.html_report.samples import score_text


def _field(name: str, body: str) -> str:
    return f'<div class="field"><b>{esc(name)}</b> {body}</div>'


def _media(part: Mapping[str, Any], media: MediaEmbedder) -> str:
    kind = part.get("type")
    if kind == "image":
        got = media.image(part.get("path"))
        if got.uri:
            return f'<img class="thumb" alt="{esc(part.get("path"))}" src="{esc(got.uri)}">'
        return f'<div class="note">[{esc(got.note)}]</div>'
    if kind == "audio":
        length = f" ({part['seconds']} s)" if part.get("seconds") is not None else ""
        got = media.audio(part.get("path"))
        if got.uri:
            return f'<div><audio controls preload="none" src="{esc(got.uri)}"></audio>{esc(length)}</div>'
        return f'<div class="note">[{esc(got.note)}{esc(length)}]</div>'
    if kind == "video":
        return f'<div class="note">[video not embedded: {esc(part.get("path") or "from the dataset")}]</div>'
    return pre({k: v for k, v in part.items()})


def prompt_html(messages: Any, media: MediaEmbedder) -> str:
    """The logged chat messages: text as text, images as thumbnails, audio as players."""
    out = []
    for message in messages if isinstance(messages, list) else []:
        if not isinstance(message, Mapping):
            continue
        content = message.get("content")
        parts: list[Any] = [{"type": "text", "text": content}] if isinstance(content, str) else content or []
        body = []
        for part in parts:
            if isinstance(part, Mapping) and part.get("type") == "text":
                body.append(pre(str(part.get("text", ""))))
            elif isinstance(part, Mapping):
                body.append(_media(part, media))
        out.append(f'<div class="turn"><span class="muted">{esc(message.get("role", ""))}</span>{"".join(body)}</div>')
    return "".join(out)


def judge_entries(judge: Mapping[str, Any]) -> list[tuple[str, str, Mapping[str, Any]]]:
    """``(metric, filter, entry)`` of every judge verdict of a record, one block or several."""
    blocks = judge.get("blocks")
    items = blocks.items() if isinstance(blocks, Mapping) else [(judge.get("metric", "judge"), judge)]
    out = []
    for metric, block in items:
        filters = block.get("filters") if isinstance(block, Mapping) else None
        for filt, entry in (filters or {}).items():
            if isinstance(entry, Mapping):
                out.append((str(metric), str(filt), entry))
    return out


def judge_html(judge: Any) -> str:
    """Each verdict on one line (stage, verdict, value, error), the calls in a fold."""
    if not isinstance(judge, Mapping):
        return ""
    lines = []
    for metric, filt, entry in judge_entries(judge):
        said = ", ".join(
            f"{k}: {entry[k]}" for k in ("stage", "verdict", "value", "error", "skipped") if entry.get(k) is not None
        )
        calls = entry.get("calls") or []
        fold = f"<details><summary>{len(calls)} judge call(s)</summary>{pre(calls)}</details>" if calls else ""
        lines.append(f"<div>{esc(metric)} [{esc(filt)}]: {esc(said)}{fold}</div>")
    return "".join(lines) or pre(judge)


def transcript_html(turns: Any, media: MediaEmbedder) -> str:
    """An agent transcript: one block per turn (role and text, messages with their images; tool
    calls with query and hits)."""
    out = []
    for turn in turns if isinstance(turns, list) else []:
        if not isinstance(turn, Mapping):
            continue
        head = " ".join(str(turn[k]) for k in ("turn", "role", "tool") if turn.get(k) is not None)
        text, content = turn.get("text"), turn.get("content")
        rest = {k: v for k, v in turn.items() if k not in ("turn", "role", "tool", "text", "content")}
        body = pre(text) if isinstance(text, str) else ""
        if isinstance(content, (str, list)):
            body += prompt_html([{"role": "", "content": content}], media)
        body += pre(rest) if rest else ""
        out.append(f'<div class="turn"><span class="muted">{esc(head)}</span>{body}</div>')
    return "".join(out)


def card(ts: TaskSamples, sample: Sample, media: MediaEmbedder) -> str:
    """One sample's card, with the ``data-*`` attributes the filters read."""
    r = sample.record
    status = str(r.get("status", "ok"))
    scores = mapping(r.get("scores"))
    verdict = "" if sample.wrong is None else ("wrong" if sample.wrong else "right")
    head = [
        f"<b>{esc(ts.task.alias)}</b>",
        '<span class="muted">'
        + esc(f"doc {r.get('doc_id')} · index {r.get('index')} · repeat {r.get('repeat', 0)}")
        + "</span>",
        f'<span class="badge {"error" if status != "ok" else ""}">{esc(status)}</span>',
    ]
    if verdict and sample.primary:
        said = f"{verdict}: {sample.primary} = {score_text(scores[sample.primary])}"
        head.append(f'<span class="badge {verdict}">{esc(said)}</span>')
    if sample.seconds is not None:
        head.append(f'<span class="muted">{sample.seconds:.1f} s audio</span>')
    parts = [f"<header>{''.join(head)}</header>"]
    if r.get("error"):
        parts.append(_field("error", f'<span class="worse">{esc(r["error"])}</span>'))
    parts.append(_field("prompt", prompt_html(r.get("prompt"), media)))
    parts.append(_field("output", pre(str(r.get("raw_output") or ""))))
    filtered = r.get("filtered")
    if isinstance(filtered, Mapping):
        for name, value in filtered.items():
            parts.append(_field(f"answer [{name}]", pre(value if isinstance(value, str) else value)))
    parts.append(_field("target", pre(r.get("target"))))
    if scores:
        parts.append(_field("scores", esc("; ".join(f"{k} = {score_text(v)}" for k, v in scores.items()))))
    if sample.labels:
        parts.append(_field("labels", esc(", ".join(sample.labels))))
    if r.get("judge") is not None:
        parts.append(_field("judge", judge_html(r["judge"])))
    folds = [
        ("transcript", transcript_html(r.get("transcript"), media) if r.get("transcript") else ""),
        ("context (retrieval)", pre(r["context"]) if r.get("context") is not None else ""),
        ("extra", pre(r["extra"]) if r.get("extra") else ""),
        ("document", pre(r["doc"]) if r.get("doc") else ""),
    ]
    for name, body in folds:
        if body:
            parts.append(f"<details><summary>{esc(name)}</summary>{body}</details>")
    bd = "|" + "".join(f"{ts.task.name}::{label}|" for label in sample.labels)
    attrs = (
        f'data-run="{esc(ts.run.label)}" data-task="{esc(ts.task.name)}" data-status="{esc(status)}" '
        f'data-wrong="{1 if sample.wrong else 0}" data-bd="{esc(bd)}"'
    )
    return f'<article class="sample" {attrs}>{"".join(parts)}</article>'


def _options(values: Sequence[tuple[str, str]], everything: str) -> str:
    opts = [f'<option value="">{esc(everything)}</option>']
    opts += [f'<option value="{esc(v)}">{esc(text)}</option>' for v, text in values]
    return "".join(opts)


def browser(collected: Sequence[TaskSamples], media: MediaEmbedder, max_samples: int) -> str:
    """The filter bar, one note per task on how many samples are shown, and the cards."""
    if not collected:
        return '<p class="muted">No sample logs in these runs (run with --log_samples to browse samples).</p>'
    runs = list(dict.fromkeys(ts.run.label for ts in collected))
    tasks = list(dict.fromkeys((ts.task.name, ts.task.alias) for ts in collected))
    labels = list(
        dict.fromkeys(
            (f"{ts.task.name}::{lab}", f"{ts.task.alias}: {lab}")
            for ts in collected
            for s in ts.kept
            for lab in s.labels
        )
    )
    bar = ['<div class="filters">']
    if len(runs) > 1:
        bar.append(f'<label>run <select id="f-run">{_options([(r, r) for r in runs], "all runs")}</select></label>')
    bar.append(f'<label>task <select id="f-task">{_options(tasks, "all tasks")}</select></label>')
    bar.append('<label><input type="checkbox" id="f-wrong"> wrong only</label>')
    bar.append('<label><input type="checkbox" id="f-errors"> errors only</label>')
    if labels:
        bar.append(f'<label>category <select id="f-bd">{_options(labels, "all categories")}</select></label>')
    bar.append('<label>search <input type="search" id="f-text" placeholder="text in the sample"></label>')
    bar.append('<span id="f-count" class="muted"></span></div>')
    notes: list[str] = []
    cards: list[str] = []
    for ts in collected:
        capped = (
            f" (the first {len(ts.kept)} are shown: --max-samples {max_samples})" if ts.total > len(ts.kept) else ""
        )
        notes.append(
            f"<li>{esc(ts.task.alias)} ({esc(ts.run.label)}): {ts.total} samples, {ts.wrong} wrong, "
            f"{ts.failed} failed{esc(capped)}</li>"
        )
        cards.extend(card(ts, s, media) for s in ts.kept)
    return "".join(bar) + f'<ul class="note">{"".join(notes)}</ul>' + "".join(cards)
