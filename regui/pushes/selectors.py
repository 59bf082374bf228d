"""Reads for the node list: each node with its sync badge and its last push result."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.db.models import OuterRef, Subquery

from regui.inventory.models import Node
from regui.registries.models import Cluster
from regui.registries.selectors import cluster_render

from .liveness import WorkerWait, WorkerWatch
from .models import PushJob, PushResult

BUSY = (PushResult.Status.PENDING, PushResult.Status.RUNNING)


@dataclass
class NodeRow:
    node: Node
    badge: str  # in_sync | drifted | never | unreachable
    badge_label: str
    last_status: str | None
    last_job_id: int | None
    last_message: str
    wait: WorkerWait | None = None  # set on busy rows whose job no worker is taking or finishing

    @property
    def busy(self) -> bool:
        return self.last_status in BUSY

    @property
    def poll(self) -> int:
        """Seconds between the row's polls while busy; 0 when nothing can change on its own."""
        return self.wait.poll if self.wait else 1


def render_sha(cluster: Cluster) -> str:
    return hashlib.sha256(cluster_render(cluster, reveal=True).encode()).hexdigest()


def node_badge(node: Node, current_sha: str) -> str:
    if node.sync_state == Node.Sync.UNREACHABLE:
        return "unreachable"
    if not node.last_sha256:
        return "never"
    if node.last_sha256 == current_sha and node.sync_state != Node.Sync.DRIFTED:
        return "in_sync"
    return "drifted"


LABELS = {"in_sync": "in sync", "drifted": "drifted", "never": "never pushed", "unreachable": "unreachable"}


def node_rows(cluster: Cluster, node_id: int | None = None) -> list[NodeRow]:
    latest = PushResult.objects.filter(node=OuterRef("pk")).order_by("-id")
    nodes = cluster.nodes.select_related("cluster").annotate(
        last_status=Subquery(latest.values("status")[:1]),
        last_job=Subquery(latest.values("job_id")[:1]),
        last_result_message=Subquery(latest.values("message")[:1]),
    )
    if node_id is not None:
        nodes = nodes.filter(pk=node_id)
    current = render_sha(cluster)
    rows = []
    for n in nodes:
        badge = node_badge(n, current)
        rows.append(NodeRow(n, badge, LABELS[badge], n.last_status, n.last_job, n.last_result_message or ""))
    _add_worker_waits([r for r in rows if r.busy])
    return rows


def _add_worker_waits(busy: list[NodeRow]) -> None:
    if not busy:
        return
    watch = WorkerWatch()
    jobs = PushJob.objects.in_bulk({r.last_job_id for r in busy})
    for row in busy:
        job = jobs.get(row.last_job_id)
        row.wait = watch.job_wait(job) if job else None


def failed_nodes(cluster: Cluster) -> list[Node]:
    bad = {PushResult.Status.FAILED, PushResult.Status.UNREACHABLE, PushResult.Status.SKIPPED}
    return [r.node for r in node_rows(cluster) if r.last_status in bad]
