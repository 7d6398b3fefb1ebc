"""Shared pieces of the drill scripts: eased keyframes, fault envelopes, natural sway,
standing and arm postures, and the Motion a script returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from formcheck.events import Event
from formcheck.synth.body import BodyDims
from formcheck.synth.kin import (
    SIDE_SIGN,
    PoseIntent,
    ankle_for_planted_toe,
    apply,
    hip_joints,
    rot_y,
    shoulder_joints,
    trunk_rotation,
    unit,
)
from formcheck.synth.spec import FAULT_RAMP_S, Fault, SynthSpec


def ease(u: np.ndarray) -> np.ndarray:
    """Minimum-jerk profile 0..1: how people move between two postures (Flash & Hogan)."""
    u = np.clip(u, 0.0, 1.0)
    return u * u * u * (10 - 15 * u + 6 * u * u)


def keyframes(t: np.ndarray, times: list[float] | np.ndarray, values: list[Any] | np.ndarray) -> np.ndarray:
    """Values at times t, moving between consecutive keys with a minimum-jerk ease and
    holding the first/last key outside. values may be scalars or vectors."""
    times = np.asarray(times, float)
    vals = np.asarray(values, float)
    if len(times) == 1:
        return np.broadcast_to(vals[0], (len(t),) + vals.shape[1:]).copy()
    idx = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 2)
    t0, t1 = times[idx], times[idx + 1]
    span = np.where(t1 > t0, t1 - t0, 1.0)
    u = ease((t - t0) / span)
    if vals.ndim > 1:
        u = u.reshape((-1,) + (1,) * (vals.ndim - 1))
    return vals[idx] + (vals[idx + 1] - vals[idx]) * u


def envelope(t: np.ndarray, start: float, end: float, ramp: float = FAULT_RAMP_S) -> np.ndarray:
    """0 outside [start, end], 1 inside, easing in and out over `ramp` seconds."""
    ramp = min(ramp, (end - start) / 2)
    return ease((t - start) / ramp) * ease((end - t) / ramp)


def sway(t: np.ndarray, rng: np.random.Generator, amp: float, period_s: float = 4.0) -> np.ndarray:
    """Slow, smooth, zero-mean wobble (sum of three random sinusoids) of about `amp` peak:
    nobody stands perfectly still."""
    out = np.zeros_like(t)
    for k in range(3):
        f = (1.0 + k * 0.77 + rng.uniform(-0.15, 0.15)) / period_s
        out += np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)) / (k + 1)
    return amp * out / 1.83


def faults_of(spec: SynthSpec, code: str) -> list[Fault]:
    return [f for f in spec.faults if f.code == code]


def fault_envelope(t: np.ndarray, faults: list[Fault]) -> np.ndarray:
    """Largest envelope x size over the faults (size = the code's default when not given)."""
    out = np.zeros_like(t)
    for f in faults:
        out = np.maximum(out, envelope(t, f.start_s, f.end_s) * (f.value or 1.0))
    return out


@dataclass
class Motion:
    """What a drill script produces: the pose over time and the truth it knows by design."""

    intent: PoseIntent
    events: list[Event] = field(default_factory=list)
    sets: list[dict[str, Any]] = field(default_factory=list)
    labels: dict[str, list[str]] = field(default_factory=dict)  # per-frame categorical truth
    values: dict[str, np.ndarray] = field(default_factory=dict)  # per-frame numeric truth
    props: dict[str, Any] = field(default_factory=dict)  # scene props for the renderer
    camera_height_m: float = 1.0
    working_side: str = "left"
    # Drill quantities computed from the generic measurements (see measure.measure).
    derive: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]] | None = None
    # Events that depend on the measured truth (e.g. a hold's good-form seconds).
    finalize: Callable[[dict[str, np.ndarray]], list[Event]] | None = None


# ----------------------------------------------------------------------------- postures


def heading_vectors(heading: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(forward, left) unit vectors (T,3) on the floor for a heading (deg)."""
    a = np.radians(heading)
    fwd = np.stack([np.sin(a), np.zeros_like(a), np.cos(a)], -1)
    left = np.stack([np.cos(a), np.zeros_like(a), -np.sin(a)], -1)
    return fwd, left


def local_to_scene(origin: np.ndarray, heading: np.ndarray, local: np.ndarray) -> np.ndarray:
    """Points given in a person-local floor frame (x left, y up, z forward) -> scene."""
    return origin + apply(rot_y(heading), local)


def plant_foot(intent: PoseIntent, body: BodyDims, side: str, toe: np.ndarray, toe_out: np.ndarray,
               heel_lift_m: np.ndarray | float = 0.0) -> None:
    """Put a foot on the floor with its tip at `toe` (T,3, y ignored), heel raised heel_lift_m."""
    T = len(intent.t)
    toe = np.array(toe, float)
    toe[:, 1] = 0.0
    lift = np.broadcast_to(np.asarray(heel_lift_m, float), (T,))
    ankle, pitch = ankle_for_planted_toe(body, toe, intent.heading, side, toe_out, lift)
    leg = intent.legs[side]
    leg.ankle, leg.pitch, leg.toe_out = ankle, pitch, np.asarray(toe_out, float) * np.ones(T)


def toe_for_heel(body: BodyDims, heel: np.ndarray, heading: np.ndarray, side: str,
                 toe_out: np.ndarray | float) -> np.ndarray:
    """Tip position of a flat foot whose heel is at `heel` (T,3)."""
    a = np.radians(heading + SIDE_SIGN[side] * np.asarray(toe_out, float))
    fwd = np.stack([np.sin(a), np.zeros_like(a), np.cos(a)], -1)
    return heel + fwd * body.foot


def pelvis_height_for_leg(intent: PoseIntent, body: BodyDims, side: str, knee_flex_deg: np.ndarray,
                          ) -> np.ndarray:
    """Pelvis height that gives `side`'s leg this knee flexion, keeping the pelvis's
    horizontal position and its orientation (the foot must already be placed)."""
    saved = intent.pelvis[:, 1].copy()
    intent.pelvis[:, 1] = 0.0
    hip = hip_joints(intent, body)[side]
    intent.pelvis[:, 1] = saved
    ankle = intent.legs[side].ankle
    k = np.radians(180.0 - np.asarray(knee_flex_deg, float))
    d = np.sqrt(body.thigh ** 2 + body.shank ** 2 - 2 * body.thigh * body.shank * np.cos(k))
    horiz = np.hypot(hip[:, 0] - ankle[:, 0], hip[:, 2] - ankle[:, 2])
    vert = np.sqrt(np.maximum(d ** 2 - horiz ** 2, 1e-6))
    return ankle[:, 1] + vert - hip[:, 1]


def arms_hanging(intent: PoseIntent, body: BodyDims, rng: np.random.Generator | None = None,
                 spread_m: float = 0.05, elbow_bend: float = 0.97, forward_m: float = 0.03) -> None:
    """Relaxed arms hanging at the sides, hands a little away from the thighs."""
    r = trunk_rotation(intent)
    shoulders = shoulder_joints(intent, body)
    down = apply(r, np.array([0.0, -1.0, 0.0]))
    fwd = apply(r, np.array([0.0, 0.0, 1.0]))
    for side in ("left", "right"):
        out = apply(r, np.array([SIDE_SIGN[side], 0.0, 0.0]))
        spread = np.reshape(np.asarray(spread_m, float), (-1, 1))
        hand = shoulders[side] + down * body.arm * elbow_bend + out * spread + fwd * forward_m
        intent.arms[side].hand = hand
        intent.arms[side].elbow_pole = unit(-fwd + 0.3 * out)


def arms_on_hips(intent: PoseIntent, body: BodyDims) -> None:
    """Hands on the hips (iliac crests), elbows out and a little back."""
    r_trunk = trunk_rotation(intent)
    hips = hip_joints(intent, body)
    up = np.array([0.0, 1.0, 0.0])
    for side in ("left", "right"):
        out = apply(r_trunk, np.array([SIDE_SIGN[side], 0.0, 0.0]))
        back = apply(r_trunk, np.array([0.0, 0.0, -1.0]))
        intent.arms[side].hand = hips[side] + up * (0.07 * body.height) + out * (0.035 * body.height)
        intent.arms[side].elbow_pole = unit(out + 0.5 * back)


def arms_forward(intent: PoseIntent, body: BodyDims, raise_deg: np.ndarray | float = 80.0,
                 spread_m: float = 0.12) -> None:
    """Arms reaching forward (counterbalance in a squat), raise_deg from hanging."""
    r = trunk_rotation(intent)
    shoulders = shoulder_joints(intent, body)
    a = np.radians(np.asarray(raise_deg, float)) * np.ones(len(intent.t))
    for side in ("left", "right"):
        local = np.stack([np.full_like(a, -SIDE_SIGN[side] * 0.0), -np.cos(a), np.sin(a)], -1)
        direction = apply(r, local)
        out = apply(r, np.array([SIDE_SIGN[side], 0.0, 0.0]))
        intent.arms[side].hand = shoulders[side] + direction * body.arm * 0.96 + out * spread_m
        intent.arms[side].elbow_pole = unit(apply(r, np.array([0.0, -1.0, -0.3])) + 0.4 * out)


def arms_out(intent: PoseIntent, body: BodyDims, raise_deg: np.ndarray | float = 35.0) -> None:
    """Arms out to the sides for balance, raise_deg from hanging."""
    r = trunk_rotation(intent)
    shoulders = shoulder_joints(intent, body)
    a = np.radians(np.asarray(raise_deg, float)) * np.ones(len(intent.t))
    for side in ("left", "right"):
        s = SIDE_SIGN[side]
        local = np.stack([s * np.sin(a), -np.cos(a), np.full_like(a, 0.15)], -1)
        intent.arms[side].hand = shoulders[side] + apply(r, unit(local)) * body.arm * 0.95
        intent.arms[side].elbow_pole = unit(apply(r, np.array([0.0, -0.3, -1.0])))


class Timeline:
    """Keyframe channels built phase by phase, like a choreography.

    `move(dt, a=..., b=...)` moves the named channels from their current values to new
    ones over dt seconds (minimum-jerk); every other channel holds still. `wait(dt)`
    holds everything. `now` is the current time.
    """

    def __init__(self, **initial: Any) -> None:
        self.now = 0.0
        self.keys: dict[str, list[tuple[float, Any]]] = {}
        self.last: dict[str, Any] = {}
        for k, v in initial.items():
            self.keys[k] = [(0.0, v)]
            self.last[k] = v

    def move(self, dt: float, **values: Any) -> float:
        for k in values:
            if k not in self.last:
                raise KeyError(f"channel {k} has no initial value")
            self.keys[k].append((self.now, self.last[k]))
        self.now += dt
        for k, v in values.items():
            self.keys[k].append((self.now, v))
            self.last[k] = v
        return self.now

    def wait(self, dt: float) -> float:
        self.now += dt
        return self.now

    def sample(self, name: str, t: np.ndarray) -> np.ndarray:
        ks = self.keys[name]
        return keyframes(t, [k[0] for k in ks], [k[1] for k in ks])


def frame_times(total_s: float, fps: float, duration_s: float | None) -> np.ndarray:
    n = int(np.floor((duration_s if duration_s is not None else total_s) * fps)) + 1
    return np.arange(n) / fps


def set_foot(intent: PoseIntent, body: BodyDims, side: str, toe: np.ndarray,
             toe_out: np.ndarray | float, pitch: np.ndarray | float, roll: np.ndarray | float = 0.0) -> None:
    """Place a foot by its tip position (T,3) and orientation."""
    from formcheck.synth.kin import foot_offsets, foot_rotation

    T = len(intent.t)
    toe_out = np.asarray(toe_out, float) * np.ones(T)
    pitch = np.asarray(pitch, float) * np.ones(T)
    roll = np.asarray(roll, float) * np.ones(T)
    r = foot_rotation(intent.heading, side, toe_out, pitch, roll)
    _, toe_off = foot_offsets(body)
    leg = intent.legs[side]
    leg.ankle = np.asarray(toe, float) - apply(r, toe_off)
    leg.toe_out, leg.pitch, leg.roll = toe_out, pitch, roll


def pelvis_height(intent: PoseIntent, body: BodyDims, flex: dict[str, np.ndarray]) -> np.ndarray:
    """The pelvis height at which no grounded leg is straighter than its given knee
    flexion: the lowest of the heights each leg alone would allow. A negative flexion
    marks a lifted leg, which never limits the pelvis."""
    T = len(intent.t)
    heights = []
    for s, k in flex.items():
        k = np.asarray(k, float) * np.ones(T)
        h = pelvis_height_for_leg(intent, body, s, np.maximum(k, 0.0))
        heights.append(np.where(k < 0, np.inf, h))
    return np.min(heights, axis=0)


def knee_points(intent: PoseIntent, body: BodyDims, side: str, swivel: np.ndarray) -> np.ndarray:
    from formcheck.synth.kin import rot_axis, two_bone_ik

    T = len(intent.t)
    leg = intent.legs[side]
    hip = hip_joints(intent, body)[side]
    yaw = np.radians(intent.heading + SIDE_SIGN[side] * leg.toe_out)
    pole = leg.knee_pole if leg.knee_pole is not None else np.stack(
        [np.sin(yaw), np.zeros(T), np.cos(yaw)], -1)
    pole = apply(rot_axis(unit(leg.ankle - hip), SIDE_SIGN[side] * swivel), pole)
    knee, _, _ = two_bone_ik(hip, leg.ankle, body.thigh, body.shank, pole)
    return knee


def valgus_of(intent: PoseIntent, body: BodyDims, side: str, swivel: np.ndarray,
              how: str = "fppa") -> np.ndarray:
    from formcheck.synth.kin import foot_offsets, foot_rotation
    from formcheck.synth.measure import knee_track_deg, knee_valgus_deg

    T = len(intent.t)
    lm = np.zeros((T, 33, 3))
    s = side.upper()
    from formcheck.pose.landmarks import LM

    lm[:, LM[f"{s}_HIP"]] = hip_joints(intent, body)[side]
    lm[:, LM[f"{s}_KNEE"]] = knee_points(intent, body, side, swivel)
    leg = intent.legs[side]
    lm[:, LM[f"{s}_ANKLE"]] = leg.ankle
    if how == "track":
        r = foot_rotation(intent.heading, side, leg.toe_out, leg.pitch, leg.roll)
        heel_off, toe_off = foot_offsets(body)
        lm[:, LM[f"{s}_HEEL"]] = leg.ankle + apply(r, heel_off)
        lm[:, LM[f"{s}_FOOT_INDEX"]] = leg.ankle + apply(r, toe_off)
        return knee_track_deg(lm, side)
    return knee_valgus_deg(lm, intent.heading, side)


def solve_knee(intent: PoseIntent, body: BodyDims, side: str, target_deg: np.ndarray,
               mask: np.ndarray, how: str = "fppa") -> None:
    """Swivel a knee about its hip-ankle axis, in the frames of `mask`, until its valgus
    angle (see add_valgus) equals target_deg (bisection per frame, medial swivel raises
    the angle). Where the target cannot be reached the nearest swivel is kept."""
    leg = intent.legs[side]
    if not mask.any():
        return
    lo, hi = np.full(len(intent.t), -70.0), np.full(len(intent.t), 85.0)
    target = np.asarray(target_deg, float) * np.ones(len(intent.t))
    for _ in range(24):
        mid = (lo + hi) / 2
        ok = np.nan_to_num(valgus_of(intent, body, side, mid, how), nan=-1e9) >= target
        hi, lo = np.where(ok, mid, hi), np.where(ok, lo, mid)
    leg.swivel = np.where(mask, (lo + hi) / 2, leg.swivel)


def add_valgus(intent: PoseIntent, body: BodyDims, side: str, env: np.ndarray, peak_deg: float,
               how: str = "fppa") -> None:
    """Swivel a knee medially so that its valgus angle reaches peak_deg where env (T,)
    is 1, easing from the clean pose's own angle where env is between 0 and 1.

    The angle is measured from a straight line (0 = hip, knee and ankle in line seen
    from the front, + medial), not from the clean pose, which usually tracks a few
    degrees outward over turned-out toes: a 15 deg valgus is a knee seen caving to
    15 deg, the figure a clinician (and an analyser) reads. A clean pose already past
    peak_deg is left alone, and a nearly straight knee can only cave so far (the
    nearest swivel is kept). how="fppa": the frontal-plane projection angle (standing
    on a bent leg); "track": the knee's direction over the foot seen from above (deep
    squat, where the hips sit below the knees and the frontal-plane angle means nothing)."""
    env = np.clip(np.asarray(env, float), 0.0, 1.0)
    if not np.any(env > 0) or peak_deg <= 0:
        return
    base = np.nan_to_num(valgus_of(intent, body, side, intent.legs[side].swivel, how))
    target = base + env * np.maximum(peak_deg - base, 0.0)
    solve_knee(intent, body, side, target, env > 0, how)


def hold_event(t: np.ndarray, start: float, end: float, good: np.ndarray, side: str | None,
               target_s: float) -> Event | None:
    """A `hold` event from start to end (clipped to the clip), value = seconds within it
    where `good` (T,) bool holds."""
    if start >= t[-1]:
        return None
    end = min(end, float(t[-1]))
    inside = (t >= start) & (t <= end)
    dt = np.diff(t, prepend=t[0])
    good_s = float(np.sum(dt[inside & good & np.roll(inside, 1)]))
    return Event(float(start), "hold", "hold",
                 f"Held {good_s:.1f} s of {target_s:.0f} s with good form", side, float(end),
                 round(good_s, 3))


def windows_mask(t: np.ndarray, faults: list[Fault]) -> np.ndarray:
    """(T,) True inside any of the faults' windows."""
    m = np.zeros(len(t), bool)
    for f in faults:
        m |= (t >= f.start_s) & (t <= f.end_s)
    return m


def fault_event(f: Fault, side: str | None, t_end_max: float, start: float | None = None,
                end: float | None = None) -> Event | None:
    """The expected `fault` event of an injected fault (None when it falls after the end)."""
    from formcheck.cues import cue_message

    s = f.start_s if start is None else start
    e = f.end_s if end is None else end
    if s >= t_end_max:
        return None
    return Event(float(s), f.code, "fault", cue_message(f.code, side), side, float(min(e, t_end_max)),
                 f.value)


def leg_reach(body: BodyDims, knee_flex_deg: float) -> float:
    """Hip-to-ankle distance of a leg bent this much at the knee (law of cosines)."""
    k = np.radians(180.0 - knee_flex_deg)
    return float(np.sqrt(body.thigh ** 2 + body.shank ** 2 - 2 * body.thigh * body.shank * np.cos(k)))


def circle_meet(c1: np.ndarray, r1: float, c2: np.ndarray, r2: float) -> np.ndarray:
    """Upper intersection (larger second coordinate) of two circles in a plane; where they
    do not meet, the point on the line between the centres that best splits the gap."""
    c1, c2 = np.asarray(c1, float), np.asarray(c2, float)
    d = float(np.linalg.norm(c2 - c1))
    a = (r1 ** 2 - r2 ** 2 + d ** 2) / (2 * d)
    h2 = r1 ** 2 - a ** 2
    base = c1 + (c2 - c1) * a / d
    if h2 <= 0:
        return base
    perp = np.array([-(c2 - c1)[1], (c2 - c1)[0]]) / d
    p1, p2 = base + perp * np.sqrt(h2), base - perp * np.sqrt(h2)
    return p1 if p1[1] >= p2[1] else p2


def keep_reach(intent: PoseIntent, body: BodyDims, legs: dict[str, np.ndarray], min_flex: float = 3.0,
               ) -> None:
    """Lower the pelvis wherever a grounded leg (legs[side] True in that frame) would have
    to be straighter than min_flex to reach its foot: the foot stays planted and the body
    sinks, as it would, instead of the foot being dragged off the floor."""
    T = len(intent.t)
    flex = {s: np.where(m, min_flex, -1.0) * np.ones(T) for s, m in legs.items()}
    intent.pelvis[:, 1] = np.minimum(intent.pelvis[:, 1], pelvis_height(intent, body, flex))
