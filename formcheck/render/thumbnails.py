"""Thumbnails of the frames where each fault peaked, for the HTML report.

While a fault cue is active the sink keeps a reference to the frame with its worst value
so far (no copy, no drawing: frames are not reused by the sources); when the cue clears,
or the session ends, that one frame is cropped around the person, drawn with the skeleton
(the faulty joints in the fault colour) and encoded as a small JPEG. So a session costs one
small encode per fault, not per frame.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from formcheck.cues import SETUP_CODES
from formcheck.drills.base import Analyser, LiveStatus
from formcheck.events import Event
from formcheck.pose.frame import PoseFrame
from formcheck.render.skeleton import SkeletonAnnotator

THUMB_HEIGHT = 240
JPEG_QUALITY = 80
MARGIN = 0.15  # of the person's box on each side, so the feet and head are not cut


@dataclass(frozen=True)
class Thumbnail:
    code: str
    side: str | None
    onset_t: float  # the fault's onset, which is its event's t_s
    t_s: float  # when it peaked (the frame shown)
    value: float  # the detector's own measure at the peak (its unit; the event's value may differ)
    jpeg: bytes


@dataclass
class _Best:
    code: str
    side: str | None
    onset_t: float
    t_s: float
    value: float
    image: np.ndarray
    frame: PoseFrame
    status: LiveStatus


def crop_box(frame: PoseFrame, width: int, height: int) -> tuple[int, int, int, int]:
    """The person's landmark box plus a margin, clipped to the image (whole image if no pose)."""
    xy = frame.image[:, :2]
    ok = np.isfinite(xy).all(axis=1)
    if not ok.any():
        return 0, 0, width, height
    (x0, y0), (x1, y1) = xy[ok].min(axis=0), xy[ok].max(axis=0)
    mx, my = (x1 - x0) * MARGIN + 10, (y1 - y0) * MARGIN + 10
    box = (int(max(0, x0 - mx)), int(max(0, y0 - my)), int(min(width, x1 + mx)), int(min(height, y1 + my)))
    if box[2] - box[0] < 8 or box[3] - box[1] < 8:
        return 0, 0, width, height
    return box


def render_thumbnail(image: np.ndarray, frame: PoseFrame, status: LiveStatus,
                     height: int = THUMB_HEIGHT) -> bytes:
    scene = image.copy()
    SkeletonAnnotator().annotate(scene, frame, status)
    x0, y0, x1, y1 = crop_box(frame, scene.shape[1], scene.shape[0])
    crop = scene[y0:y1, x0:x1]
    scale = height / crop.shape[0]
    crop = cv2.resize(crop, (max(1, round(crop.shape[1] * scale)), height), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    return buf.tobytes() if ok else b""


class PeakThumbnails:
    """Feed it every frame; `thumbnails` holds one per finished fault cue."""

    def __init__(self) -> None:
        self._best: dict[int, _Best] = {}  # id(detector) -> best frame of its current cue
        self.thumbnails: list[Thumbnail] = []

    def update(self, analyser: Analyser, image: np.ndarray | None, frame: PoseFrame,
               status: LiveStatus) -> None:
        live: set[int] = set()
        for det in analyser._fault_detectors():
            if det.code in SETUP_CODES or not det.active or det.onset_t is None:
                continue
            key = id(det)
            live.add(key)
            best = self._best.get(key)
            if best is not None and best.onset_t != det.onset_t:
                self._flush(key)  # a new cue of the same detector
                best = None
            peak = det.peak
            if image is None or not math.isfinite(peak):
                continue
            worse = best is None or (peak < best.value if det.below else peak > best.value)
            if worse:
                # A copy: the frame is drawn on for the annotated video once this returns.
                self._best[key] = _Best(det.code, det.side, det.onset_t, frame.t_s, peak, image.copy(), frame,
                                        status)
        for key in [k for k in self._best if k not in live]:
            self._flush(key)

    def _flush(self, key: int) -> None:
        b = self._best.pop(key)
        self.thumbnails.append(Thumbnail(b.code, b.side, b.onset_t, b.t_s, b.value,
                                         render_thumbnail(b.image, b.frame, b.status)))

    def finish(self, events: Sequence[Event] = ()) -> list[Thumbnail]:
        """Flush open cues and key each thumbnail to the fault event it shows.

        An analyser may date its event earlier than its detector's onset (where the fault
        really began, e.g. where a heel started to rise), so the event of the same code and
        side nearest the detector's onset is the one the thumbnail belongs to."""
        for key in list(self._best):
            self._flush(key)
        faults = [e for e in events if e.kind == "fault"]
        keyed = []
        for t in self.thumbnails:
            mine = [e for e in faults if (e.code, e.side) == (t.code, t.side)]
            if mine:
                ev = min(mine, key=lambda e: abs(e.t_s - t.onset_t))
                t = replace(t, onset_t=ev.t_s)
            keyed.append(t)
        self.thumbnails = keyed
        return keyed
