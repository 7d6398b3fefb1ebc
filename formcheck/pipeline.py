"""The pose pipeline: frames from a source, through the estimator, through the smoother,
as (VideoFrame, PoseFrame) pairs in order.

    source (decode thread) -> estimator (inference thread) -> smoother (caller's thread)

Decoding, inference and the caller's own work (analysis, drawing, writing) each run on
their own thread, a few frames apart, so on a 2-core machine the model is never waiting
for a decoder and the decoder never waits for the caller. MediaPipe and FFmpeg release
the GIL while they work, which is what makes threads (rather than processes, which would
copy every frame) enough here.

A landmark recording has no images: its recorded poses go straight to the smoother (or
past it, when the recording was smoothed already).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

import numpy as np

from formcheck.pose.frame import PoseFrame
from formcheck.sources import LandmarkSource, VideoFrame
from formcheck.threads import Prefetcher

log = logging.getLogger(__name__)

# Poses computed ahead of the caller. Two keeps the model busy while the caller handles
# a slow frame; more adds latency for live use and memory (each carries its image).
INFERENCE_AHEAD = 2


class Estimator(Protocol):
    def process(self, image_bgr: np.ndarray, t_s: float, index: int = -1,
                luma: float | None = None) -> PoseFrame: ...


Smoother = Callable[[PoseFrame], PoseFrame]


def _infer(frames: Iterable[VideoFrame], estimator: Estimator | None) -> Iterator[tuple[VideoFrame, PoseFrame]]:
    for vf in frames:
        if vf.pose is not None:
            yield vf, vf.pose
            continue
        if vf.image_bgr is None:
            raise ValueError(f"frame {vf.index} has neither an image nor a pose")
        if estimator is None:
            raise ValueError("this source has images: pose_stream needs an estimator")
        pose = estimator.process(vf.image_bgr, vf.t_s, vf.index, vf.luma)
        if pose.luma is None and vf.luma is not None:
            pose = dataclasses.replace(pose, luma=vf.luma)
        yield vf, pose


def pose_stream(source: Iterable[VideoFrame], estimator: Estimator | None, smoother: Smoother | None = None,
                ahead: int = INFERENCE_AHEAD) -> Iterator[tuple[VideoFrame, PoseFrame]]:
    """Yield (VideoFrame, PoseFrame) for every frame of `source`, in order.

    The estimator runs on its own thread (`ahead` frames ahead of the caller); a source
    error (a truncated file, a lost camera) is raised after the frames before it were
    yielded. Breaking out of the loop stops the inference thread; closing the source is
    left to its owner (use it as a context manager).
    """
    if isinstance(source, LandmarkSource):
        if smoother is not None and source.smoothed:
            log.info("%s was smoothed when recorded; not smoothing again", source.name)
            smoother = None
        # No model to wait for: reading and parsing the JSON lines is the whole job.
        stages: Iterator[tuple[VideoFrame, PoseFrame]] = _infer(source, None)
        prefetch = None
    else:
        prefetch = Prefetcher(lambda: _infer(source, estimator), depth=ahead, name="inference")
        stages = prefetch
    try:
        for vf, pose in stages:
            yield vf, (smoother(pose) if smoother is not None else pose)
    finally:
        if prefetch is not None:
            prefetch.close()
