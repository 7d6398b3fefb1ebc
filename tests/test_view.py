"""The view check on hand-built poses: front, side, oblique, facing, and body parts out of
frame."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from formcheck.pose.frame import PoseFrame
from formcheck.pose.landmarks import BODY_PARTS, LM, MIRROR
from formcheck.pose.view import (
    TURNED_WIDTH_RATIO,
    body_width_ratio,
    feet_turn,
    leg_lying,
    missing_parts,
    read_view,
    width_ratio,
)


def test_front_facing_person(pose_builder):
    reading = read_view(pose_builder("front"))
    assert reading.view == "front"
    assert reading.facing == "camera"
    # (0.8 shoulders + 0.34 hips) / (2 x 0.62 torso), independent of scale.
    assert reading.width_ratio == pytest.approx(1.14 / 1.24)
    assert reading.missing_parts == ()
    assert width_ratio(pose_builder("front", scale=120)) == pytest.approx(reading.width_ratio)


def test_back_to_the_camera(pose_builder):
    pose = pose_builder("front")
    # Seen from behind, the person's left appears on the image's left: swap the sides.
    turned = dataclasses.replace(pose, image=pose.image[list(MIRROR)])
    assert read_view(turned).view == "front"
    assert read_view(turned).facing == "away"


@pytest.mark.parametrize("facing", ["right", "left"])
def test_side_on_person(pose_builder, facing):
    pose = pose_builder("side")
    if facing == "left":
        im = pose.image.copy()
        im[:, 0] = 2 * 640 - im[:, 0]  # mirror about the hips
        pose = dataclasses.replace(pose, image=im)
    reading = read_view(pose)
    assert reading.view == "side"
    assert reading.facing == facing
    assert reading.missing_parts == ()


def test_oblique_between_front_and_side(pose_builder):
    pose = pose_builder("front")
    im = pose.image.copy()
    im[:, 0] = 640 + 0.35 * (im[:, 0] - 640)  # turned about 70 degrees: widths x cos(70)
    reading = read_view(dataclasses.replace(pose, image=im))
    assert reading.view == "oblique"
    assert reading.width_ratio == pytest.approx(0.35 * 1.14 / 1.24)


def test_feet_out_of_frame(pose_builder):
    # Hips low in a 720 p frame: knees at 620 + 150 and ankles at 920, below the bottom edge.
    reading = read_view(pose_builder("front", hip=(640, 620)))
    assert reading.missing_parts == ("knees", "feet")
    reading = read_view(pose_builder("front", hip=(640, 500)))  # knees 650 in, ankles 800 out
    assert reading.missing_parts == ("feet",)
    assert reading.view == "front"  # the torso still gives the view


def test_head_out_of_frame(pose_builder):
    reading = read_view(pose_builder("front", hip=(640, 200)))  # nose at 200 - 285 < 0
    assert reading.missing_parts == ("head",)


def test_unseen_landmarks_count_as_missing(pose_builder):
    pose = pose_builder("front")
    vis = pose.visibility.copy()
    vis[list(BODY_PARTS["knees"])] = 0.1
    assert missing_parts(dataclasses.replace(pose, visibility=vis)) == ("knees",)


def test_no_person():
    reading = read_view(PoseFrame.empty(0.0, 640, 480))
    assert reading.view == "unknown"
    assert reading.facing == "unknown"
    assert reading.missing_parts == tuple(BODY_PARTS)
    assert math.isnan(reading.width_ratio)


def test_torso_missing_gives_unknown_view(pose_builder):
    pose = pose_builder("front")
    im = pose.image.copy()
    im[[LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER]] = np.nan
    reading = read_view(dataclasses.replace(pose, image=im))
    assert reading.view == "unknown"
    assert "shoulders" in reading.missing_parts


def _turned(pose: PoseFrame, width_scale: float, foot_dx: float, toe_out: float = 0.0) -> PoseFrame:
    """The front pose with the shoulders and hips narrowed to `width_scale` of their width
    and each foot's heel-to-toe vector set to (foot_dx +- toe_out, small) leg lengths."""
    im = pose.image.copy()
    scale = 300.0  # pose_builder's pixels per leg length
    cx = 640.0
    for lm in (LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER, LM.LEFT_HIP, LM.RIGHT_HIP):
        im[lm, 0] = cx + width_scale * (im[lm, 0] - cx)
    for heel, toe, sign in ((LM.LEFT_HEEL, LM.LEFT_FOOT_INDEX, 1.0), (LM.RIGHT_HEEL, LM.RIGHT_FOOT_INDEX, -1.0)):
        im[toe, 0] = im[heel, 0] + scale * (foot_dx + sign * toe_out)
        im[toe, 1] = im[heel, 1] + scale * 0.03
    return dataclasses.replace(pose, image=im)


@pytest.mark.parametrize("mirrored", [False, True])
def test_broad_body_standing_off_side_on_is_not_front(pose_builder, mirrored):
    # A broad person 25 deg off side-on (65 deg from the front): the widths alone read as
    # facing the camera (0.47 > 0.42), but both feet point across the image by ~0.8 of a
    # foot (the pose's foot: half its 0.62 torso), which a person facing the camera never shows.
    pose = _turned(pose_builder("front"), 0.51, 0.8 * 0.31)
    if mirrored:
        im = pose.image.copy()
        im[:, 0] = 1280 - im[:, 0]
        pose = dataclasses.replace(pose, image=im)
    assert body_width_ratio(pose) == pytest.approx(0.51 * 1.14 / 1.24)
    assert abs(feet_turn(pose)) == pytest.approx(0.8, abs=0.01)
    reading = read_view(pose)
    assert reading.view == "oblique"  # the feet rule out a front view; oblique vs side is the widths'
    assert reading.width_ratio == pytest.approx(TURNED_WIDTH_RATIO)
    # A body that already looks side-on stays side-on.
    assert read_view(_turned(pose_builder("front"), 0.2, 0.8 * 0.31)).view == "side"


def _seated(pose: PoseFrame, width_scale: float, leg_dx: float, leg_dy: float) -> PoseFrame:
    """The front pose's widths narrowed to `width_scale`, with the right leg's knee and ankle
    stretched out from its hip by (leg_dx, leg_dy) leg lengths (knee half way)."""
    im = _turned(pose, width_scale, 0.0).image.copy()
    hip = im[LM.RIGHT_HIP, :2]
    for lm, share in ((LM.RIGHT_KNEE, 0.5), (LM.RIGHT_ANKLE, 1.0)):
        im[lm, :2] = hip + 300.0 * share * np.array([leg_dx, leg_dy])
    return dataclasses.replace(pose, image=im)


def test_a_leg_stretched_out_along_the_floor_is_not_a_front_view(pose_builder):
    # Seated side-on, shoulders propped wide on the hands (0.47 > 0.42 by widths alone),
    # one leg stretched out across the image: not facing the camera.
    seated = _seated(pose_builder("front"), 0.51, -0.95, 0.1)
    assert body_width_ratio(seated) > 0.42 and leg_lying(seated)
    assert read_view(seated).view == "oblique"
    # A leg reaching out to the side while standing goes down as well as out: no change.
    reach = _seated(pose_builder("front"), 1.0, -0.7, 0.7)
    assert not leg_lying(reach) and read_view(reach).view == "front"


def test_toes_turned_out_keep_a_front_view(pose_builder):
    # Facing the camera with the toes turned well out (each foot 0.6 of a foot length
    # sideways, opposite ways): the feet show no turn and the widths decide alone.
    pose = _turned(pose_builder("front"), 1.0, 0.0, toe_out=0.6 * 0.31)
    assert feet_turn(pose) == pytest.approx(0.0, abs=1e-9)
    reading = read_view(pose)
    assert reading.view == "front"
    assert reading.width_ratio == pytest.approx(body_width_ratio(pose))


def test_half_turned_feet_leave_the_widths_alone(pose_builder):
    # Turned ~30 deg (feet 0.3 of a foot sideways, same way): still facing the camera.
    pose = _turned(pose_builder("front"), 0.87, 0.3 * 0.31)
    assert read_view(pose).view == "front"
    assert width_ratio(pose) == pytest.approx(body_width_ratio(pose))


def test_unseen_feet_leave_the_widths_alone(pose_builder):
    pose = _turned(pose_builder("front"), 0.51, 0.8 * 0.31)
    vis = pose.visibility.copy()
    vis[[LM.LEFT_HEEL, LM.LEFT_FOOT_INDEX]] = 0.1
    pose = dataclasses.replace(pose, visibility=vis)
    assert math.isnan(feet_turn(pose))
    assert width_ratio(pose) == pytest.approx(body_width_ratio(pose))
    assert read_view(pose).view == "front"


@pytest.mark.model
@pytest.mark.shared_data
def test_real_photos_side_on_and_facing(shared_data):
    """Real people through the model: split stances side-on (one with broad-looking
    shoulders, 0.37 torso) read side or oblique, people facing the camera read front."""
    cv2 = pytest.importorskip("cv2")
    from formcheck.pose.estimator import PoseEstimator

    want = {
        "fedb_soleus_stretch_standing_bentknee_0.jpg": ("side", "oblique"),
        "fedb_calf_stretch_wall_hands_side_0.jpg": ("side", "oblique"),
        "fedb_calf_stretch_wall_elbows_side_0.jpg": ("side", "oblique"),
        "fedb_goblet_deep_squat_front_1.jpg": ("front",),
        "fedb_bodyweight_squat_front_0.jpg": ("front",),
        "fedb_lateral_cone_hops_front_1.jpg": ("front",),
    }
    with PoseEstimator("full", mode="image") as est:
        for i, (name, views) in enumerate(want.items()):
            frame = est.process(cv2.imread(str(shared_data / name)), 0.0, i)
            assert frame.detected, name
            assert read_view(frame).view in views, name
