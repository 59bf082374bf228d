from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from regui.core.roles import OPERATOR, require_role
from regui.pushes.forms import PushPolicyForm
from regui.pushes.services import cluster_policy, push_policy_save

from ..forms import ClusterDeleteForm, ClusterForm
from ..models import Cluster
from ..services import cluster_delete as cluster_delete_service
from ..services import cluster_save


def cluster_list(request: HttpRequest) -> HttpResponse:
    clusters = Cluster.objects.all()
    return render(request, "registries/cluster_list.html", {"clusters": clusters})


@require_role(OPERATOR)
def cluster_create(request: HttpRequest) -> HttpResponse:
    form = ClusterForm(request.POST or None)
    policy = PushPolicyForm(request.POST or None, prefix="policy")
    if request.method == "POST" and form.is_valid() and policy.is_valid():
        with transaction.atomic():
            cluster = cluster_save(form=form, user=request.user)
            push_policy_save(cluster=cluster, values=policy.cleaned_data)
        messages.success(request, f"Cluster {cluster.name} created.")
        return redirect("cluster-registries", cluster.name)
    return render(request, "registries/cluster_form.html", {"form": form, "policy_form": policy})


@require_role(OPERATOR)
def cluster_edit(request: HttpRequest, name: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, name=name)
    form = ClusterForm(request.POST or None, instance=cluster)
    policy = PushPolicyForm(request.POST or None, prefix="policy", instance=cluster_policy(cluster))
    if request.method == "POST" and form.is_valid() and policy.is_valid():
        with transaction.atomic():
            cluster = cluster_save(form=form, user=request.user)
            push_policy_save(cluster=cluster, values=policy.cleaned_data)
        messages.success(request, f"Cluster {cluster.name} saved.")
        return redirect("cluster-registries", cluster.name)
    return render(request, "registries/cluster_form.html", {"form": form, "cluster": cluster, "policy_form": policy})


@require_role(OPERATOR)
def cluster_delete(request: HttpRequest, name: str) -> HttpResponse:
    """Delete after the cluster's name is typed: it takes its registries, nodes and pushes along."""
    cluster = get_object_or_404(Cluster, name=name)
    form = ClusterDeleteForm(request.POST or None, cluster=cluster)
    if request.method == "POST" and form.is_valid():
        cluster_delete_service(cluster=cluster)
        messages.success(request, f"Cluster {name} deleted.")
        return redirect("cluster-list")
    return render(request, "registries/cluster_delete.html", {"cluster": cluster, "form": form},
                  status=400 if form.errors else 200)
