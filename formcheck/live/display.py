"""The live window (OpenCV highgui), and whether a screen is there to show it on.

OpenCV's Qt backend aborts the whole process when it cannot reach a display, so the
display is checked before any window is made, and a missing one is a plain one-line
error that points to `formcheck analyze` on a recording instead.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import sys
import time

import numpy as np

from formcheck.errors import FormcheckError

log = logging.getLogger(__name__)

WINDOW_TITLE = "formcheck"
# Larger pictures are shown scaled down to fit (the overlay was drawn at full size).
MAX_WINDOW = (1280, 720)


class DisplayError(FormcheckError):
    """No screen to show the live window on."""

    exit_code = 6


def no_display_message(drill: str | None = None) -> str:
    cmd = f"formcheck analyze VIDEO --drill {drill}" if drill else "formcheck analyze VIDEO --drill DRILL"
    return (f"No display available for the live window: record the drill on a phone or camera and run "
            f"`{cmd}` on the recording instead")


def _unix_connects(address: str) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(1.0)
        try:
            s.connect(address)
            return True
        except OSError:
            return False


def _x11_reachable(display: str) -> bool:
    """True when an X server answers at `display` (":0", "localhost:10.0", "unix:1")."""
    m = re.fullmatch(r"(?P<host>[^:]*):(?P<num>\d+)(?:\.\d+)?", display.strip())
    if not m:
        return False
    host, num = m.group("host"), int(m.group("num"))
    if host in ("", "unix"):
        # The socket file is the usual way in; Linux servers also listen on an abstract one.
        path = f"/tmp/.X11-unix/X{num}"
        return _unix_connects(path) or (sys.platform.startswith("linux") and _unix_connects("\0" + path))
    try:
        with socket.create_connection((host, 6000 + num), timeout=1.0):
            return True
    except OSError:
        return False


def display_available() -> bool:
    """Whether a window can be shown. Windows and macOS always have a screen session
    when a user runs formcheck; on Linux the X (or Wayland) server must answer."""
    if sys.platform in ("win32", "darwin"):
        return True
    if os.environ.get("QT_QPA_PLATFORM", "").startswith("offscreen"):
        return False
    # This OpenCV build draws through Qt on X11; a Wayland desktop offers X11 via XWayland.
    display = os.environ.get("DISPLAY")
    return bool(display) and _x11_reachable(display)


def require_display(drill: str | None = None) -> None:
    if not display_available():
        raise DisplayError(no_display_message(drill))


class Window:
    """One highgui window: show frames, read keys, notice when the user closes it."""

    def __init__(self, title: str = WINDOW_TITLE, drill: str | None = None,
                 max_size: tuple[int, int] = MAX_WINDOW):
        import cv2

        self._cv2 = cv2
        self.title = title
        self.max_size = max_size
        self.closed = False
        self._shown_once = False
        try:
            cv2.namedWindow(title, cv2.WINDOW_AUTOSIZE | cv2.WINDOW_KEEPRATIO | cv2.WINDOW_GUI_NORMAL)
        except cv2.error as exc:
            log.debug("namedWindow failed: %s", exc)
            raise DisplayError(no_display_message(drill)) from None

    def show(self, image: np.ndarray, wait_ms: int = 1) -> int:
        """Show one frame and return the key pressed meanwhile (-1 for none).

        waitKey is what lets Qt paint the window and deliver key events, so it runs on
        every frame; 1 ms keeps the loop on the newest camera frame."""
        cv2 = self._cv2
        if self.closed:
            return -1
        h, w = image.shape[:2]
        k = min(1.0, self.max_size[0] / w, self.max_size[1] / h)
        if k < 1.0:
            # A 1080p camera picture would not fit a laptop screen at 1:1.
            image = cv2.resize(image, (round(w * k), round(h * k)), interpolation=cv2.INTER_AREA)
        cv2.imshow(self.title, image)
        key = cv2.waitKey(max(1, wait_ms))
        self._shown_once = True
        if self._window_gone():
            self.closed = True
        return key

    def poll(self, wait_ms: int = 1) -> int:
        """Let the window repaint and take keys without a new frame; the key or -1."""
        if self.closed:
            return -1
        key = self._cv2.waitKey(max(1, wait_ms))
        if self._shown_once and self._window_gone():
            self.closed = True
        return key

    def _window_gone(self) -> bool:
        try:
            return self._cv2.getWindowProperty(self.title, self._cv2.WND_PROP_VISIBLE) < 1
        except self._cv2.error:
            return True

    def wait(self, seconds: float) -> int:
        """Keep the window responsive for `seconds`; returns the first key pressed, or -1."""
        end = time.monotonic() + seconds
        while time.monotonic() < end and not self.closed:
            key = self._cv2.waitKey(20)
            if key != -1:
                return key
            if self._window_gone():
                self.closed = True
        return -1

    def close(self) -> None:
        try:
            self._cv2.destroyWindow(self.title)
            self._cv2.waitKey(1)  # let Qt process the close
        except self._cv2.error:
            pass
        self.closed = True
