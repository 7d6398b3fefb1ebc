"""The set-up check before a live set: guidance, then a countdown. Landmark-level (fast)."""

import numpy as np
import pytest

from formcheck.live.keys import Action, action_for_key
from formcheck.live.setup import SetupCheck, SetupConfig
from formcheck.pose.frame import PoseFrame
from formcheck.pose.landmarks import LM

W, H = 640, 480
FULL_BODY = ("shoulders", "hips", "knees", "feet")

# A person 380 px tall facing the camera (their left on the image's right), in pixels.
_FRONT = {
    "NOSE": (320, 60), "LEFT_EYE_INNER": (324, 55), "LEFT_EYE": (327, 55), "LEFT_EYE_OUTER": (330, 55),
    "RIGHT_EYE_INNER": (316, 55), "RIGHT_EYE": (313, 55), "RIGHT_EYE_OUTER": (310, 55),
    "LEFT_EAR": (336, 60), "RIGHT_EAR": (304, 60), "MOUTH_LEFT": (326, 72), "MOUTH_RIGHT": (314, 72),
    "LEFT_SHOULDER": (360, 115), "RIGHT_SHOULDER": (280, 115), "LEFT_ELBOW": (372, 185),
    "RIGHT_ELBOW": (268, 185), "LEFT_WRIST": (378, 245), "RIGHT_WRIST": (262, 245),
    "LEFT_PINKY": (380, 258), "RIGHT_PINKY": (260, 258), "LEFT_INDEX": (378, 260),
    "RIGHT_INDEX": (262, 260), "LEFT_THUMB": (374, 255), "RIGHT_THUMB": (266, 255),
    "LEFT_HIP": (345, 245), "RIGHT_HIP": (295, 245), "LEFT_KNEE": (346, 335), "RIGHT_KNEE": (294, 335),
    "LEFT_ANKLE": (346, 418), "RIGHT_ANKLE": (294, 418), "LEFT_HEEL": (346, 430),
    "RIGHT_HEEL": (294, 430), "LEFT_FOOT_INDEX": (350, 440), "RIGHT_FOOT_INDEX": (290, 440),
}


def pose(t, view="front", dy=0.0, away=False, scale=1.0, luma=120.0, detected=True):
    if not detected:
        return PoseFrame.empty(t, W, H, luma=luma)
    img = np.zeros((33, 3))
    for name, (x, y) in _FRONT.items():
        x = 320 + (x - 320) * scale
        y = 240 + (y - 240) * scale + dy
        if view == "side":
            x = 320 + (x - 320) * 0.05  # the shoulders and hips collapse to a line
        if away:
            x = 640 - x  # seen from behind, the person's left is on the image's left
        img[LM[name]] = (x, y, 0.0)
    return PoseFrame(t, img, np.zeros((33, 3)), np.full(33, 0.95), W, H, luma=luma)


def feed(check, frames):
    return [check.update(f) for f in frames]


def clip(seconds, fps=30, **kw):
    return [pose(i / fps, **kw) for i in range(int(seconds * fps))]


def test_good_position_settles_then_counts_down_then_goes():
    check = SetupCheck(("front",), FULL_BODY)
    states = feed(check, clip(5.0))
    phases = [s.phase for s in states]
    first_cd = phases.index("countdown")
    assert abs(first_cd / 30 - 1.0) < 0.05  # settle_s
    counts = [s.countdown for s in states if s.phase == "countdown"]
    assert counts[0] == 3 and counts[-1] == 1 and sorted(set(counts)) == [1, 2, 3]
    go = phases.index("go")
    assert abs(go / 30 - 4.0) < 0.05  # settle + 3 s countdown
    assert all(p == "go" for p in phases[go:])


def test_feet_cut_off_asks_to_step_back():
    check = SetupCheck(("front",), FULL_BODY)
    states = feed(check, clip(3.0, dy=+60))  # feet below the image's bottom edge
    assert {s.phase for s in states} == {"setup"}
    assert states[-1].code == "body_not_visible"
    assert states[-1].message == "Step back so your feet are visible"


def test_side_on_for_a_front_drill():
    check = SetupCheck(("front",), FULL_BODY)
    s = feed(check, clip(2.0, view="side"))[-1]
    assert (s.phase, s.code, s.message) == ("setup", "wrong_view", "Face the camera")


def test_facing_the_camera_for_a_side_drill():
    check = SetupCheck(("side",), FULL_BODY)
    s = feed(check, clip(2.0, view="front"))[-1]
    assert (s.code, s.message) == ("wrong_view", "Turn side-on to the camera")
    assert feed(SetupCheck(("side",), FULL_BODY), clip(5.0, view="side"))[-1].phase == "go"


def test_back_to_the_camera_for_a_front_drill():
    s = feed(SetupCheck(("front",), FULL_BODY), clip(2.0, away=True))[-1]
    assert s.message == "Turn around to face the camera"
    # Drills that work from either view do not mind.
    assert feed(SetupCheck(("front", "side"), FULL_BODY), clip(5.0, away=True))[-1].phase == "go"


def test_nobody_dark_and_too_far():
    assert feed(SetupCheck(("front",), FULL_BODY), clip(1.0, detected=False))[-1].code == "no_person"
    assert feed(SetupCheck(("front",), FULL_BODY), clip(1.0, luma=12.0))[-1].code == "low_light"
    far = feed(SetupCheck(("front",), FULL_BODY), clip(1.0, scale=0.25))[-1]
    assert far.code == "too_far" and "closer" in far.message


def test_only_the_parts_the_drill_needs():
    # Ankle ABCs: the camera may sit close and low; the head may be out of the picture.
    check = SetupCheck(("front", "side"), ("hips", "knees", "feet"))
    assert feed(check, clip(5.0, dy=-70))[-1].phase == "go"
    check = SetupCheck(("front",), ("head",) + FULL_BODY)
    assert feed(check, clip(2.0, dy=-70))[-1].message == "Step back so your head is visible"


def test_a_blip_during_the_countdown_does_not_restart_it_but_leaving_does():
    check = SetupCheck(("front",), FULL_BODY, cfg=SetupConfig(lost_s=0.5))
    frames = clip(1.5) + [pose(1.5 + i / 30, detected=False) for i in range(5)]  # 0.17 s gone
    frames += [pose(1.67 + i / 30) for i in range(10)]
    states = feed(check, frames)
    assert states[-1].phase == "countdown"
    states = feed(check, [pose(2.1 + i / 30, detected=False) for i in range(30)])
    assert states[-1].phase == "setup" and states[-1].code == "no_person"


def test_message_does_not_flicker_between_problems():
    check = SetupCheck(("front",), FULL_BODY)
    frames = []
    for i in range(60):  # alternating every frame between feet cut off and side-on
        frames.append(pose(i / 30, dy=60) if i % 2 else pose(i / 30, view="side"))
    messages = {s.message for s in feed(check, frames)}
    assert len(messages) == 1


def test_restart_goes_back_to_guidance():
    check = SetupCheck(("front",), FULL_BODY)
    feed(check, clip(5.0))
    assert check.phase == "go"
    check.restart()
    assert check.update(pose(5.1)).phase == "setup"


@pytest.mark.parametrize("key,action", [
    (ord(" "), Action.PAUSE), (ord("n"), Action.NEXT_SET), (ord("l"), Action.SIDE_LEFT),
    (ord("R"), Action.SIDE_RIGHT), (ord("q"), Action.QUIT), (27, Action.QUIT), (ord("s"), Action.SKIP),
    (-1, None), (ord("x"), None), (0x100000 | ord("q"), Action.QUIT),
])
def test_keys(key, action):
    assert action_for_key(key) is action


# -- on synthetic clips (the actor's landmarks, seen by a camera placed as in the clip) ------

@pytest.mark.parametrize("drill,camera,view,message", [
    ("deep-squat", {"tilt_deg": -25}, None, "Step back so your feet are visible"),
    ("star-balance", {"tilt_deg": -25}, None, "Step back so your feet are visible"),
    ("soleus-stretch", {}, "front", "Turn side-on to the camera"),
    ("star-balance", {}, "side", "Face the camera"),
    ("star-balance", {"azimuth_deg": 180}, None, "Turn around to face the camera"),
])
def test_setup_guidance_on_clips(drill, camera, view, message):
    from formcheck.drills import analyser_class
    from formcheck.synth import CameraSpec, SynthSpec, landmark_clip

    frames = landmark_clip(SynthSpec(drill, view=view, camera=CameraSpec(**camera), duration_s=3)).frames
    cls = analyser_class(drill)
    states = feed(SetupCheck(cls.views, cls.required_parts), frames)
    assert {s.phase for s in states} == {"setup"}  # never counts down
    assert {s.message for s in states[5:]} == {message}


@pytest.mark.parametrize("drill", ["star-balance", "lateral-hops", "soleus-stretch", "deep-squat", "calf-roll",
                                   "ankle-abcs"])
def test_every_drill_in_its_own_view_gets_to_go(drill):
    from formcheck.drills import analyser_class
    from formcheck.synth import SynthSpec, landmark_clip

    frames = landmark_clip(SynthSpec(drill, duration_s=4.5)).frames
    cls = analyser_class(drill)
    states = feed(SetupCheck(cls.views, cls.required_parts), frames)
    assert states[-1].phase == "go" and all(s.message is None for s in states)
