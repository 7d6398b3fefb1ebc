"""View check: does the camera see the person from the front, the side or obliquely,
and which body parts are out of frame.

The view comes from how wide the shoulders and hips look against the torso's length
in the image. Seen from the front an adult's shoulders are about 0.8 torso lengths
wide and the hips about 0.55; side-on both shrink to under 0.25 (the body's depth).
The ratio needs no depth estimate, which is the model's least reliable output, so it
holds for any camera height or distance.

Widths alone confuse build with turn: a broad person standing 25 deg off side-on (65 deg
from the front) shows shoulders as wide as a slight one facing the camera half-turned
(rendered broad actors read 0.43 there, over the front threshold). The feet tell them
apart. Facing the camera both feet point at it: their heel-to-toe vectors have little
sideways extent, and toes turned out point opposite ways and cancel in the mean. Side-on
both feet point the same way along the image, by most of a foot length. So the mean
sideways extent of the two feet, per foot length (taken from the body's proportions,
since a foot pointing at the camera is foreshortened), measures the turn whatever the
build, camera height, distance or mirroring; past a clear turn it pulls the width ratio
down into the oblique band. Only that far: the feet's reading saturates from about 50 deg
of turn on (the model's foot points sit inside the foot's ends, and side-on the far foot
is partly hidden), so they can rule out a front view but cannot tell oblique from
side-on; that stays with the widths. The head is no witness: people turn it to look at
the screen by the camera, whichever way their body faces.

Seated on the floor (calf foam-rolling) the feet point up and the shoulders, propped on
the hands, can read as wide as a body facing the camera (a broad rendered body side-on
read 0.43-0.47 resting between sets, truly 0.09). A leg stretched out along the floor
tells the view there: seen lying across the image at its length, it cannot point at the
camera, so the body is not facing it (`leg_lying`); the ratio is then pulled into the
oblique band like the feet's. Standing, a leg is never that flat (a star-balance reach to
the side goes down and out from the hip: steeper), and facing the camera a leg stretched
out on the floor points at it, foreshortened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from formcheck.pose.frame import PoseFrame
from formcheck.pose.geometry import distance, leg_length_px, midpoint, torso_length_px
from formcheck.pose.landmarks import BODY_PARTS, LM

View = Literal["front", "side", "oblique", "unknown"]

# Shoulder+hip width over 2 torso lengths, above which the person faces the camera
# (front ~0.65) and below which they stand side-on (side ~0.15). Between: oblique.
FRONT_MIN_WIDTH_RATIO = 0.42
SIDE_MAX_WIDTH_RATIO = 0.25
# The feet's mean sideways extent (heel to toe along the image's x, per foot length) from
# which the body counts as turned away from the camera, and at which fully so. Facing the
# camera it reads under 0.25 through the model (real clips and renders: 0-0.2; 0.3 with
# the body turned ~30 deg), from ~50 deg of turn to side-on 0.6-0.9 (the model's heel and
# toe points sit inside the foot's ends).
FEET_TURNED_MIN = 0.45
FEET_TURNED_FULL = 0.7
# Where the feet pull the width ratio of a body they show turned: the middle of the oblique
# band (between SIDE_MAX_WIDTH_RATIO and FRONT_MIN_WIDTH_RATIO above).
TURNED_WIDTH_RATIO = 0.33
# A leg lying along the image: its hip-to-ankle sideways extent at least this many torso
# lengths (stretched out, about 1.6; rendered seated bodies 1.3-2.0 through the model),
# within LEG_LYING_SLOPE of horizontal (image rise over run). Never met on any standing
# drill's clips (rendered or real): their most sideways leg reads under 0.8 torso lengths.
LEG_LYING_MIN = 1.2
LEG_LYING_SLOPE = 0.5
# Foot length (heel to toe tip) against the torso (shoulder to hip midpoints) and against
# the leg (hip-knee-ankle) for adults: foot ~0.15 of stature, torso ~0.30, leg ~0.49.
FOOT_PER_TORSO = 0.5
FOOT_PER_LEG = 0.3
# A landmark this far (share of the image size) inside the border counts as in frame;
# the model extrapolates landmarks past the border with low visibility.
EDGE_MARGIN = 0.0
MIN_PART_VISIBILITY = 0.5


@dataclass(frozen=True)
class ViewReading:
    view: View
    width_ratio: float  # (shoulder width + hip width) / (2 * torso length), feet-corrected (width_ratio)
    facing: Literal["camera", "away", "left", "right", "unknown"]
    missing_parts: tuple[str, ...]  # body parts out of frame or not seen, head to feet


def body_width_ratio(frame: PoseFrame) -> float:
    """(shoulder width + hip width) / (2 x torso length), in the image."""
    im = frame.image
    torso = torso_length_px(im)
    if not np.isfinite(torso) or torso <= 0:
        return float("nan")
    sw = float(distance(im[LM.LEFT_SHOULDER], im[LM.RIGHT_SHOULDER]))
    hw = float(distance(im[LM.LEFT_HIP], im[LM.RIGHT_HIP]))
    return (sw + hw) / (2.0 * torso)


def feet_turn(frame: PoseFrame) -> float:
    """How far the two feet point sideways across the image: the mean of their heel-to-toe
    x extents, signed (+ image right), per foot length. ~0 facing the camera (toes turned
    out cancel), +-0.6-0.9 side-on. The foot's length is the larger of its image length and
    its length from the torso and the leg (a foot pointing at the camera is foreshortened).
    NaN unless both feet are seen."""
    im, seen = frame.image, frame.visibility >= MIN_PART_VISIBILITY
    torso = torso_length_px(im)
    legs = [leg_length_px(im, s) for s in ("left", "right")]
    body = [v for v in (FOOT_PER_TORSO * torso, FOOT_PER_LEG * np.nanmax(legs)
                        if np.isfinite(legs).any() else float("nan")) if np.isfinite(v) and v > 0]
    ext = []
    for heel, toe in ((LM.LEFT_HEEL, LM.LEFT_FOOT_INDEX), (LM.RIGHT_HEEL, LM.RIGHT_FOOT_INDEX)):
        d = im[toe, :2] - im[heel, :2]
        if not (seen[heel] and seen[toe] and np.isfinite(d).all()):
            return float("nan")
        foot = max([float(np.hypot(*d)), *body])
        if foot <= 0:
            return float("nan")
        ext.append(float(d[0]) / foot)
    return 0.5 * (ext[0] + ext[1])


def leg_lying(frame: PoseFrame) -> bool:
    """Does a leg lie stretched out across the image (hip to ankle at least LEG_LYING_MIN
    torso lengths sideways, near horizontal)? Then the body does not face the camera."""
    im = frame.image
    torso = torso_length_px(im)
    if not torso > 0:
        return False
    for hip, ankle in ((LM.LEFT_HIP, LM.LEFT_ANKLE), (LM.RIGHT_HIP, LM.RIGHT_ANKLE)):
        dx, dy = np.abs(im[ankle, :2] - im[hip, :2])
        if dx >= LEG_LYING_MIN * torso and dy <= LEG_LYING_SLOPE * dx:
            return True
    return False


def width_ratio(frame: PoseFrame) -> float:
    """The view's ratio: the body's width ratio (body_width_ratio), pulled toward the
    oblique band (TURNED_WIDTH_RATIO) as far as the feet show the body turned past
    FEET_TURNED_MIN, all the way at FEET_TURNED_FULL, and all the way with a leg lying
    stretched out across the image (see the module doc). Both only ever narrow it: a body
    that looks narrow is not made wider. Without both feet: the widths (and the legs)."""
    r = body_width_ratio(frame)
    if np.isfinite(r) and leg_lying(frame):
        return min(r, TURNED_WIDTH_RATIO)
    f = abs(feet_turn(frame))
    if not (np.isfinite(r) and np.isfinite(f)):
        return r
    w = min(1.0, max(0.0, (f - FEET_TURNED_MIN) / (FEET_TURNED_FULL - FEET_TURNED_MIN)))
    return (1.0 - w) * r + w * min(r, TURNED_WIDTH_RATIO)


def missing_parts(frame: PoseFrame, parts: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """Body parts none of whose landmarks are seen inside the image."""
    if not frame.detected:
        return tuple(parts or BODY_PARTS)
    im, vis = frame.image, frame.visibility
    mx, my = EDGE_MARGIN * frame.width, EDGE_MARGIN * frame.height
    inside = ((im[:, 0] >= -mx) & (im[:, 0] <= frame.width + mx)
              & (im[:, 1] >= -my) & (im[:, 1] <= frame.height + my)
              & (vis >= MIN_PART_VISIBILITY))
    out = []
    for name in parts or BODY_PARTS:
        idx = [int(i) for i in BODY_PARTS[name]]
        # A part counts as seen when at least half of its landmarks are.
        if inside[idx].sum() * 2 < len(idx):
            out.append(name)
    return tuple(out)


def facing(frame: PoseFrame, view: View) -> Literal["camera", "away", "left", "right", "unknown"]:
    im = frame.image
    if view == "front":
        # Facing the camera, the person's left shoulder is on the image's right.
        dx = im[LM.LEFT_SHOULDER, 0] - im[LM.RIGHT_SHOULDER, 0]
        dx_hip = im[LM.LEFT_HIP, 0] - im[LM.RIGHT_HIP, 0]
        s = np.nansum([dx, dx_hip])
        return "camera" if s > 0 else "away" if s < 0 else "unknown"
    if view in ("side", "oblique"):
        nose = im[LM.NOSE, 0]
        mid = midpoint(midpoint(im[LM.LEFT_SHOULDER], im[LM.RIGHT_SHOULDER]),
                       midpoint(im[LM.LEFT_HIP], im[LM.RIGHT_HIP]))[0]
        toes = np.nanmean([im[LM.LEFT_FOOT_INDEX, 0] - im[LM.LEFT_HEEL, 0],
                           im[LM.RIGHT_FOOT_INDEX, 0] - im[LM.RIGHT_HEEL, 0]])
        # Toes point the way a standing person faces; the nose is the fallback.
        d = toes if np.isfinite(toes) and abs(toes) > 1 else nose - mid
        if not np.isfinite(d) or d == 0:
            return "unknown"
        return "right" if d > 0 else "left"
    return "unknown"


def read_view(frame: PoseFrame) -> ViewReading:
    """Classify one frame's view. Analysers smooth this over time before acting on it."""
    if not frame.detected:
        return ViewReading("unknown", float("nan"), "unknown", missing_parts(frame))
    r = width_ratio(frame)
    if not np.isfinite(r):
        view: View = "unknown"
    elif r >= FRONT_MIN_WIDTH_RATIO:
        view = "front"
    elif r <= SIDE_MAX_WIDTH_RATIO:
        view = "side"
    else:
        view = "oblique"
    return ViewReading(view, r, facing(frame, view), missing_parts(frame))
