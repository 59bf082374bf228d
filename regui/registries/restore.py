"""Restoring a revision: a new revision whose content is an older one's (secrets by reference)."""

from __future__ import annotations

from regui.audit.context import acting_as
from regui.audit.models import Revision
from regui.audit.services import audit_object

from .models import Cluster, Secret
from .services import InvalidDraft, registries_save
from .snapshots import draft_from_snapshot, snapshot_secret_ids, snapshot_secret_names


class RestoreRefused(Exception):
    pass


def registries_restore(*, cluster: Cluster, revision: Revision, user=None, message: str = "") -> Revision:
    """Make a new revision whose content is `revision`'s, ready to push."""
    with acting_as(user):
        snapshot = revision.snapshot or {}
        wanted = snapshot_secret_ids(snapshot)
        if missing := wanted - set(Secret.objects.filter(pk__in=wanted).values_list("pk", flat=True)):
            raise RestoreRefused(
                f"Revision {revision.number} uses deleted secret(s) "
                f"{', '.join(snapshot_secret_names(snapshot, missing))}; recreate them or edit the registries instead.")
        usable = set(Secret.objects.usable_by(cluster).filter(pk__in=wanted).values_list("pk", flat=True))
        if foreign := wanted - usable:
            raise RestoreRefused(
                f"Revision {revision.number} uses secret(s) {', '.join(snapshot_secret_names(snapshot, foreign))} "
                f"that {cluster.name} may no longer use (they belong to another cluster and are not shared with "
                "it); an admin can share them, or edit the registries instead.")
        current = Cluster.objects.values_list("revision", flat=True).get(pk=cluster.pk)
        draft = draft_from_snapshot(snapshot, revision=current,
                                    message=message or f"Restored revision {revision.number}")
        # It was accepted when it was saved (or imported as K3s takes it): restore it as it was; the
        # Registries page shows anything today's checks would refuse, and lint errors still block a push.
        try:
            saved = registries_save(cluster=cluster, draft=draft, user=user, strict=False)
        except InvalidDraft as exc:  # it would send a secret to a host it no longer goes to
            raise RestoreRefused(f"Revision {revision.number} cannot be restored by you: "
                                 + " ".join(m for ms in exc.errors.values() for m in ms)) from None
        audit_object(revision, "restore", {"restored_from": [None, revision.number]}, revision=saved.revision,
                     message=draft.message)
        return cluster.revisions.get(number=saved.revision)


def restore_differences(original: Revision, restored: Revision) -> str:
    """Why a restored file is not byte-for-byte the original: secrets are restored by reference, so
    a secret changed since then brings its current value. Empty when the file is the same: the same bytes
    with the same secret values (by identity: a value written since, even an equal one, counts)."""
    if restored.sync_key == original.sync_key:
        return ""
    changed = sorted(Secret.objects.filter(pk__in=snapshot_secret_ids(original.snapshot or {}),
                                           updated_at__gt=original.created_at).values_list("name", flat=True))
    why = (f"secret(s) {', '.join(changed)} changed since, and the file uses their current values"
           if changed else "the file is rendered by today's regui")
    return f"The restored file differs from revision {original.number}'s: {why}."
