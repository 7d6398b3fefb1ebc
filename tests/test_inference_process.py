"""ProcessPoseEstimator: the model in a child process gives the same poses as in this one,
in order, and fails with the same one-line errors."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from formcheck.errors import ModelError
from formcheck.pipeline import pose_stream
from formcheck.pose.estimator import MODEL_MAX_SIDE, PoseEstimator, model_input_shape
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


def test_a_huge_frame_is_shrunk_for_the_model_but_landmarks_stay_in_its_pixels(frames):
    image, t = frames[0]
    big = cv2.resize(image, (image.shape[1] * 6, image.shape[0] * 6), interpolation=cv2.INTER_LINEAR)
    assert model_input_shape(big.shape)[1] == MODEL_MAX_SIDE
    with PoseEstimator("lite", mode="image") as here:
        small_pose = here.process(image, t, 0)
        big_pose = here.process(big, t, 0)
    with ProcessPoseEstimator("lite", mode="image") as there:
        big_there = there.process(big, t, 0)
    assert (big_pose.width, big_pose.height) == (big.shape[1], big.shape[0])
    _same(big_pose, big_there)
    seen = small_pose.seen() & big_pose.seen()
    assert seen.sum() >= 20
    # Same body points, in the big frame's pixels: within 1 % of the frame's height.
    err = np.abs(big_pose.image[seen, :2] - 6 * small_pose.image[seen, :2])
    assert np.median(err) < 0.01 * big.shape[0]


def test_frames_of_different_sizes_in_flight_together(frames):
    """An image folder of photos of different sizes: a new size while frames are in flight."""
    image, t = frames[0]
    small = cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2))
    with PoseEstimator("lite", mode="image") as here:
        expected = [here.process(im, t, i) for i, im in enumerate((image, small, image))]
    with ProcessPoseEstimator("lite", mode="image") as there:
        there.submit(image, t, 0)
        there.submit(small, t, 1)
        got = [there.collect()]
        there.submit(image, t, 2)
        got += [there.collect(), there.collect()]
        assert not there._retired  # the old blocks are freed once their frames are back
    for a, b in zip(expected, got, strict=True):
        _same(a, b)


def _cpus_allowed(tid_path: str) -> set[int]:
    for line in Path(tid_path, "status").read_text().splitlines():
        if line.startswith("Cpus_allowed_list:"):
            out: set[int] = set()
            for part in line.split(":", 1)[1].strip().split(","):
                a, _, b = part.partition("-")
                out |= set(range(int(a), int(b or a) + 1))
            return out
    raise AssertionError("no Cpus_allowed_list")


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="pins threads on Linux with two CPUs or more")
def test_the_model_has_cpus_of_its_own_while_it_runs(frames):
    """Every thread of the model's process runs on its CPUs, every thread of this process
    on the others, and afterwards this process may use all of them again."""
    before = os.sched_getaffinity(0)
    with ProcessPoseEstimator("lite") as est:
        est.process(*frames[0])
        model_cpus = set.union(*(_cpus_allowed(f"/proc/{est.pid}/task/{t}") for t in os.listdir(f"/proc/{est.pid}/task")))
        ours = [_cpus_allowed(f"/proc/self/task/{t}") for t in os.listdir("/proc/self/task")]
        assert model_cpus and model_cpus < before
        assert all(cpus == before - model_cpus for cpus in ours)
    assert os.sched_getaffinity(0) == before
    assert all(_cpus_allowed(f"/proc/self/task/{t}") == before for t in os.listdir("/proc/self/task"))


def _model_and_our_cpus(frames) -> tuple[set[int], set[int]]:
    """Where a model process runs, and where this process runs, while it is open."""
    with ProcessPoseEstimator("lite") as est:
        est.process(*frames[0])
        return _cpus_allowed(f"/proc/{est.pid}"), os.sched_getaffinity(0)


@contextlib.contextmanager
def _held_elsewhere(cpus: set[int]):
    """The lock another formcheck's model holds on `cpus`."""
    import fcntl

    from formcheck.pose.cpus import _lock_path

    with open(_lock_path(cpus), "ab") as f:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="pins threads on Linux with two CPUs or more")
def test_a_second_formcheck_puts_its_model_on_the_other_half(frames):
    """Another formcheck's model holding the first half of the CPUs: ours goes on the other
    half; with both halves held, nothing is pinned."""
    from formcheck.pose.cpus import cpu_split

    first, second = cpu_split()
    everything = os.sched_getaffinity(0)
    with _held_elsewhere(first):
        assert _model_and_our_cpus(frames) == (second, first)
        with _held_elsewhere(second):
            assert _model_and_our_cpus(frames) == (everything, everything)
    assert os.sched_getaffinity(0) == everything
