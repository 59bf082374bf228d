"""Which revision each node has: revisions with the nodes whose last-read file is theirs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from regui.audit.models import Revision
from regui.registries.models import Cluster
from regui.registries.revisions import revision_for_sha

from .models import Node


@dataclass
class RevisionRow:
    revision: Revision
    nodes: list[tuple[int, str]]
    current: bool


def revision_rows(cluster: Cluster, revisions: Iterable[Revision]) -> list[RevisionRow]:
    """Revisions with the nodes whose last-read file has each one's sha256: one query for all."""
    revisions = list(revisions)
    by_sha: dict[str, list[tuple[int, str]]] = {}
    shas = {r.sha256 for r in revisions}
    if shas:
        for pk, name, sha in (Node.objects.filter(cluster=cluster, last_sha256__in=shas)
                              .order_by("name").values_list("pk", "name", "last_sha256")):
            by_sha.setdefault(sha, []).append((pk, name))
    return [RevisionRow(r, by_sha.get(r.sha256, []), r.number == cluster.revision) for r in revisions]


@dataclass
class NodeContent:
    kind: str  # "unread" | "known" | "unknown"
    sha256: str
    revision: Revision | None = None
    current: bool = False


def node_content(node: Node) -> NodeContent:
    """Which revision a node's file is, by the sha256 read at its last push or drift check."""
    if not node.last_sha256:
        return NodeContent("unread", "")
    revision = revision_for_sha(node.cluster, node.last_sha256)
    if revision is None:
        return NodeContent("unknown", node.last_sha256)
    return NodeContent("known", node.last_sha256, revision, revision.number == node.cluster.revision)
