"""Numbered revisions of a cluster's registries, and the per-entry history of what a save changed."""

from __future__ import annotations

import hashlib

from regui.audit.models import Revision
from regui.audit.services import audit_object, audit_view, diff_fields

from .models import Cluster, Mirror, RegistryConfig
from .selectors import keyed_payload
from .snapshots import Snapshot


def record_registries_changes(cluster: Cluster, before: Snapshot, after: Snapshot, revision: int,
                              message: str) -> None:
    """One entry per mirror or config a save added, changed or removed (a save replaces the rows,
    so an entry's object is its hostname)."""
    model: type[Mirror] | type[RegistryConfig]
    for model, key in ((Mirror, "mirrors"), (RegistryConfig, "configs")):
        old = {i["hostname"]: audit_view(model, i) for i in before.get(key, [])}
        new = {i["hostname"]: audit_view(model, i) for i in after.get(key, [])}
        for host in [*old, *(h for h in new if h not in old)]:
            if host not in new:
                action, changes = "delete", diff_fields(old[host], {})
            elif host not in old:
                action, changes = "create", diff_fields({}, new[host])
            elif old[host] != new[host]:
                action, changes = "update", diff_fields(old[host], new[host])
            else:
                continue
            audit_object(model(cluster=cluster, hostname=host), action, changes, revision=revision, message=message)


def revision_create(*, cluster: Cluster, number: int, message: str, snapshot: Snapshot, user=None) -> Revision:
    redacted, real, _, key = keyed_payload(cluster)  # both renders from one read of the cluster
    return Revision.objects.create(
        cluster=cluster, number=number, message=message[:500], snapshot=snapshot,
        author=user if getattr(user, "is_authenticated", False) else None,
        author_name=getattr(user, "username", "") or "",
        yaml_redacted=redacted, sha256=hashlib.sha256(real.encode()).hexdigest(), sync_key=key,
    )


def revision_for_key(cluster: Cluster, key: str) -> Revision | None:
    """The newest revision whose file is the one with this sync key: by the secret values' identities,
    never by the bytes alone (a guess saved in place of a secret would be answered)."""
    if not key:
        return None
    return cluster.revisions.filter(sync_key=key).order_by("-number").first()
