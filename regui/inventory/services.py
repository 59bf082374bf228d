"""Nodes: credentials, host-key pinning, bulk add, reading a node's current file."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from regui.audit.services import audit_change, audit_delete, audit_object, audit_snapshot, sealed_change
from regui.registries.models import Cluster
from regui.remote import ssh, transport
from regui.remote.script import read_program

from .models import Node


def node_save(*, form) -> Node:
    """Create or update a node from its form, recording the change (the credential only as changed)."""
    before = audit_snapshot(Node.objects.get(pk=form.instance.pk)) if form.instance.pk else None
    node = form.save()
    sealed = {"credential": sealed_change(before is not None)} if form.cleaned_data.get("credential") else {}
    audit_change(node, before, sealed)
    return node


def node_delete(*, node: Node) -> None:
    audit_delete(node)
    node.delete()


class NodeError(Exception):
    pass


def node_target(node: Node) -> ssh.Target:
    key = ssh.HostKey(node.host_key_type, node.host_key) if node.has_approved_key else None
    secret = node.unseal_credential()
    return ssh.Target(
        address=node.address, port=node.port, username=node.ssh_user, host_key=key,
        private_key=secret if node.credential_kind == Node.Credential.KEY else "",
        password=secret if node.credential_kind == Node.Credential.PASSWORD else "",
        use_sudo=node.use_sudo,
    )


def node_scan_host_key(*, node: Node) -> ssh.HostKey:
    """Fetch the key the node presents now and keep it for an operator to approve."""
    try:
        key = transport.current().scan_host_key(node.address, node.port,
                                                timeout=settings.REGUI_SSH_CONNECT_TIMEOUT)
    except ssh.SSHError as exc:
        raise NodeError(str(exc)) from None
    node.scanned_key_type, node.scanned_key = key.type, key.key
    node.scanned_fingerprint, node.scanned_at = key.fingerprint, timezone.now()
    node.save(update_fields=["scanned_key_type", "scanned_key", "scanned_fingerprint", "scanned_at"])
    return key


def node_approve_host_key(*, node: Node, fingerprint: str, user=None) -> None:
    """Pin the scanned key; the operator confirms the fingerprint they saw, so a rescan in between
    cannot slip a different key in."""
    if not node.scanned_key or node.scanned_fingerprint != fingerprint:
        raise NodeError("The key shown is no longer the scanned one: scan again and check the fingerprint.")
    previous = f"{node.host_key_type} {node.host_key_fingerprint}" if node.host_key else None
    node.host_key_type, node.host_key = node.scanned_key_type, node.scanned_key
    node.host_key_fingerprint = node.scanned_fingerprint
    node.host_key_approved_at = timezone.now()
    node.host_key_approved_by = getattr(user, "username", "") or ""
    node.save(update_fields=["host_key_type", "host_key", "host_key_fingerprint", "host_key_approved_at",
                             "host_key_approved_by"])
    audit_object(node, "approve_key", {"host_key": [previous, f"{node.host_key_type} {node.host_key_fingerprint}"]})


def node_forget_host_key(*, node: Node) -> None:
    node.host_key_type = node.host_key = node.host_key_fingerprint = ""
    node.host_key_approved_at = None
    node.host_key_approved_by = ""
    node.save()


_LINE = re.compile(r"(?P<name>[A-Za-z0-9_-]+)\s+(?P<address>\[[^\]]+\]|[^\s:]+)(?::(?P<port>\d+))?\s+(?P<role>server|agent)")


@dataclass
class BulkLine:
    number: int
    name: str
    address: str
    port: int
    role: str


def parse_bulk(text: str) -> tuple[list[BulkLine], list[str]]:
    """`name address[:port] role` per line; blank lines and `#` comments are skipped."""
    lines, errors = [], []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        m = _LINE.fullmatch(line)
        if not m:
            errors.append(f"line {number}: expected `name address[:port] server|agent`, got {raw.strip()!r}")
            continue
        port = int(m["port"] or 22)
        if not 1 <= port <= 65535:
            errors.append(f"line {number}: port {port} is out of range")
            continue
        name_max, address_max = (Node._meta.get_field(f).max_length for f in ("name", "address"))
        if len(m["name"]) > name_max or len(m["address"]) > address_max:
            errors.append(f"line {number}: a name has {name_max} characters at most, an address {address_max}")
            continue
        lines.append(BulkLine(number, m["name"], m["address"].strip("[]"), port, m["role"]))
    names = [ln.name for ln in lines]
    errors += [f"name {n!r} appears more than once" for n in sorted({n for n in names if names.count(n) > 1})]
    return lines, errors


@transaction.atomic
def nodes_bulk_create(*, cluster: Cluster, text: str, ssh_user: str, credential_kind: str, credential: str,
                      use_sudo: bool) -> list[Node]:
    lines, errors = parse_bulk(text)
    taken = set(cluster.nodes.filter(name__in=[ln.name for ln in lines]).values_list("name", flat=True))
    errors += [f"line {ln.number}: node {ln.name!r} already exists" for ln in lines if ln.name in taken]
    if not lines and not errors:
        errors.append("Paste at least one line.")
    if errors:
        raise NodeError("\n".join(errors))
    nodes = []
    for ln in lines:
        node = Node(cluster=cluster, name=ln.name, address=ln.address, port=ln.port, role=ln.role,
                    ssh_user=ssh_user, credential_kind=credential_kind, use_sudo=use_sudo)
        node.seal_credential(credential)
        nodes.append(node)
    created = Node.objects.bulk_create(nodes)
    for node in Node.objects.filter(cluster=cluster, name__in=[n.name for n in nodes]):
        audit_change(node, None, {"credential": sealed_change(False)}, message="bulk add")
    return created


def node_read_registries(*, node: Node) -> str:
    """The node's current registries.yaml, for the import flow."""
    target = node_target(node)
    try:
        session = transport.current().connect(target, timeout=settings.REGUI_SSH_CONNECT_TIMEOUT,
                                              retries=settings.REGUI_SSH_RETRIES,
                                              backoff=settings.REGUI_SSH_BACKOFF)
        try:
            out = session.run(ssh.as_root(target, "sh -s"), read_program(node.cluster.registries_path).encode(),
                              timeout=settings.REGUI_SSH_COMMAND_TIMEOUT)
        finally:
            session.close()
    except ssh.SSHError as exc:
        raise NodeError(str(exc)) from None
    if out.status == 2 and "REGUI-MISSING" in out.stderr:
        raise NodeError(f"{node.name} has no {node.cluster.registries_path}.")
    if out.status != 0:
        raise NodeError(f"reading {node.cluster.registries_path} failed: {out.stderr.strip()[-300:]}")
    return out.stdout
