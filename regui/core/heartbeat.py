"""Worker heartbeats: each Celery worker process writes a row every REGUI_WORKER_BEAT seconds.

The database is what the web server and the worker share whatever the broker (Celery's broadcast
`control.ping` needs fanout, which not every transport has), so a page waiting on a job reads
there whether any worker is alive, where it reads tasks from, and what it is running. A worker
that stops cleanly removes its row; one that dies simply stops writing.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from celery import current_app
from celery.signals import task_received, worker_ready, worker_shutdown

from .models import WorkerBeat

log = logging.getLogger(__name__)

_heart: Heart | None = None
_WAKE_ON: set[str] = set()  # the tasks whose arrival a heartbeat says at once (see wake_on)
# When this process started, near enough: before it took any task (a prefork child inherits its parent's).
PROCESS_STARTED = datetime.now(UTC)


def worker_name(hostname: str, pid: int) -> str:
    """A worker process's heartbeat name: its node name and pid (one row per worker process)."""
    return f"{hostname} pid {pid}"


def current_worker() -> tuple[str, datetime] | None:
    """(heartbeat name, process start) of the worker this process is the main process of, once ready."""
    return (_heart.worker, PROCESS_STARTED) if _heart is not None else None


def task_worker(hostname: str | None) -> str:
    """The heartbeat name of the worker running the current task ("" outside a worker): its own in the
    main process (and in pool processes forked after it was ready), else its parent's (prefork)."""
    if not hostname:
        return ""
    return _heart.worker if _heart is not None else worker_name(hostname, os.getppid())


def wake_on(task: str) -> None:
    """The heartbeat says at once that this worker received a task of this name, not a beat later
    (Heart.heard). Only the tasks whose loss with a killed worker must be noticed: the row keeps saying
    so for a beat, and a worker that holds a task is not counted as free (pushes/recovery.py)."""
    _WAKE_ON.add(task)


def broker_identity(app: Any) -> str:
    """Where a Celery app reads and writes tasks: the broker URL (password masked), and for the
    filesystem broker its folder, since every filesystem URL reads the same."""
    conn = app.connection_for_write()
    folder = (conn.transport_options or {}).get("data_folder_in")
    return f"filesystem://{folder}" if folder else conn.as_uri()


@lru_cache(maxsize=1)
def this_site_broker() -> str:
    # The app regui/celery.py made (it is the current one): this module cannot import that
    # module, which sits above it.
    return broker_identity(current_app)


def _work(received: Sequence[Any] = ()) -> list[list]:
    """What this worker runs and holds, from Celery's own bookkeeping (changed by the main thread), and
    the tasks `received` since the last beat that it has not booked yet (it books them just after)."""
    from celery.worker import state

    for _ in range(3):
        try:
            active = list(state.active_requests)
            booked = list(state.reserved_requests)
        except RuntimeError:  # a set changed size while copied: take another look
            continue
        # A task received and not booked yet; once acknowledged it has started (or ended): Celery's state says.
        unbooked = [r for r in received if r not in booked and not getattr(r, "acknowledged", False)]
        reserved = [r for r in booked + unbooked if r not in active]
        return ([["active", r.name, list(r.args or ())] for r in active]
                + [["reserved", r.name, list(r.args or ())] for r in reserved])
    return []


class Heart(threading.Thread):
    def __init__(self, name: str, broker: str, queues: list[str], every: float, wait: float = 0.0) -> None:
        super().__init__(name="regui-heartbeat", daemon=True)
        self.worker, self.broker, self.queues, self.every = name, broker, queues, every
        self.wait = wait  # REGUI_WORKER_WAIT: how long a row stays fresh without a beat
        self.started_at = _now()
        self.stopping = threading.Event()
        self.wake = threading.Event()
        self._received: list[Any] = []
        self._mutex = threading.Lock()
        self._failing = False
        self._written_at = self.started_at
        self.back_at: datetime | None = None

    def run(self) -> None:
        self.prune()
        while not self.stopping.is_set():
            self.wake.clear()  # before the beat: a task received during it wakes the next one at once
            self.beat()
            self.wake.wait(self.every)

    def heard(self, request: Any) -> None:
        """A task just received: the row says so now, not a beat later. A worker killed in between
        would take it along unseen, and the job it belongs to would stay queued until the periodic check
        (recovery.py) instead of ending at the next worker start."""
        with self._mutex:
            self._received.append(request)
        self.wake.set()

    def beat(self) -> None:
        from django.db import connection

        with self._mutex:
            received, self._received = self._received, []
        now = _now()
        # Back after failing for so long that other workers' rows may have gone stale meanwhile (the
        # database away): said, so that the recovery does not take their silence for a death at once.
        # Not after a moment (SQLite's write lock held): their rows stayed fresh.
        away = self._failing and (now - self._written_at).total_seconds() >= self.wait - self.every
        back = now if away else self.back_at
        try:
            WorkerBeat.objects.update_or_create(name=self.worker, defaults={
                "broker": self.broker[:500], "queues": self.queues, "started_at": self.started_at,
                "seen_at": now, "tasks": _work(received), "back_at": back})
            self.back_at, self._written_at, self._failing = back, now, False
        except Exception:
            # The database may be away for a while; the next beat tries again on a new connection.
            if not self._failing:
                log.warning("worker heartbeat could not be written", exc_info=True)
            self._failing = True
            connection.close()

    def prune(self) -> None:
        """Rows of workers that died without removing their own."""
        try:
            WorkerBeat.objects.filter(seen_at__lt=_now() - timedelta(days=1)).delete()
        except Exception:
            log.warning("old worker heartbeats could not be removed", exc_info=True)

    def stop(self) -> None:
        """A clean stop is visible at once: the row goes (a dead worker's just stops being fresh)."""
        self.stopping.set()
        self.wake.set()
        if self.is_alive():
            self.join(timeout=10)
        try:
            WorkerBeat.objects.filter(name=self.worker).delete()
        except Exception:
            log.warning("worker heartbeat could not be removed", exc_info=True)


def _now() -> datetime:
    from django.utils import timezone

    return timezone.now()


@worker_ready.connect
def _start(sender: Any, **kwargs: Any) -> None:
    """`sender` is the worker's consumer, ready to take tasks."""
    global _heart
    from django.conf import settings

    queues = sorted(q.name for q in sender.task_consumer.queues)
    _heart = Heart(worker_name(sender.hostname, os.getpid()), broker_identity(sender.app), queues,
                   settings.REGUI_WORKER_BEAT, settings.REGUI_WORKER_WAIT)
    _heart.start()


@task_received.connect
def _received(sender: Any = None, request: Any = None, **kwargs: Any) -> None:
    """In the worker's main process, as a task message arrives (before Celery books it as reserved)."""
    if _heart is not None and request is not None and getattr(request, "name", "") in _WAKE_ON:
        _heart.heard(request)


@worker_shutdown.connect
def _stop(sender: Any, **kwargs: Any) -> None:
    if _heart is not None:
        _heart.stop()
