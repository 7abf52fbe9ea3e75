"""An inter-process write lock for one index, so two reindexes never interleave their writes.

A `flock` on a file in the data directory: the OS releases it when the holder dies (even by SIGKILL), so a
crashed reindex never leaves a stale lock behind. Readers do not take it.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from index.errors import IndexingError, IndexLockedError


@contextmanager
def write_lock(
    path: Path, *, wait: float | None = None, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the lock at `path`. Waits up to `wait` seconds (None = forever), telling `on_wait` once."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise IndexingError(
            f"cannot create the index lock {path} ({exc.strerror or exc}); the data directory must be writable"
        ) from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
            if on_wait:
                on_wait(f"waiting for another reindex to finish (lock held by pid {holder}) ...")
            deadline = None if wait is None else time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if deadline is not None and time.monotonic() >= deadline:
                        raise IndexLockedError(
                            f"another reindex is running (pid {holder}); try again when it has finished"
                        ) from None
                    time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
