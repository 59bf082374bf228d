"""An admin's downloads of a cluster's files: the page that says what registries.yaml names but does
not contain, and the tar of the file with the TLS files regui manages (registries_page.py serves the
plain registries.yaml)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from regui.audit.services import audit_object
from regui.core.roles import ADMIN, require_role

from ..export import FILE_MODE, export_contents, export_notes, export_tar
from ..models import Cluster


@require_safe
@require_role(ADMIN)
def cluster_download_page(request: HttpRequest, name: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, name=name)
    contents = export_contents(cluster)  # redacted: this page shows paths, never values
    return render(request, "registries/cluster_download.html", {
        "cluster": cluster, "contents": contents, "notes": export_notes(contents), "mode": f"{FILE_MODE:04o}",
    })


@require_safe
@require_role(ADMIN)
def cluster_download_tar(request: HttpRequest, name: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, name=name)
    data, names = export_tar(cluster)
    audit_object(cluster, "download", {"files": [None, names]}, revision=cluster.revision,
                 message="registries.yaml with its TLS files (.tar)")
    response = HttpResponse(data, content_type="application/x-tar")
    response["Content-Disposition"] = f'attachment; filename="{cluster.name}-registries.tar"'
    response["Cache-Control"] = "no-store"
    return response
