"""Who is acting, in which request: set per request by the middleware, and by tasks for their job."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class Actor:
    user_id: int | None = None
    username: str = ""
    request_id: str = ""
    source_ip: str | None = None
    # What the person typed in the form's "Note for the history" box: goes with every entry the request makes.
    note: str = ""


_NOBODY = Actor()
_current: ContextVar[Actor] = ContextVar("regui_audit_actor", default=_NOBODY)  # noqa: B039 (frozen)


def current() -> Actor:
    return _current.get()


@contextmanager
def acting(user=None, *, request_id: str = "", source_ip: str | None = None, username: str = "",
           user_id: int | None = None, note: str = "") -> Iterator[Actor]:
    actor = Actor(
        user_id=getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else user_id,
        username=username or (getattr(user, "username", "") if getattr(user, "is_authenticated", False) else ""),
        request_id=request_id or str(uuid.uuid4()),
        source_ip=source_ip,
        note=note[:500],
    )
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)


def client_ip(request) -> str | None:
    # Behind a proxy, REMOTE_ADDR is the proxy; trusting X-Forwarded-For is a deployment decision.
    if getattr(settings, "REGUI_TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def posted_note(request) -> str:
    """The form's optional "message" (a note for the history, or a revision's message)."""
    return request.POST.get("message", "").replace("\0", "").strip()[:500]


class AuditMiddleware:
    """Every request gets an id; changes it makes are recorded with it, the user and the address."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        note = posted_note(request) if request.method == "POST" else ""
        with acting(user, source_ip=client_ip(request), note=note) as actor:
            request.audit_request_id = actor.request_id
            response = self.get_response(request)
        response["X-Request-ID"] = actor.request_id
        return response


@contextmanager
def acting_as(user) -> Iterator[Actor]:
    """Name `user` as the actor where no request did (a command, a test, a task), keeping the request id."""
    now = current()
    if now.user_id is not None or not getattr(user, "is_authenticated", False):
        yield now
        return
    with acting(user, request_id=now.request_id, source_ip=now.source_ip, note=now.note) as actor:
        yield actor
