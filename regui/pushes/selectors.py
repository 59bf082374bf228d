"""Reads for the node list: each node with its sync badge and its last push result, a page at a time.

A page costs the same number of queries whatever the cluster's size: the cluster's render (once, for
the badges), one count per badge, the page's count and rows (each row's last result by subquery, its
jump host by join), and the running jobs of its busy rows. Filters are GET parameters; a bad one is ignored with a message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict
from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.json import KeyTransform

from regui.audit.labels import DRIFT_WORDS
from regui.audit.models import Revision
from regui.audit.selectors import bad_param_int, param_int
from regui.inventory.jumphosts.models import JumpHost
from regui.inventory.jumphosts.routing import jump_for
from regui.inventory.models import Node
from regui.registries.models import Cluster
from regui.registries.selectors import cluster_sync_key

from .liveness import WorkerWait, WorkerWatch
from .models import PushJob, PushResult

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

BUSY = (PushResult.Status.PENDING, PushResult.Status.RUNNING)
PER_PAGE = 50


@dataclass
class NodeRow:
    node: Node
    badge: str  # in_sync | out_of_date | drifted | never | unreachable
    badge_label: str
    last_status: str | None
    last_job_id: int | None
    last_message: str
    note: str = ""  # beside the badge: why a node is out of date, a restart it owes (see badge_note)
    wait: WorkerWait | None = None  # set on busy rows whose job no worker is taking or finishing
    jump: JumpHost | None = None  # reached through it (the node's own choice, else its cluster's)

    @property
    def busy(self) -> bool:
        return self.last_status in BUSY

    @property
    def last_status_label(self) -> str:
        """The status in words ("in sync"), as the job page says it, not its stored value ("in_sync")."""
        return PushResult.Status(self.last_status).label if self.last_status else ""

    @property
    def restart(self) -> str:
        return restart_words(self.node)

    @property
    def poll(self) -> int:
        """Seconds between the row's polls while busy; 0 when nothing can change on its own."""
        return self.wait.poll if self.wait else 1


def node_badge(node: Node, current_key: str) -> str:
    """`current_key`: cluster_sync_key, the render's now. A node is in sync when regui last wrote or
    confirmed that key there, not when its bytes merely equal the render's (that would answer a guess
    saved in place of a secret: core/fingerprints.py); out of date when it still holds what regui wrote
    or confirmed there, another key (saved since: a push sends the new file); drifted when it was changed
    on the node, or holds a file regui never knew to be a render."""
    if node.sync_state == Node.Sync.UNREACHABLE:
        return "unreachable"
    if not node.last_sha256:
        return "never"
    if node.sync_state == Node.Sync.DRIFTED or not node.last_sync_key:
        return "drifted"
    return "in_sync" if node.last_sync_key == current_key else "out_of_date"


LABELS = {"in_sync": "in sync", "out_of_date": "out of date", "drifted": "drifted", "never": "never pushed",
          "unreachable": "unreachable"}


def badge_note(badge: str) -> str:
    """Said beneath an out-of-date badge: why, so that it is not read as a change made on the node, nor
    contradicted by the last push's "matches the current render", true when it was written."""
    return "saved since regui wrote it: a push sends the new file" if badge == "out_of_date" else ""


def restart_words(node: Node) -> str:
    """Said beside the badge of a node whose service has not read its file: "" when none."""
    if not node.restart_pending:
        return ""
    return DRIFT_WORDS["restart_failed"] if node.restart_failed else "restart pending"


def badge_filters(current_key: str) -> dict[str, Q]:
    """node_badge as one condition per badge, for the database."""
    unreachable = Q(sync_state=Node.Sync.UNREACHABLE)
    never = Q(last_sha256="")
    drifted = Q(sync_state=Node.Sync.DRIFTED) | Q(last_sync_key="")
    known = ~unreachable & ~never & ~drifted
    return {"in_sync": known & Q(last_sync_key=current_key), "out_of_date": known & ~Q(last_sync_key=current_key),
            "drifted": ~unreachable & ~never & drifted, "never": ~unreachable & never, "unreachable": unreachable}


def saved_badge_filters(cluster: Cluster) -> dict[str, Q]:
    """badge_filters against the sync key of the cluster's newest revision: every save, restore or change
    of a secret it uses makes one from the render it saves, so that key is the render's without rendering
    it, secrets opened (the cluster list does this for every cluster it lists)."""
    key = Revision.objects.filter(cluster=cluster).order_by("-number").values_list("sync_key", flat=True).first()
    return badge_filters(key or "")


class _LastResult(TypedDict):
    last_status: str | None
    last_job: int | None
    last_result_message: str | None


ROUTE = ("jump_host_link__jump_host", "cluster__jump_host_link__jump_host")


def _with_last_result(nodes: QuerySet[Node]) -> QuerySet[WithAnnotations[Node, _LastResult]]:
    latest = PushResult.objects.filter(node=OuterRef("pk")).order_by("-id")
    # The jump host's links by join (jump_for reads them from the row): not its credential, no query per row.
    return nodes.select_related("cluster", *ROUTE).annotate(
        last_status=Subquery(latest.values("status")[:1]),
        last_job=Subquery(latest.values("job_id")[:1]),
        last_result_message=Subquery(latest.values("message")[:1]),
    )


def _rows(nodes: Iterable[WithAnnotations[Node, _LastResult]], current_key: str) -> list[NodeRow]:
    rows = []
    for n in nodes:
        badge = node_badge(n, current_key)
        rows.append(NodeRow(n, badge, LABELS[badge], n.last_status, n.last_job, n.last_result_message or "",
                            note=badge_note(badge), jump=jump_for(n)))
    _add_worker_waits([r for r in rows if r.busy])
    return rows


def node_rows(cluster: Cluster, node_id: int | None = None) -> list[NodeRow]:
    """Rows of the cluster's nodes (one node's: the row a busy row polls for)."""
    nodes = cluster.nodes.all() if node_id is None else cluster.nodes.filter(pk=node_id)
    return _rows(_with_last_result(nodes), cluster_sync_key(cluster))


def _add_worker_waits(busy: list[NodeRow]) -> None:
    if not busy:
        return
    watch = WorkerWatch()
    jobs = PushJob.objects.in_bulk({r.last_job_id for r in busy})
    for row in busy:
        job = jobs.get(row.last_job_id)
        row.wait = watch.job_wait(job) if job else None


def failed_nodes(cluster: Cluster) -> list[Node]:
    """Every node of the cluster (not a page of them) whose last push failed, was unreachable, skipped or
    interrupted, and every node whose last restart failed: a drift check since leaves its own result last
    ("in sync"), and the node still owes the restart its page and row say."""
    bad = {PushResult.Status.FAILED, PushResult.Status.UNREACHABLE, PushResult.Status.SKIPPED,
           PushResult.Status.INTERRUPTED}
    return list(_with_last_result(cluster.nodes.all()).filter(
        Q(last_status__in=bad) | Q(restart_pending=True, restart_failed=True)))


# The list's filters.

LABEL_MAX = 253
NAME_MAX = 63  # a node name's length


@dataclass(frozen=True)
class NodeFilters:
    role: str = ""  # server | agent
    sync: str = ""  # a badge
    label: str = ""  # a label's name, or name=value
    name: str = ""  # part of the node's name
    errors: tuple[str, ...] = field(default=(), compare=False)

    @property
    def active(self) -> bool:
        return bool(self.role or self.sync or self.label or self.name)

    def query(self, **extra: object) -> str:
        """These filters (and `extra`) as a query string, empty values left out."""
        params = {"role": self.role, "sync": self.sync, "label": self.label, "name": self.name, **extra}
        return urlencode({k: v for k, v in params.items() if v})

    def apply(self, nodes: QuerySet[Node], badges: Mapping[str, Q]) -> QuerySet[Node]:
        if self.role:
            nodes = nodes.filter(role=self.role)
        if self.sync:
            nodes = nodes.filter(badges[self.sync])
        if self.label:
            key, has_value, value = self.label.partition("=")
            nodes = nodes.filter(labels__has_key=key.strip())
            if has_value:
                nodes = nodes.alias(label_value=KeyTransform(key.strip(), "labels")).filter(
                    label_value=value.strip())
        if self.name:
            nodes = nodes.filter(name__icontains=self.name)
        return nodes


def node_filters(params: Mapping[str, str]) -> NodeFilters:
    """Filters from GET parameters; a bad value is dropped with a message instead of failing the page."""
    errors: list[str] = []

    def text(name: str, title: str, limit: int) -> str:
        value = (params.get(name) or "").strip()
        if len(value) > limit:
            errors.append(f"{title} has {limit} characters at most; ignored.")
            return ""
        if not value.isprintable():
            errors.append(f"{title} contains a control character; ignored.")
            return ""
        return value

    role, sync = text("role", "Role", 16), text("sync", "Status", 16)
    if role and role not in Node.Role.values:
        errors.append(f"Unknown role {role!r}: server or agent; ignored.")
        role = ""
    if sync and sync not in LABELS:
        errors.append(f"Unknown status {sync!r}: {', '.join(LABELS)}; ignored.")
        sync = ""
    label = text("label", "Label", LABEL_MAX)
    if label and not label.partition("=")[0].strip():
        errors.append(f"Label {label!r} names no label: write name or name=value; ignored.")
        label = ""
    return NodeFilters(role=role, sync=sync, label=label, name=text("name", "Name", NAME_MAX), errors=tuple(errors))


@dataclass
class NodeListPage:
    rows: list[NodeRow]
    page: Page
    filters: NodeFilters
    counts: dict[str, int]  # nodes of the whole cluster per badge, and "total"

    @property
    def sync_options(self) -> list[tuple[str, str]]:
        """The Status filter's choices, each with how many of the cluster's nodes it has."""
        return [(badge, f"{label} ({self.counts[badge]})") for badge, label in LABELS.items()]

    @property
    def role_options(self) -> list[tuple[str, str]]:
        return list(Node.Role.choices)

    def _link(self, number: int) -> str:
        return "?" + self.filters.query(page=number if number > 1 else "")

    @property
    def links(self) -> dict[str, str]:
        """first / previous / next / last, as far as there are such pages."""
        page, last = self.page, self.page.paginator.num_pages
        links: dict[str, str] = {}
        if page.has_previous():
            links.update(first=self._link(1), previous=self._link(page.previous_page_number()))
        if page.has_next():
            links.update(next=self._link(page.next_page_number()), last=self._link(last))
        return links


def node_list_page(cluster: Cluster, params: Mapping[str, str]) -> NodeListPage:
    filters = node_filters(params)
    if problem := bad_param_int(params, "page", max_digits=9):
        filters = NodeFilters(filters.role, filters.sync, filters.label, filters.name, (*filters.errors, problem))
    current = cluster_sync_key(cluster)
    badges = badge_filters(current)
    counts = cluster.nodes.aggregate(total=Count("pk"), **{b: Count("pk", filter=q) for b, q in badges.items()})
    nodes = _with_last_result(filters.apply(cluster.nodes.all(), badges))
    # Beyond the last page: the last page (get_page), so a link to a page that emptied still shows rows.
    page = Paginator(nodes, PER_PAGE).get_page(param_int(params.get("page"), max_digits=9))
    return NodeListPage(_rows(page.object_list, current), page, filters, counts)
