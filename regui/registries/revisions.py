"""Numbered revisions of a cluster's registries, and the per-entry history of what a save changed."""

from __future__ import annotations

import hashlib
from typing import Any

from regui.audit.models import Revision
from regui.audit.services import audit_record, diff_fields, pem_digest

from .models import Cluster
from .selectors import cluster_payload
from .snapshots import Snapshot


def _entry_view(kind: str, item: dict[str, Any]) -> dict[str, Any]:
    """What a history entry shows of a mirror or config: ids dropped, a CA bundle by its hash."""
    view = {k: v for k, v in item.items() if k not in ("hostname", "auth_secret_id", "tls_secret_id")}
    if kind == "registry_config" and view.get("ca_bundle"):
        view["ca_bundle"] = pem_digest(view["ca_bundle"])
    return view


def record_registries_changes(cluster: Cluster, before: Snapshot, after: Snapshot, revision: int,
                              message: str) -> None:
    for kind, key in (("mirror", "mirrors"), ("registry_config", "configs")):
        old = {i["hostname"]: _entry_view(kind, i) for i in before.get(key, [])}
        new = {i["hostname"]: _entry_view(kind, i) for i in after.get(key, [])}
        for host in [*old, *(h for h in new if h not in old)]:
            if host not in new:
                action, changes = "delete", diff_fields(old[host], {})
            elif host not in old:
                action, changes = "create", diff_fields({}, new[host])
            elif old[host] != new[host]:
                action, changes = "update", diff_fields(old[host], new[host])
            else:
                continue
            audit_record(action=action, object_type=kind, object_id=host, object_repr=host, cluster=cluster,
                         revision=revision, changes=changes, message=message)


def revision_create(*, cluster: Cluster, number: int, message: str, snapshot: Snapshot, user=None) -> Revision:
    redacted, real, _ = cluster_payload(cluster)  # both renders from one read of the cluster
    return Revision.objects.create(
        cluster=cluster, number=number, message=message[:500], snapshot=snapshot,
        author=user if getattr(user, "is_authenticated", False) else None,
        author_name=getattr(user, "username", "") or "",
        yaml_redacted=redacted, sha256=hashlib.sha256(real.encode()).hexdigest(),
    )


def revision_for_sha(cluster: Cluster, sha256: str) -> Revision | None:
    if not sha256:
        return None
    return cluster.revisions.filter(sha256=sha256).order_by("-number").first()
