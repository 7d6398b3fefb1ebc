"""Foam-rolling the calf, filmed side-on: seated on the floor, the rolled leg straight
with its calf across a foam roller (15 cm across), the other knee bent with the foot
flat, hands on the floor behind, hips lifted off the floor. The body slides back and
forth so the roller runs along the calf from just above the ankle to just below the
knee (the roller itself stays where it is, turning), slowly (a stroke of about 4 s),
and the leg turns in and out (hip rotation +-25 degrees) so the roller reaches the
inner and outer calf. 30 s sets, 3 per leg, with the hips down to rest between them.

side = the rolled leg (both_sides: then the other one after swapping legs).
Events: one `stroke` count per back-and-forth (t_s leaving the ankle end, t_end_s back
there, value = the body's travel along the leg as a share of calf (shank) length), side
= rolled leg; one `hold` per set (value = seconds rolling with the hips up).
Faults: too_fast (x speed), short_stroke (stroke as a share of calf length),
no_rotation, hips_down (cm the hips sink; they stop on the floor).
"""

from __future__ import annotations

import numpy as np

from formcheck.events import Event
from formcheck.pose.landmarks import other_side
from formcheck.synth.body import BodyDims
from formcheck.synth.kin import SIDE_SIGN, PoseIntent, ankle_for_planted_toe, apply, rot_axis, rot_y, unit
from formcheck.synth.motion import (
    Motion,
    Timeline,
    envelope,
    fault_event,
    faults_of,
    frame_times,
    hold_event,
    local_to_scene,
    sway,
    windows_mask,
)
from formcheck.synth.spec import SynthSpec

ROLLER_R = 0.075
ROLLER_LEN = 0.45
SEATED_HIP_Y = 0.095  # hip joint above the floor when sitting on it
STROKE_LO, STROKE_HI = 0.18, 0.85  # contact range along the shank, from the ankle


def build(spec: SynthSpec, body: BodyDims, rng: np.random.Generator) -> Motion:
    var = spec.variation
    tempo = 1.0 + var * rng.uniform(-0.12, 0.2)
    heading0 = var * rng.uniform(-4, 4)
    origin = np.array([var * rng.uniform(-0.1, 0.1), 0.0, var * rng.uniform(-0.1, 0.1)])
    n_sets = spec.sets or 3
    set_s = spec.hold_s if spec.hold_s is not None else 30.0
    rest_s = spec.rest_s if spec.rest_s is not None else 6.0
    period = 4.0 * tempo  # one back-and-forth
    lift_y = SEATED_HIP_Y + 0.11 * body.height / 1.75 * (1 + var * rng.uniform(-0.15, 0.15))
    rot_amp = 25.0 * (1 + var * rng.uniform(-0.15, 0.15))
    rot_period = 3.0 * period
    sides = [spec.side] + ([other_side(spec.side)] if spec.both_sides else [])

    def speed(tt: np.ndarray) -> np.ndarray:
        """Strokes per second at absolute times tt (too_fast speeds the rolling up)."""
        k = np.ones_like(tt)
        for f in faults_of(spec, "too_fast"):
            k = np.maximum(k, 1.0 + (f.value - 1.0) * envelope(tt, f.start_s, f.end_s))
        return k / period

    def set_length(t0: float) -> float:
        """A set ends on the first whole stroke after set_s: the body is back at the ankle end."""
        grid = t0 + np.arange(0, 4 * set_s + 60, 1 / 240)
        ph = np.cumsum(speed(grid)) / 240
        n = np.ceil(ph[min(int(set_s * 240), len(ph) - 1)] - 1e-6)
        return float(grid[int(np.searchsorted(ph, n))] - t0)

    tl = Timeline(up=0.0, swap=0.0)
    segments: list[tuple[str, float, float]] = []
    tl.wait(1.5)
    for k, rolled in enumerate(sides):
        if k > 0:
            tl.move(3.0, swap=1.0 if rolled != sides[0] else 0.0)
            tl.wait(1.0)
        for i in range(n_sets):
            tl.move(1.0 * tempo, up=1.0)
            t0 = tl.now
            tl.wait(set_length(t0))
            segments.append((rolled, t0, tl.now))
            tl.move(1.0 * tempo, up=0.0)
            tl.wait(rest_s if i < n_sets - 1 else 1.5)

    t = frame_times(tl.now, spec.fps, spec.duration_s)
    T = len(t)
    up = tl.sample("up", t)
    swap = tl.sample("swap", t)
    rolling = np.zeros(T)
    phase = np.zeros(T)  # stroke phase within each set, 2 pi per back-and-forth
    for _, t0, t1 in segments:
        m = (t >= t0) & (t <= t1)
        rolling[m] = 1.0
        grid = np.arange(t0, t1 + 1e-9, 1 / 240)
        ph = np.cumsum(speed(grid)) / 240 - speed(grid[:1]) / 240
        phase[m] = 2 * np.pi * np.interp(t[m], grid, ph)
    dt = np.diff(t, prepend=t[0])
    amp = np.full(T, STROKE_HI - STROKE_LO)
    for f in faults_of(spec, "short_stroke"):
        env = envelope(t, f.start_s, f.end_s, 0.5)
        amp = amp + (f.value * body.shank / body.shank - amp) * env
    # Contact point along the calf (share of shank length from the ankle).
    contact = STROKE_LO + amp * (1 - np.cos(phase)) / 2
    rot_on = np.ones(T)
    for f in faults_of(spec, "no_rotation"):
        rot_on = np.minimum(rot_on, 1 - envelope(t, f.start_s, f.end_s, 0.6))
    rot_phase = 2 * np.pi * np.cumsum(dt * rolling * rot_on / rot_period)
    leg_rot = rot_amp * np.sin(rot_phase) * rolling
    drop = np.zeros(T)
    for f in faults_of(spec, "hips_down"):
        drop = np.maximum(drop, envelope(t, f.start_s, f.end_s, 0.4) * f.value / 100.0)
    hip_y = SEATED_HIP_Y + (lift_y - SEATED_HIP_Y) * up
    hip_y = np.maximum(hip_y - drop * up, SEATED_HIP_Y)

    intent = PoseIntent.neutral(t)
    intent.heading = heading0 + sway(t, rng, 0.4 * var, 8.0)
    # Two layouts (rolled leg left or right), blended through a leg swap.
    configs = [_layout(body, s, contact, leg_rot, hip_y, t) for s in dict.fromkeys(sides)]
    if len(configs) == 1:
        cfg = configs[0]
    else:
        lam = swap[:, None]
        cfg = {k: configs[0][k] * (1 - lam if configs[0][k].ndim == 2 else 1 - swap)
               + configs[1][k] * (lam if configs[1][k].ndim == 2 else swap) for k in configs[0]}
    intent.pelvis = local_to_scene(origin, intent.heading, cfg["pelvis"])
    for s in ("left", "right"):
        leg = intent.legs[s]
        leg.ankle = local_to_scene(origin, intent.heading, cfg[f"ankle_{s}"])
        leg.toe_out, leg.pitch = cfg[f"toe_out_{s}"], cfg[f"pitch_{s}"]
        pole = apply(rot_y(intent.heading), cfg[f"pole_{s}"])
        intent.legs[s].knee_pole = pole
    intent.pelvis_tilt = np.full(T, -10.0)
    intent.pelvis_obliquity = sway(t, rng, 0.8 * var, 4.0)

    # Trunk reclined so the straight-ish arms reach the hands planted behind.
    # Hands planted a forearm's length behind where the hips sit mid-stroke.
    mid_dist = body.thigh + body.shank * (1 - (STROKE_LO + STROKE_HI) / 2)
    hand_z = np.full(T, -mid_dist - 0.28 * body.height / 1.75)
    recline = _recline(body, cfg["pelvis"], hand_z)
    intent.trunk_flex = recline + sway(t, rng, 1.0 * var, 5.0)
    intent.trunk_lateral = sway(t, rng, 0.8 * var, 5.0)
    intent.neck_flex = 20.0 - recline * 0.6 + sway(t, rng, 3.0 * var, 5.0)
    r = rot_y(intent.heading)
    for s in ("left", "right"):
        hand_local = np.stack([np.full(T, SIDE_SIGN[s] * (body.shoulder_w / 2 + 0.06)),
                               np.full(T, 0.03), hand_z], -1)
        intent.arms[s].hand = local_to_scene(origin, intent.heading, hand_local)
        intent.arms[s].elbow_pole = unit(apply(r, np.array([SIDE_SIGN[s] * 0.4, 0.0, -1.0])))

    rolled_of = np.where(swap > 0.5, sides[-1], sides[0])
    t_last = float(t[-1])
    events: list[Event] = []
    # One stroke per full turn of the phase, within each set.
    for rolled, t0, t1 in segments:
        m = np.nonzero((t >= t0) & (t <= t1))[0]
        if len(m) < 2:
            continue
        turns = np.floor(phase[m] / (2 * np.pi) + 1e-9).astype(int)
        for n in range(int(turns.max()) + 1):
            idx = m[turns == n]
            if len(idx) < 2 or (n == turns.max() and phase[m[-1]] < 2 * np.pi * (n + 1) - 0.2):
                continue  # a stroke the clip cuts short
            seg = slice(idx[0], idx[-1] + 2)
            travel = (cfg["pelvis"][seg, 2].max() - cfg["pelvis"][seg, 2].min()) / body.shank
            events.append(Event(float(t[idx[0]]), "stroke", "count", "stroke", rolled,
                                float(t[min(idx[-1] + 1, T - 1)]), round(float(travel), 3)))
    for f in spec.faults:
        ev = fault_event(f, str(rolled_of[min(int(np.searchsorted(t, f.start_s)), T - 1)]), t_last)
        if ev:
            events.append(ev)
    lifted = ~windows_mask(t, faults_of(spec, "hips_down"))
    sets = []
    for rolled, t0, t1 in segments:
        ev = hold_event(t, t0, t1, lifted, rolled, set_s)
        if ev:
            events.append(ev)
            strokes = sum(1 for e in events if e.code == "stroke" and t0 - 1e-6 <= e.t_s < t1)
            sets.append({"side": rolled, "t_s": t0, "t_end_s": min(t1, t_last), "reps": strokes,
                         "hold_s": ev.value})

    roller_c = local_to_scene(origin, np.array([heading0]), cfg["roller"][:1])[0]
    a = np.radians(heading0)
    roller = {"centre": roller_c, "axis": np.array([np.cos(a), 0.0, -np.sin(a)]),
              "radius": ROLLER_R, "length": ROLLER_LEN, "turn_rad": cfg["roller_turn"]}
    ends = [roller_c + roller["axis"] * ROLLER_LEN / 2, roller_c - roller["axis"] * ROLLER_LEN / 2]
    frame_points = np.array([p + np.array([0, dy, 0]) for p in ends for dy in (0.0, 2 * ROLLER_R)])

    def derive(v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {"roll_contact_frac": contact * (rolling > 0.5) + np.where(rolling > 0.5, 0, np.nan),
                "leg_rotation_deg": leg_rot, "hips_lift_cm": 100 * (hip_y - SEATED_HIP_Y),
                "rolling": (rolling > 0.5).astype(float)}

    return Motion(intent, events, sets, {"rolled_leg": [str(x) for x in rolled_of]},
                  props={"roller": roller, "frame_points": frame_points}, camera_height_m=0.6,
                  working_side=spec.side, derive=derive)


def _recline(body: BodyDims, pelvis: np.ndarray, hand_z: np.ndarray) -> np.ndarray:
    """Trunk flexion (negative = leaning back) that puts the shoulders an almost straight
    arm's length from the hands (sagittal plane)."""
    lat = 0.06
    arm = np.sqrt((0.94 * body.arm) ** 2 - lat ** 2)
    # Shoulder = pelvis + torso (sin f, cos f) in (z, y); hand at (hand_z, 0.03).
    dz = hand_z - pelvis[:, 2]
    dy = 0.03 - pelvis[:, 1]
    d = np.hypot(dz, dy)
    a = (body.torso ** 2 - arm ** 2 + d ** 2) / (2 * d)
    h = np.sqrt(np.maximum(body.torso ** 2 - a ** 2, 0.0))
    bz, by = pelvis[:, 2] + dz * a / d, pelvis[:, 1] + dy * a / d
    # Of the two intersections take the upper one (shoulders above the hands).
    s1 = (bz - dy / d * h, by + dz / d * h)
    s2 = (bz + dy / d * h, by - dz / d * h)
    sz = np.where(s1[1] > s2[1], s1[0], s2[0])
    sy = np.where(s1[1] > s2[1], s1[1], s2[1])
    return np.degrees(np.arctan2(sz - pelvis[:, 2], sy - pelvis[:, 1]))


def _layout(body: BodyDims, rolled: str, contact: np.ndarray, leg_rot: np.ndarray, hip_y: np.ndarray,
            t: np.ndarray) -> dict[str, np.ndarray]:
    """Local-frame positions of the pelvis, both feet and knee poles for one rolled leg."""
    T = len(t)
    support = other_side(rolled)
    x_r = SIDE_SIGN[rolled] * body.hip_w / 2
    y_c = 2 * ROLLER_R + body.shank_r * 1.05  # shank axis height over the roller's top
    z_roller = 0.0
    # The rolled leg is straight-ish (knee bent 6 deg: treat as straight for placement).
    dist = body.thigh + body.shank * (1 - contact)
    sin_b = np.clip((hip_y - y_c) / dist, -0.6, 0.6)
    cos_b = np.sqrt(1 - sin_b ** 2)
    hip_z = z_roller - dist * cos_b
    pelvis = np.stack([np.zeros(T), hip_y, hip_z], -1)
    leg_dir = np.stack([np.zeros(T), -sin_b, cos_b], -1)
    ankle = np.stack([np.full(T, x_r), hip_y, hip_z], -1) + leg_dir * (0.998 * body.leg)
    # Leg rotation turns the kneecap and the foot about the leg's axis; + = toes out.
    up = np.stack([np.zeros(T), cos_b, sin_b], -1)
    rot = rot_axis(leg_dir, SIDE_SIGN[rolled] * -leg_rot)
    kneecap = apply(rot, up)
    pf = np.radians(25.0)  # relaxed ankle: toes tipped 25 deg away from the shin's normal
    foot_dir = unit(np.cos(pf) * kneecap + np.sin(pf) * leg_dir)
    yaw = np.degrees(np.arctan2(foot_dir[:, 0], foot_dir[:, 2]))
    toe_out = SIDE_SIGN[rolled] * yaw
    pitch = -np.degrees(np.arcsin(np.clip(foot_dir[:, 1], -1, 1)))
    # Support leg: knee up, foot flat on the floor ahead of the hip.
    x_s = SIDE_SIGN[support] * body.hip_w / 2 * 1.2
    toe_s = np.stack([np.full(T, x_s), np.zeros(T), np.full(T, -0.50 * body.leg + body.foot)], -1)
    ankle_s, _ = ankle_for_planted_toe(body, toe_s, np.zeros(T), support, np.full(T, 10.0), np.zeros(T))
    pole_s = np.tile([SIDE_SIGN[support] * 0.2, 1.0, 0.2], (T, 1))
    # The roller turns as the leg slides over it (no slip at the calf).
    travel = hip_z - hip_z[0]
    out = {"pelvis": pelvis, f"ankle_{rolled}": ankle, f"toe_out_{rolled}": toe_out,
           f"pitch_{rolled}": pitch, f"pole_{rolled}": kneecap, f"ankle_{support}": ankle_s,
           f"toe_out_{support}": np.full(T, 10.0),
           f"pitch_{support}": np.zeros(T), f"pole_{support}": pole_s,
           "roller": np.tile([x_r, ROLLER_R, z_roller], (T, 1)), "roller_turn": travel / ROLLER_R}
    return out
