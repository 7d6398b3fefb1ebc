"""The synthetic actor's landmark-only mode: physics, faults, events, noise, truth."""

from __future__ import annotations

import json

import numpy as np
import pytest

from formcheck.errors import InputError
from formcheck.pose.frame import PoseFrame
from formcheck.pose.landmarks import LM
from formcheck.pose.view import read_view
from formcheck.synth import CameraSpec, Fault, SynthSpec, landmark_clip, parse_fault

SHORT: dict[str, dict] = {
    "star-balance": {"sets": 1},
    "lateral-hops": {"sets": 1, "reps": 6},
    "soleus-stretch": {"sets": 1, "hold_s": 6},
    "deep-squat": {"sets": 1, "hold_s": 8},
    "calf-roll": {"sets": 1, "hold_s": 10},
    "ankle-abcs": {"reps": 3},
}


def clip(drill: str, **kw):
    return landmark_clip(SynthSpec(drill, **{**SHORT[drill], **kw}))


def at(c, t: float) -> int:
    return int(np.searchsorted(c.truth.t_s, t))


@pytest.mark.parametrize("drill", list(SHORT))
def test_every_drill_makes_a_well_formed_clip(drill: str) -> None:
    c = clip(drill)
    assert len(c.frames) == len(c.truth) > 30
    f = c.frames[10]
    assert isinstance(f, PoseFrame) and f.detected
    assert f.width == 1280 and f.height == 720
    # Whole body in frame for the whole clip, at the clip's fps.
    im = c.truth.image
    assert np.isfinite(im).all()
    assert (im[..., 0] > 0).all() and (im[..., 0] < 1280).all()
    assert (im[..., 1] > 0).all() and (im[..., 1] < 720).all()
    assert np.allclose(np.diff(c.truth.t_s), 1 / 30)
    # World landmarks: hip-centred, y down (head above hips = negative y).
    w = c.truth.world
    assert np.allclose((w[:, LM.LEFT_HIP] + w[:, LM.RIGHT_HIP]) / 2, 0, atol=1e-9)
    assert (w[:, LM.NOSE, 1] < w[:, LM.LEFT_ANKLE, 1]).mean() > 0.9
    ts = [e.t_s for e in c.events]
    assert ts == sorted(ts)
    assert not [e for e in c.events if e.kind == "fault"]
    json.dumps(c.to_truth_json())  # JSON-ready, NaN-free


def test_the_clip_is_seeded() -> None:
    a, b = clip("deep-squat", seed=3), clip("deep-squat", seed=3)
    assert np.array_equal(a.truth.image, b.truth.image)
    c = clip("deep-squat", seed=4)
    assert len(a.frames) != len(c.frames) or not np.allclose(a.truth.image, c.truth.image)


def test_front_and_side_views_read_as_such() -> None:
    front = clip("star-balance")
    assert [read_view(f).view for f in front.frames[:30:10]] == ["front"] * 3
    assert read_view(front.frames[0]).facing == "camera"
    side = clip("soleus-stretch")
    assert [read_view(f).view for f in side.frames[:30:10]] == ["side"] * 3
    oblique = clip("deep-squat", view="oblique")
    assert read_view(oblique.frames[0]).view == "oblique"


def test_star_balance_clean_is_physical_and_fault_free() -> None:
    c = clip("star-balance", variant="star", side="right")
    v, st = c.truth.values, np.array(c.truth.labels["stance"])
    single = st == "right"
    assert single.mean() > 0.6
    # The stance foot stays flat on the floor, the raised one never touches it mid-set.
    assert np.abs(v["heel_height_cm_right"][single]).max() < 0.05
    assert np.abs(v["toe_height_cm_right"][single]).max() < 0.05
    reaches = c.events_of("count", "reach")
    reaching = np.zeros(len(c.truth), bool)
    for e in reaches:
        reaching |= (c.truth.t_s > e.t_s) & (c.truth.t_s < e.t_end_s)
    assert v["toe_height_cm_left"][reaching].min() > 1.5
    assert np.abs(v["pelvic_drop_deg"][single]).max() < 2.0
    assert v["knee_valgus_deg"][single].max() < 3.0
    assert np.abs(v["trunk_lean_deg"]).max() < 5.0
    assert [e.message for e in reaches] == ["anterior", "anteromedial", "medial", "posteromedial",
                                            "posterior", "posterolateral", "lateral", "anterolateral"]
    assert all(e.side == "right" and 25 < e.value < 110 for e in reaches)
    assert all(c.skeleton.reached[k].all() for k in c.skeleton.reached)


def test_star_balance_faults_have_their_size() -> None:
    c = clip("star-balance", faults=[Fault("pelvic_drop", 8, 10, 8.0), Fault("knee_valgus", 4.5, 6.5, 12.0),
                                     Fault("trunk_lean", 11, 13), Fault("balance_loss", 14.5, 15.5)])
    v = c.truth.values
    assert v["pelvic_drop_deg"][at(c, 9)] == pytest.approx(8.0, abs=1.0)
    clean = clip("star-balance").truth.values
    # The size is the frontal-plane projection angle the stance knee reaches (0 = hip,
    # knee and ankle in line), caving in from its clean alignment a few degrees outward.
    assert clean["knee_valgus_deg"][at(c, 5.5)] < 0
    assert v["knee_valgus_deg"][at(c, 5.5)] == pytest.approx(12, abs=0.5)
    assert abs(v["trunk_lean_deg"][at(c, 12)]) == pytest.approx(15.0, abs=3.0)
    assert v["toe_height_cm_right"][at(c, 15)] < 0.1  # the raised foot touched down
    faults = {e.code: e for e in c.events_of("fault")}
    assert set(faults) == {"pelvic_drop", "knee_valgus", "trunk_lean", "balance_loss"}
    assert faults["pelvic_drop"].side == "right"  # the raised leg's side
    assert faults["knee_valgus"].side == "left" and faults["knee_valgus"].value == 12.0
    assert faults["pelvic_drop"].t_s == 8 and faults["pelvic_drop"].t_end_s == 10


def test_star_balance_reach_distances_and_a_real_touch_down() -> None:
    c = clip("star-balance", variant="star", seed=4, faults=[Fault("balance_loss", 8.5, 9.5)])
    reach = {e.message: e.value for e in c.events_of("count", "reach")}
    assert 68 < reach["anterior"] < 92
    assert 85 < reach["posteromedial"] < 110 and 75 < reach["posterior"] < 110
    assert 60 < reach["posterolateral"] < 100
    assert all(c.skeleton.reached[k].all() for k in c.skeleton.reached)
    clean = clip("star-balance", variant="star", seed=4)
    t, v = c.truth.t_s, c.truth.values
    down = (v["foot_contact_right"] > 0.5) & (t > 8.0) & (t < 10.0)
    assert 0.3 < down.sum() / c.spec.fps < 1.0
    toe = c.truth.scene[:, LM.RIGHT_FOOT_INDEX][:, [0, 2]]
    speed = np.linalg.norm(np.gradient(toe, t, axis=0), axis=1)
    idx = np.where(down)[0]
    assert speed[idx].max() < 0.06  # has slowed to a stop as it lands...
    assert speed[idx[1:-1]].max() < 0.01  # ...and stays put, no sliding
    hips = (c.truth.scene[:, LM.LEFT_HIP] + c.truth.scene[:, LM.RIGHT_HIP]) / 2
    hips0 = (clean.truth.scene[:, LM.LEFT_HIP] + clean.truth.scene[:, LM.RIGHT_HIP]) / 2
    toward = np.sum((hips - hips0)[:, [0, 2]] * (toe - hips0[:, [0, 2]]), 1) / np.linalg.norm(
        toe - hips0[:, [0, 2]], axis=1)
    assert toward[down].max() > 0.02  # takes a little weight: the hips move toward it
    after = (t > 9.7) & (t < 10.5)
    assert (v["toe_height_cm_right"][after] > 1.0).any()  # and lifts again


def test_deep_squat_holds_heels_and_faults() -> None:
    c = clip("deep-squat", hold_s=10, faults=[Fault("heel_lift", 6, 8, 2.5, side="right")])
    v = c.truth.values
    hold = np.array(c.truth.labels["phase"]) == "hold"
    assert (v["hips_below_knees"][hold] == 1).all()
    assert v["knee_flexion_deg_left"][hold].min() > 125
    assert np.abs(v["heel_lift_cm_left"]).max() < 0.05
    assert v["heel_lift_cm_right"][at(c, 7)] == pytest.approx(2.5, abs=0.05)
    assert np.nanmax(np.abs(v["knee_valgus_deg_left"][hold])) < 5
    assert np.ptp(v["rock_shift_cm"][hold]) > 6  # rocking side to side
    (h,) = c.events_of("hold")
    assert h.value == pytest.approx((h.t_end_s - h.t_s) - 2.0, abs=0.1)
    (f,) = c.events_of("fault")
    assert (f.code, f.side, f.value) == ("heel_lift", "right", 2.5)


def test_deep_squat_shallow_narrow_and_valgus() -> None:
    c = clip("deep-squat", hold_s=10, faults=[Fault("too_shallow", 6, 9), Fault("knee_valgus", 10, 12)])
    v = c.truth.values
    assert v["hips_below_knees"][at(c, 7.5)] == 0
    assert v["knee_valgus_deg_left"][at(c, 11)] == pytest.approx(15.0, abs=0.5)  # the size, from the foot's line
    n = clip("deep-squat", faults=[Fault("stance_narrow", 3, 5, 15)])
    w0 = clip("deep-squat").truth.values["stance_width_cm"]
    assert n.truth.values["stance_width_cm"][at(n, 6)] == pytest.approx(w0[at(n, 6)] - 15, abs=0.5)
    assert n.events_of("fault", "stance_narrow")[0].t_end_s > 10


def test_soleus_stretch_knee_to_wall_and_heel_lift() -> None:
    c = clip("soleus-stretch", side="right", faults=[Fault("heel_lift", 5, 6.5, 3.0)])
    v = c.truth.values
    hold = np.array(c.truth.labels["phase"]) == "hold"
    assert 30 < v["shank_angle_deg"][hold].min() and v["shank_angle_deg"][hold].max() < 48
    assert v["knee_flexion_deg_left"][hold].max() < 25  # back leg nearly straight
    assert v["heel_lift_cm"][at(c, 5.7)] == pytest.approx(3.0, abs=0.05)
    clean = hold & (c.truth.t_s < 4.5)
    assert np.abs(v["heel_lift_cm"][clean]).max() < 0.05
    (h,) = c.events_of("hold")
    assert h.side == "right" and h.value == pytest.approx(6 - 1.5, abs=0.1)
    # The knee touches the wall (its plane) during the hold.
    wall = c.motion.props["wall"]
    knee = c.truth.scene[:, LM.RIGHT_KNEE]
    gap = (knee - wall["point"]) @ wall["normal"]
    assert gap[clean].min() == pytest.approx(c.body.shank_r * 1.2, abs=0.03)


def test_lateral_hops_count_alternate_and_cross() -> None:
    c = clip("lateral-hops")
    hops = c.events_of("count", "hop")
    assert len(hops) == 6
    # Starting on the left foot, the strap is on the person's right: first landing right.
    assert [e.side for e in hops] == ["right", "left"] * 3
    assert all(e.value > 15 for e in hops)
    assert all(0.2 < e.t_end_s - e.t_s < 0.4 for e in hops)
    v = c.truth.values
    assert v["in_flight"].sum() > 0
    land = [at(c, e.t_end_s + 0.13) for e in hops]
    assert min(v["stance_knee_flexion_deg"][i] for i in land) > 30
    single = clip("lateral-hops", variant="single-leg", side="right")
    assert {e.side for e in single.events_of("count", "hop")} == {"right"}


@pytest.mark.parametrize("variant", ["switch", "single-leg"])
def test_every_hop_flies_clear_from_a_ready_stance(variant: str) -> None:
    c = landmark_clip(SynthSpec("lateral-hops", variant=variant, seed=3, sets=2, reps=4, rest_s=2.0))
    v, t = c.truth.values, c.truth.t_s
    stance = np.array(c.truth.labels["stance"])
    hops = c.events_of("count", "hop")
    assert len(hops) == 8
    for h in hops:  # the last hop of each set too, before its long final contact
        before = stance[at(c, h.t_s) - 1]
        flight = (t > h.t_s) & (t < h.t_end_s)
        assert v[f"toe_height_cm_{before}"][flight].max() > 7.0, (h.t_s, before)
        middle = (t > h.t_s + 0.1) & (t < h.t_end_s - 0.1)
        assert min(np.minimum(v[f"toe_height_cm_{s}"], v[f"heel_height_cm_{s}"])[middle].min()
                   for s in ("left", "right")) > 3.0
    ready = t < 1.2
    assert 12 < v["knee_flexion_deg_left"][ready].mean() < 28
    assert np.abs(np.diff(v["hip_height_cm"][t < hops[0].t_s - 0.3])).max() < 1.5  # no jump into the single-leg start


def test_lateral_hop_faults() -> None:
    c = clip("lateral-hops", reps=8, faults=[Fault("short_hop", 3.2, 3.6), Fault("stiff_landing", 4.8, 5.1),
                                             Fault("wrong_foot", 6.0, 6.4, mode="both")])
    hops = c.events_of("count", "hop")
    assert len(hops) == 8
    short = [e for e in hops if e.value < 0]
    assert len(short) == 1 and short[0].value == pytest.approx(-8.0)
    # After a short hop the person hops again the same way, on the same foot.
    i = hops.index(short[0])
    assert hops[i + 1].side == short[0].side and hops[i + 1].value > 15
    faults = c.events_of("fault")
    assert [f.code for f in faults] == ["short_hop", "stiff_landing", "wrong_foot"]
    stiff = faults[1]
    k = c.truth.values["stance_knee_flexion_deg"][at(c, stiff.t_s):at(c, stiff.t_end_s)]
    assert np.nanmax(k) < 15
    both = [e for e in hops if e.side is None]
    assert len(both) == 1 and faults[2].side in ("left", "right")


def test_calf_roll_strokes_and_faults() -> None:
    c = clip("calf-roll", hold_s=16, faults=[Fault("short_stroke", 10.5, 15), Fault("hips_down", 7, 9)])
    strokes = c.events_of("count", "stroke")
    assert len(strokes) >= 3
    assert strokes[0].value == pytest.approx(0.67, abs=0.05)
    assert min(e.value for e in strokes) < 0.35
    v = c.truth.values
    assert v["hips_lift_cm"][at(c, 8)] < 1 and v["hips_lift_cm"][at(c, 5)] > 8
    assert np.ptp(v["leg_rotation_deg"]) > 30
    assert v["trunk_flexion_deg"][at(c, 5)] < -25  # leaning back on the hands
    (h,) = c.events_of("hold")
    assert h.value == pytest.approx(h.t_end_s - h.t_s - 2.0, abs=0.2)
    fast = clip("calf-roll", hold_s=16, faults=[Fault("too_fast", 4, 12)])
    assert len(fast.events_of("count", "stroke")) > len(strokes) + 2


def test_ankle_abcs_letters_and_still_leg() -> None:
    c = clip("ankle-abcs", reps=4, faults=[Fault("foot_down", 12, 14)])
    letters = c.events_of("count", "letter")
    assert [e.message for e in letters] == ["A", "B", "C", "D"]
    assert all(not (e.t_s < 14 and e.t_end_s > 12) for e in letters)  # tracing waits
    v = c.truth.values
    tracing = v["tracing"] > 0
    knee = c.truth.scene[:, LM.LEFT_KNEE]
    assert np.ptp(knee[tracing], axis=0).max() < 0.01  # leg still
    assert v["foot_clearance_cm"][tracing].min() > 10
    assert v["foot_clearance_cm"][at(c, 13)] < 0.5
    tip = c.truth.scene[:, LM.LEFT_FOOT_INDEX][tracing]
    assert np.ptp(tip[:, 1]) > 0.08  # the letters have a real size


def test_noise_and_dropout_model() -> None:
    spec = SynthSpec("deep-squat", sets=1, hold_s=20)
    c = landmark_clip(spec, noise_px=2.0, dropout=0.05)
    im = np.stack([f.image for f in c.frames])
    err = im - c.truth.image
    torso = err[:, [LM.LEFT_SHOULDER, LM.RIGHT_HIP], :2]
    feet = err[:, [LM.LEFT_HEEL, LM.RIGHT_FOOT_INDEX], :2]
    assert np.nanstd(torso) == pytest.approx(2.0, rel=0.25)
    assert np.nanstd(feet) > 1.4 * np.nanstd(torso)
    lost = np.isnan(im[..., 0])
    assert 0.02 < lost.mean() < 0.09
    vis = np.stack([f.visibility for f in c.frames])
    assert (vis[lost] == 0).all() and (vis[~lost] == 1).all()
    # Correlated over frames, like a filtered estimator.
    e = err[:, LM.LEFT_SHOULDER, 0]
    e = e[np.isfinite(e)]
    assert np.corrcoef(e[:-1], e[1:])[0, 1] > 0.4


def test_camera_options_and_body_size() -> None:
    near = landmark_clip(SynthSpec("deep-squat", sets=1, hold_s=3, camera=CameraSpec(distance_m=6.0)))
    auto = landmark_clip(SynthSpec("deep-squat", sets=1, hold_s=3))
    assert np.ptp(near.truth.image[0, :, 1]) < np.ptp(auto.truth.image[0, :, 1])
    tall = landmark_clip(SynthSpec("deep-squat", sets=1, hold_s=3, height_m=1.95, variation=0))
    short = landmark_clip(SynthSpec("deep-squat", sets=1, hold_s=3, height_m=1.55, variation=0))
    nose_y = tall.truth.scene[0, LM.NOSE, 1] - short.truth.scene[0, LM.NOSE, 1]
    assert nose_y == pytest.approx(0.4 * 0.915, abs=0.03)


def test_fault_specs_parse_and_validate() -> None:
    f = parse_fault("heel_lift@3-6:2.5")
    assert (f.code, f.start_s, f.end_s, f.size) == ("heel_lift", 3.0, 6.0, 2.5)
    assert parse_fault("wrong_foot@4-5:both").mode == "both"
    assert parse_fault("heel_lift@3-6:2:right").side == "right"
    assert parse_fault("heel_lift@3.5-6:left").side == "left"
    for bad in ("heel_lift", "heel_lift@6-3", "heel@1-2"):
        with pytest.raises(InputError):
            SynthSpec("deep-squat", faults=[parse_fault(bad)])
    with pytest.raises(InputError, match="does not apply"):
        SynthSpec("deep-squat", faults=[Fault("short_hop", 1, 2)])
    with pytest.raises(InputError):
        SynthSpec("deep-squat", faults=[Fault("balance_loss", 1, 2, 3.0)])
    with pytest.raises(InputError, match="Unknown drill"):
        SynthSpec("plank")
    with pytest.raises(InputError, match="variant"):
        SynthSpec("deep-squat", variant="wide")
