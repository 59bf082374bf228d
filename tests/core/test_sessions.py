"""A session lasts a working day, and ends when its account is deactivated or its password changes."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from regui.core.services import user_set_role

pytestmark = pytest.mark.django_db


def logged_in_client(username: str) -> Client:
    client = Client()
    r = client.post("/login/", {"username": username, "password": f"pw-{username}-Longer1"})
    assert r.status_code == 302
    return client


def test_a_session_lasts_a_working_day_by_default():
    assert 8 * 3600 <= settings.SESSION_COOKIE_AGE <= 10 * 3600


def test_the_login_cookie_expires_with_the_session(make_user):
    make_user("vera", "viewer")
    cookie = logged_in_client("vera").cookies[settings.SESSION_COOKIE_NAME]
    assert int(cookie["max-age"]) == settings.SESSION_COOKIE_AGE


def test_deactivating_an_account_ends_its_sessions_even_if_it_is_activated_again(make_user):
    vera = make_user("vera", "viewer")
    client = logged_in_client("vera")
    assert client.get("/").status_code == 200
    user_set_role(user=vera, role="viewer", active=False)
    assert client.get("/").status_code == 302
    user_set_role(user=vera, role="viewer", active=True)
    assert client.get("/").status_code == 302, "the old session stays ended"


def test_deactivating_through_the_users_page_logs_the_user_out(make_user, admin_client):
    vera = make_user("vera", "viewer")
    client = logged_in_client("vera")
    admin_client.post(f"/users/{vera.pk}/", {"role": "viewer"})  # is_active unticked
    r = client.get("/")
    assert r.status_code == 302 and r["Location"].startswith("/login/")


def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(make_user):
    make_user("vera", "viewer")
    laptop, phone = logged_in_client("vera"), logged_in_client("vera")
    r = laptop.post("/password/", {"old_password": "pw-vera-Longer1", "new_password1": "Another-long-pw-42",
                                   "new_password2": "Another-long-pw-42"})
    assert r.status_code == 302
    assert laptop.get("/").status_code == 200
    assert phone.get("/").status_code == 302
