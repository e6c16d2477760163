"""Tool results as the text a search agent reads next, within a token budget.

Protocols:

- **MMSearch-R1** (EvolvingLMMs-Lab/multimodal-search-r1, commit 583c6b49bb6c99db81aab56f64dbbfb8c8e1a9a3):
  result headers and line shapes from ``mmsearch_r1/utils/tools/image_search.py`` and
  ``text_search.py`` (placeholders: the real pipeline is unreleased, so the per-hit line of a text
  result, "N. (link) summary", is reconstructed from the placeholder "1. (webpage link) Summary of
  webpage content..."); next-turn wrapper from ``mmsearch_r1/workers/multimodal/rollout/
  vllm_rollout_spmd.py`` (a failed search is sent bare, without the wrapper); the follow-up
  instructions are the strings pickled in ``mmsearch_r1/prompts/after_{image,text}_search_prompt_qwenvl.pkl``
  (read as text; copied here as facts).
- **ReAct** ("General Search" template, ../shared/seed_templates.md): results inside
  ``<observation>...</observation>``.

Hits are plain objects: a dict or anything with attributes ``title``, ``url``, ``snippet`` (or
``text``/``summary``) and ``image``/``thumbnail`` -- e.g. :class:`lmms_eval.tools.base.SearchHit`.
Images are never embedded in text: each image hit yields the ``image_token`` placeholder and its
image reference is returned in :attr:`FormattedResults.images`, in placeholder order.

Budgets count TEXT tokens with a callable ``count_tokens(str) -> int`` (default: whitespace words);
the tokens an image placeholder expands to inside the model are not counted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

TokenCounter = Callable[[str], int]

IMAGE_RESULTS_HEADER = (
    "[Image Search Results] The result of the image search consists of web page information related to the image "
    "from the user's original question. Each result includes the main image from the web page and its title, "
    "ranked in descending order of search relevance, as demonstrated below:\n"
)
TEXT_RESULTS_HEADER = (
    "[Text Search Results] Below are the text summaries of the most relevant webpages related to your query, "
    "ranked in descending order of relevance:\n"
)
# "capaibilities" is the official spelling.
IMAGE_SEARCH_ERROR = (
    "[Image Search Results] There is an error encountered in performing search. "
    "Please reason with your own capaibilities."
)
TEXT_SEARCH_ERROR = (
    "[Text Search Results] There is an error encountered in performing search. "
    "Please reason with your own capaibilities."
)
AFTER_IMAGE_SEARCH_PROMPT = (
    "Please extract the visual element relevant to the user's question (such as faces, objects, locations, events, "
    "logos, or text) from the search results. Then, combine this information with the user's question and perform "
    "reasoning to determine whether a Google text search is needed to retrieve additional information to answer "
    "the question.\nIf a text search is needed, output the string <text_search>your query here</text_search> at the "
    "end of your response. Please generate a well-crafted query based on the visual element that will help "
    "retrieve the most relevant information.\nIf a text search is not needed, use your own knowledge to directly "
    "answer the user's question.\nYou must conduct your reasoning inside <reason> and </reason> before taking any "
    "action, whether it's generating a text search query or providing a final answer. If you decide to give the "
    "final answer, place it inside <answer> and </answer>, without detailed explanation or illustration.\n"
    "For example: <answer>Titanic</answer>"
)
AFTER_TEXT_SEARCH_PROMPT = (
    "Please analyze the search results and the user's question and continue reasoning inside <reason> and "
    "</reason>.\nIf you determine that additional knowledge is still required to answer the user's question, stop "
    "responding to the question and instead report a warning by outputting the string 'Unable to answer due to "
    "lack of relevant information' at the end of your response.\nIf no further external information is needed, "
    "you should provide the final answer by placing it within <answer> and </answer>. The answer must be concise, "
    "clear, and to the point, without any additional explanation or elaboration."
)
ELLIPSIS = " ..."


@dataclass
class FormattedResults:
    """Rendered results: ``text``, the image refs for its placeholders, and what the budget cut."""

    text: str
    images: list[Any] = field(default_factory=list)
    hits_total: int = 0
    hits_shown: int = 0
    text_truncated: bool = False  # the last shown hit's text was shortened
    over_budget: bool = False  # even the header alone (or the error line) exceeds the budget

    @property
    def truncated(self) -> bool:
        """True when anything was cut."""
        return self.hits_shown < self.hits_total or self.text_truncated


def count_words(text: str) -> int:
    """Default token counter: whitespace-separated words."""
    return len(text.split())


def hit_field(hit: Any, *names: str) -> Any:
    """First non-empty of ``names`` on a dict or an object (None when all are missing/empty)."""
    for name in names:
        value = hit.get(name) if isinstance(hit, dict) else getattr(hit, name, None)
        if value not in (None, ""):
            return value
    return None


def _one_line(value: Any) -> str:
    return " ".join(str(value or "").split())


def _image_hit_line(rank: int, hit: Any, image_token: str, body: str | None = None) -> str:
    title = _one_line(hit_field(hit, "title")) if body is None else body
    return f"{rank}. image: {image_token}\ntitle: {title}\n"


def _text_hit_line(rank: int, hit: Any, body: str | None = None) -> str:
    text = _one_line(hit_field(hit, "snippet", "text", "summary")) if body is None else body
    return f"{rank}. ({_one_line(hit_field(hit, 'url'))}) {text}\n"


def _hit_body(kind: str, hit: Any) -> str:
    return _one_line(hit_field(hit, "title") if kind == "image" else hit_field(hit, "snippet", "text", "summary"))


def _render(kind: str, rank: int, hit: Any, image_token: str, body: str | None = None) -> str:
    return _image_hit_line(rank, hit, image_token, body) if kind == "image" else _text_hit_line(rank, hit, body)


def _shorten_body(
    kind: str, rank: int, hit: Any, image_token: str, room: int, count_tokens: TokenCounter
) -> str | None:
    """The hit's line with its body cut to the longest word prefix (+ ELLIPSIS) that fits ``room``."""
    words = _hit_body(kind, hit).split()
    best: str | None = None
    lo, hi = 0, len(words) - 1  # prefixes shorter than the full body
    while lo <= hi:
        mid = (lo + hi) // 2
        line = _render(kind, rank, hit, image_token, (" ".join(words[:mid]) + ELLIPSIS).strip())
        if count_tokens(line) <= room:
            best, lo = line, mid + 1
        else:
            hi = mid - 1
    return best


def format_search_results(
    kind: Literal["image", "text"],
    hits: Sequence[Any],
    budget: int | None = None,
    count_tokens: TokenCounter = count_words,
    image_token: str = "<image>",
    error: str | None = None,
) -> FormattedResults:
    """MMSearch-R1 result text for ``hits`` (best first) of an image or text search.

    Image: header + "N. image: <image>\\ntitle: T\\n" per hit (a hit without ``image``/``thumbnail``
    is skipped, since the protocol pairs each title with its picture). Text: header + "N. (url) summary\\n".
    ``error`` (or no usable hit) gives the official error line. Over ``budget`` tokens: drop whole hits
    from the end; if the first hit alone still does not fit, cut its text (title/summary) word by
    word, ending with " ..."; if not even that fits, no hit is shown. Tags, the rank, the url and the
    image placeholder are never cut. A header alone over budget is returned with ``over_budget``.
    """
    if kind not in ("image", "text"):
        raise ValueError(f"search kind must be 'image' or 'text', got {kind!r}")
    header = IMAGE_RESULTS_HEADER if kind == "image" else TEXT_RESULTS_HEADER
    usable = [h for h in hits if kind == "text" or hit_field(h, "image", "thumbnail") is not None]
    if error is not None or not usable:
        err = IMAGE_SEARCH_ERROR if kind == "image" else TEXT_SEARCH_ERROR
        return FormattedResults(
            err, hits_total=len(usable), over_budget=budget is not None and count_tokens(err) > budget
        )
    lines = [_render(kind, i + 1, h, image_token) for i, h in enumerate(usable)]
    shown, text_cut = len(lines), False
    if budget is not None:
        while shown > 0 and count_tokens(header + "".join(lines[:shown])) > budget:
            shown -= 1
        if shown == 0:
            room = budget - count_tokens(header)
            short = _shorten_body(kind, 1, usable[0], image_token, room, count_tokens) if room > 0 else None
            if short is not None:
                lines[0], shown, text_cut = short, 1, True
    text = header + "".join(lines[:shown])
    images = [hit_field(h, "image", "thumbnail") for h in usable[:shown]] if kind == "image" else []
    over = budget is not None and count_tokens(text) > budget
    return FormattedResults(text, images, len(usable), shown, text_cut, over)


def next_turn_message(results: FormattedResults | str, question: str, kind: Literal["image", "text"]) -> str:
    """MMSearch-R1's next user turn: "Searched results: <information>{results}</information>\\n
    Original user's question: {question}\\n{after-search prompt}". A failed search (an error line)
    is sent as it is, without the wrapper, as the official rollout does."""
    text = results.text if isinstance(results, FormattedResults) else results
    if text in (IMAGE_SEARCH_ERROR, TEXT_SEARCH_ERROR):
        return text
    after = AFTER_IMAGE_SEARCH_PROMPT if kind == "image" else AFTER_TEXT_SEARCH_PROMPT
    return f"Searched results: <information>{text}</information>\nOriginal user's question: {question}\n{after}"


def react_observation(results: FormattedResults | str) -> str:
    """ReAct template: results inside ``<observation>`` and ``</observation>`` (no other wrapper)."""
    text = results.text if isinstance(results, FormattedResults) else results
    return f"<observation>{text}</observation>"
