"""A step's end, between the job's steps: the last chunk of a step to finish (a counter on the job
row, decremented and read in one transaction: safe on PostgreSQL and SQLite alike) decides what the
step means for the rest (a server that did not end healthy skips the later servers; enough failures
skip everything left), ends the job when nothing is left, or sets the pause before the next step,
which its task then waits out (rolling.py queues the next step's chunks once it is over).
"""

from __future__ import annotations

import time
from datetime import timedelta

from django.db import close_old_connections, connection
from django.db.models import F, Q
from django.utils import timezone

from regui.core.dbretry import db_retry
from regui.inventory.models import Node

from .jobplan import job_policy
from .models import PushJob, PushResult
from .nodepush import HEALTHY
from .outcomes import chunk_end

Status = PushResult.Status
QUORUM = "servers restart one at a time to protect etcd quorum"
RETRY_SECONDS = 1.0  # between reads of a pausing job while the database is away


def chunk_finish(job: PushJob, index: int) -> int | None:
    """This chunk is over: the step's counter goes down, and the step's last chunk decides what follows.
    Returns the next step to queue (this chunk stays running until it is queued), else None."""
    PushJob.objects.filter(pk=job.pk).update(chunks_left=F("chunks_left") - 1)  # takes the row's write lock first
    row = PushJob.objects.values("status", "chunks_left", "step").get(pk=job.pk)
    if row["status"] != PushJob.Status.RUNNING or row["chunks_left"] > 0:
        chunk_end(job.pk, index)
        return None
    step = row["step"]
    step_after(job, step)
    later = job.results.filter(step__gt=step, status=Status.PENDING).order_by("step").values_list("step", flat=True)
    following = later.first()
    if following is None:
        PushJob.objects.filter(pk=job.pk).update(status=PushJob.Status.DONE, finished_at=timezone.now())
        chunk_end(job.pk, index)
        return None
    restarted = job.results.filter(step=step, restarted=True).exists()
    pause = job_policy(job).pause_seconds if restarted and job.restart else 0
    PushJob.objects.filter(pk=job.pk).update(
        step=following, paused_until=timezone.now() + timedelta(seconds=pause) if pause else None)
    return following


def step_after(job: PushJob, step: int) -> None:
    """What a finished step means for the rest: a server that did not end healthy stops the servers
    after it (etcd quorum); enough failed nodes stop the push."""
    if job.kind != PushJob.Kind.PUSH:
        return
    if job.restart:
        bad = job.results.filter(step=step, role=Node.Role.SERVER).exclude(status__in=[*HEALTHY, Status.SKIPPED])
        first = bad.order_by("node_name").first()
        if first is not None:
            what = "was unreachable" if first.status == Status.UNREACHABLE else (
                "was interrupted" if first.status == Status.INTERRUPTED else "failed")
            results_skip(job, Q(step__gt=step, role=Node.Role.SERVER),
                         f"skipped: server {first.node_name} {what}, and {QUORUM}")
    limit = job_policy(job).max_failures
    if limit:
        failed = job.results.filter(status__in=[Status.FAILED, Status.UNREACHABLE]).count()
        if failed >= limit:
            results_skip(job, Q(step__gt=step), f"skipped: {failed} node(s) failed, and this push stops after {limit}")


def results_skip(job: PushJob, which: Q, message: str) -> None:
    job.results.filter(which, status=Status.PENDING).update(status=Status.SKIPPED, message=message,
                                                           finished_at=timezone.now())


def pause_wait(job: PushJob) -> None:
    """Sleep until the job's pause is over, or it is no longer running (read again each second, so an
    interrupted job stops waiting); the job's pause and status are then as last read."""
    job.refresh_from_db(fields=["paused_until", "status"])
    while job.paused_until and job.status == PushJob.Status.RUNNING:
        left = (job.paused_until - timezone.now()).total_seconds()
        if left <= 0:
            break
        time.sleep(min(left, 1.0))
        _pause_reread(job)


def _pause_reread(job: PushJob) -> None:
    """The pause and status of a pausing job, read again. A pause is the job's longest wait without a
    query: a database restarted meanwhile dropped its connection, which is checked (and opened anew)
    before the read, and read again for a few seconds while the database is away."""
    def reread() -> None:
        if not connection.in_atomic_block:  # (eager mode: a test's transaction is the connection's)
            close_old_connections()  # the next query checks the connection first (CONN_HEALTH_CHECKS)
        job.refresh_from_db(fields=["paused_until", "status"])

    db_retry(reread, [RETRY_SECONDS] * 4)
