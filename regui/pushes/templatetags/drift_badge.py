"""{% drift_badge cluster %}: the cluster list's counts of drifted, out-of-date and unreachable nodes and
of nodes whose last restart failed (one query), of the nodes the watch's last check could not check, and
whether the cluster's drift watch is on. The badges are the node list's, against the sync key of the
cluster's newest revision (saved_badge_filters). By the nodes' stored state, a save read "no drift" and
nothing out of date here while its node list said all were, and a save undone kept "out of date" until the
next check."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Count, Q

from regui.inventory.models import Node
from regui.pushes.drift_watch import DriftWatch
from regui.pushes.selectors import saved_badge_filters
from regui.registries.models import Cluster

register = template.Library()


@register.inclusion_tag("pushes/partials/_drift_badge.html", takes_context=True)
def drift_badge(context: dict[str, Any], cluster: Cluster) -> dict[str, Any]:
    badges = saved_badge_filters(cluster)
    counts = Node.objects.filter(cluster=cluster).aggregate(
        **{badge: Count("pk", filter=badges[badge]) for badge in ("drifted", "out_of_date", "unreachable")},
        restart_failed=Count("pk", filter=Q(restart_pending=True, restart_failed=True)))
    watch = DriftWatch.objects.filter(cluster=cluster).first()
    # A node whose check failed (its host key no longer approved, a refused login...) keeps its last
    # sync state: only the watch knows it could not be checked, and "no drift" would say otherwise.
    failed = [name for name, state in (watch.node_states if watch else {}).items() if state == "failed"]
    unchecked = Node.objects.filter(cluster=cluster, name__in=failed).count() if failed else 0
    drifted, unreachable = counts["drifted"], counts["unreachable"]
    # (badge, words): what is wrong first; out of date last and muted (no drift: saved since, nothing changed).
    parts = [(badge, f"{n} {words}") for badge, n, words in (
        ("drifted", drifted, "drifted"), ("unreachable", unreachable, "unreachable"),
        ("restart_failed", counts["restart_failed"], "restart failed"), ("failed", unchecked, "not checked"),
        ("out_of_date", counts["out_of_date"], "out of date")) if n]
    return {"cluster": cluster, "drifted": drifted, "unreachable": unreachable, "unchecked": unchecked,
            "out_of_date": counts["out_of_date"], "restart_failed": counts["restart_failed"],
            "parts": parts, "alarm": any(badge != "out_of_date" for badge, _ in parts),
            "interval": watch.interval_minutes if watch else 0, "can_edit": context.get("can_edit")}
