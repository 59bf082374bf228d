"""Jobs whose worker stopped mid-job (`kill -9`, a crash, a lost machine): found from the workers'
heartbeat rows (regui/core/heartbeat.py) when a worker starts and by a periodic task, and ended as
interrupted (outcomes.job_interrupt), with a drift check that re-reads the nodes that were in flight.

A chunk is lost when the worker that ran it is known to be gone (same machine and its process has
exited, or this very worker started after it began: a restart), when it is running but no live worker
lists it for longer than REGUI_WORKER_WAIT, when it waits in a dead worker's prefetched tasks, or when
it is queued and no worker holds it while one that reads this site's queue has been up and free to take
it for REGUI_WORKER_WAIT since it was queued (its message is gone: a broker restarted without its
queue, a message lost in transit). A worker prefetches what its queue holds at once, even while
running other tasks, so a worker of this site's queue that reserves nothing sees an empty queue.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from regui.core.heartbeat import this_site_broker
from regui.core.models import WorkerBeat
from regui.inventory.models import Node

from .models import PushChunk, PushJob, PushResult
from .outcomes import chunks_abandon, job_interrupt
from .rolling import PUSH_TASK
from .services import push_job_create, queue_chunks, unfinished_nodes

log = logging.getLogger(__name__)
_NAME = re.compile(r"^\S*?@?(?P<host>[^@\s]*) pid (?P<pid>\d+)$")


@dataclass(frozen=True)
class Here:
    """The worker process doing the check: its heartbeat name and when its process started (before it
    took any task: a chunk that names this worker and started earlier ran in the process before it)."""

    name: str
    started_at: datetime


@dataclass(frozen=True)
class ChunkState:
    job_id: int
    index: int
    status: str
    worker: str
    started_at: datetime | None
    queued_at: datetime | None = None


@dataclass(frozen=True)
class Beat:
    name: str
    seen_at: datetime
    tasks: list
    started_at: datetime | None = None  # when the worker was ready to take tasks
    takes_pushes: bool = False  # it reads this site's broker and push queue
    back_at: datetime | None = None  # when its heartbeats resumed after failing (the database away)


def host_pid(name: str) -> tuple[str, int | None]:
    """("host", pid) of a heartbeat name such as "celery@host pid 123"."""
    match = _NAME.match(name or "")
    return (match["host"], int(match["pid"])) if match else ("", None)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lost_chunks(chunks: Iterable[ChunkState], beats: Iterable[Beat], *, now: datetime, wait: float,
                here: Here | None = None, alive: Callable[[int], bool] = pid_alive) -> dict[tuple[int, int], str]:
    """(job, chunk) -> why it will not finish, for each chunk that is lost. Pure: no database."""
    beats = list(beats)
    stale = now - timedelta(seconds=wait)
    my_host = host_pid(here.name)[0] if here else None

    def gone(name: str, seen_at: datetime | None) -> str:
        """Why the worker process `name` is certainly gone ("" when it may be alive)."""
        host, pid = host_pid(name)
        if here and name == here.name and seen_at is not None and seen_at < here.started_at:
            return f"the worker that ran it ({name}) was restarted"
        if here and host == my_host and pid is not None and name != here.name and not alive(pid):
            return f"the worker that ran it ({name}) has exited"
        return ""

    def listed(chunk: ChunkState, rows: list[Beat]) -> list[Beat]:
        """Rows whose worker holds the chunk's task; for a running chunk, any task of its job on its worker
        (a task runs the following steps of a single chunk too, under its first chunk's arguments)."""
        args = [chunk.job_id, chunk.index]
        if chunk.status == PushChunk.Status.RUNNING:
            mine = [b for b in rows if not chunk.worker or b.name == chunk.worker]
            return [b for b in mine if any(t[1] == PUSH_TASK and t[2][:1] == args[:1] and t[0] == "active"
                                           for t in b.tasks if len(t) >= 3)]
        return [b for b in rows if any(t[1] == PUSH_TASK and (t[2] == args or (chunk.index == 0 and t[2] == args[:1]))
                                       for t in b.tasks if len(t) >= 3)]

    # While the checker's own heartbeat says the database was away, or has not been written for `wait`
    # yet, no worker's silence says it stopped; only a process known gone does.
    own = next((b for b in beats if here and b.name == here.name and b.seen_at >= here.started_at), None)
    blind = here is not None and blind_until(own, now, wait) is not None
    live = [b for b in beats if (blind or b.seen_at >= stale) and not gone(b.name, b.seen_at)]
    dead = [b for b in beats if b not in live]
    lost: dict[tuple[int, int], str] = {}
    for c in chunks:
        key = (c.job_id, c.index)
        if c.status == PushChunk.Status.RUNNING:
            why = gone(c.worker, c.started_at) if c.worker else ""
            if why:
                lost[key] = why
            elif not blind and not listed(c, live) and c.started_at is not None and c.started_at < stale:
                worker = next((b for b in beats if b.name == c.worker), None)
                lost[key] = (f"the worker that ran it ({c.worker}) has not checked in since "
                             f"{timezone.localtime(worker.seen_at):%H:%M:%S}" if worker and worker.seen_at < stale
                             else "no worker runs it any more (its worker stopped, or the task ended without "
                                  "finishing it: see the worker log)")
        elif c.status == PushChunk.Status.QUEUED and not listed(c, live):
            holders = listed(c, dead)
            if holders:
                lost[key] = f"the worker that had taken it ({holders[0].name}) stopped before running it"
            elif (free := _free_taker(c, live, wait)) is not None:
                lost[key] = (f"its task was lost: worker {free.name} was free to take it and has not in "
                             f"{int((free.seen_at - c.queued_at).total_seconds()) if c.queued_at else 0} s "
                             "(the broker lost its queue, or the task was lost on its way)")
    return lost


def blind_until(own: Beat | None, now: datetime, wait: float) -> datetime | None:
    """Until when no worker's silence says that it stopped, from the checker's own heartbeat row, written
    by this very process (None: from now on it does). Silent for `wait` itself: the database was away for
    every worker, until its own next beat at least (`now`: when is not known yet). Writing for less than
    `wait` (back after failing, or started: a worker started while the database was away, or just
    after, writes its first beat as soon as it is back): a live worker's heartbeat, failing as long, may
    not have been written since; once `wait` has passed it has had as long as when nothing failed. Not
    written yet: its first beat, still to come, starts the wait."""
    if own is None:
        return now + timedelta(seconds=wait)
    stale = now - timedelta(seconds=wait)
    if own.seen_at < stale:
        return now
    since = max((t for t in (own.started_at, own.back_at) if t is not None), default=None)
    if since is not None and since > stale:
        return since + timedelta(seconds=wait)
    return None


def recheck_in(here: Here, *, starting: bool = False) -> float | None:
    """Seconds until the check that `here` could not make (blind: see blind_until) can be made; None
    when it could. The periodic check runs again then, not a whole period later. Its worker's start is
    not its to wait for (`starting`: the start-up check's, which runs again itself, signals.py): a task
    sent with a countdown is held unacknowledged, and a Redis restart meanwhile stops the worker."""
    now = timezone.now()
    row = WorkerBeat.objects.filter(name=here.name, seen_at__gte=here.started_at).first()
    if row is None and not starting:
        return None
    own = Beat(row.name, row.seen_at, [], row.started_at if starting else None, back_at=row.back_at) if row else None
    until = blind_until(own, now, settings.REGUI_WORKER_WAIT)
    if until is None:
        return None
    return (until - now).total_seconds() + 1 if until > now else settings.REGUI_WORKER_BEAT


def _free_taker(chunk: ChunkState, live: list[Beat], wait: float) -> Beat | None:
    """A live worker of this site's queue that, for `wait` seconds after the chunk was queued and it was
    up, held no task in reserve: had the chunk's task been in its queue, it would have taken it."""
    if chunk.queued_at is None:
        return None
    for b in live:
        since = max(chunk.queued_at, b.started_at or b.seen_at)
        if (b.takes_pushes and (b.seen_at - since).total_seconds() >= wait
                and not any(t[0] == "reserved" for t in b.tasks if t)):
            return b
    return None


def jobs_recover(here: Here | None = None) -> list[int]:
    """End every job that will not finish as interrupted; returns their ids."""
    now = timezone.now()
    live_jobs = [PushJob.Status.QUEUED, PushJob.Status.RUNNING]
    # A job that ended (failed, interrupted) while other chunks of it ran: those finish their nodes, or
    # are lost with their worker too.
    active = PushChunk.objects.filter(Q(job__status__in=live_jobs) | Q(status=PushChunk.Status.RUNNING),
                                      status__in=[PushChunk.Status.QUEUED, PushChunk.Status.RUNNING])
    chunks = [ChunkState(c.job_id, c.index, c.status, c.worker, c.started_at, c.queued_at) for c in active]
    site, queue = this_site_broker(), settings.CELERY_TASK_DEFAULT_QUEUE
    beats = [Beat(b.name, b.seen_at, b.tasks, b.started_at, b.broker == site and queue in (b.queues or []), b.back_at)
             for b in WorkerBeat.objects.all()]
    lost = lost_chunks(chunks, beats, now=now, wait=settings.REGUI_WORKER_WAIT, here=here)
    stuck = _stuck_jobs(now, {c.job_id for c in chunks})
    ended = []
    for job in PushJob.objects.select_related("cluster").filter(pk__in={j for j, _ in lost} | set(stuck)):
        mine = sorted((i, why) for (j, i), why in lost.items() if j == job.pk)
        why = mine[0][1] if mine else stuck[job.pk]
        lost_rows = list(job.chunks.filter(index__in=[i for i, _ in mine]))
        if not job.is_active:
            _abandoned(job, lost_rows, why)
            continue
        if _moved_on(job, lost_rows, why):
            continue
        reason = (f"Interrupted: {why}. Each node's row says what is known of it; "
                  "“Re-run unfinished nodes” pushes the rest.")
        in_flight = job_interrupt(job, lost_rows, reason)
        if in_flight is None:
            continue
        if job.kind == PushJob.Kind.DRIFT and job.origin_id is not None:
            # A re-read (or re-run of a check) interrupted itself: every node it had not read yet, or
            # those would never be re-read (a worker restarted twice quickly).
            in_flight = unfinished_nodes(job)
        ended.append(job.pk)
        log.warning("push job %s: %s", job.pk, reason)
        if in_flight:  # read-only: what the nodes really have now
            push_job_create(cluster=job.cluster, nodes=in_flight, kind=PushJob.Kind.DRIFT, origin=job)
    return ended


def _moved_on(job: PushJob, lost: list[PushChunk], why: str) -> bool:
    """Whether the lost chunks had ended all their nodes and only ending themselves was left, while
    the job goes on without them: a worker killed just after it queued the job's next step (or after its
    own part of a step another chunk still runs). They end, and the job's queued chunks are sent again,
    in case the kill came before their tasks were (a chunk runs once: a second task does nothing).
    Not when a lost chunk left a node, nor when nothing of the job would be left queued or running (a
    worker killed in the pause before the next step): the job is interrupted then."""
    indexes = [c.index for c in lost]
    if job.results.filter(chunk__in=indexes, status__in=[PushResult.Status.PENDING, PushResult.Status.RUNNING]).exists():
        return False
    with transaction.atomic():
        # The job row's lock first, as a live chunk queueing the next step or ending the job takes it.
        PushJob.objects.filter(pk=job.pk).update(status=F("status"))
        rest = job.chunks.exclude(index__in=indexes)
        if not rest.filter(status__in=[PushChunk.Status.QUEUED, PushChunk.Status.RUNNING]).exists():
            return False
        job.chunks.filter(index__in=indexes, status=PushChunk.Status.RUNNING).update(
            status=PushChunk.Status.DONE, finished_at=timezone.now())
        Node.objects.filter(pk__in=job.results.filter(chunk__in=indexes).values("node_id"), lock_job=job.pk).update(
            lock_job=None, lock_at=None)
        queued = list(rest.filter(status=PushChunk.Status.QUEUED).values_list("index", flat=True))
    log.warning("push job %s: chunks %s lost (%s) after their nodes ended; the job goes on%s", job.pk, indexes, why,
                f", chunks {queued} sent again" if queued else "")
    if queued:
        queue_chunks(job.pk, queued)
    return True


def _abandoned(job: PushJob, lost: list[PushChunk], why: str) -> None:
    in_flight = chunks_abandon(job, lost, f"interrupted: {why}")
    log.warning("push job %s (ended as %s): chunks %s lost: %s", job.pk, job.status, [c.index for c in lost], why)
    if in_flight:
        push_job_create(cluster=job.cluster, nodes=in_flight, kind=PushJob.Kind.DRIFT, origin=job)


def _stuck_jobs(now: datetime, with_chunks: set[int]) -> dict[int, str]:
    """Running jobs with nothing queued or running left (their last chunk ended without finishing them)."""
    since = now - timedelta(seconds=settings.REGUI_WORKER_WAIT)
    rows = PushJob.objects.filter(status=PushJob.Status.RUNNING, started_at__lt=since).exclude(pk__in=with_chunks)
    return {pk: "no part of it is queued or running any more" for pk in rows.values_list("pk", flat=True)
            if PushChunk.objects.filter(job_id=pk).exists()}
