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
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
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


@dataclass
class PipelineStats:
    """Where the inference thread spent its time: if `starved_s` and `blocked_s` are small,
    the model is the bottleneck and decoding, drawing and encoding cost it nothing."""

    frames: int = 0
    wall_s: float = 0.0
    inference_s: float = 0.0  # inside the estimator
    starved_s: float = 0.0  # waiting for the source to deliver a frame
    blocked_s: float = 0.0  # waiting for the caller to take a finished pose

    def summary(self) -> str:
        w = max(self.wall_s, 1e-9)
        return (f"{self.frames} frames in {self.wall_s:.2f} s: inference {100 * self.inference_s / w:.0f}%, "
                f"waiting for frames {100 * self.starved_s / w:.0f}%, "
                f"waiting for the consumer {100 * self.blocked_s / w:.0f}%")


def _infer(frames: Iterable[VideoFrame], estimator: Estimator | None,
           stats: PipelineStats) -> Iterator[tuple[VideoFrame, PoseFrame]]:
    it = iter(frames)
    while True:
        t0 = time.perf_counter()
        vf = next(it, None)
        t1 = time.perf_counter()
        stats.starved_s += t1 - t0
        if vf is None:
            return
        stats.frames += 1
        if vf.pose is not None:
            yield vf, vf.pose
            continue
        if vf.image_bgr is None:
            raise ValueError(f"frame {vf.index} has neither an image nor a pose")
        if estimator is None:
            raise ValueError("this source has images: pose_stream needs an estimator")
        pose = estimator.process(vf.image_bgr, vf.t_s, vf.index, vf.luma)
        stats.inference_s += time.perf_counter() - t1
        if pose.luma is None and vf.luma is not None:
            pose = dataclasses.replace(pose, luma=vf.luma)
        yield vf, pose


def pose_stream(source: Iterable[VideoFrame], estimator: Estimator | None, smoother: Smoother | None = None,
                ahead: int = INFERENCE_AHEAD, stats: PipelineStats | None = None,
                ) -> Iterator[tuple[VideoFrame, PoseFrame]]:
    """Yield (VideoFrame, PoseFrame) for every frame of `source`, in order.

    The estimator runs on its own thread (`ahead` frames ahead of the caller); a source
    error (a truncated file, a lost camera) is raised after the frames before it were
    yielded. Breaking out of the loop stops the inference thread; closing the source is
    left to its owner (use it as a context manager). `stats`, when given, is filled in
    as the stream runs (see PipelineStats).
    """
    stats = stats if stats is not None else PipelineStats()
    if isinstance(source, LandmarkSource):
        if smoother is not None and source.smoothed:
            log.info("%s was smoothed when recorded; not smoothing again", source.name)
            smoother = None
        # No model to wait for: reading and parsing the JSON lines is the whole job.
        stages: Iterator[tuple[VideoFrame, PoseFrame]] = _infer(source, None, stats)
        prefetch = None
    else:
        prefetch = Prefetcher(lambda: _infer(source, estimator, stats), depth=ahead, name="inference")
        stages = prefetch
    t0 = time.perf_counter()
    try:
        for vf, pose in stages:
            yield vf, (smoother(pose) if smoother is not None else pose)
    finally:
        if prefetch is not None:
            prefetch.close()
            stats.blocked_s = prefetch.producer_wait_s
        stats.wall_s = time.perf_counter() - t0
        log.debug("pose pipeline: %s", stats.summary())
