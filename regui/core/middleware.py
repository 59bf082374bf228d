from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.urls import reverse

from .roles import role_of


class RoleRequiredMiddleware:
    """A logged-in account with no role (or deactivated) reads nothing; login pages stay open."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.open_paths: tuple[str, ...] | None = None

    def __call__(self, request: HttpRequest):
        if self.open_paths is None:
            self.open_paths = (reverse("login"), reverse("logout"), reverse("healthz"), "/static/")
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated and role_of(user) is None
                and not request.path.startswith(self.open_paths)):
            raise PermissionDenied("Your account has no role yet: ask an admin for viewer, operator or admin.")
        return self.get_response(request)
