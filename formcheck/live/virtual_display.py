"""A virtual X display (Xvfb) for running the live window where there is no screen: the
live tests in CI and the latency benchmark on a headless machine.

Debian/Ubuntu: `apt-get install xvfb` (and `xdotool` for the tests that press keys).
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import time
from typing import Self

from formcheck.errors import FormcheckError


class VirtualDisplayError(FormcheckError):
    """Xvfb is missing or did not start."""


def xvfb_installed() -> bool:
    return shutil.which("Xvfb") is not None


class VirtualDisplay:
    """Starts Xvfb on a free display number (Xvfb picks it: -displayfd) and stops it.

    with VirtualDisplay() as vd:
        env = {**os.environ, "DISPLAY": vd.display}
    """

    def __init__(self, width: int = 1280, height: int = 800, depth: int = 24, start_timeout_s: float = 10.0):
        self.size = (width, height, depth)
        self.start_timeout_s = start_timeout_s
        self.display: str | None = None
        self._proc: subprocess.Popen | None = None

    def start(self) -> str:
        exe = shutil.which("Xvfb")
        if exe is None:
            raise VirtualDisplayError("Xvfb is not installed (Debian/Ubuntu: apt-get install xvfb)")
        w, h, d = self.size
        read_fd, write_fd = os.pipe()
        try:
            self._proc = subprocess.Popen(
                [exe, "-displayfd", str(write_fd), "-screen", "0", f"{w}x{h}x{d}", "-nolisten", "tcp",
                 "-noreset"],
                pass_fds=(write_fd,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True)
            os.close(write_fd)
            write_fd = -1
            number = b""
            deadline = time.monotonic() + self.start_timeout_s
            while not number.endswith(b"\n"):
                left = deadline - time.monotonic()
                ready, _, _ = select.select([read_fd], [], [], max(0.0, left))
                if not ready:
                    raise VirtualDisplayError(f"Xvfb did not start within {self.start_timeout_s:g} s")
                chunk = os.read(read_fd, 16)
                if not chunk:
                    raise VirtualDisplayError("Xvfb exited before it was ready")
                number += chunk
        except BaseException:
            self.stop()
            raise
        finally:
            if write_fd >= 0:
                os.close(write_fd)
            os.close(read_fd)
        self.display = f":{int(number.strip())}"
        return self.display

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.display = None

    def env(self) -> dict[str, str]:
        """os.environ with DISPLAY pointing at this server."""
        if self.display is None:
            raise VirtualDisplayError("the virtual display is not running")
        return {**os.environ, "DISPLAY": self.display}

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
