"""An inter-process write lock for one index, so two reindexes never interleave their writes.

`filelock`'s `FileLock` (an `flock` on a file in the data directory on Unix): the OS releases it when the
holder dies, even by SIGKILL, so a crashed reindex never leaves a stale lock behind. The holder writes its
pid beside the lock (`<lock>.pid`) so a waiting command can say who it waits for. Readers do not take it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from index.errors import IndexingError, IndexLockedError


def _holder(pid_file: Path) -> str:
    try:
        return pid_file.read_text().strip() or "another process"
    except OSError:
        return "another process"


@contextmanager
def write_lock(
    path: Path, *, wait: float | None = None, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the lock at `path`. Waits up to `wait` seconds (None = forever), telling `on_wait` once."""
    pid_file = path.with_name(path.name + ".pid")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(path, thread_local=False)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            holder = _holder(pid_file)
            if on_wait:
                on_wait(f"waiting for another reindex to finish (lock held by pid {holder}) ...")
            try:
                lock.acquire(timeout=-1 if wait is None else wait, poll_interval=0.2)
            except Timeout:
                raise IndexLockedError(
                    f"another reindex is running (pid {holder}); try again when it has finished"
                ) from None
    except OSError as exc:
        raise IndexingError(
            f"cannot create the index lock {path} ({exc.strerror or exc}); the data directory must be writable"
        ) from exc
    try:
        try:
            pid_file.write_text(str(os.getpid()))
        except OSError:
            pass  # only for the waiting message
        yield
    finally:
        lock.release()
