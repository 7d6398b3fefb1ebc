"""Star (Y) balance, front view: stand on one leg, reach the raised foot to each point of
a Y (3 points) or a star (6 or 8 points), hips level, stance knee over the toes, the raised
foot never put down between reaches. 6 sets per leg.

What is measured, and how far one front camera can be trusted for it
---------------------------------------------------------------------
Everything is measured on the image landmarks, the pose model's most direct output, in
shares of the person's own image leg length, relative to their own two-leg stance. The
model's 3-D ("world") landmarks are not used for the feet: from the front their depth is
a guess that goes badly wrong exactly when it matters here (a foot reaching toward the
camera hides the stance foot; the model then often puts the wrong foot in front), and so
are their heights. Measured on the rendered benchmark clips (full model): the raised
foot's lowest world point over the stance foot's, while it hovers 3 cm up at the far end
of a reach, reads from -12 to +38 % of leg length (5th-95th percentile, median +18 %, a
posterior reach reading highest); put down there it reads median +15 %. A touch-down far
out is 3 cm, about 3 % of a leg, inside that spread, so world heights cannot tell it.

- Stance leg: the foot that stays on the floor when the other lifts. A foot is raised when
  its lowest point (heel or toe) is `lift_on_pct` of leg length above the other foot's, for
  `lift_min_s`. Image heights compare only for two feet at the same distance from the
  camera, so heights are compared only while the raised foot is beside the stance foot (at
  the centre between reaches, or back at its two-leg spot).
- Pelvic drop (deg): the slope of the hip line in the image, relative to the same slope in
  the person's own two-leg stance (camera roll, a crooked camera and the model's hip bias
  cancel), positive when the raised-leg side drops. The frontal plane is what a front
  camera sees best: the angle is good to 1-2 deg while the pelvis faces the camera. It is a
  projection: when the pelvis turns (posterior reaches rotate it 20-30 deg) the hip line
  foreshortens and the projected slope grows by about 1/cos(turn); forward tilt is unseen.
  A short median removes the model's 1-2 px hip jitter. Through the pose model the hip
  points show only a small part of a drop: on rendered bodies with a known 8-10 deg drop
  (the raised hip joint 4-6 % of leg length lower) the model's raised hip point moves
  0.2-1.4 % (as much as in a clean reach) and the judged angle reaches 1.5-3.2 deg for
  half a second, while clean reaches (the raised thigh swinging forward, which the
  model's hip points follow) reach 2.6 deg.
  Nothing else in the model's output carries the drop there: the raised knee stays where
  it was (the foot is held, the knee bends a little more), the shoulders stay level (a
  counter-lean over the stance leg is a compensation some people make, judged as trunk
  lean when it is there), and the world hip line moves as much in clean anterior reaches.
  Measured again over the first reach (where the rendered drops fall), each figure held
  for 0.4 s, against the person's own start of the stance: the raised hip point sits
  1.7-3.2 % of leg lower in the four drops and up to 2.7 % in clean reaches; the raised
  knee below the stance knee 3.3-7.0 % in drops, up to 8.7 % in clean ones (a valgus
  stance knee, the star's medial reach); the judged angle 2.7-4.4 deg in drops, up to
  4.0 deg outside them. No threshold on these, alone or added, splits drops from clean.
  So a drop is flagged only once it is clearly past normal sway, and one front camera may
  miss true drops of 10 deg and less; the threshold is not lowered to compensate.
- The body turned from the camera: people rarely stand square to a laptop. In the two-leg
  stance the feet's mean heel-to-toe image slant over a foot length (`foot_per_leg`)
  gives sin(yaw) (toe-out cancels between the feet). Turned by yaw, anything that moves
  forward slides sideways in the image by sin(yaw) times the move: the trunk's hip hinge
  in a posterior reach and the stance knee bending forward read as a sideways lean and as
  valgus (or hide one). The forward part comes from the segment's foreshortening against
  its upright length (trunk, thigh, shank) and is taken out, the rest scaled by 1/cos(yaw).
  The model foreshortens a deeply bent knee less than it bends, so with the camera 20 deg
  round a valgus collapse at 60-70 deg of knee bend is still under-read (a rendered 15 deg
  collapse reads at most 5 deg, no more than the same clip's clean reaches: 5 deg for
  0.3 s as the knee starts to bend, then -4 to -24 deg as it bends deeper while the
  collapse goes on; a cue level of 4 deg still misses it, so the level stays).
- Trunk lean (deg): shoulder-midpoint over hip-midpoint against vertical, minus the two-leg
  baseline, in the body's frontal plane (see the body turned, above).
- Stance-knee valgus (deg): the frontal-plane projection angle (FPPA) of hip-knee-ankle,
  positive when the knee falls inside the hip-ankle line, beyond the standing baseline,
  read where it means something: a bending knee normally drifts out over turned-out toes
  (negative), so a drift inward is a collapse. The least certain of the angles (a few deg):
  through the model a rendered 15 deg collapse of a nearly straight knee reads 7-9 deg,
  with dips to 2 deg lasting a third of a second (a straight knee's angle swings with a
  pixel of knee jitter), which can delay the cue until the reading holds.
  The stance foot does not move in a set: when the raised leg reaches in front of it and
  the model reads its ankle far from where it was planted, the planted ankle is used; the
  stance leg and trunk are still read while the raised foot is lost altogether.
- Reaches: the raised foot tip's image displacement from where the person holds it at the
  centre. Sideways it maps to the floor directly (in leg lengths); toward or away from the
  camera the floor is foreshortened by the camera's distance over its height (`depth_scale`,
  about 3 for a laptop at hip height three metres away; one image gives no way to measure
  it without knowing the lens). So the direction (which point of the Y) is robust, the
  star's neighbouring points need the set-up near the assumed one, and the distance of
  reaches toward or away from the camera is good to about 20 % of leg length.
- Balance loss: the raised foot put down (its lowest point at the stance foot's floor level)
  beside the stance foot mid-set and lifted again to carry on (the event comes when it
  lifts), or the stance foot moving (a hop or a step) by `stance_shift_pct`. A foot kept
  down for `rest_s` is a rest, after a complete set or not. A touch-down far out in a
  reach cannot be told from a foot hovering a few centimetres up by one front camera
  (image heights compare only beside the stance foot, world heights not at all, above)
  and is not judged. Nor does the weight it takes give it away: on rendered touch-downs
  that draw the hips 4-6 cm toward the foot, the model's hips move toward it by 2.2-3.8 %
  of leg length while the foot is still (one foot never read still), as much as in clean
  reaches (up to 2.7 % seen square, 10 % from a camera 20 deg round); and a reach that
  stops and then goes on further is a hesitation as often as a touch-down.

Events: `count` code "reach" (t_s = start, t_end_s = back at the centre, value = distance
in % of leg length, side = stance leg, message naming the point); faults `pelvic_drop`
(side = raised leg), `trunk_lean` (no side: the trunk is both), `knee_valgus` (side =
stance knee), `balance_loss` (side = the raised foot that touched down, or the stance foot
that moved). Variants: "y" (3 points) and "star" (6 or 8 points), detected from the reach
directions unless chosen.
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
from formcheck.cues import cue_message
from formcheck.drills.base import Analyser, LiveStatus
from formcheck.drills.blocks import Counter, FaultDetector, SetTracker
from formcheck.errors import InputError
from formcheck.events import Event
from formcheck.pose.frame import PoseFrame
from formcheck.pose.geometry import flexion_deg
from formcheck.pose.landmarks import LM, other_side, side_lm

log = logging.getLogger(__name__)

SIDES = ("left", "right")

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
        5.0, "Hip-line drop on the raised-leg side beyond the level standing baseline: under "
             "about 4 deg is normal sway and model jitter, a visible Trendelenburg drop is more.", 1)
    pelvic_drop_off_deg: float = threshold(3.0, "The pelvic-drop cue clears below this (hysteresis).", 1)
    trunk_lean_deg: float = threshold(
        10.0, "Sideways trunk lean beyond the standing baseline: leaning over the stance leg is "
              "the usual way to hide a weak hip; a few degrees of sway are normal.", 1)
    trunk_lean_off_deg: float = threshold(7.0, "The trunk-lean cue clears below this.", 1)
    knee_valgus_deg: float = threshold(
        6.0, "Stance-knee frontal-plane projection angle beyond its standing baseline. Clinical "
             "cut-offs are 8-13 deg of absolute FPPA in single-leg squats; relative to the person's "
             "own standing angle, and with a bending knee that normally drifts out over the toes "
             "(negative), 6 deg of inward drift is already a visible collapse.", 1)
    offset_fade_pct: float = threshold(
        30.0, "The model's hip offset of the foot-beside posture fades out as the raised foot moves "
              "this far (% of leg length) beyond the beside zone: a reach's first third.")
    ankle_lost_pct: float = threshold(
        8.0, "A stance ankle read this far (% of leg length, ~7 cm) from where the foot is planted "
             "has been lost by the model (the raised leg in front of it): the knee angle uses the "
             "planted ankle. Ankle jitter is 1-2 %.")
    knee_valgus_off_deg: float = threshold(4.0, "The knee-valgus cue clears below this.", 1)
    lift_on_pct: float = threshold(
        4.5, "A foot is raised when its lower point is this far (% of leg length, ~4 cm) above "
             "the other foot's: clear of floor contact and of model jitter at the feet.")
    lift_off_pct: float = threshold(
        2.5, "Both feet count as down again below this height difference (hysteresis).")
    lift_min_s: float = threshold(
        0.5, "A foot must stay up this long to start single-leg stance: steps, hops and jumps "
             "lift a foot for less, a balance lasts seconds.")
    touch_pct: float = threshold(
        3.0, "The raised foot is down when its lowest point is within this height (% of leg "
             "length) of the stance foot's, beside it.")
    touch_min_s: float = threshold(
        0.4, "A touch-down must last this long to be a balance loss: a brief brush is not.")
    rest_s: float = threshold(
        2.0, "Both feet down this long ends the single-leg stance (a rest, or a change of leg).")
    beside_pct: float = threshold(
        8.0, "The raised foot is beside the stance foot (heights comparable) within this image "
             "distance (% of leg length) of its centre position or of its two-leg spot.")
    stance_shift_pct: float = threshold(
        12.0, "The stance foot moved this far (% of leg length) from where it was planted: a hop "
              "or a step to catch the balance.", 1)
    reach_on_pct: float = threshold(
        15.0, "A reach starts when the raised foot tip has moved this far in the image (% of leg "
              "length) from where the person holds it at the centre; real reaches go 60-90 % of "
              "leg length on the floor, at least a quarter of that in the image.")
    reach_off_pct: float = threshold(
        8.0, "A reach ends when the foot is back within this distance of the centre (hysteresis).")
    reach_min_s: float = threshold(
        0.3, "A reach shorter than this is a twitch, not a reach (reaches are slow by design).")
    depth_scale: float = threshold(
        3.0, "Floor distances toward the camera look this many times shorter than sideways ones: "
             "the camera's distance over its height (a laptop at hip height, 3 m away). Set it "
             "for another set-up; the reach points do not depend on it, the reach distances "
             "toward and away from the camera do.")
    camera_height_legs: float = threshold(
        1.1, "The camera's height above the floor in leg lengths (a laptop on a table, about "
             "hip height): how much nearer floor points drop in the image.")
    foot_per_leg: float = threshold(
        0.31, "Heel-to-toe length over hip-to-ankle length (anthropometric tables: foot ~15 % of "
              "stature, hip joint to ankle ~49 %): turns the feet's sideways image lean into the "
              "body's turn from the camera.")
    yaw_deadband_deg: float = threshold(
        5.0, "A body turned less than this from the camera counts as square: two feet turned out "
             "by a few degrees more on one side make a square stance read that much off.")
    still_s: float = threshold(
        0.3, "Window over which both feet must stay put for the standing baseline.")
    still_drift_pct: float = threshold(
        3.0, "A foot drifting this far (% of leg length, ~3 cm) over `still_s` is moving: a "
             "weight shift or a step, not a stance.")
    still_scatter_pct: float = threshold(
        2.0, "A foot scattering this much (% of leg length, std about its fitted drift) over "
             "`still_s` is moving back and forth; the model's jitter is 0.5-1 % (1-2 px on a "
             "250 px leg).")
    baseline_gap_s: float = threshold(
        0.2, "The standing baseline carries on over a break this short in the level, still "
             "two-leg stance: a few frames of foot jitter, not a lifted foot (a lift lasts "
             "`lift_min_s`).")
    baseline_s: float = threshold(
        0.5, "Two-leg stance this long gives the level baseline (hip line, trunk, knees).")
    smooth_s: float = threshold(
        0.25, "Median window for angles and foot heights: removes the model's frame-to-frame "
              "jitter, keeps a drop that lasts.")


@dataclass
class Baseline:
    """The person's own two-leg stance: the zero of every angle, and where the feet rest."""

    hip_tilt_lr: float = 0.0  # slope of the hip line, + when the left hip is lower (image)
    trunk_tilt: float = 0.0  # shoulder-mid over hip-mid from vertical, + toward image right
    fppa: dict[str, float] = field(default_factory=lambda: {"left": 0.0, "right": 0.0})
    home: dict[str, np.ndarray] = field(default_factory=dict)  # side -> foot tip (x, y) image
    # The body's turn from the camera: image x per unit of forward (sagittal) displacement,
    # sin(yaw) signed, 0 when square on; and the segment lengths (image px) the upright
    # stance shows, whose foreshortening tells how far a segment tips forward.
    fwd_x: float = 0.0
    trunk_len: float = float("nan")
    thigh: dict[str, float] = field(default_factory=lambda: {"left": float("nan"), "right": float("nan")})
    shank: dict[str, float] = field(default_factory=lambda: {"left": float("nan"), "right": float("nan")})
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
    peak_xy: tuple[float, float] = (float("nan"), float("nan"))  # image (medial, down) / leg

    def to_dict(self) -> dict[str, Any]:
        return {"side": self.side, "t_s": round(self.t_s, 3), "t_end_s": round(self.t_end_s, 3),
                "t_peak_s": round(self.peak_t, 3), "point": self.point,
                "direction_deg": round(self.direction_deg, 1), "distance_pct": round(self.peak_pct, 1)}


def _small_median(vals: list[float]) -> float:
    """Median of a short list (no numpy call per frame)."""
    v = sorted(vals)
    n = len(v)
    return v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])


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
        vals = sorted(x for _, x in self.buf)
        n = len(vals)
        return vals[n // 2] if n % 2 else 0.5 * (vals[n // 2 - 1] + vals[n // 2])

    def clear(self) -> None:
        self.buf.clear()


def fppa_deg(image: np.ndarray, side: str) -> float:
    """Signed frontal-plane projection angle of one knee: + when the knee sits medial of the
    hip-ankle line (valgus), - when lateral (varus). Medial is toward the other hip.

    Pass image landmarks for the camera's view, or world landmarks for an orthographic
    frontal view (x, y only)."""
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


def trunk_tilt(image: np.ndarray) -> float:
    """Shoulder midpoint over hip midpoint, degrees from vertical, + toward image right."""
    top = _mid(image[LM.LEFT_SHOULDER, :2], image[LM.RIGHT_SHOULDER, :2])
    bottom = _mid(image[LM.LEFT_HIP, :2], image[LM.RIGHT_HIP, :2])
    d = top - bottom
    return float(np.degrees(np.arctan2(d[0], -d[1])))


def body_forward_x(image: np.ndarray, leg: float, foot_per_leg: float) -> float:
    """How far the body's forward direction leans sideways in the image: the two feet's mean
    heel-to-toe image x over a foot length (`foot_per_leg` legs), i.e. sin(yaw), signed as
    image x per unit of forward displacement. Toe-out cancels between the feet; the
    foot's own pitch toward the camera does not enter (it moves the toe down, not across)."""
    dx = [image[side_lm(s, "FOOT_INDEX"), 0] - image[side_lm(s, "HEEL"), 0] for s in SIDES]
    v = float(np.mean(dx)) / (foot_per_leg * leg)
    return float(np.clip(v, -0.7, 0.7)) if math.isfinite(v) else float("nan")


def _out_of_plane(d: np.ndarray, length0: float) -> float:
    """The length of a segment that the image no longer shows (it points toward or away
    from the camera), from its upright image length: sqrt(L0^2 - |d|^2)."""
    if not math.isfinite(length0):
        return 0.0
    return math.sqrt(max(0.0, length0 * length0 - float(d @ d)))


def trunk_tilt_frontal(image: np.ndarray, fwd_x: float = 0.0, trunk_len: float = float("nan")) -> float:
    """Sideways trunk lean in the body's own frontal plane, degrees, + toward image right.
    With the body turned from the camera (fwd_x = sin(yaw) != 0) a forward bend of the trunk
    (the hip hinge of a posterior reach) slides the shoulders sideways in the image by
    fwd_x times the forward reach of the trunk, which the trunk's foreshortening against its
    upright length shows (a trunk bent forward is assumed: balancing on one leg the trunk
    hinges forward, not back). That part is taken out and the rest scaled by 1/cos(yaw)."""
    top = _mid(image[LM.LEFT_SHOULDER, :2], image[LM.RIGHT_SHOULDER, :2])
    d = top - _mid(image[LM.LEFT_HIP, :2], image[LM.RIGHT_HIP, :2])
    if fwd_x == 0.0:
        return float(np.degrees(np.arctan2(d[0], -d[1])))
    lateral = (d[0] - fwd_x * _out_of_plane(d, trunk_len)) / math.sqrt(1.0 - fwd_x * fwd_x)
    return float(np.degrees(np.arctan2(lateral, -d[1])))


def knee_frontal(image: np.ndarray, side: str, fwd_x: float, thigh0: float, shank0: float) -> np.ndarray:
    """Image landmarks with the knee's sagittal bend taken out of its x position, for the
    frontal-plane angle of a body turned from the camera: a knee bending forward shows as a
    knee moving sideways by fwd_x times its forward offset from the hip-ankle line. The
    offset comes from how much the thigh and the shank look shorter than upright (knee
    ahead of both the hip and the ankle, as in a single-leg bend); the x positions are then
    scaled by 1/cos(yaw) about the hip (sideways offsets look that much narrower)."""
    if fwd_x == 0.0:
        return image
    hip, knee, ankle = (image[side_lm(side, p), :2] for p in ("HIP", "KNEE", "ANKLE"))
    tf = _out_of_plane(knee - hip, thigh0)  # knee ahead of the hip
    sf = _out_of_plane(knee - ankle, shank0)  # knee ahead of the ankle
    th, sh = abs(float(knee[1] - hip[1])), abs(float(ankle[1] - knee[1]))
    if not (math.isfinite(th) and math.isfinite(sh)) or th + sh <= 0:
        return image
    # the hip-ankle line's forward position at the knee's height, the hip at 0
    line = th / (th + sh) * (tf - sf)
    out = image.copy()
    out[side_lm(side, "KNEE"), 0] = knee[0] - fwd_x * (tf - line)
    scale = 1.0 / math.sqrt(1.0 - fwd_x * fwd_x)
    for p in ("KNEE", "ANKLE"):
        i = side_lm(side, p)
        out[i, 0] = hip[0] + (out[i, 0] - hip[0]) * scale
    return out


@dataclass
class _Feet:
    """One frame's feet in the image: lowest point row, tip and mid-foot, per side."""

    low: dict[str, float]
    tip: dict[str, np.ndarray]
    mid: dict[str, np.ndarray]

    @classmethod
    def of(cls, im: np.ndarray) -> _Feet | None:
        low, tip, mid = {}, {}, {}
        for s in SIDES:
            heel, toe = im[side_lm(s, "HEEL"), :2], im[side_lm(s, "FOOT_INDEX"), :2]
            if not (np.all(np.isfinite(heel)) and np.all(np.isfinite(toe))):
                return None
            low[s] = float(max(heel[1], toe[1]))
            tip[s] = toe.copy()
            mid[s] = _mid(heel, toe)
        return cls(low, tip, mid)


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
        self._base_buf: deque[tuple[float, np.ndarray, np.ndarray, np.ndarray]] = deque()
        self._two_leg_since: float | None = None
        self._two_leg_last: float | None = None
        on, off = cfg.min_on_s, cfg.min_off_s
        self.pelvic = FaultDetector("pelvic_drop", cfg.pelvic_drop_deg, cfg.pelvic_drop_off_deg, on, off)
        self.trunk = FaultDetector("trunk_lean", cfg.trunk_lean_deg, cfg.trunk_lean_off_deg, on, off)
        self.valgus = FaultDetector("knee_valgus", cfg.knee_valgus_deg, cfg.knee_valgus_off_deg, on, off)
        self.shift = FaultDetector("balance_loss", cfg.stance_shift_pct, cfg.stance_shift_pct * 0.6,
                                   on, off)
        self.sets = SetTracker(sets_per_side=int(cfg.sets_per_leg))
        self.counter = Counter(refractory_s=cfg.reach_min_s)
        self._m_drop = _Median(cfg.smooth_s)
        self._m_trunk = _Median(cfg.smooth_s)
        self._m_fppa = _Median(cfg.smooth_s)
        self._m_height = _Median(cfg.smooth_s)
        self._m_raised = _Median(cfg.smooth_s)
        self._leg_buf: deque[float] = deque(maxlen=150)
        self.leg_px = float("nan")
        self._leg_n = 0
        self._still: deque[tuple[float, np.ndarray]] = deque()
        # single-leg state
        self.stance: str | None = None
        self._raised_since: tuple[str, float] | None = None
        self._down_since: float | None = None
        self._last_down_t = 0.0
        self._down_mid_set = False
        self._switch_since: float | None = None
        self._centre: np.ndarray | None = None  # raised foot tip at the centre (image px)
        self._centre_buf: deque[np.ndarray] = deque(maxlen=90)
        self._min_since_reach: tuple[float, float] = (float("inf"), 0.0)
        self._plant: np.ndarray | None = None  # stance mid-foot image position when planted
        self._plant_buf: list[np.ndarray] = []
        self.depth_scale = float(cfg.depth_scale)
        self._stance_t0 = 0.0
        self._drop_zero: float | None = None
        self._drop_zero_buf: list[float] = []
        self._ankle_plant: np.ndarray | None = None  # stance ankle where it is planted (image px)
        self._ankle_buf: list[np.ndarray] = []
        self.reaches: list[Reach] = []
        self._reach: Reach | None = None
        self._reach_samples: list[tuple[float, float, float, float]] = []  # (t, moved, medial, down)
        self._last_reliable_t: float | None = None
        self.values_now: dict[str, float] = {}
        self._peaks: dict[str, list[float]] = {"pelvic_drop_deg": [], "trunk_lean_deg": [],
                                               "knee_valgus_deg": []}

    # ------------------------------------------------------------------ geometry

    def _leg(self, im: np.ndarray) -> float:
        """The person's image leg length: the longest of the last few seconds (a bending
        knee or a leg swung toward the camera only shortens it)."""
        vals = []
        for s in SIDES:
            hip, knee, ankle = (im[side_lm(s, p), :2] for p in ("HIP", "KNEE", "ANKLE"))
            vals.append(float(np.linalg.norm(hip - knee) + np.linalg.norm(knee - ankle)))
        v = max((x for x in vals if math.isfinite(x)), default=float("nan"))
        if math.isfinite(v) and v > 0:
            self._leg_buf.append(v)
        # the longest of the last few seconds changes slowly: recomputed every 10 frames
        if len(self._leg_buf) >= 3 and (len(self._leg_buf) < 10 or self._leg_n % 10 == 0
                                        or not math.isfinite(self.leg_px)):
            self.leg_px = float(np.percentile(self._leg_buf, 90))
        self._leg_n += 1
        return self.leg_px

    def _medial_sign(self, im: np.ndarray, stance: str) -> float:
        """Image x direction from the stance hip toward the raised leg's hip."""
        d = im[side_lm(other_side(stance), "HIP"), 0] - im[side_lm(stance, "HIP"), 0]
        return 1.0 if d >= 0 else -1.0

    # ------------------------------------------------------------------ baseline

    def _feet_still(self, t: float, feet: _Feet, leg: float) -> bool:
        """Neither foot has moved over the last `still_s`: each mid-foot's fitted drift
        (straight-line fit over the window) under `still_drift_pct` and its scatter about
        that line under `still_scatter_pct`. A range (max - min) test instead reads the
        model's frame-to-frame jitter as movement: with 2 px of jitter on a 250 px leg it
        never saw both feet still, so the standing baseline (and the body's turn from the
        camera) was never measured."""
        p = np.array([feet.mid["left"], feet.mid["right"]]).ravel()
        self._still.append((t, p))
        while self._still and t - self._still[0][0] > self.c.still_s:
            self._still.popleft()
        if len(self._still) < 3:
            return False
        tt = np.array([x for x, _ in self._still])
        arr = np.array([x for _, x in self._still])
        tc = tt - tt.mean()
        span = float(tt[-1] - tt[0])
        if span <= 0:
            return False
        dev = arr - arr.mean(axis=0)
        slope = (tc @ dev) / float(tc @ tc)
        drift = np.abs(slope) * span / leg * 100.0
        scatter = (dev - np.outer(tc, slope)).std(axis=0) / leg * 100.0
        return bool(drift.max() < self.c.still_drift_pct and scatter.max() < self.c.still_scatter_pct)

    def _collect_baseline(self, t: float, im: np.ndarray, feet: _Feet, both_down: bool, leg: float) -> None:
        """Frames of a level, still two-leg stance make the baseline. A frame or two that
        the jitter makes look unlevel or moving is left out without starting over; a
        break longer than `baseline_gap_s` (a foot lifted, a step) starts over."""
        if not both_down:
            if self._two_leg_last is None or t - self._two_leg_last > self.c.baseline_gap_s:
                self._two_leg_since = self._two_leg_last = None
                self._base_buf.clear()
            return
        self._two_leg_last = t
        if self._two_leg_since is None:
            self._two_leg_since = t
        top = _mid(im[LM.LEFT_SHOULDER, :2], im[LM.RIGHT_SHOULDER, :2])
        trunk_d = top - _mid(im[LM.LEFT_HIP, :2], im[LM.RIGHT_HIP, :2])
        seg = [float(np.linalg.norm(im[side_lm(s_, a), :2] - im[side_lm(s_, b), :2]))
               for s_ in SIDES for a, b in (("HIP", "KNEE"), ("KNEE", "ANKLE"))]
        self._base_buf.append((t, np.array([hip_tilt_lr(im), trunk_d[0], trunk_d[1], fppa_deg(im, "left"),
                                            fppa_deg(im, "right"),
                                            body_forward_x(im, leg, self.c.foot_per_leg), *seg]),
                               feet.tip["left"].copy(), feet.tip["right"].copy()))
        # Keep the last 2 s of stance: the freshest baseline, robust to the camera moving.
        while self._base_buf and t - self._base_buf[0][0] > 2.0:
            self._base_buf.popleft()
        if t - self._two_leg_since >= self.c.baseline_s and len(self._base_buf) >= 3:
            arr = np.array([b[1] for b in self._base_buf], float)
            if not np.isfinite(arr).any(axis=0).all():
                return
            med = np.nanmedian(arr, axis=0)
            home = {"left": np.median(np.array([b[2] for b in self._base_buf]), axis=0),
                    "right": np.median(np.array([b[3] for b in self._base_buf]), axis=0)}
            fwd_x = float(med[5])
            if abs(fwd_x) < math.sin(math.radians(self.c.yaw_deadband_deg)):
                fwd_x = 0.0
            cos_yaw = math.sqrt(1.0 - fwd_x * fwd_x)
            self.base = Baseline(
                hip_tilt_lr=float(med[0]), trunk_tilt=float(np.degrees(np.arctan2(med[1] / cos_yaw, -med[2]))),
                fppa={"left": float(med[3]), "right": float(med[4])}, home=home, fwd_x=fwd_x,
                trunk_len=float(np.hypot(med[1], med[2])),
                thigh={"left": float(med[6]), "right": float(med[8])},
                shank={"left": float(med[7]), "right": float(med[9])}, measured=True)

    def _fppa(self, im: np.ndarray, side: str) -> float:
        """FPPA of one knee in the body's frontal plane (see knee_frontal)."""
        b = self.base
        return fppa_deg(knee_frontal(im, side, b.fwd_x, b.thigh[side], b.shank[side]), side)

    # ------------------------------------------------------------------ per frame

    def _update(self, frame: PoseFrame, reliable: bool) -> list[Event]:
        t = frame.t_s
        out: list[Event] = []
        nan = float("nan")
        self.values_now = {"pelvic_drop_deg": nan, "trunk_lean_abs_deg": nan, "knee_valgus_deg": nan,
                           "reach_pct": nan}
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
            for m in (self._m_drop, self._m_trunk, self._m_fppa, self._m_height, self._m_raised):
                m.clear()
            self._still.clear()
            # a baseline in the making does not run on over the gap
            self._two_leg_since = self._two_leg_last = None
            self._base_buf.clear()
        im = frame.image
        leg = self._leg(im)
        feet = _Feet.of(im)
        if not math.isfinite(leg) or leg <= 0:
            return out
        if feet is None:
            # A foot lost (the raised one reaching out of the model's sight): no touch-down,
            # shift or reach reading, but the stance leg and the trunk are still there.
            if self.stance is not None:
                out += self._angles(t, im, leg, self.stance, None, False, False)
            return out

        if self.stance is None:
            # Two-leg stance or lifting a foot: both feet are side by side, at the same
            # distance from the camera, so their image heights compare directly.
            d = self._m_height.push(t, (feet.low["right"] - feet.low["left"]) / leg * 100.0)  # + left higher
            if not math.isfinite(d):
                return out
            up_now = "left" if d >= self.c.lift_on_pct else "right" if d <= -self.c.lift_on_pct else None
            still = self._feet_still(t, feet, leg)
            # Level enough for the baseline: no foot raised and both still. Not the tighter
            # `lift_off_pct`: with the body turned from the camera the nearer foot sits lower
            # in the image by a few % of leg length.
            self._collect_baseline(t, im, feet, abs(d) < self.c.lift_on_pct and still, leg)
            out += self._maybe_start_stance(t, up_now if abs(d) >= self.c.lift_off_pct else None, feet)
            if self.stance is None:
                for d_ in self._fault_detectors():
                    out += d_.update(t, None)
                return out
        stance, raised = self.stance, other_side(self.stance)

        # --- the raised foot put down, the stance foot lifted, the stance foot moving
        beside = self._beside(feet, raised, leg)
        h = float("nan")
        if beside:
            h = self._m_raised.push(t, (feet.low[stance] - feet.low[raised]) / leg * 100.0)
        else:
            self._m_raised.clear()
        down = beside and math.isfinite(h) and h < self.c.touch_pct
        if beside and math.isfinite(h) and h <= -self.c.lift_on_pct:
            # The stance foot is now the lifted one: a change of leg without a long rest.
            if self._switch_since is None:
                self._switch_since = t
            elif t - self._switch_since >= self.c.lift_min_s - 1e-6:
                out += self._end_stance(t)
                self._raised_since = (stance, self._switch_since)
                out += self._maybe_start_stance(t, stance, feet)
                if self.stance is None:
                    return out
                stance, raised = self.stance, other_side(self.stance)
                down, beside = False, False
        else:
            self._switch_since = None
        out += self._track_touchdown(t, down)
        if self.stance is None:  # the single-leg stance ended (a rest)
            return out
        out += self._track_stance_shift(t, feet, leg, stance, raised)

        out += self._angles(t, im, leg, stance, feet, beside, down)

        # --- reaches
        out += self._track_reach(t, im, feet, leg, stance)
        return out

    def _angles(self, t: float, im: np.ndarray, leg: float, stance: str, feet: _Feet | None,
                beside: bool, down: bool) -> list[Event]:
        """Pelvic drop, trunk lean and stance-knee valgus, relative to the two-leg stance."""
        nan = float("nan")
        raised = other_side(stance)
        drop = hip_tilt_lr(im) - self.base.hip_tilt_lr
        drop = drop if raised == "left" else -drop
        zero = self._stance_zero(t, drop)
        drop = self._m_drop.push(t, drop - zero * self._beside_weight(feet, raised, leg, beside))
        trunk = self._m_trunk.push(
            t, trunk_tilt_frontal(im, self.base.fwd_x, self.base.trunk_len) - self.base.trunk_tilt)
        fppa = self._m_fppa.push(t, self._stance_fppa(t, im, stance, leg) - self.base.fppa[stance])
        # A thigh crossing behind or in front of the stance leg drags the model's hip point
        # with it (an apparent drop of up to 8 deg that is not there): no pelvic reading then,
        # neither judged nor shown (the figure shown is the one judged).
        if feet is None:
            crossing = True  # the raised foot unseen: where its thigh is, unknown
        else:
            med = self._medial_sign(im, stance)
            crossing = (feet.tip[raised][0] - feet.mid[stance][0]) * med / leg * 100.0 < -self.c.beside_pct
        if crossing:
            drop = nan
        self.values_now.update(pelvic_drop_deg=drop, trunk_lean_abs_deg=abs(trunk) if math.isfinite(trunk)
                               else nan, knee_valgus_deg=fppa)
        # With the raised foot down the person stands on two feet: no single-leg control to judge.
        out: list[Event] = []
        out += self.pelvic.update(t, None if crossing or down or not math.isfinite(drop) else drop)
        out += self.trunk.update(t, abs(trunk) if math.isfinite(trunk) and not down else None)
        out += self.valgus.update(t, None if down else fppa)
        for k, v in (("pelvic_drop_deg", drop), ("trunk_lean_deg", abs(trunk)), ("knee_valgus_deg", fppa)):
            if math.isfinite(v):
                self._peaks[k].append(v)

        return out

    def _stance_fppa(self, t: float, im: np.ndarray, stance: str, leg: float) -> float:
        """The stance knee's FPPA with the ankle where the foot is planted. The stance foot
        does not move in a set (a moving one is a balance loss and re-plants it), but with
        the raised leg reaching in front of it the model loses it and reads the ankle up to
        a third of a leg higher, which turns a caving knee into a straight one. The planted
        ankle is the median of the stance's first `baseline_s`, before the first reach."""
        ankle = im[side_lm(stance, "ANKLE"), :2]
        if self.shift.active:
            self._ankle_plant, self._ankle_buf = None, []
        if self._ankle_plant is None:
            if np.all(np.isfinite(ankle)) and self._reach is None:
                self._ankle_buf.append(ankle.copy())
            if self._ankle_buf and (t - self._stance_t0 >= self.c.baseline_s or self._reach is not None):
                self._ankle_plant = np.median(np.array(self._ankle_buf), axis=0)
            return self._fppa(im, stance)
        off = float(np.linalg.norm(ankle - self._ankle_plant)) / leg * 100.0
        if math.isfinite(off) and off < self.c.ankle_lost_pct:
            return self._fppa(im, stance)
        fixed = im.copy()
        fixed[side_lm(stance, "ANKLE"), :2] = self._ankle_plant
        return self._fppa(fixed, stance)

    def _stance_zero(self, t: float, drop: float) -> float:
        """The pose model reads the hip line of a person on one leg with a tilt of its own,
        set by where the raised thigh is (the model places each hip point from its thigh):
        with the raised foot held beside the stance foot it reads a hip hike of 2-5 deg that
        is not there; with the thigh swung forward the offset is gone, and a thigh crossing
        the midline reads as a drop. The first `baseline_s` of the stance, before the first
        reach, shows the offset of the foot-beside posture; it is taken out in that posture,
        fading out as the foot moves away (`_beside_weight`). An apparent hike is the
        model's; an apparent drop is kept (a person may well start with the hip dropped)."""
        if self._drop_zero is not None:
            return self._drop_zero
        if self._reach is None and not self.reaches and math.isfinite(drop):
            self._drop_zero_buf.append(drop)
            if t - self._stance_t0 < self.c.baseline_s:
                # the estimate so far: the offset is there from the first frame on one leg
                return min(0.0, _small_median(self._drop_zero_buf))
        if not self._drop_zero_buf:
            return 0.0
        self._drop_zero = min(0.0, float(np.median(self._drop_zero_buf)))
        return self._drop_zero

    def _beside_weight(self, feet: _Feet | None, raised: str, leg: float, beside: bool) -> float:
        """How much of the foot-beside hip offset is still there: all of it with the raised
        foot beside the stance foot, fading to none as it moves `offset_fade_pct` further out
        (the thigh leaves the posture gradually, and so does the model's offset)."""
        if beside:
            return 1.0
        if feet is None:
            return 0.0
        tip = feet.tip[raised]
        spots = [p for p in (self._centre, self.base.home.get(raised)) if p is not None]
        if not spots:
            return 0.0
        d = min(float(np.linalg.norm(tip - p)) for p in spots) / leg * 100.0
        return max(0.0, min(1.0, 1.0 - (d - self.c.beside_pct) / self.c.offset_fade_pct))

    def _beside(self, feet: _Feet, raised: str, leg: float) -> bool:
        """Is the raised foot beside the stance foot (at its centre spot or its two-leg
        spot), so that the two feet's image heights compare?"""
        if self._reach is not None:
            return False
        tip = feet.tip[raised]
        spots = [p for p in (self._centre, self.base.home.get(raised)) if p is not None]
        return any(float(np.linalg.norm(tip - p)) / leg * 100.0 < self.c.beside_pct for p in spots)

    def _maybe_start_stance(self, t: float, up_now: str | None, feet: _Feet) -> list[Event]:
        if up_now not in SIDES:
            self._raised_since = None
            return []
        if self.side_hint in SIDES and other_side(up_now) != self.side_hint:
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
        self.shift.side = stance
        self._centre = feet.tip[up_now].copy()
        self._centre_buf = deque([self._centre.copy()], maxlen=90)
        self._stance_t0, self._drop_zero, self._drop_zero_buf = t, None, []
        self._ankle_plant, self._ankle_buf = None, []
        self._min_since_reach = (float("inf"), t)
        for m in (self._m_drop, self._m_trunk, self._m_fppa, self._m_raised):
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
        self._m_height.clear()
        cur = self.sets.current
        if cur is not None and cur.reps == 0:
            self.sets.current = None  # lifted and put down without a reach: no set
        return out

    def _set_complete(self) -> bool:
        cur = self.sets.current
        return cur is None or cur.reps == 0 or cur.reps >= self._points_per_set()

    def _track_touchdown(self, t: float, down: bool) -> list[Event]:
        """The raised foot put down mid-set and lifted again to carry on is a balance loss
        (judged when it lifts: from `touch_min_s` down to under `rest_s`). Down for
        `rest_s` is a rest, which ends the single-leg stance (and the set, complete or
        not): a person who stops mid-set is not cued for it."""
        out: list[Event] = []
        if down:
            if self._down_since is None:
                self._down_since = t
                self._down_mid_set = not self._set_complete() or self._reach is not None
            self._last_down_t = t
        elif self._down_since is not None:
            held = self._last_down_t - self._down_since
            if held >= self.c.touch_min_s - 1e-6 and self._down_mid_set and self.stance is not None:
                raised = other_side(self.stance)
                out.append(Event(t_s=self._down_since, code="balance_loss", kind="fault",
                                 message=cue_message("balance_loss", raised), side=raised,
                                 t_end_s=self._last_down_t, value=round(held, 2)))
            self._down_since = None
        if self._down_since is not None and t - self._down_since >= self.c.rest_s:
            self._down_since = None
            out += self._end_stance(t)
            # a complete set ends with the rest; an incomplete one stays open for the same leg
        return out

    def _track_stance_shift(self, t: float, feet: _Feet, leg: float, stance: str, raised: str) -> list[Event]:
        p = feet.mid[stance]
        # While the raised foot is in front of or behind the stance foot in the image
        # (reaching toward or away from the camera) the model cannot see the stance foot
        # and places it anywhere along the other leg: no reading.
        if abs(float(feet.mid[raised][0] - p[0])) / leg * 100.0 < 15.0:
            return self.shift.update(t, None)
        if self._plant is None:
            self._plant_buf.append(p.copy())
            if len(self._plant_buf) >= 5:
                self._plant = np.median(np.array(self._plant_buf), axis=0)
            return self.shift.update(t, None)
        moved = float(np.linalg.norm(p - self._plant)) / leg * 100.0
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

    def _floor_xy(self, dx_med: float, dy_down: float) -> tuple[float, float]:
        """Image displacement (medial, down) in leg lengths -> floor (anterior, medial), in
        leg lengths. A floor point at distance D below a camera at height h sits f h / D
        below the horizon, so moving it from D0 to D1 moves it down the image by
        h (D0 / D1 - 1) leg lengths (at the stance foot's scale): D0 - D1 =
        depth_scale x dy / (1 + dy / h). Sideways moves map one to one."""
        h = self.c.camera_height_legs
        ant = self.depth_scale * dy_down / max(0.2, 1.0 + dy_down / h)
        return ant, dx_med

    def _track_reach(self, t: float, im: np.ndarray, feet: _Feet, leg: float, stance: str) -> list[Event]:
        """A reach is the raised foot tip leaving the spot where this person holds it at
        the centre (the median resting position) and coming back. Its direction and
        distance are measured from the stance mid-foot (how the Y/star test measures)."""
        raised = other_side(stance)
        med = self._medial_sign(im, stance)
        tip = feet.tip[raised]
        if self._reach is None:
            self._centre_buf.append(tip.copy())
            self._centre = np.median(np.array(self._centre_buf), axis=0)
        assert self._centre is not None
        dv = (tip - self._centre) / leg
        moved = float(np.hypot(*dv)) * 100.0
        # reach vector from the stance mid-foot: sideways offset of the centre plus the move
        off = (self._centre[0] - feet.mid[stance][0]) * med / leg
        ant, medial = self._floor_xy(dv[0] * med + off, dv[1])
        self.values_now["reach_pct"] = float(np.hypot(ant, medial)) * 100.0
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
            self._reach_samples.append((t, moved, dv[0] * med + off, dv[1]))
            if moved > r.peak_pct:
                r.peak_pct, r.peak_t = moved, t
            if moved < self.c.reach_off_pct:
                r.t_end_s = t
                self._reach = None
                self._min_since_reach = (moved, t)
                if t - r.t_s >= self.c.reach_min_s and self.counter.try_count(t):
                    out += self._count_reach(r)
        return out

    def _count_reach(self, r: Reach) -> list[Event]:
        # The farthest point: the median over the samples near the peak of the move.
        far = max((m for _, m, _, _ in self._reach_samples), default=0.0)
        near = [(x, y) for _, m, x, y in self._reach_samples if m >= 0.85 * far]
        if near:
            r.peak_xy = (float(np.median([x for x, _ in near])), float(np.median([y for _, y in near])))
        self.reaches.append(r)
        before = self._points_per_set()
        self._decide_variant()
        if self._points_per_set() != before:
            self._regroup_sets()
        self._name_reach(r)
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

    def _name_reach(self, r: Reach) -> None:
        """Direction, distance and point name from the reach's image displacement and
        the current depth scale."""
        x, y = r.peak_xy
        if not (math.isfinite(x) and math.isfinite(y)):
            return
        ant, med = self._floor_xy(x, y)
        r.direction_deg = float(np.degrees(np.arctan2(med, ant)))
        r.peak_pct = float(np.hypot(ant, med)) * 100.0
        r.point = nearest_point(r.direction_deg, self._points())[0]

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
            self._name_reach(r)
            cur.figures.setdefault("reaches", []).append(
                {"point": r.point, "distance_pct": round(r.peak_pct, 1)})
            if cur.reps >= n:
                self.sets.end(r.t_end_s)
        if self.sets.current is None and open_side is not None and self.stance == open_side:
            self.sets.start(open_side, self.reaches[-1].t_s)

    def _decide_variant(self) -> None:
        """Y or star from the directions reached, unless chosen. A Y has only its three
        points; two reaches clearly off them (medial, lateral, posterior...) make it a star,
        and the spacing of consecutive reaches tells 6 points (60 deg) from 8 (45 deg)."""
        for r in self.reaches:
            self._name_reach(r)
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
        return [self.pelvic, self.trunk, self.valgus, self.shift]

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
            "depth_scale": round(self.depth_scale, 2),
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
        if self.shift.active and self.stance:
            lms |= {side_lm(self.stance, p) for p in ("HEEL", "FOOT_INDEX", "ANKLE")}
        st.fault_landmarks = frozenset(int(i) for i in lms)
        if not st.reading:
            return st
        v = self.values_now
        if math.isfinite(v.get("pelvic_drop_deg", float("nan"))):
            st.info["pelvic drop"] = f"{v['pelvic_drop_deg']:+.0f} deg"
        if math.isfinite(v.get("knee_valgus_deg", float("nan"))):
            st.info["knee valgus"] = f"{v['knee_valgus_deg']:+.0f} deg"
        if self._reach is not None:
            st.info["reach"] = "under way"
        elif self.reaches:
            r = self.reaches[-1]
            st.info["last reach"] = f"{r.point} {r.peak_pct:.0f}%"
        return st

    def values(self) -> dict[str, float]:
        return dict(self.values_now)
