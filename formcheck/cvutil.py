"""OpenCV settings shared by the modules that decode and encode video.

FFmpeg (inside OpenCV) prints its own complaints straight to stderr ("moov atom not
found", "Could not find a valid device" while probing encoders). A runner should see
formcheck's one-line error instead, so FFmpeg's log is silenced here. OpenCV reads the
setting once, when it first opens a video, so every module that opens one imports this
module first. An explicit OPENCV_FFMPEG_LOGLEVEL in the environment wins (for debugging).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET

import cv2

# OpenCV's own thread pool splits each colour conversion and resize across both cores and
# then spins waiting for more; here those cores belong to the pose model, which decoding,
# drawing and encoding must stay out of the way of (measured: ~0.5 ms of CPU a frame).
cv2.setNumThreads(1)


@contextlib.contextmanager
def quiet_opencv() -> Iterator[None]:
    """Silence OpenCV's own warnings while probing a device, file or codec that may fail."""
    old = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(old)
