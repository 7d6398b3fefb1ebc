"""The per-frame table of a session (one row per frame: time, the drill's measured values
and the analyser's state) and its CSV form, which a physiotherapist can open in a
spreadsheet. The HTML report's plots are drawn from the same table.

Columns, in order:
  t_s, frame          the source's timestamp and frame index
  detected, reading   a person was found; the pose was reliable enough to measure (0/1)
  side, set, count, hold_s, hold_paused, cues
                      the analyser's live state (cues: active cue codes, most important
                      first, separated by spaces; a side-specific cue is written CODE:SIDE)
  ...                 the analyser's values(), in the order they first appeared, in the
                      units their names say (pelvic_drop_deg, heel_lift_cm...)
An empty cell is a value that could not be measured on that frame.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from formcheck.drills.base import LiveStatus
from formcheck.report.atomic import atomic_open

STATE_COLUMNS = ("t_s", "frame", "detected", "reading", "side", "set", "count", "hold_s",
                 "hold_paused", "cues")


def cue_token(code: str, side: str | None) -> str:
    return f"{code}:{side}" if side else code


@dataclass
class FrameTable:
    """Rows of per-frame state and values; value columns are discovered as they appear."""

    value_columns: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        return [*STATE_COLUMNS, *self.value_columns]

    def __len__(self) -> int:
        return len(self.rows)

    def add(self, t_s: float, index: int, detected: bool, status: LiveStatus,
            values: dict[str, float]) -> None:
        row: dict[str, Any] = {
            "t_s": t_s, "frame": index, "detected": int(detected), "reading": int(status.reading),
            "side": status.side or "", "set": status.set_index,
            "count": status.count, "hold_s": status.hold_s,
            "hold_paused": int(status.hold_paused) if status.hold_s is not None else None,
            "cues": " ".join(cue_token(c.code, c.side) for c in status.cues),
        }
        for k, v in values.items():
            if k not in row and k not in self.value_columns:
                self.value_columns.append(k)
            row[k] = v
        self.rows.append(row)

    def column(self, name: str) -> np.ndarray:
        """A numeric column as float (NaN where empty or not a number)."""
        out = np.full(len(self.rows), np.nan)
        for i, r in enumerate(self.rows):
            v = r.get(name)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                out[i] = float(v)
        return out

    def text_column(self, name: str) -> list[str]:
        return ["" if r.get(name) is None else str(r.get(name)) for r in self.rows]

    def times(self) -> np.ndarray:
        return self.column("t_s")

    def write_csv(self, path: Path) -> None:
        """Write atomically (a temporary file renamed into place)."""
        cols = self.columns
        with atomic_open(path, newline="") as fh:
            w = csv.writer(fh)
            w.writerow(cols)
            for r in self.rows:
                w.writerow([_cell(r.get(c)) for c in cols])

    @classmethod
    def read_csv(cls, path: Path) -> FrameTable:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            table = cls(value_columns=[c for c in header if c not in STATE_COLUMNS])
            for rec in reader:
                table.rows.append({c: _parse(c, v) for c, v in zip(header, rec)})
        return table


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if not math.isfinite(f):
            return ""
        return f"{f:.6g}" if abs(f) < 1e6 else f"{f:.1f}"
    if isinstance(v, np.integer):
        return str(int(v))
    return str(v)


def _parse(col: str, v: str) -> Any:
    if col in ("side", "cues"):
        return v
    if v == "":
        return None
    try:
        f = float(v)
    except ValueError:
        return v
    return int(f) if col in ("frame", "detected", "reading", "set", "count", "hold_paused") else f
