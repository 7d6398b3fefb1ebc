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


def _fit_size(text: str, size: int, max_width: int, bold: bool) -> int:
    """Shrink the font until the text fits the frame's width (long cues on narrow phones)."""
    while size > 10:
        w, _ = TEXT.size(text, size, bold)
        if w <= max_width:
            break
        size = int(size * 0.85)
    return size


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
            size = _fit_size(cue.message, s.px(self.setup_size), W - s.px(60), True)
            tw, th = TEXT.size(cue.message, size, True)
            pad = s.px(22)
            cx, cy = W // 2, int(H * 0.42)
            fill_rect(scene, cx - tw // 2 - pad, cy - th // 2 - pad, cx + tw // 2 + pad,
                      cy + th // 2 + pad, DARK, 0.75)
            fill_rect(scene, cx - tw // 2 - pad, cy + th // 2 + pad - s.px(6), cx + tw // 2 + pad,
                      cy + th // 2 + pad, SETUP)
            TEXT.draw(scene, cue.message, (cx, cy), size, SETUP, bold=True, anchor="mm")
            return scene
        size = _fit_size(cue.message, s.px(self.form_size), W - s.px(120), True)
        bar_h = s.px(self.form_size * 1.8)
        fill_rect(scene, 0, 0, W, bar_h, FAULT, 0.85)
        TEXT.draw(scene, cue.message, (W // 2, bar_h // 2), size, WHITE, bold=True, anchor="mm")
        extra = len(status.cues) - 1
        if self.show_more and extra > 0:
            # Other active cues wait their turn; say that they exist, not what they are.
            TEXT.draw(scene, f"+{extra}", (W - s.px(14), bar_h // 2), s.px(22), WHITE, anchor="rm",
                      opacity=0.85)
        return scene
