""""Read settings from a server": the cluster settings regui's engine depends on (the service network's
IP family, --embedded-registry, --disable-default-registry-endpoint), read on one of the cluster's
server nodes instead of only typed, shown next to the cluster's, and applied on request.

Like the node checks it runs in a Celery task (ids only; the task reads the rest itself) over the push's
SSH path: the same trust gate (an approved, pinned host key and a credential, else nothing is sent),
one exec of regui/remote/server_settings.py's program. A person applies what differs, in a request,
with a history entry."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from regui.audit.services import audit_change, audit_snapshot
from regui.inventory.models import Node
from regui.inventory.trust import connect_refusal
from regui.registries.models import Cluster
from regui.remote.server_settings import SETTINGS, parse_settings, settings_program

from .models import SettingsRead
from .services import CheckRefused, _actor, _enqueue, _finish, _NodeFailed, _run_on_node

SETTINGS_TASK = "regui.cluster_settings_read"
LABELS = {"ipv6_primary": "Service network is IPv6 first",
          "embedded_registry": "--embedded-registry",
          "disable_default_registry_endpoint": "--disable-default-registry-endpoint"}
MAX_NAMED = 5  # servers named in a refusal


def settings_server(cluster: Cluster) -> Node:
    """The server node to read on: the first, by name, that regui may connect to (CheckRefused: none)."""
    servers = list(Node.objects.select_related("cluster").filter(cluster=cluster, role=Node.Role.SERVER)
                   .order_by("name"))
    if not servers:
        raise CheckRefused("the cluster has no server node (the settings are read with a server's kubectl and "
                           "config files): add one on the Nodes tab.")
    refusals = []
    for server in servers:
        if not (refusal := connect_refusal(server)):
            return server
        refusals.append(f"{server.name}: {refusal}")
    more = f" (and {len(refusals) - MAX_NAMED} more)" if len(refusals) > MAX_NAMED else ""
    raise CheckRefused("no server node regui may connect to: " + "; ".join(refusals[:MAX_NAMED]) + more)


def settings_read_request(*, cluster: Cluster, user: Any = None) -> SettingsRead:
    """Queue a read on an approved server (refused at once, nothing queued, when there is none). A read
    still queued or running is returned as it is, not queued twice."""
    server = settings_server(cluster)
    with transaction.atomic():
        current = SettingsRead.objects.select_for_update().filter(cluster=cluster).first()
        if current is not None and current.is_active:
            return current
        read, _ = SettingsRead.objects.update_or_create(cluster=cluster, defaults={
            "state": SettingsRead.State.QUEUED, "node": server, "node_name": server.name,
            "requested_by_name": _actor(user), "requested_at": timezone.now(), "finished_at": None,
            "found": {}, "cluster_ip": "", "message": ""})
        _enqueue(SETTINGS_TASK, read.pk)
    return read


def settings_read_run(read_id: int) -> SettingsRead | None:
    """Run the program on the read's server (through the trust gate again: a key unapproved since the
    click sends nothing) and keep what it found; every failure is the read's message."""
    read = SettingsRead.objects.select_related("cluster", "node__cluster").filter(pk=read_id).first()
    if read is None or not read.is_active:
        return read
    read.state = SettingsRead.State.RUNNING
    read.save(update_fields=["state"])
    node, cluster = read.node, read.cluster
    if node is None or node.cluster_id != cluster.pk or node.role != Node.Role.SERVER:
        return _finish(read, SettingsRead.State.FAILED, f"{read.node_name} is no longer a server node of "
                                                        f"{cluster.name}: read again.")
    try:
        stdout = _run_on_node(node, settings_program(cluster.distro), timeout=settings.REGUI_SSH_COMMAND_TIMEOUT)
    except _NodeFailed as exc:
        return _finish(read, SettingsRead.State.FAILED, f"Nothing was read on {node.name}: {exc}")
    report = parse_settings(stdout, cluster.distro)
    found = {name: {"value": f.value, "source": f.source} for name, f in report.found.items()}
    unread = [LABELS[name] for name, f in report.found.items() if f.value is None]
    notes = list(report.errors)
    if unread:
        notes.append(f"Not read: {', '.join(unread)} (see why below); regui keeps the cluster's setting for it.")
    return _finish(read, SettingsRead.State.DONE, "\n".join(notes), found=found, cluster_ip=report.cluster_ip[:64])


@dataclass(frozen=True)
class SettingRow:
    """One setting on the page: the cluster's value next to what the server said."""

    setting: str
    label: str
    current: bool
    found: bool | None  # None: not read (or nothing read yet)
    source: str

    @property
    def differs(self) -> bool:
        return self.found is not None and self.found != self.current


def setting_rows(cluster: Cluster, read: SettingsRead | None) -> list[SettingRow]:
    found = read.found if read is not None and read.state == SettingsRead.State.DONE else {}
    return [SettingRow(name, LABELS[name], bool(getattr(cluster, name)), found.get(name, {}).get("value"),
                       found.get(name, {}).get("source", "")) for name in SETTINGS]


def read_version(read: SettingsRead) -> str:
    """Names one read's findings, so that "Apply" applies the ones the person saw, not a newer read's."""
    stamp = read.finished_at.isoformat() if read.finished_at else ""
    return hashlib.sha256(json.dumps([read.pk, stamp, read.found], sort_keys=True).encode()).hexdigest()[:16]


def settings_apply(*, cluster: Cluster, version: str) -> list[SettingRow]:
    """Set the cluster's settings the last read found different, with a history entry (its actor is the
    request's, regui.audit.context) naming the server they were read on. Refused (CheckRefused, nothing changed) when that read is not the one shown."""
    with transaction.atomic():
        cluster = Cluster.objects.select_for_update().get(pk=cluster.pk)
        read = SettingsRead.objects.filter(cluster=cluster).first()
        if read is None or read.state != SettingsRead.State.DONE or read_version(read) != version:
            raise CheckRefused("the settings were read again meanwhile (or the read was not finished): look at "
                               "what was found now, then apply.")
        differing = [row for row in setting_rows(cluster, read) if row.differs]
        if not differing:
            raise CheckRefused("the cluster's settings already are what the server says.")
        before = audit_snapshot(cluster)
        for row in differing:
            setattr(cluster, row.setting, row.found)
        cluster.save(update_fields=[row.setting for row in differing] + ["updated_at"])
        when = timezone.localtime(read.finished_at).strftime("%Y-%m-%d %H:%M:%S") if read.finished_at else ""
        audit_change(cluster, before, message=f"Applied what was read on server {read.node_name} ({when}"
                                              f"{', by ' + read.requested_by_name if read.requested_by_name else ''})")
    return differing
