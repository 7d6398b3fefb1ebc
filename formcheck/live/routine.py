"""The guided routine in the live window: the chosen drills one after another, each
introduced by its instruction card, each saved the moment it ends.

It is a controller like DrillRun (formcheck.live.loop.Controller): it forwards frames and
keys to the current drill and, when that drill is finished (all its sets, or skipped with
s), hands it to `on_drill_end` (which saves it to the history) and starts the next.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from formcheck.live.drill_run import DrillRun
from formcheck.live.keys import Action
from formcheck.pose.frame import PoseFrame


class RoutineRun:
    def __init__(self, make_runs: list[Callable[[], DrillRun]], on_drill_end: Callable[[DrillRun], None]):
        if not make_runs:
            raise ValueError("a routine needs at least one drill")
        self._make_runs = list(make_runs)
        self.on_drill_end = on_drill_end
        self.runs: list[DrillRun] = []
        self.ended: list[DrillRun] = []  # handed to on_drill_end
        self.finished = False
        self._next()

    def _next(self) -> None:
        if len(self.runs) < len(self._make_runs):
            self.runs.append(self._make_runs[len(self.runs)]())
        else:
            self.finished = True

    @property
    def current(self) -> DrillRun:
        return self.runs[-1]

    @property
    def keys_help(self) -> str:
        return self.current.keys_help

    def on_action(self, action: Action) -> None:
        if not self.finished:
            self.current.on_action(action)
            self._advance()

    def on_frame(self, t: float, pose: PoseFrame, scene: np.ndarray) -> np.ndarray:
        image = self.current.on_frame(t, pose, scene)
        self._advance()
        return image

    def _advance(self) -> None:
        run = self.current
        if run.finished and run not in self.ended:
            run.finish()
            self.ended.append(run)
            self.on_drill_end(run)
            self._next()
