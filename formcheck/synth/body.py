"""Body dimensions of the synthetic actor from standard anthropometric proportions.

Segment lengths are fractions of standing height after Drillis & Contini (1966) as
tabulated by Winter, "Biomechanics and Motor Control of Human Movement" (4th ed., 2009,
fig. 4.1): thigh 0.245 H, shank 0.246 H, foot 0.152 H, ankle height 0.039 H, upper arm
0.186 H, forearm 0.146 H, hand 0.108 H, shoulder height 0.818 H, hip height 0.530 H.

Widths are where BlazePose puts its landmarks rather than bony extremes: its shoulder
points sit a little inside the acromia and its hip points a little outside the hip joint
centres, so an adult seen from the front measures about 0.8 torso lengths across the
shoulders and 0.5 across the hips (the figures pose.view relies on).

`build` scales girth and widths only (1.0 = average, 0.85 slight, 1.2 broad): people of
the same height differ far more in breadth than in limb proportions.
"""

from __future__ import annotations

from dataclasses import dataclass

# Head landmark offsets (metres, for a 1.75 m adult) from the neck pivot in the head's
# frame: x = person's left, y = up, z = forward. Heights follow Winter's eye (0.936 H),
# chin (0.870 H) and nose/ear levels; the pivot is at 0.835 H (about C7).
_REF_H = 1.75
HEAD_POINTS: dict[str, tuple[float, float, float]] = {
    "nose": (0.0, 0.140, 0.105),
    "left_eye_inner": (0.016, 0.177, 0.088),
    "left_eye": (0.033, 0.178, 0.084),
    "left_eye_outer": (0.048, 0.177, 0.076),
    "left_ear": (0.074, 0.158, 0.0),
    "mouth_left": (0.024, 0.098, 0.090),
    "centre": (0.0, 0.170, 0.018),  # ellipsoid centre of the skull (drawing only)
    "top": (0.0, 0.285, 0.010),  # vertex of the head (framing only)
}
HEAD_RADII = (0.077, 0.115, 0.097)  # skull ellipsoid half-axes (x, y, z), 1.75 m adult


@dataclass(frozen=True)
class BodyDims:
    """Segment lengths and widths in metres."""

    height: float
    build: float
    thigh: float
    shank: float
    foot: float  # heel to foot tip
    ankle_h: float  # ankle centre above the sole
    heel_back: float  # heel behind the ankle, along the foot
    upper_arm: float
    forearm: float
    hand: float
    torso: float  # hip-joint midpoint to shoulder midpoint
    neck: float  # shoulder midpoint to neck pivot (head frame origin)
    shoulder_w: float  # between shoulder landmarks
    hip_w: float  # between hip landmarks
    head_scale: float  # head size relative to a 1.75 m adult

    # Girths (capsule radii) for drawing.
    thigh_r: float
    shank_r: float
    upper_arm_r: float
    forearm_r: float
    torso_half_depth: float

    @property
    def leg(self) -> float:
        return self.thigh + self.shank

    @property
    def arm(self) -> float:
        return self.upper_arm + self.forearm

    @property
    def hip_height(self) -> float:
        """Hip joint height standing straight with feet flat."""
        return self.ankle_h + self.leg


def body_dims(height_m: float = 1.75, build: float = 1.0) -> BodyDims:
    """Dimensions of an adult of this height and build."""
    if not 1.2 <= height_m <= 2.2:
        raise ValueError(f"height {height_m} m is outside 1.2-2.2 m")
    if not 0.7 <= build <= 1.5:
        raise ValueError(f"build {build} is outside 0.7-1.5")
    h, b = height_m, build
    hip_height = 0.530 * h
    shoulder_height = 0.818 * h
    return BodyDims(
        height=h, build=b,
        thigh=0.245 * h, shank=0.246 * h, foot=0.152 * h, ankle_h=0.039 * h,
        heel_back=0.22 * 0.152 * h,
        upper_arm=0.186 * h, forearm=0.146 * h, hand=0.108 * h,
        torso=shoulder_height - hip_height, neck=0.017 * h,
        shoulder_w=0.215 * h * (0.85 + 0.15 * b), hip_w=0.150 * h * (0.8 + 0.2 * b),
        head_scale=h / _REF_H,
        thigh_r=0.040 * h * b, shank_r=0.028 * h * b, upper_arm_r=0.022 * h * b,
        forearm_r=0.018 * h * b, torso_half_depth=0.060 * h * b,
    )
