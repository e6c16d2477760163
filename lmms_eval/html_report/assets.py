"""The report's inline style sheet and script (no framework, nothing loaded from the network).

The script only filters the sample browser: it shows or hides ``.sample`` cards by run, task,
"wrong only", "errors only", a breakdown label and a text search, reading the cards' ``data-*``
attributes. It never builds HTML from data, so nothing in a sample can become markup.
"""

from __future__ import annotations

import base64
import hashlib

CSS = """
:root { --fg:#1d2433; --muted:#5b6475; --line:#d9dde5; --bg:#ffffff; --alt:#f5f7fa; --bad:#b3261e; --good:#1e7b34; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
       background: var(--bg); margin: 0 auto; max-width: 1200px; padding: 16px 24px 64px; }
h1 { font-size: 22px; margin: 8px 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 20px 0 6px; }
nav a { margin-right: 14px; } .muted, .note { color: var(--muted); } .note { font-size: 12px; }
table { border-collapse: collapse; margin: 6px 0 12px; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: var(--alt); } td.num { text-align: right; white-space: nowrap; }
.better { color: var(--good); } .worse { color: var(--bad); }
.chart svg { max-width: 100%; height: auto; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; } .charts > div { flex: 1 1 480px; }
.filters { position: sticky; top: 0; background: var(--bg); padding: 8px 0; border-bottom: 1px solid var(--line);
           display: flex; flex-wrap: wrap; gap: 12px; align-items: center; z-index: 1; }
.sample { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; margin: 10px 0; }
.sample[hidden] { display: none; }
.sample header { display: flex; flex-wrap: wrap; gap: 10px; align-items: baseline; }
.badge { border-radius: 10px; padding: 0 8px; font-size: 12px; background: var(--alt); border: 1px solid var(--line); }
.badge.error, .badge.wrong { color: var(--bad); border-color: var(--bad); }
.badge.right { color: var(--good); border-color: var(--good); }
pre { white-space: pre-wrap; word-break: break-word; background: var(--alt); padding: 6px 8px; margin: 4px 0;
      max-height: 320px; overflow: auto; font-size: 12.5px; }
.field { margin: 4px 0; } .field > b { display: inline-block; min-width: 92px; color: var(--muted); font-weight: 600; }
img.thumb { max-width: 256px; max-height: 256px; border: 1px solid var(--line); margin: 4px 4px 4px 0; }
audio { vertical-align: middle; max-width: 100%; }
details { margin: 4px 0; } summary { cursor: pointer; color: var(--muted); }
.turn { border-left: 3px solid var(--line); padding-left: 8px; margin: 6px 0; }
"""

JS = """
(function () {
  "use strict";
  var cards = Array.prototype.slice.call(document.querySelectorAll(".sample"));
  var ids = ["f-run", "f-task", "f-wrong", "f-errors", "f-bd", "f-text"];
  function el(id) { return document.getElementById(id); }
  function value(id) { var e = el(id); return e ? e.value : ""; }
  function checked(id) { var e = el(id); return !!(e && e.checked); }
  function apply() {
    var run = value("f-run"), task = value("f-task"), bd = value("f-bd");
    var text = value("f-text").toLowerCase(), wrong = checked("f-wrong"), errors = checked("f-errors");
    var shown = 0;
    cards.forEach(function (c) {
      var ok = (!run || c.getAttribute("data-run") === run) &&
               (!task || c.getAttribute("data-task") === task) &&
               (!wrong || c.getAttribute("data-wrong") === "1") &&
               (!errors || c.getAttribute("data-status") !== "ok") &&
               (!bd || (c.getAttribute("data-bd") || "").indexOf("|" + bd + "|") >= 0) &&
               (!text || c.textContent.toLowerCase().indexOf(text) >= 0);
      c.hidden = !ok;
      if (ok) { shown += 1; }
    });
    var count = el("f-count");
    if (count) { count.textContent = shown + " of " + cards.length + " samples shown"; }
  }
  ids.forEach(function (id) {
    var e = el(id);
    if (e) { e.addEventListener("input", apply); e.addEventListener("change", apply); }
  });
  apply();
})();
"""


def script_hash(script: str = JS) -> str:
    """The CSP source (``'sha256-...'``) that allows exactly this inline script and no other."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def content_security_policy(script: str = JS) -> str:
    """The page's policy: nothing from the network; only data: media and the report's own script."""
    return (
        "default-src 'none'; img-src data:; media-src data:; style-src 'unsafe-inline'; "
        f"script-src {script_hash(script)}; base-uri 'none'; form-action 'none'"
    )
