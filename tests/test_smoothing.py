"""One-euro smoothing: known answers (constant, step, ramp lag), visibility gating, odd
timestamps, and no crash on any input (hypothesis)."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from formcheck.pose.frame import PoseFrame
from formcheck.pose.landmarks import LM, NUM_LANDMARKS
from formcheck.pose.smoothing import OneEuroFilter, OneEuroParams, PoseSmoother, make_smoother

DT = 1 / 30


def alpha(cutoff: float, dt: float = DT) -> float:
    return 1.0 / (1.0 + 1.0 / (2 * math.pi * cutoff * dt))


def moved(pose: PoseFrame, dx: float, t_s: float, **kw) -> PoseFrame:
    im = pose.image.copy()
    im[:, 0] += dx
    return dataclasses.replace(pose, image=im, t_s=t_s, **kw)


def test_constant_signal_passes_through(pose_builder):
    pose = pose_builder()
    smoother = make_smoother()
    for i in range(60):
        out = smoother(dataclasses.replace(pose, t_s=i * DT))
        np.testing.assert_allclose(out.image, pose.image, rtol=0, atol=1e-9)
        np.testing.assert_allclose(out.world, pose.world, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(out.visibility, pose.visibility)


def test_step_response_without_beta_is_a_first_order_lowpass():
    f = OneEuroFilter(OneEuroParams(min_cutoff=1.0, beta=0.0, d_cutoff=1.0))
    x0, step = np.zeros((1, 2)), np.array([[10.0, 0.0]])
    f(x0, 0.0)
    a = alpha(1.0)
    for n in range(1, 40):
        out = f(step, n * DT)
        assert out[0, 0] == pytest.approx(10.0 * (1 - (1 - a) ** n), rel=1e-12)
    # 1 Hz: time constant 0.16 s, so after 1.3 s (40 frames) the step is all but complete.
    assert out[0, 0] > 9.99


def test_step_response_with_beta_is_faster_and_monotonic():
    slow = OneEuroFilter(OneEuroParams(1.0, 0.0, 1.0))
    fast = OneEuroFilter(OneEuroParams(1.0, 4.0, 1.0))
    for f in (slow, fast):
        f(np.zeros((1, 2)), 0.0)
    prev = 0.0
    for n in range(1, 10):
        s, q = slow(np.array([[1.0, 0]]), n * DT)[0, 0], fast(np.array([[1.0, 0]]), n * DT)[0, 0]
        assert q > s
        assert prev <= q <= 1.0
        prev = q


def _ramp_lag(beta: float, v: float = 1.0, frames: int = 300) -> float:
    """Steady-state lag behind x = v t (units a second; scale 1 unit)."""
    f = OneEuroFilter(OneEuroParams(1.0, beta, 1.0))
    for n in range(frames):
        out = f(np.array([[v * n * DT, 0.0]]), n * DT)
    return v * (frames - 1) * DT - out[0, 0]


def test_ramp_lag_known_answer_and_falls_with_beta():
    # A first-order low-pass trails a ramp by v * tau, tau = 1 / (2 pi f_c).
    assert _ramp_lag(0.0) == pytest.approx(1.0 / (2 * math.pi * 1.0), rel=1e-6)
    lags = [_ramp_lag(b) for b in (0.0, 0.5, 2.0, 8.0)]
    assert all(a > b for a, b in itertools.pairwise(lags))
    # At 1 leg length/s the default beta leaves well under a frame's worth of motion.
    assert _ramp_lag(4.0) < 0.4 * _ramp_lag(0.0)


def test_speeds_are_measured_in_body_lengths(pose_builder):
    """The same motion filmed closer (k times bigger) is smoothed into exactly k times the output."""
    outs = []
    for k in (1.0, 3.0):
        base = pose_builder(scale=100 * k, hip=(0.0, 0.0))
        smoother = make_smoother()
        rng = np.random.default_rng(1)
        for i in range(40):
            jitter = rng.normal(0, 2, (NUM_LANDMARKS, 3)) * k
            out = smoother(dataclasses.replace(base, image=base.image + jitter + [i * 5 * k, 0, 0], t_s=i * DT))
        outs.append(out.image)
    np.testing.assert_allclose(outs[1], 3.0 * outs[0], rtol=1e-9, atol=1e-9)


def test_jitter_is_reduced_on_a_still_person(pose_builder):
    base = pose_builder()
    rng = np.random.default_rng(0)
    smoother = make_smoother()
    raw_err, out_err = [], []
    for i in range(150):
        noisy = base.image + rng.normal(0, 3.0, base.image.shape)
        out = smoother(dataclasses.replace(base, image=noisy, t_s=i * DT))
        if i >= 30:
            raw_err.append(noisy - base.image)
            out_err.append(out.image - base.image)
    assert np.std(out_err) < 0.5 * np.std(raw_err)


def test_unseen_landmark_is_missing_not_stale_and_restarts(pose_builder):
    base = pose_builder()
    smoother = make_smoother()
    for i in range(10):
        smoother(moved(base, 0.0, i * DT))
    heel = int(LM.LEFT_HEEL)
    vis = base.visibility.copy()
    vis[heel] = 0.2  # below the 0.5 threshold: the model is guessing
    out = smoother(moved(base, 0.0, 10 * DT, visibility=vis))
    assert np.isnan(out.image[heel]).all() and np.isnan(out.world[heel]).all()
    assert out.visibility[heel] == pytest.approx(0.2)  # visibility is reported as it was
    assert np.isfinite(out.image[int(LM.RIGHT_HEEL)]).all()
    # NaN from the model is missing too.
    im = base.image.copy()
    im[heel] = np.nan
    out = smoother(dataclasses.replace(base, image=im, t_s=11 * DT))
    assert np.isnan(out.image[heel]).all()
    # It reappears 40 px away: the filter restarts at the new value instead of gliding in.
    im = base.image.copy()
    im[heel, 0] += 40
    out = smoother(dataclasses.replace(base, image=im, t_s=12 * DT))
    np.testing.assert_allclose(out.image[heel], im[heel])


def test_repeated_and_backward_timestamps(pose_builder):
    base = pose_builder()
    smoother = make_smoother()
    a = smoother(moved(base, 0.0, 1.0))
    b = smoother(moved(base, 30.0, 1.0 + DT))
    c = smoother(moved(base, 60.0, 1.0 + DT))  # repeated: no time to filter over
    np.testing.assert_allclose(c.image, b.image)
    d = smoother(moved(base, 90.0, 0.5))  # backwards
    np.testing.assert_allclose(d.image, b.image)
    for out in (a, b, c, d):
        assert np.isfinite(out.image).all()
    e = smoother(moved(base, 30.0, 1.0 + 2 * DT))  # and it carries on
    assert np.isfinite(e.image).all()


def test_irregular_intervals_keep_a_constant_signal(pose_builder):
    base = pose_builder()
    smoother = make_smoother()
    t = 0.0
    for i in range(50):
        t += (0.005, 0.06, 0.033)[i % 3]
        out = smoother(dataclasses.replace(base, t_s=t))
        np.testing.assert_allclose(out.image, base.image, atol=1e-9)


def test_long_gap_restarts_the_filter(pose_builder):
    base = pose_builder()
    smoother = make_smoother(max_gap_s=0.5)
    for i in range(10):
        smoother(moved(base, 0.0, i * DT))
    out = smoother(moved(base, 100.0, 10 * DT + 1.0))  # one second later, 100 px away
    np.testing.assert_allclose(out.image, base.image + [100.0, 0, 0])


def test_nobody_in_frame_passes_through(pose_builder):
    smoother = make_smoother()
    smoother(pose_builder())
    out = smoother(PoseFrame.empty(DT, 1280, 720))
    assert not out.detected
    out = smoother(pose_builder(t_s=2 * DT))
    assert np.isfinite(out.image).all()


def test_settings_are_recorded():
    s = make_smoother(min_cutoff=0.5, beta=2.0).settings()
    assert s["image"] == {"min_cutoff": 0.5, "beta": 2.0, "d_cutoff": 1.0}
    assert s["filter"] == "one_euro"


_SPECIAL = [np.nan, np.inf, -np.inf, 1e300, -1e300, 0.0, -5000.0]


@st.composite
def _frames(draw):
    """1-5 frames of plausible landmarks with a hypothesis-chosen number of entries spoiled
    (NaN, inf, 1e300, far outside the image), odd visibilities and odd timestamps.
    Arrays are built by numpy from a drawn seed: drawing 231 floats one by one is slow."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    out = []
    for _ in range(draw(st.integers(1, 5))):
        image = rng.uniform(-100, 1400, (NUM_LANDMARKS, 3))
        world = rng.normal(0, 0.5, (NUM_LANDMARKS, 3))
        for arr in (image, world):
            k = draw(st.integers(0, arr.size))
            arr.flat[rng.choice(arr.size, k, replace=False)] = draw(st.sampled_from(_SPECIAL))
        vis = rng.uniform(0, 1, NUM_LANDMARKS)
        k = draw(st.integers(0, NUM_LANDMARKS))
        vis[rng.choice(NUM_LANDMARKS, k, replace=False)] = draw(st.sampled_from([np.nan, -1.0, 2.0, 0.5]))
        t = draw(st.one_of(st.floats(-10, 10), st.sampled_from([0.0, np.nan, np.inf])))
        out.append(PoseFrame(t, image, world, vis, draw(st.integers(0, 4000)), draw(st.integers(0, 4000))))
    return out


@settings(max_examples=150, deadline=None)
@given(_frames())
def test_smoothing_never_crashes_and_never_reports_unseen_landmarks(frames):
    smoother = PoseSmoother()
    for f in frames:
        out = smoother(f)
        assert out.image.shape == (NUM_LANDMARKS, 3) and out.world.shape == (NUM_LANDMARKS, 3)
        unseen = ~(np.isfinite(f.image).all(axis=1) & (f.visibility >= 0.5))
        assert np.isnan(out.image[unseen]).all()
        assert np.isnan(out.world[unseen]).all()
