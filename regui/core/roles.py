"""Three roles, kept as Django groups: viewer < operator < admin. Superusers are admins."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

VIEWER, OPERATOR, ADMIN = "viewer", "operator", "admin"
ROLES = (VIEWER, OPERATOR, ADMIN)
# What each role may do, as the Users page says it (the README's Roles section has the details).
ROLE_SUMMARIES = {
    VIEWER: "reads everything, secrets redacted.",
    OPERATOR: "edits clusters, registries and nodes, makes and changes a cluster's own secrets, scans host keys, "
              "pushes, and restores revisions.",
    ADMIN: "also manages users, approves host keys, shares secrets between clusters, reveals secret values and "
           "downloads the real registries.yaml (alone, or with its TLS files).",
}
_RANK = {None: 0, VIEWER: 1, OPERATOR: 2, ADMIN: 3}


def role_of(user: Any) -> str | None:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return ADMIN
    if hasattr(user, "_regui_role"):  # worked out earlier for this user object
        return user._regui_role
    names = set(user.groups.values_list("name", flat=True))
    role = next((r for r in reversed(ROLES) if r in names), None)
    user._regui_role = role
    return role


def has_role(user: Any, role: str) -> bool:
    return _RANK[role_of(user)] >= _RANK[role]


def require_role(role: str) -> Callable:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if not has_role(request.user, role):
                raise PermissionDenied(f"This needs the {role} role.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def role_context(request: HttpRequest) -> dict[str, Any]:
    role = role_of(getattr(request, "user", None))
    return {
        "role": role,
        "can_edit": _RANK[role] >= _RANK[OPERATOR],
        "is_admin": role == ADMIN,
    }
