"""Numbered revisions of a cluster's registries, and the per-entry history of what a save changed."""

from __future__ import annotations

import hashlib
from typing import Any

from regui.registries.models import Cluster

from .context import acting_as
from .models import Revision
from .services import audit_record, diff_fields, pem_digest


def snapshot_of(cluster: Cluster) -> dict[str, Any]:
    """The saved structure, secrets by id and name only (never values)."""
    return {
        "mirrors": [
            {"hostname": m.hostname, "endpoints": list(m.endpoints), "rewrites": [list(r) for r in m.rewrites]}
            for m in cluster.mirrors.all()
        ],
        "configs": [
            {"hostname": c.hostname, "auth_secret_id": c.auth_secret_id,
             "auth_secret": c.auth_secret.name if c.auth_secret else None, "tls_secret_id": c.tls_secret_id,
             "tls_secret": c.tls_secret.name if c.tls_secret else None, "ca_bundle": c.ca_bundle,
             "insecure_skip_verify": c.insecure_skip_verify, "ca_file": c.ca_file, "cert_file": c.cert_file,
             "key_file": c.key_file, "empty_auth": c.empty_auth, "empty_tls": c.empty_tls}
            for c in cluster.configs.select_related("auth_secret", "tls_secret")
        ],
    }


def _entry_view(kind: str, item: dict[str, Any]) -> dict[str, Any]:
    """What a history entry shows of a mirror or config: ids dropped, a CA bundle by its hash."""
    view = {k: v for k, v in item.items() if k not in ("hostname", "auth_secret_id", "tls_secret_id")}
    if kind == "registry_config" and view.get("ca_bundle"):
        view["ca_bundle"] = pem_digest(view["ca_bundle"])
    return view


def record_registries_changes(cluster: Cluster, before: dict, after: dict, revision: int, message: str) -> None:
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


def revision_create(*, cluster: Cluster, number: int, message: str, snapshot: dict, user=None) -> Revision:
    from regui.registries.selectors import cluster_payload

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


class RestoreRefused(Exception):
    pass


def registries_restore(*, cluster: Cluster, revision: Revision, user=None, message: str = "") -> Revision:
    """Make a new revision whose content is `revision`'s (secrets by reference), ready to push."""
    with acting_as(user):
        return _restore(cluster, revision, user, message)


def _restore(cluster: Cluster, revision: Revision, user, message: str) -> Revision:
    from regui.registries import draft as d
    from regui.registries.models import Secret
    from regui.registries.services import registries_save

    snap = revision.snapshot or {}
    wanted = _secret_ids(revision)
    existing = set(Secret.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    if missing := wanted - existing:
        names = sorted({c.get(n) for c in snap.get("configs", []) for i, n in (("auth_secret_id", "auth_secret"),
                        ("tls_secret_id", "tls_secret")) if c.get(i) in missing})
        raise RestoreRefused(f"Revision {revision.number} uses deleted secret(s) {', '.join(map(str, names))}; "
                             "recreate them or edit the registries instead.")
    draft = d.Draft(revision=Cluster.objects.values_list("revision", flat=True).get(pk=cluster.pk),
                    message=message or f"Restored revision {revision.number}")
    for m in snap.get("mirrors", []):
        draft.mirrors.append(d.MirrorBox(
            d.new_token(), m["hostname"], [d.EndpointRow(d.new_token(), e) for e in m["endpoints"]],
            [d.RewriteRow(d.new_token(), p, r) for p, r in m["rewrites"]]))
    for c in snap.get("configs", []):
        draft.configs.append(d.ConfigBox(
            d.new_token(), c["hostname"], auth=str(c["auth_secret_id"]) if c.get("auth_secret_id") else d.AUTH_NONE,
            tls_secret=str(c["tls_secret_id"]) if c.get("tls_secret_id") else "", ca_bundle=c.get("ca_bundle", ""),
            insecure_skip_verify=c.get("insecure_skip_verify", False), ca_file=c.get("ca_file", ""),
            cert_file=c.get("cert_file", ""), key_file=c.get("key_file", ""), empty_auth=c.get("empty_auth", False),
            empty_tls=c.get("empty_tls", False)))
    # It was accepted when it was saved (or imported as K3s takes it): restore it as it was; the
    # Registries page shows anything today's checks would refuse, and lint errors still block a push.
    saved = registries_save(cluster=cluster, draft=draft, user=user, strict=False)
    audit_record(action="restore", object_type="revision", object_id=revision.pk,
                 object_repr=f"{cluster.name} r{revision.number}", cluster=cluster, revision=saved.revision,
                 changes={"restored_from": [None, revision.number]}, message=draft.message)
    return cluster.revisions.get(number=saved.revision)


def _secret_ids(revision: Revision) -> set[int]:
    """The secrets a revision's snapshot refers to (auth and TLS), by id."""
    configs = (revision.snapshot or {}).get("configs", [])
    return {c.get(k) for c in configs for k in ("auth_secret_id", "tls_secret_id")} - {None}


def restore_differences(original: Revision, restored: Revision) -> str:
    """Why a restored file is not byte-for-byte the original: secrets are restored by reference, so
    a secret changed since then brings its current value. Empty when the bytes are the same."""
    from regui.registries.models import Secret

    if restored.sha256 == original.sha256:
        return ""
    changed = sorted(Secret.objects.filter(pk__in=_secret_ids(original), updated_at__gt=original.created_at)
                     .values_list("name", flat=True))
    why = (f"secret(s) {', '.join(changed)} changed since, and the file uses their current values"
           if changed else "the file is rendered by today's regui")
    return f"The restored file differs from revision {original.number}'s: {why}."
