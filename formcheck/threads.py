"""Run one stage of the pipeline on its own thread, a few items ahead of its consumer.

Decoding (OpenCV/FFmpeg), inference (MediaPipe) and encoding all release the GIL while
they work, so putting each on its own thread lets a 2-core machine run them at the same
time. A small bounded queue between stages keeps memory flat (a 720p frame is 2.7 MB)
and makes a fast producer wait for a slow consumer instead of racing ahead.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)

_END = object()

BACKGROUND_NICE = 10  # steps below the thread that starts the worker (Unix nice, max 19)


def lower_thread_priority() -> None:
    """Let the pose model win the CPU from the calling thread (and the threads it starts).

    The model's threads are the pipeline's critical path; decoding and encoding only have
    to stay a few frames ahead of it, not run the moment they can. On two cores they are
    otherwise scheduled in its way often enough to cost the model ~4 % of its frame rate
    (measured with benchmarks/throughput.py). Linux keeps a nice value per thread; other
    systems would apply it to the whole process, so there it is left alone.
    """
    if sys.platform.startswith("linux"):
        tid = threading.get_native_id()
        with contextlib.suppress(OSError):
            # Relative to what the thread has, so `nice formcheck ...` keeps its meaning.
            nice = os.getpriority(os.PRIO_PROCESS, tid)
            os.setpriority(os.PRIO_PROCESS, tid, min(nice + BACKGROUND_NICE, 19))


class _Raised:
    """An exception raised by the producer, delivered to the consumer in order."""

    def __init__(self, exc: BaseException):
        self.exc = exc


class Prefetcher(Generic[T]):
    """Iterates `produce()` on a daemon thread, at most `depth` items ahead.

    `background` runs the producer at a lower priority than the pose model (decoding).
    Items come out in order; an exception raised by the producer is re-raised in the
    consumer after the items produced before it, so whatever was consumed is kept.
    close() stops the producer early (for example when the consumer breaks out of a loop).
    """

    def __init__(self, produce: Callable[[], Iterable[T]], depth: int = 4, name: str = "prefetch",
                 background: bool = False):
        self._produce = produce
        self._background = background  # lower_thread_priority() on the producer thread
        #: seconds the producer waited for room (the consumer is the slower side)
        self.producer_wait_s = 0.0
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._done = False
        self._thread = threading.Thread(target=self._run, name=f"formcheck-{name}", daemon=True)
        self._thread.start()

    def _put(self, item: object) -> bool:
        """Put without blocking forever, so close() can always stop the producer."""
        t0 = time.perf_counter()
        try:
            while not self._stop.is_set():
                try:
                    self._queue.put(item, timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False
        finally:
            self.producer_wait_s += time.perf_counter() - t0

    def _run(self) -> None:
        if self._background:
            lower_thread_priority()
        items = iter(())
        try:
            items = iter(self._produce())
            for item in items:
                if not self._put(item):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, never lost
            self._put(_Raised(exc))
            return
        finally:
            # A generator stopped early runs its clean-up (release the capture) here, on
            # the thread that owns it, not whenever it happens to be garbage collected.
            close = getattr(items, "close", None)
            if close is not None:
                close()
        self._put(_END)

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        if self._done:
            raise StopIteration
        item = self._queue.get()
        if item is _END:
            self._done = True
            raise StopIteration
        if isinstance(item, _Raised):
            self._done = True
            raise item.exc
        return item  # type: ignore[return-value]

    def close(self, timeout_s: float = 2.0) -> None:
        self._done = True
        self._stop.set()
        # Drain so a producer blocked on a full queue wakes up and sees the stop flag.
        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass
        if self._thread is not threading.current_thread():
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.debug("%s thread still busy after close()", self._thread.name)
