from __future__ import annotations

from celery import shared_task


@shared_task(name="regui.push_job_run")
def push_job_run_task(job_id: int) -> str:
    """Thin: the job id is the only argument; everything else is read from the database."""
    from .services import push_job_run

    return push_job_run(job_id).status
