"""Stroke templates of the capital letters A-Z, as a person draws them with the foot.

Each letter is a list of strokes in a unit box (x to the writer's right, y up), each
stroke a polyline in the order and direction people usually write it (curves as short
chords). `letter_path` joins the strokes, including the moves between them: a foot
cannot lift a pen, so those moves are traced too.
"""

from __future__ import annotations

import string

import numpy as np


def _arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 12) -> list:
    a = np.radians(np.linspace(a0, a1, n))
    return list(zip(cx + rx * np.cos(a), cy + ry * np.sin(a), strict=True))


def _bump(x0: float, y_top: float, y_bot: float, width: float) -> list:
    """A bowl bulging right from (x0, y_top) down to (x0, y_bot) (B, D, P, R)."""
    r = (y_top - y_bot) / 2
    cy = (y_top + y_bot) / 2
    xs = x0 + width - r
    return [(x0, y_top), (xs, y_top)] + _arc(xs, cy, r, r, 90, -90, 10)[1:-1] + [(xs, y_bot), (x0, y_bot)]


STROKES: dict[str, list[list[tuple[float, float]]]] = {
    "A": [[(0.0, 0.0), (0.5, 1.0), (1.0, 0.0)], [(0.22, 0.42), (0.78, 0.42)]],
    "B": [[(0.0, 0.0), (0.0, 1.0)], _bump(0.0, 1.0, 0.52, 0.72), _bump(0.0, 0.52, 0.0, 0.85)],
    "C": [_arc(0.55, 0.5, 0.5, 0.5, 45, 315, 16)],
    "D": [[(0.0, 0.0), (0.0, 1.0)], _bump(0.0, 1.0, 0.0, 0.95)],
    "E": [[(1.0, 1.0), (0.0, 1.0), (0.0, 0.0), (1.0, 0.0)], [(0.0, 0.5), (0.75, 0.5)]],
    "F": [[(1.0, 1.0), (0.0, 1.0), (0.0, 0.0)], [(0.0, 0.5), (0.75, 0.5)]],
    "G": [_arc(0.55, 0.5, 0.5, 0.5, 45, 340, 16) + [(1.0, 0.45), (0.6, 0.45)]],
    "H": [[(0.0, 1.0), (0.0, 0.0)], [(1.0, 1.0), (1.0, 0.0)], [(0.0, 0.5), (1.0, 0.5)]],
    "I": [[(0.2, 1.0), (0.8, 1.0)], [(0.5, 1.0), (0.5, 0.0)], [(0.2, 0.0), (0.8, 0.0)]],
    "J": [[(0.85, 1.0), (0.85, 0.3)] + _arc(0.45, 0.3, 0.4, 0.3, 0, -180, 10)[1:]],
    "K": [[(0.0, 1.0), (0.0, 0.0)], [(1.0, 1.0), (0.0, 0.42), (1.0, 0.0)]],
    "L": [[(0.0, 1.0), (0.0, 0.0), (0.9, 0.0)]],
    "M": [[(0.0, 0.0), (0.0, 1.0), (0.5, 0.35), (1.0, 1.0), (1.0, 0.0)]],
    "N": [[(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)]],
    "O": [_arc(0.5, 0.5, 0.5, 0.5, 90, 450, 20)],
    "P": [[(0.0, 0.0), (0.0, 1.0)], _bump(0.0, 1.0, 0.45, 0.8)],
    "Q": [_arc(0.5, 0.5, 0.5, 0.5, 90, 450, 20), [(0.6, 0.3), (1.0, -0.05)]],
    "R": [[(0.0, 0.0), (0.0, 1.0)], _bump(0.0, 1.0, 0.48, 0.8), [(0.35, 0.48), (0.95, 0.0)]],
    "S": [_arc(0.5, 0.75, 0.45, 0.25, 10, 270, 10) + _arc(0.5, 0.25, 0.45, 0.25, 90, -170, 10)[1:]],
    "T": [[(0.0, 1.0), (1.0, 1.0)], [(0.5, 1.0), (0.5, 0.0)]],
    "U": [[(0.0, 1.0), (0.0, 0.35)] + _arc(0.5, 0.35, 0.5, 0.35, 180, 360, 10)[1:] + [(1.0, 1.0)]],
    "V": [[(0.0, 1.0), (0.5, 0.0), (1.0, 1.0)]],
    "W": [[(0.0, 1.0), (0.25, 0.0), (0.5, 0.65), (0.75, 0.0), (1.0, 1.0)]],
    "X": [[(0.0, 1.0), (1.0, 0.0)], [(1.0, 1.0), (0.0, 0.0)]],
    "Y": [[(0.0, 1.0), (0.5, 0.5), (1.0, 1.0)], [(0.5, 0.5), (0.5, 0.0)]],
    "Z": [[(0.0, 1.0), (1.0, 1.0), (0.0, 0.0), (1.0, 0.0)]],
}
assert set(STROKES) == set(string.ascii_uppercase)


def letter_path(letter: str) -> np.ndarray:
    """(N,2) polyline of the whole letter in its unit box, strokes joined in order."""
    pts: list[tuple[float, float]] = []
    for stroke in STROKES[letter.upper()]:
        pts.extend(stroke)
    return np.asarray(pts, float)


def path_length(path: np.ndarray) -> float:
    return float(np.sum(np.linalg.norm(np.diff(path, axis=0), axis=1)))


def sample_path(path: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Points at fractions s (0..1) of the path's length."""
    seg = np.linalg.norm(np.diff(path, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    d = np.clip(s, 0, 1) * cum[-1]
    return np.stack([np.interp(d, cum, path[:, 0]), np.interp(d, cum, path[:, 1])], -1)
