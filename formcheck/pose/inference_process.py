"""Pose inference in a child process, so the model never waits for our interpreter lock.

Why a process and not a thread: MediaPipe's Python API hands every call to a dispatcher
thread of its own and back, taking the GIL half a dozen times per frame. Whenever our main
thread is running Python (a drill analyser, the overlay being drawn), each of those hand-offs
waits up to the interpreter's switch interval (5 ms). Measured on 720p frames, lite model, on
a 2-core machine: bare inference 64.7 fps; the same with one pure-Python thread busy in the
process, 17.5 fps. In a child process the model has an interpreter to itself.

Frames travel through shared memory (one copy of the decoded image, ~0.3 ms at 720p) and
poses come back over a pipe (a few KB). `submit()` and `collect()` let the caller keep two
frames in flight, so the child always has the next frame waiting when it finishes one and
never idles while the parent is busy. Person selection, timestamps and everything else stay
in the child's ordinary PoseEstimator: this class only moves its work elsewhere.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
from multiprocessing.connection import Connection
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path
from typing import Any, Self

import numpy as np

from formcheck.errors import FormcheckError, ModelError
from formcheck.pose.cpus import claim_model_cpus, pin_this_thread, usable_cpus
from formcheck.pose.estimator import (  # mediapipe loads with a model
    PoseEstimator,
    frame_luma,
    model_input_shape,
    to_model_input,
)
from formcheck.pose.frame import PoseFrame
from formcheck.pose.models import DEFAULT_MODEL

# Frames in flight: one being inferred, one waiting. More would only add memory and latency.
SLOTS = 2
# How long close() waits for the child to finish its frame and exit before killing it.
STOP_TIMEOUT_S = 5.0


class ProcessPoseEstimator:
    """A PoseEstimator (same arguments, same PoseFrames) running in a child process.

    process() is a drop-in for PoseEstimator.process(); submit()/collect() pipeline it:
    results come back in submission order, at most SLOTS frames in flight.
    """

    slots = SLOTS

    def __init__(self, model: str | Path = DEFAULT_MODEL, mode: str = "video", **kwargs: Any) -> None:
        ctx = mp.get_context("spawn")  # never fork a process that has threads running
        self._conn, child_conn = ctx.Pipe()
        # The model on CPUs of its own, our threads off them (pose/cpus.py); without a claim
        # it may run anywhere this process could before.
        self._cpus = claim_model_cpus()
        child_cpus = self._cpus.model if self._cpus else usable_cpus()
        self._proc = ctx.Process(target=_serve, args=(child_conn, str(model), mode, kwargs, child_cpus),
                                 name="formcheck-pose-model", daemon=True)
        try:
            self._proc.start()
        except BaseException:
            if self._cpus is not None:
                self._cpus.release()
            raise
        child_conn.close()
        self._shm: SharedMemory | None = None
        self._retired: list[SharedMemory] = []  # blocks of an earlier frame size, freed once unused
        self._slot_shape: tuple[int, ...] | None = None
        self._next_slot = 0
        self._in_flight = 0  # frames submitted and not yet collected
        self._closed = False
        try:
            reply = self._receive()
        except BaseException:
            self.close()
            raise
        _, self.model_name, model_path = reply
        self.model_path = Path(model_path)

    @property
    def pid(self) -> int | None:
        """The model process's id (for CPU accounting)."""
        return self._proc.pid

    def submit(self, image_bgr: np.ndarray, t_s: float, index: int = -1, luma: float | None = None) -> None:
        """Hand one frame to the model (copied: the caller may draw on `image_bgr` at once)."""
        if self._closed:
            raise RuntimeError("ProcessPoseEstimator is closed")
        if self._in_flight >= SLOTS:
            raise RuntimeError(f"at most {SLOTS} frames in flight: collect() one first")
        image = np.asarray(image_bgr)
        if image.dtype != np.uint8:
            raise ValueError(f"expected a uint8 image, got {image.dtype}")
        if luma is None:
            luma = frame_luma(image)
        shape = model_input_shape(image.shape)
        self._ensure_slots(shape)
        assert self._shm is not None
        slot = self._next_slot
        self._next_slot = (slot + 1) % SLOTS
        offset = slot * int(np.prod(shape))
        # Made the model's input (RGB, shrunk if huge) on the way into shared memory: one pass
        # over the pixels does the copy and the conversion, and the child starts inference at once.
        to_model_input(image, dst=np.ndarray(shape, np.uint8, buffer=self._shm.buf, offset=offset))
        size = (image.shape[1], image.shape[0])
        try:
            self._conn.send(("frame", self._shm.name, shape, offset, size, t_s, index, luma))
        except OSError as exc:  # a broken pipe: the child is gone
            raise self._died() from exc
        self._in_flight += 1

    def collect(self) -> PoseFrame:
        """The pose of the oldest submitted frame not yet collected (waits for it)."""
        if not self._in_flight:
            raise RuntimeError("no frame in flight: submit() one first")
        _, pose = self._receive()
        self._in_flight -= 1
        if self._retired and not self._in_flight:
            self._release_retired()
        return pose

    def process(self, image_bgr: np.ndarray, t_s: float, index: int = -1, luma: float | None = None) -> PoseFrame:
        self.submit(image_bgr, t_s, index, luma)
        return self.collect()

    def _ensure_slots(self, shape: tuple[int, ...]) -> None:
        """Shared memory for SLOTS frames of this shape (reallocated if the size changes)."""
        if shape == self._slot_shape:
            return
        # Photos of different sizes in one folder: the frames still in flight keep their old
        # block until they are collected.
        if self._shm is not None:
            self._retired.append(self._shm)
        if not self._in_flight:
            self._release_retired()
        self._shm = SharedMemory(create=True, size=SLOTS * int(np.prod(shape)))
        self._slot_shape = shape
        self._next_slot = 0

    def _receive(self) -> tuple:
        try:
            reply = self._conn.recv()
        except (EOFError, OSError) as exc:
            raise self._died() from exc
        if reply[0] == "error":
            raise _rebuild_error(*reply[1:])
        return reply

    def _died(self) -> ModelError:
        self._proc.join(1.0)
        return ModelError(f"the pose model process stopped unexpectedly (exit code {self._proc.exitcode})")

    def _release_retired(self) -> None:
        for shm in self._retired:
            _free(shm)
        self._retired.clear()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError, ValueError):
            self._conn.send(None)
        self._proc.join(STOP_TIMEOUT_S)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join()
        self._conn.close()
        if self._shm is not None:
            self._retired.append(self._shm)
            self._shm = None
        self._release_retired()
        if self._cpus is not None:
            self._cpus.release()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_estimator(model: str | Path = DEFAULT_MODEL, mode: str = "video", *, separate_process: bool = True,
                   **kwargs: Any) -> PoseEstimator | ProcessPoseEstimator:
    """The estimator a file pipeline should use: the model in a child process of its own, or
    (separate_process=False, e.g. inside a worker of a process pool) in this one."""
    if separate_process:
        return ProcessPoseEstimator(model, mode, **kwargs)
    return PoseEstimator(model, mode, **kwargs)


def _free(shm: SharedMemory) -> None:
    shm.close()
    with contextlib.suppress(FileNotFoundError):
        shm.unlink()


def _rebuild_error(kind: str, message: str) -> Exception:
    """The child's exception as the parent raises it: formcheck errors keep their class (and
    so their exit code); anything else is a RuntimeError with the child's message."""
    for cls in (ModelError, *_subclasses(FormcheckError)):
        if cls.__name__ == kind:
            return cls(message)
    return RuntimeError(f"pose model process: {kind}: {message}")


def _subclasses(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


# ---------------------------------------------------------------------------------------------
# The child


def _serve(conn: Connection, model: str, mode: str, kwargs: dict[str, Any], cpus: set[int] | None) -> None:
    if cpus:
        pin_this_thread(cpus)  # before the model starts its threads: they inherit it
    # Ctrl-C reaches the whole process group: the parent decides when to stop (and saves what
    # was measured); the child just finishes its frame and waits to be told.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if kwargs.get("quiet", True):
        # LiteRT and MediaPipe print INFO/WARNING lines to fd 2 on their own (a "NORM_RECT"
        # warning whenever a person reappears): noise on a runner's terminal. Errors still
        # reach the parent, as messages on the pipe or as this process's exit code.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    try:
        estimator = PoseEstimator(model, mode, **kwargs)
    except Exception as exc:  # noqa: BLE001 - every load failure goes back to the parent
        conn.send(("error", type(exc).__name__, str(exc)))
        return
    conn.send(("ready", estimator.model_name, str(estimator.model_path)))
    shm: SharedMemory | None = None
    try:
        while (msg := conn.recv()) is not None:
            _, name, shape, offset, size, t_s, index, luma = msg
            if shm is None or shm.name != name:
                if shm is not None:
                    shm.close()
                # A spawned child shares its parent's resource tracker, and the parent unlinks
                # the block, so attaching here leaves nothing behind to clean up.
                shm = SharedMemory(name=name)
            try:
                reply = ("pose", _infer(estimator, shm, shape, offset, size, t_s, index, luma))
            except Exception as exc:  # noqa: BLE001 - raised again in the parent
                reply = ("error", type(exc).__name__, str(exc))
            conn.send(reply)
    except (EOFError, OSError):
        pass  # the parent went away: nothing left to do
    finally:
        if shm is not None:
            shm.close()
        estimator.close()


def _infer(estimator: PoseEstimator, shm: SharedMemory, shape: tuple[int, ...], offset: int,
           size: tuple[int, int], t_s: float, index: int, luma: float | None) -> PoseFrame:
    # The view into shared memory lives only in this call: a view still alive would stop
    # the block from being closed.
    image_rgb = np.ndarray(shape, np.uint8, buffer=shm.buf, offset=offset)
    return estimator.process_rgb(image_rgb, t_s, index, luma, size)
