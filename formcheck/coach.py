"""Cue selection and pacing: of all the cues an analyser has active, which one the runner
sees now, and when (if ever) it is spoken.

A person mid-drill glances at the screen for a moment, so the coach shows one cue at a
time, the most important first (formcheck.cues.CUE_PRIORITY), and keeps it up long
enough to be read even if the fault has just cleared. The voice says the shown cue only
when the fault persists, never two things at once, and not the same thing over and over.

The coach is pure, like the analysers: it is fed timestamps (the source's clock) and the
active cues, and returns what to show and what to say. The Voice sink does the speaking.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from formcheck.cues import SETUP_CODES, cue_rank
from formcheck.drills.base import Cue


@dataclass(frozen=True)
class CoachConfig:
    min_display_s: float = 1.5
    """A cue stays on screen at least this long, even after its fault cleared: a shorter
    banner cannot be read by someone looking up from a drill."""
    speak_after_s: float = 1.0
    """A cue is spoken only once it has been on screen this long: a fault corrected at a
    glance needs no voice."""
    repeat_s: float = 10.0
    """The same cue (code and side) is not spoken again within this time, even if it
    persists or comes back: nagging makes people switch the voice off."""
    voice_gap_s: float = 3.0
    """At least this long between any two utterances, so one never talks over another."""


def _key(cue: Cue) -> tuple[str, str | None]:
    return (cue.code, cue.side)


@dataclass(frozen=True)
class CoachOutput:
    cue: Cue | None  # the one cue to show now (None: nothing to correct)
    say: str | None = None  # words to speak now, if any
    active: tuple[Cue, ...] = ()  # every active cue, most important first


@dataclass
class Coach:
    """Feed `update(t, cues)` once per analysed frame, in time order."""

    cfg: CoachConfig = field(default_factory=CoachConfig)

    shown: Cue | None = field(default=None, init=False)
    shown_since: float = field(default=0.0, init=False)
    _last_said: dict[tuple[str, str | None], float] = field(default_factory=dict, init=False)
    _last_voice_t: float | None = field(default=None, init=False)

    def reset(self) -> None:
        """Forget the shown cue (a new set, a pause): the next update starts afresh.
        What was spoken is remembered, so a new set does not repeat the last cue at once."""
        self.shown = None

    def update(self, t: float, cues: list[Cue] | tuple[Cue, ...]) -> CoachOutput:
        active = sorted(cues, key=lambda c: cue_rank(c.code))
        active_keys = {_key(c) for c in active}
        top = active[0] if active else None
        shown = self.shown
        still_on = shown is not None and _key(shown) in active_keys
        held_long_enough = shown is not None and t - self.shown_since >= self.cfg.min_display_s

        if shown is None:
            self._show(top, t)
        elif top is not None and top.code in SETUP_CODES and shown.code not in SETUP_CODES:
            # Out of frame, wrong view, too dark: nothing else can be measured, so a set-up
            # cue replaces a form cue at once.
            self._show(top, t)
        elif held_long_enough:
            if not still_on or top is not None and cue_rank(top.code) < cue_rank(shown.code):
                self._show(top, t)
        elif still_on:
            # Keep the words in step with the analyser (e.g. "your feet" -> "your head").
            for c in active:
                if _key(c) == _key(shown) and c.message != shown.message:
                    self.shown = c

        return CoachOutput(self.shown, self._maybe_say(t, active_keys), tuple(active))

    def _show(self, cue: Cue | None, t: float) -> None:
        self.shown = cue
        self.shown_since = t

    def _maybe_say(self, t: float, active_keys: set[tuple[str, str | None]]) -> str | None:
        cue = self.shown
        if cue is None or _key(cue) not in active_keys:
            return None  # never speak a cue whose fault has already cleared
        if t - self.shown_since < self.cfg.speak_after_s:
            return None
        if self._last_voice_t is not None and t - self._last_voice_t < self.cfg.voice_gap_s:
            return None
        last = self._last_said.get(_key(cue))
        if last is not None and t - last < self.cfg.repeat_s:
            return None
        self._last_said[_key(cue)] = t
        self._last_voice_t = t
        return cue.message
