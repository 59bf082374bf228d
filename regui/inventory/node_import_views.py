"""Import nodes from an Ansible inventory or `kubectl get nodes -o json`: paste, preview, confirm."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from regui.core.roles import OPERATOR, require_role
from regui.registries.models import Cluster

from .forms import _clean_credential, _credential_field, checked_user, shared_credential_field
from .inventory_files import FORMATS
from .jumphosts.models import ClusterJumpHost
from .models import Node
from .node_import import nodes_import, nodes_parse


class ImportNodesForm(forms.Form):
    text = forms.CharField(
        label="Inventory", strip=False,
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false", "class": "mono",
                                     "placeholder": "[server]\n10.0.0.11\n\n[agent]\n10.0.0.21\n\n"
                                                    "[k3s_cluster:children]\nserver\nagent"}),
        help_text="An Ansible inventory (INI or YAML; groups server/agent, master/node, k3s_cluster; "
                  "ansible_host, ansible_port, ansible_user), or the output of `kubectl get nodes -o json`.")
    format = forms.ChoiceField(choices=[("auto", "recognise it"), *FORMATS.items()], initial="auto")
    ssh_user = forms.CharField(initial="root", label="SSH user", help_text="For hosts without ansible_user.",
                               max_length=Node._meta.get_field("ssh_user").max_length)
    use_sudo = forms.BooleanField(required=False, label="Use sudo")

    def clean_ssh_user(self) -> str:
        return checked_user(self.cleaned_data["ssh_user"])


class ConfirmImportForm(ImportNodesForm):
    shared_credential = shared_credential_field()
    credential_kind = forms.ChoiceField(choices=Node.Credential.choices, label="Credential")
    credential = _credential_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("text", "format", "ssh_user", "use_sudo"):
            self.fields[name].widget = forms.HiddenInput()
        self.fields["credential"].help_text = ("For every imported node; or none, and enter each node's "
                                               "on its page before pushing.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("credential") and data.get("shared_credential"):
            self.add_error("credential", "Choose a shared credential or type one, not both.")
        _clean_credential(self, data)
        return data


def _cluster(name: str) -> Cluster:
    return get_object_or_404(Cluster, name=name)


def _cluster_jump(cluster: Cluster) -> str:
    """The name of the jump host the cluster's nodes go through ("" for none): the preview's Jump host
    column says it for the nodes that name none of their own."""
    link = ClusterJumpHost.objects.filter(cluster=cluster).select_related("jump_host").first()
    return link.jump_host.name if link else ""


@require_role(OPERATOR)
def nodes_import_page(request: HttpRequest, name: str) -> HttpResponse:
    """The paste form; posting it shows what would be added (nothing is saved)."""
    cluster = _cluster(name)
    form = ImportNodesForm(request.POST or None)
    # "Back" from the preview posts what was pasted: the form comes back filled in, to be corrected.
    if request.method == "POST" and "edit" not in request.POST and form.is_valid():
        d = form.cleaned_data
        parsed = nodes_parse(cluster=cluster, text=d["text"], format=d["format"])
        confirm = ConfirmImportForm(initial={**d, "format": parsed.format})
        return render(request, "inventory/node_import_preview.html",
                      {"cluster": cluster, "parsed": parsed, "form": confirm, "ssh_user": d["ssh_user"], "back": d,
                       "cluster_jump": _cluster_jump(cluster)})
    return render(request, "inventory/node_import_inventory.html", {"cluster": cluster, "form": form},
                  status=400 if form.errors else 200)


@require_POST
@require_role(OPERATOR)
def nodes_import_confirm(request: HttpRequest, name: str) -> HttpResponse:
    cluster = _cluster(name)
    form = ConfirmImportForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        nodes = nodes_import(cluster=cluster, text=d["text"], format=d["format"], ssh_user=d["ssh_user"],
                             use_sudo=d["use_sudo"], credential_kind=d["credential_kind"],
                             credential=d["credential"], shared=d["shared_credential"], user=request.user)
        messages.success(request, f"Imported {len(nodes)} node(s). Scan and approve their host keys before pushing.")
        return redirect("node-list", cluster.name)
    parsed = nodes_parse(cluster=cluster, text=form.data.get("text", ""), format=form.data.get("format", "auto"))
    back = {key: form.data.get(key, "") for key in ("text", "format", "ssh_user")}
    back["use_sudo"] = form.fields["use_sudo"].to_python(form.data.get("use_sudo"))  # hidden: "True"/"False"
    return render(request, "inventory/node_import_preview.html",
                  {"cluster": cluster, "parsed": parsed, "form": form, "ssh_user": form.data.get("ssh_user"),
                   "back": back, "cluster_jump": _cluster_jump(cluster)}, status=400)


urlpatterns = [
    path("clusters/<slug:name>/nodes/import-inventory/", nodes_import_page, name="nodes-import"),
    path("clusters/<slug:name>/nodes/import-inventory/confirm/", nodes_import_confirm, name="nodes-import-confirm"),
]
