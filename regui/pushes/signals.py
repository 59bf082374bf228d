"""A worker that starts ends, as interrupted, the jobs that a worker it replaces (or any dead one) left
running: before it takes a task, so that a re-run is one click away as soon as a worker is back. Those
of a worker known gone at once; those of a worker that is only silent once its own heartbeat has been
written for REGUI_WORKER_WAIT (recovery.blind_until), by a check it makes again at that moment."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from celery.signals import worker_ready

from regui.core.heartbeat import PROCESS_STARTED, wake_on, worker_name

from .recovery import Here, jobs_recover, recheck_in
from .rolling import PUSH_TASK
from .upgrade import keep_nodes_in_sync

__all__ = ["keep_nodes_in_sync", "recover_check", "run_later"]  # keep_nodes_in_sync: connected in apps.py

log = logging.getLogger(__name__)
# A chunk's task a worker received, then killed before its next heartbeat, ends its job at the next
# worker start (recovery.py: "stopped before running it"), not at the periodic check.
wake_on(PUSH_TASK)


@worker_ready.connect
def _recover_on_start(sender: Any, **kwargs: Any) -> None:
    """`sender` is the worker's consumer; this is its main process."""
    recover_check(Here(worker_name(sender.hostname, os.getpid()), PROCESS_STARTED))


def recover_check(here: Here, tries: int = 3, *, starting: bool = True) -> None:
    """The check, and (`tries` times at most) again once it can judge what it could not: at a worker's
    start (`starting`), or after the database was away (the periodic task)."""
    from django.db import connection

    try:
        ended = jobs_recover(here)
        if ended:
            log.warning("push jobs left running by a stopped worker, now interrupted: %s", ended)
        # A worker known gone was judged just now; another's silence only once this worker's own heart
        # has been written for REGUI_WORKER_WAIT (the database may have been away for every worker, and
        # a live one not have had a beat to write since): the check again at that moment. A few times
        # at most: a heart that never writes would make it endless (the periodic check goes on anyway).
        if tries and (later := recheck_in(here, starting=starting)) is not None:
            run_later(later, lambda: recover_check(here, tries - 1, starting=starting))
    except Exception:  # the database may be away: the periodic check tries again
        log.exception("could not check for interrupted push jobs")
    finally:
        connection.close()


def run_later(seconds: float, check: Callable[[], None]) -> None:
    """In this process, not as a task with a countdown: a task held for later is an unacknowledged
    message, and a Redis restart meanwhile stops the worker (kombu fails to put it back)."""
    timer = threading.Timer(seconds, check)
    timer.daemon = True
    timer.start()
