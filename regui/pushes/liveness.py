"""Whether a worker will pick up or finish a job, from the workers' heartbeats (regui/core/heartbeat.py).

A page that waits on a job polls; without this it would poll forever for a job no worker will
ever take (no worker running, or one reading another broker or queue) or finish (its worker died
while running it: the task was acknowledged, so no other worker gets it again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from regui.audit.models import JobRecord
from regui.core.heartbeat import this_site_broker
from regui.core.models import WorkerBeat

from .models import PushJob

TASK = "regui.push_job_run"
SLOW_POLL = 5  # seconds: a page still notices a worker that comes back
START = "`make run` starts one beside the web server (and starts it again if it stops); read its log."


@dataclass(frozen=True)
class WorkerWait:
    text: str
    stalled: bool  # "no worker is answering": nothing will happen until someone acts
    poll: int  # seconds between the page's polls; 0: stop (nothing can change on its own)


class WorkerWatch:
    """The heartbeats read once, for one page (a node list asks about many rows)."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or timezone.now()
        self.wait = timedelta(seconds=settings.REGUI_WORKER_WAIT)
        queue = settings.CELERY_TASK_DEFAULT_QUEUE
        beats = list(WorkerBeat.objects.order_by("-seen_at"))
        self.last_seen = beats[0].seen_at if beats else None
        fresh = [b for b in beats if b.seen_at >= self.now - self.wait]
        self.elsewhere = [b for b in fresh if b.broker != this_site_broker() or queue not in b.queues]
        self.alive = [b for b in fresh if b not in self.elsewhere]

    def holds(self, task: str, pk: int, state: str) -> bool:
        """A live worker has `task` of this row (its first argument) reserved or active."""
        return any(s == state and name == task and args[:1] == [pk]
                   for b in self.alive for s, name, args in b.tasks)

    def job_wait(self, job: PushJob) -> WorkerWait | None:
        """None while all is as expected; else what the page should say and how often to poll."""
        if job.status == PushJob.Status.QUEUED:
            return self._queued(job)
        if job.status == PushJob.Status.RUNNING:
            return self._running(job)
        return None

    def _queued(self, job: PushJob) -> WorkerWait | None:
        wait = self.queued_wait(job, TASK, "job", "")
        if wait is None or not wait.stalled or not self.alive:
            return wait
        # A live worker is idle, yet holds none of it: its task was lost, or the worker that took its first
        # chunk stopped mid-render (or is still rendering, and its heartbeat has not said so yet). Either
        # way recovery.py ends the job as interrupted, and pushing again meanwhile would race it.
        after = (f"It is marked interrupted at the next check (every {settings.REGUI_WORKER_WAIT} s) if so; "
                 "then “Re-run unfinished nodes” pushes what is left.")
        taken = job.chunks.filter(status="running").exclude(started_at=None).order_by("started_at").first()
        if taken is None or taken.started_at is None:
            return WorkerWait(f"No worker has taken this job in {_span(self.now - job.created_at)}, though one is "
                              f"running and idle: its task may have been lost. {after}", True, SLOW_POLL)
        return WorkerWait(f"No worker has reported on this job for {_span(self.now - taken.started_at)}: "
                          f"{taken.worker or 'a worker'} took it at {timezone.localtime(taken.started_at):%H:%M:%S} "
                          f"and may have stopped. {after}", True, SLOW_POLL)

    def queued_wait(self, record: JobRecord, task: str, what: str, again: str) -> WorkerWait | None:
        """For a job record still queued, whose `task` takes its id: `what` names it on the page
        ("job", "test"), `again` says what to do once its task is lost."""
        waited = self.now - record.created_at
        if waited < self.wait or self.holds(task, record.pk, "reserved"):
            return None
        if not self.alive:
            return WorkerWait(f"No worker is answering: this {what} has waited {_span(waited)}, and "
                              f"{self._none_seen()}. {START} The {what} starts as soon as one runs.", True, SLOW_POLL)
        if not any(b.tasks for b in self.alive):
            # An idle worker on this site's queue takes a task within milliseconds.
            return WorkerWait(f"No worker is answering for this {what}: a worker is running and idle, but has not "
                              f"taken it in {_span(waited)}, so its task was lost. {again}", True, SLOW_POLL)
        return WorkerWait(f"Queued for {_span(waited)}: the worker is busy with other jobs.", False, 1)

    def _running(self, job: PushJob) -> WorkerWait | None:
        since = job.started_at or job.created_at
        if self.now - since < self.wait or self.holds(TASK, job.pk, "active") or self.holds(TASK, job.pk, "reserved"):
            return None
        after = ("This job will not finish: it is marked interrupted when a worker starts or at the next "
                 "periodic check, and then “Re-run unfinished nodes” pushes what is left.")
        if not self.alive:
            return WorkerWait(f"No worker is answering for this job: the worker running it stopped, and "
                              f"{self._none_seen()}. {START} {after}", True, SLOW_POLL)
        if job.chunks.filter(status="queued").exists():
            return WorkerWait("The next part of this job is queued: the workers are busy with other jobs.", False, 1)
        return WorkerWait(f"No worker is answering for this job: the worker that was running it stopped. {after}",
                          True, SLOW_POLL)

    def _none_seen(self) -> str:
        where = ""
        if self.elsewhere:
            other = self.elsewhere[0]
            where = (f" (a worker is running, but it reads {other.broker} queue {', '.join(other.queues)}; "
                     f"this site sends to {this_site_broker()} queue {settings.CELERY_TASK_DEFAULT_QUEUE})")
        if self.last_seen is None:
            return f"no Celery worker has ever checked in{where}"
        return f"no Celery worker has checked in since {timezone.localtime(self.last_seen):%H:%M:%S}{where}"


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min"
