"""End to end through the real pose model: a rendered clip with known truth goes through
`formcheck analyze` with every output, and the reports are checked against the truth;
a truncated video saves what it measured; a clip with nobody in it says so."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from formcheck.report.csv_report import FrameTable
from formcheck.synth import Fault, SynthSpec

pytestmark = pytest.mark.model


@pytest.fixture(autouse=True)
def _private_history(tmp_path, monkeypatch):
    monkeypatch.setenv("FORMCHECK_DATA_DIR", str(tmp_path / "data"))


def formcheck(monkeypatch, capsys, *args) -> tuple[int, str, str]:
    from formcheck.cli import main

    monkeypatch.setattr(sys, "argv", ["formcheck", *map(str, args)])
    monkeypatch.setenv("COLUMNS", "300")
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[Path, dict]:
    render = pytest.importorskip("formcheck.synth.render")
    d = tmp_path_factory.mktemp("render")
    # 15 fps keeps the model's share of the test short; the analysers work from 15 fps up.
    # The heel lifts in the middle of the hold, once the analyser has the flat-foot baseline.
    spec = SynthSpec("deep-squat", sets=1, hold_s=10, fps=15.0, faults=[Fault("heel_lift", 8.0, 10.5, 3.5)])
    res = render.render_clip(spec, d / "squat.mp4")
    return res.video, json.loads(res.truth.read_text())


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def test_rendered_clip_reports_match_the_truth(rendered, tmp_path, monkeypatch, capsys):
    clip, truth = rendered
    out = {k: tmp_path / f"r.{k}" for k in ("json", "csv", "html")}
    video = tmp_path / "annotated.mp4"
    code, _, err = formcheck(monkeypatch, capsys, "analyze", clip, "--drill", "deep-squat", "--model", "lite",
                             "--json", out["json"], "--csv", out["csv"], "--html", out["html"], "--video", video)
    assert code == 0, err
    rep = json.loads(out["json"].read_text())
    n = len(truth["frames"])

    # What was analysed.
    assert rep["drill"] == "deep-squat" and rep["model"] == "lite"
    src = rep["source"]
    assert (src["kind"], src["path"], src["frames"]) == ("file", str(clip), n)
    assert (src["width"], src["height"]) == (truth["width"], truth["height"])
    assert src["fps"] == pytest.approx(truth["fps"], abs=0.01)
    assert src["duration_s"] == pytest.approx(n / truth["fps"], abs=0.1)
    assert rep["pose_coverage"] >= 0.95  # the mannequin is found in (nearly) every frame

    # The hold: one, where the truth has it, about as long.
    (t_hold,) = [e for e in truth["events"] if e["kind"] == "hold"]
    holds = [e for e in rep["events"] if e["kind"] == "hold"]
    assert len(holds) == 1
    assert holds[0]["t_s"] == pytest.approx(t_hold["t_s"], abs=1.0)
    assert holds[0]["t_end_s"] == pytest.approx(t_hold["t_end_s"], abs=1.0)
    assert holds[0]["value"] == pytest.approx(t_hold["value"], abs=1.5)
    assert rep["summary"]["sets"][0]["hold_s"] == pytest.approx(holds[0]["value"], abs=0.1)

    # The injected heel lift: a left heel_lift cue over the truth's span, in plain words.
    (t_lift,) = [e for e in truth["events"] if e["code"] == "heel_lift"]
    lifts = [e for e in rep["events"] if e["code"] == "heel_lift" and e.get("side") == "left"]
    assert any(_overlap(e["t_s"], e["t_end_s"], t_lift["t_s"], t_lift["t_end_s"]) > 1.0 for e in lifts)
    assert lifts[0]["message"] == "Keep your left heel on the floor" and lifts[0]["kind"] == "fault"

    # The CSV: one row per frame, agreeing with the JSON.
    table = FrameTable.read_csv(out["csv"])
    assert len(table) == n
    assert table.column("detected").mean() == pytest.approx(rep["pose_coverage"], abs=1e-3)
    assert np.nanmax(table.column("hold_s")) == pytest.approx(holds[0]["value"], abs=0.15)

    # The annotated video: every frame, same size, with the overlay drawn on it.
    cap = cv2.VideoCapture(str(video))
    frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    assert frames == n
    assert (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))) == (
        truth["width"], truth["height"])
    raw = cv2.VideoCapture(str(clip))
    cap.set(cv2.CAP_PROP_POS_FRAMES, n - 5)
    raw.set(cv2.CAP_PROP_POS_FRAMES, n - 5)
    (_, a), (_, b) = cap.read(), raw.read()
    assert np.abs(a.astype(int) - b.astype(int)).mean() > 2  # not the bare input

    # The HTML: a thumbnail of the heel lift at its peak.
    page = out["html"].read_text()
    assert 'id="peak-heel_lift-' in page and "data:image/jpeg;base64," in page

    # And the session is in the history.
    code, hist, _ = formcheck(monkeypatch, capsys, "history")
    assert code == 0 and "deep-squat" in hist and "squat.mp4" in hist


def test_truncated_video_saves_what_it_measured(rendered, tmp_path, monkeypatch, capsys):
    """Cut an AVI copy of the clip in half: the analysis stops at the damage with a clear
    line and a non-zero exit, and the report of the first half is written."""
    clip, truth = rendered
    cap = cv2.VideoCapture(str(clip))
    avi = tmp_path / "squat.avi"
    w = cv2.VideoWriter(str(avi), cv2.VideoWriter_fourcc(*"MJPG"), truth["fps"], (truth["width"], truth["height"]))
    n = 0
    while n < 90:
        ok, img = cap.read()
        if not ok:
            break
        w.write(img)
        n += 1
    w.release()
    data = avi.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) * 2 // 3])
    out = tmp_path / "r.json"
    code, _, err = formcheck(monkeypatch, capsys, "analyze", cut, "--drill", "deep-squat", "--model", "lite",
                             "--json", out, "--quiet")
    assert code == 2
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "cut.avi is truncated or damaged" in lines[0]
    assert f"partial results written: {out}" in lines[0]
    rep = json.loads(out.read_text())
    assert rep["interrupted"] is True and 30 <= rep["source"]["frames"] < 90
    assert rep["pose_coverage"] > 0.9


def test_video_with_nobody_in_it(tmp_path, monkeypatch, capsys):
    empty = tmp_path / "empty_room.avi"
    w = cv2.VideoWriter(str(empty), cv2.VideoWriter_fourcc(*"MJPG"), 15, (320, 240))
    rng = np.random.default_rng(1)
    room = np.full((240, 320, 3), (170, 180, 190), np.uint8)
    room[160:] = (90, 110, 130)  # a floor
    for _ in range(20):
        w.write(np.clip(room + rng.normal(0, 3, room.shape), 0, 255).astype(np.uint8))
    w.release()
    code, _, err = formcheck(monkeypatch, capsys, "analyze", empty, "--drill", "deep-squat", "--model", "lite",
                             "--quiet")
    assert code == 5
    assert "No person found in any of the 20 frames of empty_room.avi" in err
