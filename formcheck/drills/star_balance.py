"""Star (Y) balance, front view: stand on one leg, reach the raised foot to each point of
a Y (3 points) or a star (6 or 8 points), hips level, stance knee over the toes, the raised
foot never put down between reaches. 6 sets per leg.

What is measured, and how far one front camera can be trusted for it
---------------------------------------------------------------------
- Stance leg: the foot that stays on the floor when the other one lifts (the lifted foot's
  lower of heel and toe rises above the stance foot's by `lift_on_pct` of leg length).
- Pelvic drop (deg): the slope of the hip line (image and world landmarks averaged), relative to the same slope in
  the person's own two-leg stance captured just before (so camera roll, a slightly crooked
  camera and the model's own left/right hip bias cancel), signed positive when the
  raised-leg side drops. The frontal plane is what a front camera sees best, so this angle
  is trustworthy to a couple of degrees while the pelvis faces the camera. It is a
  projection: when the pelvis turns (posterior reaches rotate it 20-30 deg) the hip line
  foreshortens and the projected slope grows by about 1/cos(turn), and forward pelvic tilt
  reads as nothing. The angle is smoothed with a short median because the model jitters the
  hip points by a few pixels, i.e. 1-2 deg on a hip line.
- Trunk lean (deg): the shoulder-midpoint over hip-midpoint line against vertical, minus the
  two-leg baseline; only the sideways (frontal-plane) lean is visible.
- Stance-knee valgus (deg): the frontal-plane projection angle (FPPA) of hip-knee-ankle,
  positive when the knee falls inside the hip-ankle line, minus its baseline. A knee that
  bends while pointing at the camera keeps its FPPA, so flexion alone does not raise it.
- Reaches: floor-plane displacement of the raised foot tip from the stance ankle, from the
  model's world (metric) landmarks, in the baseline's floor frame (up = the standing body
  axis, so camera pitch cancels). Distance is a share of the stance leg's length. Depth
  (toward/away from the camera) comes from the model's depth estimate and is the least
  reliable part: the direction of a reach (which point of the Y/star) is robust, the
  anterior/posterior reach distance is good to about +-10 % of leg length.
- Balance loss: the raised foot put down flat (heel and toe both at floor level) in the
  middle of a set, or the stance foot moving (a hop or a step) by `stance_shift_pct`.
  A toe or heel tap at the end of a reach is allowed (only part of the foot is down), and
  putting the foot down after a complete set is a rest, not a fault.

Events: `count` code "reach" (t_s = start, t_end_s = back at the centre, value = distance
in % of leg length, side = stance leg, message naming the point); faults `pelvic_drop`
(side = raised leg), `trunk_lean` (side = the side leaned toward), `knee_valgus` (side =
stance knee), `balance_loss` (side = stance leg, the leg whose balance was lost).
Variants: "y" (3 points) and "star" (6 or 8 points), detected from the reach directions
unless chosen.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from formcheck.config import DrillConfig, threshold
from formcheck.drills.base import Analyser, LiveStatus
from formcheck.drills.blocks import Counter, FaultDetector, SetTracker
from formcheck.errors import InputError
from formcheck.events import Event
from formcheck.pose.frame import PoseFrame
from formcheck.pose.geometry import flexion_deg, tilt_from_vertical_deg
from formcheck.pose.landmarks import LM, other_side, side_lm

log = logging.getLogger(__name__)

# Reach directions as angles in the stance leg's floor frame: 0 = anterior (toward the
# camera), +90 = medial (toward the raised leg's side), 180 = posterior, -90 = lateral
# (crossing behind/in front of the stance leg).
Y_POINTS: dict[str, float] = {"anterior": 0.0, "posteromedial": 135.0, "posterolateral": -135.0}
STAR8_POINTS: dict[str, float] = {
    "anterior": 0.0, "anteromedial": 45.0, "medial": 90.0, "posteromedial": 135.0,
    "posterior": 180.0, "posterolateral": -135.0, "lateral": -90.0, "anterolateral": -45.0}
STAR6_POINTS: dict[str, float] = {
    "anterior": 0.0, "anteromedial": 60.0, "posteromedial": 120.0, "posterior": 180.0,
    "posterolateral": -120.0, "anterolateral": -60.0}


def angle_diff(a: float, b: float) -> float:
    """Smallest signed difference a - b in degrees, in (-180, 180]."""
    d = (a - b + 180.0) % 360.0 - 180.0
    return 180.0 if d == -180.0 else d


def nearest_point(angle: float, points: dict[str, float]) -> tuple[str, float]:
    """(name, |angular error|) of the point closest to a reach direction."""
    name = min(points, key=lambda k: abs(angle_diff(angle, points[k])))
    return name, abs(angle_diff(angle, points[name]))


@dataclass
class StarBalanceConfig(DrillConfig):
    sets_per_leg: float = threshold(6, "The prescription: 6 sets per leg.")
    star_points: float = threshold(
        8, "Points of the star variant when they cannot be told from the reaches (6 or 8).")
    pelvic_drop_deg: float = threshold(
        6.0, "Hip-line drop on the raised-leg side beyond the level standing baseline: under "
             "about 5 deg is normal sway and model jitter, a visible Trendelenburg drop is more.", 1)
    pelvic_drop_off_deg: float = threshold(4.0, "The pelvic-drop cue clears below this (hysteresis).", 1)
    trunk_lean_deg: float = threshold(
        10.0, "Sideways trunk lean beyond the standing baseline: leaning over the stance leg is "
              "the usual way to hide a weak hip; a few degrees of sway are normal.", 1)
    trunk_lean_off_deg: float = threshold(7.0, "The trunk-lean cue clears below this.", 1)
    knee_valgus_deg: float = threshold(
        6.0, "Stance-knee frontal-plane projection angle beyond its standing baseline. Clinical "
             "cut-offs are 8-13 deg of absolute FPPA in single-leg squats; relative to the person's "
             "own standing angle, and with a bending knee that normally drifts out over the toes "
             "(negative), 6 deg of inward drift is already a visible collapse.", 1)
    knee_valgus_off_deg: float = threshold(4.0, "The knee-valgus cue clears below this.", 1)
    lift_on_pct: float = threshold(
        4.5, "A foot is raised when its lower point is this far (% of leg length, ~6 cm) above "
             "the other foot's: clear of floor contact and of model jitter at the feet.")
    lift_off_pct: float = threshold(
        2.5, "Both feet count as down again below this height difference (hysteresis).")
    lift_min_s: float = threshold(
        0.5, "A foot must stay up this long to start single-leg stance: steps, hops and jumps "
             "lift a foot for less, a balance lasts seconds.")
    touch_pct: float = threshold(
        4.0, "The raised foot is put down when heel and toe are both within this height (% of leg "
             "length) of the stance foot's: flat on the floor, not a light tap of toe or heel.")
    touch_min_s: float = threshold(
        0.4, "A touch-down must last this long to be a balance loss: a brief brush is not.")
    rest_s: float = threshold(
        2.0, "Both feet down this long ends the single-leg stance (a rest, or a change of leg).")
    stance_shift_pct: float = threshold(
        12.0, "The stance foot moved this far (% of leg length) from where it was planted: a hop "
              "or a step to catch the balance.", 1)
    reach_on_pct: float = threshold(
        15.0, "A reach starts when the raised foot tip has moved this far (% of leg length, ~13 cm) "
              "beyond where the person holds it at the centre; real reaches go 60-90 %.")
    reach_off_pct: float = threshold(
        8.0, "A reach ends when the foot is back within this distance of the centre (hysteresis).")
    reach_min_s: float = threshold(
        0.3, "A reach shorter than this is a twitch, not a reach (reaches are slow by design).")
    baseline_s: float = threshold(
        0.5, "Two-leg stance this long gives the level baseline (hip line, trunk, knees).")
    smooth_s: float = threshold(
        0.2, "Median window for angles: removes the model's frame-to-frame jitter, keeps a drop "
             "that lasts.")


@dataclass
class Baseline:
    """The person's own two-leg stance: the zero of every angle."""

    hip_tilt_lr: float = 0.0  # slope of the hip line, + when the left hip is lower (image)
    trunk_tilt: float = 0.0  # shoulder-mid over hip-mid from vertical, + toward image right
    fppa: dict[str, float] = field(default_factory=lambda: {"left": 0.0, "right": 0.0})
    up: np.ndarray = field(default_factory=lambda: np.array([0.0, -1.0, 0.0]))  # world
    lr_axis: np.ndarray = field(default_factory=lambda: np.array([1.0, 0.0, 0.0]))  # world R->L hip
    leg_m: float = float("nan")
    measured: bool = False


@dataclass
class Reach:
    side: str  # stance leg
    t_s: float
    t_end_s: float = float("nan")
    peak_pct: float = 0.0
    peak_t: float = float("nan")
    direction_deg: float = float("nan")
    point: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"side": self.side, "t_s": round(self.t_s, 3), "t_end_s": round(self.t_end_s, 3),
                "t_peak_s": round(self.peak_t, 3), "point": self.point,
                "direction_deg": round(self.direction_deg, 1), "distance_pct": round(self.peak_pct, 1)}


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-9 and math.isfinite(n) else np.full_like(v, np.nan)


def _mid(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a + b) / 2.0


class _Median:
    """Running median over a time window (robust to single-frame spikes)."""

    def __init__(self, window_s: float):
        self.window_s = window_s
        self.buf: deque[tuple[float, float]] = deque()

    def push(self, t: float, v: float) -> float:
        if math.isfinite(v):
            self.buf.append((t, v))
        while self.buf and t - self.buf[0][0] > self.window_s:
            self.buf.popleft()
        if not self.buf or not math.isfinite(v):
            return float("nan")
        return float(np.median([x for _, x in self.buf]))

    def clear(self) -> None:
        self.buf.clear()


def fppa_deg(image: np.ndarray, side: str) -> float:
    """Signed frontal-plane projection angle of one knee: + when the knee sits medial of the
    hip-ankle line (valgus), - when lateral (varus). Medial is toward the other hip.

    Pass image landmarks for the camera's view, or world landmarks for an orthographic
    frontal view (x, y only): the latter has no perspective error when the knee bends
    toward the camera."""
    hip, knee, ankle = (image[side_lm(side, p), :2] for p in ("HIP", "KNEE", "ANKLE"))
    other_hip = image[side_lm(other_side(side), "HIP"), :2]
    bend = float(flexion_deg(hip, knee, ankle))
    dy = ankle[1] - hip[1]
    if not (math.isfinite(bend) and math.isfinite(dy)) or abs(dy) < 1e-6:
        return float("nan")
    line_x = hip[0] + (ankle[0] - hip[0]) * (knee[1] - hip[1]) / dy
    medial = np.sign(other_hip[0] - hip[0])
    offset = (knee[0] - line_x) * medial
    return bend if offset >= 0 else -bend


def hip_tilt_lr(image: np.ndarray) -> float:
    """Slope of the hip line in degrees, + when the left hip is lower in the image."""
    lh, rh = image[LM.LEFT_HIP, :2], image[LM.RIGHT_HIP, :2]
    dx = abs(lh[0] - rh[0])
    return float(np.degrees(np.arctan2(lh[1] - rh[1], dx)))


def _hip_tilt(image: np.ndarray, world: np.ndarray) -> float:
    """Hip-line slope from the image and from the world landmarks, averaged: the image is
    the model's most direct output, the world view has no perspective error when the
    pelvis turns; where one is missing the other is used."""
    vals = [v for v in (hip_tilt_lr(image), hip_tilt_lr(world)) if math.isfinite(v)]
    return float(np.mean(vals)) if vals else float("nan")


class StarBalanceAnalyser(Analyser):
    drill_id = "star-balance"
    views = ("front",)
    required_parts = ("shoulders", "hips", "knees", "feet")
    variants = ("y", "star")
    config_cls = StarBalanceConfig

    POINTS_BY_VARIANT: ClassVar[dict[str, dict[str, float]]] = {
        "y": Y_POINTS, "star8": STAR8_POINTS, "star6": STAR6_POINTS}

    def __init__(self, config: StarBalanceConfig | None = None, side: str | None = None,
                 variant: str | None = None):
        super().__init__(config, side, variant)
        cfg: StarBalanceConfig = self.cfg  # type: ignore[assignment]
        self.c = cfg
        self.star_points = int(cfg.star_points)
        if variant in ("star6", "star8"):  # the star with its number of points
            self.star_points = int(variant[-1])
            variant = self.variant_hint = "star"
        if variant not in (None, "y", "star"):
            raise InputError(f"Unknown star-balance variant '{variant}': choose y, star (star6, star8)")
        self.variant: str | None = variant
        self.base = Baseline()
        self._base_buf: list[tuple[float, float, float, float, float, np.ndarray, np.ndarray, float]] = []
        self._two_leg_since: float | None = None
        on, off = cfg.min_on_s, cfg.min_off_s
        self.pelvic = FaultDetector("pelvic_drop", cfg.pelvic_drop_deg, cfg.pelvic_drop_off_deg, on, off)
        self.trunk = FaultDetector("trunk_lean", cfg.trunk_lean_deg, cfg.trunk_lean_off_deg, on, off)
        self.valgus = FaultDetector("knee_valgus", cfg.knee_valgus_deg, cfg.knee_valgus_off_deg, on, off)
        self.touch = FaultDetector("balance_loss", 0.5, 0.5, cfg.touch_min_s, off)
        self.shift = FaultDetector("balance_loss", cfg.stance_shift_pct, cfg.stance_shift_pct * 0.6,
                                   on, off)
        self.sets = SetTracker(sets_per_side=int(cfg.sets_per_leg))
        self.counter = Counter(refractory_s=cfg.reach_min_s)
        self._m_drop = _Median(cfg.smooth_s)
        self._m_trunk = _Median(cfg.smooth_s)
        self._m_fppa = _Median(cfg.smooth_s)
        self._m_height = _Median(cfg.smooth_s)
        # single-leg state
        self.stance: str | None = None
        self._raised_since: tuple[str, float] | None = None
        self._down_since: float | None = None
        self._switch_since: float | None = None
        self._centre = np.zeros(2)  # the raised foot's resting position (% leg: anterior, medial)
        self._centre_buf: deque[np.ndarray] = deque()
        self._min_since_reach: tuple[float, float] = (float("inf"), 0.0)
        self._plant: np.ndarray | None = None  # stance ankle image position when planted
        self._plant_buf: list[np.ndarray] = []
        self.reaches: list[Reach] = []
        self._reach: Reach | None = None
        self._last_near_t: float | None = None
        self._reach_samples: list[tuple[float, float, float]] = []  # (t, pct, angle)
        self._last_reliable_t: float | None = None
        self.values_now: dict[str, float] = {}
        self._peaks: dict[str, list[float]] = {"pelvic_drop_deg": [], "trunk_lean_deg": [],
                                               "knee_valgus_deg": []}
        self.balance_losses = 0

    # ------------------------------------------------------------------ geometry

    def _foot_heights(self, world: np.ndarray) -> dict[str, tuple[float, float]]:
        """Per foot: (lower, higher) of heel and toe height along the baseline's up axis, m."""
        up = self.base.up
        out = {}
        for s in ("left", "right"):
            h = [float(np.dot(world[side_lm(s, p)], up)) for p in ("HEEL", "FOOT_INDEX")]
            out[s] = (min(h), max(h)) if all(map(math.isfinite, h)) else (float("nan"),) * 2
        return out

    def _leg_m(self, world: np.ndarray, side: str) -> float:
        hip, knee, ankle = (world[side_lm(side, p)] for p in ("HIP", "KNEE", "ANKLE"))
        return float(np.linalg.norm(hip - knee) + np.linalg.norm(knee - ankle))

    def _leg_length(self, world: np.ndarray) -> float:
        if math.isfinite(self.base.leg_m):
            return self.base.leg_m
        legs = [self._leg_m(world, s) for s in ("left", "right")]
        legs = [v for v in legs if math.isfinite(v) and v > 0]
        return max(legs) if legs else float("nan")

    def _floor_frame(self, stance: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(up, medial, anterior) unit vectors in world coordinates for this stance leg."""
        up = self.base.up
        lr = self.base.lr_axis - np.dot(self.base.lr_axis, up) * up  # right hip -> left hip
        lr = _unit(lr)
        medial = -lr if stance == "left" else lr  # toward the raised leg's side
        ant = _unit(np.cross(up, medial))
        if ant[2] > 0:  # anterior points toward the camera (world -z)
            ant = -ant
        return up, medial, ant

    # ------------------------------------------------------------------ baseline

    def _collect_baseline(self, t: float, frame: PoseFrame, both_down: bool) -> None:
        im, w = frame.image, frame.world
        if not both_down:
            self._two_leg_since = None
            self._base_buf.clear()
            return
        if self._two_leg_since is None:
            self._two_leg_since = t
        # The floor's normal: perpendicular to both feet's heel->toe lines and to the line
        # between the feet (all four points rest on the floor). Unlike the body axis it does
        # not tilt with how the hips sit over the feet.
        fwd = (w[LM.LEFT_FOOT_INDEX] - w[LM.LEFT_HEEL]) + (w[LM.RIGHT_FOOT_INDEX] - w[LM.RIGHT_HEEL])
        across = _mid(w[LM.LEFT_HEEL], w[LM.LEFT_FOOT_INDEX]) - _mid(w[LM.RIGHT_HEEL], w[LM.RIGHT_FOOT_INDEX])
        normal = np.cross(fwd, across)
        body_axis = _mid(w[LM.LEFT_HIP], w[LM.RIGHT_HIP]) - _mid(w[LM.LEFT_ANKLE], w[LM.RIGHT_ANKLE])
        if np.dot(normal, body_axis) < 0:
            normal = -normal
        sample = (_hip_tilt(im, w),
                  float(tilt_from_vertical_deg(_mid(im[LM.LEFT_SHOULDER], im[LM.RIGHT_SHOULDER]),
                                               _mid(im[LM.LEFT_HIP], im[LM.RIGHT_HIP]))),
                  fppa_deg(w, "left"), fppa_deg(w, "right"),
                  max(self._leg_m(w, "left"), self._leg_m(w, "right")),
                  _unit(normal), w[LM.LEFT_HIP] - w[LM.RIGHT_HIP], t)
        self._base_buf.append(sample)
        # Keep the last 2 s of stance: the freshest baseline, robust to the camera moving.
        self._base_buf = [s for s in self._base_buf if t - s[7] <= 2.0]
        if t - self._two_leg_since >= self.c.baseline_s and len(self._base_buf) >= 3:
            arr = np.array([s[:5] for s in self._base_buf], float)
            if not np.isfinite(arr).any(axis=0).all():
                return
            med = np.nanmedian(arr, axis=0)
            if not np.all(np.isfinite(med)):
                return
            up = _unit(np.nanmedian(np.array([s[5] for s in self._base_buf]), axis=0))
            lr = _unit(np.nanmedian(np.array([s[6] for s in self._base_buf]), axis=0))
            if not (np.all(np.isfinite(up)) and np.all(np.isfinite(lr))):
                return
            self.base = Baseline(hip_tilt_lr=float(med[0]), trunk_tilt=float(med[1]),
                                 fppa={"left": float(med[2]), "right": float(med[3])},
                                 up=-up if up[1] > 0 else up, lr_axis=lr, leg_m=float(med[4]),
                                 measured=True)
            # world y points down: the body axis from ankles to hips points up (y < 0)

    # ------------------------------------------------------------------ per frame

    def _update(self, frame: PoseFrame, reliable: bool) -> list[Event]:
        t = frame.t_s
        out: list[Event] = []
        nan = float("nan")
        self.values_now = {"pelvic_drop_deg": nan, "trunk_lean_abs_deg": nan, "knee_valgus_deg": nan,
                           "reach_pct": nan, "raised_foot_height_cm": nan}
        if not reliable:
            # Nothing is measured or advanced: faults neither raise nor clear, a reach in
            # progress is dropped if the pose stays lost.
            for d in self._fault_detectors():
                out += d.update(t, None)
            if (self._reach is not None and self._last_reliable_t is not None
                    and t - self._last_reliable_t > 1.0):
                self._reach = None
            return out
        gap = self._last_reliable_t is not None and t - self._last_reliable_t > 1.0
        self._last_reliable_t = t
        if gap:
            self._m_drop.clear(), self._m_trunk.clear(), self._m_fppa.clear(), self._m_height.clear()
        im, w = frame.image, frame.world
        leg = self._leg_length(w)
        if not math.isfinite(leg) or leg <= 0:
            return out
        heights = self._foot_heights(w)
        dl = (heights["left"][0] - heights["right"][0]) / leg * 100.0  # + when left is higher
        d = self._m_height.push(t, dl)
        if not math.isfinite(d):
            return out

        # --- which foot is up (hysteresis: lift_on to rise, lift_off to come down)
        up_now: str | None
        if d >= self.c.lift_on_pct:
            up_now = "left"
        elif d <= -self.c.lift_on_pct:
            up_now = "right"
        elif abs(d) < self.c.lift_off_pct:
            up_now = None
        else:
            up_now = "hold"  # in between: keep the current state
        both_down = up_now is None and self.stance is None
        self._collect_baseline(t, frame, both_down)

        if self.stance is None:
            out += self._maybe_start_stance(t, up_now, im)
        if self.stance is None:
            for d_ in self._fault_detectors():
                out += d_.update(t, None)
            return out

        if up_now == self.stance:
            # The stance foot is now the lifted one: a change of leg without a long rest.
            if self._switch_since is None:
                self._switch_since = t
            elif t - self._switch_since >= self.c.lift_min_s - 1e-6:
                out += self._end_stance(t)
                self._raised_since = (up_now, self._switch_since)
                out += self._maybe_start_stance(t, up_now, im)
                if self.stance is None:
                    return out
        else:
            self._switch_since = None
        stance, raised = self.stance, other_side(self.stance)
        # --- the raised foot put down (flat) and the stance foot moving
        _lo, hi = heights[raised]
        s_lo = heights[stance][0]
        flat_pct = (hi - s_lo) / leg * 100.0
        toe_h = float(np.dot(w[side_lm(raised, "FOOT_INDEX")], self.base.up))
        self.values_now["raised_foot_height_cm"] = (toe_h - s_lo) * 100.0
        down = flat_pct < self.c.touch_pct
        out += self._track_touchdown(t, down)
        if self.stance is None:  # the single-leg stance ended (a rest)
            return out
        out += self._track_stance_shift(t, im, leg_px=self._leg_px(im, stance))

        # --- angles
        drop = _hip_tilt(im, w) - self.base.hip_tilt_lr
        drop = drop if raised == "left" else -drop
        drop = self._m_drop.push(t, drop)
        trunk_raw = float(tilt_from_vertical_deg(_mid(im[LM.LEFT_SHOULDER], im[LM.RIGHT_SHOULDER]),
                                                 _mid(im[LM.LEFT_HIP], im[LM.RIGHT_HIP])))
        trunk = self._m_trunk.push(t, trunk_raw - self.base.trunk_tilt)
        fppa = self._m_fppa.push(t, fppa_deg(w, stance) - self.base.fppa[stance])
        self.values_now.update(pelvic_drop_deg=drop, trunk_lean_abs_deg=abs(trunk) if math.isfinite(trunk)
                               else nan, knee_valgus_deg=fppa)
        out += self.pelvic.update(t, drop)
        out += self.trunk.update(t, abs(trunk) if math.isfinite(trunk) else None)
        out += self.valgus.update(t, fppa)
        for k, v in (("pelvic_drop_deg", drop), ("trunk_lean_deg", abs(trunk)), ("knee_valgus_deg", fppa)):
            if math.isfinite(v):
                self._peaks[k].append(v)

        # --- reaches
        out += self._track_reach(t, w, leg, stance, down)
        return out

    def _leg_px(self, im: np.ndarray, side: str) -> float:
        hip, knee, ankle = (im[side_lm(side, p), :2] for p in ("HIP", "KNEE", "ANKLE"))
        return float(np.linalg.norm(hip - knee) + np.linalg.norm(knee - ankle))

    def _maybe_start_stance(self, t: float, up_now: str | None, im: np.ndarray) -> list[Event]:
        if up_now not in ("left", "right"):
            if up_now is None:
                self._raised_since = None
            return []
        if self.side_hint in ("left", "right") and other_side(up_now) != self.side_hint:
            return []  # the chosen stance leg only
        if self._raised_since is None or self._raised_since[0] != up_now:
            self._raised_since = (up_now, t)
            return []
        if t - self._raised_since[1] < self.c.lift_min_s - 1e-6:
            return []
        stance = other_side(up_now)
        self.stance = stance
        self._down_since = self._switch_since = None
        self._plant, self._plant_buf = None, []
        self._raised_since = None
        self.pelvic.side = up_now
        self.valgus.side = stance
        # A touch-down belongs to the foot that touches (SPEC: "the foot that lands"); a
        # stance foot that moves, to the stance foot.
        self.touch.side, self.shift.side = up_now, stance
        self._centre = np.zeros(2)
        self._centre_buf: deque[np.ndarray] = deque()
        self._min_since_reach = (float("inf"), t)
        for m in (self._m_drop, self._m_trunk, self._m_fppa):
            m.clear()
        cur = self.sets.current
        if cur is None or cur.side != stance:
            self.sets.start(stance, t)
        log.debug("single-leg stance on %s at %.2f s", stance, t)
        return []

    def _end_stance(self, t: float) -> list[Event]:
        out: list[Event] = []
        for d in self._fault_detectors():
            out += d.finish(t)
        self.stance = None
        self._reach = None
        cur = self.sets.current
        if cur is not None and cur.reps == 0:
            self.sets.current = None  # lifted and put down without a reach: no set
        return out

    def _set_complete(self) -> bool:
        cur = self.sets.current
        return cur is None or cur.reps == 0 or cur.reps >= self._points_per_set()

    def _track_touchdown(self, t: float, down: bool) -> list[Event]:
        out: list[Event] = []
        if down:
            if self._down_since is None:
                self._down_since = t
        else:
            self._down_since = None
        # A touch-down between complete sets is a rest, not a fault.
        mid_set = not self._set_complete() or self._reach is not None
        out += self.touch.update(t, 1.0 if (down and mid_set) else 0.0)
        if self._down_since is not None and t - self._down_since >= self.c.rest_s:
            out += self._end_stance(t)
            # a complete set ends with the rest; an incomplete one stays open for the same leg
        return out

    def _track_stance_shift(self, t: float, im: np.ndarray, leg_px: float) -> list[Event]:
        if self.stance is None:
            return []
        ankle = im[side_lm(self.stance, "ANKLE"), :2]
        heel = im[side_lm(self.stance, "HEEL"), :2]
        p = _mid(ankle, heel)
        if not np.all(np.isfinite(p)) or not math.isfinite(leg_px) or leg_px <= 0:
            return self.shift.update(t, None)
        if self._plant is None:
            self._plant_buf.append(p)
            if len(self._plant_buf) >= 5:
                self._plant = np.median(np.array(self._plant_buf), axis=0)
            return self.shift.update(t, None)
        moved = float(np.linalg.norm(p - self._plant)) / leg_px * 100.0
        out = self.shift.update(t, moved)
        if self.shift.active:
            # Re-plant where the foot now is: the cue clears once it stays there, and one
            # step is one balance loss, not a fault for the rest of the set.
            self._plant, self._plant_buf = None, []
        return out

    def _points_per_set(self) -> int:
        if self.variant == "y" or self.variant is None:
            return 3
        return self.star_points

    def _points(self) -> dict[str, float]:
        """The points reaches are named by. Until a Y is chosen, the 8-point star names:
        they contain the Y's three points and name the 6-point star's by the nearest."""
        if self.variant == "star" and self.star_points == 6:
            return STAR6_POINTS
        if self.variant_hint == "y":
            return Y_POINTS
        return STAR8_POINTS

    def _track_reach(self, t: float, w: np.ndarray, leg: float, stance: str, down: bool) -> list[Event]:
        """Reach distance = raised foot tip from the stance mid-foot, on the floor plane, as
        % of leg length (how the Y/star test measures it). Whether a reach is under way is
        judged on how far the foot has moved from where this person holds it at the centre
        (the median resting position), so a wide or narrow resting position, and reaches
        that cross behind the stance leg, are all caught."""
        raised = other_side(stance)
        _up, medial, ant = self._floor_frame(stance)
        tip = w[side_lm(raised, "FOOT_INDEX")]
        base = _mid(w[side_lm(stance, "HEEL")], w[side_lm(stance, "FOOT_INDEX")])
        v = tip - base
        xy = np.array([np.dot(v, ant), np.dot(v, medial)]) / leg * 100.0
        if not np.all(np.isfinite(xy)):
            return []
        pct = float(np.hypot(*xy))
        ang = float(np.degrees(np.arctan2(xy[1], xy[0])))
        self.values_now["reach_pct"] = pct
        if self._reach is None:
            self._centre_buf.append(xy)
            while len(self._centre_buf) > 300:
                self._centre_buf.popleft()
            self._centre = np.median(np.array(self._centre_buf), axis=0)
        moved = float(np.hypot(*(xy - self._centre)))
        out: list[Event] = []
        if self._reach is None:
            # the reach starts when the foot last left its resting place
            if moved <= 0.4 * self.c.reach_on_pct or moved <= self._min_since_reach[0]:
                self._min_since_reach = (moved, t)
            if moved >= self.c.reach_on_pct and len(self._centre_buf) >= 3:
                self._reach = Reach(side=stance, t_s=self._min_since_reach[1])
                self._reach_samples = []
        if self._reach is not None:
            r = self._reach
            self._reach_samples.append((t, moved, ang))
            if pct > r.peak_pct and moved >= self.c.reach_on_pct:
                r.peak_pct, r.peak_t = pct, t
            if moved < self.c.reach_off_pct:
                r.t_end_s = t
                self._reach = None
                self._min_since_reach = (moved, t)
                if t - r.t_s >= self.c.reach_min_s and self.counter.try_count(t):
                    out += self._count_reach(r)
        return out

    def _count_reach(self, r: Reach) -> list[Event]:
        # Direction: circular mean over the samples near the farthest point.
        far = max((m for _, m, _ in self._reach_samples), default=0.0)
        near = [(m, a) for _, m, a in self._reach_samples if m >= 0.85 * far and math.isfinite(a)]
        if near:
            rad = np.radians([a for _, a in near])
            r.direction_deg = float(np.degrees(np.arctan2(np.sin(rad).mean(), np.cos(rad).mean())))
        self.reaches.append(r)
        before = self._points_per_set()
        self._decide_variant()
        if self._points_per_set() != before:
            self._regroup_sets()
        r.point = nearest_point(r.direction_deg, self._points())[0] if math.isfinite(r.direction_deg) else ""
        cur = self.sets.current
        if cur is None or cur.side != r.side or cur.reps >= self._points_per_set():
            cur = self.sets.start(r.side, r.t_s)
        cur.reps += 1
        cur.figures.setdefault("reaches", []).append(
            {"point": r.point, "distance_pct": round(r.peak_pct, 1)})
        ev = Event(t_s=r.t_s, code="reach", kind="count",
                   message=f"{r.point or 'reach'} reach {r.peak_pct:.0f}% of leg length",
                   side=r.side, t_end_s=r.t_end_s, value=round(r.peak_pct, 1))
        if cur.reps >= self._points_per_set():
            self.sets.end(r.t_end_s)
        return [ev]

    def _regroup_sets(self) -> None:
        """The set size changed (Y turned out to be a star): regroup the reaches counted so
        far, in order, into sets of the new size per run of the same leg."""
        n = self._points_per_set()
        old = self.sets
        self.sets = SetTracker(sets_per_side=old.sets_per_side, sides=old.sides)
        open_side = old.current.side if old.current is not None else None
        for r in self.reaches[:-1]:  # the newest one is added by the caller
            cur = self.sets.current
            if cur is None or cur.side != r.side or cur.reps >= n:
                cur = self.sets.start(r.side, r.t_s)
            cur.reps += 1
            cur.figures.setdefault("reaches", []).append(
                {"point": nearest_point(r.direction_deg, self._points())[0]
                 if math.isfinite(r.direction_deg) else "", "distance_pct": round(r.peak_pct, 1)})
            r.point = cur.figures["reaches"][-1]["point"]
            if cur.reps >= n:
                self.sets.end(r.t_end_s)
        if self.sets.current is None and open_side is not None and self.stance == open_side:
            self.sets.start(open_side, self.reaches[-1].t_s)

    def _decide_variant(self) -> None:
        """Y or star from the directions reached, unless chosen. A Y has only its three
        points; two reaches clearly off them (medial, lateral, posterior...) make it a star,
        and the spacing of consecutive reaches tells 6 points (60 deg) from 8 (45 deg)."""
        if self.variant_hint is not None:
            self.variant = self.variant_hint
        else:
            angs = [r.direction_deg for r in self.reaches if math.isfinite(r.direction_deg)]
            off_y = sum(1 for a in angs if nearest_point(a, Y_POINTS)[1] > 30.0)
            self.variant = "star" if off_y >= 2 else "y"
        if self.variant == "star":
            angs = [r.direction_deg for r in self.reaches[-8:] if math.isfinite(r.direction_deg)]
            steps = [abs(angle_diff(b, a)) for a, b in itertools.pairwise(angs)]
            steps = [s for s in steps if 30.0 <= s <= 75.0]
            if len(steps) >= 2:
                self.star_points = 6 if float(np.median(steps)) > 52.5 else 8

    # ------------------------------------------------------------------ outputs

    def _fault_detectors(self) -> list[FaultDetector]:
        return [self.pelvic, self.trunk, self.valgus, self.touch, self.shift]

    def _finish(self, t: float) -> list[Event]:
        out: list[Event] = []
        for d in self._fault_detectors():
            out += d.finish(t)
        if self.sets.current is not None:
            if self.sets.current.reps == 0:
                self.sets.current = None
            else:
                self.sets.end(t)
        return out

    def summary(self) -> dict[str, Any]:
        def stat(k: str, fn) -> float | None:
            v = self._peaks[k]
            return round(float(fn(v)), 1) if v else None

        best: dict[str, dict[str, float]] = {}
        for r in self.reaches:
            b = best.setdefault(r.side, {})
            b[r.point] = max(b.get(r.point, 0.0), round(r.peak_pct, 1))
        faults = [e for e in self.events if e.kind == "fault"]
        return {
            "sets": self.sets.to_list(),
            "variant": self.variant or "y",
            "points_per_set": self._points_per_set(),
            "reaches": [r.to_dict() for r in self.reaches],
            "reaches_total": len(self.reaches),
            "max_reach_pct": best,
            "pelvic_drop_max_deg": stat("pelvic_drop_deg", np.max),
            "pelvic_drop_mean_deg": stat("pelvic_drop_deg", np.mean),
            "trunk_lean_max_deg": stat("trunk_lean_deg", np.max),
            "knee_valgus_max_deg": stat("knee_valgus_deg", np.max),
            "balance_losses": sum(1 for e in faults if e.code == "balance_loss"),
            "baseline": "measured" if self.base.measured else "assumed level (no two-leg stance seen)",
        }

    def status(self) -> LiveStatus:
        st = LiveStatus(drill=self.drill_id, reading=self.setup.reliable)
        st.sets_target = int(self.c.sets_per_leg)
        st.count_label = "reaches"
        side = self.stance or (self.sets.current.side if self.sets.current else None)
        st.side = side
        cur = self.sets.current
        st.set_index = self.sets.sets_done(side) + (1 if cur is not None else 0) if side else 0
        st.count = cur.reps if cur is not None else 0
        st.count_target = self._points_per_set()
        st.cues = self.active_cues()
        lms: set[int] = set()
        if self.pelvic.active:
            lms |= {LM.LEFT_HIP, LM.RIGHT_HIP}
        if self.trunk.active:
            lms |= {LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER, LM.LEFT_HIP, LM.RIGHT_HIP}
        if self.valgus.active and self.stance:
            lms |= {side_lm(self.stance, p) for p in ("HIP", "KNEE", "ANKLE")}
        if (self.touch.active or self.shift.active) and self.stance:
            lms |= {side_lm(other_side(self.stance), p) for p in ("HEEL", "FOOT_INDEX", "ANKLE")}
        st.fault_landmarks = frozenset(int(i) for i in lms)
        if not st.reading:
            return st
        v = self.values_now
        if math.isfinite(v.get("pelvic_drop_deg", float("nan"))):
            st.info["pelvic drop"] = f"{v['pelvic_drop_deg']:+.0f} deg"
        if math.isfinite(v.get("knee_valgus_deg", float("nan"))):
            st.info["knee valgus"] = f"{v['knee_valgus_deg']:+.0f} deg"
        if self._reach is not None:
            st.info["reach"] = f"{self._reach.peak_pct:.0f}% leg"
        elif self.reaches:
            r = self.reaches[-1]
            st.info["last reach"] = f"{r.point} {r.peak_pct:.0f}%"
        return st

    def values(self) -> dict[str, float]:
        return dict(self.values_now)
