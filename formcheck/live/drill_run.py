"""One drill in the live window: its sets in prescription order, each going through the
set-up check, a countdown, the active set, and a rest.

    card (routine only) -> setup -> countdown -> active -> rest -> setup -> ... -> done

Two analysers watch the same frames (those of countdowns and active sets; never cards,
rests or pauses):
- a *set analyser*, new for each set and told its side, drives the screen: its counter
  and hold timer say when the set is complete, its cues go through the Coach;
- the *session analyser*, one for the whole drill, is what the report and the history
  store, exactly as `formcheck analyze` would on the same frames. The gaps left by rests
  and pauses are what a video with pauses looks like to it.

Keys (formcheck.live.keys): space pauses (and, on a card or a rest, goes on), n ends the
set, l/r switch the leg, s skips a rest (in the routine, the rest of the drill).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from formcheck.coach import Coach, CoachConfig
from formcheck.cues import SETUP_CODES
from formcheck.drills.base import Analyser, Cue, LiveStatus
from formcheck.live.keys import KEY_HELP, ROUTINE_KEY_HELP, Action
from formcheck.live.screens import draw_card, draw_countdown, draw_get_ready, draw_message, draw_rest
from formcheck.live.setup import SetupCheck, SetupConfig
from formcheck.pose.frame import PoseFrame
from formcheck.report.session import SessionResult, SourceInfo
from formcheck.routine import SIDES, DrillPlan
from formcheck.voice import Voice

log = logging.getLogger(__name__)

Phase = Literal["card", "setup", "active", "rest", "done"]


@dataclass(frozen=True)
class LiveSettings:
    card_s: float = 30.0
    """An instruction card moves on by itself after this long (space starts at once): the
    runner may already be standing back from the laptop."""
    done_s: float = 2.5
    """'Well done' stays up this long before the drill ends."""
    rest_s: float | None = None
    """Rest between sets; None takes the drill's own (routine.py)."""
    setup: SetupConfig = field(default_factory=SetupConfig)
    coach: CoachConfig = field(default_factory=CoachConfig)


@dataclass
class SetLog:
    """One set as the live screen saw it."""

    side: str | None
    number: int
    t_s: float
    t_end_s: float | None = None
    completed: bool = False  # reached the prescription (False: ended early with n, or quit)
    count: int | None = None
    hold_s: float | None = None


class SideSchedule:
    """Which leg comes next, and how many sets each has done, following the plan's order
    (alternate legs, or all sets on one leg then the other), whatever keys were pressed."""

    def __init__(self, plan: DrillPlan, sets: int, first: str | None):
        self.plan, self.sets = plan, sets
        self.sides: tuple[str | None, ...] = SIDES if plan.sided else (None,)
        self.done: dict[str | None, int] = dict.fromkeys(self.sides, 0)
        self.first = first if (plan.sided and first in SIDES) else self.sides[0]

    def remaining(self, side: str | None) -> int:
        return max(0, self.sets - self.done.get(side, 0))

    @property
    def finished(self) -> bool:
        return all(self.remaining(s) == 0 for s in self.sides)

    def next_side(self, last: str | None) -> str | None:
        """The side of the next set after a set on `last` (None before the first)."""
        if last is None or not self.plan.sided:
            order = [self.first] + [s for s in self.sides if s != self.first]
            return next((s for s in order if self.remaining(s)), self.first)
        other = "right" if last == "left" else "left"
        prefer = [other, last] if self.plan.order == "alternate" else [last, other]
        return next((s for s in prefer if self.remaining(s)), last)

    def label(self, side: str | None) -> str:
        n = min(self.done.get(side, 0) + 1, self.sets)
        text = f"Set {n} of {self.sets}"
        if side:
            text += " - " + self.plan.side_words.format(side=side)
        return text


class DrillRun:
    """The live controller of one drill. Feed `on_frame()` every displayed frame and
    `on_action()` every key; `finished` turns True when all sets are done."""

    def __init__(self, plan: DrillPlan, make_analyser: Callable[[str | None], Analyser],
                 session_analyser: Analyser, *, overlay, side: str | None = None,
                 sets: int | None = None, voice: Voice | None = None, show_card: bool = False,
                 routine: bool = False, settings: LiveSettings = LiveSettings()):
        self.plan = plan
        self.make_analyser = make_analyser
        self.session = session_analyser
        self.overlay = overlay
        self.voice = voice
        self.routine = routine
        self.settings = settings
        self.schedule = SideSchedule(plan, sets or plan.sets, side)
        self.side = self.schedule.next_side(None)
        self.rest_s = settings.rest_s if settings.rest_s is not None else plan.rest_s
        cls = type(session_analyser)
        self.setup = SetupCheck(cls.views, cls.required_parts, session_analyser.cfg, settings.setup)
        self.coach = Coach(settings.coach)
        self.set_analyser: Analyser | None = None
        self.sets: list[SetLog] = []
        self.current: SetLog | None = None
        self.phase: Phase = "card" if show_card else "setup"
        self.paused = False
        self.finished = False
        self.skipped = False
        self.frames_fed = 0
        self.frames_detected = 0
        self.first_t: float | None = None
        self.last_t: float | None = None
        self._phase_t: float | None = None  # when the card / rest / done screen started
        self._rest_left = 0.0
        self._set_count = 0
        self._set_best_hold = 0.0
        self._prev_t: float | None = None
        self._done_text = ""
        self._last_status = LiveStatus(drill=plan.drill)

    @property
    def keys_help(self) -> str:
        return ROUTINE_KEY_HELP if self.routine else KEY_HELP

    # -- keys --------------------------------------------------------------------------------

    def on_action(self, action: Action) -> None:
        t = self._prev_t if self._prev_t is not None else 0.0
        if self.phase == "done":
            return
        if action is Action.PAUSE:
            if self.phase in ("card", "rest"):
                self._begin_set(t)  # on a card or a rest, space means "go on"
            else:
                self._toggle_pause()
        elif action is Action.NEXT_SET:
            if self.phase in ("card", "rest"):
                self._begin_set(t)
            else:
                self._end_set(t, completed=False)
        elif action in (Action.SIDE_LEFT, Action.SIDE_RIGHT):
            self._switch_side("left" if action is Action.SIDE_LEFT else "right", t)
        elif action is Action.SKIP:
            if self.phase == "rest":
                self._begin_set(t)
            elif self.routine:
                self._close_set(t, completed=False)
                self.skipped = True
                self.finished = True

    def _toggle_pause(self) -> None:
        self.paused = not self.paused
        if not self.paused and self.phase in ("setup", "active"):
            # Back from a pause: the person has to get into position again.
            self.phase = "setup"
            self.setup.restart()
        self.coach.reset()

    def _switch_side(self, side: str, t: float) -> None:
        if not self.plan.sided or side == self.side:
            return
        if self.phase in ("setup", "active"):
            self._close_set(t, completed=False, record="never")
            self.side = side
            self._begin_set(t)
        else:
            self.side = side

    # -- sets --------------------------------------------------------------------------------

    def _begin_set(self, t: float) -> None:
        self.phase = "setup"
        self.paused = False
        self.setup.restart()
        self.coach.reset()
        self.set_analyser = self.make_analyser(self.side)
        self._set_count, self._set_best_hold = 0, 0.0
        self.current = SetLog(self.side, self.schedule.done.get(self.side, 0) + 1, t)

    def _close_set(self, t: float, completed: bool, record: str = "if_begun") -> None:
        """Close the current set. record: "always" (it counts as done: completed, or ended
        with n), "if_begun" (quit, skip: only if it got under way), "never" (switched legs)."""
        cur, self.current = self.current, None
        if cur is None:
            return
        st = self.set_analyser.status() if self.set_analyser is not None else None
        cur.t_end_s, cur.completed = t, completed
        if st is not None:
            cur.count = self._set_count if self.plan.reps is not None else None
            cur.hold_s = max(self._set_best_hold, st.hold_s or 0.0) if self.plan.hold_s is not None else None
        began = self.set_analyser is not None and self.set_analyser.frames_seen > 0
        if record == "always" or (record == "if_begun" and began):
            self.sets.append(cur)
            self.schedule.done[cur.side] = self.schedule.done.get(cur.side, 0) + 1
        self.set_analyser = None

    def _end_set(self, t: float, completed: bool) -> None:
        cur = self.current
        self._close_set(t, completed, record="always")
        if cur is None:
            return
        self._done_text = f"Set {cur.number} of {self.schedule.sets}" + (
            f" - {self.plan.side_words.format(side=cur.side)}" if cur.side else "") + " done"
        if self.schedule.finished:
            self.phase, self._phase_t = "done", t
            return
        self.side = self.schedule.next_side(cur.side)
        self.phase, self._phase_t = "rest", t
        self._rest_left = self.rest_s

    def _set_complete(self, st: LiveStatus) -> bool:
        """The set reached its prescription: enough counts (hops, reaches, letters) seen by
        the set analyser, or a hold with enough good-form time (still running, or ended)."""
        if self.plan.hold_s is not None:
            target = st.hold_target_s or self.plan.hold_s
            held = max(self._set_best_hold, st.hold_s or 0.0)
            return held >= target - 1e-6
        if self.plan.reps is not None:
            return self._set_count >= (st.count_target or self.plan.reps)
        return False

    # -- frames ------------------------------------------------------------------------------

    def _feed(self, pose: PoseFrame) -> None:
        if self.set_analyser is not None:
            for e in self.set_analyser.update(pose):
                # Counted here rather than read from the analyser's status: an analyser
                # may close its own set on the count that completes it (status back to 0).
                if e.kind == "count":
                    self._set_count += 1
                elif e.kind == "hold" and e.value is not None:
                    self._set_best_hold = max(self._set_best_hold, float(e.value))
        before = self.session.frames_seen
        self.session.update(pose)
        if self.session.frames_seen > before:
            self.frames_fed += 1
            self.frames_detected += pose.detected
            if self.first_t is None:
                self.first_t = pose.t_s
            self.last_t = pose.t_s

    def on_frame(self, t: float, pose: PoseFrame, scene: np.ndarray) -> np.ndarray:
        """Advance on one frame (t: the source's clock) and return the picture to show."""
        dt = 0.0 if self._prev_t is None else max(0.0, t - self._prev_t)
        self._prev_t = t
        if self._phase_t is None:
            self._phase_t = t
        status = LiveStatus(drill=self.plan.drill, reading=True)
        overlay_banner: str | None = None

        if self.phase == "card" and t - self._phase_t >= self.settings.card_s:
            self._begin_set(t)
        elif self.phase == "rest" and not self.paused:
            self._rest_left -= dt
            if self._rest_left <= 0:
                self._begin_set(t)
        elif self.phase == "done" and t - self._phase_t >= self.settings.done_s:
            self.finished = True

        if self.phase == "setup" and self.set_analyser is None:
            self._begin_set(t)

        countdown: int | None = None
        if self.phase == "setup" and not self.paused:
            ss = self.setup.update(pose)
            if ss.phase == "countdown":
                countdown = ss.countdown
                self._feed(pose)  # baselines (a level standing pose) come from the countdown
            elif ss.phase == "go":
                self.phase = "active"
                self.coach.reset()
            elif ss.message:
                # A set-up problem is drawn as a set-up cue (big, amber) by the shared banner;
                # "too far" is not one of SPEC's cue codes, so it borrows body_not_visible's look.
                code = ss.code if ss.code in SETUP_CODES else "body_not_visible"
                status.cues = [Cue(code, ss.message)]
                overlay_banner = ss.message
                # Spoken too (with --voice): the person is standing back from the screen. The
                # coach paces it like any cue: only if it persists, never over and over.
                said = self.coach.update(t, status.cues).say
                if said and self.voice is not None:
                    self.voice.say(said)

        if self.phase == "active" and not self.paused:
            self._feed(pose)
            st = self.set_analyser.status() if self.set_analyser is not None else status
            out = self.coach.update(t, st.cues)
            st.cues = [out.cue] if out.cue is not None else []
            if out.say and self.voice is not None:
                self.voice.say(out.say)
            if self.plan.reps is not None:
                # This set's count as the screen tracks it (see _feed), against its target.
                st.count = self._set_count
                st.count_target = st.count_target or self.plan.reps
            if st.hold_target_s is None and self.plan.hold_s is not None:
                st.hold_target_s = self.plan.hold_s
            status = st
            if self.set_analyser is not None and self._set_complete(st):
                self._end_set(t, completed=True)
        elif self.phase == "active":
            status = self._last_status

        if self.phase == "card":
            # The card covers the picture: no skeleton or figures under it, only the mirroring.
            pose = PoseFrame.empty(t, pose.width, pose.height, pose.index, pose.luma)
        else:
            status.side = self.side
            status.set_index = min(self.schedule.done.get(self.side, 0) + 1, self.schedule.sets)
            status.sets_target = self.schedule.sets
        self._last_status = status
        image = self.overlay.annotate(scene, pose, status)
        return self._draw_screen(image, t, countdown, overlay_banner)

    def _draw_screen(self, image: np.ndarray, t: float, countdown: int | None, banner: str | None) -> np.ndarray:
        label = self.schedule.label(self.side)
        if self.phase == "card":
            left = max(0.0, self.settings.card_s - (t - (self._phase_t or t)))
            footer = f"space: start   s: skip this drill   (starts by itself in {math.ceil(left)} s)" \
                if self.routine else f"space: start   (starts by itself in {math.ceil(left)} s)"
            return draw_card(image, self.plan.card()[0], self.plan.card()[1:], footer)
        if self.phase == "rest":
            return draw_rest(image, self._rest_left, self._done_text, label)
        if self.phase == "done":
            done = sum(1 for s in self.sets if s.completed)
            return draw_message(image, "Well done", [(f"{self.plan.title}: {done} of {len(self.sets)} sets "
                                                     "completed")])
        if self.paused:
            return draw_message(image, "Paused", ["space: resume   q: quit (what you did is saved)"])
        if countdown is not None:
            return draw_countdown(image, countdown, label)
        if self.phase == "setup":
            return draw_get_ready(image, f"Get ready: {label}" if not banner else label)
        return image

    # -- the end -----------------------------------------------------------------------------

    def finish(self) -> None:
        """Close the open set (quit, Ctrl-C, camera lost) and the session analyser."""
        if self.current is not None:
            self._close_set(self._prev_t if self._prev_t is not None else 0.0, completed=False)
        self.session.finish()

    @property
    def complete(self) -> bool:
        """Every prescribed set was done (reached its target, or ended with n)."""
        return self.phase == "done" and not self.skipped

    def result(self, source: SourceInfo, model: str, interrupted: bool) -> SessionResult | None:
        """The drill's session (what `analyze` would report on the same frames), or None
        when no frame was analysed."""
        if self.frames_fed == 0:
            return None
        duration = (self.last_t or 0.0) - (self.first_t or 0.0)
        info = SourceInfo(source.kind, source.path, source.fps, self.frames_fed, duration,
                          source.width, source.height)
        return SessionResult(
            drill=self.plan.drill, source=info, model=model,
            pose_coverage=self.frames_detected / self.frames_fed, summary=self.session.summary(),
            events=list(self.session.events), interrupted=interrupted,
            extra={"live_sets": [vars(s) for s in self.sets], "skipped": self.skipped,
                   "complete": self.complete})
