"""ProcessPoseEstimator: the model in a child process gives the same poses as in this one,
in order, and fails with the same one-line errors."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from formcheck.errors import ModelError
from formcheck.pipeline import pose_stream
from formcheck.pose.estimator import PoseEstimator
from formcheck.pose.inference_process import ProcessPoseEstimator, open_estimator
from formcheck.sources import open_source

pytestmark = pytest.mark.model

SAMPLE = Path(__file__).resolve().parents[1] / "sample_videos" / "deep-squat.mp4"
FRAMES = 24


@pytest.fixture(scope="module")
def frames() -> list[tuple[np.ndarray, float]]:
    with open_source(SAMPLE, max_frames=FRAMES) as source:
        return [(vf.image_bgr, vf.t_s) for vf in source]


def _same(a, b) -> None:
    assert a.t_s == b.t_s and a.index == b.index and (a.width, a.height) == (b.width, b.height)
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.world, b.world)
    np.testing.assert_array_equal(a.visibility, b.visibility)


def test_same_poses_as_in_process_and_in_order(frames):
    with PoseEstimator("lite") as here:
        expected = [here.process(img, t, i) for i, (img, t) in enumerate(frames)]
    with ProcessPoseEstimator("lite") as there:
        assert there.model_name == "lite" and there.pid != os.getpid()
        got = []
        for i, (img, t) in enumerate(frames):
            there.submit(img, t, i)
            if i >= 1:  # two in flight: the next frame waits while one is inferred
                got.append(there.collect())
        got.append(there.collect())
    assert sum(p.detected for p in expected) == FRAMES
    for a, b in zip(expected, got, strict=True):
        _same(a, b)


def test_pipeline_through_the_child_keeps_every_frame(frames):
    with open_source(SAMPLE, max_frames=FRAMES) as source, open_estimator("lite") as est:
        out = list(pose_stream(source, est))
    assert [vf.index for vf, _ in out] == list(range(FRAMES))
    assert all(pose.index == vf.index and pose.t_s == vf.t_s for vf, pose in out)
    assert all(pose.luma is not None for _, pose in out)


def test_a_bad_model_is_a_model_error(tmp_path):
    bad = tmp_path / "broken.task"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="cannot load pose model"):
        ProcessPoseEstimator(bad)


def test_a_dead_model_process_is_a_clear_error(frames):
    est = ProcessPoseEstimator("lite")
    try:
        est._proc.kill()
        est._proc.join()
        with pytest.raises(ModelError, match="stopped unexpectedly"):
            est.process(*frames[0])
    finally:
        est.close()


def test_close_frees_the_shared_memory(frames):
    est = ProcessPoseEstimator("lite")
    est.process(*frames[0])
    name = est._shm.name
    assert Path("/dev/shm", name.lstrip("/")).exists()
    est.close()
    assert not Path("/dev/shm", name.lstrip("/")).exists()
    est.close()  # twice is harmless
