"""Taking back good-form time that a hold timer counted before a fault was recognised.

A fault is recognised a little after it starts: the measurements are medians over a
fraction of a second, and a movement shows in a trend only once it has some speed. The
HoldTimer (drills/blocks.py) counts live, frame by frame, so it has already counted that
stretch as good form. This ledger remembers the last few seconds of the timer's good-time
increments, and when the clock pauses for a fault whose onset is known to lie earlier, it
takes those back: the hold's total then stops where the fault really began.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from formcheck.drills.blocks import HoldTimer


@dataclass
class GoodTimeLedger:
    keep_s: float = 2.0
    _inc: deque[tuple[float, float]] = field(default_factory=deque, init=False)

    def record(self, t: float, added_s: float) -> None:
        """Note that the timer added `added_s` of good time on the frame at t."""
        if added_s > 0:
            self._inc.append((t, added_s))
        while self._inc and t - self._inc[0][0] > self.keep_s:
            self._inc.popleft()

    def take_back(self, timer: HoldTimer, since_t: float) -> float:
        """Remove from the timer the good time it counted on frames after `since_t`
        (within the remembered window). Returns the seconds taken back."""
        back = 0.0
        while self._inc and self._inc[-1][0] > since_t:
            back += self._inc.pop()[1]
        timer.good_s = max(0.0, timer.good_s - back)
        return back

    def clear(self) -> None:
        self._inc.clear()
