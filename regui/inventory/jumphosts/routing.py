"""Which jump host a node is reached through, and whether regui may go through it now.

Read at every connection by the one gate (inventory/trust.py and services.node_target), so a change
of jump host, of its key or of its credential reaches every node at its next connection."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Model

from regui.inventory.models import Node
from regui.remote import ssh

from .models import ClusterJumpHost, JumpHost, NodeJumpHost

# What `jump_for` reads, for `Node.objects.select_related(*WITH_JUMP)`: a push loads it with its nodes
# in one query, instead of queries (and a database connection) in each node's thread.
JUMP = "jump_host_link__jump_host__credential"  # from a Node or from a Cluster: both name their link so
WITH_JUMP = (JUMP, f"cluster__{JUMP}")


def _loaded(obj: Model, relation: str) -> bool:
    """Whether `obj` came with its reverse one-to-one `relation` (select_related), found or not."""
    return relation in obj._state.fields_cache


def jump_for(node: Node) -> JumpHost | None:
    """The node's own choice (a jump host, or none), else its cluster's, else none. Taken from the node
    when it was loaded with WITH_JUMP; else read now."""
    if _loaded(node, "jump_host_link"):
        link: NodeJumpHost | None = getattr(node, "jump_host_link", None)  # None cached: no choice of its own
    else:
        link = NodeJumpHost.objects.filter(node_id=node.pk).select_related("jump_host__credential").first()
    if link is not None:
        return link.jump_host
    if Node.cluster.is_cached(node) and _loaded(node.cluster, "jump_host_link"):
        cluster_link: ClusterJumpHost | None = getattr(node.cluster, "jump_host_link", None)
    else:
        cluster_link = (ClusterJumpHost.objects.filter(cluster_id=node.cluster_id)
                        .select_related("jump_host__credential").first())
    return cluster_link.jump_host if cluster_link else None


def jump_refusal(jump: JumpHost, approvers: str) -> str:
    """Why nothing may go through the jump host now ("" when it may); `approvers` in words (trust.py)."""
    if not jump.has_approved_key:
        return (f"the node is reached through jump host {jump.name}, which has no approved host key: scan its key "
                f"on the Jump hosts page and have {approvers} approve it. Nothing was sent.")
    return ""


def jump_ssh(jump: JumpHost) -> ssh.Jump:
    """What the SSH layer needs of the jump host: where, its pinned key, and its credential (read now)."""
    value, passphrase = jump.credential.unseal_value()
    key = jump.credential.kind == jump.credential.Kind.KEY
    return ssh.Jump(jump.name, ssh.Target(
        address=jump.address, port=jump.port, username=jump.ssh_user,
        host_key=ssh.HostKey(jump.host_key_type, jump.host_key) if jump.has_approved_key else None,
        private_key=value if key else "", password="" if key else value, passphrase=passphrase if key else ""),
        handshakes=settings.REGUI_JUMP_HANDSHAKES, places_dir=str(settings.REGUI_JUMP_PLACES_DIR))
