"""The Ready gate: after a restart, wait (bounded) until Kubernetes reports the node Ready, asking a
server's bundled kubectl over SSH (regui/remote/kube.py). One SSH session per chunk, one exec per poll."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.utils import timezone

from regui.inventory.models import Node
from regui.inventory.services import NodeError, node_target
from regui.remote import ssh, transport
from regui.remote.kube import not_ready, parse_nodes, ready_program

from .models import PushJob, PushResult
from .nodepush import HEALTHY
from .sink import NodeOutcome

log = logging.getLogger(__name__)
Status = PushResult.Status


def gate_servers(job: PushJob, outcomes: list[NodeOutcome]) -> list[Node]:
    """Where to run kubectl: a server just pushed is asked about itself; agents are asked about on the
    cluster's servers, those this job left healthy first, never one it saw fail."""
    own = [o.node for o in outcomes if o.node.role == Node.Role.SERVER]
    if own:
        return own[:1]
    results = {r.node_id: r.status for r in job.results.filter(role=Node.Role.SERVER)}
    servers = list(Node.objects.select_related("cluster").filter(cluster_id=job.cluster_id, role=Node.Role.SERVER)
                   .order_by("name"))
    bad = {Status.FAILED, Status.UNREACHABLE, Status.INTERRUPTED}
    return sorted((s for s in servers if results.get(s.pk) not in bad),
                  key=lambda s: (results.get(s.pk) not in HEALTHY, s.name))


def ready_gate(job: PushJob, outcomes: list[NodeOutcome]) -> None:
    """Finish the held outcomes of nodes that restarted healthy: still healthy once Ready, failed when
    Kubernetes does not report them Ready within REGUI_READY_WAIT seconds (or cannot be asked)."""
    if not outcomes:
        return
    waiting = {o.result.node_name: o for o in outcomes}
    _waiting_since([o.result for o in outcomes])
    reasons: dict[str, str] = {}
    servers = gate_servers(job, outcomes)
    if not servers:
        problem = "no server of this cluster to run kubectl on"
    else:
        problem = ""
        for server in servers[:3]:
            try:
                reasons = _poll(server, {n: o.result.restart_epoch for n, o in waiting.items()})
                problem = ""
                break
            except (NodeError, ssh.SSHError) as exc:
                problem = f"kubectl could not run on {server.name}: {exc}"
                log.info("Ready gate on %s: %s", server.name, exc)
    for name, outcome in waiting.items():
        reason = problem or reasons.get(name, "")
        result = outcome.result
        if reason:
            result.status = Status.FAILED
            result.message = (f"{result.message}; but not Ready in Kubernetes: {reason}" if not problem
                              else f"{result.message}; but the Ready gate failed: {reason}")
        else:
            result.message = f"{result.message}; Ready in Kubernetes"
        result.finished_at = timezone.now()
        if result.started_at:
            result.duration_ms = int((result.finished_at - result.started_at).total_seconds() * 1000)
        outcome.node_fields["last_message"] = result.message[:2000]
        if outcome.event is not None:
            outcome.event.changes["status"] = [None, result.status]
            outcome.event.message = result.message[:500]


def _waiting_since(results: list[PushResult]) -> None:
    """Record now that these nodes wait for Ready: the job page says so while they do (their status
    alone says only "running", for up to REGUI_READY_WAIT). One statement for the chunk's nodes."""
    now = timezone.now()
    for result in results:  # kept when their outcome is written (it writes other fields only)
        result.ready_since = now
    PushResult.objects.filter(pk__in=[r.pk for r in results]).update(ready_since=now)


def _poll(server: Node, since: dict[str, int | None]) -> dict[str, str]:
    """name -> why it is not Ready ("" once it is), polling until all are or the wait is over."""
    target = node_target(server)
    program = ready_program(server.cluster.distro).encode()
    deadline = time.monotonic() + settings.REGUI_READY_WAIT
    reasons = dict.fromkeys(since, "not asked yet")
    session = transport.current().connect(target, timeout=settings.REGUI_SSH_CONNECT_TIMEOUT,
                                          retries=settings.REGUI_SSH_RETRIES, backoff=settings.REGUI_SSH_BACKOFF)
    try:
        while True:
            out = session.run(ssh.as_root(target, "sh -s"), program, timeout=settings.REGUI_SSH_COMMAND_TIMEOUT)
            if out.status == 0:
                nodes = parse_nodes(out.stdout)
                for name in [n for n, r in reasons.items() if r]:
                    reasons[name] = not_ready(nodes.get(name), since[name])
            else:  # a server's API restarts with it: not an answer yet
                err = (out.stderr.strip().splitlines() or [f"exit status {out.status}"])[-1]
                if out.status in (126, 127):  # the shell cannot run kubectl: no wait makes it appear
                    raise NodeError(err[:300])
                for name in [n for n, r in reasons.items() if r]:
                    reasons[name] = f"kubectl on {server.name} failed: {err[:300]}"
            if not any(reasons.values()) or time.monotonic() >= deadline:
                break
            time.sleep(min(settings.REGUI_READY_POLL, max(0.0, deadline - time.monotonic())))
    finally:
        session.close()
    waited = int(settings.REGUI_READY_WAIT)
    return {n: f"{r} after {waited} s (asked {server.name})" if r else "" for n, r in reasons.items()}
