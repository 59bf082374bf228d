"""How a job ends when it cannot end normally: failed (an error inside it), or interrupted (the worker
running part of it stopped). Either way nothing stays queued or running, no node stays locked, and
the job says why."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from regui.audit.services import audit_object
from regui.inventory.models import Node
from regui.registries.models import Secret

from .events import job_ended_send
from .models import PushChunk, PushJob, PushResult

log = logging.getLogger(__name__)
Status = PushResult.Status
ACTIVE = (PushJob.Status.QUEUED, PushJob.Status.RUNNING)
UNKNOWN_STATE = "whether its file was written and its service restarted is not known"


def failure_reason(exc: BaseException, cluster_id: int | None = None) -> str:
    """The error's type and message, short, with any secret value of the cluster masked."""
    text = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
    if cluster_id is not None:
        for value in _secret_values(cluster_id):
            text = text.replace(value, "•••")
    return text[:400]


def _secret_values(cluster_id: int) -> list[str]:
    values: list[str] = []
    try:
        for secret in Secret.objects.filter(Q(cluster_id=cluster_id) | Q(shared_with=cluster_id)).distinct():
            try:
                values += [v for v in secret.unseal().values() if isinstance(v, str) and len(v) >= 4]
            except Exception:  # the key ring may be what failed: nothing of it can be in the message
                continue
    except DatabaseError:
        pass
    return sorted(values, key=len, reverse=True)


def job_fail(job_id: int, chunk: int | None, exc: BaseException) -> None:
    """End the job as failed, with the reason: nodes not reached are skipped, this chunk's nodes in
    flight failed (their state unknown), its locks freed. Retried while the database is away."""
    for attempt in range(3):
        try:
            job = PushJob.objects.get(pk=job_id)
            reason = failure_reason(exc, job.cluster_id)
            _fail(job, chunk, reason)
            return
        except DatabaseError:
            log.warning("could not record push job %s as failed (attempt %s)", job_id, attempt + 1, exc_info=True)
            connection.close()
            time.sleep(1 + attempt)
    log.error("push job %s failed and could not be marked so: the periodic check will end it", job_id)


def job_stop(job: PushJob, chunk: int, said: str, message: str) -> None:
    """End the job as failed because it decided so itself (no error): `said` for the job, `message`
    for its nodes not reached; otherwise as job_fail."""
    _fail(job, chunk, said, job_message=said, skipped=message)


def _fail(job: PushJob, chunk: int | None, reason: str, job_message: str = "", skipped: str = "") -> None:
    now = timezone.now()
    with transaction.atomic():
        ended = PushJob.objects.filter(pk=job.pk, status__in=ACTIVE).update(
            status=PushJob.Status.FAILED, finished_at=now,
            message=job_message or f"The push failed: {reason.rstrip('.')}. See the worker log.")
        mine = job.results.filter(chunk=chunk) if chunk is not None else job.results.none()
        in_flight = list(mine.filter(status=Status.RUNNING).values_list("node_id", flat=True))
        mine.filter(status=Status.RUNNING).update(
            status=Status.FAILED, finished_at=now,
            message=f"the push failed while this node was being pushed ({reason}): {UNKNOWN_STATE}")
        if ended:
            job.results.filter(status=Status.PENDING).update(
                status=Status.SKIPPED, finished_at=now, message=skipped or f"not pushed: the push failed ({reason})")
            job.chunks.filter(status=PushChunk.Status.QUEUED).update(status=PushChunk.Status.INTERRUPTED,
                                                                     finished_at=now)
        ran = chunk is not None and job.chunks.filter(index=chunk, status=PushChunk.Status.RUNNING).update(
            status=PushChunk.Status.DONE, finished_at=now)
        _release(job, in_flight)
        if ended:
            job.refresh_from_db()
            audit_object(job, "push", {"status": [PushJob.Status.RUNNING, PushJob.Status.FAILED]}, message=reason)
        if ended or ran:
            job_end_check(job.pk)


def _release(job: PushJob, node_ids: Iterable[int | None], restart_unknown: bool = False) -> None:
    """Free the job's locks on these nodes; with `restart_unknown`, the next push restarts them even
    when their file is already the new one (it may have been written without the restart)."""
    ids = [i for i in node_ids if i]
    fields: dict = {"lock_job": None, "lock_at": None}
    if restart_unknown:
        fields["restart_pending"] = True
    Node.objects.filter(pk__in=ids, lock_job=job.pk).update(**fields)


def job_interrupt(job: PushJob, lost: list[PushChunk], reason: str) -> list[Node] | None:
    """The worker running `lost` stopped mid-job: the job ends interrupted, the lost chunks' nodes in
    flight are marked so (and owe a restart), nodes not reached are interrupted, locks are freed.
    Chunks still running on live workers finish their nodes. Returns the nodes that were in flight
    (None when the job had ended already)."""
    now = timezone.now()
    restarting = job.kind == PushJob.Kind.PUSH and job.restart
    indexes = [c.index for c in lost]
    with transaction.atomic():
        if not PushJob.objects.filter(pk=job.pk, status__in=ACTIVE).update(
                status=PushJob.Status.INTERRUPTED, finished_at=now, message=reason):
            return None
        flight = job.results.filter(chunk__in=indexes, status=Status.RUNNING)
        in_flight = list(flight.values_list("node_id", flat=True))
        flight.update(status=Status.INTERRUPTED, finished_at=now,
                      message=f"interrupted while being pushed: {UNKNOWN_STATE}"
                              + ("; the next push restarts it" if restarting else ""))
        job.results.filter(status=Status.PENDING).update(
            status=Status.INTERRUPTED, finished_at=now, message="interrupted: not pushed")
        job.chunks.filter(Q(index__in=indexes) | Q(status=PushChunk.Status.QUEUED)).exclude(
            status=PushChunk.Status.DONE).update(status=PushChunk.Status.INTERRUPTED, finished_at=now)
        _release(job, in_flight, restart_unknown=restarting)
        _release(job, _chunk_nodes(job, indexes))
        job.refresh_from_db()
        audit_object(job, "push", {"status": [PushJob.Status.RUNNING, PushJob.Status.INTERRUPTED]}, message=reason)
        job_end_check(job.pk)
    return list(Node.objects.select_related("cluster").filter(pk__in=[i for i in in_flight if i]))


def chunks_abandon(job: PushJob, lost: list[PushChunk], why: str) -> list[Node]:
    """A job that has ended (failed, interrupted) still had these chunks running on a worker that
    stopped since: their nodes in flight are marked interrupted (and owe a restart), those not reached
    too, their locks are freed. Returns the nodes that were in flight."""
    now = timezone.now()
    restarting = job.kind == PushJob.Kind.PUSH and job.restart
    indexes = [c.index for c in lost]
    with transaction.atomic():
        _lock(job.pk)
        if not job.chunks.filter(index__in=indexes, status=PushChunk.Status.RUNNING).update(
                status=PushChunk.Status.INTERRUPTED, finished_at=now):
            return []
        flight = job.results.filter(chunk__in=indexes, status=Status.RUNNING)
        in_flight = list(flight.values_list("node_id", flat=True))
        flight.update(status=Status.INTERRUPTED, finished_at=now,
                      message=f"{why}: {UNKNOWN_STATE}" + ("; the next push restarts it" if restarting else ""))
        job.results.filter(chunk__in=indexes, status=Status.PENDING).update(
            status=Status.INTERRUPTED, finished_at=now, message="interrupted: not pushed")
        _release(job, in_flight, restart_unknown=restarting)
        _release(job, _chunk_nodes(job, indexes))
        job_end_check(job.pk)
    return list(Node.objects.select_related("cluster").filter(pk__in=[i for i in in_flight if i]))


def _chunk_nodes(job: PushJob, indexes: list[int]) -> list[int | None]:
    """All the nodes of these chunks: a worker killed between locking a node and marking its result
    running left it locked with its result pending (its lock is freed with the others)."""
    return list(job.results.filter(chunk__in=indexes).values_list("node_id", flat=True))


def chunk_end(job_id: int, index: int) -> None:
    """A chunk has run: marked done, and when it was the job's last one running after the job ended,
    the job's end is announced (job_end_check)."""
    with transaction.atomic():
        _lock(job_id)
        if PushChunk.objects.filter(job_id=job_id, index=index, status=PushChunk.Status.RUNNING).update(
                status=PushChunk.Status.DONE, finished_at=timezone.now()):
            job_end_check(job_id, locked=True)


def _lock(job_id: int) -> None:
    # An UPDATE takes the job row's write lock until the commit (PostgreSQL; SQLite locks the whole
    # database): whoever ends the job or one of its chunks checks what is left in turn, job row first.
    PushJob.objects.filter(pk=job_id).update(status=F("status"))


def job_end_check(job_id: int, *, locked: bool = False) -> None:
    """In the transaction that ended the job or one of its chunks: once the job has ended and none of
    its chunks runs any more (a failed job's other chunks finish their nodes), `job_ended` goes out,
    after the commit. Exactly once: the callers hold the job row's lock in turn, and only the one that
    leaves nothing running sees nothing running. `locked`: this transaction took it already (_lock)."""
    if not locked:
        _lock(job_id)
    if PushJob.objects.filter(pk=job_id, status__in=ACTIVE).exists():
        return
    if PushChunk.objects.filter(job_id=job_id, status=PushChunk.Status.RUNNING).exists():
        return
    job_ended_send(job_id)
