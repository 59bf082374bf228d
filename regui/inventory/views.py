from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from regui.core import sealing
from regui.core.htmx import wants_fragment
from regui.core.roles import OPERATOR, require_role
from regui.pushes.selectors import node_list_page, node_rows
from regui.registries.import_text import node_file_shown
from regui.registries.importing import ImportRefused, registries_import
from regui.registries.models import Cluster

from .forms import BulkNodesForm, NodeForm
from .jumphosts.routing import jump_for
from .jumphosts.services import CLUSTERS, node_jump_choice
from .models import Node
from .node_file import node_file_is_current, node_file_is_ours, unchanged_import_message
from .scan_report import scan_reported
from .services import (
    NodeError,
    node_approve_host_key,
    node_read_registries,
    node_save,
    node_scan_host_key,
    nodes_bulk_create,
)
from .services import node_delete as node_delete_service
from .trust import approval_refusal


def _cluster(name: str) -> Cluster:
    return get_object_or_404(Cluster, name=name)


def _node(name: str, pk: int) -> Node:
    return get_object_or_404(Node.objects.select_related("cluster"), pk=pk, cluster__name=name)


def node_list(request: HttpRequest, name: str) -> HttpResponse:
    """A page of the cluster's nodes, filtered by GET parameters (a bad one is said, and ignored)."""
    cluster = _cluster(name)
    listing = node_list_page(cluster, request.GET)
    return render(request, "inventory/node_list.html", {"cluster": cluster, "listing": listing, "rows": listing.rows},
                  status=400 if listing.filters.errors else 200)


def node_detail(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    """The node's page; for htmx, just its row in the node list (polled while a push runs)."""
    node = _node(name, pk)
    row = node_rows(node.cluster, node_id=node.pk)[0]
    if wants_fragment(request):
        return render(request, "inventory/partials/_node_row.html", {"cluster": node.cluster, "row": row})
    results = node.push_results.select_related("job").order_by("-id")[:20]
    return render(request, "inventory/node_detail.html", {"cluster": node.cluster, "node": node, "row": row,
                                                          "results": results,
                                                          "approval_refusal": approval_refusal(node, request.user),
                                                          "jump": jump_for(node),
                                                          "jump_own": node_jump_choice(node) != CLUSTERS})


@require_role(OPERATOR)
def node_create(request: HttpRequest, name: str) -> HttpResponse:
    cluster = _cluster(name)
    form = NodeForm(request.POST or None, cluster=cluster)
    if request.method == "POST" and form.is_valid():
        node = node_save(form=form)
        messages.success(request, f"Node {node.name} added. Scan and approve its host key before pushing.")
        return redirect("node-detail", cluster.name, node.pk)
    return render(request, "inventory/node_form.html", {"cluster": cluster, "form": form},
                  status=400 if form.errors else 200)


@require_role(OPERATOR)
def node_edit(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    node = _node(name, pk)
    form = NodeForm(request.POST or None, instance=node, cluster=node.cluster)
    if request.method == "POST" and form.is_valid():
        node_save(form=form)
        messages.success(request, f"Node {node.name} saved.")
        return redirect("node-detail", node.cluster.name, node.pk)
    return render(request, "inventory/node_form.html", {"cluster": node.cluster, "form": form, "node": node},
                  status=400 if form.errors else 200)


@require_role(OPERATOR)
def node_delete(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    node = _node(name, pk)
    if request.method == "POST":
        node_delete_service(node=node)
        messages.success(request, f"Node {node.name} removed from regui (nothing changed on it).")
        return redirect("node-list", name)
    return render(request, "inventory/node_delete.html", {"cluster": node.cluster, "node": node})


@require_role(OPERATOR)
def node_bulk(request: HttpRequest, name: str) -> HttpResponse:
    cluster = _cluster(name)
    form = BulkNodesForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            nodes = nodes_bulk_create(cluster=cluster, text=data["lines"], ssh_user=data["ssh_user"],
                                      credential_kind=data["credential_kind"], credential=data["credential"],
                                      use_sudo=data["use_sudo"], shared=data.get("shared_credential"))
        except NodeError as exc:
            form.add_error("lines", str(exc).splitlines())  # one error a line, each said apart
        else:
            messages.success(request, f"Added {len(nodes)} node(s). Scan and approve their host keys before pushing.")
            return redirect("node-list", cluster.name)
    return render(request, "inventory/node_bulk.html", {"cluster": cluster, "form": form},
                  status=400 if form.errors else 200)


@require_role(OPERATOR)
def node_scan(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    node = _node(name, pk)
    if request.method == "POST":
        try:
            key = node_scan_host_key(node=node)
        except NodeError as exc:
            messages.error(request, f"Scan of {node.name} failed: {exc}")
        else:
            scan_reported(request, node, key)
    return redirect("node-detail", name, pk)


@require_role(OPERATOR)
def node_approve(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    node = _node(name, pk)
    if request.method == "POST":
        try:
            node_approve_host_key(node=node, fingerprint=request.POST.get("fingerprint", ""), user=request.user)
        except NodeError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Host key {node.host_key_fingerprint} approved for {node.name}.")
    return redirect("node-detail", name, pk)


@require_role(OPERATOR)
def node_import(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    """Read the node's registries.yaml, show it redacted, import it on confirmation.

    The file holds credentials in clear text, so it never goes to the browser: between the two
    steps it waits in the session, encrypted with the key ring."""
    node = _node(name, pk)
    if request.method != "POST":
        return redirect("node-detail", name, pk)
    key = f"node-import-{node.pk}"
    if request.POST.get("confirm"):
        sealed = request.session.pop(key, None)
        if not sealed:
            messages.error(request, "Nothing to import any more: read the node's file again.")
            return redirect("node-detail", name, pk)
        text = sealing.unseal(sealed)
        if node_file_is_current(node, text):  # the same for every role: no exception, no guess answered
            messages.info(request, unchanged_import_message(node))
            return redirect("cluster-registries", name)
        try:
            result = registries_import(cluster=node.cluster, text=text,
                                       replace=bool(request.POST.get("replace")), user=request.user,
                                       typed=False, ours=node_file_is_ours(node, text))
        except ImportRefused as exc:
            messages.error(request, f"{exc} {' '.join(exc.details)}")
            return redirect("node-detail", name, pk)
        (messages.success if result.saved else messages.info)(request, f"From {node.name}: {result.summary()}")
        for warning in result.warnings:
            messages.warning(request, warning)
        return redirect("cluster-registries", name)
    try:
        text = node_read_registries(node=node)
    except NodeError as exc:
        messages.error(request, f"Import from {node.name} failed: {exc}")
        return redirect("node-detail", name, pk)
    preview, refused = node_file_shown(text, f"{node.name}'s file", node.cluster.get_distro_display(),
                                       ours=node_file_is_ours(node, text))
    request.session[key] = sealing.seal(text)  # refused or not: a confirmation sent anyway says why, in full
    return render(request, "inventory/node_import.html", {
        "cluster": node.cluster, "node": node, "preview": preview, "refused": refused,
    })
