"""Pure, NaN-safe geometry on landmark arrays. Image y points down; angles in degrees.

Every function accepts points of shape (..., 2) or (..., 3) (only x, y are used unless
said otherwise) so it works on one frame or on a whole (T, ...) sequence at once.
A missing point (NaN) gives NaN, never an exception.
"""

from __future__ import annotations

import numpy as np

from formcheck.pose.landmarks import LM, Side, side_lm


def _xy(p: np.ndarray) -> np.ndarray:
    return np.asarray(p, dtype=np.float64)[..., :2]


def distance(a: np.ndarray, b: np.ndarray) -> np.ndarray | float:
    """Euclidean image distance between a and b."""
    return np.linalg.norm(_xy(a) - _xy(b), axis=-1)


def midpoint(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (np.asarray(a, float) + np.asarray(b, float)) / 2.0


def joint_angle_deg(a: np.ndarray, b: np.ndarray, c: np.ndarray, dims: int = 2) -> np.ndarray | float:
    """Angle ABC at vertex b, 0..180 degrees (180 = straight). dims=3 uses x, y, z."""
    a, b, c = (np.asarray(p, np.float64)[..., :dims] for p in (a, b, c))
    u, v = a - b, c - b
    nu, nv = np.linalg.norm(u, axis=-1), np.linalg.norm(v, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.sum(u * v, axis=-1) / (nu * nv)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def flexion_deg(a: np.ndarray, b: np.ndarray, c: np.ndarray, dims: int = 2) -> np.ndarray | float:
    """Joint flexion: 0 when the limb is straight, growing as it bends (e.g. hip-knee-ankle)."""
    return 180.0 - joint_angle_deg(a, b, c, dims)


def tilt_from_vertical_deg(top: np.ndarray, bottom: np.ndarray) -> np.ndarray | float:
    """Signed angle of segment bottom->top from straight up, degrees in (-180, 180].

    Positive when the top leans toward image +x (right). 0 = upright.
    """
    d = _xy(top) - _xy(bottom)
    return np.degrees(np.arctan2(d[..., 0], -d[..., 1]))


def tilt_from_horizontal_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray | float:
    """Signed slope of the line through a and b against image horizontal, degrees in (-90, 90].

    Positive when the line descends toward the image's right, i.e. its right-hand end is
    lower in the image (image y grows downward). The order of a and b does not matter,
    only the line's slope.
    """
    d = _xy(b) - _xy(a)
    dx, dy = d[..., 0], d[..., 1]
    sign = np.where(dx < 0, -1.0, 1.0)
    return np.degrees(np.arctan2(dy * sign, np.abs(dx)))


def leg_length_px(image: np.ndarray, side: Side) -> float:
    """Hip-knee plus knee-ankle image length of one leg (NaN when not all seen)."""
    hip, knee, ankle = (image[side_lm(side, p)] for p in ("HIP", "KNEE", "ANKLE"))
    return float(distance(hip, knee) + distance(knee, ankle))


def torso_length_px(image: np.ndarray) -> float:
    """Shoulder-midpoint to hip-midpoint image distance."""
    sh = midpoint(image[LM.LEFT_SHOULDER], image[LM.RIGHT_SHOULDER])
    hp = midpoint(image[LM.LEFT_HIP], image[LM.RIGHT_HIP])
    return float(distance(sh, hp))


def body_scale_px(image: np.ndarray) -> float:
    """A body size in pixels that does not change with posture much: the longer leg.

    Leg length (thigh + shank) barely changes as a person squats, hops or leans, unlike
    height. Falls back to 1.6 x torso length (the adult leg/torso ratio) when no leg is
    fully seen. NaN when neither is available.
    """
    legs = [leg_length_px(image, s) for s in ("left", "right")]
    legs = [v for v in legs if np.isfinite(v) and v > 0]
    if legs:
        return max(legs)
    torso = torso_length_px(image)
    return 1.6 * torso if np.isfinite(torso) and torso > 0 else float("nan")


def foot_length_px(image: np.ndarray, side: Side) -> float:
    """Heel to foot-tip image distance of one foot."""
    return float(distance(image[side_lm(side, "HEEL")], image[side_lm(side, "FOOT_INDEX")]))
