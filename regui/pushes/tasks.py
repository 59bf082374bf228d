from __future__ import annotations

from celery import shared_task

from regui.core.heartbeat import PROCESS_STARTED, task_worker

from .drift_watch import TICK_TASK, drift_watch_tick
from .recovery import Here, jobs_recover, recheck_in
from .rolling import PUSH_TASK, push_job_run, run_inline
from .signals import recover_check, run_later

RECOVER_TASK = "regui.push_jobs_recover"


@shared_task(name=PUSH_TASK, bind=True)
def push_job_run_task(self, job_id: int, chunk: int = 0) -> str:
    """Thin: ids only (the job, and which chunk of it); everything else is read from the database."""
    if self.request.is_eager:  # tests: the whole job here, its chunks in threads
        return run_inline(job_id, [chunk]).status
    return push_job_run(job_id, chunk, worker=task_worker(self.request.hostname)).status


@shared_task(name=RECOVER_TASK, bind=True)
def push_jobs_recover_task(self) -> list[int]:
    """Periodic (Celery beat): jobs whose worker stopped mid-job end as interrupted. Made blind by the
    database being away, it runs again as soon as it can see: in this process (signals.run_later), not as
    a task sent with a countdown, which a worker holds unacknowledged and a Redis restart meanwhile
    stops the worker."""
    here = Here(task_worker(self.request.hostname), PROCESS_STARTED)
    ended = jobs_recover(here)
    if not self.request.is_eager and (later := recheck_in(here)) is not None:
        run_later(later, lambda: recover_check(here, 2, starting=False))
    return ended


@shared_task(name=TICK_TASK)
def drift_watch_tick_task() -> int:
    """Every minute (CELERY_BEAT_SCHEDULE): collect finished drift watch jobs, start the due ones."""
    return len(drift_watch_tick())
