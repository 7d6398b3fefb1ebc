"""Calf foam-roll (`calf-roll`, side view): strokes, stroke length, tempo, leg rotation,
hips lifted; 30 s sets timed only while rolling, 3 per leg.

The person sits on the floor, one calf on a roller, hands on the floor behind lifting the
hips, and rolls the body back and forth so the roller runs along the calf. The roller is
not a landmark, but it stays put on the floor while the leg slides over it, so the leg's
own travel along the shank axis *is* the contact point's travel along the calf:

- the rolled leg: the one whose knee is the lower in the image (the other is drawn up or
  rests on top), found by position each frame, so the model's side-on label swaps of the
  two legs do not move it; its side is voted over 2 s and fixed for the set;
- stroke signal: the hip midpoint (the same whichever leg the model calls left, and the
  steadiest body point through the model: the knee and ankle on the roller are partly
  hidden by it and jump) projected on the leg's axis (hips to the rolled knee: the leg
  lies straight), in calf lengths. The calf length is taken as the thigh's (equal in
  adults), which the model measures far more steadily than the shank, so the signal is
  independent of camera distance, camera angle and of where the person sits. Positions
  are taken from a point on the body's own path (where the hips were first seen), since
  that scale wanders a few per cent as the leg turns;
- strokes: turning points of that signal confirmed with hysteresis (it must come back by
  `stroke_hysteresis_calf` before a turn counts, so model jitter never counts a stroke).
  A *pass* runs from one turning point to the next (one way along the calf); a *stroke*
  is one there-and-back cycle (two passes), counted when it completes;
- stroke length: a pass's travel as a share of calf length (the roller should cover most
  of the calf: short passes roll one spot); `short_stroke` when shorter than an absolute
  share or than a share of the person's own passes in this set (the model's length scale
  reads passes up to ~1.65x long, which cancels against their own; the event's value is
  the shortest pass as a share of that limit); tempo in strokes per minute;
- speed: a pass's travel over its duration, in calf lengths per second; `too_fast` when
  faster than an absolute limit or than twice the person's own pace in this set (the
  model's length scale errs by up to ~1.4x, which cancels against their own passes; the
  event's value is the fastest pass as a multiple of that limit);
- leg rotation: turning the leg in and out turns the foot about the shank. Side-on that
  shows in the image as a change of the foot's shape against the shin: the heel-to-toe
  vector, in the leg's frame (along it, across it) and in calf lengths, moves as the
  foot turns (the relaxed foot points away from the shin, so turning it swings the toes).
  The model's relative depth of the toes, which would show the turn directly, did not
  follow it at all on rendered clips (r = 0.08); the foot's angle alone flattens out at
  one end of the turn. Only how much the foot's shape *changes* is used: `no_rotation`
  fires when it has stayed within a band for `no_rotation_s` of rolling, reported from the
  moment it settled. The band is a share of the set's own swing, since how far the foot
  appears to swing depends on the camera's angle;
- hips lifted: the hips' height against the rolled leg's ankle, in calf lengths (the
  ankle found where the straight leg puts it, not by its label; unread when the model has
  lost it). The leg lies across the roller (its axis ~20 cm up); sitting on the floor the hip joint is ~10 cm
  up, a quarter of a calf length *below* the leg, while lifted hips are level with it or
  above. Measured against the person's own leg, this needs no floor line (the hands, the
  obvious floor marks, are often hidden behind the body or lost by the model). A camera
  that is rolled tilts it, so the cue also needs the hips to have sunk clearly below the
  person's own lifted level in this set.

Sets: the clock runs only while the leg is travelling (or turned around within the last
`rolling_grace_s`); a set ends after `set_rest_s` without rolling. Every fault event's
`side` is the rolled leg, as SPEC.md asks.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from formcheck.config import DrillConfig, threshold
from formcheck.drills.base import Analyser, LiveStatus
from formcheck.drills.blocks import Counter, FaultDetector, HoldTimer, SetTracker
from formcheck.drills.windows import TrailingWindow
from formcheck.events import Event
from formcheck.pose.frame import PoseFrame
from formcheck.pose.geometry import tilt_from_horizontal_deg
from formcheck.pose.landmarks import LM, SIDES, side_lm

NAN = float("nan")


@dataclass
class CalfRollConfig(DrillConfig):
    set_target_s: float = threshold(30.0, "Prescription: roll each calf for 30 s of actual rolling.")
    sets_per_leg: int = threshold(3, "Prescription: 3 sets per leg.")
    stroke_hysteresis_calf: float = threshold(
        0.18, "The leg must travel back this share of calf length before a turn counts: above the "
              "jitter of knee and ankle (~0.03) and the model's brief jumps (up to ~0.15 when the "
              "body shifts), below the shortest stroke worth calling one (~0.25).")
    short_stroke_share: float = threshold(
        0.40, "A pass covering less than this share of the calf rolls one spot; the roller should "
              "run from above the ankle to below the knee (~0.7 of the knee-ankle distance).", -1)
    short_stroke_off_share: float = threshold(
        0.50, "A short-stroke cue clears once passes cover this share again (hysteresis).", -1)
    short_stroke_rel: float = threshold(
        0.6, "...or a pass shorter than this share of the person's own passes in this set (the "
             "median of their earlier judged passes that were not short): through the model a "
             "pass reads 1.3-1.65x its true share of the calf (the thigh, the length scale, reads "
             "short on a seated body), which cancels against their own passes. A full pass covers "
             "~0.67 of the calf, so 0.6 of it is the 0.40 above; a steady roller's passes vary by "
             "~10 %.", -1)
    too_fast_calf_per_s: float = threshold(
        1.0, "Passes faster than this many calf lengths per second (~40 cm/s on an adult calf: the "
             "whole calf in under a second) are flicks, too quick for the tissue to release, "
             "whatever the person's own pace; a slow roll takes 2 s or more a pass (~0.35). Set "
             "well above that because through the pose model a pass reads up to ~1.4x its true "
             "length (the length scale, the model's thigh, reads short on a seated body).", 1)
    too_fast_rel: float = threshold(
        2.0, "...or this many times the person's own pace in this set (the median speed of their "
             "earlier passes that were not too fast): measured on the same body and camera, the "
             "scale error cancels. A steady roller's passes vary by ~1.4x.", 1)
    too_fast_floor_calf_per_s: float = threshold(
        0.45, "...but never slower than this (~20 cm/s): doubling a very slow pace is still slow.", 1)
    too_fast_onset_rel: float = threshold(
        1.15, "A too-fast run is dated from when the leg first went this much faster than the "
              "person's own peak speed earlier in the set: a steady roller's fastest moments "
              "stay within 2-9 % of that peak (rendered clips), so this is the first clear "
              "speed-up. Only dates a run already judged too fast.", 1)
    too_fast_off_share: float = threshold(
        0.8, "The too-fast cue clears once passes are below this share of the limit (hysteresis).", -1)
    foot_turn_calf: float = threshold(
        0.07, "Turning the leg +-25 deg (enough to reach the inner and outer calf) changes the "
              "foot's length along the leg in the image by 0.09-0.23 calf lengths through the "
              "model (10-90 percentile range over 10 s, rendered clips, several cameras), while a "
              "still foot's jitter stays within 0.03: a change of this much counts as turning (the "
              "band until the set has shown its own swing, and its top).", -1)
    foot_turn_floor_calf: float = threshold(
        0.05, "The least change of the foot's shape (calf lengths) that counts as turning, however "
              "little the set swung: below it is the jitter of the smoothed foot points.")
    no_rotation_s: float = threshold(
        10.0, "Rolling this long without turning the foot earns the cue: a couple of strokes on one "
              "line of the calf is fine, a whole set is not.")
    turn_again_s: float = threshold(
        2.0, "The no-rotation cue clears once the foot has swung past the band for this long: "
             "turning the leg in or out takes a couple of seconds, while the still foot's jitter "
             "pokes past the band for moments.")
    hips_sink_calf: float = threshold(
        0.20, "Hips this far (calf lengths) below their own lifted level in this set (its 80th "
              "percentile) have sunk: seated they are ~0.25 below the leg on the roller, lifted "
              "about level with it or above.", -1)
    hips_down_calf: float = threshold(
        0.05, "...and not clearly above the rolled ankle (calf lengths): the person's own level "
              "alone would flag any dip of hips held high.", -1)
    ankle_gate_calf: float = threshold(
        0.2, "An ankle reading further than this (calf lengths) off the line of the straight "
             "rolled leg (hips to knee, extended) is the model losing the ankle on the roller, not "
             "the leg: the hips' height is not read from it. The knee's 6-10 deg of bend moves the "
             "true ankle up to ~0.17 off that line; the hips sinking tilts the whole line.")
    hips_read_min_share: float = threshold(
        0.5, "A set whose hips' height could be read in less than this share of its rolling gets a "
             "note in the report that hips_down was hardly checked (a missed fault is no pass).", -1)
    hips_down_min_s: float = threshold(
        1.0, "The hips must stay sunk this long (while rolling) before the cue shows: sinking "
             "to the floor and rolling there lasts seconds, while the model misreading the rolled "
             "ankle side-on (the legs crossed in the image, its labels swapping) sinks the reading "
             "for under half a second at a time (clean clips).")
    hips_up_margin_calf: float = threshold(
        0.07, "The hips-down cue clears once the hips are this much higher again (hysteresis).")
    rolling_speed_calf_per_s: float = threshold(
        0.15, "The leg travelling along its axis faster than this (calf lengths per second; a slow "
             "stroke peaks at ~0.5) counts as rolling; slower is pose jitter or shifting about.")
    rolling_grace_s: float = threshold(
        1.5, "Turning round at the end of a pass briefly stops the leg: still rolling for this long.")
    max_across_calf_per_s: float = threshold(
        0.25, "The leg moving across its own axis faster than this (calf lengths per second) is "
              "not rolling: the hips lifting or sinking, or the pose model jumping; such moments "
              "neither count as rolling nor make turning points.")
    set_start_travel_calf: float = threshold(
        0.25, "A set starts once the leg has travelled this far (calf lengths) from where it "
              "rested; the clock is then backdated to when it set off.")
    set_rest_s: float = threshold(
        4.0, "This long without rolling ends the set (a rest, or changing legs).")
    max_leg_tilt_deg: float = threshold(
        45.0, "The rolled leg (hips to its knee) lies roughly along the floor; steeper, the person "
              "is not on the roller (sitting up with the knees drawn up, standing) and nothing is "
              "counted. The knee's bend is not used: the ankle on the roller is the model's least "
              "reliable point side-on.")
    max_knee_rise_calf: float = threshold(
        0.75, "The rolled knee lies on the leg across the roller, 0.3-0.45 shank lengths above the "
              "lower ankle (the other foot is planted on the floor); squatting, the knees stand "
              "0.8-1 shank above the ankles. Through the model rolling read up to ~0.7 (rendered "
              "clips), side-on squats 0.83-1.1 (real clips). Higher than this is no rolling: "
              "squats or lunges filmed side-on move the hips along the thigh too.")


@dataclass
class _Turns:
    """Turning points of a 1-D signal, each confirmed once the signal has come back by `h`.

    A turn is dated at the middle of the dwell around the extreme (the samples within
    h/4 of it), not at the extreme sample itself: the body slows to turn round, so for a
    few tenths of a second the signal is flat and its jitter alone decides which sample is
    the extreme. Where the signal set off from rest the turn is dated where it left."""

    h: float
    direction: int = 0
    hi: float = NAN
    hi_t: float = NAN
    lo: float = NAN
    lo_t: float = NAN
    points: list[tuple[float, float]] = field(default_factory=list)  # (t, s) confirmed
    _buf: list[tuple[float, float]] = field(default_factory=list)  # samples since the last turn

    def reset(self) -> None:
        self.direction, self.hi, self.hi_t, self.lo, self.lo_t = 0, NAN, NAN, NAN, NAN
        self.points = []
        self._buf = []

    def _dwell_t(self, t_ext: float, s_ext: float, sign: int, from_rest: bool) -> float:
        """The middle (or, from rest, the end) of the samples since the last turn that lie
        within h/4 of the extreme s_ext; sign is +1 for a high, -1 for a low. Since the
        last turn the signal has come a full h from any other extreme, so those samples
        all belong to this dwell, however the jitter interleaves them."""
        tol = self.h / 4
        near = [tt for tt, v in self._buf if sign * (v - s_ext) >= -tol]
        if not near:
            return t_ext
        return near[-1] if from_rest else (near[0] + near[-1]) / 2

    def _confirm(self, t_ext: float, s_ext: float, sign: int, from_rest: bool) -> tuple[float, float]:
        t_turn = self._dwell_t(t_ext, s_ext, sign, from_rest)
        self._buf = [(tt, v) for tt, v in self._buf if tt >= t_ext]
        return (t_turn, s_ext)

    def update(self, t: float, s: float) -> list[tuple[float, float]]:
        if not math.isfinite(s):
            return []
        self._buf.append((t, s))
        if not math.isfinite(self.hi):
            self.hi = self.lo = s
            self.hi_t = self.lo_t = t
            return []
        new: list[tuple[float, float]] = []
        if self.direction >= 0 and s > self.hi:
            self.hi, self.hi_t = s, t
        if self.direction <= 0 and s < self.lo:
            self.lo, self.lo_t = s, t
        if self.direction >= 0 and s <= self.hi - self.h and self.hi_t >= self.lo_t:
            # a high turn (or the high rest it set off from)
            new.append(self._confirm(self.hi_t, self.hi, 1, self.direction == 0))
            self.direction, self.lo, self.lo_t = -1, s, t
        elif self.direction <= 0 and s >= self.lo + self.h and self.lo_t >= self.hi_t:
            new.append(self._confirm(self.lo_t, self.lo, -1, self.direction == 0))
            self.direction, self.hi, self.hi_t = 1, s, t
        elif self.direction == 0 and (s <= self.hi - self.h or s >= self.lo + self.h):
            # At rest the signal wandered both ways: it sets off from where it is now.
            up = s >= self.lo + self.h
            new.append(self._confirm(self.lo_t, self.lo, -1, True) if up
                       else self._confirm(self.hi_t, self.hi, 1, True))
            self.direction = 1 if up else -1
            self.hi, self.hi_t, self.lo, self.lo_t = s, t, s, t
        self.points += new
        return new

    def flush(self, t_max: float = math.inf) -> tuple[float, float] | None:
        """The current extreme as a final turning point, if it is a full hysteresis away
        from the last confirmed one (the person stopped at the end of a pass), dated no
        later than t_max (when the leg last moved: jitter at rest moves the extreme)."""
        if not self.points or self.direction == 0:
            return None
        t, s = (self.hi_t, self.hi) if self.direction > 0 else (self.lo_t, self.lo)
        t = min(t, t_max)
        if abs(s - self.points[-1][1]) >= self.h and t > self.points[-1][0]:
            self.points.append((t, s))
            return (t, s)
        return None


@dataclass
class _Backdated(FaultDetector):
    """A fault whose true onset is only known in hindsight (e.g. "no rotation for 8 s"
    began 8 s ago, or the first too-fast pass sped up part-way): the report dates it from
    `onset_hint` when one was given for this run."""

    onset_hint: float | None = field(default=None, init=False)

    def _close(self, t_end: float) -> Event:
        if self.onset_hint is not None and self.onset_t is not None:
            self.onset_t = min(self.onset_hint, t_end)
        self.onset_hint = None
        return super()._close(t_end)


@dataclass
class _Pass:
    t0: float
    t1: float
    length: float  # calf lengths

    @property
    def speed(self) -> float:
        return self.length / (self.t1 - self.t0) if self.t1 > self.t0 else NAN


class CalfRollAnalyser(Analyser):
    drill_id = "calf-roll"
    views = ("side",)
    required_parts = ("shoulders", "hips", "knees", "feet")
    config_cls = CalfRollConfig
    cfg: CalfRollConfig

    def __init__(self, config: CalfRollConfig | None = None, side: str | None = None,
                 variant: str | None = None):
        super().__init__(config, side, variant)
        c = self.cfg
        self.sets = SetTracker(sets_per_side=int(c.sets_per_leg))
        self.timer = HoldTimer(code="hold", target_s=c.set_target_s, leave_grace_s=c.set_rest_s,
                               min_hold_s=3.0, max_step_s=0.25)
        self.counter = Counter(refractory_s=0.5)
        self.turns = _Turns(h=c.stroke_hysteresis_calf)
        big = 1e9  # per-pass detectors are fed once a pass: no gap rule
        # fed each pass's length as a share of the short-stroke limit (see _short_limit)
        self.short = FaultDetector("short_stroke", on=1.0, off=c.short_stroke_off_share / c.short_stroke_share,
                                   below=True, min_on_s=0.3, min_off_s=0.3, max_gap_s=big)
        # fed each pass's speed as a share of the too-fast limit (see _fast_limit)
        self.fast = _Backdated("too_fast", on=1.0, off=c.too_fast_off_share,
                                  min_on_s=0.3, min_off_s=0.3, max_gap_s=big)
        # fed the foot's swing over the last no_rotation_s as a share of the band
        self.no_rot = _Backdated("no_rotation", on=1.0, off=1.3, below=True,
                                 min_on_s=0.0, min_off_s=c.turn_again_s, max_gap_s=c.set_rest_s)
        # The hips dropping fast is when the model most often loses the body for a moment
        # (about a second on rendered clips): that gap does not end the spell.
        self.hips = _Backdated("hips_down", on=0.0, off=c.hips_up_margin_calf,
                               below=True, min_on_s=c.hips_down_min_s, min_off_s=c.min_off_s,
                               max_gap_s=c.rolling_grace_s + 0.5)
        self.side: str | None = side
        self._side_votes = TrailingWindow(2.0)
        self._axis = TrailingWindow(5.0)
        self._calf = TrailingWindow(5.0)
        self._s_raw = TrailingWindow(0.2)
        # Image point the stroke position is measured from (see _measure); None until the
        # first reading, and again whenever the leg's windows are cleared.
        self._anchor: np.ndarray | None = None
        self._s_hist = TrailingWindow(0.5)
        self._s_long = TrailingWindow(3.0)
        self._rot_raw = TrailingWindow(1.5)  # median over 1.5 s: heel and toes jitter, turning is slow
        self._clear_raw = TrailingWindow(0.5)
        self._rot_hist: list[tuple[float, float]] = []
        self._speed_hist: list[tuple[float, float]] = []  # (t, along-axis speed) this set
        self._prev_fast = False
        self._judged: list[_Pass] = []  # this set's passes judged for speed
        self._limit_at: dict[int, float] = {}  # id(pass) -> the too-fast limit it was judged by
        self._short_at: dict[int, float] = {}  # id(pass) -> the short-stroke limit it was judged by
        self._max_swing: float | None = None
        self._last_moving_t: float | None = None
        self._last_rolling_t: float | None = None
        self._trail_good = 0.0
        self._prev_t: float | None = None
        self._unsteady = False
        self._unsteady_until = -math.inf
        self._pending_hips: list[Event] = []  # hips_down spells waiting for a stroke after them
        self._passes: list[_Pass] = []
        self._set_passes: list[_Pass] = []
        self._set_rot: list[float] = []
        self._set_clear: list[float] = []
        self._height_hist: list[tuple[float, float]] = []  # (t, unsmoothed hips' height) this set
        self._hips_read = np.zeros(2)  # (frames the hips' height was read, frames) rolling, this set
        self._vals: dict[str, float] = {}

    # ------------------------------------------------------------------ measurement

    def _pick_side(self, im: np.ndarray, seen: np.ndarray) -> str | None:
        """The rolled leg: the one whose knee is the lower (see _rolled_knee), by a vote
        over the last 2 s so that the model's brief label swaps do not change it. Frames
        with a knee hidden (side-on the far knee often is) do not vote."""
        if self.side_hint in SIDES:
            return self.side_hint
        if not seen[[LM.LEFT_HIP, LM.RIGHT_HIP]].all() or not seen[[LM.LEFT_KNEE, LM.RIGHT_KNEE]].any():
            return None
        if seen[[LM.LEFT_KNEE, LM.RIGHT_KNEE]].all():
            _, label = self._rolled_knee(im, None)
            self._side_votes.add(self.last_t or 0.0, 1.0 if label == "left" else 0.0)
        if self.sets.current is not None and self.side is not None:
            return self.side  # the rolled leg does not change within a set
        if not len(self._side_votes):
            return None
        return "left" if float(self._side_votes.mean()[0]) >= 0.5 else "right"

    @staticmethod
    def _foot_shape(im: np.ndarray, side: str, axis: np.ndarray | None) -> np.ndarray:
        """The heel-to-toe vector in the leg's frame (along, across), in the leg axis' units
        (the caller scales it): the leg's axis is the steady hip-to-knee one, not the
        shank's, whose ankle end jumps."""
        heel, toe = (im[side_lm(side, p), :2] for p in ("HEEL", "FOOT_INDEX"))
        f = toe - heel
        if axis is None or not np.isfinite(f).all():
            return np.array([NAN, NAN])
        return np.array([f @ axis, f @ np.array([-axis[1], axis[0]])])

    @staticmethod
    def _rolled_knee(im: np.ndarray, side: str | None) -> tuple[np.ndarray, str]:
        """The rolled leg's knee, found by where it is rather than by its label: the rolled
        leg lies across the roller while the other knee is drawn up (or rests on top of it),
        so the rolled knee is the lower one in the image. Side-on the model now and then
        swaps the labels of the two legs; the lower knee is the rolled one either way.
        With one knee hidden, the seen one is taken only if it carries the rolled leg's
        label (`side`): nothing says otherwise which knee it is. Returns the knee (NaN if
        not found) and the label it carries in this frame."""
        lk, rk = im[LM.LEFT_KNEE], im[LM.RIGHT_KNEE]
        l_ok, r_ok = bool(np.isfinite(lk[:2]).all()), bool(np.isfinite(rk[:2]).all())
        if l_ok and r_ok:
            return (lk, "left") if lk[1] >= rk[1] else (rk, "right")
        if l_ok and side in (None, "left"):
            return lk, "left"
        if r_ok and side in (None, "right"):
            return rk, "right"
        return np.full(3, NAN), side or "left"

    @staticmethod
    def _rolled_ankle(im: np.ndarray, hip_mid: np.ndarray, knee: np.ndarray, gate: float) -> np.ndarray:
        """The rolled leg's ankle: the leg lies straight over the roller, so its ankle is
        about a shank (= a thigh) beyond the knee on the line from the hips. Of the two
        labelled ankles the one nearest that point, if it is within `gate` of the line and
        0.6-1.4 shanks beyond the knee; else NaN. The model loses the ankle on the roller
        often side-on, puts it on the other foot, on the toes or swaps the labels, and each
        of those would read as the hips jumping."""
        leg = knee[:2] - hip_mid[:2]
        thigh = float(np.linalg.norm(leg))
        if not (math.isfinite(thigh) and thigh > 0):
            return np.array([NAN, NAN])
        u = leg / thigh
        best, best_d = np.array([NAN, NAN]), math.inf
        for s in SIDES:
            a = im[side_lm(s, "ANKLE"), :2]
            rel = a - knee[:2]
            along, across = float(rel @ u), abs(float(rel @ np.array([-u[1], u[0]])))
            if not (math.isfinite(along) and math.isfinite(across)):
                continue
            d = math.hypot(along - thigh, across)
            if 0.6 * thigh <= along <= 1.4 * thigh and across <= gate and d < best_d:
                best, best_d = a, d
        return best

    def _rolled_foot(self, im: np.ndarray, hip_mid: np.ndarray) -> str:
        """Which labelled foot is the rolled one in this frame: the rolled foot lies a
        whole leg length from the hips, the other is planted by the seat. The model's
        ankles swap labels side-on far more often than its knees, so each frame picks the
        foot whose toes are further from the hips, whatever its label."""
        d = {s: float(np.linalg.norm(im[side_lm(s, "FOOT_INDEX"), :2] - hip_mid[:2])) for s in SIDES}
        finite = {s: v for s, v in d.items() if math.isfinite(v)}
        return max(finite, key=lambda s: finite[s]) if finite else (self.side or "left")

    def _measure(self, frame: PoseFrame, side: str) -> dict[str, float]:
        t, im = frame.t_s, frame.image
        hip_mid = (im[LM.LEFT_HIP] + im[LM.RIGHT_HIP]) / 2.0  # the same whatever the labels
        knee, _ = self._rolled_knee(im, side)
        foot_side = self._rolled_foot(im, hip_mid)
        hk = knee[:2] - hip_mid[:2]
        thigh = float(np.linalg.norm(hk))
        if np.isfinite(thigh) and thigh > 0:
            self._axis.add(t, hk / thigh)
            self._calf.add(t, thigh)
        axis = self._axis.median()
        if axis.shape == (2,):
            axis = axis / (np.linalg.norm(axis) or 1.0)
        calf_med = float(self._calf.median()[0])
        # The body slides over the roller along the rolled leg, so the hips travel exactly
        # as far as the contact point does along the calf. The hip midpoint is the steadiest
        # of the body's points through the model and is the same whichever leg the model
        # calls left; the knee and ankle on the roller are partly hidden by it and jump.
        # The leg's axis is the thigh's (hip to the rolled knee: the leg lies straight), and
        # the calf length is taken as the thigh's, which in adults it equals (Winter: thigh
        # 0.245 H, shank 0.246 H) and which the model measures far more steadily.
        ok = axis.shape == (2,) and calf_med > 0
        # Positions are taken from a fixed image point near the body (where the hips were
        # first seen), not from the image corner: the scale (the model's thigh) and the
        # axis wander a few per cent as the leg turns in and out (+7 % over a turn on
        # held-out clips), and a few per cent of the hips' distance from the corner (4-5
        # calf lengths) is a drift of 0.2-0.3 calf lengths, as long as a short stroke.
        # From a point on the body's own path the same wander errs by a few per cent of
        # a stroke.
        if self._anchor is None and np.isfinite(hip_mid[:2]).all():
            self._anchor = hip_mid[:2].copy()
        anchor = self._anchor if self._anchor is not None else np.zeros(2)
        self._s_raw.add(t, (hip_mid[:2] - anchor) / calf_med if ok else np.array([NAN, NAN]))
        c_med = self._s_raw.median() if len(self._s_raw) else np.array([NAN, NAN])
        s_med = float(c_med @ axis) if ok and c_med.shape == (2,) else NAN
        self._s_hist.add(t, c_med)
        if self._calf.covered_s() >= 1.0:  # before that the leg's axis is still being found
            self._s_long.add(t, s_med)
        speed = NAN
        if ok and len(self._s_hist) >= 2 and self._s_hist.covered_s() > 0.1:
            vals, times = self._s_hist.values(), self._s_hist.times
            tc = times - times.mean()
            # least-squares velocity of the hips: steadier than end-to-end differences on
            # jittery points, and taken along the leg's axis (the hips lifting or sinking
            # move across it)
            vel = tc @ (vals - vals.mean(axis=0)) / float(tc @ tc)
            along, across_v = abs(float(vel @ axis)), abs(float(vel @ np.array([-axis[1], axis[0]])))
            # Only motion mostly across the leg is a jump or the hips lifting: rolling fast
            # also moves the hips across an axis known to a few degrees.
            if across_v >= self.cfg.max_across_calf_per_s and across_v > along:
                self._unsteady_until = t + 0.5  # the pose settles for a moment after a jump
            self._unsteady = t <= self._unsteady_until
            speed = along if along >= across_v and not self._unsteady else 0.0
        self._rot_raw.add(t, self._foot_shape(im, foot_side, axis if ok else None) / (calf_med if ok else NAN))
        rot = self._rot_raw.median() if len(self._rot_raw) else np.array([NAN, NAN])
        ankle = self._rolled_ankle(im, hip_mid, knee, self.cfg.ankle_gate_calf * calf_med) if ok else None
        height = (float(ankle[1]) - float(hip_mid[1])) / calf_med if ankle is not None else NAN
        self._clear_raw.add(t, height)
        clear_med = float(self._clear_raw.median()[0])
        tilt = abs(float(tilt_from_horizontal_deg(hip_mid, knee)))
        # how far the rolled knee stands above the lower ankle (either label: one of them is
        # on the floor or on the roller whichever the model calls which)
        ankles_y = [float(im[side_lm(s, "ANKLE"), 1]) for s in SIDES]
        ankles_y = [y for y in ankles_y if math.isfinite(y)]
        rise = (max(ankles_y) - float(knee[1])) / calf_med if ankles_y and calf_med > 0 else NAN
        return {"stroke_position_calf": s_med, "roll_speed_calf_per_s": speed,
                "foot_shape": rot, "hip_height_calf": clear_med, "leg_tilt_deg": tilt,
                "knee_rise_calf": rise, "hips_read": float(math.isfinite(height)),
                "hip_height_raw_calf": height}

    # ------------------------------------------------------------------ drill logic

    def _turn_band(self) -> float:
        """How much the foot's shape must change to count as turning. How far it swings
        for a given turn of the leg depends on the camera angle and on how far the foot
        points away from the shin, so once the set has shown its own swing (the largest
        over any no_rotation_s so far) the band is a share of it, between
        foot_turn_floor_calf and foot_turn_calf."""
        if self._max_swing is None:
            return self.cfg.foot_turn_calf
        return float(np.clip(0.3 * self._max_swing, self.cfg.foot_turn_floor_calf, self.cfg.foot_turn_calf))

    @staticmethod
    def _swing(v: np.ndarray) -> float:
        """Size of the foot's shape changes: the 5-95 percentile range of its length along
        the leg. Across the leg the model's heel and toes follow the turn far less (r ~0.2
        against ~0.8 along, on rendered clips) and mostly add their jitter. The reading is
        already a 1.5 s median, so its outliers are gone; the foot dwells at each end of a
        turn for only a second or so, which a 10-90 range over 10 s cuts away (a 30 deg
        turn then read 0.067, near a still foot's 0.032). The 5-95 range keeps those ends
        (turning 0.089 and up, still at most 0.038, suite and held-out clips)."""
        a = np.atleast_2d(v)[:, 0]
        return float(np.percentile(a, 95) - np.percentile(a, 5))

    def _recent_swing_share(self, t: float) -> float:
        """The foot's swing over the last no_rotation_s of rolling, as a share of the band
        (<= 1: it has not turned). NaN until that much rolling has been seen."""
        if not self._rot_hist or t - self._rot_hist[0][0] < self.cfg.no_rotation_s:
            return NAN
        ts = np.array([p[0] for p in self._rot_hist])
        recent = np.stack([p[1] for p, keep in zip(self._rot_hist, ts >= t - self.cfg.no_rotation_s,
                                                   strict=True) if keep])
        swing = self._swing(recent)
        band = self._turn_band()  # judged against the swing seen before this window
        self._max_swing = swing if self._max_swing is None else max(self._max_swing, swing)
        return swing / band

    def _still_since(self, t: float) -> float:
        """Where the still run began: the last moment the foot's reading was still a full
        band away from where it has rested over the last no_rotation_s. The reading is a
        1.5 s trailing median, so it lags the foot by ~0.75 s: by then the foot itself was
        coming to rest (turns that stopped at 8.5-9.1 s read 8.4-8.7, suite and held-out
        clips, where the moment the reading settled within half the band read 8.8-9.3).
        A full band, not part of it, so the still foot's own wobble with the strokes (up
        to ~0.03 calf lengths) never counts as turning."""
        ts = np.array([p[0] for p in self._rot_hist])
        a = np.stack([p[1] for p in self._rot_hist])[:, 0]
        off = np.abs(a - float(np.median(a[ts >= t - self.cfg.no_rotation_s])))
        far = np.nonzero(off >= self._turn_band())[0]
        return float(ts[far[-1]]) if len(far) else float(ts[0])

    def _hips_down_value(self, height: float) -> float:
        """How far the hips are above sinking (negative: sunk). Down needs both: sunk
        hips_sink_calf below their own lifted level (80th percentile so far in the set), and
        below the hips_down_calf line over the ankle. NaN until the set has a level."""
        if not math.isfinite(height) or len(self._set_clear) < 15:
            return NAN
        level = self._lifted_level()
        return max(height - (level - self.cfg.hips_sink_calf), height - self.cfg.hips_down_calf)

    def _lifted_level(self) -> float:
        """The hips' lifted level in this set: the 80th percentile of their heights so far."""
        return float(np.percentile(self._set_clear, 80))

    def _sank_since(self, t_sunk: float) -> float:
        """When the hips began to sink: the last moment, in the 2 s before the smoothed
        height crossed the line at t_sunk, that the unsmoothed height was still within
        hips_up_margin_calf of the set's lifted level. The crossing itself comes part-way
        down the drop and behind the 0.5 s median: 0.4-0.5 s after the hips left."""
        if not self._set_clear:
            return t_sunk
        up = self._lifted_level() - self.cfg.hips_up_margin_calf
        last = [tt for tt, h in self._height_hist if t_sunk - 2.0 <= tt <= t_sunk and h >= up]
        return last[-1] if last else t_sunk

    def _fast_limit(self) -> float:
        """The too-fast pass speed for this person now: the absolute limit, or too_fast_rel
        times their own pace in this set (the median of their earlier judged passes that
        were not too fast), whichever is lower, but at least the floor."""
        c = self.cfg
        own = [p.speed for p in self._judged if p.speed < self._limit_at.get(id(p), math.inf)]
        limit = c.too_fast_calf_per_s
        if len(own) >= 2:
            limit = min(limit, c.too_fast_rel * float(np.median(own)))
        return max(limit, c.too_fast_floor_calf_per_s)

    def _short_limit(self) -> float:
        """The short-pass length for this person now: the absolute share, or short_stroke_rel
        times their own passes in this set (the median of their earlier judged passes that
        were not short), whichever is longer."""
        c = self.cfg
        own = [p.length for p in self._judged if p.length >= self._short_at.get(id(p), 0.0)]
        limit = c.short_stroke_share
        if len(own) >= 2:
            limit = max(limit, c.short_stroke_rel * float(np.median(own)))
        return limit

    def _sped_up_at(self, p: _Pass, limit: float, since: float) -> float:
        """When the leg first went clearly faster than this person's own rolling, from
        `since` (the pass before a fast run: the person may have sped up part-way through
        it). Their own peak speed (the 95th percentile of the speed before `since`, same
        body, camera and smoothing) times too_fast_onset_rel is the mark; without enough of
        it, the peak of a pass at the limit (pi/2 times its mean for a smooth back-and-
        forth). The speed reading lags the hips by half its windows, taken off."""
        own = np.array([v for t, v in self._speed_hist if t < since])
        if len(own) >= 60:  # ~2 s of rolling at 30 fps
            mark = self.cfg.too_fast_onset_rel * float(np.percentile(own, 95))
        else:
            mark = limit * math.pi / 2
        lag = (self._s_raw.span_s + self._s_hist.span_s) / 2
        for t, v in self._speed_hist:
            if since <= t <= p.t1 and v >= mark:
                return max(since, t - lag)
        return p.t0

    def _s_lag(self) -> float:
        """How far the stroke position lags the hips: it is a trailing median over
        _s_raw's span, half of which it runs behind. Turning points are dated back by it
        (on rendered clips turns read 0.17 s after the truth's, the rest being the pose
        smoother's own lag)."""
        return self._s_raw.span_s / 2

    def _rest_position(self, t: float) -> float:
        """Where the leg rested: the median stroke position more than a second ago."""
        times, vals = self._s_long.times, self._s_long.values()
        if not len(times):
            return NAN
        before = times <= t - 1.0
        return float(np.median(vals[before, 0])) if before.any() else NAN

    def _motion_onset(self, t: float) -> float:
        """When the leg set off: rolling is only recognised once it is under way, so look
        back for the last moment the leg was still where it had been resting."""
        times, vals = self._s_long.times, self._s_long.values()
        rest = self._rest_position(t)
        if len(times) < 3 or not math.isfinite(rest):
            return t
        vals = vals[:, 0]
        near = np.nonzero(np.abs(vals - rest) <= 0.03)[0]  # ~3x the jitter of the signal
        return float(times[near[-1]]) if len(near) else t

    def _start_set(self, t: float) -> None:
        onset = min(t, self._motion_onset(t))
        if self.timer.in_hold and self.timer.good_s == 0.0 and not self.timer.paused:
            self.timer.good_s = t - onset  # the rolling before it was recognised
            self.timer.start_t = onset
        self.sets.start(self.side, onset)
        self.counter.reset()
        self.turns.reset()
        for tt, v in zip(self._s_long.times, self._s_long.values()[:, 0], strict=True):
            if onset <= tt < t:
                self.turns.update(float(tt) - self._s_lag(), float(v))
        self._set_passes, self._set_rot, self._set_clear, self._rot_hist = [], [], [], []
        self._height_hist = []
        self._hips_read = np.zeros(2)
        self._speed_hist = []
        self._prev_fast = False
        self._judged, self._limit_at, self._short_at = [], {}, {}
        self._max_swing = None
        for d in self._fault_detectors():
            d.side = self.side

    def _end_set(self, t: float) -> list[Event]:
        out: list[Event] = []
        # the last pass travelled but never turned back
        self.turns.flush(self._last_moving_t - self._s_lag() if self._last_moving_t is not None else math.inf)
        out += self._take_passes(t, final=True)
        # A hips-down spell that no stroke followed was the person sitting down to rest as
        # the set ended, not rolling with the hips down.
        if self.hips.active:
            self.hips.finish(t)
        self._pending_hips = []
        for d in self._fault_detectors():
            out += d.finish(t)
        rec = self.sets.current
        if rec is not None:
            rec.reps = self.counter.count
            rec.hold_s = self._rolled_s()
            rec.figures.update(self._set_figures())
        self.sets.end(t)
        return out

    def _set_figures(self) -> dict[str, Any]:
        passes = self._set_passes
        lengths = [p.length for p in passes]
        strokes = self.counter.count
        span = (passes[-1].t1 - passes[0].t0) if passes else 0.0
        rot = np.array(self._set_rot)
        clear = np.array(self._set_clear)
        return {
            "strokes": strokes,
            "rolling_s": round(self._rolled_s(), 2),
            "stroke_length_share": round(float(np.median(lengths)), 3) if lengths else None,
            "tempo_spm": round(60.0 * (len(passes) / 2.0) / span, 1) if span > 0 else None,
            "pass_speed_calf_per_s": round(float(np.median([p.speed for p in passes])), 3) if passes else None,
            "foot_turn_range_calf": round(self._swing(rot), 3) if len(rot) else None,
            "hip_height_calf": round(float(np.median(clear)), 3) if len(clear) else None,
            # Share of the rolling the hips' height could be read in (the rolled ankle found
            # on the leg's line): where it is low, hips_down was hardly checked.
            "hips_read_share": round(float(self._hips_read[0] / self._hips_read[1]), 2)
            if self._hips_read[1] else None,
        }

    def _take_passes(self, t: float, final: bool = False) -> list[Event]:
        """Turn newly confirmed turning points into passes, strokes and per-pass faults."""
        out: list[Event] = []
        if self.turns.points and self._pending_hips:
            last_turn = self.turns.points[-1][0]
            done = [e for e in self._pending_hips if (e.t_end_s or e.t_s) < last_turn]
            self._pending_hips = [e for e in self._pending_hips if e not in done]
            out += done
        pts = self.turns.points
        n_done = len(self._set_passes)
        for k in range(n_done + 1, len(pts)):
            (t0, s0), (t1, s1) = pts[k - 1], pts[k]
            p = _Pass(t0, t1, abs(s1 - s0))
            self._set_passes.append(p)
            self._passes.append(p)
            if k % 2 == 0 and self.counter.try_count(t1):
                out.append(Event(t_s=t1, code="stroke", kind="count", side=self.side,
                                 message=f"Stroke {self.counter.count}", value=round(p.length, 3)))
            # The first pass may start anywhere on the calf and the last may stop anywhere:
            # only passes between two real turns are judged.
            first = k == 1
            last = final and k == len(pts) - 1
            if not (first or last):
                short_limit = self._short_limit()
                self._short_at[id(p)] = short_limit
                out += self.short.update(t0, p.length / short_limit)
                limit = self._fast_limit()
                self._limit_at[id(p)] = limit
                fast = p.speed >= limit
                if fast and not self._prev_fast and not self.fast.active:
                    # a run of fast passes begins
                    since = self._judged[-1].t0 if self._judged else p.t0
                    self.fast.onset_hint = self._sped_up_at(p, limit, since)
                self._prev_fast = fast
                self._judged.append(p)
                out += self.fast.update(t0, p.speed / limit)
        return out

    def _update(self, frame: PoseFrame, reliable: bool) -> list[Event]:
        t = frame.t_s
        out: list[Event] = []
        self._vals = {}
        side = self._pick_side(frame.image, frame.seen(self.cfg.min_visibility)) if reliable else None
        rolling = False
        if reliable and side is not None:
            if self.sets.current is None and side != self.side:
                self.side = side
                for w in (self._axis, self._calf, self._s_raw, self._s_hist, self._s_long):
                    w.clear()
                self._anchor = None
            m = self._measure(frame, self.side or side)
            self._vals = m
            posture = not (m["leg_tilt_deg"] > self.cfg.max_leg_tilt_deg
                           or m["knee_rise_calf"] > self.cfg.max_knee_rise_calf)
            settled = self._calf.covered_s() >= 1.0  # the leg's axis and length are known
            moving = posture and settled and m["roll_speed_calf_per_s"] >= self.cfg.rolling_speed_calf_per_s
            if moving and not self.timer.in_hold:
                # A set starts only once the leg has really left where it rested: a burst
                # of jitter can look fast for a moment, lifting the hips shifts the leg a
                # little, neither travels a quarter of the calf.
                moving = abs(m["stroke_position_calf"] - self._rest_position(t)) >= self.cfg.set_start_travel_calf
            if moving:
                self._last_moving_t = t
            rolling = posture and self._last_moving_t is not None and \
                t - self._last_moving_t <= self.cfg.rolling_grace_s
        if rolling:
            self._last_rolling_t = t
        clear = self._hips_down_value(self._vals.get("hip_height_calf", NAN))
        # The set's clock runs while rolling with the hips up (a NaN reading is not "down").
        hips_up = not (math.isfinite(clear) and clear < 0.0)
        # Mirror the timer's clock for the time since the leg last moved (see _trailing_s).
        if self._last_moving_t == t:
            self._trail_good = 0.0
        elif rolling and hips_up and self._prev_t is not None and 0 < t - self._prev_t <= self.timer.max_step_s:
            self._trail_good += t - self._prev_t
        self._prev_t = t
        was_in = self.timer.in_hold
        for ev in self.timer.update(t, rolling, hips_up, reading=reliable):
            out.append(self._rolled(ev))
        if self.timer.in_hold and not was_in:
            self._start_set(self.timer.start_t)
        if was_in and not self.timer.in_hold:
            out += self._end_set(self._last_moving_t if self._last_moving_t is not None else t)
        if self.timer.in_hold and self._vals:
            m = self._vals
            if rolling and not self._unsteady:  # a resting or shifting leg makes no turning points
                self.turns.update(t - self._s_lag(), m["stroke_position_calf"])
            self._speed_hist.append((t, m["roll_speed_calf_per_s"]))
            out += self._take_passes(t)
            if rolling and np.isfinite(m["foot_shape"]).all():
                self._rot_hist.append((t, m["foot_shape"]))
                self._set_rot.append(m["foot_shape"])
            if rolling:
                out += self.no_rot.update(t, self._recent_swing_share(t))
                if self.no_rot.active and self.no_rot.onset_hint is None:
                    self.no_rot.onset_hint = self._still_since(t)
            if math.isfinite(m["hip_height_calf"]):
                self._set_clear.append(m["hip_height_calf"])
            if rolling:
                self._hips_read += (m["hips_read"], 1.0)
            # Hips are judged only while the leg is actually travelling: at the end of a set
            # the person sits down to rest, which is no fault.
            moving = self._last_moving_t is not None and t - self._last_moving_t <= 0.5
            stroking = bool(self.turns.points) and t - self.turns.points[-1][0] <= 5.0
            if math.isfinite(m["hip_height_raw_calf"]):
                self._height_hist.append((t, m["hip_height_raw_calf"]))
            self._pending_hips += self.hips.update(t, clear if moving and stroking else NAN)
            if self.hips.active and self.hips.onset_hint is None and self.hips.onset_t is not None:
                self.hips.onset_hint = self._sank_since(self.hips.onset_t)
        else:
            self._pending_hips += self.hips.update(t, NAN)
        return out

    def _finish(self, t: float) -> list[Event]:
        out: list[Event] = []
        if self.timer.in_hold:
            out += [self._rolled(ev) for ev in self.timer.finish(t)]
            out += self._end_set(self._last_moving_t if self._last_moving_t is not None else t)
        for d in self._fault_detectors():
            out += d.finish(t)
        return out

    def _trailing_s(self) -> float:
        """Clock time counted since the leg last moved: the grace that bridges a turn at
        the end of a pass, which at the end of a set was not rolling."""
        return self._trail_good

    def _rolled_s(self) -> float:
        return max(0.0, self.timer.good_s - (0.0 if self.timer.in_hold else self._trailing_s()))

    def _rolled(self, ev: Event) -> Event:
        """A set's hold event, worded for rolling and ending when the leg last moved."""
        trail = self._trailing_s()
        value = max(0.0, (ev.value or 0.0) - trail)
        end = ev.t_end_s
        if end is not None and self._last_moving_t is not None:
            end = max(ev.t_s, min(end, self._last_moving_t))
        return dataclasses.replace(ev, side=self.side, value=round(value, 3), t_end_s=end, message=(
            f"Rolled the {self.side} calf for {value:.1f} s of {self.cfg.set_target_s:.0f} s"))

    def _fault_detectors(self) -> list[FaultDetector]:
        return [self.hips, self.fast, self.short, self.no_rot]

    # ------------------------------------------------------------------ outputs

    def summary(self) -> dict[str, Any]:
        sets = self.sets.all_sets()
        lengths = [p.length for p in self._passes]
        return {
            "sets": self.sets.to_list(),
            "strokes_total": int(sum(s.reps for s in sets) + (self.counter.count if self.sets.current else 0)),
            "rolling_s_total": round(sum(s.hold_s for s in self.sets.sets) + (
                self._rolled_s() if self.sets.current else 0.0), 2),
            "stroke_length_share_median": round(float(np.median(lengths)), 3) if lengths else None,
            "sets_per_leg": {s: self.sets.sets_done(s) for s in SIDES},
            "notes": self._notes(sets),
        }

    def _notes(self, sets: list[Any]) -> dict[str, str]:
        """What could not be checked, and why, for the report."""
        notes = {}
        unread = [s for s in sets if (s.figures.get("hips_read_share") or 1.0) < self.cfg.hips_read_min_share]
        if unread:
            notes["hips_down"] = (
                f"In {len(unread)} of {len(sets)} sets the rolled ankle was mostly hidden or lost, so "
                "whether the hips stayed lifted was hardly checked: film exactly side-on with both "
                "feet in view.")
        return notes

    def status(self) -> LiveStatus:
        st = LiveStatus(drill=self.drill_id, reading=self.setup.reliable, side=self.side,
                        set_index=len(self.sets.sets) + (1 if self.sets.current else 0),
                        sets_target=2 * int(self.cfg.sets_per_leg),
                        count=self.counter.count if self.sets.current else None, count_label="strokes",
                        hold_s=self.timer.good_s if self.timer.in_hold else None,
                        hold_target_s=self.cfg.set_target_s, hold_paused=self.timer.paused,
                        cues=self.active_cues())
        if self.side is not None:
            leg = [side_lm(self.side, p) for p in ("HIP", "KNEE", "ANKLE", "HEEL", "FOOT_INDEX")]
            if any(c.code in ("short_stroke", "too_fast", "no_rotation") for c in st.cues):
                st.fault_landmarks = frozenset(int(i) for i in leg)
            if any(c.code == "hips_down" for c in st.cues):
                st.fault_landmarks |= frozenset({int(LM.LEFT_HIP), int(LM.RIGHT_HIP)})
        if self._set_passes:
            last = self._set_passes[-1]
            st.info["stroke"] = f"{100 * last.length:.0f}% of calf"
            if len(self._set_passes) >= 2:
                recent = self._set_passes[-4:]
                dur = recent[-1].t1 - recent[0].t0
                if dur > 0:
                    st.info["tempo"] = f"{60 * len(recent) / 2 / dur:.0f} strokes/min"
        if self._set_rot:
            st.info["foot turn"] = f"{100 * self._swing(np.array(self._set_rot[-300:])):.0f}% of calf"
        return st

    def values(self) -> dict[str, float]:
        keys = ("stroke_position_calf", "roll_speed_calf_per_s", "hip_height_calf")
        out = {k: float(self._vals.get(k, NAN)) for k in keys}
        shape = self._vals.get("foot_shape")
        out["foot_turn_calf"] = float(shape[0]) if shape is not None else NAN  # along the shin
        return out
