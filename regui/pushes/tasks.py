from __future__ import annotations

from celery import shared_task

from .services import PUSH_TASK, push_job_run


@shared_task(name=PUSH_TASK)
def push_job_run_task(job_id: int) -> str:
    """Thin: the job id is the only argument; everything else is read from the database."""
    return push_job_run(job_id).status
