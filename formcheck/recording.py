"""Landmark recordings: one JSON object a line, so a session can be replayed (and shared)
without its video, and analyser tests run in milliseconds.

Line 1 is a header, every further line one PoseFrame (PoseFrame.to_dict):

    {"formcheck_recording": 1, "formcheck_version": "0.1.0", "model": "full",
     "smoothing": {"min_cutoff": 1.0, ...} or null, "source": {SourceInfo.to_dict()}}
    {"t_s": 0.0, "index": 0, "width": 1280, "height": 720, "image": [[x, y, z], ...], ...}

A recording cut off mid-write (the laptop died) loses only its unfinished last line.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Self

from formcheck import __version__
from formcheck.errors import InputError
from formcheck.pose.frame import PoseFrame
from formcheck.report.session import SourceInfo

log = logging.getLogger(__name__)

RECORDING_VERSION = 1
HEADER_KEY = "formcheck_recording"


@dataclass(frozen=True)
class RecordingHeader:
    version: int
    model: str | None
    smoothing: dict[str, Any] | None  # the smoother's settings when the poses were smoothed
    source: dict[str, Any] | None  # SourceInfo.to_dict() of what was recorded
    formcheck_version: str | None
    frames: int  # pose lines in the file
    width: int  # image size of the first frame (for recordings without a header)
    height: int

    @staticmethod
    def make(source: SourceInfo, model: str, smoothing: dict[str, Any] | None) -> dict[str, Any]:
        return {HEADER_KEY: RECORDING_VERSION, "formcheck_version": __version__, "model": model,
                "smoothing": smoothing, "source": source.to_dict()}


class RecordingWriter:
    """Writes a header, then one line per PoseFrame. Use as a context manager."""

    def __init__(self, path: str | Path, source: SourceInfo, model: str,
                 smoothing: dict[str, Any] | None = None):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.frames_written = 0
        try:
            self._fh: IO[str] = self.path.open("w", encoding="utf-8")
        except OSError as exc:
            raise InputError(f"Cannot write the recording {self.path}: {exc.strerror}") from exc
        self._line(RecordingHeader.make(source, model, smoothing))

    def _line(self, obj: dict[str, Any]) -> None:
        self._fh.write(json.dumps(obj, separators=(",", ":"), allow_nan=False))
        self._fh.write("\n")

    def write(self, frame: PoseFrame) -> None:
        self._line(frame.to_dict())
        self.frames_written += 1

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _parse(line: str, path: Path, lineno: int) -> dict[str, Any]:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError:
        raise InputError(f"{path.name} line {lineno} is not valid JSON: is it a formcheck recording?") from None
    if not isinstance(obj, dict):
        raise InputError(f"{path.name} line {lineno} is not a landmark frame: is it a formcheck recording?")
    return obj


def _open(path: Path) -> IO[str]:
    try:
        return path.open("r", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"Cannot read the recording {path}: {exc.strerror}") from exc


def read_recording_header(path: str | Path) -> RecordingHeader:
    """The header, with the number of frames counted. Raises InputError for a file that
    is not a recording."""
    path = Path(path)
    header: dict[str, Any] = {}
    first: dict[str, Any] | None = None
    frames = 0
    with _open(path) as fh:
        try:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                if first is None:
                    obj = _parse(line, path, lineno)
                    if HEADER_KEY in obj and not header:
                        header = obj
                        continue
                    if "t_s" not in obj:
                        raise InputError(f"{path.name} line {lineno} is not a landmark frame: "
                                         f"is it a formcheck recording?")
                    first = obj
                frames += 1
        except UnicodeDecodeError:
            raise InputError(f"{path.name} is not a formcheck recording (not text)") from None
    if first is None:
        raise InputError(f"{path.name} holds no landmark frames")
    return RecordingHeader(
        version=int(header.get(HEADER_KEY, RECORDING_VERSION)), model=header.get("model"),
        smoothing=header.get("smoothing"), source=header.get("source"),
        formcheck_version=header.get("formcheck_version"), frames=frames,
        width=int(first.get("width", 0)), height=int(first.get("height", 0)))


def iter_recording(path: str | Path) -> Iterator[PoseFrame]:
    """Every recorded PoseFrame in order."""
    path = Path(path)
    with _open(path) as fh:
        lines = iter(enumerate(fh, 1))
        pending: tuple[int, str] | None = next(lines, None)
        while pending is not None:
            lineno, line = pending
            pending = next(lines, None)
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                if pending is None:
                    # The last line of a recording whose writer was killed mid-line.
                    log.warning("%s: ignoring an unfinished last line %d", path.name, lineno)
                    return
                raise InputError(f"{path.name} line {lineno} is not valid JSON: "
                                 f"is it a formcheck recording?") from None
            if not isinstance(obj, dict) or HEADER_KEY in obj:
                continue
            try:
                yield PoseFrame.from_dict(obj)
            except (KeyError, TypeError, ValueError) as exc:
                raise InputError(f"{path.name} line {lineno} is not a landmark frame ({exc})") from None
