from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from .crypto import KeyringError
from .roles import role_of

log = logging.getLogger(__name__)


class RoleRequiredMiddleware:
    """A logged-in account with no role (or deactivated) reads nothing; login pages, and changing
    one's own password, stay open."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.open_paths: tuple[str, ...] | None = None

    def __call__(self, request: HttpRequest):
        if self.open_paths is None:
            self.open_paths = (reverse("login"), reverse("logout"), reverse("password-change"), reverse("healthz"),
                               "/static/")
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated and role_of(user) is None
                and not request.path.startswith(self.open_paths)):
            raise PermissionDenied("Your account has no role yet: ask an admin for viewer, operator or admin.")
        return self.get_response(request)


class BodyLimitMiddleware:
    """Refuse a body larger than REGUI_MAX_REQUEST_BYTES (REGUI_MAX_ANONYMOUS_REQUEST_BYTES before
    login) by its declared length, before anything reads it. Django's own limits count form fields,
    not uploaded files, which it spools to disk as they arrive."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django then reads nothing either
        if length > settings.REGUI_MAX_ANONYMOUS_REQUEST_BYTES:
            user = getattr(request, "user", None)
            limit = (settings.REGUI_MAX_REQUEST_BYTES if user is not None and user.is_authenticated
                     else settings.REGUI_MAX_ANONYMOUS_REQUEST_BYTES)
            if length > limit:
                return HttpResponse(f"The request is larger than {limit} bytes.\n", status=413,
                                    content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class KeyringErrorMiddleware:
    """A stored value that no key of REGUI_ENCRYPTION_KEYS opens (a key dropped before rotate_secret_keys
    re-encrypted it) is no bug: any page that needed it says which value and what to do, as a 409."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, KeyringError):
            return None
        log.warning("%s %s: %s", request.method, request.path, exception)
        return render(request, "core/keyring_error.html", {"reason": str(exception)}, status=409)


class HealthCheckMiddleware:
    """/healthz answers before anything looks at the request's Host: a container's health check asks
    127.0.0.1:8000, which REGUI_ALLOWED_HOSTS (the names users reach regui by) need not hold, and was
    refused 400 there, so the container never became healthy. It reads nothing and says only "ok"."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if request.path_info == "/healthz" and request.method in ("GET", "HEAD"):
            return HttpResponse("ok", content_type="text/plain")
        return self.get_response(request)
