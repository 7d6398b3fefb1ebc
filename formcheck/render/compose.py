"""Composing annotators into one overlay, and drawing on a mirrored (selfie) view.

Analysers always work on the unmirrored image: "left" is the person's left. Mirroring is
a display concern only. `compose(..., mirror=True)` flips the scene for display and maps
every landmark and trace point to the flipped image before the annotators draw, so the
skeleton lands on the body and the person's left knee is still called "left", while the
text is drawn after the flip and stays readable.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

import cv2
import numpy as np

from formcheck.drills.base import LiveStatus
from formcheck.pose.frame import PoseFrame


class Annotator(Protocol):
    def annotate(self, scene: np.ndarray, frame: PoseFrame, status: LiveStatus) -> np.ndarray: ...


def mirror_frame(frame: PoseFrame) -> PoseFrame:
    """The same pose in a horizontally flipped image (landmark identities unchanged)."""
    image = frame.image.copy()
    image[:, 0] = frame.width - image[:, 0]
    return dataclasses.replace(frame, image=image)


def mirror_status(status: LiveStatus, width: int) -> LiveStatus:
    if status.trace is None:
        return status
    trace = np.array(status.trace, np.float64, copy=True)
    trace[:, 0] = width - trace[:, 0]
    return dataclasses.replace(status, trace=trace)


class Overlay:
    """Runs annotators in order; itself an annotator, so overlays nest."""

    def __init__(self, annotators: list[Annotator], mirror: bool = False):
        self.annotators, self.mirror = list(annotators), mirror

    def annotate(self, scene: np.ndarray, frame: PoseFrame, status: LiveStatus) -> np.ndarray:
        if self.mirror:
            scene = cv2.flip(scene, 1)
            frame, status = mirror_frame(frame), mirror_status(status, scene.shape[1])
        for a in self.annotators:
            scene = a.annotate(scene, frame, status)
        return scene


def compose(*annotators: Annotator, mirror: bool = False) -> Overlay:
    """compose(SkeletonAnnotator(), CueBanner(), ...) -> one annotator drawing them in order."""
    return Overlay(list(annotators), mirror=mirror)


def default_overlay(duration_s: float | None = None, mirror: bool = False) -> Overlay:
    """Everything the live window and the annotated video show, in drawing order: the
    skeleton and trace under the panels, the cue banner over everything but "no reading"."""
    from formcheck.render.banner import CueBanner
    from formcheck.render.hud import CounterBadge, HoldRing, InfoPanel, NoReadingBadge, SetSideLabel
    from formcheck.render.skeleton import SkeletonAnnotator
    from formcheck.render.timeline import TimelineStrip
    from formcheck.render.trace import TraceAnnotator

    return compose(SkeletonAnnotator(), TraceAnnotator(), SetSideLabel(), CounterBadge(), InfoPanel(),
                   HoldRing(), TimelineStrip(duration_s=duration_s), CueBanner(), NoReadingBadge(),
                   mirror=mirror)
