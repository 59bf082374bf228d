"""Host keys in bulk (issue 11 item 11): scan every unscanned node of a cluster; approve host keys
from pasted `known_hosts` / `ssh-keyscan` lines.

A pasted line approves nothing by itself: it is compared with the key regui scanned from the node
(matched by address and port), and only a scanned key that equals a pasted one is approved, through
`node_approve_host_key` (the same approval rules and history entry as the node page's button).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from regui.registries.models import Cluster
from regui.remote import ssh

from .jumphosts.models import JumpHost
from .models import Node
from .services import NodeError, host_key_fetch, node_approve_host_key, node_target, scanned_key_record

MAX_LINES = 5000


@dataclass(frozen=True)
class KnownKey:
    line: int
    hosts: tuple[str, ...]  # as written: "10.0.0.1", "[10.0.0.1]:2222", "|1|salt|hash"
    type: str
    key: str

    @property
    def fingerprint(self) -> str:
        return ssh.fingerprint(self.key)

    def names(self, address: str, port: int) -> bool:
        """Whether this line is for address:port (hashed hostnames too; wildcards never match)."""
        wanted = address if port == 22 else f"[{address}]:{port}"
        for host in self.hosts:
            if host.startswith("|1|"):
                try:
                    _, _, salt, digest = host.split("|", 3)
                    mac = hmac.new(base64.b64decode(salt), wanted.encode(), hashlib.sha1).digest()
                    if hmac.compare_digest(mac, base64.b64decode(digest)):
                        return True
                except (ValueError, binascii.Error):
                    continue
            elif host.lower() == wanted.lower() or (port == 22 and host.lower() == f"[{address}]:22".lower()):
                return True
        return False


def parse_known_hosts(text: str) -> tuple[list[KnownKey], list[str]]:
    """`known_hosts` or `ssh-keyscan` lines: `hosts type base64 [comment]`. Comments and blank lines are
    skipped; `@cert-authority` / `@revoked` lines are not host keys and are reported, as are bad lines."""
    keys, problems = [], []
    for number, raw in enumerate(text.splitlines()[:MAX_LINES], 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if parts[0].startswith("@"):
            problems.append(f"line {number}: {parts[0]} lines are not host keys; skipped")
            continue
        if len(parts) < 3:
            problems.append(f"line {number}: expected `host key-type base64-key`, got {line[:80]!r}")
            continue
        hosts, key_type, key = parts[0], parts[1], parts[2]
        try:
            base64.b64decode(key, validate=True)
        except (ValueError, binascii.Error):
            problems.append(f"line {number}: the key of {hosts[:60]} is not base64")
            continue
        keys.append(KnownKey(number, tuple(h for h in hosts.split(",") if h), key_type, key))
    if len(text.splitlines()) > MAX_LINES:
        problems.append(f"only the first {MAX_LINES} lines were read")
    return keys, problems


@dataclass
class Mismatch:
    node: Node
    scanned: str  # "type fingerprint" regui scanned
    pasted: list[str]  # "type fingerprint" of each pasted line for the node


@dataclass
class ApprovalReport:
    approved: list[Node] = field(default_factory=list)
    already: list[Node] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)
    unscanned: list[Node] = field(default_factory=list)  # lines for it, but no scanned key to compare
    missing: list[Node] = field(default_factory=list)  # no line for it
    refused: list[tuple[Node, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    unmatched: list[int] = field(default_factory=list)  # line numbers naming no node of the cluster
    jump_hosts: list[tuple[int, JumpHost]] = field(default_factory=list)  # (line, the cluster's jump host it names)


def approve_from_known_hosts(*, cluster: Cluster, text: str, user: Any) -> ApprovalReport:
    """Approve each node's scanned key that a pasted line holds for its address and port."""
    keys, problems = parse_known_hosts(text)
    report = ApprovalReport(problems=problems)
    used: set[int] = set()
    for node in cluster.nodes.order_by("name"):
        mine = [k for k in keys if k.names(node.address, node.port)]
        used.update(k.line for k in mine)
        if not mine:
            report.missing.append(node)
            continue
        if not node.scanned_key:
            if node.has_approved_key and any(k.key == node.host_key for k in mine):
                report.already.append(node)
            else:
                report.unscanned.append(node)
            continue
        if not any(k.type == node.scanned_key_type and k.key == node.scanned_key for k in mine):
            report.mismatches.append(Mismatch(node, f"{node.scanned_key_type} {node.scanned_fingerprint}",
                                              [f"{k.type} {k.fingerprint}" for k in mine]))
            continue
        if node.has_approved_key and node.host_key == node.scanned_key:
            report.already.append(node)
            continue
        try:
            node_approve_host_key(node=node, fingerprint=node.scanned_fingerprint, user=user)
        except NodeError as exc:
            report.refused.append((node, str(exc)))
        else:
            report.approved.append(node)
    rest = [k for k in keys if k.line not in used]
    # A jump host's key has its own page and approval rule: named here, approved there, never from this page.
    jumps = _jump_hosts_of(cluster) if rest else []
    for k in rest:
        jump = next((j for j in jumps if k.names(j.address, j.port)), None)
        if jump is not None:
            report.jump_hosts.append((k.line, jump))
        else:
            report.unmatched.append(k.line)
    return report


def _jump_hosts_of(cluster: Cluster) -> list[JumpHost]:
    """The jump hosts the cluster's nodes go through: the cluster's, and nodes' own choices."""
    return list(JumpHost.objects.filter(Q(cluster_links__cluster=cluster) | Q(node_links__node__cluster=cluster))
                .distinct().order_by("name"))


SCAN_BATCH = 20  # nodes per click, all at once: one connect timeout (10 s) bounds the request


@dataclass
class ScanReport:
    scanned: list[tuple[Node, ssh.HostKey]] = field(default_factory=list)
    failed: list[tuple[Node, str]] = field(default_factory=list)
    left: int = 0  # unscanned nodes beyond this batch: scan again
    last: str = ""  # the batch's last node: the next press goes on after it


def unscanned_nodes(cluster: Cluster) -> list[Node]:
    """Nodes with neither a scanned nor an approved host key."""
    return list(cluster.nodes.filter(scanned_key="", host_key="").order_by("name"))


def scan_unscanned(*, cluster: Cluster, batch: int | None = None, after: str = "") -> ScanReport:
    """Scan the unscanned nodes (up to `batch` of them, at the same time) through the scan path of the
    trust gate (`node_target(scan=True)`: no credential is sent). The gate and the records run here;
    only the network part runs in threads, which touch no database. Unreachable nodes are listed.
    `after`: the name the batch before ended on; unreachable nodes stay unscanned, and each batch
    starting from the first name would try them again and never reach the others. Past the last
    unscanned node (the others were scanned meanwhile, or the field was forged) it starts over at the
    first: no press may end with nothing tried while some node has no key."""
    batch = batch or SCAN_BATCH
    report = ScanReport()
    unscanned = cluster.nodes.filter(scanned_key="", host_key="").order_by("name")
    # Compared by the database, in the collation that orders the names (en_US, ICU: 'a1' < 'B2', not so
    # in Python), so a press goes on where the one before ended. A NUL no name holds, PostgreSQL refuses.
    todo = list(unscanned.filter(name__gt=after.replace("\x00", ""))) if after else []
    if not todo:
        todo = list(unscanned)
    report.left = max(0, len(todo) - batch)
    report.last = todo[:batch][-1].name if todo else ""
    targets: list[tuple[Node, ssh.Target]] = []
    for node in todo[:batch]:
        try:
            targets.append((node, node_target(node, scan=True)))
        except NodeError as exc:
            report.failed.append((node, str(exc)))
    if not targets:
        return report
    with ThreadPoolExecutor(max_workers=len(targets)) as pool:
        futures = [(node, target, pool.submit(host_key_fetch, target)) for node, target in targets]
        for node, target, future in futures:
            try:
                key = future.result()
                scanned_key_record(node, target, key)
            except NodeError as exc:
                report.failed.append((node, str(exc)))
            else:
                report.scanned.append((node, key))
    return report
