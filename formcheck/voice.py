"""Spoken cues through a local text-to-speech program, off unless asked for.

The engine runs as a child process, so speaking never blocks the frame loop: `say()`
starts it and returns at once. One utterance at a time: while one is still being spoken
(or within `cooldown_s` of the last), further ones are skipped rather than queued, since
a cue spoken late is worse than one not spoken. When no engine is installed, or it fails
to start, speech is silently skipped (logged at debug level): formcheck works the same
without sound.

Engines tried in order: espeak-ng and espeak (Linux, `apt install espeak-ng`), `say`
(macOS), `spd-say` (speech-dispatcher). FORMCHECK_TTS may name another command; the
text is appended as its last argument.
"""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from typing import Self

log = logging.getLogger(__name__)

# Words per minute: a little slower than espeak's default 175, clearer over a fan or music.
SPEECH_RATE_WPM = 160

_ENGINES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("espeak-ng", ("-s", str(SPEECH_RATE_WPM))),
    ("espeak", ("-s", str(SPEECH_RATE_WPM))),
    ("say", ()),
    ("spd-say", ("--wait",)),
)


def find_engine() -> list[str] | None:
    """The command (without the text) of the first text-to-speech engine found, or None."""
    custom = os.environ.get("FORMCHECK_TTS")
    if custom:
        cmd = shlex.split(custom)
        if cmd and shutil.which(cmd[0]):
            return cmd
        log.debug("FORMCHECK_TTS=%r is not an installed command", custom)
        return None
    for exe, args in _ENGINES:
        path = shutil.which(exe)
        if path:
            return [path, *args]
    return None


class Voice:
    """Speaks short cues, one at a time, without blocking.

    enabled=False (the default) makes every call a no-op. `command` overrides the engine
    (the text is appended as the last argument)."""

    def __init__(self, enabled: bool = False, command: Sequence[str] | None = None,
                 cooldown_s: float = 1.0, clock: Callable[[], float] = time.monotonic):
        self.enabled = enabled
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._proc: subprocess.Popen | None = None
        self._last_end_t: float | None = None
        self.spoken: list[str] = []
        self.command: list[str] | None = None
        if enabled:
            self.command = list(command) if command else find_engine()
            if self.command is None:
                log.info("voice: no text-to-speech engine found (install espeak-ng); cues are shown only")

    @property
    def available(self) -> bool:
        return self.enabled and self.command is not None

    @property
    def busy(self) -> bool:
        """True while an utterance is being spoken, or within the cooldown after it."""
        if self._proc is not None:
            if self._proc.poll() is None:
                return True
            self._proc = None
            self._last_end_t = self._clock()
        return self._last_end_t is not None and self._clock() - self._last_end_t < self.cooldown_s

    def say(self, text: str) -> bool:
        """Start speaking `text`; False when skipped (off, no engine, busy, or it failed)."""
        if not self.available or not text or self.busy:
            return False
        try:
            self._proc = subprocess.Popen(
                [*self.command, text], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True)  # Ctrl-C is for formcheck, not the voice
        except OSError as exc:
            log.debug("voice: %s failed to start (%s); speech off", self.command[0], exc)
            self.command = None
            return False
        self.spoken.append(text)
        return True

    def close(self, wait_s: float = 0.0) -> None:
        """Stop speaking (after up to wait_s for the current utterance to finish)."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        if wait_s > 0:
            try:
                proc.wait(timeout=wait_s)
            except subprocess.TimeoutExpired:
                pass
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
