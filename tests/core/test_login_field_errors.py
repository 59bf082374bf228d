"""The login page says what is wrong with a field it refuses (empty, a NUL pasted in): it showed only
the form-wide "enter a correct username and password", so such a refusal left the page silent."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def login_page(username: str, password: str) -> str:
    return Client().post("/login/", {"username": username, "password": password}).content.decode()


def test_an_empty_username_and_password_are_each_said_to_be_required():
    assert login_page("", "").count("This field is required.") == 2


def test_a_nul_in_the_username_is_said():
    assert "Null characters are not allowed." in login_page("ada\x00", "pw")


def test_a_wrong_password_still_gets_the_form_wide_message(make_user):
    make_user("ada", "viewer")
    assert "Please enter a correct username and password" in login_page("ada", "wrong")
