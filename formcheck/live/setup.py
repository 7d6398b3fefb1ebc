"""The set-up check before a live set: guide the person into position for this drill,
then count down.

Nothing is counted until the camera sees the person the way the drill needs: someone
there at all, enough light, every body part the drill measures inside the picture ("Step
back so your feet are visible"), the right view ("Turn side-on to the camera"), and not
a speck in the distance. Once everything has been right for `settle_s`, a countdown runs;
moving out of position during it goes back to guidance.

Pure and time-fed like the analysers (t is the source's clock), so clips test it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from formcheck.config import DrillConfig
from formcheck.cues import cue_message
from formcheck.pose.frame import PoseFrame
from formcheck.pose.view import (
    FRONT_MIN_WIDTH_RATIO,
    SIDE_MAX_WIDTH_RATIO,
    facing,
    missing_parts,
    width_ratio,
)

Phase = Literal["setup", "countdown", "go"]


@dataclass(frozen=True)
class SetupConfig:
    settle_s: float = 1.0
    """Everything must be right this long before the countdown: someone still walking
    into place passes through 'right' for a moment."""
    countdown_s: float = 3.0
    """Seconds counted down on screen before the set starts: time to get into the drill's
    start position after stepping into view."""
    message_min_s: float = 0.5
    """A new guidance message must persist this long before it replaces the shown one,
    so the words never flicker while someone moves."""
    lost_s: float = 0.5
    """During the countdown, a problem must last this long to send the person back to
    guidance (one bad frame must not restart the count)."""
    view_window_s: float = 1.0
    """The view and facing are judged on the median of this much recent time, as the
    analysers do (pose.view), so one odd frame never flips them."""
    min_extent: float = 0.3
    """Below this share of the picture's height the visible body is too small for the
    model's landmarks (a foot is then a few pixels): ask the person to come closer."""


@dataclass(frozen=True)
class SetupState:
    phase: Phase
    code: str | None = None  # the problem shown: no_person, low_light, body_not_visible, wrong_view, too_far
    message: str | None = None
    countdown: int | None = None  # 3, 2, 1 while counting down
    view: str = "unknown"


def _extent_share(frame: PoseFrame, min_visibility: float) -> float:
    """Height of the seen landmarks as a share of the image height."""
    seen = frame.seen(min_visibility)
    if seen.sum() < 2 or frame.height <= 0:
        return float("nan")
    ys = frame.image[seen, 1]
    return float((ys.max() - ys.min()) / frame.height)


@dataclass
class SetupCheck:
    views: tuple[str, ...]
    required_parts: tuple[str, ...]
    drill_cfg: DrillConfig = field(default_factory=DrillConfig)
    cfg: SetupConfig = field(default_factory=SetupConfig)

    phase: Phase = field(default="setup", init=False)
    view: str = field(default="unknown", init=False)
    _ratios: deque = field(default_factory=deque, init=False)
    _shown: tuple[str, str] | None = field(default=None, init=False)
    _candidate: tuple[str, str] | None = field(default=None, init=False)
    _candidate_since: float = field(default=0.0, init=False)
    _ok_since: float | None = field(default=None, init=False)
    _bad_since: float | None = field(default=None, init=False)
    _countdown_start: float = field(default=0.0, init=False)

    def restart(self) -> None:
        """Back to guidance (a new set, or after a pause)."""
        self.phase = "setup"
        self._ok_since = self._bad_since = None
        self._shown = self._candidate = None

    # -- what is wrong on this frame --------------------------------------------------------

    def _smoothed(self, frame: PoseFrame) -> tuple[str, str]:
        """(view, facing) over the last view_window_s."""
        t = frame.t_s
        r = width_ratio(frame) if frame.detected else float("nan")
        if np.isfinite(r):
            view_now = "front" if r >= FRONT_MIN_WIDTH_RATIO else "side" if r <= SIDE_MAX_WIDTH_RATIO else "oblique"
            face = facing(frame, view_now)
            self._ratios.append((t, r, 1.0 if face == "camera" else -1.0 if face == "away" else 0.0))
        while self._ratios and t - self._ratios[0][0] > self.cfg.view_window_s:
            self._ratios.popleft()
        if not self._ratios:
            return "unknown", "unknown"
        m = float(np.median([r for _, r, _ in self._ratios]))
        view = "front" if m >= FRONT_MIN_WIDTH_RATIO else "side" if m <= SIDE_MAX_WIDTH_RATIO else "oblique"
        signs = [s for _, _, s in self._ratios if s != 0.0]
        away = view == "front" and len(signs) > 0 and sum(signs) < -0.5 * len(signs)
        return view, "away" if away else "camera"

    def problem(self, frame: PoseFrame) -> tuple[str, str] | None:
        """(code, message) of the most important set-up problem on this frame, or None."""
        self.view, face = self._smoothed(frame)
        if not frame.detected:
            return "no_person", cue_message("no_person")
        if frame.luma is not None and frame.luma < self.drill_cfg.low_light_luma:
            return "low_light", cue_message("low_light")
        missing = missing_parts(frame, self.required_parts)
        if missing:
            # The lowest missing part is the one to name: feet cut off is the usual case.
            part = missing[-1]
            verb = "is" if part == "head" else "are"
            return "body_not_visible", f"Step back so your {part} {verb} visible"
        only_side = "side" in self.views and "front" not in self.views
        only_front = "front" in self.views and "side" not in self.views
        if only_side and self.view == "front":
            return "wrong_view", "Turn side-on to the camera"
        if only_front and self.view == "side":
            return "wrong_view", "Face the camera"
        if only_front and face == "away":
            return "wrong_view", "Turn around to face the camera"
        extent = _extent_share(frame, self.drill_cfg.min_visibility)
        if np.isfinite(extent) and extent < self.cfg.min_extent:
            return "too_far", "Come a little closer to the camera"
        return None

    # -- the state machine -------------------------------------------------------------------

    def update(self, frame: PoseFrame) -> SetupState:
        t = frame.t_s
        prob = self.problem(frame)
        if self.phase == "go":
            return SetupState("go", view=self.view)

        if prob is None:
            self._bad_since = None
            self._candidate = None
            if self.phase == "setup":
                if self._ok_since is None:
                    self._ok_since = t
                if t - self._ok_since >= self.cfg.message_min_s:
                    self._shown = None
                if t - self._ok_since >= self.cfg.settle_s:
                    self.phase, self._countdown_start = "countdown", t
        else:
            self._ok_since = None
            if self.phase == "countdown":
                if self._bad_since is None:
                    self._bad_since = t
                if t - self._bad_since >= self.cfg.lost_s:
                    self.phase = "setup"
                    self._shown, self._candidate = prob, None
            else:
                self._debounce(prob, t)

        if self.phase == "countdown":
            left = self.cfg.countdown_s - (t - self._countdown_start)
            if left <= 0:
                self.phase = "go"
                return SetupState("go", view=self.view)
            return SetupState("countdown", countdown=int(np.ceil(left)), view=self.view)
        code, msg = self._shown if self._shown else (None, None)
        return SetupState("setup", code=code, message=msg, view=self.view)

    def _debounce(self, prob: tuple[str, str], t: float) -> None:
        if self._shown is None:
            self._shown = prob  # nothing shown yet: say it at once
            return
        if prob == self._shown:
            self._candidate = None
            return
        if self._candidate != prob:
            self._candidate, self._candidate_since = prob, t
        elif t - self._candidate_since >= self.cfg.message_min_s:
            self._shown, self._candidate = prob, None
