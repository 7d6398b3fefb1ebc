"""The session runner on landmark recordings (no model): real drill analysers on synthetic
clips with known truth, the JSON/CSV/HTML it writes, and what it saves when a session
stops early or measures nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from formcheck.errors import CameraError, NoPersonError
from formcheck.pose.frame import PoseFrame
from formcheck.recording import RecordingWriter
from formcheck.report.csv_report import FrameTable
from formcheck.report.session import SourceInfo
from formcheck.runner import NothingCountedError, Outputs, SessionRequest, run_session
from formcheck.synth import Fault, SynthSpec, landmark_clip


def write_recording(path: Path, frames: list[PoseFrame], fps: float = 30.0) -> Path:
    f0 = frames[0]
    info = SourceInfo("file", "synthetic", fps, len(frames), len(frames) / fps, f0.width, f0.height)
    with RecordingWriter(path, info, "synth") as w:
        for f in frames:
            w.write(f)
    return path


@pytest.fixture(autouse=True)
def _private_history(tmp_path, monkeypatch):
    monkeypatch.setenv("FORMCHECK_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture(scope="module")
def squat_clip():
    return landmark_clip(SynthSpec("deep-squat", sets=1, hold_s=10, faults=[Fault("heel_lift", 8, 10.5, 3.0)]),
                         noise_px=1.0)


@pytest.fixture(scope="module")
def squat_run(squat_clip, tmp_path_factory):
    """One full run with every output, stored in a history of its own."""
    d = tmp_path_factory.mktemp("squat")
    rec = write_recording(d / "squat.jsonl", squat_clip.frames)
    out = Outputs(json=d / "r.json", csv=d / "r.csv", html=d / "r.html")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FORMCHECK_DATA_DIR", str(d / "data"))
        run = run_session(SessionRequest(rec, "deep-squat", outputs=out))
    return run, out, squat_clip


def test_report_matches_the_truth_field_by_field(squat_run):
    run, out, clip = squat_run
    rep = json.loads(out.json.read_text())
    assert rep["schema_version"] == 1 and rep["drill"] == "deep-squat"
    src = rep["source"]
    assert src["kind"] == "landmarks" and src["frames"] == len(clip.frames) == run.frames
    assert src["fps"] == 30.0 and (src["width"], src["height"]) == (1280, 720)
    assert src["duration_s"] == pytest.approx(clip.duration_s, abs=0.05)
    assert rep["model"] == "synth" and rep["pose_coverage"] == 1.0
    assert "interrupted" not in rep

    holds = [e for e in rep["events"] if e["kind"] == "hold"]
    (truth_hold,) = clip.events_of("hold")
    assert len(holds) == 1
    assert holds[0]["t_s"] == pytest.approx(truth_hold.t_s, abs=1.0)
    assert holds[0]["t_end_s"] == pytest.approx(truth_hold.t_end_s, abs=1.0)
    assert holds[0]["value"] == pytest.approx(truth_hold.value, abs=2.0)  # accuracy is benchmarks/accuracy.py's job

    # Every event the analyser emitted, in the report's order and form.
    assert rep["events"] == [e.to_dict() for e in sorted(run.result.events, key=lambda e: (e.t_s, e.code))]
    for e in rep["events"]:
        assert e["kind"] in ("fault", "count", "hold", "info") and e["message"]
        if e["kind"] == "fault":
            assert e["t_end_s"] >= e["t_s"] and e.get("side") in (None, "left", "right")

    (s,) = rep["summary"]["sets"]
    assert s["hold_s"] == pytest.approx(holds[0]["value"], abs=0.05)
    # The report is exactly the SessionResult the runner returned.
    assert rep == json.loads(json.dumps(run.result.to_report()))


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    edges = np.flatnonzero(np.diff(np.r_[0, mask.astype(int), 0]))
    return list(zip(edges[::2], edges[1::2] - 1))


def test_csv_and_json_agree(squat_run):
    _, out, _ = squat_run
    rep = json.loads(out.json.read_text())
    table = FrameTable.read_csv(out.csv)
    assert len(table) == rep["source"]["frames"]
    t = table.times()
    assert t[0] == pytest.approx(0.0) and np.all(np.diff(t) > 0)
    assert t[-1] == pytest.approx(rep["source"]["duration_s"] - 1 / 30, abs=0.05)
    assert table.column("detected").mean() == pytest.approx(rep["pose_coverage"])
    # Every fault event shows as its cue in the CSV, and every cue in the CSV is a fault
    # event: shown a debounce after its onset, gone a debounce after its end (min_on_s,
    # min_off_s: 0.4 s by default, longer for some drills' cues).
    cues = table.text_column("cues")
    faults = [e for e in rep["events"] if e["kind"] == "fault"]
    tokens = {tok for c in cues for tok in c.split()}
    assert tokens == {f"{e['code']}:{e['side']}" if e.get("side") else e["code"] for e in faults}
    for token in tokens:
        runs = _runs(np.array([token in c.split() for c in cues]))
        mine = [e for e in faults if token in (f"{e['code']}:{e.get('side')}", e["code"])]
        assert len(runs) == len(mine), token
        for (a, b), e in zip(runs, sorted(mine, key=lambda e: e["t_s"])):
            assert e["t_s"] <= t[a] <= e["t_s"] + 1.5
            assert e["t_end_s"] <= t[b] + 1 / 30 <= e["t_end_s"] + 1.5
    # The hold timer in the CSV reaches the hold event's good-form seconds.
    for e in (e for e in rep["events"] if e["kind"] == "hold"):
        inside = (t >= e["t_s"]) & (t <= e["t_end_s"] + 0.5)
        assert np.nanmax(table.column("hold_s")[inside]) == pytest.approx(e["value"], abs=0.1)
    # The measured values are columns with units in their names.
    assert "heel_lift_cm_left" in table.value_columns
    lift = table.column("heel_lift_cm_left")
    # The injected 3 cm lift (8-10.5 s) stands out from every flat-heel reading of the hold
    # (the analyser reads a heel only once it has learnt its flat-foot level: NaN before).
    during, flat = lift[(t > 8.5) & (t < 10)], lift[(t > 4) & (t < 7.5)]
    assert np.isfinite(during).any() and np.nanmax(during) > 2.0
    if np.isfinite(flat).any():
        assert np.nanmax(during) > 2 * np.nanmax(flat)


def test_csv_round_trip_keeps_every_cell(squat_run):
    run, out, _ = squat_run
    table = FrameTable.read_csv(out.csv)
    assert table.columns == run.table.columns
    for col in run.table.value_columns:
        a, b = run.table.column(col), table.column(col)
        assert np.array_equal(np.isnan(a), np.isnan(b))
        assert np.allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=1e-5, atol=1e-6)


def test_fault_thumbnails_for_the_html(squat_run):
    run, out, _ = squat_run
    # A landmark recording has no pictures: no thumbnails, but the page says why.
    assert run.thumbnails == []
    page = out.html.read_text()
    assert "Deep squat" in page and 'id="timeline"' in page
    if any(e.kind == "fault" for e in run.result.events):
        assert "No pictures: this source is a landmark recording" in page
    else:
        assert "No form faults" in page


@pytest.mark.parametrize("stop", [KeyboardInterrupt(), CameraError("Camera 0 stopped sending frames")])
def test_a_session_stopped_midway_saves_what_it_measured(squat_clip, tmp_path, stop):
    rec = write_recording(tmp_path / "squat.jsonl", squat_clip.frames[:330])
    html = tmp_path / "r.html" if isinstance(stop, KeyboardInterrupt) else None
    out = Outputs(json=tmp_path / "r.json", csv=tmp_path / "r.csv", html=html)

    def progress(n: int, t_s: float) -> None:
        if n == 300:
            raise stop

    with pytest.raises(type(stop)) as err:
        run_session(SessionRequest(rec, "deep-squat", outputs=out), progress=progress)
    partial = err.value.partial_run
    assert partial.frames == 300 and partial.result.interrupted
    rep = json.loads(out.json.read_text())
    assert rep["interrupted"] is True
    # The hold in progress at the stop is closed and counted, not lost.
    holds = [e for e in rep["events"] if e["kind"] == "hold"]
    assert len(holds) == 1 and holds[0]["t_end_s"] <= 300 / 30
    assert len(FrameTable.read_csv(out.csv)) == 300
    if html is not None:
        assert "This session was interrupted" in html.read_text()
    # Stored in the history too, marked as stopped.
    from formcheck.history import History

    with History.open() as h:
        (row,) = h.sessions()
        assert row.interrupted and row.drill == "deep-squat"


def test_no_person_in_any_frame(tmp_path):
    rec = write_recording(tmp_path / "empty.jsonl", [PoseFrame.empty(i / 30, 640, 480, i) for i in range(60)])
    out = Outputs(json=tmp_path / "r.json")
    with pytest.raises(NoPersonError, match="No person found in any of the 60 frames"):
        run_session(SessionRequest(rec, "deep-squat", outputs=out))
    rep = json.loads(out.json.read_text())
    assert rep["pose_coverage"] == 0.0
    assert {e["code"] for e in rep["events"]} <= {"no_person"}
    from formcheck.history import History

    with History.open() as h:
        assert h.sessions() == []  # nothing measured: not stored


def test_the_wrong_drill_counts_nothing(squat_clip, tmp_path):
    # A deep squat analysed as lateral hops: a person in every frame, but not one hop.
    rec = write_recording(tmp_path / "squat.jsonl", squat_clip.frames)
    out = Outputs(json=tmp_path / "r.json", csv=tmp_path / "r.csv")
    with pytest.raises(NothingCountedError, match="Nothing to count in squat.jsonl for lateral-hops") as err:
        run_session(SessionRequest(rec, "lateral-hops", outputs=out))
    assert err.value.exit_code == 7
    rep = json.loads(out.json.read_text())  # the partial results are still written
    assert rep["pose_coverage"] == 1.0 and not [e for e in rep["events"] if e["kind"] in ("hold", "count")]
    assert len(FrameTable.read_csv(out.csv)) == len(squat_clip.frames)


def test_finished_session_goes_to_the_history(squat_run):
    from formcheck.history import History

    run, out, _ = squat_run
    assert run.history_id is not None
    with History.open(out.json.parent / "data" / "history.db", create=False) as h:
        (row,) = h.sessions()
        assert row.id == run.history_id and not row.interrupted
        assert h.report(row.id)["events"] == run.result.to_report()["events"]
        from formcheck.history import flatten_metrics

        stored = h.metrics(row.id)
        assert stored == {(n, side): v for n, side, v in flatten_metrics(run.result.to_report())}
        assert stored[("sets", None)] == 1 and stored[("hold_s", None)] > 0


def test_ankle_abc_letters_are_kept_for_the_report(tmp_path):
    clip = landmark_clip(SynthSpec("ankle-abcs", reps=3), noise_px=0.5)
    rec = write_recording(tmp_path / "abc.jsonl", clip.frames)
    out = Outputs(html=tmp_path / "abc.html")
    run = run_session(SessionRequest(rec, "ankle-abcs", outputs=out, history=False))
    letters = [e for e in run.result.events if e.kind == "count"]
    assert len(letters) >= 2
    assert [tr.t_s for tr in run.traces] == [e.t_s for e in letters]
    for tr in run.traces:
        assert tr.points.shape[1] == 2 and len(tr.points) > 10
        assert tr.facing_camera  # filmed from the front: the report mirrors them back
    assert 'class="plot traces"' in out.html.read_text()


def test_a_4k_clip_gets_an_annotated_video_of_at_most_1280_px(tmp_path, pose_builder):
    """Frames, skeleton and ABC trace are scaled together: the skeleton lands on the body."""
    import cv2

    from formcheck.drills.base import LiveStatus
    from formcheck.runner import VIDEO_MAX_SIDE, FrameContext, VideoSink

    big = np.zeros((2160, 3840, 3), np.uint8)
    pose = pose_builder(scale=900.0, hip=(1920.0, 990.0), width=3840, height=2160)
    trace = np.array([[1800.0, 1900.0], [2000.0, 2000.0]])
    path = tmp_path / "big.mp4"
    sink = VideoSink(path, 30.0, (3840, 2160), 1.0)
    for i in range(3):
        status = LiveStatus("ankle-abcs", reading=True, trace=trace)
        sink.on_frame(FrameContext(big.copy(), pose, status, {}, []))
    sink.close()
    cap = cv2.VideoCapture(str(path))
    ok, frame = cap.read()
    assert ok and frame.shape[:2] == (720, VIDEO_MAX_SIDE)
    # The skeleton was drawn at a third of the landmarks' 4K positions: bright pixels around the
    # scaled hips, none far from the body.
    hip = (pose.image[[23, 24], :2].mean(axis=0) / 3).astype(int)
    near = frame[hip[1] - 40:hip[1] + 40, hip[0] - 80:hip[0] + 80]
    assert near.max() > 100
    assert frame[:500, :400].max() < 60  # the empty top-left stays empty
    # The trace's end, also scaled.
    assert frame[660:675, 660:675].max() > 100
