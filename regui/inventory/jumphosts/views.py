from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from regui.core.roles import ADMIN, OPERATOR, require_role
from regui.inventory.models import Node
from regui.inventory.scan_report import scan_reported
from regui.registries.models import Cluster

from .forms import ClusterJumpHostForm, JumpHostForm, NodeJumpHostForm
from .models import ClusterJumpHost, JumpHost
from .services import (
    CLUSTERS,
    JumpHostError,
    cluster_jump_host,
    cluster_use_jump_host,
    describe_choice,
    jump_approval_refusal,
    jump_host_approve,
    jump_host_delete,
    jump_host_save,
    jump_host_scan,
    jump_host_users,
    node_jump_choice,
    node_use_jump_host,
)


def jump_host_list(request: HttpRequest) -> HttpResponse:
    links = {link.cluster_id: link.jump_host for link in ClusterJumpHost.objects.select_related("jump_host")}
    clusters = [(c, links.get(c.pk)) for c in Cluster.objects.order_by("name")]
    return render(request, "jumphosts/jump_host_list.html", {"jump_hosts": JumpHost.objects.select_related("credential"),
                                                              "clusters": clusters})


def jump_host_detail(request: HttpRequest, jump_host: str) -> HttpResponse:
    jump = get_object_or_404(JumpHost.objects.select_related("credential"), name=jump_host)
    clusters, nodes = jump_host_users(jump)
    return render(request, "jumphosts/jump_host_detail.html", {
        "jump": jump, "clusters": clusters, "nodes": nodes,
        "approval_refusal": jump_approval_refusal(jump, request.user)})


def _form_page(request: HttpRequest, jump: JumpHost | None) -> HttpResponse:
    form = JumpHostForm(request.POST or None, instance=jump)
    if request.method == "POST" and form.is_valid():
        try:
            saved = jump_host_save(form=form, user=request.user)
        except JumpHostError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Jump host {saved.name} saved. Scan and approve its host key before "
                                      "anything goes through it.")
            return redirect(saved.get_absolute_url())
    return render(request, "jumphosts/jump_host_form.html", {"form": form, "jump": jump},
                  status=400 if form.errors else 200)


@require_role(ADMIN)
def jump_host_create(request: HttpRequest) -> HttpResponse:
    return _form_page(request, None)


@require_role(ADMIN)
def jump_host_edit(request: HttpRequest, jump_host: str) -> HttpResponse:
    return _form_page(request, get_object_or_404(JumpHost, name=jump_host))


@require_POST
@require_role(ADMIN)
def jump_host_delete_view(request: HttpRequest, jump_host: str) -> HttpResponse:
    jump = get_object_or_404(JumpHost, name=jump_host)
    try:
        jump_host_delete(jump=jump, user=request.user)
    except JumpHostError as exc:
        messages.error(request, str(exc))
        return redirect(jump.get_absolute_url())
    messages.success(request, f"Deleted jump host {jump.name}.")
    return redirect("jump-hosts")


@require_POST
@require_role(OPERATOR)
def jump_host_scan_view(request: HttpRequest, jump_host: str) -> HttpResponse:
    jump = get_object_or_404(JumpHost, name=jump_host)
    try:
        key = jump_host_scan(jump=jump)
    except JumpHostError as exc:
        messages.error(request, f"Scan failed: {exc}")
    else:
        scan_reported(request, jump, key)
    return redirect(jump.get_absolute_url())


@require_POST
@require_role(OPERATOR)
def jump_host_approve_view(request: HttpRequest, jump_host: str) -> HttpResponse:
    jump = get_object_or_404(JumpHost, name=jump_host)
    try:
        jump_host_approve(jump=jump, fingerprint=request.POST.get("fingerprint", ""), user=request.user)
    except JumpHostError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Host key {jump.host_key_fingerprint} approved for jump host {jump.name}.")
    return redirect(jump.get_absolute_url())


@require_role(ADMIN)
def cluster_jump_host_view(request: HttpRequest, name: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, name=name)
    current = cluster_jump_host(cluster)
    form = ClusterJumpHostForm(request.POST or None, initial={"jump_host": current})
    if request.method == "POST" and form.is_valid():
        jump = form.cleaned_data["jump_host"]
        try:
            cluster_use_jump_host(cluster=cluster, jump=jump, user=request.user)
        except JumpHostError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"The nodes of {cluster.name} are reached "
                                      f"{f'through {jump.name}' if jump else 'directly'} (unless a node names its own).")
            return redirect("jump-hosts")
    return render(request, "jumphosts/cluster_jump_host.html", {"cluster": cluster, "form": form, "current": current},
                  status=400 if form.errors else 200)


@require_role(ADMIN)
def node_jump_host_view(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    node = get_object_or_404(Node.objects.select_related("cluster"), cluster__name=name, pk=pk)
    choice = node_jump_choice(node)
    initial = choice if isinstance(choice, str) else choice.name if choice else ""
    form = NodeJumpHostForm(request.POST or None, node=node, initial={"jump_host": initial})
    if request.method == "POST" and form.is_valid():
        new = form.cleaned_data["jump_host"]
        try:
            node_use_jump_host(node=node, choice=new, user=request.user)
        except JumpHostError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _reached(node, new))
            return redirect(node.get_absolute_url())
    return render(request, "jumphosts/node_jump_host.html", {
        "node": node, "cluster": node.cluster, "form": form, "current": describe_choice(node, choice)},
        status=400 if form.errors else 200)


def _reached(node: Node, choice: str | JumpHost | None) -> str:
    if choice == CLUSTERS:
        jump = cluster_jump_host(node.cluster)
        return f"{node.name} is reached as its cluster's nodes are: {f'through {jump.name}' if jump else 'directly'}."
    if isinstance(choice, JumpHost):
        return f"{node.name} is reached through {choice.name}."
    return f"{node.name} is reached directly, through no jump host."
