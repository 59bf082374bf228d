"""Mirror box tools (mirror_tools.py): duplicate a box; several endpoints pasted into one field."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from regui.core.roles import OPERATOR, require_role

from ..draft import TOKEN, EndpointRow, draft_from_post, new_token, split_endpoints
from ..mirror_tools import mirror_copy
from ..models import Cluster
from .sections import CHANGED, refused_unread

# More rows than any mirror may have (the form's check says so per row), few enough to render at once.
MAX_PASTED = 100


@require_POST
@require_role(OPERATOR)
def mirror_duplicate(request: HttpRequest, name: str) -> HttpResponse:
    """A copy of the posted form's mirror box `source`, to insert after it."""
    cluster = get_object_or_404(Cluster, name=name)
    if refused_unread(request):
        return HttpResponse(status=413)
    source = request.POST.get("source", "")
    box = next((m for m in draft_from_post(request.POST).mirrors if m.token == source), None)
    if box is None:
        raise Http404("No such mirror box in the form.")
    response = render(request, "registries/partials/_mirror_box.html", {
        "cluster": cluster, "errors": {}, "m": mirror_copy(box), "duplicated": True,
    })
    response["HX-Trigger-After-Settle"] = CHANGED  # the copy's endpoints and rewrites are in the file now
    return response


@require_POST
@require_role(OPERATOR)
def endpoint_rows(request: HttpRequest, name: str) -> HttpResponse:
    """One endpoint row for each endpoint in `text` (what was pasted into a row): they take its place."""
    cluster = get_object_or_404(Cluster, name=name)
    parent = request.POST.get("parent", "")
    if not TOKEN.fullmatch(parent):
        raise Http404("Missing parent box.")
    urls = split_endpoints(request.POST.get("text", ""))[:MAX_PASTED] or [""]
    return render(request, "registries/partials/_endpoint_rows.html", {
        "cluster": cluster, "errors": {}, "parent": parent, "rows": [EndpointRow(new_token(), u) for u in urls],
    })
