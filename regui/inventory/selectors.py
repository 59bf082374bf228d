"""Which revision each node has: revisions with the nodes whose last-read file is theirs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from regui.audit.models import Revision
from regui.registries.models import Cluster
from regui.registries.revisions import revision_for_key

from .models import Node


@dataclass
class RevisionRow:
    revision: Revision
    nodes: list[tuple[int, str]]
    current: bool


def revision_rows(cluster: Cluster, revisions: Iterable[Revision]) -> list[RevisionRow]:
    """Revisions with the nodes whose file regui last wrote or confirmed is each one's (by sync key: the
    same bytes with a secret given a value since are another file): one query for all."""
    revisions = list(revisions)
    by_key: dict[str, list[tuple[int, str]]] = {}
    keys = {r.sync_key for r in revisions if r.sync_key}
    if keys:
        for pk, name, key in (Node.objects.filter(cluster=cluster, last_sync_key__in=keys)
                              .order_by("name").values_list("pk", "name", "last_sync_key")):
            by_key.setdefault(key, []).append((pk, name))
    return [RevisionRow(r, by_key.get(r.sync_key, []) if r.sync_key else [], r.number == cluster.revision)
            for r in revisions]


@dataclass
class NodeContent:
    kind: str  # "unread" | "known" | "unknown"
    sha256: str  # what the page's fingerprint is made of: the sync key, else (a file regui did not write) the sha256
    revision: Revision | None = None
    current: bool = False


def node_content(node: Node) -> NodeContent:
    """Which revision a node's file is, by the sync key regui recorded at its last push or drift check
    ("unknown" when regui did not write what the node holds, or does not know which secret values it has)."""
    if not node.last_sha256:
        return NodeContent("unread", "")
    revision = revision_for_key(node.cluster, node.last_sync_key)
    if revision is None:
        return NodeContent("unknown", node.last_sync_key or node.last_sha256)
    return NodeContent("known", node.last_sync_key, revision, revision.number == node.cluster.revision)
