"""Soleus (knee-to-wall) stretch: facing a wall in a split stance, hands on the wall, the
front knee bends forward until it touches the wall while the front heel stays flat; the
back leg is straight. Holds of 30 s, 3 per leg, filmed side-on.

At the wall the front shank leans 32-40 degrees forward of vertical (a normal weight-
bearing lunge / knee-to-wall range is about 35-45 degrees), the thigh 40-50 degrees
behind vertical, so the front knee bends about 80 degrees. Between holds the knee comes
back off the wall; the feet stay put.

side = the front leg (both_sides: then the other leg, after swapping the feet).
Events: one `hold` per stretch, side = front leg (t_s knee reaches the wall, t_end_s it
leaves, value = seconds without heel lift or knee straightening).
Faults: heel_lift (cm, front foot unless side given), knee_straight (deg the front knee
straightens by: the knee leaves the wall and the hips go back).
"""

from __future__ import annotations

import numpy as np

from formcheck.events import Event
from formcheck.pose.landmarks import other_side
from formcheck.synth.body import BodyDims
from formcheck.synth.kin import SIDE_SIGN, PoseIntent, apply, rot_y, shoulder_joints, unit
from formcheck.synth.motion import (
    Motion,
    Timeline,
    circle_meet,
    envelope,
    fault_envelope,
    fault_event,
    faults_of,
    frame_times,
    hold_event,
    keep_reach,
    leg_reach,
    local_to_scene,
    plant_foot,
    sway,
    windows_mask,
)
from formcheck.synth.spec import SynthSpec

PELVIS_TURN_DEG = 5.0  # pelvis turned toward the front leg in the split stance


def _hip_from_chain(ankle: np.ndarray, body: BodyDims, shank_deg: float, thigh_deg: float) -> np.ndarray:
    """Hip position (local frame) of a leg in the sagittal plane: shank shank_deg forward
    of vertical, thigh thigh_deg behind vertical."""
    a, b = np.radians(shank_deg), np.radians(thigh_deg)
    knee = ankle + np.array([0.0, body.shank * np.cos(a), body.shank * np.sin(a)])
    return knee + np.array([0.0, body.thigh * np.cos(b), -body.thigh * np.sin(b)])


def build(spec: SynthSpec, body: BodyDims, rng: np.random.Generator) -> Motion:
    var = spec.variation
    tempo = 1.0 + var * rng.uniform(-0.12, 0.2)
    heading0 = var * rng.uniform(-4, 4)
    origin = np.array([var * rng.uniform(-0.1, 0.1), 0.0, var * rng.uniform(-0.1, 0.1)])
    n_holds = spec.sets or 3
    hold_s = spec.hold_s if spec.hold_s is not None else 30.0
    rest_s = spec.rest_s if spec.rest_s is not None else 5.0
    shank = 36.0 + var * rng.uniform(-4, 4)
    thigh = 45.0 + var * rng.uniform(-5, 5)
    knee_r = body.shank_r * 1.2
    toe_out = 6.0 + var * rng.uniform(-3, 5)
    sides = [spec.side] + ([other_side(spec.side)] if spec.both_sides else [])

    # Layout for each front leg (local frame, x = person's left, z toward the wall).
    ankle_h = body.ankle_h
    front_ankle_z = 0.0
    z_wall = front_ankle_z + body.shank * np.sin(np.radians(shank)) + knee_r
    layout = {}
    for front in ("left", "right"):
        back = other_side(front)
        fa = np.array([SIDE_SIGN[front] * body.hip_w / 2, ankle_h, front_ankle_z])
        hip_hold = _hip_from_chain(fa, body, shank, thigh)
        pel_hold = hip_hold - np.array([SIDE_SIGN[front] * body.hip_w / 2, 0, 0])
        # The back foot sits where the back leg is straight (4 deg) with the heel down;
        # the pelvis turns a little toward the front leg, taking the back hip back.
        reach = leg_reach(body, 4.0)
        back_hip_z = pel_hold[2] - body.hip_w / 2 * np.sin(np.radians(PELVIS_TURN_DEG))
        dz = np.sqrt(reach ** 2 - (pel_hold[1] - ankle_h) ** 2)
        ba_z = back_hip_z - dz
        # Standing tall between holds: hips between the feet, both legs nearly straight.
        zy = circle_meet(np.array([front_ankle_z, ankle_h]), leg_reach(body, 15.0),
                         np.array([ba_z, ankle_h]), leg_reach(body, 4.0))
        pel_rest = np.array([0.0, zy[1], zy[0]])
        toe_f = np.array([fa[0], 0.0, front_ankle_z + body.foot - body.heel_back])
        toe_b = np.array([SIDE_SIGN[back] * body.hip_w / 2, 0.0, ba_z + body.foot - body.heel_back])
        # Knee straightening: the front knee opens, the hips sink back toward the back foot.
        size = max([f.value for f in faults_of(spec, "knee_straight")] or [0.0])
        zy = circle_meet(np.array([front_ankle_z, ankle_h]), leg_reach(body, shank + thigh - size),
                         np.array([ba_z, ankle_h]), leg_reach(body, 6.0))
        pel_straight = np.array([0.0, zy[1], zy[0]])
        layout[front] = {"toe": {front: toe_f, back: toe_b}, "hold": pel_hold, "rest": pel_rest,
                         "straight": pel_straight}

    first = layout[sides[0]]
    tl = Timeline(pelvis=first["rest"], lunge=0.0, toe_left=first["toe"]["left"],
                  toe_right=first["toe"]["right"], lift_left=0.0, lift_right=0.0)
    holds: list[tuple[str, float, float]] = []
    sets: list[dict] = []
    tl.wait(1.5 * tempo)
    for k, front in enumerate(sides):
        lay = layout[front]
        if k > 0:
            # Swap the feet: old front foot steps back, then the other steps forward.
            old_front = sides[k - 1]
            for s in (old_front, front):
                mid = (tl.last[f"toe_{s}"] + lay["toe"][s]) / 2 + np.array([0, 0.06, 0])
                tl.move(0.45 * tempo, **{f"toe_{s}": mid, "pelvis": (tl.last["pelvis"] + lay["rest"]) / 2})
                tl.move(0.45 * tempo, **{f"toe_{s}": lay["toe"][s], "pelvis": lay["rest"]})
            tl.wait(1.0)
        set_start = tl.now
        for h in range(n_holds):
            tl.move(1.6 * tempo, pelvis=lay["hold"], lunge=1.0)
            t_in = tl.now
            tl.wait(hold_s)
            t_out = tl.now
            holds.append((front, t_in, t_out))
            tl.move(1.4 * tempo, pelvis=lay["rest"], lunge=0.0)
            tl.wait(rest_s if h < n_holds - 1 else 1.5)
        sets.append({"side": front, "t_s": set_start, "t_end_s": tl.now, "reps": n_holds})

    t = frame_times(tl.now, spec.fps, spec.duration_s)
    T = len(t)
    intent = PoseIntent.neutral(t)
    intent.heading = heading0 + sway(t, rng, 0.4 * var, 8.0)
    lunge = tl.sample("lunge", t)

    def scene(p: np.ndarray) -> np.ndarray:
        return local_to_scene(origin, intent.heading, p)

    front_of = np.full(T, sides[0], dtype=object)
    for front, t_in, t_out in holds:
        front_of[t >= t_in - 1.6 * tempo] = front
    lift = {s: np.zeros(T) for s in ("left", "right")}
    for f in faults_of(spec, "heel_lift"):
        for i_side in ("left", "right"):
            mask = (front_of == i_side) if f.side is None else np.full(T, f.side == i_side)
            lift[i_side] = np.maximum(lift[i_side], envelope(t, f.start_s, f.end_s) * f.value / 100 * mask)
    for s in ("left", "right"):
        toe = tl.sample(f"toe_{s}", t)
        plant_foot(intent, body, s, scene(toe), np.full(T, toe_out), lift[s])
        # A stepping foot is in the air: keep it flat rather than pivoting on the tip.
        intent.legs[s].ankle[:, 1] += toe[:, 1]

    pel = tl.sample("pelvis", t)
    straight = fault_envelope(t, faults_of(spec, "knee_straight")) * lunge
    if straight.any():
        size = max(f.value for f in faults_of(spec, "knee_straight"))
        shift = np.stack([layout[str(f)]["straight"] - layout[str(f)]["hold"] for f in front_of])
        pel = pel + shift * (straight / size)[:, None]
    pel = pel + np.stack([sway(t, rng, 0.006 * var, 4.0), sway(t, rng, 0.004 * var, 5.0),
                          sway(t, rng, 0.006 * var, 6.0)], -1)
    intent.pelvis = scene(pel)
    intent.pelvis_tilt = 10.0 + 5.0 * lunge
    intent.pelvis_rotation = np.array([-SIDE_SIGN[str(f)] * PELVIS_TURN_DEG for f in front_of]) * lunge
    intent.pelvis_obliquity = sway(t, rng, 0.6 * var, 5.0)
    grounded = {s: tl.sample(f"toe_{s}", t)[:, 1] < 0.005 for s in ("left", "right")}
    keep_reach(intent, body, grounded)
    intent.trunk_flex = 6.0 + 8.0 * lunge + sway(t, rng, 1.0 * var, 6.0)
    intent.trunk_lateral = sway(t, rng, 0.8 * var, 6.0)
    intent.neck_flex = 5.0 + sway(t, rng, 3.0 * var, 6.0)
    intent.neck_rotation = sway(t, rng, 3.0 * var, 7.0)

    # Hands flat on the wall at shoulder height, a little wider than the shoulders.
    sh = shoulder_joints(intent, body)
    r = rot_y(intent.heading)
    for s in ("left", "right"):
        hand_local = np.stack([np.full(T, SIDE_SIGN[s] * 0.6 * body.shoulder_w),
                               np.full(T, 0.80 * body.height), np.full(T, z_wall - 0.03)], -1)
        hand = origin + apply(r, hand_local)
        d = np.linalg.norm(hand - sh[s], axis=-1)
        # Too far to reach (standing back from the wall): let the hand come off it.
        too_far = d > 0.97 * body.arm
        hand = np.where(too_far[:, None], sh[s] + unit(hand - sh[s]) * 0.97 * body.arm, hand)
        intent.arms[s].hand = hand
        intent.arms[s].elbow_pole = unit(apply(r, np.array([SIDE_SIGN[s] * 1.0, -1.0, -0.3])))

    t_last = float(t[-1])
    events: list[Event] = []
    for f in spec.faults:
        i = min(int(np.searchsorted(t, f.start_s)), T - 1)
        ev = fault_event(f, f.side or str(front_of[i]), t_last)
        if ev:
            events.append(ev)
    pause = windows_mask(t, faults_of(spec, "heel_lift") + faults_of(spec, "knee_straight"))
    for front, t_in, t_out in holds:
        ev = hold_event(t, t_in, t_out, ~pause, front, hold_s)
        if ev:
            events.append(ev)

    a = np.radians(heading0)
    wall = {"point": origin + np.array([np.sin(a), 0, np.cos(a)]) * z_wall,
            "normal": -np.array([np.sin(a), 0.0, np.cos(a)])}
    phase = np.full(T, "rest", dtype=object)
    for front, t_in, t_out in holds:
        phase[(t >= t_in) & (t < t_out)] = "hold"

    def derive(v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        fl = front_of == "left"
        pick = {k: np.where(fl, v[f"{k}_left"], v[f"{k}_right"]) for k in
                ("shank_angle_deg", "knee_flexion_deg", "heel_lift_cm", "ankle_dorsiflexion_deg")}
        return pick

    return Motion(intent, events, sets, {"front_leg": [str(x) for x in front_of],
                                         "phase": [str(x) for x in phase]},
                  props={"wall": wall}, camera_height_m=0.9, working_side=spec.side, derive=derive)


