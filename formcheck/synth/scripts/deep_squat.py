"""Deep squat ankle stretch: feet a little wider than the hips, toes turned out, sink into
a deep squat with both heels down, hold (60 s by default), rocking gently side to side.

Posture at depth follows deep-squat kinematics of healthy adults: knee flexion about
140 degrees, shank about 38 degrees forward of vertical (ankle dorsiflexion), hips below
the knees, trunk tipped forward 30-40 degrees to keep the centre of mass over the feet,
arms reaching forward as a counterweight. Rocking shifts the pelvis 5-8 cm each way over
4-6 s, bending one knee more than the other; the heels never leave the floor.

side = the side the rocking goes to first (and the default side of heel_lift).
Events: one `hold` per squat (t_s when the hips first sink below the knees, t_end_s
when they rise above again, value = seconds with hips below knees and both heels down).
Faults: heel_lift (cm, side), too_shallow (deg less knee flexion), knee_valgus (deg,
side or both when no side), stance_narrow (cm narrower; applies to whole squats: the
feet are placed before going down, so the truth event spans the squat it affects).
"""

from __future__ import annotations

import numpy as np

from formcheck.events import Event
from formcheck.synth.body import BodyDims
from formcheck.synth.kin import SIDE_SIGN, PoseIntent
from formcheck.synth.motion import (
    Motion,
    Timeline,
    arms_forward,
    envelope,
    fault_envelope,
    fault_event,
    faults_of,
    frame_times,
    hold_event,
    local_to_scene,
    pelvis_height,
    plant_foot,
    solve_knee,
    sway,
    toe_for_heel,
    windows_mask,
)
from formcheck.synth.spec import SynthSpec

DEPTH_KNEE_DEG = 140.0
SHANK_DEG = 38.0

CLEAN_TRACK_DEG = -3.0  # knees a touch outside the toes in a good squat


def build(spec: SynthSpec, body: BodyDims, rng: np.random.Generator) -> Motion:
    var = spec.variation
    tempo = 1.0 + var * rng.uniform(-0.12, 0.2)
    heading0 = var * rng.uniform(-5, 5)
    origin = np.array([var * rng.uniform(-0.15, 0.15), 0.0, var * rng.uniform(-0.15, 0.15)])
    n_holds = spec.sets or 3
    hold_s = spec.hold_s if spec.hold_s is not None else 60.0
    rest_s = spec.rest_s if spec.rest_s is not None else 8.0
    toe_out = 15.0 + var * rng.uniform(-5, 8)
    width = body.hip_w * (1.35 + var * rng.uniform(-0.08, 0.12))  # heel centre to heel centre
    knee_deep = DEPTH_KNEE_DEG + var * rng.uniform(-5, 5)
    shank = SHANK_DEG + var * rng.uniform(-3, 3)
    rock_amp = body.hip_w * (0.22 + var * rng.uniform(-0.05, 0.08))
    rock_period = 5.0 * (1 + var * rng.uniform(-0.2, 0.2))

    narrow = faults_of(spec, "stance_narrow")
    tl = Timeline(depth=0.0, width=width)
    holds: list[tuple[float, float, float, float]] = []  # (descent start, at depth, rise start, up)
    narrowed: list[tuple[int, float]] = []
    tl.wait(1.5 * tempo)
    for h in range(n_holds):
        down0 = tl.now + 0.8
        up_end = down0 + 2.0 * tempo + hold_s + 1.8 * tempo
        size = max([f.value for f in narrow if f.start_s < up_end and f.end_s > down0] or [0.0])
        if size:
            narrowed.append((h, size))
        # Feet settle (wider or narrower) while standing, then the descent.
        tl.move(0.8, width=width - size / 100.0)
        t_down = tl.now
        tl.move(2.0 * tempo, depth=1.0)
        t_deep = tl.now
        tl.wait(hold_s)
        t_rise = tl.now
        tl.move(1.8 * tempo, depth=0.0)
        holds.append((t_down, t_deep, t_rise, tl.now))
        tl.wait(rest_s if h < n_holds - 1 else 1.5)

    t = frame_times(tl.now, spec.fps, spec.duration_s)
    T = len(t)
    intent = PoseIntent.neutral(t)
    intent.heading = heading0 + sway(t, rng, 0.5 * var, 8.0)
    depth = tl.sample("depth", t)
    w = tl.sample("width", t)

    def scene(p: np.ndarray) -> np.ndarray:
        return local_to_scene(origin, intent.heading, p)

    lift = {s: np.zeros(T) for s in ("left", "right")}
    for f in faults_of(spec, "heel_lift"):
        s = f.side or spec.side
        lift[s] = np.maximum(lift[s], envelope(t, f.start_s, f.end_s) * f.value / 100.0)
    for s in ("left", "right"):
        heel = np.stack([SIDE_SIGN[s] * w / 2, np.zeros(T), np.full(T, -body.heel_back)], -1)
        toe_local = toe_for_heel(body, heel, np.zeros(T), s, toe_out)
        plant_foot(intent, body, s, scene(toe_local), np.full(T, toe_out), lift[s])

    shallow = fault_envelope(t, faults_of(spec, "too_shallow"))
    knee_target = 4.0 + depth * (knee_deep - 4.0) - shallow * depth
    shank_target = 3.0 + depth * (shank - 3.0) - shallow * depth * 0.3
    # Rocking starts once settled at depth and fades in over a couple of seconds.
    settled = np.zeros(T)
    for (_, t_deep, t_rise, _) in holds:
        settled = np.maximum(settled, envelope(t, t_deep + 1.0, t_rise - 0.5, 2.0))
    phase = 2 * np.pi * t / rock_period
    rock = settled * np.sin(phase) * SIDE_SIGN[spec.side]  # + toward the person's left

    # Pelvis: the hip position a leg with this knee flexion and shank angle gives, averaged.
    thigh_back = np.radians(knee_target - shank_target)  # thigh angle behind vertical
    a = np.radians(shank_target)
    fwd_off = body.shank * np.sin(a) - body.thigh * np.sin(thigh_back)
    # The feet were laid out with the ankles on the person's local z = 0 line.
    pelvis_local = np.stack([rock * rock_amp + sway(t, rng, 0.006 * var, 3.0), np.zeros(T),
                             fwd_off * np.cos(np.radians(toe_out))], -1)
    intent.pelvis = scene(pelvis_local)
    intent.pelvis_tilt = 8.0 - depth * 22.0  # posterior tilt at depth
    intent.pelvis_obliquity = sway(t, rng, 0.6 * var, 4.0) - rock * 1.5
    knee_l = knee_target + rock * 8.0
    knee_r = knee_target - rock * 8.0
    intent.pelvis[:, 1] = pelvis_height(intent, body, {"left": knee_l, "right": knee_r})

    intent.trunk_flex = 4.0 + depth * (34.0 + var * rng.uniform(-4, 6)) - shallow * depth * 0.2 \
        + sway(t, rng, 1.5 * var, 5.0)
    intent.trunk_lateral = rock * 2.0 + sway(t, rng, 0.8 * var, 5.0)
    intent.neck_flex = 5.0 - depth * 25.0 + sway(t, rng, 3.0 * var, 6.0)
    arms_forward(intent, body, 10.0 + depth * 70.0)

    # Knees track over the toes (a touch outside them, CLEAN_TRACK_DEG) however the hips
    # rock; the valgus fault caves them in from there until they point `size` degrees
    # inside the toes (the angle from the foot's line, as for add_valgus).
    valgus = {s: np.zeros(T) for s in ("left", "right")}
    for f in faults_of(spec, "knee_valgus"):
        for s in ([f.side] if f.side else ["left", "right"]):
            valgus[s] = np.maximum(valgus[s], envelope(t, f.start_s, f.end_s) * (f.value - CLEAN_TRACK_DEG))
    for s in ("left", "right"):
        solve_knee(intent, body, s, CLEAN_TRACK_DEG + valgus[s], depth > 0.01, how="track")

    t_last = float(t[-1])
    events: list[Event] = []
    for f in spec.faults:
        if f.code == "stance_narrow":
            continue
        sides = [f.side or spec.side] if f.code == "heel_lift" else (
            [f.side] if f.side else ["left", "right"]) if f.code == "knee_valgus" else [None]
        for s in sides:
            ev = fault_event(f, s, t_last)
            if ev:
                events.append(ev)
    for h, size in narrowed:
        t_down, _, _, t_up = holds[h]
        f = next(f for f in narrow if f.start_s < t_up and f.end_s > t_down)
        ev = fault_event(f.__class__(f.code, f.start_s, f.end_s, size), None, t_last, t_down, t_up)
        if ev:
            events.append(ev)

    pause = windows_mask(t, faults_of(spec, "heel_lift") + faults_of(spec, "too_shallow"))

    def derive(v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        # Knees over toes is what "valgus" means at the bottom of a squat.
        return {"rock_shift_cm": 100 * rock * rock_amp,
                "knee_valgus_deg_left": v["knee_track_deg_left"],
                "knee_valgus_deg_right": v["knee_track_deg_right"]}

    def finalize(v: dict[str, np.ndarray]) -> list[Event]:
        below = v["hips_below_knees"] > 0.5
        out = []
        for (t_down, _, t_rise, t_up) in holds:
            inside = (t >= t_down) & (t <= t_up) & below
            if not inside.any():
                continue
            t0, t1 = float(t[inside][0]), float(t[inside][-1])
            good = below & ~pause
            ev = hold_event(t, t0, t1, good, None, hold_s)
            if ev:
                out.append(ev)
                # One set per hold, as the routine prescribes holds (no reps).
                sets.append({"side": None, "t_s": t0, "t_end_s": t1, "reps": 0, "hold_s": ev.value})
        return out

    sets: list[dict] = []
    return Motion(intent, events, sets, {"phase": _phases(t, holds)}, props={}, camera_height_m=0.9,
                  working_side=spec.side, derive=derive, finalize=finalize)


def _phases(t: np.ndarray, holds: list[tuple[float, float, float, float]]) -> list[str]:
    out = np.full(len(t), "stand", dtype=object)
    for (t_down, t_deep, t_rise, t_up) in holds:
        out[(t >= t_down) & (t < t_deep)] = "descend"
        out[(t >= t_deep) & (t < t_rise)] = "hold"
        out[(t >= t_rise) & (t < t_up)] = "rise"
    return [str(x) for x in out]
