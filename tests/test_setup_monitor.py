"""The set-up cues every drill shares (no_person, body_not_visible, wrong_view, low_light)
and the reliability gate that stops counts and timers on a bad pose."""

from __future__ import annotations

import numpy as np
import pytest

from formcheck.config import DrillConfig
from formcheck.drills.base import SetupMonitor
from formcheck.pose.frame import PoseFrame
from formcheck.pose.landmarks import LM, NUM_LANDMARKS

W, H, FPS = 640, 480, 30.0

# A person facing the camera, standing: image (x, y) per landmark, person's left on image right.
_FRONT = {
    LM.NOSE: (0, 50), LM.LEFT_EYE_INNER: (4, 44), LM.LEFT_EYE: (7, 44), LM.LEFT_EYE_OUTER: (10, 44),
    LM.RIGHT_EYE_INNER: (-4, 44), LM.RIGHT_EYE: (-7, 44), LM.RIGHT_EYE_OUTER: (-10, 44),
    LM.LEFT_EAR: (14, 48), LM.RIGHT_EAR: (-14, 48), LM.MOUTH_LEFT: (5, 58), LM.MOUTH_RIGHT: (-5, 58),
    LM.LEFT_SHOULDER: (40, 100), LM.RIGHT_SHOULDER: (-40, 100),
    LM.LEFT_ELBOW: (48, 160), LM.RIGHT_ELBOW: (-48, 160),
    LM.LEFT_WRIST: (50, 215), LM.RIGHT_WRIST: (-50, 215),
    LM.LEFT_PINKY: (51, 225), LM.RIGHT_PINKY: (-51, 225),
    LM.LEFT_INDEX: (49, 228), LM.RIGHT_INDEX: (-49, 228),
    LM.LEFT_THUMB: (46, 222), LM.RIGHT_THUMB: (-46, 222),
    LM.LEFT_HIP: (25, 220), LM.RIGHT_HIP: (-25, 220),
    LM.LEFT_KNEE: (27, 320), LM.RIGHT_KNEE: (-27, 320),
    LM.LEFT_ANKLE: (28, 415), LM.RIGHT_ANKLE: (-28, 415),
    LM.LEFT_HEEL: (27, 425), LM.RIGHT_HEEL: (-27, 425),
    LM.LEFT_FOOT_INDEX: (33, 440), LM.RIGHT_FOOT_INDEX: (-33, 440),
}


def person(t: float, *, width_scale: float = 1.0, dy: float = 0.0, luma: float | None = 120.0,
           hidden: tuple[int, ...] = ()) -> PoseFrame:
    """A standing person; width_scale < 0.3 turns them side-on, dy moves them down the image."""
    im = np.zeros((NUM_LANDMARKS, 3))
    for lm, (x, y) in _FRONT.items():
        im[lm] = (W / 2 + x * width_scale, y + dy, 0.0)
    world = np.zeros((NUM_LANDMARKS, 3))
    world[:, :2] = (im[:, :2] - im[[LM.LEFT_HIP, LM.RIGHT_HIP], :2].mean(axis=0)) / 200.0
    vis = np.full(NUM_LANDMARKS, 0.95)
    vis[list(hidden)] = 0.1
    return PoseFrame(t, im, world, vis, W, H, luma=luma)


def run(mon: SetupMonitor, make, seconds: float, t0: float = 0.0):
    events, reliable = [], []
    for i in range(round(seconds * FPS)):
        t = t0 + i / FPS
        events += mon.update(make(t))
        reliable.append(mon.reliable)
    return events, reliable


def front_monitor() -> SetupMonitor:
    return SetupMonitor(DrillConfig(), ("front",), ("shoulders", "hips", "knees", "feet"))


def codes(mon: SetupMonitor) -> set[str]:
    return {d.code for d in mon.detectors if d.active}


def test_good_frames_are_reliable_and_raise_nothing():
    mon = front_monitor()
    ev, rel = run(mon, person, 3.0)
    assert ev == [] and all(rel) and codes(mon) == set()
    assert mon.view == "front"


def test_no_person_after_setup_delay_and_unreliable_at_once():
    mon = front_monitor()
    run(mon, person, 1.0)
    ev, rel = run(mon, lambda t: PoseFrame.empty(t, W, H, luma=120.0), 0.5, t0=1.0)
    assert not any(rel), "no frame without a person may be measured"
    assert "no_person" not in codes(mon), "the cue waits setup_min_on_s"
    run(mon, lambda t: PoseFrame.empty(t, W, H, luma=120.0), 1.0, t0=1.5)
    assert codes(mon) == {"no_person"}
    ev, rel = run(mon, person, 1.5, t0=2.5)
    assert [e.code for e in ev] == ["no_person"]
    assert ev[0].t_s == pytest.approx(1.0) and ev[0].t_end_s == pytest.approx(2.5)
    assert rel[0], "measurement resumes with the first good frame"


@pytest.mark.parametrize("part,dy,expect", [
    ("feet", 60.0, "Step back so your feet are visible"),
    ("knees", 170.0, "Step back so your feet are visible"),  # the lowest missing part is named
])
def test_body_not_visible_names_the_part(part, dy, expect):
    mon = front_monitor()
    run(mon, person, 0.5)
    ev, rel = run(mon, lambda t: person(t, dy=dy), 1.5, t0=0.5)
    assert part in mon.missing
    assert not any(rel)
    assert codes(mon) == {"body_not_visible"}
    assert mon.not_visible.text() == expect
    ev, _ = run(mon, person, 1.0, t0=2.0)
    assert [e.code for e in ev] == ["body_not_visible"] and ev[0].message == expect


def test_body_not_visible_head_wording_and_low_visibility():
    mon = SetupMonitor(DrillConfig(), ("front",), ("head", "hips"))
    hidden = (LM.NOSE, LM.LEFT_EAR, LM.RIGHT_EAR)
    run(mon, lambda t: person(t, hidden=hidden), 1.5)
    assert mon.missing == ("head",)
    assert mon.not_visible.text() == "Step back so your head is visible"


def test_wrong_view_front_drill_seen_side_on():
    mon = front_monitor()
    run(mon, person, 1.0)
    ev, rel = run(mon, lambda t: person(t, width_scale=0.15), 2.5, t0=1.0)
    assert mon.view == "side"
    assert codes(mon) == {"wrong_view"}
    assert mon.wrong_view.text() == "Face the camera"
    # The view is a 1 s median, so the first side-on frames are still measured...
    assert rel[0] and not rel[-1]
    ev, rel = run(mon, person, 2.5, t0=3.5)
    assert [e.code for e in ev] == ["wrong_view"] and rel[-1]


def test_wrong_view_side_drill_seen_from_front_and_oblique_tolerated():
    mon = SetupMonitor(DrillConfig(), ("side",), ("hips", "knees", "feet"))
    run(mon, person, 2.0)
    assert codes(mon) == {"wrong_view"}
    assert mon.wrong_view.text() == "Turn side-on to the camera"
    mon2 = SetupMonitor(DrillConfig(), ("side",), ("hips", "knees", "feet"))
    _ev, rel = run(mon2, lambda t: person(t, width_scale=0.5), 2.0)
    assert mon2.view == "oblique" and codes(mon2) == set() and all(rel)


def test_front_or_side_drill_never_asks_to_turn():
    mon = SetupMonitor(DrillConfig(), ("front", "side"), ("hips", "knees", "feet"))
    run(mon, lambda t: person(t, width_scale=0.15), 2.0)
    run(mon, person, 2.0, t0=2.0)
    assert mon.wrong_view.events == [] and not mon.wrong_view.active


def test_low_light_cue_but_still_measured():
    mon = front_monitor()
    ev, rel = run(mon, lambda t: person(t, luma=12.0), 2.0)
    assert codes(mon) == {"low_light"} and all(rel)
    ev, _ = run(mon, person, 1.0, t0=2.0)
    assert [e.code for e in ev] == ["low_light"]
    # No luma measured: never a low-light cue.
    mon2 = front_monitor()
    run(mon2, lambda t: person(t, luma=None), 2.0)
    assert codes(mon2) == set()


def test_finish_closes_open_setup_cues():
    mon = front_monitor()
    run(mon, lambda t: PoseFrame.empty(t, W, H), 2.0)
    ev = mon.finish(2.0)
    assert [e.code for e in ev] == ["no_person"] and ev[0].t_end_s == 2.0
