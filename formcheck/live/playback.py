"""A recording played back in real time as if it were the camera.

`formcheck live --camera squat.mp4` rehearses a set-up, and the live tests and the latency
benchmark drive the live loop with a recorded or rendered clip. Like a webcam, playback
does not wait for the consumer: a thread releases each frame at its own timestamp on the
wall clock into a one-frame mailbox, and a frame not taken before the next one arrives is
dropped (counted in `dropped`). So a slow consumer sees exactly what it would see from a
camera: the newest frame, never a backlog.

Each frame's release time (time.monotonic) is its "capture" time, from which the loop
measures capture-to-display latency.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator

from formcheck.errors import CameraError, FormcheckError
from formcheck.report.session import SourceInfo
from formcheck.sources import Source, VideoFrame

log = logging.getLogger(__name__)


class _Mailbox:
    """Holds the newest (frame, capture time); put() replaces an unread one."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: tuple[VideoFrame, float] | None = None
        self._ended = False
        self._error: BaseException | None = None
        self.dropped = 0

    def put(self, frame: VideoFrame, t_capture: float) -> None:
        with self._cond:
            if self._item is not None:
                self.dropped += 1
            self._item = (frame, t_capture)
            self._cond.notify_all()

    def end(self, error: BaseException | None = None) -> None:
        with self._cond:
            self._ended, self._error = True, error
            self._cond.notify_all()

    def get(self, timeout_s: float) -> tuple[VideoFrame, float] | None:
        """The newest item; None at the end. Raises the producer's error after the frames
        it produced, or CameraError when nothing arrives within timeout_s."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._item is not None or self._ended, timeout_s):
                raise CameraError(f"The video stopped sending frames for {timeout_s:g} s")
            if self._item is not None:
                item, self._item = self._item, None
                return item
            if self._error is not None:
                raise self._error
            return None


class RealtimePlayback(Source):
    """Plays `open_inner()`'s frames at their timestamps on the wall clock.

    loop=True starts the recording again when it ends (timestamps keep increasing), for
    long benchmark runs from a short clip; speed scales the clock (2.0 = twice as fast).
    """

    def __init__(self, open_inner: Callable[[], Source], loop: bool = False, speed: float = 1.0,
                 frame_timeout_s: float = 5.0):
        self._open_inner = open_inner
        self.loop, self.speed = loop, speed
        self.frame_timeout_s = frame_timeout_s
        self._inner = open_inner()  # open errors (missing file...) surface here, at once
        inner = self._inner.info
        kind = "landmarks" if inner.kind == "landmarks" else "file"
        self.info = SourceInfo(kind, inner.path, inner.fps, 0, 0.0, inner.width, inner.height)
        self.inner_info = inner
        self._box = _Mailbox()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.frames_read = 0
        self.frames_released = 0
        self.last_capture_t: float | None = None

    @property
    def dropped(self) -> int:  # type: ignore[override]
        return self._box.dropped

    @property
    def name(self) -> str:
        return self._inner.name

    def _play(self) -> None:
        inner = self._inner
        offset = 0.0  # added to timestamps on every loop, so time keeps increasing
        t_start: float | None = None
        wall0 = 0.0
        try:
            while not self._stop.is_set():
                last_t = None
                for frame in inner:
                    if self._stop.is_set():
                        return
                    t = frame.t_s + offset
                    if t_start is None:
                        t_start, wall0 = t, time.monotonic()
                    due = wall0 + (t - t_start) / self.speed
                    delay = due - time.monotonic()
                    if delay > 0 and self._stop.wait(delay):
                        return
                    if offset:
                        frame = VideoFrame(frame.image_bgr, t, frame.index, frame.luma, frame.pose)
                    self._box.put(frame, time.monotonic())
                    self.frames_released += 1
                    last_t = t
                inner.close()
                if not self.loop or last_t is None:
                    break
                # The next pass starts at its own first timestamp (usually 0): shift it
                # one frame past where this pass ended.
                offset = last_t + 1.0 / (self.info.fps if self.info.fps > 0 else 30.0)
                inner = self._inner = self._open_inner()
            self._box.end()
        except FormcheckError as exc:
            self._box.end(exc)
        except Exception as exc:
            log.debug("playback failed", exc_info=True)
            self._box.end(CameraError(f"The video stopped: {exc}"))
        finally:
            inner.close()

    def __iter__(self) -> Iterator[VideoFrame]:
        if self._thread is None:
            self._thread = threading.Thread(target=self._play, name="formcheck-playback", daemon=True)
            self._thread.start()
        while True:
            item = self._box.get(self.frame_timeout_s)
            if item is None:
                return
            frame, self.last_capture_t = item
            self.frames_read += 1
            yield frame

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        self._inner.close()
