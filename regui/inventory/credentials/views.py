from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from regui.core.roles import ADMIN, OPERATOR, require_role
from regui.inventory.models import Node
from regui.inventory.trust import approvers

from .forms import NodeCredentialForm, RotateForm, SharedCredentialForm
from .models import NodeCredential, SharedCredential
from .services import (
    CredentialError,
    credential_create,
    credential_delete,
    credential_rotate,
    jump_host_names,
    node_use_credential,
)

ROTATE_NAMED = 10  # nodes named on the rotate page; the rest are counted


@require_role(ADMIN)
def credential_list(request: HttpRequest) -> HttpResponse:
    form = SharedCredentialForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            credential_create(user=request.user, name=d["name"], kind=d["kind"], value=d["value"],
                              passphrase=d["passphrase"])
        except CredentialError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Shared credential {d['name']} created.")
            return redirect("ssh-credentials")
    credentials = SharedCredential.objects.annotate(nodes=Count("uses")).order_by("name")
    return render(request, "credentials/credential_list.html", {"credentials": credentials, "form": form},
                  status=400 if form.errors else 200)


@require_role(ADMIN)
def credential_rotate_view(request: HttpRequest, credential: str) -> HttpResponse:
    shared = get_object_or_404(SharedCredential, name=credential)
    form = RotateForm(request.POST or None, initial={"kind": shared.kind})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        credential_rotate(user=request.user, credential=shared, value=d["value"], passphrase=d["passphrase"],
                          kind=d["kind"])
        nodes = shared.uses.count()
        jumps = jump_host_names(shared)
        parts = [f"{nodes} node{'' if nodes == 1 else 's'}"] if nodes or not jumps else []
        if jumps:
            parts.append(f"jump host{'s' if len(jumps) > 1 else ''} {', '.join(jumps)}")
        verb = "uses" if len(parts) == 1 and (nodes == 1 or (not nodes and len(jumps) == 1)) else "use"
        messages.success(request, f"Rotated {shared.name}: {' and '.join(parts)} {verb} the new value from the "
                                  "next connection.")
        return redirect("ssh-credentials")
    # Who must have the new value first: a key of thousands of nodes names the first few and counts the rest.
    users = Node.objects.filter(shared_credential__credential=shared).select_related("cluster")
    count = users.count()
    named = list(users.order_by("cluster__name", "name")[:ROTATE_NAMED])
    return render(request, "credentials/credential_rotate.html",
                  {"credential": shared, "form": form, "nodes": named, "node_count": count,
                   "more": count - len(named), "jumps": jump_host_names(shared)},
                  status=400 if form.errors else 200)


@require_POST
@require_role(ADMIN)
def credential_delete_view(request: HttpRequest, credential: str) -> HttpResponse:
    shared = get_object_or_404(SharedCredential, name=credential)
    try:
        credential_delete(user=request.user, credential=shared)
    except CredentialError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Deleted {shared.name}.")
    return redirect("ssh-credentials")


@require_role(OPERATOR)
def node_credential(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    node = get_object_or_404(Node.objects.select_related("cluster"), cluster__name=name, pk=pk)
    link = NodeCredential.objects.filter(node=node).select_related("credential").first()
    form = NodeCredentialForm(request.POST or None, initial={"credential": link.credential if link else None})
    if request.method == "POST" and form.is_valid():
        try:
            node_use_credential(node=node, credential=form.cleaned_data["credential"], user=request.user)
        except CredentialError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"{node.name} now logs in with "
                                      f"{form.cleaned_data['credential'] or 'its own credential'}.")
            if form.cleaned_data["credential"] and not node.has_approved_key:
                messages.warning(request, f"Nothing is sent to {node.name} until {approvers()} approves its host "
                                          "key for the shared credential.")
            return redirect(node.get_absolute_url())
    return render(request, "credentials/node_credential.html", {"node": node, "cluster": node.cluster,
                                                               "form": form, "link": link},
                  status=400 if form.errors else 200)
