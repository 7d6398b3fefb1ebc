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
import threading
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
    frames at whatever rate the model allows, so each is placed by its time (repeated until
    the next), keeping the recording in real time."""

    def __init__(self, path: Path, fps: float):
        from formcheck.render.video_writer import VideoWriter

        self.writer = VideoWriter(path, fps=fps if fps > 0 else 30.0)

    def write(self, image: np.ndarray, t: float) -> None:
        self.writer.write(image, t)

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



class PosePump:
    """Camera frame -> pose on a thread of its own, one result ahead of the display loop.

    While the loop draws and shows frame k, the pump already runs the model on the newest
    camera frame, so the window updates at the model's rate rather than at model + drawing.
    Results wait in a one-slot mailbox: one the loop was too slow to take is replaced by
    the next (counted as dropped), so nothing queues and latency cannot grow. Source
    errors (a lost camera, a damaged file) reach the loop after the results before them.
    """

    def __init__(self, source, pose_of: Callable[[object], tuple[PoseFrame, np.ndarray]],
                 clock: Callable[[], float] = time.monotonic):
        self.source, self.pose_of, self.clock = source, pose_of, clock
        self._cond = threading.Condition()
        self._item: tuple[object, PoseFrame, np.ndarray, float | None] | None = None
        self._done = False
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name="formcheck-live-pose", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for vf in self.source:
                if self._stop.is_set():
                    break
                captured = capture_time(self.source, vf.t_s)
                pose, scene = self.pose_of(vf)
                with self._cond:
                    if self._item is not None:
                        self.dropped += 1
                    self._item = (vf, pose, scene, captured)
                    self._cond.notify_all()
        except BaseException as exc:  # noqa: BLE001 - handed to the display loop
            with self._cond:
                self._error = exc
        finally:
            with self._cond:
                self._done = True
                self._cond.notify_all()

    def get(self, timeout_s: float = 0.5):
        """The newest (frame, pose, scene, capture time); None at the end of the source, or
        "wait" when nothing new came within timeout_s (so the loop can keep the window alive)."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._item is not None or self._done, timeout_s):
                return "wait"
            if self._item is not None:
                item, self._item = self._item, None
                return item
            if self._error is not None:
                raise self._error
            return None

    def stop(self, timeout_s: float = 3.0) -> bool:
        """Stop taking frames; True when the thread has ended (the model may be closed)."""
        self._stop.set()
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

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
        self.pump: PosePump | None = None
        self.pump_stopped = True

    def _pose(self, vf) -> tuple[PoseFrame, np.ndarray]:
        if vf.pose is not None:  # a landmark recording: no picture, draw on grey
            pose = vf.pose
            scene = np.full((pose.height, pose.width, 3), CANVAS_GREY, np.uint8)
        else:
            pose = self.estimator.process(vf.image_bgr, vf.t_s, vf.index, vf.luma)
            if pose.luma is None and vf.luma is not None:
                pose = dataclasses.replace(pose, luma=vf.luma)
            scene = vf.image_bgr
        return pose, scene

    def run(self, controller: Controller) -> LoopEnd:
        start = self.clock()
        frames = 0
        end = LoopEnd("source_ended")
        pump = PosePump(self.source, self._pose, self.clock)
        self.pump = pump
        try:
            while True:
                item = pump.get()
                if item is None:
                    break
                if item == "wait":
                    # No new frame yet (a slow camera, a long inference): keep the window
                    # responsive to keys and closing.
                    key = self.display.poll() if hasattr(self.display, "poll") else -1
                    if action_for_key(key) is Action.QUIT or self.display.closed:
                        end = LoopEnd("quit" if not self.display.closed else "window_closed")
                        break
                    continue
                vf, pose, scene, captured = item
                if self.smoother is not None:
                    pose = self.smoother(pose)
                image = controller.on_frame(vf.t_s, pose, scene)
                readout = self.stats.readout() if self.show_readout else None
                image = draw_footer(image, controller.keys_help, readout)
                if self.recorder is not None:
                    self.recorder.write(image, vf.t_s)
                key = self.display.show(image)
                self.stats.add(self.clock(), captured)
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
        finally:
            self.pump_stopped = pump.stop()
        end.seconds, end.frames = self.clock() - start, frames
        return end
