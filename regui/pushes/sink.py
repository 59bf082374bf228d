"""Finished node results, written in small batches by one thread.

Thirty nodes finishing within a few milliseconds of each other would otherwise make thirty
commits queue for SQLite's single write lock; one thread gathering what finished in the last
few milliseconds makes that one commit, and the job page still updates live.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from django.db import connection, transaction

log = logging.getLogger(__name__)
Write = Callable[[], None]
_STOP = object()


class ResultSink:
    def __init__(self, gather_seconds: float = 0.005):
        self._queue: queue.Queue = queue.Queue()
        self._gather = gather_seconds
        self._thread = threading.Thread(target=self._run, name="push-results", daemon=True)
        self._thread.start()

    def put(self, write: Write) -> None:
        self._queue.put(write)

    def close(self) -> None:
        """Flush everything queued, then stop."""
        self._queue.put(_STOP)
        self._thread.join()

    def _run(self) -> None:
        try:
            stopping = False
            while not stopping:
                batch = [self._queue.get()]
                try:
                    while True:
                        batch.append(self._queue.get(timeout=self._gather))
                except queue.Empty:
                    pass
                if _STOP in batch:
                    stopping = True
                    batch = [w for w in batch if w is not _STOP]
                self._flush(batch)
        finally:
            connection.close()

    @staticmethod
    def _flush(batch: list[Write]) -> None:
        if not batch:
            return
        try:
            with transaction.atomic():
                for write in batch:
                    write()
        except Exception:
            # One bad write must not lose the others: retry them one by one.
            log.exception("batched push-result write failed; writing one by one")
            for write in batch:
                try:
                    with transaction.atomic():
                        write()
                except Exception:
                    log.exception("push-result write failed")
