"""The cluster's Registries page: Rancher's Mirrors and Registry Authentication, with a live preview.

One URL serves the full page, the htmx fragments (new boxes and rows, the preview) and the save.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from regui.audit.services import audit_object
from regui.core.roles import ADMIN, has_role, require_role

from .. import draft as d
from ..insight import draft_insight
from ..models import Cluster
from ..selectors import draft_from_cluster, draft_render, secret_infos, secrets_for_choice
from ..services import InvalidDraft, StaleRevision, registries_save

PAGE = "registries/registries.html"
ADDABLE = {
    "mirror": ("registries/partials/_mirror_box.html", lambda: d.MirrorBox(
        d.new_token(), endpoints=[d.EndpointRow(d.new_token())])),
    "endpoint": ("registries/partials/_endpoint_row.html", lambda: d.EndpointRow(d.new_token())),
    "rewrite": ("registries/partials/_rewrite_row.html", lambda: d.RewriteRow(d.new_token())),
    "config": ("registries/partials/_config_box.html", lambda: d.ConfigBox(d.new_token())),
}


def _context(request: HttpRequest, cluster: Cluster, draft: d.Draft, errors: d.Errors | None = None) -> dict:
    # Like Rancher, an empty section starts with one empty box to fill in.
    if not draft.mirrors:
        draft.mirrors.append(ADDABLE["mirror"][1]())
    if not draft.configs:
        draft.configs.append(ADDABLE["config"][1]())
    return {
        "cluster": cluster,
        "draft": draft,
        "errors": errors or {},
        "secret_choices": secrets_for_choice(),
        "can_download": has_role(request.user, ADMIN),
    }


def _fragment(request: HttpRequest, cluster: Cluster, what: str) -> HttpResponse:
    if what not in ADDABLE:
        raise Http404("Nothing to add by that name.")
    template, make = ADDABLE[what]
    parent = request.GET.get("parent", "")
    if what in ("endpoint", "rewrite") and not d.TOKEN.fullmatch(parent):
        raise Http404("Missing parent box.")
    item = make()
    ctx = {"cluster": cluster, "errors": {}, "secret_choices": secrets_for_choice(), "parent": parent}
    ctx.update({"m": item} if what == "mirror" else {"c": item} if what == "config" else {"row": item})
    return render(request, template, ctx)


def _preview(request: HttpRequest, cluster: Cluster) -> HttpResponse:
    draft = d.drop_blank_boxes(d.draft_from_post(request.POST))
    errors = d.validate_draft(draft, secret_infos())
    return render(request, "registries/partials/_preview.html", {
        "cluster": cluster, "yaml": draft_render(draft, distro=cluster.distro), "errors": errors,
    })


def _insight(request: HttpRequest, cluster: Cluster) -> HttpResponse:
    """The hosts.toml, Explain and Lint tabs: a request of their own, so the YAML preview stays as
    fast as rendering (the engine's lint costs more than the render on big files)."""
    draft = d.drop_blank_boxes(d.draft_from_post(request.POST))
    image = request.POST.get("explain_image", "")[:500]
    insight = draft_insight(
        draft_render(draft, distro=cluster.distro), draft, program=cluster.distro, image=image,
        disable_default=bool(request.POST.get("flag_disable_default")),
        embedded=bool(request.POST.get("flag_embedded")),
    )
    return render(request, "registries/partials/_insight.html", {"cluster": cluster, "insight": insight})


def _save(request: HttpRequest, cluster: Cluster) -> HttpResponse:
    posted = d.draft_from_post(request.POST)
    try:
        registries_save(cluster=cluster, draft=d.draft_from_post(request.POST), user=request.user)
    except StaleRevision as exc:
        return _save_failed(request, cluster, posted, {}, str(exc))
    except InvalidDraft as exc:
        return _save_failed(request, cluster, posted, exc.errors, "Nothing was saved: fix the fields marked below.")
    messages.success(request, f"Registries of {cluster.name} saved.")
    url = reverse("cluster-registries", args=[cluster.name])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _save_failed(request, cluster, posted: d.Draft, errors: d.Errors, summary: str) -> HttpResponse:
    if request.htmx:
        # Swap only the messages: the inputs stay as typed, passwords included.
        return render(request, "registries/partials/_save_result.html", {
            "summary": summary, "errors": errors, "general_errors": errors.get("__all__", []),
        })
    ctx = _context(request, cluster, posted, errors)
    ctx["summary"] = summary
    ctx["general_errors"] = errors.get("__all__", [])
    return render(request, PAGE, ctx, status=400)


@require_http_methods(["GET", "POST"])
def registries_page(request: HttpRequest, name: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster.objects.select_related("updated_by"), name=name)
    if request.method == "GET":
        if "add" in request.GET:
            return _fragment(request, cluster, request.GET["add"])
        draft = draft_from_cluster(cluster)
        # An import stores what K3s accepts even when the form would not: say so next to the fields.
        errors = d.validate_draft(draft, secret_infos())
        ctx = _context(request, cluster, draft, errors)
        if errors:
            ctx["summary"] = "The stored registries have problems (imported as they were): fix the fields marked below."
        return render(request, PAGE, ctx)
    if request.POST.get("_action") == "preview":
        return _preview(request, cluster)
    if request.POST.get("_action") == "insight":
        return _insight(request, cluster)
    return require_role("operator")(lambda req: _save(req, cluster))(request)


@require_role(ADMIN)
def registries_download(request: HttpRequest, name: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, name=name)
    audit_object(cluster, "download", revision=cluster.revision)
    response = HttpResponse(
        draft_render(draft_from_cluster(cluster), distro=cluster.distro, reveal=True),
        content_type="application/yaml; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{cluster.name}-registries.yaml"'
    response["Cache-Control"] = "no-store"
    return response
