"""The Registries page's "Settings read from a server" section: reading (operators and admins), its live
result (polled while it runs), and applying what differs."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from regui.core.htmx import wants_fragment
from regui.core.roles import OPERATOR, require_role
from regui.registries.models import Cluster

from .models import SettingsRead
from .selectors import _waits
from .server_settings import LABELS, read_version, setting_rows, settings_apply, settings_read_request
from .services import CheckRefused

SECTION = "nodechecks/partials/_server_settings.html"
# After an apply: the Registries page's preview listens for this on <body> (as after a save, see
# regui/registries/views/sections.py), and redraws with the flags swapped in out of band.
CHANGED = json.dumps({"regui:changed": {"target": "body"}})


def _section(request: HttpRequest, cluster: Cluster, *, error: str = "", applied: str = "",
             status: int = 200) -> HttpResponse:
    read = SettingsRead.objects.filter(cluster=cluster).first()
    waits = _waits([read.requested_at]) if read and read.state == SettingsRead.State.QUEUED and read.requested_at \
        else []
    rows = setting_rows(cluster, read)
    context = {"cluster": cluster, "read": read, "rows": rows, "differing": [r for r in rows if r.differs],
               "version": read_version(read) if read else "", "waits": waits, "poll": 5 if waits else 1,
               "settings_error": error, "settings_applied": applied}
    return render(request, SECTION, context, status=status)


def _answer(request: HttpRequest, cluster: Cluster, *, error: str = "", applied: str = "",
            refused: int = 400) -> HttpResponse:
    if wants_fragment(request):
        # The section, with the refusal in it (it says what was read so far too), answering with the
        # refusal's status as the node checks' section does: base.html's htmx-config swaps it in alike.
        return _section(request, cluster, error=error, applied=applied, status=refused if error else 200)
    if error:
        messages.error(request, error)
    elif applied:
        messages.success(request, applied)
    return redirect("cluster-registries", cluster.name)


@require_safe
def server_settings_section(request: HttpRequest, name: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, name=name)
    if not wants_fragment(request):
        return redirect("cluster-registries", cluster.name)
    return _section(request, cluster)


@require_POST
@require_role(OPERATOR)
def server_settings_read(request: HttpRequest, name: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, name=name)
    try:
        settings_read_request(cluster=cluster, user=request.user)
    except CheckRefused as exc:
        return _answer(request, cluster, error=f"Nothing was read: {exc}")
    return _answer(request, cluster)


@require_POST
@require_role(OPERATOR)
def server_settings_apply(request: HttpRequest, name: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, name=name)
    try:
        applied = settings_apply(cluster=cluster, version=request.POST.get("version", ""))
    except CheckRefused as exc:
        # A conflict with what was read since the page showed it, or with the cluster's settings now.
        return _answer(request, cluster, error=f"Nothing was applied: {exc}", refused=409)
    cluster.refresh_from_db()
    words = ", ".join(f"{LABELS[r.setting]} {'on' if r.found else 'off'}" for r in applied)
    response = _answer(request, cluster, applied=f"Applied: {words}. The hosts.toml and Explain tabs start from them.")
    if wants_fragment(request):  # the page's flags were swapped out of band: the preview follows them
        response["HX-Trigger-After-Settle"] = CHANGED
    return response
