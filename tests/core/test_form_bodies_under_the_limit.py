"""A form body under REGUI_MAX_REQUEST_BYTES reaches its view, which says in its own words what it
refuses. Django's CSRF check reads the form before any view does: under Django's default
DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) a pasted 3 MB file got a bare 400 naming that setting."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

PASTED = "mirrors:\n" + "".join(f'  r{i}.example.com:\n    endpoint: ["https://m{i}.example.com"]\n'
                                for i in range(52000))


@pytest.fixture
def browser_like(make_user, cluster) -> Client:
    """A logged-in client whose posts pass Django's CSRF check as a browser's do (the check reads the form)."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("olivia", "operator"))
    client.get(f"/clusters/{cluster.name}/import/")
    return client


def post(client: Client, path: str, data: dict) -> str:
    response = client.post(path, {**data, "csrfmiddlewaretoken": client.cookies["csrftoken"].value})
    return response.content.decode()


def test_the_pasted_file_is_big_enough_to_pass_djangos_default_form_limit(settings):
    assert 2_621_440 < len(PASTED.encode()) < settings.REGUI_MAX_REQUEST_BYTES


def test_a_3_mb_file_pasted_into_the_import_is_refused_by_the_import_in_words(browser_like, cluster):
    html = post(browser_like, f"/clusters/{cluster.name}/import/", {"text": PASTED})
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE" not in html
    assert "regui does not import this file" in html


def test_a_3_mb_text_applied_from_edit_as_yaml_is_refused_by_its_size_in_words(browser_like, cluster):
    html = post(browser_like, f"/clusters/{cluster.name}/registries/yaml/apply/", {"yaml_text": PASTED})
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE" not in html
    assert "regui reads at most" in html


def test_django_reads_any_form_the_body_limit_lets_through(settings):
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE >= settings.REGUI_MAX_REQUEST_BYTES
