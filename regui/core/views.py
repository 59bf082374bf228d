from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from .forms import UserCreateForm, UserRoleForm
from .roles import ADMIN, require_role, role_of
from .services import user_set_role


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
    return render(request, "core/user_list.html", {"users": users, "form": form})


@require_role(ADMIN)
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    form = UserRoleForm(request.POST or None, initial={"role": role_of(user) or "", "is_active": user.is_active})
    if request.method == "POST" and form.is_valid():
        if user == request.user and (form.cleaned_data["role"] != ADMIN or not form.cleaned_data["is_active"]):
            messages.error(request, "You cannot remove your own admin role or deactivate yourself.")
        else:
            user_set_role(user=user, role=form.cleaned_data["role"], active=form.cleaned_data["is_active"])
            messages.success(request, f"User {user.username} saved.")
            return redirect("user-list")
    return render(request, "core/user_edit.html", {"form": form, "subject": user})
