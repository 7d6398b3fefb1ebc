"""Lateral agility hops, front view: a strap lies on the floor running away from the
camera; the runner balances on the foot further from it, hops sideways over it and lands
on the other foot (switch-feet, the default), or hops back and forth on one foot
(single-leg). 15 hops x 3 sets.

How it is measured
------------------
- Contact: a foot is on the floor when its lowest point (heel or toe) is within
  `contact_pct` of leg length of the floor line and it is nearly still. The floor line is
  where the feet rest (the image row of planted feet, fitted across both sides of the
  strap so a slightly rolled camera does not matter). A flight is a stretch with no foot on
  the floor. Heights and distances are shares of the leg's image length.
- Hidden landings: the model reads a stance foot under the carried one (single-leg hops)
  10-25 px high, so a landing can go unseen by the feet. A body in the air follows one
  arc; hips that bottom out and rise again inside a 'flight' landed (`hidden_bounce_pct`),
  on the foot that was lowest then. The hips are what the model tracks best.
- A hop is a flight whose support moves sideways by at least `min_travel_pct` of leg
  length: hopping in place (skipping rope) is no lateral hop and counts nothing.
  Take-off = the last contact frame, landing = the first contact frame after the flight.
- The strap line: from the start position (the stance foot plus half a typical hop toward
  the free foot) until there are landings on both sides; then the midpoint between the
  median landing positions on each side, so it follows where the strap really is. A hop
  crosses when the landing foot's centre is past the line; otherwise it is `short_hop`.
- Landing foot: the foot(s) on the floor in the first `both_feet_s` after landing. In
  switch-feet the landing foot must be the one on the side of travel (hopping to your
  right you land on your right foot); in single-leg always the hopping foot.
  `wrong_foot` = the other foot, or both.
- Knee flexion at landing: what a front camera sees of it, the hips' sink toward the
  landing ankle from touch-down to the deepest point of the absorption, turned into the
  knee angle that shortens the leg that much (see `_landing_knee`); good to roughly
  5-10 deg. The landing's depth (the hips' lowest height over the ankle below a full leg,
  % of leg length) needs no touch-down moment. `stiff_landing` when both fall well short
  of the person's own usual landing (medians of their earlier hops), or before 3 hops of
  absolute floors: one measure alone misreads some landings (the model sees a fast foot
  touch down late, so the sink reads small; hops toward the stance side read shallower).
- Knee valgus at landing: the upper quartile over the landing window of the landing knee's
  frontal-plane projection angle (world landmarks, so no perspective error as the knee
  bends toward the camera) beyond its standing baseline (see star_balance.fppa_deg).
- Per-frame values: `stance_knee_flexion_deg` is the landing knee's bend read the same way
  as the landing's figure (the hips' sink since touch-down), frame by frame through the
  absorption only (touch-down until the hips rise `pushoff_rise_pct` for the push-off), NaN
  elsewhere. A nearly straight stance leg has no reading from the front: its hip-to-ankle
  distance differs by 1.5 % of leg between 0 and 20 deg, under the model's 3-5 % jitter of
  a leg's image length, and the model's 3-D knee angle reads a straight knee 20-50 deg bent
  (measured on the rendered suite: +29 deg mean error below 15 deg of true bend).
- Ground-contact time: landing to the next take-off. Its resolution is one frame interval
  (33 ms at 30 fps, 40 ms at 25 fps), reported as `contact_time_resolution_s`.
- Sets: a pause of `rest_s` without a hop ends a set. Cadence = hops per minute over a
  set's landings.

Events: `count` code "hop" with t_s = take-off and t_end_s = landing, side = the landing
foot (absent for both feet), value = the lateral distance in % of leg length. Per-hop faults run from the landing to the next
take-off: `short_hop`, `stiff_landing`, `knee_valgus`, `wrong_foot` (side = the landing
foot that was wrong, or the expected one when both landed).
"""

from __future__ import annotations

import logging
import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from formcheck.config import DrillConfig, threshold
from formcheck.drills.base import Analyser, LiveStatus
from formcheck.drills.blocks import Counter, FaultDetector, SetTracker
from formcheck.drills.star_balance import fppa_deg
from formcheck.errors import InputError
from formcheck.events import Event
from formcheck.pose.frame import PoseFrame
from formcheck.pose.geometry import flexion_deg
from formcheck.pose.landmarks import LM, side_lm

log = logging.getLogger(__name__)

SIDES = ("left", "right")


@dataclass
class LateralHopsConfig(DrillConfig):
    hops_per_set: float = threshold(15, "The prescription: 15 hops a set.")
    sets: float = threshold(3, "The prescription: 3 sets.")
    contact_pct: float = threshold(
        4.0, "A foot is on the floor when its lowest point is within this share of leg length "
             "(~3 cm) of the floor line: above the model's jitter at the feet, below a hop's clearance.")
    contact_off_pct: float = threshold(
        5.5, "A foot on the floor leaves it when its lowest point rises past this share of leg "
             "length (hysteresis: the feet jitter by 2-3 % of leg length in the model).")
    contact_speed_pct: float = threshold(
        60.0, "...and moves slower than this (% of leg length per second, over the centred "
              "window): a foot sweeping low over the strap is in flight, not on the floor.")
    plant_shift_pct: float = threshold(
        4.0, "A foot on the floor has left it once its centre is this far (% of leg length, ~3.5 cm) "
             "from where it landed: planted feet do not slide, a trailing foot skimming the floor "
             "after take-off does.")
    min_air_s: float = threshold(
        0.1, "A foot that leaves the floor is up at least this long before it can land again "
             "(3 frames at 30 fps): a trailing foot dipping back within jitter is no landing.")
    lookahead_s: float = threshold(
        0.07, "Each frame's contact is judged on the frames within this time either side "
              "(5 frames at 30 fps): the events come this much later, the feet's jitter averages out.")
    min_contact_s: float = threshold(
        0.09, "A contact shorter than this is jitter in a flight, not a landing (the quickest "
              "lateral hops stay on the ground 0.15-0.2 s).")
    min_travel_pct: float = threshold(
        15.0, "A flight is a lateral hop when the body moves sideways this far (% of leg length, "
              "~13 cm); hopping in place moves far less.")
    min_flight_s: float = threshold(
        0.03, "A flight spans at least this from its first to its last airborne frame (two frames "
              "at 30 fps). Real hop flights last 0.2-0.35 s, but the model and the smoothing blur "
              "the take-off and landing, and the contact hysteresis already removes jitter.")
    max_flight_s: float = threshold(
        0.8, "A 'flight' longer than this is no hop (hop flights last 0.2-0.35 s, a high hurdle "
             "hop under 0.6 s): the contacts in between were not seen.")
    hidden_bounce_pct: float = threshold(
        6.0, "A 'flight' in which the hips come down by this share of leg length (~5 cm) from "
             "their highest point and rise again by as much held a landing the feet did not show: "
             "a body in the air follows one arc, it cannot bottom out and rise without a push off "
             "the floor. (The model reads a stance foot under the carried one 10-25 px high.) The "
             "hips' bounce in a hop is 15-25 % of leg length, their jitter 1-2 %.")
    hidden_trough_pct: float = threshold(
        8.0, "...the hidden contact is the stretch where the hips stay within this share of leg "
             "length of their lowest point (a landing's absorption and push-off).")
    both_feet_s: float = threshold(
        0.12, "Both feet touching down within this time of each other is a two-footed landing.")
    landing_window_s: float = threshold(
        0.35, "Knee bend and knee angle at landing are taken over this much of the contact.")
    cross_margin_pct: float = threshold(
        2.0, "The landing foot's centre must be this far past the strap line (% of leg length) to "
             "count as over it: the line itself is an estimate.", -1)
    strap_offset_pct: float = threshold(
        30.0, "Until there are landings on both sides, the strap is taken to lie this far (% of leg "
              "length, ~25 cm) from the take-off foot toward the hop: half a comfortable hop.")
    stiff_landing_deg: float = threshold(
        20.0, "Until the person's own landings are known (3 hops), a landing whose knee bend (from "
              "the hips' sink after touch-down) is under this may be stiff: a soft landing bends the "
              "knee 25-40 deg beyond touch-down.", -1)
    stiff_depth_pct: float = threshold(
        5.0, "...and whose depth (the hips' lowest height over the landing ankle, below a full leg) "
             "is under this share of leg length: soft landings sink the hips 8-12 % of leg length, "
             "a stiff one about 4 %. Both must agree: either alone misreads some bodies and cameras.", -1)
    stiff_ratio: float = threshold(
        0.65, "Once 3 landings are known, stiff = a depth under this share of the person's own usual "
              "landing depth (median of their earlier landings; soft 8-12 %, stiff half that)...", -1)
    stiff_bend_ratio: float = threshold(
        0.75, "...and a knee bend after touch-down under this share of their usual one. Two "
              "measures that fail differently must both say stiff: the depth does not depend on "
              "when touch-down was seen (the model lags fast feet), the sink does not depend on the "
              "leg-length estimate; a coach that nags is worse than one that misses.", -1)
    knee_valgus_deg: float = threshold(
        7.0, "Landing knee inside the hip-ankle line by this frontal-plane projection angle at "
             "the deepest point of the landing, beyond the straight-leg standing angle. Healthy "
             "single-leg landings stay within a few degrees (the knee tracks over turned-out toes, "
             "often slightly outward); 7 deg of inward collapse is visible.", 1)
    touchdown_knee_deg: float = threshold(
        15.0, "The knee bend at touch-down that the hips' sink is counted from: landing knees "
              "meet the floor slightly bent (10-20 deg).")
    pushoff_rise_pct: float = threshold(
        2.0, "The per-frame landing knee bend is read until the hips have risen this share of leg "
             "length from their lowest point in the contact (the push-off has begun; their jitter "
             "is 1-2 %).")
    valgus_window_s: float = threshold(
        0.1, "The knee angle is the median over this time either side of the deepest point.")
    straight_knee_deg: float = threshold(
        25.0, "Standing knees bent less than this give the knee-angle (FPPA) baseline; the bend "
              "is read from the leg's length in the image (hip over ankle = leg x cos(bend / 2)).")
    rest_s: float = threshold(3.0, "A pause this long without a hop ends a set.")
    refractory_s: float = threshold(
        0.3, "Two hops cannot be closer than this: one physical hop never counts twice.")


@dataclass
class Hop:
    t_takeoff: float
    t_landing: float
    direction: str  # the person's side travelled toward: "left" | "right"
    travel_pct: float
    landing_foot: str  # "left" | "right" | "both"
    landing_x_pct: float = float("nan")  # landing foot centre past the line (+ = crossed)
    crossed: bool = True
    knee_flexion_deg: float = float("nan")
    depth_pct: float = float("nan")  # hips' lowest height over the landing ankle, below a full leg
    knee_valgus_deg: float = float("nan")
    contact_s: float = float("nan")
    expected_foot: str | None = None
    faults: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        def r(v: float, n: int = 1) -> float | None:
            return round(v, n) if math.isfinite(v) else None

        return {"t_takeoff_s": round(self.t_takeoff, 3), "t_landing_s": round(self.t_landing, 3),
                "direction": self.direction, "landing_foot": self.landing_foot,
                "crossed": self.crossed, "travel_pct": r(self.travel_pct),
                "past_line_pct": r(self.landing_x_pct), "knee_flexion_deg": r(self.knee_flexion_deg),
                "landing_depth_pct": r(self.depth_pct),
                "knee_valgus_deg": r(self.knee_valgus_deg), "contact_s": r(self.contact_s, 3),
                "faults": list(self.faults)}


def _med(vals: list[float]) -> float:
    """Median of a handful of numbers (faster than numpy at this size)."""
    v = sorted(vals)
    n = len(v)
    return v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])


class FloorLine:
    """The floor's image row under each column, y = a + b x, fitted to where the feet rest.

    Feet that are still are either on the floor or held up (the free foot carried beside
    the stance leg, 15-20 % of leg length higher): the floor is the lowest cluster of
    them, so no contact decision is needed to learn it (which would be circular). Landings
    on both sides of the strap spread the points sideways and give the slope, so a rolled
    camera's sloping floor is followed. Image y grows downward.
    """

    BAND_PCT = 8.0  # the floor cluster: this close (% of leg) to the lowest still feet

    def __init__(self, span: int = 450):
        self.pts: deque[tuple[float, float]] = deque(maxlen=span)
        self.a = float("nan")
        self.b = 0.0
        self.pending = 0

    @property
    def known(self) -> bool:
        return math.isfinite(self.a)

    def add(self, x: float, y: float) -> None:
        self.pts.append((x, y))
        self.pending += 1

    def y_at(self, x: float) -> float:
        return self.a + self.b * x

    def fit(self, leg_px: float) -> bool:
        if len(self.pts) < 5 or not math.isfinite(leg_px) or leg_px <= 0:
            return False
        self.pending = 0
        p = np.array(self.pts)
        x, y = p[:, 0], p[:, 1]
        a, b = self.a, self.b
        for _ in range(2):
            r = y - b * x
            low = float(np.percentile(r, 90))
            m = r > low - self.BAND_PCT / 100.0 * leg_px
            xs, ys = x[m], y[m]
            # a slope only from points spread across both sides of the strap
            if np.ptp(xs) > 0.25 * leg_px and len(xs) >= 10:
                b_fit = np.polyfit(xs, ys, 1)[0]
                b = float(np.clip(b_fit, -0.27, 0.27))  # a camera rolled at most 15 deg
            a = float(np.median(ys - b * xs))
        self.a, self.b = a, b
        return True


@dataclass
class _Sample:
    """One reliable frame's raw measures (image px for the feet and hips, world angles)."""

    t: float
    feet: dict[str, tuple[float, float]]  # side -> (centre x, lowest y)
    hip_x: float
    hip_y: float
    ankle_y: dict[str, float]
    flex: dict[str, float]
    fppa: dict[str, float]
    extension: dict[str, float]  # hip-to-ankle image distance / leg length (1 = straight)


class _Contact:
    """One contact phase: from the first frame a foot is down to the last."""

    def __init__(self, t: float):
        self.t0 = t
        self.t1 = t
        self.judged = False
        self.ended = False
        self.first_down: dict[str, float] = {}
        self.samples: list[tuple[float, dict[str, bool], float, dict[str, float], dict[str, float],
                                 dict[str, float]]] = []

    def add(self, t: float, down: dict[str, bool], hip_x: float, foot_x: dict[str, float],
            flex: dict[str, float], fppa: dict[str, float], hip_y: float,
            ankle_y: dict[str, float]) -> None:
        self.t1 = t
        for s in SIDES:
            if down[s] and s not in self.first_down:
                self.first_down[s] = t
        self.samples.append((t, down, hip_x, foot_x, flex, fppa, hip_y, ankle_y))

    def support_x(self, first: bool) -> float:
        """Median hip x over the first / last 0.1 s of the contact."""
        if not self.samples:
            return float("nan")
        if first:
            xs = [s[2] for s in self.samples if s[0] - self.t0 <= 0.1]
        else:
            xs = [s[2] for s in self.samples if self.t1 - s[0] <= 0.1]
        xs = [x for x in xs if math.isfinite(x)]
        return float(np.median(xs)) if xs else float("nan")


class LateralHopsAnalyser(Analyser):
    drill_id = "lateral-hops"
    views = ("front",)
    required_parts = ("hips", "knees", "feet")
    variants = ("switch-feet", "single-leg")
    config_cls = LateralHopsConfig

    def __init__(self, config: LateralHopsConfig | None = None, side: str | None = None,
                 variant: str | None = None):
        if variant == "switch":
            variant = "switch-feet"
        if variant not in (None, *self.variants):
            raise InputError(f"Unknown lateral-hops variant '{variant}': choose switch-feet or single-leg")
        super().__init__(config, side, variant)
        self.c: LateralHopsConfig = self.cfg  # type: ignore[assignment]
        self.variant: str | None = variant
        self.hops: list[Hop] = []
        self.counter = Counter(refractory_s=self.c.refractory_s)
        self.sets = SetTracker(sets_per_side=int(self.c.sets), sides=(None, "left", "right"))
        # Per-hop faults: raised at the landing, cleared at the next take-off.
        self.det = {code: FaultDetector(code, 0.5, 0.5, 0.0, 0.0, max_gap_s=1e9)
                    for code in ("short_hop", "stiff_landing", "knee_valgus", "wrong_foot")}
        self._flag_on: set[str] = set()
        # baseline (standing)
        self.leg_px = float("nan")
        self._leg_buf: deque[float] = deque(maxlen=90)
        self._leg_n = 0
        self.floor = FloorLine()
        self.base_flex: dict[str, float] = {"left": 0.0, "right": 0.0}
        self.base_fppa: dict[str, float] = {"left": 0.0, "right": 0.0}
        self._base_buf: list[tuple[float, float]] = []
        self._flex_hist: dict[str, deque[float]] = {s: deque(maxlen=600) for s in SIDES}
        self.line_x: float = float("nan")  # strap line, image x (pixels)
        self._landing_x: dict[str, list[float]] = {"+": [], "-": []}
        self.facing = 1.0  # +1: person's left is image +x (facing the camera)
        # contact state: samples wait `lookahead_s` in _pending so each is judged on a
        # window centred on it (jitter averages out, a landing is not split by one frame)
        self._pending: deque[_Sample] = deque()
        self._next = 0  # index in _pending of the next sample to judge
        self._down: dict[str, bool] = {"left": False, "right": False}
        self._plant: dict[str, list[float]] = {"left": [], "right": []}
        self._up_since: dict[str, float | None] = {"left": None, "right": None}
        self._stance_now: str | None = None
        self._prev_t: float | None = None
        self.contact: _Contact | None = None
        self._last_contact: _Contact | None = None
        self._flight_since: float | None = None
        self._last_hop_t: float | None = None
        self.values_now: dict[str, float] = {}
        self.frame_dt: deque[float] = deque(maxlen=120)
        self._undecided: list[Hop] = []
        # samples since the last take-off, to find a landing the feet did not show
        self._air: list[tuple[_Sample, dict[str, float]]] = []

    # ------------------------------------------------------------------ measures

    def _foot(self, im: np.ndarray, side: str) -> tuple[float, float]:
        """(centre x, lowest y) of one foot in the image."""
        pts = im[[side_lm(side, "ANKLE"), side_lm(side, "HEEL"), side_lm(side, "FOOT_INDEX")], :2]
        x = float(np.mean(pts[:, 0]))
        y = float(np.max(pts[1:, 1]))
        return x, y

    def _leg_length_px(self, im: np.ndarray) -> float:
        vals = []
        for s in SIDES:
            hip, knee, ankle = (im[side_lm(s, p), :2] for p in ("HIP", "KNEE", "ANKLE"))
            vals.append(float(np.linalg.norm(hip - knee) + np.linalg.norm(knee - ankle)))
        vals = [v for v in vals if math.isfinite(v) and v > 0]
        return max(vals) if vals else float("nan")

    # ------------------------------------------------------------------ per frame

    def _update(self, frame: PoseFrame, reliable: bool) -> list[Event]:
        t = frame.t_s
        out: list[Event] = []
        nan = float("nan")
        self.values_now = {"stance_knee_flexion_deg": nan, "knee_valgus_deg": nan,
                           "left_foot_height_pct": nan, "right_foot_height_pct": nan, "hip_x_pct": nan}
        if self._prev_t is not None:
            self.frame_dt.append(t - self._prev_t)
        self._prev_t = t
        sample = self._measure(frame) if reliable else None
        if sample is None:
            # No reading: judge what is waiting on the frames there are, and start afresh
            # (a gap must not be bridged by a speed or a window across it).
            out += self._drain()
            self._down = {"left": False, "right": False}
            self._plant = {"left": [], "right": []}
            for d in self.det.values():
                out += d.update(t, None)
            return out
        self._pending.append(sample)
        while self._next < len(self._pending) and t - self._pending[self._next].t >= self.c.lookahead_s - 1e-6:
            out += self._judge_pending()
        # The stance knee now, for the per-frame values (the contact state is the latest judged).
        s_now = self._stance_now
        if s_now in SIDES:
            self.values_now["knee_valgus_deg"] = sample.fppa[s_now] - self.base_fppa[s_now]
        self.values_now["stance_knee_flexion_deg"] = self._landing_bend_now(sample)
        return out

    def _landing_bend_now(self, smp: _Sample) -> float:
        """The landing knee's bend in this frame, the way the landing's figure is read (see
        `_landing_knee`): the hips' sink toward the landing ankle since touch-down, as the
        knee angle that shortens the leg that much. Only through a landing's absorption
        (`landing_window_s`) on one foot: elsewhere the stance leg is near straight, where
        a front camera has no reading of the bend (the hip-to-ankle distance shortens by
        cos(bend / 2): 1.5 % of leg from 0 to 20 deg, under the model's 3-5 % jitter of a
        leg's image length, and the model's 3-D knee reads a straight leg 20-50 deg bent)."""
        c, leg = self.contact, self.leg_px
        if (c is None or self._last_contact is None or c.ended or not c.samples
                or smp.t - c.t0 > self.c.landing_window_s + 1e-6 or not (math.isfinite(leg) and leg > 0)):
            return float("nan")
        feet = [s_ for s_ in SIDES if s_ in c.first_down]
        if len(feet) != 1:
            return float("nan")
        foot = feet[0]
        hy = [s_[7][foot] - s_[6] for s_ in c.samples]
        hy = [v for v in hy if math.isfinite(v)]
        now = smp.ankle_y[foot] - smp.hip_y
        if not hy or not math.isfinite(now):
            return float("nan")
        # The absorption ends when the hips rise again for the push-off: from then the
        # knee straightens faster than the model follows (it lags a fast leg by ~2 frames).
        if (now - min(hy + [now])) / leg * 100.0 > self.c.pushoff_rise_pct:
            return float("nan")
        return self._bend_from_sink((_med(hy[:3]) - now) / leg)

    def _bend_from_sink(self, sink: float) -> float:
        """The knee angle that shortens a leg bent `touchdown_knee_deg` at touch-down by
        `sink` leg lengths (thigh and shank about equal: hip over ankle = leg x cos(bend / 2))."""
        c0 = math.cos(math.radians(self.c.touchdown_knee_deg) / 2)
        return math.degrees(2 * math.acos(max(-1.0, min(1.0, c0 - max(0.0, sink)))))

    def _measure(self, frame: PoseFrame) -> _Sample | None:
        im, w = frame.image, frame.world
        leg_now = self._leg_length_px(im)
        if math.isfinite(leg_now):
            self._leg_buf.append(leg_now)
        if not self._leg_buf:
            return None
        feet = {s: self._foot(im, s) for s in SIDES}
        if not all(math.isfinite(v) for f in feet.values() for v in f):
            return None
        fac = np.sign(im[LM.LEFT_HIP, 0] - im[LM.RIGHT_HIP, 0])
        if fac:
            self.facing = float(fac)
        # The longest recent leg: a bent knee or a foreshortened leg only shortens it.
        self._leg_n += 1
        if self._leg_n % 10 == 1 or not math.isfinite(self.leg_px):  # it changes slowly
            self.leg_px = float(np.percentile(self._leg_buf, 90))
        hip_x = float((im[LM.LEFT_HIP, 0] + im[LM.RIGHT_HIP, 0]) / 2)
        hip_y = float((im[LM.LEFT_HIP, 1] + im[LM.RIGHT_HIP, 1]) / 2)
        flex = {s: float(flexion_deg(w[side_lm(s, "HIP")], w[side_lm(s, "KNEE")], w[side_lm(s, "ANKLE")],
                                     dims=3)) for s in SIDES}
        # FPPA on the image: the model's most direct output (its 3-D knee from the front is
        # a guess), and the plane a front camera sees
        fppa = {s: fppa_deg(im, s) for s in SIDES}
        # how straight each leg stands: hip-to-ankle over the longest leg seen
        reach_ = {s: float(np.linalg.norm(im[side_lm(s, "HIP"), :2] - im[side_lm(s, "ANKLE"), :2]))
                  / self.leg_px for s in SIDES}
        ankle_y = {s: float(im[side_lm(s, "ANKLE"), 1]) for s in SIDES}
        return _Sample(frame.t_s, feet, hip_x, hip_y, ankle_y, flex, fppa, reach_)

    def _drain(self) -> list[Event]:
        out: list[Event] = []
        while self._next < len(self._pending):
            out += self._judge_pending()
        self._pending.clear()
        self._next = 0
        return out

    def _judge_pending(self) -> list[Event]:
        """Judge the next waiting sample on the window of samples within lookahead_s of it."""
        k = self._next
        self._next += 1
        smp = self._pending[k]
        win = [p for p in self._pending if abs(p.t - smp.t) <= self.c.lookahead_s + 1e-6]
        # forget samples no later window needs
        while self._next > 0 and smp.t - self._pending[0].t > self.c.lookahead_s + 1e-6:
            self._pending.popleft()
            self._next -= 1
        return self._step(smp, win)

    def _step(self, smp: _Sample, win: list[_Sample]) -> list[Event]:
        """Contact, flight and landing logic for one sample judged on its centred window."""
        t = smp.t
        out: list[Event] = []
        leg = self.leg_px
        if not self.floor.known:
            for s_ in SIDES:
                self.floor.add(*smp.feet[s_])
            if not self.floor.fit(leg):
                return out
        down: dict[str, bool] = {}
        height: dict[str, float] = {}
        speeds: dict[str, float] = {}
        early = [p for p in win if p.t <= t]
        late = [p for p in win if p.t >= t]
        for s in SIDES:
            x = _med([p.feet[s][0] for p in win])
            y = _med([p.feet[s][1] for p in win])
            h = (self.floor.y_at(x) - y) / leg * 100.0
            height[s] = h
            # Speed from the medians of the window's halves: jitter mostly cancels, a foot
            # that is really moving (in flight, sweeping over the strap) does not.
            speed = 0.0
            if len(early) >= 2 and len(late) >= 2:
                dx = _med([p.feet[s][0] for p in late]) - _med([p.feet[s][0] for p in early])
                dy = _med([p.feet[s][1] for p in late]) - _med([p.feet[s][1] for p in early])
                dt = _med([p.t for p in late]) - _med([p.t for p in early])
                if dt > 0:
                    speed = math.hypot(dx, dy) / dt / leg * 100.0
            speeds[s] = speed
            # Hysteresis: a foot lands below contact_pct and stays down until it rises past
            # contact_off_pct, moves off fast, or leaves the spot it was planted on (a
            # planted foot does not slide: drifting away is the take-off, however low).
            if self._down[s]:
                plant = float(np.median(self._plant[s]))
                down[s] = (h < self.c.contact_off_pct and speed < self.c.contact_speed_pct * 1.5
                           and abs(float(x) - plant) / leg * 100.0 < self.c.plant_shift_pct)
            else:
                # ...and a foot that has just left the floor must be up a moment before it
                # can land again: one frame's dip of a trailing foot is no landing.
                rested = self._up_since[s] is None or t - self._up_since[s] >= self.c.min_air_s - 1e-6
                down[s] = rested and h < self.c.contact_pct and speed < self.c.contact_speed_pct
            if not down[s]:
                self._plant[s].clear()
                if self._down[s]:
                    self._up_since[s] = t
            elif len(self._plant[s]) < 5:
                self._plant[s].append(float(x))  # where it landed: its first few frames down
        self._down = down
        feet, hip_x, flex, fppa = smp.feet, smp.hip_x, smp.flex, smp.fppa
        self.values_now.update(left_foot_height_pct=height["left"], right_foot_height_pct=height["right"],
                               hip_x_pct=(hip_x - self.line_x) / leg * 100.0
                               if math.isfinite(self.line_x) else float("nan"))
        on = [s for s in SIDES if down[s]]
        self._stance_now = on[0] if len(on) == 1 else None

        # Baselines. Knee bend: the straightest this leg gets (legs extend fully at take-off
        # and in flight), so the model's offset for a straight knee cancels while a bent
        # "ready" stance still counts as bent. Knee angle (FPPA): standing on both feet.
        for s_ in SIDES:
            if math.isfinite(flex[s_]):
                self._flex_hist[s_].append(flex[s_])
                if len(self._flex_hist[s_]) >= 5:
                    self.base_flex[s_] = float(np.percentile(self._flex_hist[s_], 5))
        # A straight leg's hip, knee and ankle line up whatever the toe-out, so the standing
        # FPPA is the person's (and the model's) own offset only with the knees straight;
        # a bent "ready" stance over turned-out feet reads as knees-out instead.
        straight_min = math.cos(math.radians(self.c.straight_knee_deg) / 2)
        straight = all(smp.extension[s_] >= straight_min for s_ in SIDES)
        if down["left"] and down["right"] and straight:
            self._base_buf.append((fppa["left"], fppa["right"]))
            self._base_buf = self._base_buf[-60:]
            arr = np.array(self._base_buf, float)
            if len(arr) >= 5 and np.isfinite(arr).any(axis=0).all():
                med = np.nanmedian(arr, axis=0)
                self.base_fppa = {"left": float(med[0]), "right": float(med[1])}

        if self._last_contact is not None:
            self._air.append((smp, height))
            if self.contact is None and not on:
                out += self._hidden_contact()
        if on:
            if self.contact is None:
                self.contact = _Contact(t)  # a landing (or the first contact)
            self.contact.add(t, down, hip_x, {s: feet[s][0] for s in SIDES}, flex, fppa, smp.hip_y,
                             smp.ankle_y)
            self._flight_since = None
        elif self.contact is not None:
            # No foot down: a flight once it lasts min_flight_s (shorter is flicker).
            if self._flight_since is None:
                self._flight_since = t
            if t - self._flight_since >= self.c.min_flight_s - 1e-6:
                out += self._on_takeoff(t)
        if (self.contact is not None and self._last_contact is not None and not self.contact.judged
                and t - self.contact.t0 >= self.c.landing_window_s / 0.6 - 1e-6):
            out += self._judge_landing(self._last_contact, self.contact)
        # The floor from feet at rest (slow: whatever their height), refitted now and then.
        for s in SIDES:
            if speeds[s] < self.c.contact_speed_pct:
                self.floor.add(*feet[s])
        if self.floor.pending >= 15:
            self.floor.fit(leg)
        # Sets end after a rest without hops.
        if (self.sets.current is not None and self._last_hop_t is not None
                and t - self._last_hop_t >= self.c.rest_s):
            self._close_set(self._last_hop_t)
        for code, d in self.det.items():
            out += d.update(t, 1.0 if code in self._flag_on else 0.0)
        return out

    def _on_takeoff(self, t: float) -> list[Event]:
        """The contact phase ended: judge the landing into it if not done yet (a contact
        shorter than the landing window), note its contact time, clear the hop's cues."""
        out: list[Event] = []
        c = self.contact
        assert c is not None
        self.contact = None
        if c.t1 - c.t0 < self.c.min_contact_s - 1e-6 and not c.judged:
            return out  # a blip inside a flight: the flight goes on from the last contact
        c.ended = True
        if self._last_contact is not None and not c.judged:
            out += self._judge_landing(self._last_contact, c)
        if self.hops and self.hops[-1].t_landing == c.t0:
            self.hops[-1].contact_s = c.t1 - c.t0
        self._last_contact = c
        self._air = []
        self._flag_on.clear()  # the per-hop cues end at the next take-off
        return out

    def _hidden_contact(self) -> list[Event]:
        """A landing the feet did not show: in a 'flight' the hips came down and rose again
        (see `hidden_bounce_pct`). The contact is where the hips stayed near their lowest,
        on the foot that was lowest then; it is judged like any landing and taken off from."""
        leg = self.leg_px
        air = self._air
        if len(air) < 4 or not math.isfinite(leg) or leg <= 0:
            return []
        ys = [a[0].hip_y for a in air]  # image y: larger is lower
        k = max(range(len(ys)), key=lambda i: ys[i] if math.isfinite(ys[i]) else -math.inf)
        bounce = self.c.hidden_bounce_pct / 100.0 * leg
        before = [y for y in ys[:k] if math.isfinite(y)]
        if not before or ys[k] - min(before) < bounce or ys[k] - ys[-1] < bounce:
            return []
        near = ys[k] - self.c.hidden_trough_pct / 100.0 * leg
        i0 = k
        while i0 > 0 and ys[i0 - 1] >= near:
            i0 -= 1
        i1 = k
        while i1 < len(ys) - 1 and ys[i1 + 1] >= near:
            i1 += 1
        trough = air[i0:i1 + 1]
        self._air = air[i1 + 1:]
        if trough[-1][0].t - trough[0][0].t < self.c.min_contact_s - 1e-6:
            return []
        hs = {s_: _med([h[s_] for _, h in trough]) for s_ in SIDES}
        low = min(SIDES, key=lambda s_: hs[s_])
        both = all(hs[s_] < self.c.contact_off_pct for s_ in SIDES)
        down = {s_: both or s_ == low for s_ in SIDES}
        c = _Contact(trough[0][0].t)
        for smp, _ in trough:
            c.add(smp.t, down, smp.hip_x, {s_: smp.feet[s_][0] for s_ in SIDES}, smp.flex, smp.fppa,
                  smp.hip_y, smp.ankle_y)
        log.debug("hidden contact %.2f-%.2f on %s", c.t0, c.t1, "both" if both else low)
        self.contact = c
        rest = self._air
        out = self._on_takeoff(c.t1)
        self._air = rest
        return out

    def _judge_landing(self, a: _Contact, b: _Contact) -> list[Event]:
        b.judged = True
        return self._hop_from(a, b)

    def _hop_from(self, a: _Contact, b: _Contact) -> list[Event]:
        """Contact a, flight, contact b: a lateral hop when the support moved enough."""
        leg = self.leg_px
        xa, xb = a.support_x(first=False), b.support_x(first=True)
        # The support moves on after landing: use the hip over the whole landing window.
        xs = [s[2] for s in b.samples if math.isfinite(s[2])]
        if xs:
            xb = float(np.median(xs))
        travel = (xb - xa) / leg * 100.0
        if not math.isfinite(travel) or abs(travel) < self.c.min_travel_pct:
            return []
        if b.t0 - a.t1 > self.c.max_flight_s:
            return []  # nobody flies that long: the contacts in between were missed
        if not self.counter.try_count(b.t0):
            return []
        direction = self._person_side(np.sign(travel))
        win = self._absorption(b)
        landing = self._landing_feet(b, win)
        hop = Hop(t_takeoff=a.t1, t_landing=b.t0, direction=direction, travel_pct=abs(travel),
                  landing_foot=landing)
        # landing foot position relative to the line
        foot = landing if landing != "both" else direction
        fx = [s[3][foot] for s in b.samples if math.isfinite(s[3][foot])]
        land_x = float(np.median(fx[:4])) if fx else float("nan")
        sign = 1.0 if travel > 0 else -1.0
        if not (self._landing_x["+"] and self._landing_x["-"]):
            # From the start position: the take-off foot plus the usual strap offset toward
            # the hop (until landings on both sides of the strap say where it is).
            last = a.samples[-1]
            off = [s_ for s_ in SIDES if last[1][s_]] or list(SIDES)
            xs0 = [smp[3][s_] for smp in a.samples if a.t1 - smp[0] <= 0.1 for s_ in off
                   if math.isfinite(smp[3][s_])]
            if xs0 and not math.isfinite(self.line_x):
                self.line_x = float(np.median(xs0)) + sign * self.c.strap_offset_pct / 100.0 * leg
            elif not math.isfinite(self.line_x):
                self.line_x = land_x - sign * self.c.strap_offset_pct / 100.0 * leg
        hop.landing_x_pct = (land_x - self.line_x) * sign / leg * 100.0
        hop.crossed = hop.landing_x_pct > self.c.cross_margin_pct
        if hop.crossed:
            # Only landings over the strap say where it is (a short one lands before it).
            self._landing_x["+" if sign > 0 else "-"].append(land_x)
            if self._landing_x["+"] and self._landing_x["-"]:
                self.line_x = (float(np.median(self._landing_x["+"][-9:]))
                               + float(np.median(self._landing_x["-"][-9:]))) / 2
        # knee bend and knee angle at the deepest point of the landing, on the landing leg(s)
        legs = [landing] if landing != "both" else list(SIDES)
        hop.knee_flexion_deg, hop.knee_valgus_deg, hop.depth_pct = self._landing_knee(b, win, legs)
        self.hops.append(hop)
        self._last_hop_t = b.t0
        out = self._count(hop)
        self._decide_variant()
        out += self._judge(hop)
        return out

    def _absorption(self, b: _Contact) -> list:
        """The landing's absorption phase: the contact's first `landing_window_s`, but never
        its last 40 % (the push-off, where the knee bends again for the next hop)."""
        span = self.c.landing_window_s
        if b.ended:
            span = min(span, 0.6 * (b.t1 - b.t0))
        return [s for s in b.samples if s[0] - b.t0 <= span + 1e-6]

    def _landing_knee(self, b: _Contact, win: list, legs: list[str]) -> tuple[float, float, float]:
        """(knee bend, knee FPPA, depth %) of the landing.

        The knee bend is what a front camera can see of it: how far the hips sink toward
        the landing ankle from touch-down to the deepest point of the absorption (the ankle,
        not the floor: a forefoot landing lowers the heel and the whole leg with it), in leg
        lengths, turned into the knee angle that shortens the leg that much from a
        touch-down knee of `touchdown_knee_deg` (thigh and shank about equal: hip over ankle
        = leg x cos(bend / 2)). The model's 3-D
        knee angle is no use here: from the front it cannot see the knee come forward.
        The FPPA is its median within `valgus_window_s` of that deepest moment, beyond the
        straight-leg standing angle: dynamic valgus is judged where the knee is most bent,
        that is where it collapses. The worst leg counts. The depth is the hips' lowest
        height over the landing ankle below a full leg length, in % of leg: unlike the sink
        it needs no touch-down moment (which the model sees late when the feet move fast)."""
        leg = self.leg_px
        # the hip's height over the landing ankle(s), image px (y grows downward)
        hy = np.array([np.mean([s[7][leg_] for leg_ in legs]) - s[6] for s in win], float)
        ts = np.array([s[0] for s in win])
        ok = np.isfinite(hy)
        bend = float("nan")
        depth = float("nan")
        t_deep = b.t0
        if ok.sum() >= 2 and math.isfinite(leg) and leg > 0:
            hy, ts = hy[ok], ts[ok]
            sm = np.array([np.median(hy[max(0, i - 1):i + 2]) for i in range(len(hy))])
            k = int(np.argmin(sm))  # the deepest moment: hips closest to the ankle
            sink = max(0.0, float(sm[0] - sm[k]) / leg)
            bend = self._bend_from_sink(sink)
            t_deep = float(ts[k])
            depth = (1.0 - float(sm[k]) / leg) * 100.0
        fppa = float("nan")
        for leg_ in legs:
            near = [s[5][leg_] - self.base_fppa[leg_] for s in b.samples
                    if abs(s[0] - t_deep) <= self.c.valgus_window_s + 1e-6 and math.isfinite(s[5][leg_])]
            if near:
                fppa = float(np.nanmax([fppa, float(np.median(near))]))
        return bend, fppa, depth

    def _landing_feet(self, b: _Contact, win: list) -> str:
        """"left", "right" or "both": the feet that came down within `both_feet_s` of each
        other and then stayed down (bore weight) through most of the absorption. A trailing
        foot that brushes the floor and lifts again is no two-footed landing."""
        firsts = sorted(b.first_down.items(), key=lambda kv: kv[1])
        bearing = []
        for foot, t_down in firsts:
            after = [s for s in win if s[0] >= t_down]
            if after and sum(1 for s in after if s[1][foot]) >= 0.6 * len(after):
                bearing.append((foot, t_down))
        if not bearing:
            return firsts[0][0]
        if len(bearing) >= 2 and bearing[1][1] - bearing[0][1] <= self.c.both_feet_s:
            return "both"
        return bearing[0][0]

    def _person_side(self, image_sign: float) -> str:
        return "left" if image_sign * self.facing > 0 else "right"

    def _count(self, hop: Hop) -> list[Event]:
        side = hop.landing_foot if hop.landing_foot != "both" else None
        set_side = None if self.variant != "single-leg" else side
        cur = self.sets.current
        if cur is None:
            cur = self.sets.start(set_side, hop.t_takeoff)
        cur.reps += 1
        msg = (f"hop {'over' if hop.crossed else 'short of'} the line to the {hop.direction}, "
               f"landing on {'both feet' if hop.landing_foot == 'both' else 'the ' + hop.landing_foot + ' foot'}")
        return [Event(t_s=hop.t_takeoff, code="hop", kind="count", message=msg, side=side,
                      t_end_s=hop.t_landing, value=round(hop.travel_pct, 1))]

    def _decide_variant(self) -> None:
        if self.variant_hint is not None:
            self.variant = self.variant_hint if self.variant_hint != "switch" else "switch-feet"
            return
        single = [h for h in self.hops if h.landing_foot != "both"]
        if len(single) < 3:
            return
        lead = sum(1 for h in single if h.landing_foot == h.direction)
        same = max(sum(1 for h in single if h.landing_foot == s) for s in SIDES)
        # switch-feet: the landing foot follows the direction; single-leg: it never changes
        self.variant = "single-leg" if same > lead else "switch-feet"

    def _is_stiff(self, hop: Hop) -> bool:
        """Stiff: both the landing's depth and its knee bend after touch-down fall well short
        of the person's own usual landing (`stiff_ratio`, `stiff_bend_ratio` of the medians
        of their earlier landings), or, before 3 landings are known, of absolute floors
        (`stiff_depth_pct`, `stiff_landing_deg`). How deep a landing looks from the front
        depends on the body, the camera and the direction of the hop; the person's own soft
        landing does not lie, and two measures that err differently rarely err together."""
        bend, depth = hop.knee_flexion_deg, hop.depth_pct
        if not (math.isfinite(bend) and math.isfinite(depth)):
            return False
        prev = [h for h in self.hops if h is not hop]
        own_d = [h.depth_pct for h in prev if math.isfinite(h.depth_pct)]
        own_b = [h.knee_flexion_deg for h in prev if math.isfinite(h.knee_flexion_deg)]
        if len(own_d) >= 3 and len(own_b) >= 3:
            return (depth < self.c.stiff_ratio * float(np.median(own_d))
                    and bend < self.c.stiff_bend_ratio * float(np.median(own_b)))
        return depth < self.c.stiff_depth_pct and bend < self.c.stiff_landing_deg

    def _expected_foot(self, hop: Hop) -> str | None:
        if self.variant == "single-leg":
            if self.side_hint in SIDES:
                return self.side_hint
            single = [h.landing_foot for h in self.hops if h.landing_foot != "both"]
            return max(SIDES, key=single.count) if single else None
        if self.variant == "switch-feet":
            return hop.direction
        return None

    def _judge(self, hop: Hop) -> list[Event]:
        """Per-hop faults. Until the variant is known (3 one-foot landings) wrong_foot is
        judged later, for those hops too."""
        if not hop.crossed:
            hop.faults.append("short_hop")
        if math.isfinite(hop.knee_flexion_deg) and self._is_stiff(hop):
            hop.faults.append("stiff_landing")
        # A knee that hardly bends cannot cave in: its projected angle is only jitter.
        if (math.isfinite(hop.knee_valgus_deg) and hop.knee_valgus_deg > self.c.knee_valgus_deg
                and hop.knee_flexion_deg >= self.c.stiff_landing_deg):
            hop.faults.append("knee_valgus")
        pending = self._undecided + [hop]
        self._undecided = []
        for h in pending:
            exp = self._expected_foot(h)
            if exp is None:
                self._undecided.append(h)
                continue
            h.expected_foot = exp
            if h.landing_foot != exp:
                h.faults.append("wrong_foot")
        out: list[Event] = []
        for h in pending:
            if h in self._undecided:
                continue
            for code in h.faults:
                det = self.det[code]
                foot = h.landing_foot if h.landing_foot != "both" else h.expected_foot or h.direction
                det.side = h.expected_foot if code == "wrong_foot" and h.expected_foot else foot
                if h is hop:
                    self._flag_on.add(code)
                    det.update(h.t_landing, 1.0)
                else:
                    # judged late (variant just decided): report it at its own time
                    out.append(Event(t_s=h.t_landing, code=code, kind="fault", message=det.text(),
                                     side=det.side, t_end_s=h.t_landing + (h.contact_s if
                                                                           math.isfinite(h.contact_s)
                                                                           else 0.2)))
        return out

    def _close_set(self, t: float) -> None:
        cur = self.sets.current
        if cur is None:
            return
        if self.variant == "single-leg" and cur.side is None and self.hops:
            cur.side = self._expected_foot(self.hops[-1])
        hops = [h for h in self.hops if cur.t_s <= h.t_takeoff <= t + 1e-9]
        cur.figures.update(self._set_figures(hops))
        self.sets.end(t)

    def _set_figures(self, hops: list[Hop]) -> dict[str, Any]:
        if len(hops) >= 2:
            span = hops[-1].t_landing - hops[0].t_landing
            cadence = (len(hops) - 1) / span * 60.0 if span > 0 else float("nan")
        else:
            cadence = float("nan")
        contacts = [h.contact_s for h in hops if math.isfinite(h.contact_s)]
        flex = [h.knee_flexion_deg for h in hops if math.isfinite(h.knee_flexion_deg)]
        return {"cadence_hops_per_min": round(cadence, 1) if math.isfinite(cadence) else None,
                "contact_time_mean_s": round(float(np.mean(contacts)), 3) if contacts else None,
                "knee_flexion_landing_mean_deg": round(float(np.mean(flex)), 1) if flex else None,
                "crossed": sum(1 for h in hops if h.crossed)}

    # ------------------------------------------------------------------ outputs

    def _fault_detectors(self) -> list[FaultDetector]:
        return list(self.det.values())

    def _finish(self, t: float) -> list[Event]:
        out: list[Event] = self._drain()
        if self.contact is not None and self._last_contact is not None and not self.contact.judged:
            out += self._judge_landing(self._last_contact, self.contact)
        # the last contact has no take-off: its contact time stays unknown
        self._flag_on.clear()
        for d in self.det.values():
            out += d.finish(t)
        # hops still unjudged for wrong_foot (fewer than 3 one-foot landings): left unjudged
        if self.sets.current is not None:
            self._close_set(t if self._last_hop_t is None else max(self._last_hop_t, self.sets.current.t_s))
        return out

    def summary(self) -> dict[str, Any]:
        dts = [d for d in self.frame_dt if d > 0]
        res = float(np.median(dts)) if dts else None
        all_fig = self._set_figures(self.hops)
        return {
            "sets": self.sets.to_list(),
            "variant": self.variant or "switch-feet",
            "hops_total": len(self.hops),
            "hops_crossed": sum(1 for h in self.hops if h.crossed),
            "hops": [h.to_dict() for h in self.hops],
            "cadence_hops_per_min": all_fig["cadence_hops_per_min"],
            "contact_time_mean_s": all_fig["contact_time_mean_s"],
            "contact_time_resolution_s": round(res, 4) if res else None,
            "knee_flexion_landing_mean_deg": all_fig["knee_flexion_landing_mean_deg"],
            "landing_feet": {k: sum(1 for h in self.hops if h.landing_foot == k)
                             for k in ("left", "right", "both")},
        }

    def status(self) -> LiveStatus:
        st = LiveStatus(drill=self.drill_id, reading=self.setup.reliable)
        st.sets_target = int(self.c.sets)
        st.count_label = "hops"
        cur = self.sets.current
        st.set_index = len(self.sets.sets) + (1 if cur is not None else 0)
        st.count = cur.reps if cur is not None else 0
        st.count_target = int(self.c.hops_per_set)
        st.cues = self.active_cues()
        if self.variant == "single-leg" and self.hops:
            st.side = self._expected_foot(self.hops[-1])
        lms: set[int] = set()
        for code in self._flag_on:
            side = self.det[code].side
            if side in SIDES:
                if code in ("knee_valgus", "stiff_landing"):
                    lms |= {side_lm(side, p) for p in ("HIP", "KNEE", "ANKLE")}
                else:
                    lms |= {side_lm(side, p) for p in ("ANKLE", "HEEL", "FOOT_INDEX")}
        st.fault_landmarks = frozenset(int(i) for i in lms)
        if st.reading and self.hops:
            h = self.hops[-1]
            if math.isfinite(h.knee_flexion_deg):
                st.info["knee bend"] = f"{h.knee_flexion_deg:.0f} deg"
            fig = self._set_figures([x for x in self.hops if cur is not None and x.t_takeoff >= cur.t_s])
            if fig["cadence_hops_per_min"]:
                st.info["cadence"] = f"{fig['cadence_hops_per_min']:.0f}/min"
        return st

    def values(self) -> dict[str, float]:
        return dict(self.values_now)
