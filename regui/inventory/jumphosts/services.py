"""Jump hosts: made, changed, deleted and chosen (for a cluster or a node) by admins only, since each
of these routes an SSH credential to a host; scanned by operators (a scan sends nothing); their host
keys approved under the same rule as a node's (REGUI_HOST_KEY_APPROVAL). Every change is in history."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from regui.audit.services import audit_change, audit_delete, audit_object, audit_snapshot
from regui.core.roles import ADMIN, OPERATOR, has_role
from regui.inventory.models import Node
from regui.inventory.pinning import host_key_approve
from regui.inventory.trust import TWO_PERSON
from regui.registries.models import Cluster
from regui.remote import ssh, transport

from .models import ClusterJumpHost, JumpHost, NodeJumpHost

MOVED = "address or port changed: the approved host key was dropped (the jump host's key needs a new approval)"
CLUSTERS = ":cluster"  # a node's choice: its cluster's jump host, if any (not a slug: never a jump host's name)


class JumpHostError(Exception):
    pass


def _admin_only(user: Any, what: str) -> None:
    if not has_role(user, ADMIN):
        raise JumpHostError(f"Only an admin can {what}: it routes an SSH credential to a host.")


@transaction.atomic
def jump_host_save(*, form: Any, user: Any) -> JumpHost:
    """Create or change a jump host from its form; moving it drops its approved key (the model does)."""
    _admin_only(user, "add or change a jump host")
    old = JumpHost.objects.get(pk=form.instance.pk) if form.instance.pk else None
    before = audit_snapshot(old) if old else None
    moved = form.instance.target_changed
    jump: JumpHost = form.save()
    extra = {"host_key": [f"{old.host_key_type} {old.host_key_fingerprint}", None]} if moved and old and old.host_key else {}
    audit_change(jump, before, extra, message=MOVED if moved else "")
    return jump


def jump_host_users(jump: JumpHost) -> tuple[list[Cluster], list[Node]]:
    """The clusters and the nodes that name it."""
    clusters = [link.cluster for link in jump.cluster_links.select_related("cluster").order_by("cluster__name")]
    nodes = [link.node for link in jump.node_links.select_related("node__cluster").order_by("node__cluster__name",
                                                                                              "node__name")]
    return clusters, nodes


@transaction.atomic
def jump_host_delete(*, jump: JumpHost, user: Any) -> None:
    _admin_only(user, "delete a jump host")
    clusters, nodes = jump_host_users(jump)
    if clusters or nodes:
        names = [f"cluster {c.name}" for c in clusters] + [f"node {n.cluster.name}/{n.name}" for n in nodes]
        raise JumpHostError(f"{jump.name} is used by {', '.join(names)}: choose another jump host for them first.")
    audit_delete(jump)
    jump.delete()


def jump_host_scan(*, jump: JumpHost) -> ssh.HostKey:
    """Read the key the jump host presents now and keep it for someone allowed to approve it. Straight to
    it, with no credential: a jump host is not reached through another."""
    address, port = jump.address, jump.port
    try:
        key = transport.current().scan_host_key(address, port, timeout=settings.REGUI_SSH_CONNECT_TIMEOUT)
    except ssh.SSHError as exc:
        raise JumpHostError(f"jump host {jump.name} ({address}:{port}): {exc}") from None
    scanned = {"scanned_key_type": key.type, "scanned_key": key.key, "scanned_fingerprint": key.fingerprint,
               "scanned_at": timezone.now()}
    # Only while it still points where it was scanned: a key of the old address must not wait for approval.
    if not JumpHost.objects.filter(pk=jump.pk, address=address, port=port).update(**scanned):
        raise JumpHostError("The jump host's address or port changed during the scan: scan again.")
    for name, value in scanned.items():
        setattr(jump, name, value)
    return key


def jump_approval_refusal(jump: JumpHost, user: Any) -> str:
    """Why `user` may not approve the jump host's key; "" when they may. The rule of a node's key
    (trust.approval_refusal): an admin, or under two-person approval an operator other than the admin
    who set its address."""
    if has_role(user, ADMIN):
        return ""
    if settings.REGUI_HOST_KEY_APPROVAL != TWO_PERSON:
        return ("Only an admin can approve a jump host's key: approving it lets regui send the jump host its "
                "credential and reach nodes through it.")
    if not has_role(user, OPERATOR):
        return "Only an operator or an admin can approve a host key."
    if not jump.address_changed_by:
        return "regui does not know who set this jump host's address, so only an admin can approve its key."
    if jump.address_changed_by == user.get_username():
        return "You set this jump host's address: another operator or an admin must approve its key."
    return ""


def jump_host_approve(*, jump: JumpHost, fingerprint: str, user: Any) -> None:
    """Pin the jump host's scanned key, if `user` may (jump_approval_refusal); see pinning.host_key_approve."""
    host_key_approve(host=jump, fingerprint=fingerprint, user=user, refusal=jump_approval_refusal,
                     error=JumpHostError)


def cluster_jump_host(cluster: Cluster) -> JumpHost | None:
    link = ClusterJumpHost.objects.filter(cluster=cluster).select_related("jump_host").first()
    return link.jump_host if link else None


@transaction.atomic
def cluster_use_jump_host(*, cluster: Cluster, jump: JumpHost | None, user: Any) -> None:
    """Reach the cluster's nodes through `jump` (None: directly), except nodes that name their own."""
    _admin_only(user, "choose a cluster's jump host")
    old = cluster_jump_host(cluster)
    if old == jump:
        return
    if jump is None:
        ClusterJumpHost.objects.filter(cluster=cluster).delete()
    else:
        ClusterJumpHost.objects.update_or_create(cluster=cluster, defaults={"jump_host": jump,
                                                                            "chosen_by": user.get_username()})
    audit_object(cluster, "update", {"jump host": [old.name if old else None, jump.name if jump else None]},
                 message="jump host chosen for the cluster's nodes")


def node_jump_choice(node: Node) -> str | JumpHost | None:
    """The node's own choice: CLUSTERS (its cluster's), None (directly) or a jump host."""
    link = NodeJumpHost.objects.filter(node_id=node.pk).select_related("jump_host").first()
    return CLUSTERS if link is None else link.jump_host


def describe_choice(node: Node, choice: str | JumpHost | None) -> str:
    if choice == CLUSTERS:
        jump = cluster_jump_host(node.cluster)
        return f"the cluster's ({jump.name if jump else 'none'})"
    return choice.name if isinstance(choice, JumpHost) else "none (directly)"


@transaction.atomic
def node_use_jump_host(*, node: Node, choice: str | JumpHost | None, user: Any) -> None:
    """The node is reached through its cluster's jump host (CLUSTERS), directly (None) or through `choice`."""
    _admin_only(user, "choose a node's jump host")
    old = node_jump_choice(node)
    if old == choice:
        return
    if choice == CLUSTERS:
        NodeJumpHost.objects.filter(node=node).delete()
    else:
        NodeJumpHost.objects.update_or_create(node=node, defaults={
            "jump_host": choice if isinstance(choice, JumpHost) else None, "chosen_by": user.get_username()})
    audit_object(node, "update", {"jump host": [describe_choice(node, old), describe_choice(node, choice)]},
                 message="jump host chosen")
