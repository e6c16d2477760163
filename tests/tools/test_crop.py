"""MGPO grounding crop: parser, validity rules, sizes, mapping, crop pixels, turn texts."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw
from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize

from lmms_eval.tools.crop import (
    MGPO_MAX_PIXELS,
    MGPO_MIN_PIXELS,
    Box,
    crop_original,
    find_mgpo_box,
    format_mgpo_choices,
    ground_and_crop,
    map_to_original,
    mgpo_input_size,
    mgpo_preresize_size,
    mgpo_process_image,
    mgpo_turn1_text,
    mgpo_turn2_text,
    model_input_size,
    parse_mgpo_box,
    validate_box,
)


def fenced(body: str) -> str:
    return f"The sign is top left.\n```json\n{body}\n```"


# ---------------------------------------------------------------- parser


def test_parse_valid_box_and_truncation_offset():
    reply = fenced('[{"bbox_2d": [10, 20, 110, 220], "label": "sign"}]') + " trailing words"
    assert parse_mgpo_box(reply) == Box(10, 20, 110, 220, "sign")
    box, end = find_mgpo_box(reply)
    assert reply[:end].endswith("```") and reply[end:] == " trailing words"


@pytest.mark.parametrize(
    "reply",
    [
        "no box at all",
        '[{"bbox_2d": [10, 20, 110, 220], "label": "sign"}]',  # no fence
        fenced('{"bbox_2d": [10, 20, 110, 220], "label": "sign"}'),  # bare object, not a list
        fenced('[{"bbox_2d": [10.0, 20, 110, 220], "label": "sign"}]'),  # float
        fenced('[{"bbox_2d": [10, 20, 110], "label": "sign"}]'),  # 3 numbers
        fenced('[{"bbox_2d": ["10", 20, 110, 220], "label": "sign"}]'),  # string number
        fenced('[{"bbox_2d": [10, 20, 110, 220]}]'),  # no label
        fenced('[{"bbox_2d": [10, 20, 110, 220], "label": 3}]'),  # label not a str
        fenced('[{"bbox_2d": [10, 20, 110, 220], "label": "sign"}, 5]'),  # not every item an object
        fenced("[]"),  # empty list
        fenced('[{"bbox_2d": [10, 20, 110, 220], "label": "sign"'),  # malformed JSON
        '```JSON\n[{"bbox_2d": [10, 20, 110, 220], "label": "s"}]\n```',  # upper-case tag
        '```json [{"bbox_2d": [10, 20, 110, 220], "label": "s"}]\n```',  # no newline after the tag
    ],
)
def test_parse_rejects(reply):
    assert parse_mgpo_box(reply) is None


def test_parse_skips_bad_block_and_item():
    reply = fenced("not json") + "\n" + fenced('[{"label": "x"}, {"bbox_2d": [1, 2, 300, 400], "label": "b"}]')
    assert parse_mgpo_box(reply) == Box(1, 2, 300, 400, "b")


# ---------------------------------------------------------------- validity (input 1232 x 812)


@pytest.mark.parametrize(
    "coords, size, rule",
    [
        ((100, 100, 400, 300), (1232, 812), None),
        ((0, 0, 1232, 812), (1232, 812), None),  # the whole input is allowed (x2 <= w, y2 <= h)
        ((400, 100, 100, 300), (1232, 812), "x1 < x2"),  # reversed x
        ((100, 300, 400, 100), (1232, 812), "y1 < y2"),  # reversed y
        ((-1, 100, 400, 300), (1232, 812), ">= 0"),
        ((100, 100, 1233, 300), (1232, 812), "x2 <= input width"),  # 1233 > 1232
        ((100, 100, 400, 813), (1232, 812), "y2 <= input height"),  # 813 > 812
        ((100, 100, 128, 300), (1232, 812), "> 28 px"),  # width 28 is not > 28
        ((100, 100, 129, 300), (1232, 812), None),  # width 29 passes
        ((100, 100, 400, 128), (1232, 812), "> 28 px"),  # height 28
        ((0, 0, 1232, 40), (1232, 812), None),  # 1232/40 = 30.8 < 100
        ((0, 0, 3000, 30), (4000, 1000), "aspect ratio"),  # 3000/30 = 100, not < 100
        ((0, 0, 2999, 30), (4000, 1000), None),  # 2999/30 = 99.97 < 100
    ],
)
def test_validate_box(coords, size, rule):
    reason = validate_box(Box(*coords), *size)
    if rule is None:
        assert reason is None
    else:
        assert reason is not None and rule in reason


# ---------------------------------------------------------------- sizes on a 6000 x 4000 image


def test_model_input_size_by_hand_and_against_transformers():
    # smart_resize(h=4000, w=6000, max 1,003,520): rounded 4004 x 5992 is too big, so
    # beta = sqrt(24,000,000 / 1,003,520) = 4.89038; h = floor(4000/4.89038/28)*28 = floor(29.21)*28 = 812,
    # w = floor(6000/4.89038/28)*28 = floor(43.82)*28 = 1204.
    assert model_input_size(6000, 4000, MGPO_MIN_PIXELS, MGPO_MAX_PIXELS) == (1204, 812)
    h, w = smart_resize(4000, 6000, factor=28, min_pixels=MGPO_MIN_PIXELS, max_pixels=MGPO_MAX_PIXELS)
    assert (w, h) == (1204, 812)
    for orig in [(6000, 4000), (64, 64), (1000, 37), (333, 777), (1920, 1080), (28 * 199, 28)]:
        h, w = smart_resize(orig[1], orig[0], factor=28, min_pixels=MGPO_MIN_PIXELS, max_pixels=MGPO_MAX_PIXELS)
        assert model_input_size(*orig, MGPO_MIN_PIXELS, MGPO_MAX_PIXELS) == (w, h), orig


def test_mgpo_input_size_two_stages():
    # process_image: scale = sqrt(1,003,520 / 24,000,000) = 0.204483 -> int(1226.90) x int(817.93) = 1226 x 817;
    # processor smart_resize (3136..12,845,056): round(1226/28)=44 -> 1232, round(817/28)=29 -> 812.
    assert mgpo_preresize_size(6000, 4000, MGPO_MAX_PIXELS, MGPO_MIN_PIXELS) == (1226, 817)
    assert mgpo_input_size(6000, 4000) == (1232, 812)
    h, w = smart_resize(817, 1226, factor=28, min_pixels=3136, max_pixels=12845056)
    assert (w, h) == (1232, 812)
    # small image: 100 x 50 = 5,000 < 200,704 -> scale sqrt(40.1408) = 6.33568 -> 633 x 316 (= 200,028)
    assert mgpo_preresize_size(100, 50, MGPO_MAX_PIXELS, MGPO_MIN_PIXELS) == (633, 316)


def test_map_to_original():
    # 308/1232 = 0.25 -> 1500; 203/812 = 0.25 -> 1000; 616/1232 = 0.5 -> 3000; 406/812 = 0.5 -> 2000
    assert map_to_original(Box(308, 203, 616, 406), (1232, 812), (6000, 4000)) == (1500, 1000, 3000, 2000)
    # truncation: 100/1232*6000 = 487.01 -> 487; 101/812*4000 = 497.54 -> 497
    assert map_to_original(Box(100, 101, 616, 406), (1232, 812), (6000, 4000))[:2] == (487, 497)


# ---------------------------------------------------------------- crop pixels


QUADRANTS = {(0, 0): (255, 0, 0), (1, 0): (0, 255, 0), (0, 1): (0, 0, 255), (1, 1): (255, 255, 0)}


@pytest.fixture(scope="module")
def big_image() -> Image.Image:
    """6000 x 4000 grey image; region x 1500..2999, y 1000..1999 split into 4 coloured quadrants."""
    img = Image.new("RGB", (6000, 4000), (128, 128, 128))
    draw = ImageDraw.Draw(img)
    for (qx, qy), colour in QUADRANTS.items():
        x0, y0 = 1500 + qx * 750, 1000 + qy * 500
        draw.rectangle([x0, y0, x0 + 749, y0 + 499], fill=colour)
    return img


def test_crop_pixels_equal_original_region(big_image):
    crop, reason = crop_original(big_image, (1500, 1000, 3000, 2000))
    assert reason is None and crop.size == (1500, 1000)
    assert crop.tobytes() == big_image.crop((1500, 1000, 3000, 2000)).tobytes()
    for (qx, qy), colour in QUADRANTS.items():
        assert crop.getpixel((qx * 750 + 10, qy * 500 + 10)) == colour
    assert (128, 128, 128) not in {c for _, c in crop.getcolors(maxcolors=16)}  # no grey border


def test_no_crop_at_aspect_150(big_image):
    img, reason = crop_original(big_image, (0, 0, 1500, 10))  # 1500 >= 150 * 10
    assert img is big_image and "aspect >= 150" in reason
    crop, reason = crop_original(big_image, (0, 0, 1499, 10))  # 1499 < 1500: cropped
    assert reason is None and crop.size == (1499, 10)


def test_ground_and_crop_end_to_end(big_image):
    reply = fenced('[{"bbox_2d": [308, 203, 616, 406], "label": "quadrants"}]')
    outcome, turn2 = ground_and_crop(reply, big_image)
    assert outcome.valid and outcome.cropped and outcome.reason is None
    assert outcome.input_size == (1232, 812) and outcome.box_original == (1500, 1000, 3000, 2000)
    assert outcome.crop_size == (1500, 1000)
    # crop 1500 x 1000 = 1.5 M > 1,003,520: scale sqrt(0.669013) = 0.817932 -> int(1226.90) x int(817.93)
    assert turn2.size == (1226, 817) == outcome.turn2_image_size
    # NEAREST keeps the four colours in their quadrants
    assert turn2.getpixel((5, 5)) == QUADRANTS[(0, 0)] and turn2.getpixel((1220, 810)) == QUADRANTS[(1, 1)]
    assert outcome.to_dict()["box_original"] == [1500, 1000, 3000, 2000]


@pytest.mark.parametrize(
    "reply, rule",
    [("I cannot tell.", "no ```json block"), (fenced('[{"bbox_2d": [0, 0, 1300, 400], "label": "x"}]'), "x2 <=")],
)
def test_ground_and_crop_failure_is_recorded(reply, rule):
    img = Image.new("L", (100, 50), 7)  # small grey-level image: upscaled to 633 x 316, converted to RGB
    outcome, turn2 = ground_and_crop(reply, img, input_size=(1232, 812))
    assert not outcome.valid and rule in outcome.reason and not outcome.cropped
    assert turn2.size == (633, 316) and turn2.mode == "RGB"


def test_process_image_leaves_mid_size_alone():
    img = Image.new("RGB", (600, 400))  # 240,000 is within [200,704, 1,003,520]
    assert mgpo_process_image(img) is img


# ---------------------------------------------------------------- texts


def test_turn_texts():
    assert mgpo_turn1_text("What colour is the car") == (
        "What colour is the car. Out the coordinates of the key image area relevant to the problem in JSON format."
    )
    assert mgpo_turn1_text("Is it red?").startswith("Is it red? Out the")
    choices = format_mgpo_choices(["red", "blue"])
    assert choices == "The choices are listed below:\n(A) red\n(B) blue\n"
    assert format_mgpo_choices(["(A) red", "(B) blue"], labelled=True) == choices
    valid = mgpo_turn2_text(True, "What colour is the car?", choices)
    assert valid.startswith("Based on the provided coordinates, return the sub-image:\n<image>\nQuestion: What colour")
    assert "car? The choices are listed below:\n(A) red\n(B) blue\nCarefully analyze both" in valid
    assert valid.endswith("(A, B, C, D, or E) enclosed within \\boxed{}.")
    invalid = mgpo_turn2_text(False, "Q?", choices)
    assert invalid.startswith("Not providing correct coordinates or invalid coordinate values, return the original")
    assert "(B) blue\nCarefully analyze the original image to solve" in invalid


def test_valid_box_that_collapses_on_a_tiny_original_is_not_cropped():
    # 10 x 10 original: process_image scales by sqrt(200,704 / 100) = 44.8 -> 448 x 448 (already multiples of 28).
    # Box (0, 0, 400, 29) is valid on 448 x 448 (29 > 28, aspect 13.8); in original pixels
    # x2 = int(400/448*10) = 8, y2 = int(29/448*10) = 0 -> height 0, and 8 >= 150 * 0: the original is kept.
    tiny = Image.new("RGB", (10, 10), (1, 2, 3))
    outcome, turn2 = ground_and_crop(fenced('[{"bbox_2d": [0, 0, 400, 29], "label": "x"}]'), tiny)
    assert outcome.input_size == (448, 448) and outcome.box_original == (0, 0, 8, 0)
    assert outcome.valid and not outcome.cropped and "aspect >= 150" in outcome.reason
    assert turn2.size == (448, 448) and outcome.crop_size is None
