"""Heads-up figures: set and side, the counter, the hold timer ring, small live figures,
and "no reading" when the pose is not reliable enough to measure.

Layout (at 720p; scaled with the frame): a column on the left under the cue banner
(set/side, counter, figures), the hold ring on the right, "no reading" at the top centre.
Every panel is drawn from the LiveStatus alone, so the live window and the annotated video
look the same.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from formcheck.drills.base import LiveStatus
from formcheck.pose.frame import PoseFrame
from formcheck.render.banner import form_bar_height
from formcheck.render.text import fill_rect
from formcheck.render.theme import DARK, GOOD, GREY, PANEL_OPACITY, TEXT, WHITE, Scale

TOP = 74  # first row under the cue banner, at 720p
LEFT = 16


RING_RADIUS, RING_THICKNESS = 62, 12


def portrait(scene: np.ndarray) -> bool:
    return scene.shape[0] > scene.shape[1]


def top(scene: np.ndarray, status: LiveStatus) -> int:
    """First row of the panels: under the cue banner (lower when a long cue takes two lines)."""
    s = Scale.of(scene)
    return max(s.px(TOP), form_bar_height(scene, status) + s.px(10))


def column_width(scene: np.ndarray, status: LiveStatus) -> int:
    """Room for the left column: the frame's width, less the hold ring beside it."""
    s = Scale.of(scene)
    W = scene.shape[1]
    ring = status.hold_target_s and status.hold_s is not None and not portrait(scene)
    return W - s.px(2 * LEFT) - (s.px(2 * (RING_RADIUS + RING_THICKNESS) + 24) if ring else 0)


def _panel_text(scene: np.ndarray, lines: list[tuple[str, int, bool, tuple[int, int, int]]],
                x: int, y: int, pad: int, gap: int, max_width: int | None = None) -> int:
    """A dark translucent panel with lines of text stacked at (x, y). Returns its bottom."""
    if max_width is not None:
        lines = [(TEXT.fit(t, sz, max_width - 2 * pad, b), sz, b, c) for t, sz, b, c in lines]
    sizes = [TEXT.size(t, sz, b) for t, sz, b, _ in lines]
    w = max(sw for sw, _ in sizes) + 2 * pad
    h = sum(sh for _, sh in sizes) + gap * (len(lines) - 1) + 2 * pad
    fill_rect(scene, x, y, x + w, y + h, DARK, PANEL_OPACITY)
    cy = y + pad
    for (t, sz, b, col), (_, sh) in zip(lines, sizes):
        TEXT.draw(scene, t, (x + pad, cy), sz, col, bold=b)
        cy += sh + gap
    return y + h


def set_side_text(status: LiveStatus) -> str | None:
    """ "Set 2 of 3 · left leg" (or the parts of it that are known)."""
    parts = []
    if status.set_index > 0:
        parts.append(f"Set {status.set_index}" + (f" of {status.sets_target}" if status.sets_target else ""))
    elif status.sets_target:
        parts.append(f"{status.sets_target} sets")
    if status.side:
        parts.append(f"{status.side} leg")
    return " · ".join(parts) if parts else None


def counter_text(status: LiveStatus) -> str | None:
    if status.count is None:
        return None
    return f"{status.count}/{status.count_target}" if status.count_target else f"{status.count}"


class SetSideLabel:
    def annotate(self, scene: np.ndarray, frame: PoseFrame, status: LiveStatus) -> np.ndarray:
        text = set_side_text(status)
        if text:
            s = Scale.of(scene)
            _panel_text(scene, [(text, s.px(24), True, WHITE)], s.px(LEFT), top(scene, status), s.px(8), 0,
                        column_width(scene, status))
        return scene


class CounterBadge:
    """ "hops 7/15": the label small, the count big; grey while there is no reading."""

    def annotate(self, scene: np.ndarray, frame: PoseFrame, status: LiveStatus) -> np.ndarray:
        text = counter_text(status)
        if text is None:
            return scene
        s = Scale.of(scene)
        col = WHITE if status.reading else GREY
        lines = [(status.count_label or "count", s.px(20), False, col), (text, s.px(52), True, col)]
        _panel_text(scene, lines, s.px(LEFT), top(scene, status) + s.px(48), s.px(10), s.px(2),
                    column_width(scene, status))
        return scene


class HoldRing:
    """A ring filling to the prescription (e.g. 30 s), seconds in the middle.

    Green while the clock runs; grey with "paused" while the form is off (the hold timer
    counts good-form time only) or when there is no reading.
    """

    def __init__(self, radius: float = RING_RADIUS, thickness: float = RING_THICKNESS):
        self.radius, self.thickness = radius, thickness

    def centre(self, scene: np.ndarray, status: LiveStatus) -> tuple[int, int]:
        """Top right under the banner; on a portrait frame bottom right, above the timeline,
        where it does not crowd the left column."""
        s = Scale.of(scene)
        H, W = scene.shape[:2]
        r, th = s.px(self.radius), s.px(self.thickness)
        cx = W - s.px(24) - r
        return (cx, H - s.px(64) - r - th - s.px(26)) if portrait(scene) else (cx, top(scene, status) + r + th)

    def annotate(self, scene: np.ndarray, frame: PoseFrame, status: LiveStatus) -> np.ndarray:
        if status.hold_s is None or not status.hold_target_s:
            return scene
        s = Scale.of(scene)
        r, th = s.px(self.radius), s.px(self.thickness)
        cx, cy = self.centre(scene, status)
        running = status.reading and not status.hold_paused
        col = GOOD if running else GREY
        fill_rect(scene, cx - r - th, cy - r - th, cx + r + th, cy + r + th + s.px(26), DARK, PANEL_OPACITY)
        cv2.circle(scene, (cx, cy), r, (70, 70, 70), th, cv2.LINE_AA)
        frac = max(0.0, min(1.0, status.hold_s / status.hold_target_s))
        if frac > 0:
            # Clockwise from 12 o'clock, like a stopwatch.
            cv2.ellipse(scene, (cx, cy), (r, r), -90, 0, 360 * frac, col, th, cv2.LINE_AA)
        secs = f"{math.floor(status.hold_s)} s"
        TEXT.draw(scene, secs, (cx, cy - s.px(6)), s.px(30), WHITE if running else GREY, bold=True,
                  anchor="mm")
        TEXT.draw(scene, f"of {status.hold_target_s:.0f}", (cx, cy + s.px(22)), s.px(17), GREY,
                  anchor="mm")
        if status.hold_paused or not status.reading:
            TEXT.draw(scene, "paused", (cx, cy + r + th + s.px(12)), s.px(19), GREY, bold=True,
                      anchor="mm")
        return scene


class InfoPanel:
    """The analyser's small live figures (status.info), e.g. "pelvic drop: 3 deg"."""

    def __init__(self, max_lines: int = 5):
        self.max_lines = max_lines

    def annotate(self, scene: np.ndarray, frame: PoseFrame, status: LiveStatus) -> np.ndarray:
        if not status.info:
            return scene
        s = Scale.of(scene)
        col = WHITE if status.reading else GREY
        lines = [(f"{k}: {v}", s.px(19), False, col) for k, v in list(status.info.items())[:self.max_lines]]
        y = top(scene, status) + s.px(48 + (110 if status.count is not None else 0))
        _panel_text(scene, lines, s.px(LEFT), y, s.px(8), s.px(4), column_width(scene, status))
        return scene


class NoReadingBadge:
    """ "no reading": the pose is not reliable, so no number on screen is being updated."""

    def annotate(self, scene: np.ndarray, frame: PoseFrame, status: LiveStatus) -> np.ndarray:
        if status.reading:
            return scene
        s = Scale.of(scene)
        W = scene.shape[1]
        text, size = "no reading", s.px(24)
        tw, th = TEXT.size(text, size, True)
        pad = s.px(10)
        x0, y0 = W // 2 - tw // 2 - pad, top(scene, status)
        fill_rect(scene, x0, y0, x0 + tw + 2 * pad, y0 + th + 2 * pad, (90, 90, 90), 0.8)
        TEXT.draw(scene, text, (W // 2, y0 + pad), size, WHITE, bold=True, anchor="mt")
        return scene
