"""EgoLife's clip timeline: HHMMSSFF times, clips before the question, and frame times that never
reach ``query_time`` (worked by hand)."""

from __future__ import annotations

import pytest

from lmms_eval.tasks.egolifeqa.timeline import Moment, frame_times, parse_clips, seconds_of, usable, window_start

NAMES = [
    "A1_JAKE/DAY1/DAY1_A1_JAKE_11000000.mp4",  # 11:00:00 - 11:00:30
    "A1_JAKE/DAY1/DAY1_A1_JAKE_11003000.mp4",  # 11:00:30 - 11:01:00
    "A1_JAKE/DAY1/DAY1_A1_JAKE_15000000.mp4",  # 15:00:00 - 15:00:30 (a gap before it)
    "A1_JAKE/DAY2/DAY2_A1_JAKE_09000000.mp4",  # day 2, 09:00:00 - 09:00:30
    "A1_JAKE/DAY2/DAY2_A1_JAKE_09003000.mp4",  # 09:00:30 - 09:01:00: the question falls inside it
    "A1_JAKE/DAY2/DAY2_A1_JAKE_10000000.mp4",  # after the question: never used
    "EgoLifeQA/EgoLifeQA_A1_JAKE.json",  # not a clip
]
QUERY = Moment.of("DAY2", "09004010")  # 09:00:40.5 (FF 10 = half a second)


def test_times_and_clips() -> None:
    assert seconds_of("11210217") == 11 * 3600 + 21 * 60 + 2 + 17 / 20
    for bad in ("1121021", "11216017", "11210220", "ab"):
        with pytest.raises(ValueError):
            seconds_of(bad)
    clips = parse_clips(reversed(NAMES))
    assert [c.name.rsplit("_", 1)[-1] for c in clips] == [
        "11000000.mp4",
        "11003000.mp4",
        "15000000.mp4",
        "09000000.mp4",
        "09003000.mp4",
        "10000000.mp4",
    ]
    parts = usable(clips, QUERY)
    assert [(c.name[-12:-4], b, e) for c, b, e in parts] == [
        ("11000000", 0.0, 30.0),
        ("11003000", 0.0, 30.0),
        ("15000000", 0.0, 30.0),
        ("09000000", 0.0, 30.0),
        ("09003000", 0.0, pytest.approx(10.5)),  # cut at the question
    ]


def test_frames_are_spread_over_recorded_time_and_stop_before_the_question() -> None:
    clips = parse_clips(NAMES)
    # recorded time before the question: 30 + 30 + 30 + 30 + 10.5 = 130.5 s; 3 frames at the centres
    # of three 43.5 s parts: 21.75 (clip 1), 65.25 (clip 3 at 5.25), 108.75 (clip 4 at 18.75)
    got = [(c.name[-12:-4], round(t, 4)) for c, t in frame_times(clips, QUERY, 3)]
    assert got == [("11000000", 21.75), ("15000000", 5.25), ("09000000", 18.75)]
    many = frame_times(clips, QUERY, 200)
    assert len(many) == 200
    for clip, offset in many:
        assert Moment(clip.start.day, clip.start.seconds + offset) < QUERY
        assert not clip.name.endswith("10000000.mp4")


def test_windows() -> None:
    clips = parse_clips(NAMES)
    assert window_start(QUERY, "day") == Moment(2, 0.0)
    assert window_start(QUERY, None) is None and window_start(QUERY, "week") is None
    day = frame_times(clips, QUERY, 2, "day")  # 40.5 s of day 2: centres 10.125 and 30.375
    assert [(c.name[-12:-4], round(t, 4)) for c, t in day] == [("09000000", 10.125), ("09003000", 0.375)]
    # the last 20 s before 09:00:40.5 start at 09:00:20.5: 9.5 s of the first clip, 10.5 of the second
    last = frame_times(clips, QUERY, 2, f"{20 / 3600}h")
    assert [(c.name[-12:-4], round(t, 4)) for c, t in last] == [("09000000", 25.5), ("09003000", 5.5)]
    with pytest.raises(ValueError, match="window 'month'"):
        window_start(QUERY, "month")
    assert frame_times(clips, Moment.of("DAY1", "10000000"), 4) == []  # nothing recorded before


def test_a_rate_within_a_cap() -> None:
    """``fps``: one frame per 1/fps s of recorded time before the question, at most ``n``."""
    clips = parse_clips(["A1_JAKE/DAY1/DAY1_A1_JAKE_10000000.mp4", "A1_JAKE/DAY1/DAY1_A1_JAKE_11000000.mp4"])
    query = Moment(1, 11 * 3600 + 10)  # 30 s of clip 0 and 10 s of clip 1 before it: 40 s in all
    at_one = frame_times(clips, query, 64, fps=1)
    assert len(at_one) == 40 and [round(t, 3) for _, t in at_one[:2]] == [0.5, 1.5]
    assert at_one[-1][0].name.endswith("11000000.mp4") and at_one[-1][1] == pytest.approx(9.5)
    assert len(frame_times(clips, query, 16, fps=1)) == 16  # capped: 16 spread over the 40 s
    assert len(frame_times(clips, query, 64, fps=0.1)) == 4
    assert len(frame_times(clips, query, 64, window="1h", fps=1)) == 30  # the hour starts 10 s into clip 0
    with pytest.raises(ValueError, match="fps must be > 0"):
        frame_times(clips, query, 8, fps=0)
