"""The skeleton overlay: BlazePose segments and joints over the frame.

The person's left side is drawn orange and the right side blue (the convention of gait
labs), so a runner can tell which leg a cue is about; a landmark in
`status.fault_landmarks` and every segment touching it turn the fault colour. Only
landmarks the model sees (PoseFrame.seen) are drawn: a guessed limb drawn in a confident
line would tell the runner something false.
"""

from __future__ import annotations

import cv2
import numpy as np

from formcheck.drills.base import LiveStatus
from formcheck.pose.frame import DEFAULT_MIN_VISIBILITY, PoseFrame
from formcheck.pose.landmarks import LM, NUM_LANDMARKS, SEGMENTS
from formcheck.render.theme import BGR, FAULT, WHITE, Scale

LEFT_COLOUR: BGR = (40, 150, 250)  # orange
RIGHT_COLOUR: BGR = (230, 170, 40)  # blue

# The face's ten small points clutter the picture and no drill measures them; the nose
# alone shows where the head is.
JOINTS = np.array([LM.NOSE, *range(LM.LEFT_SHOULDER, NUM_LANDMARKS)], dtype=np.intp)
_SEG = np.array(SEGMENTS, dtype=np.intp)  # (S, 2)


def _side_of(i: int) -> int:
    name = LM(i).name
    return 0 if name.startswith("LEFT_") else 1 if name.startswith("RIGHT_") else 2


_LM_SIDE = np.array([_side_of(i) for i in range(NUM_LANDMARKS)])
# A segment is on one side when both ends are (shoulder-to-shoulder is "centre").
_SEG_SIDE = np.where(_LM_SIDE[_SEG[:, 0]] == _LM_SIDE[_SEG[:, 1]], _LM_SIDE[_SEG[:, 0]], 2)


class SkeletonAnnotator:
    """annotate(scene, frame, status=None) -> scene: draws in place and returns the scene.

    thickness and radius are pixels at 720p, scaled with the frame's height.
    """

    def __init__(self, left: BGR = LEFT_COLOUR, right: BGR = RIGHT_COLOUR, centre: BGR = WHITE,
                 fault: BGR = FAULT, thickness: float = 3.0, radius: float = 4.0,
                 min_visibility: float = DEFAULT_MIN_VISIBILITY):
        self.colours = (left, right, centre)
        self.fault = fault
        self.thickness, self.radius = thickness, radius
        self.min_visibility = min_visibility

    def annotate(self, scene: np.ndarray, frame: PoseFrame, status: LiveStatus | None = None) -> np.ndarray:
        if not frame.detected:
            return scene
        seen = frame.seen(self.min_visibility)
        h, w = scene.shape[:2]
        # Landmarks far outside the image (the model extrapolates) must not overflow int32.
        xy = np.clip(np.nan_to_num(frame.image[:, :2]), [-4 * w, -4 * h], [5 * w, 5 * h])
        pts = np.round(xy).astype(np.int32)
        faulty = np.zeros(NUM_LANDMARKS, bool)
        if status is not None and status.fault_landmarks:
            faulty[[i for i in status.fault_landmarks if 0 <= i < NUM_LANDMARKS]] = True
        s = Scale.of(scene)
        th, r = s.px(self.thickness), s.px(self.radius)

        ok = seen[_SEG[:, 0]] & seen[_SEG[:, 1]]
        bad = faulty[_SEG[:, 0]] | faulty[_SEG[:, 1]]
        lines = pts[_SEG]  # (S, 2, 2)
        # One polylines call per colour (fault segments last, so they are on top).
        for colour, sel in ((self.colours[0], ok & ~bad & (_SEG_SIDE == 0)),
                            (self.colours[1], ok & ~bad & (_SEG_SIDE == 1)),
                            (self.colours[2], ok & ~bad & (_SEG_SIDE == 2)),
                            (self.fault, ok & bad)):
            if sel.any():
                cv2.polylines(scene, list(lines[sel]), False, colour, th, cv2.LINE_AA)

        for i in JOINTS[seen[JOINTS]]:
            colour = self.fault if faulty[i] else self.colours[_LM_SIDE[i]]
            centre = (int(pts[i, 0]), int(pts[i, 1]))
            cv2.circle(scene, centre, r + (s.px(2) if faulty[i] else 0), colour, -1, cv2.LINE_AA)
            cv2.circle(scene, centre, r, (20, 20, 20), max(1, th // 3), cv2.LINE_AA)
        return scene
