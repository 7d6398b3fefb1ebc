"""Trailing time windows over per-frame measurements, with robust statistics.

Pose landmarks jitter frame to frame (most at the feet) and drop out now and then, so the
drill analysers judge medians over the last fraction of a second rather than single
frames. Windows are in seconds, not frames, so they mean the same at 25, 30 or 60 fps.
"""

from __future__ import annotations

from collections import deque

import numpy as np


class TrailingWindow:
    """The values seen in the last `span_s` seconds (NaN values are skipped).

    Values may be scalars or fixed-size vectors; statistics are per component.
    """

    def __init__(self, span_s: float):
        self.span_s = span_s
        self._t: deque[float] = deque()
        self._v: deque[np.ndarray] = deque()

    def add(self, t: float, value: float | np.ndarray) -> None:
        v = np.atleast_1d(np.asarray(value, dtype=np.float64))
        if np.isfinite(v).all():
            self._t.append(t)
            self._v.append(v)
        self.trim(t)

    def trim(self, t: float) -> None:
        while self._t and t - self._t[0] > self.span_s:
            self._t.popleft()
            self._v.popleft()

    def clear(self) -> None:
        self._t.clear()
        self._v.clear()

    def __len__(self) -> int:
        return len(self._t)

    @property
    def times(self) -> np.ndarray:
        return np.fromiter(self._t, dtype=np.float64, count=len(self._t))

    def values(self) -> np.ndarray:
        """(n, d) array of the values in the window."""
        if not self._v:
            return np.empty((0, 0))
        return np.stack(self._v)

    def covered_s(self) -> float:
        """Time between the oldest and newest value."""
        return self._t[-1] - self._t[0] if self._t else 0.0

    def median(self) -> np.ndarray:
        """Per-component median (NaN when empty)."""
        if not self._v:
            return np.array([np.nan])
        return np.median(self.values(), axis=0)

    def mean(self) -> np.ndarray:
        if not self._v:
            return np.array([np.nan])
        return self.values().mean(axis=0)

    def latest(self) -> np.ndarray:
        return self._v[-1] if self._v else np.array([np.nan])
