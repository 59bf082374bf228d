"""Importing a registries.yaml on a cluster's page: paste or upload, look at what it would change,
then confirm.

The file holds credentials in clear text, so it never goes back to the browser: between the two
steps it waits in the session, sealed with the key ring (as a node's file does, inventory/views.py),
with the revision the preview was made against."""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from regui.audit.context import posted_note
from regui.core import sealing
from regui.core.roles import OPERATOR, require_role

from ..forms import ImportForm
from ..import_preview import import_preview
from ..importing import ImportRefused, ImportStale, registries_import, registries_import_plan
from ..models import Cluster

FORM = "registries/cluster_import.html"
PREVIEW = "registries/cluster_import_preview.html"


def _session_key(cluster: Cluster) -> str:
    return f"registries-import-{cluster.pk}"


def _preview_page(request: HttpRequest, cluster: Cluster, text: str, replace: bool, notice: str = "",
                  status: int = 200) -> HttpResponse:
    plan = registries_import_plan(cluster=cluster, text=text, replace=replace, user=request.user)
    # The page's Import names this preview: one from another tab, made later, replaces it in the session.
    ticket = secrets.token_urlsafe(12)
    request.session[_session_key(cluster)] = sealing.seal(
        {"text": text, "replace": replace, "revision": plan.before.revision, "ticket": ticket})
    return render(request, PREVIEW, {"cluster": cluster, "preview": import_preview(plan), "notice": notice,
                                     "ticket": ticket}, status=status)


@require_role(OPERATOR)
def cluster_import(request: HttpRequest, name: str) -> HttpResponse:
    """Step one: the file, then the preview of what importing it changes (nothing saved yet)."""
    cluster = get_object_or_404(Cluster, name=name)
    form = ImportForm(request.POST or None, request.FILES or None)
    ctx: dict = {"cluster": cluster, "form": form}
    if request.method == "POST" and form.is_valid():
        try:
            return _preview_page(request, cluster, form.cleaned_data["text"], form.cleaned_data["replace"])
        except ImportRefused as exc:
            ctx["refused"] = exc
    return render(request, FORM, ctx, status=400 if request.method == "POST" else 200)


def _refused(request: HttpRequest, cluster: Cluster, exc: ImportRefused) -> HttpResponse:
    request.session.pop(_session_key(cluster), None)
    return render(request, FORM, {"cluster": cluster, "form": ImportForm(), "refused": exc}, status=400)


@require_POST
@require_role(OPERATOR)
def cluster_import_confirm(request: HttpRequest, name: str) -> HttpResponse:
    """Step two: import the file the preview showed, if the registries are still what it was made against."""
    cluster = get_object_or_404(Cluster, name=name)
    sealed = request.session.get(_session_key(cluster))
    if not sealed:
        messages.error(request, "Nothing to import any more: paste or upload the file again.")
        return redirect("cluster-import", cluster.name)
    held = sealing.unseal(sealed)
    if request.POST.get("ticket") != held["ticket"]:
        messages.error(request, "This preview was replaced by a newer one (another tab?): nothing was imported. "
                                "Paste or upload the file again.")
        return redirect("cluster-import", cluster.name)
    try:
        result = registries_import(cluster=cluster, text=held["text"], replace=held["replace"], user=request.user,
                                   message=posted_note(request), revision=held["revision"])
    except ImportStale as stale:
        # Someone saved in between: nothing was imported (409); show what the file would change now, and ask again.
        try:
            return _preview_page(request, cluster, held["text"], held["replace"], notice=str(stale), status=409)
        except ImportRefused as exc:
            return _refused(request, cluster, exc)
    except ImportRefused as exc:
        return _refused(request, cluster, exc)
    request.session.pop(_session_key(cluster), None)
    (messages.success if result.saved else messages.info)(request, result.summary())
    for warning in result.warnings:
        messages.warning(request, warning)
    return redirect("cluster-registries", cluster.name)
