"""Shared SSH credentials: made, rotated and deleted by admins; chosen for a node by operators.

The value is write-only (sealed; history records only that it was set or changed). A node that uses
one gets it at connect time from `login_for` (called by `node_target`, the one gate), and only when
its host key was approved by someone allowed to trust the host for it (`shared_refusal`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from regui.audit.services import audit_change, audit_delete, audit_object, audit_snapshot, sealed_change
from regui.core.roles import ADMIN, OPERATOR, has_role
from regui.inventory.jumphosts.models import JumpHost
from regui.inventory.models import Node

from .models import NodeCredential, SharedCredential

# What Node.objects.select_related() takes to load nodes with all that `login_for` reads.
WITH_LOGIN = "shared_credential__credential"


class CredentialError(Exception):
    pass


@dataclass(frozen=True)
class Login:
    """What a connection logs in with."""

    kind: str  # "key" or "password"
    value: str
    passphrase: str = ""
    shared: str = ""  # the shared credential's name, "" for the node's own


def _admin_only(user: Any, what: str) -> None:
    if not has_role(user, ADMIN):
        raise CredentialError(f"Only an admin can {what} a shared SSH credential: its value reaches every "
                              "node that uses it.")


def _check_value(kind: str, value: str) -> None:
    if kind not in SharedCredential.Kind.values:
        raise CredentialError(f"Unknown kind {kind!r}: a private key or a password.")
    if not value:
        raise CredentialError("Enter the private key or the password.")


@transaction.atomic
def credential_create(*, user: Any, name: str, kind: str, value: str, passphrase: str = "") -> SharedCredential:
    _admin_only(user, "create")
    _check_value(kind, value)
    if SharedCredential.objects.filter(name=name).exists():
        raise CredentialError(f"A shared credential named {name!r} exists already.")
    credential = SharedCredential(name=name, kind=kind)
    credential.seal_value(value, passphrase)
    credential.full_clean()
    credential.save()
    audit_change(credential, None, {"value": sealed_change(False)})
    return credential


@transaction.atomic
def credential_rotate(*, user: Any, credential: SharedCredential, value: str, passphrase: str = "",
                      kind: str | None = None) -> SharedCredential:
    """A new value for every node that uses it, at their next connection; history says it changed."""
    _admin_only(user, "rotate")
    locked = SharedCredential.objects.select_for_update().get(pk=credential.pk)
    before = audit_snapshot(locked)
    locked.kind = kind or locked.kind
    _check_value(locked.kind, value)
    locked.seal_value(value, passphrase)
    locked.rotated_at, locked.rotated_by = timezone.now(), user.get_username()
    locked.save()
    users = locked.uses.count()
    audit_change(locked, before, {"value": sealed_change(True), "nodes using it": [users, users]},
                 message="rotated")
    return locked


@transaction.atomic
def credential_delete(*, user: Any, credential: SharedCredential) -> None:
    _admin_only(user, "delete")
    if credential.uses.exists():
        names = ", ".join(sorted(str(u.node) for u in credential.uses.select_related("node")))
        raise CredentialError(f"{credential.name} is used by {names}: choose another credential for them first.")
    if jumps := jump_host_names(credential):
        raise CredentialError(f"{credential.name} is the credential of jump host {', '.join(jumps)}: choose another "
                              "credential for it first.")
    audit_delete(credential)
    credential.delete()


@transaction.atomic
def node_use_credential(*, node: Node, credential: SharedCredential | None, user: Any) -> None:
    """Make the node log in with a shared credential (None: its own again). Like an address change,
    the one who chose it may not approve the node's host key under two-person approval; the node's
    own stored credential is dropped when it takes a shared one (it would be unused). Below admin, the
    choice sends the node's approved key back for approval: it was trusted for another credential, and
    the shared one (a password in clear, or a key's login) must not reach a host its approver did not
    trust for it."""
    if not has_role(user, OPERATOR):
        raise CredentialError("Only an operator or an admin can choose a node's credential.")
    current = NodeCredential.objects.filter(node=node).select_related("credential").first()
    old_name = current.credential.name if current else None
    new_name = credential.name if credential else None
    if old_name == new_name:
        return
    if credential is None:
        assert current is not None
        current.delete()
    else:
        NodeCredential.objects.update_or_create(node=node, defaults={"credential": credential,
                                                                     "chosen_by": user.get_username()})
    locked = Node.objects.select_for_update().get(pk=node.pk)  # the key as it is now, not as the page read it
    had_own = bool(locked.sealed)
    approved = f"{locked.host_key_type} {locked.host_key_fingerprint}" if locked.has_approved_key else None
    fields: dict[str, Any] = {"address_changed_by": user.get_username()}
    if credential:
        fields["sealed"] = ""
    if credential and approved and not has_role(user, ADMIN):
        fields.update(_key_back_for_approval(locked))
    Node.objects.filter(pk=node.pk).update(**fields)
    for name, value in fields.items():
        setattr(node, name, value)
    extra: dict[str, Any] = {"shared credential": [old_name, new_name]}
    if credential and had_own:
        extra["credential"] = ["(set)", None]
    message = "SSH credential chosen"
    if approved and not node.has_approved_key:
        extra["host_key"] = [approved, None]
        message += ": the host key needs a new approval before it is sent"
    audit_object(node, "update", extra, message=message)


def _key_back_for_approval(node: Node) -> dict[str, Any]:
    """The node's approved key made the scanned one, waiting for approval again (a newer scan that
    differs is kept instead: it is what the approver checks)."""
    waiting = {} if node.scanned_key and node.scanned_key != node.host_key else {
        "scanned_key_type": node.host_key_type, "scanned_key": node.host_key,
        "scanned_fingerprint": node.host_key_fingerprint, "scanned_at": node.scanned_at or node.host_key_approved_at}
    return {**waiting, "host_key_type": "", "host_key": "", "host_key_fingerprint": "", "host_key_approved_at": None,
            "host_key_approved_by": ""}


def _chooser_is_admin(username: str) -> bool:
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    return bool(user and has_role(user, ADMIN))


def shared_refusal(node: Node) -> str:
    """Why the node may not log in with its shared credential now; "" when it may, or when it has none.
    Its host key must have been approved by someone other than the operator who chose the shared
    credential for it (an admin's choice, or an admin's approval, is enough)."""
    link = shared_link(node)
    if link is None or not link.chosen_by or not node.host_key_approved_by:
        return ""
    if link.chosen_by != node.host_key_approved_by or _chooser_is_admin(link.chosen_by):
        return ""
    return (f"{link.chosen_by} chose this node's shared credential and approved its host key: someone else "
            "(or an admin) must approve the host key before the shared credential is sent. Nothing was sent.")


def shared_link(node: Node) -> NodeCredential | None:
    """The node's link to its shared credential (with the credential), or None. Taken from the node when
    it was loaded with it (`Node.objects.select_related(WITH_LOGIN)`: a push reads the links of all its
    nodes in one query, instead of two queries and a database connection in each node's thread); else
    read now."""
    if Node.shared_credential.is_cached(node):
        return getattr(node, "shared_credential", None)  # None cached: the node has no link
    return NodeCredential.objects.filter(node_id=node.pk).select_related("credential").first()


def login_for(node: Node) -> Login | None:
    """The node's shared credential, else its own; None when it has neither."""
    link = shared_link(node)
    if link is not None:
        value, passphrase = link.credential.unseal_value()
        return Login(link.credential.kind, value, passphrase, shared=link.credential.name)
    if node.sealed:
        return Login(node.credential_kind, node.unseal_credential())
    return None


def jump_host_names(credential: SharedCredential) -> list[str]:
    """The jump hosts that log in with `credential`, by name."""
    return sorted(JumpHost.objects.filter(credential=credential).values_list("name", flat=True))
