"""Pushes: create a job, run it across the cluster, push one node. Tasks and views call these."""

from __future__ import annotations

import contextvars
import hashlib
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import timezone

from regui.audit import context as audit_context
from regui.audit.services import audit_object, audit_object_event
from regui.core.fingerprints import file_fingerprint
from regui.inventory.models import Node
from regui.inventory.services import NodeError, node_target
from regui.registries.models import Cluster
from regui.remote import ssh, transport
from regui.remote.script import RemoteFile, parse_report, push_program

from .files import RenderRefused, check_render, cluster_files, owned_tls_dir
from .models import OUTPUT_CAP, PushJob, PushResult
from .sink import NodeOutcome, ResultSink, outcomes_write

log = logging.getLogger(__name__)
PUSH_TASK = "regui.push_job_run"
Status = PushResult.Status


def push_job_create(*, cluster: Cluster, user=None, nodes: list[Node] | None = None, restart: bool = True,
                    kind: str = PushJob.Kind.PUSH) -> PushJob:
    """Record a job for the given nodes (all by default) and queue it; refused renders never queue."""
    nodes = list(cluster.nodes.all()) if nodes is None else nodes
    actor = audit_context.current()
    job = PushJob(cluster=cluster, kind=kind, restart=restart, revision=cluster.revision,
                  created_by=user if getattr(user, "is_authenticated", False) else None,
                  created_by_name=getattr(user, "username", "") or "", request_id=actor.request_id,
                  source_ip=actor.source_ip)
    try:
        if not nodes:
            raise RenderRefused("No nodes to push to: add nodes to the cluster first.")
        if kind == PushJob.Kind.PUSH:
            check_render(cluster)
    except RenderRefused as exc:
        job.status, job.message, job.finished_at = PushJob.Status.REFUSED, str(exc), timezone.now()
        job.save()
        audit_object(job, "push", {"status": [None, "refused"]}, revision=cluster.revision, message=str(exc))
        return job
    with transaction.atomic():
        job.save()
        PushResult.objects.bulk_create(
            PushResult(job=job, node=n, node_name=n.name, role=n.role) for n in nodes
        )
        audit_object(job, "push", {"nodes": [None, [n.name for n in nodes]], "restart": [None, restart],
                                   "kind": [None, kind]}, revision=cluster.revision)
        # Ids only: the worker reads everything else (secrets included) from the database itself.
        # By the task's name: tasks.py calls this module, so importing it here would be a cycle.
        transaction.on_commit(lambda: current_app.signature(PUSH_TASK, args=[job.pk]).delay())
    return job


def _finish(result: PushResult, status: str, message: str, *, save: bool = True, **fields) -> None:
    result.status, result.message = status, message
    result.finished_at = timezone.now()
    if result.started_at:
        result.duration_ms = int((result.finished_at - result.started_at).total_seconds() * 1000)
    for name, value in fields.items():
        setattr(result, name, value)
    result.output = result.output[:OUTPUT_CAP]
    if save:
        result.save()


def _lockable(job_id: int, now) -> Q:
    """Nodes this job may take: free, held by a lock gone stale, or already its own."""
    stale = now - timedelta(seconds=settings.REGUI_NODE_LOCK_STALE)
    return Q(lock_job__isnull=True) | Q(lock_at__lt=stale) | Q(lock_job=job_id)


def _try_lock(node_id: int, job_id: int) -> bool:
    now = timezone.now()
    return bool(Node.objects.filter(_lockable(job_id, now), pk=node_id).update(lock_job=job_id, lock_at=now))


def _lock(node_id: int, job_id: int) -> bool:
    """Take the node for this job, waiting while another job holds it (stale locks expire)."""
    deadline = time.monotonic() + settings.REGUI_NODE_LOCK_WAIT
    while not _try_lock(node_id, job_id):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.25)
    return True


def _unlock(node_id: int, job_id: int) -> None:
    Node.objects.filter(pk=node_id, lock_job=job_id).update(lock_job=None, lock_at=None)


def node_push(job: PushJob, result: PushResult, files: list[RemoteFile], node: Node | None = None,
              started: bool = False, sink: ResultSink | None = None) -> str:
    """Push (or check) one node and record the outcome. Returns the final status.

    Database writes are few and grouped (one to start, one transaction to finish): many nodes run
    at once, and on SQLite every commit takes the database's single write lock. `started` means the
    job already locked the node and marked the result running (see `_start_all`)."""
    node = node or Node.objects.select_related("cluster").get(pk=result.node_id or 0)
    if not started and not _try_lock(node.pk, job.pk):
        result.status, result.message = Status.RUNNING, "waiting until no other push works on this node"
        result.save(update_fields=["status", "message"])
        if not _lock(node.pk, job.pk):
            _finish(result, Status.FAILED, "Another push held this node for too long; nothing was done.")
            return Status.FAILED
        node.refresh_from_db()
    if not started:
        # Timed from when the node is ours, so durations and overlaps are about the node itself.
        result.status, result.started_at, result.message = Status.RUNNING, timezone.now(), ""
        result.save(update_fields=["status", "started_at", "message"])
    result.node_update = {}
    try:
        status = _node_push_locked(job, result, node, files)
    except BaseException:
        _unlock(node.pk, job.pk)
        raise
    # Built here, in the node's thread, so the entry carries the job starter as its actor.
    event = audit_object_event(node, "push_result", {
        "status": [None, status], "restarted": [None, result.restarted], "job": [None, job.pk],
        # Never the sha256 itself: it is derived from the secret values (see core/fingerprints.py).
        "fingerprint": [file_fingerprint(result.sha256_before) or None,
                        file_fingerprint(result.sha256_after) or None]},
        revision=job.revision, message=result.message)
    outcome = NodeOutcome(result, node, result.node_update, event)
    if sink is None:
        with transaction.atomic():
            outcomes_write([outcome])
    else:
        sink.put(outcome)
    return status


def _node_push_locked(job: PushJob, result: PushResult, node: Node, files: list[RemoteFile]) -> str:
    check = job.kind == PushJob.Kind.DRIFT
    program = push_program(files, mode="check" if check else "push", service=node.service,
                           restart=job.restart, force_restart=job.restart and node.restart_pending,
                           wait_seconds=settings.REGUI_RESTART_WAIT, owned_dir=owned_tls_dir(node.cluster),
                           restart_pending=node.restart_pending)
    try:
        target = node_target(node)
    except NodeError as exc:  # the trust gate: nothing is sent, not even the node's credential
        _record_node(result, node, None, str(exc))
        _finish(result, Status.FAILED, str(exc), save=False)
        return Status.FAILED
    try:
        session = transport.current().connect(target, timeout=settings.REGUI_SSH_CONNECT_TIMEOUT,
                                              retries=settings.REGUI_SSH_RETRIES,
                                              backoff=settings.REGUI_SSH_BACKOFF)
        try:
            out = session.run(ssh.as_root(target, "sh -s"), program.encode(),
                              timeout=settings.REGUI_SSH_COMMAND_TIMEOUT + settings.REGUI_RESTART_WAIT)
        finally:
            session.close()
    except ssh.SSHError as exc:
        status = Status.UNREACHABLE if exc.unreachable else Status.FAILED
        _record_node(result, node, Node.Sync.UNREACHABLE if exc.unreachable else None, str(exc))
        _finish(result, status, str(exc), save=False)
        return status
    report = parse_report(out.stdout)
    main = files[0].path
    result.output = (out.stdout + out.stderr)
    result.sha256_before = report.before.get(main, "").replace("-", "")
    after = report.after.get(main) or (report.before.get(main) if report.result in ("unchanged", "checked") else "")
    result.sha256_after = (after or "").replace("-", "")
    if out.status != 0 or report.error or not report.result:
        message = _failure_message(out, report, target.use_sudo)
        changed = bool(report.after)
        _record_node(result, node, Node.Sync.DRIFTED if changed else None, message, sha=result.sha256_after)
        _finish(result, Status.FAILED, message, restarted=report.restarted, save=False)
        return Status.FAILED
    if check:
        in_sync = all(report.before.get(f.path) == f.sha256 for f in files)
        status = Status.IN_SYNC if in_sync else Status.DRIFTED
        message = "matches the current render" if in_sync else _drift_message(files, report.before)
        _record_node(result, node, Node.Sync.IN_SYNC if in_sync else Node.Sync.DRIFTED, message, sha=result.sha256_before)
        _finish(result, status, message, save=False)
        return status
    changed = report.result == "changed"
    pending = changed and not job.restart
    node.restart_pending = pending or (node.restart_pending and not report.restarted)
    message = _push_message(changed, report, job.restart, node.service) + report.tidy_text(node.service)
    _record_node(result, node, Node.Sync.IN_SYNC, message, sha=result.sha256_after)
    _finish(result, Status.CHANGED if changed else Status.UNCHANGED, message, restarted=report.restarted, save=False)
    return result.status


def _record_node(result: PushResult, node: Node, state: str | None, message: str, sha: str = "") -> None:
    """What the node looked like, saved with the result when the push finishes."""
    fields = {"last_checked_at": timezone.now(), "last_message": message[:2000],
              "restart_pending": node.restart_pending}
    if state:
        fields["sync_state"] = state
    if sha:
        fields["last_sha256"] = sha
    result.node_update = fields


def _failure_message(out: ssh.ExecResult, report, sudo: bool) -> str:
    err = out.stderr.strip()
    if sudo and ("a password is required" in err or "sudo:" in err):
        return f"sudo refused to run as root without a password: {err.splitlines()[-1] if err else ''}".strip()
    if report.error:
        detail = f" ({err.splitlines()[-1]})" if err else ""
        return f"{report.error}{detail}. The previous file was left in place." if not report.after else report.error
    return f"the remote program exited with status {out.status}: {err[-500:] or 'no output'}"


def _drift_message(files: list[RemoteFile], before: dict[str, str]) -> str:
    differ = [f.path for f in files if before.get(f.path) != f.sha256]
    missing = [p for p in differ if before.get(p) == "-"]
    text = "differs from the current render: " + ", ".join(differ)
    return text + (f" (missing: {', '.join(missing)})" if missing else "")


def _push_message(changed: bool, report, restart: bool, service: str) -> str:
    if not changed:
        return f"already up to date; restarted {service} to apply an earlier write-only push" if report.restarted \
            else "already up to date: nothing written, no restart"
    written = ", ".join(sorted(report.after)) or "files"
    if report.restarted:
        return f"wrote {written}; restarted {service}, now {report.active}"
    return f"wrote {written}; not restarted (write only): restart {service} to apply" if not restart \
        else f"wrote {written}"


def push_job_run(job_id: int) -> PushJob:
    """Run a job: servers one at a time (stop restarting after a failure, for etcd quorum),
    agents in parallel up to REGUI_PUSH_CONCURRENCY. A node's failure never stops the others.
    History entries made here are the job's starter's, in the request that started it."""
    job = PushJob.objects.select_related("cluster", "created_by").get(pk=job_id)
    if not job.is_active:
        return job
    with audit_context.acting(job.created_by, request_id=job.request_id, source_ip=job.source_ip,
                              username=job.created_by_name):
        return _push_job_run(job)


def _start_all(job: PushJob, results: list[PushResult]) -> set[int]:
    """Lock every free node and mark its result running in two statements, so that the threads
    start SSH at once instead of queueing for the database one by one. Returns the result ids."""
    if not results:
        return set()
    now = timezone.now()
    ids = [r.node_id for r in results]
    with transaction.atomic():
        Node.objects.filter(_lockable(job.pk, now), pk__in=ids).update(lock_job=job.pk, lock_at=now)
        mine = set(Node.objects.filter(pk__in=ids, lock_job=job.pk).values_list("pk", flat=True))
        PushResult.objects.filter(job=job, node_id__in=mine).update(status=Status.RUNNING, started_at=now)
    started = set()
    for r in results:
        if r.node_id in mine:
            r.status, r.started_at = Status.RUNNING, now
            started.add(r.pk)
    return started


def _push_job_run(job: PushJob) -> PushJob:
    job.started_at = timezone.now()
    cluster = job.cluster
    results = list(job.results.filter(status=Status.PENDING))
    try:
        # Checked again here: the cluster may have changed since the job was queued.
        files = cluster_files(cluster, check=job.kind == PushJob.Kind.PUSH)
    except RenderRefused as exc:
        job.results.filter(status=Status.PENDING).update(status=Status.SKIPPED, message=str(exc))
        job.status, job.message, job.finished_at = PushJob.Status.REFUSED, str(exc), timezone.now()
        job.save(update_fields=["status", "message", "started_at", "finished_at"])
        return job
    job.status = PushJob.Status.RUNNING
    job.sha256 = hashlib.sha256(files[0].content).hexdigest()
    job.revision = cluster.revision
    job.save(update_fields=["status", "started_at", "sha256", "revision"])

    sink = ResultSink()

    def in_thread(result: PushResult, node: Node | None = None, is_started: bool = False) -> str:
        try:
            return node_push(job, result, files, node=node, started=is_started, sink=sink)
        except Exception as exc:  # one node's bug must not take the others down
            log.exception("push of node %s failed", result.node_name)
            _finish(result, Status.FAILED, f"internal error ({type(exc).__name__}: {exc}); see the worker log")
            return Status.FAILED
        finally:
            if threading.current_thread() is not threading.main_thread():
                connection.close()

    servers = [r for r in results if r.role == Node.Role.SERVER]
    agents = [r for r in results if r.role != Node.Role.SERVER]
    nodes = Node.objects.select_related("cluster").in_bulk([r.node_id for r in results])
    started = _start_all(job, agents)

    def agent(result: PushResult) -> str:
        return in_thread(result, nodes.get(result.node_id), result.pk in started)

    def server_sequence() -> None:
        try:
            for i, result in enumerate(servers):
                if in_thread(result) == Status.FAILED and job.restart and job.kind == PushJob.Kind.PUSH:
                    for later in servers[i + 1:]:
                        _finish(later, Status.SKIPPED, f"skipped: server {result.node_name} failed, and servers "
                                                  "restart one at a time to protect etcd quorum")
                    return
        finally:
            if threading.current_thread() is not threading.main_thread():
                connection.close()

    workers = max(1, min(settings.REGUI_PUSH_CONCURRENCY, len(agents)) + (1 if servers else 0))

    def finish_job() -> None:
        job.status, job.finished_at = PushJob.Status.DONE, timezone.now()
        job.save(update_fields=["status", "finished_at"])

    with ThreadPoolExecutor(max_workers=workers) as pool:
        # Each thread gets its own copy of this context, so its history entries keep the job's actor.
        futures: list[Future[Any]] = (
            [pool.submit(contextvars.copy_context().run, server_sequence)] if servers else [])
        futures += [pool.submit(contextvars.copy_context().run, agent, r) for r in agents]
        sink.serve(futures, last=finish_job)  # the job ends in the same commit as its last results
        for f in futures:
            f.result()
    close_old_connections()
    return job
