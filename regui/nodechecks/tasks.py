from __future__ import annotations

from celery import shared_task

from .server_settings import SETTINGS_TASK, settings_read_run
from .services import (
    AFTER_PUSH_TASK,
    PULL_TASK,
    READBACK_TASK,
    pull_test_run,
    readback_run,
    readbacks_after_push,
)


@shared_task(name=READBACK_TASK)
def hosts_readback_task(node_id: int) -> str:
    """Thin: ids only; the service reads everything else (and connects through the trust gate)."""
    readback = readback_run(node_id)
    return readback.state if readback else "gone"


@shared_task(name=AFTER_PUSH_TASK)
def hosts_readback_after_push_task(job_id: int) -> int:
    return len(readbacks_after_push(job_id))


@shared_task(name=PULL_TASK)
def pull_test_task(test_id: int) -> str:
    test = pull_test_run(test_id)
    return test.state if test else "gone"


@shared_task(name=SETTINGS_TASK)
def cluster_settings_read_task(read_id: int) -> str:
    """Read settings from a server: the read's id only; the service reads the rest (and the trust gate)."""
    read = settings_read_run(read_id)
    return read.state if read else "gone"
