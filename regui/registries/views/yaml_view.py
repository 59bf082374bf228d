"""Edit as YAML (yaml_form.py): the form as registries.yaml text, and the text applied to the form.
Neither writes anything; the page's Save does."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from regui.core.roles import OPERATOR, require_role

from ..draft import draft_from_post, drop_blank_boxes
from ..importing import ImportRefused
from ..models import Cluster
from ..selectors import draft_render
from ..yaml_form import draft_from_yaml
from .sections import refused_unread, render_sections

RESULT = "registries/partials/_yaml_result.html"


@require_POST
def registries_yaml(request: HttpRequest, name: str) -> HttpResponse:
    """The form's text for the YAML view: the preview's render, secrets as markers (every role may look)."""
    cluster = get_object_or_404(Cluster, name=name)
    if refused := refused_unread(request):
        return render(request, "registries/partials/_yaml_text.html", {"cluster": cluster, "yaml": f"# {refused}\n"},
                      status=413)
    draft = drop_blank_boxes(draft_from_post(request.POST))
    return render(request, "registries/partials/_yaml_text.html", {
        "cluster": cluster, "yaml": draft_render(draft, distro=cluster.distro),
    })


@require_POST
@require_role(OPERATOR)
def registries_yaml_apply(request: HttpRequest, name: str) -> HttpResponse:
    """The posted text as the form's boxes (swapped into the page), or why it cannot be, by line."""
    cluster = get_object_or_404(Cluster, name=name)
    if refused := refused_unread(request):
        return render(request, RESULT, {"refused": ImportRefused(refused)}, status=413)
    try:
        applied = draft_from_yaml(request.POST.get("yaml_text", ""), cluster=cluster, form=draft_from_post(request.POST))
    except ImportRefused as exc:  # the text, refused as an import refuses a file (by line): swapped in as a 200 was
        return render(request, RESULT, {"refused": exc}, status=400)
    return render_sections(request, cluster, applied.draft, RESULT, {
        "applied": applied, "typed_passwords": applied.typed_passwords, "kept_passwords": applied.kept_passwords,
    })
