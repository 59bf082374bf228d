"""After a push, read back the hosts.toml files K3s wrote on the nodes it restarted.

On pushes' `job_ended`, sent once per job when the whole job has ended (a job runs as several tasks,
its chunks, on any workers; the end of one task is not the job's): the push itself stays one SSH exec
per node and ends when its nodes do, and knows nothing of the node checks."""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import receiver

from regui.pushes.events import job_ended

from .services import readbacks_after_push_queue

log = logging.getLogger(__name__)


@receiver(job_ended)
def read_back_after_push(sender: Any = None, job_id: int | None = None, **_: Any) -> None:
    if job_id is None:
        return
    try:
        readbacks_after_push_queue(int(job_id))
    except Exception:  # the push is done and recorded; only its read-back is lost
        log.exception("could not queue the hosts.toml read-back after push %s", job_id)
