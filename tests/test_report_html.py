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
from formcheck.render.skeleton import SkeletonAnnotator
from formcheck.report.html_report import render_html, write_html
from formcheck.report.session import SourceInfo
from formcheck.runner import analyse_stream
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
    clip = landmark_clip(SynthSpec("deep-squat", sets=1, hold_s=10, faults=[Fault("heel_lift", 6, 9, 3.0)]),
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
    # One fault thumbnail, linked from its row in the event table.
    (thumb,) = squat_run.thumbnails
    assert thumb.code == "heel_lift" and thumb.side == "left" and thumb.jpeg[:2] == b"\xff\xd8"
    assert f'href="#peak-heel_lift-{thumb.onset_t:.3f}"' in page and f'id="peak-heel_lift-{thumb.onset_t:.3f}"' in page
    assert page.count('class="plot signal"') >= 3


def test_thumbnail_is_the_person_at_the_fault_peak(squat_run):
    (thumb,) = squat_run.thumbnails
    img = cv2.imdecode(np.frombuffer(thumb.jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert img.shape[0] == 240 and img.shape[1] < W  # cropped around the person
    # It shows the frame where the heel was highest within the cue.
    t = squat_run.table.times()
    lift = squat_run.table.column("heel_lift_cm_left")
    (ev,) = [e for e in squat_run.result.events if e.code == "heel_lift"]
    assert thumb.onset_t == pytest.approx(ev.t_s)
    inside = (t >= ev.t_s) & (t <= ev.t_end_s)
    at_thumb = lift[np.argmin(np.abs(t - thumb.t_s))]
    assert at_thumb == pytest.approx(np.nanmax(lift[inside]), rel=0.1)


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
