"""Ankle ABCs (`ankle-abcs`, front or side view): the foot tip traces capital letters A-Z,
the leg kept still and the foot clear of the floor; one set per foot.

What is measured, and why this way:

- working foot: the lifted one (its lowest point clearly above the other foot's), kept
  for the whole set; a set starts with the first movement once the foot is up and ends
  after Z (or the 26th letter), when the other foot takes over, or with the session;
- trace: the foot tip relative to the ankle (the ankle smoothed as much as the toe, so
  its own jitter is not added to the toe's), read from when the lift is over (the ankle
  has settled) until the foot goes down, turned into the *writer's* view: writer-right
  is the direction from the person's left hip to their right hip (image x; the model's
  relative depth z, its noisiest output, only when the hips are near side-on), writer-down
  is image down. Facing the camera the person's right is on
  the image's left, so the letters, mirrored in the image, come out the right way round;
  the same rule holds for any view in between without knowing the view;
- letters are split by pauses: the smoothed foot tip stays within `pause_radius` letter
  heights of one spot, with a low median speed, for `pause_s`. Letter height is the trace's
  own scale: the median height of the letters so far, or before the first one the spread
  of the recent trace. A piece too short to be a letter is kept and put in front of the
  next piece; a piece that matches no letter well is held back and, if joined with the
  next piece it makes a good letter, the two count as one (a mid-letter pause);
- recognition: `formcheck.drills.letters.LetterRecogniser` (DTW on normalised traces), with
  the next letter of the alphabet as the prior;
- leg stillness (`leg_moving`): how much ground the hip and ankle of the working leg cover
  over about a second, in leg-scale units (the knee is left out: seen from the front the
  model's knee wanders as the foot moves under it), as a multiple of the leg's own
  resting scatter (its median over the set: how still the model reads a still leg
  depends on camera, view and person), taken as its median over two swings and held
  for longer than that (the model's points jump about for a second at a time as the
  foot turns, while a sway keeps the movement up swing after swing). Lowering or lifting the
  foot also moves the leg; a leg-moving spell that runs into the foot going down is part
  of that (foot_down, or the end of the set), not a separate fault;
- lifted: from `lift_min` up; once lifted the foot stays up until it is as low as the
  foot-down level, and in between the trace waits (the model's read of the foot's height
  from a low camera dips for moments; a foot being put down passes through the band);
- foot clear of the floor (`foot_down`): the working foot's lowest point against the other
  foot's lowest point (the floor), in leg-scale units. Putting the foot down after the
  last letter ends the set; it is a fault only when tracing goes on afterwards;
- ankle range of motion: how far the foot turned from its resting direction up, down, in
  and out during the set (model world coordinates, degrees; 95th percentiles so a single
  bad frame does not count).

The leg scale is the working shank's image length, or 1.3 hip widths when larger: facing
the camera the extended shank points at the lens and looks short, while the hips lie
across the image; side-on it is the other way round.

values() also gives the foot tip's place in the letter being traced (letter_u to the
writer's right, letter_v up, in half letter heights from the middle of the recent
trace's box), named as the synthetic truth names it so the benchmark scores it.

Each letter is one `count` event (code "letter", t_s when it was finished) whose message
names the recognised letter; its value is the letter's DTW cost (lower is a cleaner match).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from formcheck.config import DrillConfig, threshold
from formcheck.drills.base import Analyser, LiveStatus
from formcheck.drills.blocks import FaultDetector, SetTracker
from formcheck.drills.letters import ALPHABET, LetterRecogniser, Recognition, letter_path, path_length
from formcheck.drills.windows import TrailingWindow
from formcheck.events import Event
from formcheck.pose.frame import PoseFrame
from formcheck.pose.landmarks import LM, SIDES, other_side, side_lm

NAN = float("nan")


@dataclass
class AnkleAbcsConfig(DrillConfig):
    sets_per_foot: int = threshold(1, "Prescription: one alphabet (A-Z) per foot.")
    lift_min: float = threshold(
        0.25, "The working foot's lowest point at least this far (leg-scale units, ~10 cm) above "
              "the other foot's counts as lifted: only then does tracing count. Side-on, the "
              "resting foot further from the camera looks up to ~0.2 higher than it is.")
    settle_s: float = threshold(
        0.5, "After the foot is lifted, wait this long before reading the trace (the lift "
             "itself is not a letter).")
    pause_radius: float = threshold(
        0.1, "The foot tip staying within this many letter heights of one spot is pausing; "
             "tracing covers ~1 letter height per second, so a pause is unmistakable.")
    pause_speed: float = threshold(
        0.4, "...and its median speed over the pause below this many letter heights per second "
              "(folding back along a line keeps the foot near one spot too, but fast).")
    move_radius: float = threshold(
        0.2, "Leaving the pause spot by this many letter heights starts the next piece "
             "(hysteresis over pause_radius).")
    pause_s: float = threshold(
        0.45, "A pause this long ends a letter; the foot slows for a moment at every corner, "
              "but does not stop there this long.")
    min_letter_path: float = threshold(
        0.6, "A piece of trace shorter than this (in letter heights) is not a letter (an I is "
             "1.0): it is kept and joined to the next piece.")
    min_letter_s: float = threshold(
        0.8, "A piece of trace quicker than this is not a letter but a move to where the next "
             "one starts (joined to it): the drill is slow and controlled, even an I takes a "
             "second or more, while the move between letters is a quick straight line that "
             "matches I well.")
    accept_cost: float = threshold(
        0.45, "DTW cost under which a piece is taken as a complete letter at once; a poorer "
              "match waits to see whether the next piece completes it.")
    split_share: float = threshold(
        1.7, "A piece of trace this many times as long as the expected letter (in the path "
             "length letters have taken so far per unit of template path), and about as "
             "long as it and the next letter together, is two letters run together: the "
             "pause between them was missed (the model's toe jitter can hide a short one).")
    smooth_s: float = threshold(
        0.12, "Trace smoothing window: the foot tip is the model's least precise point.")
    image_x_share: float = threshold(
        0.15, "The writer's left-right is read from image x alone while the hips' left-right "
              "direction has at least this share along image x (1 facing the camera, 0 "
              "side-on); only nearer side-on is the model's relative depth mixed in. Depth "
              "is the model's noisiest output: mixed in by the hips' turn it put more noise "
              "than letter into the trace (rendered clips: letter_u error 0.92 -> 0.40). The "
              "model reads hips turned further than they are (camera 40-50 deg round: "
              "0.24-0.45, not 0.64-0.77), side-on 0.00-0.02.")
    pivot_s: float = threshold(
        0.4, "The foot tip is traced about the ankle's mean over this long (as smooth as the "
             "toe): if the leg sways, the letter still comes out right. Longer (a median over "
             "1.5 s, since the model's ankle follows the toe part of the way) read fewer "
             "letters on rendered clips: the pivot then lags the leg's small shifts.")
    initial_letter_height: float = threshold(
        0.3, "Least letter height, in leg-scale units, assumed until the first letter is seen "
             "(the toe swings ~20 deg each way about the ankle).")
    leg_moving_ratio: float = threshold(
        1.7, "The leg is moving when the ground its hip or ankle covers within leg_window_s, "
             "taken as the median over leg_sustain_s, is this many times its own resting "
             "scatter (the median over the set so far): how much the model's points wander "
             "on a still leg depends on the camera, the view and the person (on rendered "
             "clean clips 0.03-0.13 leg-scale units), so a fixed level either misses sways "
             "in a steady view or cues the jitter of a noisy one.", 1)
    leg_moving_off_ratio: float = threshold(
        1.3, "The leg-moving cue clears below this many times the resting scatter (hysteresis).", 1)
    leg_rest_floor: float = threshold(
        0.05, "Least resting scatter assumed (leg-scale units, ~2 cm across): a leg read "
              "stiller than this would make a 4 cm shift a fault.", 1)
    leg_rest_ceiling: float = threshold(
        0.15, "Most resting scatter assumed (~6 cm across): a leg moving from the start must "
              "not teach the analyser that moving is resting.", 1)
    leg_sustain_s: float = threshold(
        2.5, "The leg's movement is judged on its median over this long (two swings of a "
             "sway): a sway keeps it up swing after swing, dipping only at the turns, while "
             "the model's hip and ankle jump about for a second at a time as the foot turns "
             "(runs over twice the resting scatter up to 1.6 s on rendered clean clips). An "
             "instantaneous level missed a 6 cm sway filmed from low, whose reading dips "
             "under it at every turn.")
    leg_moving_min_on_s: float = threshold(
        3.0, "The sustained movement must stay over leg_moving_ratio this long before the cue "
             "shows (rendered clips: up to 2.4 s on clean alphabets as letters' turns shake "
             "the model's points, 4.3 s and more on 5 s sways of 6 cm).", 1)
    leg_window_s: float = threshold(
        1.25, "Window over which the leg's movement is sized: one swing of a swaying leg.")
    foot_down_clearance: float = threshold(
        0.05, "Working foot's lowest point less than this (leg-scale units, ~2 cm) above the "
              "resting foot's: it is on the floor.", -1)
    foot_down_off_clearance: float = threshold(
        0.1, "The foot-down cue clears once the foot is this high again (hysteresis).", -1)


@dataclass
class _Point:
    t: float
    writer: np.ndarray  # (2,) writer view: x to the person's right, y down (pixels)
    image: np.ndarray  # (2,) foot tip in the image (pixels)
    smooth: np.ndarray | None = None  # writer point after the trailing mean (segmentation)


@dataclass
class _Letter:
    rec: Recognition
    t0: float
    t1: float
    height_px: float
    trace: np.ndarray  # (N, 2) image points


def _smooth(xy: np.ndarray, k: int) -> np.ndarray:
    """Centred moving average along axis 0 (k odd), edges padded with the end values."""
    if k <= 1 or len(xy) < 3:
        return xy
    k = min(k, len(xy) - (1 - len(xy) % 2))
    pad = k // 2
    p = np.pad(xy, ((pad, pad), (0, 0)), mode="edge")
    c = np.cumsum(np.vstack([np.zeros((1, xy.shape[1])), p]), axis=0)
    return (c[k:] - c[:-k]) / k


class AnkleAbcsAnalyser(Analyser):
    drill_id = "ankle-abcs"
    views = ("front", "side")
    required_parts = ("hips", "knees", "feet")
    config_cls = AnkleAbcsConfig
    cfg: AnkleAbcsConfig

    def __init__(self, config: AnkleAbcsConfig | None = None, side: str | None = None,
                 variant: str | None = None):
        super().__init__(config, side, variant)
        c = self.cfg
        self.recogniser = LetterRecogniser()
        self.sets = SetTracker(sets_per_side=int(c.sets_per_foot))
        self.leg_moving = FaultDetector("leg_moving", on=c.leg_moving_ratio, off=c.leg_moving_off_ratio,
                                        min_on_s=c.leg_moving_min_on_s, min_off_s=c.min_off_s)
        self.foot_down = FaultDetector("foot_down", on=c.foot_down_clearance, off=c.foot_down_off_clearance,
                                       below=True, min_on_s=c.min_on_s, min_off_s=c.min_off_s, max_gap_s=2.0)
        self.side: str | None = side if side in SIDES else None
        # per-foot lowest points (for which foot is lifted, and the floor)
        self._low = {s: TrailingWindow(0.3) for s in SIDES}
        self._scale = TrailingWindow(3.0)
        self._ankle = TrailingWindow(1.0)
        self._ankle_ref = TrailingWindow(c.pivot_s)
        self._uv_win = TrailingWindow(2.5)  # smoothed writer points, for letter_u/letter_v
        self._toe_z = TrailingWindow(0.25)
        self._clear_hist = TrailingWindow(8.0)
        self._move_hist = TrailingWindow(8.0)
        self._move_sustained = TrailingWindow(c.leg_sustain_s)
        self._rest_scatter = TrailingWindow(120.0)  # leg movement while tracing, this set
        self._leg_hint: float | None = None
        self._hips = TrailingWindow(3.0)
        self._rest = {p: TrailingWindow(c.leg_window_s) for p in ("HIP", "ANKLE")}  # smoothed points
        self._now = {p: TrailingWindow(0.2) for p in ("HIP", "ANKLE")}
        self._recent_y = TrailingWindow(6.0)  # smoothed writer y, for the first letter height
        self._speed_win = TrailingWindow(c.smooth_s)
        self._speed_hist = TrailingWindow(0.5)
        self._still = TrailingWindow(c.pause_s)
        self._speeds = TrailingWindow(c.pause_s)
        self._lifted_since: float | None = None
        self._settled = False  # the lift is over (latched until the foot goes down)
        self._other_since: float | None = None  # the other foot has been the lifted one since
        self._down_since: float | None = None
        self._anchor: np.ndarray | None = None
        self._points: list[_Point] = []  # the piece being traced (and the pause before it)
        self._moving = False
        self._fragment: list[_Point] = []  # too short to be a letter: goes in front of the next
        self._held: tuple[list[_Point], Recognition] | None = None  # a poor match, waiting
        self._pending_down: list[Event] = []  # foot_down: a fault once tracing goes on
        self._pending_leg: list[Event] = []  # leg_moving: unless the foot was being put down
        self._down_onsets: list[float] = []
        self.letters: list[_Letter] = []  # this set's letters
        self._all_letters: list[_Letter] = []
        self._heights: list[float] = []
        self._paths: list[float] = []  # letters' trace lengths (pixels)
        self._px_per_unit: list[float] = []  # letters' trace length per unit of template path
        self._rom: list[np.ndarray] = []
        self._set_done = False
        self._need_lowering = False
        self._vals: dict[str, float] = {}
        self._confirmed: list[Event] = []  # foot-down spells confirmed on this frame

    # ------------------------------------------------------------------ measurement

    def _leg_scale(self, im: np.ndarray, side: str, t: float) -> float:
        shank = float(np.linalg.norm(im[side_lm(side, "KNEE"), :2] - im[side_lm(side, "ANKLE"), :2]))
        hips = float(np.linalg.norm(im[LM.LEFT_HIP, :2] - im[LM.RIGHT_HIP, :2]))
        cands = [v for v in (shank, 1.3 * hips) if np.isfinite(v) and v > 0]
        if cands:
            self._scale.add(t, max(cands))
        return float(self._scale.median()[0])

    def _lifted_foot(self, im: np.ndarray, t: float) -> tuple[str | None, dict[str, float]]:
        """Which foot is clearly off the floor, and each foot's clearance over the other."""
        for s in SIDES:
            ys = im[[side_lm(s, "HEEL"), side_lm(s, "FOOT_INDEX"), side_lm(s, "ANKLE")], 1]
            if np.isfinite(ys).any():
                self._low[s].add(t, float(np.nanmax(ys)))
        low = {s: float(self._low[s].median()[0]) for s in SIDES}
        scale = float(self._scale.median()[0])
        if not (math.isfinite(scale) and scale > 0):
            return None, {s: NAN for s in SIDES}
        clear = {s: (low[other_side(s)] - low[s]) / scale for s in SIDES}
        up = [s for s in SIDES if math.isfinite(clear[s]) and clear[s] >= self.cfg.lift_min]
        return (max(up, key=lambda s: clear[s]) if up else None), clear

    def _writer_axis(self, im: np.ndarray, t: float) -> np.ndarray:
        """Unit vector (image x, z) pointing to the person's right."""
        d = im[LM.RIGHT_HIP] - im[LM.LEFT_HIP]
        v = np.array([d[0], d[2] if np.isfinite(d[2]) else 0.0])
        n = np.linalg.norm(v)
        if np.isfinite(n) and n > 0:
            self._hips.add(t, v / n)
        r = self._hips.median()
        if r.shape != (2,) or not np.isfinite(r).all() or np.linalg.norm(r) == 0:
            return np.array([-1.0, 0.0])  # facing the camera, the default
        return r / np.linalg.norm(r)

    def _letter_height_px(self, scale: float) -> float:
        """The trace's own scale: the median of the last letters' heights and of the
        height the foot tip has spanned over the last few seconds (one odd letter, or none
        yet, cannot throw it), never under half the initial guess."""
        floor = self.cfg.initial_letter_height * scale
        guesses = list(self._heights[-5:])
        if len(self._recent_y) >= 10:
            y = self._recent_y.values()[:, 0]
            guesses.append(float(np.percentile(y, 95) - np.percentile(y, 5)))
        if not guesses:
            return floor
        return max(0.5 * floor, float(np.median(guesses))) if math.isfinite(floor) else float(np.median(guesses))

    def _trace_point(self, frame: PoseFrame, side: str) -> _Point | None:
        t, im = frame.t_s, frame.image
        r = self._writer_axis(im, t)
        ankle, toe = im[side_lm(side, "ANKLE")], im[side_lm(side, "FOOT_INDEX")]
        self._ankle.add(t, ankle)
        # The toe is taken relative to where the ankle is now (smoothed as much as the toe
        # is): if the leg sways, the letter still comes out right.
        self._ankle_ref.add(t, ankle)
        a = self._ankle_ref.mean()
        if not np.isfinite(toe[:2]).all() or a.shape != (3,):
            return None
        d = toe - a
        if abs(r[0]) >= self.cfg.image_x_share:
            # The person's left-right crosses the image: image x alone carries the
            # letters' left-right (mirrored when r points to image left).
            return _Point(t, np.array([d[0] * math.copysign(1.0, r[0]), d[1]]), toe[:2].copy())
        # Near side-on only the model's relative depth has it: its noisiest output,
        # smoothed more than x and y.
        self._toe_z.add(t, d[2])
        dz = float(self._toe_z.mean()[0]) if len(self._toe_z) else 0.0
        dz = dz if math.isfinite(dz) else 0.0
        return _Point(t, np.array([d[0] * r[0] + dz * r[1], d[1]]), toe[:2].copy())

    def _ankle_steady(self, scale: float) -> bool:
        """The ankle, the letters' pivot, has stopped moving (the lift is over)."""
        if self._ankle.covered_s() < 0.5:
            return False
        drift = float(np.linalg.norm(self._ankle.latest()[:2] - self._ankle.median()[:2]))
        return drift <= 0.05 * scale

    def _leg_movement(self, im: np.ndarray, side: str, t: float, scale: float) -> float:
        """How far the hip and ankle have moved about over the last `leg_window_s`: the
        size (5-95 percentile box diagonal) of the ground each has covered, in leg-scale
        units. A leg that draws sways back and forth; the model's points also wander a
        little as the foot turns, but slowly and less far. Not the knee: seen from the
        front, the model's knee of a leg with a moving foot wanders (on rendered clips by
        up to a shin length at moments)."""
        out = []
        for part in ("HIP", "ANKLE"):
            self._now[part].add(t, im[side_lm(side, part), :2])
            self._rest[part].add(t, self._now[part].median())
            if self._rest[part].covered_s() >= 0.8 * self.cfg.leg_window_s:
                v = self._rest[part].values()
                out.append(float(np.linalg.norm(np.percentile(v, 95, axis=0) - np.percentile(v, 5, axis=0)))
                           / scale)
        return max(out) if out else NAN

    def _relative_movement(self, t: float, move: float) -> float:
        """Leg movement as a multiple of the leg's own resting scatter: the median movement
        while the foot has been up in this set (a sway is a minority of the time), kept
        within [leg_rest_floor, leg_rest_ceiling]."""
        if not math.isfinite(move):
            return NAN
        if self.sets.current is not None:
            self._rest_scatter.add(t, move)
        base = float(self._rest_scatter.median()[0]) if len(self._rest_scatter) >= 30 else NAN
        base = self.cfg.leg_rest_ceiling if not math.isfinite(base) else base
        base = min(max(base, self.cfg.leg_rest_floor), self.cfg.leg_rest_ceiling)
        return move / base

    def _record_direction(self, frame: PoseFrame, side: str) -> None:
        w = frame.world
        fw = w[side_lm(side, "FOOT_INDEX")] - w[side_lm(side, "ANKLE")]
        hw = w[LM.RIGHT_HIP] - w[LM.LEFT_HIP]
        if np.isfinite(fw).all() and np.isfinite(hw).all() and np.linalg.norm(fw) > 0:
            self._rom.append(np.concatenate([fw / np.linalg.norm(fw), hw]))

    # ------------------------------------------------------------------ letters

    def _expected(self) -> str:
        return ALPHABET[min(len(self.letters), len(ALPHABET) - 1)]

    def _trace_writer(self, pts: list[_Point]) -> np.ndarray:
        xy = np.stack([p.writer for p in pts])
        fps = (len(pts) - 1) / max(1e-6, pts[-1].t - pts[0].t) if len(pts) > 1 else 30.0
        k = max(1, round(self.cfg.smooth_s * fps) | 1)
        return _smooth(xy, k)

    def _emit(self, pts: list[_Point], rec: Recognition) -> list[Event]:
        xy = self._trace_writer(pts)
        height = float(np.ptp(xy[:, 1])) if len(xy) else NAN
        letter = _Letter(rec, pts[0].t, pts[-1].t, height, np.stack([p.image for p in pts]))
        self.letters.append(letter)
        self._all_letters.append(letter)
        if np.isfinite(height) and height > 0:
            self._heights.append(height)
            self._paths.append(path_length(xy))
            self._px_per_unit.append(path_length(xy) / path_length(letter_path(rec.letter)))
        note = "" if rec.expected in (None, rec.letter) else f" (expected {rec.expected})"
        ev = Event(t_s=letter.t1, code="letter", kind="count", side=self.side,
                   message=f"Letter {rec.letter}{note}", value=round(rec.distance, 3))
        if len(self.letters) >= len(ALPHABET) or (rec.letter == "Z" and len(self.letters) > 20):
            self._set_done = True
        return [ev]

    def _piece_done(self, pts: list[_Point]) -> list[Event]:
        """A piece of trace between pauses has ended: a letter, part of one, or a move."""
        out: list[Event] = []
        scale_h = self._letter_height_px(float(self._scale.median()[0]))
        pts = self._fragment + pts
        length = path_length(self._trace_writer(pts)) if len(pts) >= 3 else 0.0
        if length < self.cfg.min_letter_path * scale_h or pts[-1].t - pts[0].t < self.cfg.min_letter_s:
            self._fragment = pts  # too short for a letter: joins the next piece
            return out
        self._fragment = []
        cut = self._two_letters_at(pts) if self._held is None else None
        if cut is not None:
            first = pts[:cut + 1]
            out += self._emit(first, self.recogniser.recognise(self._trace_writer(first), self._expected()))
            if self._set_done:
                return out
            return out + self._piece_done(pts[cut:])
        typical = float(np.median(self._paths[-7:])) if self._paths else math.inf
        rec = self.recogniser.recognise(self._trace_writer(pts), self._expected())
        if self._held is not None:
            held_pts, held_rec = self._held
            self._held = None
            merged = held_pts + pts
            r_m = self.recogniser.recognise(self._trace_writer(merged), self._expected())
            # Two pieces are one letter (a pause inside it) when together they make a good
            # letter, or a better one than either alone without being longer than letters
            # are. Judged on shape alone (the best-matching letter), not on the letter the
            # alphabet prior picked.
            short_enough = path_length(self._trace_writer(merged)) <= 1.4 * typical  # False: none yet
            if r_m.shape_cost <= self.cfg.accept_cost or (
                    short_enough and r_m.shape_cost < min(held_rec.shape_cost, rec.shape_cost)):
                return self._emit(merged, r_m)
            held_len = path_length(self._trace_writer(held_pts)) / scale_h
            if held_len >= 0.6 * path_length(letter_path(held_rec.letter)):
                out += self._emit(held_pts, held_rec)
            # else: too short for the letter it would be, and no letter with the next piece:
            # a move between letters (the foot finding its start), not a letter
            if self._set_done:
                return out
            rec = self.recogniser.recognise(self._trace_writer(pts), self._expected())
        expected = self._expected()
        # as long as the expected letter would be, allowing for a lead-in
        plausible = 0.6 <= (length / scale_h) / path_length(letter_path(expected)) <= 2.5
        if not self.letters and rec.letter != expected:
            # The set opens with A: a first piece that is something else is the foot
            # finding A's start after the lift; it goes in front of the next piece.
            self._fragment = pts
        elif rec.shape_cost <= self.cfg.accept_cost:
            out += self._emit(pts, rec)
        elif plausible and rec.letter == expected and rec.scores[expected] <= 2 * self.cfg.accept_cost:
            out += self._emit(pts, rec)  # a shaky but plausible next letter (I, J, L are short)
        elif self._paths and length < 0.5 * typical:
            # Short and like no letter: a move to where the next letter starts, or the
            # first strokes of one; it goes in front of the next piece.
            self._fragment = pts
        else:
            self._held = (pts, rec)
        return out

    def _two_letters_at(self, pts: list[_Point]) -> int | None:
        """Where a piece that holds the expected letter and the next one, traced without a
        pause between them, splits (None: it does not). Judged on length: the trace length
        letters have taken per unit of template path so far gives how long each of the two
        should be; the split is the slowest moment around where the first should end."""
        n_done = len(self.letters)
        if len(self._px_per_unit) < 3 or n_done + 1 >= len(ALPHABET) or len(pts) < 10:
            return None
        k = float(np.median(self._px_per_unit[-7:]))
        exp, nxt = ALPHABET[n_done], ALPHABET[n_done + 1]
        te, tn = path_length(letter_path(exp)), path_length(letter_path(nxt))
        xy = self._trace_writer(pts)
        cum = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(xy, axis=0), axis=1))])
        total = float(cum[-1])
        if total < self.cfg.split_share * k * te or total < 0.7 * k * (te + tn):
            return None
        t = np.array([p.t for p in pts])
        if not (np.diff(t) > 0).all():
            return None
        fps = (len(t) - 1) / max(1e-6, t[-1] - t[0])
        speed = _smooth(np.gradient(cum, t)[:, None], max(1, round(0.3 * fps) | 1))[:, 0]
        f = te / (te + tn)
        near = np.nonzero((cum >= (f - 0.2) * total) & (cum <= (f + 0.2) * total))[0]
        if not len(near):
            return None
        return int(near[np.argmin(speed[near])])

    def _flush(self) -> list[Event]:
        """End the piece being traced (the foot stopped or went down) and settle any held one."""
        out: list[Event] = []
        if self._moving and self._points:
            out += self._piece_done(self._points)
        self._points, self._moving, self._anchor = [], False, None
        if self._held is not None and not self._set_done:
            pts, rec = self._held
            self._held = None
            out += self._emit(pts, rec)
        self._held = None
        self._fragment = []
        self._still.clear()
        self._speeds.clear()
        return out

    def _segment(self, p: _Point, scale: float) -> list[Event]:
        """Split the trace at pauses.

        A pause is the smoothed foot tip staying within `pause_radius` letter heights of
        one spot for `pause_s`; tracing starts again when it leaves `move_radius` of that
        spot. Judging positions over the whole pause (not a frame-to-frame speed) keeps
        the model's jitter at the toes from breaking a pause or faking a movement.
        """
        out: list[Event] = []
        h = self._letter_height_px(scale)
        self._speed_win.add(p.t, p.writer)
        ps = self._speed_win.mean()
        self._still.add(p.t, ps)
        self._speed_hist.add(p.t, p.writer)
        self._recent_y.add(p.t, ps[1])
        if len(self._speed_hist) >= 3 and self._speed_hist.covered_s() > 0.1:
            # least-squares velocity of the raw points over the last 0.5 s: much steadier
            # on the toes' jitter than the difference of two smoothed points
            v, ts = self._speed_hist.values(), self._speed_hist.times
            tc = ts - ts.mean()
            vel = tc @ (v - v.mean(axis=0)) / float(tc @ tc)
            speed = float(np.linalg.norm(vel)) / h
            self._vals["foot_tip_speed_h_per_s"] = speed
            self._speeds.add(p.t, speed)
        p.smooth = ps
        if self._moving:
            self._uv_letter(p.t, ps, h)
        self._points.append(p)
        pts = self._still.values()
        centre = np.median(pts, axis=0)
        # 80th percentile, not the maximum: one jittery frame must not break a pause, while
        # at a sharp corner the foot spends most of the window far from any one spot.
        spread = float(np.percentile(np.linalg.norm(pts - centre, axis=1), 80)) / h
        slow = len(self._speeds) > 0 and float(self._speeds.median()[0]) <= self.cfg.pause_speed
        paused = (self._still.covered_s() >= 0.9 * self.cfg.pause_s and spread <= self.cfg.pause_radius
                  and slow)
        if not self._moving:
            if paused or self._anchor is None:
                self._anchor = centre if paused else ps
            if float(np.linalg.norm(ps - self._anchor)) / h >= self.cfg.move_radius:
                self._moving = True
                # the piece starts where the foot last sat at the pause spot
                near = [q.t for q in self._points if q.smooth is not None
                        and float(np.linalg.norm(q.smooth - self._anchor)) / h <= self.cfg.pause_radius]
                start = near[-1] if near else p.t - 0.3
                self._points = [q for q in self._points if q.t >= start]
                self._tracing_resumed(self._points[0].t)
            else:
                self._points = [q for q in self._points if q.t >= p.t - 1.0]  # only the recent pause
        elif paused:
            pause_start = float(self._still.times[0])
            piece = [q for q in self._points if q.t <= pause_start]
            self._points = [q for q in self._points if q.t > pause_start]
            self._moving, self._anchor = False, centre
            if piece:
                out += self._piece_done(piece)
        return out

    def _uv_letter(self, t: float, ps: np.ndarray, h: float) -> None:
        """The foot tip in letter coordinates, as the synthetic truth states them (u to the
        writer's right, v up, in half letter heights from the middle of the letter's box):
        the box is the 5-95 percentile range of the last seconds of trace."""
        self._uv_win.add(t, ps)
        if self._uv_win.covered_s() < 1.0 or not (h > 0):
            return
        v = self._uv_win.values()
        centre = 0.5 * (np.percentile(v, 5, axis=0) + np.percentile(v, 95, axis=0))
        self._vals["letter_u"] = float((ps[0] - centre[0]) / (0.5 * h))
        self._vals["letter_v"] = float(-(ps[1] - centre[1]) / (0.5 * h))

    def _tracing_resumed(self, t: float) -> None:
        """The foot set off on a new piece: open the set if none is open, and confirm any
        foot-down spell before it (the person went on tracing, so it was a fault)."""
        if self.sets.current is None and not self._set_done:
            self.sets.start(self.side, t)
            for d in self._fault_detectors():
                d.side = self.side
        self._confirmed += [self._from_descent(ev) for ev in self._pending_down]
        self._pending_down = []

    def _from_descent(self, ev: Event) -> Event:
        """Date a foot-down spell from when the foot started to sink, not from when it
        reached the floor: that is when the person stopped holding it up."""
        times, vals = self._clear_hist.times, self._clear_hist.values()
        if not len(times):
            return ev
        vals = vals[:, 0]
        before = (times >= ev.t_s - 3.0) & (times <= ev.t_s - 1.0)
        if not before.any():
            return ev
        level = float(np.median(vals[before]))
        held_up = np.nonzero((times < ev.t_s) & (vals >= level - max(0.05, 0.15 * level)))[0]
        if not len(held_up):
            return ev
        return dataclasses.replace(ev, t_s=float(min(ev.t_s, times[held_up[-1]])))

    # ------------------------------------------------------------------ drill logic

    def _settle_pending_leg(self, t: float, final: bool = False) -> list[Event]:
        """Release leg-moving spells that did not run into the foot being put down."""
        out, keep = [], []
        last_letter = self.letters[-1].t1 if self.letters else -math.inf
        for ev in self._pending_leg:
            end = ev.t_end_s if ev.t_end_s is not None else ev.t_s
            lowering = any(ev.t_s - 0.5 <= d <= end + 1.5 for d in self._down_onsets)
            if lowering or (final and ev.t_s > last_letter):
                continue  # putting the foot down (mid-set or after the last letter)
            if final or t > end + 1.5:
                out.append(ev)
            else:
                keep.append(ev)
        self._pending_leg = keep
        return out

    def _first_stir(self, onset: float) -> float:
        """When the leg first stirred before a leg-moving spell that became a cue at
        `onset`: a sway builds up over a swing or two and dips under the threshold at each
        turn, so look back (up to 5 s) for the end of the last half second in which the
        leg was truly quiet (no more than a third of the way from its usual stillness to
        the threshold)."""
        times, vals = self._move_hist.times, self._move_hist.values()
        if not len(times):
            return onset
        vals = vals[:, 0]
        before = (times >= onset - 6.0) & (times <= onset - 4.0)
        base = float(np.median(vals[before])) if before.any() else float(np.min(vals))
        level = base + (self.cfg.leg_moving_ratio - base) / 3.0
        loud = np.nonzero((times < onset) & (times >= onset - 5.0) & (vals > level))[0]
        for k in loud[::-1]:
            quiet_before = (times >= times[k] - 0.5) & (times < times[k])
            if quiet_before.sum() >= 3 and (vals[quiet_before] <= level).all():
                return float(times[k])
        return onset

    def _discard(self, det: FaultDetector, t: float) -> None:
        det.finish(t)  # closes it; the event is dropped

    def _end_set(self, t: float) -> list[Event]:
        out = self._flush()
        # A foot-down spell with no tracing after it is the end of the set, not a fault.
        self._pending_down = []
        if self.foot_down.active:
            self._discard(self.foot_down, t)
        self._feed_faults_finish(t)
        out += self._settle_pending_leg(t, final=True)
        rec = self.sets.current
        if rec is not None:
            rec.reps = len(self.letters)
            rec.figures.update(self._set_figures())
            self.sets.end(self.letters[-1].t1 if self.letters else t)
        self._need_lowering = self._set_done
        self.letters, self._rom, self._set_done = [], [], False
        self._rest_scatter.clear()
        self._down_since, self._down_onsets = None, []
        return out

    def _set_figures(self) -> dict[str, Any]:
        seq = "".join(lt.rec.letter for lt in self.letters)
        fig: dict[str, Any] = {"letters": len(self.letters), "letter_sequence": seq,
                               "letters_as_expected": sum(1 for lt in self.letters if lt.rec.as_expected)}
        fig.update(self._range_of_motion())
        return fig

    def _range_of_motion(self) -> dict[str, float]:
        """How far the foot turned up, down, in and out from its resting direction (the
        median over the set), in degrees; 95th percentiles."""
        if len(self._rom) < 10:
            return {}
        a = np.stack(self._rom)
        f, hips = a[:, :3], a[:, 3:]
        n = np.median(f, axis=0)
        n /= np.linalg.norm(n)
        r = np.median(hips, axis=0)
        r = r - (r @ n) * n  # the person's right, square to the resting foot
        up = np.array([0.0, -1.0, 0.0])
        up = up - (up @ n) * n - (up @ r) * r / max(1e-9, r @ r)
        if np.linalg.norm(r) < 1e-6 or np.linalg.norm(up) < 1e-6:
            return {}
        r, up = r / np.linalg.norm(r), up / np.linalg.norm(up)
        ang_r = np.degrees(np.arcsin(np.clip(f @ r, -1, 1)))
        ang_u = np.degrees(np.arcsin(np.clip(f @ up, -1, 1)))
        medial = ang_r if self.side == "left" else -ang_r  # the left foot's midline is to its right
        return {"toe_up_deg": round(float(np.percentile(ang_u, 95)), 1),
                "toe_down_deg": round(float(-np.percentile(ang_u, 5)), 1),
                "toe_in_deg": round(float(np.percentile(medial, 95)), 1),
                "toe_out_deg": round(float(-np.percentile(medial, 5)), 1)}

    def _switch_side(self, side: str) -> None:
        self.side = side
        for w in (self._ankle, self._ankle_ref, self._toe_z, self._uv_win, self._scale, self._speed_win, self._speed_hist, self._still, self._speeds,
                  self._recent_y, *self._rest.values(), *self._now.values()):
            w.clear()
        self._points, self._moving, self._anchor, self._fragment, self._held = [], False, None, [], None

    def _update(self, frame: PoseFrame, reliable: bool) -> list[Event]:
        t = frame.t_s
        out: list[Event] = []
        self._confirmed: list[Event] = []
        self._vals = {}
        if not reliable:
            out += self._feed_faults(t, NAN, NAN)
            return out
        im = frame.image
        if self.side is None and self.side_hint in SIDES:
            self._switch_side(self.side_hint)
        scale = self._leg_scale(im, self.side or "left", t)
        lifted, clear = self._lifted_foot(im, t)
        if self.side is None:
            if lifted is None:
                return out  # nobody has lifted a foot yet
            self._switch_side(lifted)
        # Which foot works: the hint, or the lifted one (kept while a set is open unless
        # the other foot has clearly taken over for a second).
        if self.side_hint not in SIDES and lifted is not None and lifted != self.side:
            if self.sets.current is None:
                self._switch_side(lifted)
                scale = self._leg_scale(im, lifted, t)
            else:
                self._other_since = self._other_since if self._other_since is not None else t
                if t - self._other_since >= 1.0:
                    out += self._end_set(t)
                    self._switch_side(lifted)
                    scale = self._leg_scale(im, lifted, t)
        else:
            self._other_since = None
        side = self.side
        assert side is not None
        c = clear[side]
        self._vals["foot_clearance_share"] = c
        self._clear_hist.add(t, c)
        # Lifted from lift_min up; once lifted, the foot stays up until it is as low as the
        # foot-down level (hysteresis): from a low camera part-way round the model's read
        # of the lifted foot's height over the other swings by most of a lift as the foot
        # turns (rendered, 0.25 m high and 50 deg round: 0.07-0.76 with the foot held up),
        # and every false "down" threw away the letter under way.
        up = math.isfinite(c) and (c >= self.cfg.lift_min or (
            self._lifted_since is not None and c >= self.cfg.foot_down_clearance))
        down = math.isfinite(c) and c < self.cfg.foot_down_clearance
        if up and self._need_lowering:
            up = False  # the set is done: a new one on this foot starts after a fresh lift
        elif not up:
            self._need_lowering = False
        if up:
            if self._lifted_since is None:
                self._lifted_since = t
                for w in (*self._rest.values(), self._ankle_ref):  # where the leg rests now the foot is up
                    w.clear()
        else:
            if self._lifted_since is not None:
                # The foot went down: a piece under way was the foot being lowered, not a
                # letter (tracing waits while the foot is down).
                self._points, self._moving = [], False
                out += self._flush()
            self._lifted_since = None
            self._settled = False
        if down and self._down_since is None:
            self._down_since = t
            self._down_onsets.append(t)
        elif not down:
            self._down_since = None
        point = self._trace_point(frame, side)
        move = self._leg_movement(im, side, t, scale) if up else NAN
        self._vals["leg_movement_share"] = move
        move = self._relative_movement(t, move)
        self._vals["leg_movement_ratio"] = move
        self._move_hist.add(t, move)
        if math.isfinite(move):
            self._move_sustained.add(t, move)
        elif not up:
            self._move_sustained.clear()
        sustained = float(self._move_sustained.median()[0]) if len(self._move_sustained) >= 5 else NAN
        self._vals["leg_movement_sustained"] = sustained
        # The ankle settling tells when the lift is over; once it has, tracing is read
        # until the foot goes down again (the model's ankle point follows the foot tip
        # at moments, which is no new lift).
        self._settled = self._settled or (
            self._lifted_since is not None and t - self._lifted_since >= self.cfg.settle_s
            and self._ankle_steady(scale))
        settled = self._settled
        # In the band between the two levels the trace waits (neither read nor dropped):
        # a foot being put down passes through it, and what it traces then is no letter.
        high = math.isfinite(c) and c >= self.cfg.lift_min
        if settled and high and point is not None and math.isfinite(scale) and scale > 0:
            out += self._segment(point, scale)
            if self.sets.current is not None:
                self._record_direction(frame, side)
        if self.sets.current is not None:
            out += self._feed_faults(t, sustained, c)
        out += self._confirmed
        out += self._settle_pending_leg(t)
        if self._set_done:
            out += self._end_set(t)
        return out

    def _feed_faults(self, t: float, move: float, clear: float) -> list[Event]:
        was = self.leg_moving.active
        for ev in self.leg_moving.update(t, move):
            self._pending_leg.append(dataclasses.replace(ev, t_s=min(ev.t_s, self._leg_hint))
                                     if self._leg_hint is not None else ev)
            self._leg_hint = None
        if self.leg_moving.active and not was and self.leg_moving.onset_t is not None:
            # the median over leg_sustain_s rises past the level once half its window is
            # over it: the movement itself began about half a window earlier
            self._leg_hint = self._first_stir(self.leg_moving.onset_t - 0.5 * self.cfg.leg_sustain_s)
        self._pending_down += self.foot_down.update(t, clear)
        return []

    def _feed_faults_finish(self, t: float) -> None:
        for ev in self.leg_moving.finish(t):
            self._pending_leg.append(dataclasses.replace(ev, t_s=min(ev.t_s, self._leg_hint))
                                     if self._leg_hint is not None else ev)
        self._leg_hint = None

    def _finish(self, t: float) -> list[Event]:
        self._confirmed = []
        out: list[Event] = []
        if self.sets.current is not None:
            out += self._end_set(t)
        if self.foot_down.active:
            self._discard(self.foot_down, t)
        self._feed_faults_finish(t)
        out += self._settle_pending_leg(t, final=True)
        return out

    def _fault_detectors(self) -> list[FaultDetector]:
        return [self.foot_down, self.leg_moving]

    # ------------------------------------------------------------------ outputs

    def summary(self) -> dict[str, Any]:
        letters = self._all_letters
        return {
            "sets": self.sets.to_list(),
            "letters_total": len(letters),
            "letters_as_expected": sum(1 for lt in letters if lt.rec.as_expected),
            "letter_cost_median": round(float(np.median([lt.rec.distance for lt in letters])), 3)
            if letters else None,
            "sets_per_foot": {s: self.sets.sets_done(s) for s in SIDES},
        }

    def status(self) -> LiveStatus:
        n = len(self.letters)
        st = LiveStatus(drill=self.drill_id, reading=self.setup.reliable, side=self.side,
                        set_index=len(self.sets.sets) + (1 if self.sets.current else 0),
                        sets_target=2 * int(self.cfg.sets_per_foot), count=n if self.sets.current else None,
                        count_target=len(ALPHABET), count_label="letters", cues=self.active_cues())
        if self._moving and self._points:
            st.trace = np.stack([p.image for p in self._fragment + self._points])
        elif self.letters:
            st.trace = self.letters[-1].trace
        nxt = self._expected() if n < len(ALPHABET) else None
        if self.letters:
            last = self.letters[-1].rec
            mark = "\u2713" if last.as_expected else "?"
            st.info["letter"] = f"{last.letter} {mark}" + (f" \u2014 next: {nxt}" if nxt else " \u2014 done")
        elif nxt:
            st.info["letter"] = f"next: {nxt}"
        if self.side is not None:
            if any(c.code == "leg_moving" for c in st.cues):
                st.fault_landmarks |= frozenset(int(side_lm(self.side, p)) for p in ("HIP", "KNEE", "ANKLE"))
            if any(c.code == "foot_down" for c in st.cues):
                st.fault_landmarks |= frozenset(int(side_lm(self.side, p)) for p in ("HEEL", "FOOT_INDEX"))
        return st

    def values(self) -> dict[str, float]:
        keys = ("leg_movement_share", "leg_movement_ratio", "foot_clearance_share", "foot_tip_speed_h_per_s", "letter_u", "letter_v")
        return {k: float(self._vals.get(k, NAN)) for k in keys}
