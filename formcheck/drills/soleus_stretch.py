"""Soleus (knee-to-wall) stretch, seen side-on.

The runner stands in a split stance facing a wall, front knee bent forward toward the
wall, front heel flat. What is measured, on the front leg:

- dorsiflexion: the shank's angle from vertical, positive with the knee ahead of the
  ankle (the knee-to-wall measure); its maximum per hold is the hold's figure. It is
  read against the image's vertical and carries a per-camera bias of a few degrees, not
  noise (within-hold scatter 0.3-1 deg). Rendered holds through the pose model, hold-mean
  error in deg split into its parts: the true vertical's tilt in the image at the ankle
  (a crooked phone's roll, a tilted camera's keystone), the rest of what exact landmarks
  would read (perspective), and where the model puts the knee and ankle points:

    camera               front leg        total  vertical  perspective  model's points
    0.9 m, level         left,  near      +2.0     +0.1       +1.6          +0.3
                         right, near      -1.3     +0.1       +1.6          -2.9
                         left,  far       -3.6     +0.1       -2.1          -1.6
    0.45 m (floor)       right, near      -3.1     -0.3       +0.7          -3.4
                         left,  near      -3.6     -0.3       +0.6          -3.9
                         right, far       -7.6     -0.3       -2.0          -5.4
    1.3 m, 5 deg down    left,  near      +3.8     +0.4       +1.3          +2.2
                         right, near      +0.9     +0.3       +1.3          -0.8
                         left,  far       +2.0     +0.3       -0.4          +2.1
    0.7 m, rolled 3 deg  right, near      -6.7     -3.1       +0.7          -4.3
                         left,  near      +4.4     +2.9       +0.7          +0.7

  None of the three parts can be taken out from what the landmarks show:
  the model's knee point lies off the shank's line by -7 to +6 % of the shank's length,
  and it changes with the leg and its look as much as with the camera (one camera: +0.3
  deg on one leg, -2.9 on the other), so no offset in body units removes it. Perspective
  is the knee, tracking the turned-out toes, nearer the lens than the ankle with the
  front leg on the camera's side and further from it on the far side (the sign flips),
  plus a camera above the shank foreshortening vertical extents; the toe-out, the
  camera's elevation and which leg is nearer are not read reliably from the landmarks.
  The roll could be levelled out against the floor, but the model's floor points are not
  level enough: the front foot's heel-to-toe line (flat by the drill's rule) lies 1.1-5.0
  deg off the floor over these set-ups (sd 1.2 deg, as much as the 3 deg it would remove;
  used with its median offset as the floor it made 5 of 11 set-ups worse, one by 1.7
  deg), and lines between the two feet (heels, toes, ankles) tilt with the camera's height
  times the stance width and flip with the front foot on the far side (levelled by them,
  a far-side clip read 6.5 deg off). Hold figures are therefore comparable between sessions
  filmed from the same spot, not between cameras;
- knee flexion (hip-knee-ankle, 0 = straight);
- heel lift: the heel's (and ankle's) rise above its own flat-foot height, learnt from the
  start of each hold, as a share of foot length (see drills/heel_lift.py).

A hold starts when the person stands still in a split stance (the front ankle ahead of
the back one along the way the toes point) and ends a second after they leave it. Its
timer counts only good-form time: it pauses while the front heel is up or the front knee
is straight, and the status says which. Holds shorter than a few seconds (passing
through the position) are not holds. 3 holds per leg; the front leg is found per hold
from where the feet are, so legs may be switched freely.

Cues: `heel_lift` (side: the front heel), `knee_straight` (side: the front knee).
A person facing the camera gets `wrong_view` (from the shared SetupMonitor) and nothing
is measured or counted until they turn side-on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from formcheck.config import threshold
from formcheck.drills.base import Analyser, LiveStatus
from formcheck.drills.blocks import FaultDetector, HoldTimer, SetTracker
from formcheck.drills.heel_lift import (
    HeelContact,
    HeelCues,
    HeelLiftConfig,
    ReferenceLeg,
    foot_length_px,
    leg_scale_px,
)
from formcheck.drills.hold_clock import GoodTimeLedger
from formcheck.drills.windows import TrailingWindow
from formcheck.events import Event
from formcheck.pose.frame import PoseFrame
from formcheck.pose.geometry import flexion_deg, tilt_from_vertical_deg
from formcheck.pose.landmarks import SIDES, Side, side_lm


@dataclass
class SoleusStretchConfig(HeelLiftConfig):
    hold_s: float = threshold(30.0, "Prescribed hold length: 30 s of good form per hold.")
    heel_lift_on: float = threshold(
        0.04, "Side-on, a heel rise above its flat-foot baseline of this share of foot length "
              "counts as a lift (1 cm on a 25 cm foot; the squat, filmed from the front, keeps "
              "the shared 0.05). Seen in profile the heel reads cleanly: flat heels held a "
              "reading of at most 0.021 for half a second on rendered stretches through the "
              "pose model (side-on and 25 deg off), half this floor. But the model reads the "
              "lift short: a 2 cm lift held 0.050 at most from a phone on the floor 25 deg off "
              "side-on, right at the shared floor, so the floor sits below it with room for "
              "other cameras. A heel the model reads noisily still asks for more "
              "(heel_noise_k).", +1)
    holds_per_leg: int = threshold(3, "Prescribed holds per leg.")
    heel_posture_band_deg: float = threshold(
        8.0, "A heel's flat-foot baseline holds while the shank stays within this many degrees "
             "of its tilt when it was taken: the pose model shifts heel and ankle with the "
             "shank's tilt, so each knee position gets its own baseline.")
    knee_drop_deg: float = threshold(
        12.0, "Front-knee flexion this far below the hold's own deepest bend (or below "
              "knee_bent_min_deg) means the knee has come back off the wall: the stretch then "
              "moves from the soleus to the calf. Above the few degrees people drift.", +1)
    knee_min_on_s: float = threshold(
        1.0, "A knee must stay off the wall this long, with the person still in the split stance, "
             "before its cue shows: standing up out of the stretch straightens it too (the event "
             "still starts where the knee began to straighten).")
    knee_back_deg: float = threshold(
        7.0, "The knee counts as back at the wall once within this of its deepest bend.", +1)
    knee_bent_min_deg: float = threshold(
        35.0, "A knee-to-wall stretch bends the front knee well past this (typically 60-90 deg); "
              "a hold that never gets here is done with the knee straight.")
    lunge_shank_deg: float = threshold(
        5.0, "The front shank leans forward at least this much (knee ahead of the ankle) in the "
              "stretch, also with the knee come off the wall (a straightened knee leaves it ~10-15 "
              "deg); standing in the split stance between holds it leans back (knee behind ankle).")
    settle_rate_deg_s: float = threshold(
        20.0, "The hold's clock starts once the knee stops moving toward the wall (knee flexion "
              "changing slower than this, deg/s), and stops when it moves off again.")
    settle_lag_s: float = threshold(
        0.6, "A knee leaving the wall shows in its trend about this late (the trend is fitted "
             "over 0.4 s, and the pose model and smoother trail the knee by ~0.2 s, measured on "
             "rendered clips): that much good time is taken back when it does.")
    move_min_s: float = threshold(
        0.3, "Once settled, the knee counts as moving again only when its trend stays above "
             "settle_rate_deg_s this long: the pose model throws a landmark for a few frames "
             "now and then, and that is no movement (the clock is then set back to where the "
             "movement began).")
    stagger_min: float = threshold(
        0.5, "Front ankle ahead of the back one by this many foot lengths: a split stance, "
             "not feet side by side.")
    still_span: float = threshold(
        0.35, "Feet that moved more than this many foot lengths in the last second (between the "
              "medians of its first and last thirds, so jitter is no step) are walking or "
              "stepping, not holding a stretch.")
    upright_min: float = threshold(
        0.6, "Hips above the ankles by at least this share of leg length: standing, not "
             "kneeling or sitting.")
    smooth_s: float = threshold(
        0.15, "Median window (s) for the knee and shank angles (the heel has its own, "
              "heel_smooth_s): at rest their scatter stays under ~1 deg with it on rendered holds "
              "through the pose model, and a longer one only lags the knee going to and from the "
              "wall (shank error while it moves ~7 deg with 0.3 s, ~4.5 deg with 0.15 s).")
    baseline_s: float = threshold(
        1.0, "Flat-foot time (s) at the start of each hold (and at each new knee position) before "
             "the heel is judged.")
    min_hold_s: float = threshold(3.0, "Shorter stays in the position are passing through it.")
    leave_grace_s: float = threshold(
        1.0, "A hold ends after the person has been out of the position this long.")


@dataclass
class _Hold:
    """What one hold measured, for its set record."""

    side: Side
    knee_ref: float = 0.0  # the hold's own knee bend at the wall (at least knee_bent_min_deg)
    knee_seen: list[float] = field(default_factory=list)  # settled, heel-down knee flexions
    settled_once: bool = False  # the knee has come to rest at the wall
    max_dorsiflexion_deg: float = float("nan")
    knee_flex_sum: float = 0.0
    knee_flex_n: int = 0
    heel_up_s: float = 0.0
    in_pos_s: float = 0.0
    heel_read_s: float = 0.0
    knee_straight_s: float = 0.0


class SoleusStretchAnalyser(Analyser):
    drill_id = "soleus-stretch"
    views = ("side",)
    required_parts = ("hips", "knees", "feet")
    config_cls = SoleusStretchConfig

    def __init__(self, config: SoleusStretchConfig | None = None, side: str | None = None,
                 variant: str | None = None):
        super().__init__(config, side, variant)
        cfg: SoleusStretchConfig = self.cfg  # type: ignore[assignment]
        self.timer = HoldTimer(target_s=cfg.hold_s, leave_grace_s=cfg.leave_grace_s,
                               min_hold_s=cfg.min_hold_s)
        self.sets = SetTracker(sets_per_side=int(cfg.holds_per_leg))
        self.heel = HeelContact(smooth_s=cfg.heel_smooth_s, min_baseline_s=cfg.baseline_s,
                                posture_band=cfg.heel_posture_band_deg, suspect_above=cfg.heel_lift_off,
                                min_visibility=cfg.min_visibility)
        self.ref_leg = ReferenceLeg()
        # The cues (debounced) and, for pausing the timer, the same thresholds undebounced:
        # the clock must stop the moment the heel is up, not 0.4 s later.
        self.heels = HeelCues(cfg.heel_lift_on, cfg.heel_lift_off, cfg.heel_min_on_s, cfg.min_off_s,
                              noise_on=cfg.heel_noise_k, gate_on_s=cfg.heel_pause_s)
        self.knee_cue = {s: FaultDetector("knee_straight", cfg.knee_drop_deg, cfg.knee_back_deg,
                                          cfg.knee_min_on_s, cfg.min_off_s, side=s) for s in SIDES}
        self.knee_gate = FaultDetector("knee_straight", cfg.knee_drop_deg, cfg.knee_back_deg, 0.0, 0.0)
        self._knee_trend = TrailingWindow(0.4)
        # The knee moving (undebounced trend above settle_rate_deg_s, confirmed after
        # move_min_s once the hold has settled).
        self.move_gate = FaultDetector("moving", 1.0, 0.5, cfg.move_min_s, 0.0)
        self._moving_since: float | None = None
        self.ledger = GoodTimeLedger()
        self._facing = TrailingWindow(1.0)
        self._ankles = TrailingWindow(1.0)
        self._angles = TrailingWindow(cfg.smooth_s)
        self._foot_len = TrailingWindow(1.0)
        self._hold: _Hold | None = None
        self._holds: list[_Hold] = []
        self._out_since: float | None = None
        self._last_in_t: float | None = None
        self._prev_t: float | None = None
        self._vals: dict[str, float] = {}
        self._front: Side | None = None
        self.in_position = False
        self.settled = False

    # --- geometry of one frame -------------------------------------------------------

    def _facing_sign(self, frame: PoseFrame) -> float:
        """+1 when the person faces image-right, -1 image-left: the way the toes point,
        the nose as a fallback (median over the last second)."""
        im = frame.image
        toes = [im[side_lm(s, "FOOT_INDEX"), 0] - im[side_lm(s, "HEEL"), 0] for s in SIDES]
        d = float(np.nanmean(toes)) if np.isfinite(toes).any() else float("nan")
        if not np.isfinite(d):
            hips = (im[side_lm("left", "HIP"), 0] + im[side_lm("right", "HIP"), 0]) / 2
            d = float(im[0, 0] - hips)
        self._facing.add(frame.t_s, d)
        self._facing.trim(frame.t_s)
        m = float(self._facing.median()[0])
        return 1.0 if m > 0 else -1.0 if m < 0 else float("nan")

    def _measure(self, frame: PoseFrame) -> dict[str, Any]:
        im, t = frame.image, frame.t_s
        leg = self.ref_leg.update(t, leg_scale_px(frame))
        facing = self._facing_sign(frame)
        fl = [foot_length_px(frame, s, leg) for s in SIDES]
        self._foot_len.add(t, np.nanmax(fl) if np.isfinite(fl).any() else np.nan)
        foot = float(self._foot_len.median()[0])
        ax = {s: im[side_lm(s, "ANKLE"), 0] * facing for s in SIDES}
        front: Side = "left" if ax["left"] >= ax["right"] else "right"
        back: Side = "right" if front == "left" else "left"
        stagger = (ax[front] - ax[back]) / foot if foot > 0 else float("nan")
        # Pixels in the window, scaled once: dividing each frame's position by that frame's
        # foot length would turn the foot length's own jitter into apparent movement.
        self._ankles.add(t, np.concatenate([im[side_lm(s, "ANKLE"), :2] for s in SIDES]))
        self._ankles.trim(t)
        moved = _moved(self._ankles) / foot if foot > 0 else float("nan")
        ankle_y = np.nanmean([im[side_lm(s, "ANKLE"), 1] for s in SIDES])
        hip_y = np.nanmean([im[side_lm(s, "HIP"), 1] for s in SIDES])
        upright = (ankle_y - hip_y) / leg if leg > 0 else float("nan")
        hip, knee, ankle = (im[side_lm(front, p)] for p in ("HIP", "KNEE", "ANKLE"))
        knee_raw = float(flexion_deg(hip, knee, ankle))
        self._angles.add(t, [knee_raw, float(tilt_from_vertical_deg(knee, ankle)) * facing])
        self._angles.trim(t)
        knee_flex, dorsi = ((float(v) for v in self._angles.median()) if len(self._angles)
                            else (float("nan"), float("nan")))
        return {"leg": leg, "facing": facing, "front": front, "stagger": stagger, "moved": moved,
                "upright": upright, "knee_flex": knee_flex, "dorsi": dorsi, "knee_raw": knee_raw}

    # --- the drill --------------------------------------------------------------------

    def _update(self, frame: PoseFrame, reliable: bool) -> list[Event]:
        cfg: SoleusStretchConfig = self.cfg  # type: ignore[assignment]
        t = frame.t_s
        dt = 0.0 if self._prev_t is None else t - self._prev_t
        self._prev_t = t
        out: list[Event] = []
        m = self._measure(frame) if reliable else None
        in_pos = bool(
            m is not None and np.isfinite(m["facing"])
            and m["stagger"] >= cfg.stagger_min and m["moved"] <= cfg.still_span
            and m["upright"] >= cfg.upright_min and m["dorsi"] >= cfg.lunge_shank_deg)
        self.in_position = in_pos
        self._front = m["front"] if m is not None else None

        # A hold in progress whose front leg changed after the person left the position
        # is a new hold on the other leg (they switched legs within the grace time).
        if (in_pos and self.timer.in_hold and self._hold is not None and self._out_since is not None
                and m is not None and m["front"] != self._hold.side):
            out += self._end_hold(self.timer.finish(t))
        if in_pos:
            self._out_since = None
            self._last_in_t = t
        elif self.timer.in_hold and self._out_since is None:
            self._out_since = t

        if in_pos and not self.timer.in_hold and m is not None:
            self._start_hold(t, m["front"])

        side = self._hold.side if self._hold is not None else None
        lift = knee = dorsi = drop = float("nan")
        settled = False
        if in_pos and m is not None and side is not None and self._hold is not None:
            # Measure the foot that is in front now (by position, not label: a model that
            # swaps the legs' labels mid-hold still follows the same physical leg).
            lift = self.heel.update(t, frame, m["leg"], m["dorsi"], (m["front"],))[m["front"]]
            knee, dorsi = m["knee_flex"], m["dorsi"]
            # The knee's straightening is judged against this hold's own bend at the wall:
            # the upper quartile of its settled readings with the heel down (a maximum
            # would creep up with the pose's jitter, and a lifting heel bends the knee
            # further for as long as it is up).
            if math.isfinite(knee):
                h = self._hold
                if self.settled and not self.heels.up():
                    h.knee_seen.append(knee)
                ref = float(np.percentile(h.knee_seen, 75)) if h.knee_seen else knee
                h.knee_ref = max(cfg.knee_bent_min_deg, ref)
                drop = h.knee_ref - knee
                # Unsmoothed, so the clock stops as soon as the knee starts to move.
                self._knee_trend.add(t, m["knee_raw"])
            self._knee_trend.trim(t)
            rate = _slope(self._knee_trend)
            # The trend needs most of its window before it says the knee is still.
            covered = self._knee_trend.covered_s() >= 0.75 * self._knee_trend.span_s
            still = covered and math.isfinite(rate) and abs(rate) <= cfg.settle_rate_deg_s
            self.move_gate.update(t, (0.0 if still else 1.0) if math.isfinite(rate) else None)
            if still:
                self._moving_since = None
            elif self._moving_since is None:
                self._moving_since = t
            h = self._hold
            # Until the knee first comes to rest the clock waits for it; from then on a
            # movement must last move_min_s to stop it.
            h.settled_once = h.settled_once or still
            settled = not self.move_gate.active if h.settled_once else still
        drop_v = drop if math.isfinite(drop) else None
        self.knee_gate.update(t, drop_v)
        front = m["front"] if m is not None else None
        if side is not None:
            rise = {side: self.heel.rise_start.get(front) if front is not None else None}
            foot_cm = {side: self.heel.foot_cm.get(front, 25.0) if front is not None else 25.0}
            scatter = {side: self.heel.scatter.get(front, 0.0) if front is not None else 0.0}
            out += self.heels.update(t, {side: lift}, rise, foot_cm, scatter)
        for s in SIDES:
            out += self.knee_cue[s].update(t, drop_v if s == side else None)
        self.settled = settled
        heel_up = self.heels.up()
        good = not heel_up and not self.knee_gate.active and settled
        if self._hold is not None and in_pos and 0 < dt <= self.timer.max_step_s:
            h = self._hold
            h.in_pos_s += dt
            if math.isfinite(lift):
                h.heel_read_s += dt
            if heel_up:
                h.heel_up_s += dt
            if self.knee_gate.active:
                h.knee_straight_s += dt
            if math.isfinite(knee):
                h.knee_flex_sum += knee
                h.knee_flex_n += 1
            if math.isfinite(dorsi) and not heel_up:
                h.max_dorsiflexion_deg = (dorsi if not math.isfinite(h.max_dorsiflexion_deg)
                                          else max(h.max_dorsiflexion_deg, dorsi))
        was, before = self.timer.in_hold, self.timer.good_s
        ended = self.timer.update(t, in_pos, good, reading=reliable)
        self.ledger.record(t, self.timer.good_s - before)
        if not good and self.timer.in_hold:
            # The clock is stopped; each reason began a little before it was recognised.
            # Take back what was counted since the earliest (repeating it is harmless: what
            # was taken back is gone).
            onsets = [g.onset_t for g in (self.knee_gate,) if g.active and g.onset_t is not None]
            if self.heels.up_since() is not None:
                onsets.append(self.heels.up_since())
            if (not settled or not in_pos) and self._moving_since is not None:
                # Unsettled, or out of the position: the knee began to move (to leave) here.
                onsets.append(self._moving_since - cfg.settle_lag_s)
            if onsets:
                self.ledger.take_back(self.timer, min(onsets))
        if was and not self.timer.in_hold:
            out += self._end_hold(ended)
        lift_cm = self.heel.lift_cm(front) if front is not None else math.nan
        self._vals = {"dorsiflexion_deg": dorsi, "shank_angle_deg": dorsi, "knee_flexion_deg": knee,
                      "heel_lift_cm": lift_cm}
        if side is not None:
            self._vals |= {f"shank_angle_deg_{side}": dorsi, f"knee_flexion_deg_{side}": knee,
                           f"heel_lift_cm_{side}": lift_cm}
        return out

    def _start_hold(self, t: float, side: Side) -> None:
        cfg: SoleusStretchConfig = self.cfg  # type: ignore[assignment]
        self._hold = _Hold(side=side, knee_ref=cfg.knee_bent_min_deg)
        self._knee_trend.clear()
        self.move_gate.finish(t)
        self._moving_since = None
        self.timer.side = side
        self.heel.start(t)
        self.ref_leg.frozen = True
        self.knee_gate.finish(t)

    def _end_hold(self, hold_events: list[Event]) -> list[Event]:
        """Close the hold's cues and record its set (only holds long enough count)."""
        out: list[Event] = []
        h = self._hold
        t_end = self._last_in_t if self._last_in_t is not None else (self.last_t or 0.0)
        if h is not None:
            out += self.knee_cue[h.side].finish(t_end)
            # A knee that was straightening as the person left is them standing up.
            self.knee_cue[h.side].reset()
        out += self.heels.finish(t_end, {s: self._foot_cm() for s in SIDES})
        self.knee_gate.finish(t_end)
        for ev in hold_events:
            if h is not None:
                # A set is one leg's run of holds (3 per leg): holds on the same leg add to
                # it, a hold on the other leg starts the next set.
                rec = self.sets.current
                if rec is None or rec.side != h.side:
                    if rec is not None:
                        self.sets.end(rec.t_end_s if rec.t_end_s is not None else ev.t_s)
                    rec = self.sets.start(h.side, ev.t_s)
                rec.reps += 1
                rec.hold_s += float(ev.value or 0.0)
                rec.t_end_s = ev.t_end_s if ev.t_end_s is not None else ev.t_s
                rec.figures.setdefault("holds", []).append(
                    {"t_s": round(ev.t_s, 3), "hold_s": round(float(ev.value or 0.0), 2),
                     **self._hold_figures(h)})
                dors = [x["max_dorsiflexion_deg"] for x in rec.figures["holds"]
                        if x["max_dorsiflexion_deg"] is not None]
                rec.figures["max_dorsiflexion_deg"] = max(dors) if dors else None
                self._holds.append(h)
        out += hold_events
        self._hold = None
        self._out_since = None
        self.heel.stop()
        self.ref_leg.frozen = False
        return out

    @staticmethod
    def _hold_figures(h: _Hold) -> dict[str, Any]:
        return {
            "max_dorsiflexion_deg": round(h.max_dorsiflexion_deg, 1)
            if math.isfinite(h.max_dorsiflexion_deg) else None,
            "mean_knee_flexion_deg": round(h.knee_flex_sum / h.knee_flex_n, 1) if h.knee_flex_n else None,
            "heel_up_s": round(h.heel_up_s, 2),
            # Share of the hold the heel could be judged in (the rest it was being learnt).
            "heel_read_share": round(h.heel_read_s / h.in_pos_s, 2) if h.in_pos_s else None,
            "knee_straight_s": round(h.knee_straight_s, 2),
        }

    def _finish(self, t: float) -> list[Event]:
        out: list[Event] = []
        if self.timer.in_hold:
            out += self._end_hold(self.timer.finish(t))
        if self.sets.current is not None:
            self.sets.end(self.sets.current.t_end_s or t)
        out += self.heels.finish(t, {s: self._foot_cm() for s in SIDES})
        for s in SIDES:
            out += self.knee_cue[s].finish(t)
        return out

    def _foot_cm(self) -> float:
        """The measured foot's length in cm (what a heel event's value is scaled by)."""
        front = self._front
        return self.heel.foot_cm.get(front, 25.0) if front is not None else 25.0

    def _fault_detectors(self) -> list[FaultDetector]:
        return [*self.heels.detectors, *self.knee_cue.values()]

    # --- outputs ----------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        cfg: SoleusStretchConfig = self.cfg  # type: ignore[assignment]
        per_leg: dict[str, Any] = {}
        for s in SIDES:
            hs = [h for h in self._holds if h.side == s]
            dors = [h.max_dorsiflexion_deg for h in hs if math.isfinite(h.max_dorsiflexion_deg)]
            per_leg[s] = {
                "holds": len(hs),
                "max_dorsiflexion_deg": round(max(dors), 1) if dors else None,
                "hold_s": round(sum(r.hold_s for r in self.sets.all_sets() if r.side == s), 2),
            }
        return {
            "sets": self.sets.to_list(),
            "hold_target_s": cfg.hold_s,
            "holds_per_leg_target": int(cfg.holds_per_leg),
            "legs": per_leg,
            "heel_lifts": sum(len(d.events) for d in self.heels.detectors),
            "knee_straight_cues": sum(len(d.events) for d in self.knee_cue.values()),
        }

    def status(self) -> LiveStatus:
        cfg: SoleusStretchConfig = self.cfg  # type: ignore[assignment]
        side = self._hold.side if self._hold is not None else self._front
        st = LiveStatus(drill=self.drill_id, reading=self.setup.reliable, side=side,
                        sets_target=int(cfg.holds_per_leg), hold_target_s=cfg.hold_s,
                        cues=self.active_cues())
        if side is not None:
            cur = self.sets.current
            done = cur.reps if cur is not None and cur.side == side else 0
            st.set_index = min(done + 1, int(cfg.holds_per_leg))
        if self.timer.in_hold:
            st.hold_s = round(self.timer.good_s, 1)
            st.hold_paused = self.timer.paused
            why = [w for w, on in (("heel up", self.heels.up()),
                                   ("knee off the wall", self.knee_gate.active),
                                   ("out of position", not self.in_position),
                                   ("settling", self.in_position and not self.settled)) if on]
            if self.timer.paused and why:
                st.info["paused"] = ", ".join(why)
        v = self._vals
        if math.isfinite(v.get("dorsiflexion_deg", math.nan)):
            st.info["dorsiflexion"] = f"{v['dorsiflexion_deg']:.0f} deg"
        if math.isfinite(v.get("knee_flexion_deg", math.nan)):
            st.info["knee"] = f"{v['knee_flexion_deg']:.0f} deg"
        if math.isfinite(v.get("heel_lift_cm", math.nan)):
            st.info["heel"] = f"{max(0.0, v['heel_lift_cm']):.1f} cm"
        lms: set[int] = set()
        if side is not None:
            if self.heels.cued(side):
                lms |= {int(side_lm(side, p)) for p in ("HEEL", "ANKLE", "FOOT_INDEX")}
            if self.knee_cue[side].active:
                lms |= {int(side_lm(side, p)) for p in ("HIP", "KNEE", "ANKLE")}
        st.fault_landmarks = frozenset(lms)
        return st

    def values(self) -> dict[str, float]:
        """Front leg: dorsiflexion_deg (= shank_angle_deg, the synth truth's name),
        knee_flexion_deg, heel_lift_cm; the same per side (suffix _left/_right) for the
        leg in front, NaN for the other."""
        out = {k: math.nan for k in ("dorsiflexion_deg", "shank_angle_deg", "knee_flexion_deg",
                                      "heel_lift_cm")}
        for s in SIDES:
            out |= {f"shank_angle_deg_{s}": math.nan, f"knee_flexion_deg_{s}": math.nan,
                    f"heel_lift_cm_{s}": math.nan}
        out.update({k: float(v) for k, v in self._vals.items()})
        return out


def _slope(win: TrailingWindow) -> float:
    """Rate of change per second of a scalar window, by Siegel's repeated median (NaN with
    fewer than three samples): the pose model now and then throws a landmark for a few
    frames, and a least-squares trend would read that as the knee moving."""
    if len(win) < 3:
        return float("nan")
    t, v = win.times, win.values()[:, 0]
    dt = t[None, :] - t[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        s = (v[None, :] - v[:, None]) / dt
    np.fill_diagonal(s, np.nan)
    return float(np.median(_row_nanmedian(s)))


def _row_nanmedian(a: np.ndarray) -> np.ndarray:
    """np.nanmedian(a, axis=1) without its masked-array path (~0.7 ms a call on the
    small windows here, called every frame; sorting puts the NaNs last)."""
    k = (~np.isnan(a)).sum(axis=1)
    k1 = np.maximum(k, 1)
    srt = np.sort(a, axis=1)
    rows = np.arange(len(a))
    med = 0.5 * (srt[rows, (k1 - 1) // 2] + srt[rows, k1 // 2])
    med[k == 0] = np.nan
    return med


def _moved(win: TrailingWindow) -> float:
    """How far the points in a window travelled: the largest change of any component
    between the medians of its first and last thirds (medians, so the feet's frame-to-frame
    jitter is not read as a step). 0 with fewer than three samples."""
    v = win.values()
    if len(v) < 3:
        return 0.0
    k = max(1, len(v) // 3)
    return float(np.max(np.abs(np.median(v[-k:], axis=0) - np.median(v[:k], axis=0))))
