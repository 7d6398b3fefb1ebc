"""Sources: video files, image folders, cameras (live captures) and landmark recordings;
and the pose pipeline over a recording. No model runs here: see test_pose_cli.py."""

from __future__ import annotations

import dataclasses
import itertools
import json
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from formcheck.errors import CameraError, InputError
from formcheck.pipeline import pose_stream
from formcheck.pose.frame import PoseFrame
from formcheck.pose.smoothing import make_smoother
from formcheck.recording import RecordingWriter
from formcheck.report.session import SourceInfo
from formcheck.sources import (
    DEFAULT_PREFETCH,
    CameraSource,
    ImageFolderSource,
    LandmarkSource,
    VideoFileSource,
    open_source,
)

# ---------------------------------------------------------------------------- video files


def test_video_file_frames_in_order_with_container_timestamps(video_maker):
    path = video_maker("clip.avi", frames=30, fps=25.0)
    with open_source(path) as source:
        assert isinstance(source, VideoFileSource)
        assert source.info == SourceInfo("file", str(path), 25.0, 30, 30 / 25.0, 64, 48)
        frames = list(source)
    assert [f.index for f in frames] == list(range(30))
    np.testing.assert_allclose([f.t_s for f in frames], np.arange(30) / 25.0, atol=1e-6)
    # Frame i was written as grey level 5 i: the order survived the decode thread.
    np.testing.assert_allclose([f.luma for f in frames], 5 * np.arange(30), atol=3)
    assert all(f.image_bgr.shape == (48, 64, 3) and f.pose is None for f in frames)
    assert source.info.frames == 30


def test_mp4_files_decode_too(video_maker):
    path = video_maker("clip.mp4", frames=12, size=(96, 64), fourcc="mp4v")
    with open_source(path) as source:
        assert len(list(source)) == 12


def test_decoding_runs_ahead_on_its_own_thread(video_maker):
    path = video_maker(frames=30)
    with VideoFileSource(path) as source:
        it = iter(source)
        next(it)
        # While the consumer is busy, the decoder fills its queue.
        deadline = time.monotonic() + 3.0
        while source.frames_read < 1 + DEFAULT_PREFETCH and time.monotonic() < deadline:
            time.sleep(0.01)
        assert source.frames_read >= 1 + DEFAULT_PREFETCH
        assert any(t.name == "formcheck-decode" for t in threading.enumerate())
        # ...and no further: the queue is bounded.
        time.sleep(0.1)
        assert source.frames_read <= 2 + DEFAULT_PREFETCH


def test_stopping_early_ends_the_decode_thread(video_maker):
    path = video_maker(frames=40)
    source = VideoFileSource(path)
    for i, _ in enumerate(source):
        if i == 2:
            break
    source.close()
    deadline = time.monotonic() + 3.0
    while any(t.name == "formcheck-decode" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not any(t.name == "formcheck-decode" for t in threading.enumerate())


def test_max_frames(video_maker):
    with open_source(video_maker(frames=30), max_frames=7) as source:
        assert source.info.frames == 7
        assert len(list(source)) == 7


def test_truncated_video_keeps_the_frames_read_then_says_how_many(video_maker):
    path = video_maker("cut.avi", frames=40)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    got = []
    with open_source(path) as source, pytest.raises(InputError) as err:
        for frame in source:
            got.append(frame)  # noqa: PERF402 - list() would lose the frames read before the error
    assert 0 < len(got) < 40
    assert str(err.value) == f"cut.avi is truncated or damaged: decoding stopped after {len(got)} of 40 frames"


def test_zero_frame_video(video_maker):
    path = video_maker("empty.avi", frames=0)
    with pytest.raises(InputError, match=r"^empty\.avi has no video frames"):
        open_source(path)


def test_text_file_named_mp4(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("this is not a video\n")
    with pytest.raises(InputError, match=r"^notes\.mp4 is not a video formcheck can read"):
        open_source(path)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        open_source(tmp_path / "nope.mp4")


# -------------------------------------------------------------------------- image folders


def _png(path: Path, level: int) -> Path:
    cv2.imwrite(str(path), np.full((40, 30, 3), level, np.uint8))
    return path


def test_image_folder_natural_order_and_fps(tmp_path, caplog):
    for n, level in ((10, 100), (2, 20), (1, 10)):
        _png(tmp_path / f"img{n}.png", level)
    (tmp_path / "img3.png").write_text("not an image")  # a damaged photo
    (tmp_path / "notes.txt").write_text("ignored")
    with open_source(tmp_path, fps=10.0) as source:
        assert isinstance(source, ImageFolderSource)
        assert source.info.kind == "images" and source.info.fps == 10.0
        assert (source.info.width, source.info.height) == (30, 40)
        frames = list(source)
    # img1, img2, (img3 skipped, its time slot kept), img10
    assert [f.index for f in frames] == [0, 1, 3]
    np.testing.assert_allclose([f.t_s for f in frames], [0.0, 0.1, 0.3])
    np.testing.assert_allclose([f.luma for f in frames], [10, 20, 100], atol=1)
    assert [p.name for p in source.skipped] == ["img3.png"]
    assert "img3.png" in caplog.text


def test_single_image(tmp_path):
    with open_source(_png(tmp_path / "photo.png", 50)) as source:
        frames = list(source)
    assert len(frames) == 1 and frames[0].t_s == 0.0


def test_empty_folder(tmp_path):
    (tmp_path / "readme.txt").write_text("no pictures here")
    with pytest.raises(InputError, match=r"^No images \(.jpg, .png, ...\) in folder"):
        open_source(tmp_path)


def test_folder_of_unreadable_images(tmp_path):
    (tmp_path / "a.jpg").write_text("x")
    with pytest.raises(InputError, match="None of the 1 files .* could be read as an image"):
        open_source(tmp_path)


# --------------------------------------------------------------------------------- camera


def test_camera_index_that_does_not_exist():
    with pytest.raises(CameraError, match=r"^No camera at index 57: check it is plugged in"):
        open_source(57)
    with pytest.raises(CameraError, match="No camera at index 9"):
        open_source("9")


def _capture(path: Path, skip_to_end: bool = False) -> cv2.VideoCapture:
    cap = cv2.VideoCapture(str(path))
    assert cap.isOpened()
    if skip_to_end:
        while cap.read()[0]:
            pass
    return cap


def test_camera_that_opens_but_sends_nothing(video_maker):
    cap = _capture(video_maker(frames=3), skip_to_end=True)
    t0 = time.monotonic()
    with pytest.raises(CameraError, match=r"^Camera test-cam opened but sent no frames in 0.5 s"):
        CameraSource.from_capture(cap, "test-cam", open_timeout_s=0.5, frame_timeout_s=0.3)
    assert time.monotonic() - t0 < 3.0


def test_camera_unplugged_mid_stream_keeps_the_frames_so_far(video_maker):
    # A live capture whose frames stop after 20, as when the cable is pulled.
    cap = _capture(video_maker(frames=20))
    got = []
    with (CameraSource.from_capture(cap, "test-cam", latest_only=False, frame_timeout_s=0.4) as source,
          pytest.raises(CameraError) as err):
        for frame in source:
            got.append(frame)  # noqa: PERF402 - list() would lose the frames read before the error
    assert len(got) == 20
    assert str(err.value) == "Camera test-cam stopped sending frames (unplugged?) after 20 frames"
    assert got[0].t_s == 0.0
    assert all(b.t_s > a.t_s for a, b in itertools.pairwise(got))
    assert [f.index for f in got] == list(range(20))
    assert source.info.kind == "camera" and source.info.frames == 20


def test_camera_latest_only_drops_stale_frames(video_maker):
    cap = _capture(video_maker(frames=60))
    got = []
    with CameraSource.from_capture(cap, "test-cam", latest_only=True, frame_timeout_s=0.4) as source:
        with pytest.raises(CameraError):
            for frame in source:
                got.append(frame.index)
                time.sleep(0.02)  # a slow consumer
        dropped = source.dropped
    assert dropped > 0
    assert len(got) + dropped == 60  # every captured frame either delivered or counted
    assert got == sorted(got) and got[-1] == 59  # always the newest, never a backlog


# --------------------------------------------------------------------- landmark recordings

_INFO = SourceInfo("file", "walk.mp4", 30.0, 4, 4 / 30, 1280, 720)


def _poses(pose_builder, n: int = 4) -> list[PoseFrame]:
    out = []
    for i in range(n):
        if i == 2:
            out.append(PoseFrame.empty(i / 30, 1280, 720, i, luma=80.0))
            continue
        p = pose_builder(t_s=i / 30, index=i)
        im = p.image.copy()
        im[:, 0] += 7.123456 * i
        out.append(dataclasses.replace(p, image=im, luma=80.0))
    return out


def _record(path: Path, poses: list[PoseFrame], smoothing: dict | None = None) -> Path:
    with RecordingWriter(path, _INFO, "lite", smoothing) as rec:
        for p in poses:
            rec.write(p)
    return path


def test_recording_round_trip(tmp_path, pose_builder):
    poses = _poses(pose_builder)
    path = _record(tmp_path / "walk.jsonl", poses)
    header = json.loads(path.read_text().splitlines()[0])
    assert header["formcheck_recording"] == 1 and header["model"] == "lite"
    assert header["source"] == _INFO.to_dict()
    with open_source(path) as source:
        assert isinstance(source, LandmarkSource)
        assert not source.smoothed
        assert source.info.kind == "landmarks" and source.info.frames == 4
        assert (source.info.width, source.info.height) == (1280, 720)
        frames = list(source)
    assert [f.image_bgr for f in frames] == [None] * 4
    for f, p in zip(frames, poses, strict=True):
        assert f.t_s == pytest.approx(p.t_s, abs=1e-6) and f.index == p.index and f.luma == 80.0
        assert f.pose.detected == p.detected
        if p.detected:
            np.testing.assert_allclose(f.pose.image, p.image, atol=1e-5)
            np.testing.assert_allclose(f.pose.world, p.world, atol=1e-5)
            np.testing.assert_allclose(f.pose.visibility, p.visibility, atol=1e-4)


def test_recording_cut_mid_line_loses_only_that_line(tmp_path, pose_builder, caplog):
    path = _record(tmp_path / "cut.jsonl", _poses(pose_builder))
    text = path.read_text()
    path.write_text(text[: len(text) - 500])
    with open_source(path) as source:
        assert len(list(source)) == 3
    assert "unfinished last line" in caplog.text


def test_recording_with_a_damaged_line(tmp_path, pose_builder):
    path = _record(tmp_path / "bad.jsonl", _poses(pose_builder))
    lines = path.read_text().splitlines()
    lines[2] = lines[2][:40]
    path.write_text("\n".join(lines) + "\n")
    with open_source(path) as source, pytest.raises(InputError, match=r"^bad\.jsonl line 3 is not valid JSON"):
        list(source)


@pytest.mark.parametrize(("content", "message"), [
    ('{"name": "not a pose"}\n', r"^x\.jsonl line 1 is not a landmark frame"),
    ("hello\n", r"^x\.jsonl line 1 is not valid JSON"),
    ("", r"^x\.jsonl holds no landmark frames"),
])
def test_jsonl_that_is_not_a_recording(tmp_path, content, message):
    path = tmp_path / "x.jsonl"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        open_source(path)


def test_pipeline_replays_a_recording_without_a_model(tmp_path, pose_builder):
    poses = _poses(pose_builder, n=8)
    raw = _record(tmp_path / "raw.jsonl", poses)
    with open_source(raw) as source:
        pairs = list(pose_stream(source, None, smoother=make_smoother()))
    assert [vf.index for vf, _ in pairs] == list(range(8))
    reference = make_smoother()
    for (_, got), p in zip(pairs, poses, strict=True):
        want = reference(PoseFrame.from_dict(p.to_dict()))
        np.testing.assert_allclose(got.image, want.image, equal_nan=True)

    # A recording made with smoothing is not smoothed a second time.
    smoothed = _record(tmp_path / "smooth.jsonl", [p for _, p in pairs], make_smoother().settings())
    with open_source(smoothed) as source:
        assert source.smoothed
        again = [p for _, p in pose_stream(source, None, smoother=make_smoother())]
    for a, (_, b) in zip(again, pairs, strict=True):
        np.testing.assert_allclose(a.image, b.image, atol=1e-5, equal_nan=True)


def test_pipeline_needs_an_estimator_for_images(video_maker):
    with open_source(video_maker(frames=3)) as source, pytest.raises(ValueError, match="needs an estimator"):
        list(pose_stream(source, None))
