"""The cue banner: the one most important active cue, in plain words.

A form cue is a red bar across the top of the frame. A set-up cue ("Step back so your feet
are visible", "Turn side-on to the camera") is shown big in the middle of the frame: the
person is usually standing 2-3 m away, out of position, and must read it from there.
"""

from __future__ import annotations

import numpy as np

from formcheck.cues import SETUP_CODES
from formcheck.drills.base import LiveStatus
from formcheck.pose.frame import PoseFrame
from formcheck.render.text import fill_rect
from formcheck.render.theme import DARK, FAULT, SETUP, TEXT, WHITE, Scale


def layout_lines(text: str, size: int, max_width: int, bold: bool = True) -> tuple[list[str], int]:
    """One line at full size if it fits, else two lines, else smaller: long cues on
    narrow (portrait) frames stay big enough to read from a few metres."""
    while True:
        if TEXT.measure(text, size, bold) <= max_width:
            return [text], size
        lines = TEXT.wrap(text, size, max_width, bold, max_lines=2)
        if not lines[-1].endswith("…") or size <= 10:
            return lines, size
        size = max(10, int(size * 0.85))


def form_bar_height(scene: np.ndarray, status: LiveStatus, form_size: float = 34) -> int:
    """Height of the red bar the banner draws for this status (0 when it draws none), so
    the panels below can start under it."""
    if not status.cues or status.cues[0].code in SETUP_CODES:
        return 0
    s = Scale.of(scene)
    lines, size = layout_lines(status.cues[0].message, s.px(form_size), scene.shape[1] - s.px(90))
    return TEXT.size(lines[0], size, True)[1] * len(lines) + s.px(form_size * 0.8)


class CueBanner:
    """Draws status.cues[0] (the analyser sorts cues by priority)."""

    def __init__(self, form_size: float = 34, setup_size: float = 46, show_more: bool = True):
        self.form_size, self.setup_size, self.show_more = form_size, setup_size, show_more

    def annotate(self, scene: np.ndarray, frame: PoseFrame, status: LiveStatus) -> np.ndarray:
        if not status.cues:
            return scene
        cue = status.cues[0]
        s = Scale.of(scene)
        H, W = scene.shape[:2]
        if cue.code in SETUP_CODES:
            lines, size = layout_lines(cue.message, s.px(self.setup_size), W - s.px(70))
            self._block(scene, lines, size, W // 2, int(H * 0.42), s)
            return scene
        lines, size = layout_lines(cue.message, s.px(self.form_size), W - s.px(90))
        line_h = TEXT.size(lines[0], size, True)[1]
        bar_h = form_bar_height(scene, status, self.form_size)
        fill_rect(scene, 0, 0, W, bar_h, FAULT, 0.85)
        y = (bar_h - line_h * len(lines)) // 2
        for line in lines:
            TEXT.draw(scene, line, (W // 2, y), size, WHITE, bold=True, anchor="mt")
            y += line_h
        extra = len(status.cues) - 1
        if self.show_more and extra > 0:
            # Other active cues wait their turn; say that they exist, not what they are.
            TEXT.draw(scene, f"+{extra}", (W - s.px(10), bar_h // 2), s.px(22), WHITE, anchor="rm",
                      opacity=0.85)
        return scene

    @staticmethod
    def _block(scene: np.ndarray, lines: list[str], size: int, cx: int, cy: int, s: Scale) -> None:
        """Big amber words on a dark box with an amber underline, centred at (cx, cy)."""
        sizes = [TEXT.size(line, size, True) for line in lines]
        tw, lh = max(w for w, _ in sizes), sizes[0][1]
        th = lh * len(lines)
        pad = s.px(20)
        x0, y0, x1, y1 = cx - tw // 2 - pad, cy - th // 2 - pad, cx + tw // 2 + pad, cy + th // 2 + pad
        fill_rect(scene, x0, y0, x1, y1, DARK, 0.75)
        fill_rect(scene, x0, y1 - s.px(6), x1, y1, SETUP)
        y = cy - th // 2
        for line in lines:
            TEXT.draw(scene, line, (cx, y), size, SETUP, bold=True, anchor="mt")
            y += lh
