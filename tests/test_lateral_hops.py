"""Lateral-hops analyser on synthetic landmark clips with known truth: every hop, sets
split by rests, landing feet, both variants, each cue with its side, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import smoothed_model_poses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from formcheck.drills.lateral_hops import LateralHopsAnalyser
from formcheck.pose.frame import PoseFrame
from formcheck.synth import Fault, SynthSpec, landmark_clip

_CACHE: dict = {}


def clip_of(key: str | None = None, noise_px: float = 0.5, **kw):
    kw.setdefault("sets", 1)
    kw.setdefault("reps", 8)
    if key and key in _CACHE:
        return _CACHE[key]
    c = landmark_clip(SynthSpec("lateral-hops", **kw), noise_px=noise_px)
    if key:
        _CACHE[key] = c
    return c


def run(frames, **kw) -> LateralHopsAnalyser:
    an = LateralHopsAnalyser(**kw)
    for f in frames:
        an.update(f)
    an.finish()
    return an


def hops(an):
    return [e for e in an.events if e.kind == "count"]


def faults(an):
    return [e for e in an.events if e.kind == "fault"]


@pytest.mark.parametrize("side", ["left", "right"])
def test_switch_feet_every_hop_and_landing_foot(side):
    clip = clip_of(f"switch-{side}", side=side, seed=4)
    an = run(clip.frames)
    truth = clip.events_of("count")
    got = hops(an)
    assert len(got) == len(truth) == 8
    for g, t in zip(got, truth, strict=True):
        assert g.side == t.side  # the landing foot
        assert abs(g.t_s - t.t_s) < 0.1 and abs(g.t_end_s - t.t_end_s) < 0.1  # take-off, landing
    s = an.summary()
    assert s["variant"] == "switch-feet"
    assert [x["reps"] for x in s["sets"]] == [8]
    assert s["hops_crossed"] == 8
    assert 60 < s["cadence_hops_per_min"] < 110
    assert 0.2 < s["contact_time_mean_s"] < 0.6
    assert s["contact_time_resolution_s"] == pytest.approx(1 / 30, abs=1e-3)
    assert 25 < s["knee_flexion_landing_mean_deg"] < 60
    assert faults(an) == []


def test_single_leg_variant_detected_and_sets_split_by_rest():
    clip = clip_of("single2", side="right", variant="single-leg", seed=6, sets=2, reps=5, rest_s=5.0)
    an = run(clip.frames)
    s = an.summary()
    assert s["variant"] == "single-leg"
    assert [(x["side"], x["reps"]) for x in s["sets"]] == [("right", 5), ("right", 5)]
    assert all(e.side == "right" for e in hops(an))
    assert faults(an) == []


def test_variant_can_be_chosen():
    an = LateralHopsAnalyser(variant="single-leg")
    assert an.variant == "single-leg"
    assert LateralHopsAnalyser(variant="switch").variant == "switch-feet"
    with pytest.raises(Exception, match="variant"):
        LateralHopsAnalyser(variant="sideways")


@pytest.mark.parametrize("code,mode,window,seed", [
    ("short_hop", None, (2.9, 3.3), 4),
    ("short_hop", None, (4.4, 4.8), 4),
    ("stiff_landing", None, (5.0, 5.5), 4),
    ("wrong_foot", "other", (6.6, 7.0), 4),
    ("wrong_foot", "both", (6.6, 7.0), 4),
])
def test_each_cue_with_its_side(code, mode, window, seed):
    clip = clip_of(side="left", seed=seed, faults=[Fault(code, *window, mode=mode)], noise_px=0.0)
    an = run(clip.frames)
    truth = [e for e in clip.events if e.kind == "fault"]
    assert truth, "the window must hold a landing"
    got = faults(an)
    assert [(e.code, e.side) for e in got] == [(e.code, e.side) for e in truth], got
    assert abs(got[0].t_s - truth[0].t_s) < 0.2
    assert len(hops(an)) == len(clip.events_of("count"))


def test_knee_valgus_on_the_landing_knee():
    clip = clip_of(side="right", seed=5, faults=[Fault("knee_valgus", 5.0, 5.5)], noise_px=0.0)
    an = run(clip.frames)
    truth = [e for e in clip.events if e.kind == "fault"]
    got = faults(an)
    assert [(e.code, e.side) for e in got] == [(e.code, e.side) for e in truth]


def test_hopping_in_place_is_no_lateral_hop():
    """Skipping in place: flights, but the body does not travel sideways."""
    clip = clip_of("switch-left", side="left", seed=4)
    frames = []
    for f in clip.frames:
        im, w = f.image.copy(), f.world.copy()
        # remove the sideways travel: keep every frame centred on the hips
        dx = (im[23, 0] + im[24, 0]) / 2 - f.width / 2
        im[:, 0] -= dx
        frames.append(PoseFrame(f.t_s, im, w, f.visibility, f.width, f.height, f.index))
    an = run(frames)
    assert hops(an) == [] and faults(an) == []


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drop=st.floats(0, 0.4), nan_rate=st.floats(0, 0.3), dup=st.floats(0, 0.3),
       jump=st.sampled_from([0.0, 2.0, 1e6]), seed=st.integers(0, 10_000))
def test_bad_input_never_crashes_or_overcounts(drop, nan_rate, dup, jump, seed):
    clip = clip_of("switch-left", side="left", seed=4)
    rng = np.random.default_rng(seed)
    frames, shift = [], 0.0
    for f in clip.frames:
        if rng.random() < drop:
            continue
        if jump and rng.random() < 0.01:
            shift += jump
        im, w = f.image.copy(), f.world.copy()
        lost = rng.random(33) < nan_rate
        im[lost] = np.nan
        w[lost] = np.nan
        g = PoseFrame(f.t_s + shift, im, w, f.visibility, f.width, f.height, f.index)
        frames.append(g)
        if rng.random() < dup:
            frames.append(g)
    an = run(frames)
    assert 0 <= len(hops(an)) <= 8, "never more hops than were made"
    for e in an.events:
        assert math.isfinite(e.t_s)
        if e.t_end_s is not None:
            assert e.t_end_s >= e.t_s


@pytest.mark.model
def test_rendered_clip_through_the_real_model(tmp_path):
    """End to end: five rendered switch-feet hops through the real pose model and
    smoother: every hop, each landing on the foot of the side travelled to, no cue."""
    from formcheck.synth import render_clip

    spec = SynthSpec("lateral-hops", side="left", seed=11, sets=1, reps=5)
    res = render_clip(spec, tmp_path / "hops.mp4")
    an = run(smoothed_model_poses(res.video))
    truth = res.clip.events_of("count")
    got = hops(an)
    assert len(got) == len(truth) == 5
    assert [g.side for g in got] == [t.side for t in truth]
    for g, t in zip(got, truth, strict=True):
        assert abs(g.t_end_s - t.t_end_s) < 0.15  # landing
    assert faults(an) == []


def _hop(bend: float, depth: float):
    from formcheck.drills.lateral_hops import Hop

    return Hop(t_takeoff=0.0, t_landing=0.3, direction="left", travel_pct=50.0, landing_foot="left",
               knee_flexion_deg=bend, depth_pct=depth)


@pytest.mark.parametrize("bend,depth,stiff", [
    (15.0, 4.0, True),    # neither sink nor depth: stiff
    (15.0, 9.0, False),   # touch-down seen late (small sink) but as deep as usual: soft
    (42.0, 4.5, False),   # shallow-looking depth but the usual knee bend: soft
    (30.0, 6.0, False),   # a little under the usual on both, not clearly: no nag
])
def test_stiff_landing_judged_on_the_persons_own_landings(bend, depth, stiff):
    an = LateralHopsAnalyser()
    an.hops = [_hop(44.0, 9.0), _hop(40.0, 8.5), _hop(46.0, 10.0)]
    h = _hop(bend, depth)
    an.hops.append(h)
    assert an._is_stiff(h) is stiff


def test_stiff_landing_before_the_persons_own_landings_needs_both_floors():
    an = LateralHopsAnalyser()
    assert an._is_stiff(_hop(12.0, 3.0))
    assert not an._is_stiff(_hop(12.0, 8.0))  # the first hop from a ready stance: deep enough
    assert not an._is_stiff(_hop(38.0, 4.4))


def test_single_leg_landing_the_feet_do_not_show_is_found_from_the_hips():
    """The model reads a stance foot under the carried one 10-25 px high: lift the hopping
    foot's landmarks by 15 % of leg length through every landing across the strap from the
    start.
    The hips still bottom out and rise between flights, so every hop is counted."""
    clip = clip_of("single-left", side="left", variant="single-leg", seed=7)
    contact = np.asarray(clip.truth.values["foot_contact_left"], float)
    hip_x = np.array([(f.image[23, 0] + f.image[24, 0]) / 2 for f in clip.frames])
    far = np.sign(np.median(hip_x) - hip_x[0])  # the strap's side from the start
    frames = []
    for f, c, hx in zip(clip.frames, contact, hip_x, strict=True):
        im = f.image.copy()
        if c > 0.5 and (hx - hip_x[0]) * far > 40:
            leg = float(np.linalg.norm(im[23, :2] - im[25, :2]) + np.linalg.norm(im[25, :2] - im[27, :2]))
            im[[27, 29, 31], 1] -= 0.15 * leg
        frames.append(PoseFrame(f.t_s, im, f.world, f.visibility, f.width, f.height, f.index))
    plain = run(clip.frames)
    an = run(frames)
    truth = clip.events_of("count")
    assert len(hops(plain)) == len(truth) == 8
    got = hops(an)
    assert len(got) == 8
    assert all(e.side == "left" for e in got)
    for g, t in zip(got, truth, strict=True):
        assert abs(g.t_end_s - t.t_end_s) < 0.2
    assert [e.code for e in faults(an)] == []


def test_per_frame_knee_bend_only_through_landings_and_close_to_truth():
    """The per-frame stance knee bend is read through each landing's absorption (NaN on a
    near-straight stance leg, which a front camera cannot read) and follows the truth there."""
    clip = clip_of("switch-left", side="left", seed=4)
    an = LateralHopsAnalyser()
    tt = np.asarray(clip.truth.t_s, float)
    truth = np.asarray(clip.truth.values["stance_knee_flexion_deg"], float)
    errs, read, standing = [], 0, 0
    for f in clip.frames:
        an.update(f)
        v = an.values()["stance_knee_flexion_deg"]
        i = int(np.clip(np.searchsorted(tt, f.t_s), 0, len(tt) - 1))
        if f.t_s < 1.4:  # standing on both feet before the first hop
            standing += 1
            assert math.isnan(v)
        if math.isfinite(v):
            read += 1
            if math.isfinite(truth[i]):
                errs.append(abs(v - truth[i]))
    an.finish()
    assert standing > 0 and read >= 8 * 3  # a few frames of every landing
    assert float(np.mean(errs)) < 10.0
