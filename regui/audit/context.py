"""Who is acting, in which request: set per request by the middleware, and by tasks for their job."""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.conf import settings


def _no_note() -> str:
    return ""


@dataclass(frozen=True)
class Actor:
    user_id: int | None = None
    username: str = ""
    request_id: str = ""
    source_ip: str | None = None
    # What the person typed in the form's "Note for the history" box: goes with every entry the
    # request makes. Read when the first entry is written, so the body of a request that login or
    # CSRF refuses is never read for it.
    note_source: Callable[[], str] = field(default=_no_note, compare=False, repr=False)

    @property
    def note(self) -> str:
        return self.note_source()[:500]


_NOBODY = Actor()
_current: ContextVar[Actor] = ContextVar("regui_audit_actor", default=_NOBODY)  # noqa: B039 (frozen)


def current() -> Actor:
    return _current.get()


@contextmanager
def acting(user=None, *, request_id: str = "", source_ip: str | None = None, username: str = "",
           user_id: int | None = None, note: str | Callable[[], str] = "") -> Iterator[Actor]:
    actor = Actor(
        user_id=getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else user_id,
        username=username or (getattr(user, "username", "") if getattr(user, "is_authenticated", False) else ""),
        request_id=request_id or str(uuid.uuid4()),
        source_ip=source_ip,
        note_source=note if callable(note) else (lambda: note),
    )
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)


def _valid_ip(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The client's address, as valid IP text or None.

    Behind REGUI_TRUSTED_PROXIES reverse proxies, REMOTE_ADDR is the nearest proxy, and each proxy
    appends the address it saw to X-Forwarded-For. The client writes whatever it likes to the left
    of those, so the address is the one the outermost trusted proxy appended: the Nth from the
    right. A header with fewer entries than that did not come through all the proxies: unknown.
    """
    proxies = getattr(settings, "REGUI_TRUSTED_PROXIES", 0)
    if proxies > 0:
        # Several headers are joined with commas by the server, as RFC 9110 allows.
        hops = [h for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        return _valid_ip(hops[-proxies]) if len(hops) >= proxies else None
    return _valid_ip(request.META.get("REMOTE_ADDR") or "")


def posted_note(request) -> str:
    """The form's optional "message" (a note for the history, or a revision's message)."""
    return request.POST.get("message", "").replace("\0", "").strip()[:500]


class AuditMiddleware:
    """Every request gets an id; changes it makes are recorded with it, the user and the address."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        # Lazily: this runs before the login and CSRF checks, which must refuse a request unread.
        note = (lambda: posted_note(request)) if request.method == "POST" else ""
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
    with acting(user, request_id=now.request_id, source_ip=now.source_ip, note=now.note_source) as actor:
        yield actor
