"""Trailing time windows over per-frame measurements, with robust statistics.

Pose landmarks jitter frame to frame (most at the feet) and drop out now and then, so the
drill analysers judge medians over the last fraction of a second rather than single
frames. Windows are in seconds, not frames, so they mean the same at 25, 30 or 60 fps.
"""

from __future__ import annotations

import numpy as np


class TrailingWindow:
    """The values seen in the last `span_s` seconds (NaN values are skipped).

    Values may be scalars or fixed-size vectors; statistics are per component. Stored in
    one growing numpy buffer (old rows dropped by moving a start index, compacted now and
    then), so a median costs no list-to-array conversion: analysers call several per frame.
    """

    def __init__(self, span_s: float):
        self.span_s = span_s
        self._t = np.empty(0)
        self._v = np.empty((0, 0))
        self._start = 0
        self._end = 0

    def add(self, t: float, value: float | np.ndarray) -> None:
        v = np.atleast_1d(np.asarray(value, dtype=np.float64)).ravel()
        if np.isfinite(v).all():
            if self._v.shape[1] != v.size:
                self._t, self._v = np.empty(64), np.empty((64, v.size))
                self._start = self._end = 0
            if self._end == len(self._t):
                n = self._end - self._start
                cap = max(64, 2 * n)
                t_new, v_new = np.empty(cap), np.empty((cap, v.size))
                t_new[:n], v_new[:n] = self._t[self._start:self._end], self._v[self._start:self._end]
                self._t, self._v, self._start, self._end = t_new, v_new, 0, n
            self._t[self._end] = t
            self._v[self._end] = v
            self._end += 1
        self.trim(t)

    def trim(self, t: float) -> None:
        while self._start < self._end and t - self._t[self._start] > self.span_s:
            self._start += 1

    def clear(self) -> None:
        self._start = self._end = 0

    def __len__(self) -> int:
        return self._end - self._start

    @property
    def times(self) -> np.ndarray:
        return self._t[self._start:self._end]

    def values(self) -> np.ndarray:
        """(n, d) view of the values in the window."""
        return self._v[self._start:self._end]

    def covered_s(self) -> float:
        """Time between the oldest and newest value."""
        return float(self._t[self._end - 1] - self._t[self._start]) if len(self) else 0.0

    def median(self) -> np.ndarray:
        """Per-component median (NaN when empty)."""
        if not len(self):
            return np.array([np.nan])
        return np.median(self.values(), axis=0)

    def mean(self) -> np.ndarray:
        if not len(self):
            return np.array([np.nan])
        return self.values().mean(axis=0)

    def latest(self) -> np.ndarray:
        return self._v[self._end - 1].copy() if len(self) else np.array([np.nan])
