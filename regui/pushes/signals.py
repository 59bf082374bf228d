"""A worker that starts ends, as interrupted, the jobs that a worker it replaces (or any dead one) left
running: before it takes a task, so that a re-run is one click away as soon as a worker is back."""

from __future__ import annotations

import logging
import os
from typing import Any

from celery.signals import worker_ready

from regui.core.heartbeat import PROCESS_STARTED, wake_on, worker_name

from .recovery import Here, jobs_recover
from .rolling import PUSH_TASK

log = logging.getLogger(__name__)
# A chunk's task a worker received, then killed before its next heartbeat, ends its job at the next
# worker start (recovery.py: "stopped before running it"), not at the periodic check.
wake_on(PUSH_TASK)


@worker_ready.connect
def _recover_on_start(sender: Any, **kwargs: Any) -> None:
    """`sender` is the worker's consumer; this is its main process."""
    from django.db import connection

    try:
        ended = jobs_recover(Here(worker_name(sender.hostname, os.getpid()), PROCESS_STARTED))
        if ended:
            log.warning("push jobs left running by a stopped worker, now interrupted: %s", ended)
    except Exception:  # the database may be away: the periodic check tries again
        log.exception("could not check for interrupted push jobs")
    finally:
        connection.close()
