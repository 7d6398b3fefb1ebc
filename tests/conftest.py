"""Shared test fixtures: the real footage folder, hand-built poses with known geometry, and
the real model's smoothed poses of a video."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from formcheck.pose.frame import PoseFrame
from formcheck.pose.landmarks import LM, NUM_LANDMARKS

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
SAMPLE_VIDEOS = REPO / "sample_videos"


def values_through(analyser, frames, key: str) -> np.ndarray:
    """Feed the frames to the analyser one by one; its values()[key] after each."""
    got = []
    for f in frames:
        analyser.update(f)
        got.append(analyser.values()[key])
    return np.array(got, dtype=float)


def smoothed_model_poses(video: Path, model: str = "full") -> list[PoseFrame]:
    """Every frame of `video` through the real pose model and the smoother, as `analyze` runs
    them: what an analyser sees end to end."""
    from formcheck.pipeline import pose_stream
    from formcheck.pose.estimator import PoseEstimator
    from formcheck.pose.smoothing import PoseSmoother
    from formcheck.sources import open_source

    smoother = PoseSmoother()
    with open_source(video) as src, PoseEstimator(model) as est:
        return [smoother(pose) for _, pose in pose_stream(src, est)]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data (real footage, never copied into the repo); skips the test when absent."""
    if not (SHARED_DATA / "MANIFEST.md").is_file():
        pytest.skip(f"real footage not available at {SHARED_DATA}")
    return SHARED_DATA


# A standing adult facing the camera, in leg lengths (hip to ankle = 1), origin between
# the hips, x toward the image's right, y down. Facing the camera, the person's left is
# on the image's right. Proportions: torso 0.62, shoulders 0.8 wide, hips 0.34 wide.
_FRONT = {
    LM.NOSE: (0.0, -0.95), LM.LEFT_EYE_INNER: (0.03, -0.99), LM.LEFT_EYE: (0.05, -0.99),
    LM.LEFT_EYE_OUTER: (0.07, -0.99), LM.RIGHT_EYE_INNER: (-0.03, -0.99), LM.RIGHT_EYE: (-0.05, -0.99),
    LM.RIGHT_EYE_OUTER: (-0.07, -0.99), LM.LEFT_EAR: (0.1, -0.96), LM.RIGHT_EAR: (-0.1, -0.96),
    LM.MOUTH_LEFT: (0.04, -0.9), LM.MOUTH_RIGHT: (-0.04, -0.9),
    LM.LEFT_SHOULDER: (0.4, -0.62), LM.RIGHT_SHOULDER: (-0.4, -0.62),
    LM.LEFT_ELBOW: (0.45, -0.3), LM.RIGHT_ELBOW: (-0.45, -0.3),
    LM.LEFT_WRIST: (0.47, 0.0), LM.RIGHT_WRIST: (-0.47, 0.0),
    LM.LEFT_PINKY: (0.49, 0.06), LM.RIGHT_PINKY: (-0.49, 0.06),
    LM.LEFT_INDEX: (0.47, 0.07), LM.RIGHT_INDEX: (-0.47, 0.07),
    LM.LEFT_THUMB: (0.45, 0.05), LM.RIGHT_THUMB: (-0.45, 0.05),
    LM.LEFT_HIP: (0.17, 0.0), LM.RIGHT_HIP: (-0.17, 0.0),
    LM.LEFT_KNEE: (0.17, 0.5), LM.RIGHT_KNEE: (-0.17, 0.5),
    LM.LEFT_ANKLE: (0.17, 1.0), LM.RIGHT_ANKLE: (-0.17, 1.0),
    LM.LEFT_HEEL: (0.17, 1.05), LM.RIGHT_HEEL: (-0.17, 1.05),
    LM.LEFT_FOOT_INDEX: (0.2, 1.08), LM.RIGHT_FOOT_INDEX: (-0.2, 1.08),
}


def _body(view: str) -> tuple[np.ndarray, np.ndarray]:
    """(33, 2) image-plane shape and (33,) depth (leg lengths, + away from the camera)."""
    front = np.array([_FRONT[LM(i)] for i in range(NUM_LANDMARKS)], float)
    lateral = front[:, 0].copy()  # the person's left-right axis
    if view == "front":
        return front, np.zeros(NUM_LANDMARKS)
    if view == "side":
        # Turned 90 degrees to face image right: the left-right axis now points into the
        # picture, and the feet and nose point right.
        shape = front.copy()
        shape[:, 0] = 0.0
        shape[[LM.LEFT_FOOT_INDEX, LM.RIGHT_FOOT_INDEX], 0] = 0.2
        shape[[LM.LEFT_HEEL, LM.RIGHT_HEEL], 0] = -0.05
        shape[LM.NOSE, 0] = 0.12
        return shape, lateral
    raise ValueError(view)


def make_pose(view: str = "front", *, scale: float = 300.0, hip: tuple[float, float] = (640.0, 330.0),
              width: int = 1280, height: int = 720, t_s: float = 0.0, visibility: float = 0.99,
              index: int = -1) -> PoseFrame:
    """A hand-built standing pose: `scale` pixels per leg length, hips centred at `hip`."""
    shape, depth = _body(view)
    image = np.column_stack([hip[0] + scale * shape[:, 0], hip[1] + scale * shape[:, 1], scale * depth])
    leg_m = 0.85
    world = np.column_stack([leg_m * shape[:, 0], leg_m * shape[:, 1], leg_m * depth])
    return PoseFrame(t_s, image, world, np.full(NUM_LANDMARKS, visibility), width, height, index)


@pytest.fixture
def pose_builder() -> Callable[..., PoseFrame]:
    """make_pose(view="front"|"side", scale=..., hip=(x, y), ...) -> PoseFrame."""
    return make_pose


def write_video(path: Path, frames: int = 30, size: tuple[int, int] = (64, 48), fps: float = 30.0,
                fourcc: str = "MJPG") -> Path:
    """A small video whose frame i is a flat grey of level 5 * i (so order can be checked)."""
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, size)
    assert writer.isOpened(), f"cannot write {fourcc} to {path}"
    for i in range(frames):
        writer.write(np.full((size[1], size[0], 3), min(255, 5 * i), np.uint8))
    writer.release()
    return path


@pytest.fixture
def video_maker(tmp_path: Path) -> Callable[..., Path]:
    """video_maker(name="clip.avi", frames=30, size=(64, 48), fps=30, fourcc="MJPG") -> Path."""

    def make(name: str = "clip.avi", **kw) -> Path:
        return write_video(tmp_path / name, **kw)

    return make
