"""Search protocols: MMSearch-R1's Search Template and the ReAct ("General Search") template.

**mmsearch_r1** (EvolvingLMMs-Lab/multimodal-search-r1 at 583c6b4, rollout in
``mmsearch_r1/workers/multimodal/rollout/vllm_rollout_spmd.py``; read, not copied):

1. Turn 1: the Search Template, the sample's image, then the question (no system message).
2. A turn whose text, right-stripped, ends with ``<search><img></search>`` is an image search of
   the sample's (first) image; one ending with ``<text_search>QUERY</text_search>`` a text search
   of QUERY; otherwise one holding ``<answer>...</answer>`` is the answer (the last one); anything
   else ends the conversation unanswered (``no_action``).
3. The result goes back as a user turn: "Searched results: <information>RESULTS</information>\\n
   Original user's question: QUESTION\\n" + the after-image or after-text instruction; a failed
   search sends the official error line alone (:mod:`lmms_eval.tools.formatting`).
4. Limits (``run_mmsearch_r1_grpo.sh``): 3 model turns, 1 image search, 2 text searches, top 5.

**react**: the ReACT Template as the system message; the user turn is the image and the question.
The last ``<search>...</search>`` or ``<answer>...</answer>`` tag of a turn is its action
(``<search>image</search>``, any case and spacing, searches the image; other text is a text query).
Results come back as ``<observation>RESULTS</observation>`` in MMSearch-R1's result format (the
template does not give one). Limits: the same as mmsearch_r1 (the template states none).

Both answer with the content of the last ``<answer>`` of the final turn; a final turn without one
gives an empty answer (scored as unanswered, never guessed).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from lmms_eval.agent.protocol import Action, AgentProtocol, Conversation, interleave
from lmms_eval.agent.search_prompts import MMSEARCH_R1_ROUND1, REACT_SYSTEM
from lmms_eval.api.messages import Image, Message, Text
from lmms_eval.metrics.extract import answer_tag_content
from lmms_eval.tools.formatting import format_search_results, next_turn_message, react_observation

if TYPE_CHECKING:
    from lmms_eval.agent.toolbox import ToolOutcome

_IMAGE_CALL = re.compile(r"<search><img></search>$")
_TEXT_CALL = re.compile(r"<text_search>([\s\S]*?)</text_search>$")
_REACT_TAG = re.compile(r"<(search|answer)>([\s\S]*?)</\1>", re.IGNORECASE)


def tagged_answer(text: str) -> str:
    """The content of the last ``<answer>...</answer>``; empty when there is none."""
    return answer_tag_content(text) or ""


def query_image(part: Image) -> Any:
    """What a search backend takes for an image part: its bytes, its file, or the decoded image."""
    if part.raw is not None:
        return part.raw
    if part.path is not None and "://" not in str(part.path):
        return part.path
    if part.data is not None:
        return part.data
    from lmms_eval.media.image import load_image

    return load_image(part)


class _SearchProtocol(AgentProtocol):
    tools: ClassVar[tuple[str, ...]] = ("image_search", "text_search")
    default_max_turns: ClassVar[int] = 3
    default_limits: ClassVar[dict[str, tuple[int, int]]] = {"image_search": (1, 5), "text_search": (2, 5)}

    def results(self, outcome: ToolOutcome) -> tuple[str, list[Any]]:
        """The formatted result text (image slots as ``<image>``) and the images for its slots."""
        kind: Literal["image", "text"] = "image" if outcome.tool == "image_search" else "text"
        formatted = format_search_results(kind, outcome.hits, budget=self.spec.result_budget, error=outcome.error)
        return formatted.text, list(formatted.images)

    def answer(self, text: str) -> str:
        return tagged_answer(text)


class MMSearchR1Protocol(_SearchProtocol):
    """MMSearch-R1's Search Template protocol (see the module docstring)."""

    name: ClassVar[str] = "mmsearch_r1"

    def begin(self, conv: Conversation) -> list[Message]:
        content: list[Any] = [Text(MMSEARCH_R1_ROUND1), *conv.images, Text(f"\n{conv.question}\n")]
        return [Message("user", content)]

    def parse(self, text: str, conv: Conversation) -> Action:
        tail = text.rstrip()
        if _IMAGE_CALL.search(tail):
            return Action("image_search", text)
        found = _TEXT_CALL.search(tail)
        if found:
            return Action("text_search", text, query=found.group(1).strip())
        answer = answer_tag_content(text)
        if answer is not None:
            return Action("answer", text, answer=answer)
        return Action("none", text)

    def observe(self, action: Action, outcome: ToolOutcome, conv: Conversation) -> Message:
        body, images = self.results(outcome)
        kind: Literal["image", "text"] = "image" if outcome.tool == "image_search" else "text"
        return Message("user", interleave(next_turn_message(body, conv.question, kind), images))


class ReActProtocol(_SearchProtocol):
    """The ReAct ("General Search") template protocol (see the module docstring)."""

    name: ClassVar[str] = "react"
    system_prompt: ClassVar[str | None] = REACT_SYSTEM

    def begin(self, conv: Conversation) -> list[Message]:
        return [Message("system", [Text(REACT_SYSTEM)]), Message("user", [*conv.images, Text(conv.question)])]

    def parse(self, text: str, conv: Conversation) -> Action:
        tags = list(_REACT_TAG.finditer(text))
        if not tags:
            return Action("none", text)
        last = tags[-1]
        content = last.group(2).strip()
        if last.group(1).lower() == "answer":
            return Action("answer", text, answer=content)
        if content.lower() == "image":
            return Action("image_search", text)
        if not content:
            return Action("none", text)
        return Action("text_search", text, query=content)

    def observe(self, action: Action, outcome: ToolOutcome, conv: Conversation) -> Message:
        body, images = self.results(outcome)
        return Message("user", interleave(react_observation(body), images))
