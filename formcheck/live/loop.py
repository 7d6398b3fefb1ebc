"""The live frame loop: newest camera frame -> pose -> controller (drill or routine) ->
window, as fast as the model allows and never behind the camera.

The source hands over only its newest frame (the camera and real-time playback drop
frames the loop was too slow for), and the loop works on one frame at a time, so what is
on screen is at most one inference old. Each displayed frame's capture-to-display latency
is measured (LatencyStats), which is what benchmarks/latency.py reports.

The loop ends when the controller is finished, on q / Esc or the window being closed,
after --max-seconds, when the source ends, or on an error; it never raises: the caller
gets a LoopEnd with the reason (and the error, re-raised once results are saved).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from formcheck.errors import FormcheckError
from formcheck.live.keys import Action, action_for_key
from formcheck.live.screens import draw_footer
from formcheck.pose.frame import PoseFrame

log = logging.getLogger(__name__)

# Background of a landmark recording played as the camera (it has no pictures).
CANVAS_GREY = 48


class Controller(Protocol):
    finished: bool
    keys_help: str

    def on_frame(self, t: float, pose: PoseFrame, scene: np.ndarray) -> np.ndarray: ...

    def on_action(self, action: Action) -> None: ...


class Display(Protocol):
    closed: bool

    def show(self, image: np.ndarray, wait_ms: int = 1) -> int: ...


@dataclass
class LatencyStats:
    """Capture-to-display latency of every displayed frame, and the frames dropped."""

    latencies_s: list[float] = field(default_factory=list)
    shown_at: list[float] = field(default_factory=list)  # monotonic time each frame was shown
    frames_shown: int = 0
    _recent: deque = field(default_factory=lambda: deque(maxlen=90), init=False, repr=False)

    def add(self, shown_t: float, capture_t: float | None) -> None:
        self.frames_shown += 1
        self.shown_at.append(shown_t)
        if capture_t is not None:
            lat = max(0.0, shown_t - capture_t)
            self.latencies_s.append(lat)
            self._recent.append((shown_t, lat))

    def readout(self) -> str | None:
        """'28 fps  45 ms' over the last second or so."""
        r = self._recent
        if len(r) < 2:
            return None
        span = r[-1][0] - r[0][0]
        fps = (len(r) - 1) / span if span > 0 else 0.0
        lat = float(np.median([x for _, x in r])) * 1000
        return f"{fps:.0f} fps  {lat:.0f} ms"

    def summary(self, frames_captured: int | None = None) -> dict[str, float]:
        lat = np.asarray(self.latencies_s) * 1000
        span = self.shown_at[-1] - self.shown_at[0] if len(self.shown_at) > 1 else 0.0
        out = {"frames_shown": float(self.frames_shown),
               "display_fps": (self.frames_shown - 1) / span if span > 0 else 0.0}
        if lat.size:
            out |= {"latency_median_ms": float(np.median(lat)), "latency_p90_ms": float(np.percentile(lat, 90)),
                    "latency_max_ms": float(lat.max())}
            # Growing lag shows as a later stretch slower than an earlier one.
            k = max(1, lat.size // 5)
            out |= {"latency_first_fifth_ms": float(np.median(lat[:k])),
                    "latency_last_fifth_ms": float(np.median(lat[-k:]))}
        if frames_captured:
            out |= {"frames_captured": float(frames_captured),
                    "dropped_share": max(0.0, 1.0 - self.frames_shown / frames_captured)}
        return out


class RealtimeRecorder:
    """--record: the window's frames to a video at the camera's frame rate. The loop shows
    frames at whatever rate the model allows, so each is written as many times as frame
    periods have passed since the last, keeping the recording in real time."""

    def __init__(self, path: Path, fps: float):
        from formcheck.render.video_writer import VideoWriter

        self.fps = fps if fps > 0 else 30.0
        self.writer = VideoWriter(path, fps=self.fps)
        self._t0: float | None = None
        self._written = 0

    def write(self, image: np.ndarray, t: float) -> None:
        if self._t0 is None:
            self._t0 = t
        due = int((t - self._t0) * self.fps) + 1  # frames the video should hold by time t
        for _ in range(due - self._written):
            self.writer.write(image)
            self._written += 1

    def close(self) -> None:
        self.writer.close()


def capture_time(source: object, t_s: float) -> float | None:
    """The monotonic time the newest frame was captured, when the source can say.

    Real-time playback records it per frame; the camera source stamps frames with the
    monotonic time since its first frame (t_s), so adding its start gives it back."""
    t = getattr(source, "last_capture_t", None)
    if t is not None:
        return float(t)
    t0 = getattr(source, "_t0", None)  # CameraSource: t_s = capture time - _t0
    return float(t0) + t_s if t0 is not None else None


@dataclass
class LoopEnd:
    reason: str  # finished | quit | window_closed | max_seconds | source_ended | camera_lost | interrupted
    error: BaseException | None = None
    seconds: float = 0.0
    frames: int = 0


class LiveLoop:
    """Runs a controller on a source until one of them ends (see the module docstring)."""

    def __init__(self, source, estimator, display: Display, *, smoother: Callable[[PoseFrame], PoseFrame] | None,
                 recorder: RealtimeRecorder | None = None, max_seconds: float | None = None,
                 show_readout: bool = True, clock: Callable[[], float] = time.monotonic):
        self.source, self.estimator, self.display = source, estimator, display
        self.smoother, self.recorder = smoother, recorder
        self.max_seconds = max_seconds
        self.show_readout = show_readout
        self.clock = clock
        self.stats = LatencyStats()

    def _pose(self, vf) -> tuple[PoseFrame, np.ndarray]:
        if vf.pose is not None:  # a landmark recording: no picture, draw on grey
            pose = vf.pose
            scene = np.full((pose.height, pose.width, 3), CANVAS_GREY, np.uint8)
        else:
            pose = self.estimator.process(vf.image_bgr, vf.t_s, vf.index, vf.luma)
            if pose.luma is None and vf.luma is not None:
                pose = dataclasses.replace(pose, luma=vf.luma)
            scene = vf.image_bgr
        if self.smoother is not None:
            pose = self.smoother(pose)
        return pose, scene

    def run(self, controller: Controller) -> LoopEnd:
        start = self.clock()
        frames = 0
        end = LoopEnd("source_ended")
        try:
            for vf in self.source:
                pose, scene = self._pose(vf)
                image = controller.on_frame(vf.t_s, pose, scene)
                readout = self.stats.readout() if self.show_readout else None
                image = draw_footer(image, controller.keys_help, readout)
                if self.recorder is not None:
                    self.recorder.write(image, vf.t_s)
                key = self.display.show(image)
                self.stats.add(self.clock(), capture_time(self.source, vf.t_s))
                frames += 1
                action = action_for_key(key)
                if action is Action.QUIT:
                    end = LoopEnd("quit")
                    break
                if action is not None:
                    controller.on_action(action)
                if self.display.closed:
                    end = LoopEnd("window_closed")
                    break
                if controller.finished:
                    end = LoopEnd("finished")
                    break
                if self.max_seconds is not None and self.clock() - start >= self.max_seconds:
                    end = LoopEnd("max_seconds")
                    break
        except KeyboardInterrupt as exc:
            end = LoopEnd("interrupted", exc)
        except FormcheckError as exc:
            log.debug("live source failed: %r", exc)
            end = LoopEnd("camera_lost", exc)
        end.seconds, end.frames = self.clock() - start, frames
        return end
