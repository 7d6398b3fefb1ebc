"""Heel contact, shared by the held ankle stretches (soleus stretch, deep squat).

A heel lift is read as the heel rising above its *own* flat-foot height, learnt during the
same hold, as a share of the foot's length. The height is the heel's image height against
the floor: the camera stands still through a hold (the drills ask for a propped phone or
a laptop), so the floor does not move in the image, and the heel's rise above where it
sat flat is the lift. Side-on the ankle is a second witness: it rises with the heel by
about two thirds as much (it sits between the heel and the ball of the foot, the pivot),
and the two are averaged so that one landmark jumping alone does not read as a lift.
Facing the camera the ankle is left out: from the front the pose model moves it with the
knee by more than a lift.

Why not against the tip of the same foot, the pivot, which would cancel a nudged camera?
On rendered footage with known truth the pose model lifted its foot tip with the heel:
from the front by nearly as much (heel-minus-tip lost a 3 cm lift entirely), and side-on
from a low camera by most of a 2 cm lift for its first second. The heel and ankle
themselves rose by about the right amount.

The flat-foot height is not one number. The pose model shifts foot landmarks with the
body's posture: between standing and a deep squat by 5-25 % of foot length on real
clips, and from the front, when a squatting person rocks sideways (which the drill
encourages), it raises the heel of the foot the weight moves off by up to ~8 % of foot
length with the heel flat (on held-out bodies and cameras up to ~11 %). So the baseline
is a small robust model fitted to the hold's own history: per foot a flat-foot height and
(facing the camera) how much that heel reads higher as the hips move away from it or over
it. It is fitted only to samples at least `lag_s` old, so a lift in progress is compared
with the past, never with itself; samples that read as lifted with the weight centred or
on the foot stay out of it; where the hips go further sideways than anything seen so far
in the hold the fit is held at its edge (the reading shown carries an allowance,
`unlearnt_slope` x the excess) and the heel is not judged: the first rock to a side is
learnt, and judged once the hips are back where the fit holds (both feet learn from it,
see _refit). A lift that begins just as the hips first move off that foot is judged only
once they are back over ground the fit covers. The drill's posture number (the hips' level
in a squat, the shank's tilt in the soleus stretch) selects the history of the same
posture: a baseline is valid only for the posture it was learnt in. Feet that are placed
anew mid-hold start the learning again.

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

from formcheck.config import DrillConfig, threshold
from formcheck.drills.blocks import FaultDetector
from formcheck.drills.windows import TrailingWindow
from formcheck.events import Event
from formcheck.pose.frame import PoseFrame
from formcheck.pose.geometry import body_scale_px
from formcheck.pose.landmarks import LM, SIDES, Side, other_side, side_lm

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


def foot_length_px(frame: PoseFrame, side: Side, leg_px: float) -> float:
    """The foot's length in pixels: heel-to-toe distance, or the leg-based estimate when
    the foot is foreshortened (facing the camera)."""
    heel, toe = frame.xy(side_lm(side, "HEEL")), frame.xy(side_lm(side, "FOOT_INDEX"))
    d = float(np.linalg.norm(heel - toe))
    est = FOOT_PER_LEG * leg_px if np.isfinite(leg_px) else float("nan")
    vals = [v for v in (d, est) if np.isfinite(v) and v > 0]
    return max(vals) if vals else float("nan")


def world_foot_cm(frame: PoseFrame, side: Side) -> float:
    """The foot's length in cm from the world landmarks (metres): its heel-to-toe length,
    or FOOT_PER_LEG of the leg's when that is longer (the model's world feet come out a
    third short, its legs about a tenth, on rendered bodies of known size). NaN when
    implausible."""
    w = frame.world
    d = float(np.linalg.norm(w[side_lm(side, "HEEL")] - w[side_lm(side, "FOOT_INDEX")])) * 100.0
    hip, knee, ankle = (w[side_lm(side, p)] for p in ("HIP", "KNEE", "ANKLE"))
    leg = float(np.linalg.norm(hip - knee) + np.linalg.norm(knee - ankle)) * 100.0
    vals = [v for v in (d, FOOT_PER_LEG * leg) if np.isfinite(v)]
    best = max(vals) if vals else float("nan")
    return best if 15.0 <= best <= 35.0 else float("nan")


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


def foot_height(frame: PoseFrame, side: Side, with_ankle: bool, min_visibility: float) -> float:
    """One foot's heel height in the image, pixels up (+): minus the heel's image y, averaged
    with the ankle's scaled to the heel's equivalent when `with_ankle` (see combine_rises).
    NaN when not seen."""
    seen = frame.seen(min_visibility)
    y = frame.image[:, 1]
    heel, ankle = int(side_lm(side, "HEEL")), int(side_lm(side, "ANKLE"))
    h = float(-y[heel]) if seen[heel] else float("nan")
    if not with_ankle:
        return h
    return combine_rises(h, float(-y[ankle]) if seen[ankle] else float("nan"))


def hips_away(frame: PoseFrame, side: Side) -> float:
    """How far the hips stand sideways from the middle of the feet, toward the other foot
    (+) or over this one (-), as a share of the ankles' distance: the weight moving off
    this foot. Front view only; NaN when the points are not all there."""
    im = frame.image
    x_this, x_other = im[side_lm(side, "ANKLE"), 0], im[side_lm(other_side(side), "ANKLE"), 0]
    width = abs(x_other - x_this)
    hips = (im[LM.LEFT_HIP, 0] + im[LM.RIGHT_HIP, 0]) / 2
    if not (np.isfinite([x_this, x_other, hips]).all() and width > 0):
        return float("nan")
    return float((hips - (x_this + x_other) / 2) * np.sign(x_other - x_this) / width)


def _mad_sd(r: np.ndarray) -> float:
    """Robust standard deviation: 1.4826 x the median absolute deviation."""
    return 1.4826 * float(np.median(np.abs(r - np.median(r)))) if len(r) else 0.0


def huber_fit(x: np.ndarray, y: np.ndarray, k: float = 1.5, iters: int = 4,
              n_prior: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Least squares made robust (Huber weights, scale from the median absolute residual):
    a few outlying samples (a landmark jump, a lift the exclusion missed) barely move it.
    The last `n_prior` rows are prior pseudo-observations and keep their full weight.
    Returns the coefficients and the residuals of the data rows."""
    n = len(y) - n_prior
    w = np.ones(len(y))
    coef = np.zeros(x.shape[1])
    for _ in range(iters):
        sw = np.sqrt(w)
        coef = np.linalg.lstsq(x * sw[:, None], y * sw, rcond=None)[0]
        r = np.abs(y[:n] - x[:n] @ coef)
        scale = 1.4826 * float(np.median(r)) + 1e-9
        a = r / (k * scale)
        w[:n] = np.where(a <= 1.0, 1.0, 1.0 / np.maximum(a, 1e-9))
    return coef, y[:n] - x[:n] @ coef


@dataclass
class HeelLiftConfig(DrillConfig):
    """The heel-lift thresholds both held stretches share (soleus stretch, deep squat)."""

    heel_lift_on: float = threshold(
        0.05, "Heel rise above its flat-foot baseline, as a share of foot length, that counts as "
              "a lift (~1.25 cm on a 25 cm foot, 1.5 cm on a 30 cm one): the 2 cm a physio would "
              "call a lifted heel is 0.065-0.08 of an adult's foot, and the pose model reads heel "
              "lifts short by up to a third (rendered lifts of known size, side-on and from the "
              "front), so the floor sits well below it; the feet's jitter is kept out by each "
              "heel's own scatter (heel_noise_k), not by this floor (flat heels read under 0.04 "
              "after smoothing on clean rendered and real clips).", +1)
    heel_lift_off: float = threshold(
        0.03, "The heel counts as down again below this rise (hysteresis, ~0.75 cm).", +1)
    heel_smooth_s: float = threshold(
        0.3, "Median window (s) for the heel's reading: the feet are where the pose model jitters "
             "most; the cue's own wait (heel_min_on_s) keeps blips out.")
    heel_min_on_s: float = threshold(
        0.5, "A heel must stay up this long before its cue shows (the event still starts where "
             "the lift began).")
    heel_noise_k: float = threshold(
        3.5, "A heel is judged only as finely as its own flat-foot reading allows: the lift "
             "threshold rises to this many times the reading's scatter through the hold where "
             "that is above heel_lift_on (a camera or body the pose model reads poorly asks for "
             "a bigger lift rather than raising false alarms).", +1)
    heel_pause_s: float = threshold(
        0.2, "A heel reading must stay over its threshold this long before the hold's clock "
             "stops (the time since the rise began is then taken back): a reading that pokes "
             "over for a frame or two is no lift.")


@dataclass
class _Fit:
    """The fitted flat-foot model: per side an intercept and slopes for the hips moving
    away from / over that foot (zero without lateral readings)."""

    base: dict[Side, float]
    slope_away: dict[Side, float] = field(default_factory=dict)
    slope_over: dict[Side, float] = field(default_factory=dict)
    centre: float = 0.0
    scatter: dict[Side, float] = field(default_factory=dict)  # robust sd of each foot's residuals
    # Per foot, the range of hip shifts (+ away) it has been seen at: the shared slopes
    # assume the feet alike, which the pose model's feet are not (a camera off the body's
    # axis, a tilted phone), so each foot is trusted only where it has been seen itself.
    lo: dict[Side, float] = field(default_factory=dict)
    hi: dict[Side, float] = field(default_factory=dict)

    def range(self, side: Side) -> tuple[float, float]:
        return self.lo.get(side, -math.inf), self.hi.get(side, math.inf)

    def predict(self, side: Side, away: np.ndarray | float) -> np.ndarray | float:
        a = np.asarray(away, float) - self.centre
        lateral = (self.slope_away.get(side, 0.0) * np.maximum(a, 0.0)
                   + self.slope_over.get(side, 0.0) * np.maximum(-a, 0.0))
        return self.base[side] + np.where(np.isfinite(a), lateral, 0.0)

    def predict_bounded(self, side: Side, away: np.ndarray, margin: float,
                        unlearnt_slope: float) -> np.ndarray:
        """The flat-foot height with the hips at `away`, trusted over the range of hip
        shifts the fit has seen and `margin` beyond it (its own slopes carry on there: held
        at the range's edge, a rock a little further than before read the model's artefact,
        which goes on growing, as a lift). Further out the fit is held at the margin and the
        heel may read up to `unlearnt_slope` x the excess higher (the rocking artefact not
        yet learnt there)."""
        a = np.asarray(away, float)
        lo, hi = self.range(side)
        excess = np.maximum(np.maximum(lo - margin - a, a - hi - margin), 0.0)
        inside = np.clip(a, lo - margin, hi + margin) if math.isfinite(lo) and math.isfinite(hi) else a
        return np.asarray(self.predict(side, inside), float) + unlearnt_slope * excess


@dataclass
class HeelContact:
    """Both heels' lift above their own flat-foot heights through one hold, as a share of
    foot length (see the module doc). `start(t)` at the start of a hold, `update(...)` per
    frame, `stop()` when it ends."""

    smooth_s: float = 0.3
    lag_s: float = 1.0
    settle_s: float = 0.5
    min_baseline_s: float = 0.5
    posture_band: float = math.inf
    cover_margin: float = 0.03  # judged this far (share of the ankles' distance) beyond the learnt range
    # Further out, the heel may read this much higher (foot lengths per unit of hip shift
    # beyond the range) before a rise counts: the steepest rocking artefact of a flat heel
    # on rendered squats through the pose model, read as the secant from its level with the
    # hips centred (95th percentile per foot 0.62-0.79 with the hips moving off the foot,
    # up to 0.52 over it). The straight two-slope fits come out flatter (0.35-0.62): the
    # artefact steepens toward the end of a rock, which is where a first rock goes beyond
    # what was learnt (0.6 let the first rock of a 1.90 m body read 0.06 and stop the clock).
    unlearnt_slope: float = 0.8
    # A rise is traced back to where the raw reading left the flat-foot band: this share
    # of foot length (~4 mm; flat heels' smoothed scatter is 0.002-0.015 on rendered
    # clips), looking back at most rise_back_s.
    rise_floor: float = 0.015
    # The hips this far (share of the ankles' distance) beyond their own centre, away from
    # a foot, have moved the weight off it (about the model's sideways jitter of the hips).
    weight_off_margin: float = 0.02
    rise_back_s: float = 1.5
    suspect_above: float = 0.04
    refit_s: float = 0.25
    moved_feet: float = 0.3
    slope_prior_s: float = 1.0
    noise_suspect: float = 2.0
    history_s: float = 60.0
    min_visibility: float = 0.5

    lift: dict[Side, float] = field(default_factory=dict, init=False)
    rise_start: dict[Side, float | None] = field(default_factory=dict, init=False)
    foot_cm: dict[Side, float] = field(default_factory=dict, init=False)
    _start_t: float | None = field(default=None, init=False)
    _foot_px: float = field(default=float("nan"), init=False)
    _foot_len: TrailingWindow = field(init=False)
    _cm: dict[Side, list[float]] = field(default_factory=dict, init=False)
    _posture: TrailingWindow = field(init=False)
    _recent: dict[Side, TrailingWindow] = field(default_factory=dict, init=False)
    _toe: dict[Side, TrailingWindow] = field(default_factory=dict, init=False)
    _toe_home: dict[Side, np.ndarray] = field(default_factory=dict, init=False)
    # history rows: t, posture, side index, height (foot lengths), hips away, 1 = usable
    # for the baseline (0: it read as lifted at the time)
    _hist: list[tuple[float, float, int, float, float, float]] = field(default_factory=list, init=False)
    _last_raw: dict[Side, float] = field(default_factory=dict, init=False)
    _prev_lift: dict[Side, float] = field(default_factory=dict, init=False)
    _in_range: dict[Side, bool] = field(default_factory=dict, init=False)
    _weight_off: dict[Side, bool] = field(default_factory=dict, init=False)
    _raws: dict[Side, deque[tuple[float, float]]] = field(default_factory=dict, init=False)
    _fit: _Fit | None = field(default=None, init=False)
    _fit_t: float = field(default=-math.inf, init=False)
    _fit_posture: float = field(default=float("nan"), init=False)

    def __post_init__(self) -> None:
        self._posture = TrailingWindow(self.settle_s)
        self._foot_len = TrailingWindow(self.min_baseline_s + self.settle_s)
        self.stop()

    @property
    def active(self) -> bool:
        return self._start_t is not None

    def start(self, t: float) -> None:
        self.stop()
        self._start_t = t

    def stop(self) -> None:
        self._start_t = None
        self._foot_px = float("nan")
        self._foot_len.clear()
        self._posture.clear()
        self._hist = []
        self._fit, self._fit_t = None, -math.inf
        self._recent = {s: TrailingWindow(self.smooth_s) for s in SIDES}
        self._toe = {s: TrailingWindow(self.smooth_s) for s in SIDES}
        self._toe_home = {}
        self._cm = {s: [] for s in SIDES}
        self._last_raw = {}
        self._prev_lift = {}
        self._in_range, self._weight_off = {}, {}
        self._raws = {s: deque() for s in SIDES}
        self.lift = {s: float("nan") for s in SIDES}
        self.rise_start = {s: None for s in SIDES}
        self.foot_cm = {s: NOMINAL_FOOT_CM for s in SIDES}

    @property
    def scatter(self) -> dict[Side, float]:
        """Each heel's flat-foot scatter: the robust sd of its smoothed reading over the
        hold's history (share of foot length)."""
        return dict(self._fit.scatter) if self._fit is not None else {}

    @property
    def in_range(self) -> dict[Side, bool]:
        """Per heel, whether its last reading had the hips within the range of sideways
        shifts its flat-foot model has learnt (always, without the rocking fit). Only
        there is a reading judged (HeelCues): beyond, on a first rock further sideways
        than any yet, the pose model's artefact can outgrow any allowance (held-out
        renders: a flat heel read 0.11 of foot length, a 2.4 cm "lift", for a second),
        and it is gone when the hips come back; a lifted heel is judged then."""
        return dict(self._in_range)

    def _suspect_level(self, side: Side) -> float:
        sc = self._fit.scatter.get(side, 0.0) if self._fit is not None else 0.0
        return max(self.suspect_above, self.noise_suspect * sc)

    def lift_cm(self, side: Side) -> float:
        v = self.lift.get(side, float("nan"))
        return v * self.foot_cm[side] if math.isfinite(v) else float("nan")

    # --- per frame --------------------------------------------------------------------

    def _settled(self) -> bool:
        """The posture has stayed within one band over the last settle_s: held, not passed
        through on the way up or down."""
        if len(self._posture) == 0 or self._posture.covered_s() < self.settle_s * 0.9:
            return False
        if not math.isfinite(self.posture_band):
            return True
        v = self._posture.values()[:, 0]
        return float(v.max() - v.min()) <= self.posture_band

    def update(self, t: float, frame: PoseFrame | None, leg_px: float, posture: float = 0.0,
               sides: tuple[Side, ...] = SIDES, facing: bool = False) -> dict[Side, float]:
        """Feed one frame (None: no reading). `leg_px`: the body's reference leg length;
        `posture`: the drill's posture number; `sides`: the feet to read; `facing`: the
        person faces the camera (heel alone, and the sideways rocking learnt when both
        feet are read). Returns the lift per side (NaN where there is no reading)."""
        lateral = facing and len(sides) == 2
        self._prev_lift = {s: v for s, v in self.lift.items() if math.isfinite(v)}
        self.lift = {s: float("nan") for s in SIDES}
        if self._start_t is None or frame is None or not frame.detected or not math.isfinite(posture):
            return self.lift
        self._posture.add(t, posture)
        fl = [foot_length_px(frame, s, leg_px) for s in sides]
        if np.isfinite(fl).any():
            self._foot_len.add(t, float(np.nanmax(fl)))
        if not math.isfinite(self._foot_px):
            # The foot's length is fixed once the posture has settled: a later change in
            # how long the foot looks (it tilts as the heel rises) must not rescale.
            if not self._settled() or self._foot_len.covered_s() < self.min_baseline_s * 0.9:
                return self.lift
            self._foot_px = float(self._foot_len.median()[0])
        settled = self._settled()
        side_idx = {s: SIDES.index(s) for s in sides}
        if self._feet_moved(t, frame, sides):
            # The feet were placed anew: what was learnt about them no longer holds.
            self._hist, self._fit, self._toe_home = [], None, {}
        for s in sides:
            cm = world_foot_cm(frame, s)
            if math.isfinite(cm) and len(self._cm[s]) < 300:
                self._cm[s].append(cm)
                self.foot_cm[s] = float(np.median(self._cm[s]))
            h = foot_height(frame, s, not facing, self.min_visibility) / self._foot_px
            away = hips_away(frame, s) if lateral else 0.0
            if not (math.isfinite(h) and math.isfinite(away)):
                continue
            self._recent[s].add(t, [h, away])
            if settled:
                # A sample that reads as lifted stays out of the baseline, so a long lift
                # is not learnt as the flat foot.
                # (Judged on the smoothed reading: a single frame's jitter neither keeps a
                # flat sample out nor lets a lifted one in.)
                # Not so beyond the learnt range of hip shifts (there the foot must be
                # learnt), nor with the weight moved off the foot: a heel that reads up only
                # then is the pose model's rocking artefact, and left out it would never be
                # learnt (on held-out bodies its slope reached ~2 foot lengths per unit of
                # shift, the suite's four actors 0.8); a lifted heel still reads up with the
                # weight centred or on it, where it stays out of the baseline.
                lifted = self._prev_lift.get(s, 0.0) > self._suspect_level(s)
                kept_out = lifted and self._in_range.get(s, True) and not self._weight_off.get(s, False)
                usable = 0.0 if kept_out else 1.0
                self._hist.append((t, posture, side_idx[s], h, away, usable))
        while self._hist and t - self._hist[0][0] > self.history_s:
            self._hist.pop(0)
        if not settled:
            self._last_raw = {}
            return self.lift
        if self._fit is None or t - self._fit_t >= self.refit_s or (
                math.isfinite(self.posture_band)
                and abs(posture - self._fit_posture) > self.posture_band / 4):
            self._fit = self._refit(t, posture, sides, lateral)
            self._fit_t, self._fit_posture = t, posture
        self._last_raw = {}
        fit = self._fit
        if fit is None:
            return self.lift
        for s in sides:
            if s not in fit.base or len(self._recent[s]) == 0:
                continue
            v = self._recent[s].values()
            away = v[:, 1]
            resid = v[:, 0] - fit.predict_bounded(s, away, self.cover_margin, self.unlearnt_slope)
            lo, hi = fit.range(s)
            self._in_range[s] = bool(lo - self.cover_margin <= away[-1] <= hi + self.cover_margin)
            self._weight_off[s] = bool(away[-1] - fit.centre > self.weight_off_margin)
            raw = float(resid[-1])
            self._last_raw[s] = raw
            t_raw = float(self._recent[s].times[-1])
            self._raws[s].append((t_raw, raw))
            while self._raws[s] and t_raw - self._raws[s][0][0] > self.rise_back_s:
                self._raws[s].popleft()
            # Where the current rise began: the lift event starts there, not where the
            # smoothed reading crossed its threshold.
            if raw > self._suspect_level(s):
                if self.rise_start[s] is None:
                    self.rise_start[s] = self._rise_began(s)
            else:
                self.rise_start[s] = None
            self.lift[s] = float(np.median(resid))
        return self.lift

    def _rise_began(self, side: Side) -> float:
        """Where the rise now over the suspect level began: back through the recent raw
        readings while they stayed out of the flat-foot band (over `rise_floor`, or the
        heel's own scatter). A lift the pose model reads unsteadily (the reading sagging
        back toward the suspect level for a moment, as it does while the hips rock) is
        still traced to where the heel left the floor."""
        sc = self._fit.scatter.get(side, 0.0) if self._fit is not None else 0.0
        floor = max(self.rise_floor, sc)
        raws = self._raws[side]
        start = raws[-1][0]
        for t_r, r in reversed(raws):
            if r <= floor:
                break
            start = t_r
        return start

    def _feet_moved(self, t: float, frame: PoseFrame, sides: tuple[Side, ...]) -> bool:
        """A foot tip that moved more than `moved_feet` foot lengths from where it stood
        when the hold settled: the feet were placed anew."""
        moved = False
        for s in sides:
            p = frame.xy(side_lm(s, "FOOT_INDEX"))
            if not np.isfinite(p).all():
                continue
            self._toe[s].add(t, p)
            cur = self._toe[s].median()
            home = self._toe_home.get(s)
            if home is None:
                if self._toe[s].covered_s() >= self.smooth_s * 0.9:
                    self._toe_home[s] = cur
                continue
            if float(np.linalg.norm(cur - home)) > self.moved_feet * self._foot_px:
                moved = True
        return moved

    def _refit(self, t: float, posture: float, sides: tuple[Side, ...], lateral: bool) -> _Fit | None:
        if not self._hist:
            return None
        h = np.array(self._hist)
        use = (h[:, 0] <= t - self.lag_s) & (h[:, 5] > 0)
        if math.isfinite(self.posture_band):
            use &= np.abs(h[:, 1] - posture) <= self.posture_band
        h = h[use]
        if len(h) == 0:
            return None
        side_of = h[:, 2].astype(int)
        base_sides = []
        dt = 1.0 / 30.0
        for s in sides:
            rows = h[side_of == SIDES.index(s)]
            if len(rows) < 2:
                continue
            dt = float(np.median(np.diff(rows[:, 0])))
            # Enough flat-foot time at this posture: at least min_baseline_s of samples.
            if dt * len(rows) >= self.min_baseline_s * 0.9:
                base_sides.append(s)
        if not base_sides:
            return None
        keep = np.isin(side_of, [SIDES.index(s) for s in base_sides])
        h, side_of = h[keep], side_of[keep]
        n_sides = len(base_sides)
        cols = [(side_of == SIDES.index(s)).astype(float) for s in base_sides]
        fit = _Fit(base={})
        lat = lateral and n_sides == 2
        prior_rows: list[np.ndarray] = []
        if lat:
            away = h[:, 4]
            fit.centre = float(np.median(away))
            a = away - fit.centre
            up, down = np.maximum(a, 0.0), np.maximum(-a, 0.0)
            # Slopes shared by both feet, plus each foot's own difference from them, held
            # near zero by a prior worth `slope_prior_s` of samples at a typical rock: the
            # first rock to one side teaches the other foot too, and each foot's own
            # manner takes over as its own rocks come in.
            cols += [up, down]
            for s in base_sides:
                on = (side_of == SIDES.index(s)).astype(float)
                cols += [up * on, down * on]
            n_cols = len(cols)
            k = math.sqrt(self.slope_prior_s / max(dt, 1e-3)) * 0.1
            for j in range(n_sides + 2, n_cols):
                row = np.zeros(n_cols)
                row[j] = k
                prior_rows.append(row)
            for s in base_sides:
                mine = away[side_of == SIDES.index(s)]
                fit.lo[s], fit.hi[s] = float(mine.min()), float(mine.max())
        x = np.stack(cols, axis=1)
        y = h[:, 3]
        if prior_rows:
            x = np.vstack([x, np.stack(prior_rows)])
            y = np.concatenate([y, np.zeros(len(prior_rows))])
        coef, resid = huber_fit(x, y, n_prior=len(prior_rows))
        fit.base = {s: float(coef[i]) for i, s in enumerate(base_sides)}
        n_win = max(1, round(self.smooth_s / max(dt, 1e-3)))
        for s in base_sides:
            r = resid[side_of == SIDES.index(s)]
            raw = _mad_sd(r)
            if len(r) >= n_win:
                # The reading is a median over smooth_s: its own scatter is what a clean
                # foot's reading wanders by (slow swings included, jitter smoothed out).
                r = np.median(np.lib.stride_tricks.sliding_window_view(r, n_win), axis=1)
            # A median over a few frames of jitter that lingers for a few frames (as the
            # model's does) keeps about 0.6 of it; a short history understates the smoothed
            # scatter, so that is its floor.
            fit.scatter[s] = max(_mad_sd(r), 0.6 * raw)
        if lat:
            for i, s in enumerate(base_sides):
                fit.slope_away[s] = float(coef[n_sides] + coef[n_sides + 2 + 2 * i])
                fit.slope_over[s] = float(coef[n_sides + 1] + coef[n_sides + 3 + 2 * i])
        return fit


@dataclass
class HeldLiftDetector(FaultDetector):
    """The heel cue's detector, which also calls a lift that is held: a reading at least
    `held_on` (below `on`) for `held_min_on_s`. The pose model's rocking artefact on a flat
    heel comes and goes with each rock, while a lifted heel stays up, so a lower level held
    for longer finds small lifts the model reads short without calling the rocks. Disabled
    (held_on = inf) unless asked for."""

    held_on: float = math.inf
    held_min_on_s: float = 1.0
    _held: FaultDetector | None = field(default=None, init=False)

    def _update_pending(self, t: float, v: float) -> None:
        super()._update_pending(t, v)
        if not math.isfinite(self.held_on):
            return
        if self._held is None:
            self._held = FaultDetector(self.code, self.held_on, self.off, self.held_min_on_s,
                                       self.min_off_s, side=self.side)
        held = self._held
        if self.active:  # called at the usual level: the held run is done with
            self._held = None
            return
        held.on = self.held_on
        held._update_pending(t, v)
        if held.active:
            self.active, self.onset_t, self.peak = True, held.onset_t, held.peak
            self._clear_since = None
            self._held = None

    def reset(self) -> None:
        super().reset()
        if not self.active:
            self._held = None


class HeelCues:
    """Per heel, the `heel_lift` cue (debounced) and its undebounced twin that stops a hold
    timer the moment the heel is up, with the cue's onset placed where the rise began.

    The reading that is compared with the thresholds is a median over a fraction of a
    second, so it crosses them a little after the heel started to rise; the meter keeps
    where the unsmoothed rise began (`HeelContact.rise_start`), and the event starts
    there when that is earlier.
    """

    def __init__(self, on: float, off: float, min_on_s: float, min_off_s: float,
                 noise_on: float = 3.5, noise_off: float = 2.0, gate_on_s: float = 0.2,
                 held_on: float = math.inf, held_min_on_s: float = 1.0, noise_held: float = 2.5):
        self.on, self.off, self.noise_on, self.noise_off = on, off, noise_on, noise_off
        # A lift held at a lower level (HeldLiftDetector; off unless held_on is given), its
        # level raised to noise_held x the heel's scatter like the cue's own.
        self.held_on, self.noise_held = held_on, noise_held
        # A heel reading can pause for a few seconds (a rock further sideways than any yet,
        # a posture being re-learnt): that neither ends nor splits a lift.
        self.cue = {s: HeldLiftDetector("heel_lift", on, off, min_on_s, min_off_s, side=s, max_gap_s=3.0,
                                        held_on=held_on, held_min_on_s=held_min_on_s)
                    for s in SIDES}
        # The clock's gate waits gate_on_s (a reading that pokes over its threshold for a
        # frame or two is no lift), then the time counted since the rise began is taken back.
        self.gate = {s: FaultDetector("heel_lift", on, off, gate_on_s, 0.0, side=s, max_gap_s=3.0)
                     for s in SIDES}
        self._onset: dict[Side, float | None] = {s: None for s in SIDES}
        self._gate_onset: dict[Side, float | None] = {s: None for s in SIDES}

    def update(self, t: float, lift: dict[Side, float], rise_start: dict[Side, float | None],
               foot_cm: dict[Side, float], scatter: dict[Side, float] | None = None,
               judged: dict[Side, bool] | None = None) -> list[Event]:
        """Feed the meter's readings. `scatter`: how far each heel's reading wanders with the
        foot flat (HeelContact.scatter); the thresholds rise to noise_on / noise_off times
        it where that is above them, so a heel is judged only as finely as its own reading
        allows (a camera or body the pose model reads poorly asks for a bigger lift).
        `judged`: per heel, whether its reading can be judged now (HeelContact.in_range):
        where not, it is no reading, and a run pending from before is dropped."""
        out: list[Event] = []
        for s in SIDES:
            v = lift.get(s, float("nan"))
            judged_now = (judged or {}).get(s, True)
            # Not judged now (the hips beyond the shifts learnt): a run pending from
            # before is dropped, that time is no time seen up.
            val = v if math.isfinite(v) and judged_now else None
            if not judged_now:
                self.cue[s].reset()
                self.gate[s].reset()
            sc = (scatter or {}).get(s, 0.0)
            on, off = max(self.on, self.noise_on * sc), max(self.off, self.noise_off * sc)
            for det, onsets in ((self.gate[s], self._gate_onset), (self.cue[s], self._onset)):
                if not det.active:  # a heel that is up keeps the levels it was judged by
                    det.on, det.off = on, off
                    if isinstance(det, HeldLiftDetector) and math.isfinite(self.held_on):
                        det.held_on = max(self.held_on, self.noise_held * sc)
                was = det.active
                evs = det.update(t, val)
                if det.active and not was:
                    r = rise_start.get(s)
                    onsets[s] = min(det.onset_t, r) if r is not None and det.onset_t is not None else det.onset_t
                if det is self.cue[s]:
                    out += [self._finished(e, s, foot_cm) for e in evs]
                elif evs:
                    onsets[s] = None
        return out

    def _finished(self, ev: Event, side: Side, foot_cm: dict[Side, float]) -> Event:
        t0 = self._onset[side]
        self._onset[side] = None
        if t0 is not None and t0 < ev.t_s:
            ev = dataclasses.replace(ev, t_s=t0)
        return heel_value_in_cm(ev, foot_cm.get(side, NOMINAL_FOOT_CM))

    def up(self, side: Side | None = None) -> bool:
        """Is a heel (this one, or any) up right now (undebounced)?"""
        sides = SIDES if side is None else (side,)
        return any(self.gate[s].active for s in sides)

    def cued(self, side: Side | None = None) -> bool:
        """Is a heel's (this one's, or any) heel_lift cue on?"""
        sides = SIDES if side is None else (side,)
        return any(self.cue[s].active for s in sides)

    def cue_onset(self, side: Side) -> float | None:
        """Where the heel whose cue is on began to rise (None while its cue is off)."""
        return self._onset[side] if self.cue[side].active else None

    def up_since(self) -> float | None:
        """Where the earliest heel that is up now began to rise."""
        ts = [self._gate_onset[s] for s in SIDES if self.gate[s].active and self._gate_onset[s] is not None]
        return min(ts) if ts else None

    def finish(self, t: float, foot_cm: dict[Side, float]) -> list[Event]:
        out: list[Event] = []
        for s in SIDES:
            out += [self._finished(e, s, foot_cm) for e in self.cue[s].finish(t)]
            self.gate[s].finish(t)
            self._gate_onset[s] = None
        return out

    @property
    def detectors(self) -> list[FaultDetector]:
        return list(self.cue.values())


def heel_value_in_cm(ev: Event, foot_cm: float) -> Event:
    """heel_lift events carry their peak as a share of foot length internally; the report
    gives it in cm, the unit a runner reads."""
    if ev.code != "heel_lift" or ev.kind != "fault" or ev.value is None:
        return ev
    return dataclasses.replace(ev, value=round(ev.value * foot_cm, 2))


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
        self._win.add(t, leg_px)
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
