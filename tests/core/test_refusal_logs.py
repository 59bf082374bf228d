"""An expected refusal is one log line: a viewer opening a cluster's edit page by URL is refused with a
403 that django.request logs as a warning, and a platform engineer reading the logs wants that line, not
the traceback of the PermissionDenied that made it. A 500 keeps its traceback: that is a bug to read.
Both through the LOGGING config regui runs with (its console handler)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import include, path

import regui.urls

pytestmark = pytest.mark.django_db


def boom(request):
    raise RuntimeError("a bug in a view")


urlpatterns = [path("boom/", boom), path("", include(regui.urls))]


@pytest.fixture
def console() -> Iterator[io.StringIO]:
    """What regui's console handler writes, while the test runs."""
    handler = next(h for h in logging.getLogger().handlers if type(h) is logging.StreamHandler)  # not pytest's
    out = io.StringIO()
    old = handler.setStream(out)
    try:
        yield out
    finally:
        handler.setStream(old)


def test_a_viewer_refused_an_edit_page_is_one_warning_line_without_a_traceback(viewer_client, cluster, console):
    assert viewer_client.get(f"/clusters/{cluster.name}/edit/").status_code == 403
    lines = console.getvalue().splitlines()
    assert [line.split(" ", 3)[2:] for line in lines] == [
        ["WARNING", f"django.request Forbidden (Permission denied): /clusters/{cluster.name}/edit/ "
                    "(This needs the operator role.)"]], lines


def test_a_suspicious_request_refused_with_a_400_is_one_line_too(viewer_client, console):
    assert viewer_client.get("/", HTTP_HOST="evil.example").status_code == 400
    lines = console.getvalue().splitlines()
    assert len(lines) == 1 and "ERROR django.security.DisallowedHost Invalid HTTP_HOST header" in lines[0], lines


@pytest.mark.urls(__name__)
def test_a_server_error_still_logs_its_traceback(make_user, console):
    client = Client(raise_request_exception=False)
    client.force_login(make_user("alice", "admin"))
    assert client.get("/boom/").status_code == 500
    text = console.getvalue()
    assert "ERROR django.request Internal Server Error: /boom/" in text
    assert "Traceback (most recent call last)" in text and "RuntimeError: a bug in a view" in text
