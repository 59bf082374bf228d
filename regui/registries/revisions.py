"""Numbered revisions of a cluster's registries, and the per-entry history of what a save changed."""

from __future__ import annotations

import hashlib

from regui.audit.labels import field_label
from regui.audit.models import Revision
from regui.audit.services import audit_object, audit_view, diff_fields

from .models import Cluster, Mirror, RegistryConfig
from .selectors import keyed_payload, keyed_render
from .snapshots import Snapshot, snapshot_of

# Settings that say nothing of the nodes' file, left out of a revision's words.
_NOT_SETTINGS = ("name", "description")


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


# How a revision made by a change of the cluster's settings begins its message: a registries page
# opened before it is told that the settings moved, not that someone saved the registries.
SETTINGS_MESSAGE = "Cluster settings: "


def stale_message(cluster: Cluster, opened: int) -> str:
    """Why a save from a page opened at revision `opened` is refused: what was saved since."""
    newest = cluster.revisions.order_by("-number").only("number", "message").first()
    if newest is not None and newest.number == cluster.revision and newest.message.startswith(SETTINGS_MESSAGE):
        return (f"The cluster's settings changed the file (now revision {cluster.revision}: "
                f"{newest.message.removeprefix(SETTINGS_MESSAGE)}) after you opened the page (revision {opened}). "
                "Reload to see the file they make, then make your changes again.")
    return (f"Someone saved these registries (now revision {cluster.revision}) after you opened the page "
            f"(revision {opened}). Reload to see their changes, then make yours again.")


def revision_for_settings(cluster: Cluster, changes: dict[str, list], user=None) -> Revision | None:
    """A revision of the file, when a change of the cluster's settings (`changes`: diff_fields of its
    audit snapshots) changed it, as a save of its registries would: the distro names where the TLS files
    regui owns are. Else the node list (against the render now) and the cluster list (against the newest
    revision) disagree about nodes pushed since, and their push names a revision whose file they do not
    hold. None when the file is the newest revision's, or the registries were never saved."""
    newest = cluster.revisions.order_by("-number").values_list("sync_key", flat=True).first()
    locked = Cluster.objects.select_for_update().get(pk=cluster.pk)
    if newest is None or keyed_render(locked)[1] == newest:
        return None
    locked.revision += 1
    locked.updated_by = user if getattr(user, "is_authenticated", False) else None
    locked.save(update_fields=["revision", "updated_by", "updated_at"])
    words = [f"{field_label(Cluster.audit_type, field)} {_word(old)} → {_word(new)}" for field, (old, new) in changes.items()
             if field not in _NOT_SETTINGS]
    return revision_create(cluster=locked, number=locked.revision, message=SETTINGS_MESSAGE + ", ".join(words),
                           snapshot=snapshot_of(locked), user=user)


def _word(value: object) -> str:
    return ("on" if value else "off") if isinstance(value, bool) else str(value)
