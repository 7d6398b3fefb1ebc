"""`formcheck pose`: the skeleton overlay, the video writer, replaying a recording, and
(marked `model`) the real model on a short real clip."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from formcheck import cli
from formcheck.commands.pose_cmd import run_pose
from formcheck.drills.base import LiveStatus
from formcheck.errors import CameraError, InputError
from formcheck.pose.frame import PoseFrame
from formcheck.pose.landmarks import LM
from formcheck.recording import RecordingWriter
from formcheck.render.skeleton import LEFT_COLOUR, RIGHT_COLOUR, SkeletonAnnotator
from formcheck.render.theme import FAULT
from formcheck.render.video_writer import VideoWriter
from formcheck.report.session import SourceInfo
from formcheck.sources import CameraSource, open_source

CLIP = "treadtv_jumping_jacks_front_man.mp4"  # a man in full view, 352x640, front


def run_cli(monkeypatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["formcheck", *args])
    with pytest.raises(SystemExit) as exc:
        cli.main()
    return exc.value.code


def read_video(path: Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, image = cap.read()
        if not ok:
            return frames
        frames.append(image)


def near(pixel: np.ndarray, colour: tuple[int, int, int], tol: int = 40) -> bool:
    return bool(np.abs(pixel.astype(int) - np.array(colour)).max() <= tol)


# ------------------------------------------------------------------------------ skeleton


def test_skeleton_draws_sides_and_faults(pose_builder):
    pose = pose_builder("front", scale=300, hip=(640, 330))
    knee_l, knee_r = (tuple(np.round(pose.xy(k)).astype(int)) for k in (LM.LEFT_KNEE, LM.RIGHT_KNEE))
    scene = SkeletonAnnotator().annotate(np.zeros((720, 1280, 3), np.uint8), pose)
    assert near(scene[knee_l[1], knee_l[0]], LEFT_COLOUR)
    assert near(scene[knee_r[1], knee_r[0]], RIGHT_COLOUR)
    # Midway along the left shin: the segment is drawn.
    shin = ((pose.xy(LM.LEFT_KNEE) + pose.xy(LM.LEFT_ANKLE)) / 2).round().astype(int)
    assert near(scene[shin[1], shin[0]], LEFT_COLOUR)

    status = LiveStatus(drill="deep-squat", fault_landmarks=frozenset({int(LM.LEFT_KNEE)}))
    scene = SkeletonAnnotator().annotate(np.zeros((720, 1280, 3), np.uint8), pose, status)
    assert near(scene[knee_l[1], knee_l[0]], FAULT)
    assert near(scene[shin[1], shin[0]], FAULT)  # the segments touching it too
    assert near(scene[knee_r[1], knee_r[0]], RIGHT_COLOUR)


def test_skeleton_skips_unseen_landmarks_and_empty_frames(pose_builder):
    pose = pose_builder()
    vis = pose.visibility.copy()
    vis[LM.LEFT_ANKLE] = 0.1
    scene = SkeletonAnnotator().annotate(np.zeros((720, 1280, 3), np.uint8),
                                         PoseFrame(0.0, pose.image, pose.world, vis, 1280, 720))
    shin = ((pose.xy(LM.LEFT_KNEE) + pose.xy(LM.LEFT_ANKLE)) / 2).round().astype(int)
    assert scene[shin[1], shin[0]].max() == 0  # a guessed shin is not drawn
    blank = np.zeros((72, 128, 3), np.uint8)
    assert SkeletonAnnotator().annotate(blank, PoseFrame.empty(0.0, 128, 72)).max() == 0


def test_skeleton_survives_absurd_coordinates(pose_builder):
    pose = pose_builder()
    im = pose.image.copy()
    im[LM.LEFT_KNEE] = (1e12, -1e12, 0)
    im[LM.NOSE] = (np.inf, 5, 0)
    SkeletonAnnotator().annotate(np.zeros((72, 128, 3), np.uint8),
                                 PoseFrame(0.0, im, pose.world, pose.visibility, 128, 72))


# --------------------------------------------------------------------------- video writer


def test_video_writer_encodes_on_its_thread(tmp_path):
    path = tmp_path / "out.mp4"
    with VideoWriter(path, 30.0, (64, 48)) as writer:
        for i in range(10):
            writer.write(np.full((48, 64, 3), 20 * i, np.uint8))
        writer.write(np.zeros((100, 100, 3), np.uint8))  # another size: resized
    assert writer.fourcc in ("avc1", "mp4v")
    frames = read_video(path)
    assert len(frames) == 11 and frames[0].shape == (48, 64, 3)
    assert abs(float(frames[5].mean()) - 100) < 5


def test_video_writer_places_timed_frames_by_their_time(tmp_path):
    """A variable-rate clip (frames 3 and 4 dropped, one frame early by jitter) keeps real time:
    each frame is repeated until the next one's slot, and a frame early by a fraction of a
    slot still gets its own."""
    path = tmp_path / "timed.mp4"
    times = [0.0, 0.1, 0.2, 0.5, 0.6, 0.69, 0.8]
    with VideoWriter(path, 10.0, (64, 48)) as writer:
        for i, t in enumerate(times):
            writer.write(np.full((48, 64, 3), 30 * i, np.uint8), 100.0 + t)
    levels = [round(float(f.mean()) / 30) for f in read_video(path)]
    assert levels == [0, 1, 2, 2, 2, 3, 4, 5, 6]


def test_video_writer_unwritable_path(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises((InputError, OSError)):
        VideoWriter(blocker / "out.mp4", 30.0, (64, 48))


# ------------------------------------------------------------------- replaying recordings


def _recording(path: Path, pose_builder, n: int = 6) -> Path:
    info = SourceInfo("file", "clip.mp4", 30.0, n, n / 30, 1280, 720)
    with RecordingWriter(path, info, "full") as rec:
        for i in range(n):
            rec.write(pose_builder(t_s=i / 30, index=i, hip=(600 + 10 * i, 330)))
    return path


def test_pose_replays_a_recording_into_a_skeleton_video(monkeypatch, tmp_path, pose_builder):
    rec = _recording(tmp_path / "in.jsonl", pose_builder)
    out, video = tmp_path / "out.jsonl", tmp_path / "skeleton.mp4"
    code = run_cli(monkeypatch, "pose", str(rec), "--out", str(out), "--video", str(video), "-q")
    assert code in (0, None)
    lines = out.read_text().splitlines()
    header = json.loads(lines[0])
    assert header["model"] == "full"  # the model that made the poses, not "none"
    assert header["smoothing"]["filter"] == "one_euro"
    assert len(lines) == 7
    frames = read_video(video)
    assert len(frames) == 6 and frames[0].shape == (720, 1280, 3)
    # Drawn on black where the knee is (the smoothed knee trails the moving one by a few px).
    knee = pose_builder(hip=(600 + 10 * 3, 330)).xy(LM.LEFT_KNEE).round().astype(int)
    assert frames[3][knee[1] - 4: knee[1] + 5, knee[0] - 15: knee[0] + 5].max() > 100
    assert frames[3][:25].max() < 30  # and nothing above the head (nose at y=45)


# --------------------------------------------------------------------------- real model


@pytest.fixture(scope="module")
def clip(shared_data) -> Path:
    path = shared_data / CLIP
    if not path.exists():
        pytest.skip(f"{CLIP} not in the shared footage")
    return path


@pytest.mark.model
@pytest.mark.shared_data
def test_pose_on_a_real_clip(monkeypatch, tmp_path, clip):
    out, video = tmp_path / "poses.jsonl", tmp_path / "overlay.mp4"
    code = run_cli(monkeypatch, "pose", str(clip), "--out", str(out), "--video", str(video),
                   "--model", "lite", "--max-frames", "24", "-q")
    assert code in (0, None)
    lines = out.read_text().splitlines()
    header = json.loads(lines[0])
    assert header["model"] == "lite" and header["source"]["width"] == 352
    poses = [PoseFrame.from_dict(json.loads(line)) for line in lines[1:]]
    assert len(poses) == 24
    assert sum(p.detected for p in poses) >= 22
    np.testing.assert_allclose([p.t_s for p in poses[:3]], np.arange(3) / 30.42, atol=2e-3)
    for p in poses:
        if not p.detected:
            continue
        # The man stands in the middle of a 352 px wide frame, head above hips above feet.
        hips = (p.xy(LM.LEFT_HIP) + p.xy(LM.RIGHT_HIP)) / 2
        assert 100 < hips[0] < 252
        assert p.xy(LM.NOSE)[1] < hips[1] < p.xy(LM.LEFT_ANKLE)[1]
        # Facing the camera: his left hip is on the image's right.
        assert p.xy(LM.LEFT_HIP)[0] > p.xy(LM.RIGHT_HIP)[0]

    frames, source = read_video(video), read_video(clip)[:24]
    assert len(frames) == 24 and frames[0].shape == source[0].shape
    # The overlay differs from the footage where the skeleton is, and only around the body.
    p = poses[12]
    diff = np.abs(frames[12].astype(int) - source[12].astype(int)).max(axis=2) > 60
    assert diff.sum() > 300
    ys, xs = np.nonzero(diff)
    seen = p.image[p.seen()]
    assert xs.min() >= seen[:, 0].min() - 20 and xs.max() <= seen[:, 0].max() + 20
    assert ys.min() >= seen[:, 1].min() - 20 and ys.max() <= seen[:, 1].max() + 20

    # The recording replays through the same pipeline: same poses, not smoothed twice.
    again = tmp_path / "again.jsonl"
    assert run_cli(monkeypatch, "pose", str(out), "--out", str(again), "-q") in (0, None)
    replayed = [json.loads(line) for line in again.read_text().splitlines()[1:]]
    assert replayed == [json.loads(line) for line in lines[1:]]


@pytest.mark.model
@pytest.mark.shared_data
def test_camera_lost_mid_recording_keeps_the_poses(tmp_path, clip):
    from formcheck.pose.estimator import PoseEstimator

    # A live feed that delivers 15 frames of real footage and then goes silent.
    short = tmp_path / "feed.avi"
    frames = read_video(clip)[:15]
    writer = cv2.VideoWriter(str(short), cv2.VideoWriter_fourcc(*"MJPG"), 30, frames[0].shape[1::-1])
    for f in frames:
        writer.write(f)
    writer.release()
    out = tmp_path / "live.jsonl"
    cap = cv2.VideoCapture(str(short))
    with (CameraSource.from_capture(cap, "0", latest_only=False, backlog=64, frame_timeout_s=0.5) as source,
          PoseEstimator("lite") as estimator, pytest.raises(CameraError, match="stopped sending frames")):
        run_pose(source, estimator, out=out)
    lines = out.read_text().splitlines()
    assert len(lines) == 16
    assert sum(PoseFrame.from_dict(json.loads(x)).detected for x in lines[1:]) >= 13


def test_open_source_is_used_for_every_kind(tmp_path, pose_builder, video_maker):
    """The kinds `formcheck pose` accepts, by what the argument names."""
    rec = _recording(tmp_path / "r.jsonl", pose_builder)
    assert open_source(rec).info.kind == "landmarks"
    with open_source(video_maker()) as s:
        assert s.info.kind == "file"
    folder = tmp_path / "imgs"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), np.zeros((8, 8, 3), np.uint8))
    with open_source(folder) as s:
        assert s.info.kind == "images"
