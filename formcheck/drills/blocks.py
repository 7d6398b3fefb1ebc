"""The building blocks every drill analyser composes: a debounced fault detector, a
form-gated hold timer, a refractory counter and a per-side set tracker.

All are pure: they are fed timestamps and values and return Events; no clocks, no I/O.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

from formcheck.cues import cue_message
from formcheck.events import Event

# Timing comparisons allow this much float error, so 12 frames at 30 fps count as 0.4 s.
_EPS_S = 1e-6


def _finite(v: float | None) -> bool:
    return v is not None and math.isfinite(v)


@dataclass
class FaultDetector:
    """Turns a per-frame fault measure into a debounced cue with hysteresis.

    The fault is *raw-on* while value >= on (or <= on when below=True). It becomes an
    active cue only after being raw-on for `min_on_s`, and clears only after the value
    has been back past `off` (the hysteresis level) for `min_off_s`. So a value wobbling
    around the threshold neither triggers nor flickers. The reported onset is the start
    of the raw-on run, and the peak is the worst value seen while active.

    A pending fault (raw-on, not yet seen for `min_on_s`) survives a dropout shorter than
    `min_off_s`, the same grace an active cue gets before it clears: a fault that truly
    lasts, read through a noisy measure that dips under the level now and then, becomes a
    cue with its onset where it began, instead of starting over at every dip and showing
    late or never. The dropouts do not count toward `min_on_s` (the fault must still be
    seen that long in all, and for more of the run than it was not: a value sitting right
    at the level, read on as often as off, is not called), and one of `min_off_s` or more
    ends the run, so isolated short blips further apart than that never add up to a cue.

    A missing reading (NaN/None) neither raises nor clears the cue; a gap longer than
    `max_gap_s` ends an active cue at the last time it was seen (the pose was lost).
    """

    code: str
    on: float
    off: float
    min_on_s: float = 0.3
    min_off_s: float = 0.3
    below: bool = False
    side: str | None = None
    max_gap_s: float = 1.0
    message: str | None = None
    message_fields: dict[str, str] = field(default_factory=dict)

    active: bool = field(default=False, init=False)
    onset_t: float | None = field(default=None, init=False)
    peak: float = field(default=float("nan"), init=False)
    _raw_since: float | None = field(default=None, init=False)
    _clear_since: float | None = field(default=None, init=False)
    _drop_since: float | None = field(default=None, init=False)
    _dropped_s: float = field(default=0.0, init=False)
    _last_seen_t: float | None = field(default=None, init=False)
    _run_peak: float = field(default=float("nan"), init=False)
    events: list[Event] = field(default_factory=list, init=False)

    def _worse(self, a: float, b: float) -> float:
        if not math.isfinite(a):
            return b
        return min(a, b) if self.below else max(a, b)

    def _is_on(self, v: float) -> bool:
        return v <= self.on if self.below else v >= self.on

    def _is_off(self, v: float) -> bool:
        return v > self.off if self.below else v < self.off

    def text(self) -> str:
        return self.message or cue_message(self.code, self.side, **self.message_fields)

    def update(self, t: float, value: float | None) -> list[Event]:
        out: list[Event] = []
        # A reading gap longer than max_gap_s (lost pose, or timestamps that jump ahead)
        # ends an active cue where it was last seen, and breaks a raw-on run: the fault
        # must be seen for min_on_s again on fresh readings before it shows.
        if self._last_seen_t is not None and t - self._last_seen_t > self.max_gap_s:
            if self.active:
                out.append(self._close(self._last_seen_t))
            self._raw_since = self._drop_since = None
        if not _finite(value):
            return out
        v = float(value)  # type: ignore[arg-type]
        self._last_seen_t = t
        if not self.active:
            self._update_pending(t, v)
        else:
            self.peak = self._worse(self.peak, v)
            if self._is_off(v):
                if self._clear_since is None:
                    self._clear_since = t
                if t - self._clear_since >= self.min_off_s - _EPS_S:
                    out.append(self._close(self._clear_since))
            else:
                self._clear_since = None
        return out

    def _update_pending(self, t: float, v: float) -> None:
        """Advance a not-yet-active fault run by one reading (see the class docstring)."""
        if not self._is_on(v):
            if self._raw_since is not None and self._drop_since is None:
                self._drop_since = t
            if self._drop_since is not None and t - self._drop_since >= self.min_off_s - _EPS_S:
                self._raw_since = self._drop_since = None
            return
        if self._drop_since is not None:  # back on after a short dropout: the run goes on
            self._dropped_s += t - self._drop_since
            self._drop_since = None
        if self._raw_since is None:
            self._raw_since, self._run_peak, self._dropped_s = t, v, 0.0
        self._run_peak = self._worse(self._run_peak, v)
        seen_s = t - self._raw_since - self._dropped_s
        if seen_s >= self.min_on_s - _EPS_S and (self._dropped_s == 0.0 or seen_s > self._dropped_s + _EPS_S):
            self.active, self.onset_t, self.peak = True, self._raw_since, self._run_peak
            self._clear_since = None

    def reset(self) -> None:
        """Forget a pending (not yet active) fault run, e.g. when the measured side changes."""
        if not self.active:
            self._raw_since = self._drop_since = None
            self._run_peak = float("nan")

    def _close(self, t_end: float) -> Event:
        ev = Event(t_s=float(self.onset_t if self.onset_t is not None else t_end), code=self.code,
                   kind="fault", message=self.text(), side=self.side,
                   t_end_s=float(max(t_end, self.onset_t or t_end)),
                   value=self.peak if math.isfinite(self.peak) else None)
        self.active, self.onset_t, self.peak = False, None, float("nan")
        self._raw_since = self._clear_since = self._drop_since = None
        self.events.append(ev)
        return ev

    def finish(self, t: float) -> list[Event]:
        """Close an active cue at the end of the session."""
        return [self._close(t)] if self.active else []


@dataclass
class HoldTimer:
    """Times a held position, counting only good-form time.

    A hold starts when the person gets into position and ends once they have been out of
    it for `leave_grace_s`. Good-form time accumulates only while in position, with good
    form, and with a reading; a frame gap longer than `max_step_s` adds nothing (a lost
    pose never counts as holding). A lost reading pauses the hold rather than ending it,
    for up to `lost_grace_s` (someone who briefly turns out of view is still holding);
    after that the hold ends where it was last seen in position. Holds shorter than
    `min_hold_s` (passing through the position) are dropped. `paused` says the hold is on
    but the clock is stopped.
    """

    code: str = "hold"
    target_s: float = 30.0
    leave_grace_s: float = 1.0
    min_hold_s: float = 3.0
    max_step_s: float = 0.25
    side: str | None = None
    lost_grace_s: float = 3.0

    in_hold: bool = field(default=False, init=False)
    paused: bool = field(default=False, init=False)
    start_t: float = field(default=0.0, init=False)
    good_s: float = field(default=0.0, init=False)
    _last_t: float | None = field(default=None, init=False)
    _last_in_t: float | None = field(default=None, init=False)
    events: list[Event] = field(default_factory=list, init=False)

    def update(self, t: float, in_position: bool, good_form: bool, reading: bool = True) -> list[Event]:
        out: list[Event] = []
        dt = 0.0 if self._last_t is None else t - self._last_t
        self._last_t = t
        if reading and in_position:
            if not self.in_hold:
                self.in_hold, self.start_t, self.good_s = True, t, 0.0
                dt = 0.0
            self._last_in_t = t
            if good_form and 0.0 < dt <= self.max_step_s + _EPS_S:
                self.good_s += dt
            self.paused = not good_form
        elif self.in_hold:
            self.paused = True
            grace = self.leave_grace_s if reading else max(self.lost_grace_s, self.leave_grace_s)
            if self._last_in_t is not None and t - self._last_in_t >= grace - _EPS_S:
                out += self._end(self._last_in_t)
        return out

    def _end(self, t_end: float) -> list[Event]:
        self.in_hold, self.paused = False, False
        if t_end - self.start_t < self.min_hold_s - _EPS_S:
            return []
        ev = Event(t_s=self.start_t, code=self.code, kind="hold",
                   message=f"Held {self.good_s:.1f} s of {self.target_s:.0f} s with good form",
                   side=self.side, t_end_s=t_end, value=round(self.good_s, 3))
        self.events.append(ev)
        return [ev]

    def finish(self, t: float) -> list[Event]:
        return self._end(self._last_in_t if self._last_in_t is not None else t) if self.in_hold else []

    @property
    def progress(self) -> float:
        return min(1.0, self.good_s / self.target_s) if self.target_s > 0 else 0.0


@dataclass
class Counter:
    """Counts discrete movements, refusing a second one within `refractory_s` of the last
    (one physical hop or stroke must never count twice)."""

    refractory_s: float = 0.25
    count: int = field(default=0, init=False)
    last_t: float | None = field(default=None, init=False)

    def try_count(self, t: float) -> bool:
        if self.last_t is not None and t - self.last_t < self.refractory_s - _EPS_S:
            return False
        self.count += 1
        self.last_t = t
        return True

    def reset(self) -> None:
        self.count, self.last_t = 0, None


@dataclass
class SetRecord:
    side: str | None
    t_s: float
    t_end_s: float | None = None
    reps: int = 0
    hold_s: float = 0.0
    figures: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"side": self.side, "t_s": round(self.t_s, 3),
                             "t_end_s": None if self.t_end_s is None else round(self.t_end_s, 3),
                             "reps": self.reps, "hold_s": round(self.hold_s, 2)}
        d.update(self.figures)
        return d


@dataclass
class SetTracker:
    """Sets per side against a prescription (e.g. 3 sets per leg).

    A set opens with `start(side, t)` and closes with `end(t)`; `sets_done(side)` and
    `remaining(side)` drive the overlay's "set 2 of 3 - left leg".
    """

    sets_per_side: int
    sides: tuple[str | None, ...] = ("left", "right")
    sets: list[SetRecord] = field(default_factory=list, init=False)
    current: SetRecord | None = field(default=None, init=False)

    def start(self, side: str | None, t: float) -> SetRecord:
        if self.current is not None:
            self.end(t)
        self.current = SetRecord(side=side, t_s=t)
        return self.current

    def end(self, t: float) -> SetRecord | None:
        rec = self.current
        if rec is not None:
            rec.t_end_s = t
            self.sets.append(rec)
            self.current = None
        return rec

    def sets_done(self, side: str | None) -> int:
        return sum(1 for s in self.sets if s.side == side)

    def remaining(self, side: str | None) -> int:
        return max(0, self.sets_per_side - self.sets_done(side))

    def rests_s(self) -> list[float]:
        """Rest before each set after the first: the gap since the previous set ended."""
        sets = self.all_sets()
        return [round(b.t_s - a.t_end_s, 3) for a, b in itertools.pairwise(sets) if a.t_end_s is not None]

    def all_sets(self) -> list[SetRecord]:
        return self.sets + ([self.current] if self.current is not None else [])

    def to_list(self) -> list[dict[str, Any]]:
        return [s.to_dict() for s in self.all_sets()]
