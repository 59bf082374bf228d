"""What the Registries page's URLs share: the size check of a posted form, and the page's two sections
(Mirrors, Registry Authentication) as htmx out-of-band swaps, what restoring unsaved edits, applying
YAML and a save send back, so that the form changes in place (no reload: passwords typed in it and
what the rest of the page holds stay) and the preview and insight tabs follow."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ..draft import ConfigBox, Draft, EndpointRow, MirrorBox, new_token, too_big
from ..models import Cluster
from ..selectors import secrets_for_choice

SECTIONS = "registries/partials/_form_sections.html"
# After the swap: the preview listens for this on <body> (the element that asked may be gone by then).
CHANGED = json.dumps({"regui:changed": {"target": "body"}})


def with_empty_boxes(draft: Draft) -> Draft:
    # Like Rancher, an empty section starts with one empty box to fill in.
    return replace(draft, mirrors=draft.mirrors or [MirrorBox(new_token(), endpoints=[EndpointRow(new_token())])],
                   configs=draft.configs or [ConfigBox(new_token())])


def render_sections(request: HttpRequest, cluster: Cluster, draft: Draft, template: str,
                    context: dict[str, Any]) -> HttpResponse:
    """`template` (the answer for the request's own target), which includes `sections`: the boxes
    of `draft`, swapped out of band into the form."""
    response = render(request, template, {
        "errors": {}, **context, "cluster": cluster, "draft": with_empty_boxes(draft),
        "secret_choices": secrets_for_choice(cluster), "sections": SECTIONS,
    })
    response["HX-Trigger-After-Settle"] = CHANGED
    response["Cache-Control"] = "no-store"  # it may hold a password typed into the YAML view
    return response


def refused_unread(request: HttpRequest) -> str | None:
    """Why the posted form is too big to read: decided from its Content-Length, before Django
    parses the body (Django alone would read up to DATA_UPLOAD_MAX_MEMORY_SIZE, 2.5 MB)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return too_big(length)
