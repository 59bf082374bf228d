"""Importing nodes: the candidates read from an inventory or kubectl's JSON (inventory_files.py) checked
against the cluster (names and addresses it has, hosts of other clusters, jump hosts), shown before
anything is saved, then added with one credential and history entries."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from regui.audit import context as audit_context
from regui.core.roles import ADMIN, has_role
from regui.inventory.jumphosts.models import JumpHost
from regui.inventory.jumphosts.services import cluster_jump_host, node_use_jump_host
from regui.registries.models import Cluster

from .inventory_files import PARSERS, Parsed, detect, jump_address
from .models import Node
from .services import nodes_record_added


def nodes_parse(*, cluster: Cluster, text: str, format: str = "auto") -> Parsed:
    """What an import would add: the candidates, the lines or hosts it leaves out and why, and the
    nodes already in the cluster (by name or by address and port)."""
    parsed = PARSERS[detect(text) if format == "auto" else format](text)
    if not text.strip():
        parsed.problems.append("Paste an inventory or the JSON of `kubectl get nodes -o json`.")
    existing = list(cluster.nodes.values_list("name", "address", "port"))
    names, targets = {n for n, _, _ in existing}, {(a, p): n for n, a, p in existing}
    kept, seen_names, seen_targets = [], set(), set()
    for c in parsed.nodes:
        if c.name in names or (c.address, c.port) in targets:
            parsed.skipped.append(f"{c.name} ({c.address}:{c.port}) is already a node of {cluster.name}"
                                  + (f" ({targets[(c.address, c.port)]})" if (c.address, c.port) in targets
                                     and c.name not in names else ""))
        elif c.name in seen_names or (c.address, c.port) in seen_targets:
            parsed.problems.append(f"{c.origin}: {c.name} ({c.address}:{c.port}) appears more than once: "
                                   "the first is kept")
        else:
            kept.append(c)
            seen_names.add(c.name)
            seen_targets.add((c.address, c.port))
    parsed.nodes = kept
    _jump_hosts(cluster, parsed)
    _elsewhere(cluster, parsed)
    return parsed


def _elsewhere(cluster: Cluster, parsed: Parsed) -> None:
    """Candidates at the address and port of a node of another cluster: both clusters would push their own
    registries.yaml to that host, each undoing the other's."""
    wanted = {(c.address, c.port): c for c in parsed.nodes}
    others = (Node.objects.exclude(cluster=cluster).filter(address__in={a for a, _ in wanted})
              .select_related("cluster").order_by("cluster__name", "name"))
    for node in others:
        if (c := wanted.get((node.address, node.port))) is not None:
            parsed.elsewhere.append(f"{c.name} ({c.address}:{c.port}) is node {node.name} of cluster "
                                    f"{node.cluster.name}: each cluster's push would replace the other's file")


def _jump_hosts(cluster: Cluster, parsed: Parsed) -> None:
    """Match each candidate's ProxyJump to a jump host of regui by address and port; say when none is."""
    for c in parsed.nodes:
        if c.proxy_jump:
            host, port = jump_address(c.proxy_jump)
            if jump := JumpHost.objects.filter(address=host, port=port).first():
                c.jump_host = jump.name
            else:
                parsed.notes.append(f"{c.origin}: {c.name}: ProxyJump {c.proxy_jump} is no jump host of regui "
                                       "(an admin adds it on the Jump hosts page): added without one")


@transaction.atomic
def nodes_import(*, cluster: Cluster, text: str, format: str, ssh_user: str, use_sudo: bool,
                 credential_kind: str = Node.Credential.KEY, credential: str = "", shared: Any = None,
                 user: Any = None) -> list[Node]:
    """Add what `nodes_parse` finds (parsed again: the preview is not trusted), with the shared credential,
    or the typed one, or none (each node's must then be entered on its page). A node's ProxyJump names
    its jump host only when `user` is an admin (choosing one routes a credential to a host)."""
    parsed = nodes_parse(cluster=cluster, text=text, format=format)
    nodes = []
    for c in parsed.nodes:
        node = Node(cluster=cluster, name=c.name, address=c.address, port=c.port, role=c.role,
                    ssh_user=c.ssh_user or ssh_user, use_sudo=use_sudo and (c.ssh_user or ssh_user) != "root",
                    credential_kind=credential_kind, address_changed_by=audit_context.current().username)
        if credential and shared is None:
            node.seal_credential(credential)
        nodes.append(node)
    added = nodes_record_added(cluster, nodes, shared, message=f"imported from {parsed.format_label}",
                               credential_set=bool(credential and shared is None))
    _choose_jump_hosts(cluster, parsed, user)
    return added


def _choose_jump_hosts(cluster: Cluster, parsed: Parsed, user: Any) -> None:
    wanted = {c.name: c.jump_host for c in parsed.nodes if c.jump_host}
    if not wanted or not has_role(user, ADMIN):
        return
    clusters = cluster_jump_host(cluster)
    jumps = {j.name: j for j in JumpHost.objects.filter(name__in=set(wanted.values()))}
    for node in cluster.nodes.filter(name__in=list(wanted)):
        if (jump := jumps.get(wanted[node.name])) is not None and jump != clusters:
            node_use_jump_host(node=node, choice=jump, user=user)
