from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from regui.core.htmx import wants_fragment
from regui.core.roles import OPERATOR, require_role
from regui.inventory.models import Node

from .forms import PullTestForm
from .selectors import node_checks
from .services import CheckRefused, pull_test_create, readback_request

TEMPLATE = "inventory/partials/_node_checks.html"


def _node(name: str, pk: int) -> Node:
    return get_object_or_404(Node.objects.select_related("cluster"), pk=pk, cluster__name=name)


def _checks(request: HttpRequest, node: Node, form: PullTestForm | None = None, error: str = "",
            status: int = 200) -> HttpResponse:
    return render(request, TEMPLATE, {"cluster": node.cluster, "node": node, "checks": node_checks(node),
                                      "pull_form": form or PullTestForm(), "check_error": error}, status=status)


def node_checks_view(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    """The node page's checks section (loaded, and polled while something runs, by htmx)."""
    return _checks(request, _node(name, pk))


def _answer(request: HttpRequest, node: Node, form: PullTestForm | None = None, error: str = "") -> HttpResponse:
    if wants_fragment(request):
        return _checks(request, node, form, error, status=400 if error else 200)
    if error:
        messages.error(request, error)
    return redirect("node-detail", node.cluster.name, node.pk)


@require_role(OPERATOR)
def node_readback(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    node = _node(name, pk)
    if request.method != "POST":
        return redirect("node-detail", name, pk)
    try:
        readback_request(node=node, user=request.user)
    except CheckRefused as exc:
        return _answer(request, node, error=f"Nothing was read: {exc}")
    return _answer(request, node)


@require_role(OPERATOR)
def node_pull_test(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    node = _node(name, pk)
    if request.method != "POST":
        return redirect("node-detail", name, pk)
    form = PullTestForm(request.POST)
    if not form.is_valid():
        return _answer(request, node, form, error="Nothing was pulled: " + "; ".join(
            str(e) for errors in form.errors.values() for e in errors))
    data = form.cleaned_data
    try:
        pull_test_create(node=node, image=data["image"], keep=data["keep"], tool=data["tool"], user=request.user)
    except CheckRefused as exc:
        return _answer(request, node, form, error=f"Nothing was pulled: {exc}")
    return _answer(request, node)
