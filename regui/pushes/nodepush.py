"""One node's push (or drift check): its lock, its one SSH exec, and what the outcome says.

The job runner (rolling.py) calls `node_push` from one thread per node of a chunk; the outcome goes
to the chunk's ResultSink, or, when the Ready gate must pass first, to a list the gate finishes.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from regui.audit.services import audit_object_event
from regui.core.fingerprints import file_fingerprint
from regui.inventory.models import Node
from regui.inventory.services import NodeError, node_target
from regui.remote import ssh, transport
from regui.remote.script import RemoteFile, parse_report, push_program

from .files import owned_tls_dir
from .jobplan import job_policy
from .models import OUTPUT_CAP, PushJob, PushResult
from .sink import NodeOutcome, ResultSink, outcomes_write

Status = PushResult.Status
HEALTHY = (Status.CHANGED, Status.UNCHANGED)


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
    ids = [r.node_id for r in results]
    with transaction.atomic():
        # The job row first, as the recovery and a failing chunk take it to end the job (and skip or
        # interrupt its pending nodes): a job that ended after this chunk checked it starts no node.
        if not PushJob.objects.filter(pk=job.pk, status=PushJob.Status.RUNNING).update(status=F("status")):
            return None
        Node.objects.filter(_lockable(job.pk, now), pk__in=ids).update(lock_job=job.pk, lock_at=now)
        mine = set(Node.objects.filter(pk__in=ids, lock_job=job.pk).values_list("pk", flat=True))
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


def signs_in_early(target: ssh.Target) -> bool:
    """A key logs in with a signature bound to this one connection: nothing the node could reuse, so the
    next step's nodes may log in ahead of their turn. A password is the secret itself: it goes to a node
    only at its push."""
    return bool(target.private_key) and not target.password


class _LoggedIn:
    """An opening logged in ahead of time (see Preconnected): its login is the session it already has."""

    def __init__(self, session: transport.Session) -> None:
        self._session = session

    def login(self) -> transport.Session:
        return self._session

    def alive(self) -> bool:
        return self._session.alive()

    def close(self) -> None:
        self._session.close()


def _logged_in(opening: transport.Opening) -> _LoggedIn:
    try:
        return _LoggedIn(opening.login())
    except BaseException:
        opening.close()
        raise


class Preconnected:
    """Connections to the next step's nodes, opened while this step's nodes restart, when this task runs
    that step too: a rolling restart then pays no SSH handshake, and for a key no login, between steps.
    The pinned host key is checked first; a password waits until the node's push (see signs_in_early),
    so a node that ends up skipped receives no password and no command. A connection is used only for the
    very target the gate gives at push time (the node may have changed meanwhile) and while it is up."""

    def __init__(self, nodes: list[Node], after: int = 0, *, final: bool = False) -> None:
        """Opens once `after` nodes of the running step have begun their restart, or ended (`sent`): the
        handshakes then use the CPU while those nodes restart, not while they log in and write (which
        they slowed by ~40 ms per step of 10 nodes on 2 cores, when they started at the logins).
        `final`: these are the nodes' connections (opened while their chunk renders), tried with the
        configured retries: a handshake that fails is the node's failure, not tried again by its push.
        Else one try, and a push whose connection failed connects again."""
        self._opened: dict[int, tuple[ssh.Target, transport.Opening]] = {}
        self._failed: dict[int, tuple[ssh.Target, ssh.SSHError]] = {}
        self._gated: dict[int, ssh.Target | NodeError] = {}  # final mode: what the trust gate said, per node
        self._nodes = {n.pk: n for n in nodes}
        self._final = final
        # Taken now: a handshake still going when its chunk has ended (see close) uses the same one.
        self._edge = transport.current()
        self._closed = False
        self._lock = threading.Lock()
        self._threads = {n.pk: threading.Thread(target=self._open, args=(n,), daemon=True) for n in nodes}
        self._waiting_for, self._sent, self._started = after, set[int](), False
        if not after:
            self._start()

    def sent(self, node_id: int) -> None:
        """A node of the running step sent its program (or ended before): one fewer to wait for."""
        with self._lock:
            self._sent.add(node_id)
            due = len(self._sent) >= self._waiting_for
        if due:
            self._start()

    def _start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        for t in self._threads.values():
            t.start()

    def _open(self, node: Node) -> None:
        retries, backoff = (settings.REGUI_SSH_RETRIES, settings.REGUI_SSH_BACKOFF) if self._final else (1, 0)
        try:
            target = node_target(node)
            if self._final:
                with self._lock:
                    self._gated[node.pk] = target
            opening = self._edge.handshake(target, timeout=settings.REGUI_SSH_CONNECT_TIMEOUT,
                                           retries=retries, backoff=backoff)
            if not self._final and signs_in_early(target):
                # While this step's nodes restart, not at this node's turn. Not in final mode: those open
                # while the render may still be refused, and a chunk refused sends no login at all.
                opening = _logged_in(opening)
        except NodeError as exc:  # the trust gate refused: its push says why (see target)
            if self._final:
                with self._lock:
                    self._gated[node.pk] = exc
            return
        except ssh.SSHError as exc:
            if self._final:  # what its push says, unless the node changed meanwhile (see take)
                with self._lock:
                    self._failed[node.pk] = (target, exc)
            return
        except Exception:  # its push connects again, and says what went wrong
            return
        finally:
            connection.close()
        with self._lock:
            late = self._closed
            if not late:
                self._opened[node.pk] = (target, opening)
        if late:  # its chunk ended meanwhile (see close)
            opening.close()

    def target(self, node: Node) -> ssh.Target:
        """The node's target through the trust gate (raises NodeError as node_target does). In final mode,
        for the very node object it was opened for, the one the gate gave when the handshake began: the
        credential is unsealed once per node, not twice."""
        thread = self._threads.get(node.pk)
        if self._final and thread is not None and self._nodes.get(node.pk) is node:
            self._start()
            thread.join()
            with self._lock:
                gated = self._gated.get(node.pk)
            if isinstance(gated, NodeError):
                raise gated
            if gated is not None:
                return gated
        return node_target(node)

    def take(self, node_id: int, target: ssh.Target) -> transport.Opening | None:
        """The connection opened to `target`; None when there is none to use (connect now). Raises the
        handshake's error, in `final` mode, when it was made to this very target."""
        thread = self._threads.get(node_id)
        if thread is None:
            return None
        self._start()
        thread.join()
        with self._lock:
            opened = self._opened.pop(node_id, None)
            failed = self._failed.pop(node_id, None)
        if failed is not None and failed[0] == target:
            raise failed[1]
        if opened is None:
            return None
        if opened[0] != target or not opened[1].alive():
            opened[1].close()
            return None
        return opened[1]

    def close(self, wait: bool = True) -> None:
        """Close what was opened and not taken. `wait=False`: handshakes still going are not waited for;
        each closes its connection when it ends (a chunk that pushes nothing ends at once, not after an
        unreachable node's timeouts and retries). Handshakes not started yet never start."""
        with self._lock:
            self._closed = True
            started, self._started = self._started, True
        if wait and started:
            for t in self._threads.values():
                t.join()
        with self._lock:
            for _, opening in self._opened.values():
                opening.close()
            self._opened.clear()


class RestartWatch:
    """Tells `ahead` once the node's program says that it restarts the service (the RESTART line of
    script.push_program, printed just before `systemctl restart`)."""

    MARK = b"\nRESTART "

    def __init__(self, ahead: Preconnected, node_id: int) -> None:
        self.ahead, self.node_id = ahead, node_id
        self.tail, self.seen = b"\n", False

    def __call__(self, chunk: bytes) -> None:
        if self.seen:
            return
        text = self.tail + chunk  # the mark may arrive split between chunks
        if self.MARK in text:
            self.seen = True
            self.ahead.sent(self.node_id)
        self.tail = text[-len(self.MARK):]


def node_push(job: PushJob, result: PushResult, files: list[RemoteFile], node: Node | None = None,
              started: bool = False, sink: ResultSink | None = None,
              held: list[NodeOutcome] | None = None, ready: Preconnected | None = None,
              ahead: Preconnected | None = None) -> str:
    """Push (or check) one node and record the outcome. Returns the final status.

    Database writes are few and grouped (one to start, one transaction to finish): many nodes run
    at once, and on SQLite every commit takes the database's single write lock. `started` means the
    job already locked the node and marked the result running (see `start_all`). With `held`, the
    outcome of a node that restarted healthy goes there instead, for the Ready gate to finish.
    `ready`: connections opened ahead of time for this step; `ahead`: those for the next one, told when
    this node no longer needs the CPU to connect (see Preconnected)."""
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
        status = _node_push_locked(job, result, node, files, ready, ahead)
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
        "fingerprint": [file_fingerprint(result.sha256_before) or None,
                        file_fingerprint(result.sha256_after) or None]},
        revision=job.revision, message=result.message)


def drift_worth_recording(job: PushJob, node: Node, result: PushResult) -> bool:
    """A drift check reads; history keeps what it found only when that is news: the node's sync state
    changed, or the check failed. The drift watch's own checks record nothing here: the watch compares
    them with its last one and records the changes (drift_watch.collect)."""
    if job.periodic:
        return False
    after = result.node_update.get("sync_state")
    return result.status == Status.FAILED or (after is not None and after != node.sync_state)


def _node_push_locked(job: PushJob, result: PushResult, node: Node, files: list[RemoteFile],
                      ready: Preconnected | None = None, ahead: Preconnected | None = None) -> str:
    check = job.kind == PushJob.Kind.DRIFT
    program = push_program(files, mode="check" if check else "push", service=node.service,
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
