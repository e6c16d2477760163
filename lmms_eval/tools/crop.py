"""MGPO grounding crop: parse the model's box, check it, map it to the original image, crop, re-process.

MGPO (arXiv 2507.05920) runs a fixed two-turn dialogue. Turn 1 shows the (resized) image and the
question; the model answers with a bounding box in a ```json block. The harness crops that region
from the ORIGINAL full-resolution image and shows it in turn 2 next to the question and choices.
This module is the geometry and text of that protocol as a plain API; the ``mgpo`` protocol
(lmms_eval/agent/mgpo.py) drives the dialogue through the engine's agent loop.

Rules re-implemented from the official code (read, not copied), xinyu1205/verl branch ``mgpo``,
commit 994efbe611e89e5ba153d32c2461a58f45e72e24:

- ``verl/workers/rollout/vllm_rollout/vllm_rollout_spmd.py``: ``truncate_at_json_bbox`` (box parser),
  the validity check in ``generate_sequences``, ``crop_image`` (scaling + the aspect-150 rule);
- ``verl/utils/dataset/hf_dataset.py``: ``process_image`` (NEAREST pre-resize to
  min/max pixels), ``make_conversation`` (``ensure_period``), ``input_height/width = grid * 14``;
- ``examples/grpo_trainer/run_qwen2_5_vl-7b_mgpo.sh``: system prompt, turn-1 suffix, turn-2 texts,
  ``max_pixels=1003520`` (1280*28*28), ``min_pixels=200704`` (256*28*28).

Coordinates: the box is in absolute pixels of the image the model SAW. In MGPO that size is
``smart_resize`` (Qwen2.5-VL image processor, processor defaults 3136..12845056 pixels) applied to
the output of ``process_image`` -- see :func:`mgpo_input_size`; :func:`model_input_size` is the bare
``smart_resize`` rule for a harness that hands the original image straight to the processor.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from PIL import Image

# ----------------------------------------------------------------------------------------------
# Protocol texts (facts copied as text from run_qwen2_5_vl-7b_mgpo.sh at the commit above; the
# chat-template tokens are removed and the image slot is written "<image>").
# ----------------------------------------------------------------------------------------------

MGPO_MAX_PIXELS = 1280 * 28 * 28  # 1,003,520: rollout.max_pixels / HFDataset default
MGPO_MIN_PIXELS = 256 * 28 * 28  # 200,704: rollout.min_pixels / HFDataset default
# Qwen2.5-VL-7B-Instruct preprocessor_config.json (min_pixels, max_pixels); the processor MGPO loads
# with hf_processor(model_path). Values corroborated by third-party copies of that file, not fetched.
QWEN25VL_PROCESSOR_MIN_PIXELS = 3136
QWEN25VL_PROCESSOR_MAX_PIXELS = 12845056

MGPO_SYSTEM_PROMPT = (
    "You are a helpful assistant. Given an image and one question. First, identify the coordinates of the key "
    "image area relevant to solving the problem. Append the coordinates in JSON format at the end of your "
    "response and stop. This will trigger cropping of the corresponding area in the original image and enlarge "
    "it for improved clarity. Once the enlarged image is available, provide the final answer (A, B, C, D, or E) "
    "enclosed within \\boxed{}."
)
MGPO_TURN1_SUFFIX = "Out the coordinates of the key image area relevant to the problem in JSON format."
# str.format templates with fields {question} and {choices} (choices end with "\n", see
# format_mgpo_choices); "{{}}" renders as "{}".
MGPO_TURN2_VALID = (
    "Based on the provided coordinates, return the sub-image:\n<image>\nQuestion: {question} {choices}"
    "Carefully analyze both the original image and the enlarged sub-image to solve the question step by step. "
    "If the sub-image does not provide sufficient information, refer to the original image to find the "
    "solution. Present your reasoning clearly, and provide the final answer (A, B, C, D, or E) enclosed within "
    "\\boxed{{}}."
)
MGPO_TURN2_INVALID = (
    "Not providing correct coordinates or invalid coordinate values, return the original image:\n<image>\n"
    "Question: {question} {choices}Carefully analyze the original image to solve the question step by step. "
    "Present your reasoning clearly, and provide the final answer (A, B, C, D, or E) enclosed within \\boxed{{}}."
)
MGPO_CHOICES_HEADER = "The choices are listed below:\n"
OPTION_LETTERS = "ABCDEFGHIJ"

# Validity thresholds (vllm_rollout_spmd.py generate_sequences / crop_image).
MIN_SIDE_EXCLUSIVE = 28  # each side must be > 28 input pixels
MAX_ASPECT_EXCLUSIVE = 100  # max(w/h, h/w) must be < 100
NO_CROP_ASPECT = 150  # in original pixels: w >= 150*h or h >= 150*w -> the uncropped original is used


def ensure_period(question: str) -> str:
    """MGPO's ``ensure_period``: append "." unless the text ends with ".", "?", "!" or ".'"."""
    return question if question.endswith((".", "?", "!", ".'")) else question + "."


def mgpo_turn1_text(question: str) -> str:
    """Turn-1 user text (after the image): the question with a final period, a space, the box request."""
    return f"{ensure_period(question)} {MGPO_TURN1_SUFFIX}"


def format_mgpo_choices(options: Sequence[str], labelled: bool = False) -> str:
    """``{choices}`` text: "The choices are listed below:\\n(A) ...\\n(B) ...\\n".

    ``labelled=True`` when each option already carries its "(A) " prefix (MME-RealWorld rows do).
    """
    if len(options) > len(OPTION_LETTERS):
        raise ValueError(f"at most {len(OPTION_LETTERS)} options are supported, got {len(options)}")
    lines = [opt if labelled else f"({OPTION_LETTERS[i]}) {opt}" for i, opt in enumerate(options)]
    return MGPO_CHOICES_HEADER + "".join(line + "\n" for line in lines)


def mgpo_turn2_text(valid: bool, question: str, choices: str) -> str:
    """Turn-2 user text: the sub-image text when the box was valid, else the original-image text."""
    template = MGPO_TURN2_VALID if valid else MGPO_TURN2_INVALID
    return template.format(question=question, choices=choices)


# ----------------------------------------------------------------------------------------------
# Box parsing and checks
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Box:
    """A box ``(x1, y1, x2, y2)`` in absolute pixels, with the model's ``label``."""

    x1: int
    y1: int
    x2: int
    y2: int
    label: str = ""

    @property
    def coords(self) -> tuple[int, int, int, int]:
        """``(x1, y1, x2, y2)``."""
        return (self.x1, self.y1, self.x2, self.y2)


# "```json", a newline, the shortest body, a newline, "```" (the official pattern's shape).
_JSON_FENCE = re.compile(r"```json\n([\s\S]*?)\n```")


def find_mgpo_box(text: str) -> tuple[Box, int] | None:
    """The first valid box in ``text`` and the offset just after its closing fence, or None.

    Accepted (as MGPO's ``truncate_at_json_bbox``): a block opened by exactly "```json\\n" and closed
    by "\\n```" whose body parses as a NON-EMPTY JSON LIST in which EVERY item is an object; the
    first item with ``bbox_2d`` a list of exactly 4 JSON integers and ``label`` a string wins.
    Blocks that fail are skipped and the next block is tried. Rejected: floats (``10.0``), a bare
    object without the list, no fence, "```JSON", a space before the newline, numbers as strings,
    a missing label. Quirk kept: JSON ``true``/``false`` pass the integer test (Python bools are ints)
    and count as 1/0. MGPO truncates the turn-1 reply at the returned offset.
    """
    for match in _JSON_FENCE.finditer(text):
        try:
            data = json.loads(match.group(1).strip())
        except json.JSONDecodeError:
            continue
        if not (isinstance(data, list) and data and all(isinstance(item, dict) for item in data)):
            continue
        for item in data:
            bbox, label = item.get("bbox_2d"), item.get("label")
            if isinstance(bbox, list) and len(bbox) == 4 and all(isinstance(v, int) for v in bbox):
                if isinstance(label, str):
                    x1, y1, x2, y2 = (int(v) for v in bbox)
                    return Box(x1, y1, x2, y2, label), match.end()
    return None


def parse_mgpo_box(text: str) -> Box | None:
    """The box MGPO would use from a turn-1 reply, or None (see :func:`find_mgpo_box` for the rules)."""
    found = find_mgpo_box(text)
    return found[0] if found else None


def validate_box(box: Box, input_w: int, input_h: int) -> str | None:
    """None when MGPO accepts the box on an ``input_w`` x ``input_h`` model input, else the failed rule.

    Rules in MGPO's order: x1 < x2, y1 < y2, x1 >= 0, y1 >= 0, x2 <= input_w, y2 <= input_h,
    width > 28, height > 28, max(w/h, h/w) < 100.
    """
    x1, y1, x2, y2 = box.coords
    if not x1 < x2:
        return f"x1 < x2 failed (x1={x1}, x2={x2})"
    if not y1 < y2:
        return f"y1 < y2 failed (y1={y1}, y2={y2})"
    if x1 < 0 or y1 < 0:
        return f"coordinates >= 0 failed (x1={x1}, y1={y1})"
    if x2 > input_w:
        return f"x2 <= input width failed (x2={x2}, width={input_w})"
    if y2 > input_h:
        return f"y2 <= input height failed (y2={y2}, height={input_h})"
    width, height = x2 - x1, y2 - y1
    if width <= MIN_SIDE_EXCLUSIVE or height <= MIN_SIDE_EXCLUSIVE:
        return f"each side > {MIN_SIDE_EXCLUSIVE} px failed (width={width}, height={height})"
    if max(width / height, height / width) >= MAX_ASPECT_EXCLUSIVE:
        return f"aspect ratio < {MAX_ASPECT_EXCLUSIVE} failed (width={width}, height={height})"
    return None


# ----------------------------------------------------------------------------------------------
# Sizes, mapping, crop
# ----------------------------------------------------------------------------------------------


def model_input_size(orig_w: int, orig_h: int, min_pixels: int, max_pixels: int, factor: int = 28) -> tuple[int, int]:
    """``(w, h)`` the Qwen2-VL/Qwen2.5-VL image processor resizes an ``orig_w`` x ``orig_h`` image to.

    Re-implements ``smart_resize`` (transformers ``models/qwen2_vl/image_processing_qwen2_vl.py``):
    round each side to the nearest multiple of ``factor``; if the area exceeds ``max_pixels`` scale by
    beta = sqrt(h*w / max_pixels) and FLOOR to multiples (at least ``factor``); if it is below
    ``min_pixels`` scale by beta = sqrt(min_pixels / (h*w)) and CEIL. Aspect ratio > 200 is an error.
    """
    if orig_w <= 0 or orig_h <= 0:
        raise ValueError(f"image size must be positive, got {orig_w}x{orig_h}")
    if max(orig_w, orig_h) / min(orig_w, orig_h) > 200:
        raise ValueError(f"aspect ratio of a {orig_w}x{orig_h} image exceeds 200; Qwen2-VL rejects it")
    h_bar = round(orig_h / factor) * factor
    w_bar = round(orig_w / factor) * factor
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt(orig_h * orig_w / max_pixels)
        h_bar = max(factor, math.floor(orig_h / beta / factor) * factor)
        w_bar = max(factor, math.floor(orig_w / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (orig_h * orig_w))
        h_bar = math.ceil(orig_h * beta / factor) * factor
        w_bar = math.ceil(orig_w * beta / factor) * factor
    return w_bar, h_bar


def mgpo_preresize_size(width: int, height: int, max_pixels: int, min_pixels: int) -> tuple[int, int]:
    """Size after MGPO's ``process_image``: area > max -> scale by sqrt(max/area), truncating each side;
    then area < min -> scale by sqrt(min/area), truncating (both steps run in that order)."""
    if width * height > max_pixels:
        scale = math.sqrt(max_pixels / (width * height))
        width, height = int(width * scale), int(height * scale)
    if width * height < min_pixels:
        scale = math.sqrt(min_pixels / (width * height))
        width, height = int(width * scale), int(height * scale)
    return width, height


def mgpo_process_image(
    image: Image.Image, max_pixels: int = MGPO_MAX_PIXELS, min_pixels: int = MGPO_MIN_PIXELS
) -> Image.Image:
    """MGPO's ``process_image``: NEAREST resize into [min_pixels, max_pixels] (see
    :func:`mgpo_preresize_size`), then RGB. Applied to the dataset image and to every crop."""
    size = mgpo_preresize_size(image.width, image.height, max_pixels, min_pixels)
    if size != image.size:
        image = image.resize(size, resample=Image.Resampling.NEAREST)
    return image if image.mode == "RGB" else image.convert("RGB")


def mgpo_input_size(
    orig_w: int,
    orig_h: int,
    max_pixels: int = MGPO_MAX_PIXELS,
    min_pixels: int = MGPO_MIN_PIXELS,
    processor_min_pixels: int = QWEN25VL_PROCESSOR_MIN_PIXELS,
    processor_max_pixels: int = QWEN25VL_PROCESSOR_MAX_PIXELS,
) -> tuple[int, int]:
    """``(w, h)`` of the model input in MGPO: ``process_image`` then the processor's ``smart_resize``.

    E.g. 6000x4000 -> process_image 1226x817 -> smart_resize 1232x812, whereas the bare
    ``smart_resize(max_pixels=1003520)`` of 6000x4000 gives 1204x812.
    """
    pre_w, pre_h = mgpo_preresize_size(orig_w, orig_h, max_pixels, min_pixels)
    return model_input_size(pre_w, pre_h, processor_min_pixels, processor_max_pixels)


def map_to_original(box: Box, input_size: tuple[int, int], orig_size: tuple[int, int]) -> tuple[int, int, int, int]:
    """Scale an input-space box to original pixels as MGPO does: ``int(x / input_w * orig_w)`` per
    coordinate (truncation, division first), y likewise with heights."""
    (in_w, in_h), (orig_w, orig_h) = input_size, orig_size
    return (
        int(box.x1 / in_w * orig_w),
        int(box.y1 / in_h * orig_h),
        int(box.x2 / in_w * orig_w),
        int(box.y2 / in_h * orig_h),
    )


def crop_original(image: Image.Image, box_original: Sequence[int]) -> tuple[Image.Image, str | None]:
    """Crop the ORIGINAL full-resolution ``image`` to ``box_original`` (x1, y1, x2, y2; x2/y2 exclusive).

    Returns ``(image, reason)``: when width >= 150*height or height >= 150*width (also a zero side
    after scaling) MGPO does not crop; the whole original comes back and ``reason`` says why.
    """
    x1, y1, x2, y2 = (int(v) for v in box_original)
    width, height = x2 - x1, y2 - y1
    if width >= height * NO_CROP_ASPECT or height >= width * NO_CROP_ASPECT:
        return image, f"no crop: aspect >= {NO_CROP_ASPECT} in original pixels ({width}x{height}); original image used"
    return image.crop((x1, y1, x2, y2)), None


@dataclass
class GroundingOutcome:
    """What happened to one turn-1 reply, for the sample log (a failed grounding is data, not an error).

    ``valid`` is MGPO's ``hit``: a box was found and passed :func:`validate_box`; then turn 2 uses the
    sub-image text even when the crop was skipped (``cropped`` False, ``reason`` set). When not valid,
    ``reason`` names the missing box or the failed rule and turn 2 re-sends the original image.
    """

    valid: bool
    reason: str | None
    input_size: tuple[int, int]
    original_size: tuple[int, int]
    box_input: tuple[int, int, int, int] | None = None
    box_original: tuple[int, int, int, int] | None = None
    label: str | None = None
    cropped: bool = False
    crop_size: tuple[int, int] | None = None  # size of the crop in original pixels, before re-processing
    turn2_image_size: tuple[int, int] | None = None  # size of the image sent in turn 2

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (tuples become lists)."""
        return json.loads(json.dumps(asdict(self)))


def ground_and_crop(
    reply: str,
    original: Image.Image,
    input_size: tuple[int, int] | None = None,
    max_pixels: int = MGPO_MAX_PIXELS,
    min_pixels: int = MGPO_MIN_PIXELS,
) -> tuple[GroundingOutcome, Image.Image]:
    """One MGPO grounding step: ``(outcome, turn-2 image)`` for a turn-1 ``reply`` about ``original``.

    ``input_size`` is the model-input ``(w, h)`` the box refers to (default :func:`mgpo_input_size`).
    Valid box: crop the original (or keep it, aspect >= 150) and pass it through
    :func:`mgpo_process_image`. Otherwise: the processed original image again, as MGPO does.
    """
    orig_size = original.size
    in_size = input_size or mgpo_input_size(*orig_size, max_pixels=max_pixels, min_pixels=min_pixels)
    box = parse_mgpo_box(reply)
    reason = "no ```json block with a bbox_2d of 4 ints and a str label" if box is None else None
    if box is not None:
        reason = validate_box(box, *in_size)
    if box is None or reason is not None:
        fallback = mgpo_process_image(original, max_pixels, min_pixels)
        outcome = GroundingOutcome(
            valid=False,
            reason=reason,
            input_size=in_size,
            original_size=orig_size,
            box_input=box.coords if box else None,
            label=box.label if box else None,
            turn2_image_size=fallback.size,
        )
        return outcome, fallback
    box_orig = map_to_original(box, in_size, orig_size)
    crop, crop_reason = crop_original(original, box_orig)
    turn2 = mgpo_process_image(crop, max_pixels, min_pixels)
    outcome = GroundingOutcome(
        valid=True,
        reason=crop_reason,
        input_size=in_size,
        original_size=orig_size,
        box_input=box.coords,
        box_original=box_orig,
        label=box.label,
        cropped=crop_reason is None,
        crop_size=crop.size if crop_reason is None else None,
        turn2_image_size=turn2.size,
    )
    return outcome, turn2
