"""Ankle ABCs (`ankle-abcs`, front or side view): the foot tip traces capital letters A-Z,
the leg kept still and the foot clear of the floor; one set per foot.

What is measured, and why this way:

- working foot: the lifted one (its ankle higher than the other's), decided over the
  last second and kept for the whole set;
- trace: the foot tip relative to the ankle (the ankle's median over the last second, so
  its own jitter is not added to the toe's), turned into the *writer's* view: writer-right
  is the direction from the person's left hip to their right hip (image x and the model's
  relative depth z), writer-down is image down. Facing the camera the person's right is on
  the image's left, so the letters, mirrored in the image, come out the right way round;
  the same rule holds for any view in between without knowing the view;
- letters are split by pauses: the foot tip's speed, relative to the trace's own scale
  (the median height of the letters traced so far; before the first, a share of the leg),
  stays below `pause_speed` for `pause_s`. A piece too short to be a letter is kept and
  put in front of the next piece; a piece that matches no letter well is held back and, if
  it joined with the next piece makes a good letter, the two count as one (a mid-letter
  pause); otherwise it counts on its own;
- recognition: `formcheck.drills.letters.LetterRecogniser` (DTW on normalised traces), with
  the next letter of the alphabet as the prior;
- leg stillness (`leg_moving`): the knee and hip of the working leg away from where they
  rested over the last few seconds, in leg-scale units;
- foot clear of the floor (`foot_down`): the working foot's lowest point against the other
  foot's lowest point (the floor), in leg-scale units;
- ankle range of motion: how far the foot turned from its resting direction up, down, in
  and out during the set (model world coordinates, degrees; 95th percentiles so a single
  bad frame does not count).

The leg scale is the working shank's image length, or 1.3 hip widths when larger: facing
the camera the extended shank points at the lens and looks short, while the hips lie
across the image; side-on it is the other way round.

Each letter is one `count` event (code "letter") whose message names the recognised
letter; its value is the letter's DTW cost (lower is a cleaner match).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from formcheck.config import DrillConfig, threshold
from formcheck.drills.base import Analyser, LiveStatus
from formcheck.drills.blocks import FaultDetector, SetTracker
from formcheck.drills.letters import ALPHABET, LetterRecogniser, Recognition, path_length
from formcheck.drills.windows import TrailingWindow
from formcheck.events import Event
from formcheck.pose.frame import PoseFrame
from formcheck.pose.landmarks import LM, SIDES, other_side, side_lm

NAN = float("nan")


@dataclass
class AnkleAbcsConfig(DrillConfig):
    sets_per_foot: int = threshold(1, "Prescription: one alphabet (A-Z) per foot.")
    pause_radius: float = threshold(
        0.1, "The foot tip staying within this many letter heights of one spot is pausing; "
              "tracing covers ~1 letter height per second, so a pause is unmistakable.")
    pause_speed: float = threshold(
        0.35, "...and its median speed over the pause below this many letter heights per second "
              "(tracing runs at ~1).")
    move_radius: float = threshold(
        0.2, "Leaving the pause spot by this many letter heights starts the next piece "
             "(hysteresis over pause_radius).")
    pause_s: float = threshold(
        0.45, "A pause this long ends a letter; the foot slows for a moment at every corner, "
              "but does not stop there this long.")
    min_letter_path: float = threshold(
        0.6, "A piece of trace shorter than this (in letter heights) is not a letter (an I is "
             "1.0): it is kept and joined to the next piece.")
    accept_cost: float = threshold(
        0.45, "DTW cost under which a piece is taken as a complete letter at once; a poorer "
              "match waits to see whether the next piece completes it.")
    smooth_s: float = threshold(
        0.12, "Trace smoothing window: the foot tip is the model's least precise point.")
    initial_letter_height: float = threshold(
        0.2, "Letter height, in leg-scale units, assumed until the first letters are seen "
             "(the toe turns ~25 deg each way about the ankle).")
    leg_moving_share: float = threshold(
        0.08, "Knee or hip moving this far (leg-scale units, ~3 cm) from where it rested over the "
              "last seconds: the leg, not the ankle, is drawing.", 1)
    leg_moving_off_share: float = threshold(
        0.05, "The leg-moving cue clears below this (hysteresis).", 1)
    rest_window_s: float = threshold(
        3.0, "Where the knee and hip 'rest' is their median over this many seconds.")
    foot_down_clearance: float = threshold(
        0.03, "Working foot's lowest point less than this (leg-scale units) above the resting "
              "foot's: it is on the floor.", -1)
    foot_down_off_clearance: float = threshold(
        0.07, "The foot-down cue clears once the foot is this high again (hysteresis).", -1)


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
        self.leg_moving = FaultDetector("leg_moving", on=c.leg_moving_share, off=c.leg_moving_off_share,
                                        min_on_s=c.min_on_s, min_off_s=c.min_off_s)
        self.foot_down = FaultDetector("foot_down", on=c.foot_down_clearance, off=c.foot_down_off_clearance,
                                       below=True, min_on_s=c.min_on_s, min_off_s=c.min_off_s)
        self.side: str | None = side if side in SIDES else None
        self._votes = TrailingWindow(1.0)
        self._ankle = TrailingWindow(1.0)
        self._hips = TrailingWindow(3.0)
        self._scale = TrailingWindow(3.0)
        self._knee_rest = TrailingWindow(c.rest_window_s)
        self._hip_rest = TrailingWindow(c.rest_window_s)
        self._knee_now = TrailingWindow(0.2)
        self._ankle_rest = TrailingWindow(c.rest_window_s)
        self._ankle_now = TrailingWindow(0.2)
        self._hip_now = TrailingWindow(0.2)
        self._floor = TrailingWindow(1.0)
        self._low = TrailingWindow(0.2)
        self._speed_win = TrailingWindow(c.smooth_s)
        self._speed_hist = TrailingWindow(0.25)
        self._still = TrailingWindow(c.pause_s)
        self._speeds = TrailingWindow(c.pause_s)
        self._anchor: np.ndarray | None = None
        self._points: list[_Point] = []  # the piece being traced (and the pause before it)
        self._moving = False
        self._move_start: float | None = None
        self._fragment: list[_Point] = []  # too short to be a letter: goes in front of the next
        self._held: tuple[list[_Point], Recognition] | None = None  # a poor match, waiting
        self.letters: list[_Letter] = []  # this set's letters
        self._all_letters: list[_Letter] = []
        self._heights: list[float] = []
        self._rom: list[np.ndarray] = []  # per frame (right, up) foot direction angles, degrees
        self._set_done = False
        self._foot_low_t: float | None = None
        self._vals: dict[str, float] = {}

    # ------------------------------------------------------------------ measurement

    def _pick_side(self, im: np.ndarray) -> str | None:
        if self.side_hint in SIDES:
            return self.side_hint
        ay = {s: im[side_lm(s, "ANKLE"), 1] for s in SIDES}
        if not all(np.isfinite(v) for v in ay.values()):
            return self.side
        self._votes.add(self.last_t or 0.0, 1.0 if ay["left"] < ay["right"] else 0.0)
        if self.sets.current is not None and self.side is not None:
            return self.side
        return "left" if float(self._votes.mean()[0]) >= 0.5 else "right"

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

    def _leg_scale(self, im: np.ndarray, side: str, t: float) -> float:
        shank = float(np.linalg.norm(im[side_lm(side, "KNEE"), :2] - im[side_lm(side, "ANKLE"), :2]))
        hips = float(np.linalg.norm(im[LM.LEFT_HIP, :2] - im[LM.RIGHT_HIP, :2]))
        cands = [v for v in (shank, 1.3 * hips) if np.isfinite(v) and v > 0]
        if cands:
            self._scale.add(t, max(cands))
        return float(self._scale.median()[0])

    def _letter_height_px(self, scale: float) -> float:
        if self._heights:
            return float(np.median(self._heights[-7:]))
        return self.cfg.initial_letter_height * scale

    def _measure(self, frame: PoseFrame, side: str) -> tuple[_Point | None, float]:
        t, im = frame.t_s, frame.image
        scale = self._leg_scale(im, side, t)
        r = self._writer_axis(im, t)
        ankle, toe = im[side_lm(side, "ANKLE")], im[side_lm(side, "FOOT_INDEX")]
        self._ankle.add(t, ankle)
        a = self._ankle.median()
        point = None
        if np.isfinite(toe[:2]).all() and a.shape == (3,):
            d = toe - a
            dz = d[2] if np.isfinite(d[2]) else 0.0
            point = _Point(t, np.array([d[0] * r[0] + dz * r[1], d[1]]), toe[:2].copy())
        # leg stillness
        vals: dict[str, float] = {"leg_scale_px": scale}
        disp = []
        for lm, now, rest in ((side_lm(side, "KNEE"), self._knee_now, self._knee_rest),
                              (side_lm(side, "HIP"), self._hip_now, self._hip_rest),
                              (side_lm(side, "ANKLE"), self._ankle_now, self._ankle_rest)):
            now.add(t, im[lm, :2])
            rest.add(t, im[lm, :2])
            if len(rest) and rest.covered_s() >= 0.5:
                disp.append(float(np.linalg.norm(now.median() - rest.median())) / scale)
        vals["leg_movement_share"] = max(disp) if disp else NAN
        # foot clearance above the other foot (the floor)
        o = other_side(side)
        rest_low = np.nanmax(im[[side_lm(o, "HEEL"), side_lm(o, "FOOT_INDEX")], 1])
        work_low = np.nanmax(im[[side_lm(side, "HEEL"), side_lm(side, "FOOT_INDEX"),
                                 side_lm(side, "ANKLE")], 1])
        self._floor.add(t, rest_low)
        self._low.add(t, work_low)
        vals["foot_clearance_share"] = float(self._floor.median()[0] - self._low.median()[0]) / scale
        # foot direction for range of motion (world coordinates, metres)
        if self.sets.current is not None:
            w = frame.world
            fw = w[side_lm(side, "FOOT_INDEX")] - w[side_lm(side, "ANKLE")]
            hw = w[LM.RIGHT_HIP] - w[LM.LEFT_HIP]
            if np.isfinite(fw).all() and np.isfinite(hw).all() and np.linalg.norm(fw) > 0:
                self._rom.append(np.concatenate([fw / np.linalg.norm(fw), hw]))
        self._vals = vals
        return point, scale

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
        rec_ok = "" if rec.expected in (None, rec.letter) else f" (expected {rec.expected})"
        ev = Event(t_s=letter.t1, code="letter", kind="count", side=self.side,
                   message=f"Letter {rec.letter}{rec_ok}", value=round(rec.distance, 3))
        out = [ev]
        if len(self.letters) >= len(ALPHABET) or (rec.letter == "Z" and len(self.letters) > 20):
            self._set_done = True
        return out

    def _piece_done(self, pts: list[_Point]) -> list[Event]:
        """A piece of trace between pauses has ended."""
        out: list[Event] = []
        scale_h = self._letter_height_px(float(self._scale.median()[0]))
        pts = self._fragment + pts
        if len(pts) < 3 or path_length(self._trace_writer(pts)) < self.cfg.min_letter_path * scale_h:
            self._fragment = pts  # too short for a letter: joins the next piece
            return out
        self._fragment = []
        if self._held is not None:
            held_pts, held_rec = self._held
            self._held = None
            merged = held_pts + pts
            r_m = self.recogniser.recognise(self._trace_writer(merged), self._expected())
            if r_m.distance <= self.cfg.accept_cost or r_m.distance < held_rec.distance:
                return self._emit(merged, r_m)
            out += self._emit(held_pts, held_rec)
            if self._set_done:
                return out
        rec = self.recogniser.recognise(self._trace_writer(pts), self._expected())
        if rec.distance <= self.cfg.accept_cost:
            out += self._emit(pts, rec)
        else:
            self._held = (pts, rec)
        return out

    def _flush(self) -> list[Event]:
        out: list[Event] = []
        if self._moving and self._points:
            out += self._piece_done(self._points)
            self._points, self._moving = [], False
        if self._held is not None and not self._set_done:
            pts, rec = self._held
            self._held = None
            out += self._emit(pts, rec)
        self._held = None
        self._fragment = []
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
        self._speed_hist.add(p.t, ps)
        if len(self._speed_hist) >= 2 and self._speed_hist.covered_s() > 0.05:
            v, ts = self._speed_hist.values(), self._speed_hist.times
            speed = float(np.linalg.norm(v[-1] - v[0]) / (ts[-1] - ts[0])) / h
            self._vals["foot_tip_speed_h_per_s"] = speed
            self._speeds.add(p.t, speed)
        p.smooth = ps
        self._points.append(p)
        pts = self._still.values()
        centre = np.median(pts, axis=0)
        # 80th percentile, not the maximum: one jittery frame must not break a pause, while
        # at a sharp corner the foot spends most of the window far from any one spot.
        spread = float(np.percentile(np.linalg.norm(pts - centre, axis=1), 80)) / h
        # Folding back along a line (E, F, K...) keeps the foot near one spot for a moment
        # too, but it never slows down: a pause also needs a low median speed.
        slow = len(self._speeds) > 0 and float(self._speeds.median()[0]) <= self.cfg.pause_speed
        paused = (self._still.covered_s() >= 0.9 * self.cfg.pause_s and spread <= self.cfg.pause_radius
                  and slow)
        if not self._moving:
            if paused:
                self._anchor = centre
            if self._anchor is None:
                self._anchor = ps
            if float(np.linalg.norm(ps - self._anchor)) / h >= self.cfg.move_radius:
                self._moving = True
                # the piece starts where the foot last sat at the pause spot
                near = [q.t for q in self._points if q.smooth is not None
                        and float(np.linalg.norm(q.smooth - self._anchor)) / h <= self.cfg.pause_radius]
                start = near[-1] if near else p.t - 0.3
                self._points = [q for q in self._points if q.t >= start]
                if self.sets.current is None and not self._set_done:
                    self.sets.start(self.side, self._points[0].t)
                    for d in self._fault_detectors():
                        d.side = self.side
            else:
                self._points = [q for q in self._points if q.t >= p.t - 1.0]
        elif paused:
            pause_start = float(self._still.times[0])
            piece = [q for q in self._points if q.t <= pause_start]
            self._points = [q for q in self._points if q.t > pause_start]
            self._moving, self._anchor = False, centre
            if piece:
                out += self._piece_done(piece)
        return out

    # ------------------------------------------------------------------ drill logic

    def _end_set(self, t: float) -> list[Event]:
        out = self._flush()
        for d in self._fault_detectors():
            out += d.finish(t)
        rec = self.sets.current
        if rec is not None:
            rec.reps = len(self.letters)
            rec.figures.update(self._set_figures())
            self.sets.end(self.letters[-1].t1 if self.letters else t)
        self.letters, self._rom, self._set_done = [], [], False
        self._points, self._moving, self._anchor = [], False, None
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

    def _update(self, frame: PoseFrame, reliable: bool) -> list[Event]:
        t = frame.t_s
        out: list[Event] = []
        if not reliable:
            out += self.leg_moving.update(t, NAN)
            out += self.foot_down.update(t, NAN)
            return out
        side = self._pick_side(frame.image)
        if side is None:
            return out
        if self.sets.current is not None and side != self.side:
            out += self._end_set(t)  # the other foot took over
        if self.sets.current is None and side != self.side:
            self.side = side
            for w in (self._ankle, self._scale, self._knee_rest, self._hip_rest, self._knee_now,
                      self._hip_now, self._ankle_rest, self._ankle_now, self._floor, self._low, self._speed_win, self._speed_hist, self._still,
                      self._speeds):
                w.clear()
        point, scale = self._measure(frame, self.side or side)
        if point is not None and np.isfinite(scale) and scale > 0:
            out += self._segment(point, scale)
        if self.sets.current is not None:
            clear = self._vals.get("foot_clearance_share", NAN)
            if math.isfinite(clear) and clear < self.cfg.foot_down_off_clearance:
                self._foot_low_t = t
            # Putting the foot down and lifting it again moves the whole leg: that is the
            # foot-down fault, not a leg that draws, so stillness is not judged around it.
            settling = self._foot_low_t is not None and t - self._foot_low_t < self.cfg.rest_window_s
            out += self.leg_moving.update(t, NAN if settling else self._vals.get("leg_movement_share", NAN))
            out += self.foot_down.update(t, clear)
        if self._set_done:
            out += self._end_set(t)
        return out

    def _finish(self, t: float) -> list[Event]:
        out: list[Event] = []
        if self.sets.current is not None:
            out += self._end_set(t)
        for d in self._fault_detectors():
            out += d.finish(t)
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
                st.fault_landmarks |= frozenset(int(side_lm(self.side, p)) for p in ("HIP", "KNEE"))
            if any(c.code == "foot_down" for c in st.cues):
                st.fault_landmarks |= frozenset(int(side_lm(self.side, p)) for p in ("HEEL", "FOOT_INDEX"))
        return st

    def values(self) -> dict[str, float]:
        keys = ("leg_movement_share", "foot_clearance_share", "foot_tip_speed_h_per_s")
        return {k: float(self._vals.get(k, NAN)) for k in keys}
