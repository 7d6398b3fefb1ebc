"""The HTML report: self-contained, and rendered by a real browser (headless Chromium) with
its sections, its plots and the fault thumbnails decoded."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from formcheck.drills import analyser_class
from formcheck.drills.base import Analyser, LiveStatus
from formcheck.drills.blocks import FaultDetector
from formcheck.pose.frame import PoseFrame
from formcheck.pose.landmarks import LM
from formcheck.render.skeleton import SkeletonAnnotator
from formcheck.render.thumbnails import PeakThumbnails
from formcheck.report.html_report import render_html, write_html
from formcheck.report.session import SourceInfo
from formcheck.runner import analyse_stream, run_frames
from formcheck.sources import VideoFrame
from formcheck.synth import Fault, SynthSpec, landmark_clip

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
W, H = 640, 360


def _frames(clip):
    """The synthetic poses with a picture of the skeleton, as a camera stream would give."""
    for f in clip.frames:
        img = np.full((H, W, 3), 90, np.uint8)
        SkeletonAnnotator().annotate(img, f)
        yield VideoFrame(img, f.t_s, f.index, 90.0), f


@pytest.fixture(scope="module")
def squat_run():
    clip = landmark_clip(SynthSpec("deep-squat", sets=1, hold_s=10, faults=[Fault("heel_lift", 8, 10.5, 3.0)]),
                         noise_px=1.0, width=W, height=H)
    info = SourceInfo("file", "squat-synth.mp4", 30.0, len(clip.frames), clip.duration_s, W, H)
    return analyse_stream(_frames(clip), analyser_class("deep-squat")(), drill="deep-squat", model="full",
                          info=lambda: info, thumbnails=True)


def test_page_has_every_section_and_nothing_external(squat_run):
    page = render_html(squat_run)
    for section in ("drill", "meta", "sets", "left-right", "timeline", "signals", "peaks"):
        assert f'id="{section}"' in page
    assert "Deep squat" in page and "squat-synth.mp4" in page and "pose model <b>full</b>" in page
    # Self-contained: every image is a data URI, nothing is fetched.
    srcs = re.findall(r'src="([^"]+)"', page)
    assert srcs and all(s.startswith("data:image/") for s in srcs)
    assert not re.search(r'(href|src)="(https?:)?//', page)
    # A thumbnail per form-fault event, linked from its row in the event table.
    faults = [e for e in squat_run.result.events if e.kind == "fault"]
    assert {(t.code, t.side, round(t.onset_t, 3)) for t in squat_run.thumbnails} == {
        (e.code, e.side, round(e.t_s, 3)) for e in faults}
    for thumb in squat_run.thumbnails:
        assert thumb.jpeg[:2] == b"\xff\xd8"
        anchor = f"peak-{thumb.code}-{thumb.onset_t:.3f}"
        assert f'href="#{anchor}"' in page and f'id="{anchor}"' in page
    assert page.count('class="plot signal"') >= 3


def _heel_thumb(run):
    """The injected heel lift's thumbnail (the first one, should the analyser split the cue)."""
    thumbs = [t for t in run.thumbnails if (t.code, t.side) == ("heel_lift", "left")]
    assert thumbs, "the injected 3 cm left heel lift gave no cue"
    return thumbs[0]


def test_thumbnail_is_the_person_during_the_fault(squat_run):
    thumb = _heel_thumb(squat_run)
    img = cv2.imdecode(np.frombuffer(thumb.jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert img.shape[0] == 240 and img.shape[1] < W  # cropped around the person
    (ev,) = [e for e in squat_run.result.events if e.code == "heel_lift" and e.t_s == thumb.onset_t]
    assert ev.t_s <= thumb.t_s <= ev.t_end_s
    # The skeleton is drawn on it, the faulty foot in the fault colour.
    red = (img[..., 2] > 150) & (img[..., 1] < 100) & (img[..., 0] < 100)
    assert red.sum() > 20


class _OneFault(Analyser):
    """Test fixture: one real FaultDetector on the left ankle's height, nothing else."""

    drill_id = "test"

    def __init__(self) -> None:
        super().__init__()
        self.det = FaultDetector("heel_lift", on=10.0, off=5.0, min_on_s=0.1, min_off_s=0.1, side="left")

    def _update(self, frame, reliable):
        self._v = 400.0 - frame.xy(LM.LEFT_ANKLE)[1]
        return self.det.update(frame.t_s, self._v)

    def _finish(self, t):
        return self.det.finish(t)

    def _fault_detectors(self):
        return [self.det]

    def summary(self):
        return {"sets": []}

    def status(self):
        return LiveStatus(drill="test", reading=True, fault_landmarks=frozenset({int(LM.LEFT_ANKLE)}))


def _rising_ankle_frames() -> list[tuple[VideoFrame, PoseFrame]]:
    """The left ankle rises 0 -> 30 -> 0 px over 2 s on grey frames."""
    frames = []
    for i in range(90):
        t = i / 30
        lift = 30.0 * max(0.0, np.sin(np.pi * (t - 0.5) / 2.0)) if 0.5 <= t <= 2.5 else 0.0
        img = np.full((33, 3), np.nan)
        img[LM.LEFT_ANKLE] = (300.0, 400.0 - lift, 0.0)
        img[LM.LEFT_HIP] = (300.0, 200.0, 0.0)
        pose = PoseFrame(t, img, img.copy(), np.ones(33), W, H, i)
        frames.append((VideoFrame(np.full((H, W, 3), 80, np.uint8), t, i), pose))
    return frames


def test_thumbnail_shows_the_frame_where_the_fault_value_peaked():
    """The thumbnail is the top of the ankle's rise."""
    frames = _rising_ankle_frames()
    run = analyse_stream(frames, _OneFault(), drill="test", model="x",
                         info=lambda: SourceInfo("file", "x.mp4", 30.0, 90, 3.0, W, H), thumbnails=True)
    (thumb,) = run.thumbnails
    assert thumb.t_s == pytest.approx(1.5, abs=1 / 30)  # sin peaks at t = 1.5 s
    assert thumb.value == pytest.approx(30.0, abs=0.1)


def test_thumbnail_keeps_the_frame_as_filmed_when_a_sink_draws_on_it():
    """The annotated video draws on each frame in place; the thumbnail keeps its own copy."""

    class Scribbler:
        def on_frame(self, ctx) -> None:
            ctx.image[:] = 255

    thumbs = PeakThumbnails()
    run_frames(_rising_ankle_frames(), _OneFault(), [Scribbler()], thumbs)
    (thumb,) = thumbs.finish()
    crop = cv2.imdecode(np.frombuffer(thumb.jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert np.median(crop) == pytest.approx(80, abs=8)  # the grey frame, not the scribble


def _chromium(*args: str, tmp: Path) -> subprocess.CompletedProcess:
    profile = tmp / "profile"
    profile.mkdir(exist_ok=True)
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--hide-scrollbars", f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")
def test_renders_in_headless_chromium(squat_run, tmp_path):
    page = tmp_path / "report.html"
    write_html(squat_run, page)
    dom = _chromium("--dump-dom", page.as_uri(), tmp=tmp_path).stdout
    body = re.search(r"<body[^>]*>", dom)
    assert body, dom[:500]
    n = int(re.search(r'data-images="(\d+)"', body.group(0)).group(1))
    loaded = int(re.search(r'data-images-loaded="(\d+)"', body.group(0)).group(1))
    assert n >= 5 and loaded == n  # every plot and thumbnail decoded in the browser
    assert "<svg" in dom and "heel_lift" in dom

    shot = tmp_path / "shot.png"
    _chromium(f"--screenshot={shot}", "--window-size=1100,1400", page.as_uri(), tmp=tmp_path)
    img = cv2.imread(str(shot))
    assert img is not None and img.shape[:2] == (1400, 1100)
    # Not a blank page: text, tables and the timeline's coloured spans are drawn.
    assert (img < 200).any(axis=2).mean() > 0.02
    red = (img[..., 2] > 180) & (img[..., 1] < 90) & (img[..., 0] < 90)
    assert red.sum() > 50  # the heel_lift fault in the timeline and the event table
