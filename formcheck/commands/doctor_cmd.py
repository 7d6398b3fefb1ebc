"""`formcheck doctor`: is this machine ready? Python and package versions, pose models (present
and loading), a camera, a display. Each line says OK or FAIL and, when it fails, the fix.

Exit code 0 when file analysis works (Python, packages, the lite and full models); a missing
camera or display is reported but only matters for live coaching, so it does not fail the run.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

import typer
from rich.console import Console

from formcheck.cli import app

OK, FAIL, NOTE = "OK", "FAIL", "NOTE"


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # OK, FAIL, or NOTE (an optional part that is absent)
    detail: str
    fix: str = ""
    essential: bool = True  # False: only live coaching needs it


def _version(dist: str) -> str | None:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def check_python() -> Check:
    v = sys.version_info
    text = f"{v.major}.{v.minor}.{v.micro} ({sys.executable})"
    if v < (3, 11):
        return Check("python", FAIL, text, "install Python 3.11 or newer")
    return Check("python", OK, text)


_OPENCV_DISTS = ("opencv-contrib-python", "opencv-python", "opencv-python-headless",
                 "opencv-contrib-python-headless")


def check_packages() -> list[Check]:
    checks = []
    mp_v = _version("mediapipe")
    if mp_v is None:
        checks.append(Check("mediapipe", FAIL, "not installed", "pip install 'mediapipe>=1.2,<1.3'"))
    elif not mp_v.startswith("1.2."):
        checks.append(Check("mediapipe", FAIL, mp_v, "formcheck needs mediapipe 1.2.x: "
                                                     "pip install 'mediapipe>=1.2,<1.3'"))
    else:
        checks.append(Check("mediapipe", OK, mp_v))

    cv_dists = [(d, v) for d in _OPENCV_DISTS if (v := _version(d))]
    try:
        import cv2

        cv_text = f"cv2 {cv2.__version__} from " + (", ".join(f"{d} {v}" for d, v in cv_dists) or "?")
        if len(cv_dists) > 1:
            extra = " ".join(d for d, _ in cv_dists if d != "opencv-contrib-python")
            checks.append(Check("opencv", FAIL, cv_text + " (several packages own cv2)",
                                f"pip uninstall -y {extra}  (mediapipe brings opencv-contrib-python)"))
        else:
            checks.append(Check("opencv", OK, cv_text))
    except ImportError as exc:
        checks.append(Check("opencv", FAIL, f"cv2 does not import: {exc}",
                            "pip install --force-reinstall opencv-contrib-python"))

    np_v = _version("numpy")
    checks.append(Check("numpy", OK, np_v) if np_v else Check("numpy", FAIL, "not installed", "pip install numpy"))
    return checks


def check_models(load: bool = True) -> list[Check]:
    from formcheck.pose.models import MODEL_NAMES, installed_models

    found = {m.name: m for m in installed_models() if not m.shadowed}
    checks = []
    for name in MODEL_NAMES:
        essential = name != "heavy"  # heavy is optional and built on demand
        m = found.get(name)
        label = f"model {name}"
        if m is None:
            status = FAIL if essential else NOTE
            checks.append(Check(label, status, "not installed", f"formcheck models build {name}", essential))
            continue
        detail = f"{m.path} ({m.size / 1e6:.1f} MB, sha256 {m.sha256[:12]})"
        if load:
            err = _try_load(m.path)
            if err:
                checks.append(Check(label, FAIL, f"{detail} does not load: {err}",
                                    f"formcheck models build {name}", essential))
                continue
            detail += ", loads"
        checks.append(Check(label, OK, detail, essential=essential))
    return checks


def _try_load(path) -> str | None:
    """None when the bundle loads and runs on a blank frame, else the reason."""
    import numpy as np

    from formcheck.errors import FormcheckError
    from formcheck.pose.estimator import PoseEstimator

    try:
        with PoseEstimator(path, mode="image", num_poses=1) as est:
            est.process(np.zeros((64, 64, 3), np.uint8), 0.0)
    except FormcheckError as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - any failure is the answer
        return f"{type(exc).__name__}: {exc}"
    return None


def _with_timeout(fn: Callable[[], Check], timeout_s: float, on_timeout: Check) -> Check:
    """Run a check that may hang (camera drivers do) on a daemon thread."""
    box: list[Check] = []
    thread = threading.Thread(target=lambda: box.append(fn()), daemon=True, name="formcheck-doctor")
    thread.start()
    thread.join(timeout_s)
    return box[0] if box else on_timeout


def check_camera(index: int = 0, timeout_s: float = 5.0) -> Check:
    fix = ("connect a webcam and close other apps using it (`formcheck doctor --camera N` tries another "
           "index); "
           "without one, record on a phone and use `formcheck analyze`")
    name = f"camera {index}"
    if sys.platform.startswith("linux") and not any(n.startswith("video") for n in _listdir("/dev")):
        return Check(name, FAIL, "no video devices (/dev/video*)", fix, essential=False)

    def probe() -> Check:
        import cv2

        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)  # no driver chatter
        cap = cv2.VideoCapture(index)
        try:
            if not cap.isOpened():
                return Check(name, FAIL, "does not open", fix, essential=False)
            ok, frame = cap.read()
            if not ok or frame is None:
                return Check(name, FAIL, "opens but gives no frames", fix, essential=False)
            return Check(name, OK, f"{frame.shape[1]}x{frame.shape[0]}", essential=False)
        finally:
            cap.release()

    return _with_timeout(probe, timeout_s,
                         Check(name, FAIL, f"no answer within {timeout_s:g} s", fix, essential=False))


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def check_display() -> Check:
    from formcheck.live.display import display_available

    fix = ("live coaching needs a desktop session (DISPLAY); over SSH use `ssh -X`, or record the "
           "drill and run `formcheck analyze VIDEO --drill DRILL`")
    where = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or sys.platform
    try:
        import cv2

        gui = next((ln.split(":", 1)[1].strip() for ln in cv2.getBuildInformation().splitlines()
                    if ln.strip().startswith("GUI:")), "?")
    except ImportError:
        gui = "?"
    if gui in ("NONE", "?"):
        return Check("display", FAIL, f"OpenCV has no window support (GUI: {gui})",
                     "pip install --force-reinstall opencv-contrib-python (not the -headless build)",
                     essential=False)
    if not display_available():
        return Check("display", FAIL, f"no display reachable (DISPLAY={os.environ.get('DISPLAY', '')!r})",
                     fix, essential=False)
    return Check("display", OK, f"{where}, OpenCV GUI {gui}", essential=False)


def run_checks(load_models: bool = True, camera: int = 0, camera_timeout_s: float = 5.0) -> list[Check]:
    return [check_python(), *check_packages(), *check_models(load_models),
            check_camera(camera, camera_timeout_s), check_display()]


_STYLE = {OK: "green", FAIL: "red", NOTE: "yellow"}


@app.command("doctor")
def doctor_command(
    camera: Annotated[int, typer.Option("--camera", help="Camera index to try.")] = 0,
    no_load: Annotated[bool, typer.Option("--no-load", help="Do not load the models (faster).")] = False,
) -> None:
    """Check that this machine can run formcheck, and say how to fix what is missing."""
    out = Console(highlight=False)
    checks = run_checks(load_models=not no_load, camera=camera)
    width = max(len(c.name) for c in checks)
    for c in checks:
        line = f"[{_STYLE[c.status]}]{c.status:<4}[/] {c.name:<{width}}  {c.detail}"
        if c.status != OK and c.fix:
            line += f"\n     {'':<{width}}  fix: {c.fix}"
        out.print(line, soft_wrap=True)
    failed = [c for c in checks if c.status == FAIL and c.essential]
    if failed:
        out.print(f"[red]formcheck cannot analyse videos until {len(failed)} problem(s) above are fixed.[/]")
        raise typer.Exit(1)
    live = [c for c in checks if c.status == FAIL]
    out.print("Ready to analyse videos" + (" (live coaching needs the fixes above)." if live else
                                            " and coach live."))
