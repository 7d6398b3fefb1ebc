"""Heel contact, shared by the held ankle stretches (soleus stretch, deep squat).

A heel lift is read as the heel rising above its *own* flat-foot height relative to the
tip of the same foot, which stays on the floor while the heel comes up (the foot pivots
about the ball of the foot). Measuring against the foot tip, not the image, makes the
reading immune to the body moving above the foot (sinking deeper, rocking, leaning) and
to where the camera stands: a tilted or raised camera only changes the flat-foot offset
between heel and toe, and that offset is captured as the baseline at the start of each
hold. The ankle rises with the heel (about two thirds as much: it sits between the heel
and the pivot), so it is a second, independent witness of the same lift; the two are
combined so that one landmark jumping alone does not read as a lift.

Everything is normalised by the foot's length. Side-on the heel-to-toe image distance is
the foot's length; facing the camera the foot is foreshortened, so the length is taken
from the leg instead (an adult's heel-to-toe distance is about 0.30 of hip-knee-ankle
length), whichever is larger.
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from formcheck.events import Event
from formcheck.pose.frame import PoseFrame
from formcheck.pose.geometry import body_scale_px
from formcheck.pose.landmarks import LM, Side, side_lm

# Heel-to-toe-tip distance over hip-knee-ankle length for adults (foot ~0.15 of stature,
# leg ~0.49): gives the foot's length when the foot itself is foreshortened.
FOOT_PER_LEG = 0.30
# The ankle rises this share of the heel's rise as the foot pivots about the ball of the
# foot (ankle ~0.5 foot lengths behind the pivot, heel ~0.73).
ANKLE_RISE_PER_HEEL = 0.68
# Used to express a lift in cm when the pose gives no usable world foot length.
NOMINAL_FOOT_CM = 25.0
# Hip-knee-ankle length over the shoulder landmarks' width (adults: leg ~0.49 of stature,
# BlazePose shoulder points ~0.21-0.23). Seen from the front the shoulders keep their
# width in a squat while the thighs vanish into the line of sight.
LEG_PER_SHOULDER = 2.2


def leg_scale_px(frame: PoseFrame) -> float:
    """The leg's length in pixels as far as this frame shows it: the longer leg's image
    length, or the shoulder-based estimate when that is longer (legs foreshortened)."""
    im = frame.image
    leg = body_scale_px(im)
    sh = float(np.linalg.norm(im[LM.LEFT_SHOULDER, :2] - im[LM.RIGHT_SHOULDER, :2]))
    vals = [v for v in (leg, LEG_PER_SHOULDER * sh) if np.isfinite(v) and v > 0]
    return max(vals) if vals else float("nan")


class TrailingWindow:
    """The last `window_s` seconds of a vector-valued signal, for robust statistics
    (medians, spans) that a live stream can afford: no look-ahead."""

    def __init__(self, window_s: float):
        self.window_s = window_s
        self._buf: deque[tuple[float, np.ndarray]] = deque()

    def push(self, t: float, value: np.ndarray | float) -> None:
        self._buf.append((t, np.atleast_1d(np.asarray(value, dtype=np.float64))))
        while self._buf and t - self._buf[0][0] > self.window_s:
            self._buf.popleft()

    def clear(self) -> None:
        self._buf.clear()

    def _stack(self) -> np.ndarray | None:
        if not self._buf:
            return None
        return np.stack([v for _, v in self._buf])

    def median(self) -> np.ndarray:
        a = self._stack()
        if a is None:
            return np.array([np.nan])
        finite = np.isfinite(a)
        if finite.all():
            return np.median(a, axis=0)
        out = np.full(a.shape[1], np.nan)
        for j in range(a.shape[1]):
            col = a[finite[:, j], j]
            if col.size:
                out[j] = float(np.median(col))
        return out

    def span(self) -> np.ndarray:
        """max - min per component over the window (NaN when nothing finite)."""
        a = self._stack()
        if a is None:
            return np.array([np.nan])
        if np.isfinite(a).all():
            return a.max(axis=0) - a.min(axis=0)
        out = np.full(a.shape[1], np.nan)
        for j in range(a.shape[1]):
            col = a[np.isfinite(a[:, j]), j]
            if col.size:
                out[j] = float(col.max() - col.min())
        return out

    def slope(self) -> float:
        """Least-squares rate of change per second of the first component (NaN with fewer
        than three finite samples)."""
        pts = [(t, v[0]) for t, v in self._buf if np.isfinite(v[0])]
        if len(pts) < 3:
            return float("nan")
        a = np.array(pts)
        tt = a[:, 0] - a[:, 0].mean()
        den = float(np.dot(tt, tt))
        return float(np.dot(tt, a[:, 1] - a[:, 1].mean()) / den) if den > 0 else float("nan")

    def duration(self) -> float:
        return self._buf[-1][0] - self._buf[0][0] if len(self._buf) > 1 else 0.0

    def __len__(self) -> int:
        return len(self._buf)


def foot_length_px(frame: PoseFrame, side: Side, leg_px: float) -> float:
    """The foot's length in pixels: heel-to-toe distance, or the leg-based estimate when
    the foot is foreshortened (facing the camera)."""
    heel, toe = frame.xy(side_lm(side, "HEEL")), frame.xy(side_lm(side, "FOOT_INDEX"))
    d = float(np.linalg.norm(heel - toe))
    est = FOOT_PER_LEG * leg_px if np.isfinite(leg_px) else float("nan")
    vals = [v for v in (d, est) if np.isfinite(v) and v > 0]
    return max(vals) if vals else float("nan")


def world_foot_cm(frame: PoseFrame, side: Side) -> float:
    """Heel-to-toe length in cm from the world landmarks (metres), NaN when implausible."""
    w = frame.world
    d = float(np.linalg.norm(w[side_lm(side, "HEEL")] - w[side_lm(side, "FOOT_INDEX")])) * 100.0
    return d if np.isfinite(d) and 15.0 <= d <= 35.0 else float("nan")


def foot_points_y(frame: PoseFrame, side: Side, min_visibility: float) -> np.ndarray:
    """Image y (pixels, down) of one foot's heel, ankle and tip; NaN where not seen."""
    seen = frame.seen(min_visibility)
    idx = [int(side_lm(side, p)) for p in ("HEEL", "ANKLE", "FOOT_INDEX")]
    y = frame.image[idx, 1].astype(float)
    y[~seen[idx]] = np.nan
    return y


@dataclass
class HeelLiftMeter:
    """One heel's lift above its own flat-foot baseline, as a share of foot length.

    The pose model places the heel and ankle a little differently depending on how the
    shank is tilted (a deep squat and standing give flat-foot heel heights that differ
    by several per cent of foot length, in either direction, from person to person), so
    a baseline is only valid for the posture it was taken in. Each update therefore
    carries a `posture` number (the drill's own: hip height in a squat, shank tilt in the
    soleus stretch), and:

    - `start(t)` begins a hold; once the posture has been steady for `settle_s`, the
      median heel and ankle heights over the next `baseline_s` become the flat-foot
      baseline, taken at that posture;
    - the lift is read while the posture stays within `posture_band` of the baseline's
      and is steady (passing through it on the way up or down gives no reading);
    - when the posture leaves the band the reading is unavailable (NaN), and if it then
      settles elsewhere for `rebase_s` a new baseline is taken there.

    A real lift barely changes the drill's posture (the knee stays where it is while the
    heel comes up), so it is read against the baseline of the same posture.
    """

    smooth_s: float = 0.3
    toe_s: float = 1.0
    baseline_s: float = 0.5
    settle_s: float = 0.5
    rebase_s: float = 1.0
    posture_band: float = float("inf")
    min_visibility: float = 0.5

    lift: float = field(default=float("nan"), init=False)
    foot_cm: float = field(default=NOMINAL_FOOT_CM, init=False)
    _win: TrailingWindow = field(init=False)
    _toe: TrailingWindow = field(init=False)
    _posture: TrailingWindow = field(init=False)
    _capture: list[np.ndarray] = field(default_factory=list, init=False)
    _capture_len: list[float] = field(default_factory=list, init=False)
    _cm_samples: list[float] = field(default_factory=list, init=False)
    _capture_t: float | None = field(default=None, init=False)
    _start_t: float | None = field(default=None, init=False)
    _out_since: float | None = field(default=None, init=False)
    _foot_px: float = field(default=float("nan"), init=False)
    _base: np.ndarray | None = field(default=None, init=False)
    _base_posture: float = field(default=float("nan"), init=False)

    def __post_init__(self) -> None:
        self._win = TrailingWindow(self.smooth_s)
        # The foot tip stays planted through a heel lift, so its height is averaged over a
        # longer window than the heel's: half the reference's jitter for no lag.
        self._toe = TrailingWindow(self.toe_s)
        self._posture = TrailingWindow(max(self.settle_s, self.rebase_s))

    @property
    def active(self) -> bool:
        return self._start_t is not None

    @property
    def ready(self) -> bool:
        return self._base is not None

    @property
    def lift_cm(self) -> float:
        return self.lift * self.foot_cm if math.isfinite(self.lift) else float("nan")

    def start(self, t: float) -> None:
        self._start_t, self._foot_px = t, float("nan")
        self._base, self._base_posture = None, float("nan")
        self._begin_capture(None)
        self._win.clear()
        self._toe.clear()
        self._posture.clear()
        self.lift, self.foot_cm = float("nan"), NOMINAL_FOOT_CM

    def stop(self) -> None:
        self._start_t, self._base = None, None
        self._win.clear()
        self._toe.clear()
        self._posture.clear()
        self.lift = float("nan")

    def _begin_capture(self, t: float | None) -> None:
        self._capture, self._capture_len, self._cm_samples = [], [], []
        self._capture_t, self._out_since = t, None

    def _settled(self, t: float, over_s: float) -> bool:
        """The posture has varied by less than half the band over the last `over_s`."""
        if not math.isfinite(self.posture_band):
            return True
        vals = [v for tt, v in self._posture._buf if t - tt <= over_s + 1e-9 and np.isfinite(v[0])]
        if not vals or self._posture.duration() < over_s - 1e-9:
            return False
        a = np.array(vals)
        return float(a.max() - a.min()) <= self.posture_band / 2

    def update(self, t: float, frame: PoseFrame | None, side: Side, leg_px: float,
               posture: float = 0.0) -> float:
        """Feed one frame (None: no reading). `leg_px` is the body's reference leg length;
        `posture` the drill's posture figure (see the class doc)."""
        self.lift = float("nan")
        if self._start_t is None:
            return self.lift
        if frame is None or not frame.detected or not math.isfinite(posture):
            return self.lift
        self._posture.push(t, posture)
        y = foot_points_y(frame, side, self.min_visibility)
        self._win.push(t, y[:2])
        self._toe.push(t, y[2])
        fl = foot_length_px(frame, side, leg_px)
        foot_px = self._foot_px if np.isfinite(self._foot_px) else fl
        if not np.isfinite(foot_px) or foot_px <= 0:
            return self.lift
        sm = (float(self._toe.median()[0]) - self._win.median()) / foot_px

        if self._base is not None and abs(posture - self._base_posture) <= self.posture_band:
            self._out_since = None
            # Passing through the baseline's posture on the way elsewhere (standing up,
            # sinking) is not holding it: only a steady posture gives a reading.
            if self._settled(t, self.settle_s):
                rise = sm - self._base
                self.lift = combine_rises(float(rise[0]), float(rise[1]))
            return self.lift
        if self._base is not None:
            # Out of the baseline's posture: no reading; re-baseline once settled elsewhere.
            if self._out_since is None:
                self._out_since = t
            if t - self._out_since < self.rebase_s or not self._settled(t, self.rebase_s):
                return self.lift
            self._base = None
            self._begin_capture(None)
        # Capturing a baseline: wait for a steady posture, then collect baseline_s of it.
        if self._capture_t is None:
            if not self._settled(t, self.settle_s):
                return self.lift
            self._capture_t = t
        if np.isfinite(fl):
            self._capture_len.append(fl)
        cm = world_foot_cm(frame, side)
        if np.isfinite(cm):
            self._cm_samples.append(cm)
        if np.isfinite(sm).all():
            self._capture.append(np.append(sm, posture))
        if t - self._capture_t >= self.baseline_s and self._capture:
            cap = np.median(np.stack(self._capture), axis=0)
            self._base, self._base_posture = cap[:2], float(cap[2])
            if self._capture_len:
                self._foot_px = float(np.median(self._capture_len))
            if self._cm_samples:
                self.foot_cm = float(np.median(self._cm_samples))
            self._capture_t = None
        return self.lift


def heel_value_in_cm(ev: Event, foot_cm: float) -> Event:
    """heel_lift events carry their peak as a share of foot length internally; the report
    gives it in cm, the unit a runner reads."""
    if ev.code != "heel_lift" or ev.kind != "fault" or ev.value is None:
        return ev
    return dataclasses.replace(ev, value=round(ev.value * foot_cm, 2))


def combine_rises(heel_rise: float, ankle_rise: float) -> float:
    """One lift estimate (share of foot length) from the heel's and the ankle's rise.

    The ankle's rise is scaled up to the heel's equivalent and the two are averaged: the
    average halves a landmark that jumps on its own (an occluded heel) and halves the
    independent jitter of the two. When only one is seen, it is used alone.
    """
    a = ankle_rise / ANKLE_RISE_PER_HEEL if math.isfinite(ankle_rise) else float("nan")
    h = heel_rise
    if math.isfinite(h) and math.isfinite(a):
        return 0.5 * (h + a)
    if math.isfinite(h):
        return h
    return a


@dataclass
class ReferenceLeg:
    """The body's leg length in pixels as seen standing, for normalising distances while
    the legs are bent or foreshortened (a front-view squat shortens the thighs to a
    fraction of their length in the image).

    It is the largest 1-s median of the longer leg's image length, decaying slowly
    (`decay_s`) so that a person who steps back is re-measured. `freeze()` holds it
    during a hold, when the legs stay bent and a decay would wrongly shrink it.
    """

    decay_s: float = 20.0
    window_s: float = 1.0

    value: float = field(default=float("nan"), init=False)
    frozen: bool = field(default=False, init=False)
    _win: TrailingWindow = field(init=False)
    _last_t: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self._win = TrailingWindow(self.window_s)

    def update(self, t: float, leg_px: float) -> float:
        self._win.push(t, leg_px)
        cur = float(self._win.median()[0])
        dt = 0.0 if self._last_t is None else max(0.0, t - self._last_t)
        self._last_t = t
        if self.frozen:
            return self.value
        if np.isfinite(self.value):
            self.value *= math.exp(-dt / self.decay_s)
        if np.isfinite(cur) and (not np.isfinite(self.value) or cur > self.value):
            self.value = cur
        return self.value
