from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from regui.core.roles import OPERATOR, require_role
from regui.inventory.services import nodes_file_moved
from regui.pushes.forms import PushPolicyForm
from regui.pushes.services import cluster_policy, push_policy_save

from ..forms import ClusterDeleteForm, ClusterForm
from ..models import Cluster
from ..selectors import cluster_settings_token
from ..services import cluster_delete as cluster_delete_service
from ..services import cluster_save


def cluster_list(request: HttpRequest) -> HttpResponse:
    clusters = Cluster.objects.all()
    return render(request, "registries/cluster_list.html", {"clusters": clusters})


@require_role(OPERATOR)
def cluster_create(request: HttpRequest) -> HttpResponse:
    return _cluster_form(request, None)


@require_role(OPERATOR)
def cluster_edit(request: HttpRequest, name: str) -> HttpResponse:
    return _cluster_form(request, get_object_or_404(Cluster, name=name))


def _cluster_form(request: HttpRequest, cluster: Cluster | None) -> HttpResponse:
    """A cluster's form with its default rolling policy, saved together: a new cluster when None."""
    distro = cluster.distro if cluster is not None else None  # before the form sets the new one
    now = cluster_settings_token(cluster) if cluster is not None else ""
    opened = request.POST.get("opened_settings", "") or now
    form = ClusterForm(request.POST or None, instance=cluster)
    policy = PushPolicyForm(request.POST or None, prefix="policy",
                            instance=cluster_policy(cluster) if cluster is not None else None)
    stale = request.method == "POST" and opened != now
    if stale:
        form.is_valid()
        form.add_error(None, "Someone changed this cluster's settings after you opened this form. Reload to see "
                             "them, then make your changes again.")
    elif request.method == "POST" and form.is_valid() and policy.is_valid():
        with transaction.atomic():
            saved = cluster_save(form=form, user=request.user)
            push_policy_save(cluster=saved, values=policy.cleaned_data)
            if distro is not None and saved.distro != distro:
                nodes_file_moved(cluster=saved)
        messages.success(request, f"Cluster {saved.name} {'created' if cluster is None else 'saved'}.")
        return redirect("cluster-registries", saved.name)
    context = {"form": form, "policy_form": policy, "opened_settings": opened,
               **({"cluster": cluster} if cluster is not None else {})}
    return render(request, "registries/cluster_form.html", context,
                  status=409 if stale else 400 if form.errors or policy.errors else 200)


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
