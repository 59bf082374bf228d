from __future__ import annotations

from celery import shared_task

from .drift_watch import TICK_TASK, drift_watch_tick
from .services import PUSH_TASK, push_job_run


@shared_task(name=PUSH_TASK)
def push_job_run_task(job_id: int) -> str:
    """Thin: the job id is the only argument; everything else is read from the database."""
    return push_job_run(job_id).status


@shared_task(name=TICK_TASK)
def drift_watch_tick_task() -> int:
    """Every minute (CELERY_BEAT_SCHEDULE): collect finished drift watch jobs, start the due ones."""
    return len(drift_watch_tick())
