"""Ankle ABCs (`ankle-abcs`, front or side view): the foot tip traces capital letters A-Z,
the leg kept still and the foot clear of the floor; one set per foot.

What is measured, and why this way:

- working foot: the lifted one (its lowest point clearly above the other foot's), kept
  for the whole set; a set starts with the first movement once the foot is up and ends
  when the foot is put down after Z (or the 26th letter), when the other foot takes over,
  or with the session;
- trace: the foot tip relative to the ankle (the ankle smoothed as much as the toe, so
  its own jitter is not added to the toe's), read from when the lift is over (the ankle
  has settled) until the foot goes down, turned into the *writer's* view: writer-right
  is the direction from the person's left hip to their right hip (image x; the model's
  relative depth z, its noisiest output, only when the hips are near side-on), writer-down
  is image down. Facing the camera the person's right is on
  the image's left, so the letters, mirrored in the image, come out the right way round;
  the same rule holds for any view in between without knowing the view;
- letters: split and named jointly (`formcheck.drills.letters.AlphabetDecoder`). The
  person writes A, B, C ... in order, so the whole trace is split into consecutive letters
  of the alphabet at once: a dynamic programme over candidate cuts (the foot tip's stops,
  and the dips of its speed where letters may run together), each piece a letter, or no
  letter (the foot finding the first letter's start), a letter allowed to be missing;
  scored by how much better the letter's template fits than the median letter (DTW on
  normalised strokes), how far its duration is from the person's own pace and whether the
  foot stopped after it. Live, the trace after the last letter shown is decoded every
  `decode_every_s`, and a letter is shown once the foot has stopped after it (about half
  a second later): the count never goes back, unless it reaches Z while the whole trace
  decoded at once does not. When the set ends the whole trace is decoded again and those
  letters are the report's;
- side-on (the hips' left-right along the line of sight) the letters' left-right runs
  along the line of sight too: letters are counted (stops and durations do not need it)
  but not read, and each letter's message says so;
- the end of the trace while the ankle drops (the foot being lowered) is no letter;
- leg stillness (`leg_moving`): how much ground the hip and ankle of the working leg cover
  over about a second, in leg-scale units (the knee is left out: seen from the front the
  model's knee wanders as the foot moves under it), as a multiple of the leg's own
  resting scatter (its median while tracing in the set: how still the model reads a still leg
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
names the letter (side-on: its place in the alphabet); its value is the letter's DTW cost
(lower is a cleaner match).
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
from formcheck.drills.letters import (
    ALPHABET,
    AlphabetDecoder,
    DecodedLetter,
    DecodeParams,
    LetterRecogniser,
    Recognition,
)
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
    min_letter_s: float = threshold(
        0.8, "A piece of trace moving for less than this is not a letter but a move to where "
             "the next one starts: the drill is slow and controlled, even an I takes a second "
             "or more, while the move between letters is a quick straight line.")
    speed_s: float = threshold(
        0.5, "The foot tip's speed is its mean position over the next half second against the "
             "last half second: the model's toe jitter averages out of both, a letter's "
             "strokes (about a second each) do not.")
    still_share: float = threshold(
        0.35, "Slower than this share of the trace's usual tracing speed (its 75th percentile) "
              "the foot is still: relative to the trace itself because the model's jitter, "
              "and so the speed of a still foot, depends on camera and person.")
    active_share: float = threshold(
        0.25, "A letter piece runs from the first to the last moment its foot tip moves faster "
              "than this share of the tracing speed; its duration (for min_letter_s and the pace) "
              "is that span. Lower than still_share: from the front a vertical stroke runs along "
              "the line of sight and crawls across the image (a rendered front-view I peaked at "
              "0.6 of the tracing speed and was over 0.35 for 0.6 s of its 2 s, so it was "
              "dropped as too short and every later letter shifted by one); still ends of a "
              "piece stay under ~0.15.")
    cut_gap_s: float = threshold(
        0.6, "Candidate cuts (dips of the speed that are not a stop) at least this far apart: "
             "a letter's strokes and corners are further apart than that.")
    cut_max_share: float = threshold(
        0.7, "A dip of the speed is a candidate cut only below this share of the tracing speed "
             "(a letter run into the next without a stop still slows at the join).")
    cut_cost: float = threshold(
        1.0, "Cost of ending a letter where the foot did not stop (none at a full pause): "
             "about what a clearly wrong letter shape costs, so a cut without a pause needs "
             "the durations and shapes on both sides to speak for it.")
    cross_cost: float = threshold(
        1.0, "Cost of a letter running through a full pause: people stop between letters, "
             "seldom inside one.")
    gap_s: float = threshold(
        0.5, "No trace for this long (the foot was down, or the person out of sight) is a "
             "certain cut.")
    start_stop_units: float = threshold(
        1.0, "A letter's duration is expected to grow with its path: pace x (template path + "
             "this), the start from rest and the stop taking about as long as a letter "
             "height of steady tracing (rendered clips: 1 s + 0.8 s per unit of path).")
    dur_tol: float = threshold(
        1.3, "A letter taking within this factor of its expected time costs nothing (people "
             "write some strokes faster than others).")
    dur_weight: float = threshold(
        2.0, "Cost per unit of log duration ratio beyond dur_tol: a letter twice as long as "
             "expected (two letters taken as one) costs ~0.9, as much as a missing pause.")
    junk_rate: float = threshold(
        1.0, "Cost per second of movement that is no letter (the foot finding the first "
             "letter's start, lowering): a whole letter read as no letter costs more than "
             "the letter with a poor shape. Only the seconds the foot tip is not still "
             "(still_share) count: the model's foot tip wanders while the foot is held still "
             "(rendered, low 45 deg round: by a third of a letter height over a 5 s hold, over "
             "the piece's moving level at moments from start to end), and a hold priced as "
             "4 s of movement was cheaper read as a letter.")
    skip_cost: float = threshold(
        1.5, "Cost of a letter of the alphabet that is not in the trace at all (skipped by "
             "the person, or lost): dearer than a poorly matching letter.")
    shape_weight: float = threshold(
        0.5, "Weight of the shape match (DTW cost less the median letter's) in a letter's "
             "cost: through the real model a letter a few centimetres tall is read with "
             "much noise (the right letter's shape is the best of 26 on 16-20% of rendered "
             "letters), so durations and pauses carry as much as the shape.")
    letter_cost: float = threshold(
        0.1, "Cost of every letter, so that cutting the trace into more pieces is no gain in "
             "itself. Small: the alphabet's end is open (a set may stop anywhere), so each "
             "letter's cost is also what the decoder saves by merging two letters into one and "
             "leaving one off the end; where shapes say little (front view: the right shape "
             "best on 2% of letters) a cost of 0.3 made that pay and whole sets came out "
             "shifted by one letter. Pieces cut at no pause still pay cut_cost.")
    live_letter_cost: float = threshold(
        1.0, "letter_cost while the set goes on: live, only the trace after the last letter "
             "shown is decoded, with no later letters to pay for a split, so every stop inside "
             "a letter (from the front, a stroke along the line of sight) was a place to cut "
             "one letter into two (at 0.1 the count shown ran up to 10 letters ahead of the "
             "letters traced on rendered clips, at 0.6 up to 6, at 1.0 up to 3: about what a "
             "missing pause costs). The final decode of the set puts the report right.")
    pace_min_s: float = threshold(
        0.4, "Fastest pace tried (seconds per unit of template path; a unit is one letter "
             "height): an I in 0.8 s.")
    pace_max_s: float = threshold(
        1.6, "Slowest pace tried: a W in about 7 s.")
    max_letter_share: float = threshold(
        1.6, "Longest piece tried as one letter, in expected durations of the longest letter.")
    lowering_drop: float = threshold(
        0.08, "The ankle this far (leg-scale units, ~3 cm) below its level while tracing is "
              "the foot being lowered: the lift is ~10 cm or more, while the model's ankle "
              "point moves ~1 cm as the foot turns.")
    decode_every_s: float = threshold(
        0.3, "While tracing, the trace is decoded this often: a letter is shown within about "
             "a second of being finished (the pause after it is seen ~0.5 s in).")
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
             "scatter (the median over the set's tracing so far): how much the model's points wander "
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
    feet_mixed_clearance: float = threshold(
        -0.25, "A frame whose working foot reads this far below the other (leg-scale units, "
               "~10 cm) is no reading: the other foot is on the floor, so the model has mixed "
               "the feet up, as it does while one crosses the other in the image (rendered, an "
               "8 cm sway filmed low and 35 deg round: -0.56 to -0.18 for up to 0.4 s at a time, "
               "the clearance mirrored). Feet truly side by side on the floor read down to "
               "-0.14 from a low camera, the nearer foot lower in the image.")


@dataclass
class _Point:
    t: float
    writer: np.ndarray  # (2,) writer view: x to the person's right, y down (pixels)
    image: np.ndarray  # (2,) foot tip in the image (pixels)
    smooth: np.ndarray | None = None  # writer point after the trailing mean (segmentation)
    ankle_y: float = NAN  # the ankle's image row (pixels): it drops as the foot is lowered


@dataclass
class _Letter:
    rec: Recognition
    t0: float
    t1: float
    height_px: float
    trace: np.ndarray  # (N, 2) image points
    side_on: bool = False  # seen side-on: counted, not read
    event: Event | None = None  # the count event it was shown with


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
        self.decoder = AlphabetDecoder(
            DecodeParams(**{f.name: float(getattr(c, f.name)) for f in dataclasses.fields(DecodeParams)}),
            self.recogniser)
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
        # _first_stir looks 5.5 s back from half a sustain window before the cue's onset,
        # and is asked only once the cue is confirmed (min_on_s later, more after dropouts)
        self._move_hist = TrailingWindow(c.leg_moving_min_on_s + 0.5 * c.leg_sustain_s + 8.0)
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
        self._buf: list[_Point] = []  # the set's trace, for the decoder
        self._decoded_t = -math.inf  # when the trace was last decoded
        self._letter_events: list[Event] = []  # this set's letter events as shown live
        self._stale: list[Event] = []  # live letter events the final decode replaced
        self._live_decoded: list[DecodedLetter] = []  # the last letters shown, as decoded
        self._pending_down: list[Event] = []  # foot_down: a fault once tracing goes on
        self._pending_leg: list[Event] = []  # leg_moving: unless the foot was being put down
        self._down_onsets: list[float] = []
        self.letters: list[_Letter] = []  # this set's letters
        self._all_letters: list[_Letter] = []
        self._heights: list[float] = []
        self._rom: list[np.ndarray] = []
        self._set_done = False
        self._need_lowering = False
        self._vals: dict[str, float] = {}
        self._confirmed: list[Event] = []  # foot-down spells confirmed on this frame
        self._mixed_since: float | None = None  # the model mixed the feet up (see _feet_mixed_up)

    # ------------------------------------------------------------------ measurement

    def _leg_scale(self, im: np.ndarray, side: str, t: float) -> float:
        shank = float(np.linalg.norm(im[side_lm(side, "KNEE"), :2] - im[side_lm(side, "ANKLE"), :2]))
        hips = float(np.linalg.norm(im[LM.LEFT_HIP, :2] - im[LM.RIGHT_HIP, :2]))
        cands = [v for v in (shank, 1.3 * hips) if np.isfinite(v) and v > 0]
        if cands:
            self._scale.add(t, max(cands))
        return float(self._scale.median()[0])

    @staticmethod
    def _lowest_y(im: np.ndarray, side: str) -> float:
        ys = im[[side_lm(side, "HEEL"), side_lm(side, "FOOT_INDEX"), side_lm(side, "ANKLE")], 1]
        return float(np.nanmax(ys)) if np.isfinite(ys).any() else NAN

    def _feet_mixed_up(self, im: np.ndarray, side: str, scale: float, t: float) -> bool:
        """The working foot reads well below the other, which stands on the floor; and the
        frames after that until the working foot reads clear of the floor again (for up
        to a second), as the model's feet come apart through readings in between."""
        clear = (self._lowest_y(im, other_side(side)) - self._lowest_y(im, side)) / scale
        if not math.isfinite(clear):
            return False
        if clear < self.cfg.feet_mixed_clearance:
            self._mixed_since = t if self._mixed_since is None else self._mixed_since
            return True
        if self._mixed_since is not None and (clear >= self.cfg.foot_down_off_clearance
                                              or t - self._mixed_since > 1.0):
            self._mixed_since = None
            for w in self._low.values():  # their last readings straddle the mix-up
                w.clear()
        return self._mixed_since is not None

    def _lifted_foot(self, im: np.ndarray, t: float) -> tuple[str | None, dict[str, float]]:
        """Which foot is clearly off the floor, and each foot's clearance over the other."""
        for s in SIDES:
            y = self._lowest_y(im, s)
            if math.isfinite(y):
                self._low[s].add(t, y)
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
            return _Point(t, np.array([d[0] * math.copysign(1.0, r[0]), d[1]]), toe[:2].copy(),
                          ankle_y=float(ankle[1]))
        # Near side-on only the model's relative depth has it: its noisiest output,
        # smoothed more than x and y.
        self._toe_z.add(t, d[2])
        dz = float(self._toe_z.mean()[0]) if len(self._toe_z) else 0.0
        dz = dz if math.isfinite(dz) else 0.0
        return _Point(t, np.array([d[0] * r[0] + dz * r[1], d[1]]), toe[:2].copy(), ankle_y=float(ankle[1]))

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
        while the foot has been tracing in this set (a sway is a minority of the time),
        kept within [leg_rest_floor, leg_rest_ceiling]. Only while tracing: the model's
        ankle point follows the turning foot part of the way, so a still leg reads more
        movement while the foot writes than while it is held still (rendered, filmed low
        and 45 deg round: 0.06-0.17 leg-scale units over a letter, 0.03-0.06 over a 5 s
        hold), and a set with a long hold learnt the hold's stillness as the norm and
        cued the next letter's (held-out foot-down clip: a 2.3x false leg_moving)."""
        if not math.isfinite(move):
            return NAN
        if self.sets.current is not None and self._moving:
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

    def _side_on(self) -> bool:
        """The hips' left-right runs (nearly) along the line of sight: the letters'
        left-right is then only in the model's relative depth, too noisy to read a letter
        by (letters are still counted: pauses and durations do not need it)."""
        r = self._hips.median()
        return r.shape == (2,) and bool(np.isfinite(r).all()) and abs(float(r[0])) < self.cfg.image_x_share

    def _letter_event(self, lt: _Letter, position: int) -> Event:
        rec = lt.rec
        if lt.side_on:
            msg = (f"Letter {position} counted (side-on the camera cannot see the letters' "
                   "left-right, so it is not read: film from low and part-way round)")
        else:
            note = "" if rec.expected in (None, rec.letter) else f" (expected {rec.expected})"
            msg = f"Letter {rec.letter}{note}"
        return Event(t_s=lt.t1, code="letter", kind="count", side=self.side, message=msg,
                     value=round(rec.distance, 3))

    def _as_letter(self, d: DecodedLetter) -> _Letter:
        pts = self._buf[d.i0:d.i1 + 1]
        xy = np.stack([p.writer for p in pts])
        side_on = self._side_on()
        # side-on the letter is counted at its place in the alphabet, not read: "?"
        rec = dataclasses.replace(d.rec, letter="?") if side_on else d.rec
        return _Letter(rec, d.t0, d.t1, float(np.ptp(xy[:, 1])), np.stack([p.image for p in pts]), side_on)

    def _decode(self, final: bool) -> list[DecodedLetter]:
        """Final: the set's whole trace. Live: the trace after the last letter shown (the
        letters before it stay as shown), so each call is a short piece of work."""
        if len(self._buf) < 5:
            return []
        t = np.array([p.t for p in self._buf])
        xy = np.stack([p.writer for p in self._buf])
        h = self._letter_height_px(float(self._scale.median()[0]))
        if final or not self.letters:
            return self.decoder.decode(t, xy, h, final=final)
        last = self.letters[-1]
        start = int(np.searchsorted(t, last.t1, side="right"))
        first = ALPHABET.index(last.rec.letter) + 1 if last.rec.letter in ALPHABET else len(self.letters)
        return self.decoder.decode(t, xy, h, final=False, first=first, start=start)

    def _emit_decoded(self, final: bool = False) -> list[Event]:
        """Decode the set's trace so far and show the letters finished since the last call.
        Live, letters once shown stay (the count never goes back) unless the live count
        reaches the end of the alphabet while the whole trace, decoded at once, does not:
        then the live letters are replaced by it. The final decode of the set (the whole
        trace known) may re-split it, and its letters replace the live ones in the report."""
        if self.sets.current is None:
            return []
        if final:
            return self._replace_letters(self._decode(final=True))
        decoded = self._decode(final=False)
        out = self._add_letters(decoded)
        if self._set_done:
            whole = self._decode(final=True)
            if len(whole) < len(ALPHABET) and not (whole and whole[-1].rec.letter == "Z"):
                self._set_done = False  # the live count ran ahead of the letters traced
                out = [e for e in out if e not in self._letter_events] + self._replace_letters(whole)
                self._set_done = False
        if decoded:
            self.decoder.learn_pace(self._decoded_live(decoded))
        return out

    def _replace_letters(self, decoded: list[DecodedLetter]) -> list[Event]:
        """This set's letters become `decoded`: the ones shown are taken out of the report."""
        shown = {id(e) for e in self._letter_events}
        self._stale += self._letter_events  # also out of this frame's events, if shown on it
        self.events[:] = [e for e in self.events if id(e) not in shown]
        for lt in self.letters:
            self._all_letters.remove(lt)
        self.letters, self._letter_events = [], []
        return self._add_letters(decoded)

    def _add_letters(self, decoded: list[DecodedLetter]) -> list[Event]:
        out: list[Event] = []
        for d in decoded[:len(ALPHABET) - len(self.letters)]:
            lt = self._as_letter(d)
            self.letters.append(lt)
            self._all_letters.append(lt)
            if lt.height_px > 0:
                self._heights.append(lt.height_px)
            ev = lt.event = self._letter_event(lt, len(self.letters))
            self._letter_events.append(ev)
            out.append(ev)
            if len(self.letters) >= len(ALPHABET) or (lt.rec.letter == "Z" and len(self.letters) > 20):
                self._set_done = True
        return out

    def _decoded_live(self, decoded: list[DecodedLetter]) -> list[DecodedLetter]:
        """The letters shown this set, as the decoder gave them (for the person's pace)."""
        self._live_decoded = (self._live_decoded + decoded)[-12:]
        return self._live_decoded

    def _trim_lowering(self, scale: float) -> None:
        """The foot went down: the end of the trace since the ankle left its lifted level
        is the foot being lowered (it looks like a stroke down, an I), not a letter."""
        y = np.array([p.ankle_y for p in self._buf])
        if len(y) < 10 or not np.isfinite(y).any() or not (scale > 0):
            return
        level = float(np.nanmedian(y))
        # image y grows downward; a letter moves the ankle point a little (the model's ankle
        # follows the toe part of the way), lowering moves it by the whole lift
        up = np.nonzero(y <= level + self.cfg.lowering_drop * scale)[0]
        if not len(up):
            return
        t_end = self._buf[int(up[-1])].t - 0.2  # the drop starts a moment before it shows
        self._buf = [p for p in self._buf if p.t <= t_end]

    def _flush(self) -> list[Event]:
        """The foot stopped tracing (it went down, or the set ends): show what is finished."""
        out = self._emit_decoded() if not self._set_done else []
        self._points, self._moving, self._anchor = [], False, None
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
        self._buf.append(p)  # the set's whole trace (before it opens, only the last seconds)
        if self.sets.current is None and self._buf[0].t < p.t - 3.0:
            self._buf = [q for q in self._buf if q.t >= p.t - 3.0]
        if (self.sets.current is not None and not self._set_done
                and p.t - self._decoded_t >= self.cfg.decode_every_s):
            self._decoded_t = p.t
            out += self._emit_decoded()
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
            self._points = [q for q in self._points if q.t > pause_start]
            self._moving, self._anchor = False, centre
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
            self._buf = [q for q in self._buf if q.t >= t - 1.0]
            self.decoder.reset()
            self._live_decoded = []
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
        turn, so look back (up to 5 s) for the last reading over a third of the way from
        the leg's usual stillness (ratio 1, by the ratio's definition) to the threshold
        that came after half a second at or under it. The model follows a small movement
        of the foot late (rendered 6 cm sways: the reading rose 0.5-1.1 s after the sway
        began), so the stir is dated up to half a leg window before that reading, but not
        before the leg last read as still as usual."""
        times, vals = self._move_hist.times, self._move_hist.values()
        if not len(times):
            return onset
        vals = vals[:, 0]
        level = 1.0 + (self.cfg.leg_moving_ratio - 1.0) / 3.0
        # as still as usual: the ratio's unit, or lower where the resting scatter is held
        # up by leg_rest_floor (a leg read stiller than the floor)
        earlier = vals[(times < onset) & np.isfinite(vals)]
        usual = min(1.0, float(np.median(earlier))) if len(earlier) else 1.0
        loud = np.nonzero((times < onset) & (times >= onset - 5.0) & (vals > level))[0]
        for k in loud[::-1]:
            quiet_before = (times >= times[k] - 0.5) & (times < times[k])
            if quiet_before.sum() >= 3 and (vals[quiet_before] <= level).all():
                still = np.nonzero((times < times[k]) & (vals <= usual))[0]
                earliest = float(times[still[-1]]) if len(still) else -math.inf
                return max(float(times[k]) - 0.5 * self.cfg.leg_window_s, earliest)
        return onset

    def _discard(self, det: FaultDetector, t: float) -> None:
        det.finish(t)  # closes it; the event is dropped

    def _end_set(self, t: float) -> list[Event]:
        self._flush()
        out = self._emit_decoded(final=True)
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
        self._buf, self._letter_events = [], []
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
        self._points, self._moving, self._anchor, self._buf = [], False, None, []

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
        if self.side is not None and self._feet_mixed_up(im, self.side, scale, t):
            out += self._feed_faults(t, NAN, NAN)
            return out
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
                self._trim_lowering(float(self._scale.median()[0]))
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
        if self._set_done and self._lifted_since is None:
            # The set ends once the foot is put down after Z, not when Z is shown: a live
            # count can run ahead of the letters traced (a stroke along the line of sight
            # reads as a stop), and the final decode needs the whole trace to put it right.
            out += self._end_set(t)
        if self._stale:
            stale = {id(e) for e in self._stale}
            out = [e for e in out if id(e) not in stale]
            self._stale = []
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

    def count_traces(self) -> list[tuple[Event, np.ndarray]]:
        return [(lt.event, lt.trace) for lt in self._all_letters if lt.event is not None]

    def status(self) -> LiveStatus:
        n = len(self.letters)
        st = LiveStatus(drill=self.drill_id, reading=self.setup.reliable, side=self.side,
                        set_index=len(self.sets.sets) + (1 if self.sets.current else 0),
                        sets_target=2 * int(self.cfg.sets_per_foot), count=n if self.sets.current else None,
                        count_target=len(ALPHABET), count_label="letters", cues=self.active_cues())
        if self._moving and self._points:
            st.trace = np.stack([p.image for p in self._points])
        elif self.letters:
            st.trace = self.letters[-1].trace
        nxt = self._expected() if n < len(ALPHABET) else None
        if self.letters and self.letters[-1].side_on:
            st.info["letter"] = f"letter {n} counted (side-on: not read)" + (
                f" \u2014 next: {nxt}" if nxt else " \u2014 done")
        elif self.letters:
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
