"""A push job has ended (done, refused, failed or interrupted): `job_ended` is sent once per job, after
the commit that ended it, in the process that ended it (a worker's chunk, the periodic recovery, or
the request whose broker refused the job). A job runs as several tasks (its chunks), so the end of a
task is not the end of the job: apps above pushes (node checks' read-back) listen here instead."""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import Signal

from .models import PushJob

log = logging.getLogger(__name__)

job_ended = Signal()  # keyword argument: job_id


def job_ended_send(job_id: int) -> None:
    """Call in the transaction that ends the job (its conditional UPDATE changed the row): a rollback
    sends nothing, and a receiver's error is logged, never the job's."""

    def send() -> None:
        for receiver, result in job_ended.send_robust(sender=PushJob, job_id=job_id):
            if isinstance(result, Exception):
                log.error("after push job %s ended, %r failed: %s", job_id, receiver, result, exc_info=result)

    transaction.on_commit(send)
