"""Writing report files so that a crash mid-write never leaves a truncated file: write a
temporary file beside the target, then rename it into place (atomic on one file system)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


def _umask() -> int:
    old = os.umask(0)
    os.umask(old)
    return old


def default_file_mode() -> int:
    """The mode open() would give a new file (mkstemp makes private 0600 files)."""
    return 0o666 & ~_umask()


@contextmanager
def atomic_open(path: Path, newline: str | None = None) -> Iterator[IO[str]]:
    """`with atomic_open(p) as fh: fh.write(...)`: p appears complete, or not at all."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, default_file_mode())
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
