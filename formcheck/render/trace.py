"""The ABC trace: the path the foot tip has drawn (status.trace, image pixels), so the
person sees the letter they are writing. Older points fade; a gap (NaN) breaks the line."""

from __future__ import annotations

import cv2
import numpy as np

from formcheck.drills.base import LiveStatus
from formcheck.pose.frame import PoseFrame
from formcheck.render.theme import TRACE, Scale


def _runs(points: np.ndarray) -> list[np.ndarray]:
    """Split an (N, 2) path at missing points into runs of >= 2 finite points."""
    ok = np.isfinite(points).all(axis=1)
    runs, start = [], None
    for i, good in enumerate(np.append(ok, False)):
        if good and start is None:
            start = i
        elif not good and start is not None:
            if i - start >= 2:
                runs.append(points[start:i])
            start = None
    return runs


class TraceAnnotator:
    def __init__(self, color: tuple[int, int, int] = TRACE, thickness: float = 5, fade: float = 0.35):
        self.color, self.thickness, self.fade = color, thickness, fade

    def annotate(self, scene: np.ndarray, frame: PoseFrame, status: LiveStatus) -> np.ndarray:
        trace = status.trace
        if trace is None or len(trace) < 2:
            return scene
        pts = np.asarray(trace, np.float64)[:, :2]
        s = Scale.of(scene)
        th = s.px(self.thickness)
        n = len(pts)
        # Draw the old half dimmer, the newest half at full colour: cheap fading with two
        # polyline calls instead of one per segment.
        split = n // 2
        dim = tuple(int(c * self.fade + 40 * (1 - self.fade)) for c in self.color)
        for part, col in ((pts[:split + 1], dim), (pts[split:], self.color)):
            for run in _runs(part):
                cv2.polylines(scene, [np.round(run).astype(np.int32)], False, col, th, cv2.LINE_AA)
        last = pts[np.isfinite(pts).all(axis=1)]
        if len(last):
            cv2.circle(scene, tuple(np.round(last[-1]).astype(int)), th + s.px(2), self.color, -1, cv2.LINE_AA)
        return scene
