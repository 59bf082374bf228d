"""The cluster's Registries page: Rancher's Mirrors and Registry Authentication, with a live preview.

Each thing the page does has its own URL: the page itself, a new box or row (`add`), the YAML
preview, the insight tabs, the save, the download.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from regui.audit.services import audit_object
from regui.core.htmx import wants_fragment
from regui.core.roles import ADMIN, OPERATOR, has_role, require_role
from regui.pushes.selectors import saved_badge_filters

from ..draft import (
    TOKEN,
    ConfigBox,
    Draft,
    EndpointRow,
    Errors,
    MirrorBox,
    RewriteRow,
    draft_from_post,
    drop_blank_boxes,
    new_token,
    validate_draft,
)
from ..insight import draft_insight, refusal, refused_insight
from ..models import Cluster
from ..selectors import draft_from_cluster, draft_render, nodes_engine_flags, secret_infos, secrets_for_choice
from ..services import InvalidDraft, StaleRevision, registries_save
from .sections import refused_unread, render_sections, with_empty_boxes

PAGE = "registries/registries.html"
SAVED = "registries/partials/_saved.html"
UNCHANGED = "Nothing changed: no new revision."
# Rancher's Save rolls the file out; regui's changes no node until a push (whose plan comes first).
NOT_PUSHED = "No node has it yet: nothing is sent until you push."
HELD = "Every node has it already (the file it last got from regui): nothing to push."
ADDABLE: dict[str, tuple[str, Callable[[], MirrorBox | EndpointRow | RewriteRow | ConfigBox]]] = {
    "mirror": ("registries/partials/_mirror_box.html", lambda: MirrorBox(
        new_token(), endpoints=[EndpointRow(new_token())])),
    "endpoint": ("registries/partials/_endpoint_row.html", lambda: EndpointRow(new_token())),
    "rewrite": ("registries/partials/_rewrite_row.html", lambda: RewriteRow(new_token())),
    "config": ("registries/partials/_config_box.html", lambda: ConfigBox(new_token())),
}


def _cluster(name: str) -> Cluster:
    return get_object_or_404(Cluster.objects.select_related("updated_by"), name=name)


def _context(request: HttpRequest, cluster: Cluster, draft: Draft, errors: Errors | None = None) -> dict:
    return {
        "cluster": cluster,
        "draft": with_empty_boxes(draft),
        "errors": errors or {},
        "secret_choices": secrets_for_choice(cluster),
        "can_download": has_role(request.user, ADMIN),
    }


@require_safe
def registries_page(request: HttpRequest, name: str) -> HttpResponse:
    cluster = _cluster(name)
    draft = draft_from_cluster(cluster)
    # An import stores what K3s accepts even when the form would not: say so next to the fields.
    errors = validate_draft(draft, secret_infos(cluster))
    ctx = _context(request, cluster, draft, errors)
    if errors:
        ctx["summary"] = "The stored registries have problems (imported as they were): fix the fields marked below."
    return render(request, PAGE, ctx)


@require_safe
def registries_add(request: HttpRequest, name: str, what: str) -> HttpResponse:
    """A new empty box or row, to append to the form."""
    cluster = _cluster(name)
    if what not in ADDABLE:
        raise Http404("Nothing to add by that name.")
    template, make = ADDABLE[what]
    parent = request.GET.get("parent", "")
    if what in ("endpoint", "rewrite") and not TOKEN.fullmatch(parent):
        raise Http404("Missing parent box.")
    item = make()
    ctx = {"cluster": cluster, "errors": {}, "secret_choices": secrets_for_choice(cluster), "parent": parent}
    ctx.update({"m": item} if what == "mirror" else {"c": item} if what == "config" else {"row": item})
    return render(request, template, ctx)


@require_POST
def registries_preview(request: HttpRequest, name: str) -> HttpResponse:
    """The YAML the form would save, redacted (every role may look: nothing is written)."""
    cluster = _cluster(name)
    if refused := refused_unread(request):
        return render(request, "registries/partials/_preview.html", {
            "cluster": cluster, "yaml": "", "errors": {"__all__": [refused]},
        }, status=413)
    draft = drop_blank_boxes(draft_from_post(request.POST))
    errors = validate_draft(draft, secret_infos(cluster))
    # 200 with errors: a preview of the form as typed so far, its problems marked; nothing is refused.
    return render(request, "registries/partials/_preview.html", {
        "cluster": cluster, "yaml": draft_render(draft, distro=cluster.distro), "errors": errors,
    })


@require_POST
def registries_insight(request: HttpRequest, name: str) -> HttpResponse:
    """The hosts.toml, Explain and Lint tabs: a request of their own, so the YAML preview stays as
    fast as rendering (the engine's lint costs more than the render on big files)."""
    cluster = _cluster(name)
    if refused := refused_unread(request):
        return render(request, "registries/partials/_insight.html", {
            "cluster": cluster, "insight": refusal(refused, cluster.distro),
        }, status=413)
    draft = drop_blank_boxes(draft_from_post(request.POST))
    image = request.POST.get("explain_image", "")[:500]
    # 200 when the draft cannot be explained yet (refused_insight): the tabs say why, as a preview; nothing is refused.
    insight = refused_insight(draft, cluster.distro) or draft_insight(
        draft_render(draft, distro=cluster.distro), draft, program=cluster.distro, image=image,
        disable_default=bool(request.POST.get("flag_disable_default")),
        embedded=bool(request.POST.get("flag_embedded")), ipv6=bool(request.POST.get("flag_ipv6")),
        lint_flags=nodes_engine_flags(cluster),
    )
    return render(request, "registries/partials/_insight.html", {"cluster": cluster, "insight": insight})


@require_POST
@require_role(OPERATOR)
def registries_save_view(request: HttpRequest, name: str) -> HttpResponse:
    cluster = _cluster(name)
    if refused := refused_unread(request):
        # The form is not read, so what the page shows again is the stored draft.
        return _save_failed(request, cluster, draft_from_cluster(cluster), {"__all__": [refused]},
                            "Nothing was saved: the form is too big.", status=413)
    posted = draft_from_post(request.POST)
    try:
        saved = registries_save(cluster=cluster, draft=posted, user=request.user, skip_unchanged=True)
    except StaleRevision as exc:
        return _save_failed(request, cluster, posted, {}, str(exc), status=409)
    except InvalidDraft as exc:
        return _save_failed(request, cluster, posted, exc.errors, "Nothing was saved: fix the fields marked below.")
    unchanged = saved.revision == posted.revision
    if wants_fragment(request):
        return _saved(request, name, unchanged)
    if unchanged:
        messages.info(request, UNCHANGED)
    else:
        nodes = cluster.nodes.count()
        held = _nodes_holding(cluster) if nodes else 0
        messages.success(request, f"Registries of {cluster.name} saved. " + (
            HELD if held == nodes else f"{held} of {nodes} nodes have it already; a push sends it to the others."
            if held else NOT_PUSHED))
    return redirect("cluster-registries", cluster.name)


def _saved(request: HttpRequest, name: str, unchanged: bool = False) -> HttpResponse:
    """The saved boxes and the new revision, swapped into the page in place of a reload: what the
    page holds outside the form stays as the person left it (the image typed in the Test panel,
    which reloads itself for the new revision; Explain a pull; the YAML view). `unchanged`: the save
    stored the registries as they were (no new revision); the form still shows them as saved."""
    cluster = _cluster(name)  # read again: the new revision and who saved it
    response = render_sections(request, cluster, draft_from_cluster(cluster), SAVED,
                               {"with_message": True, "unchanged": UNCHANGED if unchanged else "",
                                "node_count": cluster.nodes.count(), "held": _nodes_holding(cluster)})
    # The page's scripts take the form as it is now for what is saved (unsaved-edits.js, yaml-view.js).
    response["X-Regui-Saved"] = str(cluster.revision)
    return response


def _nodes_holding(cluster: Cluster) -> int:
    """Nodes the node list calls in sync with the revision just saved: a save back to what they were last
    pushed (a change undone) reaches them with no push, and "no node has it yet" would say otherwise."""
    return cluster.nodes.filter(saved_badge_filters(cluster)["in_sync"]).count()


def _save_failed(request: HttpRequest, cluster: Cluster, posted: Draft, errors: Errors,
                 summary: str, status: int = 400) -> HttpResponse:
    """Why nothing was saved, with `status`: 400 fields to fix, 409 a newer revision, 413 too big."""
    if wants_fragment(request):
        # Swap only the messages: the inputs stay as typed, passwords included. base.html's htmx-config
        # swaps a 400, 409 or 413 into #save-result as it did a 200.
        return render(request, "registries/partials/_save_result.html", {
            "summary": summary, "errors": errors, "general_errors": errors.get("__all__", []),
        }, status=status)
    ctx = _context(request, cluster, posted, errors)
    ctx["summary"] = summary
    ctx["general_errors"] = errors.get("__all__", [])
    return render(request, PAGE, ctx, status=status)


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
