"""Keeping the pose model on CPUs of its own.

The model runs in a child process (pose/inference_process.py) and is the pipeline's
critical path; decoding, drawing and encoding only have to keep up with it. Left to the
scheduler, those threads keep landing on the core the model is running on, and each time
they do the model waits. Measured on the 2-core machine (720p, benchmarks/throughput.py):
the whole `formcheck pose` pipeline at 87-90 % of the bare model's frame rate unpinned,
97-100 % with the model on one core and everything else on the other. MediaPipe runs a
frame's inference on one thread, so a core of its own is all it can use.

Linux only (sched_setaffinity); elsewhere, or with a single CPU, nothing is pinned.
"""

from __future__ import annotations

import contextlib
import os
import threading

_lock = threading.Lock()
_holders = 0  # estimators that keep this process off the model's CPUs
_original: set[int] | None = None  # the process's CPUs before the first of them


def cpu_split() -> tuple[set[int], set[int]] | None:
    """(CPUs for the pose model, CPUs for everything else): the first half of the CPUs
    this process may use (at least one) and the rest; None where threads cannot be
    pinned or there is only one CPU."""
    if not hasattr(os, "sched_setaffinity") or not os.path.isdir("/proc/self/task"):
        return None
    with _lock:  # while a model process runs, this process is pinned: split what it had
        cpus = sorted(_original if _original is not None else os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None
    k = len(cpus) // 2
    return set(cpus[:k]), set(cpus[k:])


def pin_this_thread(cpus: set[int]) -> None:
    """Run the calling thread (and the threads it starts from now on) on `cpus` only."""
    with contextlib.suppress(OSError):
        os.sched_setaffinity(0, cpus)


def _pin_all_threads(cpus: set[int]) -> None:
    """Every thread of this process onto `cpus`; threads they start later inherit it."""
    for tid in os.listdir("/proc/self/task"):
        with contextlib.suppress(OSError, ValueError):  # a thread may end meanwhile
            os.sched_setaffinity(int(tid), cpus)


def keep_off_model_cpus(split: tuple[set[int], set[int]] | None) -> bool:
    """Move this process's threads onto the CPUs left to them by `split` (one call per
    model process started; undone by release_model_cpus). Returns whether it pinned."""
    global _holders, _original
    if split is None:
        return False
    with _lock:
        if _holders == 0:
            _original = set(os.sched_getaffinity(0))
            _pin_all_threads(split[1])
        _holders += 1
    return True


def release_model_cpus() -> None:
    """Undo one keep_off_model_cpus(): once no model process is left, every thread may run
    anywhere it could before."""
    global _holders, _original
    with _lock:
        if _holders == 0:
            return
        _holders -= 1
        if _holders == 0 and _original is not None:
            _pin_all_threads(_original)
            _original = None
