"""One answer to "fragment or full page?" for every URL that serves both."""

from __future__ import annotations

from django.http import HttpRequest


def wants_fragment(request: HttpRequest) -> bool:
    """An htmx request wants the part that changes; but when htmx restores a page it no longer has
    cached (Back after a reload), it asks for the whole page."""
    htmx = getattr(request, "htmx", None)
    return htmx is not None and bool(htmx) and not htmx.history_restore_request
