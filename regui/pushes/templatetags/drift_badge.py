"""{% drift_badge cluster %}: the cluster list's counts of drifted and unreachable nodes (one query),
of the nodes the watch's last check could not check, and whether the cluster's drift watch is on."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Count

from regui.inventory.models import Node
from regui.pushes.drift_watch import DriftWatch
from regui.registries.models import Cluster

register = template.Library()


@register.inclusion_tag("pushes/partials/_drift_badge.html", takes_context=True)
def drift_badge(context: dict[str, Any], cluster: Cluster) -> dict[str, Any]:
    counts = dict(Node.objects.filter(cluster=cluster, sync_state__in=[Node.Sync.DRIFTED, Node.Sync.UNREACHABLE])
                  .values_list("sync_state").annotate(n=Count("pk")).values_list("sync_state", "n"))
    watch = DriftWatch.objects.filter(cluster=cluster).first()
    # A node whose check failed (its host key no longer approved, a refused login...) keeps its last
    # sync state: only the watch knows it could not be checked, and "no drift" would say otherwise.
    failed = [name for name, state in (watch.node_states if watch else {}).items() if state == "failed"]
    unchecked = Node.objects.filter(cluster=cluster, name__in=failed).count() if failed else 0
    return {"cluster": cluster, "drifted": counts.get(Node.Sync.DRIFTED, 0),
            "unreachable": counts.get(Node.Sync.UNREACHABLE, 0), "unchecked": unchecked,
            "interval": watch.interval_minutes if watch else 0, "can_edit": context.get("can_edit")}
