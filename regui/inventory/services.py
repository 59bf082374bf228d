"""Nodes: credentials, host-key pinning, bulk add, reading a node's current file."""

from __future__ import annotations

import re
import sys
from collections import Counter
from dataclasses import dataclass
from typing import cast

from django.conf import settings
from django.db import transaction
from django.db.models import CharField
from django.utils import timezone

from regui.audit import context as audit_context
from regui.audit.services import audit_change, audit_delete, audit_snapshot, sealed_change
from regui.core.crypto import KeyringError
from regui.inventory.credentials.models import NodeCredential, SharedCredential
from regui.inventory.credentials.services import login_for
from regui.inventory.jumphosts.routing import jump_for, jump_ssh
from regui.registries.models import Cluster
from regui.remote import ssh, transport
from regui.remote.script import read_program

from .addresses import address_problem
from .models import Node
from .pinning import host_key_approve
from .trust import approval_refusal, connect_refusal

MOVED = ("address, port or SSH user changed: the stored credential and the approved host key were dropped "
         "(a new credential was entered; the host key needs a new approval)")


def node_save(*, form) -> Node:
    """Create or update a node from its form, recording the change (the credential only as changed).
    Pointing a node elsewhere drops its host key (the model does that; the form asks for a credential)."""
    old = Node.objects.get(pk=form.instance.pk) if form.instance.pk else None
    before = audit_snapshot(old) if old else None
    moved = form.instance.target_changed
    node = form.save()
    extra = {"credential": sealed_change(before is not None)} if form.cleaned_data.get("credential") else {}
    if extra and old is not None:  # a credential typed for the node makes it its own again
        link = NodeCredential.objects.filter(node=node).select_related("credential").first()
        if link is not None:
            extra["shared credential"] = [link.credential.name, None]
            link.delete()
    if moved and old is not None and old.host_key:
        extra["host_key"] = [f"{old.host_key_type} {old.host_key_fingerprint}", None]
    audit_change(node, before, extra, message=MOVED if moved else "")
    return node


def nodes_file_moved(*, cluster: Cluster) -> int:
    """The cluster's file is at another path now (its distro changed): no node is known to hold it there,
    so each is "never pushed" until a push or a drift check reads it (they kept the old path's state:
    in sync, and a push planned no change)."""
    return cluster.nodes.update(sync_state=Node.Sync.NEVER, last_sha256="", last_sync_key="")


def node_delete(*, node: Node) -> None:
    audit_delete(node)
    node.delete()


class NodeError(Exception):
    pass


def node_target(node: Node, *, scan: bool = False) -> ssh.Target:
    """Where and how to connect to the node: the one gate before any connection (push, drift check,
    import from the node, scan). Raises NodeError instead of connecting to a host nobody allowed to
    trust it did trust; a scan's target carries no credential and no key."""
    if refusal := connect_refusal(node, scan=scan):
        raise NodeError(refusal)
    jump = jump_for(node)
    try:
        via = jump_ssh(jump) if jump is not None and jump.has_approved_key else None
        # The node's shared credential (shared_refusal above) or its own: read now, so a rotation reaches
        # every node at its next connection.
        login = None if scan else login_for(node)
    except KeyringError as exc:  # a key dropped from the ring: this node's failure, said as it is
        raise NodeError(f"{exc} Nothing was sent.") from None
    if scan:
        return ssh.Target(address=node.address, port=node.port, username=node.ssh_user, host_key=None, jump=via,
                          name=node.name)
    key = ssh.HostKey(node.host_key_type, node.host_key)
    if login is None:  # removed since the check
        raise NodeError("no stored credential: edit the node and enter it again. Nothing was sent.")
    return ssh.Target(
        address=node.address, port=node.port, username=node.ssh_user, host_key=key,
        private_key=login.value if login.kind == Node.Credential.KEY else "",
        password=login.value if login.kind == Node.Credential.PASSWORD else "",
        passphrase=login.passphrase if login.kind == Node.Credential.KEY else "",
        use_sudo=node.use_sudo, jump=via, name=node.name,
    )


def node_scan_host_key(*, node: Node) -> ssh.HostKey:
    """Fetch the key the node presents now and keep it for someone allowed to approve it."""
    target = node_target(node, scan=True)
    key = host_key_fetch(target)
    scanned_key_record(node, target, key)
    return key


def host_key_fetch(target: ssh.Target) -> ssh.HostKey:
    """The key the target presents now (no database: scans in bulk run this in threads)."""
    timeout = settings.REGUI_SSH_CONNECT_TIMEOUT
    try:
        if target.jump is not None:  # through the node's jump host
            return transport.current().scan_host_key(target.address, target.port, timeout=timeout, jump=target.jump)
        return transport.current().scan_host_key(target.address, target.port, timeout=timeout)
    except ssh.SSHError as exc:
        raise NodeError(str(exc)) from None


def scanned_key_record(node: Node, target: ssh.Target, key: ssh.HostKey) -> None:
    """Keep the key scanned from `target` for someone allowed to approve it."""
    scanned = {"scanned_key_type": key.type, "scanned_key": key.key, "scanned_fingerprint": key.fingerprint,
               "scanned_at": timezone.now()}
    # Only while the node still points where it was scanned: a key of the old address must not
    # wait for approval beside a new one.
    if not Node.objects.filter(pk=node.pk, address=target.address, port=target.port).update(**scanned):
        raise NodeError("The node's address or port changed during the scan: scan again.")
    for name, value in scanned.items():
        setattr(node, name, value)


def node_approve_host_key(*, node: Node, fingerprint: str, user) -> None:
    """Pin the node's scanned key, if `user` may (trust.approval_refusal); see pinning.host_key_approve."""
    host_key_approve(host=node, fingerprint=fingerprint, user=user, refusal=approval_refusal, error=NodeError)


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
            errors.append(f"line {number}: {_line_problem(line)}")
            continue
        port = int(m["port"] or 22)
        if not 1 <= port <= 65535:
            errors.append(f"line {number}: port {port} is out of range")
            continue
        name_max, address_max = (cast(CharField, Node._meta.get_field(f)).max_length or 0 for f in ("name", "address"))
        if len(m["name"]) > name_max or len(m["address"]) > address_max:
            errors.append(f"line {number}: a name has {name_max} characters at most, an address {address_max}")
            continue
        if problem := address_problem(m["address"].strip("[]")):
            errors.append(f"line {number}: address {m['address']!r}: {problem}")
            continue
        lines.append(BulkLine(number, m["name"], m["address"].strip("[]"), port, m["role"]))
    names = Counter(ln.name for ln in lines)
    errors += [f"name {n!r} appears more than once" for n in sorted(n for n, count in names.items() if count > 1)]
    targets = Counter((ln.address, ln.port) for ln in lines)
    errors += [f"{a}:{p} appears more than once (one host, one node)"
               for a, p in sorted(t for t, count in targets.items() if count > 1)]
    return lines, errors


def _line_problem(line: str) -> str:
    """Why a line is not `name address[:port] role`: the part that is wrong when the line has the
    three parts (a URL for an address, a role typo), else the expected shape."""
    parts = line.split()
    if len(parts) == 3:
        name, address, role = parts
        host, _, port = address.rpartition(":") if address.count(":") == 1 else (address, "", "")
        if role not in ("server", "agent"):
            return f"the role is server or agent, not {role!r}"
        if problem := address_problem(address if "/" in address else host):  # a URL as a whole
            return f"address {address!r}: {problem}"
        if port and not port.isdigit():
            return f"the port after {host!r} is a number, not {port!r}"
        if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
            return f"a name has letters, digits, '-' and '_' only, not {name!r}"
    return f"expected `name address[:port] server|agent`, got {line!r}"


def _by_line(error: str) -> int:
    """Errors sort by the line they are about; those about several lines come last."""
    m = re.match(r"line (\d+):", error)
    return int(m[1]) if m else sys.maxsize


@transaction.atomic
def nodes_bulk_create(*, cluster: Cluster, text: str, ssh_user: str, credential_kind: str, credential: str,
                      use_sudo: bool, shared: SharedCredential | None = None) -> list[Node]:
    """Add the pasted nodes, each with the typed credential or all with the shared one."""
    lines, errors = parse_bulk(text)
    taken = set(cluster.nodes.filter(name__in=[ln.name for ln in lines]).values_list("name", flat=True))
    errors += [f"line {ln.number}: node {ln.name!r} already exists" for ln in lines if ln.name in taken]
    at = {(n.address, n.port): n.name for n in cluster.nodes.filter(address__in={ln.address for ln in lines})}
    errors += [f"line {ln.number}: {ln.address}:{ln.port} is already node {at[(ln.address, ln.port)]}"
               for ln in lines if (ln.address, ln.port) in at]
    if not lines and not errors:
        errors.append("Paste at least one line.")
    if errors:
        raise NodeError("\n".join(sorted(errors, key=_by_line)))
    nodes = []
    for ln in lines:
        # bulk_create skips Node.save: name who set the addresses here (two-person approval).
        node = Node(cluster=cluster, name=ln.name, address=ln.address, port=ln.port, role=ln.role,
                    ssh_user=ssh_user, credential_kind=credential_kind, use_sudo=use_sudo,
                    address_changed_by=audit_context.current().username)
        if shared is None:
            node.seal_credential(credential)
        nodes.append(node)
    return nodes_record_added(cluster, nodes, shared, message="bulk add")


def nodes_record_added(cluster: Cluster, nodes: list[Node], shared: SharedCredential | None, *,
                       message: str, credential_set: bool = True) -> list[Node]:
    """Save new nodes at once, link them to the shared credential if any, and record each in history."""
    created = Node.objects.bulk_create(nodes)
    saved = list(Node.objects.filter(cluster=cluster, name__in=[n.name for n in nodes]))
    if shared is not None:
        chooser = audit_context.current().username
        NodeCredential.objects.bulk_create(NodeCredential(node=n, credential=shared, chosen_by=chooser)
                                           for n in saved)
    for node in saved:
        extra = ({"shared credential": [None, shared.name]} if shared
                 else {"credential": sealed_change(False)} if credential_set else {})
        audit_change(node, None, extra, message=message)
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
