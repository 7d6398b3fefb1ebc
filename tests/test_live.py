"""`formcheck live` end to end in a real window on a virtual display (Xvfb), with a
synthetic landmark recording played back in real time standing in for the camera.

The window's pixels are read back from the X server and searched for the words the
overlay should show (rendered with the same font, so a match is exact). Keys are sent
with xdotool. Each test runs a few seconds of clip.

CI needs the Debian packages `xvfb` and `xdotool`; without them these tests skip.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from formcheck.live.virtual_display import VirtualDisplay, xvfb_installed
from formcheck.recording import RecordingWriter
from formcheck.render.theme import TEXT
from formcheck.report.session import SourceInfo
from formcheck.synth import CameraSpec, Fault, SynthSpec, landmark_clip

W, H = 640, 480
# The command line as installed (`python -m formcheck.cli` would build a second, empty app).
# A background test runner may ignore SIGINT, and children inherit that: the command gets
# Python's usual Ctrl-C handler back, as in an interactive terminal, so Ctrl-C can be tested.
FORMCHECK = [sys.executable, "-c", ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
             "from formcheck.cli import main; sys.argv[0] = 'formcheck'; main()")]
needs_xvfb = pytest.mark.skipif(not xvfb_installed(), reason="Xvfb not installed (apt-get install xvfb)")
needs_xdotool = pytest.mark.skipif(shutil.which("xdotool") is None,
                                   reason="xdotool not installed (apt-get install xdotool)")


# -- clips ----------------------------------------------------------------------------------

def write_clip(path: Path, spec: SynthSpec, corrupt_at: int | None = None) -> Path:
    frames = landmark_clip(spec).frames
    info = SourceInfo("file", path.name, spec.fps, len(frames), frames[-1].t_s, spec.width, spec.height)
    with RecordingWriter(path, info, "synth", None) as w:
        for f in frames:
            w.write(f)
    if corrupt_at is not None:
        lines = path.read_text().splitlines(keepends=True)
        lines.insert(corrupt_at, "{this is not a frame\n")  # the source dies here
        path.write_text("".join(lines))
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("clips")
    star = SynthSpec("star-balance", width=W, height=H, sets=2, duration_s=14,
                     faults=[Fault("pelvic_drop", 6.0, 11.0)])
    return {
        # Long enough that the clip outlasts a test pressing keys on a busy machine.
        "star_long": write_clip(d / "star_long.jsonl", star.with_(duration_s=40)),
        "star_dies": write_clip(d / "star_dies.jsonl", star.with_(duration_s=10), corrupt_at=240),
        "feet_cut": write_clip(d / "feet_cut.jsonl", SynthSpec("deep-squat", width=W, height=H, duration_s=6,
                                                               camera=CameraSpec(tilt_deg=-25))),
    }


@pytest.fixture(scope="module")
def xdisplay():
    if not xvfb_installed():
        pytest.skip("Xvfb not installed")
    with VirtualDisplay(1024, 768) as vd:
        yield vd


# -- the window -----------------------------------------------------------------------------

def find_text(image: np.ndarray, text: str, bold: bool = True) -> float:
    """Best normalised correlation of `text` (our font, any size 6-50 px) in the image."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    best = -1.0
    for size in range(6, 50):
        mask = TEXT.sprite(text, size, bold).mask.astype(np.float32)
        if mask.shape[0] > gray.shape[0] or mask.shape[1] > gray.shape[1]:
            break
        best = max(best, float(cv2.matchTemplate(gray, mask, cv2.TM_CCOEFF_NORMED).max()))
    return best


def shows(image: np.ndarray, text: str, bold: bool = True) -> bool:
    return find_text(image, text, bold) > 0.97


class Live:
    """`formcheck live ...` (or `routine`) in a subprocess on the virtual display."""

    def __init__(self, display: VirtualDisplay, args: list[str], tmp: Path, env: dict | None = None,
                 command: str = "live"):
        self.display = display.display
        self.env = {**os.environ, "DISPLAY": self.display, "FORMCHECK_DATA_DIR": str(tmp / "data"),
                    **(env or {})}
        self.proc = subprocess.Popen([*FORMCHECK, command, *args], env=self.env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.window_id: str | None = None

    def _xdotool(self, *args: str) -> str:
        return subprocess.run(["xdotool", *args], env=self.env, capture_output=True, text=True,
                              timeout=10, check=False).stdout.strip()

    def wait_window(self, timeout: float = 30.0) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end and self.proc.poll() is None:
            ids = self._xdotool("search", "--name", "^formcheck$").split()
            if ids:
                self.window_id = ids[-1]
                return self.window_id
            time.sleep(0.2)
        _out, err = self.proc.communicate(timeout=10) if self.proc.poll() is not None else ("", "")
        raise AssertionError(f"no live window appeared; rc={self.proc.poll()} stderr={err[-800:]}")

    def screenshot(self) -> np.ndarray | None:
        from PIL import ImageGrab

        geo = dict(line.split("=") for line in
                   self._xdotool("getwindowgeometry", "--shell", self.window_id).splitlines() if "=" in line)
        if not {"X", "Y", "WIDTH", "HEIGHT"} <= geo.keys():
            return None  # the window has just closed
        x, y, w, h = (int(geo[k]) for k in ("X", "Y", "WIDTH", "HEIGHT"))
        shot = np.asarray(ImageGrab.grab(xdisplay=self.display).convert("RGB"))[:, :, ::-1]
        return np.ascontiguousarray(shot[y:y + h, x:x + w])

    def wait_for(self, predicate, timeout: float = 25.0, every: float = 0.3) -> np.ndarray:
        """Poll screenshots until predicate(image) holds; returns that screenshot."""
        end = time.monotonic() + timeout
        last = None
        while time.monotonic() < end and self.proc.poll() is None:
            shot = self.screenshot()
            if shot is not None:
                last = shot
                if predicate(shot):
                    return shot
            time.sleep(every)
        if last is not None:
            cv2.imwrite(str(Path(self.env["FORMCHECK_DATA_DIR"]).parent / "last_screenshot.png"), last)
        err = self.proc.communicate(timeout=30)[1] if self.proc.poll() is not None else ""
        raise AssertionError(f"the window never showed what was expected (rc={self.proc.poll()}) {err[-1500:]}")

    def key(self, name: str) -> None:
        self._xdotool("windowfocus", "--sync", self.window_id)
        self._xdotool("key", "--window", self.window_id, name)

    def finish(self, timeout: float = 30.0) -> tuple[int, str, str]:
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            raise AssertionError(f"formcheck live did not end: {err[-800:]}") from None
        return self.proc.returncode, out, err


def history_sessions(tmp: Path) -> list[tuple]:
    db = tmp / "data" / "history.db"
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT drill, interrupted FROM sessions").fetchall()


STAR_ARGS = ["star-balance", "--sets", "2", "--rest", "30", "--countdown", "1", "--max-seconds", "40"]


# -- tests ----------------------------------------------------------------------------------

@needs_xvfb
@needs_xdotool
def test_window_shows_the_cue_and_the_counter_and_speaks(xdisplay, clips, tmp_path):
    said = tmp_path / "said.txt"
    tts = f"{sys.executable} -c \"import sys; open({str(said)!r}, 'a').write(sys.argv[1] + chr(10))\""
    report = tmp_path / "star.json"
    live = Live(xdisplay, [*STAR_ARGS, "--camera", str(clips["star_long"]), "--json", str(report), "--voice"],
                tmp_path, env={"FORMCHECK_TTS": tts})
    live.wait_window()
    shot = live.wait_for(lambda im: shows(im, "Keep your hips level"))
    counters = {k: find_text(shot, f"{k}/3") for k in range(4)}
    assert max(counters.values()) > 0.97, counters  # "reaches k/3"
    assert shows(shot, "reaches", bold=False)
    live.key("q")
    rc, _out, err = live.finish()
    assert rc == 0, err
    data = json.loads(report.read_text())
    assert data["drill"] == "star-balance" and data["interrupted"] is True  # quit before the last set
    assert any(e["code"] == "pelvic_drop" for e in data["events"])
    assert "saved to history #1" in err
    assert "Keep your hips level" in said.read_text()  # the persisting fault was spoken


@needs_xvfb
@needs_xdotool
def test_keys_pause_switch_leg_next_set_and_quit(xdisplay, clips, tmp_path):
    from formcheck.drills.base import LiveStatus
    from formcheck.render.hud import set_side_text

    live = Live(xdisplay, [*STAR_ARGS, "--camera", str(clips["star_long"])], tmp_path)
    live.wait_window()
    live.wait_for(lambda im: shows(im, "reaches", bold=False))  # the set is under way
    live.key("space")
    live.wait_for(lambda im: shows(im, "Paused"))
    live.key("space")  # resume: back through the set-up check
    live.key("r")
    right = set_side_text(LiveStatus("star-balance", set_index=1, sets_target=2, side="right"))
    live.wait_for(lambda im: shows(im, right))
    live.key("n")  # end the set: rest
    live.wait_for(lambda im: shows(im, "Rest"))
    live.key("Escape")
    rc, _out, err = live.finish()
    assert rc == 0, err
    assert "star-balance: 1 set (stopped early)" in err
    assert "Stopped before the end: everything completed so far is saved." in err


@needs_xvfb
def test_ctrl_c_keeps_the_session_and_the_recording(xdisplay, clips, tmp_path):
    report, video = tmp_path / "star.json", tmp_path / "star.mp4"
    live = Live(xdisplay, [*STAR_ARGS, "--camera", str(clips["star_long"]), "--json", str(report),
                           "--record", str(video)], tmp_path)
    live.wait_window()
    live.wait_for(lambda im: find_text(im, "1/3") > 0.97 or find_text(im, "2/3") > 0.97)
    live.proc.send_signal(signal.SIGINT)
    rc, _out, err = live.finish()
    assert rc == 130, err
    assert "everything completed so far is saved" in err
    assert "Traceback" not in err
    data = json.loads(report.read_text())
    assert data["interrupted"] is True and any(e["kind"] == "count" for e in data["events"])
    assert history_sessions(tmp_path) == [("star-balance", 1)]
    cap = cv2.VideoCapture(str(video))
    assert cap.isOpened() and cap.get(cv2.CAP_PROP_FRAME_COUNT) > 60  # a real-time recording
    cap.release()


@needs_xvfb
def test_a_source_that_dies_mid_stream_leaves_a_saved_session(xdisplay, clips, tmp_path):
    report = tmp_path / "star.json"
    live = Live(xdisplay, [*STAR_ARGS, "--camera", str(clips["star_dies"]), "--json", str(report)], tmp_path)
    rc, _out, err = live.finish(timeout=40)
    assert rc != 0 and "Traceback" not in err
    assert "is not valid JSON" in err and "everything completed so far is saved" in err
    data = json.loads(report.read_text())
    assert data["interrupted"] is True and data["source"]["frames"] > 0


@needs_xvfb
@needs_xdotool
def test_set_up_check_in_the_window_when_the_feet_are_cut_off(xdisplay, clips, tmp_path):
    live = Live(xdisplay, ["deep-squat", "--camera", str(clips["feet_cut"]), "--max-seconds", "20"], tmp_path)
    live.wait_window()
    live.wait_for(lambda im: shows(im, "Step back so your feet are visible"))
    rc, _out, err = live.finish()
    assert rc == 0, err
    assert "Nothing was recorded" in err  # never got past the set-up check


def test_no_display_says_so_and_suggests_analyze(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["FORMCHECK_DATA_DIR"] = str(tmp_path)
    p = subprocess.run([*FORMCHECK, "live", "deep-squat"], env=env,
                       capture_output=True, text=True, timeout=60, check=False)
    assert p.returncode == 6
    assert "No display available" in p.stderr and "formcheck analyze VIDEO --drill deep-squat" in p.stderr
    assert "Traceback" not in p.stderr


@needs_xvfb
def test_no_camera_is_a_clear_error(xdisplay, tmp_path):
    live = Live(xdisplay, ["deep-squat", "--camera", "9"], tmp_path)
    rc, _out, err = live.finish(timeout=60)
    assert rc == 3 and "No camera at index 9" in err and "Traceback" not in err


@needs_xvfb
def test_missing_video_is_a_clear_error(xdisplay, tmp_path):
    live = Live(xdisplay, ["deep-squat", "--camera", str(tmp_path / "nope.mp4")], tmp_path)
    rc, _out, err = live.finish(timeout=60)
    assert rc == 2 and "not found" in err and "Traceback" not in err


@pytest.mark.model
@needs_xvfb
@needs_xdotool
def test_real_model_on_a_rendered_clip_shows_the_heel_lift_cue_and_hold_timer(xdisplay, tmp_path):
    """The whole live path: rendered video as the camera, the lite model, the overlay."""
    render = pytest.importorskip("formcheck.synth.render")
    # 15 fps, as the analyze end-to-end test: the live loop keeps up, so it analyses the
    # same frames analyze would.
    # The soleus stretch, side-on: the view in which a heel lift is seen most reliably.
    spec = SynthSpec("soleus-stretch", sets=1, hold_s=10, fps=15.0, duration_s=14.0,
                     faults=[Fault("heel_lift", 6.0, 9.0, 3.0)])
    clip = render.render_clip(spec, tmp_path / "soleus.mp4").video
    report = tmp_path / "soleus.json"
    live = Live(xdisplay, ["soleus-stretch", "--camera", str(clip), "--countdown", "1", "--json", str(report)],
                tmp_path)
    live.wait_window(timeout=60)
    shot = live.wait_for(lambda im: shows(im, "Keep your left heel on the floor"), timeout=40)
    assert shows(shot, "of 30", bold=False)  # the hold ring, paused while the heel is up
    rc, _out, err = live.finish(timeout=60)
    assert rc == 0, err
    data = json.loads(report.read_text())
    assert data["model"] == "lite"
    assert any(e["code"] == "heel_lift" and e.get("side") == "left" for e in data["events"])


class MjpegCamera:
    """A network camera on localhost: an MJPEG stream (multipart JPEG over HTTP, as IP
    cameras and phone webcam apps serve) at the clip's frame rate, which then goes silent
    with the connection left open, as a camera does when its cable is pulled."""

    def __init__(self, video: Path, seconds: float, fps: float = 30.0):
        import http.server
        import socketserver
        import threading

        cap = cv2.VideoCapture(str(video))
        jpegs = []
        while len(jpegs) < int(seconds * fps):
            ok, frame = cap.read()
            if not ok:
                break
            jpegs.append(cv2.imencode(".jpg", frame)[1].tobytes())
        cap.release()
        self.stop = threading.Event()
        stop = self.stop

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                t0 = time.monotonic()
                for i, jpg in enumerate(jpegs):
                    self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n"
                                     % len(jpg) + jpg + b"\r\n")
                    time.sleep(max(0.0, t0 + (i + 1) / fps - time.monotonic()))
                stop.wait(60)  # unplugged: nothing more, but no goodbye either

            def log_message(self, *args) -> None:
                pass

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/stream.mjpg"

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.model
@needs_xvfb
def test_camera_lost_mid_session_says_so_and_keeps_the_session(xdisplay, tmp_path):
    sample = Path(__file__).resolve().parents[1] / "sample_videos" / "deep-squat.mp4"
    if not sample.exists():
        pytest.skip("sample_videos/deep-squat.mp4 not rendered")
    camera = MjpegCamera(sample, seconds=9.0)
    try:
        report = tmp_path / "squat.json"
        live = Live(xdisplay, ["deep-squat", "--camera", camera.url, "--countdown", "1", "--json", str(report)],
                    tmp_path)
        rc, _out, err = live.finish(timeout=90)
    finally:
        camera.close()
    assert rc == 3, err
    assert "stopped sending frames (unplugged?)" in err and "everything completed so far is saved" in err
    assert "Traceback" not in err
    data = json.loads(report.read_text())
    assert data["interrupted"] is True and data["source"]["kind"] == "camera"
    assert any(e["kind"] == "hold" for e in data["events"])


@pytest.mark.model
@needs_xvfb
def test_camera_that_opens_but_sends_no_more_frames_is_a_clear_error_not_a_hang(xdisplay, tmp_path):
    sample = Path(__file__).resolve().parents[1] / "sample_videos" / "deep-squat.mp4"
    if not sample.exists():
        pytest.skip("sample_videos/deep-squat.mp4 not rendered")
    camera = MjpegCamera(sample, seconds=1 / 30)  # the one frame the stream's opening needs, then nothing
    try:
        t0 = time.monotonic()
        live = Live(xdisplay, ["deep-squat", "--camera", camera.url], tmp_path)
        rc, _out, err = live.finish(timeout=60)
    finally:
        camera.close()
    assert rc == 3 and "Traceback" not in err, err
    assert "stopped sending frames" in err or "sent no frames" in err
    assert "Nothing was recorded" in err
    assert time.monotonic() - t0 < 30
