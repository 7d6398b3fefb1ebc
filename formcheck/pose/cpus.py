"""Keeping the pose model on CPUs of its own.

The model runs in a child process (pose/inference_process.py) and is the pipeline's
critical path; decoding, drawing and encoding only have to keep up with it. Left to the
scheduler, those threads keep landing on the core the model is running on, and each time
they do the model waits. Measured on the 2-core machine (720p, benchmarks/throughput.py):
the whole `formcheck pose` pipeline at 86-90 % of the bare model's frame rate unpinned
(and with only our own threads kept off the model's core, the model left free), 97-100 %
with the model on one core and everything else on the other. MediaPipe runs a frame's
inference on one thread, so a core of its own is all it can use.

The CPUs are split in two halves. A model process claims one half with a lock file, so a
second formcheck running at the same time puts its model on the other half instead of on
top of the first one; when both halves are taken nothing is pinned. Linux only
(sched_setaffinity); elsewhere, or with a single CPU, nothing is pinned.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO

try:
    import fcntl
except ImportError:  # not a Unix: nothing is pinned there anyway (cpu_split)
    fcntl = None  # type: ignore[assignment]

_lock = threading.Lock()
# The process's CPUs before this process claimed CPUs for a model (None: no claim held).
# One model per process is pinned, so this is also whether a claim is held.
_original: set[int] | None = None


def usable_cpus() -> set[int] | None:
    """The CPUs this process may run on, as they were before a model claim pinned it; None
    where threads cannot be pinned (not Linux)."""
    if fcntl is None or not hasattr(os, "sched_setaffinity") or not os.path.isdir("/proc/self/task"):
        return None
    with _lock:
        return set(_original if _original is not None else os.sched_getaffinity(0))


def cpu_split() -> tuple[set[int], set[int]] | None:
    """The two halves of the usable CPUs (the first at least one CPU), or None where
    threads cannot be pinned or there is only one CPU."""
    cpus = usable_cpus()
    if cpus is None or len(cpus) < 2:
        return None
    ordered = sorted(cpus)
    k = len(ordered) // 2
    return set(ordered[:k]), set(ordered[k:])


def pin_this_thread(cpus: set[int]) -> None:
    """Run the calling thread (and the threads it starts from now on) on `cpus` only."""
    with contextlib.suppress(OSError):
        os.sched_setaffinity(0, cpus)


def _pin_all_threads(cpus: set[int]) -> None:
    """Every thread of this process onto `cpus`; threads they start later inherit it."""
    for tid in os.listdir("/proc/self/task"):
        with contextlib.suppress(OSError, ValueError):  # a thread may end meanwhile
            os.sched_setaffinity(int(tid), cpus)


@dataclass
class ModelCpus:
    """A claim on CPUs for one model process: `model` for it, `others` for this process's
    threads. Held (the lock file open) until release()."""

    model: set[int]
    others: set[int]
    _file: IO[bytes] | None

    def release(self) -> None:
        global _original
        if self._file is None:
            return
        self._file.close()  # drops the lock
        self._file = None
        with _lock:
            if _original is not None:
                _pin_all_threads(_original)
                _original = None


def _lock_path(cpus: set[int]) -> Path:
    return Path(tempfile.gettempdir()) / f"formcheck-{os.getuid()}-model-cpus-{min(cpus)}.lock"


def claim_model_cpus() -> ModelCpus | None:
    """CPUs for a new model process, and this process's threads moved off them; None when
    nothing can be pinned, this process already runs a model, or another formcheck holds
    both halves. Call release() once the model process has ended."""
    global _original
    split = cpu_split()
    if split is None:
        return None
    with _lock:
        if _original is not None:
            return None  # one model per process is pinned; a second one runs where it may
        for model, others in (split, split[::-1]):
            f = None
            try:
                f = open(_lock_path(model), "ab")  # noqa: SIM115 - held for the model's life
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                if f is not None:
                    f.close()
                continue
            _original = set(os.sched_getaffinity(0))
            _pin_all_threads(others)
            return ModelCpus(model, others, f)
    return None
