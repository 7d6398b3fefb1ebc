"""Capital letters A-Z as pen strokes, and a recogniser for traced letters.

One source of truth for both sides of the ankle-ABC drill: the synthetic actor makes the
foot tip trace `letter_path(letter)`, and the analyser recognises a trace by comparing it
with the same paths.

Coordinates are the *writer's own view* (the person looking at the letter they draw in
front of them): x grows to the writer's right, y grows DOWNWARD (like image rows), the
letter box is 1 unit tall (y in 0..1) and `LETTER_WIDTH[letter]` wide (x in 0..width).
A camera facing the person sees the letter mirrored (x flipped); the analyser undoes that.

Stroke order and direction follow ordinary handwriting of capitals (top to bottom, left
to right; O and C anticlockwise from the top). A foot cannot lift its "pen", so the path
it really traces includes the straight moves between strokes: `letter_path` includes
them (with_moves=True) and the recogniser matches against exactly that path.

Recognition (`LetterRecogniser`): the trace and every template are resampled to the same
number of points evenly spaced along their length, centred on their centroid and scaled
to unit RMS radius (so size and position do not matter, aspect ratio does), then compared
by dynamic time warping on position plus stroke direction, all 26 templates at once with
numpy. An expected letter (the next one in the alphabet) is a prior, not a verdict: a
clearly different shape still wins.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import math
from dataclasses import dataclass

import numpy as np

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, step_deg: float = 7.5
         ) -> np.ndarray:
    """Elliptical arc from angle a0 to a1 (degrees, anticlockwise as the writer sees it,
    0 = right, 90 = up); y grows downward, hence the minus sign."""
    n = max(2, int(np.ceil(abs(a1 - a0) / step_deg)) + 1)
    a = np.radians(np.linspace(a0, a1, n))
    return np.stack([cx + rx * np.cos(a), cy - ry * np.sin(a)], axis=1)


def _pl(*pts: tuple[float, float] | np.ndarray) -> np.ndarray:
    """A polyline from points and arcs, concatenated in order."""
    parts = [np.atleast_2d(np.asarray(p, dtype=np.float64)) for p in pts]
    return np.concatenate(parts, axis=0)


def _bowl(x0: float, y_top: float, y_bot: float, depth: float) -> np.ndarray:
    """A right-hand bowl (as in B, D, P, R) from (x0, y_top) round to (x0, y_bot)."""
    r = (y_bot - y_top) / 2.0
    straight = max(0.0, depth - r)
    cx = x0 + straight
    return _pl((x0, y_top), _arc(cx, y_top + r, r, r, 90.0, -90.0), (x0, y_bot))


# Each letter: its strokes, in writing order; each stroke an (K, 2) polyline.
LETTER_STROKES: dict[str, list[np.ndarray]] = {
    "A": [_pl((0.0, 1.0), (0.4, 0.0), (0.8, 1.0)), _pl((0.2, 0.55), (0.6, 0.55))],
    "B": [_pl((0.0, 0.0), (0.0, 1.0)),
          _pl(_bowl(0.0, 0.0, 0.5, 0.5), _bowl(0.0, 0.5, 1.0, 0.6)[1:])],
    "C": [_arc(0.4, 0.5, 0.4, 0.5, 45.0, 315.0)],
    "D": [_pl((0.0, 0.0), (0.0, 1.0)), _bowl(0.0, 0.0, 1.0, 0.7)],
    "E": [_pl((0.7, 0.0), (0.0, 0.0), (0.0, 1.0), (0.7, 1.0)), _pl((0.0, 0.5), (0.55, 0.5))],
    "F": [_pl((0.7, 0.0), (0.0, 0.0), (0.0, 1.0)), _pl((0.0, 0.5), (0.55, 0.5))],
    "G": [_pl(_arc(0.4, 0.5, 0.4, 0.5, 45.0, 360.0), (0.45, 0.5))],
    "H": [_pl((0.0, 0.0), (0.0, 1.0)), _pl((0.7, 0.0), (0.7, 1.0)), _pl((0.0, 0.5), (0.7, 0.5))],
    "I": [_pl((0.0, 0.0), (0.0, 1.0))],
    "J": [_pl((0.6, 0.0), _arc(0.3, 0.7, 0.3, 0.3, 0.0, -180.0))],
    "K": [_pl((0.0, 0.0), (0.0, 1.0)), _pl((0.7, 0.0), (0.0, 0.55), (0.7, 1.0))],
    "L": [_pl((0.0, 0.0), (0.0, 1.0), (0.6, 1.0))],
    "M": [_pl((0.0, 1.0), (0.0, 0.0), (0.4, 0.6), (0.8, 0.0), (0.8, 1.0))],
    "N": [_pl((0.0, 1.0), (0.0, 0.0), (0.7, 1.0), (0.7, 0.0))],
    "O": [_arc(0.4, 0.5, 0.4, 0.5, 90.0, 450.0)],
    "P": [_pl((0.0, 0.0), (0.0, 1.0)), _bowl(0.0, 0.0, 0.55, 0.6)],
    "Q": [_arc(0.4, 0.5, 0.4, 0.5, 90.0, 450.0), _pl((0.45, 0.7), (0.85, 1.0))],
    "R": [_pl((0.0, 0.0), (0.0, 1.0)), _pl(_bowl(0.0, 0.0, 0.55, 0.6), (0.65, 1.0))],
    "S": [_pl(_arc(0.35, 0.25, 0.35, 0.25, 20.0, 270.0), _arc(0.35, 0.75, 0.35, 0.25, 90.0, -160.0)[1:])],
    "T": [_pl((0.0, 0.0), (0.8, 0.0)), _pl((0.4, 0.0), (0.4, 1.0))],
    "U": [_pl((0.0, 0.0), _arc(0.35, 0.65, 0.35, 0.35, 180.0, 360.0), (0.7, 0.0))],
    "V": [_pl((0.0, 0.0), (0.4, 1.0), (0.8, 0.0))],
    "W": [_pl((0.0, 0.0), (0.25, 1.0), (0.5, 0.35), (0.75, 1.0), (1.0, 0.0))],
    "X": [_pl((0.0, 0.0), (0.7, 1.0)), _pl((0.7, 0.0), (0.0, 1.0))],
    "Y": [_pl((0.0, 0.0), (0.4, 0.5), (0.8, 0.0)), _pl((0.4, 0.5), (0.4, 1.0))],
    "Z": [_pl((0.0, 0.0), (0.7, 0.0), (0.0, 1.0), (0.7, 1.0))],
}

LETTER_WIDTH: dict[str, float] = {
    k: float(np.concatenate(v)[:, 0].max()) for k, v in LETTER_STROKES.items()}


def _densify(poly: np.ndarray, points_per_unit: float) -> np.ndarray:
    """Points along a polyline no further apart than 1/points_per_unit (vertices kept)."""
    out = [poly[:1]]
    for a, b in itertools.pairwise(poly):
        n = max(1, int(np.ceil(np.linalg.norm(b - a) * points_per_unit)))
        t = np.arange(1, n + 1)[:, None] / n
        out.append(a + (b - a) * t)
    return np.concatenate(out, axis=0)


def letter_path(letter: str, points_per_unit: float = 50.0, with_moves: bool = True) -> np.ndarray:
    """(N, 2) points along the path a pen that never lifts traces for `letter`.

    Strokes in order, joined by straight moves from each stroke's end to the next one's
    start (with_moves=False leaves the moves out, so consecutive strokes simply follow
    each other in the array). Writer's view, y down, box 1 unit tall.
    """
    strokes = LETTER_STROKES[letter.upper()]
    pts: list[np.ndarray] = []
    for i, s in enumerate(strokes):
        if i and with_moves:
            pts.append(_densify(np.stack([strokes[i - 1][-1], s[0]]), points_per_unit)[1:-1])
        pts.append(_densify(s, points_per_unit))
    return np.concatenate(pts, axis=0)


def path_length(xy: np.ndarray) -> float:
    xy = np.asarray(xy, dtype=np.float64)
    return float(np.linalg.norm(np.diff(xy, axis=0), axis=1).sum()) if len(xy) > 1 else 0.0


def resample(xy: np.ndarray, n: int) -> np.ndarray:
    """n points evenly spaced along the polyline xy (by arc length). NaN rows dropped."""
    xy = np.asarray(xy, dtype=np.float64)
    xy = xy[np.isfinite(xy).all(axis=1)]
    if len(xy) == 0:
        return np.full((n, 2), np.nan)
    seg = np.linalg.norm(np.diff(xy, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] <= 0:
        return np.repeat(xy[:1], n, axis=0)
    keep = np.concatenate([[True], seg > 0])  # np.interp needs increasing abscissae
    u = np.linspace(0.0, s[-1], n)
    return np.stack([np.interp(u, s[keep], xy[keep, 0]), np.interp(u, s[keep], xy[keep, 1])], axis=1)


def normalise(xy: np.ndarray, n: int = 48) -> np.ndarray:
    """Resample to n points, centre on the centroid, scale to unit RMS radius."""
    p = resample(xy, n)
    p = p - p.mean(axis=0)
    r = float(np.sqrt((p ** 2).sum(axis=1).mean()))
    return p / r if r > 0 else p


def _directions(p: np.ndarray) -> np.ndarray:
    """Unit tangents along resampled paths (..., n, 2) (central differences)."""
    d = np.gradient(p, axis=-2)
    norm = np.linalg.norm(d, axis=-1, keepdims=True)
    return np.divide(d, norm, out=np.zeros_like(d), where=norm > 0)


def _pair_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(A, B) Euclidean distances between the rows of a (A, 2) and b (B, 2), by one matrix
    product (|a|^2 + |b|^2 - 2 a.b): ~7x faster than norming the broadcast differences."""
    d2 = (a * a).sum(axis=1)[:, None] + (b * b).sum(axis=1)[None, :] - 2.0 * (a @ b.T)
    return np.sqrt(np.maximum(d2, 0.0))


def dtw_distances(query: np.ndarray, templates: np.ndarray, band: int | None = None,
                  direction_weight: float = 0.5) -> np.ndarray:
    """DTW cost of normalised paths against templates, all pairs at once.

    query (n, 2) or (Q, n, 2); templates (T, m, 2). The local cost is the point distance
    plus `direction_weight` times the distance between unit tangents (so an O drawn the
    wrong way round is not an O); `band` limits |i - j| (Sakoe-Chiba).
    Returns (T,) or (Q, T) costs divided by the path length n.

    The DP runs row by row, vectorised over queries and templates: along a row the step
    D[j] = c[j] + min(a[j], D[j-1]) (a: the diagonal and vertical steps from the row
    above) unrolls to D[j] = C[j] + min over l <= j of (a[l] - C[l-1]), C the running sum
    of c, so a row is a cumulative sum and a cumulative minimum.
    """
    single = query.ndim == 2
    q = query[None] if single else query
    Q, n = q.shape[:2]
    T, m = templates.shape[:2]
    cost = _pair_distances(q.reshape(-1, 2), templates.reshape(-1, 2))
    if direction_weight:
        cost += direction_weight * _pair_distances(_directions(q).reshape(-1, 2),
                                                   _directions(templates).reshape(-1, 2))
    cost = np.ascontiguousarray(cost.reshape(Q, n, T, m).transpose(1, 3, 0, 2))  # (n, m, Q, T)
    prev = np.full((m + 1, Q, T), np.inf)  # the row above, column 0 included
    prev[0] = 0.0
    zero = np.zeros((1, Q, T))
    for i in range(1, n + 1):
        lo, hi = 1, m  # the row's columns (1-based) inside the band
        if band is not None:
            lo = max(1, math.ceil((i - 1 - band) * m / n) + 1)
            hi = min(m, math.floor((i - 1 + band) * m / n) + 1)
        row = np.full((m + 1, Q, T), np.inf)
        if lo <= hi:
            a = np.minimum(prev[lo - 1:hi], prev[lo:hi + 1])
            run = np.cumsum(cost[i - 1, lo - 1:hi], axis=0)
            row[lo:hi + 1] = run + np.minimum.accumulate(a - np.concatenate([zero, run[:-1]]), axis=0)
        prev = row
    out = prev[m] / n
    return out[0] if single else out


@dataclass(frozen=True)
class Recognition:
    letter: str
    distance: float  # DTW cost of the chosen letter (normalised units; ~0.1 clean, ~0.6 unlike)
    best_shape: str  # the letter the shape alone matches best (without the prior)
    scores: dict[str, float]  # DTW cost per letter
    expected: str | None

    @property
    def shape_cost(self) -> float:
        """How well the trace matches any letter at all (the best shape's DTW cost)."""
        return self.scores[self.best_shape]

    @property
    def agrees(self) -> bool:
        """The shape backs the letter: it is among the 3 best of 26 (through the model the
        right letter's shape is the very best on under a quarter of rendered letters)."""
        mine = self.scores.get(self.letter, np.inf)
        return sum(1 for v in self.scores.values() if v < mine) < 3

    @property
    def as_expected(self) -> bool:
        return self.expected is not None and self.letter == self.expected


class LetterRecogniser:
    """Which capital a traced path is.

    `recognise(trace, expected=...)`: trace is (N, 2) in the writer's view (x to the
    writer's right, y down). Each candidate's cost is its DTW distance; the expected letter
    gets `prior_margin` subtracted (its neighbours in the alphabet half of it), so it wins
    unless another shape is clearly better, and only a shape that matches well (cost at
    most `strong_cost`) can overrule it. A foot cannot lift its pen, so a trace may
    start with a lead-in (moving to the letter's first point without a pause): the trace is
    also tried with `lead_in` shares of its length cut off, each cut costing `cut_cost` per
    unit share. Cutting the end (`lead_out`) is off by default: letters are split where the
    foot pauses after its last stroke, and a cut end turns R into P, Q into O, G into C.
    """

    def __init__(self, n: int = 32, prior_margin: float = 0.12, band_share: float = 0.25,
                 lead_in: tuple[float, ...] = (0.0, 0.15, 0.3, 0.45),
                 lead_out: tuple[float, ...] = (0.0,), cut_cost: float = 0.2, strong_cost: float = 0.45):
        self.n = n
        self.prior_margin = prior_margin
        self.strong_cost = strong_cost
        self.band = max(2, round(band_share * n))
        self.cuts = [(a, b) for a in lead_in for b in lead_out if a + b < 0.6]
        self.cut_cost = cut_cost
        self.letters = ALPHABET
        self.templates = np.stack([normalise(letter_path(c, 100.0), n) for c in self.letters])

    def shape_costs(self, trace: np.ndarray) -> np.ndarray:
        """(26,) DTW cost of the trace against every letter (lowest over the cuts)."""
        trace = np.asarray(trace, dtype=np.float64)
        trace = trace[np.isfinite(trace).all(axis=1)]
        if len(trace) < 3 or path_length(trace) <= 0:
            return np.full(len(self.letters), np.inf)
        dense = resample(trace, 4 * self.n)
        k = len(dense)
        queries = np.stack([normalise(dense[round(a * k): k - round(b * k)], self.n)
                            for a, b in self.cuts])
        penalty = self.cut_cost * np.array([a + b for a, b in self.cuts])
        costs = dtw_distances(queries, self.templates, band=self.band) + penalty[:, None]
        return costs.min(axis=0)

    def recognise(self, trace: np.ndarray, expected: str | None = None) -> Recognition:
        costs = self.shape_costs(trace)
        best = int(np.argmin(costs))
        i = best
        if expected is not None and expected in self.letters:
            k = self.letters.index(expected)
            adj = costs.copy()
            adj[k] -= self.prior_margin
            for nb in (k - 1, k + 1):
                if 0 <= nb < len(self.letters):
                    adj[nb] -= self.prior_margin / 2
            i = int(np.argmin(adj))
            # Another letter than the expected one needs evidence: a shape that matches it
            # well. When nothing matches well (a jittery or distorted trace), the letter
            # the person is most likely writing is the next one.
            if i != k and costs[i] > self.strong_cost:
                i = k
        return Recognition(letter=self.letters[i], distance=float(costs[i]),
                           best_shape=self.letters[best],
                           scores={c: float(v) for c, v in zip(self.letters, costs, strict=True)},
                           expected=expected)


# ---------------------------------------------------------------------------- alphabet decoding


@dataclass(frozen=True)
class DecodeParams:
    """The alphabet decoder's settings (defaults and their reasons: the ankle-ABC drill's
    config, `formcheck.drills.ankle_abcs.AnkleAbcsConfig`)."""

    smooth_s: float  # trace smoothing window (s)
    speed_s: float  # window over which the speed is smoothed before looking for its dips (s)
    cut_gap_s: float  # candidate cuts (speed dips) at least this far apart (s)
    cut_max_share: float  # a dip counts as a candidate cut only below this share of the tracing speed
    still_share: float  # slower than this share of the tracing speed the foot is still (pauses, cuts)
    active_share: float  # the ends of a piece slower than this share of the tracing speed are trimmed off
    cut_cost: float  # cost of ending a letter at a dip that is no pause at all (less the deeper the dip)
    cross_cost: float  # cost of a letter running through a full pause (more the deeper the dip)
    pause_s: float  # the foot kept still this long is a full pause
    gap_s: float  # no trace for this long (the foot was down): a certain cut
    min_letter_s: float  # a letter takes at least this long (s of movement)
    start_stop_units: float  # extra template path a letter's start and stop take, in time
    dur_tol: float  # a letter's duration within this factor of the expected costs nothing
    dur_weight: float  # cost per unit of log duration ratio beyond dur_tol
    junk_rate: float  # cost per second of movement (not still) explained as no letter (a move, a lift)
    skip_cost: float  # cost of a letter of the alphabet that is not in the trace
    max_letter_share: float  # the longest letter segment tried, in expected durations of the longest letter
    shape_weight: float  # weight of the shape match (how much better than the median letter) in a letter's cost
    letter_cost: float  # cost of every letter (so that cutting the trace into more pieces is no gain in itself)
    live_letter_cost: float  # the same while the set goes on (decoding the trace after the last letter shown)
    pace_min_s: float  # slowest and fastest paces tried (seconds per unit of template path)
    pace_max_s: float


@dataclass(frozen=True)
class DecodedLetter:
    """One letter of the decoded sequence: trace indices (first, last), times, recognition."""

    i0: int
    i1: int
    t0: float
    t1: float
    rec: Recognition


@dataclass
class _Segment:
    i0: int  # first index of the trimmed (moving) part
    i1: int  # last index of the trimmed part
    moving_s: float
    still_free_s: float  # time within it the foot tip was not still (a move's cost as no letter)
    costs: np.ndarray  # (26,) shape cost per letter
    rel: np.ndarray  # (26,) shape cost less the median over letters (the trace's own noise level)


_TEMPLATE_UNITS = np.array([path_length(letter_path(c)) for c in ALPHABET])


class AlphabetDecoder:
    """Splits a whole trace into consecutive letters of the alphabet and names them, jointly.

    The person writes A, B, C ... in order, so rather than first cutting the trace at
    pauses and then naming each piece, the decoder finds the best split of the trace into
    the expected sequence: a dynamic programme over candidate cut points (the dips of the
    foot tip's speed, deepest at the pauses between letters, shallower at corners), where
    each piece between two cuts is a letter, or no letter (a move, the lift), and a letter
    of the alphabet may be missing from the trace. A letter's cost is how much better its
    template fits than the median letter does (so a noisy camera, which raises every
    letter's DTW cost alike, does not make letters dear), how far its duration is from the
    one expected at the person's own pace (time spent per unit of template path, learned
    from the letters decoded so far) and how shallow the speed dip ending it is.

    decode() may be called again and again on a growing trace (live); piece costs are
    cached by their end times, so each call only matches the pieces that end at new cuts.
    """

    def __init__(self, params: DecodeParams, recogniser: LetterRecogniser | None = None):
        self.p = params
        self.recogniser = recogniser or LetterRecogniser()
        self._cache: dict[tuple[float, float], _Segment] = {}
        self._shapes: dict[bytes, np.ndarray] = {}  # shape costs by the points matched
        self.pace_s: float | None = None  # seconds per template unit, from decoded letters
        self._letter_cost = params.letter_cost

    def reset(self) -> None:
        self._cache.clear()
        self._shapes.clear()
        self.pace_s = None

    # -------------------------------------------------------------- signals

    def _speed(self, t: np.ndarray, xy: np.ndarray, height: float) -> tuple[np.ndarray, np.ndarray]:
        """(smoothed trace, its speed in letter heights per second). The speed is the
        distance between the mean position over the next half of speed_s and over the
        last half, over the time between them: the model's jitter at the toes averages
        out of both means, while the magnitude of a frame-to-frame velocity would add it up."""
        fps = (len(t) - 1) / max(1e-6, t[-1] - t[0])
        sm = _box(xy, max(1, round(self.p.smooth_s * fps) | 1))
        w = max(1, round(self.p.speed_s * fps))
        c = np.cumsum(np.vstack([np.zeros((1, 2)), np.pad(xy, ((w, w), (0, 0)), mode="edge")]), axis=0)
        n = len(xy)
        ahead = (c[w + 1 + np.arange(n) + w] - c[w + 1 + np.arange(n)]) / w  # mean of (i, i+w]
        behind = (c[w + np.arange(n)] - c[np.arange(n)]) / w  # mean of [i-w, i)
        speed = np.linalg.norm(ahead - behind, axis=1) / ((w + 1) / fps) / max(height, 1e-9)
        speed = np.where(np.isfinite(speed), speed, 0.0)
        return sm, _box(speed[:, None], max(1, round(0.5 * self.p.speed_s * fps) | 1))[:, 0]

    def _cuts(self, t: np.ndarray, v: np.ndarray, v_typ: float, final: bool) -> tuple[np.ndarray, np.ndarray]:
        """Candidate cut indices (sorted; first and last index included) and how much each
        looks like a pause between letters (1: the foot kept still for pause_s or longer;
        0: a brief dip of the speed, as at a corner)."""
        n = len(t)
        still = v < self.p.still_share * v_typ
        half = max(1, round(0.5 * self.p.cut_gap_s * (n - 1) / max(1e-6, t[-1] - t[0])))
        # The trace's start is where tracing began; its end, if the foot is not still there,
        # is the foot being lowered (or a letter under way), not a pause.
        cand: dict[int, float] = {0: 1.0}
        if final:
            cand[n - 1] = 1.0 if still[-1] else 0.0
        gaps = np.nonzero(np.diff(t) >= self.p.gap_s)[0]
        for g in gaps:  # the foot was down, or out of sight: a certain cut on both sides
            cand[int(g)] = 1.0
            cand[int(g) + 1] = 1.0
        # Still runs: a cut at the slowest moment of each, as much a pause as it is long.
        edges = np.diff(np.concatenate([[0], still.astype(np.int8), [0]]))
        for a, b in zip(np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0], strict=True):
            if not final and b >= n and t[-1] - t[a] < self.p.pause_s:
                continue  # just stopped: maybe only slowing for a corner
            i = int(a + np.argmin(v[a:b]))
            if min(abs(i - j) for j in cand) > half // 2:
                cand[i] = float(np.clip((t[b - 1] - t[a]) / self.p.pause_s, 0.0, 1.0))
        if len(cand) < 2:
            return np.array([0]), np.array([1.0])
        # Other dips of the speed (corners, a letter run into the next without a stop).
        pad = np.pad(v, half, mode="edge")
        win = np.lib.stride_tricks.sliding_window_view(pad, 2 * half + 1)
        is_min = (v <= win.min(axis=1) + 1e-12) & (v <= self.p.cut_max_share * v_typ) & ~still
        for i in np.nonzero(is_min)[0]:
            i = int(i)
            if not final and t[-1] - t[i] < 0.5 * self.p.cut_gap_s:
                continue  # the speed may dip lower still: not settled yet
            if min(abs(i - j) for j in cand) > half // 2:
                cand[i] = 0.0
        idx = np.array(sorted(cand))
        return idx, np.array([cand[int(i)] for i in idx])

    # -------------------------------------------------------------- pieces

    def _segment(self, a: int, b: int, t: np.ndarray, sm: np.ndarray, v: np.ndarray, v_typ: float
                 ) -> _Segment:
        key = (round(float(t[a]), 3), round(float(t[b]), 3))
        seg = self._cache.get(key)
        if seg is not None:
            return seg
        moving = np.nonzero(v[a:b + 1] > self.p.active_share * v_typ)[0]
        if len(moving) < 3:
            inf = np.full(len(ALPHABET), np.inf)
            seg = _Segment(a, b, 0.0, 0.0, inf, inf)
        else:
            i0, i1 = a + int(moving[0]), a + int(moving[-1])
            costs = self._shape_costs(sm[i0:i1 + 1])
            rel = costs - float(np.median(costs)) if np.isfinite(costs).all() else costs
            dt = np.diff(t[i0:i1 + 1])
            not_still = float(dt[v[i0:i1] >= self.p.still_share * v_typ].sum())
            seg = _Segment(i0, i1, float(t[i1] - t[i0]), not_still, costs, rel)
        self._cache[key] = seg
        return seg

    def _shape_costs(self, points: np.ndarray) -> np.ndarray:
        """The recogniser's costs for these exact points, remembered for the set (the DTW is
        most of a decode's cost): the set's final decode runs again at the session's end on
        the same trace, and live calls meet the pieces their predecessors trimmed the same
        way. The final decode trims on the whole set's speed, so it seldom meets a live one."""
        key = hashlib.blake2b(np.ascontiguousarray(points).tobytes(), digest_size=16).digest()
        costs = self._shapes.get(key)
        if costs is None:
            costs = self._shapes[key] = self.recogniser.shape_costs(points)
        return costs

    def _dur_cost(self, moving_s: float, pace: float, tol: float) -> np.ndarray:
        expected = pace * (_TEMPLATE_UNITS + self.p.start_stop_units)
        ratio = np.abs(np.log(max(moving_s, 1e-3) / expected))
        return self.p.dur_weight * np.maximum(0.0, ratio - np.log(tol))

    # -------------------------------------------------------------- decoding

    def decode(self, t: np.ndarray, xy: np.ndarray, height: float, final: bool = False,
               first: int = 0, start: int = 0) -> list[DecodedLetter]:
        """The best split of the trace (t (N,), writer-view points xy (N, 2) in pixels,
        letters about `height` pixels tall) from index `start` on into letters first,
        first+1, ... of the alphabet (the speed is judged against the whole trace).
        final=False (live): the trace is still growing, so its end may be part of a letter
        not finished yet; only letters before it are returned."""
        t = np.asarray(t, dtype=np.float64)
        xy = np.asarray(xy, dtype=np.float64)
        if len(t) - start < 5 or not (height > 0) or first >= len(ALPHABET):
            return []
        sm, v = self._speed(t, xy, height)
        v_typ = float(np.percentile(v, 75))
        if not v_typ > 0:
            return []
        self._letter_cost = self.p.letter_cost if final else self.p.live_letter_cost
        if final:
            # Pieces cached by live calls were smoothed and trimmed on the trace so far (its
            # end, its tracing speed); the whole set is judged on itself.
            self._cache.clear()
        cuts, pause = self._cuts(t[start:], v[start:], v_typ, final)
        cuts = cuts + start  # indices into the whole trace (piece costs are cached by time)
        pace = self.pace_s
        if final or pace is None:
            # The person's pace is not known (or is judged afresh on the whole set): the
            # split up to the last cut whose letters take the most consistent time per
            # unit of path wins.
            best = None
            for cand in np.geomspace(self.p.pace_min_s, self.p.pace_max_s, 10):
                cost, letters = self._run(t, sm, v, v_typ, cuts, pause, True, first, float(cand))
                if best is None or cost < best[0]:
                    best = (cost, letters, float(cand))
            assert best is not None
            if final:
                return best[1]
            pace = best[2]
        return self._run(t, sm, v, v_typ, cuts, pause, False, first, pace)[1]

    def learn_pace(self, letters: list[DecodedLetter]) -> None:
        """The person's pace from the letters decoded so far whose shape backs them (from 2
        on; None before: each live call then judges the pace afresh). A piece named only by
        its place in the alphabet may be the lead-in to the first letter, half a letter or
        two, and a pace learnt from it split (or merged) every letter after it, live."""
        letters = [lt for lt in letters if lt.rec.agrees]
        if len(letters) < 2:
            return
        self.pace_s = float(np.median([(lt.t1 - lt.t0) / (_TEMPLATE_UNITS[ALPHABET.index(lt.rec.letter)]
                                                          + self.p.start_stop_units) for lt in letters]))

    def _run(self, t, sm, v, v_typ, cuts, pause, final, first, pace) -> tuple[float, list[DecodedLetter]]:
        p = self.p
        end_cost = p.cut_cost * (1.0 - pause)  # ending a letter where the foot did not stop
        crossed = np.concatenate([[0.0], np.cumsum(pause)])  # pauses a letter runs through
        n_letters = len(ALPHABET)
        tol = p.dur_tol
        longest = pace * (float(_TEMPLATE_UNITS.max()) + p.start_stop_units)
        K = len(cuts)
        inf = np.inf
        D = np.full((K, n_letters + 1), inf)
        back: dict[tuple[int, int], tuple[int, int, str]] = {}
        D[0, first] = 0.0
        for b in range(1, K):
            for a in range(b - 1, -1, -1):
                if a < b - 1 and t[cuts[b]] - t[cuts[a]] > p.max_letter_share * longest:
                    break
                if not np.isfinite(D[a]).any():
                    continue
                seg = self._segment(int(cuts[a]), int(cuts[b]), t, sm, v, v_typ)
                # no letter: a move or the lift
                junk = D[a] + p.junk_rate * seg.still_free_s
                better = junk < D[b]
                for n in np.nonzero(better)[0]:
                    D[b, n] = junk[n]
                    back[(b, int(n))] = (a, int(n), "junk")
                if (seg.moving_s < p.min_letter_s or not np.isfinite(seg.rel).all()
                        or t[cuts[b]] - t[cuts[a]] > p.max_letter_share * longest):
                    continue
                inner = crossed[b] - crossed[a + 1]
                lc = (self._letter_cost + p.shape_weight * seg.rel + self._dur_cost(seg.moving_s, pace, tol) + end_cost[b]
                      + p.cross_cost * inner)
                cand = D[a, :n_letters] + lc
                better = cand < D[b, 1:]
                for n in np.nonzero(better)[0]:
                    D[b, n + 1] = cand[n]
                    back[(b, int(n) + 1)] = (a, int(n), "letter")
            for n in range(first, n_letters):  # a letter of the alphabet missing from the trace
                if D[b, n] + p.skip_cost < D[b, n + 1]:
                    D[b, n + 1] = D[b, n] + p.skip_cost
                    back[(b, n + 1)] = (b, n, "skip")
        end = K - 1
        if not final:
            # The trace goes on. A letter is taken as finished once the foot has stopped
            # after it (a full pause); what follows the last one may be a letter under way.
            # Letters run together without a stop are shown at the next stop.
            end = max([a for a in range(K) if pause[a] >= 0.99], default=0)
        n_end = int(np.argmin(D[end]))
        return float(D[end, n_end]), self._path(back, end, n_end, cuts, t, sm, v, v_typ, first)

    def _path(self, back, b, n, cuts, t, sm, v, v_typ, first) -> list[DecodedLetter]:
        out: list[DecodedLetter] = []
        while (b, n) in back:
            a, m, kind = back[(b, n)]
            if kind == "letter":
                seg = self._segment(int(cuts[a]), int(cuts[b]), t, sm, v, v_typ)
                out.append(self._letter(seg, t, n - 1))
            b, n = a, m
        out.reverse()
        prev = first - 1
        fixed = []
        for lt in out:  # the expected letter is the one after the letter before it
            k = ALPHABET.index(lt.rec.letter)
            fixed.append(DecodedLetter(lt.i0, lt.i1, lt.t0, lt.t1,
                                       dataclasses.replace(lt.rec, expected=ALPHABET[min(prev + 1, 25)])))
            prev = k
        return fixed

    def _letter(self, seg: _Segment, t: np.ndarray, k: int) -> DecodedLetter:
        costs = seg.costs
        rec = Recognition(letter=ALPHABET[k], distance=float(costs[k]),
                          best_shape=ALPHABET[int(np.argmin(costs))],
                          scores={c: float(x) for c, x in zip(ALPHABET, costs, strict=True)},
                          expected=ALPHABET[k])
        return DecodedLetter(seg.i0, seg.i1, float(t[seg.i0]), float(t[seg.i1]), rec)


def _box(xy: np.ndarray, k: int) -> np.ndarray:
    """Centred moving average along axis 0 (k odd), edges padded with the end values."""
    if k <= 1 or len(xy) < 3:
        return xy
    k = min(k, len(xy) - (1 - len(xy) % 2))
    pad = k // 2
    p = np.pad(xy, ((pad, pad), (0, 0)), mode="edge")
    c = np.cumsum(np.vstack([np.zeros((1, xy.shape[1])), p]), axis=0)
    return (c[k:] - c[:-k]) / k
