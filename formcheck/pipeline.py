"""The pose pipeline: frames from a source, through the estimator, through the smoother,
as (VideoFrame, PoseFrame) pairs in order.

    source (decode thread) -> estimator (inference thread) -> smoother (caller's thread)

Decoding, inference and the caller's own work (analysis, drawing, writing) each run on
their own thread, a few frames apart, so on a 2-core machine the model is never waiting
for a decoder and the decoder never waits for the caller. FFmpeg releases the GIL while it
decodes, so a thread is enough there. MediaPipe's Python API takes the GIL several times a
frame, so the model is best given a process of its own (ProcessPoseEstimator, one copy of
each frame through shared memory); the inference thread then only hands frames over, two
ahead, and collects the poses in order.

A landmark recording has no images: its recorded poses go straight to the smoother (or
past it, when the recording was smoothed already).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import deque
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


class PipelinedEstimator(Estimator, Protocol):
    """An estimator working elsewhere (ProcessPoseEstimator): frames are submitted ahead and
    their poses collected in order, so it never idles between frames."""

    slots: int  # frames it can hold at once

    def submit(self, image_bgr: np.ndarray, t_s: float, index: int = -1,
               luma: float | None = None) -> None: ...

    def collect(self) -> PoseFrame: ...


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


def _frames(frames: Iterable[VideoFrame], stats: PipelineStats) -> Iterator[VideoFrame]:
    """The source's frames, timing how long the inference thread waited for each."""
    it = iter(frames)
    while True:
        t0 = time.perf_counter()
        vf = next(it, None)
        stats.starved_s += time.perf_counter() - t0
        if vf is None:
            return
        stats.frames += 1
        yield vf


def _with_luma(pose: PoseFrame, vf: VideoFrame) -> PoseFrame:
    if pose.luma is None and vf.luma is not None:
        return dataclasses.replace(pose, luma=vf.luma)
    return pose


def _image_of(vf: VideoFrame, estimator: Estimator | None) -> np.ndarray:
    if vf.image_bgr is None:
        raise ValueError(f"frame {vf.index} has neither an image nor a pose")
    if estimator is None:
        raise ValueError("this source has images: pose_stream needs an estimator")
    return vf.image_bgr


def _infer(frames: Iterable[VideoFrame], estimator: Estimator | None,
           stats: PipelineStats) -> Iterator[tuple[VideoFrame, PoseFrame]]:
    for vf in _frames(frames, stats):
        if vf.pose is not None:
            yield vf, vf.pose
            continue
        image = _image_of(vf, estimator)
        t0 = time.perf_counter()
        pose = estimator.process(image, vf.t_s, vf.index, vf.luma)  # type: ignore[union-attr]
        stats.inference_s += time.perf_counter() - t0
        yield vf, _with_luma(pose, vf)


def _infer_pipelined(frames: Iterable[VideoFrame], estimator: PipelinedEstimator,
                     stats: PipelineStats) -> Iterator[tuple[VideoFrame, PoseFrame]]:
    """Like _infer, but with the estimator's slots kept full: the next frame is already
    waiting when the model finishes one."""
    waiting: deque[VideoFrame] = deque()

    def collect() -> tuple[VideoFrame, PoseFrame]:
        t0 = time.perf_counter()
        pose = estimator.collect()
        stats.inference_s += time.perf_counter() - t0
        vf = waiting.popleft()
        return vf, _with_luma(pose, vf)

    source = _frames(frames, stats)
    error: Exception | None = None
    while True:
        try:
            vf = next(source, None)
        except Exception as exc:  # noqa: BLE001 - raised below, after the frames already sent
            error = exc  # the source failed part-way (a truncated file): what the model has comes out first
            break
        if vf is None:
            break
        t0 = time.perf_counter()
        estimator.submit(_image_of(vf, estimator), vf.t_s, vf.index, vf.luma)
        stats.inference_s += time.perf_counter() - t0
        waiting.append(vf)
        if len(waiting) >= estimator.slots:
            yield collect()
    while waiting:
        yield collect()
    if error is not None:
        raise error


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
        if hasattr(estimator, "submit"):
            def produce() -> Iterator[tuple[VideoFrame, PoseFrame]]:
                return _infer_pipelined(source, estimator, stats)  # type: ignore[arg-type]
        else:
            def produce() -> Iterator[tuple[VideoFrame, PoseFrame]]:
                return _infer(source, estimator, stats)
        prefetch = Prefetcher(produce, depth=ahead, name="inference")
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
