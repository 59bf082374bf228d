"""Recording audit entries and revisions. Secret values never reach these functions' output."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Model

from .context import current
from .models import Audited, AuditEvent, ObjectType

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


def audit_view(model: type[Audited], values: Mapping[str, Any]) -> dict[str, Any]:
    """What history shows of a kind of object: its audited fields, PEM material by its hash."""
    return {f: pem_digest(values[f]) if f in model.audit_digests and values[f] else values[f]
            for f in model.audit_fields if f in values}


def audit_snapshot(obj: Audited) -> dict[str, Any]:
    return audit_view(type(obj), {f: getattr(obj, f) for f in obj.audit_fields})


def _describe(obj: Audited | AbstractBaseUser) -> dict[str, Any]:
    """Type, id, label and scope of an entry's object, read from the object itself."""
    if isinstance(obj, AbstractBaseUser):  # Django's user model cannot take the mixin
        return {"object_type": ObjectType.USER, "object_id": obj.pk or "", "object_repr": obj.get_username()}
    key = obj.pk if obj.audit_key_field == "pk" and isinstance(obj, Model) else getattr(obj, obj.audit_key_field)
    return {"object_type": obj.audit_type, "object_id": key, "object_repr": obj.audit_label(), **obj.audit_scope()}


def audit_object_event(obj: Audited | AbstractBaseUser, action: str, changes: dict | None = None, *,
                       revision: int | None = None, message: str = "") -> AuditEvent:
    """An unsaved entry about `obj` (for bulk writes); `audit_object` saves one."""
    return audit_event(action=action, changes=changes, revision=revision, message=message, **_describe(obj))


def audit_object(obj: Audited | AbstractBaseUser, action: str, changes: dict | None = None, *,
                 revision: int | None = None, message: str = "") -> AuditEvent:
    event = audit_object_event(obj, action, changes, revision=revision, message=message)
    event.save()
    return event


def audit_change(obj: Audited, before: dict[str, Any] | None, extra: dict | None = None, *,
                 message: str = "", revision: int | None = None) -> AuditEvent | None:
    """Record a create (`before` None) or an update of `obj` against its earlier `audit_snapshot`;
    an update that changed nothing is not recorded. `revision`: the one the change made."""
    changes = {**diff_fields(before or {}, audit_snapshot(obj)), **(extra or {})}
    if before is not None and not changes:
        return None
    return audit_object(obj, "update" if before is not None else "create", changes, revision=revision,
                        message=message)


def audit_delete(obj: Audited, *, message: str = "") -> AuditEvent:
    return audit_object(obj, "delete", diff_fields(audit_snapshot(obj), {}), message=message)


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
