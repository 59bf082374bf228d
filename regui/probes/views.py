"""The Registries page's "Test" panel, starting a test, and a test's live result."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from regui.core.htmx import wants_fragment
from regui.core.roles import OPERATOR, require_role
from regui.registries.models import Cluster

from .liveness import TestWatch
from .models import RegistryTest
from .selectors import latest_test, registry_rows
from .services import registry_test_create, registry_test_problem

PANEL = "registries/partials/_registry_test_panel.html"
RESULT = "registries/partials/_registry_test_result.html"


def _result_context(test: RegistryTest) -> dict:
    wait = TestWatch().test_wait(test) if test.is_active else None
    return {"test": test, "cluster": test.cluster, "wait": wait, "poll": wait.poll if wait else 1}


@require_safe
def registry_test_panel(request: HttpRequest, name: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, name=name)
    test = latest_test(cluster)
    context = {"cluster": cluster, "rows": registry_rows(cluster), "image": request.GET.get("image", "")[:512]}
    if test is not None:
        context.update(_result_context(test))
    # The Registries page loads the panel by itself; the same URL opened on its own is a page of its own.
    return render(request, PANEL if wants_fragment(request) else "registries/registry_test_panel.html", context)


@require_POST
@require_role(OPERATOR)
def registry_test_start(request: HttpRequest, name: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, name=name)
    registry = request.POST.get("registry", "").strip()
    image = request.POST.get("image", "").strip()
    endpoint = request.POST.get("endpoint", "").strip()
    problem = registry_test_problem(cluster=cluster, registry=registry, image=image, endpoint=endpoint)
    if problem:
        if wants_fragment(request):
            return render(request, RESULT, {"cluster": cluster, "problem": problem}, status=400)
        messages.error(request, f"Not tested: {problem}")
        return redirect("cluster-registries", cluster.name)
    test = registry_test_create(cluster=cluster, registry=registry, image=image, endpoint=endpoint,
                                user=request.user)
    if wants_fragment(request):
        return render(request, RESULT, _result_context(test))
    return redirect("registry-test-detail", test.pk)


@require_safe
def registry_test_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The test's page; for htmx, only its result (polled every second while it runs)."""
    test = get_object_or_404(RegistryTest.objects.select_related("cluster"), pk=pk)
    template = RESULT if wants_fragment(request) else "registries/registry_test.html"
    return render(request, template, _result_context(test))
