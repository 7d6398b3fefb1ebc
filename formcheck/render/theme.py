"""Colours and sizes shared by the overlay annotators, so every panel looks like one design.

Sizes are given for a 720-pixel-high frame and scaled with the frame's height, so the
overlay reads the same on a 480p webcam and a 1080p phone video.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from formcheck.render.text import TextRenderer

BGR = tuple[int, int, int]

WHITE: BGR = (245, 245, 245)
GREY: BGR = (150, 150, 150)
DARK: BGR = (24, 24, 24)
FAULT: BGR = (60, 60, 225)  # red: a form fault
SETUP: BGR = (0, 165, 250)  # amber: a set-up problem (out of frame, wrong view, dark)
GOOD: BGR = (90, 200, 70)  # green: counting / holding with good form
TRACE: BGR = (235, 200, 40)  # cyan-blue: the ABC foot path
COUNT_TICK: BGR = (235, 235, 235)

PANEL_OPACITY = 0.6  # dark panels behind text: readable on any background, scene still visible
REFERENCE_HEIGHT = 720.0

# One shared sprite cache for every annotator in the process.
TEXT = TextRenderer()


@dataclass(frozen=True)
class Scale:
    """Pixel sizes for one frame: `px(n)` turns a size at 720p into this frame's pixels."""

    k: float

    @classmethod
    def of(cls, scene: np.ndarray) -> Scale:
        # By height, unless the frame is narrow (a portrait phone video): then by width, so
        # that the panels of both sides still fit side by side.
        h, w = scene.shape[:2]
        return cls(max(0.35, min(h, 1.25 * w) / REFERENCE_HEIGHT))

    def px(self, n: float) -> int:
        return max(1, round(n * self.k))
