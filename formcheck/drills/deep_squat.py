"""Deep squat ankle stretch, seen from the front or the side.

The runner sinks into a deep squat, feet a little wider than the hips (toes may turn
out), both heels on the floor, and holds it for 60 s, three times; gentle side-to-side
rocking is allowed and encouraged. Measured:

- depth: the thigh's angle below horizontal (positive = hips below knees) and knee
  flexion. Side-on both come straight from the image. From the front the thigh points at
  the camera, so the image cannot show it: the model's 3D world landmarks are used
  instead, which are approximate (summary `notes` says so);
- heel lift per side, against each heel's own flat-foot height learnt during the hold
  (drills/heel_lift.py; from the front with the pose model's habit of raising the heel
  the weight rocks off learnt as well). Side-on the heels are not judged (SIDE_HEEL_NOTE):
  at the bottom of a deep squat they are hidden under the thighs;
- front view only (side-on they lie along the line of sight and are reported as
  unavailable, never guessed): stance width (ankle distance over hip width), toe-out per
  foot, knees tracking over the toes (the knee's sideways offset from its ankle beyond
  where it goes with the rocking hips, learnt per knee: KneeTrack), and
  side-to-side rocking (amplitude and count: reported, never a fault).

A hold starts when the hips drop well below standing height and ends a second after the
person stands up; its timer counts only time in a valid deep squat (deep enough) with
both heels down, and pauses otherwise, saying why. Holds shorter than a few seconds (a
squat repetition passing through the bottom) are not holds.

Cues: `heel_lift` (side: the heel), `too_shallow`, `stance_narrow`, `knee_valgus` (side:
the knee that caves in).
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from formcheck.config import threshold
from formcheck.drills.base import Analyser, LiveStatus
from formcheck.drills.blocks import Counter, FaultDetector, HoldTimer, SetTracker
from formcheck.drills.heel_lift import (
    HeelContact,
    HeelCues,
    HeelLiftConfig,
    ReferenceLeg,
    leg_scale_px,
)
from formcheck.drills.hold_clock import GoodTimeLedger
from formcheck.drills.windows import TrailingWindow
from formcheck.events import Event
from formcheck.pose.frame import PoseFrame
from formcheck.pose.geometry import flexion_deg
from formcheck.pose.landmarks import LM, SIDES, Side, side_lm

# Why a measurement is missing, for the summary's notes.
SIDE_VIEW_NOTE = "not measurable side-on (it lies along the camera's line of sight): film from the front"
FRONT_DEPTH_NOTE = ("from the front the thighs point at the camera: depth and knee flexion come from the "
                    "model's 3D estimate and are approximate")
# Measured on rendered squats through the pose model: side-on, the near heel sits under
# the thigh and buttock at the bottom of a deep squat (the far one behind the near foot),
# and the model's reading of it swung by +-2-3 cm with the rocking (which moves along the
# line of sight, where it cannot be measured) while 3 cm lifts read as ~1.5 cm.
SIDE_HEEL_NOTE = ("side-on the heels are hidden under the thighs at the bottom of a deep squat and "
                  "cannot be checked reliably: film from the front to have them checked")


# Per-frame measurements (values()), named like the synthetic actor's truth where it has
# the same quantity: depth_deg (+ hips below knees), knee flexion (0 = straight), heel
# lift, stance widths; knee_inward_pct: the knee's inward shift since the hold settled.
VALUE_KEYS = (
    "depth_deg", "knee_flexion_deg", "knee_flexion_deg_left", "knee_flexion_deg_right",
    "heel_lift_cm_left", "heel_lift_cm_right", "stance_width_ratio", "stance_width_cm",
    "toe_out_deg_left", "toe_out_deg_right", "knee_inward_pct_left", "knee_inward_pct_right",
    "rock_shift_pct", "rock_shift_cm",
)


@dataclass
class DeepSquatConfig(HeelLiftConfig):
    hold_s: float = threshold(60.0, "Prescribed hold length: 60 s in a deep squat.")
    holds: int = threshold(3, "Prescribed number of holds.")
    standing_hip_height: float = threshold(
        0.9, "Hips at least this share of standing leg length above the ankles: standing tall, "
             "before a descent begins.")
    feet_set_s: float = threshold(
        3.0, "Feet placed this long before the descent are placed for the squat: a narrow "
             "stance cue starts where they were set.")
    squat_hip_height: float = threshold(
        0.8, "Hips lower than this share of standing leg length above the ankles: squatting "
             "(standing ~0.95, half squat ~0.7, deep squat ~0.35).")
    heel_held_on: float = threshold(
        0.035, "A heel reading at least this share of foot length above its flat-foot baseline "
               "for heel_held_s is a lift too (below heel_lift_on: a 1.5 cm lift the pose model "
               "reads short). Flat heels' readings on rendered squats (64 feet, four bodies and "
               "cameras, rocking) never stayed above 0.022 for a second, and first did so at "
               "0.02: the pose model's rocking artefact comes and goes with each rock (~0.5-0.8 "
               "s over a level), a lifted heel stays up.", +1)
    heel_held_s: float = threshold(
        1.0, "How long (s) a heel must read over heel_held_on to be called lifted (the event "
             "still starts where the rise began).")
    heel_held_noise_k: float = threshold(
        2.5, "heel_held_on rises to this many times the heel's own flat-foot scatter where that "
             "is larger (a heel read poorly asks for a bigger lift).", +1)
    too_shallow_deg: float = threshold(
        -10.0, "Thigh angle below horizontal under which the squat is too shallow: the hips are "
               "clearly above the knees (0 = thighs level). The margin covers the depth error of "
               "a 2D/3D pose estimate.", -1)
    deep_enough_deg: float = threshold(
        -4.0, "Thigh angle above which a too-shallow squat counts as deep again (hysteresis).", -1)
    front_hip_above_knee: float = threshold(
        0.03, "From the front, the image must also show the hips above the knees by this share "
              "of leg length before a squat is called too shallow (the 3D depth guess alone "
              "is not trusted for a cue).", -1)
    static_min_on_s: float = threshold(
        0.8, "Depth, stance and knee cues in a held squat wait this long: the position is "
             "held for a minute, so a fault that matters lasts; brief ones are pose noise.")
    heel_posture_band: float = threshold(
        0.08, "A heel's flat-foot height learnt with the hips at one level holds while they stay "
              "within this share of leg length of it: the pose model shifts heel and ankle with "
              "the shank's tilt, so each depth gets its own baseline. A 3 cm lift raises the "
              "hips by at most ~0.04.")
    stance_narrow_ratio: float = threshold(
        1.0, "Heel-to-heel distance over hip width (seen from the front) below which the stance "
             "is narrow: the drill asks for feet a little wider than the hips (~1.2-1.6).", -1)
    stance_ok_ratio: float = threshold(
        1.1, "Heel-to-heel distance over hip width above which a narrow-stance cue clears.", -1)
    valgus_on: float = threshold(
        0.06, "Knee moved inward by this share of leg length (~5 cm) from where it sits over the "
              "foot with the hips where they are now, learnt during the hold (seen from the "
              "front): it caves in instead of tracking over the toes. People differ in where "
              "their knees sit and in how they follow the hips as they rock, so each knee is "
              "judged against its own (KneeTrack).", +1)
    valgus_off: float = threshold(0.035, "Inward knee shift below which a knee-valgus cue clears.", +1)
    valgus_rise_from: float = threshold(
        0.02, "A knee-valgus event starts where the knee's inward shift rose past this share of "
              "leg length (~1.7 cm, the wander of a knee tracking over its toes on rendered "
              "squats through the pose model), not where it reached valgus_on.")
    valgus_back_s: float = threshold(
        1.0, "...at most this long (s) before it reached valgus_on: the reading climbs to the "
             "cue's level within a few tenths of a second of the knee caving.")
    valgus_inside_ankle: float = threshold(
        0.07, "A knee this far inside its ankle (share of leg length) caves in whatever its "
              "start: the knee-valgus cue fires there too.", +1)
    knee_hip_margin: float = threshold(
        0.01, "A knee is judged with the hips up to this share of leg length (~1 cm) further "
              "sideways than anything learnt so far in the hold; beyond, the first rock to a "
              "side is learnt, not judged (how far the knee follows cannot be guessed).")
    rock_min: float = threshold(
        0.06, "Hip shift to one side, as a share of stance width from the hold's own centre, "
              "that counts as rocking to that side (gentle rocking moves ~5-15 %).")
    settle_span: float = threshold(
        0.06, "Hips that moved up or down more than this share of leg length in the last 1.5 s "
              "are still going down or up: depth is only judged once settled.")
    smooth_s: float = threshold(
        0.3, "Median window (s) for angles, widths and heel height.")
    baseline_s: float = threshold(
        1.0, "Flat-foot time a posture needs before its heels are judged (s).")
    min_hold_s: float = threshold(3.0, "Shorter stays at the bottom are repetitions, not holds.")
    leave_grace_s: float = threshold(
        1.0, "A hold ends after the person has been out of the squat this long.")


@dataclass
class _Hold:
    depth: list[float] = field(default_factory=list)
    knee: list[float] = field(default_factory=list)
    stance: list[float] = field(default_factory=list)
    toe_out: dict[str, list[float]] = field(default_factory=lambda: {"left": [], "right": []})
    heel_up_s: float = 0.0
    in_pos_s: float = 0.0
    heel_read_s: dict[str, float] = field(default_factory=lambda: {"left": 0.0, "right": 0.0})
    shallow_s: float = 0.0
    rocks: int = 0
    rock_peaks: list[float] = field(default_factory=list)  # |shift| at each rock, cm
    view: str = "unknown"


@dataclass
class KneeTrack:
    """Where one knee sits sideways (over its ankle) for where the body is over the feet,
    learnt through the hold, and how far it is inside that now.

    A squatting person who rocks sideways (as the drill asks) moves the hips over one foot
    and off the other, and the knees go with them: how much depends on the stance and the
    body, and the pose model exaggerates it (on rendered narrow-stance squats the model's
    knee moved 1.3-2.2 times the hips' sideways shift toward the other foot, the true knee
    ~0.3 times, and hardly at all as the hips came over the same foot; with a wider stance it
    moved the other way, outward; on a broad body with the arms between the knees it snapped
    ~15 % of leg length inward each time the hips came over its foot, the true knee not
    moving). The relation is neither linear nor the same for two bodies, so each knee's place
    is looked up, not fitted: the median of the knee's places in the `near_s` worth of the
    hold's samples nearest to where the body's midline is now (the middle of hips and
    shoulders relative to the same ankle, share of leg length: see _measure; a single hip is
    no good, the model swaps left and right hips at moments). Only samples at least `lag_s`
    old are used (a caving knee is compared with the past, never with itself), samples that
    read as caved in left out. A caving knee moves inward without the midline. With the
    midline further sideways than anything learnt (`margin` beyond), the knee is allowed to
    have followed it inward by up to `follow_max` times the excess, so a first rock to a side
    is learnt, not judged as a caving knee, while a knee that caves further than that still
    reads.
    """

    lag_s: float = 1.0
    min_s: float = 1.0
    margin: float = 0.01
    suspect: float = 0.035
    refit_s: float = 0.25
    # In midline units: the knees' fitted slopes against the midline on 30 clean and heel
    # clips (suite and held-out draws 1-3, through the model) reached 1.3-1.5, once 1.8; the
    # midline moves 1.2-2.3 times as far as the hips' middle (the shoulders sway further), so
    # 2.2 times the hips' shift is at most 2.2 / 1.22 = 1.8 times the midline's.
    follow_max: float = 1.8
    # Seconds' worth of samples the knee's place is the median of: enough to outvote the
    # model's 0.1-0.3 s glitches (a knee or hip misplaced for a few frames), while a rock's
    # extreme, held ~1 s, still has that many samples of its own.
    near_s: float = 0.5

    _rows: list[tuple[float, float, float, float]] = field(default_factory=list, init=False)
    _fit: tuple[np.ndarray, np.ndarray, int] | None = field(default=None, init=False)
    _fit_t: float = field(default=-math.inf, init=False)
    _last: float = field(default=float("nan"), init=False)
    _in_range: bool = field(default=False, init=False)

    def update(self, t: float, knee: float, midline: float) -> float:
        """Feed the knee's and the midline's sideways places (+ medial, share of leg length);
        returns the knee's inward shift beyond its learnt place (NaN while there is none)."""
        # A sample that read as caved in stays out of the learnt places, so a caving knee is
        # not learnt as where the knee sits; but not one judged beyond the learnt range of
        # the midline, or the knee's following a first rock could never be learnt.
        usable = 0.0 if self._last > self.suspect and self._in_range else 1.0
        self._rows.append((t, knee, midline, usable))
        if t - self._fit_t >= self.refit_s:
            self._fit, self._fit_t = self._refit(t), t
        if self._fit is None:
            self._last = float("nan")
            return self._last
        places, knees, n = self._fit
        lo, hi = float(places.min()), float(places.max())
        # Further sideways than anything learnt, the knee may have gone inward with the
        # midline by up to follow_max times the excess: only what is beyond that is caving.
        excess = max(lo - self.margin - midline, midline - hi - self.margin, 0.0)
        self._in_range = excess == 0.0
        h = min(max(midline, lo), hi)
        near = np.argpartition(np.abs(places - h), n)[:n] if len(places) > n else slice(None)
        self._last = knee - float(np.median(knees[near])) - self.follow_max * excess
        return self._last

    def _refit(self, t: float) -> tuple[np.ndarray, np.ndarray, int] | None:
        r = np.array(self._rows)
        r = r[(r[:, 0] <= t - self.lag_s) & (r[:, 3] > 0)]
        if len(r) < 3 or float(r[-1, 0] - r[0, 0]) < self.min_s * 0.9:
            return None
        dt = float(np.median(np.diff(r[:, 0])))
        n = max(3, round(self.near_s / max(dt, 1e-3)))
        return r[:, 2].copy(), r[:, 1].copy(), n


def _trunk_mid_x(im: np.ndarray) -> float:
    """The image x of the trunk's midline: the mean of the hips' and shoulders' middles (the
    hips' alone where the shoulders are not seen)."""
    hips = (im[LM.LEFT_HIP, 0] + im[LM.RIGHT_HIP, 0]) / 2
    shoulders = (im[LM.LEFT_SHOULDER, 0] + im[LM.RIGHT_SHOULDER, 0]) / 2
    return float((hips + shoulders) / 2) if np.isfinite(shoulders) else float(hips)


def _angle_below_horizontal(hip: np.ndarray, knee: np.ndarray, down: np.ndarray) -> float:
    """Angle (deg) of the hip below the knee: + hips below knees. `down` is the unit
    'down' direction of the frame the points are in."""
    d = hip - knee
    vert = float(np.dot(d, down))
    horiz = float(np.linalg.norm(d - vert * down))
    return math.degrees(math.atan2(vert, horiz)) if np.isfinite([vert, horiz]).all() else float("nan")


class DeepSquatAnalyser(Analyser):
    drill_id = "deep-squat"
    views = ("front", "side")
    required_parts = ("hips", "knees", "feet")
    config_cls = DeepSquatConfig

    def __init__(self, config: DeepSquatConfig | None = None, side: str | None = None,
                 variant: str | None = None):
        super().__init__(config, side, variant)
        cfg: DeepSquatConfig = self.cfg  # type: ignore[assignment]
        self.timer = HoldTimer(target_s=cfg.hold_s, leave_grace_s=cfg.leave_grace_s,
                               min_hold_s=cfg.min_hold_s)
        self.sets = SetTracker(sets_per_side=int(cfg.holds), sides=(None,))
        self.ref_leg = ReferenceLeg()
        self.heel = HeelContact(smooth_s=cfg.heel_smooth_s, min_baseline_s=cfg.baseline_s,
                                posture_band=cfg.heel_posture_band, suspect_above=cfg.heel_lift_off,
                                min_visibility=cfg.min_visibility)
        mk = FaultDetector
        # Each heel's cue, and its undebounced twin that pauses the timer.
        self.heels = HeelCues(cfg.heel_lift_on, cfg.heel_lift_off, cfg.heel_min_on_s, cfg.min_off_s,
                              noise_on=cfg.heel_noise_k, gate_on_s=cfg.heel_pause_s,
                              held_on=cfg.heel_held_on, held_min_on_s=cfg.heel_held_s,
                              noise_held=cfg.heel_held_noise_k)
        self.valgus_cue = {s: mk("knee_valgus", cfg.valgus_on, cfg.valgus_off, cfg.static_min_on_s,
                                 cfg.min_off_s, side=s) for s in SIDES}
        self.shallow_cue = mk("too_shallow", cfg.too_shallow_deg, cfg.deep_enough_deg,
                              cfg.static_min_on_s, cfg.min_off_s, below=True)
        self.narrow_cue = mk("stance_narrow", cfg.stance_narrow_ratio, cfg.stance_ok_ratio,
                             cfg.static_min_on_s, cfg.min_off_s, below=True)
        # Undebounced twin that pauses the timer the moment the form breaks.
        self.shallow_gate = mk("too_shallow", cfg.too_shallow_deg, cfg.deep_enough_deg, 0.0, 0.0,
                               below=True)
        self.rock_counter = Counter(refractory_s=0.3)
        self.ledger = GoodTimeLedger()
        self._withheld: list[tuple[float, float]] = []  # (t, s) the clock held back for a heel cue alone
        self._shallow_onset: float | None = None
        self._valgus_hist: dict[str, deque[tuple[float, float]]] = {}
        self._valgus_onset: dict[str, float] = {}
        self._knee_track: dict[str, KneeTrack] = {}
        self._standing_t: float | None = None
        self._descent_t: float | None = None
        self._narrow_since: float | None = None
        self._narrow_run_t: float | None = None  # where the narrow stance of this squat began
        self._knee_level: dict[str, float] = {}
        self._knee_capture: dict[str, TrailingWindow] = {}
        self._win: dict[str, TrailingWindow] = {}
        self._hip_h = TrailingWindow(1.5)
        self._hold: _Hold | None = None
        self._holds: list[_Hold] = []
        self._rock_side = 0
        self._rock_centre = TrailingWindow(10.0)
        self._rock_peak = 0.0
        self._prev_t: float | None = None
        self._vals: dict[str, float] = {}
        self._notes: dict[str, str] = {}
        self.in_position = False

    # --- geometry of one frame -------------------------------------------------------

    def _measure(self, frame: PoseFrame, view: str) -> dict[str, float]:
        """Raw per-frame measurements (NaN where the view cannot support them)."""
        im, w = frame.image, frame.world
        nan = float("nan")
        m: dict[str, float] = {}
        leg = self.ref_leg.update(frame.t_s, leg_scale_px(frame))
        m["leg"] = leg
        ankle_y = np.nanmean([im[side_lm(s, "ANKLE"), 1] for s in SIDES])
        hip_y = np.nanmean([im[side_lm(s, "HIP"), 1] for s in SIDES])
        m["hip_height"] = (ankle_y - hip_y) / leg if leg > 0 else nan
        # The hips' level in the image, for the heels' posture: unlike hip_height it does not
        # move when a heel (and with it the ankle) comes up.
        m["hip_level"] = -hip_y / leg if leg > 0 else nan
        if view == "side":
            down = np.array([0.0, 1.0])
            depth = [_angle_below_horizontal(im[side_lm(s, "HIP"), :2], im[side_lm(s, "KNEE"), :2], down)
                     for s in SIDES]
            knee = [float(flexion_deg(*(im[side_lm(s, p)] for p in ("HIP", "KNEE", "ANKLE"))))
                    for s in SIDES]
        else:
            down = np.array([0.0, 1.0, 0.0])
            depth = [_angle_below_horizontal(w[side_lm(s, "HIP")], w[side_lm(s, "KNEE")], down)
                     for s in SIDES]
            knee = [float(flexion_deg(*(w[side_lm(s, p)] for p in ("HIP", "KNEE", "ANKLE")), dims=3))
                    for s in SIDES]
        m["depth_deg"] = float(np.nanmean(depth)) if np.isfinite(depth).any() else nan
        m["knee_flexion_deg"] = float(np.nanmean(knee)) if np.isfinite(knee).any() else nan
        for s in SIDES:
            m[f"knee_flexion_deg_{s}"] = knee[SIDES.index(s)]
        if view == "front":
            hip_w = abs(im[LM.LEFT_HIP, 0] - im[LM.RIGHT_HIP, 0])
            ank_w = abs(im[LM.LEFT_ANKLE, 0] - im[LM.RIGHT_ANKLE, 0])
            heel_w = abs(im[LM.LEFT_HEEL, 0] - im[LM.RIGHT_HEEL, 0])
            # Heel to heel, as a physio measures a stance (toes turned out spread the ankles).
            feet_w = heel_w if np.isfinite(heel_w) else ank_w
            m["stance_width_ratio"] = feet_w / hip_w if hip_w > 0 else nan
            mid_x = (im[LM.LEFT_ANKLE, 0] + im[LM.RIGHT_ANKLE, 0]) / 2
            hip_mid_x = (im[LM.LEFT_HIP, 0] + im[LM.RIGHT_HIP, 0]) / 2
            m["shift"] = (hip_mid_x - mid_x) / ank_w if ank_w > 0 else nan
            m["left_sign"] = 1.0 if im[LM.LEFT_HIP, 0] >= im[LM.RIGHT_HIP, 0] else -1.0
            # Widths in cm from the world landmarks (metres), as a physio would measure them.
            m["stance_width_cm"] = abs(w[LM.LEFT_HEEL, 0] - w[LM.RIGHT_HEEL, 0]) * 100.0
            m["ankle_width_cm"] = abs(w[LM.LEFT_ANKLE, 0] - w[LM.RIGHT_ANKLE, 0]) * 100.0
            # The image's hip-above-knee height: a second opinion on depth (see _update).
            knee_y = np.nanmean([im[side_lm(s, "KNEE"), 1] for s in SIDES])
            m["hip_above_knee"] = (knee_y - hip_y) / leg if leg > 0 else nan
            trunk_x = _trunk_mid_x(im)
            for s in SIDES:
                # Medial = toward the other leg, whichever way the image is turned.
                medial = 1.0 if im[side_lm(s, "HIP"), 0] < hip_mid_x else -1.0
                # Knee tracking (KneeTrack) takes "inward" from the feet, which the model
                # keeps apart, not from the hips, which it swaps now and then at the bottom
                # of a squat (a broad body with the arms hanging between the knees, held-out
                # renders: left and right hips traded places for 0.1-0.5 s at 4 moments of
                # a 20 s hold).
                ank = im[side_lm(s, "ANKLE"), 0]
                inward = 1.0 if ank < mid_x else -1.0
                # The knee's sideways position over its ankle (+ inside it), per leg length.
                m[f"knee_medial_{s}"] = (im[side_lm(s, "KNEE"), 0] - ank) * inward / leg if leg > 0 else nan
                # Where the body's midline is over this foot (+ toward the other foot): the
                # middle of the hips and the shoulders, which a left-right swap does not move
                # and which follows the rock more closely than the hips alone (held-out
                # renders: correlation with the true hip shift 0.96 for the shoulders' middle,
                # 0.62 for the hips').
                m[f"midline_medial_{s}"] = (trunk_x - ank) * inward / leg if leg > 0 else nan
                # Toe-out from the world foot vector: its sideways part against its part
                # toward the camera (the person faces it).
                d = w[side_lm(s, "FOOT_INDEX")] - w[side_lm(s, "HEEL")]
                m[f"toe_out_deg_{s}"] = math.degrees(math.atan2(d[0] * -medial, -d[2])) \
                    if np.isfinite(d).all() else nan
        else:
            for k in ("stance_width_ratio", "shift", "stance_width_cm", "ankle_width_cm", "hip_above_knee",
                      "left_sign"):
                m[k] = nan
            for s in SIDES:
                m[f"knee_medial_{s}"] = m[f"midline_medial_{s}"] = m[f"toe_out_deg_{s}"] = nan
        return m

    def _smoothed(self, t: float, m: dict[str, float]) -> dict[str, float]:
        """Each measurement's median over the last smooth_s (NaN when it had no reading)."""
        cfg: DeepSquatConfig = self.cfg  # type: ignore[assignment]
        out = {}
        for k, v in m.items():
            win = self._win.setdefault(k, TrailingWindow(cfg.smooth_s))
            win.add(t, v)
            win.trim(t)
            out[k] = float(win.median()[0])
        return out

    # --- the drill --------------------------------------------------------------------

    def _update(self, frame: PoseFrame, reliable: bool) -> list[Event]:
        cfg: DeepSquatConfig = self.cfg  # type: ignore[assignment]
        t = frame.t_s
        dt = 0.0 if self._prev_t is None else t - self._prev_t
        self._prev_t = t
        out: list[Event] = []
        view = self.setup.view
        sm: dict[str, float] | None = None
        if reliable:
            sm = self._smoothed(t, self._measure(frame, view))
            self._hip_h.add(t, sm["hip_height"])
        in_pos = bool(sm is not None and sm["hip_height"] < cfg.squat_hip_height)
        self.in_position = in_pos
        if sm is not None and sm["hip_height"] >= cfg.standing_hip_height:
            self._standing_t = t
        if sm is not None and view == "front":
            # The feet are placed before the descent: a narrow stance is measured while
            # standing too, so its cue can start where the squat did.
            narrow = sm["stance_width_ratio"] <= cfg.stance_narrow_ratio
            self._narrow_since = (self._narrow_since if self._narrow_since is not None else t) if narrow else None
        if in_pos and not self.timer.in_hold:
            self._start_hold(t, view)
        h = self._hold
        nan = float("nan")
        vals = {k: nan for k in VALUE_KEYS}
        if sm is not None:
            for k in VALUE_KEYS:
                if k in sm:
                    vals[k] = sm[k]
        self._hip_h.trim(t)
        hip_h = self._hip_h.values()
        settled = bool(len(self._hip_h) > 1 and self._hip_h.covered_s() >= 1.0
                       and float(np.ptp(hip_h)) <= cfg.settle_span)

        # Heels: measured whenever in the squat, from the front or half-turned (both feet are
        # seen; facing the camera the sideways rocking is learnt as well, heel_lift.py).
        # Side-on they are not judged: see SIDE_HEEL_NOTE.
        lifts: dict[Side, float] = {s: nan for s in SIDES}
        if in_pos and h is not None and sm is not None:
            if view == "side":
                self._notes["heel_lift"] = SIDE_HEEL_NOTE
            else:
                lifts = self.heel.update(t, frame, sm["leg"], sm["hip_level"], SIDES, view == "front")
            for s in SIDES:
                vals[f"heel_lift_cm_{s}"] = self.heel.lift_cm(s)
        heel_evs = self.heels.update(t, lifts, self.heel.rise_start, self.heel.foot_cm, self.heel.scatter,
                                     judged=self.heel.in_range)
        out += heel_evs

        # Depth: the timer's gate follows it at once; the cue waits until the hips settle,
        # so a slow descent or the way up is not told to "sink lower".
        # From the front the depth is the model's 3D guess; the image must agree that the
        # hips sit above the knees before the cue calls the squat shallow.
        depth = sm["depth_deg"] if (in_pos and sm is not None) else nan
        self.shallow_gate.update(t, depth if math.isfinite(depth) else None)
        cue_depth = depth if settled else nan
        if view != "side" and sm is not None and not sm["hip_above_knee"] >= cfg.front_hip_above_knee:
            cue_depth = max(cue_depth, cfg.deep_enough_deg) if math.isfinite(cue_depth) else nan
        shallow_ev = self.shallow_cue.update(t, cue_depth if math.isfinite(cue_depth) else None)
        # The cue waited for the hips to settle, but the squat was shallow since the timer's
        # gate saw it: the event starts there.
        if self.shallow_cue.active and self._shallow_onset is None:
            g = self.shallow_gate
            self._shallow_onset = g.onset_t if g.active and g.onset_t is not None else self.shallow_cue.onset_t
        for ev in shallow_ev:
            if self._shallow_onset is not None and self._shallow_onset < ev.t_s:
                ev = dataclasses.replace(ev, t_s=self._shallow_onset)
            self._shallow_onset = None
            out.append(ev)

        # Front-view-only measures, judged only in the squat.
        front = in_pos and view == "front" and sm is not None
        stance = sm["stance_width_ratio"] if front and sm is not None else nan
        for ev in self.narrow_cue.update(t, stance if math.isfinite(stance) else None):
            out.append(self._narrow_from_descent(ev))
        for s in SIDES:
            v = self._valgus(t, s, sm, settled) if front and sm is not None else nan
            vals[f"knee_inward_pct_{s}"] = 100.0 * v if math.isfinite(v) else nan
            out += self._valgus_events(t, s, v)
        if front and sm is not None and h is not None:
            self._rock(t, sm, h)
            vals["rock_shift_pct"] = 100.0 * sm["shift"]

        # The clock stops while a heel reads up (the undebounced gate) and while a heel's cue
        # is on: the cue outlasts the gate when the reading of a lifted heel sags under the
        # clear level for a moment (it does as the hips rock), and a hold must not count
        # good time inside a heel_lift event it reports.
        gate_up, cue_up = self.heels.up(), self.heels.cued()
        heels_down = not gate_up and not cue_up
        good = heels_down and not self.shallow_gate.active
        self._credit_cue_tail(t, dt, in_pos, reliable, heel_evs,
                              withheld=cue_up and not gate_up and not self.shallow_gate.active)
        if h is not None and in_pos and 0 < dt <= self.timer.max_step_s:
            h.view = view if h.view == "unknown" else h.view
            h.in_pos_s += dt
            for s in SIDES:
                if math.isfinite(lifts[s]):
                    h.heel_read_s[s] += dt
            if not heels_down:
                h.heel_up_s += dt
            if self.shallow_gate.active:
                h.shallow_s += dt
            if sm is not None:
                for key, lst in (("depth_deg", h.depth), ("knee_flexion_deg", h.knee),
                                 ("stance_width_ratio", h.stance)):
                    if math.isfinite(sm[key]):
                        lst.append(sm[key])
                for s in SIDES:
                    if math.isfinite(sm[f"toe_out_deg_{s}"]):
                        h.toe_out[s].append(sm[f"toe_out_deg_{s}"])
        was, before = self.timer.in_hold, self.timer.good_s
        ended = self.timer.update(t, in_pos, good, reading=reliable)
        self.ledger.record(t, self.timer.good_s - before)
        if not good and self.timer.in_hold:
            # The clock is stopped; each reason began a little before it was recognised.
            # Take back what was counted since the earliest (repeating it is harmless: what
            # was taken back is gone).
            onsets = [g.onset_t for g in (self.shallow_gate,) if g.active and g.onset_t is not None]
            if self.heels.up_since() is not None:
                onsets.append(self.heels.up_since())
            onsets += [o for s in SIDES if (o := self.heels.cue_onset(s)) is not None]
            if onsets:
                self.ledger.take_back(self.timer, min(onsets))
        if was and not self.timer.in_hold:
            out += self._end_hold(ended, t)
        if front and sm is not None and math.isfinite(sm["shift"]) and math.isfinite(sm["ankle_width_cm"]):
            # + toward the person's left, as the synth truth's rock_shift_cm.
            vals["rock_shift_cm"] = (sm["shift"] - float(self._rock_centre.median()[0])) \
                * sm["ankle_width_cm"] * sm["left_sign"]
        self._vals = vals
        return out

    def _credit_cue_tail(self, t: float, dt: float, in_pos: bool, reliable: bool,
                         heel_evs: list[Event], withheld: bool) -> None:
        """A heel cue clears only after the heel has been down for min_off_s; its event ends
        where the heel came down. The good time the clock withheld after that end (only
        for the cue: heel reading down, deep enough) is given back when the cue closes."""
        if withheld and self.timer.in_hold and in_pos and reliable and 0 < dt <= self.timer.max_step_s:
            self._withheld.append((t, dt))
        ends = [e.t_end_s for e in heel_evs if e.kind == "fault" and e.t_end_s is not None]
        if ends and self.timer.in_hold:
            self.timer.good_s += sum(d for t_w, d in self._withheld if t_w > min(ends))
        if ends or not self.heels.cued():
            self._withheld.clear()

    def _narrow_from_descent(self, ev: Event) -> Event:
        """A stance that was already narrow when the squat began is a fault of the whole
        squat: the event starts where the feet were placed narrow, if that was in the few
        seconds before the descent (feet_set_s; the descent begins where the hips were
        last at standing height)."""
        cfg: DeepSquatConfig = self.cfg  # type: ignore[assignment]
        if self._narrow_run_t is None or self._descent_t is None:
            return ev
        t0 = max(self._narrow_run_t, self._descent_t - cfg.feet_set_s)
        return dataclasses.replace(ev, t_s=t0) if t0 < ev.t_s else ev

    def _valgus_events(self, t: float, s: Side, v: float) -> list[Event]:
        """Feed the knee's inward shift to its cue. The knee's reading climbs to the cue's
        level over a few tenths of a second (smoothed landmarks, and the allowance for hips
        further out than learnt), so a cue's event starts where the reading left the band
        a knee tracking over its toes stays in (valgus_rise_from), at most valgus_back_s
        before it crossed the cue's level."""
        cfg: DeepSquatConfig = self.cfg  # type: ignore[assignment]
        det = self.valgus_cue[s]
        hist = self._valgus_hist.setdefault(s, deque())
        if math.isfinite(v):
            hist.append((t, v))
        while hist and t - hist[0][0] > cfg.valgus_back_s + 1.0:
            hist.popleft()
        was = det.active
        evs = det.update(t, v if math.isfinite(v) else None)
        if det.active and not was and det.onset_t is not None:
            start = det.onset_t
            for t_v, x in reversed(hist):
                if t_v > det.onset_t:
                    continue
                if x <= cfg.valgus_rise_from or det.onset_t - t_v > cfg.valgus_back_s:
                    break
                start = t_v
            self._valgus_onset[s] = start
        return self._valgus_from_onset(s, evs)

    def _valgus_from_onset(self, s: Side, evs: list[Event]) -> list[Event]:
        out = []
        for ev in evs:
            t0 = self._valgus_onset.pop(s, None)
            out.append(dataclasses.replace(ev, t_s=t0) if t0 is not None and t0 < ev.t_s else ev)
        return out

    def _valgus(self, t: float, s: Side, sm: dict[str, float], settled: bool) -> float:
        """How far the knee has moved inward (share of leg length) beyond where it goes with
        the hips: see KneeTrack. Valid at the depth the hold settled at (knees move in and out
        as the hips rise or sink: rising out of the squat is not a caving knee); a knee far
        inside its ankle counts whatever its start."""
        cfg: DeepSquatConfig = self.cfg  # type: ignore[assignment]
        x, midline = sm[f"knee_medial_{s}"], sm[f"midline_medial_{s}"]
        if not (math.isfinite(x) and math.isfinite(midline)):
            return float("nan")
        level = self._knee_level.get(s)
        if level is None:
            win = self._knee_capture.setdefault(s, TrailingWindow(10.0))
            if settled:
                win.add(t, sm["hip_height"])
            if win.covered_s() >= 1.0:
                level = self._knee_level[s] = float(win.median()[0])
        same_depth = level is not None and abs(sm["hip_height"] - level) <= cfg.heel_posture_band
        track = self._knee_track.setdefault(s, KneeTrack(
            lag_s=cfg.baseline_s, min_s=cfg.baseline_s, margin=cfg.knee_hip_margin,
            suspect=cfg.valgus_off))
        rel = track.update(t, x, midline) if same_depth else float("nan")
        # The knee's place against its ankle alone is judged only in a held squat: an arm
        # reaching across the legs or hips on the move throw the model's knees about.
        absolute = x - cfg.valgus_inside_ankle + cfg.valgus_on if settled else float("nan")
        vals = [v for v in (rel, absolute) if math.isfinite(v)]
        return max(vals) if vals else float("nan")

    def _rock(self, t: float, sm: dict[str, float], h: _Hold) -> None:
        """Count side-to-side rocks: the hips crossing from one side of their own centre
        (median of the last 10 s) to beyond `rock_min` on the other. Never a fault."""
        cfg: DeepSquatConfig = self.cfg  # type: ignore[assignment]
        s = sm["shift"]
        if not math.isfinite(s):
            return
        self._rock_centre.add(t, s)
        centre = float(self._rock_centre.median()[0])
        d = s - centre
        cm = abs(d) * sm["ankle_width_cm"] if math.isfinite(sm["ankle_width_cm"]) else float("nan")
        side = 1 if d >= cfg.rock_min else -1 if d <= -cfg.rock_min else 0
        if side and side != self._rock_side:
            if self._rock_side != 0 and self.rock_counter.try_count(t):
                h.rocks += 1
                if math.isfinite(self._rock_peak):
                    h.rock_peaks.append(self._rock_peak)
            self._rock_side, self._rock_peak = side, 0.0
        if side == self._rock_side and side and math.isfinite(cm):
            self._rock_peak = max(self._rock_peak, cm)

    def _start_hold(self, t: float, view: str) -> None:
        self._hold = _Hold(view=view)
        self._descent_t = self._standing_t
        self._narrow_run_t = self._narrow_since
        self.heel.start(t)
        self.shallow_gate.finish(t)
        self.ref_leg.frozen = True
        self._rock_side, self._rock_peak = 0, 0.0
        self._rock_centre.clear()
        self._knee_track.clear()
        self._knee_level.clear()
        self._knee_capture.clear()

    def _end_hold(self, hold_events: list[Event], t: float) -> list[Event]:
        h = self._hold
        t_end = hold_events[0].t_end_s if hold_events and hold_events[0].t_end_s is not None else t
        out: list[Event] = []
        for s in SIDES:
            out += self._valgus_from_onset(s, self.valgus_cue[s].finish(t_end))
        out += self.heels.finish(t_end, self.heel.foot_cm)
        self.heel.stop()
        out += self.shallow_cue.finish(t_end) + [self._narrow_from_descent(e) for e in self.narrow_cue.finish(t_end)]
        self.shallow_gate.finish(t_end)
        for ev in hold_events:
            if h is not None:
                rec = self.sets.start(None, ev.t_s)
                rec.hold_s = float(ev.value or 0.0)
                rec.figures.update(self._hold_figures(h))
                self.sets.end(ev.t_end_s if ev.t_end_s is not None else ev.t_s)
                self._holds.append(h)
        out += hold_events
        self._hold = None
        self.ref_leg.frozen = False
        return out

    @staticmethod
    def _hold_figures(h: _Hold) -> dict[str, Any]:
        def med(v: list[float], nd: int = 1) -> float | None:
            return round(float(np.median(v)), nd) if v else None

        return {
            "view": h.view,
            "depth_deg": med(h.depth),
            "max_depth_deg": round(float(np.percentile(h.depth, 95)), 1) if h.depth else None,
            "knee_flexion_deg": med(h.knee),
            "stance_width_ratio": med(h.stance, 2),
            "toe_out_deg_left": med(h.toe_out["left"]),
            "toe_out_deg_right": med(h.toe_out["right"]),
            "heel_up_s": round(h.heel_up_s, 2),
            # Share of the hold each heel could be judged in (the rest it was being learnt,
            # or the person moved further than the heel's reading allows): 0 = not checked.
            "heel_read_share_left": round(h.heel_read_s["left"] / h.in_pos_s, 2) if h.in_pos_s else None,
            "heel_read_share_right": round(h.heel_read_s["right"] / h.in_pos_s, 2) if h.in_pos_s else None,
            "too_shallow_s": round(h.shallow_s, 2),
            "rock_count": h.rocks if h.view == "front" else None,
            "rock_amplitude_cm": med(h.rock_peaks) if h.view == "front" else None,
        }

    def _finish(self, t: float) -> list[Event]:
        out: list[Event] = []
        if self.timer.in_hold:
            out += self._end_hold(self.timer.finish(t), t)
        out += self.heels.finish(t, self.heel.foot_cm)
        for d in self._fault_detectors():
            out += d.finish(t)
        return out

    def _fault_detectors(self) -> list[FaultDetector]:
        return [*self.heels.detectors, self.shallow_cue, self.narrow_cue, *self.valgus_cue.values()]

    # --- outputs ----------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        cfg: DeepSquatConfig = self.cfg  # type: ignore[assignment]
        views = {h.view for h in self._holds}
        notes = dict(self._notes)
        if "side" in views:
            for k in ("stance_width_ratio", "toe_out_deg", "knee_valgus", "rocking"):
                notes[k] = SIDE_VIEW_NOTE
        if views & {"front", "oblique"}:
            notes["depth_deg"] = FRONT_DEPTH_NOTE
        return {
            "sets": self.sets.to_list(),
            "hold_target_s": cfg.hold_s,
            "holds_target": int(cfg.holds),
            "hold_s": round(sum(r.hold_s for r in self.sets.sets), 2),
            "heel_lifts": {s: len(self.heels.cue[s].events) for s in SIDES},
            "rock_count": sum(h.rocks for h in self._holds if h.view == "front")
            if "front" in views else None,
            "notes": notes,
        }

    def status(self) -> LiveStatus:
        cfg: DeepSquatConfig = self.cfg  # type: ignore[assignment]
        st = LiveStatus(drill=self.drill_id, reading=self.setup.reliable,
                        set_index=min(len(self.sets.sets) + 1, int(cfg.holds)),
                        sets_target=int(cfg.holds), hold_target_s=cfg.hold_s, cues=self.active_cues())
        if self.timer.in_hold:
            st.hold_s = round(self.timer.good_s, 1)
            st.hold_paused = self.timer.paused
            why = [f"{s} heel up" for s in SIDES if self.heels.up(s) or self.heels.cued(s)]
            if self.shallow_gate.active:
                why.append("not deep enough")
            if not self.in_position:
                why.append("out of the squat")
            if self.timer.paused and why:
                st.info["paused"] = ", ".join(why)
        v = self._vals
        if math.isfinite(v.get("depth_deg", math.nan)):
            st.info["depth"] = f"{v['depth_deg']:+.0f} deg"
        if math.isfinite(v.get("stance_width_ratio", math.nan)):
            st.info["stance"] = f"{v['stance_width_ratio']:.2f} x hips"
        lms: set[int] = set()
        for s in SIDES:
            if self.heels.cued(s):
                lms |= {int(side_lm(s, p)) for p in ("HEEL", "ANKLE", "FOOT_INDEX")}
            if self.valgus_cue[s].active:
                lms |= {int(side_lm(s, p)) for p in ("KNEE", "ANKLE")}
        if self.shallow_cue.active:
            lms |= {int(side_lm(s, p)) for s in SIDES for p in ("HIP", "KNEE")}
        if self.narrow_cue.active:
            lms |= {int(side_lm(s, "ANKLE")) for s in SIDES}
        st.fault_landmarks = frozenset(lms)
        return st

    def values(self) -> dict[str, float]:
        return {k: float(self._vals.get(k, math.nan)) for k in VALUE_KEYS}
