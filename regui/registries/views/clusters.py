from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from regui.core.roles import OPERATOR, require_role

from ..forms import ClusterForm, ImportForm
from ..importing import ImportRefused, registries_import
from ..models import Cluster
from ..services import cluster_delete as cluster_delete_service
from ..services import cluster_save


def cluster_list(request: HttpRequest) -> HttpResponse:
    clusters = Cluster.objects.all()
    return render(request, "registries/cluster_list.html", {"clusters": clusters})


@require_role(OPERATOR)
def cluster_create(request: HttpRequest) -> HttpResponse:
    form = ClusterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        cluster = cluster_save(form=form, user=request.user)
        messages.success(request, f"Cluster {cluster.name} created.")
        return redirect("cluster-registries", cluster.name)
    return render(request, "registries/cluster_form.html", {"form": form})


@require_role(OPERATOR)
def cluster_edit(request: HttpRequest, name: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, name=name)
    form = ClusterForm(request.POST or None, instance=cluster)
    if request.method == "POST" and form.is_valid():
        cluster = cluster_save(form=form, user=request.user)
        messages.success(request, f"Cluster {cluster.name} saved.")
        return redirect("cluster-registries", cluster.name)
    return render(request, "registries/cluster_form.html", {"form": form, "cluster": cluster})


@require_role(OPERATOR)
def cluster_delete(request: HttpRequest, name: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, name=name)
    if request.method == "POST":
        cluster_delete_service(cluster=cluster)
        messages.success(request, f"Cluster {name} deleted.")
        return redirect("cluster-list")
    return render(request, "registries/cluster_delete.html", {"cluster": cluster})


@require_role(OPERATOR)
def cluster_import(request: HttpRequest, name: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, name=name)
    form = ImportForm(request.POST or None, request.FILES or None)
    ctx: dict = {"cluster": cluster, "form": form}
    if request.method == "POST" and form.is_valid():
        try:
            result = registries_import(
                cluster=cluster, text=form.cleaned_data["text"], replace=form.cleaned_data["replace"],
                user=request.user,
            )
        except ImportRefused as exc:
            ctx["refused"] = exc
            return render(request, "registries/cluster_import.html", ctx, status=400)
        messages.success(request, result.summary())
        for warning in result.warnings:
            messages.warning(request, warning)
        return redirect("cluster-registries", cluster.name)
    return render(request, "registries/cluster_import.html", ctx)
