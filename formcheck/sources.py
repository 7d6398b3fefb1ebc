"""Where frames come from: a video file, a webcam, a folder of images, or a landmark
recording. Each source is a plain iterator of `VideoFrame`s with `.info` (a SourceInfo
for the report) and `.close()`, and works as a context manager:

    with open_source("squat.mp4") as source:
        for frame in source:
            ...

Timestamps come from the source's own clock: the container's presentation times for a
video file (seconds from its first frame), the moment of capture for a webcam, i / fps for
an image folder, and the recorded t_s for a landmark recording. Decoding and capture run on
their own threads so they overlap with inference. Bad input raises InputError or
CameraError with one line a runner can act on.

Phone videos: a portrait clip is stored as a landscape stream with a rotation tag; frames
come out upright (OpenCV applies the tag) and the SourceInfo size is the displayed one.
Variable frame rate clips keep their real frame times (gaps where the phone dropped frames).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import re
import struct
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import cv2
import numpy as np

from formcheck.cvutil import quiet_opencv  # also quiets FFmpeg before any capture opens
from formcheck.errors import CameraError, InputError
from formcheck.pose.cpus import cpu_split
from formcheck.pose.estimator import frame_luma  # plain numpy; estimator imports mediapipe lazily
from formcheck.pose.frame import PoseFrame
from formcheck.recording import RecordingHeader, iter_recording, read_recording_header
from formcheck.report.session import SourceInfo
from formcheck.threads import Prefetcher

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
RECORDING_SUFFIXES = frozenset({".jsonl"})
DEFAULT_IMAGE_FPS = 30.0
# Frames decoded ahead of inference. Two or three cover FFmpeg's uneven decode times
# (key frames take longer); more only costs memory (2.7 MB a 720p frame).
DEFAULT_PREFETCH = 4
# A file counts as truncated when decoding stops clearly short of the duration its container
# states. Durations, not frame counts: MKV and WebM estimate their count as duration x the
# nominal rate, which a variable-rate clip with dropped frames never reaches, and an MP4
# trimmed without re-encoding (an edit list) lists frames it never shows.
TRUNCATION_TOLERANCE = 0.05
# The MP4/MOV header is read only this far into its boxes (a phone's moov is a few MB at most).
MP4_HEADER_LIMIT = 64 * 2**20


@dataclass(frozen=True, eq=False)
class VideoFrame:
    """One frame from a source. image_bgr is None for landmark recordings, which carry the
    recorded pose instead (so the pipeline skips the estimator)."""

    image_bgr: np.ndarray | None
    t_s: float
    index: int
    luma: float | None = None
    pose: PoseFrame | None = None

    @property
    def size(self) -> tuple[int, int] | None:
        """(width, height) of the image, when there is one."""
        if self.image_bgr is None:
            return None
        h, w = self.image_bgr.shape[:2]
        return w, h


class Source(ABC):
    """A plain iterator of VideoFrames with `.info`, `.close()` and context management."""

    info: SourceInfo
    #: frames a live source threw away because the consumer was busy (newest-frame-only)
    dropped: int = 0

    @abstractmethod
    def __iter__(self) -> Iterator[VideoFrame]: ...

    def close(self) -> None:
        """Stop any background thread and release the file or device."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def name(self) -> str:
        return Path(self.info.path).name if self.info.path else self.info.kind


def _sane_fps(fps: float, default: float = 30.0) -> float:
    """Containers sometimes report 0, NaN or 90000 (a time base) as the frame rate."""
    return fps if math.isfinite(fps) and 1.0 <= fps <= 1000.0 else default


def _boxes(data: bytes | memoryview, start: int = 0, end: int | None = None) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the ISO-BMFF boxes in data[start:end]."""
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        head = 8
        if size == 1 and pos + 16 <= end:
            size, head = struct.unpack_from(">Q", data, pos + 8)[0], 16
        elif size == 0:
            size = end - pos
        if size < head or pos + size > end:
            return
        yield bytes(kind), pos + head, pos + size
        pos += size


def _read_moov(path: Path) -> bytes | None:
    """The moov box of an MP4/MOV file (None for other files), skipping over the media data."""
    with path.open("rb") as fh:
        fh.seek(0, 2)
        length = fh.tell()
        pos = 0
        while pos + 8 <= length:
            fh.seek(pos)
            head = fh.read(16)
            if len(head) < 8:
                return None
            size, kind = struct.unpack_from(">I4s", head)
            if pos == 0 and kind not in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"):
                return None  # not an ISO media file
            hlen = 8
            if size == 1 and len(head) == 16:
                size, hlen = struct.unpack_from(">Q", head, 8)[0], 16
            elif size == 0:
                size = length - pos
            if size < hlen:
                return None
            if kind == b"moov":
                if size > MP4_HEADER_LIMIT:
                    return None
                fh.seek(pos + hlen)
                return fh.read(size - hlen)
            pos += size
    return None


def mp4_video_duration_s(path: str | Path) -> float | None:
    """How long an MP4/MOV's video track plays, from its headers (None when not such a file).

    The track header's duration is the presentation time after any edit list, which is what
    a player shows: a clip trimmed in place (QuickTime's Trim, `ffmpeg -ss -c copy`) keeps
    frames before the cut that the decoder discards, so its frame count overstates it.
    """
    try:
        moov = _read_moov(Path(path))
    except OSError:
        return None
    if not moov:
        return None
    timescale = 0
    for kind, a, b in _boxes(moov):
        if kind == b"mvhd" and b - a >= 20:
            timescale = struct.unpack_from(">I", moov, a + (20 if moov[a] == 1 else 12))[0]
    if timescale <= 0:
        return None
    for kind, a, b in _boxes(moov):
        if kind != b"trak":
            continue
        duration = None
        video = False
        for child, ca, cb in _boxes(moov, a, b):
            if child == b"tkhd" and cb - ca >= 28:
                v1 = moov[ca] == 1
                duration = struct.unpack_from(">Q" if v1 else ">I", moov, ca + (28 if v1 else 20))[0]
                unknown = 2**64 - 1 if v1 else 2**32 - 1
                duration = None if duration in (0, unknown) else duration
            elif child == b"mdia":
                for grand, ga, gb in _boxes(moov, ca, cb):
                    if grand == b"hdlr" and gb - ga >= 12:
                        video = moov[ga + 8: ga + 12] == b"vide"
        if video and duration is not None:
            return duration / timescale
    return None


# --------------------------------------------------------------------------- video file


class VideoFileSource(Source):
    """A video file, decoded on its own thread a few frames ahead of the consumer."""

    def __init__(self, path: str | Path, prefetch: int = DEFAULT_PREFETCH, max_frames: int | None = None):
        self.path = Path(path)
        self.max_frames = max_frames
        self._prefetch_depth = prefetch
        self._prefetcher: Prefetcher[VideoFrame] | None = None
        self.frames_read = 0
        name = self.path.name
        if not self.path.exists():
            raise InputError(f"Video not found: {self.path}")
        if not self.path.is_file():
            raise InputError(f"{self.path} is not a file")
        with quiet_opencv():
            # FFmpeg's default is a decoding thread per core; the pose model has cores of
            # its own (pose/cpus.py), so decode on as many threads as there are cores left.
            split = cpu_split()
            threads = len(split[1]) if split else 0  # 0: FFmpeg's default
            cap = cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, threads])
        if not cap.isOpened():
            raise InputError(f"{name} is not a video formcheck can read (not a video file, or damaged)")
        # Phones store a portrait clip as a landscape stream tagged "rotate 90": apply the tag
        # so the model sees the person upright (it finds few poses lying on their side) and
        # the reports and annotated video have the size the runner saw. OpenCV's default,
        # asked for explicitly; it must be set before the first frame is read.
        cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
        self.rotation_deg = int(cap.get(cv2.CAP_PROP_ORIENTATION_META) or 0) % 360
        ok, first = cap.read()
        if not ok or first is None:
            cap.release()
            raise InputError(f"{name} has no video frames: it is empty or damaged")
        self._cap, self._first = cap, first
        self.fps = _sane_fps(cap.get(cv2.CAP_PROP_FPS))
        # The first frame's presentation time is the clip's zero (an AVI with B-frames and
        # some streams start later than 0). Read now, before the decode thread moves on.
        t0 = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
        self._t0 = t0 if math.isfinite(t0) and t0 > 0 else 0.0
        count = cap.get(cv2.CAP_PROP_FRAME_COUNT)
        count = int(count) if math.isfinite(count) and 0 < count < 1e9 else 0
        # How long the container says the video plays: an MP4/MOV's own header when it has
        # one (it knows about trims), else the frame count at the nominal rate.
        self.expected_duration_s = mp4_video_duration_s(self.path) or (count / self.fps if count else 0.0)
        self.expected_frames = round(self.expected_duration_s * self.fps)
        if self.rotation_deg:
            log.info("%s is tagged to be shown rotated %d deg: frames are turned upright", name, self.rotation_deg)
        h, w = first.shape[:2]
        frames = self.expected_frames if max_frames is None else min(self.expected_frames, max_frames)
        self.info = SourceInfo("file", str(self.path), self.fps, frames, frames / self.fps, w, h)

    def _decode(self) -> Iterator[VideoFrame]:
        cap, image = self._cap, self._first
        self._first = None
        step = 1.0 / self.fps
        prev_t = -math.inf
        index = 0
        try:
            while image is not None:
                t_s = (cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0 - self._t0) if index else 0.0
                if not math.isfinite(t_s) or t_s <= prev_t:
                    # No timestamp or a repeated one: raw H.264/HEVC streams report 0 for
                    # every frame, an AVI with B-frames 0 for its last few. Step by the
                    # nominal frame rate so time still moves forward, as the estimator needs.
                    t_s = prev_t + step
                prev_t = t_s
                yield VideoFrame(image, t_s, index, frame_luma(image))
                index += 1
                self.frames_read = index
                if self.max_frames is not None and index >= self.max_frames:
                    self._finish(index, prev_t, complete=False)
                    return
                ok, image = cap.read()
                if not ok:
                    image = None
            self._finish(index, prev_t, complete=True)
        finally:
            cap.release()

    def _finish(self, read: int, last_t: float, complete: bool) -> None:
        """Record what was really decoded; a file that ended early is an error."""
        duration = max(0.0, last_t) + 1 / self.fps
        self.info = dataclasses.replace(self.info, frames=read, duration_s=duration)
        expected = self.expected_duration_s
        if complete and expected and duration < expected - max(2 / self.fps, TRUNCATION_TOLERANCE * expected):
            raise InputError(f"{self.path.name} is truncated or damaged: decoding stopped after "
                             f"{read} of {self.expected_frames} frames")

    def __iter__(self) -> Iterator[VideoFrame]:
        if self._prefetcher is None:
            self._prefetcher = Prefetcher(self._decode, self._prefetch_depth, name="decode",
                                          background=True)
        return self._prefetcher

    def close(self) -> None:
        if self._prefetcher is not None:
            self._prefetcher.close()
        elif self._cap is not None:
            self._cap.release()


# ------------------------------------------------------------------------- image folder


def _natural_key(path: Path) -> list[Any]:
    """frame2.png before frame10.png, as a person numbering photos expects."""
    return [int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", path.name)]


class ImageFolderSource(Source):
    """Image files in natural name order, timed i / fps. Read on their own thread."""

    def __init__(self, files: Sequence[Path], fps: float = DEFAULT_IMAGE_FPS, path: Path | None = None,
                 prefetch: int = DEFAULT_PREFETCH, max_frames: int | None = None):
        self.files = list(files)
        self.fps = fps if fps > 0 else DEFAULT_IMAGE_FPS
        self.max_frames = max_frames
        self.skipped: list[Path] = []
        self._prefetch_depth = prefetch
        self._prefetcher: Prefetcher[VideoFrame] | None = None
        where = path or (self.files[0].parent if self.files else Path("."))
        first = None
        for f in self.files:
            first = cv2.imread(str(f), cv2.IMREAD_COLOR)
            if first is not None:
                break
        if first is None:
            raise InputError(f"None of the {len(self.files)} files in {where} could be read as an image")
        h, w = first.shape[:2]
        n = len(self.files) if max_frames is None else min(len(self.files), max_frames)
        self.info = SourceInfo("images", str(path or self.files[0]), self.fps, n, n / self.fps, w, h)

    @classmethod
    def from_folder(cls, folder: str | Path, fps: float = DEFAULT_IMAGE_FPS, **kw: Any) -> ImageFolderSource:
        folder = Path(folder)
        files = sorted((f for f in folder.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file()),
                       key=_natural_key)
        if not files:
            raise InputError(f"No images (.jpg, .png, ...) in folder {folder}")
        return cls(files, fps, path=folder, **kw)

    def _read(self) -> Iterator[VideoFrame]:
        files = self.files if self.max_frames is None else self.files[: self.max_frames]
        for i, f in enumerate(files):
            image = cv2.imread(str(f), cv2.IMREAD_COLOR)
            if image is None:
                # One bad photo should not end a session; its time slot stays empty.
                log.warning("skipping %s: not a readable image", f.name)
                self.skipped.append(f)
                continue
            yield VideoFrame(image, i / self.fps, i, frame_luma(image))

    def __iter__(self) -> Iterator[VideoFrame]:
        if self._prefetcher is None:
            self._prefetcher = Prefetcher(self._read, self._prefetch_depth, name="imread")
        return self._prefetcher

    def close(self) -> None:
        if self._prefetcher is not None:
            self._prefetcher.close()


# ------------------------------------------------------------------------------ camera


class _NewestFrame:
    """A one-frame mailbox: put() replaces an unread frame (counted as dropped), so a slow
    consumer always gets the newest frame instead of working through a backlog."""

    def __init__(self, latest_only: bool, backlog: int):
        self._cond = threading.Condition()
        self._items: list[VideoFrame] = []
        self._error: BaseException | None = None
        self._capacity = 1 if latest_only else max(1, backlog)
        self.dropped = 0

    def put(self, item: VideoFrame) -> None:
        with self._cond:
            if len(self._items) >= self._capacity:
                # Newest-only drops the stale frame; a full backlog drops its oldest.
                self._items.pop(0)
                self.dropped += 1
            self._items.append(item)
            self._cond.notify()

    def fail(self, exc: BaseException) -> None:
        with self._cond:
            self._error = exc
            self._cond.notify()

    def get(self, timeout_s: float) -> VideoFrame | None:
        """The next frame, or None after timeout_s without one. Raises the capture's error."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while not self._items and self._error is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)
            if self._items:
                return self._items.pop(0)
            raise self._error  # type: ignore[misc]


class CameraSource(Source):
    """A webcam by device index, or a live stream by URL, captured on its own thread.

    latest_only (the default, for live coaching): the consumer always gets the newest
    frame; frames it was too slow for are dropped and counted in `.dropped`. Otherwise up
    to `backlog` frames wait (about a second at 30 fps) before the oldest are dropped.
    Timestamps are the monotonic time of capture, 0 at the first frame.
    """

    def __init__(self, device: int | str, latest_only: bool = True, width: int | None = None,
                 height: int | None = None, fps: float | None = None, open_timeout_s: float = 5.0,
                 frame_timeout_s: float = 2.0, backlog: int = 30, max_frames: int | None = None):
        self.device = device
        with quiet_opencv():
            cap = cv2.VideoCapture(device)
        if not cap.isOpened():
            cap.release()
            if isinstance(device, int):
                raise CameraError(f"No camera at index {device}: check it is plugged in, or try another "
                                  f"index (formcheck doctor lists cameras)")
            raise CameraError(f"Could not open the camera stream {device}")
        for prop, value in ((cv2.CAP_PROP_FRAME_WIDTH, width), (cv2.CAP_PROP_FRAME_HEIGHT, height),
                            (cv2.CAP_PROP_FPS, fps)):
            if value:
                cap.set(prop, value)
        self._start(cap, str(device), latest_only, open_timeout_s, frame_timeout_s, backlog, max_frames)

    @classmethod
    def from_capture(cls, cap: cv2.VideoCapture, name: str, latest_only: bool = True,
                     open_timeout_s: float = 5.0, frame_timeout_s: float = 2.0, backlog: int = 30,
                     max_frames: int | None = None) -> CameraSource:
        """Wrap an already opened capture (any live feed OpenCV can open)."""
        self = cls.__new__(cls)
        self.device = name
        self._start(cap, name, latest_only, open_timeout_s, frame_timeout_s, backlog, max_frames)
        return self

    def _start(self, cap: cv2.VideoCapture, name: str, latest_only: bool, open_timeout_s: float,
               frame_timeout_s: float, backlog: int, max_frames: int | None) -> None:
        self._cap, self._label = cap, name
        self.latest_only = latest_only
        self.frame_timeout_s = frame_timeout_s
        self.max_frames = max_frames
        self.frames_read = 0
        self._box = _NewestFrame(latest_only, backlog)
        self._stop = threading.Event()
        self._t0: float | None = None
        self._thread = threading.Thread(target=self._capture, name="formcheck-camera", daemon=True)
        self._thread.start()
        first = self._box.get(open_timeout_s)
        if first is None:
            self.close()
            raise CameraError(f"Camera {name} opened but sent no frames in {open_timeout_s:g} s: "
                              f"close other programs using it and try again")
        self._pending: VideoFrame | None = first
        h, w = first.image_bgr.shape[:2]  # type: ignore[union-attr]
        fps = _sane_fps(cap.get(cv2.CAP_PROP_FPS))
        path = name if not name.isdigit() else None
        self.info = SourceInfo("camera", path, fps, 0, 0.0, w, h)

    @property
    def dropped(self) -> int:  # type: ignore[override]
        return self._box.dropped

    @property
    def name(self) -> str:
        return f"camera {self._label}"

    def _capture(self) -> None:
        index = 0
        last_ok = time.monotonic()
        while not self._stop.is_set():
            ok, image = self._cap.read()
            now = time.monotonic()
            if not ok or image is None:
                # A lost camera either blocks in read() or fails at once; the consumer's
                # timeout covers the first, this covers the second without spinning.
                # Before the first frame, the open timeout in _start decides instead.
                if index and now - last_ok > self.frame_timeout_s:
                    self._box.fail(CameraError(
                        f"Camera {self._label} stopped sending frames (unplugged?) after {index} frames"))
                    return
                time.sleep(0.01)
                continue
            last_ok = now
            if self._t0 is None:
                self._t0 = now
            self._box.put(VideoFrame(image, now - self._t0, index, frame_luma(image)))
            index += 1

    def __iter__(self) -> Iterator[VideoFrame]:
        while self.max_frames is None or self.frames_read < self.max_frames:
            if self._pending is not None:
                frame, self._pending = self._pending, None
            else:
                frame = self._box.get(self.frame_timeout_s)
                if frame is None:
                    raise CameraError(f"Camera {self._label} stopped sending frames (unplugged?) "
                                      f"after {self.frames_read} frames")
            self.frames_read += 1
            yield frame
        self._update_info()

    def _update_info(self) -> None:
        self.info = dataclasses.replace(self.info, frames=self.frames_read)

    def close(self) -> None:
        self._stop.set()
        if hasattr(self, "info"):
            self._update_info()
        self._thread.join(1.0)
        # A read() stuck on a vanished device must not be raced by release(): leave the
        # handle to the daemon thread in that case.
        if not self._thread.is_alive():
            self._cap.release()


# ------------------------------------------------------------------ landmark recording


class LandmarkSource(Source):
    """A `.jsonl` landmark recording made by `formcheck pose`: yields frames without an
    image whose `.pose` is the recorded PoseFrame, so the pipeline skips the estimator."""

    def __init__(self, path: str | Path, max_frames: int | None = None):
        self.path = Path(path)
        if not self.path.exists():
            raise InputError(f"Recording not found: {self.path}")
        self.header: RecordingHeader = read_recording_header(self.path)
        self.max_frames = max_frames
        src = self.header.source or {}
        frames = self.header.frames
        fps = _sane_fps(float(src.get("fps") or 0.0))
        self.info = SourceInfo("landmarks", str(self.path), fps, frames,
                               float(src.get("duration_s") or frames / fps),
                               int(src.get("width") or self.header.width),
                               int(src.get("height") or self.header.height))

    @property
    def smoothed(self) -> bool:
        """True when the recorded poses were already smoothed (do not smooth twice)."""
        return self.header.smoothing is not None

    def poses(self) -> Iterator[PoseFrame]:
        """The recorded PoseFrames themselves."""
        for i, pose in enumerate(iter_recording(self.path)):
            if self.max_frames is not None and i >= self.max_frames:
                return
            yield pose

    def __iter__(self) -> Iterator[VideoFrame]:
        for pose in self.poses():
            yield VideoFrame(None, pose.t_s, pose.index, pose.luma, pose=pose)


# ----------------------------------------------------------------------------- factory


def parse_spec(spec: str | Path | int) -> int | str | Path:
    """A camera index (int), a stream URL (str) or a path."""
    if isinstance(spec, int):
        return spec
    text = str(spec)
    if text.isdigit():
        return int(text)
    if "://" in text:
        return text
    return Path(text).expanduser()


def open_source(spec: str | Path | int, *, fps: float = DEFAULT_IMAGE_FPS, latest_only: bool = True,
                max_frames: int | None = None, prefetch: int = DEFAULT_PREFETCH) -> Source:
    """Open what `spec` names: a camera index ("0"), a stream URL, an image folder, an
    image, a `.jsonl` landmark recording, or a video file.

    fps times an image folder's frames; latest_only is the camera's newest-frame mode.
    """
    what = parse_spec(spec)
    if isinstance(what, (int, str)):
        return CameraSource(what, latest_only=latest_only, max_frames=max_frames)
    path: Path = what
    if not path.exists():
        raise InputError(f"File or folder not found: {path}")
    if path.is_dir():
        return ImageFolderSource.from_folder(path, fps=fps, max_frames=max_frames, prefetch=prefetch)
    suffix = path.suffix.lower()
    if suffix in RECORDING_SUFFIXES:
        return LandmarkSource(path, max_frames=max_frames)
    if suffix in IMAGE_SUFFIXES:
        return ImageFolderSource([path], fps=fps, path=path, max_frames=max_frames, prefetch=1)
    return VideoFileSource(path, prefetch=prefetch, max_frames=max_frames)


__all__ = ["CameraSource", "ImageFolderSource", "LandmarkSource", "Source", "VideoFileSource",
           "VideoFrame", "frame_luma", "open_source", "parse_spec"]
