"""Host keys in bulk (issue 11 item 11): one page to scan every unscanned node and to approve host
keys from pasted known_hosts / ssh-keyscan lines (see known_hosts.py)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from regui.core.roles import ADMIN, OPERATOR, has_role, require_role
from regui.registries.models import Cluster

from .known_hosts import approve_from_known_hosts, scan_unscanned, unscanned_nodes
from .trust import TWO_PERSON, approvers

MAX_TEXT = 512 * 1024


def _context(request: HttpRequest, cluster: Cluster, **extra) -> dict:
    from django.conf import settings

    may_approve = has_role(request.user, ADMIN) or (
        settings.REGUI_HOST_KEY_APPROVAL == TWO_PERSON and has_role(request.user, OPERATOR))
    nodes = list(cluster.nodes.order_by("name"))
    return {"cluster": cluster, "unscanned": unscanned_nodes(cluster), "may_approve": may_approve, "nodes": nodes,
            "approvers": approvers(), "waiting": [n for n in nodes if n.scanned_key and not n.has_approved_key],
            **extra}


@require_role(OPERATOR)
def host_keys(request: HttpRequest, name: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, name=name)
    return render(request, "inventory/host_keys.html", _context(request, cluster))


@require_role(OPERATOR)
def host_keys_scan(request: HttpRequest, name: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, name=name)
    if request.method != "POST":
        return redirect("host-keys", name)
    report = scan_unscanned(cluster=cluster, after=request.POST.get("after", "")[:63])
    if not report.scanned and not report.failed:
        messages.info(request, "Every node has a scanned or approved host key already.")
    return render(request, "inventory/host_keys.html", _context(request, cluster, scan=report))


@require_role(OPERATOR)
def host_keys_approve(request: HttpRequest, name: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, name=name)
    if request.method != "POST":
        return redirect("host-keys", name)
    text = request.POST.get("known_hosts", "")
    if len(text) > MAX_TEXT:
        messages.error(request, f"Paste at most {MAX_TEXT // 1024} KiB of known_hosts lines.")
        return render(request, "inventory/host_keys.html", _context(request, cluster), status=400)
    if not text.strip():
        messages.error(request, "Paste known_hosts or ssh-keyscan lines first.")
        return render(request, "inventory/host_keys.html", _context(request, cluster), status=400)
    report = approve_from_known_hosts(cluster=cluster, text=text, user=request.user)
    # 200: a report of what each pasted line did, node by node (some approved, some refused), not one refusal.
    return render(request, "inventory/host_keys.html", _context(request, cluster, approval=report))
