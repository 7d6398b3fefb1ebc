"""The view check on hand-built poses: front, side, oblique, facing, and body parts out of
frame."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from formcheck.pose.frame import PoseFrame
from formcheck.pose.landmarks import BODY_PARTS, LM, MIRROR
from formcheck.pose.view import missing_parts, read_view, width_ratio


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
