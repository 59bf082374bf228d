"""Writes: saving the Registries page and secrets. Views stay thin and call these."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, replace

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q

from regui.audit import context as audit_context
from regui.audit.services import (
    audit_change,
    audit_delete,
    audit_object,
    audit_snapshot,
    diff_fields,
    sealed_change,
)

from .draft import (
    AUTH_CREATE_BASIC,
    AUTH_CREATE_RKE,
    AUTH_NONE,
    Draft,
    Errors,
    drop_blank_boxes,
    secret_reference_errors,
    validate_draft,
)
from .insight import lint_errors_by_slot
from .models import Cluster, Mirror, RegistryConfig, Secret, new_value_id
from .revisions import record_registries_changes, revision_create, revision_for_settings, stale_message
from .secret_hosts import new_host_errors, typed_by_after
from .secret_names import secret_name_for
from .secret_transport import weakened_transport_errors
from .selectors import draft_render, nodes_engine_flags, secret_infos
from .sharing import may_share, secret_change_refusal, sharing_errors
from .snapshots import snapshot_of
from .unsaved import unsaved_discard
from .validation import check_certificate, check_key_matches_certificate, check_private_key, pem_text


class StaleRevision(Exception):
    """The form was based on an older revision than the one saved now."""


class InvalidDraft(Exception):
    def __init__(self, errors: Errors):
        super().__init__(f"{len(errors)} field(s) need attention")
        self.errors = errors


class SecretInUse(Exception):
    pass


def secret_create(*, cluster: Cluster, host: str, kind: str, values: dict[str, str], username: str = "",
                  description: str = "", message: str = "", typed: bool = True) -> Secret:
    """A new secret of `cluster`, made for its registry `host` (by the page's "create" choices or an
    import), named by the one scheme for secrets regui makes (secret_names.py), recorded. `typed=False`:
    the acting user did not type its values (a node's file)."""
    secret = Secret(cluster=cluster, kind=kind, username=username, description=description,
                    typed_by=audit_context.current().username if typed else "")
    secret.seal(values)
    for _ in range(5):
        secret.name = secret_name_for(cluster.name, host)
        try:
            # A savepoint: another save may take the same name between the look-up and this insert.
            with transaction.atomic():
                secret.save()
            break
        except IntegrityError:
            secret.pk = None
    else:
        raise IntegrityError(f"no free secret name for {cluster.name} {host}")
    audit_object(secret, "create", _secret_view_diff(None, secret, set(secret.sealed_fields.split(","))),
                 message=message)
    return secret


def _inline_secret(cluster: Cluster, host: str, kind: str, username: str, password: str) -> Secret:
    # What Rancher's "RKE Auth Config" stores: base64 of user:password in `auth`.
    values = ({"auth": base64.b64encode(f"{username}:{password}".encode()).decode()}
              if kind == Secret.Kind.RKE_AUTH else {"password": password})
    return secret_create(cluster=cluster, host=host, kind=kind, username=username, values=values,
                         description=f"Made on the Registries page of {cluster.name} for {host}"[:200])


def draft_problems(draft: Draft, *, cluster: Cluster) -> Errors:
    """Form errors, then (when the fields are fine) the lint errors K3s's rules find in the render."""
    errors = validate_draft(draft, secret_infos(cluster))
    if errors:
        return errors
    # What the form checks cannot see (e.g. a hostname no image can match) K3s's rules can.
    return lint_errors_by_slot(draft_render(draft, distro=cluster.distro), draft, program=cluster.distro,
                               flags=nodes_engine_flags(cluster))


@transaction.atomic
def registries_save(*, cluster: Cluster, draft: Draft, user=None, strict: bool = True,
                    stand_ins: Mapping[int, int | None] | None = None, skip_unchanged: bool = False) -> Cluster:
    """Replace the cluster's mirrors and configs with the draft's, or raise and save nothing.

    `strict=False` saves a draft with problems (an import of a file K3s accepts as it is): the
    page then shows them next to the fields, and a push refuses lint errors. `stand_ins`: a new
    secret (by id) that may go only where, and as safely as, the saved one it replaces goes (None: as
    the draft has it, a node's own credential regui never held). `skip_unchanged` (the page's save):
    registries that come out as they were make no revision and no history entry; the cluster comes
    back with its revision unchanged (a restore still makes a revision: it says what was restored)."""
    locked = Cluster.objects.select_for_update().get(pk=cluster.pk)
    if draft.revision != locked.revision:
        raise StaleRevision(stale_message(locked, draft.revision))
    draft = drop_blank_boxes(draft)
    # A save that keeps other problems as K3s takes them (an import, a restore) still never lets the
    # cluster name a secret it may not use: its nodes would receive the values.
    errors = (draft_problems(draft, cluster=locked) if strict
              else secret_reference_errors(draft, secret_infos(locked)))
    if not errors:
        errors = (new_host_errors(draft, user, locked, stand_ins)
                  or weakened_transport_errors(draft, locked, user, stand_ins))
    if errors:
        raise InvalidDraft(errors)

    before = snapshot_of(locked)
    try:
        with transaction.atomic():  # a savepoint: undone when the save changes nothing
            _registries_write(locked, draft)
            after = snapshot_of(locked)
            if skip_unchanged and after == before and not _writes_secret_value(draft):
                raise _Unchanged
    except _Unchanged:
        if getattr(user, "is_authenticated", False):
            unsaved_discard(user=user, cluster=locked)  # as on a save: they are what is saved
        return locked
    locked.revision += 1
    locked.updated_by = user if getattr(user, "is_authenticated", False) else None
    locked.save(update_fields=["revision", "updated_by", "updated_at"])
    record_registries_changes(locked, before, after, locked.revision, draft.message)
    revision_create(cluster=locked, number=locked.revision, message=draft.message, snapshot=after, user=user)
    if getattr(user, "is_authenticated", False):
        # The saver's unsaved edits of these registries are saved now, or older than what is.
        unsaved_discard(user=user, cluster=locked)
    return locked


class _Unchanged(Exception):
    """The save would store the registries as they are: undo its writes."""


def _writes_secret_value(draft: Draft) -> bool:
    """Whether saving `draft` writes a secret value (a password typed into a box): never "unchanged",
    even when it equals the stored one, else "nothing changed" would answer a guessed password."""
    return any(c.auth in (AUTH_CREATE_BASIC, AUTH_CREATE_RKE) for c in draft.configs)


def _registries_write(locked: Cluster, draft: Draft) -> None:
    """Replace the cluster's mirrors and configs with the draft's (inline secrets made as they go)."""
    locked.mirrors.all().delete()
    locked.configs.all().delete()
    Mirror.objects.bulk_create(
        Mirror(
            cluster=locked,
            position=i,
            hostname=m.hostname,
            endpoints=[e.url for e in m.endpoints if e.url],
            rewrites=[[r.pattern, r.replacement] for r in m.rewrites],
        )
        for i, m in enumerate(draft.mirrors)
    )
    configs = []
    for i, c in enumerate(draft.configs):
        auth_id: int | None
        if c.auth == AUTH_CREATE_BASIC:
            auth_id = _inline_secret(locked, c.hostname, Secret.Kind.BASIC, c.username, c.password).id
        elif c.auth == AUTH_CREATE_RKE:
            auth_id = _inline_secret(locked, c.hostname, Secret.Kind.RKE_AUTH, c.username, c.password).id
        else:
            auth_id = int(c.auth) if c.auth != AUTH_NONE else None
        configs.append(RegistryConfig(
            cluster=locked,
            position=i,
            hostname=c.hostname,
            auth_secret_id=auth_id,
            tls_secret_id=int(c.tls_secret) if c.tls_secret else None,
            ca_bundle=c.ca_bundle,
            insecure_skip_verify=c.insecure_skip_verify,
            ca_file=c.ca_file,
            cert_file=c.cert_file,
            key_file=c.key_file,
            empty_auth=c.empty_auth and auth_id is None,
            empty_tls=c.empty_tls,
        ))
    RegistryConfig.objects.bulk_create(configs)


@dataclass
class SecretInput:
    name: str
    kind: str
    description: str = ""
    username: str = ""
    password: str = ""
    auth: str = ""
    identity_token: str = ""
    certificate: str = ""
    private_key: str = ""
    # The owning cluster (None: an admin's secret); the clusters it is shared with (None: unchanged).
    cluster: Cluster | None = None
    shared_with: list[Cluster] | None = None


def secret_validate(data: SecretInput, existing: Secret | None = None) -> Errors:
    errors: Errors = {}
    old = existing.sealed_fields.split(",") if existing else []

    def need(field: str, label: str) -> None:
        if not getattr(data, field) and field not in old:
            errors.setdefault(field, []).append(f"{label} is required.")

    if data.kind == Secret.Kind.BASIC:
        if not data.username:
            errors.setdefault("username", []).append("Username is required.")
        need("password", "Password")
    elif data.kind == Secret.Kind.RKE_AUTH:
        has_pair = data.username and (data.password or "password" in old)
        has_any = has_pair or data.auth or data.identity_token or {"auth", "identity_token"} & set(old)
        if not has_any:
            errors.setdefault("auth", []).append(
                "Give a username and password, an auth value (base64 of user:password), or an identity token."
            )
        if data.auth:
            try:
                decoded = base64.b64decode(data.auth, validate=True).decode()
                if ":" not in decoded:
                    raise ValueError
            except ValueError:
                errors.setdefault("auth", []).append("Auth must be base64 of username:password.")
    elif data.kind == Secret.Kind.TLS:
        for field, check in (("certificate", check_certificate), ("private_key", check_private_key)):
            if getattr(data, field):
                if problem := check(getattr(data, field)):
                    errors.setdefault(field, []).append(problem)
            elif field == "certificate" or "private_key" not in old:
                errors.setdefault(field, []).append(
                    "Certificate is required." if field == "certificate" else "Private Key is required."
                )
        key = data.private_key or (existing.unseal().get("private_key", "") if existing else "")
        if not errors and key and (problem := check_key_matches_certificate(key, data.certificate)):
            errors.setdefault("private_key", []).append(problem)
    else:
        errors.setdefault("kind", []).append("Choose a secret type.")
    return errors


def _secret_owner(data: SecretInput, existing: Secret | None) -> Cluster | None:
    # On an update, no cluster keeps the owner: a secret once given to a cluster stays with one.
    return data.cluster if data.cluster is not None or existing is None else existing.cluster


def _secret_access_errors(data: SecretInput, existing: Secret | None, user) -> Errors:
    """Who owns the secret and who shares it: operators make a secret for one cluster and keep it
    there; an admin owns, shares and changes the rest (PermissionDenied for what the form never offers)."""
    if existing is not None and (refusal := secret_change_refusal(user, existing)):
        raise PermissionDenied(refusal)
    owner = _secret_owner(data, existing)
    if may_share(user):
        if existing is None:
            return {}
        shared = list(existing.shared_with.all()) if data.shared_with is None else data.shared_with
        return sharing_errors(existing, owner, shared)
    if data.shared_with:
        raise PermissionDenied("Only an admin can share a secret with other clusters.")
    if existing is not None and owner != existing.cluster:
        raise PermissionDenied("Only an admin can give a secret to another cluster.")
    return {} if owner else {"cluster": ["Choose the cluster this secret is for."]}


@transaction.atomic
def secret_save(*, data: SecretInput, existing: Secret | None = None, user=None) -> Secret:
    """Create or update a secret, as `user` may (None: the system). Blank value fields on update keep
    the stored values. Its `changed` says whether anything was: a save that changes nothing writes nothing."""
    # PEM is stored with LF line endings (a browser sends a pasted certificate or key with CRLF).
    data = replace(data, certificate=pem_text(data.certificate), private_key=pem_text(data.private_key))
    errors = {**secret_validate(data, existing), **_secret_access_errors(data, existing, user)}
    if errors:
        raise InvalidDraft(errors)
    before = audit_snapshot(existing) if existing else None
    shared_before = sorted(existing.shared_with.values_list("name", flat=True)) if existing else []
    secret = existing or Secret(kind=data.kind)
    secret.cluster = _secret_owner(data, existing)
    secret.name = data.name
    secret.description = data.description
    secret.username = data.username if data.kind != Secret.Kind.TLS else ""
    secret.certificate = data.certificate.strip() + "\n" if data.kind == Secret.Kind.TLS else ""
    values = existing.unseal() if existing else {}
    for field in Secret.SEALED_FIELDS[Secret.Kind(secret.kind)]:
        if getattr(data, field):
            values[field] = getattr(data, field)
    values = {k: v for k, v in values.items() if k in Secret.SEALED_FIELDS[Secret.Kind(secret.kind)]}
    typed = {f for f in Secret.SEALED_FIELDS[Secret.Kind(secret.kind)] if getattr(data, f)}
    typer = user.get_username() if getattr(user, "is_authenticated", False) else audit_context.current().username
    secret.typed_by = typed_by_after(existing, set(values), typed, typer)
    old_values = existing.unseal() if existing else {}
    secret.seal(values)
    if existing is not None and (typed or values != old_values):
        secret.value_id = new_value_id()  # a value written, even the same one: see core/fingerprints.py
    # A typed value counts as changed even when it equals the stored one: else the history entry and
    # the clusters' new revision would tell whoever typed a guess whether it was right.
    changed_values = typed | {k for k in set(values) | set(old_values) if values.get(k) != old_values.get(k)}
    changes = _secret_view_diff(before, secret, changed_values)
    shared = None if data.shared_with is None else [c for c in data.shared_with if c != secret.cluster]
    shared_after = shared_before if shared is None else sorted({c.name for c in shared})
    if shared_after != shared_before:
        changes["shared_with"] = [shared_before, shared_after]
    secret.changed = before is None or bool(changes)
    if existing is not None and not secret.changed:
        existing.refresh_from_db()  # nothing written: not even a new ciphertext of the same values
        existing.changed = False
        return existing
    secret.save()
    if shared is not None:
        secret.shared_with.set(shared)
    if before is None or changes:
        audit_object(secret, "update" if before else "create", changes)
    if before is not None and (changed_values or before.get("certificate") != audit_snapshot(secret)["certificate"]):
        _revise_clusters_using(secret, f"secret {secret.name} changed")
    return secret


def _secret_view_diff(before: dict | None, secret: Secret, changed_values: set[str]) -> dict:
    """Metadata before/after, and for sealed values only the fact that they changed."""
    changes = diff_fields(before or {}, audit_snapshot(secret))
    for field in sorted(f for f in changed_values if f):
        changes[field] = sealed_change(bool(before))
    return changes


def _revise_clusters_using(secret: Secret, message: str) -> None:
    """A secret's new value changes the file of every cluster using it: give each a new revision."""
    for cluster in Cluster.objects.filter(Q(configs__auth_secret=secret) | Q(configs__tls_secret=secret)).distinct():
        locked = Cluster.objects.select_for_update().get(pk=cluster.pk)
        locked.revision += 1
        locked.save(update_fields=["revision", "updated_at"])
        revision_create(cluster=locked, number=locked.revision, message=message, snapshot=snapshot_of(locked))


def secret_users(secret: Secret) -> list[str]:
    uses = RegistryConfig.objects.filter(Q(auth_secret=secret) | Q(tls_secret=secret)).select_related("cluster")
    return sorted({f"{u.cluster.name}: {u.hostname}" for u in uses})


@transaction.atomic
def secret_delete(*, secret: Secret, user=None) -> None:
    if refusal := secret_change_refusal(user, secret):
        raise PermissionDenied(refusal)
    users = secret_users(secret)
    if users:
        raise SecretInUse(f"Secret {secret.name} is used by {', '.join(users)}; remove it there first.")
    audit_delete(secret)
    secret.delete()


@transaction.atomic
def cluster_save(*, form, user=None) -> Cluster:
    """Create or update a cluster from its form, recording what changed; a change that changes its file
    (the distro) is a revision of it too (revision_for_settings)."""
    if form.instance.pk is None:
        cluster = form.save()
        audit_change(cluster, None)
        return cluster
    before = audit_snapshot(Cluster.objects.get(pk=form.instance.pk))
    cluster = form.save(commit=False)
    cluster.save(update_fields=[*form.fields, "updated_at"])  # not the revision: a save may have moved it on
    revision = revision_for_settings(cluster, diff_fields(before, audit_snapshot(cluster)), user)
    audit_change(cluster, before, revision=revision.number if revision else None)
    cluster.refresh_from_db()
    return cluster


@transaction.atomic
def cluster_delete(*, cluster: Cluster) -> None:
    """Delete the cluster with its registries, revisions, nodes and pushes (history keeps its entries).
    The secrets it owned are kept for the admins, as others may share them: each records that."""
    changes = {**diff_fields(audit_snapshot(cluster), {}),
               "mirrors": [cluster.mirrors.count(), None], "configs": [cluster.configs.count(), None],
               "nodes": [cluster.nodes.count(), None], "revision": [cluster.revision, None]}
    audit_object(cluster, "delete", changes)
    for secret in cluster.owned_secrets.all():
        audit_object(secret, "update", {"cluster": [cluster.name, None]})
    cluster.delete()
