"""Running a job: its plan's steps in order, each step's chunks as tasks that any worker may take.

A chunk renders the cluster itself and pushes only the job's revision (the one confirmed), rendered
as the job started with; else nothing, and the job ends failed saying so. Its nodes run at once,
one thread each. The last chunk of a step to finish decides what follows (steps.py): the job ends in
the same commit as its last results, or this task waits out the pause and queues the next step's
chunks. Tasks are idempotent: a chunk runs once (claimed by an UPDATE), a job no
longer active is left alone, and a node already at the target sha256 reports "unchanged".
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from celery import current_app
from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import timezone

from regui.audit import context as audit_context
from regui.core.crypto import KeyringError
from regui.inventory.credentials.services import WITH_LOGIN
from regui.inventory.jumphosts.routing import JUMP
from regui.inventory.models import Node
from regui.registries.models import Cluster
from regui.remote import keys
from regui.remote.script import RemoteFile

from .files import PushFiles, RenderRefused, cluster_files, files_key
from .gate import ready_gate
from .jobplan import job_policy, plan_results
from .models import PushChunk, PushJob, PushResult
from .nodepush import Programs, _finish, node_push, start_all
from .outcomes import chunk_end, job_fail, job_stop
from .preconnect import Preconnected
from .sink import NodeOutcome, ResultSink
from .steps import chunk_finish, pause_wait, results_skip

log = logging.getLogger(__name__)
PUSH_TASK = "regui.push_job_run"
Status = PushResult.Status
Send = Callable[[int, list[int]], None]


# A worker sending a job's next step waits out a broker restarting (~17 s), where Celery's default
# gave up after 0.6 s and failed the push at its step boundary. Not a web request sending the first.
SEND_RETRY = {"max_retries": 10, "interval_start": 0.5, "interval_step": 0.5, "interval_max": 2}


def celery_send(job_id: int, chunks: list[int], retry_policy: dict[str, Any] | None = None) -> None:
    for index in chunks:  # by the task's name: tasks.py imports this module; {}: Celery's default policy
        current_app.signature(PUSH_TASK, args=[job_id, index]).apply_async(retry_policy=retry_policy or {})


def step_send(job_id: int, chunks: list[int]) -> None:
    celery_send(job_id, chunks, SEND_RETRY)


def files_digest(files: list[RemoteFile]) -> str:
    # With the render's sync key: a secret given a value while the job runs (even the same one) changes it,
    # so the chunks left skip alike whether a guess saved meanwhile was right or not (core/fingerprints.py).
    digest = hashlib.sha256(f"{files_key(files)}\0".encode())
    for f in files:
        digest.update(f"{f.path}\0{f.sha256}\0".encode())
    return digest.hexdigest()


def push_job_run(job_id: int, chunk: int = 0, send: Send | None = None, worker: str = "") -> PushJob:
    """Run one chunk of a job (the first, by default). History entries made here are the job's
    starter's, in the request that started it. Any error ends the job as failed, with the reason."""
    job = PushJob.objects.select_related("cluster", "created_by").get(pk=job_id)
    if job.is_active:
        # Each private key parsed once for the chunk's logins, not once per node (see keys.ParsedKeys).
        with audit_context.acting(job.created_by, request_id=job.request_id, source_ip=job.source_ip,
                                  username=job.created_by_name), keys.keys_parsed_once():
            try:
                _run_chunk(job, chunk, send or step_send, worker)
            except KeyringError as exc:  # a key dropped from the ring: no bug, said as it is
                log.warning("push job %s (chunk %s) stopped: %s", job_id, chunk, exc)
                job_stop(job, chunk, f"The push stopped: {exc}", f"not pushed: {exc}")
            except Exception as exc:
                log.exception("push job %s (chunk %s) failed", job_id, chunk)
                job_fail(job.pk, chunk, exc)
        job.refresh_from_db()
    close_old_connections()
    return job


def run_inline(job_id: int, chunks: list[int]) -> PushJob:
    """Run a job in this process (Celery's eager mode: tests, CELERY_TASK_ALWAYS_EAGER): each step's
    chunks at once in threads, as separate workers would take them, and no task inside a task."""
    todo = list(chunks)
    while todo:
        sent: list[int] = []
        send = _collect(sent)
        if len(todo) == 1:
            push_job_run(job_id, todo[0], send)
        else:
            threads = [threading.Thread(target=_in_thread, args=(push_job_run, job_id, c, send)) for c in todo]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        todo = sent
    return PushJob.objects.get(pk=job_id)


def _collect(into: list[int]) -> Send:
    def send(_job: int, chunks: list[int]) -> None:
        into.extend(chunks)

    return send


def _in_thread(fn: Callable[..., Any], *args: Any) -> None:
    try:
        fn(*args)
    finally:
        connection.close()


def _claim(job: PushJob, index: int, worker: str) -> bool:
    def claim() -> bool:
        return bool(PushChunk.objects.filter(job=job, index=index, status=PushChunk.Status.QUEUED).update(
            status=PushChunk.Status.RUNNING, worker=worker[:255], started_at=timezone.now()))

    if claim():  # the common case in one statement; a plan's absence is looked for only when nothing was claimed
        return True
    if index == 0 and not job.chunks.exists():  # a job queued before plans (or made by hand): plan it now
        plan_results(job)
        return claim()
    return False


def _run_chunk(job: PushJob, index: int, send: Send, worker: str) -> None:
    if not _claim(job, index, worker):
        return  # run already, elsewhere, or the job ended: a repeated delivery does nothing
    # The handshakes start once the render is made and found to be the confirmed revision's (see
    # _prepare_and_run), not while it is made: 30-100 handshakes held the worker's CPUs then, the render
    # took 0.2-1 s instead of ~10 ms, and every node's push waited for it. A refused render or revision
    # opens no connection at all.
    results = list(job.results.filter(chunk=index, status=Status.PENDING))
    nodes = _nodes_with_routes(job, [r.node_id or 0 for r in results])
    early = Preconnected(list(nodes.values()), final=True, deferred=True) if nodes else None
    try:
        _prepare_and_run(job, index, send, worker, results, nodes, early)
    finally:
        if early:  # each node's push waited for its own handshake; any other is not waited for
            early.close(wait=False)


def _prepare_and_run(job: PushJob, index: int, send: Send, worker: str, results: list[PushResult],
                     nodes: dict[int, Node], early: Preconnected | None) -> None:
    confirmed = job.revision if job.kind == PushJob.Kind.PUSH else None  # a drift check reads what is now
    # The revision as read with the job (push_job_run), before the render: revisions only grow, so the same
    # number then and after the render means no save came in between, as a read just before it would.
    before = job.cluster.revision
    try:
        # Checked again here: the cluster may have changed since the job was queued.
        files = cluster_files(job.cluster, check=job.kind == PushJob.Kind.PUSH, checked=job.checked_render)
    except RenderRefused as exc:
        _refuse(job, str(exc))
        _chunk_done(job, index)
        return
    # The same revision before and after the render (a save bumps it in the commit that replaces the
    # rows): the render is that revision's, so every chunk writes what was confirmed, or nothing.
    after = _stored_revision(job)
    if confirmed is not None and (before, after) != (confirmed, confirmed):
        _revision_refuse(job, index, confirmed, after if after != confirmed else before)
        return
    digest, now = files_digest(files), timezone.now()
    started = {"status": PushJob.Status.RUNNING, "started_at": now, "files_digest": digest,
               "sha256": hashlib.sha256(files[0].content).hexdigest(),
               "revision": after if confirmed is None else confirmed}
    if PushJob.objects.filter(pk=job.pk, status=PushJob.Status.QUEUED).update(**started):
        for name, value in started.items():  # the row as this UPDATE left it: no read back
            setattr(job, name, value)
    else:  # started by another chunk (or ended): as it is now
        job.refresh_from_db()
    if job.status != PushJob.Status.RUNNING:
        _chunk_done(job, index)
        return
    if job.kind == PushJob.Kind.DRIFT and job.origin_id is not None and isinstance(files, PushFiles):
        # The re-read of an interrupted push: were these its very files (same render, same sync key)?
        files.origin_wrote = PushJob.objects.filter(pk=job.origin_id, kind=PushJob.Kind.PUSH,
                                                    files_digest=digest).exists()
    if job.files_digest != digest:
        results_skip(job, Q(pk__in=[r.pk for r in results]),
              "not pushed: the cluster's registries (or a secret they use) changed after this push started; "
              "push again to send the new file")
        results = []
    ready: Preconnected | None = early  # this step's sessions, opened during the step before (or now)
    if early and results:
        early.start()
    following: Preconnected | None = None
    current = index
    try:
        while True:  # the following steps of a single chunk each run here too, already connected
            ahead = _single_next(job, current, results)
            following = Preconnected(ahead, after=len(results)) if ahead else None
            advance = _run_nodes(job, current, results, files, ready, following, nodes if current == index else None)
            if ready:  # its nodes' pushes took their handshakes; none is waited for when none ran
                ready.close(wait=False)
            ready, following = following, None
            then = _next_step(job, (current, worker), advance, send) if advance is not None else None
            if then is None:
                break
            current, results = then, list(job.results.filter(chunk=then, status=Status.PENDING))
    finally:
        for opened in (ready, following):
            if opened:  # a handshake still going closes its connection itself when it ends
                opened.close(wait=False)


def _single_next(job: PushJob, chunk: int, results: list[PushResult]) -> list[Node]:
    """The nodes of the step after this chunk's (whose pending `results` are given), when this chunk is
    its step's only one and so is the next step's (this task will run it): worth connecting to now.
    Else none. The common case, a last step, costs one query."""
    step = results[0].step if results else job.results.filter(chunk=chunk).values_list("step", flat=True).first()
    if step is None:
        return []
    later = job.results.filter(step__gt=step, status=Status.PENDING).order_by("step")
    following = later.values_list("step", flat=True).first()
    if following is None or job.results.filter(step=step).exclude(chunk=chunk).exists():
        return []
    rows = list(later.filter(step=following))
    if len({r.chunk for r in rows}) != 1:
        return []
    return list(_nodes_with_routes(job, [r.node_id or 0 for r in rows]).values())


def _nodes_with_routes(job: PushJob, ids: list[int]) -> dict[int, Node]:
    """The nodes with their credentials and jump hosts, so that their threads connect without a query (or
    a database connection) of their own. Their one cluster is read once and shared, not once per node."""
    if not ids:
        return {}
    cluster = Cluster.objects.select_related(JUMP).get(pk=job.cluster_id)
    nodes = Node.objects.select_related(WITH_LOGIN, JUMP).in_bulk(ids)
    for node in nodes.values():
        node.cluster = cluster
    return nodes


def _run_nodes(job: PushJob, index: int, results: list[PushResult], files: list[RemoteFile],
               ready: Preconnected | None = None, ahead: Preconnected | None = None,
               nodes: dict[int, Node] | None = None) -> int | None:
    """Push the chunk's nodes at once; returns the next step to queue when this chunk ended its step.
    `nodes`: the results' nodes, when already loaded (see _nodes_with_routes)."""
    sink = ResultSink()
    if nodes is None:
        nodes = _nodes_with_routes(job, [r.node_id or 0 for r in results])
    started = start_all(job, results)
    if started is None:  # the job ended meanwhile (interrupted, or failed in another chunk)
        _chunk_done(job, index)
        return None
    gating = job_policy(job).ready_gate and job.kind == PushJob.Kind.PUSH and job.restart
    held: list[NodeOutcome] = []
    decision: dict[str, int | None] = {}
    programs = Programs()

    def one(result: PushResult) -> str:
        try:
            return node_push(job, result, files, node=nodes.get(result.node_id or 0), started=result.pk in started,
                             sink=sink, held=held if gating else None, ready=ready, ahead=ahead,
                             programs=programs)
        except Exception as exc:  # one node's bug must not take the others down
            log.exception("push of node %s failed", result.node_name)
            _finish(result, Status.FAILED, f"internal error ({type(exc).__name__}: {exc}); see the worker log")
            return Status.FAILED
        finally:
            if threading.current_thread() is not threading.main_thread():
                connection.close()

    def gate(node_futures: list[Future[Any]]) -> None:
        try:
            wait(node_futures)
            ready_gate(job, held)
            for outcome in held:
                sink.put(outcome)
        finally:
            connection.close()

    def finish() -> None:  # in the same commit as the chunk's last results
        decision["next"] = chunk_finish(job, index)

    with ThreadPoolExecutor(max_workers=max(1, len(results)) + int(gating)) as pool:
        # Each thread gets its own copy of this context, so its history entries keep the job's actor.
        futures: list[Future[Any]] = [pool.submit(contextvars.copy_context().run, one, r) for r in results]
        if gating and futures:
            futures.append(pool.submit(contextvars.copy_context().run, gate, list(futures)))
        sink.serve(futures, last=finish)
        for f in futures:
            f.result()
    return decision.get("next")


def _next_step(job: PushJob, mine: tuple[int, str], step: int, send: Send) -> int | None:
    """Pause if asked (this chunk still running, so a worker that dies now is noticed), then start the
    step: a single chunk continues in this task (returned: run it next), several go to the workers.
    This chunk ends only then, so that something of the job is always queued or running."""
    index, worker = mine
    pause_wait(job)
    if job.status != PushJob.Status.RUNNING:
        _chunk_done(job, index)
        return None
    chunks = sorted(set(job.results.filter(step=step, status=Status.PENDING).values_list("chunk", flat=True)))
    here = len(chunks) == 1
    with transaction.atomic():
        PushChunk.objects.bulk_create(
            PushChunk(job=job, index=c, step=step, **({"status": PushChunk.Status.RUNNING, "worker": worker[:255],
                                                       "started_at": timezone.now()} if here else {}))
            for c in chunks)
        PushJob.objects.filter(pk=job.pk).update(chunks_left=len(chunks), paused_until=None)
        if here:
            _chunk_done(job, index)
    if here:
        return chunks[0]
    send(job.pk, chunks)
    _chunk_done(job, index)
    return None


def _chunk_done(job: PushJob, index: int) -> None:
    chunk_end(job.pk, index)


def _stored_revision(job: PushJob) -> int:
    return Cluster.objects.values_list("revision", flat=True).get(pk=job.cluster_id)


def _revision_refuse(job: PushJob, index: int, confirmed: int, now: int) -> None:
    """The registries were saved since the job was confirmed: this chunk writes nothing, and the job
    ends (failed) so that none of its chunks pushes a revision nobody confirmed."""
    words = (f"the registries changed since this push was confirmed (revision {confirmed} → {now}): nothing "
             "written; push the new revision through the confirmation")
    job_stop(job, index, f"Stopped: {words}.", f"not pushed: {words}")
    job.refresh_from_db()


def _refuse(job: PushJob, message: str) -> None:
    """The render went bad: nothing more is pushed (nodes done stay done)."""
    with transaction.atomic():
        results_skip(job, Q(), message)
        PushJob.objects.filter(pk=job.pk, status__in=[PushJob.Status.QUEUED, PushJob.Status.RUNNING]).update(
            status=PushJob.Status.REFUSED, message=message, finished_at=timezone.now(),
            started_at=job.started_at or timezone.now())
    job.refresh_from_db()
