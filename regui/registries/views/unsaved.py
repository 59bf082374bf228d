"""Unsaved edits of the Registries page (unsaved.py): the page sends them as the user types, offers
them back when it is opened again, and restores or discards them on request."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST, require_safe

from regui.core.roles import OPERATOR, require_role

from ..draft import AUTH_CREATE_BASIC, AUTH_CREATE_RKE, draft_from_post
from ..models import Cluster
from ..unsaved import unsaved_discard, unsaved_draft, unsaved_keep, unsaved_offer
from .sections import refused_unread, render_sections

OFFER = "registries/partials/_unsaved_offer.html"


@require_POST
@require_role(OPERATOR)
def unsaved_keep_view(request: HttpRequest, name: str) -> HttpResponse:
    """Keep the posted form as the user's unsaved edits (never its passwords)."""
    cluster = get_object_or_404(Cluster, name=name)
    if refused_unread(request):
        return HttpResponse(status=413)
    kept = unsaved_keep(user=request.user, cluster=cluster, draft=draft_from_post(request.POST))
    return HttpResponse(status=204, headers={"X-Regui-Unsaved": "kept" if kept else "none"})


@require_safe
@require_role(OPERATOR)
def unsaved_offer_view(request: HttpRequest, name: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, name=name)
    response = render(request, OFFER, {"cluster": cluster, "offer": unsaved_offer(user=request.user, cluster=cluster)})
    # Asked for as the page loads, Back included: a browser answers that from its cache unless told not to.
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@require_role(OPERATOR)
def unsaved_restore_view(request: HttpRequest, name: str) -> HttpResponse:
    """The unsaved edits, swapped into the page's form in place of what it shows."""
    cluster = get_object_or_404(Cluster, name=name)
    offer = unsaved_offer(user=request.user, cluster=cluster)
    draft = unsaved_draft(user=request.user, cluster=cluster) if offer else None
    if offer is None or draft is None:  # saved or discarded since the offer was shown (another tab)
        return render(request, OFFER, {"cluster": cluster, "offer": None, "gone": True}, status=409)
    retype = any(c.auth in (AUTH_CREATE_BASIC, AUTH_CREATE_RKE) for c in draft.configs)
    return render_sections(request, cluster, draft, "registries/partials/_unsaved_restored.html",
                           {"offer": offer, "retype": retype, "with_message": True})


@require_POST
@require_role(OPERATOR)
def unsaved_discard_view(request: HttpRequest, name: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, name=name)
    unsaved_discard(user=request.user, cluster=cluster)
    return HttpResponse("")
