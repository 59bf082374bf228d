"""Recording audit entries and revisions. Secret values never reach these functions' output."""

from __future__ import annotations

import hashlib
from typing import Any

from .context import current
from .models import AuditEvent

SECRET_MARK = "(secret)"


def _plain(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def sealed_change(existed: bool) -> list[str | None]:
    """How history shows a secret value being written: that it changed, never what it is."""
    return ["(set)", "(changed)"] if existed else [None, "(set)"]


def pem_digest(pem: str) -> str:
    """How history shows PEM material: long, and not for reading; its hash says whether it changed."""
    return "PEM sha256:" + hashlib.sha256(pem.encode()).hexdigest()[:16]


def diff_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [before, after]} for the fields that differ (None on a side where it is absent)."""
    keys = list(dict.fromkeys([*before, *after]))
    return {k: [_plain(before.get(k)), _plain(after.get(k))] for k in keys if before.get(k) != after.get(k)}


def audit_event(*, action: str, object_type: str, object_id: Any = "", object_repr: str = "",
                cluster=None, node=None, secret=None, revision: int | None = None,
                changes: dict | None = None, message: str = "") -> AuditEvent:
    """An unsaved entry for the current actor (for bulk writes); `audit_record` saves one."""
    actor = current()
    cluster = cluster or getattr(node, "cluster", None)
    return AuditEvent(
        actor_id=actor.user_id, actor_name=actor.username, request_id=actor.request_id,
        source_ip=actor.source_ip, action=action, object_type=object_type, object_id=str(object_id or ""),
        object_repr=str(object_repr)[:300], cluster_id_ref=getattr(cluster, "pk", None),
        cluster_name=getattr(cluster, "name", "") or "", node_id_ref=getattr(node, "pk", None),
        secret_id_ref=getattr(secret, "pk", None), revision=revision, changes=changes or {},
        message=(message or actor.note or "")[:500],
    )


def audit_record(**kwargs: Any) -> AuditEvent:
    event = audit_event(**kwargs)
    event.save()
    return event
