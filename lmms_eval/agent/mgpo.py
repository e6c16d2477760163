"""MGPO's two-turn grounding protocol (arXiv 2507.05920; xinyu1205/verl branch ``mgpo`` at 994efbe).

1. System: MGPO's system prompt. Turn 1: the image after MGPO's ``process_image`` (NEAREST resize
   into 200,704..1,003,520 pixels) and "QUESTION. Out the coordinates of the key image area
   relevant to the problem in JSON format." (no choices).
2. The reply is cut right after its first valid ```` ```json ```` box block (as MGPO's rollout
   truncates it); the box is in pixels of the model input, i.e. the processor's ``smart_resize``
   of the turn-1 image (with the adapter's own pixel limits when it reports them).
3. The box is checked (inside the input, each side > 28 px, aspect < 100), mapped back to the
   ORIGINAL image, cropped there and passed through ``process_image``; turn 2 sends the crop with
   the question and choices. No valid box: the original image again with MGPO's fallback text,
   recorded as a failed grounding (``grounding.valid`` false), never an error.
4. The answer is the content of the last ``\\boxed{}`` of turn 2 (MGPO's ``extract_boxed_content``);
   none gives an empty answer.

The geometry lives in :mod:`lmms_eval.tools.crop`; this module only drives the dialogue.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from lmms_eval.agent.protocol import Action, AgentProtocol, Conversation, interleave
from lmms_eval.api.messages import Image, Message, Text
from lmms_eval.metrics.extract import last_boxed
from lmms_eval.tools import crop

if TYPE_CHECKING:
    from lmms_eval.agent.toolbox import ToolOutcome

_LABELLED = re.compile(r"^\([A-J]\)")


def mgpo_choices(options: Sequence[Any] | None) -> str:
    """The ``{choices}`` text of turn 2 ("" without options); options that already start with
    "(A)" etc. (MME-RealWorld) are kept as they are."""
    if not options:
        return ""
    texts = [str(o) for o in options]
    return crop.format_mgpo_choices(texts, labelled=all(_LABELLED.match(t) for t in texts))


class MGPOProtocol(AgentProtocol):
    """MGPO's fixed two-turn grounding dialogue (see the module docstring)."""

    name: ClassVar[str] = "mgpo"
    tools: ClassVar[tuple[str, ...]] = ("crop",)
    default_max_turns: ClassVar[int] = 2
    default_limits: ClassVar[dict[str, tuple[int, int]]] = {"crop": (1, 1)}
    system_prompt: ClassVar[str | None] = crop.MGPO_SYSTEM_PROMPT

    def original(self, conv: Conversation) -> Any:
        """The sample's first image, decoded at full resolution."""
        from lmms_eval.media.image import load_image

        if not conv.images:
            raise ValueError("MGPO needs an image and this sample has none")
        return load_image(conv.images[0])

    def input_size(self, shown: tuple[int, int], conv: Conversation) -> tuple[int, int]:
        """The model-input size of the turn-1 image: the processor's smart_resize of what was sent."""
        lo, hi = conv.hints.get("image_pixels") or (
            crop.QWEN25VL_PROCESSOR_MIN_PIXELS,
            crop.QWEN25VL_PROCESSOR_MAX_PIXELS,
        )
        return crop.model_input_size(shown[0], shown[1], lo, hi)

    def begin(self, conv: Conversation) -> list[Message]:
        shown = crop.mgpo_process_image(self.original(conv))
        conv.state["grounding"] = {"input_size": list(self.input_size(shown.size, conv))}
        return [
            Message("system", [Text(crop.MGPO_SYSTEM_PROMPT)]),
            Message("user", [Image(data=shown), Text(crop.mgpo_turn1_text(conv.question))]),
        ]

    def parse(self, text: str, conv: Conversation) -> Action:
        if conv.turns == 1:
            found = crop.find_mgpo_box(text)
            return Action("crop", text[: found[1]] if found else text)
        return Action("answer", text, answer=last_boxed(text) or "")

    def run_local(self, action: Action, conv: Conversation) -> ToolOutcome:
        from lmms_eval.agent.toolbox import ToolOutcome

        original = self.original(conv)
        input_size = tuple(conv.state["grounding"]["input_size"])  # computed by begin() from the image it sent
        outcome, image = crop.ground_and_crop(action.text, original, input_size=(input_size[0], input_size[1]))
        details = outcome.to_dict()
        conv.state["grounding"] = details
        box = details.get("box_input")
        return ToolOutcome(
            tool="crop",
            query=str(box) if box else "",
            error=None if outcome.valid else outcome.reason,
            details={"grounding": details},
            payload=(outcome.valid, image),
        )

    def observe(self, action: Action, outcome: ToolOutcome, conv: Conversation) -> Message:
        valid, image = outcome.payload if outcome.payload is not None else (False, None)
        if image is None:  # the crop tool itself failed: MGPO's fallback with the original image
            image = crop.mgpo_process_image(self.original(conv))
        text = crop.mgpo_turn2_text(bool(valid), conv.question, mgpo_choices(conv.choices))
        return Message("user", interleave(text, [Image(data=image)]))

    def answer(self, text: str) -> str:
        return last_boxed(text) or ""
