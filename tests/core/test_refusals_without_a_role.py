"""An account without a role (none given yet, or deactivated while its session lives) is refused what it
posts, whatever the body: one Django will not parse (more than DATA_UPLOAD_MAX_NUMBER_FIELDS fields, a
broken multipart) is refused in words too, never a 500. (Django's 403 and 500 pages read the form for
their CSRF token: the too-many-fields refusal that reading raises answers 400, as it does for anyone.)"""

from __future__ import annotations

import logging

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def roleless(make_user) -> Client:
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(make_user("nora", None))
    client.get("/password/")  # the CSRF cookie, as a browser has it
    return client


def test_an_account_without_a_role_posting_too_many_fields_is_refused_in_words_not_a_500(roleless, cluster,
                                                                                         settings, caplog):
    token = roleless.cookies["csrftoken"].value
    body = f"csrfmiddlewaretoken={token}&" + "&".join(f"f{i}=x" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS))
    with caplog.at_level(logging.INFO):
        r = roleless.post(f"/clusters/{cluster.name}/registries/save/", body,
                          content_type="application/x-www-form-urlencoded")
    assert r.status_code == 400 and "DATA_UPLOAD_MAX_NUMBER_FIELDS" in r.content.decode()
    assert not [rec for rec in caplog.records if "Internal Server Error" in rec.getMessage()]


def test_an_account_without_a_role_posting_a_broken_multipart_body_is_refused_403(roleless, cluster):
    r = roleless.post(f"/clusters/{cluster.name}/registries/save/", b"--x\r\nno headers here",
                      content_type="multipart/form-data; boundary=x")
    assert r.status_code == 403 and "no role yet" in r.content.decode()
