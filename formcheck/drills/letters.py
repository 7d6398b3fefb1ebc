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

import itertools
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


def dtw_distances(query: np.ndarray, templates: np.ndarray, band: int | None = None,
                  direction_weight: float = 0.5) -> np.ndarray:
    """DTW cost of normalised paths against templates, all pairs at once.

    query (n, 2) or (Q, n, 2); templates (T, m, 2). The local cost is the point distance
    plus `direction_weight` times the distance between unit tangents (so an O drawn the
    wrong way round is not an O). The DP runs along anti-diagonals, vectorised over
    queries, templates and cells; `band` limits |i - j| (Sakoe-Chiba).
    Returns (T,) or (Q, T) costs divided by the path length n.
    """
    single = query.ndim == 2
    q = query[None] if single else query
    n, m = q.shape[1], templates.shape[1]
    cost = np.linalg.norm(q[:, None, :, None, :] - templates[None, :, None, :, :], axis=-1)
    if direction_weight:
        dq, dt = _directions(q), _directions(templates)
        cost = cost + direction_weight * np.linalg.norm(
            dq[:, None, :, None, :] - dt[None, :, None, :, :], axis=-1)
    if band is not None:
        i, j = np.ogrid[:n, :m]
        cost = np.where(np.abs(i - j * (n / m)) > band, np.inf, cost)
    D = np.full(cost.shape[:2] + (n + 1, m + 1), np.inf)
    D[..., 0, 0] = 0.0
    for k in range(2, n + m + 1):  # cells with i + j == k (1-based)
        i = np.arange(max(1, k - m), min(n, k - 1) + 1)
        j = k - i
        best = np.minimum(np.minimum(D[..., i - 1, j - 1], D[..., i - 1, j]), D[..., i, j - 1])
        D[..., i, j] = cost[..., i - 1, j - 1] + best
    out = D[..., n, m] / n
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
