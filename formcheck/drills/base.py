"""The Analyser interface, the live status it exposes, and the set-up cues every drill
shares (no_person, body_not_visible, wrong_view, low_light)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from formcheck.config import DrillConfig
from formcheck.cues import cue_rank
from formcheck.drills.blocks import FaultDetector
from formcheck.events import Event
from formcheck.pose.frame import PoseFrame
from formcheck.pose.view import (
    FRONT_MIN_WIDTH_RATIO,
    SIDE_MAX_WIDTH_RATIO,
    missing_parts,
    width_ratio,
)


@dataclass(frozen=True)
class Cue:
    code: str
    message: str
    side: str | None = None


@dataclass
class LiveStatus:
    """What the overlay shows for the current frame. Built by the analyser, drawn by sinks."""

    drill: str
    reading: bool = False  # False: no reliable pose, show "no reading" instead of numbers
    side: str | None = None
    set_index: int = 0  # 1-based number of the current set (0 before the first)
    sets_target: int = 0
    count: int | None = None
    count_target: int | None = None
    count_label: str = ""
    hold_s: float | None = None
    hold_target_s: float | None = None
    hold_paused: bool = False
    cues: list[Cue] = field(default_factory=list)  # active, most important first
    fault_landmarks: frozenset[int] = frozenset()  # drawn in the fault colour
    trace: np.ndarray | None = None  # (N, 2) image points, e.g. the ABC foot-tip path
    info: dict[str, str] = field(default_factory=dict)  # small figures: "pelvic drop": "3 deg"


class SetupMonitor:
    """The cues every drill shares, and whether the pose is reliable enough to measure.

    The view is judged on the median width ratio (see pose.view) over the last second, so
    one odd frame never flips it. A drill that needs a side view only complains when the
    person clearly faces the camera, and vice versa: oblique views are tolerated, because
    a false "turn side-on" is worse than a slightly less exact angle.
    """

    def __init__(self, cfg: DrillConfig, views: tuple[str, ...], required_parts: tuple[str, ...]):
        self.cfg, self.views, self.required_parts = cfg, views, required_parts
        on, off = cfg.setup_min_on_s, cfg.min_off_s
        self.no_person = FaultDetector("no_person", on=1, off=0.5, min_on_s=on, min_off_s=off,
                                       max_gap_s=1e9)
        self.not_visible = FaultDetector("body_not_visible", on=1, off=0.5, min_on_s=on,
                                         min_off_s=off, max_gap_s=1e9)
        want = "side-on" if views == ("side",) else "to face"
        self.wrong_view = FaultDetector("wrong_view", on=1, off=0.5, min_on_s=on, min_off_s=off,
                                        max_gap_s=1e9, message_fields={"view": want})
        if views == ("side",):
            self.wrong_view.message = "Turn side-on to the camera"
        elif views == ("front",):
            self.wrong_view.message = "Face the camera"
        self.low_light = FaultDetector("low_light", on=1, off=0.5, min_on_s=1.0, min_off_s=off,
                                       max_gap_s=1e9)
        self._ratios: deque[tuple[float, float]] = deque()
        self.view: str = "unknown"
        self.missing: tuple[str, ...] = ()
        self.reliable = False

    @property
    def detectors(self) -> tuple[FaultDetector, ...]:
        return (self.no_person, self.not_visible, self.wrong_view, self.low_light)

    def _smoothed_view(self, frame: PoseFrame) -> str:
        r = width_ratio(frame) if frame.detected else float("nan")
        if np.isfinite(r):
            self._ratios.append((frame.t_s, r))
        while self._ratios and frame.t_s - self._ratios[0][0] > 1.0:
            self._ratios.popleft()
        if not self._ratios:
            return "unknown"
        v = sorted(r for _, r in self._ratios)  # a sort beats numpy's median on ~30 numbers
        n = len(v)
        m = v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])
        return "front" if m >= FRONT_MIN_WIDTH_RATIO else "side" if m <= SIDE_MAX_WIDTH_RATIO else "oblique"

    def update(self, frame: PoseFrame) -> list[Event]:
        t = frame.t_s
        self.view = self._smoothed_view(frame)
        self.missing = missing_parts(frame, self.required_parts) if frame.detected else ()
        if self.missing:
            part = self.missing[-1]  # the lowest part: usually the feet
            self.not_visible.message = (
                f"Step back so your {part} {'is' if part == 'head' else 'are'} visible")
        wrong = (("side" in self.views and "front" not in self.views and self.view == "front")
                 or ("front" in self.views and "side" not in self.views and self.view == "side"))
        out: list[Event] = []
        out += self.no_person.update(t, 0.0 if frame.detected else 1.0)
        out += self.not_visible.update(t, 1.0 if self.missing else 0.0)
        out += self.wrong_view.update(t, 1.0 if (frame.detected and wrong) else 0.0)
        if frame.luma is not None:
            out += self.low_light.update(t, 1.0 if frame.luma < self.cfg.low_light_luma else 0.0)
        # Measure only on a detected, fully framed person in an acceptable view. The raw
        # (undebounced) state gates measurement, so nothing counts on a bad frame.
        self.reliable = frame.detected and not self.missing and not self.wrong_view.active and not wrong
        return out

    def finish(self, t: float) -> list[Event]:
        return [e for d in self.detectors for e in d.finish(t)]


class Analyser(ABC):
    """One drill's analyser: pure and deterministic.

    Feed it every frame in time order with `update(frame)`; it returns the events that
    completed on that frame. `finish()` closes what is open at the end of the session;
    `summary()` gives the drill's figures (the report's `summary`); `status()` what the
    overlay shows now. Frames whose timestamp does not increase are ignored.
    """

    drill_id: ClassVar[str]
    views: ClassVar[tuple[str, ...]] = ("front",)
    required_parts: ClassVar[tuple[str, ...]] = ("shoulders", "hips", "knees", "feet")
    variants: ClassVar[tuple[str, ...]] = ()
    config_cls: ClassVar[type[DrillConfig]] = DrillConfig

    def __init__(self, config: DrillConfig | None = None, side: str | None = None,
                 variant: str | None = None):
        self.cfg = config if config is not None else self.config_cls()
        self.side_hint = side
        self.variant_hint = variant
        self.setup = SetupMonitor(self.cfg, self.views, self.required_parts)
        self.events: list[Event] = []
        self.last_t: float | None = None
        self.frames_seen = 0
        self.frames_reliable = 0

    def update(self, frame: PoseFrame) -> list[Event]:
        if self.last_t is not None and not frame.t_s > self.last_t:
            return []
        if not np.isfinite(frame.t_s):
            return []
        self.last_t = frame.t_s
        self.frames_seen += 1
        out = self.setup.update(frame)
        if self.setup.reliable:
            self.frames_reliable += 1
        out += self._update(frame, self.setup.reliable)
        self.events += out
        return out

    def finish(self) -> list[Event]:
        t = self.last_t if self.last_t is not None else 0.0
        out = self.setup.finish(t) + self._finish(t)
        self.events += out
        return out

    def active_cues(self) -> list[Cue]:
        dets = [d for d in self.setup.detectors + tuple(self._fault_detectors()) if d.active]
        dets.sort(key=lambda d: cue_rank(d.code))
        return [Cue(d.code, d.text(), d.side) for d in dets]

    @abstractmethod
    def _update(self, frame: PoseFrame, reliable: bool) -> list[Event]:
        """Drill logic for one frame. `reliable` is False when nothing may be measured."""

    @abstractmethod
    def _finish(self, t: float) -> list[Event]:
        """Close open holds, sets and faults at time t."""

    @abstractmethod
    def _fault_detectors(self) -> list[FaultDetector]:
        """The drill's own fault detectors (for active cues)."""

    @abstractmethod
    def summary(self) -> dict[str, Any]:
        """The report's `summary`: {"sets": [...], ...drill figures in snake_case with units}."""

    @abstractmethod
    def status(self) -> LiveStatus:
        """What the overlay shows now."""

    def count_traces(self) -> list[tuple[Event, np.ndarray]]:
        """The path each count event drew on screen, for the report ((N, 2) image points per
        count still in `events`). Only drills that trace something (ankle ABCs) have any."""
        return []

    def values(self) -> dict[str, float]:
        """The drill's measurements on the latest frame (NaN when not measurable), named in
        snake_case with units (pelvic_drop_deg, heel_lift_cm...). One CSV row per frame, the
        report's plots, and the accuracy benchmark (compared with synth truth of the same
        name) read these."""
        return {}
