"""One node's push (or drift check): its lock, its one SSH exec, and what the outcome says.

The job runner (rolling.py) calls `node_push` from one thread per node of a chunk; the outcome goes
to the chunk's ResultSink, or, when the Ready gate must pass first, to a list the gate finishes.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from regui.audit.services import audit_object_event
from regui.core.fingerprints import file_fingerprint
from regui.inventory.models import Node
from regui.inventory.services import NodeError, node_target
from regui.remote import ssh, transport
from regui.remote.report import parse_report
from regui.remote.script import RemoteFile, push_program

from .files import files_key, owned_tls_dir
from .jobplan import job_policy
from .models import OUTPUT_CAP, PushJob, PushResult
from .preconnect import Preconnected, RestartWatch
from .sink import NodeOutcome, ResultSink, outcomes_write

Status = PushResult.Status
HEALTHY = (Status.CHANGED, Status.UNCHANGED)


class Programs:
    """A chunk's node programs, each built once for the nodes that need the same one (the same files and
    options, as a chunk's agents do): building one is ~0.15 ms of CPU, on the CPUs the nodes' sessions
    use, per node. Its backup stamp is then the first such node's, a few milliseconds early for the others.
    One per chunk step, gone with it: the programs hold the render, secret values and all."""

    def __init__(self) -> None:
        self._built: dict[tuple, str] = {}

    def get(self, files: list[RemoteFile], **options) -> str:
        key = (tuple(files), tuple(sorted(options.items())))
        program = self._built.get(key)
        if program is None:
            program = self._built[key] = push_program(files, **options)
        return program


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


def start_all(job: PushJob, results: list[PushResult]) -> set[int] | None:
    """Lock every free node and mark its result running in two statements, so that the threads
    start SSH at once instead of queueing for the database one by one. Returns the result ids; None
    when the job is no longer running (none of its nodes may start)."""
    if not results:
        return set()
    now = timezone.now()
    ids = {r.node_id for r in results} - {None}
    with transaction.atomic():
        # The job row first, as the recovery and a failing chunk take it to end the job (and skip or
        # interrupt its pending nodes): a job that ended after this chunk checked it starts no node.
        if not PushJob.objects.filter(pk=job.pk, status=PushJob.Status.RUNNING).update(status=F("status")):
            return None
        locked = Node.objects.filter(_lockable(job.pk, now), pk__in=ids).update(lock_job=job.pk, lock_at=now)
        # Every node locked (the common case): they are all this job's, no need to read which.
        mine = ids if locked == len(ids) else set(
            Node.objects.filter(pk__in=ids, lock_job=job.pk).values_list("pk", flat=True))
        PushResult.objects.filter(pk__in=[r.pk for r in results], node_id__in=mine).update(
            status=Status.RUNNING, started_at=now)
    started = set()
    for r in results:
        if r.node_id in mine:
            r.status, r.started_at = Status.RUNNING, now
            started.add(r.pk)
    return started


def _connect(target: ssh.Target) -> transport.Session:
    return transport.current().connect(target, timeout=settings.REGUI_SSH_CONNECT_TIMEOUT,
                                       retries=settings.REGUI_SSH_RETRIES, backoff=settings.REGUI_SSH_BACKOFF)


def node_push(job: PushJob, result: PushResult, files: list[RemoteFile], node: Node | None = None,
              started: bool = False, sink: ResultSink | None = None,
              held: list[NodeOutcome] | None = None, ready: Preconnected | None = None,
              ahead: Preconnected | None = None, programs: Programs | None = None) -> str:
    """Push (or check) one node and record the outcome. Returns the final status.

    Database writes are few and grouped (one to start, one transaction to finish): many nodes run
    at once, and on SQLite every commit takes the database's single write lock. `started` means the
    job already locked the node and marked the result running (see `start_all`). With `held`, the
    outcome of a node that restarted healthy goes there instead, for the Ready gate to finish.
    `ready`: connections opened ahead of time for this step; `ahead`: those for the next one, told when
    this node no longer needs the CPU to connect (see Preconnected). `programs`: the chunk's, shared by its
    nodes (see Programs)."""
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
    result.restart_epoch = None
    try:
        status = _node_push_locked(job, result, node, files, ready, ahead, programs or Programs())
    except BaseException:
        _unlock(node.pk, job.pk)
        raise
    finally:
        if ahead:
            ahead.sent(node.pk)
    outcome = NodeOutcome(result, node, result.node_update, node_event(job, node, result))
    if held is not None and result.restarted and status in HEALTHY:
        held.append(outcome)
    elif sink is None:
        with transaction.atomic():
            outcomes_write([outcome])
    else:
        sink.put(outcome)
    return status


def node_event(job: PushJob, node: Node, result: PushResult):
    """The node's history entry; built in the node's thread, so it carries the job starter as its actor.
    None for a drift check that found nothing new (see drift_worth_recording)."""
    if job.kind == PushJob.Kind.DRIFT and not drift_worth_recording(job, node, result):
        return None
    return audit_object_event(node, "push_result", {
        "status": [None, result.status], "restarted": [None, result.restarted], "job": [None, job.pk],
        # Never the sha256 itself: it is derived from the secret values (see core/fingerprints.py).
        "fingerprint": [file_fingerprint(result.key_before) or None,
                        file_fingerprint(result.key_after) or None]},
        revision=job.revision, message=result.message)


def drift_worth_recording(job: PushJob, node: Node, result: PushResult) -> bool:
    """A drift check reads; history keeps what it found only when that is news: the node's sync state
    changed, or the check failed. The drift watch's own checks record nothing here: the watch compares
    them with its last one and records the changes (drift_watch.collect)."""
    if job.periodic:
        return False
    after = result.node_update.get("sync_state")
    # In sync and out of date both hold what regui wrote there: between them only a save (in history) moved.
    kept = {Node.Sync.IN_SYNC, Node.Sync.OUT_OF_DATE}
    return result.status == Status.FAILED or (
        after is not None and after != node.sync_state and not {after, node.sync_state} <= kept)


def _node_push_locked(job: PushJob, result: PushResult, node: Node, files: list[RemoteFile],
                      ready: Preconnected | None, ahead: Preconnected | None, programs: Programs) -> str:
    check = job.kind == PushJob.Kind.DRIFT
    key = files_key(files)
    if not check and (not key or node.last_sync_key != key):
        # regui did not write these secret values there: the node's bytes may be equal, but saying so
        # would answer a guess saved in place of a secret (core/fingerprints.py). Written, and a change.
        files = [replace(f, force=True) for f in files]
    program = programs.get(files, mode="check" if check else "push", service=node.service,
                           restart=job.restart, force_restart=job.restart and node.restart_pending,
                           wait_seconds=settings.REGUI_RESTART_WAIT, owned_dir=owned_tls_dir(node.cluster),
                           restart_pending=node.restart_pending, stamp_restart=job_policy(job).ready_gate)
    try:
        target = ready.target(node) if ready else node_target(node)
    except NodeError as exc:  # the trust gate: nothing is sent, not even the node's credential
        _record_node(result, node, None, str(exc))
        _finish(result, Status.FAILED, str(exc), save=False)
        return Status.FAILED
    result.via = target.jump.name if target.jump else ""
    try:
        opening = ready.take(node.pk, target) if ready else None
        session = opening.login() if opening else _connect(target)
        try:
            out = session.run(ssh.as_root(target, "sh -s"), program.encode(),
                              timeout=settings.REGUI_SSH_COMMAND_TIMEOUT + settings.REGUI_RESTART_WAIT,
                              on_output=RestartWatch(ahead, node.pk) if ahead else None)
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
    result.restart_epoch = report.restart_epoch
    result.sha256_before = report.before.get(main, "").replace("-", "")
    after = report.after.get(main) or (report.before.get(main) if report.result in ("unchanged", "checked") else "")
    result.sha256_after = (after or "").replace("-", "")
    result.key_before = _known_key(node, result.sha256_before)
    if out.status != 0 or report.error or not report.result:
        message = _failure_message(out, report, target.use_sudo)
        changed = bool(report.after)
        # The main file is placed last: written as sent, the node holds the render regui wrote, all of it.
        written = main in report.after and result.sha256_after == files[0].sha256
        result.key_after = key if written else result.sha256_after
        _restart_owed(node, report, changed=changed)
        state = Node.Sync.IN_SYNC if written else Node.Sync.DRIFTED if changed else None
        _record_node(result, node, state, message, sha=result.sha256_after,
                     key=(key if written else "") if changed else None)
        _finish(result, Status.FAILED, message, restarted=report.restarted, save=False)
        return Status.FAILED
    if check:
        return _checked(result, node, files, key, report.before, origin_wrote=getattr(files, "origin_wrote", False))
    result.key_after = key
    changed = report.result == "changed"
    owed = "failed" if node.restart_failed else "write-only" if node.restart_pending else ""
    _restart_owed(node, report, changed=changed and not job.restart)
    message = _push_message(changed, report, job.restart, node.service, owed) + report.tidy_text(node.service)
    _record_node(result, node, Node.Sync.IN_SYNC, message, sha=result.sha256_after, key=key)
    _finish(result, Status.CHANGED if changed else Status.UNCHANGED, message, restarted=report.restarted, save=False)
    return result.status


def _restart_owed(node: Node, report, *, changed: bool) -> None:
    """Whether the service still runs an older file than the node's: it does after a write it did not
    restart for (`changed`), and after a restart that failed (systemctl restart failed, or the unit did
    not become active): K3s has not read the new file, and the next push restarts it even when its file is
    already the one it sends. A file regui wrote and a drift check then confirmed must not hide that."""
    restarted = report.restarted and report.active == "active"
    failed = report.restarted and not restarted
    node.restart_pending = changed or failed or (node.restart_pending and not restarted)
    node.restart_failed = node.restart_pending and (failed or (node.restart_failed and not restarted))


def _known_key(node: Node, sha: str) -> str:
    """What regui knows the node's file to be: the sync key it recorded, while the file is the one it
    recorded; else (a file regui did not write, or changed since) its sha256, never equal to a key."""
    return node.last_sync_key or sha if sha and sha == node.last_sha256 else sha


def _checked(result: PushResult, node: Node, files: list[RemoteFile], key: str, before: dict[str, str],
             origin_wrote: bool = False) -> str:
    """A drift check's verdict. The node's bytes are compared with what regui last wrote or confirmed
    there, never with a render holding secret values regui did not give the node: in sync only when the
    node still holds what regui recorded and that is the current render (by sync key, not bytes).
    `origin_wrote`: this is the re-read of a push of these very files (same render, same sync key) that was
    interrupted while writing them, each marked force where the node's key differed: a node that holds
    them holds them by regui's hand, as a push that had ended would have recorded."""
    main = files[0]
    ours = bool(node.last_sha256) and result.sha256_before == node.last_sha256
    result.key_after = result.key_before
    held: str | None = None if ours else ""
    state = Node.Sync.DRIFTED
    if ours and node.last_sync_key and node.last_sync_key == key:
        in_sync = all(before.get(f.path) == f.sha256 for f in files)
        state = Node.Sync.IN_SYNC if in_sync else Node.Sync.DRIFTED
        message = "matches the current render" if in_sync else _drift_message(files, before)
    elif origin_wrote and all(before.get(f.path) == f.sha256 for f in files):
        state, held = Node.Sync.IN_SYNC, key
        result.key_after = key
        message = "holds the current render, which the interrupted push was writing there"
    elif ours and node.last_sync_key:
        # Nothing changed on the node: the registries (or a secret they use) were saved since. Not drift.
        state = Node.Sync.OUT_OF_DATE
        message = "holds what regui last wrote there, not the current render: a push sends it"
    elif ours:
        # No key: regui read this file (a drift check that found it changed by hand, a legacy record)
        # and never knew it to be a render; nothing says secret values differ.
        message = "still not the current render (unchanged since regui last read it): a push writes the current render"
    else:
        message = ((f"differs from what regui last wrote there: {main.path}" if node.last_sha256 else
                    f"not written by regui yet: {main.path}")
                   + (f" (missing: {main.path})" if before.get(main.path, "-") == "-" else ""))
    if node.restart_pending and state != Node.Sync.DRIFTED:
        message += (f"; restart pending: the last restart of {node.service} failed, the next push restarts it"
                    if node.restart_failed else f"; restart pending: {node.service} has not read it yet")
    status = {Node.Sync.IN_SYNC: Status.IN_SYNC, Node.Sync.OUT_OF_DATE: Status.OUT_OF_DATE}.get(state, Status.DRIFTED)
    _record_node(result, node, state, message, sha=result.sha256_before, key=held)
    _finish(result, status, message, save=False)
    return status


def _record_node(result: PushResult, node: Node, state: str | None, message: str, sha: str = "",
                 key: str | None = None) -> None:
    """What the node looked like, saved with the result when the push finishes. `key`: the sync key of
    the file it holds now (None: as recorded; "": unknown)."""
    fields = {"last_checked_at": timezone.now(), "last_message": message[:2000],
              "restart_pending": node.restart_pending, "restart_failed": node.restart_failed}
    if state:
        fields["sync_state"] = state
    if sha:
        fields["last_sha256"] = sha
    if key is not None:
        fields["last_sync_key"] = key
    result.node_update = fields


def _failure_message(out: ssh.ExecResult, report, sudo: bool) -> str:
    err = out.stderr.strip()
    if sudo and ("a password is required" in err or "sudo:" in err):
        return f"sudo refused to run as root without a password: {err.splitlines()[-1] if err else ''}".strip()
    if report.error:
        detail = f" ({err.splitlines()[-1]})" if err else ""
        if not report.after:
            return f"{report.error}{detail}. The previous file was left in place."
        # Written, then the restart or the health check failed: the node holds the new file.
        return f"wrote {', '.join(sorted(report.after))}; {report.error}{detail}"
    return f"the remote program exited with status {out.status}: {err[-500:] or 'no output'}"


def _drift_message(files: list[RemoteFile], before: dict[str, str]) -> str:
    differ = [f.path for f in files if before.get(f.path) != f.sha256]
    missing = [p for p in differ if before.get(p) == "-"]
    text = "differs from the current render: " + ", ".join(differ)
    return text + (f" (missing: {', '.join(missing)})" if missing else "")


def _push_message(changed: bool, report, restart: bool, service: str, owed: str = "") -> str:
    """`owed`: why the node owed a restart before this push ("failed": its last restart failed)."""
    if not changed:
        if not report.restarted:
            return "already up to date: nothing written, no restart"
        return (f"already up to date; restarted {service}, whose last restart failed" if owed == "failed" else
                f"already up to date; restarted {service} to apply an earlier write-only push")
    written = ", ".join(sorted(report.after)) or "files"
    if report.restarted:
        return f"wrote {written}; restarted {service}, now {report.active}"
    return f"wrote {written}; not restarted (write only): restart {service} to apply" if not restart \
        else f"wrote {written}"
