"""SessionResult: everything a finished (or interrupted) session measured, and the JSON
report of SPEC.md built from it. Every front end (analyze, live, routine) ends in one."""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from formcheck import __version__
from formcheck.events import Event
from formcheck.report.atomic import default_file_mode

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class SourceInfo:
    kind: str  # "file" | "camera" | "images" | "landmarks"
    path: str | None
    fps: float
    frames: int
    duration_s: float
    width: int
    height: int

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": self.path, "fps": round(self.fps, 3),
                "frames": self.frames, "duration_s": round(self.duration_s, 3),
                "width": self.width, "height": self.height}


@dataclass
class SessionResult:
    drill: str
    source: SourceInfo
    model: str
    pose_coverage: float  # share of frames with a person found
    summary: dict[str, Any]
    events: list[Event]
    interrupted: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def to_report(self) -> dict[str, Any]:
        report = {
            "schema_version": SCHEMA_VERSION,
            "formcheck_version": __version__,
            "drill": self.drill,
            "source": self.source.to_dict(),
            "model": self.model,
            "pose_coverage": round(self.pose_coverage, 4),
            "summary": _clean(self.summary),
            "events": [e.to_dict() for e in sorted(self.events, key=lambda e: (e.t_s, e.code))],
        }
        if self.interrupted:
            report["interrupted"] = True
        return report


def _clean(value: Any) -> Any:
    """JSON-safe copy: NaN/inf become null (JSON has no NaN), numpy scalars plain numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float):
        return round(value, 4) if math.isfinite(value) else None
    return value


def write_json_atomic(data: Any, path: Path) -> None:
    """Write JSON so that a crash mid-write never leaves a truncated file behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, default_file_mode())  # mkstemp makes 0600 files; a report is a normal file
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, ensure_ascii=False)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_report(result: SessionResult, path: Path) -> None:
    write_json_atomic(result.to_report(), path)
