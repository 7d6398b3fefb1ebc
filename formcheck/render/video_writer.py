"""Annotated video out: frames are encoded on their own thread, so encoding overlaps with
inference instead of adding to it.

Codec: H.264 ("avc1") when this OpenCV build can encode it, since every browser plays it;
otherwise MPEG-4 Part 2 ("mp4v"), which every desktop player (VLC, QuickTime, Windows)
plays. The opencv-contrib-python wheels that mediapipe brings ship FFmpeg without a
software H.264 encoder, so on most machines the result is mp4v. Measured on 720p frames on
a 2-core machine, CPU per frame: mp4v 5.5 ms (the cheapest), MJPG 7 ms (7x the file size),
VP8 47 ms, VP9 350 ms (browser-playable, but far slower than the pose model itself).
"""

from __future__ import annotations

import logging
import queue
import threading
from pathlib import Path
from typing import Self

import cv2
import numpy as np

from formcheck.cvutil import quiet_opencv
from formcheck.errors import InputError
from formcheck.threads import lower_thread_priority

log = logging.getLogger(__name__)

AUTO_CODECS = ("avc1", "mp4v")
# Frames waiting for the encoder: enough to absorb an encoder hiccup (a key frame), small
# enough that a stalled disk pushes back on the pipeline instead of filling memory.
DEFAULT_QUEUE = 8

_STOP = object()


def _open_writer(path: Path, fps: float, size: tuple[int, int], codec: str) -> tuple[cv2.VideoWriter, str]:
    candidates = AUTO_CODECS if codec == "auto" else (codec,)
    for fourcc in candidates:
        with quiet_opencv():
            writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, size)
        if writer.isOpened():
            return writer, fourcc
        writer.release()
        log.debug("codec %s not available for %s", fourcc, path.name)
    raise InputError(f"Cannot write video {path}: no {'/'.join(candidates)} encoder, "
                     f"or the folder is not writable")


class VideoWriter:
    """write(image) hands a BGR frame to the encoding thread; close() finishes the file.

    The writer takes ownership of the images it is given (no copy): do not draw on an
    image after writing it. Frames of another size are resized to the first frame's.
    """

    def __init__(self, path: str | Path, fps: float, size: tuple[int, int] | None = None,
                 codec: str = "auto", queue_size: int = DEFAULT_QUEUE):
        self.path = Path(path)
        self.fps = fps if fps and fps > 0 else 30.0
        self.codec = codec
        self.fourcc: str | None = None
        self.frames_written = 0
        self.size = size
        if not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer: cv2.VideoWriter | None = None
        if size is not None:
            self._writer, self.fourcc = _open_writer(self.path, self.fps, size, codec)
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, queue_size))
        self._error: BaseException | None = None
        self._closed = False
        self._t0: float | None = None  # the first timed frame's t_s
        self._slots = 0  # frames queued so far
        self._last: np.ndarray | None = None  # repeated to fill a gap before the next timed frame
        self._thread = threading.Thread(target=self._run, name="formcheck-encode", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        lower_thread_priority()
        while True:
            image = self._queue.get()
            if image is _STOP:
                break
            if self._error is not None:
                continue  # keep draining so write() never blocks on a dead encoder
            try:
                self._encode(image)
            except BaseException as exc:  # noqa: BLE001 - re-raised by write()/close()
                self._error = exc
        if self._writer is not None:
            self._writer.release()

    def _encode(self, image: np.ndarray) -> None:
        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        if self._writer is None:
            h, w = image.shape[:2]
            self.size = (w, h)
            self._writer, self.fourcc = _open_writer(self.path, self.fps, self.size, self.codec)
        if (image.shape[1], image.shape[0]) != self.size:
            image = cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)
        self._writer.write(image)
        self.frames_written += 1

    def write(self, image_bgr: np.ndarray, t_s: float | None = None) -> None:
        """Queue one frame. With `t_s` (seconds, any origin) the frame is placed by its time
        at this writer's fps: the previous frame stays on screen for the slots in between, so
        a variable-rate phone clip or a live loop slower than the camera keeps real time in
        the video (a frame whose slot is already taken is left out)."""
        if self._closed:
            raise RuntimeError("VideoWriter is closed")
        if self._error is not None:
            raise self._error
        if t_s is not None:
            if self._t0 is None:
                self._t0 = t_s
            slot = round((t_s - self._t0) * self.fps)
            if slot < self._slots:
                return
            while self._slots < slot and self._last is not None:
                self._put(self._last)
        self._put(image_bgr)
        self._last = image_bgr

    def _put(self, image_bgr: np.ndarray) -> None:
        self._queue.put(image_bgr)
        self._slots += 1

    def close(self) -> None:
        """Encode what is queued, finish the file, and raise an encoder error if one occurred."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.close()
        else:
            # Already failing: finish the file for what was written, without masking the error.
            try:
                self.close()
            except Exception:
                log.debug("video writer error while handling another", exc_info=True)
