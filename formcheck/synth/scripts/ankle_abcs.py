"""Ankle ABCs: seated on a chair, the working foot lifted clear of the floor with the
knee partly straightened, the leg held still while the ankle alone traces the capital
letters A to Z with the foot tip, pausing briefly between letters.

The letter shapes are formcheck.drills.letters' stroke templates (one definition of
"how people write an A" shared with the recogniser). They are drawn in the person's own frame (as they would read them, x to their
right, y up), so from a front camera they appear mirrored. The foot tip moves over an
ankle range of about +-22 degrees each way (plantar/dorsiflexion up and down, inversion
with adduction and eversion with abduction side to side), well inside normal active
range, at a steady pace along the letter's strokes (about 2-4 s per letter).

side = the working foot (both_sides: then the other foot).
Events: one `letter` count per letter (t_s start, t_end_s end, message = the letter,
value = its position in the alphabet), side = working foot.
Faults: leg_moving (cm the ankle sways as the knee and hip join in), foot_down (the
working foot rests on the floor; tracing waits until it is lifted again).
"""

from __future__ import annotations

import string

import numpy as np

from formcheck.drills.letters import LETTER_WIDTH, letter_path, path_length
from formcheck.events import Event
from formcheck.pose.landmarks import other_side
from formcheck.synth.body import BodyDims
from formcheck.synth.kin import SIDE_SIGN, PoseIntent, apply, rot_axis, rot_y, unit
from formcheck.synth.motion import (
    Motion,
    Timeline,
    ease,
    envelope,
    fault_event,
    faults_of,
    frame_times,
    keyframes,
    local_to_scene,
    sway,
)
from formcheck.synth.spec import SynthSpec


def sample_path(path: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Points at fractions s (0..1) of a polyline's length: a steady pace along the strokes."""
    seg = np.linalg.norm(np.diff(path, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    d = np.clip(s, 0, 1) * cum[-1]
    return np.stack([np.interp(d, cum, path[:, 0]), np.interp(d, cum, path[:, 1])], -1)


RANGE_DEG = 22.0  # foot-tip excursion each way from the letter's centre
LIFT_KNEE_DEG = 42.0  # knee flexion of the lifted working leg (foot ~25 cm off the floor)
PLANT_KNEE_DEG = 85.0


def build(spec: SynthSpec, body: BodyDims, rng: np.random.Generator) -> Motion:
    var = spec.variation
    tempo = 1.0 + var * rng.uniform(-0.15, 0.25)
    heading0 = var * rng.uniform(-5, 5)
    origin = np.array([var * rng.uniform(-0.1, 0.1), 0.0, var * rng.uniform(-0.1, 0.1)])
    letters = string.ascii_uppercase[: (spec.reps or 26)]
    sides = [spec.side] + ([other_side(spec.side)] if spec.both_sides else [])
    pause_s = 1.0 * tempo
    seat_y = 0.26 * body.height  # chair seat at knee height
    hip_y = seat_y + 0.05 * body.height
    hip_z = 0.0

    downs = [(f.start_s, f.end_s) for f in faults_of(spec, "foot_down")]

    def clear_of_downs(t0: float, dur: float) -> float:
        """Earliest start >= t0 for a letter of this duration that avoids foot-down spells."""
        moved = True
        while moved:
            moved = False
            for a, b in downs:
                if t0 < b + 0.6 and t0 + dur > a - 0.3:
                    t0 = b + 0.6
                    moved = True
        return t0

    tl = Timeline(lift_left=0.0, lift_right=0.0)
    letter_times: list[tuple[str, str, float, float]] = []  # side, letter, start, end
    sets = []
    t = 1.5
    for k, side in enumerate(sides):
        if k > 0:
            tl.now = max(tl.now, t)
            tl.move(1.0, **{f"lift_{sides[k - 1]}": 0.0})
        tl.now = max(tl.now, t)
        tl.move(1.2 * tempo, **{f"lift_{side}": 1.0})
        t = tl.now + 0.8
        set_start = t
        for ch in letters:
            dur = (1.0 + 0.8 * path_length(letter_path(ch))) * tempo
            t = clear_of_downs(t + 0.4, dur)
            letter_times.append((side, ch, t, t + dur))
            t += dur + pause_s
        sets.append({"side": side, "t_s": set_start, "t_end_s": t, "reps": len(letters)})
        tl.now = t
    tl.move(1.2, **{f"lift_{sides[-1]}": 0.0})
    tl.wait(1.5)

    times = frame_times(tl.now, spec.fps, spec.duration_s)
    T = len(times)
    intent = PoseIntent.neutral(times)
    intent.heading = heading0 + sway(times, rng, 0.5 * var, 8.0)
    intent.pelvis = local_to_scene(origin, intent.heading, np.tile([0.0, hip_y, hip_z], (T, 1)))
    intent.pelvis_tilt = np.full(T, 5.0)
    intent.pelvis_obliquity = sway(times, rng, 0.5 * var, 6.0)
    intent.trunk_flex = 4.0 + sway(times, rng, 1.2 * var, 6.0)
    intent.trunk_lateral = sway(times, rng, 0.8 * var, 6.0)
    intent.neck_flex = 25.0 + sway(times, rng, 3.0 * var, 5.0)  # watching the foot

    # Letter coordinates (u right, v up, in -1..1) of the working foot over time.
    u = np.zeros(T)
    v = np.zeros(T)
    tracing = np.zeros(T)
    letter_label = np.full(T, "", dtype=object)
    # Between letters the foot is still, except for a short move to the next start point.
    key_t, key_uv = [0.0], [(0.0, 0.0)]
    current = (0.0, 0.0)
    for side, ch, t0, t1 in letter_times:
        path = letter_path(ch)  # writer's view, y down, 1 unit tall
        # Centred on the neutral foot; 2 units tall in (u, v), x to the writer's right, y up.
        uv = np.stack([(path[:, 0] - LETTER_WIDTH[ch] / 2) * 2.0, (0.5 - path[:, 1]) * 2.0], -1)
        key_t += [t0 - 0.45, t0 - 0.05]
        key_uv += [current, tuple(uv[0])]
        m = (times >= t0) & (times <= t1)
        s = ease((times[m] - t0) / (t1 - t0))
        p = sample_path(uv, s)
        u[m], v[m] = p[:, 0], p[:, 1]
        tracing[m] = 1.0
        letter_label[m] = ch
        current = tuple(uv[-1])
        key_t += [t1]
        key_uv += [current]
    between = keyframes(times, key_t, key_uv)
    u = np.where(tracing > 0, u, between[:, 0])
    v = np.where(tracing > 0, v, between[:, 1])

    # Legs.
    lift = {s: tl.sample(f"lift_{s}", times) for s in ("left", "right")}
    down_env = np.zeros(T)
    for a, b in downs:
        down_env = np.maximum(down_env, envelope(times, a, b, 0.4))
    sway_env = np.zeros(T)
    sway_amp = 0.0
    for f in faults_of(spec, "leg_moving"):
        sway_env = np.maximum(sway_env, envelope(times, f.start_s, f.end_s, 0.3))
        sway_amp = max(sway_amp, f.value / 100.0)
    r_head = rot_y(intent.heading)
    active = np.where(lift["left"] >= lift["right"], "left", "right")
    for s in ("left", "right"):
        x = SIDE_SIGN[s] * body.hip_w / 2 * 1.1
        working = lift[s] * (1 - down_env * (active == s))
        knee = PLANT_KNEE_DEG + (LIFT_KNEE_DEG - PLANT_KNEE_DEG) * working
        # Thigh on the seat (raised a little when the leg is lifted), the shank hanging
        # forward from the knee at (thigh angle - knee flexion) from the horizontal.
        thigh_up = np.radians(8.0 * working)
        knee_pt = np.stack([np.full(T, x), hip_y + body.thigh * np.sin(thigh_up),
                            hip_z + body.thigh * np.cos(thigh_up)], -1)
        a = thigh_up - np.radians(knee)
        shank_dir = np.stack([np.zeros(T), np.sin(a), np.cos(a)], -1)
        ankle_local = knee_pt + shank_dir * body.shank
        # A planted foot sits on the floor whatever the geometry gives (the knee adapts).
        planted = working < 0.02
        ankle_local[:, 1] = np.where(planted, body.ankle_h, np.maximum(ankle_local[:, 1], body.ankle_h))
        if sway_amp:
            wob = sway_env * (active == s) * lift[s]
            ankle_local[:, 0] += SIDE_SIGN[s] * sway_amp * np.sin(2 * np.pi * 0.8 * times) * wob
            ankle_local[:, 2] += 0.4 * sway_amp * np.sin(2 * np.pi * 0.8 * times + 1.0) * wob
        ankle = local_to_scene(origin, intent.heading, ankle_local)
        # Neutral foot: at right angles to the shank, tipped 12 deg toward plantarflexion.
        fwd_perp = unit(np.stack([np.zeros(T), shank_dir[:, 2], -shank_dir[:, 1]], -1))
        neutral = unit(np.cos(np.radians(12)) * fwd_perp + np.sin(np.radians(12)) * shank_dir)
        work = (active == s) * lift[s] * (1 - down_env)
        uu, vv = u * work, v * work
        # Up/down: about the ankle's transverse axis (+x); side to side: about the shank,
        # + u being the person's right (-x).
        lat_axis = np.tile([1.0, 0.0, 0.0], (T, 1))
        f = apply(rot_axis(lat_axis, -vv * RANGE_DEG), neutral)
        f = apply(rot_axis(shank_dir, uu * RANGE_DEG * 1.1), f)
        # A planted foot lies flat.
        flat = np.tile([0.0, 0.0, 1.0], (T, 1))
        w = np.clip(working, 0, 1)[:, None]
        f = unit(f * w + flat * (1 - w))
        f_scene = apply(r_head, f)
        leg = intent.legs[s]
        leg.ankle = ankle
        yaw = np.degrees(np.arctan2(f_scene[:, 0], f_scene[:, 2])) - intent.heading
        leg.toe_out = SIDE_SIGN[s] * yaw + 6.0 * (1 - w[:, 0])
        leg.pitch = -np.degrees(np.arcsin(np.clip(f_scene[:, 1], -1, 1)))
        leg.roll = SIDE_SIGN[s] * uu * 8.0  # inversion as the toes go medially
        leg.knee_pole = apply(r_head, np.tile([0.0, 0.3, 1.0], (T, 1)))
    # Hands resting on the thighs near the knees.
    for s in ("left", "right"):
        hand_local = np.stack([np.full(T, SIDE_SIGN[s] * (body.hip_w / 2 + 0.02)),
                               np.full(T, hip_y + body.thigh_r + 0.02), np.full(T, hip_z + 0.55 * body.thigh)], -1)
        intent.arms[s].hand = local_to_scene(origin, intent.heading, hand_local)
        intent.arms[s].elbow_pole = unit(apply(r_head, np.tile([SIDE_SIGN[s] * 0.5, 0.0, -1.0], (T, 1))))

    t_last = float(times[-1])
    events: list[Event] = []
    for side, ch, t0, t1 in letter_times:
        if t1 <= t_last:  # a letter the clip cuts short is not a letter
            events.append(Event(t0, "letter", "count", ch, side, t1,
                                float(string.ascii_uppercase.index(ch) + 1)))
    for f in spec.faults:
        i = min(int(np.searchsorted(times, f.start_s)), T - 1)
        ev = fault_event(f, f.side or str(active[i]), t_last)
        if ev:
            events.append(ev)

    chair = {"seat_centre": local_to_scene(origin, np.array([heading0]),
                                           np.array([[0.0, seat_y, hip_z - 0.05]]))[0],
             "seat_size": (0.45 * body.height / 1.75, 0.42 * body.height / 1.75),
             "heading_deg": heading0, "back_height": 0.45 * body.height / 1.75}

    def derive(val: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        clear = np.minimum(val["toe_height_cm_left"], val["heel_height_cm_left"])
        clear_r = np.minimum(val["toe_height_cm_right"], val["heel_height_cm_right"])
        return {"tracing": tracing, "letter_u": u * tracing, "letter_v": v * tracing,
                "foot_clearance_cm": np.where(active == "left", clear, clear_r)}

    return Motion(intent, events, sets, {"letter": [str(x) for x in letter_label],
                                         "working_foot": [str(x) for x in active]},
                  props={"chair": chair}, camera_height_m=0.8, working_side=spec.side, derive=derive)
