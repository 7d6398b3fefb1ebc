"""Vectorised kinematics of the synthetic actor: rotations, two-bone IK, feet, and the
forward pass from a pose intent to the 33 BlazePose landmarks.

Scene frame: metres, y up, floor at y = 0. A person with heading 0 faces +z and has
their left toward +x; body-local frames use the same axes (x = person's left, y = up,
z = forward). Every array carries a leading time axis T.

Sign conventions (degrees):
  pelvis tilt +anterior; obliquity +left hip up; pelvis/trunk rotation +turn to the left.
  trunk flex +forward; trunk lateral +lean to the person's left.
  neck flex +chin down; neck lateral +ear to the left shoulder; neck rotation +look left.
  foot toe_out +outward (per side); pitch +toes down / heel up; roll +inversion.
  knee swivel +medial (valgus), rotating the knee about the hip-ankle axis.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from formcheck.pose.landmarks import LM, NUM_LANDMARKS
from formcheck.synth.body import HEAD_POINTS, BodyDims

SIDE_SIGN = {"left": 1.0, "right": -1.0}  # +x is the person's left
# Heel and foot-index landmarks above the sole (share of height): 2.3 and 1.4 cm at 1.75 m.
HEEL_LM_UP = 0.013
TOE_LM_UP = 0.008


def rot_x(deg: np.ndarray) -> np.ndarray:
    a = np.radians(np.asarray(deg, float))
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2)


def rot_y(deg: np.ndarray) -> np.ndarray:
    a = np.radians(np.asarray(deg, float))
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2)


def rot_z(deg: np.ndarray) -> np.ndarray:
    a = np.radians(np.asarray(deg, float))
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2)


def rot_axis(axis: np.ndarray, deg: np.ndarray) -> np.ndarray:
    """(T,3,3) rotations about unit axes (T,3) by angles (T,) (Rodrigues)."""
    k = axis / np.linalg.norm(axis, axis=-1, keepdims=True)
    a = np.radians(np.asarray(deg, float))[..., None, None]
    kx, ky, kz = k[..., 0], k[..., 1], k[..., 2]
    z = np.zeros_like(kx)
    kmat = np.stack([np.stack([z, -kz, ky], -1), np.stack([kz, z, -kx], -1),
                     np.stack([-ky, kx, z], -1)], -2)
    eye = np.broadcast_to(np.eye(3), kmat.shape)
    return eye + np.sin(a) * kmat + (1 - np.cos(a)) * (kmat @ kmat)


def apply(r: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate vectors: r (T,3,3) @ v (3,) or (T,3) -> (T,3)."""
    v = np.asarray(v, float)
    if v.ndim == 1:
        return r @ v
    return np.einsum("tij,tj->ti", r, v)


def unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(n > 1e-12, n, 1.0)


def two_bone_ik(root: np.ndarray, target: np.ndarray, l1: float, l2: float,
                pole: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Place the middle joint of a two-segment limb (hip-knee-ankle, shoulder-elbow-wrist).

    Returns (mid, end, reached): the end is the target unless it lies out of reach, in
    which case the limb points at it fully stretched and `reached` is False there.
    The middle joint bends toward `pole` (a direction, need not be unit).
    """
    d_vec = target - root
    d = np.linalg.norm(d_vec, axis=-1)
    lo, hi = abs(l1 - l2) + 1e-4, (l1 + l2) * 0.99999
    reached = (d >= lo) & (d <= hi)
    dc = np.clip(d, lo, hi)
    a = unit(d_vec)
    cos_root = np.clip((l1 ** 2 + dc ** 2 - l2 ** 2) / (2 * l1 * dc), -1.0, 1.0)
    p = pole - np.sum(pole * a, -1, keepdims=True) * a
    p = unit(p)
    mid = root + a * (l1 * cos_root)[:, None] + p * (l1 * np.sqrt(1 - cos_root ** 2))[:, None]
    end = root + a * dc[:, None]
    return mid, end, reached


def foot_rotation(heading: np.ndarray, side: str, toe_out: np.ndarray, pitch: np.ndarray,
                  roll: np.ndarray) -> np.ndarray:
    """World rotation of a foot frame (x left, y sole normal, z heel-to-toe)."""
    s = SIDE_SIGN[side]
    return rot_y(heading + s * toe_out) @ rot_x(pitch) @ rot_z(-s * roll)


def foot_offsets(body: BodyDims) -> tuple[np.ndarray, np.ndarray]:
    """Heel and foot-tip positions relative to the ankle centre in the foot frame: both on
    the sole, the heel `heel_back` behind the ankle and the tip the rest of the foot ahead."""
    heel = np.array([0.0, -body.ankle_h, -body.heel_back])
    toe = np.array([0.0, -body.ankle_h, body.foot - body.heel_back])
    return heel, toe


def ankle_for_planted_toe(body: BodyDims, toe: np.ndarray, heading: np.ndarray, side: str,
                          toe_out: np.ndarray, heel_lift: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ankle position and foot pitch for a foot whose tip rests on the floor at `toe`
    (T,3) with its heel raised `heel_lift` metres (0 = flat): the foot pivots on the tip."""
    pitch = np.degrees(np.arcsin(np.clip(heel_lift / body.foot, 0.0, 0.9)))
    r = foot_rotation(heading, side, toe_out, pitch, np.zeros_like(pitch))
    _, toe_off = foot_offsets(body)
    ankle = toe - apply(r, toe_off)
    return ankle, pitch


def toe_from_heel_position(body: BodyDims, heel_xz: np.ndarray, heading: np.ndarray, side: str,
                           toe_out: np.ndarray) -> np.ndarray:
    """Floor position of the foot tip of a flat foot whose heel is at heel_xz (T,2: x, z)."""
    yaw = np.radians(heading + SIDE_SIGN[side] * toe_out)
    fwd = np.stack([np.sin(yaw), np.zeros_like(yaw), np.cos(yaw)], -1)
    heel = np.stack([heel_xz[:, 0], np.zeros(len(yaw)), heel_xz[:, 1]], -1)
    return heel + fwd * body.foot


@dataclass
class LegIntent:
    """Where a leg's foot is and how it is oriented; the knee follows by IK."""

    ankle: np.ndarray  # (T,3) ankle centre, scene metres
    toe_out: np.ndarray  # (T,)
    pitch: np.ndarray  # (T,)
    roll: np.ndarray  # (T,)
    swivel: np.ndarray  # (T,) knee swivel, + medial
    knee_pole: np.ndarray | None = None  # (T,3) overrides "knee over the toes"


@dataclass
class ArmIntent:
    hand: np.ndarray  # (T,3) wrist target, scene metres
    elbow_pole: np.ndarray  # (T,3) direction the elbow points


@dataclass
class PoseIntent:
    """A whole-body pose over T frames, as a drill script describes it."""

    t: np.ndarray
    heading: np.ndarray
    pelvis: np.ndarray  # (T,3) hip-joint midpoint
    pelvis_tilt: np.ndarray
    pelvis_obliquity: np.ndarray
    pelvis_rotation: np.ndarray
    trunk_flex: np.ndarray
    trunk_lateral: np.ndarray
    trunk_twist: np.ndarray
    neck_flex: np.ndarray
    neck_lateral: np.ndarray
    neck_rotation: np.ndarray
    legs: dict[str, LegIntent]
    arms: dict[str, ArmIntent]

    @classmethod
    def neutral(cls, t: np.ndarray) -> PoseIntent:
        """All angles zero; positions zero (scripts fill them in)."""
        z = np.zeros(len(t))
        z3 = np.zeros((len(t), 3))
        legs = {s: LegIntent(z3.copy(), z.copy(), z.copy(), z.copy(), z.copy()) for s in ("left", "right")}
        arms = {s: ArmIntent(z3.copy(), z3.copy()) for s in ("left", "right")}
        return cls(t, z.copy(), z3.copy(), *(z.copy() for _ in range(9)), legs, arms)


@dataclass
class Skeleton:
    """Result of the forward pass: scene positions of every joint and landmark."""

    landmarks: np.ndarray  # (T,33,3) scene metres
    pelvis_rot: np.ndarray  # (T,3,3)
    trunk_rot: np.ndarray
    head_rot: np.ndarray
    foot_rot: dict[str, np.ndarray]
    neck_base: np.ndarray  # (T,3)
    head_centre: np.ndarray  # (T,3)
    head_top: np.ndarray  # (T,3)
    reached: dict[str, np.ndarray] = field(default_factory=dict)  # limb -> (T,) bool
    # side -> (heel, tip) of the sole, the points that rest on the floor (T,3 each)
    soles: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


def pelvis_rotation(intent: PoseIntent) -> np.ndarray:
    return (rot_y(intent.heading + intent.pelvis_rotation) @ rot_z(intent.pelvis_obliquity)
            @ rot_x(intent.pelvis_tilt))


def trunk_rotation(intent: PoseIntent) -> np.ndarray:
    # The trunk is referenced to the heading, not to the pelvis: a runner whose hip drops
    # can keep the chest upright, and the two faults must be independent.
    return rot_y(intent.heading + intent.trunk_twist) @ rot_z(-intent.trunk_lateral) @ rot_x(intent.trunk_flex)


def hip_joints(intent: PoseIntent, body: BodyDims) -> dict[str, np.ndarray]:
    r = pelvis_rotation(intent)
    return {s: intent.pelvis + apply(r, np.array([SIDE_SIGN[s] * body.hip_w / 2, 0.0, 0.0]))
            for s in ("left", "right")}


def shoulder_joints(intent: PoseIntent, body: BodyDims) -> dict[str, np.ndarray]:
    r = trunk_rotation(intent)
    mid = intent.pelvis + apply(r, np.array([0.0, body.torso, 0.0]))
    return {s: mid + apply(r, np.array([SIDE_SIGN[s] * body.shoulder_w / 2, 0.0, 0.0]))
            for s in ("left", "right")}


def forward(intent: PoseIntent, body: BodyDims) -> Skeleton:
    """Pose intent -> landmark positions (scene frame)."""
    T = len(intent.t)
    lm = np.zeros((T, NUM_LANDMARKS, 3))
    r_pelvis = pelvis_rotation(intent)
    r_trunk = trunk_rotation(intent)
    hips = hip_joints(intent, body)
    shoulders = shoulder_joints(intent, body)
    reached: dict[str, np.ndarray] = {}
    foot_rots: dict[str, np.ndarray] = {}
    soles: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    heel_off, toe_off = foot_offsets(body)
    for side in ("left", "right"):
        s = SIDE_SIGN[side]
        leg = intent.legs[side]
        r_foot = foot_rotation(intent.heading, side, leg.toe_out, leg.pitch, leg.roll)
        foot_rots[side] = r_foot
        hip = hips[side]
        if leg.knee_pole is not None:
            pole = leg.knee_pole
        else:
            yaw = np.radians(intent.heading + s * leg.toe_out)
            pole = np.stack([np.sin(yaw), np.zeros(T), np.cos(yaw)], -1)
        axis = unit(leg.ankle - hip)
        pole = apply(rot_axis(axis, s * leg.swivel), pole)
        knee, ankle, ok = two_bone_ik(hip, leg.ankle, body.thigh, body.shank, pole)
        reached[f"{side}_leg"] = ok
        # If the ankle could not be reached the foot goes where the stretched leg ends.
        heel = ankle + apply(r_foot, heel_off)
        toe = ankle + apply(r_foot, toe_off)
        soles[side] = (heel, toe)
        # BlazePose's heel point is the back of the heel and its foot index the tip of the
        # second toe, both a little above the sole that rests on the floor.
        heel_lm = heel + apply(r_foot, np.array([0.0, HEEL_LM_UP * body.height, -0.004]))
        toe_lm = toe + apply(r_foot, np.array([0.0, TOE_LM_UP * body.height, -0.004]))
        lm[:, LM[f"{side.upper()}_HIP"]] = hip
        lm[:, LM[f"{side.upper()}_KNEE"]] = knee
        lm[:, LM[f"{side.upper()}_ANKLE"]] = ankle
        lm[:, LM[f"{side.upper()}_HEEL"]] = heel_lm
        lm[:, LM[f"{side.upper()}_FOOT_INDEX"]] = toe_lm

        arm = intent.arms[side]
        sh = shoulders[side]
        elbow, wrist, ok = two_bone_ik(sh, arm.hand, body.upper_arm, body.forearm, arm.elbow_pole)
        reached[f"{side}_arm"] = ok
        d = unit(wrist - elbow)
        # The thumb side of a relaxed hand faces away from where the elbow points.
        thumb = -unit(arm.elbow_pole - np.sum(arm.elbow_pole * d, -1, keepdims=True) * d)
        hl = body.hand
        lm[:, LM[f"{side.upper()}_SHOULDER"]] = sh
        lm[:, LM[f"{side.upper()}_ELBOW"]] = elbow
        lm[:, LM[f"{side.upper()}_WRIST"]] = wrist
        lm[:, LM[f"{side.upper()}_INDEX"]] = wrist + d * (0.62 * hl) + thumb * (0.17 * hl)
        lm[:, LM[f"{side.upper()}_PINKY"]] = wrist + d * (0.55 * hl) - thumb * (0.2 * hl)
        lm[:, LM[f"{side.upper()}_THUMB"]] = wrist + d * (0.38 * hl) + thumb * (0.33 * hl)

    neck_base = intent.pelvis + apply(r_trunk, np.array([0.0, body.torso + body.neck, 0.0]))
    r_head = r_trunk @ rot_y(intent.neck_rotation) @ rot_z(-intent.neck_lateral) @ rot_x(intent.neck_flex)
    k = body.head_scale

    def head_point(name: str, mirror: bool = False) -> np.ndarray:
        x, y, z = HEAD_POINTS[name]
        return neck_base + apply(r_head, np.array([-x if mirror else x, y, z]) * k)

    lm[:, LM.NOSE] = head_point("nose")
    for part in ("EYE_INNER", "EYE", "EYE_OUTER", "EAR"):
        name = "left_" + part.lower()
        lm[:, LM["LEFT_" + part]] = head_point(name)
        lm[:, LM["RIGHT_" + part]] = head_point(name, mirror=True)
    lm[:, LM.MOUTH_LEFT] = head_point("mouth_left")
    lm[:, LM.MOUTH_RIGHT] = head_point("mouth_left", mirror=True)
    return Skeleton(lm, r_pelvis, r_trunk, r_head, foot_rots, neck_base,
                    head_point("centre"), head_point("top"), reached, soles)
