"""View check: does the camera see the person from the front, the side or obliquely,
and which body parts are out of frame.

The view comes from how wide the shoulders and hips look against the torso's length
in the image. Seen from the front an adult's shoulders are about 0.8 torso lengths
wide and the hips about 0.55; side-on both shrink to under 0.25 (the body's depth).
The ratio needs no depth estimate, which is the model's least reliable output, so it
holds for any camera height or distance. World landmarks break ties in between.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from formcheck.pose.frame import PoseFrame
from formcheck.pose.geometry import distance, midpoint, torso_length_px
from formcheck.pose.landmarks import BODY_PARTS, LM

View = Literal["front", "side", "oblique", "unknown"]

# Shoulder+hip width over 2 torso lengths, above which the person faces the camera
# (front ~0.65) and below which they stand side-on (side ~0.15). Between: oblique.
FRONT_MIN_WIDTH_RATIO = 0.42
SIDE_MAX_WIDTH_RATIO = 0.25
# A landmark this far (share of the image size) inside the border counts as in frame;
# the model extrapolates landmarks past the border with low visibility.
EDGE_MARGIN = 0.0
MIN_PART_VISIBILITY = 0.5


@dataclass(frozen=True)
class ViewReading:
    view: View
    width_ratio: float  # (shoulder width + hip width) / (2 * torso length), in the image
    facing: Literal["camera", "away", "left", "right", "unknown"]
    missing_parts: tuple[str, ...]  # body parts out of frame or not seen, head to feet


def width_ratio(frame: PoseFrame) -> float:
    im = frame.image
    torso = torso_length_px(im)
    if not np.isfinite(torso) or torso <= 0:
        return float("nan")
    sw = float(distance(im[LM.LEFT_SHOULDER], im[LM.RIGHT_SHOULDER]))
    hw = float(distance(im[LM.LEFT_HIP], im[LM.RIGHT_HIP]))
    return (sw + hw) / (2.0 * torso)


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
