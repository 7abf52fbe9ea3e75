"""Write locks, so two reindexes never interleave their writes: a file lock per data dir, and a lease kept in
a Chroma server for writers on several machines that share it.

`filelock`'s `FileLock` (an `flock` on a file in the data directory on Unix): the OS releases it when the
holder dies, even by SIGKILL, so a crashed reindex never leaves a stale lock behind. The holder writes its
pid beside the lock (`<lock>.pid`) so a waiting command can say who it waits for. Readers do not take it.
`ServerLease` does the same across machines (one data dir each) through marker collections in the server.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from index.errors import IndexingError, IndexLockedError, StoreError


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


# --------------------------------------------------------------------------------------------- server lease

LEASE_SECONDS = 30.0  # a holder that stops beating for this long is taken over (its own setting wins)


class LeaseLostError(IndexingError):
    """Another writer took over our server lease (we stopped beating for longer than its time to live)."""


def _host_id() -> str:
    """This machine for lease holders: the host name plus the kernel's boot id, so that two containers or
    machines that happen to share a host name are not mistaken for one (a pid means something only here)."""
    boot = ""
    with suppress(OSError):
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:8]
    return f"{socket.gethostname()}/{boot}" if boot else socket.gethostname()


def _pid_dead(pid: int) -> bool:
    """True only when this machine certainly has no live process `pid` (gone, or a zombie)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # alive, owned by someone else
    with suppress(OSError, IndexError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat[stat.rindex(")") + 2] == "Z"
    return False


class ServerLease:
    """One writer at a time on a Chroma server, for writers on several machines (each with its own data dir,
    so its own file lock): a lease kept in the server itself.

    The lease is a sequence of tiny marker collections `<collection>.writer-lease.<epoch>`; the holder is
    whoever created the highest epoch. Creating a collection is atomic in the server (its name is unique),
    so two writers can never both create epoch k+1: taking a free or dead lease is "create the next
    epoch". Its metadata names the holder (token, host, pid) and carries a heartbeat the holder bumps every
    quarter of `ttl`. A lease is free when released, when its holder's pid is dead on this same host (a
    SIGKILLed writer's rerun takes over at once), or when its heartbeat stood still for `ttl` seconds of the
    waiter's own clock (no clock is compared across machines). A new holder deletes the older epochs, lowest
    first, so "my epoch still exists and the next one does not" is a complete test that we still hold it:
    `check()` runs it before every write, and a writer that lost its lease (paused past `ttl`) stops with
    `LeaseLostError` instead of writing over its successor.
    """

    def __init__(self, client: Callable[[], Any], name: str, *, ttl: float = LEASE_SECONDS,
                 poll: float = 0.2) -> None:
        self._client = client
        self.prefix = f"{name}.writer-lease."
        self.ttl = ttl
        self.poll = poll
        self.token = f"{uuid.uuid4().hex}"
        self.host = _host_id()
        self.pid = os.getpid()
        self.epoch: int | None = None
        self._beat = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lost = False

    def _name(self, epoch: int) -> str:
        return f"{self.prefix}{epoch:010d}"

    def _meta(self, *, released: bool = False) -> dict[str, Any]:
        return {"holder": self.token, "host": self.host, "pid": self.pid, "beat": self._beat,
                "ttl": float(self.ttl), "released": released}

    # ------------------------------------------------------------------ taking and giving back

    @contextmanager
    def held(self, *, wait: float | None = None, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
        """Hold the lease; waits up to `wait` seconds (None = as long as it takes), telling `on_wait` once."""
        self.acquire(wait=wait, on_wait=on_wait)
        try:
            yield
        finally:
            self.release()

    def acquire(self, *, wait: float | None = None, on_wait: Callable[[str], None] | None = None) -> None:
        started = time.monotonic()
        still: dict[tuple[int, int], float] = {}  # (epoch, beat) -> when we first saw it
        told = False
        while True:
            epochs = self._epochs()
            top, meta = epochs[-1] if epochs else (0, None)
            if meta is not None and meta.get("holder") == self.token:
                self._won(top, epochs)  # our create went through although its reply was lost
                return
            if meta is None or self._free(top, meta, still):
                if self._create(top + 1):
                    self._won(top + 1, epochs)
                    return
                continue  # another writer took it first: look again
            who = f"pid {meta.get('pid')} on {str(meta.get('host', '?')).split('/')[0]}"
            if wait is not None and time.monotonic() - started >= wait:
                raise IndexLockedError(f"another writer on the Chroma server holds its write lease ({who}); "
                                       "try again when it has finished")
            if not told and on_wait:
                on_wait(f"waiting for another writer on the Chroma server to finish (lease held by {who}) ...")
                told = True
            time.sleep(self.poll)

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._thread = None
        if self.epoch is not None and not self._lost:
            with suppress(Exception):  # unreachable: the lease then expires after `ttl` without beats
                self._client().get_collection(self._name(self.epoch)).modify(metadata=self._meta(released=True))
        self.epoch = None

    def check(self) -> None:
        """Raise `LeaseLostError` unless we still hold the lease (two round trips to the server)."""
        if self.epoch is None:
            raise LeaseLostError("writing without holding the Chroma server's write lease")
        client = self._client()
        from chromadb.errors import NotFoundError

        lost = self._lost
        if not lost:
            try:
                client.get_collection(self._name(self.epoch + 1))
                lost = True
            except NotFoundError:
                try:
                    lost = client.get_collection(self._name(self.epoch)).metadata.get("holder") != self.token
                except NotFoundError:
                    lost = True
        if lost:
            self._lost = True
            raise LeaseLostError(
                "another writer took over the Chroma server's write lease (this one stopped renewing it for "
                f"{self.ttl:g} s); what it wrote is repaired by the next run")

    # ------------------------------------------------------------------ internals

    def _epochs(self) -> list[tuple[int, dict[str, Any]]]:
        try:
            collections = self._client().list_collections()
        except Exception as exc:  # chromadb raises many types for an unreachable server
            raise StoreError(f"cannot read the write lease from the Chroma server: {exc}") from exc
        out = []
        for col in collections:
            suffix = col.name[len(self.prefix):] if col.name.startswith(self.prefix) else ""
            if suffix.isdigit():
                out.append((int(suffix), dict(col.metadata or {})))
        return sorted(out, key=lambda e: e[0])

    def _free(self, epoch: int, meta: dict[str, Any], still: dict[tuple[int, int], float]) -> bool:
        if meta.get("released"):
            return True
        if meta.get("host") == self.host and _pid_dead(int(meta.get("pid", 0) or 0)):
            return True
        seen = still.setdefault((epoch, int(meta.get("beat", 0) or 0)), time.monotonic())
        return time.monotonic() - seen >= float(meta.get("ttl", self.ttl) or self.ttl)

    def _create(self, epoch: int) -> bool:
        try:
            self._client().create_collection(self._name(epoch), metadata=self._meta(), embedding_function=None)
        except Exception as exc:  # "already exists" is a plain ChromaError
            if "already exists" in str(exc).lower():
                return False
            raise StoreError(f"cannot take the write lease on the Chroma server: {exc}") from exc
        return True

    def _won(self, epoch: int, epochs: list[tuple[int, dict[str, Any]]]) -> None:
        self.epoch, self._lost, self._beat = epoch, False, 0
        client = self._client()
        for old, _ in epochs:  # lowest first: see the class docstring
            if old < epoch:
                with suppress(Exception):
                    client.delete_collection(self._name(old))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beating, name="lease-heartbeat", daemon=True)
        self._thread.start()

    def _beating(self) -> None:
        from chromadb.errors import NotFoundError

        while not self._stop.wait(self.ttl / 4):
            self._beat += 1
            try:
                self._client().get_collection(self._name(self.epoch)).modify(metadata=self._meta())
            except NotFoundError:
                self._lost = True  # a successor deleted our epoch
                return
            except Exception:  # noqa: BLE001, S112 - the server is briefly unreachable: beat again next time
                continue
