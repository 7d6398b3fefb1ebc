"""Geometry helpers: known answers on hand-built points and poses, and no crash on
missing or absurd landmarks (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from formcheck.pose import geometry as g
from formcheck.pose.landmarks import LM

NAN = float("nan")


@pytest.mark.parametrize(("a", "b", "c", "angle"), [
    ((0, 0), (1, 0), (2, 0), 180.0),  # straight
    ((0, 0), (1, 0), (1, 1), 90.0),
    ((1, 1), (0, 0), (1, 0), 45.0),
    ((0, 0), (1, 0), (0, 0), 0.0),  # folded back on itself
    ((0, -1), (0, 0), (math.sqrt(3) / 2, 0.5), 120.0),
])
def test_joint_angle_known_answers(a, b, c, angle):
    assert g.joint_angle_deg(np.array(a, float), np.array(b, float), np.array(c, float)) == pytest.approx(angle)
    assert g.flexion_deg(np.array(a, float), np.array(b, float), np.array(c, float)) == pytest.approx(180 - angle)


def test_joint_angle_3d_uses_depth_only_when_asked():
    a, b, c = np.array([1.0, 0, 0]), np.zeros(3), np.array([0.0, 0, 1])
    assert g.joint_angle_deg(a, b, c, dims=3) == pytest.approx(90.0)
    # In the image plane c sits on b: the angle is undefined, NaN rather than an error.
    assert math.isnan(g.joint_angle_deg(a, b, c))


def test_joint_angle_is_vectorised_over_time():
    t = np.linspace(0, np.pi / 2, 5)
    a = np.column_stack([np.ones(5), np.zeros(5)])
    b = np.zeros((5, 2))
    c = np.column_stack([np.cos(t), np.sin(t)])
    np.testing.assert_allclose(g.joint_angle_deg(a, b, c), np.degrees(t), atol=1e-9)


@pytest.mark.parametrize(("top", "bottom", "deg"), [
    ((0, 0), (0, 10), 0.0),  # straight up (image y grows down)
    ((10, 0), (0, 10), 45.0),  # top leans to image right: positive
    ((-10, 0), (0, 10), -45.0),
    ((10, 10), (0, 10), 90.0),
    ((0, 20), (0, 10), 180.0),  # upside down
])
def test_tilt_from_vertical(top, bottom, deg):
    assert g.tilt_from_vertical_deg(np.array(top, float), np.array(bottom, float)) == pytest.approx(deg)


@pytest.mark.parametrize(("a", "b", "deg"), [
    ((0, 0), (10, 0), 0.0),
    ((0, 0), (10, 10), 45.0),  # descends toward the image's right: positive
    ((0, 0), (-10, -10), 45.0),
    ((0, 0), (10, -10), -45.0),  # rises toward the right
    ((0, 0), (-10, 10), -45.0),
    ((0, 0), (0, 10), 90.0),
])
def test_tilt_from_horizontal(a, b, deg):
    a, b = np.array(a, float), np.array(b, float)
    assert g.tilt_from_horizontal_deg(a, b) == pytest.approx(deg)
    if deg != 90.0:  # a vertical line has no left-to-right order to keep
        assert g.tilt_from_horizontal_deg(b, a) == pytest.approx(deg)  # order does not matter


def test_body_measures_on_a_standing_pose(pose_builder):
    pose = pose_builder("front", scale=300)
    im = pose.image
    assert g.leg_length_px(im, "left") == pytest.approx(300.0)
    assert g.leg_length_px(im, "right") == pytest.approx(300.0)
    assert g.torso_length_px(im) == pytest.approx(0.62 * 300)
    assert g.body_scale_px(im) == pytest.approx(300.0)
    assert g.foot_length_px(im, "left") == pytest.approx(300 * math.hypot(0.03, 0.03))
    # A standing leg is straight, and the shank upright.
    assert g.flexion_deg(im[LM.LEFT_HIP], im[LM.LEFT_KNEE], im[LM.LEFT_ANKLE]) == pytest.approx(0.0, abs=1e-6)
    assert g.tilt_from_vertical_deg(im[LM.LEFT_KNEE], im[LM.LEFT_ANKLE]) == pytest.approx(0.0)
    # Level hips.
    assert g.tilt_from_horizontal_deg(im[LM.RIGHT_HIP], im[LM.LEFT_HIP]) == pytest.approx(0.0)


def test_body_scale_follows_image_size_not_posture(pose_builder):
    small, big = pose_builder(scale=150).image, pose_builder(scale=450).image
    assert g.body_scale_px(big) / g.body_scale_px(small) == pytest.approx(3.0)
    # Squatting foreshortens the thigh in front view: the scale takes the longer leg.
    squat = big.copy()
    squat[LM.LEFT_KNEE, 1] -= 100
    assert g.body_scale_px(squat) == pytest.approx(450.0)


def test_body_scale_falls_back_to_torso_then_nan(pose_builder):
    im = pose_builder(scale=300).image
    im[[LM.LEFT_ANKLE, LM.RIGHT_ANKLE]] = NAN
    assert g.body_scale_px(im) == pytest.approx(1.6 * 0.62 * 300)
    im[[LM.LEFT_SHOULDER]] = NAN
    assert math.isnan(g.body_scale_px(im))


def test_missing_points_give_nan_not_errors():
    p, nan = np.array([1.0, 2.0]), np.array([NAN, NAN])
    for value in (g.distance(p, nan), g.joint_angle_deg(p, nan, p), g.tilt_from_vertical_deg(nan, p),
                  g.tilt_from_horizontal_deg(p, nan)):
        assert math.isnan(value)
    # Zero-length segments are undefined angles, not division errors.
    assert math.isnan(g.joint_angle_deg(p, p, p))


_values = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64),
                    st.sampled_from([0.0, -1e308, 1e308, NAN]))
_landmarks = arrays(np.float64, (33, 3), elements=_values, fill=st.sampled_from([NAN, 250.0]))


@settings(max_examples=150, deadline=None)
@given(_landmarks)
def test_geometry_never_crashes_on_any_landmarks(im):
    with np.errstate(all="ignore"):  # overflow in absurd inputs is allowed; exceptions are not
        for side in ("left", "right"):
            for value in (g.leg_length_px(im, side), g.foot_length_px(im, side)):
                assert isinstance(value, float)
        scale = g.body_scale_px(im)
        assert math.isnan(scale) or scale > 0
        angles = g.joint_angle_deg(im[:11], im[11:22], im[22:33])
        assert angles.shape == (11,)
        finite = angles[np.isfinite(angles)]
        assert ((finite >= 0) & (finite <= 180)).all()
        tilts = g.tilt_from_vertical_deg(im[:16], im[16:32])
        assert np.all(np.isnan(tilts) | (np.abs(tilts) <= 180))
