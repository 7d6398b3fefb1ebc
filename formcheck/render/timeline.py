"""A small timeline strip along the bottom: faults as coloured spans, counts as ticks,
good-form hold time as a green lane, and a playhead.

It records what it is shown (the status of each frame) rather than reading the analyser,
so it works the same in the live window and in the annotated video. With `duration_s`
(a file of known length) the strip spans the whole clip; without it (live) it shows the
last `window_s` seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from formcheck.cues import SETUP_CODES
from formcheck.drills.base import LiveStatus
from formcheck.pose.frame import PoseFrame
from formcheck.render.text import fill_rect
from formcheck.render.theme import COUNT_TICK, DARK, FAULT, GOOD, SETUP, TEXT, WHITE, Scale

HOLD_MERGE_S = 0.25  # a pause of the hold timer shorter than this is not drawn (a pixel or two)


@dataclass
class _Track:
    """What the strip has seen so far."""

    spans: list[tuple[float, float, bool]] = field(default_factory=list)  # t0, t1, is_setup
    open: dict[tuple[str, str | None], float] = field(default_factory=dict)
    ticks: list[float] = field(default_factory=list)
    holds: list[list[float]] = field(default_factory=list)  # [t0, t1] of running hold time
    last_count: int | None = None
    last_hold: float | None = None
    last_t: float | None = None


class TimelineStrip:
    def __init__(self, duration_s: float | None = None, window_s: float = 30.0, height: float = 22):
        self.duration_s = duration_s if duration_s and duration_s > 0 else None
        self.window_s, self.height = window_s, height
        self.track = _Track()

    def record(self, t: float, status: LiveStatus) -> None:
        tr = self.track
        if tr.last_t is not None and t <= tr.last_t:
            return
        active = {(c.code, c.side) for c in status.cues}
        for key in [k for k in tr.open if k not in active]:
            tr.spans.append((tr.open.pop(key), t, key[0] in SETUP_CODES))
        for key in active - tr.open.keys():
            tr.open[key] = t
        if status.count is not None and tr.last_count is not None and status.count > tr.last_count:
            tr.ticks.append(t)
        tr.last_count = status.count
        if status.hold_s is not None and tr.last_hold is not None and status.hold_s > tr.last_hold:
            # hold_s is shown to 0.1 s, so a running timer rises every 0.1 s, not every
            # frame: a rise within HOLD_MERGE_S of the last one continues the same stretch.
            if tr.holds and tr.last_t is not None and tr.holds[-1][1] >= tr.last_t - HOLD_MERGE_S:
                tr.holds[-1][1] = t
            else:
                tr.holds.append([tr.last_t if tr.last_t is not None else t, t])
        tr.last_hold = status.hold_s
        tr.last_t = t

    def annotate(self, scene: np.ndarray, frame: PoseFrame, status: LiveStatus) -> np.ndarray:
        t = frame.t_s
        self.record(t, status)
        s = Scale.of(scene)
        H, W = scene.shape[:2]
        m, h = s.px(12), s.px(self.height)
        x0, x1, y1 = m, W - m, H - s.px(8)
        y0 = y1 - h
        if self.duration_s is not None:
            t0, t1 = 0.0, max(self.duration_s, t)
        else:
            t0, t1 = t - self.window_s, t
        span = max(t1 - t0, 1e-6)

        def x_of(tt: float) -> int:
            return round(x0 + (min(max(tt, t0), t1) - t0) / span * (x1 - x0))

        fill_rect(scene, x0, y0, x1, y1, DARK, 0.6)
        lane = max(2, h // 4)
        tr = self.track
        for a, b in tr.holds:
            if b >= t0:
                fill_rect(scene, x_of(a), y1 - lane, max(x_of(b), x_of(a) + 1), y1, GOOD)
        spans = tr.spans + [(a, t, k[0] in SETUP_CODES) for k, a in tr.open.items()]
        for a, b, setup in spans:
            if b >= t0:
                fill_rect(scene, x_of(a), y0 + s.px(2), max(x_of(b), x_of(a) + 2), y1 - lane - 1,
                          SETUP if setup else FAULT)
        for tt in tr.ticks:
            if tt >= t0:
                xx = x_of(tt)
                cv2.line(scene, (xx, y0), (xx, y1), COUNT_TICK, max(1, s.px(2)))
        px = x_of(t)
        cv2.line(scene, (px, y0 - s.px(4)), (px, y1 + s.px(2)), WHITE, max(1, s.px(2)))
        label = f"{t:.1f} s" + (f" / {self.duration_s:.0f} s" if self.duration_s is not None else "")
        lw, lh = TEXT.size(label, s.px(15))
        fill_rect(scene, x0, y0 - lh - s.px(4), x0 + lw + s.px(8), y0, DARK, 0.6)
        TEXT.draw(scene, label, (x0 + s.px(4), y0 - s.px(2)), s.px(15), WHITE, anchor="lb")
        return scene
