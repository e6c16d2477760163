"""Where two runs were not run alike: the warnings ``compare`` prints before its verdict.

A difference in model arguments, generation parameters, prompts, dataset revision or data,
task version or config, or the judge means the two numbers are not like for like: the
comparison still runs, with the difference named. Read from each side's results.json (a golden
file records the same ``config``/``task_hashes``/``dataset``/``judge`` blocks) and, where both
sides are run folders, from the sample records the two runs share.
"""

from __future__ import annotations

import json
from typing import Any

from lmms_eval.compare.runs import RunData

RUN_KEYS = ("model", "model_args", "gen_kwargs", "limit", "offset", "seed")
TASK_CONFIG_KEYS = (
    "doc_to_text",
    "doc_to_choice",
    "lmms_eval_specific_kwargs",
    "generation_kwargs",
    "prompt_variant",
    "filter_list",
    "metric_list",
    "judge",
    "agent",
    "dataset_path",
    "dataset_name",
    "dataset_kwargs",
    "test_split",
)
DATASET_KEYS = ("path", "name", "split", "revision", "fingerprint")
JUDGE_KEYS = ("model", "base_url", "temperature", "max_tokens", "prompt", "template")


def _show(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _diff(where: str, a: Any, b: Any, keys: tuple[str, ...]) -> list[str]:
    a, b = a if isinstance(a, dict) else {}, b if isinstance(b, dict) else {}
    return [f"{where}{k} differ: {_show(a.get(k))} vs {_show(b.get(k))}" for k in keys if a.get(k) != b.get(k)]


def config_warnings(base: RunData, cand: RunData, tasks: list[str]) -> list[str]:
    """One line per difference that makes the runs not like for like (baseline value first)."""
    rb, rc = base.raw, cand.raw
    out = _diff("run config: ", rb.get("config"), rc.get("config"), RUN_KEYS) if "config" in rb else []
    jb = (rb.get("judge") or {}).get("config")
    jc = (rc.get("judge") or {}).get("config")
    if (jb is None) != (jc is None):
        judge_b = "none" if jb is None else _show(jb.get("model"))
        judge_c = "none" if jc is None else _show(jc.get("model"))
        out.append(f"judge differs: {judge_b} vs {judge_c}")
    elif jb is not None:
        out += _diff("judge ", jb, jc, JUDGE_KEYS)
    for task in tasks:
        hb, hc = (rb.get("task_hashes") or {}).get(task), (rc.get("task_hashes") or {}).get(task)
        if hb and hc and hb != hc:
            cb, cc = (rb.get("configs") or {}).get(task), (rc.get("configs") or {}).get(task)
            named = _diff(f"{task}: ", cb, cc, TASK_CONFIG_KEYS) if cb is not None and cc is not None else []
            out += named or [f"{task}: task config differs (hash {hb} vs {hc})"]
        vb, vc = (rb.get("versions") or {}).get(task), (rc.get("versions") or {}).get(task)
        if vb is not None and vc is not None and vb != vc:
            out.append(f"{task}: task version differs: {vb} vs {vc}")
        db, dc = (rb.get("dataset") or {}).get(task), (rc.get("dataset") or {}).get(task)
        if db is not None and dc is not None:
            out += _diff(f"{task}: dataset ", db, dc, DATASET_KEYS)
        if base.has_samples(task) and cand.has_samples(task):
            out += _sample_warnings(base, cand, task)
    return out


def _prompt_text(record: Any) -> str:
    """The prompt's roles and texts, media by kind only (their paths differ between machines)."""
    parts = []
    for message in record.prompt or []:
        content = message.get("content") if isinstance(message, dict) else None
        items = content if isinstance(content, list) else [{"type": "text", "text": content}]
        for item in items:
            kind = item.get("type") if isinstance(item, dict) else "text"
            text = item.get("text") if isinstance(item, dict) and kind == "text" else None
            parts.append((message.get("role"), kind, text))
    return json.dumps(parts, default=str)


def _sample_warnings(base: RunData, cand: RunData, task: str) -> list[str]:
    """Prompts and generation parameters of the samples both runs hold, compared one by one."""
    ra, rb = base.records(task), cand.records(task)
    shared = sorted(set(ra) & set(rb))
    out = []
    if not shared and ra and rb:
        out.append(f"{task}: the runs share no sample (disjoint sample sets: {len(ra)} vs {len(rb)})")
        return out
    prompts = sum(1 for k in shared if _prompt_text(ra[k]) != _prompt_text(rb[k]))
    if prompts:
        out.append(f"{task}: prompts differ on {prompts} of {len(shared)} shared samples")
    gens = [k for k in shared if (ra[k].generation or {}) != (rb[k].generation or {})]
    if gens:
        k = gens[0]
        out.append(
            f"{task}: generation parameters differ on {len(gens)} of {len(shared)} shared samples "
            f"(e.g. {_show(ra[k].generation)} vs {_show(rb[k].generation)})"
        )
    only_a, only_b = len(set(ra) - set(rb)), len(set(rb) - set(ra))
    if only_a or only_b:
        out.append(
            f"{task}: different sample sets: {len(shared)} shared, {only_a} in the baseline only, "
            f"{only_b} in the candidate only (tests use the shared samples)"
        )
    return out
