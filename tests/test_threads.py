"""Worker threads that are not the pose model run at a lower priority than it."""

import os
import sys
import threading

import pytest

from formcheck.threads import BACKGROUND_NICE, Prefetcher, lower_thread_priority

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")


def _own_nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@linux_only
def test_lower_thread_priority_changes_only_the_calling_thread():
    main_before = _own_nice()
    seen: list[int] = []

    def worker() -> None:
        lower_thread_priority()
        seen.append(_own_nice())

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert seen == [min(main_before + BACKGROUND_NICE, 19)]
    assert _own_nice() == main_before


@linux_only
def test_background_prefetcher_produces_at_lower_priority_and_a_plain_one_does_not():
    base = _own_nice()

    def produce():
        for _ in range(3):
            yield _own_nice()

    assert set(Prefetcher(produce, background=True)) == {min(base + BACKGROUND_NICE, 19)}
    assert set(Prefetcher(produce)) == {base}
