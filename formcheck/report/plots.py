"""Matplotlib figures for the reports: the drill's signals over time with fault spans
shaded, the timing between counted movements, the ABC letter traces, and a metric over
sessions (`formcheck progress`).

Figures are built with matplotlib's object API (Figure + Agg canvas), never pyplot, so
there is no global state and no display is needed; each function returns PNG bytes.
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from formcheck.cues import SETUP_CODES
from formcheck.events import Event
from formcheck.report.csv_report import FrameTable

# The skeleton's side colours (orange left, blue right), as matplotlib RGB.
SIDE_COLOURS = {"left": "#fa9628", "right": "#28aae6", None: "#444444"}
FAULT_COLOURS = ["#e03c3c", "#9b59b6", "#e67e22", "#16a085", "#c0392b", "#8e44ad", "#d35400"]
SETUP_COLOUR = "#bbbbbb"
DPI = 100
MAX_SIGNAL_PLOTS = 10

UNITS = {"deg": "degrees", "cm": "cm", "pct": "%", "ms": "ms", "s": "s", "px": "pixels",
         "hz": "per second", "per_min": "per minute", "ratio": "ratio", "m": "m"}


def to_png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    return buf.getvalue()


@dataclass(frozen=True)
class SignalGroup:
    """Value columns plotted together: one quantity, its left/right (or single) series."""

    key: str  # the column name without its side word
    title: str
    unit: str
    columns: dict[str | None, str]  # side -> column


def _split_side(col: str) -> tuple[str, str | None]:
    parts = col.split("_")
    for side in ("left", "right"):
        if side in parts:
            parts.remove(side)
            return "_".join(parts), side
    return col, None


def _unit(key: str) -> tuple[str, str]:
    for suffix in sorted(UNITS, key=len, reverse=True):
        if key.endswith("_" + suffix):
            return key[: -len(suffix) - 1], UNITS[suffix]
    return key, ""


def signal_groups(table: FrameTable) -> list[SignalGroup]:
    groups: dict[str, dict[str | None, str]] = {}
    for col in table.value_columns:
        if not np.isfinite(table.column(col)).any():
            continue  # never measured: nothing to draw
        key, side = _split_side(col)
        groups.setdefault(key, {})[side] = col
    out = []
    for key, cols in groups.items():
        name, unit = _unit(key)
        out.append(SignalGroup(key, name.replace("_", " ").capitalize(), unit, cols))
    return out


def _words(text: str) -> set[str]:
    return {w for w in re.split(r"[_\W]+", text.lower()) if len(w) > 2 and w not in ("left", "right")}


def _fault_spans(events: Sequence[Event]) -> list[Event]:
    return [e for e in events if e.kind == "fault"]


def _shade(ax, events: Sequence[Event], related_to: str | None, colours: dict[str, str]) -> None:
    """Shade fault spans: faults about this signal strongly, other faults faintly."""
    words = _words(related_to) if related_to else set()
    for e in _fault_spans(events):
        t1 = e.t_end_s if e.t_end_s is not None and e.t_end_s > e.t_s else e.t_s + 0.1
        related = bool(words & _words(e.code))
        col = SETUP_COLOUR if e.code in SETUP_CODES else colours[e.code]
        ax.axvspan(e.t_s, t1, color=col, alpha=0.35 if related else 0.12, lw=0)


def fault_colours(events: Sequence[Event]) -> dict[str, str]:
    codes = sorted({e.code for e in _fault_spans(events) if e.code not in SETUP_CODES})
    out = {c: FAULT_COLOURS[i % len(FAULT_COLOURS)] for i, c in enumerate(codes)}
    out.update({c: SETUP_COLOUR for c in SETUP_CODES})
    return out


def _legend_for_faults(ax, events: Sequence[Event], colours: dict[str, str]) -> None:
    from matplotlib.patches import Patch

    codes = sorted({e.code for e in _fault_spans(events)})
    if codes:
        handles = [Patch(color=colours[c], alpha=0.5, label=c) for c in codes]
        ax.legend(handles=handles + ax.get_legend_handles_labels()[0], fontsize=7, loc="upper right",
                  ncol=min(4, len(codes) + 2), framealpha=0.8)


def signal_plot(table: FrameTable, group: SignalGroup, events: Sequence[Event]) -> bytes:
    t = table.times()
    fig = Figure(figsize=(9.0, 2.4))
    ax = fig.subplots()
    colours = fault_colours(events)
    _shade(ax, events, group.key, colours)
    for side, col in sorted(group.columns.items(), key=lambda kv: str(kv[0])):
        y = table.column(col)
        ax.plot(t, y, lw=1.4, color=SIDE_COLOURS.get(side, "#444"), label=side or group.title)
    ax.set_title(group.title, fontsize=10, loc="left")
    ax.set_ylabel(group.unit, fontsize=8)
    ax.set_xlabel("time (s)", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    if len(t):
        ax.set_xlim(float(np.nanmin(t)), float(np.nanmax(t)) + 1e-6)
    _legend_for_faults(ax, events, colours)
    return to_png(fig)


def signal_plots(table: FrameTable, events: Sequence[Event]) -> list[tuple[str, bytes]]:
    """(title, PNG) for each measured quantity, most-faulted first (they matter most)."""
    groups = signal_groups(table)
    faults = defaultdict(int)
    for e in _fault_spans(events):
        for w in _words(e.code):
            faults[w] += 1
    groups.sort(key=lambda g: -sum(faults[w] for w in _words(g.key)))
    return [(g.title, signal_plot(table, g, events)) for g in groups[:MAX_SIGNAL_PLOTS]]


def count_timing_plot(events: Sequence[Event], duration_s: float | None = None) -> bytes | None:
    """Seconds between successive counted movements (hop timing, roll tempo, reach pace),
    per side, against time: even spacing is steady work; a jump is a pause or a rest."""
    counts = sorted((e for e in events if e.kind == "count"), key=lambda e: e.t_s)
    if len(counts) < 2:
        return None
    fig = Figure(figsize=(9.0, 2.4))
    ax = fig.subplots()
    colours = fault_colours(events)
    _shade(ax, events, None, colours)
    by_side: dict[str | None, list[float]] = defaultdict(list)
    for e in counts:
        by_side[e.side].append(e.t_s)
    all_t = np.array([e.t_s for e in counts])
    gaps = np.diff(all_t)
    ax.plot(all_t[1:], gaps, color="#888", lw=0.8, zorder=1)
    for side, ts in by_side.items():
        idx = np.searchsorted(all_t, ts)
        sel = idx[idx > 0]
        ax.scatter(all_t[sel], gaps[sel - 1], s=14, color=SIDE_COLOURS.get(side, "#444"),
                   label=f"{side} ({len(ts)})" if side else f"counted ({len(ts)})", zorder=2)
    ax.set_title("Time between counted movements", fontsize=10, loc="left")
    ax.set_ylabel("s", fontsize=8)
    ax.set_xlabel("time (s)", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    if duration_s:
        ax.set_xlim(0, duration_s)
    _legend_for_faults(ax, events, colours)
    return to_png(fig)


def trace_plot(traces: Sequence) -> bytes | None:
    """The ABC letters as traced, one small panel each, as the writer sees them: a trace
    filmed from the front is mirrored back (the camera sees the writer's right on its left)."""
    traces = [tr for tr in traces if len(tr.points) >= 2]
    if not traces:
        return None
    n = len(traces)
    cols = min(9, n)
    rows = (n + cols - 1) // cols
    fig = Figure(figsize=(1.1 * cols, 1.25 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax in axes:
        ax.set_axis_off()
    for ax, tr in zip(axes, traces):
        p = tr.points[np.isfinite(tr.points).all(axis=1)].copy()
        if len(p) < 2:
            continue
        if getattr(tr, "facing_camera", False):
            p[:, 0] = -p[:, 0]
        ax.plot(p[:, 0], p[:, 1], color=SIDE_COLOURS.get(tr.side, "#444"), lw=1.5)
        ax.plot(p[-1, 0], p[-1, 1], "o", ms=2.5, color="#222")
        ax.set_aspect("equal", adjustable="datalim")
        ax.invert_yaxis()
        label = tr.label.removeprefix("Letter ")
        ax.set_title(f"{label[:16]}\n{tr.t_s:.1f} s", fontsize=6.5)
    return to_png(fig)


def progress_plot(points: Sequence, metric: str, unit_hint: str = "", title: str | None = None) -> bytes:
    """A metric over sessions, one line per side (`formcheck progress ... --out PNG`)."""
    from datetime import datetime

    fig = Figure(figsize=(8.0, 3.2))
    ax = fig.subplots()
    by_side: dict[str | None, list] = defaultdict(list)
    for p in points:
        by_side[p.side].append(p)
    for side, ps in sorted(by_side.items(), key=lambda kv: str(kv[0])):
        x = [datetime.fromisoformat(p.recorded_at) for p in ps]
        ax.plot(x, [p.value for p in ps], "o-", color=SIDE_COLOURS.get(side, "#444"),
                label=side or "both", lw=1.5, ms=4)
    _, unit = _unit(metric.split(".")[-1])
    ax.set_title(title or metric, fontsize=10, loc="left")
    ax.set_ylabel(unit or unit_hint, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.autofmt_xdate()
    return to_png(fig)
