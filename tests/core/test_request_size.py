"""A request body is read only once the request may be served: a big one is refused by its declared
length, an anonymous one where a login is needed goes to the login page, both unread."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.pages import confirm_import

pytestmark = pytest.mark.django_db

BIG = 150 * 1024 * 1024
MULTIPART = "multipart/form-data; boundary=xyz"


class Tripwire:
    """A request body that records whether anything read it (and serves a small form if so)."""

    def __init__(self, data: bytes = b"") -> None:
        self.data, self.reads = data, 0

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        chunk, self.data = (self.data, b"") if size is None or size < 0 else (self.data[:size], self.data[size:])
        return chunk

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)


def csrf_client(**defaults) -> Client:
    """A client holding a CSRF cookie, as any visitor of the login page does."""
    client = Client(enforce_csrf_checks=True, **defaults)
    client.get("/login/")
    assert "csrftoken" in client.cookies
    return client


def post(client: Client, path: str, length: int, body: Tripwire):
    return client.generic("POST", path, b"", MULTIPART, **{"wsgi.input": body, "CONTENT_LENGTH": str(length)})


def test_an_anonymous_150_mb_upload_is_refused_unread():
    body = Tripwire()
    r = post(csrf_client(), "/clusters/prod/import/", BIG, body)
    assert r.status_code == 413 and body.reads == 0


def test_an_anonymous_post_to_a_page_that_needs_a_login_goes_to_the_login_unread():
    body = Tripwire(b"--xyz\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nhi\r\n--xyz--\r\n")
    r = post(csrf_client(), "/clusters/prod/import/", 60, body)
    assert r.status_code == 302 and r["Location"].startswith("/login/") and body.reads == 0


def test_a_big_anonymous_post_to_the_login_page_is_refused_unread():
    body = Tripwire()
    r = post(csrf_client(), "/login/", 1024 * 1024, body)
    assert r.status_code == 413 and body.reads == 0


def test_a_logged_in_user_is_refused_a_body_over_the_limit_unread(operator_client, cluster):
    body = Tripwire()
    r = post(operator_client, "/clusters/prod/import/", BIG, body)
    assert r.status_code == 413 and body.reads == 0


def test_a_logged_in_user_can_still_import_a_file(operator_client, cluster):
    text = 'mirrors:\n  docker.io:\n    endpoint: ["https://m.example.com"]\n'
    from django.core.files.uploadedfile import SimpleUploadedFile

    r = operator_client.post("/clusters/prod/import/", {"file": SimpleUploadedFile("r.yaml", text.encode())})
    assert r.status_code == 200 and 'id="import-preview"' in r.content.decode()
    assert confirm_import(operator_client, "prod", r).status_code == 302


def test_uploads_under_the_limit_are_never_spooled_to_a_temporary_file(settings):
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE >= settings.REGUI_MAX_REQUEST_BYTES
