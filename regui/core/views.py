from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy

from regui.audit.logins import THROTTLED, ThrottledAuthenticationForm
from regui.audit.services import audit_object, sealed_change

from .forms import UserCreateForm, UserRoleForm
from .roles import ADMIN, ROLE_SUMMARIES, ROLES, require_role, role_of
from .services import user_set_role


class LoginView(auth_views.LoginView):
    """Django's login, throttled (regui/audit/logins.py): a refused attempt answers 429."""

    form_class = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def form_invalid(self, form: ThrottledAuthenticationForm) -> HttpResponse:  # type: ignore[override]
        response = super().form_invalid(form)
        # A refused login is a 400 as any form's errors (Django answers 200), so logs count it as refused.
        throttled = any(e.code == THROTTLED for e in form.non_field_errors().as_data())
        response.status_code = 429 if throttled else 400
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """Everyone changes their own password here; their other sessions end (Django's session auth
    hash), this one goes on, and history records that it changed."""

    template_name = "registration/password_change.html"
    success_url = reverse_lazy("cluster-list")

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        response = super().form_valid(form)
        audit_object(form.user, "update", {"password": sealed_change(True)})
        messages.success(self.request, "Password changed. Your other sessions have ended.")
        return response

    def form_invalid(self, form: PasswordChangeForm) -> HttpResponse:
        response = super().form_invalid(form)
        response.status_code = 400  # the fields to fix, as every form of regui answers them (Django: 200)
        return response


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: Django's own says nothing; a view that raises BadRequest says what was wrong."""
    return render(request, "400.html", {"exception": str(exception)}, status=400)


@login_not_required
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@require_role(ADMIN)
def user_list(request: HttpRequest) -> HttpResponse:
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        user_set_role(user=user, role=form.cleaned_data["role"], created=True)
        messages.success(request, f"User {user.username} created.")
        return redirect("user-list")
    users = [(u, role_of(u)) for u in User.objects.prefetch_related("groups").order_by("username")]
    return render(request, "core/user_list.html", {"users": users, "form": form,
                                                   "role_summaries": [(r.capitalize(), ROLE_SUMMARIES[r]) for r in ROLES]},
                  status=400 if form.errors else 200)


@require_role(ADMIN)
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    form = UserRoleForm(request.POST or None, initial={"role": role_of(user) or "", "is_active": user.is_active})
    refused = False
    if request.method == "POST" and form.is_valid():
        if user == request.user and (form.cleaned_data["role"] != ADMIN or not form.cleaned_data["is_active"]):
            messages.error(request, "You cannot remove your own admin role or deactivate yourself.")
            refused = True
        else:
            user_set_role(user=user, role=form.cleaned_data["role"], active=form.cleaned_data["is_active"])
            messages.success(request, f"User {user.username} saved.")
            return redirect("user-list")
    return render(request, "core/user_edit.html", {"form": form, "subject": user},
                  status=400 if refused or form.errors else 200)
