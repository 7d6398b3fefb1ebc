"""The parts of the live loop that keep it on the newest frame: real-time playback of a
recording as a camera, the pose pump, latency accounting and the real-time recorder."""

from __future__ import annotations

import itertools
import time

import cv2
import numpy as np
import pytest

from formcheck.errors import InputError
from formcheck.live.loop import LatencyStats, PosePump, RealtimeRecorder
from formcheck.live.playback import RealtimePlayback
from formcheck.recording import RecordingWriter
from formcheck.report.session import SourceInfo
from formcheck.sources import open_source
from formcheck.synth import SynthSpec, landmark_clip


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """1.5 s of a standing actor at 30 fps, as a landmark recording."""
    path = tmp_path_factory.mktemp("rec") / "clip.jsonl"
    frames = landmark_clip(SynthSpec("deep-squat", width=320, height=240, duration_s=1.5)).frames
    info = SourceInfo("file", "clip", 30.0, len(frames), frames[-1].t_s, 320, 240)
    with RecordingWriter(path, info, "synth", None) as w:
        for f in frames:
            w.write(f)
    return path


def test_playback_keeps_real_time(recording):
    src = RealtimePlayback(lambda: open_source(recording))
    t0 = time.monotonic()
    frames = list(src)
    took = time.monotonic() - t0
    src.close()
    assert 1.3 < took < 3.0  # the clip's own 1.5 s, not as fast as it can be read
    assert len(frames) + src.dropped == src.frames_released
    assert [f.t_s for f in frames] == sorted(f.t_s for f in frames)
    assert src.info.kind == "landmarks" and src.last_capture_t is not None


def test_a_slow_consumer_gets_the_newest_frame_and_the_rest_are_dropped(recording):
    src = RealtimePlayback(lambda: open_source(recording))
    seen = []
    for f in src:
        seen.append((f.t_s, time.monotonic() - src.last_capture_t))
        time.sleep(0.2)  # a consumer at 5 fps
    src.close()
    assert len(seen) <= 10 and src.dropped >= 30
    # What it gets was captured within the last frame period or so (more on a busy machine),
    # never a backlog, whose age would grow by the consumer's 0.2 s at every step.
    ages = [age for _, age in seen]
    assert float(np.median(ages)) < 0.06 and max(ages) < 0.2


def test_looped_playback_keeps_time_increasing(recording):
    src = RealtimePlayback(lambda: open_source(recording), loop=True, speed=4.0)
    ts = []
    for f in src:
        ts.append(f.t_s)
        if f.t_s > 3.5:
            break
    src.close()
    assert all(b > a for a, b in itertools.pairwise(ts))
    assert ts[-1] > 3.5  # past the end of the 1.5 s clip, twice


def test_source_that_dies_mid_stream_raises_after_its_frames(tmp_path, recording):
    lines = recording.read_text().splitlines(keepends=True)
    broken = tmp_path / "broken.jsonl"
    broken.write_text("".join(lines[:20] + ["{not json\n"] + lines[20:]))
    src = RealtimePlayback(lambda: open_source(broken), speed=8.0)
    got = []
    with pytest.raises(InputError, match="not valid JSON"):
        for f in src:
            got.append(f)
            time.sleep(0.001)
    src.close()
    assert got  # the frames before the damage were delivered


def test_missing_file_fails_at_once(tmp_path):
    with pytest.raises(InputError, match="not found"):
        RealtimePlayback(lambda: open_source(tmp_path / "nope.mp4"))


def test_pose_pump_runs_ahead_and_hands_over_the_newest(recording):
    src = RealtimePlayback(lambda: open_source(recording))
    pump = PosePump(src, lambda vf: (vf.pose, np.zeros((2, 2, 3), np.uint8)))
    got = []
    while (item := pump.get(2.0)) is not None:
        if item == "wait":
            continue
        _vf, pose, _, captured = item
        got.append(pose.t_s)
        assert captured is not None
        time.sleep(0.1)  # a slow display
    assert pump.stop()
    src.close()
    assert got == sorted(got) and 10 <= len(got) <= 20
    assert pump.dropped + src.dropped > 0


def test_pose_pump_passes_the_source_error_on(tmp_path, recording):
    lines = recording.read_text().splitlines(keepends=True)
    broken = tmp_path / "broken.jsonl"
    broken.write_text("".join(lines[:10] + ["{not json\n"] + lines[10:]))
    src = RealtimePlayback(lambda: open_source(broken), speed=8.0)
    pump = PosePump(src, lambda vf: (vf.pose, None))
    with pytest.raises(InputError):
        while pump.get(2.0) is not None:
            pass
    assert pump.stop()


def test_latency_stats():
    st = LatencyStats()
    for i in range(100):
        st.add(10.0 + i / 20, 10.0 + i / 20 - (0.040 if i < 50 else 0.060))
    s = st.summary(frames_captured=150)
    assert s["latency_median_ms"] == pytest.approx(50, abs=10.1)
    assert s["latency_first_fifth_ms"] == pytest.approx(40) and s["latency_last_fifth_ms"] == pytest.approx(60)
    assert s["dropped_share"] == pytest.approx(1 / 3)
    assert s["display_fps"] == pytest.approx(20, rel=0.01)
    assert st.readout().endswith("ms")


def test_recorder_keeps_real_time(tmp_path):
    rec = RealtimeRecorder(tmp_path / "rec.mp4", fps=30.0)
    img = np.zeros((120, 160, 3), np.uint8)
    for i in range(20):  # 20 frames shown over 2 s (10 fps): the video still plays 2 s
        rec.write(img.copy(), i / 10)
    rec.close()
    cap = cv2.VideoCapture(str(tmp_path / "rec.mp4"))
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    cap.release()
    assert 55 <= n <= 60
