"""True measured quantities of a synthetic pose, computed from its 3D landmarks the way
a physiotherapist defines them (not the way an analyser estimates them from 2D).

Frontal-plane quantities use the person's own frontal plane (the plane across their
heading), so they are what a camera squarely in front would show.
"""

from __future__ import annotations

import numpy as np

from formcheck.pose.landmarks import LM, side_lm
from formcheck.synth.body import BodyDims
from formcheck.synth.kin import SIDE_SIGN, unit

# A foot point this close to the floor counts as touching it.
CONTACT_M = 0.01


def _frontal(p: np.ndarray, heading: np.ndarray) -> np.ndarray:
    """(T,...,3) scene points -> (T,...,2) coordinates (person's left, up) in the frontal plane."""
    a = np.radians(heading)
    left = np.stack([np.cos(a), np.zeros_like(a), -np.sin(a)], -1)
    shape = (len(a),) + (1,) * (p.ndim - 2) + (3,)
    left = left.reshape(shape)
    return np.stack([np.sum(p * left, -1), p[..., 1]], -1)


def _sagittal(p: np.ndarray, heading: np.ndarray) -> np.ndarray:
    """(T,...,3) -> (T,...,2) coordinates (forward, up) in the person's sagittal plane."""
    a = np.radians(heading)
    fwd = np.stack([np.sin(a), np.zeros_like(a), np.cos(a)], -1)
    shape = (len(a),) + (1,) * (p.ndim - 2) + (3,)
    return np.stack([np.sum(p * fwd.reshape(shape), -1), p[..., 1]], -1)


def angle3(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    u, v = unit(a - b), unit(c - b)
    return np.degrees(np.arccos(np.clip(np.sum(u * v, -1), -1, 1)))


def knee_valgus_deg(lm: np.ndarray, heading: np.ndarray, side: str) -> np.ndarray:
    """Frontal-plane projection angle of the knee: 0 when hip, knee and ankle line up
    seen from the front, positive when the knee sits medial of the hip-ankle line
    (valgus, 'caving in'), negative when lateral (knees out)."""
    h, k, a = (_frontal(lm[:, side_lm(side, p)], heading) for p in ("HIP", "KNEE", "ANKLE"))
    ang = 180.0 - angle3(np.concatenate([h, np.zeros_like(h[:, :1])], -1),
                         np.concatenate([k, np.zeros_like(k[:, :1])], -1),
                         np.concatenate([a, np.zeros_like(a[:, :1])], -1))
    # Which side of the hip->ankle line the knee is on, at the knee's height; medial is
    # toward the other leg (-x for the left leg, whose +x is the person's left).
    dy = a[:, 1] - h[:, 1]
    safe = np.where(np.abs(dy) > 1e-6, dy, 1e-6)
    x_line = h[:, 0] + (a[:, 0] - h[:, 0]) * (k[:, 1] - h[:, 1]) / safe
    medial = np.sign((x_line - k[:, 0]) * SIDE_SIGN[side])
    return ang * np.where(medial == 0, 1.0, medial)


def knee_track_deg(lm: np.ndarray, side: str) -> np.ndarray:
    """Knee tracking over the toes, seen from above: the angle between the foot's
    direction (heel to tip) and the shank's floor projection (ankle to knee), positive
    when the knee points medially (caving in), negative when it points out past the toes.
    Meaningful for a bent knee over a grounded foot (squats, landings)."""
    foot = lm[:, side_lm(side, "FOOT_INDEX")] - lm[:, side_lm(side, "HEEL")]
    shank = lm[:, side_lm(side, "KNEE")] - lm[:, side_lm(side, "ANKLE")]
    fa = np.arctan2(foot[:, 0], foot[:, 2])
    sa = np.arctan2(shank[:, 0], shank[:, 2])
    d = np.degrees((sa - fa + np.pi) % (2 * np.pi) - np.pi)  # + toward +x (the person's left)
    horiz = np.hypot(shank[:, 0], shank[:, 2])
    d = np.where(horiz > 0.03, d, np.nan)  # an upright shank has no direction on the floor
    return -SIDE_SIGN[side] * d


def measure(lm: np.ndarray, heading: np.ndarray, body: BodyDims,
            soles: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> dict[str, np.ndarray]:
    """Per-frame quantities every drill may need, from scene landmarks (T,33,3). Heights
    of the feet (contact, heel lift, clearance) come from the soles when given (the heel
    and foot-index landmarks sit a little above them), else from those landmarks."""
    out: dict[str, np.ndarray] = {}
    lh, rh = lm[:, LM.LEFT_HIP], lm[:, LM.RIGHT_HIP]
    fl, fr = _frontal(lh, heading), _frontal(rh, heading)
    # + when the left hip is higher (hip line vs horizontal, frontal plane).
    out["pelvic_obliquity_deg"] = np.degrees(np.arctan2(fl[:, 1] - fr[:, 1], fl[:, 0] - fr[:, 0]))
    sh = (lm[:, LM.LEFT_SHOULDER] + lm[:, LM.RIGHT_SHOULDER]) / 2
    hp = (lh + rh) / 2
    f = _frontal(sh, heading) - _frontal(hp, heading)
    out["trunk_lean_deg"] = np.degrees(np.arctan2(f[:, 0], f[:, 1]))  # + toward the left
    s = _sagittal(sh, heading) - _sagittal(hp, heading)
    out["trunk_flexion_deg"] = np.degrees(np.arctan2(s[:, 0], s[:, 1]))
    out["hip_height_cm"] = 100 * hp[:, 1]
    for side in ("left", "right"):
        hip, knee, ankle = (lm[:, side_lm(side, p)] for p in ("HIP", "KNEE", "ANKLE"))
        heel, toe = lm[:, side_lm(side, "HEEL")], lm[:, side_lm(side, "FOOT_INDEX")]
        if soles is not None:
            heel, toe = soles[side]
        out[f"knee_flexion_deg_{side}"] = 180.0 - angle3(hip, knee, ankle)
        out[f"hip_flexion_deg_{side}"] = 180.0 - angle3(sh + (hip - hp), hip, knee)
        fppa = knee_valgus_deg(lm, heading, side)
        # The frontal-plane angle only means something with the hip well above the knee.
        upright = (hip[:, 1] - knee[:, 1]) > 0.4 * body.thigh
        out[f"knee_valgus_deg_{side}"] = np.where(upright, fppa, np.nan)
        out[f"knee_track_deg_{side}"] = knee_track_deg(lm, side)
        sk = _sagittal(knee, heading) - _sagittal(ankle, heading)
        out[f"shank_angle_deg_{side}"] = np.degrees(np.arctan2(sk[:, 0], sk[:, 1]))  # + knee ahead
        # Dorsiflexion: 0 with the foot at right angles to the shank, + toes toward the shin.
        foot_dir = unit(toe - heel)
        shank_dir = unit(knee - ankle)
        out[f"ankle_dorsiflexion_deg_{side}"] = 90.0 - np.degrees(
            np.arccos(np.clip(np.sum(foot_dir * shank_dir, -1), -1, 1)))
        out[f"heel_height_cm_{side}"] = 100 * heel[:, 1]
        out[f"toe_height_cm_{side}"] = 100 * toe[:, 1]
        on_floor = toe[:, 1] < CONTACT_M
        # Heel lift: how far the heel is above the floor while the foot tip rests on it.
        out[f"heel_lift_cm_{side}"] = np.where(on_floor, 100 * (heel[:, 1] - toe[:, 1]), np.nan)
        out[f"foot_contact_{side}"] = ((toe[:, 1] < CONTACT_M) | (heel[:, 1] < CONTACT_M)).astype(float)
    knee_y = (lm[:, LM.LEFT_KNEE, 1] + lm[:, LM.RIGHT_KNEE, 1]) / 2
    out["hip_above_knee_cm"] = 100 * (hp[:, 1] - knee_y)
    out["hips_below_knees"] = (hp[:, 1] < knee_y).astype(float)
    lh_, rh_ = (soles["left"][0], soles["right"][0]) if soles else (lm[:, LM.LEFT_HEEL], lm[:, LM.RIGHT_HEEL])
    out["stance_width_cm"] = 100 * np.abs(_frontal(lh_, heading)[:, 0] - _frontal(rh_, heading)[:, 0])
    out["hip_width_cm"] = 100 * np.abs(fl[:, 0] - fr[:, 0])
    return out
