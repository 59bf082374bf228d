from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from regui.audit.services import audit_object
from regui.core.roles import ADMIN, OPERATOR, has_role, require_role

from ..forms import SecretForm
from ..models import Secret
from ..selectors import secret_node_state
from ..services import InvalidDraft, SecretInUse, secret_delete, secret_save, secret_users
from ..sharing import secret_change_refusal


def secret_list(request: HttpRequest) -> HttpResponse:
    secrets = Secret.objects.select_related("cluster").prefetch_related("shared_with")
    return render(request, "registries/secret_list.html", {
        "rows": [(s, not secret_change_refusal(request.user, s)) for s in secrets], "kinds": Secret.Kind.choices,
    })


def _changeable(request: HttpRequest, name: str) -> Secret:
    """The secret, if this user may change it (403 with the reason otherwise)."""
    secret = get_object_or_404(Secret, name=name)
    if refusal := secret_change_refusal(request.user, secret):
        raise PermissionDenied(refusal)
    return secret


def _back(request: HttpRequest) -> str | None:
    """Where `next` says to go after the form (the Registries page that linked here), if it is this site's."""
    target = request.GET.get("next", "")
    ok = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return target if ok and target.startswith("/") else None


def _form_page(request: HttpRequest, form: SecretForm, secret: Secret | None) -> HttpResponse:
    if request.method == "POST" and form.is_valid():
        before = secret_node_state(secret) if secret else None
        try:
            saved = secret_save(data=form.to_input(), existing=secret, user=request.user)
        except InvalidDraft as exc:
            for field, problems in exc.errors.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
        else:
            # Rancher rolls a changed secret out to every node; regui changes none until a push.
            users = secret_users(saved) if before and secret_node_state(saved) != before else []
            if users:
                messages.success(request, f"Secret {saved.name} saved. No node has its new values until you "
                                          f"push: it is used by {', '.join(users)}.")
            elif saved.changed:
                messages.success(request, f"Secret {saved.name} saved.")
            else:
                messages.info(request, f"Nothing changed in secret {saved.name}: nothing was saved.")
            return redirect(_back(request) or "secret-list")
    return render(request, "registries/secret_form.html", {
        "form": form, "secret": secret, "kind_label": Secret.Kind(form.kind).label, "back": _back(request),
    }, status=400 if form.errors else 200)


@require_role(OPERATOR)
def secret_create(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "basic")
    if kind not in Secret.Kind.values:
        raise Http404("Unknown secret type.")
    form = SecretForm(request.POST or None, kind=kind, admin=has_role(request.user, ADMIN),
                      initial={"cluster": request.GET.get("cluster", "")})
    return _form_page(request, form, None)


@require_role(OPERATOR)
def secret_edit(request: HttpRequest, name: str) -> HttpResponse:
    secret = _changeable(request, name)
    form = SecretForm(request.POST or None, kind=secret.kind, instance=secret, admin=has_role(request.user, ADMIN))
    return _form_page(request, form, secret)


@require_role(OPERATOR)
def secret_remove(request: HttpRequest, name: str) -> HttpResponse:
    secret = _changeable(request, name)
    users = secret_users(secret)
    if request.method == "POST":
        try:
            secret_delete(secret=secret, user=request.user)
        except SecretInUse as exc:
            messages.error(request, str(exc))
            return redirect("secret-list")
        messages.success(request, f"Secret {name} deleted.")
        return redirect("secret-list")
    return render(request, "registries/secret_delete.html", {"secret": secret, "users": users})


@require_role(ADMIN)
def secret_reveal(request: HttpRequest, name: str) -> HttpResponse:
    if request.method != "POST":
        return render(request, "registries/secret_reveal.html", {"secret": get_object_or_404(Secret, name=name)})
    secret = get_object_or_404(Secret, name=name)
    audit_object(secret, "reveal")
    # Each value named as the secret's form names its field (Rancher's words), not by its stored key.
    fields = SecretForm.base_fields
    values = [(fields[k].label if k in fields else k, v) for k, v in secret.unseal().items()]
    response = render(request, "registries/secret_reveal.html", {"secret": secret, "values": values})
    response["Cache-Control"] = "no-store"
    return response
