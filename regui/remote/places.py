"""At most N holders at once among all the threads and processes of one machine. Pure Python, no Django.

A place is one of N files in a folder, held with flock(2): the kernel lets go of it when its holder's
process ends, however it ends, so a killed worker never keeps one. Each is tried without blocking, in
turn, and waited for with a short sleep. A threading gate in front keeps the threads of one process
from spinning on files: at most N of them look at the files at once.

A wait gives up once no place changed hands on the machine (taken by anyone, or given back here) for
`patience` seconds: a queue that moves is waited through however long it is; one that stopped is not.
When the folder cannot be used (read-only, a file in its way, no locks on its file system), the gate alone
counts, per process, with one warning per folder and process: a push never fails for it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

POLL = 0.025  # seconds between two looks at the files; a login takes far longer
_TOKEN = 32  # bytes each holder writes in its file when it takes it: other waiters see a change of hands


class Stalled(Exception):
    """No place came free within the patience, nor did one change hands meanwhile."""


class Places:
    """`limit` places in `folder` ("" or None: this process only). The threads of a process that count
    the same thing share one instance (its gate); `what` names it in the warning."""

    def __init__(self, folder: str | None, limit: int, what: str = "holders") -> None:
        self.folder, self.limit, self.what = folder or None, max(1, limit), what
        self._cond = threading.Condition()
        self._held = 0
        self._moved = time.monotonic()  # when a place was last seen changing hands

    @contextmanager
    def held(self, patience: float) -> Iterator[None]:
        """Hold a place for the block; `Stalled` when none came free and none changed hands for `patience`."""
        since = time.monotonic()
        self._enter(since, patience)
        fd = None
        try:
            fd = self._take_file(since, patience)
            yield
        finally:
            if fd is not None:
                os.close(fd)  # gives the flock back
            with self._cond:
                self._held -= 1
                self._moved = time.monotonic()
                self._cond.notify()

    def _idle(self, since: float) -> float:
        return time.monotonic() - max(since, self._moved)

    def _enter(self, since: float, patience: float) -> None:
        with self._cond:
            while self._held >= self.limit:
                idle = self._idle(since)
                if idle >= patience:
                    raise Stalled
                self._cond.wait(patience - idle)  # woken by a release here; the deadline moves with _moved
            self._held += 1

    def _take_file(self, since: float, patience: float) -> int | None:
        """A place's file, held; None when the folder cannot be used (then the gate alone counts)."""
        fds = self._open()
        if fds is None:
            return None
        held, seen = None, None
        try:
            start = random.randrange(len(fds))  # waiters spread over the files instead of all trying 0 first
            order = fds[start:] + fds[:start]
            while True:
                for fd in order:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        continue
                    except OSError as exc:  # no locks there (ENOLCK: some network file systems)
                        _warn_once(self.folder or "", self.what, exc)
                        return None
                    with contextlib.suppress(OSError):  # (a full disk: the place is held all the same)
                        os.pwrite(fd, f"{os.getpid():>11} {time.monotonic_ns():>19}\n".encode(), 0)
                    with self._cond:
                        self._moved = time.monotonic()  # for this process's threads queued at the gate
                    held = fd
                    return fd
                now = [_token(fd) for fd in fds]
                if seen is not None and now != seen:
                    with self._cond:
                        self._moved = time.monotonic()
                seen = now
                if self._idle(since) >= patience:
                    raise Stalled
                time.sleep(POLL)
        finally:
            for fd in fds:
                if fd != held:
                    os.close(fd)

    def _open(self) -> list[int] | None:
        if self.folder is None:
            return None
        fds: list[int] = []
        try:
            os.makedirs(self.folder, mode=0o700, exist_ok=True)
            for i in range(self.limit):
                fds.append(os.open(os.path.join(self.folder, str(i)), os.O_RDWR | os.O_CREAT, 0o600))
        except OSError as exc:
            for fd in fds:
                os.close(fd)
            _warn_once(self.folder, self.what, exc)
            return None
        return fds


def _token(fd: int) -> bytes:
    try:
        return os.pread(fd, _TOKEN, 0)
    except OSError:
        return b""


_warned: set[str] = set()
_warned_lock = threading.Lock()


def _warn_once(folder: str, what: str, exc: OSError) -> None:
    with _warned_lock:
        if folder in _warned:
            return
        _warned.add(folder)
    reason = exc.strerror or errno.errorcode.get(exc.errno or 0, "") or str(exc)
    log.warning("cannot count %s across processes in %s (%s): counting them in each process only, so several "
                "processes together may have more at once", what, folder, reason)
