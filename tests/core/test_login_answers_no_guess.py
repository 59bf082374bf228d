"""A refused login answers no guess: a name that is no account's, a wrong password, and the right password
of a deactivated account each get the same status and the same page (bar the typed name), before and
once throttled (a lock counts the typed name whether or not an account has it)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client

pytestmark = pytest.mark.django_db


def refused(username: str, password: str, address: str, times: int = 1) -> tuple[int, str]:
    client = Client(REMOTE_ADDR=address)
    for _ in range(times):
        r = client.post("/login/", {"username": username, "password": password})
    assert "_auth_user_id" not in client.session
    page = re.sub(r"\b[A-Za-z0-9]{64}\b", "CSRF-TOKEN", r.content.decode())  # masked anew on each page
    return r.status_code, page.replace(username, "NAME")


@pytest.fixture
def accounts(make_user):
    make_user("lenahart", "viewer")
    gone = make_user("ottovogel", "operator")
    User.objects.filter(pk=gone.pk).update(is_active=False)


def test_no_such_account_a_wrong_password_and_a_deactivated_account_answer_alike(accounts):
    nobody = refused("nobodyzq", "pw-nobodyzq-Longer1", "192.0.2.1")
    wrong = refused("lenahart", "not-her-password", "192.0.2.2")
    deactivated = refused("ottovogel", "pw-ottovogel-Longer1", "192.0.2.3")
    assert nobody[0] == wrong[0] == deactivated[0] == 400
    assert nobody[1] == wrong[1] == deactivated[1]


def test_once_throttled_no_such_account_and_an_account_answer_alike(accounts, settings):
    tries = settings.REGUI_LOGIN_FAILURES + 1
    nobody = refused("nobodyzq", "guess", "192.0.2.4", tries)
    someone = refused("lenahart", "guess", "192.0.2.5", tries)
    assert nobody[0] == someone[0] == 429 and nobody[1] == someone[1]
